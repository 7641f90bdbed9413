//! Tiers known to the program: the tier names of the active policy, kept in step with it by [`sync`] whenever a
//! policy is set. The policy decides what each tier sees; this table lets the database refuse a partner in a tier
//! that does not exist, and refuse a policy that drops a tier partners are still in.

use forewarn_core::TierName;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::time::to_db;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub name: TierName,
    pub description: String,
}

pub async fn insert(conn: &mut AnyConnection, name: &TierName, description: &str, now: Timestamp) -> Result<()> {
    sqlx::query("INSERT INTO tiers (name, description, created_at) VALUES ($1, $2, $3)")
        .bind(name.as_str())
        .bind(description)
        .bind(to_db(now))
        .execute(conn)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Constraint { .. } => StoreError::Duplicate { what: "tier", id: name.to_string() },
            other => other,
        })?;
    Ok(())
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Tier>> {
    let rows = sqlx::query("SELECT name, description FROM tiers ORDER BY name").fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get("name")?;
            Ok(Tier {
                name: TierName::parse(&name).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                description: r.try_get("description")?,
            })
        })
        .collect()
}

/// Fails with a message listing the known tiers when `name` is not one of them.
pub async fn ensure_exists(conn: &mut AnyConnection, name: &TierName) -> Result<()> {
    let tiers = list(conn).await?;
    if tiers.iter().any(|t| &t.name == name) {
        return Ok(());
    }
    let known: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
    Err(StoreError::Refused(format!("there is no tier {name}; the tiers are: {}", known.join(", "))))
}

/// Makes the table hold exactly `wanted` (name, description). Refuses, naming them, when a tier to be dropped still
/// has partners.
pub async fn sync(conn: &mut AnyConnection, wanted: &[(TierName, String)], now: Timestamp) -> Result<()> {
    let existing = list(conn).await?;
    for t in existing.iter().filter(|t| !wanted.iter().any(|(n, _)| *n == t.name)) {
        let rows = sqlx::query("SELECT id FROM partners WHERE tier = $1 ORDER BY id LIMIT 5")
            .bind(t.name.as_str())
            .fetch_all(&mut *conn)
            .await?;
        if !rows.is_empty() {
            let ids: Vec<String> = rows.iter().map(|r| r.try_get::<String, _>("id")).collect::<Result<_, _>>()?;
            return Err(StoreError::Refused(format!(
                "the policy drops tier {} but partners are still in it ({}{}); move them to another tier first",
                t.name,
                ids.join(", "),
                if ids.len() == 5 { ", ..." } else { "" }
            )));
        }
        sqlx::query("DELETE FROM tiers WHERE name = $1").bind(t.name.as_str()).execute(&mut *conn).await?;
    }
    for (name, description) in wanted {
        if existing.iter().any(|t| t.name == *name) {
            sqlx::query("UPDATE tiers SET description = $1 WHERE name = $2")
                .bind(description)
                .bind(name.as_str())
                .execute(&mut *conn)
                .await?;
        } else {
            insert(conn, name, description, now).await?;
        }
    }
    Ok(())
}
