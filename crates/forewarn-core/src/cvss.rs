//! CVSS vectors: v3.0 and v3.1 with their base score, v4.0 validated (its score needs the macro-vector lookup
//! table and is not computed here; such advisories carry no derived severity until one is given).

use std::fmt;

use crate::error::{quote, Invalid};

/// Qualitative severity rating, as CVSS v3.1 section 5 defines it from the base score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// From a base score in tenths (0..=100).
    pub fn from_score_tenths(score: u8) -> Self {
        match score {
            0 => Self::None,
            1..=39 => Self::Low,
            40..=69 => Self::Medium,
            70..=89 => Self::High,
            _ => Self::Critical,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(Invalid::new("severity", format!("{} is not one of none, low, medium, high, critical", quote(s)))),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CvssVersion {
    V3_0,
    V3_1,
    V4_0,
}

impl CvssVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V4_0 => "4.0",
        }
    }
}

/// A validated CVSS vector string. The string is kept exactly as given (it is the canonical exchange form);
/// the base score is derived once at parse time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cvss {
    vector: String,
    version: CvssVersion,
    base_score_tenths: Option<u8>,
}

/// Metric name, allowed values, mandatory in the base group.
type MetricSpec = (&'static str, &'static str, bool);

const V3_METRICS: &[MetricSpec] = &[
    ("AV", "NALP", true),
    ("AC", "LH", true),
    ("PR", "NLH", true),
    ("UI", "NR", true),
    ("S", "UC", true),
    ("C", "HLN", true),
    ("I", "HLN", true),
    ("A", "HLN", true),
    ("E", "XUPFH", false),
    ("RL", "XOTWU", false),
    ("RC", "XURC", false),
    ("CR", "XLMH", false),
    ("IR", "XLMH", false),
    ("AR", "XLMH", false),
    ("MAV", "XNALP", false),
    ("MAC", "XLH", false),
    ("MPR", "XNLH", false),
    ("MUI", "XNR", false),
    ("MS", "XUC", false),
    ("MC", "XNLH", false),
    ("MI", "XNLH", false),
    ("MA", "XNLH", false),
];

const V4_METRICS: &[MetricSpec] = &[
    ("AV", "NALP", true),
    ("AC", "LH", true),
    ("AT", "NP", true),
    ("PR", "NLH", true),
    ("UI", "NPA", true),
    ("VC", "HLN", true),
    ("VI", "HLN", true),
    ("VA", "HLN", true),
    ("SC", "HLN", true),
    ("SI", "HLN", true),
    ("SA", "HLN", true),
    ("E", "XAPU", false),
    ("CR", "XHML", false),
    ("IR", "XHML", false),
    ("AR", "XHML", false),
    ("MAV", "XNALP", false),
    ("MAC", "XLH", false),
    ("MAT", "XNP", false),
    ("MPR", "XNLH", false),
    ("MUI", "XNPA", false),
    ("MVC", "XHLN", false),
    ("MVI", "XHLN", false),
    ("MVA", "XHLN", false),
    ("MSC", "XHLN", false),
    ("MSI", "XSHLN", false),
    ("MSA", "XSHLN", false),
    ("S", "XNP", false),
    ("AU", "XNY", false),
    ("R", "XAUI", false),
    ("V", "XDC", false),
    ("RE", "XLMH", false),
    ("U", "XClearGreenAmberRed", false),
];

impl Cvss {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let err = |why: String| Invalid::new("CVSS vector", format!("{} {why}", quote(s)));
        let s = s.trim();
        let (prefix, rest) = s.split_once('/').ok_or_else(|| {
            err("is not a CVSS vector; expected e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into())
        })?;
        let (version, specs) = match prefix {
            "CVSS:3.0" => (CvssVersion::V3_0, V3_METRICS),
            "CVSS:3.1" => (CvssVersion::V3_1, V3_METRICS),
            "CVSS:4.0" => (CvssVersion::V4_0, V4_METRICS),
            _ => return Err(err("does not start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/".into())),
        };
        let mut values: Vec<Option<&str>> = vec![None; specs.len()];
        for part in rest.split('/') {
            let (name, value) = part.split_once(':').ok_or_else(|| err(format!("has a malformed metric {part:?}")))?;
            let index = specs
                .iter()
                .position(|(n, _, _)| *n == name)
                .ok_or_else(|| err(format!("has an unknown metric {name:?} for CVSS {}", version.as_str())))?;
            let allowed = specs[index].1;
            let value_ok = if name == "U" {
                ["X", "Clear", "Green", "Amber", "Red"].contains(&value)
            } else {
                value.len() == 1 && allowed.contains(value)
            };
            if !value_ok {
                return Err(err(format!("has an invalid value {value:?} for metric {name}")));
            }
            if values[index].replace(value).is_some() {
                return Err(err(format!("repeats metric {name}")));
            }
        }
        if let Some((name, _, _)) = specs.iter().zip(&values).find(|((_, _, m), v)| *m && v.is_none()).map(|(s, _)| s) {
            return Err(err(format!("lacks the base metric {name}")));
        }
        let metrics: Vec<(&str, &str)> =
            specs.iter().zip(&values).filter_map(|((n, _, _), v)| v.map(|v| (*n, v))).collect();
        let base_score_tenths = match version {
            CvssVersion::V3_0 | CvssVersion::V3_1 => Some(v3_base_score_tenths(version, &metrics)),
            CvssVersion::V4_0 => None,
        };
        Ok(Self { vector: s.to_owned(), version, base_score_tenths })
    }

    pub fn vector(&self) -> &str {
        &self.vector
    }

    pub fn version(&self) -> CvssVersion {
        self.version
    }

    /// The base score in tenths (98 = 9.8), where this crate computes it (v3.x).
    pub fn base_score_tenths(&self) -> Option<u8> {
        self.base_score_tenths
    }

    /// The base score as a number (9.8), where this crate computes it (v3.x).
    pub fn base_score(&self) -> Option<f64> {
        self.base_score_tenths.map(|t| f64::from(t) / 10.0)
    }

    pub fn severity(&self) -> Option<Severity> {
        self.base_score_tenths.map(Severity::from_score_tenths)
    }
}

impl fmt::Display for Cvss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.vector)
    }
}

/// CVSS v3.1 specification, section 7.1 and Appendix A ("Roundup").
fn v3_base_score_tenths(version: CvssVersion, metrics: &[(&str, &str)]) -> u8 {
    let get = |name: &str| metrics.iter().find(|(n, _)| *n == name).map_or("X", |(_, v)| *v);
    let changed = get("S") == "C";
    let av = match get("AV") {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        _ => 0.2,
    };
    let ac = if get("AC") == "L" { 0.77 } else { 0.44 };
    let pr = match (get("PR"), changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        (_, false) => 0.27,
        (_, true) => 0.5,
    };
    let ui = if get("UI") == "N" { 0.85 } else { 0.62 };
    let cia = |m: &str| match get(m) {
        "H" => 0.56,
        "L" => 0.22,
        _ => 0.0,
    };
    let iss = 1.0 - (1.0 - cia("C")) * (1.0 - cia("I")) * (1.0 - cia("A"));
    let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * f64::powi(iss - 0.02, 15) } else { 6.42 * iss };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return 0;
    }
    let raw = if changed { (1.08 * (impact + exploitability)).min(10.0) } else { (impact + exploitability).min(10.0) };
    let tenths = match version {
        CvssVersion::V3_0 => (raw * 10.0).ceil(),
        _ => {
            let int_input = (raw * 100_000.0).round() as i64;
            if int_input % 10_000 == 0 {
                (int_input / 10_000) as f64
            } else {
                (int_input / 10_000 + 1) as f64
            }
        }
    };
    tenths.clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vector: &str, expect: Option<u8>) {
        let cvss = Cvss::parse(vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
        assert_eq!(cvss.base_score_tenths(), expect, "{vector}");
    }

    #[test]
    fn base_scores_match_the_reference_calculator() {
        // Scores from the FIRST CVSS v3.1 calculator.
        check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(98));
        check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Some(100));
        check("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Some(78));
        check("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", Some(61));
        check("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", Some(59));
        check("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", Some(16));
        check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", Some(0));
        check("CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", Some(90));
        check("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(98));
        check("CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:P", Some(98));
        check("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None);
    }

    #[test]
    fn severity_bands() {
        let sev = |v: &str| Cvss::parse(v).unwrap().severity();
        assert_eq!(sev("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(Severity::Critical));
        assert_eq!(sev("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), Some(Severity::High));
        assert_eq!(sev("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"), Some(Severity::Medium));
        assert_eq!(sev("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"), Some(Severity::Low));
    }

    #[test]
    fn rejects_malformed_vectors_with_the_reason() {
        for (bad, why) in [
            ("", "not a CVSS vector"),
            ("CVSS:2.0/AV:N", "does not start"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks the base metric A"),
            ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid value"),
            ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "repeats metric AV"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "unknown metric"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "malformed metric"),
            ("CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "lacks the base metric AT"),
        ] {
            let err = Cvss::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_valid_v31_vector_parses_to_a_score_in_range(
            av in 0usize..4, ac in 0usize..2, pr in 0usize..3, ui in 0usize..2, s in 0usize..2,
            c in 0usize..3, i in 0usize..3, a in 0usize..3,
        ) {
            let pick = |set: &str, n: usize| set.chars().nth(n).unwrap_or('N');
            let v = format!(
                "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
                pick("NALP", av), pick("LH", ac), pick("NLH", pr), pick("NR", ui), pick("UC", s),
                pick("HLN", c), pick("HLN", i), pick("HLN", a),
            );
            let cvss = Cvss::parse(&v).unwrap();
            let score = cvss.base_score_tenths().unwrap();
            proptest::prop_assert!(score <= 100);
            // No impact means a zero score, and only then.
            proptest::prop_assert_eq!(score == 0, c == 2 && i == 2 && a == 2);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,80}") {
            let _ = Cvss::parse(&s);
        }
    }
}
