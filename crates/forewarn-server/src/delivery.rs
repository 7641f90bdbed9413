//! From the database to a partner's copy: the active policy, the published advisories, the view, and
//! `render_for`. Every partner-facing handler goes through [`copy_for`] or [`listing`]; neither decides visibility —
//! `forewarn_policy::view` does (as `view_unexplained`: nothing here reads the explanation sentences).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use forewarn_core::{Advisory, AdvisoryId, AdvisoryState, Partner, SectionKind};
use forewarn_policy::document::section_index;
use forewarn_policy::{view_unexplained, AdvisoryFacts, Policy, View};
use forewarn_render::{csaf, render_for, Content, Personalised};
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
    /// Shared, so that answering a request does not copy the partner.
    pub partners: HashMap<String, (Arc<Partner>, Vec<forewarn_core::IpNet>)>,
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
    /// Held while a snapshot loads: requests that find the snapshot out of date at the same moment (the first ones
    /// after a start or a change) wait for one load instead of each loading every partner and token.
    loading: tokio::sync::Mutex<()>,
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
        let cached = || self.current.read().ok().and_then(|c| c.clone()).filter(|c| c.version >= version);
        if let Some(c) = cached() {
            return Ok(c);
        }
        let _loading = self.loading.lock().await;
        if let Some(c) = cached() {
            return Ok(c);
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
            partners: snap.partners.into_iter().map(|(p, n)| (p.id.to_string(), (Arc::new(p), n))).collect(),
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
/// stale; the advisory's mutable state (lifecycle, T) comes from the catalogue snapshot. Plaintext is held in memory
/// only while the server runs — it is decrypted for every copy anyway — never written anywhere. A section is opened
/// only when some view shows it.
///
/// Every entry is filled once however many requests want it at the same moment (at a release, every partner asks for
/// the same advisories at once): the first request opens it, the others wait for that instead of each opening it
/// again, and the CPU-heavy preparation for fingerprinting runs off the request threads.
#[derive(Debug, Default)]
pub struct ContentCache {
    outlines: Flight<RevisionKey, Arc<Outline>>,
    /// Sections, their preparation for fingerprinting and attachments, each filled when first wanted. One entry
    /// per revision, so that a request looks its revision up once, not once per section.
    revisions: Flight<RevisionKey, Arc<RevisionContent>>,
}

/// What a revision holds beyond its outline, by section (at `forewarn_policy::document::section_index`).
#[derive(Debug, Default)]
struct RevisionContent {
    /// `None`: the revision has no such section.
    sections: [tokio::sync::OnceCell<Option<Arc<str>>>; SectionKind::ALL.len()],
    /// Sections prepared for fingerprinting (and their pieces escaped for JSON).
    marked: [tokio::sync::OnceCell<Arc<forewarn_render::MarkedSection>>; SectionKind::ALL.len()],
    attachments: tokio::sync::OnceCell<Arc<[forewarn_core::Attachment]>>,
    /// The attachments prepared for fingerprinting, in the same order (`None`: one that carries nothing).
    marked_attachments: tokio::sync::OnceCell<MarkedAttachments>,
    /// The CSAF templates of the shapes this revision's copies have had (`forewarn_render::csaf::Template`): a
    /// handful — one per distinct personalised history and status — however many partners. Replaced whole when one
    /// is added, so that a request takes the list with one reference count and fills outside the lock.
    templates: Mutex<Arc<Vec<Arc<csaf::Template>>>>,
}

/// A revision's attachments prepared for fingerprinting (`forewarn_render::prepare_attachment`).
type MarkedAttachments = Arc<[Option<Arc<forewarn_mark::Marked>>]>;

/// Templates kept per revision; past that the oldest goes.
const TEMPLATES_PER_REVISION: usize = 64;

/// (advisory id, revision number).
type RevisionKey = (String, u32);

/// Entries kept before a cache is emptied and refilled (a crude bound; revisions are few).
const CACHE_LIMIT: usize = 20_000;

/// A map whose entries are each computed once, by the first caller; concurrent callers wait for that result. A
/// failed computation is not kept: the next caller tries again. (Each `OnceCell` inside an entry behaves the same.)
#[derive(Debug)]
struct Flight<K, V> {
    cells: Mutex<HashMap<K, Arc<tokio::sync::OnceCell<V>>>>,
}

impl<K, V> Default for Flight<K, V> {
    fn default() -> Self {
        Self { cells: Mutex::new(HashMap::new()) }
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Flight<K, V> {
    /// The value of `k` if it has been computed, without waiting or computing.
    fn peek(&self, k: &K) -> Option<V> {
        let cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cells.get(k).and_then(|c| c.get().cloned())
    }

    async fn get_or_try_init<F, Fut>(&self, k: K, init: F) -> Result<V, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, ApiError>>,
    {
        let cell = {
            // The map is consistent after any panic elsewhere (each change is one insert or clear).
            let mut cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if cells.len() >= CACHE_LIMIT && !cells.contains_key(&k) {
                cells.clear();
            }
            cells.entry(k).or_default().clone()
        };
        cell.get_or_try_init(init).await.cloned()
    }
}

impl ContentCache {
    pub(crate) async fn outline(&self, store: &Store, id: &AdvisoryId, number: u32) -> Result<Arc<Outline>, ApiError> {
        self.outlines
            .get_or_try_init((id.to_string(), number), || async {
                let mut conn = store.conn().await?;
                Ok(Arc::new(advisories::outline(&mut conn, store.master_key()?, id, number).await?))
            })
            .await
    }

    async fn revision(&self, id: &AdvisoryId, number: u32) -> Result<Arc<RevisionContent>, ApiError> {
        self.revisions.get_or_try_init((id.to_string(), number), || async { Ok(Arc::default()) }).await
    }

    /// The CSAF document of `copy` — exactly `csaf::document(copy, publisher).to_bytes()` — from the template of
    /// its shape, made on first use and kept with the revision's content.
    pub(crate) fn csaf(&self, copy: &Personalised, publisher: &csaf::Publisher) -> Vec<u8> {
        let Some(revision) = self.revisions.peek(&(copy.advisory_id.clone(), copy.revision)) else {
            return csaf::document(copy, publisher).to_bytes();
        };
        // Consistent after any panic elsewhere: each change is one assignment.
        let kept = || revision.templates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let snapshot = kept().clone();
        // `fill` checks the shape: each kept template is compared with the copy once.
        if let Some(bytes) = snapshot.iter().find_map(|t| t.fill(copy, publisher)) {
            return bytes;
        }
        let (template, bytes) = csaf::Template::with_document(copy, publisher);
        if template.reusable() {
            let mut kept = kept();
            if !kept.iter().any(|t| t.fits(copy, publisher)) {
                let skip = (kept.len() + 1).saturating_sub(TEMPLATES_PER_REVISION);
                let mut list: Vec<_> = kept.iter().skip(skip).cloned().collect();
                list.push(Arc::new(template));
                *kept = Arc::new(list);
            }
        }
        bytes
    }
}

impl RevisionContent {
    async fn section(
        &self,
        store: &Store,
        id: &AdvisoryId,
        number: u32,
        kind: SectionKind,
    ) -> Result<Option<Arc<str>>, ApiError> {
        self.sections[section_index(kind)]
            .get_or_try_init(|| async {
                let mut conn = store.conn().await?;
                let (opened, _) =
                    advisories::sections(&mut conn, store.master_key()?, id, number, &[kind], false).await?;
                Ok(opened.get_shared(kind))
            })
            .await
            .cloned()
    }

    /// The attachments prepared for marking, once per revision, off the request threads.
    async fn marked_attachments(
        &self,
        key: &forewarn_mark::code::Key,
        id: &AdvisoryId,
        number: u32,
        attachments: Arc<[forewarn_core::Attachment]>,
        scheme: forewarn_mark::Scheme,
    ) -> Result<MarkedAttachments, ApiError> {
        self.marked_attachments
            .get_or_try_init(|| async {
                let (key, id) = (key.clone(), id.clone());
                tokio::task::spawn_blocking(move || {
                    attachments
                        .iter()
                        .enumerate()
                        .map(|(i, a)| {
                            forewarn_render::prepare_attachment(&key, id.as_str(), number, i, a, scheme).map(Arc::new)
                        })
                        .collect::<MarkedAttachments>()
                })
                .await
                .map_err(|_| ApiError::Internal)
            })
            .await
            .cloned()
    }

    /// The section prepared for marking, once per revision; the CPU-heavy preparation runs off the request threads.
    async fn marked(
        &self,
        key: &forewarn_mark::code::Key,
        id: &AdvisoryId,
        number: u32,
        kind: SectionKind,
        body: Arc<str>,
        scheme: forewarn_mark::Scheme,
    ) -> Result<Arc<forewarn_render::MarkedSection>, ApiError> {
        self.marked[section_index(kind)]
            .get_or_try_init(|| async {
                let (key, id2) = (key.clone(), id.clone());
                let prepared = tokio::task::spawn_blocking(move || {
                    let section = forewarn_render::code_section(id2.as_str(), number, kind);
                    forewarn_render::MarkedSection::prepare(&key, &section, &body, scheme)
                })
                .await
                .map_err(|_| ApiError::Internal)?;
                prepared.map(Arc::new).map_err(|e| {
                    tracing::error!(advisory = %id, revision = number, section = %kind, error = %e, "a stored section's markers do not parse");
                    ApiError::Internal
                })
            })
            .await
            .cloned()
    }

    async fn attachments(
        &self,
        store: &Store,
        id: &AdvisoryId,
        number: u32,
    ) -> Result<Arc<[forewarn_core::Attachment]>, ApiError> {
        self.attachments
            .get_or_try_init(|| async {
                let mut conn = store.conn().await?;
                let (_, attachments) =
                    advisories::sections(&mut conn, store.master_key()?, id, number, &[], true).await?;
                Ok(Arc::from(attachments))
            })
            .await
            .cloned()
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
    let v = view_unexplained(&current.policy, partner, &p.facts(), now);
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
    let v = view_unexplained(&current.policy, partner, &p.facts(), now);
    if !v.is_visible() {
        return Ok(None);
    }
    // Open only what the view shows.
    let number = p.outline.number;
    let revision = cache.revision(&id, number).await?;
    let mut sections = forewarn_core::Sections::new();
    let mut marked = Vec::with_capacity(v.visible.len());
    let Some(scheme) = forewarn_render::scheme_of(&p.outline.meta) else {
        tracing::error!(advisory = %id, revision = number, scheme = p.outline.meta.marking, "a revision's fingerprinting scheme is unknown to this build");
        return Err(ApiError::Internal);
    };
    for kind in v.visible.iter().copied() {
        if let Some(body) = revision.section(store, &id, number, kind).await? {
            sections.set_shared(kind, body.clone()).map_err(|_| ApiError::Internal)?;
            marked.push((kind, revision.marked(key, &id, number, kind, body, scheme).await?));
        }
    }
    let attachments =
        if v.shows(SectionKind::Poc) { revision.attachments(store, &id, number).await? } else { Arc::from([]) };
    let marked_attachments = if attachments.is_empty() {
        Arc::from([])
    } else {
        revision.marked_attachments(key, &id, number, attachments.clone(), scheme).await?
    };
    let content = Content {
        number,
        meta: &p.outline.meta,
        sections: &sections,
        attachments: &attachments,
        approved_at: p.outline.approved_at,
        marking: Some(forewarn_render::Marking { key, sections: &marked, attachments: &marked_attachments }),
    };
    Ok(render_for(partner, &p.advisory, content, &v, now))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// At a release every partner asks for the same cold entry at once: it is computed once, and every caller gets
    /// that one result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_computation() {
        let flight: Arc<Flight<u32, Arc<str>>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..32)
            .map(|_| {
                let (flight, runs) = (flight.clone(), runs.clone());
                tokio::spawn(async move {
                    flight
                        .get_or_try_init(7, || async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            Ok(Arc::from("opened"))
                        })
                        .await
                })
            })
            .collect();
        for c in callers {
            assert_eq!(&*c.await.unwrap().unwrap(), "opened");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    /// CSAF documents made from the templates the cache keeps are the documents themselves, for every partner; one
    /// template is kept per shape, and a copy of a revision the cache has not seen is rendered whole.
    #[tokio::test]
    async fn documents_from_kept_templates_are_the_documents_themselves() {
        use forewarn_render::{HistoryEntry, SectionCopy};
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let publisher = csaf::Publisher { name: "PSIRT".into(), namespace: "https://psirt.example.com".into() };
        let copy = |partner: &str, first_seen: &str| Personalised {
            advisory_id: "ADV-2026-0001".into(),
            revision: 1,
            partner_id: partner.into(),
            meta: forewarn_core::RevisionMeta {
                title: "A flaw".into(),
                products: vec![],
                cvss: None,
                cwe: None,
                cves: vec![],
                flags: vec![],
                marking: 2,
            },
            sections: vec![
                (SectionKind::Summary, SectionCopy::plain(format!("Summary as {partner} reads it"))),
                (SectionKind::Details, SectionCopy::plain(format!("Details \"for\" {partner}"))),
            ],
            upcoming: vec![],
            attachments: Arc::from([]),
            release_at: at("2026-12-08T18:00:00Z"),
            released: false,
            history: vec![HistoryEntry { at: at(first_seen), summary: "Initial release to this partner".into() }],
            generated_at: at("2026-12-07T00:00:00Z"),
            fingerprint: None,
        };
        let cache = ContentCache::default();
        let unseen = copy("kestrel", "2026-12-01T18:00:00Z");
        assert_eq!(cache.csaf(&unseen, &publisher), csaf::document(&unseen, &publisher).to_bytes());
        let revision = cache.revision(&AdvisoryId::parse("ADV-2026-0001").unwrap(), 1).await.unwrap();
        let partners = [
            ("kestrel", "2026-12-01T18:00:00Z"),
            ("hanshan", "2026-12-07T18:00:00Z"),
            ("polder", "2026-12-01T18:00:00Z"),
        ];
        for _ in 0..2 {
            for (partner, first_seen) in partners {
                let c = copy(partner, first_seen);
                let bytes = cache.csaf(&c, &publisher);
                assert_eq!(bytes, csaf::document(&c, &publisher).to_bytes(), "{partner}");
                assert!(String::from_utf8(bytes).unwrap().contains(&format!("Summary as {partner} reads it")));
            }
        }
        assert_eq!(revision.templates.lock().unwrap().len(), 2, "two shapes: two histories");
    }

    /// A failure is not kept: the next caller computes again.
    #[tokio::test]
    async fn a_failed_computation_is_tried_again() {
        let flight: Flight<u32, u32> = Flight::default();
        assert!(flight.get_or_try_init(1, || async { Err(ApiError::Internal) }).await.is_err());
        assert_eq!(flight.get_or_try_init(1, || async { Ok(5) }).await.unwrap(), 5);
        assert_eq!(flight.get_or_try_init(1, || async { Ok(6) }).await.unwrap(), 5, "kept once computed");
    }
}
