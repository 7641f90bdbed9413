//! JSON shapes of the HTTP API, with their OpenAPI schemas. Serialization lives here, at the edge: the domain
//! types in `forewarn-core` are not serializable.

use forewarn_core::Partner;
use forewarn_render::Personalised;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `unauthenticated`, `forbidden`, `not_found`, `bad_request`, `conflict`, `rate_limited` or `internal`.
    pub error: &'static str,
    /// A sentence that says what to do.
    pub message: String,
}

/// What a partner may know about itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub tier: String,
    pub status: String,
    pub agreement_expires_at: Option<String>,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            country: p.country.to_string(),
            tier: p.tier.to_string(),
            status: p.status.to_string(),
            agreement_expires_at: p.agreement_expires_at.map(|t| t.to_string()),
        }
    }
}

/// A section that will become visible later.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upcoming {
    /// `summary`, `details`, `detection`, `mitigation` or `poc`.
    pub section: String,
    /// RFC 3339.
    pub visible_from: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: String,
    pub csaf: String,
}

/// One advisory in the caller's listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedAdvisory {
    pub id: String,
    pub title: String,
    /// T, RFC 3339.
    pub release_at: Option<String>,
    pub released: bool,
    pub revision: u32,
    /// The sections visible now.
    pub sections: Vec<String>,
    pub upcoming: Vec<Upcoming>,
    /// When the caller's copy last changed.
    pub updated: String,
    pub links: Links,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryList {
    pub advisories: Vec<ListedAdvisory>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CweRef {
    pub id: String,
    /// Present when forewarn's CWE table knows the name.
    pub name: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CvssRef {
    pub vector: String,
    pub base_score: Option<f64>,
    pub severity: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductRef {
    pub name: String,
    pub versions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentRef {
    pub name: String,
    pub media_type: String,
    pub size: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub summary: String,
}

/// The caller's copy of an advisory: metadata and exactly the sections visible to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryCopy {
    pub id: String,
    pub title: String,
    pub revision: u32,
    /// Always `TLP:AMBER+STRICT`.
    pub tlp: &'static str,
    pub release_at: String,
    pub released: bool,
    pub cves: Vec<String>,
    pub cwe: Option<CweRef>,
    pub cvss: Option<CvssRef>,
    pub products: Vec<ProductRef>,
    pub flags: Vec<String>,
    /// Section name -> Markdown, for the visible sections only.
    pub sections: std::collections::BTreeMap<String, String>,
    pub upcoming: Vec<Upcoming>,
    /// PoC attachments (in bundles only), listed when the PoC is visible.
    pub attachments: Vec<AttachmentRef>,
    pub history: Vec<HistoryEntry>,
    pub updated: String,
}

impl From<&Personalised> for AdvisoryCopy {
    fn from(c: &Personalised) -> Self {
        let m = &c.meta;
        Self {
            id: c.advisory_id.clone(),
            title: m.title.clone(),
            revision: c.revision,
            tlp: "TLP:AMBER+STRICT",
            release_at: c.release_at.to_string(),
            released: c.released,
            cves: m.cves.iter().map(ToString::to_string).collect(),
            cwe: m.cwe.as_ref().map(|x| CweRef { id: x.to_string(), name: forewarn_render::cwe::name(x.as_str()) }),
            cvss: m.cvss.as_ref().map(|x| CvssRef {
                vector: x.vector().to_owned(),
                base_score: x.base_score(),
                severity: x.severity().map(|s| s.as_str()),
            }),
            products: m
                .products
                .iter()
                .map(|p| ProductRef { name: p.name.clone(), versions: p.versions.clone() })
                .collect(),
            flags: m.flags.iter().map(|f| f.as_str().to_owned()).collect(),
            sections: c.sections.iter().map(|(k, b)| (k.as_str().to_owned(), b.text().to_owned())).collect(),
            upcoming: c
                .upcoming
                .iter()
                .map(|(k, t)| Upcoming { section: k.as_str().to_owned(), visible_from: t.to_string() })
                .collect(),
            attachments: c
                .attachments
                .iter()
                .map(|a| AttachmentRef { name: a.name.clone(), media_type: a.media_type.clone(), size: a.bytes.len() })
                .collect(),
            history: c
                .history
                .iter()
                .map(|h| HistoryEntry { at: h.at.to_string(), summary: h.summary.clone() })
                .collect(),
            updated: c.updated().to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenPgpKey {
    pub fingerprint: String,
    /// Armored certificate.
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Fingerprint {
    pub fingerprint: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// `https://...` (or `http://...`).
    pub url: String,
}

/// Answer to registering an endpoint: the signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookRegistered {
    pub url: String,
    /// `whsec_...` (Standard Webhooks).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub advisory_id: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempted_at: Option<String>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookInfo {
    pub url: String,
    pub secret_hint: String,
    pub deliveries: Vec<WebhookDelivery>,
}

/// A partner as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminPartner {
    pub id: String,
    pub name: String,
    pub country: String,
    pub tier: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_changed_at: String,
    pub agreement_expires_at: Option<String>,
    pub contacts: Vec<String>,
    pub flags: Vec<String>,
}

impl From<&Partner> for AdminPartner {
    fn from(p: &Partner) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            country: p.country.to_string(),
            tier: p.tier.to_string(),
            status: p.status.to_string(),
            status_reason: p.status_reason.clone(),
            status_changed_at: p.status_changed_at.to_string(),
            agreement_expires_at: p.agreement_expires_at.map(|t| t.to_string()),
            contacts: p.contacts.clone(),
            flags: p.flags.iter().cloned().collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// Why; kept in the history (never shown to the partner).
    pub reason: String,
}

/// One copy delivered.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryRecord {
    pub seq: i64,
    pub at: String,
    pub partner: String,
    pub advisory: String,
    pub revision: u32,
    pub sections: Vec<String>,
    /// `api`, `csaf`, `bundle` or `web`.
    pub channel: String,
    /// SHA-256 of the bytes served.
    pub sha256: String,
}

impl From<&forewarn_store::deliveries::Delivery> for DeliveryRecord {
    fn from(d: &forewarn_store::deliveries::Delivery) -> Self {
        Self {
            seq: d.seq,
            at: d.at.to_string(),
            partner: d.partner_id.clone(),
            advisory: d.advisory_id.clone(),
            revision: d.revision,
            sections: d.sections.clone(),
            channel: d.channel.clone(),
            sha256: d.digest.clone(),
        }
    }
}

/// Decisions with their explanations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub partner: String,
    pub advisory: String,
    pub at: String,
    pub release_at: Option<String>,
    /// One per section: visible_from (or null for never), visible_now, blocked, tier, rules with why and cap.
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<serde_json::Value>,
}

/// A decision and its trace as JSON (shared by the admin API and the CLI).
pub fn decision_json(d: &forewarn_policy::Decision, now: jiff::Timestamp) -> serde_json::Value {
    use forewarn_policy::Visibility;
    serde_json::json!({
        "section": d.section.as_str(),
        "visible_from": d.visibility.time().map(|t| t.to_string()),
        "visible_now": d.visibility.is_visible_at(now),
        "blocked": d.blocker.as_ref().map(|b| b.describe()),
        "tier": {"name": d.tier.as_str(), "lead": d.tier_lead.to_string(), "visible_from": d.tier_visibility.time().map(|t| t.to_string())},
        "rules": d.rules.iter().map(|r| serde_json::json!({
            "id": &*r.id,
            "description": &*r.description,
            "matched": r.matched,
            "why": &*r.why,
            "cap": r.cap.map(|c| c.to_string()),
            "cap_from": r.cap_visibility.and_then(|v| v.time()).map(|t| t.to_string()),
            "cap_never": r.cap_visibility == Some(Visibility::Never),
        })).collect::<Vec<_>>(),
        "agreement_ends": d.agreement_ends.map(|t| t.to_string()),
    })
}

/// One of the caller's events in the transparency log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptSummary {
    /// Its index in the log.
    pub entry: u64,
    /// `delivery` or `webhook`.
    pub kind: String,
    pub at: String,
    pub link: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptList {
    pub receipts: Vec<ReceiptSummary>,
}

/// A receipt: proof that an event is in the log. Check it offline with `forewarn log verify-receipt FILE --key KEY`:
/// the entry is `SHA-256("forewarn/log-event/v1\n" || salt || body)`, and `proof` (C2SP tlog-proof) shows that entry
/// in a checkpoint signed by the log's key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBody {
    pub entry: u64,
    pub kind: String,
    pub at: String,
    /// The event, parsed from `body` for reading.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// The event's exact bytes, as committed.
    pub body: String,
    /// Base64 of the 32-byte salt.
    pub salt: String,
    /// Base64 of the commitment (the log entry).
    pub commitment: String,
    /// The C2SP tlog-proof text.
    pub proof: String,
    /// The log's verifier key (check it against the one the program publishes before trusting this receipt).
    pub log_key: String,
}
