//! The partner portal: a partner's people read, in a browser, exactly what the partner may see — the portal is one
//! more delivery channel. Every page is decided like an API answer (`partner_api::serve_as`: the partner's standing
//! on a fresh catalogue, then `view` and `render_for`), every copy shown is fingerprinted and recorded (channel
//! `web`, CSAF downloads `csaf`), and a suspended partner's users are refused from their next request on.
//!
//! Same rules as the console: server-rendered, no script, the console's CSP, HttpOnly SameSite=Strict cookies
//! (path `/portal`), CSRF tokens on every form, argon2id passwords, rate-limited sign-in, 8-hour sessions.

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use forewarn_store::deliveries::Channel;
use forewarn_store::portal::{self, PortalSession};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::console::{cookie, html, internal, limiter, security_headers, set_cookie_at};
use crate::timeline::local;
use crate::{ApiError, AppState};

const SESSION_COOKIE: &str = "fw_portal";
const LOGIN_COOKIE: &str = "fw_portal_login";
const SESSION_TTL: SignedDuration = SignedDuration::from_hours(8);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/login", get(login_form).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/advisories/{id}", get(advisory))
        .route("/portal/advisories/{id}/csaf", get(csaf))
        .route("/portal/advisories/{id}/bundle", get(bundle))
        .route("/portal/settings", get(settings).post(change_settings))
        .route("/portal/receipts/{entry}", get(receipt))
        .route("/portal/timezone", post(set_timezone))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(crate::console::viewer_zone))
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

async fn session(s: &AppState, headers: &HeaderMap) -> Result<PortalSession, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Err(redirect("/portal/login")) };
    let mut conn = s.store.conn().await.map_err(internal)?;
    match portal::get_session(&mut conn, &token, Timestamp::now()).await.map_err(internal)? {
        Some(x) => Ok(x),
        None => Err(redirect("/portal/login")),
    }
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    username: &'a str,
    problem: Option<&'a str>,
}

fn login_page(s: &AppState, status: StatusCode, username: &str, problem: Option<&str>) -> Response {
    let Ok(token) = forewarn_store::sessions::random_token() else { return internal("no randomness") };
    let mut r = html(status, &LoginPage { csrf: &token, username, problem });
    r.headers_mut().append(SET_COOKIE, set_cookie_at(s, "/portal", LOGIN_COOKIE, &token, 3600));
    r
}

async fn login_form(State(s): State<AppState>) -> Response {
    login_page(&s, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if cookie(&headers, LOGIN_COOKIE).as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return login_page(&s, StatusCode::FORBIDDEN, &form.username, Some("The form expired; sign in again."));
    }
    let client = crate::auth::client_address(peer.ip(), &headers, &s.trusted_proxies);
    if let Err(wait) = limiter().check(&format!("portal:{}@{client}", form.username.to_lowercase())) {
        let problem = format!("Too many attempts; try again in {} s.", wait.as_secs().max(1));
        return login_page(&s, StatusCode::TOO_MANY_REQUESTS, &form.username, Some(&problem));
    }
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let user = match portal::verify_login(&mut conn, &form.username, &form.password).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return login_page(&s, StatusCode::UNAUTHORIZED, &form.username, Some("Wrong user name or password."))
        }
        Err(e) => return internal(e),
    };
    let (token, _) = match portal::create_session(&mut conn, &user, Timestamp::now(), SESSION_TTL).await {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    tracing::info!(user = %user.username, partner = %user.partner, "portal sign-in");
    let mut r = redirect("/portal");
    r.headers_mut().append(SET_COOKIE, set_cookie_at(&s, "/portal", SESSION_COOKIE, &token, SESSION_TTL.as_secs()));
    r.headers_mut().append(SET_COOKIE, set_cookie_at(&s, "/portal", LOGIN_COOKIE, "", 0));
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(s): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.csrf != session.csrf {
        return crate::console::forged();
    }
    if let (Some(token), Ok(mut conn)) = (cookie(&headers, SESSION_COOKIE), s.store.conn().await) {
        if let Err(e) = portal::end_session(&mut conn, &token).await {
            return internal(e);
        }
    }
    let mut r = redirect("/portal/login");
    r.headers_mut().append(SET_COOKIE, set_cookie_at(&s, "/portal", SESSION_COOKIE, "", 0));
    r
}

/// A signed-in portal user and the address the request comes from: an extractor (anonymous requests are sent to
/// sign in).
struct Visitor {
    session: PortalSession,
    client: std::net::IpAddr,
}

impl axum::extract::FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, Response> {
        let session = session(s, &parts.headers).await?;
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().copied() else {
            return Err(internal("the connection's address is unknown"));
        };
        let client = crate::auth::client_address(peer.ip(), &parts.headers, &s.trusted_proxies);
        Ok(Self { session, client })
    }
}

/// The header every portal page shows.
struct Chrome {
    /// The zone times are shown in.
    pub zone: String,
    pub user: String,
    pub partner: String,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "portal/refused.html")]
struct Refused {
    chrome: Chrome,
    message: String,
}

/// A refusal page for what the API would answer with an error: 403 says why (suspended, revoked, expired), 404 says
/// nothing more than an unknown id would.
fn refused(chrome: Chrome, e: ApiError) -> Response {
    let (status, message) = match e {
        ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
        ApiError::NotFound => (StatusCode::NOT_FOUND, "No such advisory.".to_owned()),
        ApiError::Unauthenticated => return redirect("/portal/login"),
        ApiError::TooManyRequests(wait) => {
            (StatusCode::TOO_MANY_REQUESTS, format!("Too many requests; try again in {wait} s."))
        }
        ApiError::BadRequest(m) | ApiError::Conflict(m) => (StatusCode::BAD_REQUEST, m),
        ApiError::Internal => return internal("a portal request failed"),
    };
    html(status, &Refused { chrome, message })
}

/// Finds the session's partner on the catalogue snapshot and checks its standing (as for an API token).
fn admit(
    session: &PortalSession,
    peer: std::net::IpAddr,
) -> impl FnMut(&crate::delivery::Current, Timestamp) -> Result<std::sync::Arc<forewarn_core::Partner>, ApiError> + '_ {
    move |current, now| {
        let (partner, allow) = current.partners.get(session.user.partner.as_str()).ok_or(ApiError::Unauthenticated)?;
        crate::auth::standing(partner, allow, Some(peer), now)?;
        Ok(partner.clone())
    }
}

fn chrome(session: &PortalSession, name: &str) -> Chrome {
    Chrome {
        zone: crate::timeline::zone_name("program time"),
        user: session.user.username.to_string(),
        partner: name.to_owned(),
        csrf: session.csrf.clone(),
    }
}

struct ListedRow {
    pub id: String,
    pub title: String,
    pub visible: String,
    pub upcoming: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct Home {
    chrome: Chrome,
    timezone: String,
    rows: Vec<ListedRow>,
}

async fn home(State(s): State<AppState>, Visitor { session, client }: Visitor) -> Response {
    let s2 = &s;
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        let listed = crate::delivery::listing(&s2.store, &s2.content, &current, &partner, now).await?;
        let tz = current.policy.timezone.clone();
        let rows = listed
            .iter()
            .map(|l| ListedRow {
                id: l.published.advisory.id.to_string(),
                title: l.published.outline.meta.title.clone(),
                visible: l.view.visible.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                upcoming: l.view.upcoming.iter().map(|(k, t)| (k.as_str(), local(*t, &tz))).collect(),
            })
            .collect::<Vec<_>>();
        Ok(((partner.name.clone(), crate::timeline::zone_name(&current.policy.timezone_name), rows), None))
    })
    .await;
    match result {
        Ok((name, timezone, rows)) => html(StatusCode::OK, &Home { chrome: chrome(&session, &name), timezone, rows }),
        Err(e) => refused(chrome(&session, session.user.partner.as_str()), e),
    }
}

#[derive(Template)]
#[template(path = "portal/advisory.html")]
struct AdvisoryPage {
    chrome: Chrome,
    id: String,
    title: String,
    sections: Vec<(&'static str, String)>,
    upcoming: Vec<(&'static str, String)>,
    released: bool,
    timezone: String,
}

async fn advisory(State(s): State<AppState>, Visitor { session, client }: Visitor, Path(id): Path<String>) -> Response {
    let (s2, id2, session2) = (&s, &id, &session);
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        let tz = current.policy.timezone.clone();
        let mut page = None;
        let (_, record) = crate::partner_api::deliver(s2, &current, &partner, id2, now, Channel::Web, |c| {
            page = Some(AdvisoryPage {
                chrome: chrome(session2, &partner.name),
                id: c.advisory_id.clone(),
                title: c.meta.title.clone(),
                sections: c.sections.iter().map(|(k, b)| (k.as_str(), crate::markdown::to_html(b))).collect(),
                upcoming: c.upcoming.iter().map(|(k, t)| (k.as_str(), local(*t, &tz))).collect(),
                released: c.released,
                timezone: crate::timeline::zone_name(&current.policy.timezone_name),
            });
            // What is recorded: the Markdown of the sections shown, as the API would send them.
            Ok(c.sections.iter().flat_map(|(_, b)| b.bytes()).collect())
        })
        .await?;
        Ok((page, record))
    })
    .await;
    match result {
        Ok(Some(page)) => html(StatusCode::OK, &page),
        Ok(None) => internal("the page was not made"),
        Err(e) => refused(chrome(&session, session.user.partner.as_str()), e),
    }
}

async fn csaf(State(s): State<AppState>, Visitor { session, client }: Visitor, Path(id): Path<String>) -> Response {
    let (s2, id2) = (&s, &id);
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        let publisher = &s2.program.publisher;
        crate::partner_api::deliver(s2, &current, &partner, id2, now, Channel::Csaf, |c| {
            Ok(s2.content.csaf(c, publisher))
        })
        .await
    })
    .await;
    match result {
        Ok(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let disposition = format!("attachment; filename=\"{}.json\"", id.to_lowercase());
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => refused(chrome(&session, session.user.partner.as_str()), e),
    }
}

// --- Self-service: receipts, webhook, OpenPGP key, API tokens ------------------------------------------------------

/// The session's partner, if it may be answered now (the same standing check as every API request).
async fn standing_partner(
    s: &AppState,
    session: &PortalSession,
    peer: std::net::IpAddr,
) -> Result<std::sync::Arc<forewarn_core::Partner>, Response> {
    let fail = |e: ApiError| refused(chrome(session, session.user.partner.as_str()), e);
    let mut conn = s.store.conn().await.map_err(internal)?;
    let current = s.catalogue.get(&mut conn).await.map_err(|_| internal("the catalogue could not be read"))?;
    admit(session, peer)(&current, s.clock.now()).map_err(fail)
}

struct ReceiptRow {
    entry: u64,
    kind: String,
    at: String,
}

struct TokenRow {
    id: String,
    label: String,
    state: String,
}

#[derive(Template)]
#[template(path = "portal/settings.html")]
struct Settings {
    chrome: Chrome,
    is_admin: bool,
    receipts: Vec<ReceiptRow>,
    webhook_url: Option<String>,
    webhook_hint: String,
    deliveries: Vec<(String, String, String, String)>,
    key_fingerprint: Option<String>,
    tokens: Vec<TokenRow>,
    /// A secret or token just made: shown once.
    shown_once: Option<(String, String)>,
    notice: Option<String>,
}

async fn settings_page(
    s: &AppState,
    session: &PortalSession,
    partner: &forewarn_core::Partner,
    shown_once: Option<(String, String)>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let tz = match s.catalogue.get(&mut conn).await {
        Ok(c) => c.policy.timezone.clone(),
        Err(_) => jiff::tz::TimeZone::UTC,
    };
    let id = partner.id.as_str();
    let events = forewarn_store::log::events_of(&mut conn, id, 200).await;
    let endpoint = match s.store.master_key() {
        Ok(k) => forewarn_store::webhooks::endpoint(&mut conn, k, id).await,
        Err(e) => return internal(e),
    };
    let deliveries = forewarn_store::webhooks::log(&mut conn, id, 20).await;
    let key = forewarn_store::partners::openpgp_key(&mut conn, &partner.id).await;
    let tokens = forewarn_store::partners::tokens(&mut conn, &partner.id).await;
    let (Ok(events), Ok(endpoint), Ok(deliveries), Ok(key), Ok(tokens)) = (events, endpoint, deliveries, key, tokens)
    else {
        return internal("the portal settings could not be read");
    };
    let now = Timestamp::now();
    let page = Settings {
        chrome: chrome(session, &partner.name),
        is_admin: session.user.is_admin,
        receipts: events
            .into_iter()
            .filter_map(|e| Some(ReceiptRow { entry: e.leaf_index?, kind: e.kind, at: local(e.at, &tz) }))
            .collect(),
        webhook_hint: endpoint
            .as_ref()
            .map(|e| format!("{}…", e.secret.chars().take(10).collect::<String>()))
            .unwrap_or_default(),
        webhook_url: endpoint.map(|e| e.url),
        deliveries: deliveries
            .into_iter()
            .map(|d| {
                let outcome = match (d.status_code, d.error) {
                    (Some(c), _) => format!("HTTP {c}"),
                    (None, Some(e)) => e,
                    (None, None) => String::new(),
                };
                (d.at.map(|t| local(t, &tz)).unwrap_or_default(), d.event_type, d.state, outcome)
            })
            .collect(),
        key_fingerprint: key.map(|armored| {
            forewarn_openpgp::PartnerKey::parse(armored.as_bytes()).map(|k| k.fingerprint()).unwrap_or_default()
        }),
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                label: t.label.clone(),
                state: if t.is_live(now) { "live".to_owned() } else { "no longer works".to_owned() },
            })
            .collect(),
        shown_once,
        notice,
    };
    html(status, &page)
}

async fn settings(State(s): State<AppState>, Visitor { session, client }: Visitor) -> Response {
    match standing_partner(&s, &session, client).await {
        Ok(partner) => settings_page(&s, &session, &partner, None, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct SettingsForm {
    csrf: String,
    /// `webhook`, `key`, `rotate` or `add-user`.
    action: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    key: String,
}

async fn change_settings(
    State(s): State<AppState>,
    Visitor { session, client }: Visitor,
    Form(f): Form<SettingsForm>,
) -> Response {
    if f.csrf != session.csrf {
        return crate::console::forged();
    }
    let partner = match standing_partner(&s, &session, client).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |notice: String, status| settings_page(&s, &session, &partner, None, Some(notice), status);
    let actor = forewarn_store::audit::Actor::Partner(partner.id.to_string());
    let who = json_user(&session);
    let now = Timestamp::now();
    let result: Result<Outcome, forewarn_store::StoreError> = async {
        match f.action.as_str() {
            "webhook" => {
                let url = f.url.trim();
                if let Err(problem) = crate::webhooks::check_url(url) {
                    return Ok(Err(problem));
                }
                let secret = crate::webhooks::new_secret()
                    .map_err(|_| forewarn_store::StoreError::Config("no randomness".into()))?;
                let mut tx = s.store.begin().await?;
                forewarn_store::webhooks::set_endpoint(&mut tx, s.store.master_key()?, &partner.id, url, &secret, now)
                    .await?;
                let detail = serde_json::json!({"url": url, "via": "portal", "user": who});
                forewarn_store::audit::record(
                    &mut tx,
                    now,
                    &actor,
                    "partner.webhook",
                    partner.id.as_str(),
                    None,
                    detail,
                )
                .await?;
                tx.commit().await?;
                Ok(Ok((Some(("Webhook signing secret".into(), secret)), "Webhook endpoint saved.".into())))
            }
            "key" => {
                let key = match forewarn_openpgp::PartnerKey::parse(f.key.trim().as_bytes()) {
                    Ok(k) => k,
                    Err(e) => return Ok(Err(format!("That is not a usable OpenPGP key: {e}"))),
                };
                let Ok(armored) = key.to_armored() else { return Ok(Err("The key could not be stored.".into())) };
                let mut tx = s.store.begin().await?;
                forewarn_store::partners::set_openpgp_key(&mut tx, &partner.id, Some(&armored), now).await?;
                let detail = serde_json::json!({"fingerprint": key.fingerprint(), "via": "portal", "user": who});
                forewarn_store::audit::record(
                    &mut tx,
                    now,
                    &actor,
                    "partner.openpgp-key",
                    partner.id.as_str(),
                    None,
                    detail,
                )
                .await?;
                tx.commit().await?;
                Ok(Ok((None, format!("OpenPGP key {} saved; bundles are encrypted to it.", key.fingerprint()))))
            }
            "rotate" if session.user.is_admin => {
                let overlap = SignedDuration::from_hours(24);
                let mut tx = s.store.begin().await?;
                let token = forewarn_store::partners::rotate(&mut tx, &partner.id, overlap, None, now).await?;
                let detail = serde_json::json!({"token": token.id.as_str(), "overlap_seconds": overlap.as_secs(),
                    "via": "portal", "user": who});
                forewarn_store::audit::record(
                    &mut tx,
                    now,
                    &actor,
                    "partner.token-rotate",
                    partner.id.as_str(),
                    None,
                    detail,
                )
                .await?;
                tx.commit().await?;
                Ok(Ok((
                    Some(("API token".into(), token.text.to_string())),
                    "New API token issued; older tokens keep working for 24 hours.".into(),
                )))
            }
            "rotate" => Ok(Err("Only your organisation's portal administrators can rotate API tokens.".into())),
            "add-user" if session.user.is_admin => {
                let username = match forewarn_core::Username::parse(f.username.trim()) {
                    Ok(u) => u,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let password = forewarn_store::credentials::generate_password()?;
                let mut tx = s.store.begin().await?;
                let created_by = format!("portal:{}", session.user.username);
                let u = portal::add_user(&mut tx, &username, &partner.id, &password, false, &created_by, now).await?;
                let detail = serde_json::json!({"user": u.username.as_str(), "via": "portal", "by": who});
                forewarn_store::audit::record(
                    &mut tx,
                    now,
                    &actor,
                    "portal.user.add",
                    partner.id.as_str(),
                    None,
                    detail,
                )
                .await?;
                tx.commit().await?;
                Ok(Ok((
                    Some((format!("Password for {}", u.username), password.to_string())),
                    format!("Portal user {} added; give them the password below.", u.username),
                )))
            }
            "add-user" => Ok(Err("Only your organisation's portal administrators can add portal users.".into())),
            _ => Ok(Err("Unknown action.".into())),
        }
    }
    .await;
    match result {
        Ok(Ok((shown, notice))) => settings_page(&s, &session, &partner, shown, Some(notice), StatusCode::OK).await,
        Ok(Err(problem)) => again(problem, StatusCode::BAD_REQUEST).await,
        Err(e) if e.is_user_error() => again(e.to_string(), StatusCode::BAD_REQUEST).await,
        Err(e) => internal(e),
    }
}

/// A settings change done (what to show once, and a notice), or refused with a reason.
type Outcome = Result<(Option<(String, String)>, String), String>;

fn json_user(session: &PortalSession) -> String {
    session.user.username.to_string()
}

async fn receipt(
    State(s): State<AppState>,
    Visitor { session, client }: Visitor,
    Path(entry): Path<String>,
) -> Response {
    let partner = match standing_partner(&s, &session, client).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fail = |e| refused(chrome(&session, &partner.name), e);
    let Ok(entry) = entry.parse::<u64>() else { return fail(ApiError::NotFound) };
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let key = s.log.signer.verifier();
    match crate::log_api::receipt_for(&mut conn, &s.log.tiles, entry, Some(partner.id.as_str()), &key).await {
        Ok(body) => {
            let Ok(bytes) = serde_json::to_vec_pretty(&body) else {
                return internal("the receipt could not be written");
            };
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"receipt-{entry}.json\"")) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => fail(e),
    }
}

async fn bundle(State(s): State<AppState>, Visitor { session, client }: Visitor, Path(id): Path<String>) -> Response {
    let (s2, id2) = (&s, &id);
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        crate::partner_api::bundle_for(s2, &current, &partner, id2, now).await
    })
    .await;
    match result {
        Ok(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/pgp-encrypted"));
            let disposition = format!("attachment; filename=\"{}.tar.asc\"", id.to_lowercase());
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(ApiError::Conflict(_)) => refused(
            chrome(&session, session.user.partner.as_str()),
            ApiError::BadRequest(
                "No OpenPGP key is registered for your organisation: add one under Receipts and settings first.".into(),
            ),
        ),
        Err(e) => refused(chrome(&session, session.user.partner.as_str()), e),
    }
}

#[derive(Deserialize)]
struct TimezoneForm {
    csrf: String,
    #[serde(default)]
    tz: String,
}

async fn set_timezone(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<TimezoneForm>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.csrf != session.csrf {
        return crate::console::forged();
    }
    match crate::console::timezone_cookie(&s, &f.tz) {
        Ok(cookie) => {
            let mut r = redirect("/portal");
            r.headers_mut().append(SET_COOKIE, cookie);
            r
        }
        Err(p) => refused(chrome(&session, session.user.partner.as_str()), ApiError::BadRequest(p)),
    }
}
