//! The policy document: tiers, jurisdictions and rules, written in TOML (see `policy/default.toml` for a complete,
//! commented example) and validated into a [`Policy`]. Every error names the line it is about.
//!
//! ```toml
//! [program]
//! timezone = "America/Los_Angeles"   # business days and Patch Tuesday are counted here
//! release-hour = 10                  # Patch Tuesday's hour in that zone
//!
//! [tiers.entry]
//! description = "..."
//! summary = "24 hours"               # a lead: "N hours", "N days", "N business days", "at-release"
//! details = "at-release"             # a section a tier does not name is never shared through forewarn
//!
//! [[jurisdiction]]
//! name = "China"
//! countries = ["CN"]
//! [[jurisdiction.obligation]]
//! kind = "vulnerability-report"      # vulnerability-report | incident-report | disclosure-restriction
//! obliged = "any-holder"             # any-holder | own-products-only | specified-entities
//! deadline = "2 days"                # optional
//! authority = "MIIT"                 # optional
//! instrument = "RMSV Art. 7"
//! source = "https://..."
//! confidence = "disputed in scope"   # optional
//!
//! [[rule]]
//! id = "reporting-obligation"
//! description = "..."
//! when = { obligation = { kind = "vulnerability-report", obliged = "any-holder" } }   # see `condition`
//! cap = { summary = "at-release", others = "never" }   # per section; `others` covers the rest
//! ```

use std::collections::BTreeMap;

use forewarn_core::{AdvisoryFlag, CountryCode, PartnerId, PartnerStatus, SectionKind, Severity, TierName};
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::condition::{Condition, ObligationMatch};
use crate::lead::Lead;

/// A policy that failed to validate: the line (1-based) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PolicyError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObligationKind {
    VulnerabilityReport,
    IncidentReport,
    DisclosureRestriction,
}

impl ObligationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VulnerabilityReport => "vulnerability-report",
            Self::IncidentReport => "incident-report",
            Self::DisclosureRestriction => "disclosure-restriction",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "vulnerability-report" => Ok(Self::VulnerabilityReport),
            "incident-report" => Ok(Self::IncidentReport),
            "disclosure-restriction" => Ok(Self::DisclosureRestriction),
            _ => Err(format!(
                "{s:?} is not an obligation kind; use vulnerability-report, incident-report or disclosure-restriction"
            )),
        }
    }
}

/// Who an obligation binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Obliged {
    /// Anyone holding the information, a partner included.
    AnyHolder,
    /// Only the maker of the affected product (e.g. the EU CRA binds manufacturers about their own products).
    OwnProductsOnly,
    /// A defined class of entities (operators, essential entities); see the obligation's note.
    SpecifiedEntities,
}

impl Obliged {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AnyHolder => "any-holder",
            Self::OwnProductsOnly => "own-products-only",
            Self::SpecifiedEntities => "specified-entities",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "any-holder" => Ok(Self::AnyHolder),
            "own-products-only" => Ok(Self::OwnProductsOnly),
            "specified-entities" => Ok(Self::SpecifiedEntities),
            _ => Err(format!(
                "{s:?} is not who an obligation binds; use any-holder, own-products-only or specified-entities"
            )),
        }
    }
}

/// A legal obligation of a jurisdiction, with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    pub kind: ObligationKind,
    pub obliged: Obliged,
    /// As written ("2 days", "72 hours").
    pub deadline: Option<String>,
    pub deadline_hours: Option<u32>,
    pub authority: Option<String>,
    pub instrument: String,
    pub source: String,
    pub confidence: Option<String>,
}

impl Obligation {
    /// One line for explanations: what, who, how fast, to whom, under which instrument, and the source.
    pub fn describe(&self) -> String {
        let mut s = format!("{} obligation on {}", self.kind.as_str(), self.obliged.as_str());
        if let Some(d) = &self.deadline {
            s.push_str(&format!(" within {d}"));
        }
        if let Some(a) = &self.authority {
            s.push_str(&format!(" to {a}"));
        }
        s.push_str(&format!(" — {} ({})", self.instrument, self.source));
        if let Some(c) = &self.confidence {
            s.push_str(&format!("; confidence: {c}"));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jurisdiction {
    pub name: String,
    pub countries: Vec<CountryCode>,
    pub obligations: Vec<Obligation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub name: TierName,
    pub description: String,
    /// Indexed by [`section_index`]; `Lead::Never` for a section the tier does not name.
    pub leads: [Lead; 5],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: std::sync::Arc<str>,
    pub description: std::sync::Arc<str>,
    pub when: Condition,
    /// Indexed by [`section_index`]; `None` where the rule does not cap the section.
    pub caps: [Option<Lead>; 5],
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub release_hour: i8,
    pub tiers: BTreeMap<TierName, Tier>,
    pub jurisdictions: Vec<Jurisdiction>,
    pub rules: Vec<Rule>,
}

/// The position of a section in per-section arrays.
pub fn section_index(kind: SectionKind) -> usize {
    match kind {
        SectionKind::Summary => 0,
        SectionKind::Details => 1,
        SectionKind::Detection => 2,
        SectionKind::Mitigation => 3,
        SectionKind::Poc => 4,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    program: Option<Spanned<RawProgram>>,
    tiers: BTreeMap<String, Spanned<RawTier>>,
    #[serde(default)]
    jurisdiction: Vec<Spanned<RawJurisdiction>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProgram {
    timezone: Option<String>,
    release_hour: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTier {
    description: Option<String>,
    summary: Option<String>,
    details: Option<String>,
    detection: Option<String>,
    mitigation: Option<String>,
    poc: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawJurisdiction {
    name: String,
    countries: Vec<String>,
    #[serde(default)]
    obligation: Vec<Spanned<RawObligation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawObligation {
    kind: String,
    obliged: String,
    deadline: Option<String>,
    authority: Option<String>,
    instrument: String,
    source: String,
    confidence: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: String,
    description: String,
    #[serde(default)]
    when: toml::Table,
    cap: BTreeMap<String, String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

impl Policy {
    /// Parses and validates a policy document.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError {
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        let at = |span: std::ops::Range<usize>| {
            move |message: String| PolicyError { line: line_of(text, span.start), message }
        };

        let (timezone_name, release_hour, program_span) = match &raw.program {
            Some(p) => (
                p.get_ref().timezone.clone().unwrap_or_else(|| "America/Los_Angeles".into()),
                p.get_ref().release_hour.unwrap_or(10),
                p.span(),
            ),
            None => ("America/Los_Angeles".into(), 10, 0..0),
        };
        let timezone = TimeZone::get(&timezone_name).map_err(|_| {
            at(program_span.clone())(format!("{timezone_name:?} is not a time zone of the IANA database"))
        })?;
        let release_hour = i8::try_from(release_hour)
            .ok()
            .filter(|h| (0..24).contains(h))
            .ok_or_else(|| at(program_span.clone())("release-hour must be between 0 and 23".into()))?;

        let mut tiers = BTreeMap::new();
        if raw.tiers.is_empty() {
            return Err(at(0..0)("the policy defines no tier; define at least one under [tiers.NAME]".into()));
        }
        for (name, t) in &raw.tiers {
            let err = at(t.span());
            let tier_name = TierName::parse(name).map_err(|e| err(e.to_string()))?;
            let raw = t.get_ref();
            let mut leads = [Lead::Never; 5];
            for (kind, value) in [
                (SectionKind::Summary, &raw.summary),
                (SectionKind::Details, &raw.details),
                (SectionKind::Detection, &raw.detection),
                (SectionKind::Mitigation, &raw.mitigation),
                (SectionKind::Poc, &raw.poc),
            ] {
                if let Some(v) = value {
                    leads[section_index(kind)] =
                        Lead::parse(v).map_err(|m| err(format!("tier {name}, {kind}: {m}")))?;
                }
            }
            tiers.insert(
                tier_name.clone(),
                Tier { name: tier_name, description: raw.description.clone().unwrap_or_default(), leads },
            );
        }

        let mut jurisdictions = Vec::new();

        for j in &raw.jurisdiction {
            let err = at(j.span());
            let raw = j.get_ref();
            if raw.name.trim().is_empty() {
                return Err(err("a jurisdiction needs a name".into()));
            }
            if raw.countries.is_empty() {
                return Err(err(format!("jurisdiction {:?} lists no countries", raw.name)));
            }
            let countries = raw
                .countries
                .iter()
                .map(|c| CountryCode::parse(c).map_err(|e| err(format!("jurisdiction {:?}: {e}", raw.name))))
                .collect::<Result<Vec<_>, _>>()?;
            let mut obligations = Vec::new();
            for o in &raw.obligation {
                let err = at(o.span());
                let r = o.get_ref();
                let deadline_hours = r
                    .deadline
                    .as_deref()
                    .map(|d| match Lead::parse(d) {
                        Ok(Lead::Before(crate::lead::Ahead::Hours(h))) => Ok(h),
                        Ok(Lead::Before(crate::lead::Ahead::BusinessDays(d))) => Ok(d * 24),
                        _ => Err(err(format!("{d:?} is not a deadline; write e.g. \"2 days\" or \"72 hours\""))),
                    })
                    .transpose()?;
                if r.instrument.trim().is_empty() || r.source.trim().is_empty() {
                    return Err(err("every obligation needs its legal instrument and a source".into()));
                }
                obligations.push(Obligation {
                    kind: ObligationKind::parse(&r.kind).map_err(&err)?,
                    obliged: Obliged::parse(&r.obliged).map_err(&err)?,
                    deadline: r.deadline.clone(),
                    deadline_hours,
                    authority: r.authority.clone(),
                    instrument: r.instrument.clone(),
                    source: r.source.clone(),
                    confidence: r.confidence.clone(),
                });
            }
            jurisdictions.push(Jurisdiction { name: raw.name.clone(), countries, obligations });
        }

        let mut rules: Vec<Rule> = Vec::new();
        for r in &raw.rule {
            let err = at(r.span());
            let raw = r.get_ref();
            let id_ok = !raw.id.is_empty()
                && raw.id.len() <= 64
                && raw.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                return Err(err(format!("rule id {:?} must be lowercase letters, digits and '-'", raw.id)));
            }
            if rules.iter().any(|x| *x.id == *raw.id) {
                return Err(err(format!("two rules have the id {:?}", raw.id)));
            }
            if raw.description.trim().is_empty() {
                return Err(err(format!("rule {} needs a description", raw.id)));
            }
            let when = parse_condition(&raw.when, &tiers, 0).map_err(|m| err(format!("rule {}, when: {m}", raw.id)))?;
            let mut caps = [None; 5];
            let mut others = None;
            for (key, value) in &raw.cap {
                let lead = Lead::parse(value).map_err(|m| err(format!("rule {}, cap {key}: {m}", raw.id)))?;
                if key == "others" {
                    others = Some(lead);
                } else {
                    let kind = SectionKind::parse(key).map_err(|e| err(format!("rule {}, cap: {e}", raw.id)))?;
                    caps[section_index(kind)] = Some(lead);
                }
            }
            if let Some(o) = others {
                for c in &mut caps {
                    c.get_or_insert(o);
                }
            }
            if caps.iter().all(Option::is_none) {
                return Err(err(format!("rule {} caps no section; give cap = {{ section = \"...\" }}", raw.id)));
            }
            rules.push(Rule { id: raw.id.as_str().into(), description: raw.description.as_str().into(), when, caps });
        }
        Ok(Self { timezone, timezone_name, release_hour, tiers, jurisdictions, rules })
    }

    /// The obligations of every jurisdiction that includes `country`, each with its jurisdiction's name.
    pub fn obligations_of(&self, country: CountryCode) -> Vec<(&str, &Obligation)> {
        self.jurisdictions
            .iter()
            .filter(|j| j.countries.contains(&country))
            .flat_map(|j| j.obligations.iter().map(move |o| (j.name.as_str(), o)))
            .collect()
    }

    /// The program's release calendar (Patch Tuesday in the policy's time zone and hour).
    pub fn calendar(&self) -> forewarn_core::ReleaseCalendar {
        forewarn_core::ReleaseCalendar { tz: self.timezone.clone(), hour: self.release_hour }
    }
}

const MAX_DEPTH: usize = 16;

fn strings(key: &str, v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(|| format!("{key} must list strings")))
            .collect(),
        _ => Err(format!("{key} must be a string or a non-empty list of strings")),
    }
}

fn parse_list<T>(key: &str, v: &Value, f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    strings(key, v)?.iter().map(|s| f(s)).collect()
}

fn parse_condition(table: &toml::Table, tiers: &BTreeMap<TierName, Tier>, depth: usize) -> Result<Condition, String> {
    if depth > MAX_DEPTH {
        return Err(format!("conditions nest deeper than {MAX_DEPTH} levels"));
    }
    let nested = |v: &Value, key: &str| -> Result<Vec<Condition>, String> {
        let items = v
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("{key} must be a non-empty list of conditions"))?;
        items
            .iter()
            .map(|i| {
                i.as_table()
                    .ok_or_else(|| format!("{key} must list tables such as {{ country = [\"CN\"] }}"))
                    .and_then(|t| parse_condition(t, tiers, depth + 1))
            })
            .collect()
    };
    let mut parts = Vec::new();
    for (key, v) in table {
        let c = match key.as_str() {
            "all" => Condition::All(nested(v, key)?),
            "any" => Condition::Any(nested(v, key)?),
            "not" => Condition::Not(Box::new(parse_condition(
                v.as_table().ok_or("not must be a table such as { tier = [\"entry\"] }")?,
                tiers,
                depth + 1,
            )?)),
            "country" => Condition::Country(parse_list(key, v, |s| CountryCode::parse(s).map_err(|e| e.to_string()))?),
            "tier" => Condition::Tier(parse_list(key, v, |s| {
                let t = TierName::parse(s).map_err(|e| e.to_string())?;
                if tiers.contains_key(&t) {
                    Ok(t)
                } else {
                    Err(format!("tier {s:?} is not defined in this policy"))
                }
            })?),
            "status" => Condition::Status(parse_list(key, v, |s| PartnerStatus::parse(s).map_err(|e| e.to_string()))?),
            "partner" => Condition::Partner(parse_list(key, v, |s| PartnerId::parse(s).map_err(|e| e.to_string()))?),
            "partner-flag" => Condition::PartnerFlag(parse_list(key, v, |s| {
                forewarn_core::partner::parse_partner_flag(s).map_err(|e| e.to_string())
            })?),
            "obligation" => {
                let t = v.as_table().ok_or("obligation must be a table such as { kind = \"vulnerability-report\" }")?;
                let mut m = ObligationMatch::default();
                for (k, x) in t {
                    let s = x.as_str();
                    match k.as_str() {
                        "kind" => m.kind = Some(ObligationKind::parse(s.ok_or("obligation.kind must be a string")?)?),
                        "obliged" => m.obliged = Some(Obliged::parse(s.ok_or("obligation.obliged must be a string")?)?),
                        "max-deadline-hours" => {
                            m.max_deadline_hours = Some(
                                x.as_integer()
                                    .and_then(|i| u32::try_from(i).ok())
                                    .ok_or("obligation.max-deadline-hours must be a whole number of hours")?,
                            )
                        }
                        other => return Err(format!("unknown obligation field {other:?}; use kind, obliged, max-deadline-hours")),
                    }
                }
                Condition::Obligation(m)
            }
            "severity-at-least" => Condition::SeverityAtLeast(
                Severity::parse(v.as_str().ok_or("severity-at-least must be a string")?).map_err(|e| e.to_string())?,
            ),
            "product" => Condition::Product(parse_list(key, v, |s| Ok(s.trim().to_lowercase()))?),
            "advisory-flag" => {
                Condition::AdvisoryFlag(parse_list(key, v, |s| AdvisoryFlag::parse(s).map_err(|e| e.to_string()))?)
            }
            other => {
                return Err(format!(
                    "unknown condition {other:?}; use country, tier, status, partner, partner-flag, obligation, severity-at-least, product, advisory-flag, all, any or not"
                ))
            }
        };
        parts.push(c);
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::All(parts) })
}
