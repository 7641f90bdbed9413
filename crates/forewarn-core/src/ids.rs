//! Identifiers and short names, each built only through a validating `parse`.

use std::fmt;
use std::str::FromStr;

use crate::error::{quote, Invalid};

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Self::parse(s)
            }
        }
    };
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

string_newtype!(
    /// An advisory identifier such as `ADV-2026-0042`: a letter, then letters, digits, `.`, `_` or `-`,
    /// 3 to 64 characters. Case is kept as written.
    AdvisoryId
);

impl AdvisoryId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (3..=64).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new(
                "advisory id",
                format!(
                    "{} is not an advisory id; use 3-64 letters, digits, '.', '_' or '-', starting with a letter (e.g. ADV-2026-0042)",
                    quote(s)
                ),
            ))
        }
    }

    /// The identifier the program gives its `n`th advisory of `year`: `ADV-2026-0042`.
    pub fn numbered(year: i16, n: u32) -> Self {
        Self(format!("ADV-{year:04}-{n:04}"))
    }
}

string_newtype!(
    /// A partner's stable identifier: a slug such as `kestrel-edr` (lowercase letters, digits and `-`, 2-40).
    PartnerId
);

impl PartnerId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (2..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && !s.ends_with('-')
            && s.chars().all(is_slug_char);
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new(
                "partner id",
                format!("{} is not a partner id; partner ids are slugs such as kestrel-edr", quote(s)),
            ))
        }
    }

    /// The slug of an organisation's name: "Kestrel EDR, Inc." becomes `kestrel-edr-inc`.
    /// Returns `None` when the name has fewer than two letters or digits to make a slug from.
    pub fn slug_of(name: &str) -> Option<Self> {
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                if slug.len() == 40 {
                    break;
                }
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') && slug.len() < 39 {
                slug.push('-');
            }
        }
        while slug.ends_with('-') {
            slug.pop();
        }
        Self::parse(&slug).ok()
    }
}

string_newtype!(
    /// A staff login name: a lowercase letter, then lowercase letters, digits, `.`, `_` or `-`; 2-32 characters.
    Username
);

impl Username {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (2..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new(
                "user name",
                format!(
                    "{} is not a user name; use 2-32 lowercase letters, digits, '.', '_' or '-', starting with a letter",
                    quote(s)
                ),
            ))
        }
    }
}

string_newtype!(
    /// The name of a partner tier, such as `validate`, `ans` or `entry`: a lowercase letter, then lowercase
    /// letters, digits or `-`, at most 32 characters. Which tiers exist is the program's policy.
    TierName
);

impl TierName {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(is_slug_char);
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new(
                "tier name",
                format!("{} is not a tier name; tier names are lowercase words such as validate or entry", quote(s)),
            ))
        }
    }
}

string_newtype!(
    /// A CVE identifier, `CVE-YYYY-NNNN` with four or more digits in the sequence number.
    CveId
);

impl CveId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let upper = s.to_ascii_uppercase();
        let ok = (|| {
            let rest = upper.strip_prefix("CVE-")?;
            let (year, seq) = rest.split_once('-')?;
            let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && year >= "1999";
            let seq_ok = (4..=19).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
            (year_ok && seq_ok).then_some(())
        })()
        .is_some();
        if ok {
            Ok(Self(upper))
        } else {
            Err(Invalid::new("CVE id", format!("{} is not a CVE id; write it as CVE-2026-12345", quote(s))))
        }
    }
}

string_newtype!(
    /// A CWE identifier, `CWE-N`.
    CweId
);

impl CweId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let upper = s.to_ascii_uppercase();
        let ok = upper.strip_prefix("CWE-").is_some_and(|n| {
            (1..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0')
        });
        if ok {
            Ok(Self(upper))
        } else {
            Err(Invalid::new("CWE id", format!("{} is not a CWE id; write it as CWE-787", quote(s))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_ids() {
        assert!(AdvisoryId::parse("ADV-2026-0042").is_ok());
        assert_eq!(AdvisoryId::numbered(2026, 7).as_str(), "ADV-2026-0007");
        for bad in ["", "A", "1AB", "ADV 2026", "ADV/2026", "ADV-2026-0042\n"] {
            assert!(AdvisoryId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn partner_slugs() {
        assert_eq!(PartnerId::slug_of("Kestrel EDR, Inc.").unwrap().as_str(), "kestrel-edr-inc");
        assert_eq!(PartnerId::slug_of("  ÄÖ  CERT-Bund ").unwrap().as_str(), "cert-bund");
        assert!(PartnerId::slug_of("!!").is_none());
        let long = PartnerId::slug_of(&"abc def ".repeat(20)).unwrap();
        assert!(long.as_str().len() <= 40 && !long.as_str().ends_with('-'));
        assert!(PartnerId::parse("kestrel-").is_err());
        assert!(PartnerId::parse("Kestrel").is_err());
    }

    #[test]
    fn cve_and_cwe() {
        assert_eq!(CveId::parse("cve-2026-41021").unwrap().as_str(), "CVE-2026-41021");
        for bad in ["CVE-26-1234", "CVE-2026-123", "CVE-1998-1234", "CVE-2026-12a4", "2026-1234"] {
            assert!(CveId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(CweId::parse("cwe-787").unwrap().as_str(), "CWE-787");
        for bad in ["CWE-", "CWE-0", "CWE-01", "CWE-x", "787"] {
            assert!(CweId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_and_tiers() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("Alice").is_err());
        assert!(TierName::parse("validate").is_ok());
        assert!(TierName::parse("Validate").is_err());
        assert!(TierName::parse("").is_err());
    }

    #[test]
    fn long_input_is_not_echoed_whole() {
        let err = AdvisoryId::parse(&"x ".repeat(500)).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
    }
}
