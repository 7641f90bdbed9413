//! The record of every copy of advisory content served to a partner: who received what, when, through which
//! channel, and the digest of the exact bytes. Each record is an event of the transparency log (kind `delivery`),
//! append-only like every event, and becomes a log entry when the sequencer integrates it.

use std::borrow::Cow;

use forewarn_core::{AdvisoryId, PartnerId, SectionKind};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::time::from_db;
use crate::{Result, Store, StoreError};

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

/// Records copies, in order: each is an event of the transparency log (kind `delivery`), written in the caller's
/// transaction — call it in the transaction that decides to serve them, and serve only after it commits. The event
/// is the one record of a delivery (see migration 0012).
pub async fn record_all(conn: &mut AnyConnection, all: &[NewDelivery<'_>]) -> Result<()> {
    crate::log::append(conn, &events(all)?).await
}

/// Records copies decided on catalogue `version`, in a transaction of their own, if and only if that is still the
/// catalogue's version; returns the catalogue's version (nothing was written when it differs). The delivery
/// recorder's commit: see `log::append_if_current`.
pub async fn record_if_current(store: &Store, version: i64, all: &[NewDelivery<'_>]) -> Result<i64> {
    crate::log::append_if_current(store, version, &events(all)?).await
}

fn events<'a>(all: &[NewDelivery<'a>]) -> Result<Vec<crate::log::NewEvent<'a>>> {
    let mut events = Vec::with_capacity(all.len());
    for d in all {
        let body = Body {
            advisory: d.advisory.as_str().into(),
            at: d.at.to_string(),
            channel: d.channel.as_str().into(),
            codeword: d.codeword.map(Into::into),
            partner: d.partner.as_str().into(),
            revision: d.revision,
            sections: d.sections.iter().map(|s| s.as_str().into()).collect(),
            sha256: d.digest.into(),
            type_: "delivery".into(),
        };
        events.push(crate::log::NewEvent {
            at: d.at,
            kind: "delivery",
            partner: Some(d.partner.as_str()),
            advisory: Some(d.advisory.as_str()),
            body: serde_json::to_string(&body)
                .map_err(|e| StoreError::Corrupt(format!("a delivery record does not serialise: {e}")))?,
        });
    }
    Ok(events)
}

/// A delivery event's body, its keys sorted: the form release builds have always written (a `serde_json::Value` map
/// sorts its keys unless serde_json's `preserve_order` is on, which only a test dependency turns on). The commitment
/// covers these exact bytes, so the form is kept stable whatever the build.
#[derive(serde::Serialize, serde::Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    advisory: Cow<'a, str>,
    at: String,
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(borrow)]
    codeword: Option<Cow<'a, str>>,
    #[serde(borrow)]
    partner: Cow<'a, str>,
    revision: u32,
    #[serde(borrow)]
    sections: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    sha256: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    type_: Cow<'a, str>,
}

/// Deliveries, newest first, filtered by partner and/or advisory: the delivery events, then the records written
/// before the transparency log existed (migration 0012), which are older than any event. `seq` is the event's
/// sequence number, or for those older records their own.
pub async fn list(
    conn: &mut AnyConnection,
    partner: Option<&str>,
    advisory: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    // One statement per filter, so that each uses its index (`log::newest_by` for the events).
    let filter = |prefix: &str| match (partner, advisory) {
        (Some(_), Some(_)) => format!("AND {prefix}partner_id = $1 AND {prefix}advisory_id = $2"),
        (Some(_), None) => format!("AND {prefix}partner_id = $1"),
        (None, Some(_)) => format!("AND {prefix}advisory_id = $1"),
        (None, None) => String::new(),
    };
    let limit_param = 1 + usize::from(partner.is_some()) + usize::from(advisory.is_some());
    let columns = "seq, at, body";
    let sql = match (partner, advisory) {
        (None, None) => {
            format!("SELECT {columns} FROM log_events WHERE kind = 'delivery' ORDER BY seq DESC LIMIT ${limit_param}")
        }
        (Some(_), Some(_)) => crate::log::newest_by(
            conn,
            columns,
            "partner_id",
            "AND advisory_id = $2 AND kind = 'delivery'",
            limit_param,
        ),
        (Some(_), None) => crate::log::newest_by(conn, columns, "partner_id", "AND kind = 'delivery'", limit_param),
        (None, Some(_)) => crate::log::newest_by(conn, columns, "advisory_id", "AND kind = 'delivery'", limit_param),
    };
    let mut q = sqlx::query(&sql);
    for v in [partner, advisory].into_iter().flatten() {
        q = q.bind(v);
    }
    let rows = q.bind(limit).fetch_all(&mut *conn).await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let seq: i64 = r.try_get("seq")?;
            let text: String = r.try_get("body")?;
            let body: Body<'_> = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("delivery event {seq} does not parse: {e}")))?;
            Ok(Delivery {
                seq,
                at: from_db(r.try_get("at")?)?,
                partner_id: body.partner.into_owned(),
                advisory_id: body.advisory.into_owned(),
                revision: body.revision,
                sections: body.sections.into_iter().map(Cow::into_owned).collect(),
                channel: body.channel.into_owned(),
                digest: body.sha256.into_owned(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let rest = limit - out.len() as i64;
    if rest <= 0 {
        return Ok(out);
    }
    let sql = format!(
        "SELECT d.seq, d.at, d.partner_id, d.advisory_id, d.revision, d.sections, d.channel, d.digest \
         FROM deliveries d JOIN deliveries_without_event w ON w.seq = d.seq WHERE 1 = 1 {} \
         ORDER BY d.seq DESC LIMIT ${limit_param}",
        filter("d.")
    );
    let mut q = sqlx::query(&sql);
    for v in [partner, advisory].into_iter().flatten() {
        q = q.bind(v);
    }
    for r in q.bind(rest).fetch_all(&mut *conn).await? {
        let sections: String = r.try_get("sections")?;
        let revision: i64 = r.try_get("revision")?;
        out.push(Delivery {
            seq: r.try_get("seq")?,
            at: from_db(r.try_get("at")?)?,
            partner_id: r.try_get("partner_id")?,
            advisory_id: r.try_get("advisory_id")?,
            revision: u32::try_from(revision).map_err(|_| StoreError::Corrupt("revision out of range".into()))?,
            sections: sections.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            channel: r.try_get("channel")?,
            digest: r.try_get("digest")?,
        });
    }
    Ok(out)
}
