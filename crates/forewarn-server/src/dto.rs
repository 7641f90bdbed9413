//! JSON shapes of the HTTP API. Serialization lives here, at the edge.

use forewarn_core::Partner;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
}

/// What a partner may know about itself.
#[derive(Debug, Serialize)]
pub struct PartnerView {
    pub id: String,
    pub name: String,
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
