//! Partners and their API tokens.

use std::collections::BTreeSet;

use forewarn_core::partner::{parse_contact, parse_partner_flag, parse_partner_name};
use forewarn_core::{CountryCode, Partner, PartnerId, PartnerStatus, TierName, TokenId};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::credentials::{issue_token, IssuedToken, PresentedToken};
use crate::time::{from_db, opt_from_db, to_db};
use crate::{tiers, Result, StoreError};

/// What it takes to add a partner. Build it with [`NewPartner::new`], which validates every field.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub id: PartnerId,
    pub name: String,
    pub country: CountryCode,
    pub tier: TierName,
    pub agreement_expires_at: Option<Timestamp>,
    pub contacts: Vec<String>,
    pub flags: BTreeSet<String>,
}

impl NewPartner {
    /// Validates the fields; the id defaults to the slug of the name.
    pub fn new(
        name: &str,
        id: Option<&str>,
        country: &str,
        tier: &str,
        contacts: &[String],
        flags: &[String],
    ) -> Result<Self> {
        let name = parse_partner_name(name)?;
        let id = match id {
            Some(id) => PartnerId::parse(id)?,
            None => PartnerId::slug_of(&name).ok_or_else(|| {
                StoreError::Refused("the name has too few letters to make a partner id from; give one with --id".into())
            })?,
        };
        Ok(Self {
            id,
            name,
            country: CountryCode::parse(country)?,
            tier: TierName::parse(tier)?,
            agreement_expires_at: None,
            contacts: contacts.iter().map(|c| parse_contact(c)).collect::<Result<_, _>>()?,
            flags: flags.iter().map(|f| parse_partner_flag(f)).collect::<Result<_, _>>()?,
        })
    }
}

/// Names that differ only in case, spacing or punctuation are the same organisation.
fn name_key(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

const COLUMNS: &str = "id, name, country, tier, status, status_reason, status_changed_at, agreement_expires_at, \
                       contacts, flags, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Partner> {
    let corrupt = |e: forewarn_core::Invalid| StoreError::Corrupt(e.to_string());
    let json_list = |col: &str| -> Result<Vec<String>> {
        let text: String = r.try_get(col)?;
        serde_json::from_str(&text).map_err(|_| StoreError::Corrupt(format!("partners.{col} is not a JSON list")))
    };
    Ok(Partner {
        id: PartnerId::parse(&r.try_get::<String, _>("id")?).map_err(corrupt)?,
        name: r.try_get("name")?,
        country: CountryCode::parse(&r.try_get::<String, _>("country")?).map_err(corrupt)?,
        tier: TierName::parse(&r.try_get::<String, _>("tier")?).map_err(corrupt)?,
        status: PartnerStatus::parse(&r.try_get::<String, _>("status")?).map_err(corrupt)?,
        status_reason: r.try_get("status_reason")?,
        status_changed_at: from_db(r.try_get("status_changed_at")?)?,
        agreement_expires_at: opt_from_db(r.try_get("agreement_expires_at")?)?,
        contacts: json_list("contacts")?,
        flags: json_list("flags")?.into_iter().collect(),
        created_at: from_db(r.try_get("created_at")?)?,
    })
}

/// Adds a partner. Refuses a duplicate id or a name that matches an existing partner's, and an unknown tier.
pub async fn insert(conn: &mut AnyConnection, new: &NewPartner, now: Timestamp) -> Result<Partner> {
    if find(conn, &new.id).await?.is_some() {
        return Err(StoreError::Duplicate { what: "partner", id: new.id.to_string() });
    }
    let key = name_key(&new.name);
    let same_name =
        sqlx::query("SELECT id FROM partners WHERE name_key = $1").bind(&key).fetch_optional(&mut *conn).await?;
    if let Some(row) = same_name {
        let other: String = row.try_get("id")?;
        return Err(StoreError::Refused(format!(
            "a partner named {:?} already exists as {other}; partner names must be unique",
            new.name
        )));
    }
    tiers::ensure_exists(conn, &new.tier).await?;
    sqlx::query(&format!(
        "INSERT INTO partners ({COLUMNS}, name_key, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(new.id.as_str())
    .bind(&new.name)
    .bind(new.country.as_str())
    .bind(new.tier.as_str())
    .bind(PartnerStatus::Active.as_str())
    .bind(None::<String>)
    .bind(to_db(now))
    .bind(new.agreement_expires_at.map(to_db))
    .bind(serde_json::to_string(&new.contacts).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&new.flags).unwrap_or_else(|_| "[]".into()))
    .bind(to_db(now))
    .bind(key)
    .bind(to_db(now))
    .execute(conn)
    .await?;
    Ok(Partner {
        id: new.id.clone(),
        name: new.name.clone(),
        country: new.country,
        tier: new.tier.clone(),
        status: PartnerStatus::Active,
        status_reason: None,
        status_changed_at: now,
        agreement_expires_at: new.agreement_expires_at,
        contacts: new.contacts.clone(),
        flags: new.flags.clone(),
        created_at: now,
    })
}

pub async fn find(conn: &mut AnyConnection, id: &PartnerId) -> Result<Option<Partner>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM partners WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: &PartnerId) -> Result<Partner> {
    find(conn, id).await?.ok_or_else(|| StoreError::NotFound { what: "partner", id: id.to_string() })
}

/// Which partners to list; every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub country: Option<CountryCode>,
    pub tier: Option<TierName>,
    pub status: Option<PartnerStatus>,
}

pub async fn list(conn: &mut AnyConnection, filter: &PartnerFilter) -> Result<Vec<Partner>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM partners WHERE ($1 IS NULL OR country = $1) AND ($2 IS NULL OR tier = $2) \
         AND ($3 IS NULL OR status = $3) ORDER BY id"
    ))
    .bind(filter.country.map(|c| c.as_str().to_owned()))
    .bind(filter.tier.as_ref().map(|t| t.as_str().to_owned()))
    .bind(filter.status.map(|s| s.as_str().to_owned()))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Writes back the mutable fields of a partner (status, tier, country, agreement, contacts, flags).
pub async fn update(conn: &mut AnyConnection, p: &Partner, now: Timestamp) -> Result<()> {
    tiers::ensure_exists(conn, &p.tier).await?;
    let done = sqlx::query(
        "UPDATE partners SET status = $1, status_reason = $2, status_changed_at = $3, tier = $4, country = $5, \
         agreement_expires_at = $6, contacts = $7, flags = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(p.status.as_str())
    .bind(p.status_reason.as_deref())
    .bind(to_db(p.status_changed_at))
    .bind(p.tier.as_str())
    .bind(p.country.as_str())
    .bind(p.agreement_expires_at.map(to_db))
    .bind(serde_json::to_string(&p.contacts).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&p.flags).unwrap_or_else(|_| "[]".into()))
    .bind(to_db(now))
    .bind(p.id.as_str())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "partner", id: p.id.to_string() });
    }
    Ok(())
}

/// Changes a partner's status (suspend, reinstate, revoke). Tokens are kept, so that a revoked partner's requests
/// are answered 403 "revoked" rather than an anonymous 401; no new token can be issued to it.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &PartnerId,
    status: PartnerStatus,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<Partner> {
    let mut p = get(conn, id).await?;
    p.change_status(status, reason, now)?;
    update(conn, &p, now).await?;
    Ok(p)
}

/// A stored API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: TokenId,
    pub partner_id: PartnerId,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TokenInfo {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

/// Issues a new token for a partner. The returned text is the only copy of the secret.
pub async fn issue(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    label: &str,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<IssuedToken> {
    let p = get(conn, partner).await?;
    if p.status == PartnerStatus::Revoked {
        return Err(StoreError::Refused(format!("partner {partner} is revoked; it cannot be given tokens")));
    }
    let token = issue_token()?;
    sqlx::query(
        "INSERT INTO partner_tokens (id, partner_id, secret_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id.as_str())
    .bind(partner.as_str())
    .bind(token.secret_hash.to_vec())
    .bind(label)
    .bind(to_db(now))
    .bind(expires_at.map(to_db))
    .execute(conn)
    .await?;
    Ok(token)
}

pub async fn tokens(conn: &mut AnyConnection, partner: &PartnerId) -> Result<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "SELECT id, partner_id, label, created_at, expires_at, revoked_at FROM partner_tokens WHERE partner_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(partner.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let corrupt = |e: forewarn_core::Invalid| StoreError::Corrupt(e.to_string());
            Ok(TokenInfo {
                id: TokenId::parse(&r.try_get::<String, _>("id")?).map_err(corrupt)?,
                partner_id: PartnerId::parse(&r.try_get::<String, _>("partner_id")?).map_err(corrupt)?,
                label: r.try_get("label")?,
                created_at: from_db(r.try_get("created_at")?)?,
                expires_at: opt_from_db(r.try_get("expires_at")?)?,
                revoked_at: opt_from_db(r.try_get("revoked_at")?)?,
            })
        })
        .collect()
}

/// Revokes every live token of a partner at once.
pub async fn revoke_tokens(conn: &mut AnyConnection, partner: &PartnerId, now: Timestamp) -> Result<u64> {
    let done = sqlx::query("UPDATE partner_tokens SET revoked_at = $1 WHERE partner_id = $2 AND revoked_at IS NULL")
        .bind(to_db(now))
        .bind(partner.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Issues a new token and lets the old ones live for `overlap` more (zero: they stop now), so that a partner can
/// switch its systems over without a gap.
pub async fn rotate(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    overlap: jiff::SignedDuration,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<IssuedToken> {
    let until = now.checked_add(overlap).map_err(|_| StoreError::Refused("the overlap is too long".into()))?;
    sqlx::query(
        "UPDATE partner_tokens SET expires_at = $1 WHERE partner_id = $2 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $1)",
    )
    .bind(to_db(until))
    .bind(partner.as_str())
    .execute(&mut *conn)
    .await?;
    issue(conn, partner, "rotated", expires_at, now).await
}

/// Like [`authenticate`], with the partner's IP allow-list, in one query (the request path's hot spot).
pub async fn authenticate_with_allow_list(
    conn: &mut AnyConnection,
    token: &str,
    now: Timestamp,
) -> Result<Option<(Partner, Vec<forewarn_core::IpNet>)>> {
    let Some(presented) = PresentedToken::parse(token) else { return Ok(None) };
    let cols: String = COLUMNS.split(',').map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let row = sqlx::query(&format!(
        "SELECT t.secret_hash, t.expires_at, t.revoked_at, p.ip_allow, {cols} FROM partner_tokens t \
         JOIN partners p ON p.id = t.partner_id WHERE t.id = $1"
    ))
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
    Ok(Some((from_row(&row)?, allow_list(&row)?)))
}

/// Finds the partner a presented token belongs to, if the token is live. The partner's status is not checked
/// here: the caller decides what a suspended partner gets (403, not 401).
pub async fn authenticate(conn: &mut AnyConnection, token: &str, now: Timestamp) -> Result<Option<Partner>> {
    Ok(authenticate_with_allow_list(conn, token, now).await?.map(|(p, _)| p))
}

/// Sets (or with `None` removes) a partner's OpenPGP certificate. The caller has validated it.
pub async fn set_openpgp_key(
    conn: &mut AnyConnection,
    id: &PartnerId,
    armored: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let done = sqlx::query("UPDATE partners SET openpgp_key = $1, updated_at = $2 WHERE id = $3")
        .bind(armored)
        .bind(to_db(now))
        .bind(id.as_str())
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "partner", id: id.to_string() });
    }
    Ok(())
}

pub async fn openpgp_key(conn: &mut AnyConnection, id: &PartnerId) -> Result<Option<String>> {
    let row =
        sqlx::query("SELECT openpgp_key FROM partners WHERE id = $1").bind(id.as_str()).fetch_optional(conn).await?;
    Ok(row.map(|r| r.try_get::<Option<String>, _>("openpgp_key")).transpose()?.flatten())
}

/// Sets a partner's IP allow-list (empty: requests from anywhere).
pub async fn set_ip_allow(
    conn: &mut AnyConnection,
    id: &PartnerId,
    nets: &[forewarn_core::IpNet],
    now: Timestamp,
) -> Result<()> {
    let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
    let done = sqlx::query("UPDATE partners SET ip_allow = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
        .bind(to_db(now))
        .bind(id.as_str())
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "partner", id: id.to_string() });
    }
    Ok(())
}

/// Every token of every partner, with its stored hash (for a server's snapshot).
pub async fn all_tokens(conn: &mut AnyConnection) -> Result<Vec<crate::catalogue::TokenRow>> {
    let rows = sqlx::query(
        "SELECT id, partner_id, label, created_at, expires_at, revoked_at, secret_hash FROM partner_tokens",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let corrupt = |e: forewarn_core::Invalid| StoreError::Corrupt(e.to_string());
            Ok(crate::catalogue::TokenRow {
                info: TokenInfo {
                    id: TokenId::parse(&r.try_get::<String, _>("id")?).map_err(corrupt)?,
                    partner_id: PartnerId::parse(&r.try_get::<String, _>("partner_id")?).map_err(corrupt)?,
                    label: r.try_get("label")?,
                    created_at: from_db(r.try_get("created_at")?)?,
                    expires_at: opt_from_db(r.try_get("expires_at")?)?,
                    revoked_at: opt_from_db(r.try_get("revoked_at")?)?,
                },
                secret_hash: r.try_get("secret_hash")?,
            })
        })
        .collect()
}

/// Every partner with its IP allow-list, in one query.
pub async fn list_with_allow_lists(conn: &mut AnyConnection) -> Result<Vec<(Partner, Vec<forewarn_core::IpNet>)>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS}, ip_allow FROM partners ORDER BY id")).fetch_all(conn).await?;
    rows.iter().map(|r| Ok((from_row(r)?, allow_list(r)?))).collect()
}

/// The `ip_allow` column of a row: a JSON list of networks.
fn allow_list(r: &sqlx::any::AnyRow) -> Result<Vec<forewarn_core::IpNet>> {
    let list: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("ip_allow")?)
        .map_err(|_| StoreError::Corrupt("partners.ip_allow is not a JSON list".into()))?;
    list.iter().map(|n| forewarn_core::IpNet::parse(n).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
}
