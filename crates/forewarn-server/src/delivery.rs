//! From the database to a partner's copy: the active policy, the published advisories, the view, and
//! `render_for`. Every partner-facing handler goes through [`copy_for`] or [`listing`]; neither decides visibility —
//! `forewarn_policy::view` does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use forewarn_core::{Advisory, AdvisoryId, AdvisoryState, Partner, SectionKind};
use forewarn_policy::{view, AdvisoryFacts, Policy, View};
use forewarn_render::{render_for, Content, Personalised};
use forewarn_store::advisories::{self, Outline};
use forewarn_store::{AnyConnection, Store};
use jiff::Timestamp;

use crate::ApiError;

/// The current state of everything that decides what partners see: partners (with allow-lists), tokens,
/// advisories and the parsed active policy. Rebuilt from the database whenever the change counter (bumped by
/// database triggers on every change to those tables, by any process) moved. Partner reads decide on the latest
/// snapshot without a query and have the decision confirmed at the commit point (`recorder`), which reads the counter
/// once for a whole batch; other callers use [`Catalogue::get`], which checks the counter first. Either way a change
/// committed anywhere, by any server or the CLI, is seen by the next request.
#[derive(Debug)]
pub struct Current {
    pub version: i64,
    pub policy: Arc<Policy>,
    pub partners: HashMap<String, (Partner, Vec<forewarn_core::IpNet>)>,
    pub tokens: HashMap<String, forewarn_store::catalogue::TokenRow>,
    pub advisories: Vec<Advisory>,
}

impl Current {
    pub fn advisory(&self, id: &str) -> Option<&Advisory> {
        self.advisories.iter().find(|a| a.id.as_str() == id)
    }
}

#[derive(Debug, Default)]
pub struct Catalogue {
    current: std::sync::RwLock<Option<Arc<Current>>>,
}

impl Catalogue {
    /// The latest snapshot this server holds, without checking that it is still current: only for decisions that
    /// are then confirmed by `Recorder::confirm`. Loads one on first use.
    pub async fn latest(&self, store: &Store) -> Result<Arc<Current>, ApiError> {
        if let Some(c) = self.current.read().ok().and_then(|c| c.clone()) {
            return Ok(c);
        }
        self.get(&mut *store.conn().await?).await
    }

    /// The current snapshot, checked with one query (and reloaded when it moved).
    pub async fn get(&self, conn: &mut AnyConnection) -> Result<Arc<Current>, ApiError> {
        let version = forewarn_store::catalogue::version(conn).await?;
        if let Some(c) = self.current.read().ok().and_then(|c| c.clone()) {
            if c.version == version {
                return Ok(c);
            }
        }
        let snap = forewarn_store::catalogue::load(conn).await?;
        let Some(stored) = snap.policy else {
            tracing::error!("no policy is set; partners see nothing until one is");
            return Err(ApiError::Internal);
        };
        let policy = Arc::new(Policy::parse(&stored.body).map_err(|e| {
            tracing::error!(version = stored.version, error = %e, "the active policy does not parse");
            ApiError::Internal
        })?);
        let current = Arc::new(Current {
            version: snap.version,
            policy,
            partners: snap.partners.into_iter().map(|(p, n)| (p.id.to_string(), (p, n))).collect(),
            tokens: snap.tokens.into_iter().map(|t| (t.info.id.to_string(), t)).collect(),
            advisories: snap.advisories,
        });
        if let Ok(mut slot) = self.current.write() {
            if slot.as_ref().is_none_or(|c| c.version <= current.version) {
                *slot = Some(current.clone());
            }
        }
        Ok(current)
    }
}

/// Opened revision content, by (advisory, revision). A revision never changes once written, so entries never go
/// stale; the advisory's mutable state (lifecycle, T) is read from the database on every request. Plaintext is held
/// in memory only while the server runs — it is decrypted for every copy anyway — never written anywhere.
#[derive(Debug, Default)]
pub struct ContentCache {
    outlines: Mutex<HashMap<RevisionKey, Arc<Outline>>>,
    sections: Mutex<HashMap<(String, u32, SectionKind), Arc<str>>>,
    attachments: Mutex<HashMap<RevisionKey, Arc<Vec<forewarn_core::Attachment>>>>,
    /// Sections prepared for fingerprinting, by (advisory, revision, section).
    marked: Mutex<HashMap<(String, u32, SectionKind), Arc<forewarn_mark::Marked>>>,
}

/// (advisory id, revision number).
type RevisionKey = (String, u32);

/// Entries kept before a cache is emptied and refilled (a crude bound; revisions are few).
const CACHE_LIMIT: usize = 20_000;

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, k: K, v: V) {
    if let Ok(mut m) = map.lock() {
        if m.len() >= CACHE_LIMIT {
            m.clear();
        }
        m.insert(k, v);
    }
}

impl ContentCache {
    /// The section prepared for marking, once per revision.
    fn marked(
        &self,
        key: &forewarn_mark::code::Key,
        id: &AdvisoryId,
        number: u32,
        kind: SectionKind,
        body: &str,
    ) -> Result<Arc<forewarn_mark::Marked>, ApiError> {
        let k = (id.to_string(), number, kind);
        if let Some(m) = self.marked.lock().ok().and_then(|m| m.get(&k).cloned()) {
            return Ok(m);
        }
        let section = forewarn_render::code_section(id.as_str(), number, kind);
        let marked = Arc::new(forewarn_mark::Marked::new(key, &section, body).map_err(|e| {
            tracing::error!(advisory = %id, revision = number, section = %kind, error = %e, "a stored section's markers do not parse");
            ApiError::Internal
        })?);
        bounded_insert(&self.marked, k, marked.clone());
        Ok(marked)
    }

    pub(crate) async fn outline(&self, store: &Store, id: &AdvisoryId, number: u32) -> Result<Arc<Outline>, ApiError> {
        let key = (id.to_string(), number);
        if let Some(o) = self.outlines.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(o);
        }
        let mut conn = store.conn().await?;
        let o = Arc::new(advisories::outline(&mut conn, store.master_key()?, id, number).await?);
        bounded_insert(&self.outlines, key, o.clone());
        Ok(o)
    }

    async fn content(
        &self,
        store: &Store,
        id: &AdvisoryId,
        number: u32,
        kinds: &[SectionKind],
        with_attachments: bool,
    ) -> Result<(forewarn_core::Sections, Vec<forewarn_core::Attachment>), ApiError> {
        let mut out = forewarn_core::Sections::new();
        let mut missing = Vec::new();
        if let Ok(m) = self.sections.lock() {
            for k in kinds {
                match m.get(&(id.to_string(), number, *k)) {
                    Some(body) => out.set(*k, body).map_err(|_| ApiError::Internal)?,
                    None => missing.push(*k),
                }
            }
        } else {
            missing.extend_from_slice(kinds);
        }
        let cached_attachments = if with_attachments {
            self.attachments.lock().ok().and_then(|m| m.get(&(id.to_string(), number)).cloned())
        } else {
            Some(Arc::new(Vec::new()))
        };
        if missing.is_empty() && cached_attachments.is_some() {
            return Ok((out, cached_attachments.map(|a| a.as_ref().clone()).unwrap_or_default()));
        }
        let mut conn = store.conn().await?;
        let (opened, attachments) =
            advisories::sections(&mut conn, store.master_key()?, id, number, &missing, with_attachments).await?;
        for (k, body) in opened.iter() {
            bounded_insert(&self.sections, (id.to_string(), number, k), Arc::from(body));
            out.set(k, body).map_err(|_| ApiError::Internal)?;
        }
        if with_attachments {
            bounded_insert(&self.attachments, (id.to_string(), number), Arc::new(attachments.clone()));
        }
        Ok((out, attachments))
    }
}

/// An advisory that partners can be given: scheduled, with an approved revision.
#[derive(Debug)]
pub struct Published {
    pub advisory: Advisory,
    pub outline: Arc<Outline>,
}

impl Published {
    pub fn facts(&self) -> AdvisoryFacts<'_> {
        AdvisoryFacts { advisory: &self.advisory, meta: &self.outline.meta, sections: &self.outline.sections }
    }
}

async fn published_one(store: &Store, cache: &ContentCache, advisory: Advisory) -> Result<Option<Published>, ApiError> {
    let Some(number) = advisory.approved_revision else { return Ok(None) };
    if advisory.state != AdvisoryState::Scheduled {
        return Ok(None);
    }
    let outline = cache.outline(store, &advisory.id, number).await?;
    Ok(Some(Published { advisory, outline }))
}

/// Every published advisory, by id.
pub async fn published(store: &Store, cache: &ContentCache, current: &Current) -> Result<Vec<Published>, ApiError> {
    let mut out = Vec::new();
    for a in &current.advisories {
        if let Some(p) = published_one(store, cache, a.clone()).await? {
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

impl Listed {
    /// When the copy was first visible to the partner (its initial release, for the CSAF year folder).
    pub fn first_visible(&self, now: Timestamp) -> Timestamp {
        self.view
            .decisions
            .iter()
            .filter_map(|d| d.visibility.time())
            .filter(|t| *t <= now)
            .min()
            .unwrap_or(self.updated)
    }
}

fn listed(current: &Current, partner: &Partner, p: Published, now: Timestamp) -> Option<Listed> {
    let v = view(&current.policy, partner, &p.facts(), now);
    if !v.is_visible() {
        return None;
    }
    let first = v.decisions.iter().filter_map(|d| d.visibility.time()).filter(|t| *t <= now).min();
    let mut updated = v.last_change().unwrap_or(now);
    if let (Some(approved), Some(first)) = (p.outline.approved_at, first) {
        if p.outline.number > 1 && approved > first && approved <= now {
            updated = updated.max(approved);
        }
    }
    Some(Listed { published: p, view: v, updated })
}

/// The advisories a partner may see now, each with its view. Absent: every advisory the view hides entirely.
pub async fn listing(
    store: &Store,
    cache: &ContentCache,
    current: &Current,
    partner: &Partner,
    now: Timestamp,
) -> Result<Vec<Listed>, ApiError> {
    Ok(published(store, cache, current).await?.into_iter().filter_map(|p| listed(current, partner, p, now)).collect())
}

/// One entry of [`listing`], found by a predicate on the advisory id (at most one advisory matches it), without
/// deciding the others.
pub async fn listed_one(
    store: &Store,
    cache: &ContentCache,
    current: &Current,
    partner: &Partner,
    matches: impl Fn(&str) -> bool,
    now: Timestamp,
) -> Result<Option<Listed>, ApiError> {
    let Some(advisory) = current.advisories.iter().find(|a| matches(a.id.as_str())).cloned() else { return Ok(None) };
    let Some(p) = published_one(store, cache, advisory).await? else { return Ok(None) };
    Ok(listed(current, partner, p, now))
}

/// The copy of one advisory for a partner, or `None` when it does not exist for that partner (unknown id, not
/// published, or nothing visible yet): the caller answers 404 in every one of those cases alike.
pub async fn copy_for(
    store: &Store,
    cache: &ContentCache,
    key: &forewarn_mark::code::Key,
    current: &Current,
    partner: &Partner,
    id: &str,
    now: Timestamp,
) -> Result<Option<Personalised>, ApiError> {
    let Ok(id) = AdvisoryId::parse(id) else { return Ok(None) };
    let Some(advisory) = current.advisory(id.as_str()).cloned() else { return Ok(None) };
    let Some(p) = published_one(store, cache, advisory).await? else { return Ok(None) };
    let v = view(&current.policy, partner, &p.facts(), now);
    if !v.is_visible() {
        return Ok(None);
    }
    // Open only what the view shows.
    let (sections, attachments) =
        cache.content(store, &id, p.outline.number, &v.visible, v.shows(SectionKind::Poc)).await?;
    let mut marked = Vec::with_capacity(v.visible.len());
    for (kind, body) in sections.iter() {
        marked.push((kind, cache.marked(key, &id, p.outline.number, kind, body)?));
    }
    let content = Content {
        number: p.outline.number,
        meta: &p.outline.meta,
        sections: &sections,
        attachments: &attachments,
        approved_at: p.outline.approved_at,
        marking: Some(forewarn_render::Marking { key, sections: &marked }),
    };
    Ok(render_for(partner, &p.advisory, content, &v, now))
}
