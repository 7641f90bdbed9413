//! The record of every copy of advisory content served to a partner: who received what, when, through which
//! channel, and the digest of the exact bytes. Append-only. The transparency log (a later issue) turns these records
//! into log entries.

use forewarn_core::{AdvisoryId, PartnerId, SectionKind};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::time::{from_db, to_db};
use crate::{Result, StoreError};

/// How a copy travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Api,
    Csaf,
    Bundle,
    Web,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Csaf => "csaf",
            Self::Bundle => "bundle",
            Self::Web => "web",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub seq: i64,
    pub at: Timestamp,
    pub partner_id: String,
    pub advisory_id: String,
    pub revision: u32,
    pub sections: Vec<String>,
    pub channel: String,
    /// SHA-256 of the bytes served, hex.
    pub digest: String,
}

/// A copy about to be served.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    pub at: Timestamp,
    pub partner: &'a PartnerId,
    pub advisory: &'a AdvisoryId,
    pub revision: u32,
    pub sections: &'a [SectionKind],
    pub channel: Channel,
    /// SHA-256 of the bytes to be served, hex.
    pub digest: &'a str,
    /// SHA-256 of the copy's fingerprint codeword, hex (kept in the transparency log's event).
    pub codeword: Option<&'a str>,
}

/// Rows written by one statement of [`record_all`] (7 parameters each; well under every backend's limit).
const ROWS_PER_STATEMENT: usize = 128;

/// Records copies, in order, with one statement per [`ROWS_PER_STATEMENT`] rows (the server's group commit writes a
/// batch at once, not a round trip per record). Call it in the transaction that decides to serve them, and serve
/// only after it commits.
pub async fn record_all(conn: &mut AnyConnection, all: &[NewDelivery<'_>]) -> Result<()> {
    for chunk in all.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO deliveries (at, partner_id, advisory_id, revision, sections, channel, digest) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
        }
        let mut q = sqlx::query(&sql);
        for d in chunk {
            let names: Vec<&str> = d.sections.iter().map(|s| s.as_str()).collect();
            q = q
                .bind(to_db(d.at))
                .bind(d.partner.as_str())
                .bind(d.advisory.as_str())
                .bind(i64::from(d.revision))
                .bind(names.join(","))
                .bind(d.channel.as_str())
                .bind(d.digest);
        }
        q.execute(&mut *conn).await?;
    }
    // Each copy is also an event of the transparency log, in the same transaction.
    let events: Vec<crate::log::NewEvent<'_>> = all
        .iter()
        .map(|d| crate::log::NewEvent {
            at: d.at,
            kind: "delivery",
            partner: Some(d.partner.as_str()),
            body: serde_json::json!({
                "type": "delivery",
                "at": d.at.to_string(),
                "partner": d.partner.as_str(),
                "advisory": d.advisory.as_str(),
                "revision": d.revision,
                "sections": d.sections.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "channel": d.channel.as_str(),
                "sha256": d.digest,
                "codeword": d.codeword,
            })
            .to_string(),
        })
        .collect();
    crate::log::append(conn, &events).await
}

/// Deliveries, newest first, filtered by partner and/or advisory.
pub async fn list(
    conn: &mut AnyConnection,
    partner: Option<&str>,
    advisory: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT seq, at, partner_id, advisory_id, revision, sections, channel, digest FROM deliveries \
         WHERE ($1 IS NULL OR partner_id = $1) AND ($2 IS NULL OR advisory_id = $2) ORDER BY seq DESC LIMIT $3",
    )
    .bind(partner)
    .bind(advisory)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let sections: String = r.try_get("sections")?;
            let revision: i64 = r.try_get("revision")?;
            Ok(Delivery {
                seq: r.try_get("seq")?,
                at: from_db(r.try_get("at")?)?,
                partner_id: r.try_get("partner_id")?,
                advisory_id: r.try_get("advisory_id")?,
                revision: u32::try_from(revision).map_err(|_| StoreError::Corrupt("revision out of range".into()))?,
                sections: sections.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                channel: r.try_get("channel")?,
                digest: r.try_get("digest")?,
            })
        })
        .collect()
}
