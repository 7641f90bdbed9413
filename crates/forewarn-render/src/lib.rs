//! Personalised copies of advisories.
//!
//! [`render_for`] turns a partner's [`View`] of an advisory into the copy that partner receives: the advisory's
//! metadata and exactly the sections the view shows, nothing else. Every delivery channel (the JSON API, CSAF, the
//! feed, bundles, web pages) serialises this copy and only this copy; the fingerprinting issue extends `render_for`
//! to mark each copy. [`csaf`] gives its CSAF 2.0 form.
//!
//! Architecture invariant: nothing here decides visibility. The [`View`] does; a section absent from
//! `view.visible` is never read from the revision.

pub mod csaf;
pub mod cwe;
mod json;

use forewarn_core::{Advisory, Attachment, Partner, RevisionMeta, SectionKind, Sections};
use forewarn_policy::{View, Visibility};
use jiff::Timestamp;
use sha2::Digest;

/// One entry of a personalised revision history: when the partner's copy changed, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub summary: String,
}

/// The copy of an advisory one partner receives at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personalised {
    pub advisory_id: String,
    /// The content revision the copy is made from.
    pub revision: u32,
    pub partner_id: String,
    pub meta: RevisionMeta,
    /// Only the visible sections, in section order.
    pub sections: Vec<(SectionKind, SectionCopy)>,
    /// The sections still to come, with when.
    pub upcoming: Vec<(SectionKind, Timestamp)>,
    /// Attachments of the PoC section, when the PoC is visible (shared with the revision: not copied per copy).
    pub attachments: std::sync::Arc<[Attachment]>,
    pub release_at: Timestamp,
    /// Whether T has passed.
    pub released: bool,
    /// Each time the copy gained sections (and when a later revision was approved), oldest first.
    pub history: Vec<HistoryEntry>,
    pub generated_at: Timestamp,
    /// SHA-256 (hex) of the copy's codeword — every section's symbols — when it was fingerprinted.
    pub fingerprint: Option<String>,
}

/// A section of a copy. A fingerprinted one is assembled from the revision's prepared pieces and the partner's
/// symbols only when read: as text (kept once assembled), or as JSON-escaped pieces written straight into a
/// document (a CSAF document reads only those, the JSON API only the text), so that no copy assembles a form nobody
/// reads, and a CSAF document copies each piece once.
#[derive(Clone)]
pub struct SectionCopy(Form);

#[derive(Clone)]
enum Form {
    Plain(String),
    Marked { section: std::sync::Arc<MarkedSection>, symbols: Vec<u8>, text: std::sync::OnceLock<String> },
}

impl SectionCopy {
    /// A section that is not fingerprinted.
    pub fn plain(text: String) -> Self {
        Self(Form::Plain(text))
    }

    /// The copy of a prepared section carrying `symbols`.
    pub fn marked(section: std::sync::Arc<MarkedSection>, symbols: Vec<u8>) -> Self {
        Self(Form::Marked { section, symbols, text: std::sync::OnceLock::new() })
    }

    /// The section's text (Markdown).
    pub fn text(&self) -> &str {
        match &self.0 {
            Form::Plain(text) => text,
            Form::Marked { section, symbols, text, .. } => text.get_or_init(|| section.text.assemble(symbols)),
        }
    }

    /// The text escaped for a JSON string (without quotes), as pieces escaped once per revision, with an upper
    /// bound of their total length; `None` for a section that is not fingerprinted (escape [`SectionCopy::text`]
    /// instead).
    pub fn json_pieces(&self) -> Option<(usize, impl Iterator<Item = &[u8]>)> {
        match &self.0 {
            Form::Plain(_) => None,
            Form::Marked { section, symbols, .. } => Some((section.json.max_len(), section.json.bytes(symbols))),
        }
    }
}

impl std::ops::Deref for SectionCopy {
    type Target = str;

    fn deref(&self) -> &str {
        self.text()
    }
}

impl PartialEq for SectionCopy {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for SectionCopy {}

impl std::fmt::Debug for SectionCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SectionCopy").field(&self.text()).finish()
    }
}

impl Personalised {
    /// When the copy last changed.
    pub fn updated(&self) -> Timestamp {
        self.history.last().map_or(self.generated_at, |h| h.at)
    }

    pub fn section(&self, kind: SectionKind) -> Option<&SectionCopy> {
        self.sections.iter().find(|(k, _)| *k == kind).map(|(_, b)| b)
    }
}

/// A section prepared once per revision for marked copies: its preparation for fingerprinting, laid out for
/// assembling copies, and laid out again with every piece escaped for JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedSection {
    pub marked: forewarn_mark::Marked,
    text: forewarn_mark::prepare::Layout,
    json: forewarn_mark::prepare::Layout,
}

impl MarkedSection {
    /// Prepares `text` (its markers must parse) as section `section` of a revision written under `scheme`:
    /// [`forewarn_mark::Marked::new`], then its pieces laid out, as they are and escaped.
    pub fn prepare(
        key: &forewarn_mark::code::Key,
        section: &forewarn_mark::code::Section<'_>,
        text: &str,
        scheme: forewarn_mark::Scheme,
    ) -> Result<Self, forewarn_mark::syntax::SyntaxError> {
        let marked = forewarn_mark::Marked::new(key, section, text, scheme)?;
        let text = marked.prepared.layout(str::to_owned);
        let json = marked.prepared.layout(json::escape);
        Ok(Self { marked, text, json })
    }
}

/// The content an advisory revision holds.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub number: u32,
    pub meta: &'a RevisionMeta,
    pub sections: &'a Sections,
    pub attachments: &'a std::sync::Arc<[Attachment]>,
    /// When this revision was approved (a later approval is a change to copies already delivered).
    pub approved_at: Option<Timestamp>,
    /// How to fingerprint the copy; without it, sections are the author's base text.
    pub marking: Option<Marking<'a>>,
}

/// The fingerprinting key and the revision's sections prepared for marking (at least those the view shows).
#[derive(Debug, Clone, Copy)]
pub struct Marking<'a> {
    pub key: &'a forewarn_mark::code::Key,
    pub sections: &'a [(SectionKind, std::sync::Arc<MarkedSection>)],
    /// The attachments prepared for marking, in `Content::attachments`' order: `None` for one that carries nothing
    /// (see [`prepare_attachment`]). Empty when the view does not show the PoC.
    pub attachments: &'a [Option<std::sync::Arc<forewarn_mark::Marked>>],
}

/// An attachment's place in a revision's codewords: after the five sections (16 onwards). `None` past the 240th.
pub fn code_attachment(advisory: &str, revision: u32, index: usize) -> Option<forewarn_mark::code::Section<'_>> {
    let section = u8::try_from(index.checked_add(16)?).ok()?;
    Some(forewarn_mark::code::Section { advisory, revision, section })
}

/// An attachment prepared for fingerprinting, or why it carries none: a text file in a language
/// [`forewarn_mark::carriers`] knows, under scheme 2 or later, with at least one point.
pub fn prepare_attachment_file(
    a: &Attachment,
    scheme: forewarn_mark::Scheme,
) -> Result<forewarn_mark::prepare::Prepared, &'static str> {
    let Ok(text) = std::str::from_utf8(&a.bytes) else { return Err("binary: not text, left as it is") };
    if scheme < forewarn_mark::Scheme::V2 {
        return Err("scheme 1 revision: attachments were not fingerprinted");
    }
    if forewarn_mark::carriers::Lang::from_file(&a.name, text).is_none() {
        return Err("no known language (.py .sh .c .js .rules .yar .yml, or a #! line): left as it is");
    }
    let prepared = forewarn_mark::prepare::prepare_file(&a.name, text, scheme);
    if prepared.slot_count() == 0 {
        return Err("its language allows no equivalent variant here");
    }
    Ok(prepared)
}

/// Attachment `index` of a revision prepared for marking ([`prepare_attachment_file`]); `None` for one that
/// carries nothing, or past the 240th.
pub fn prepare_attachment(
    key: &forewarn_mark::code::Key,
    advisory: &str,
    revision: u32,
    index: usize,
    a: &Attachment,
    scheme: forewarn_mark::Scheme,
) -> Option<forewarn_mark::Marked> {
    let prepared = prepare_attachment_file(a, scheme).ok()?;
    let section = code_attachment(advisory, revision, index)?;
    Some(forewarn_mark::Marked::from_prepared(key, &section, prepared))
}

/// The fingerprinting scheme a revision's copies are made with; `None` for a number this build does not know (a
/// revision written by a newer version).
pub fn scheme_of(meta: &RevisionMeta) -> Option<forewarn_mark::Scheme> {
    forewarn_mark::Scheme::from_number(meta.marking)
}

/// A section's place in a revision's codewords.
pub fn code_section<'a>(advisory: &'a str, revision: u32, kind: SectionKind) -> forewarn_mark::code::Section<'a> {
    let ordinal = SectionKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u8;
    forewarn_mark::code::Section { advisory, revision, section: ordinal }
}

/// The copy for `partner` given its `view`. `None` when the view shows nothing: the advisory does not exist for
/// the partner.
pub fn render_for(
    partner: &Partner,
    advisory: &Advisory,
    content: Content<'_>,
    view: &View,
    now: Timestamp,
) -> Option<Personalised> {
    if !view.is_visible() {
        return None;
    }
    let release_at = advisory.release_at?;
    let advisory_id = advisory.id.to_string();
    let partner_id = partner.id.to_string();
    let mut codeword = sha2::Sha256::new();
    let sections: Vec<(SectionKind, SectionCopy)> = view
        .visible
        .iter()
        .filter_map(|k| {
            let body = content.sections.get(*k)?;
            let marked = content.marking.and_then(|m| {
                let (_, prepared) = m.sections.iter().find(|(kind, _)| kind == k)?;
                let section = code_section(&advisory_id, content.number, *k);
                let symbols = prepared.marked.symbols(m.key, &section, &partner_id);
                codeword.update([section.section]);
                codeword.update((symbols.len() as u32).to_be_bytes());
                codeword.update(&symbols);
                Some(SectionCopy::marked(prepared.clone(), symbols))
            });
            Some((
                *k,
                marked.unwrap_or_else(|| {
                    SectionCopy::plain(forewarn_mark::base_text_with(
                        body,
                        scheme_of(content.meta).unwrap_or(forewarn_mark::Scheme::CURRENT),
                    ))
                }),
            ))
        })
        .collect();
    // Attachments go with the PoC; each fingerprinted one is the partner's own copy.
    let attachments: std::sync::Arc<[Attachment]> = if !view.shows(SectionKind::Poc) {
        std::sync::Arc::from([])
    } else {
        match content.marking {
            Some(m) if m.attachments.iter().any(Option::is_some) => content
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let marked = m.attachments.get(i).and_then(Option::as_ref);
                    match (marked, code_attachment(&advisory_id, content.number, i)) {
                        (Some(marked), Some(section)) => {
                            let symbols = marked.symbols(m.key, &section, &partner_id);
                            codeword.update([section.section]);
                            codeword.update((symbols.len() as u32).to_be_bytes());
                            codeword.update(&symbols);
                            Attachment { bytes: marked.prepared.assemble(&symbols).into_bytes(), ..a.clone() }
                        }
                        _ => a.clone(),
                    }
                })
                .collect(),
            _ => content.attachments.clone(),
        }
    };
    let fingerprint = content.marking.map(|_| forewarn_core::hex(&codeword.finalize()));

    // One history entry per moment at which visible sections appeared.
    let mut moments: Vec<(Timestamp, Vec<SectionKind>)> = Vec::new();
    for d in view.decisions.iter().filter(|d| view.shows(d.section)) {
        if let Visibility::From(t) = d.visibility {
            match moments.iter_mut().find(|(m, _)| *m == t) {
                Some((_, ks)) => ks.push(d.section),
                None => moments.push((t, vec![d.section])),
            }
        }
    }
    moments.sort_by_key(|(t, _)| *t);
    let mut history: Vec<HistoryEntry> = moments
        .iter()
        .enumerate()
        .map(|(i, (t, ks))| {
            let names: Vec<&str> = ks.iter().map(|k| k.heading()).collect();
            HistoryEntry {
                at: *t,
                summary: if i == 0 {
                    format!("Initial release to this partner: {}", names.join(", "))
                } else {
                    format!("Sections added: {}", names.join(", "))
                },
            }
        })
        .collect();
    if let (Some(approved), Some(first)) = (content.approved_at, moments.first()) {
        if content.number > 1 && approved > first.0 && approved <= now {
            history
                .push(HistoryEntry { at: approved, summary: format!("Content revised (revision {})", content.number) });
            history.sort_by_key(|h| h.at);
        }
    }
    Some(Personalised {
        advisory_id,
        revision: content.number,
        partner_id,
        fingerprint,
        meta: content.meta.clone(),
        sections,
        upcoming: view.upcoming.clone(),
        attachments,
        release_at,
        released: release_at <= now,
        history,
        generated_at: now,
    })
}

/// How much a whole leaked copy of a revision says about its source, for the approval step.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerprintSummary {
    /// Evidence a lone leaker's whole copy (every section and fingerprinted attachment) carries, on average.
    pub nats: f64,
    /// Evidence needed to name one leaker among the program's partners at its error rate.
    pub needed: f64,
    pub partners: usize,
    /// Below the program's threshold (`margin` × `needed`).
    pub low: bool,
    /// One sentence for the author and the approver.
    pub sentence: String,
}

/// The program's threshold: a whole copy's evidence must reach this multiple of what naming one leaker needs.
/// `FOREWARN_FINGERPRINT_MARGIN` sets it (default 1: a whole leaked copy names its source).
pub fn fingerprint_margin() -> f64 {
    std::env::var("FOREWARN_FINGERPRINT_MARGIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|m: &f64| *m > 0.0)
        .unwrap_or(1.0)
}

/// The [`FingerprintSummary`] of a revision's content among `partners` at `error`, against `margin`.
pub fn fingerprint_summary(
    meta: &RevisionMeta,
    sections: &Sections,
    attachments: &[Attachment],
    partners: usize,
    error: f64,
    margin: f64,
) -> FingerprintSummary {
    let scheme = scheme_of(meta).unwrap_or(forewarn_mark::Scheme::CURRENT);
    let mut nats = 0.0;
    for (_, body) in sections.iter() {
        if let Ok(p) = forewarn_mark::prepare::prepare_with(body, scheme) {
            let c = forewarn_mark::capacity::capacity(&p);
            nats += c.prose_nats + c.code_nats;
        }
    }
    for prepared in attachments.iter().filter_map(|a| prepare_attachment_file(a, scheme).ok()) {
        nats += forewarn_mark::capacity::capacity(&prepared).code_nats;
    }
    let needed = forewarn_mark::capacity::nats_needed(partners, error);
    let low = nats < margin * needed;
    let sentence = if low {
        format!(
            "A whole leaked copy carries about {nats:.0} nats of evidence; naming one leaker among {partners} partners \
             at {error:e} needs {needed:.0}{}: below the program's threshold — add alternatives before approving.",
            if margin == 1.0 { String::new() } else { format!(" (threshold {:.0})", margin * needed) }
        )
    } else {
        format!(
            "A whole leaked copy carries about {nats:.0} nats of evidence; naming one leaker among {partners} partners \
             at {error:e} needs {needed:.0}: a whole copy names its source, shorter excerpts may not \
             (`forewarn advisory fingerprint-capacity` gives the lengths per section)."
        )
    };
    FingerprintSummary { nats, needed, partners, low, sentence }
}
