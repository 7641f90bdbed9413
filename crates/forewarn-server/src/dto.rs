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
            sections: c.sections.iter().map(|(k, b)| (k.as_str().to_owned(), b.clone())).collect(),
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
    /// `http://...` (https is not supported yet).
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
