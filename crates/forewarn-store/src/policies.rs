//! Policy documents, stored as the text that was set, with every earlier version kept. The store does not
//! interpret them: the caller validates a document (forewarn-policy) before it is stored, and parses the active
//! one when it needs decisions.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::time::{from_db, to_db};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub version: i64,
    pub body: String,
    /// SHA-256 of the body, hex: names exactly which text was in force.
    pub sha256: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub note: String,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoredPolicy> {
    Ok(StoredPolicy {
        version: r.try_get("version")?,
        body: r.try_get("body")?,
        sha256: r.try_get("sha256")?,
        created_by: r.try_get("created_by")?,
        created_at: from_db(r.try_get("created_at")?)?,
        note: r.try_get("note")?,
    })
}

pub fn digest(body: &str) -> String {
    forewarn_core::hex(&Sha256::digest(body.as_bytes()))
}

/// Stores a new version; it becomes the active policy.
pub async fn insert(
    conn: &mut AnyConnection,
    body: &str,
    created_by: &str,
    note: &str,
    now: Timestamp,
) -> Result<StoredPolicy> {
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM policies").fetch_one(&mut *conn).await?;
    let version: i64 = row.try_get::<i64, _>("v")? + 1;
    let sha256 = digest(body);
    sqlx::query(
        "INSERT INTO policies (version, body, sha256, created_by, created_at, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(version)
    .bind(body)
    .bind(&sha256)
    .bind(created_by)
    .bind(to_db(now))
    .bind(note)
    .execute(conn)
    .await?;
    Ok(StoredPolicy {
        version,
        body: body.to_owned(),
        sha256,
        created_by: created_by.to_owned(),
        created_at: now,
        note: note.to_owned(),
    })
}

/// The active policy: the newest version.
pub async fn active(conn: &mut AnyConnection) -> Result<StoredPolicy> {
    let row = sqlx::query("SELECT * FROM policies ORDER BY version DESC LIMIT 1")
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::Refused("no policy is set; run `forewarn policy set FILE`".into()))?;
    from_row(&row)
}

/// The active version's number and digest, without its body: enough to tell whether a cached parse is current.
pub async fn active_version(conn: &mut AnyConnection) -> Result<Option<(i64, String)>> {
    let row =
        sqlx::query("SELECT version, sha256 FROM policies ORDER BY version DESC LIMIT 1").fetch_optional(conn).await?;
    row.map(|r| Ok((r.try_get("version")?, r.try_get("sha256")?))).transpose()
}

pub async fn get(conn: &mut AnyConnection, version: i64) -> Result<StoredPolicy> {
    let row = sqlx::query("SELECT * FROM policies WHERE version = $1")
        .bind(version)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "policy version", id: version.to_string() })?;
    from_row(&row)
}

/// Every version, newest first (bodies included).
pub async fn history(conn: &mut AnyConnection) -> Result<Vec<StoredPolicy>> {
    let rows = sqlx::query("SELECT * FROM policies ORDER BY version DESC").fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}
