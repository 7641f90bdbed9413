//! The transparency log on the wire: the sequencer task, the public C2SP tlog-tiles endpoints under `/log`, and
//! partners' receipts. The log itself (tree, tiles, notes, proofs) is `forewarn-tlog`; its storage and the
//! integration step are `forewarn_store::log`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use forewarn_store::log;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::receipt::Receipt;
use forewarn_tlog::tiles::{encode_entries, encode_hashes, TilePath};
use jiff::Timestamp;
use serde::Deserialize;

use crate::auth::ActivePartner;
use crate::dto::{ErrorBody, ReceiptBody, ReceiptList, ReceiptSummary};
use crate::{ApiError, AppState};

/// The log's signing key and the sequencer's wake-up call.
#[derive(Debug)]
pub struct Log {
    pub signer: SignerKey,
    /// Rung after a transaction added events, so that they are integrated soon.
    pub wake: tokio::sync::Notify,
    /// Tiles with their interior nodes, for proofs.
    pub tiles: log::TileCache,
}

impl Log {
    pub fn new(signer: SignerKey) -> Self {
        Self { signer, wake: tokio::sync::Notify::new(), tiles: log::TileCache::default() }
    }
}

/// Most events integrated (and so one checkpoint signed) per transaction.
const BATCH: usize = 4096;
/// Shortest pause between integrations: under load a checkpoint covers what arrived meanwhile.
const PAUSE: Duration = Duration::from_millis(200);
/// Longest wait for pending events written by another process (the CLI, another server).
const POLL: Duration = Duration::from_secs(1);

/// The sequencer: integrates pending events whenever woken, and at least once a second. Safe to run on every
/// server sharing a database (`forewarn_store::log::integrate` serialises them).
///
/// After an integration that took everything pending it pauses for [`PAUSE`], even when more events have arrived
/// meanwhile: under a steady stream of deliveries there always are, and integrating them at once would sign a
/// checkpoint and take SQLite's write lock for every few events, back to back, holding up the deliveries' own
/// commits (measured: the lock was the sequencer's 70 % of the time at 7,000 deliveries/s). Only a full batch —
/// a backlog — is followed at once by the next.
pub async fn sequence(state: AppState) {
    let mut cache = None;
    loop {
        loop {
            match log::integrate(&state.store, &state.log.signer, &mut cache, BATCH, Timestamp::now()).await {
                Ok(Some(done)) => {
                    tracing::debug!(from = done.from, size = done.size, "log integrated");
                    // Less than a full batch: what was pending is integrated, so let the next checkpoint cover
                    // what arrives meanwhile. A full batch means more are waiting: go on without a pause.
                    if done.size - done.from < BATCH as u64 {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "log integration failed; retrying");
                    cache = None;
                    break;
                }
            }
        }
        tokio::time::sleep(PAUSE).await;
        let _ = tokio::time::timeout(POLL, state.log.wake.notified()).await;
    }
}

fn text(status: StatusCode, body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// Public: the latest signed checkpoint (C2SP tlog-checkpoint).
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    responses((status = 200, description = "The signed checkpoint", content_type = "text/plain"), (status = 404, body = ErrorBody)))]
pub async fn checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    let (_, note) = log::latest_checkpoint(&mut *s.store.conn().await?).await?.ok_or(ApiError::NotFound)?;
    Ok(text(StatusCode::OK, note.into_bytes(), "text/plain; charset=utf-8", "no-cache, max-age=1"))
}

/// Public: the log's verifier key (C2SP signed-note verifier key text).
#[utoipa::path(get, path = "/log/key", tag = "log", responses((status = 200, description = "The verifier key", content_type = "text/plain")))]
pub async fn key(State(s): State<AppState>) -> Response {
    let body = format!("{}\n", s.log.signer.verifier().to_text()).into_bytes();
    text(StatusCode::OK, body, "text/plain; charset=utf-8", "public, max-age=3600")
}

/// Public: a hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]` (C2SP tlog-tiles).
/// Entries are commitments: they name no partner or advisory.
#[utoipa::path(get, path = "/log/tile/{path}", tag = "log", params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`")),
    responses((status = 200, description = "The tile", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn tile(State(s): State<AppState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let parsed = TilePath::parse(&path).map_err(|_| ApiError::NotFound)?;
    let mut conn = s.store.conn().await?;
    // A tile of a given width never changes: a partial one only grows into wider ones.
    let immutable = "public, max-age=31536000, immutable";
    match parsed {
        TilePath::Hashes(id) => {
            let stored = log::tile(&mut conn, id.level, id.index).await?.ok_or(ApiError::NotFound)?;
            let hashes = stored.get(..usize::from(id.width)).ok_or(ApiError::NotFound)?;
            Ok(text(StatusCode::OK, encode_hashes(hashes), "application/octet-stream", immutable))
        }
        TilePath::Entries(id) => {
            let first = id.index.checked_mul(256).ok_or(ApiError::NotFound)?;
            let entries = log::entries(&mut conn, first, u64::from(id.width)).await?;
            if entries.len() != usize::from(id.width) {
                return Err(ApiError::NotFound);
            }
            let bundle = encode_entries(entries.iter().map(Vec::as_slice)).map_err(|_| ApiError::Internal)?;
            Ok(text(StatusCode::OK, bundle, "application/octet-stream", immutable))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    /// The older tree size.
    old: Option<String>,
    /// The newer tree size, at most the current one.
    new: Option<String>,
}

/// Public: the consistency proof between two tree sizes, one base64 hash per line (RFC 9162 §2.1.4).
#[utoipa::path(get, path = "/log/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, description = "The proof", content_type = "text/plain"), (status = 400, body = ErrorBody)))]
pub async fn consistency(State(s): State<AppState>, Query(q): Query<ConsistencyQuery>) -> Result<Response, ApiError> {
    let mut conn = s.store.conn().await?;
    let size = log::size(&mut conn).await?;
    let bad =
        || ApiError::BadRequest(format!("ask for ?old=N&new=M with 0 <= N <= M <= {size}, the log's current size"));
    let number = |v: &Option<String>| v.as_deref().and_then(|t| t.parse::<u64>().ok()).ok_or_else(bad);
    let (old, new) = (number(&q.old)?, number(&q.new)?);
    if old > new || new > size {
        return Err(bad());
    }
    let proof = s.log.tiles.consistency_proof(&mut conn, old, new).await?;
    let body: String = proof.iter().map(|h| format!("{}\n", h.to_base64())).collect();
    Ok(text(StatusCode::OK, body.into_bytes(), "text/plain; charset=utf-8", "public, max-age=31536000, immutable"))
}

/// The caller's own events in the log (deliveries to it, webhook attempts to it), newest first.
#[utoipa::path(get, path = "/api/v1/receipts", tag = "partner", security(("bearer" = [])),
    responses((status = 200, body = ReceiptList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn receipts(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
) -> Result<Response, ApiError> {
    let events = log::events_of(&mut *s.store.conn().await?, partner.id.as_str(), 1000).await?;
    let list = ReceiptList {
        receipts: events
            .into_iter()
            .filter_map(|e| {
                Some(ReceiptSummary {
                    entry: e.leaf_index?,
                    kind: e.kind,
                    at: e.at.to_string(),
                    link: format!("/api/v1/receipts/{}", e.leaf_index?),
                })
            })
            .collect(),
    };
    Ok(axum::Json(list).into_response())
}

/// The receipt for one of the caller's events: the event body and salt (whose commitment is the log entry), and a
/// C2SP tlog-proof of the entry in the latest checkpoint. Another partner's entry does not exist for the caller (404).
#[utoipa::path(get, path = "/api/v1/receipts/{entry}", tag = "partner", security(("bearer" = [])), params(("entry" = u64, Path)),
    responses((status = 200, body = ReceiptBody), (status = 404, body = ErrorBody)))]
pub async fn receipt(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
    Path(entry): Path<String>,
) -> Result<Response, ApiError> {
    let entry: u64 = entry.parse().map_err(|_| ApiError::NotFound)?;
    let mut conn = s.store.conn().await?;
    let body = receipt_for(&mut conn, &s.log.tiles, entry, Some(partner.id.as_str()), &s.log.signer.verifier()).await?;
    Ok(axum::Json(body).into_response())
}

/// The receipt for entry `entry`, when it exists and (if `partner` is given) is that partner's.
pub async fn receipt_for(
    conn: &mut forewarn_store::AnyConnection,
    tiles: &log::TileCache,
    entry: u64,
    partner: Option<&str>,
    key: &forewarn_tlog::note::VerifierKey,
) -> Result<ReceiptBody, ApiError> {
    let event = log::event_at(conn, entry).await?.ok_or(ApiError::NotFound)?;
    if partner.is_some() && event.partner_id.as_deref() != partner {
        return Err(ApiError::NotFound);
    }
    let (size, note) = log::latest_checkpoint(conn).await?.ok_or(ApiError::NotFound)?;
    let proof = tiles.inclusion_proof(conn, size, entry).await?;
    let receipt = Receipt { extra: None, index: entry, proof, checkpoint: note };
    Ok(ReceiptBody {
        entry,
        kind: event.kind,
        at: event.at.to_string(),
        event: serde_json::from_str(&event.body).unwrap_or(serde_json::Value::Null),
        body: event.body,
        salt: STANDARD.encode(&event.salt),
        commitment: STANDARD.encode(&event.commitment),
        proof: receipt.to_text(),
        log_key: key.to_text(),
    })
}

/// Shared by the state: the log handle.
pub type Handle = Arc<Log>;
