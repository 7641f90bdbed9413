//! Advisories: their sections, revisions and lifecycle.
//!
//! Lifecycle: `draft` -> `approved` (by someone other than the revision's author) -> `scheduled` (a release time T
//! is set) -> released, or `withdrawn` from any state. "Released" is not stored: an advisory is released when it is
//! scheduled and T has passed, so nothing has to run at T for the release to happen. Every edit creates a new
//! revision; a revision needs its own approval, and until then the last approved revision is the one delivered.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

use crate::error::{quote, Invalid};
use crate::ids::{AdvisoryId, CveId, CweId, Username};
use crate::Cvss;

/// The five parts of an advisory. Each may become visible to a partner at a different time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    /// General description: what is affected and how bad it is.
    Summary,
    /// Technical root cause and attack vector.
    Details,
    /// Signatures, IOCs, hunting guidance.
    Detection,
    /// Workarounds.
    Mitigation,
    /// Proof-of-concept code or trigger files.
    Poc,
}

impl SectionKind {
    pub const ALL: [SectionKind; 5] = [Self::Summary, Self::Details, Self::Detection, Self::Mitigation, Self::Poc];

    /// The name used in files, URLs, the database and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Details => "details",
            Self::Detection => "detection",
            Self::Mitigation => "mitigation",
            Self::Poc => "poc",
        }
    }

    /// The heading used for the section in Markdown.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Summary => "Summary",
            Self::Details => "Details",
            Self::Detection => "Detection",
            Self::Mitigation => "Mitigation",
            Self::Poc => "PoC",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == lower || k.heading().eq_ignore_ascii_case(&lower))
            .or_else(|| (lower == "proof of concept").then_some(Self::Poc))
            .ok_or_else(|| {
                Invalid::new(
                    "section",
                    format!(
                        "{} is not a section; the sections are summary, details, detection, mitigation, poc",
                        quote(s)
                    ),
                )
            })
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One section's Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub body: String,
}

/// The sections an advisory revision has. A section that is absent is not part of the advisory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sections(BTreeMap<SectionKind, std::sync::Arc<str>>);

/// Largest section body accepted (1 MiB of Markdown).
pub const MAX_SECTION_BYTES: usize = 1 << 20;

impl Sections {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a section body. Bodies are trimmed of surrounding blank lines; an empty body removes the section.
    pub fn set(&mut self, kind: SectionKind, body: &str) -> Result<(), Invalid> {
        self.set_shared(kind, body.into())
    }

    /// [`Sections::set`] for a body already held elsewhere: kept without a copy when it needs no trimming (section
    /// bodies are shared by every copy made of a revision).
    pub fn set_shared(&mut self, kind: SectionKind, body: std::sync::Arc<str>) -> Result<(), Invalid> {
        let trimmed = body.trim_matches(|c| c == '\n' || c == '\r');
        if trimmed.trim().is_empty() {
            self.0.remove(&kind);
            return Ok(());
        }
        if trimmed.len() > MAX_SECTION_BYTES {
            return Err(Invalid::new("section", format!("the {kind} section is larger than 1 MiB")));
        }
        let body = if trimmed.len() == body.len() { body } else { trimmed.into() };
        self.0.insert(kind, body);
        Ok(())
    }

    pub fn get(&self, kind: SectionKind) -> Option<&str> {
        self.0.get(&kind).map(|b| &**b)
    }

    /// The body as shared, for keeping it without a copy.
    pub fn get_shared(&self, kind: SectionKind) -> Option<std::sync::Arc<str>> {
        self.0.get(&kind).cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SectionKind, &str)> {
        self.0.iter().map(|(k, v)| (*k, &**v))
    }

    pub fn kinds(&self) -> impl Iterator<Item = SectionKind> + '_ {
        self.0.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A product and the versions an advisory says are affected, as free text per range ("16.0 through 16.2.4").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub versions: Vec<String>,
}

impl Product {
    pub fn new(name: &str, versions: Vec<String>) -> Result<Self, Invalid> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.contains(['\n', '\r']) {
            return Err(Invalid::new("product", "a product name must be one line of 1-200 characters"));
        }
        let versions: Vec<String> = versions.iter().map(|v| v.trim().to_owned()).collect();
        if versions.iter().any(|v| v.is_empty() || v.len() > 200 || v.contains(['\n', '\r'])) {
            return Err(Invalid::new(
                "product",
                format!("a version range of {} is empty or longer than one line", quote(name)),
            ));
        }
        Ok(Self { name: name.to_owned(), versions })
    }
}

/// Flags an advisory carries, which policy rules can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdvisoryFlag {
    ExploitedInTheWild,
    HighLeakRisk,
    PubliclyDisclosed,
}

impl AdvisoryFlag {
    pub const ALL: [AdvisoryFlag; 3] = [Self::ExploitedInTheWild, Self::HighLeakRisk, Self::PubliclyDisclosed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExploitedInTheWild => "exploited-in-the-wild",
            Self::HighLeakRisk => "high-leak-risk",
            Self::PubliclyDisclosed => "publicly-disclosed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim()).ok_or_else(|| {
            Invalid::new(
                "advisory flag",
                format!("{} is not a flag; use exploited-in-the-wild, high-leak-risk or publicly-disclosed", quote(s)),
            )
        })
    }
}

impl fmt::Display for AdvisoryFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a revision says about the vulnerability, besides its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionMeta {
    pub title: String,
    pub products: Vec<Product>,
    pub cvss: Option<Cvss>,
    pub cwe: Option<CweId>,
    pub cves: Vec<CveId>,
    pub flags: Vec<AdvisoryFlag>,
    /// The fingerprinting scheme this revision's copies are made with (`forewarn_mark::Scheme`): fixed when the
    /// revision is written, so that copies already delivered read back as they were made after an upgrade.
    /// Revisions stored before schemes were recorded are scheme 1.
    pub marking: u16,
}

impl RevisionMeta {
    /// Checks the parts that are not already valid by construction; sorts and deduplicates the lists.
    pub fn validated(mut self) -> Result<Self, Invalid> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 || title.contains(['\n', '\r']) {
            return Err(Invalid::new("title", "the title must be one line of 1-200 characters"));
        }
        self.title = title.to_owned();
        if self.products.len() > 200 {
            return Err(Invalid::new("product", "an advisory lists at most 200 products"));
        }
        self.cves.sort();
        self.cves.dedup();
        self.flags.sort();
        self.flags.dedup();
        Ok(self)
    }
}

/// A file attached to the `poc` section (trigger files, scripts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Largest attachment accepted (10 MiB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 << 20;

impl Attachment {
    pub fn new(name: &str, bytes: Vec<u8>) -> Result<Self, Invalid> {
        let ok = (1..=100).contains(&name.len())
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(Invalid::new(
                "attachment",
                format!(
                    "{} is not an attachment name; use 1-100 letters, digits, '.', '_' or '-', not starting with '.'",
                    quote(name)
                ),
            ));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(Invalid::new("attachment", format!("{} is larger than 10 MiB", quote(name))));
        }
        let media_type = match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
            Some("py") => "text/x-python",
            Some("txt" | "md") => "text/plain",
            Some("json") => "application/json",
            Some("html" | "htm") => "text/html",
            Some("pcap") => "application/vnd.tcpdump.pcap",
            Some("zip") => "application/zip",
            _ => "application/octet-stream",
        };
        Ok(Self { name: name.to_owned(), media_type: media_type.to_owned(), bytes })
    }
}

/// The stored lifecycle state. See the module documentation; "released" is derived with [`Advisory::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdvisoryState {
    Draft,
    Approved,
    Scheduled,
    Withdrawn,
}

impl AdvisoryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Scheduled => "scheduled",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "draft" => Ok(Self::Draft),
            "approved" => Ok(Self::Approved),
            "scheduled" => Ok(Self::Scheduled),
            "withdrawn" => Ok(Self::Withdrawn),
            _ => Err(Invalid::new("advisory state", format!("{} is not a state", quote(s)))),
        }
    }
}

/// What an advisory is at a given moment, for people: the stored state with "released" derived from T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    Approved,
    Scheduled,
    Released,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Scheduled => "scheduled",
            Self::Released => "released",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An advisory's lifecycle record. Revisions (content) are stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    pub id: AdvisoryId,
    pub state: AdvisoryState,
    /// T: when the patch goes public.
    pub release_at: Option<Timestamp>,
    /// The newest revision's number (revisions count from 1).
    pub current_revision: u32,
    /// The newest approved revision: the one partners are given.
    pub approved_revision: Option<u32>,
    pub created_by: Username,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub withdrawn_reason: Option<String>,
}

/// Why a lifecycle step was refused. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("{0} is withdrawn; a withdrawn advisory cannot change any more")]
    Withdrawn(AdvisoryId),
    #[error("revision {revision} of {id} is already approved; edit the advisory to make a new revision")]
    NothingToApprove { id: AdvisoryId, revision: u32 },
    #[error("{approver} wrote revision {revision} of {id}; approval must come from someone else")]
    OwnRevision { id: AdvisoryId, revision: u32, approver: Username },
    #[error("{0} has no approved revision yet; approve it before scheduling")]
    NotApproved(AdvisoryId),
    #[error("the release time must be in the future; {0} has passed")]
    InThePast(Timestamp),
    #[error("{id} was released at {at}; a released advisory cannot be rescheduled")]
    AlreadyReleased { id: AdvisoryId, at: Timestamp },
    #[error("{0} is already scheduled; moving its release time needs a reason (--reason)")]
    MoveNeedsReason(AdvisoryId),
    #[error("a reason is required to withdraw an advisory (--reason)")]
    WithdrawNeedsReason,
}

/// How a change of schedule relates to the previous release time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleChange {
    /// T set for the first time.
    First,
    /// T moved later.
    Delay,
    /// T pulled forward: an embargo break.
    PullForward,
    /// T unchanged.
    Same,
}

impl ScheduleChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "scheduled",
            Self::Delay => "delayed",
            Self::PullForward => "pulled-forward",
            Self::Same => "unchanged",
        }
    }
}

impl Advisory {
    /// The advisory's status at `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        match self.state {
            AdvisoryState::Draft => Status::Draft,
            AdvisoryState::Approved => Status::Approved,
            AdvisoryState::Withdrawn => Status::Withdrawn,
            AdvisoryState::Scheduled => match self.release_at {
                Some(t) if t <= now => Status::Released,
                _ => Status::Scheduled,
            },
        }
    }

    /// Whether the newest revision still awaits approval.
    pub fn has_pending_revision(&self) -> bool {
        self.approved_revision != Some(self.current_revision)
    }

    fn ensure_live(&self) -> Result<(), LifecycleError> {
        if self.state == AdvisoryState::Withdrawn {
            return Err(LifecycleError::Withdrawn(self.id.clone()));
        }
        Ok(())
    }

    /// Records a new revision written by someone; it awaits approval.
    pub fn revise(&mut self, now: Timestamp) -> Result<u32, LifecycleError> {
        self.ensure_live()?;
        self.current_revision += 1;
        self.updated_at = now;
        Ok(self.current_revision)
    }

    /// Approves the newest revision. `revision_author` wrote it; `approver` must be someone else.
    pub fn approve(
        &mut self,
        revision_author: &Username,
        approver: &Username,
        now: Timestamp,
    ) -> Result<u32, LifecycleError> {
        self.ensure_live()?;
        if !self.has_pending_revision() {
            return Err(LifecycleError::NothingToApprove { id: self.id.clone(), revision: self.current_revision });
        }
        if revision_author == approver {
            return Err(LifecycleError::OwnRevision {
                id: self.id.clone(),
                revision: self.current_revision,
                approver: approver.clone(),
            });
        }
        self.approved_revision = Some(self.current_revision);
        if self.state == AdvisoryState::Draft {
            self.state = AdvisoryState::Approved;
        }
        self.updated_at = now;
        Ok(self.current_revision)
    }

    /// Sets or moves T. Moving an existing T (a delay or an embargo break) needs a reason; a released advisory
    /// cannot be moved.
    pub fn schedule(
        &mut self,
        at: Timestamp,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<ScheduleChange, LifecycleError> {
        self.ensure_live()?;
        if self.approved_revision.is_none() {
            return Err(LifecycleError::NotApproved(self.id.clone()));
        }
        if let (AdvisoryState::Scheduled, Some(old)) = (self.state, self.release_at) {
            if old <= now {
                return Err(LifecycleError::AlreadyReleased { id: self.id.clone(), at: old });
            }
        }
        if at < now {
            return Err(LifecycleError::InThePast(at));
        }
        let change = match (self.state, self.release_at) {
            (AdvisoryState::Scheduled, Some(old)) if old == at => ScheduleChange::Same,
            (AdvisoryState::Scheduled, Some(old)) => {
                if reason.is_none_or(|r| r.trim().is_empty()) {
                    return Err(LifecycleError::MoveNeedsReason(self.id.clone()));
                }
                if at < old {
                    ScheduleChange::PullForward
                } else {
                    ScheduleChange::Delay
                }
            }
            _ => ScheduleChange::First,
        };
        self.state = AdvisoryState::Scheduled;
        self.release_at = Some(at);
        self.updated_at = now;
        Ok(change)
    }

    pub fn withdraw(&mut self, reason: &str, now: Timestamp) -> Result<(), LifecycleError> {
        self.ensure_live()?;
        if reason.trim().is_empty() {
            return Err(LifecycleError::WithdrawNeedsReason);
        }
        self.state = AdvisoryState::Withdrawn;
        self.withdrawn_reason = Some(reason.trim().to_owned());
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn user(s: &str) -> Username {
        Username::parse(s).unwrap()
    }

    fn draft() -> Advisory {
        let now = ts("2026-11-01T00:00:00Z");
        Advisory {
            id: AdvisoryId::parse("ADV-2026-0001").unwrap(),
            state: AdvisoryState::Draft,
            release_at: None,
            current_revision: 1,
            approved_revision: None,
            created_by: user("alice"),
            created_at: now,
            updated_at: now,
            withdrawn_reason: None,
        }
    }

    #[test]
    fn the_author_cannot_approve_their_own_revision() {
        let mut a = draft();
        let now = ts("2026-11-02T00:00:00Z");
        assert!(matches!(a.approve(&user("alice"), &user("alice"), now), Err(LifecycleError::OwnRevision { .. })));
        assert_eq!(a.state, AdvisoryState::Draft);
        assert_eq!(a.approve(&user("alice"), &user("bob"), now), Ok(1));
        assert_eq!(a.state, AdvisoryState::Approved);
        assert!(matches!(a.approve(&user("alice"), &user("bob"), now), Err(LifecycleError::NothingToApprove { .. })));
    }

    #[test]
    fn a_new_revision_needs_its_own_approval_and_keeps_the_schedule() {
        let mut a = draft();
        let now = ts("2026-11-02T00:00:00Z");
        a.approve(&user("alice"), &user("bob"), now).unwrap();
        a.schedule(ts("2026-12-08T18:00:00Z"), None, now).unwrap();
        assert_eq!(a.revise(now), Ok(2));
        assert!(a.has_pending_revision());
        assert_eq!(a.approved_revision, Some(1));
        assert_eq!(a.state, AdvisoryState::Scheduled);
        // The second revision's author is bob; alice may approve it.
        assert_eq!(a.approve(&user("bob"), &user("alice"), now), Ok(2));
    }

    #[test]
    fn scheduling_rules() {
        let mut a = draft();
        let now = ts("2026-11-02T00:00:00Z");
        assert!(matches!(a.schedule(ts("2026-12-08T18:00:00Z"), None, now), Err(LifecycleError::NotApproved(_))));
        a.approve(&user("alice"), &user("bob"), now).unwrap();
        assert!(matches!(a.schedule(ts("2026-11-01T00:00:00Z"), None, now), Err(LifecycleError::InThePast(_))));
        assert_eq!(a.schedule(ts("2026-12-08T18:00:00Z"), None, now), Ok(ScheduleChange::First));
        assert!(matches!(a.schedule(ts("2026-12-01T18:00:00Z"), None, now), Err(LifecycleError::MoveNeedsReason(_))));
        assert_eq!(a.schedule(ts("2026-12-01T18:00:00Z"), Some("PoC published"), now), Ok(ScheduleChange::PullForward));
        assert_eq!(a.schedule(ts("2026-12-09T18:00:00Z"), Some("fix regressed"), now), Ok(ScheduleChange::Delay));
        assert_eq!(a.status(now), Status::Scheduled);
        let later = ts("2026-12-10T00:00:00Z");
        assert_eq!(a.status(later), Status::Released);
        assert!(matches!(
            a.schedule(ts("2026-12-20T00:00:00Z"), Some("x"), later),
            Err(LifecycleError::AlreadyReleased { .. })
        ));
    }

    #[test]
    fn withdrawn_is_final() {
        let mut a = draft();
        let now = ts("2026-11-02T00:00:00Z");
        assert_eq!(a.withdraw("  ", now), Err(LifecycleError::WithdrawNeedsReason));
        a.withdraw("duplicate of ADV-2026-0002", now).unwrap();
        assert_eq!(a.status(now), Status::Withdrawn);
        assert!(matches!(a.revise(now), Err(LifecycleError::Withdrawn(_))));
        assert!(matches!(a.approve(&user("alice"), &user("bob"), now), Err(LifecycleError::Withdrawn(_))));
    }

    #[test]
    fn sections_and_names() {
        let mut s = Sections::new();
        s.set(SectionKind::Summary, "\n\nA flaw.\n\n").unwrap();
        s.set(SectionKind::Poc, "   \n").unwrap();
        assert_eq!(s.get(SectionKind::Summary), Some("A flaw."));
        assert_eq!(s.len(), 1);
        assert_eq!(SectionKind::parse("PoC").unwrap(), SectionKind::Poc);
        assert_eq!(SectionKind::parse("Proof of concept").unwrap(), SectionKind::Poc);
        assert!(SectionKind::parse("exploit").is_err());
        assert!(Attachment::new("../etc/passwd", vec![]).is_err());
        assert!(Attachment::new(".hidden", vec![]).is_err());
        assert_eq!(Attachment::new("trigger.py", vec![]).unwrap().media_type, "text/x-python");
    }
}
