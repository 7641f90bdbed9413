//! From the database to a partner's copy: the active policy, the published advisories, the view, and
//! `render_for`. Every partner-facing handler goes through [`copy_for`] or [`listing`]; neither decides visibility —
//! `forewarn_policy::view` does.

use std::sync::{Arc, Mutex};

use forewarn_core::{Advisory, AdvisoryId, AdvisoryState, Partner, SectionKind};
use forewarn_policy::{view, AdvisoryFacts, Policy, View};
use forewarn_render::{render_for, Content, Personalised};
use forewarn_store::advisories::{self, Outline};
use forewarn_store::{policies, AnyConnection, Store};
use jiff::Timestamp;

use crate::ApiError;

/// The parsed active policy, re-read whenever the database holds a newer version. Safe with several servers: the
/// database says which version is current on every request; only the parse is cached.
#[derive(Debug, Default)]
pub struct PolicyCache {
    current: Mutex<Option<(i64, String, Arc<Policy>)>>,
}

impl PolicyCache {
    pub async fn get(&self, conn: &mut AnyConnection) -> Result<Arc<Policy>, ApiError> {
        let Some((version, sha)) = policies::active_version(conn).await? else {
            tracing::error!("no policy is set; partners see nothing until one is");
            return Err(ApiError::Internal);
        };
        if let Ok(guard) = self.current.lock() {
            if let Some((v, s, p)) = guard.as_ref() {
                if *v == version && *s == sha {
                    return Ok(p.clone());
                }
            }
        }
        let stored = policies::get(conn, version).await?;
        let policy = Arc::new(Policy::parse(&stored.body).map_err(|e| {
            tracing::error!(version, error = %e, "the active policy does not parse");
            ApiError::Internal
        })?);
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some((version, sha, policy.clone()));
        }
        Ok(policy)
    }
}

/// An advisory that partners can be given: scheduled, with an approved revision.
#[derive(Debug)]
pub struct Published {
    pub advisory: Advisory,
    pub outline: Outline,
}

impl Published {
    pub fn facts(&self) -> AdvisoryFacts<'_> {
        AdvisoryFacts { advisory: &self.advisory, meta: &self.outline.meta, sections: &self.outline.sections }
    }
}

async fn published_one(
    store: &Store,
    conn: &mut AnyConnection,
    advisory: Advisory,
) -> Result<Option<Published>, ApiError> {
    let Some(number) = advisory.approved_revision else { return Ok(None) };
    if advisory.state != AdvisoryState::Scheduled {
        return Ok(None);
    }
    let outline = advisories::outline(conn, store.master_key()?, &advisory.id, number).await?;
    Ok(Some(Published { advisory, outline }))
}

/// Every published advisory, by id.
pub async fn published(store: &Store, conn: &mut AnyConnection) -> Result<Vec<Published>, ApiError> {
    let mut out = Vec::new();
    for a in advisories::list(conn).await? {
        if let Some(p) = published_one(store, conn, a).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// A listing entry: the view of one advisory, and its copy's metadata.
#[derive(Debug)]
pub struct Listed {
    pub published: Published,
    pub view: View,
    /// When the partner's copy last changed: a section became visible, or a later revision was approved.
    pub updated: Timestamp,
}

/// The advisories a partner may see now, each with its view. Absent: every advisory the view hides entirely.
pub async fn listing(
    store: &Store,
    conn: &mut AnyConnection,
    policy: &Policy,
    partner: &Partner,
    now: Timestamp,
) -> Result<Vec<Listed>, ApiError> {
    let mut out = Vec::new();
    for p in published(store, conn).await? {
        let v = view(policy, partner, &p.facts(), now);
        if !v.is_visible() {
            continue;
        }
        let first = v.decisions.iter().filter_map(|d| d.visibility.time()).filter(|t| *t <= now).min();
        let mut updated = v.last_change().unwrap_or(now);
        if let (Some(approved), Some(first)) = (p.outline.approved_at, first) {
            if p.outline.number > 1 && approved > first && approved <= now {
                updated = updated.max(approved);
            }
        }
        out.push(Listed { published: p, view: v, updated });
    }
    Ok(out)
}

/// The copy of one advisory for a partner, or `None` when it does not exist for that partner (unknown id, not
/// published, or nothing visible yet): the caller answers 404 in every one of those cases alike.
pub async fn copy_for(
    store: &Store,
    conn: &mut AnyConnection,
    policy: &Policy,
    partner: &Partner,
    id: &str,
    now: Timestamp,
) -> Result<Option<Personalised>, ApiError> {
    let Ok(id) = AdvisoryId::parse(id) else { return Ok(None) };
    let Some(advisory) = advisories::find(conn, &id).await? else { return Ok(None) };
    let Some(p) = published_one(store, conn, advisory).await? else { return Ok(None) };
    let v = view(policy, partner, &p.facts(), now);
    if !v.is_visible() {
        return Ok(None);
    }
    // Open only what the view shows.
    let (sections, attachments) =
        advisories::sections(conn, store.master_key()?, &id, p.outline.number, &v.visible, v.shows(SectionKind::Poc))
            .await?;
    let content = Content {
        number: p.outline.number,
        meta: &p.outline.meta,
        sections: &sections,
        attachments: &attachments,
        approved_at: p.outline.approved_at,
    };
    Ok(render_for(partner, &p.advisory, content, &v, now))
}
