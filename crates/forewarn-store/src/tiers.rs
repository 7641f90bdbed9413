//! Tiers known to the program. The policy engine decides what each tier sees; this table only says which tier
//! names exist, so that a partner cannot be put in a tier that does not.

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

/// The tiers `forewarn init` creates, modelled on MAPP's.
pub fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("validate", "Validation partners: every section, proof-of-concept included, ahead of release"),
        ("ans", "Active protection partners: detection guidance and technical details ahead of release"),
        ("entry", "Entry-level partners: summary, detection and mitigation shortly before release"),
    ]
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
