//! The CSAF 2.0 form of a personalised copy (OASIS CSAF 2.0, `csaf_security_advisory` profile).
//!
//! Where each part goes:
//! - summary → `document.notes` (category `summary`);
//! - details → `vulnerabilities[].notes` (category `description`, title "Details");
//! - detection → `vulnerabilities[].notes` (category `other`, title "Detection guidance");
//! - mitigation → `vulnerabilities[].remediations` (category `mitigation`);
//! - proof of concept → `vulnerabilities[].notes` (category `other`, title "Proof of concept"); attachments travel
//!   only in bundles;
//! - exploited in the wild → `vulnerabilities[].threats` (category `exploit_status`).
//!
//! TLP: CSAF 2.0 carries TLP v1 labels, so the document is `AMBER` and `distribution.text` states TLP:AMBER+STRICT
//! and the embargo. `tracking.status` is `interim` before T and `final` after; each entry of the personalised history
//! is a revision. Only what the copy holds is written: no section it lacks appears anywhere.

use forewarn_core::{RevisionMeta, SectionKind, Severity};
use jiff::Timestamp;
use serde::Serialize;

use crate::json::{escape_into, Part, Pretty};
use crate::{HistoryEntry, Personalised, SectionCopy};

/// Who publishes the documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub name: String,
    /// A URL that identifies the publisher (`document.publisher.namespace`).
    pub namespace: String,
}

/// The file name CSAF prescribes for a document id: lower case, every character other than `+`, `-`, `a-z`, `0-9`
/// replaced by `_`, then `.json`.
pub fn filename(tracking_id: &str) -> String {
    let stem: String = tracking_id
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' { c } else { '_' })
        .collect();
    format!("{stem}.json")
}

fn time(t: Timestamp) -> String {
    // RFC 3339 in UTC with millisecond precision, as CSAF examples write it: `%Y-%m-%dT%H:%M:%S%.3fZ`, written digit
    // by digit (a document has several, and interpreting a pattern each time was a visible part of rendering).
    let d = jiff::tz::Offset::UTC.to_datetime(t);
    let Ok(year) = u32::try_from(d.year()) else { return t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string() };
    let mut out = String::with_capacity(24);
    let mut digits = |n: u32, width: u32, then: Option<char>| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + ((n / 10u32.pow(i)) % 10) as u8));
        }
        out.extend(then);
    };
    let two = |n: i8| u32::from(n.unsigned_abs());
    digits(year, 4, Some('-'));
    digits(two(d.month()), 2, Some('-'));
    digits(two(d.day()), 2, Some('T'));
    digits(two(d.hour()), 2, Some(':'));
    digits(two(d.minute()), 2, Some(':'));
    digits(two(d.second()), 2, Some('.'));
    digits(d.subsec_nanosecond().unsigned_abs() / 1_000_000, 3, Some('Z'));
    out
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::None => "None",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// A CSAF 2.0 document, borrowing its text from the copy: serialised straight to bytes, with no intermediate tree
/// (a copy is rendered for every request, so this is on the hot path of delivery).
#[derive(Debug, Serialize)]
pub struct Csaf<'a> {
    document: Document<'a>,
    product_tree: ProductTree<'a>,
    vulnerabilities: Vec<Vulnerability<'a>>,
    #[serde(skip)]
    copy: &'a Personalised,
    #[serde(skip)]
    publisher: &'a Publisher,
}

impl Csaf<'_> {
    /// The document as served: pretty-printed JSON and a final newline — the bytes `serde_json::to_writer_pretty`
    /// gives for this value (tests check it), written by [`crate::json::Pretty`], which escapes faster. Always made
    /// as its [`Template`] filled with the copy's own parts, so that a cached template gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (bytes, holes) = self.with_holes();
        fill(&bytes, &holes, self.copy)
    }

    /// The document with holes where the partner's id and the sections' text go.
    pub fn template(&self) -> Template {
        let (bytes, holes) = self.with_holes();
        Template { bytes, holes, shape: Shape::of(self.copy, self.publisher) }
    }

    /// The document's bytes with holes, and the holes: (offset, what goes there), in order.
    fn with_holes(&self) -> (Vec<u8>, Vec<(usize, Hole)>) {
        let mut w = Pretty::with_capacity(8 * 1024);
        w.object();
        w.object_at("document", |w| self.document.write(w));
        w.object_at("product_tree", |w| w.objects("branches", &self.product_tree.branches, Branch::write));
        w.objects("vulnerabilities", &self.vulnerabilities, Vulnerability::write);
        w.end_object();
        let (mut bytes, holes) = w.into_parts();
        bytes.push(b'\n');
        (bytes, holes)
    }
}

/// The CSAF document every copy of one shape shares — the same advisory revision and metadata, visible sections,
/// personalised history, release time and status, and publisher — with holes where each copy's own parts go: its
/// partner's id and its sections' (fingerprinted) text. A release makes thousands of copies of a handful of shapes;
/// filling a template copies bytes instead of building and writing the whole document again for each.
///
/// [`Template::fill`] gives exactly [`Csaf::to_bytes`] of the copy (which is itself a template filled), and refuses a
/// copy of another shape: everything the document says besides the holes is compared with the copy first.
#[derive(Debug)]
pub struct Template {
    bytes: Vec<u8>,
    /// (offset in `bytes`, what goes there), in order.
    holes: Vec<(usize, Hole)>,
    shape: Shape,
}

/// A copy's own part of its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hole {
    /// The partner's id, in `distribution.text`.
    Partner,
    /// A section's text.
    Section(SectionKind),
}

/// Everything of a copy (and the publisher) that its document depends on, except what goes in the holes.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    advisory_id: String,
    revision: u32,
    meta: RevisionMeta,
    kinds: Vec<SectionKind>,
    history: Vec<HistoryEntry>,
    release_at: Timestamp,
    released: bool,
    /// The copy's time of making, which the dates fall back to when its history is empty; `None` otherwise.
    generated_at: Option<Timestamp>,
    publisher: Publisher,
}

impl Shape {
    fn of(copy: &Personalised, publisher: &Publisher) -> Self {
        Self {
            advisory_id: copy.advisory_id.clone(),
            revision: copy.revision,
            meta: copy.meta.clone(),
            kinds: copy.sections.iter().map(|(k, _)| *k).collect(),
            history: copy.history.clone(),
            release_at: copy.release_at,
            released: copy.released,
            generated_at: copy.history.is_empty().then_some(copy.generated_at),
            publisher: publisher.clone(),
        }
    }

    /// Whether `copy` has this shape; compared in place, without making its shape. (Every field is bound here, so
    /// a field added to `Shape` does not compile until it is compared.)
    fn fits(&self, copy: &Personalised, publisher: &Publisher) -> bool {
        let Self { advisory_id, revision, meta, kinds, history, release_at, released, generated_at, publisher: ours } =
            self;
        *revision == copy.revision
            && *released == copy.released
            && *release_at == copy.release_at
            && *advisory_id == copy.advisory_id
            && kinds.iter().copied().eq(copy.sections.iter().map(|(k, _)| *k))
            && *history == copy.history
            && *generated_at == copy.history.is_empty().then_some(copy.generated_at)
            && ours == publisher
            && *meta == copy.meta
    }
}

impl Template {
    /// The template of `copy`'s shape.
    pub fn of(copy: &Personalised, publisher: &Publisher) -> Self {
        document(copy, publisher).template()
    }

    /// The template of `copy`'s shape and `copy`'s document filled from it (no need to check that it fits).
    pub fn with_document(copy: &Personalised, publisher: &Publisher) -> (Self, Vec<u8>) {
        let template = Self::of(copy, publisher);
        let bytes = fill(&template.bytes, &template.holes, copy);
        (template, bytes)
    }

    /// Whether `copy` (for `publisher`) has this template's shape.
    pub fn fits(&self, copy: &Personalised, publisher: &Publisher) -> bool {
        self.shape.fits(copy, publisher)
    }

    /// The document of `copy`, the bytes [`Csaf::to_bytes`] gives; `None` when the copy has another shape.
    pub fn fill(&self, copy: &Personalised, publisher: &Publisher) -> Option<Vec<u8>> {
        self.fits(copy, publisher).then(|| fill(&self.bytes, &self.holes, copy))
    }

    /// Whether other copies can have this shape: not when the copy has no history, as its dates are then its time
    /// of making (a template of such a copy fits no later one).
    pub fn reusable(&self) -> bool {
        self.shape.generated_at.is_none()
    }
}

/// `bytes` with each hole filled with `copy`'s own part. The copy must have the shape the bytes were written for.
fn fill(bytes: &[u8], holes: &[(usize, Hole)], copy: &Personalised) -> Vec<u8> {
    let section = |kind: SectionKind| copy.section(kind);
    let room = holes.iter().fold(bytes.len(), |n, (_, hole)| {
        n + match hole {
            Hole::Partner => copy.partner_id.len() + 16,
            // (Lazily: the text of a fingerprinted section is assembled only when asked for.)
            Hole::Section(k) => {
                section(*k).map_or(0, |s| s.json_pieces().map_or_else(|| s.text().len() + 64, |(len, _)| len))
            }
        }
    });
    let mut out = Vec::with_capacity(room);
    let mut at = 0;
    for (offset, hole) in holes {
        out.extend_from_slice(&bytes[at..*offset]);
        at = *offset;
        match hole {
            Hole::Partner => escape_into(&mut out, &copy.partner_id),
            // A copy that fits has every section its template has a hole for.
            Hole::Section(kind) => match section(*kind).map(|s| (s, s.json_pieces())) {
                Some((_, Some((_, pieces)))) => pieces.for_each(|p| out.extend_from_slice(p)),
                Some((s, None)) => escape_into(&mut out, s.text()),
                None => {}
            },
        }
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

// Each `write` gives the fields of its struct in declaration order, skipping what `serde(skip_serializing_if)` skips.

impl Document<'_> {
    fn write(&self, w: &mut Pretty) {
        w.field("category", self.category);
        w.field("csaf_version", self.csaf_version);
        w.field("title", self.title);
        w.field("lang", self.lang);
        w.object_at("publisher", |w| {
            w.field("category", self.publisher.category);
            w.field("name", self.publisher.name);
            w.field("namespace", self.publisher.namespace);
        });
        w.object_at("distribution", |w| {
            w.object_at("tlp", |w| {
                w.field("label", self.distribution.tlp.label);
                w.field("url", self.distribution.tlp.url);
            });
            let text = &self.distribution.text;
            w.field_with_holes("text", &[Part::Text(SHARED_WITH), Part::Hole(Hole::Partner), Part::Text(&text.after)]);
        });
        if let Some(s) = &self.aggregate_severity {
            w.object_at("aggregate_severity", |w| w.field("text", s.text));
        }
        if !self.notes.is_empty() {
            w.objects("notes", &self.notes, Note::write);
        }
        let t = &self.tracking;
        w.object_at("tracking", |w| {
            w.field("id", t.id);
            w.field("status", t.status);
            w.field("version", &t.version);
            w.field("initial_release_date", &t.initial_release_date);
            w.field("current_release_date", &t.current_release_date);
            w.objects("revision_history", &t.revision_history, |w, r| {
                w.field("date", &r.date);
                w.field("number", &r.number);
                w.field("summary", r.summary);
            });
            w.object_at("generator", |w| {
                w.object_at("engine", |w| {
                    w.field("name", t.generator.engine.name);
                    w.field("version", t.generator.engine.version);
                });
                w.field("date", &t.generator.date);
            });
        });
    }
}

impl Note<'_> {
    fn write(w: &mut Pretty, n: &Self) {
        w.field("category", n.category);
        w.field("title", n.title);
        n.text.write(w, "text");
    }
}

impl Remark<'_> {
    fn write(w: &mut Pretty, r: &Self) {
        w.field("category", r.category);
        r.details.write(w, "details");
        w.strings("product_ids", &r.product_ids);
    }
}

impl Branch<'_> {
    fn write(w: &mut Pretty, b: &Self) {
        w.field("category", b.category);
        w.field("name", &b.name);
        w.objects("branches", &b.branches, |w, l| {
            w.field("category", l.category);
            w.field("name", l.name);
            w.object_at("product", |w| {
                w.field("name", &l.product.name);
                w.field("product_id", &l.product.product_id);
            });
        });
    }
}

impl Vulnerability<'_> {
    fn write(w: &mut Pretty, v: &Self) {
        if let Some(cve) = v.cve {
            w.field("cve", cve);
        }
        if !v.ids.is_empty() {
            w.objects("ids", &v.ids, |w, id| {
                w.field("system_name", id.system_name);
                w.field("text", id.text);
            });
        }
        w.field("title", v.title);
        if let Some(cwe) = &v.cwe {
            w.object_at("cwe", |w| {
                w.field("id", cwe.id);
                w.field("name", cwe.name);
            });
        }
        w.objects("notes", &v.notes, Note::write);
        w.object_at("product_status", |w| w.strings("known_affected", &v.product_status.known_affected));
        if !v.remediations.is_empty() {
            w.objects("remediations", &v.remediations, Remark::write);
        }
        if !v.threats.is_empty() {
            w.objects("threats", &v.threats, Remark::write);
        }
        if !v.scores.is_empty() {
            w.objects("scores", &v.scores, |w, s| {
                w.strings("products", &s.products);
                w.object_at("cvss_v3", |w| {
                    w.field("version", s.cvss_v3.version);
                    w.field("vectorString", s.cvss_v3.vector_string);
                    w.number("baseScore", s.cvss_v3.base_score);
                    w.field("baseSeverity", s.cvss_v3.base_severity);
                });
            });
        }
    }
}

#[derive(Debug, Serialize)]
struct Document<'a> {
    category: &'static str,
    csaf_version: &'static str,
    title: &'a str,
    lang: &'static str,
    publisher: PublisherJson<'a>,
    distribution: Distribution<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregate_severity: Option<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<Note<'a>>,
    tracking: Tracking<'a>,
}

#[derive(Debug, Serialize)]
struct PublisherJson<'a> {
    category: &'static str,
    name: &'a str,
    namespace: &'a str,
}

#[derive(Debug, Serialize)]
struct Distribution<'a> {
    tlp: Tlp,
    text: DistributionText<'a>,
}

/// How `distribution.text` begins; the partner's id follows.
const SHARED_WITH: &str = "TLP:AMBER+STRICT. Shared in confidence with ";

/// `distribution.text`: [`SHARED_WITH`], the partner's id (a hole in a template), and the rest.
#[derive(Debug)]
struct DistributionText<'a> {
    partner: &'a str,
    after: String,
}

impl Serialize for DistributionText<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{SHARED_WITH}{}{}", self.partner, self.after))
    }
}

#[derive(Debug, Serialize)]
struct Tlp {
    label: &'static str,
    url: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct Text {
    text: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct Note<'a> {
    category: &'static str,
    title: &'static str,
    text: SectionText<'a>,
}

/// Text that may come from a section of the copy: serialised as the text; written from the copy's pre-escaped form
/// of it when it has one (the byte-equality tests check that both give the same document), so that a fingerprinted
/// section's plain text is never assembled for a CSAF document.
#[derive(Debug, Clone, Copy)]
enum SectionText<'a> {
    Copy(SectionKind, &'a SectionCopy),
    Plain(&'a str),
}

impl<'a> SectionText<'a> {
    fn of(copy: &'a Personalised, kind: SectionKind) -> Option<Self> {
        copy.section(kind).map(|s| Self::Copy(kind, s))
    }

    /// A section's text is a hole, filled from the copy.
    fn write(&self, w: &mut Pretty, key: &'static str) {
        match self {
            Self::Copy(kind, _) => w.field_with_holes(key, &[Part::Hole(Hole::Section(*kind))]),
            Self::Plain(text) => w.field(key, text),
        }
    }
}

impl Serialize for SectionText<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Copy(_, s) => serializer.serialize_str(s.text()),
            Self::Plain(text) => serializer.serialize_str(text),
        }
    }
}

#[derive(Debug, Serialize)]
struct Tracking<'a> {
    id: &'a str,
    status: &'static str,
    version: String,
    initial_release_date: String,
    current_release_date: String,
    revision_history: Vec<Revision<'a>>,
    generator: Generator,
}

#[derive(Debug, Serialize)]
struct Revision<'a> {
    date: String,
    number: String,
    summary: &'a str,
}

#[derive(Debug, Serialize)]
struct Generator {
    engine: Engine,
    date: String,
}

#[derive(Debug, Serialize)]
struct Engine {
    name: &'static str,
    version: &'static str,
}

#[derive(Debug, Serialize)]
struct ProductTree<'a> {
    branches: Vec<Branch<'a>>,
}

#[derive(Debug, Serialize)]
struct Branch<'a> {
    category: &'static str,
    name: String,
    branches: Vec<Leaf<'a>>,
}

#[derive(Debug, Serialize)]
struct Leaf<'a> {
    category: &'static str,
    name: &'a str,
    product: Product,
}

#[derive(Debug, Serialize)]
struct Product {
    name: String,
    product_id: String,
}

#[derive(Debug, Clone, Serialize)]
struct Vulnerability<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cve: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ids: Vec<VulnerabilityId<'a>>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwe: Option<Cwe<'a>>,
    notes: Vec<Note<'a>>,
    product_status: ProductStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remediations: Vec<Remark<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    threats: Vec<Remark<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scores: Vec<Score<'a>>,
}

#[derive(Debug, Clone, Serialize)]
struct VulnerabilityId<'a> {
    system_name: &'a str,
    text: &'a str,
}

#[derive(Debug, Clone, Serialize)]
struct Cwe<'a> {
    id: &'a str,
    name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct ProductStatus {
    known_affected: Vec<String>,
}

/// A remediation or a threat: both are a category, details and the products they apply to.
#[derive(Debug, Clone, Serialize)]
struct Remark<'a> {
    category: &'static str,
    details: SectionText<'a>,
    product_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Score<'a> {
    products: Vec<String>,
    cvss_v3: CvssV3<'a>,
}

#[derive(Debug, Clone, Serialize)]
struct CvssV3<'a> {
    version: &'static str,
    #[serde(rename = "vectorString")]
    vector_string: &'a str,
    #[serde(rename = "baseScore")]
    base_score: f64,
    #[serde(rename = "baseSeverity")]
    base_severity: &'static str,
}

fn severity_upper(s: Severity) -> &'static str {
    match s {
        Severity::None => "NONE",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// The CSAF document for a personalised copy.
pub fn document<'a>(copy: &'a Personalised, publisher: &'a Publisher) -> Csaf<'a> {
    let meta = &copy.meta;
    // Product tree: product name -> version ranges, one product id per range. The profile requires a product
    // tree, so an advisory that names no product gets one placeholder.
    let placeholder = format!("Products named in {}", copy.advisory_id);
    let mut product_ids: Vec<String> = Vec::new();
    let mut branches: Vec<Branch<'a>> = Vec::new();
    let products: Vec<(&'a str, &'a [String])> =
        meta.products.iter().map(|p| (p.name.as_str(), p.versions.as_slice())).collect();
    let leaf = |product_ids: &mut Vec<String>, name: &str, range: &'a str| {
        let id = format!("FWPID-{:04}", product_ids.len() + 1);
        product_ids.push(id.clone());
        Leaf {
            category: "product_version_range",
            name: range,
            product: Product { name: format!("{name} {range}"), product_id: id },
        }
    };
    if products.is_empty() {
        let leaves = vec![leaf(&mut product_ids, &placeholder, "all versions")];
        branches.push(Branch { category: "product_name", name: placeholder, branches: leaves });
    } else {
        for (name, versions) in products {
            let leaves = if versions.is_empty() {
                vec![leaf(&mut product_ids, name, "all versions")]
            } else {
                versions.iter().map(|v| leaf(&mut product_ids, name, v.as_str())).collect()
            };
            branches.push(Branch { category: "product_name", name: name.to_owned(), branches: leaves });
        }
    }

    let revision_history: Vec<Revision<'a>> = copy
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| Revision { date: time(h.at), number: (i + 1).to_string(), summary: &h.summary })
        .collect();
    let initial = copy.history.first().map_or(copy.generated_at, |h| h.at);
    let document = Document {
        category: "csaf_security_advisory",
        csaf_version: "2.0",
        title: &meta.title,
        lang: "en",
        publisher: PublisherJson { category: "vendor", name: &publisher.name, namespace: &publisher.namespace },
        distribution: Distribution {
            tlp: Tlp { label: "AMBER", url: "https://www.first.org/tlp/" },
            text: DistributionText {
                partner: &copy.partner_id,
                after: format!(
                    " for its own organisation only, under embargo until {} ({}). This copy is personalised for that partner; do not redistribute.",
                    time(copy.release_at),
                    if copy.released { "the embargo has ended" } else { "the embargo is in force" }
                ),
            },
        },
        aggregate_severity: meta
            .cvss
            .as_ref()
            .and_then(forewarn_core::Cvss::severity)
            .map(|s| Text { text: severity_text(s) }),
        notes: SectionText::of(copy, SectionKind::Summary)
            .map(|text| Note { category: "summary", title: "Summary", text })
            .into_iter()
            .collect(),
        tracking: Tracking {
            id: &copy.advisory_id,
            status: if copy.released { "final" } else { "interim" },
            version: copy.history.len().max(1).to_string(),
            initial_release_date: time(initial),
            current_release_date: time(copy.updated()),
            revision_history,
            // The copy's last change, not the time of the request: the same copy is the same bytes, so a
            // `.sha256` fetched separately matches the document.
            generator: Generator {
                engine: Engine { name: "forewarn", version: env!("CARGO_PKG_VERSION") },
                date: time(copy.updated()),
            },
        },
    };

    let mut notes = Vec::new();
    if let Some(text) = SectionText::of(copy, SectionKind::Details) {
        notes.push(Note { category: "description", title: "Details", text });
    }
    if let Some(text) = SectionText::of(copy, SectionKind::Detection) {
        notes.push(Note { category: "other", title: "Detection guidance", text });
    }
    if let Some(text) = SectionText::of(copy, SectionKind::Poc) {
        notes.push(Note { category: "other", title: "Proof of concept", text });
    }
    if notes.is_empty() {
        // The profile wants notes on every vulnerability; repeat what the copy already says, and nothing more.
        let text = SectionText::of(copy, SectionKind::Summary).unwrap_or(SectionText::Plain(&meta.title));
        notes.push(Note { category: "summary", title: "Summary", text });
    }
    let scores = meta
        .cvss
        .as_ref()
        .filter(|c| c.version() != forewarn_core::cvss::CvssVersion::V4_0)
        .and_then(|cvss| {
            let (score, sev) = (cvss.base_score()?, cvss.severity()?);
            Some(Score {
                products: product_ids.clone(),
                cvss_v3: CvssV3 {
                    version: cvss.version().as_str(),
                    vector_string: cvss.vector(),
                    base_score: score,
                    base_severity: severity_upper(sev),
                },
            })
        })
        .into_iter()
        .collect();
    let vulnerability = Vulnerability {
        cve: None,
        ids: Vec::new(),
        title: &meta.title,
        cwe: meta.cwe.as_ref().and_then(|c| crate::cwe::name(c.as_str()).map(|name| Cwe { id: c.as_str(), name })),
        notes,
        product_status: ProductStatus { known_affected: product_ids.clone() },
        remediations: SectionText::of(copy, SectionKind::Mitigation)
            .map(|details| Remark { category: "mitigation", details, product_ids: product_ids.clone() })
            .into_iter()
            .collect(),
        threats: if meta.flags.contains(&forewarn_core::AdvisoryFlag::ExploitedInTheWild) {
            vec![Remark {
                category: "exploit_status",
                details: SectionText::Plain("Exploited in the wild"),
                product_ids: product_ids.clone(),
            }]
        } else {
            Vec::new()
        },
        scores,
    };
    // CSAF 2.0 gives each vulnerability one CVE: one entry per CVE, or one with the program's id when none is assigned.
    let vulnerabilities = if meta.cves.is_empty() {
        vec![Vulnerability {
            ids: vec![VulnerabilityId { system_name: &publisher.name, text: &copy.advisory_id }],
            ..vulnerability
        }]
    } else {
        meta.cves.iter().map(|cve| Vulnerability { cve: Some(cve.as_str()), ..vulnerability.clone() }).collect()
    };
    Csaf { document, product_tree: ProductTree { branches }, vulnerabilities, copy, publisher }
}

#[cfg(test)]
mod tests {
    use forewarn_core::{AdvisoryFlag, CveId, Cvss, CweId, Product, RevisionMeta, SectionKind};

    use super::*;
    use crate::HistoryEntry;

    /// Times are formatted as the strftime pattern `%Y-%m-%dT%H:%M:%S%.3fZ` formats them.
    #[test]
    fn times_are_formatted_as_the_strftime_pattern_does() {
        let mut seconds: i64 = -62_135_596_800; // 0001-01-01
        while seconds < 253_402_300_799 {
            for nanos in [0, 1, 999_999, 1_000_000, 123_456_789, 999_999_999] {
                let t = Timestamp::new(seconds, nanos).unwrap();
                assert_eq!(time(t), t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), "{seconds} {nanos}");
            }
            seconds += 7_777_777 + seconds.rem_euclid(86_399);
        }
        let before = Timestamp::new(-62_135_596_801, 0).unwrap();
        assert_eq!(time(before), before.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    }

    /// Every part of a document — several CVEs, a CWE, products with and without versions, every section, history,
    /// threats, scores — comes out as serde_json's pretty form of the same value.
    #[test]
    fn served_bytes_are_serde_json_pretty() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let text = "Line one \"quoted\" and back\\slash,\n\ttabbed — ünïcode\u{1}.\n\n```\ncode {}\n```";
        let copy = Personalised {
            advisory_id: "ADV-2026-0042".into(),
            revision: 2,
            partner_id: "kestrel".into(),
            meta: RevisionMeta {
                title: "Heap overflow in \"widget\" parser".into(),
                products: vec![
                    Product::new("Contoso Widget", vec!["1.0 through 1.4".into(), "2.0".into()]).unwrap(),
                    Product::new("Contoso Gadget", vec![]).unwrap(),
                ],
                cvss: Some(Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
                cwe: Some(CweId::parse("CWE-787").unwrap()),
                cves: vec![CveId::parse("CVE-2026-1234").unwrap(), CveId::parse("CVE-2026-5678").unwrap()],
                flags: vec![AdvisoryFlag::ExploitedInTheWild],
                marking: 2,
            },
            sections: SectionKind::ALL.iter().map(|k| (*k, SectionCopy::plain(format!("{k}: {text}")))).collect(),
            upcoming: vec![],
            attachments: std::sync::Arc::from([]),
            release_at: at("2026-12-08T18:00:00Z"),
            released: false,
            history: vec![
                HistoryEntry {
                    at: at("2026-11-01T18:00:00Z"),
                    summary: "Initial release to this partner: Summary".into(),
                },
                HistoryEntry { at: at("2026-11-20T18:00:00Z"), summary: "Sections added: Details".into() },
            ],
            generated_at: at("2026-11-25T00:00:00Z"),
            fingerprint: None,
        };
        let publisher = Publisher { name: "Contoso PSIRT".into(), namespace: "https://psirt.contoso.example".into() };
        // The same copy fingerprinted: its sections written from their pre-escaped pieces (with variation points from
        // the dictionary, so that some pieces are alternatives).
        let key = forewarn_mark::code::Key::from_bytes([3; 32]);
        let marked = |k: SectionKind, t: &str| {
            let section = crate::code_section("ADV-2026-0042", 2, k);
            let m = crate::MarkedSection::prepare(
                &key,
                &section,
                &format!("{t} For example, the behavior cannot change."),
                forewarn_mark::Scheme::V1,
            )
            .unwrap();
            let symbols = m.marked.symbols(&key, &section, "kestrel");
            SectionCopy::marked(std::sync::Arc::new(m), symbols)
        };
        let escaped =
            Personalised { sections: copy.sections.iter().map(|(k, t)| (*k, marked(*k, t))).collect(), ..copy.clone() };
        assert!(escaped.sections.iter().all(|(_, s)| s.json_pieces().is_some()));
        for copy in [copy.clone(), escaped, Personalised { sections: vec![], history: vec![], ..copy }] {
            let doc = document(&copy, &publisher);
            let mut want = serde_json::to_vec_pretty(&doc).unwrap();
            want.push(b'\n');
            assert_eq!(String::from_utf8(doc.to_bytes()).unwrap(), String::from_utf8(want).unwrap());
        }
    }

    fn sample_copy(partner: &str) -> (Personalised, Publisher) {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let key = forewarn_mark::code::Key::from_bytes([9; 32]);
        let sections = [SectionKind::Summary, SectionKind::Details, SectionKind::Mitigation]
            .into_iter()
            .map(|k| {
                let section = crate::code_section("ADV-2026-0007", 1, k);
                let text = format!("The {k} \"quoted\", for example; the behavior cannot change.\n\n- one\n- two");
                let m = crate::MarkedSection::prepare(&key, &section, &text, forewarn_mark::Scheme::V1).unwrap();
                let symbols = m.marked.symbols(&key, &section, partner);
                (k, SectionCopy::marked(std::sync::Arc::new(m), symbols))
            })
            .collect();
        let copy = Personalised {
            advisory_id: "ADV-2026-0007".into(),
            revision: 1,
            partner_id: partner.into(),
            meta: RevisionMeta {
                title: "Overflow in \"parser\"".into(),
                products: vec![Product::new("Contoso Widget", vec!["1.0".into()]).unwrap()],
                cvss: Some(Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
                cwe: None,
                cves: vec![CveId::parse("CVE-2026-1111").unwrap()],
                flags: vec![],
                marking: 2,
            },
            sections,
            upcoming: vec![],
            attachments: std::sync::Arc::from([]),
            release_at: at("2026-12-08T18:00:00Z"),
            released: true,
            history: vec![HistoryEntry {
                at: at("2026-12-03T18:00:00Z"),
                summary: "Initial release to this partner: Summary, Details, Mitigation".into(),
            }],
            generated_at: at("2026-12-09T00:00:00Z"),
            fingerprint: None,
        };
        (copy, Publisher { name: "Contoso PSIRT".into(), namespace: "https://psirt.contoso.example".into() })
    }

    /// One partner's template gives another partner's copy of the same shape exactly its own document: its id, its
    /// fingerprinted sections, and not one byte of the first partner's.
    #[test]
    fn a_template_fills_every_copy_of_its_shape_with_that_copys_own_parts() {
        let (first, publisher) = sample_copy("kestrel");
        let template = Template::of(&first, &publisher);
        assert!(template.reusable());
        for partner in ["hanshan", "a\"partner\\with-escapes", "kestrel"] {
            let (copy, _) = sample_copy(partner);
            let want = document(&copy, &publisher).to_bytes();
            assert_eq!(template.fill(&copy, &publisher), Some(want.clone()), "{partner}");
            let text = String::from_utf8(want).unwrap();
            let escaped = serde_json::to_string(partner).unwrap();
            assert!(text.contains(&format!("with {} for", &escaped[1..escaped.len() - 1])), "{partner}");
            assert_eq!(text.contains("kestrel"), partner == "kestrel");
            // Each section is this copy's own fingerprinted text; where it differs from the first partner's, none of
            // the first partner's is there.
            for ((kind, own), (_, firsts)) in copy.sections.iter().zip(&first.sections) {
                assert!(text.contains(&serde_json::to_string(own.text()).unwrap()), "{partner} {kind}");
                if own.text() != firsts.text() {
                    assert!(!text.contains(&serde_json::to_string(firsts.text()).unwrap()), "{partner} {kind}");
                }
            }
        }
        let (other, _) = sample_copy("hanshan");
        assert!(
            other.sections.iter().zip(&first.sections).any(|((_, a), (_, b))| a.text() != b.text()),
            "the sample's marks tell these two partners apart, so the check above compared different texts"
        );
    }

    /// A CSAF document copies a fingerprinted section's escaped pieces; its plain text is never assembled for it.
    #[test]
    fn filling_a_template_leaves_the_sections_text_unassembled() {
        let (copy, publisher) = sample_copy("kestrel");
        let unassembled = |copy: &Personalised| {
            copy.sections.iter().all(|(_, s)| matches!(&s.0, crate::Form::Marked { text, .. } if text.get().is_none()))
        };
        assert!(unassembled(&copy));
        let bytes = Template::of(&copy, &publisher).fill(&copy, &publisher).unwrap();
        assert!(unassembled(&copy));
        assert!(String::from_utf8(bytes).unwrap().contains(&serde_json::to_string(copy.sections[0].1.text()).unwrap()));
        assert!(!unassembled(&copy), "text() assembles it");
    }

    /// A copy that differs from the template's in anything the document says outside its holes is refused.
    #[test]
    fn a_template_refuses_a_copy_of_another_shape() {
        let (copy, publisher) = sample_copy("kestrel");
        let template = Template::of(&copy, &publisher);
        let later = copy.generated_at + jiff::SignedDuration::from_hours(1);
        let others: Vec<(&str, Personalised, Publisher)> = vec![
            (
                "fewer sections",
                Personalised { sections: copy.sections[..2].to_vec(), ..copy.clone() },
                publisher.clone(),
            ),
            ("not released", Personalised { released: false, ..copy.clone() }, publisher.clone()),
            ("moved", Personalised { release_at: later, ..copy.clone() }, publisher.clone()),
            ("no history", Personalised { history: vec![], ..copy.clone() }, publisher.clone()),
            (
                "another history of the same length",
                Personalised {
                    history: vec![HistoryEntry { at: later, summary: copy.history[0].summary.clone() }],
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            (
                "other sections, as many",
                Personalised {
                    sections: copy
                        .sections
                        .iter()
                        .map(|(k, s)| (if *k == SectionKind::Mitigation { SectionKind::Poc } else { *k }, s.clone()))
                        .collect(),
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            ("another revision", Personalised { revision: 2, ..copy.clone() }, publisher.clone()),
            (
                "another advisory",
                Personalised { advisory_id: "ADV-2026-0008".into(), ..copy.clone() },
                publisher.clone(),
            ),
            (
                "another title",
                Personalised { meta: RevisionMeta { title: "Other".into(), ..copy.meta.clone() }, ..copy.clone() },
                publisher.clone(),
            ),
            (
                "other products",
                Personalised {
                    meta: RevisionMeta {
                        products: vec![Product::new("Contoso Widget", vec!["2.0".into()]).unwrap()],
                        ..copy.meta.clone()
                    },
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            (
                "another score",
                Personalised {
                    meta: RevisionMeta {
                        cvss: Some(Cvss::parse("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
                        ..copy.meta.clone()
                    },
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            (
                "a CWE",
                Personalised {
                    meta: RevisionMeta { cwe: Some(CweId::parse("CWE-787").unwrap()), ..copy.meta.clone() },
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            (
                "no CVE",
                Personalised { meta: RevisionMeta { cves: vec![], ..copy.meta.clone() }, ..copy.clone() },
                publisher.clone(),
            ),
            (
                "exploited",
                Personalised {
                    meta: RevisionMeta { flags: vec![AdvisoryFlag::ExploitedInTheWild], ..copy.meta.clone() },
                    ..copy.clone()
                },
                publisher.clone(),
            ),
            ("another publisher", copy.clone(), Publisher { name: "Other PSIRT".into(), ..publisher.clone() }),
            (
                "another namespace",
                copy.clone(),
                Publisher { namespace: "https://other.example".into(), ..publisher.clone() },
            ),
        ];
        for (what, other, publisher) in others {
            assert!(!template.fits(&other, &publisher), "{what}");
            assert_eq!(template.fill(&other, &publisher), None, "{what}");
            // Each of these but the revision number (compared for strictness; the document does not say it) changes
            // the document outside the holes: a template that took such a copy would serve wrong bytes.
            let changes = Template::of(&other, &publisher).bytes != template.bytes;
            assert_eq!(changes, what != "another revision", "{what}");
        }
        // The time of making matters only without a history, and then no other copy fits.
        assert!(template.fits(&Personalised { generated_at: later, ..copy.clone() }, &publisher));
        let bare = Personalised { history: vec![], ..copy.clone() };
        let t = Template::of(&bare, &publisher);
        assert!(!t.reusable());
        assert!(!t.fits(&Personalised { generated_at: later, ..bare }, &publisher));
    }
}
