//! The program's own keys, such as its OpenPGP signing key: one row per key, the public half in clear, the secret
//! half sealed by the master key (so that every server sharing the database signs with the same key, and a dump
//! alone cannot sign). Re-wrapped by `forewarn keys rotate` with the advisories' data keys.

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::time::to_db;
use crate::{Result, StoreError};

/// A program key as stored: its public text and its opened secret text.
#[derive(Debug)]
pub struct ProgramSecret {
    pub public_text: String,
    pub secret_text: Zeroizing<String>,
}

pub async fn get(conn: &mut AnyConnection, key: &MasterKey, name: &str) -> Result<Option<ProgramSecret>> {
    let row = sqlx::query("SELECT public_text, secret_ct, key_id FROM program_keys WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let plain = key.open_secret(name, &r.try_get::<String, _>("key_id")?, &r.try_get::<Vec<u8>, _>("secret_ct")?)?;
    let secret = String::from_utf8(plain.to_vec())
        .map_err(|_| StoreError::Corrupt(format!("program key {name} is not text")))?;
    Ok(Some(ProgramSecret { public_text: r.try_get("public_text")?, secret_text: Zeroizing::new(secret) }))
}

/// Returns the named key, creating it with `make` (public, secret) when it does not exist yet. Two servers starting
/// at once both end up with the one that was stored first.
pub async fn get_or_create(
    conn: &mut AnyConnection,
    key: &MasterKey,
    name: &str,
    now: Timestamp,
    make: impl FnOnce() -> std::result::Result<(String, Zeroizing<String>), String>,
) -> Result<ProgramSecret> {
    if let Some(existing) = get(conn, key, name).await? {
        return Ok(existing);
    }
    let (public_text, secret_text) = make().map_err(StoreError::Config)?;
    let inserted = sqlx::query(
        "INSERT INTO program_keys (name, public_text, secret_ct, key_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(name)
    .bind(&public_text)
    .bind(key.seal_secret(name, secret_text.as_bytes())?)
    .bind(key.id())
    .bind(to_db(now))
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(ProgramSecret { public_text, secret_text }),
        Err(e) => match StoreError::from(e) {
            StoreError::Constraint { .. } => {
                get(conn, key, name).await?.ok_or_else(|| StoreError::Corrupt(format!("program key {name} vanished")))
            }
            other => Err(other),
        },
    }
}

/// A 32-byte program secret (such as the fingerprinting key), made at random on first use and kept sealed; it has
/// no public half.
pub async fn secret_bytes(conn: &mut AnyConnection, key: &MasterKey, name: &str, now: Timestamp) -> Result<[u8; 32]> {
    use base64::Engine;
    let stored = get_or_create(conn, key, name, now, || {
        let bytes = crate::crypto::random_bytes::<32>().map_err(|e| e.to_string())?;
        Ok((String::new(), Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes))))
    })
    .await?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(stored.secret_text.as_bytes())
        .map_err(|_| StoreError::Corrupt(format!("program secret {name} is not base64")))?;
    raw.try_into().map_err(|_| StoreError::Corrupt(format!("program secret {name} is not 32 bytes")))
}

/// Re-seals every program key from `old` to `new`.
pub async fn rewrap_all(conn: &mut AnyConnection, old: &MasterKey, new: &MasterKey) -> Result<u64> {
    let rows = sqlx::query("SELECT name, secret_ct, key_id FROM program_keys").fetch_all(&mut *conn).await?;
    let mut n = 0;
    for r in &rows {
        let name: String = r.try_get("name")?;
        let key_id: String = r.try_get("key_id")?;
        if key_id == new.id() {
            continue;
        }
        let plain = old.open_secret(&name, &key_id, &r.try_get::<Vec<u8>, _>("secret_ct")?)?;
        sqlx::query("UPDATE program_keys SET secret_ct = $1, key_id = $2 WHERE name = $3")
            .bind(new.seal_secret(&name, &plain)?)
            .bind(new.id())
            .bind(&name)
            .execute(&mut *conn)
            .await?;
        n += 1;
    }
    Ok(n)
}
