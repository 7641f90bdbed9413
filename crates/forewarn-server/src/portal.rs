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
use forewarn_core::SectionKind;
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
        .layer(axum::middleware::map_response(security_headers))
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
        return (StatusCode::FORBIDDEN, "the form's CSRF token does not match your session; reload the page")
            .into_response();
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

/// The header every portal page shows.
struct Chrome {
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
) -> impl FnMut(&crate::delivery::Current, Timestamp) -> Result<forewarn_core::Partner, ApiError> + '_ {
    move |current, now| {
        let (partner, allow) = current.partners.get(session.user.partner.as_str()).ok_or(ApiError::Unauthenticated)?;
        crate::auth::standing(partner, allow, Some(peer), now)?;
        Ok(partner.clone())
    }
}

fn chrome(session: &PortalSession, name: &str) -> Chrome {
    Chrome { user: session.user.username.to_string(), partner: name.to_owned(), csrf: session.csrf.clone() }
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

async fn home(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = crate::auth::client_address(peer.ip(), &headers, &s.trusted_proxies);
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
        Ok(((partner.name.clone(), current.policy.timezone_name.clone(), rows), None))
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

async fn advisory(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = crate::auth::client_address(peer.ip(), &headers, &s.trusted_proxies);
    let (s2, id2, session2) = (&s, &id, &session);
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        let tz = current.policy.timezone.clone();
        let mut page = None;
        let (_, record) = crate::partner_api::deliver(s2, &current, &partner, id2, now, Channel::Web, |c| {
            page = Some(AdvisoryPage {
                chrome: chrome(session2, &partner.name),
                id: c.advisory_id.clone(),
                title: c.meta.title.clone(),
                sections: c.sections.iter().map(|(k, b): &(SectionKind, String)| (k.as_str(), b.clone())).collect(),
                upcoming: c.upcoming.iter().map(|(k, t)| (k.as_str(), local(*t, &tz))).collect(),
                released: c.released,
                timezone: current.policy.timezone_name.clone(),
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

async fn csaf(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client = crate::auth::client_address(peer.ip(), &headers, &s.trusted_proxies);
    let (s2, id2) = (&s, &id);
    let result = crate::partner_api::serve_as(s2, admit(&session, client), |current, partner, now| async move {
        let publisher = &s2.program.publisher;
        crate::partner_api::deliver(s2, &current, &partner, id2, now, Channel::Csaf, |c| {
            Ok(forewarn_render::csaf::document(c, publisher).to_bytes())
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
