//! Everything that decides what partners may see, read at once: partners with their allow-lists and tokens,
//! advisories, and the active policy — with the change counter that database triggers bump on every change to
//! any of them (migration 0008). A server keeps the latest snapshot and re-reads it whenever the counter moved; a
//! change committed by any process is therefore seen by the next request, with one query per request.

use forewarn_core::{Advisory, IpNet, Partner};
use sqlx::{AnyConnection, Row};

use crate::partners::TokenInfo;
use crate::policies::StoredPolicy;
use crate::{advisories, partners, policies, Result};

/// The counter's current value.
pub async fn version(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query("SELECT version FROM catalogue WHERE id = 1").fetch_one(conn).await?.try_get("version")?)
}

/// A token with its stored secret hash.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub info: TokenInfo,
    pub secret_hash: Vec<u8>,
}

impl TokenRow {
    /// Whether the presented token is this one (constant-time) and still live at `now`.
    pub fn accepts(&self, presented: &crate::credentials::PresentedToken, now: jiff::Timestamp) -> bool {
        presented.id == self.info.id && presented.matches(&self.secret_hash) && self.info.is_live(now)
    }
}

#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub partners: Vec<(Partner, Vec<IpNet>)>,
    pub tokens: Vec<TokenRow>,
    pub advisories: Vec<Advisory>,
    pub policy: Option<StoredPolicy>,
}

/// Reads a consistent snapshot (one transaction; on SQLite a read transaction sees one state of the database).
pub async fn load(conn: &mut AnyConnection) -> Result<Snapshot> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let version = version(&mut tx).await?;
    let partners = partners::list_with_allow_lists(&mut tx).await?;
    let tokens = partners::all_tokens(&mut tx).await?;
    let advisories = advisories::list(&mut tx).await?;
    let policy = match policies::active(&mut tx).await {
        Ok(p) => Some(p),
        Err(crate::StoreError::Refused(_)) => None,
        Err(e) => return Err(e),
    };
    tx.commit().await?;
    Ok(Snapshot { version, partners, tokens, advisories, policy })
}
