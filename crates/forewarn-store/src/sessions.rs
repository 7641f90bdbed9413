//! Web console sessions: a random token in an HttpOnly cookie, stored only as its SHA-256, with a CSRF token and an
//! expiry. Expired sessions are refused and deleted; logging out deletes the row.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::time::{from_db, to_db};
use crate::users::StaffUser;
use crate::Result;

/// A new session: the cookie value (shown once) and the CSRF token forms must carry.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: StaffUser,
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// What is stored of a session token: its SHA-256, hex (shared with portal sessions).
pub(crate) fn hash(token: &str) -> String {
    forewarn_core::hex(&Sha256::digest(token.as_bytes()))
}

/// 256 random bits, base64url: for session, CSRF and sign-in form tokens.
pub fn random_token() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(crate::crypto::random_bytes::<32>()?))
}

/// The two kinds of web session, kept in tables of the same shape so that a session of one can never open the other.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Console,
    Portal,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Console => "console_sessions",
            Self::Portal => "portal_sessions",
        }
    }
}

/// Opens a session of `username` in `table`, valid for `ttl`.
pub(crate) async fn open(
    conn: &mut AnyConnection,
    table: Table,
    username: &str,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<NewSession> {
    let (token, csrf) = (random_token()?, random_token()?);
    sqlx::query(&format!(
        "INSERT INTO {} (token_hash, username, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        table.name()
    ))
    .bind(hash(&token))
    .bind(username)
    .bind(&csrf)
    .bind(to_db(now))
    .bind(to_db(now + ttl))
    .execute(conn)
    .await?;
    Ok(NewSession { token, csrf })
}

/// Ends a session of `table` (sign-out, or found expired).
pub(crate) async fn close(conn: &mut AnyConnection, table: Table, token: &str) -> Result<()> {
    sqlx::query(&format!("DELETE FROM {} WHERE token_hash = $1", table.name())).bind(hash(token)).execute(conn).await?;
    Ok(())
}

/// Opens a session for `user`, valid for `ttl`.
pub async fn create(
    conn: &mut AnyConnection,
    user: &StaffUser,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<NewSession> {
    open(conn, Table::Console, user.username.as_str(), now, ttl).await
}

/// The live session a cookie token stands for: not expired, and its user not disabled.
pub async fn get(conn: &mut AnyConnection, token: &str, now: Timestamp) -> Result<Option<Session>> {
    let row = sqlx::query("SELECT username, csrf, expires_at FROM console_sessions WHERE token_hash = $1")
        .bind(hash(token))
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let expires_at = from_db(r.try_get("expires_at")?)?;
    if expires_at <= now {
        end(conn, token).await?;
        return Ok(None);
    }
    let username: String = r.try_get("username")?;
    let Ok(name) = forewarn_core::Username::parse(&username) else { return Ok(None) };
    let Some(user) = crate::users::find(conn, &name).await? else { return Ok(None) };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some(Session { user, csrf: r.try_get("csrf")?, expires_at }))
}

/// Ends a session (logout).
pub async fn end(conn: &mut AnyConnection, token: &str) -> Result<()> {
    close(conn, Table::Console, token).await
}
