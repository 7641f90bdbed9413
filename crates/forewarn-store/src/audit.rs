//! The append-only history of administrative changes: who did what to which subject, when and why.
//!
//! `detail` is JSON with ids, names and states only: never a section body, a title or other embargoed text, so the
//! history itself can be shown to auditors without a key. The tables refuse UPDATE and DELETE (triggers).

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::time::{from_db, to_db};
use crate::Result;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff(String),
    Partner(String),
    /// The program itself (`init`, `demo`, a migration).
    System(&'static str),
}

impl Actor {
    pub fn as_text(&self) -> String {
        match self {
            Self::Staff(u) => format!("staff:{u}"),
            Self::Partner(p) => format!("partner:{p}"),
            Self::System(s) => format!("system:{s}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
}

/// Appends one event. Call it inside the transaction that makes the change. The row and its log event are written in
/// a transaction of their own, nested in the caller's (a savepoint), so that they commit together even when the
/// caller has none.
pub async fn record(
    conn: &mut AnyConnection,
    at: Timestamp,
    actor: &Actor,
    action: &str,
    subject: &str,
    reason: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let conn: &mut AnyConnection = &mut tx;
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, subject, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(to_db(at))
    .bind(actor.as_text())
    .bind(action)
    .bind(subject)
    .bind(reason)
    // The same form as the log event's body: keys sorted, whatever serde_json features the build has.
    .bind(crate::log::canonical_json(&detail))
    .execute(&mut *conn)
    .await?;
    // Every administrative change is also an event of the transparency log, in the same transaction.
    let body = serde_json::json!({
        "type": "admin",
        "at": at.to_string(),
        "actor": actor.as_text(),
        "action": action,
        "subject": subject,
        "reason": reason,
        "detail": detail,
    });
    crate::log::append(
        conn,
        &[crate::log::NewEvent {
            at,
            kind: "admin",
            partner: None,
            advisory: None,
            body: crate::log::canonical_json(&body),
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The newest `limit` events, newest first; only those about `subject` when given.
pub async fn list(conn: &mut AnyConnection, subject: Option<&str>, limit: i64) -> Result<Vec<AuditEvent>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, reason, detail FROM audit_events \
         WHERE ($1 IS NULL OR subject = $1) ORDER BY seq DESC LIMIT $2",
    )
    .bind(subject)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(AuditEvent {
                seq: r.try_get("seq")?,
                at: from_db(r.try_get("at")?)?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject")?,
                reason: r.try_get("reason")?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
