//! Partner portal users and their sessions. A portal user belongs to one partner and sees exactly what that partner
//! may see: the portal is one more delivery channel. Passwords are stored as argon2id hashes; sessions as the
//! SHA-256 of a random cookie token, with a CSRF token and an expiry, in their own table (a staff session is never
//! a portal session, nor the reverse).

use forewarn_core::{PartnerId, Username};
use jiff::{SignedDuration, Timestamp};
use sqlx::{AnyConnection, Row};

use crate::credentials::{hash_password, verify_password};
use crate::sessions::{hash, Table};
use crate::time::{from_db, to_db};
use crate::{Result, StoreError};

/// A portal user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUser {
    pub username: Username,
    pub partner: PartnerId,
    /// May manage the organisation's portal users.
    pub is_admin: bool,
}

/// A live portal session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub user: PortalUser,
    pub csrf: String,
    pub expires_at: Timestamp,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<PortalUser> {
    let username: String = r.try_get("username")?;
    let partner: String = r.try_get("partner_id")?;
    let is_admin: i64 = r.try_get("is_admin")?;
    Ok(PortalUser {
        username: Username::parse(&username).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        partner: PartnerId::parse(&partner).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        is_admin: is_admin != 0,
    })
}

/// Adds a portal user for `partner` with `password`. A user name taken by another portal user is refused.
pub async fn add_user(
    conn: &mut AnyConnection,
    username: &Username,
    partner: &PartnerId,
    password: &str,
    is_admin: bool,
    created_by: &str,
    now: Timestamp,
) -> Result<PortalUser> {
    crate::partners::get(conn, partner).await?;
    let taken = sqlx::query("SELECT 1 FROM partner_users WHERE username = $1")
        .bind(username.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if taken {
        return Err(StoreError::Duplicate { what: "portal user", id: username.to_string() });
    }
    let hash = hash_password(password)?;
    sqlx::query(
        "INSERT INTO partner_users (username, partner_id, password_hash, is_admin, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(username.as_str())
    .bind(partner.as_str())
    .bind(hash)
    .bind(i64::from(is_admin))
    .bind(created_by)
    .bind(to_db(now))
    .execute(conn)
    .await?;
    Ok(PortalUser { username: username.clone(), partner: partner.clone(), is_admin })
}

/// Checks a portal login: the same answer, after the same work, for an unknown user, a disabled one and a wrong
/// password.
pub async fn verify_login(conn: &mut AnyConnection, username: &str, password: &str) -> Result<Option<PortalUser>> {
    let row = match Username::parse(username) {
        Ok(u) => sqlx::query(
            "SELECT username, partner_id, is_admin, password_hash, disabled_at FROM partner_users WHERE username = $1",
        )
        .bind(u.as_str())
        .fetch_optional(&mut *conn)
        .await?,
        Err(_) => None,
    };
    let hash: Option<String> = row.as_ref().map(|r| r.try_get("password_hash")).transpose()?;
    let ok = verify_password(password, hash.as_deref());
    match row {
        Some(r) if ok => {
            let disabled: Option<i64> = r.try_get("disabled_at")?;
            Ok(disabled.is_none().then(|| from_row(&r)).transpose()?)
        }
        _ => Ok(None),
    }
}

/// Opens a session; returns (cookie token, CSRF token).
pub async fn create_session(
    conn: &mut AnyConnection,
    user: &PortalUser,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<(String, String)> {
    let s = crate::sessions::open(conn, Table::Portal, user.username.as_str(), now, ttl).await?;
    Ok((s.token, s.csrf))
}

/// The live session a cookie token stands for: not expired, its user not disabled.
pub async fn get_session(conn: &mut AnyConnection, token: &str, now: Timestamp) -> Result<Option<PortalSession>> {
    let row = sqlx::query(
        "SELECT u.username, u.partner_id, u.is_admin, u.disabled_at, s.csrf, s.expires_at \
         FROM portal_sessions s JOIN partner_users u ON u.username = s.username WHERE s.token_hash = $1",
    )
    .bind(hash(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let expires_at = from_db(r.try_get("expires_at")?)?;
    let disabled: Option<i64> = r.try_get("disabled_at")?;
    if expires_at <= now || disabled.is_some() {
        end_session(conn, token).await?;
        return Ok(None);
    }
    Ok(Some(PortalSession { user: from_row(&r)?, csrf: r.try_get("csrf")?, expires_at }))
}

/// Ends a session (sign-out).
pub async fn end_session(conn: &mut AnyConnection, token: &str) -> Result<()> {
    crate::sessions::close(conn, Table::Portal, token).await
}
