//! ISO 3166-1 alpha-2 country codes: a partner's jurisdiction.

use std::fmt;
use std::str::FromStr;

use crate::error::{quote, Invalid};

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted.
const ASSIGNED: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI \
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS \
IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO \
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT \
TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A country by its ISO 3166-1 alpha-2 code (`CN`, `US`, `DE`, ...), upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase()) && ASSIGNED.split(' ').any(|c| c == upper)
        {
            let b = upper.as_bytes();
            Ok(Self([b[0], b[1]]))
        } else {
            Err(Invalid::new(
                "country code",
                format!("{} is not an ISO 3166-1 alpha-2 country code; use two letters such as US, DE or CN", quote(s)),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from ASCII upper-case letters in `parse`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_complete_and_sorted() {
        let codes: Vec<&str> = ASSIGNED.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(CountryCode::parse("cn").unwrap().as_str(), "CN");
        assert_eq!(CountryCode::parse("GB").unwrap().to_string(), "GB");
        for bad in ["", "C", "XX", "UK", "EU", "USA", "1A", "ÄÖ"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }
}
