//! The forewarn HTTP service: a thin axum shell over the store (and, as they land, the policy engine, the
//! fingerprinting and the transparency log).
//!
//! Architecture invariants:
//! - Handlers hold no state of their own: everything that must survive a restart or be shared by several servers
//!   on one PostgreSQL database is in the database. Authentication and a partner's status are read on every
//!   request, so suspending a partner takes effect on its next request, whichever server answers it.
//! - JSON shapes live here (`dto`); the domain types in `forewarn-core` are not serializable.
//! - Error responses never include advisory content.

pub mod admin;
pub mod auth;
pub mod console;
pub mod delivery;
pub mod dto;
mod error;
pub mod investigate;
pub mod limit;
pub mod log_api;
pub mod markdown;
pub mod partner_api;
pub mod portal;
pub mod recorder;
pub mod timeline;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use forewarn_store::Store;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;

/// How the server listens and protects itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    pub webhooks: webhooks::WebhookConfig,
    /// Requests per minute per API token (0: no limit).
    pub rate_limit_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind one, the client address for allow-lists is the
    /// rightmost address in that header that is not itself a trusted proxy. Empty: the connecting address.
    pub trusted_proxies: Vec<forewarn_core::IpNet>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 2 << 20,
            request_timeout: Duration::from_secs(30),
            webhooks: webhooks::WebhookConfig::default(),
            rate_limit_per_minute: 600,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Who the program is, as partners and CSAF tooling see it.
#[derive(Debug)]
pub struct Program {
    pub publisher: forewarn_render::csaf::Publisher,
    /// Base URL partners reach the server at (no trailing slash), used in provider metadata and feeds.
    pub public_url: String,
    pub started_at: jiff::Timestamp,
    /// The OpenPGP key that signs documents (`.asc`) and bundles.
    pub signing_key: forewarn_openpgp::ProgramKey,
    /// The transparency log's key (its name is the log's origin).
    pub log_key: forewarn_tlog::note::SignerKey,
    /// The secret key every copy's fingerprint is derived from.
    pub fingerprint_key: forewarn_mark::code::Key,
}

/// Who the program is, as handlers see it (the log's key lives in [`AppState::log`]).
#[derive(Debug)]
pub struct ProgramInfo {
    pub publisher: forewarn_render::csaf::Publisher,
    pub public_url: String,
    pub started_at: jiff::Timestamp,
    pub signing_key: forewarn_openpgp::ProgramKey,
    pub fingerprint_key: forewarn_mark::code::Key,
}

/// The clock visibility is decided by. Real time — except in debug builds (the binary end-to-end tests run), where
/// `FOREWARN_TEST_CLOCK_FILE` may name a file holding an RFC 3339 time that is read on every call, so that a test
/// can move the server's "now" forward. Release builds ignore the variable: a deployed server always runs on real
/// time. Sessions, rate limits and log timestamps use real time regardless.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    file: Option<std::path::PathBuf>,
}

impl Clock {
    pub fn from_env() -> Self {
        if cfg!(debug_assertions) {
            Self { file: std::env::var_os("FOREWARN_TEST_CLOCK_FILE").map(Into::into) }
        } else {
            Self { file: None }
        }
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(jiff::Timestamp::now)
    }
}

/// What every handler can reach: one shared [`Shared`], so that the per-request clone axum makes is one reference
/// count, not one per part.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub program: Arc<ProgramInfo>,
    pub catalogue: Arc<delivery::Catalogue>,
    pub limiter: Arc<limit::RateLimiter>,
    pub trusted_proxies: Arc<Vec<forewarn_core::IpNet>>,
    pub recorder: recorder::Recorder,
    pub content: Arc<delivery::ContentCache>,
    pub log: log_api::Handle,
    pub clock: Clock,
}

impl AppState {
    /// Must be called inside a Tokio runtime: it starts the delivery recorder.
    pub fn new(store: Store, program: Program, config: &ServerConfig) -> Self {
        let Program { publisher, public_url, started_at, signing_key, log_key, fingerprint_key } = program;
        let log = Arc::new(log_api::Log::new(log_key));
        Self(Arc::new(Shared {
            recorder: recorder::Recorder::start(store.clone(), log.clone()),
            content: Arc::default(),
            log,
            store,
            program: Arc::new(ProgramInfo { publisher, public_url, started_at, signing_key, fingerprint_key }),
            catalogue: Arc::default(),
            limiter: Arc::new(limit::RateLimiter::new(config.rate_limit_per_minute)),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            clock: Clock::from_env(),
        }))
    }
}

pub fn router(state: AppState, config: &ServerConfig) -> Router {
    Router::new()
        // The URL the demo prints leads somewhere: staff to the console (which sends the signed-out to sign in).
        .route("/", get(|| async { axum::response::Redirect::to("/console") }))
        .route("/openapi.json", get(openapi_json))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/me", get(me))
        .route("/api/v1/advisories", get(partner_api::list))
        .route("/api/v1/advisories/{id}", get(partner_api::get_one))
        .route("/api/v1/advisories/{id}/csaf", get(partner_api::get_csaf))
        .route("/api/v1/advisories/{id}/bundle", get(partner_api::get_bundle))
        .route("/api/v1/me/openpgp-key", get(partner_api::get_key).put(partner_api::put_key))
        .route("/api/v1/me/webhook", get(partner_api::get_webhook).put(partner_api::put_webhook))
        .route("/api/v1/admin/partners", get(admin::list_partners))
        .route("/api/v1/admin/partners/{id}/suspend", axum::routing::post(admin::suspend))
        .route("/api/v1/admin/partners/{id}/reinstate", axum::routing::post(admin::reinstate))
        .route("/api/v1/admin/deliveries", get(admin::deliveries))
        .route("/api/v1/admin/advisories/{id}/explain", get(admin::explain))
        .route("/api/v1/admin/investigations", axum::routing::post(admin::investigate))
        .route("/.well-known/csaf/openpgp/{file}", get(partner_api::program_public_key))
        .route("/.well-known/csaf/provider-metadata.json", get(partner_api::provider_metadata))
        .route("/.well-known/csaf/tlp-amber/feed-tlp-amber.json", get(partner_api::feed))
        .route("/.well-known/csaf/tlp-amber/{year}/{file}", get(partner_api::feed_document))
        .route("/api/v1/receipts", get(log_api::receipts))
        .route("/api/v1/receipts/{entry}", get(log_api::receipt))
        .route("/log/checkpoint", get(log_api::checkpoint))
        .route("/log/key", get(log_api::key))
        .route("/log/consistency", get(log_api::consistency))
        .route("/log/tile/{*path}", get(log_api::tile))
        .merge(console::routes())
        .merge(portal::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Binds the listening socket. Separate from [`run`] so that a caller can learn the port it got (port 0).
pub async fn bind(config: &ServerConfig) -> std::io::Result<TcpListener> {
    TcpListener::bind(config.listen).await
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting and lets requests in flight finish. `ready` is called once
/// the signal handlers are in place and the background tasks run — so a caller that announces the server there
/// never has a SIGTERM sent after the announcement kill the process outright.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    config: &ServerConfig,
    ready: impl FnOnce(),
) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    // The webhook scheduler and the log's sequencer run beside the server; they stop with it.
    let scheduler = tokio::spawn(webhooks::run(state.clone(), config.webhooks.clone()));
    let sequencer = tokio::spawn(log_api::sequence(state.clone()));
    let app = router(state, config);
    ready();
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutdown requested; finishing requests in flight");
    };
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    scheduler.abort();
    sequencer.abort();
    served
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = dto::Health)))]
async fn healthz() -> Json<dto::Health> {
    Json(dto::Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = dto::Health), (status = 503, body = dto::Health)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<dto::Health>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(dto::Health { status: "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(dto::Health { status: "database unavailable" }))
        }
    }
}

/// The calling partner as the program knows it.
#[utoipa::path(get, path = "/api/v1/me", tag = "partner", security(("bearer" = [])),
    responses((status = 200, body = dto::PartnerView), (status = 401, body = dto::ErrorBody), (status = 403, body = dto::ErrorBody)))]
async fn me(auth::ActivePartner(partner, _): auth::ActivePartner) -> Json<dto::PartnerView> {
    Json(dto::PartnerView::from(&*partner))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The OpenAPI 3 description of this API, generated from the handlers' annotations.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    info(title = "forewarn", description = "Advance vulnerability notification: the partner API and the CSAF 2.0 provider. Every partner request carries `Authorization: Bearer fw_...`."),
    paths(
        healthz, readyz, me,
        partner_api::list, partner_api::get_one, partner_api::get_csaf, partner_api::get_bundle,
        partner_api::get_key, partner_api::put_key, partner_api::get_webhook, partner_api::put_webhook,
        partner_api::provider_metadata, partner_api::feed, partner_api::feed_document, partner_api::program_public_key,
        admin::list_partners, admin::suspend, admin::reinstate, admin::deliveries, admin::explain, admin::investigate,
        log_api::receipts, log_api::receipt, log_api::checkpoint, log_api::key, log_api::consistency, log_api::tile,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("fw_<id>_<secret>").build(),
            ),
        );
    }
}

/// Public: this API's OpenAPI 3 document.
async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = <ApiDoc as utoipa::OpenApi>::openapi().to_pretty_json().unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves is in the OpenAPI document, and nothing else is.
    #[test]
    fn the_openapi_document_covers_every_route() {
        let doc = <ApiDoc as utoipa::OpenApi>::openapi();
        let mut documented: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        documented.sort_unstable();
        let source = include_str!("lib.rs");
        let mut routed: Vec<String> = source
            .lines()
            .filter_map(|l| l.trim().strip_prefix(".route(\""))
            .filter_map(|l| l.split('"').next())
            // The document itself, and the redirect for people at the root, are not API.
            .filter(|p| *p != "/openapi.json" && *p != "/")
            .map(|p| p.replace("{*", "{"))
            .collect();
        routed.sort_unstable();
        assert_eq!(documented, routed.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(doc.components.is_some_and(|c| c.security_schemes.contains_key("bearer")));
    }
}
