//! Webhooks: each partner's endpoint and secret, the notifications to send, and every attempt.
//!
//! Notifications are rows with a stable id derived from what they announce; inserting one that exists is a no-op,
//! so several servers computing the same announcement agree without coordination. A sender *claims* a due row by
//! an atomic conditional update (`claimed_until`), so each attempt is made by one server; a claim that is not
//! settled (the server died) expires and the row is tried again: at-least-once, with the same webhook-id.

use forewarn_core::PartnerId;
use jiff::{SignedDuration, Timestamp};
use sqlx::{AnyConnection, Row};
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::time::{from_db, opt_from_db, to_db};
use crate::{Result, StoreError};

#[derive(Debug)]
pub struct Endpoint {
    pub partner_id: String,
    pub url: String,
    /// `whsec_...`, opened.
    pub secret: Zeroizing<String>,
}

fn secret_name(partner: &str) -> String {
    format!("webhook-secret/{partner}")
}

/// Sets a partner's endpoint and secret (replacing any).
pub async fn set_endpoint(
    conn: &mut AnyConnection,
    key: &MasterKey,
    partner: &PartnerId,
    url: &str,
    secret: &str,
    now: Timestamp,
) -> Result<()> {
    let sealed = key.seal_secret(&secret_name(partner.as_str()), secret.as_bytes())?;
    sqlx::query("DELETE FROM partner_webhooks WHERE partner_id = $1")
        .bind(partner.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO partner_webhooks (partner_id, url, secret_ct, key_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(partner.as_str())
    .bind(url)
    .bind(sealed)
    .bind(key.id())
    .bind(to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn endpoint(conn: &mut AnyConnection, key: &MasterKey, partner: &str) -> Result<Option<Endpoint>> {
    let row = sqlx::query("SELECT url, secret_ct, key_id FROM partner_webhooks WHERE partner_id = $1")
        .bind(partner)
        .fetch_optional(conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let plain = key.open_secret(
        &secret_name(partner),
        &r.try_get::<String, _>("key_id")?,
        &r.try_get::<Vec<u8>, _>("secret_ct")?,
    )?;
    let secret =
        String::from_utf8(plain.to_vec()).map_err(|_| StoreError::Corrupt("webhook secret is not text".into()))?;
    Ok(Some(Endpoint { partner_id: partner.to_owned(), url: r.try_get("url")?, secret: Zeroizing::new(secret) }))
}

/// Partners with an endpoint.
pub async fn partners_with_endpoints(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT partner_id FROM partner_webhooks ORDER BY partner_id").fetch_all(conn).await?;
    rows.iter().map(|r| Ok(r.try_get("partner_id")?)).collect()
}

/// Re-seals every webhook secret from `old` to `new` (key rotation).
pub async fn rewrap_all(conn: &mut AnyConnection, old: &MasterKey, new: &MasterKey) -> Result<u64> {
    let rows = sqlx::query("SELECT partner_id, secret_ct, key_id FROM partner_webhooks").fetch_all(&mut *conn).await?;
    let mut n = 0;
    for r in &rows {
        let partner: String = r.try_get("partner_id")?;
        let key_id: String = r.try_get("key_id")?;
        if key_id == new.id() {
            continue;
        }
        let plain = old.open_secret(&secret_name(&partner), &key_id, &r.try_get::<Vec<u8>, _>("secret_ct")?)?;
        sqlx::query("UPDATE partner_webhooks SET secret_ct = $1, key_id = $2 WHERE partner_id = $3")
            .bind(new.seal_secret(&secret_name(&partner), &plain)?)
            .bind(new.id())
            .bind(&partner)
            .execute(&mut *conn)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// A notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub partner_id: String,
    pub advisory_id: String,
    pub event_type: String,
    /// JSON with ids, the event type and URLs only — never section text.
    pub payload: String,
    pub attempts: i64,
    pub created_at: Timestamp,
}

/// Queues a notification unless one with the same id exists. Returns whether it was new.
pub async fn enqueue(conn: &mut AnyConnection, e: &Event, due: Timestamp) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_events (id, partner_id, advisory_id, event_type, payload, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&e.id)
    .bind(&e.partner_id)
    .bind(&e.advisory_id)
    .bind(&e.event_type)
    .bind(&e.payload)
    .bind(to_db(due))
    .bind(to_db(e.created_at))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an event with this id exists (in any state).
pub async fn exists(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 AS one FROM webhook_events WHERE id = $1").bind(id).fetch_optional(conn).await?.is_some())
}

/// Stores an event as already delivered, without sending it: a marker of what a partner was already told.
pub async fn enqueue_settled(conn: &mut AnyConnection, e: &Event) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_events (id, partner_id, advisory_id, event_type, payload, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'delivered', 0, $6, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&e.id)
    .bind(&e.partner_id)
    .bind(&e.advisory_id)
    .bind(&e.event_type)
    .bind(&e.payload)
    .bind(to_db(e.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` due notifications for `hold`; each is claimed by exactly one caller.
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: Timestamp,
    hold: SignedDuration,
    limit: i64,
) -> Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, partner_id, advisory_id, event_type, payload, attempts, created_at FROM webhook_events \
         WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(to_db(now))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let until = to_db(now.checked_add(hold).unwrap_or(now));
    let mut claimed = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        let done = sqlx::query(
            "UPDATE webhook_events SET claimed_until = $1, attempts = attempts + 1 \
             WHERE id = $2 AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(until)
        .bind(&id)
        .bind(to_db(now))
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            claimed.push(Event {
                id,
                partner_id: r.try_get("partner_id")?,
                advisory_id: r.try_get("advisory_id")?,
                event_type: r.try_get("event_type")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get::<i64, _>("attempts")? + 1,
                created_at: from_db(r.try_get("created_at")?)?,
            });
        }
    }
    Ok(claimed)
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Records an attempt and settles the event: delivered on 2xx; otherwise retried at `retry_at`, or failed when
/// `retry_at` is `None`. The attempt, the event's new state and the attempt's log event commit together (in a
/// transaction of their own, or a savepoint of the caller's).
pub async fn settle(conn: &mut AnyConnection, e: &Event, a: &Attempt, retry_at: Option<Timestamp>) -> Result<()> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let conn: &mut AnyConnection = &mut tx;
    sqlx::query(
        "INSERT INTO webhook_attempts (event_id, partner_id, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&e.id)
    .bind(&e.partner_id)
    .bind(to_db(a.at))
    .bind(a.status_code.map(i64::from))
    .bind(a.error.as_deref())
    .bind(a.duration_ms)
    .execute(&mut *conn)
    .await?;
    let ok = a.status_code.is_some_and(|c| (200..300).contains(&c));
    let (state, next) = match (ok, retry_at) {
        (true, _) => ("delivered", a.at),
        (false, Some(t)) => ("pending", t),
        (false, None) => ("failed", a.at),
    };
    sqlx::query("UPDATE webhook_events SET state = $1, next_attempt_at = $2, claimed_until = NULL WHERE id = $3")
        .bind(state)
        .bind(to_db(next))
        .bind(&e.id)
        .execute(&mut *conn)
        .await?;
    // Every attempt is also an event of the transparency log, in the same transaction.
    let body = serde_json::json!({
        "type": "webhook",
        "at": a.at.to_string(),
        "partner": e.partner_id,
        "webhook_id": e.id,
        "event_type": e.event_type,
        "advisory": e.advisory_id,
        "status_code": a.status_code,
        "outcome": state,
    });
    let event = crate::log::NewEvent {
        at: a.at,
        kind: "webhook",
        partner: Some(&e.partner_id),
        advisory: None,
        body: crate::log::canonical_json(&body),
    };
    crate::log::append(conn, &[event]).await?;
    tx.commit().await?;
    Ok(())
}

/// A row of a partner's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub event_id: String,
    pub event_type: String,
    pub advisory_id: String,
    pub state: String,
    pub at: Option<Timestamp>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

/// The newest attempts (and pending events) of a partner, newest first.
pub async fn log(conn: &mut AnyConnection, partner: &str, limit: i64) -> Result<Vec<LogEntry>> {
    let rows = sqlx::query(
        "SELECT e.id, e.event_type, e.advisory_id, e.state, a.at, a.status_code, a.error FROM webhook_events e \
         LEFT JOIN webhook_attempts a ON a.event_id = e.id WHERE e.partner_id = $1 \
         ORDER BY COALESCE(a.at, e.created_at) DESC LIMIT $2",
    )
    .bind(partner)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LogEntry {
                event_id: r.try_get("id")?,
                event_type: r.try_get("event_type")?,
                advisory_id: r.try_get("advisory_id")?,
                state: r.try_get("state")?,
                at: opt_from_db(r.try_get("at")?)?,
                status_code: r.try_get("status_code")?,
                error: r.try_get("error")?,
            })
        })
        .collect()
}
