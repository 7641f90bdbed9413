//! Partners: the organisations that receive advisories ahead of release.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;

use crate::error::{quote, Invalid};
use crate::ids::{PartnerId, TierName};
use crate::CountryCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartnerStatus {
    Active,
    /// Temporarily cut off (an investigation, a lapsed agreement); can be reinstated.
    Suspended,
    /// Expelled from the program; final.
    Revoked,
}

impl PartnerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "revoked" => Ok(Self::Revoked),
            _ => Err(Invalid::new("partner status", format!("{} is not one of active, suspended, revoked", quote(s)))),
        }
    }
}

impl fmt::Display for PartnerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    /// The jurisdiction whose law the partner is under.
    pub country: CountryCode,
    pub tier: TierName,
    pub status: PartnerStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Timestamp,
    /// When the partner's non-disclosure agreement ends; after that it receives nothing.
    pub agreement_expires_at: Option<Timestamp>,
    /// Security contacts (e-mail addresses).
    pub contacts: Vec<String>,
    /// Program-defined markers such as `probation`, which policy rules can match.
    pub flags: BTreeSet<String>,
    pub created_at: Timestamp,
}

impl Partner {
    /// Whether the partner's standing lets it receive anything at `now`: active and under a current agreement.
    /// This is not a visibility decision (that is the policy engine's); it is its precondition.
    pub fn in_good_standing(&self, now: Timestamp) -> bool {
        self.status == PartnerStatus::Active && self.agreement_expires_at.is_none_or(|t| now < t)
    }
}

/// Why a change of status was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("partner {0} is revoked; revocation is final (add the organisation again as a new partner)")]
    Revoked(PartnerId),
    #[error("partner {id} is already {status}")]
    Unchanged { id: PartnerId, status: PartnerStatus },
    #[error("suspending or revoking a partner needs a reason (--reason)")]
    NeedsReason,
}

impl Partner {
    /// Moves the partner to `status`. Suspending and revoking need a reason; revoked is final.
    pub fn change_status(
        &mut self,
        status: PartnerStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StatusError> {
        if self.status == PartnerStatus::Revoked {
            return Err(StatusError::Revoked(self.id.clone()));
        }
        if self.status == status {
            return Err(StatusError::Unchanged { id: self.id.clone(), status });
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if status != PartnerStatus::Active && reason.is_none() {
            return Err(StatusError::NeedsReason);
        }
        self.status = status;
        self.status_reason = reason.map(str::to_owned);
        self.status_changed_at = now;
        Ok(())
    }
}

/// Validates an organisation name: one line, 2-120 characters.
pub fn parse_partner_name(s: &str) -> Result<String, Invalid> {
    let name = s.trim();
    if (2..=120).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(Invalid::new("partner name", "a partner name must be one line of 2-120 characters"))
    }
}

/// Validates a contact e-mail address (a pragmatic check: one `@`, a dot in the domain, no spaces).
pub fn parse_contact(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new("contact", format!("{} is not an e-mail address", quote(s))))
    }
}

/// Validates a partner flag: a lowercase word such as `probation`.
pub fn parse_partner_flag(s: &str) -> Result<String, Invalid> {
    TierName::parse(s.trim()).map(|t| t.as_str().to_owned()).map_err(|_| {
        Invalid::new("partner flag", format!("{} is not a flag; flags are lowercase words such as probation", quote(s)))
    })
}

/// The public half of an API token, used to find its stored hash: 12 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenId(String);

impl TokenId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new("token id", "a token id is 12 lowercase hex digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let mut p = Partner {
            id: PartnerId::parse("kestrel-edr").unwrap(),
            name: "Kestrel EDR".into(),
            country: CountryCode::parse("US").unwrap(),
            tier: TierName::parse("validate").unwrap(),
            status: PartnerStatus::Active,
            status_reason: None,
            status_changed_at: t("2026-01-01T00:00:00Z"),
            agreement_expires_at: Some(t("2027-01-01T00:00:00Z")),
            contacts: vec![],
            flags: BTreeSet::new(),
            created_at: t("2026-01-01T00:00:00Z"),
        };
        assert!(p.in_good_standing(t("2026-06-01T00:00:00Z")));
        assert!(!p.in_good_standing(t("2027-01-01T00:00:00Z")), "the agreement ends at its expiry");
        p.status = PartnerStatus::Suspended;
        assert!(!p.in_good_standing(t("2026-06-01T00:00:00Z")));
    }

    #[test]
    fn status_changes() {
        let t: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let mut p = Partner {
            id: PartnerId::parse("kestrel-edr").unwrap(),
            name: "Kestrel EDR".into(),
            country: CountryCode::parse("US").unwrap(),
            tier: TierName::parse("validate").unwrap(),
            status: PartnerStatus::Active,
            status_reason: None,
            status_changed_at: t,
            agreement_expires_at: None,
            contacts: vec![],
            flags: BTreeSet::new(),
            created_at: t,
        };
        assert_eq!(p.change_status(PartnerStatus::Suspended, Some(" "), t), Err(StatusError::NeedsReason));
        p.change_status(PartnerStatus::Suspended, Some("leak investigation"), t).unwrap();
        assert!(matches!(p.change_status(PartnerStatus::Suspended, Some("x"), t), Err(StatusError::Unchanged { .. })));
        p.change_status(PartnerStatus::Active, None, t).unwrap();
        assert_eq!(p.status_reason, None);
        p.change_status(PartnerStatus::Revoked, Some("expelled"), t).unwrap();
        assert!(matches!(p.change_status(PartnerStatus::Active, None, t), Err(StatusError::Revoked(_))));
    }

    #[test]
    fn contacts_and_names() {
        assert!(parse_contact("psirt@kestrel.example").is_ok());
        for bad in ["psirt", "@x.example", "a@b", "a b@c.example", "a@b@c.example", "a@.example"] {
            assert!(parse_contact(bad).is_err(), "{bad}");
        }
        assert!(parse_partner_name("K").is_err());
        assert!(parse_partner_name("Kestrel\nEDR").is_err());
        assert_eq!(parse_partner_flag("probation").unwrap(), "probation");
        assert!(TokenId::parse("0123456789ab").is_ok());
        assert!(TokenId::parse("0123456789AB").is_err());
    }
}
