//! Advisories, their revisions, sections and attachments. Content is sealed with the advisory's data key before
//! it is written and opened after it is read (see [`crate::crypto`]); lifecycle rules come from
//! `forewarn_core::advisory` and are only persisted here.

use forewarn_core::{
    Advisory, AdvisoryFlag, AdvisoryId, AdvisoryState, Attachment, CveId, Cvss, CweId, Product, RevisionMeta,
    SectionKind, Sections, Username,
};
use jiff::Timestamp;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::crypto::{DataKey, MasterKey};
use crate::time::{from_db, opt_from_db, to_db};
use crate::{Result, StoreError};

/// The content of one revision, as written by its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub meta: RevisionMeta,
    pub sections: Sections,
    pub attachments: Vec<Attachment>,
}

/// A stored revision with its content opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub advisory_id: AdvisoryId,
    pub number: u32,
    pub content: Content,
    pub author: Username,
    pub note: String,
    pub created_at: Timestamp,
    pub approved_by: Option<Username>,
    pub approved_at: Option<Timestamp>,
}

fn corrupt(e: forewarn_core::Invalid) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn meta_to_json(meta: &RevisionMeta) -> Vec<u8> {
    json!({
        "title": meta.title,
        "products": meta.products.iter().map(|p| json!({"name": p.name, "versions": p.versions})).collect::<Vec<_>>(),
        "cvss": meta.cvss.as_ref().map(Cvss::vector),
        "cwe": meta.cwe.as_ref().map(CweId::as_str),
        "cves": meta.cves.iter().map(CveId::as_str).collect::<Vec<_>>(),
        "flags": meta.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "marking": meta.marking,
    })
    .to_string()
    .into_bytes()
}

fn meta_from_json(bytes: &[u8]) -> Result<RevisionMeta> {
    let bad = || StoreError::Corrupt("revision metadata does not have the expected shape".into());
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| bad())?;
    let strs = |key: &str| -> Result<Vec<String>> {
        v[key].as_array().ok_or_else(bad)?.iter().map(|s| s.as_str().map(str::to_owned).ok_or_else(bad)).collect()
    };
    let products = v["products"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|p| {
            let versions = p["versions"]
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            Product::new(p["name"].as_str().ok_or_else(bad)?, versions).map_err(corrupt)
        })
        .collect::<Result<_>>()?;
    Ok(RevisionMeta {
        title: v["title"].as_str().ok_or_else(bad)?.to_owned(),
        products,
        cvss: v["cvss"].as_str().map(Cvss::parse).transpose().map_err(corrupt)?,
        cwe: v["cwe"].as_str().map(CweId::parse).transpose().map_err(corrupt)?,
        cves: strs("cves")?.iter().map(|s| CveId::parse(s)).collect::<Result<_, _>>().map_err(corrupt)?,
        flags: strs("flags")?.iter().map(|s| AdvisoryFlag::parse(s)).collect::<Result<_, _>>().map_err(corrupt)?,
        marking: v["marking"].as_u64().map_or(Ok(1), u16::try_from).map_err(|_| bad())?,
    })
}

const COLUMNS: &str =
    "id, state, release_at, current_revision, approved_revision, created_by, created_at, updated_at, \
                       withdrawn_reason";

fn revision_number(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("revision number {v} is out of range")))
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Advisory> {
    Ok(Advisory {
        id: AdvisoryId::parse(&r.try_get::<String, _>("id")?).map_err(corrupt)?,
        state: AdvisoryState::parse(&r.try_get::<String, _>("state")?).map_err(corrupt)?,
        release_at: opt_from_db(r.try_get("release_at")?)?,
        current_revision: revision_number(r.try_get("current_revision")?)?,
        approved_revision: r.try_get::<Option<i64>, _>("approved_revision")?.map(revision_number).transpose()?,
        created_by: Username::parse(&r.try_get::<String, _>("created_by")?).map_err(corrupt)?,
        created_at: from_db(r.try_get("created_at")?)?,
        updated_at: from_db(r.try_get("updated_at")?)?,
        withdrawn_reason: r.try_get("withdrawn_reason")?,
    })
}

pub async fn find(conn: &mut AnyConnection, id: &AdvisoryId) -> Result<Option<Advisory>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM advisories WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: &AdvisoryId) -> Result<Advisory> {
    find(conn, id).await?.ok_or_else(|| StoreError::NotFound { what: "advisory", id: id.to_string() })
}

/// Every advisory, by id.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Advisory>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM advisories ORDER BY id")).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// The next free `ADV-YYYY-NNNN` for the year of `now`.
pub async fn next_id(conn: &mut AnyConnection, now: Timestamp) -> Result<AdvisoryId> {
    let year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
    let prefix = format!("ADV-{year:04}-");
    let rows =
        sqlx::query("SELECT id FROM advisories WHERE id LIKE $1").bind(format!("{prefix}%")).fetch_all(conn).await?;
    let mut highest = 0u32;
    for r in &rows {
        let id: String = r.try_get("id")?;
        if let Some(n) = id.strip_prefix(&prefix).and_then(|n| n.parse::<u32>().ok()) {
            highest = highest.max(n);
        }
    }
    Ok(AdvisoryId::numbered(year, highest + 1))
}

async fn data_key(conn: &mut AnyConnection, key: &MasterKey, id: &AdvisoryId) -> Result<DataKey> {
    let row = sqlx::query("SELECT key_id, wrapped_key FROM advisories WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "advisory", id: id.to_string() })?;
    let key_id: String = row.try_get("key_id")?;
    let wrapped: Vec<u8> = row.try_get("wrapped_key")?;
    Ok(key.unwrap(id.as_str(), &key_id, &wrapped)?)
}

/// Who wrote a revision, why, and when.
struct Stamp<'a> {
    author: &'a Username,
    note: &'a str,
    at: Timestamp,
}

async fn write_revision(
    conn: &mut AnyConnection,
    dk: &DataKey,
    id: &AdvisoryId,
    number: u32,
    content: &Content,
    stamp: Stamp<'_>,
) -> Result<()> {
    let Stamp { author, note, at: now } = stamp;
    let aid = id.as_str();
    sqlx::query(
        "INSERT INTO advisory_revisions (advisory_id, revision, meta_ct, author, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(aid)
    .bind(i64::from(number))
    .bind(dk.seal(aid, number, "meta", &meta_to_json(&content.meta))?)
    .bind(author.as_str())
    .bind(note)
    .bind(to_db(now))
    .execute(&mut *conn)
    .await?;
    for (kind, body) in content.sections.iter() {
        sqlx::query("INSERT INTO advisory_sections (advisory_id, revision, kind, body_ct) VALUES ($1, $2, $3, $4)")
            .bind(aid)
            .bind(i64::from(number))
            .bind(kind.as_str())
            .bind(dk.seal(aid, number, &format!("section:{kind}"), body.as_bytes())?)
            .execute(&mut *conn)
            .await?;
    }
    for a in &content.attachments {
        sqlx::query(
            "INSERT INTO advisory_attachments (advisory_id, revision, name, media_type, size, body_ct) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(aid)
        .bind(i64::from(number))
        .bind(&a.name)
        .bind(&a.media_type)
        .bind(i64::try_from(a.bytes.len()).unwrap_or(i64::MAX))
        .bind(dk.seal(aid, number, &format!("attachment:{}", a.name), &a.bytes)?)
        .execute(&mut *conn)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Constraint { .. } => {
                StoreError::Refused(format!("two attachments are named {}; attachment names must be unique", a.name))
            }
            other => other,
        })?;
    }
    Ok(())
}

/// Creates an advisory in `draft` with its first revision. `id` defaults to the next free number.
pub async fn create(
    conn: &mut AnyConnection,
    key: &MasterKey,
    id: Option<AdvisoryId>,
    content: &Content,
    author: &Username,
    now: Timestamp,
) -> Result<Advisory> {
    let id = match id {
        Some(id) => id,
        None => next_id(conn, now).await?,
    };
    if find(conn, &id).await?.is_some() {
        return Err(StoreError::Duplicate { what: "advisory", id: id.to_string() });
    }
    let dk = DataKey::generate()?;
    let advisory = Advisory {
        id: id.clone(),
        state: AdvisoryState::Draft,
        release_at: None,
        current_revision: 1,
        approved_revision: None,
        created_by: author.clone(),
        created_at: now,
        updated_at: now,
        withdrawn_reason: None,
    };
    sqlx::query(&format!(
        "INSERT INTO advisories ({COLUMNS}, key_id, wrapped_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(id.as_str())
    .bind(advisory.state.as_str())
    .bind(None::<i64>)
    .bind(1i64)
    .bind(None::<i64>)
    .bind(author.as_str())
    .bind(to_db(now))
    .bind(to_db(now))
    .bind(None::<String>)
    .bind(key.id())
    .bind(key.wrap(id.as_str(), &dk)?)
    .execute(&mut *conn)
    .await?;
    write_revision(conn, &dk, &id, 1, content, Stamp { author, note: "created", at: now }).await?;
    Ok(advisory)
}

/// Writes back an advisory's lifecycle fields after a step from `forewarn_core::advisory`.
pub async fn save_lifecycle(conn: &mut AnyConnection, a: &Advisory) -> Result<()> {
    let done = sqlx::query(
        "UPDATE advisories SET state = $1, release_at = $2, current_revision = $3, approved_revision = $4, \
         updated_at = $5, withdrawn_reason = $6 WHERE id = $7",
    )
    .bind(a.state.as_str())
    .bind(a.release_at.map(to_db))
    .bind(i64::from(a.current_revision))
    .bind(a.approved_revision.map(i64::from))
    .bind(to_db(a.updated_at))
    .bind(a.withdrawn_reason.as_deref())
    .bind(a.id.as_str())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "advisory", id: a.id.to_string() });
    }
    Ok(())
}

/// Adds a revision with new content; it awaits approval while the last approved one stays in force.
pub async fn revise(
    conn: &mut AnyConnection,
    key: &MasterKey,
    id: &AdvisoryId,
    content: &Content,
    author: &Username,
    note: &str,
    now: Timestamp,
) -> Result<Advisory> {
    let mut a = get(conn, id).await?;
    let number = a.revise(now)?;
    let dk = data_key(conn, key, id).await?;
    write_revision(conn, &dk, id, number, content, Stamp { author, note, at: now }).await?;
    save_lifecycle(conn, &a).await?;
    Ok(a)
}

/// Approves the newest revision; the approver must not be its author.
pub async fn approve(
    conn: &mut AnyConnection,
    id: &AdvisoryId,
    approver: &Username,
    now: Timestamp,
) -> Result<Advisory> {
    let mut a = get(conn, id).await?;
    let row = sqlx::query("SELECT author FROM advisory_revisions WHERE advisory_id = $1 AND revision = $2")
        .bind(id.as_str())
        .bind(i64::from(a.current_revision))
        .fetch_one(&mut *conn)
        .await?;
    let author = Username::parse(&row.try_get::<String, _>("author")?).map_err(corrupt)?;
    let number = a.approve(&author, approver, now)?;
    sqlx::query(
        "UPDATE advisory_revisions SET approved_by = $1, approved_at = $2 WHERE advisory_id = $3 AND revision = $4",
    )
    .bind(approver.as_str())
    .bind(to_db(now))
    .bind(id.as_str())
    .bind(i64::from(number))
    .execute(&mut *conn)
    .await?;
    save_lifecycle(conn, &a).await?;
    Ok(a)
}

/// Reads and opens one revision.
pub async fn revision(conn: &mut AnyConnection, key: &MasterKey, id: &AdvisoryId, number: u32) -> Result<Revision> {
    let aid = id.as_str();
    let rev = i64::from(number);
    let row = sqlx::query(
        "SELECT meta_ct, author, note, created_at, approved_by, approved_at FROM advisory_revisions \
         WHERE advisory_id = $1 AND revision = $2",
    )
    .bind(aid)
    .bind(rev)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound { what: "revision", id: format!("{id} r{number}") })?;
    let dk = data_key(conn, key, id).await?;
    let meta = meta_from_json(&dk.open(aid, number, "meta", &row.try_get::<Vec<u8>, _>("meta_ct")?)?)?;
    let mut sections = Sections::new();
    let rows = sqlx::query("SELECT kind, body_ct FROM advisory_sections WHERE advisory_id = $1 AND revision = $2")
        .bind(aid)
        .bind(rev)
        .fetch_all(&mut *conn)
        .await?;
    for r in &rows {
        let kind = SectionKind::parse(&r.try_get::<String, _>("kind")?).map_err(corrupt)?;
        let plain = dk.open(aid, number, &format!("section:{kind}"), &r.try_get::<Vec<u8>, _>("body_ct")?)?;
        let body =
            std::str::from_utf8(&plain).map_err(|_| StoreError::Corrupt(format!("{kind} of {id} is not UTF-8")))?;
        sections.set(kind, body).map_err(corrupt)?;
    }
    let rows = sqlx::query(
        "SELECT name, body_ct FROM advisory_attachments WHERE advisory_id = $1 AND revision = $2 ORDER BY name",
    )
    .bind(aid)
    .bind(rev)
    .fetch_all(&mut *conn)
    .await?;
    let mut attachments = Vec::with_capacity(rows.len());
    for r in &rows {
        let name: String = r.try_get("name")?;
        let plain = dk.open(aid, number, &format!("attachment:{name}"), &r.try_get::<Vec<u8>, _>("body_ct")?)?;
        attachments.push(Attachment::new(&name, plain.to_vec()).map_err(corrupt)?);
    }
    let approved_by: Option<String> = row.try_get("approved_by")?;
    Ok(Revision {
        advisory_id: id.clone(),
        number,
        content: Content { meta, sections, attachments },
        author: Username::parse(&row.try_get::<String, _>("author")?).map_err(corrupt)?,
        note: row.try_get("note")?,
        created_at: from_db(row.try_get("created_at")?)?,
        approved_by: approved_by.as_deref().map(Username::parse).transpose().map_err(corrupt)?,
        approved_at: opt_from_db(row.try_get("approved_at")?)?,
    })
}

/// What a revision is about without its bodies: the metadata (opened), which sections it has, and when it was
/// approved. Cheap enough for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    pub number: u32,
    pub meta: RevisionMeta,
    pub sections: Vec<SectionKind>,
    pub approved_at: Option<Timestamp>,
}

pub async fn outline(conn: &mut AnyConnection, key: &MasterKey, id: &AdvisoryId, number: u32) -> Result<Outline> {
    let aid = id.as_str();
    let row =
        sqlx::query("SELECT meta_ct, approved_at FROM advisory_revisions WHERE advisory_id = $1 AND revision = $2")
            .bind(aid)
            .bind(i64::from(number))
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "revision", id: format!("{id} r{number}") })?;
    let dk = data_key(conn, key, id).await?;
    let meta = meta_from_json(&dk.open(aid, number, "meta", &row.try_get::<Vec<u8>, _>("meta_ct")?)?)?;
    let kinds = sqlx::query("SELECT kind FROM advisory_sections WHERE advisory_id = $1 AND revision = $2")
        .bind(aid)
        .bind(i64::from(number))
        .fetch_all(&mut *conn)
        .await?;
    let mut sections = kinds
        .iter()
        .map(|r| SectionKind::parse(&r.try_get::<String, _>("kind")?).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    sections.sort();
    Ok(Outline { number, meta, sections, approved_at: opt_from_db(row.try_get("approved_at")?)? })
}

/// Opens only the named sections of a revision (and its attachments when `with_attachments`): a delivery path
/// never decrypts what it may not serve.
pub async fn sections(
    conn: &mut AnyConnection,
    key: &MasterKey,
    id: &AdvisoryId,
    number: u32,
    kinds: &[SectionKind],
    with_attachments: bool,
) -> Result<(Sections, Vec<Attachment>)> {
    let aid = id.as_str();
    let dk = data_key(conn, key, id).await?;
    let mut out = Sections::new();
    for kind in kinds {
        let row =
            sqlx::query("SELECT body_ct FROM advisory_sections WHERE advisory_id = $1 AND revision = $2 AND kind = $3")
                .bind(aid)
                .bind(i64::from(number))
                .bind(kind.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(r) = row {
            let plain = dk.open(aid, number, &format!("section:{kind}"), &r.try_get::<Vec<u8>, _>("body_ct")?)?;
            let body =
                std::str::from_utf8(&plain).map_err(|_| StoreError::Corrupt(format!("{kind} of {id} is not UTF-8")))?;
            out.set(*kind, body).map_err(corrupt)?;
        }
    }
    let mut attachments = Vec::new();
    if with_attachments {
        let rows = sqlx::query(
            "SELECT name, body_ct FROM advisory_attachments WHERE advisory_id = $1 AND revision = $2 ORDER BY name",
        )
        .bind(aid)
        .bind(i64::from(number))
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let name: String = r.try_get("name")?;
            let plain = dk.open(aid, number, &format!("attachment:{name}"), &r.try_get::<Vec<u8>, _>("body_ct")?)?;
            attachments.push(Attachment::new(&name, plain.to_vec()).map_err(corrupt)?);
        }
    }
    Ok((out, attachments))
}

/// The ids of the master keys that wrap data keys, with how many each wraps.
pub async fn key_ids(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT key_id, COUNT(*) AS n FROM advisories GROUP BY key_id ORDER BY key_id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("key_id")?, r.try_get("n")?))).collect()
}

/// Re-wraps every data key from `old` to `new`. Content is not re-encrypted: it is sealed with the data keys,
/// which do not change. Returns how many keys were re-wrapped.
pub async fn rewrap_all(conn: &mut AnyConnection, old: &MasterKey, new: &MasterKey) -> Result<u64> {
    let rows = sqlx::query("SELECT id, key_id, wrapped_key FROM advisories ORDER BY id").fetch_all(&mut *conn).await?;
    let mut count = 0;
    for r in &rows {
        let id: String = r.try_get("id")?;
        let key_id: String = r.try_get("key_id")?;
        if key_id == new.id() {
            continue;
        }
        let dk = old.unwrap(&id, &key_id, &r.try_get::<Vec<u8>, _>("wrapped_key")?)?;
        sqlx::query("UPDATE advisories SET key_id = $1, wrapped_key = $2 WHERE id = $3")
            .bind(new.id())
            .bind(new.wrap(&id, &dk)?)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        count += 1;
    }
    Ok(count)
}
