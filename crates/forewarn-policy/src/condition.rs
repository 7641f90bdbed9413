//! The condition language of rules: small and total. Every condition evaluates to true or false for any partner
//! and advisory; nothing in it can fail at evaluation time (all names are checked when the policy is read).
//!
//! A condition is a TOML table. Each key is one test; several keys in one table must all hold.
//!
//! | key | holds when |
//! |---|---|
//! | `country = ["CN", "RU"]` | the partner's country is one of these |
//! | `tier = ["entry"]` | the partner's tier is one of these |
//! | `status = ["active"]` | the partner's status is one of these |
//! | `partner = ["kestrel-edr"]` | the partner's id is one of these |
//! | `partner-flag = ["probation"]` | the partner carries any of these flags |
//! | `obligation = { kind = "vulnerability-report", obliged = "any-holder", max-deadline-hours = 72 }` | a jurisdiction the partner is under has an obligation matching every given field (all fields optional) |
//! | `severity-at-least = "high"` | the advisory's CVSS severity is at least this; an advisory without a computed severity (no vector, or CVSS v4) counts as critical, so that restrictions apply when in doubt |
//! | `product = ["Contoso Mail Gateway"]` | the advisory lists one of these products (case-insensitive) |
//! | `advisory-flag = ["exploited-in-the-wild"]` | the advisory carries any of these flags |
//! | `all = [ {...}, {...} ]` | every listed condition holds |
//! | `any = [ {...}, {...} ]` | at least one listed condition holds |
//! | `not = {...}` | the condition does not hold |
//!
//! The empty table `{}` always holds.

use forewarn_core::{AdvisoryFlag, CountryCode, PartnerId, PartnerStatus, Severity, TierName};

use crate::document::{ObligationKind, Obliged};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Country(Vec<CountryCode>),
    Tier(Vec<TierName>),
    Status(Vec<PartnerStatus>),
    Partner(Vec<PartnerId>),
    PartnerFlag(Vec<String>),
    Obligation(ObligationMatch),
    SeverityAtLeast(Severity),
    /// Lowercased product names.
    Product(Vec<String>),
    AdvisoryFlag(Vec<AdvisoryFlag>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObligationMatch {
    pub kind: Option<ObligationKind>,
    pub obliged: Option<Obliged>,
    pub max_deadline_hours: Option<u32>,
}

/// What a condition can look at. Built once per (partner, advisory) pair.
#[derive(Debug)]
pub struct Facts<'a> {
    pub country: CountryCode,
    pub tier: &'a TierName,
    pub status: PartnerStatus,
    pub partner: &'a PartnerId,
    pub partner_flags: &'a std::collections::BTreeSet<String>,
    /// The obligations of every jurisdiction the partner is under, with the jurisdiction's name.
    pub obligations: &'a [(&'a str, &'a crate::document::Obligation)],
    /// `None`: not computed (no vector, or CVSS v4).
    pub severity: Option<Severity>,
    /// Lowercased.
    pub products: &'a [String],
    pub advisory_flags: &'a [AdvisoryFlag],
}

impl ObligationMatch {
    fn matches(&self, o: &crate::document::Obligation) -> bool {
        self.kind.is_none_or(|k| k == o.kind)
            && self.obliged.is_none_or(|w| w == o.obliged)
            && self.max_deadline_hours.is_none_or(|max| o.deadline_hours.is_some_and(|d| d <= max))
    }
}

impl Condition {
    /// Evaluates without building an explanation (the fast path).
    pub fn holds(&self, f: &Facts<'_>) -> bool {
        match self {
            Self::All(cs) => cs.iter().all(|c| c.holds(f)),
            Self::Any(cs) => cs.iter().any(|c| c.holds(f)),
            Self::Not(c) => !c.holds(f),
            Self::Country(list) => list.contains(&f.country),
            Self::Tier(list) => list.contains(f.tier),
            Self::Status(list) => list.contains(&f.status),
            Self::Partner(list) => list.contains(f.partner),
            Self::PartnerFlag(list) => list.iter().any(|x| f.partner_flags.contains(x)),
            Self::Obligation(m) => f.obligations.iter().any(|(_, o)| m.matches(o)),
            Self::SeverityAtLeast(min) => f.severity.is_none_or(|s| s >= *min),
            Self::Product(list) => f.products.iter().any(|p| list.contains(p)),
            Self::AdvisoryFlag(list) => list.iter().any(|x| f.advisory_flags.contains(x)),
        }
    }

    /// Evaluates and says why, in sentences that name the attributes and, for obligations, the legal source.
    pub fn explain(&self, f: &Facts<'_>, why: &mut Vec<String>) -> bool {
        let join = |items: Vec<String>| items.join(", ");
        match self {
            Self::All(cs) => {
                // Explain up to the first failing condition: that is the reason it does not hold.
                for c in cs {
                    if !c.explain(f, why) {
                        return false;
                    }
                }
                true
            }
            Self::Any(cs) => {
                let mut reasons = Vec::new();
                for c in cs {
                    let mut r = Vec::new();
                    if c.explain(f, &mut r) {
                        why.extend(r);
                        return true;
                    }
                    reasons.extend(r);
                }
                why.extend(reasons);
                false
            }
            Self::Not(c) => {
                let mut r = Vec::new();
                let inner = c.explain(f, &mut r);
                why.extend(r.into_iter().map(|s| format!("not: {s}")));
                !inner
            }
            Self::Country(list) => {
                let ok = self.holds(f);
                why.push(format!(
                    "partner country {} {} {}",
                    f.country,
                    if ok { "is one of" } else { "is not one of" },
                    join(list.iter().map(ToString::to_string).collect())
                ));
                ok
            }
            Self::Tier(list) => {
                let ok = self.holds(f);
                why.push(format!(
                    "partner tier {} {} {}",
                    f.tier,
                    if ok { "is one of" } else { "is not one of" },
                    join(list.iter().map(ToString::to_string).collect())
                ));
                ok
            }
            Self::Status(list) => {
                let ok = self.holds(f);
                why.push(format!(
                    "partner status {} {} {}",
                    f.status,
                    if ok { "is one of" } else { "is not one of" },
                    join(list.iter().map(ToString::to_string).collect())
                ));
                ok
            }
            Self::Partner(list) => {
                let ok = self.holds(f);
                why.push(format!(
                    "partner {} {} {}",
                    f.partner,
                    if ok { "is one of" } else { "is not one of" },
                    join(list.iter().map(ToString::to_string).collect())
                ));
                ok
            }
            Self::PartnerFlag(list) => {
                let ok = self.holds(f);
                why.push(format!(
                    "partner {} flag {}",
                    if ok { "carries the" } else { "carries no" },
                    list.join(" or ")
                ));
                ok
            }
            Self::Obligation(m) => {
                let matching: Vec<String> = f
                    .obligations
                    .iter()
                    .filter(|(_, o)| m.matches(o))
                    .map(|(j, o)| format!("{j}: {}", o.describe()))
                    .collect();
                if matching.is_empty() {
                    why.push(format!("no jurisdiction of partner country {} has {}", f.country, m.describe()));
                    false
                } else {
                    why.extend(matching);
                    true
                }
            }
            Self::SeverityAtLeast(min) => {
                let ok = self.holds(f);
                match f.severity {
                    Some(s) => {
                        why.push(format!("advisory severity {s} is {} {min}", if ok { "at least" } else { "below" }))
                    }
                    None => why.push(format!("advisory severity is not computed; treated as at least {min}")),
                }
                ok
            }
            Self::Product(list) => {
                let ok = self.holds(f);
                why.push(format!("advisory {} product {}", if ok { "lists" } else { "lists no" }, list.join(" or ")));
                ok
            }
            Self::AdvisoryFlag(list) => {
                let ok = self.holds(f);
                let names: Vec<&str> = list.iter().map(|x| x.as_str()).collect();
                why.push(format!(
                    "advisory {} flag {}",
                    if ok { "carries the" } else { "carries no" },
                    names.join(" or ")
                ));
                ok
            }
        }
    }
}

impl ObligationMatch {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(k.as_str().to_owned());
        }
        if let Some(o) = self.obliged {
            parts.push(format!("obliging {}", o.as_str()));
        }
        if let Some(h) = self.max_deadline_hours {
            parts.push(format!("within at most {h} h"));
        }
        if parts.is_empty() {
            "any obligation".into()
        } else {
            format!("an obligation ({})", parts.join(", "))
        }
    }
}
