//! The web console for the security team: server-rendered HTML (askama templates, escaped by default), usable
//! without JavaScript, under a strict Content-Security-Policy (no inline script or style). Sessions live in the
//! database (`forewarn_store::sessions`): an HttpOnly, SameSite=Strict cookie (Secure when the public URL is https),
//! expiring after 8 hours. Every form carries a CSRF token that must match the session's (the login form: a token
//! bound to a cookie). Logins are rate-limited per user name and address.
//!
//! Pages: sign in, the dashboard, sign out; an advisory's timeline and "see it as a partner" ([`advisories`]);
//! partners, with suspension and reinstatement for program managers ([`partners`]); leak investigations for
//! investigators ([`investigations`]).
//!
//! Times are shown in the viewer's time zone, with UTC in every tooltip. Pages carry no script, so the browser's
//! zone cannot be read: the viewer picks one in the page header (a cookie, `fw_tz`), and until they do, pages use
//! the program's zone (the active policy's), the zone the team schedules in. Forms that take a time (schedule,
//! delay, see-it-as-a-partner) read it in the program's zone, and say so.

mod advisories;
mod authoring;
mod investigations;
mod log;
mod partners;
mod policy;

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use forewarn_core::{PartnerStatus, SectionKind};
use forewarn_store::sessions;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::AppState;

const SESSION_COOKIE: &str = "fw_session";
const LOGIN_COOKIE: &str = "fw_login";
const SESSION_TTL: SignedDuration = SignedDuration::from_hours(8);
/// Sign-in attempts per user name and address per minute.
const LOGINS_PER_MINUTE: u32 = 10;

/// Every page: no script at all, styles from this origin only, never framed, forms post only here.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", post(logout))
        .route("/console/advisories/new", get(authoring::new_form))
        .route("/console/advisories", post(authoring::create))
        .route("/console/advisories/{id}", get(advisories::page).post(authoring::act))
        .route("/console/advisories/{id}/edit", get(authoring::edit_form).post(authoring::edit))
        .route("/console/advisories/{id}/as", get(advisories::as_partner))
        .route("/console/partners", get(partners::list))
        .route("/console/investigations", get(investigations::form).post(investigations::run))
        .route("/console/log", get(log::page))
        .route("/console/policy", get(policy::page))
        .route("/console/policy/diff", post(policy::dry_run))
        .route("/console/log/verify", post(log::verify))
        .route("/console/partners/{id}/status", post(partners::change_status))
        .route("/console/partners/{id}", get(partners::show))
        .route("/console/partners/{id}/rotate", post(partners::rotate))
        .route("/console/partners/{id}/edit", post(partners::edit))
        .route("/console/partners/new", post(partners::add))
        .route("/console/static/console.css", get(css))
        .route("/console/timezone", post(set_timezone))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(viewer_zone))
}

/// Runs the request with the viewer's chosen time zone (the `fw_tz` cookie, an IANA name) in scope for
/// [`crate::timeline::local`]; without a valid one, pages use the program's zone.
pub(crate) async fn viewer_zone(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let zone = cookie(req.headers(), TZ_COOKIE).and_then(|name| jiff::tz::TimeZone::get(&name).ok());
    match zone {
        Some(z) => crate::timeline::VIEWER_ZONE.scope(z, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// The cookie that holds the viewer's time zone: a display preference, shared by the console and the portal.
pub(crate) const TZ_COOKIE: &str = "fw_tz";

/// The header's time zone form: sets (or, empty, clears) the viewer's zone and goes back to the page.
pub(crate) fn timezone_cookie(s: &AppState, tz: &str) -> Result<HeaderValue, String> {
    let tz = tz.trim();
    if tz.is_empty() {
        return Ok(set_cookie_at(s, "/", TZ_COOKIE, "", 0));
    }
    let zone = jiff::tz::TimeZone::get(tz)
        .map_err(|_| format!("{tz:?} is not a time zone of the IANA database (such as Europe/Berlin)"))?;
    let name = zone.iana_name().unwrap_or(tz).to_owned();
    Ok(set_cookie_at(s, "/", TZ_COOKIE, &name, 365 * 24 * 3600))
}

#[derive(Deserialize)]
struct TimezoneForm {
    csrf: String,
    #[serde(default)]
    tz: String,
}

async fn set_timezone(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<TimezoneForm>) -> Response {
    let session = match staff(&s, &headers, Some(&f.csrf), None).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match timezone_cookie(&s, &f.tz) {
        Ok(cookie) => {
            let mut r = redirect("/console");
            r.headers_mut().append(SET_COOKIE, cookie);
            r
        }
        Err(p) => problem(&session, StatusCode::BAD_REQUEST, &p),
    }
}

pub(crate) async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

async fn css() -> Response {
    let mut r = include_str!("../../templates/console/console.css").into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(s: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    set_cookie_at(s, "/console", name, value, max_age)
}

/// A session-style cookie for `path`: HttpOnly, SameSite=Strict, Secure when the public URL is https.
pub(crate) fn set_cookie_at(s: &AppState, path: &str, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if s.program.public_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a console page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn redirect(to: &'static str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, HeaderValue::from_static(to));
    r
}

/// What every signed-in page shows in its header: who, with which roles, and the form token.
pub(crate) struct Chrome {
    /// The zone times are shown in.
    pub zone: String,
    pub user: String,
    pub roles: String,
    pub csrf: String,
    pub manages_partners: bool,
    pub author: bool,
    pub auditor: bool,
    pub investigator: bool,
}

impl Chrome {
    fn of(session: &sessions::Session) -> Self {
        Self {
            zone: crate::timeline::zone_name("program time"),
            user: session.user.username.to_string(),
            roles: session.user.roles.to_string(),
            csrf: session.csrf.clone(),
            manages_partners: has(session, forewarn_core::Role::ProgramManager),
            author: has(session, forewarn_core::Role::Author),
            auditor: has(session, forewarn_core::Role::Auditor),
            investigator: has(session, forewarn_core::Role::Investigator),
        }
    }
}

/// Whether the user holds `role` (administrators hold every role).
fn has(session: &sessions::Session, role: forewarn_core::Role) -> bool {
    session.user.roles.contains(role) || session.user.roles.contains(forewarn_core::Role::Admin)
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage<'a> {
    chrome: Chrome,
    message: &'a str,
}

/// A page saying what went wrong, with the console's header.
fn problem(session: &sessions::Session, status: StatusCode, message: &str) -> Response {
    html(status, &ProblemPage { chrome: Chrome::of(session), message })
}

fn not_found(session: &sessions::Session, message: &str) -> Response {
    problem(session, StatusCode::NOT_FOUND, message)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server log has details").into_response()
}

/// A form whose CSRF token is not the session's: refused, nothing done.
pub(crate) fn forged() -> Response {
    (StatusCode::FORBIDDEN, "the form's CSRF token does not match your session; reload the page").into_response()
}

/// Everything a console handler checks before it acts, in one call: the signed-in staff user (else the sign-in
/// page), the form's CSRF token when it posts one (else 403), and the role the page needs (else a 403 page that
/// says which, with `refusal`).
async fn staff(
    s: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
    role: Option<(forewarn_core::Role, &str)>,
) -> Result<sessions::Session, Response> {
    let session = session(s, headers).await?;
    if csrf.is_some_and(|token| token != session.csrf) {
        return Err(forged());
    }
    if let Some((role, refusal)) = role {
        if !has(&session, role) {
            return Err(problem(&session, StatusCode::FORBIDDEN, refusal));
        }
    }
    Ok(session)
}

/// The signed-in staff user, or a redirect to the sign-in page.
async fn session(s: &AppState, headers: &HeaderMap) -> Result<sessions::Session, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Err(redirect("/console/login")) };
    let mut conn = s.store.conn().await.map_err(internal)?;
    match sessions::get(&mut conn, &token, Timestamp::now()).await.map_err(internal)? {
        Some(session) => Ok(session),
        None => Err(redirect("/console/login")),
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    username: &'a str,
    problem: Option<&'a str>,
}

fn login_page(s: &AppState, status: StatusCode, username: &str, problem: Option<&str>) -> Response {
    let token = match sessions::random_token() {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let mut r = html(status, &LoginPage { csrf: &token, username, problem });
    r.headers_mut().append(SET_COOKIE, set_cookie(s, LOGIN_COOKIE, &token, 3600));
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

pub(crate) fn limiter() -> &'static crate::limit::RateLimiter {
    static L: OnceLock<crate::limit::RateLimiter> = OnceLock::new();
    L.get_or_init(|| crate::limit::RateLimiter::new(LOGINS_PER_MINUTE))
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let bound = cookie(&headers, LOGIN_COOKIE);
    if bound.as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return login_page(&s, StatusCode::FORBIDDEN, &form.username, Some("The form expired; sign in again."));
    }
    let client = crate::auth::client_address(peer.ip(), &headers, &s.trusted_proxies);
    if let Err(wait) = limiter().check(&format!("{}@{client}", form.username.to_lowercase())) {
        let problem = format!("Too many attempts; try again in {} s.", wait.as_secs().max(1));
        return login_page(&s, StatusCode::TOO_MANY_REQUESTS, &form.username, Some(&problem));
    }
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let user = match forewarn_store::users::verify_login(&mut conn, &form.username, &form.password).await {
        Ok(u) => u,
        Err(e) => return internal(e),
    };
    let Some(user) = user else {
        // The same answer for an unknown user, a disabled one and a wrong password.
        return login_page(&s, StatusCode::UNAUTHORIZED, &form.username, Some("Wrong user name or password."));
    };
    let session = match sessions::create(&mut conn, &user, Timestamp::now(), SESSION_TTL).await {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    tracing::info!(user = %user.username, "console sign-in");
    let mut r = redirect("/console");
    r.headers_mut().append(SET_COOKIE, set_cookie(&s, SESSION_COOKIE, &session.token, SESSION_TTL.as_secs()));
    r.headers_mut().append(SET_COOKIE, set_cookie(&s, LOGIN_COOKIE, "", 0));
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(s): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = staff(&s, &headers, Some(&form.csrf), None).await {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        match s.store.conn().await {
            Ok(mut conn) => {
                if let Err(e) = sessions::end(&mut conn, &token).await {
                    return internal(e);
                }
            }
            Err(e) => return internal(e),
        }
    }
    let mut r = redirect("/console/login");
    r.headers_mut().append(SET_COOKIE, set_cookie(&s, SESSION_COOKIE, "", 0));
    r
}

#[derive(Clone)]
struct AdvisoryRow {
    id: String,
    title: String,
    state: String,
    /// (program time, UTC).
    release_at: Option<(String, String)>,
}

struct UpcomingRow {
    at: String,
    at_utc: String,
    advisory: String,
    section: &'static str,
    partners: usize,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    advisories: Vec<AdvisoryRow>,
    upcoming: Vec<UpcomingRow>,
    suspended: Vec<(String, String, String)>,
    log_size: Option<u64>,
    /// Whether the log verified on this load: Some(problems found), or None when it is too large to recompute on
    /// every dashboard load (the Log page does it on request).
    log_problems: Option<usize>,
    /// The next Patch Tuesday (program time) and the advisories released on it.
    next_patch_tuesday: Option<String>,
    on_next_patch_tuesday: Vec<AdvisoryRow>,
}

async fn dashboard(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match dashboard_page(&s, session).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(e) => internal(e),
    }
}

async fn dashboard_page(s: &AppState, session: sessions::Session) -> Result<Dashboard, String> {
    let now = s.clock.now();
    let mut conn = s.store.conn().await.map_err(|e| e.to_string())?;
    let current = s.catalogue.get(&mut conn).await.map_err(|_| "the catalogue could not be read".to_owned())?;
    let key = s.store.master_key().map_err(|e| e.to_string())?;
    let calendar = current.policy.calendar();
    let next_pt = calendar.next_after(now);
    let mut on_next_patch_tuesday = Vec::new();
    let mut advisories = Vec::new();
    for a in &current.advisories {
        let title = forewarn_store::advisories::outline(&mut conn, key, &a.id, a.current_revision)
            .await
            .map(|o| o.meta.title)
            .unwrap_or_else(|_| "(cannot be opened)".into());
        let row = AdvisoryRow {
            id: a.id.to_string(),
            title,
            state: format!("{:?}", a.state).to_lowercase(),
            release_at: a.release_at.map(|t| (crate::timeline::local(t, &current.policy.timezone), t.to_string())),
        };
        if next_pt.is_some() && a.release_at == next_pt && a.state == forewarn_core::AdvisoryState::Scheduled {
            on_next_patch_tuesday.push(row.clone());
        }
        advisories.push(row);
    }
    drop(conn);
    // What becomes visible to whom in the next 7 days: every partner's view of every published advisory.
    let horizon = now + SignedDuration::from_hours(24 * 7);
    let mut counts: std::collections::BTreeMap<(Timestamp, String, SectionKind), usize> = Default::default();
    let published =
        crate::delivery::published(&s.store, &s.content, &current).await.map_err(|_| "published".to_owned())?;
    for p in &published {
        for (partner, _) in current.partners.values() {
            let v = forewarn_policy::view(&current.policy, partner, &p.facts(), now);
            for d in &v.decisions {
                if let Some(t) = d.visibility.time() {
                    if t > now && t <= horizon {
                        *counts.entry((t, p.advisory.id.to_string(), d.section)).or_default() += 1;
                    }
                }
            }
        }
    }
    let upcoming = counts
        .into_iter()
        .map(|((t, advisory, section), partners)| UpcomingRow {
            at: crate::timeline::local(t, &current.policy.timezone),
            at_utc: t.to_string(),
            advisory,
            section: section.as_str(),
            partners,
        })
        .collect();
    let mut suspended: Vec<(String, String, String)> = current
        .partners
        .values()
        .filter(|(p, _)| p.status == PartnerStatus::Suspended)
        .map(|(p, _)| {
            let since = p.status_changed_at;
            (p.name.clone(), crate::timeline::local(since, &current.policy.timezone), since.to_string())
        })
        .collect();
    suspended.sort_by(|a, b| b.2.cmp(&a.2));
    let log_size = forewarn_store::log::latest_checkpoint(&mut *s.store.conn().await.map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?
        .map(|(size, _)| size);
    // Recomputing the whole log is a few milliseconds per thousand entries: done on each load up to this size.
    const VERIFY_ON_LOAD: u64 = 100_000;
    let log_problems = match log_size {
        Some(n) if n <= VERIFY_ON_LOAD => {
            let mut conn = s.store.conn().await.map_err(|e| e.to_string())?;
            let v = forewarn_store::log::verify(&mut conn, &s.log.signer.verifier(), |_| {})
                .await
                .map_err(|e| e.to_string())?;
            Some(v.problems.len())
        }
        _ => None,
    };
    Ok(Dashboard {
        chrome: Chrome::of(&session),
        advisories,
        upcoming,
        suspended,
        log_size,
        log_problems,
        next_patch_tuesday: next_pt.map(|t| crate::timeline::local(t, &current.policy.timezone)),
        on_next_patch_tuesday,
    })
}
