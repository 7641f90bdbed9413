//! The forewarn domain: advisories and their sections, partners, staff, and the validated values they are made of.
//!
//! Architecture invariant: this crate does no IO, knows no database, no HTTP and no serialization format. Every
//! value that comes from outside is built through a validating `parse` (parse, don't validate), so a value of one
//! of these types is known to be well-formed wherever it travels.

pub mod advisory;
pub mod calendar;
pub mod country;
pub mod cvss;
pub mod ids;
pub mod net;
pub mod partner;
pub mod staff;

mod error;

pub use advisory::{
    Advisory, AdvisoryFlag, AdvisoryState, Attachment, LifecycleError, Product, RevisionMeta, ScheduleChange, Section,
    SectionKind, Sections, Status,
};
pub use calendar::ReleaseCalendar;
pub use country::CountryCode;
pub use cvss::{Cvss, Severity};
pub use error::Invalid;
pub use ids::{AdvisoryId, CveId, CweId, PartnerId, TierName, Username};
pub use net::IpNet;
pub use partner::{Partner, PartnerStatus, StatusError, TokenId};
pub use staff::{Role, Roles};

/// Lower-case hexadecimal, as digests and identifiers are written everywhere in forewarn.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
