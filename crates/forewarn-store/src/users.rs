//! Staff accounts. Passwords are stored only as argon2id hashes.

use forewarn_core::{Roles, Username};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::credentials::verify_password;
use crate::time::{from_db, opt_from_db, to_db};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub username: Username,
    pub display_name: String,
    pub roles: Roles,
    pub disabled_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "username, display_name, roles, disabled_at, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<StaffUser> {
    let corrupt = |e: forewarn_core::Invalid| StoreError::Corrupt(e.to_string());
    Ok(StaffUser {
        username: Username::parse(&r.try_get::<String, _>("username")?).map_err(corrupt)?,
        display_name: r.try_get("display_name")?,
        roles: Roles::parse(&r.try_get::<String, _>("roles")?).map_err(corrupt)?,
        disabled_at: opt_from_db(r.try_get("disabled_at")?)?,
        created_at: from_db(r.try_get("created_at")?)?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    username: &Username,
    display_name: &str,
    roles: Roles,
    password_hash: &str,
    now: Timestamp,
) -> Result<StaffUser> {
    if find(conn, username).await?.is_some() {
        return Err(StoreError::Duplicate { what: "user", id: username.to_string() });
    }
    sqlx::query(
        "INSERT INTO staff_users (username, display_name, roles, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(username.as_str())
    .bind(display_name)
    .bind(roles.to_string())
    .bind(password_hash)
    .bind(to_db(now))
    .execute(conn)
    .await?;
    Ok(StaffUser {
        username: username.clone(),
        display_name: display_name.to_owned(),
        roles,
        disabled_at: None,
        created_at: now,
    })
}

pub async fn find(conn: &mut AnyConnection, username: &Username) -> Result<Option<StaffUser>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM staff_users WHERE username = $1"))
        .bind(username.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, username: &Username) -> Result<StaffUser> {
    find(conn, username).await?.ok_or_else(|| StoreError::NotFound { what: "user", id: username.to_string() })
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<StaffUser>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM staff_users ORDER BY username")).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

pub async fn disable(conn: &mut AnyConnection, username: &Username, now: Timestamp) -> Result<StaffUser> {
    let user = get(conn, username).await?;
    if user.disabled_at.is_some() {
        return Err(StoreError::Refused(format!("user {username} is already disabled")));
    }
    sqlx::query("UPDATE staff_users SET disabled_at = $1 WHERE username = $2")
        .bind(to_db(now))
        .bind(username.as_str())
        .execute(conn)
        .await?;
    Ok(StaffUser { disabled_at: Some(now), ..user })
}

/// Checks a login. Unknown and disabled users take the same time as a wrong password and give the same answer.
pub async fn verify_login(conn: &mut AnyConnection, username: &str, password: &str) -> Result<Option<StaffUser>> {
    let row = match Username::parse(username) {
        Ok(u) => {
            sqlx::query(&format!("SELECT {COLUMNS}, password_hash FROM staff_users WHERE username = $1"))
                .bind(u.as_str())
                .fetch_optional(conn)
                .await?
        }
        Err(_) => None,
    };
    let hash: Option<String> = row.as_ref().map(|r| r.try_get("password_hash")).transpose()?;
    let ok = verify_password(password, hash.as_deref());
    match row {
        Some(r) if ok => {
            let user = from_row(&r)?;
            Ok(user.disabled_at.is_none().then_some(user))
        }
        _ => Ok(None),
    }
}

/// Issues an API token for a staff user (for the admin endpoints). The returned text is the only copy.
pub async fn issue_token(
    conn: &mut AnyConnection,
    username: &Username,
    label: &str,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<crate::credentials::IssuedToken> {
    let user = get(conn, username).await?;
    if user.disabled_at.is_some() {
        return Err(StoreError::Refused(format!("user {username} is disabled")));
    }
    let token = crate::credentials::issue_staff_token()?;
    sqlx::query(
        "INSERT INTO staff_tokens (id, username, secret_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id.as_str())
    .bind(username.as_str())
    .bind(token.secret_hash.to_vec())
    .bind(label)
    .bind(to_db(now))
    .bind(expires_at.map(to_db))
    .execute(conn)
    .await?;
    Ok(token)
}

/// The enabled staff user a presented staff token belongs to, if the token is live.
pub async fn authenticate(conn: &mut AnyConnection, token: &str, now: Timestamp) -> Result<Option<StaffUser>> {
    let Some(presented) = crate::credentials::PresentedToken::parse_staff(token) else { return Ok(None) };
    let row = sqlx::query("SELECT username, secret_hash, expires_at, revoked_at FROM staff_tokens WHERE id = $1")
        .bind(presented.id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let hash: Vec<u8> = row.try_get("secret_hash")?;
    let live = row.try_get::<Option<i64>, _>("revoked_at")?.is_none()
        && opt_from_db(row.try_get("expires_at")?)?.is_none_or(|t| now < t);
    if !presented.matches(&hash) || !live {
        return Ok(None);
    }
    let name =
        Username::parse(&row.try_get::<String, _>("username")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(find(conn, &name).await?.filter(|u| u.disabled_at.is_none()))
}
