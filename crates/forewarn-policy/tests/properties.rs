//! Property tests of the policy engine, 100,000 cases each (the normal `cargo test` run).
//!
//! - adding a rule never makes any decision earlier (rules only restrict);
//! - no section is in a view before its decision time, nor when its decision denies it;
//! - suspended or revoked partners, withdrawn or unapproved advisories give empty views;
//! - the explanation recomputes to the decision, and the fast evaluator agrees with it;
//! - business-day arithmetic across DST never lands on a weekend or on a wall-clock time that does not exist.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::collections::{BTreeMap, BTreeSet};

use forewarn_core::calendar::business_days_before;
use forewarn_core::{
    Advisory, AdvisoryFlag, AdvisoryId, AdvisoryState, CountryCode, Cvss, Partner, PartnerId, PartnerStatus,
    RevisionMeta, SectionKind, Severity, TierName, Username,
};
use forewarn_policy::condition::{Condition, ObligationMatch};
use forewarn_policy::document::{Jurisdiction, Obligation, ObligationKind, Obliged, Rule, Tier};
use forewarn_policy::{decide, view, view_unexplained, AdvisoryFacts, Ahead, Evaluator, Lead, Policy, Visibility};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const CASES: u32 = 100_000;
const ZONES: [&str; 8] = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "UTC",
];
const COUNTRIES: [&str; 5] = ["CN", "US", "DE", "JP", "RU"];
const TIERS: [&str; 3] = ["validate", "ans", "entry"];

fn lead() -> impl Strategy<Value = Lead> {
    prop_oneof![
        Just(Lead::Never),
        Just(Lead::AtRelease),
        (0u32..400).prop_map(|h| Lead::Before(Ahead::Hours(h))),
        (0u32..20).prop_map(|d| Lead::Before(Ahead::BusinessDays(d))),
    ]
}

fn leads() -> impl Strategy<Value = [Lead; 5]> {
    [lead(), lead(), lead(), lead(), lead()]
}

fn caps() -> impl Strategy<Value = [Option<Lead>; 5]> {
    [
        proptest::option::of(lead()),
        proptest::option::of(lead()),
        proptest::option::of(lead()),
        proptest::option::of(lead()),
        proptest::option::of(lead()),
    ]
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: Vec<T>) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(items.clone(), 1..=items.len())
}

fn leaf_condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        pick(COUNTRIES.iter().map(|c| CountryCode::parse(c).unwrap()).collect()).prop_map(Condition::Country),
        pick(TIERS.iter().map(|t| TierName::parse(t).unwrap()).collect()).prop_map(Condition::Tier),
        pick(vec![PartnerStatus::Active, PartnerStatus::Suspended]).prop_map(Condition::Status),
        pick(vec!["probation".to_owned(), "trusted".to_owned()]).prop_map(Condition::PartnerFlag),
        (
            proptest::option::of(prop_oneof![
                Just(ObligationKind::VulnerabilityReport),
                Just(ObligationKind::IncidentReport)
            ]),
            proptest::option::of(prop_oneof![Just(Obliged::AnyHolder), Just(Obliged::OwnProductsOnly)]),
            proptest::option::of(1u32..100),
        )
            .prop_map(|(kind, obliged, max_deadline_hours)| Condition::Obligation(ObligationMatch {
                kind,
                obliged,
                max_deadline_hours
            })),
        prop_oneof![Just(Severity::Low), Just(Severity::Medium), Just(Severity::High), Just(Severity::Critical)]
            .prop_map(Condition::SeverityAtLeast),
        pick(AdvisoryFlag::ALL.to_vec()).prop_map(Condition::AdvisoryFlag),
        pick(vec!["contoso mail".to_owned(), "fabrikam gateway".to_owned()]).prop_map(Condition::Product),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf_condition().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Condition::All),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn rule(n: usize) -> impl Strategy<Value = Rule> {
    (condition(), caps()).prop_map(move |(when, caps)| Rule {
        id: format!("rule-{n}").into(),
        description: "generated".into(),
        when,
        caps,
    })
}

fn obligation(kind: ObligationKind, obliged: Obliged, hours: u32) -> Obligation {
    Obligation {
        kind,
        obliged,
        deadline: Some(format!("{hours} hours")),
        deadline_hours: Some(hours),
        authority: None,
        instrument: "test instrument".into(),
        source: "https://example.org/law".into(),
        confidence: None,
    }
}

fn policy() -> impl Strategy<Value = Policy> {
    (proptest::sample::select(ZONES.to_vec()), [leads(), leads(), leads()], proptest::collection::vec(rule(0), 0..4))
        .prop_map(|(zone, tier_leads, mut rules)| {
            for (i, r) in rules.iter_mut().enumerate() {
                r.id = format!("rule-{i}").into();
            }
            let tiers: BTreeMap<TierName, Tier> = TIERS
                .iter()
                .zip(tier_leads)
                .map(|(name, leads)| {
                    let name = TierName::parse(name).unwrap();
                    (name.clone(), Tier { name, description: String::new(), leads })
                })
                .collect();
            let country = |c: &str| CountryCode::parse(c).unwrap();
            Policy {
                timezone: TimeZone::get(zone).unwrap(),
                timezone_name: zone.into(),
                release_hour: 10,
                tiers,
                jurisdictions: vec![
                    Jurisdiction {
                        name: "China".into(),
                        countries: vec![country("CN")],
                        obligations: vec![obligation(ObligationKind::VulnerabilityReport, Obliged::AnyHolder, 48)],
                    },
                    Jurisdiction {
                        name: "EU".into(),
                        countries: vec![country("DE")],
                        obligations: vec![
                            obligation(ObligationKind::VulnerabilityReport, Obliged::OwnProductsOnly, 24),
                            obligation(ObligationKind::IncidentReport, Obliged::SpecifiedEntities, 24),
                        ],
                    },
                    Jurisdiction {
                        name: "US".into(),
                        countries: vec![country("US")],
                        obligations: vec![obligation(ObligationKind::IncidentReport, Obliged::SpecifiedEntities, 72)],
                    },
                ],
                rules,
            }
        })
}

/// A release time between 2020 and 2040, at a whole minute.
fn release_time() -> impl Strategy<Value = Timestamp> {
    (1_577_836_800i64 / 60..2_208_988_800i64 / 60).prop_map(|m| Timestamp::from_second(m * 60).unwrap())
}

#[derive(Debug, Clone)]
struct Case {
    partner: Partner,
    advisory: Advisory,
    meta: RevisionMeta,
    sections: Vec<SectionKind>,
    now: Timestamp,
}

fn case() -> impl Strategy<Value = Case> {
    let partner = (
        proptest::sample::select(COUNTRIES.to_vec()),
        proptest::sample::select(vec!["validate", "ans", "entry", "platinum"]),
        prop_oneof![
            8 => Just(PartnerStatus::Active),
            1 => Just(PartnerStatus::Suspended),
            1 => Just(PartnerStatus::Revoked)
        ],
        proptest::sample::subsequence(vec!["probation", "trusted"], 0..=2),
        proptest::option::of(-40i64 * 24..40 * 24),
    );
    let advisory = (
        prop_oneof![
            1 => Just(AdvisoryState::Draft),
            1 => Just(AdvisoryState::Approved),
            6 => Just(AdvisoryState::Scheduled),
            1 => Just(AdvisoryState::Withdrawn)
        ],
        any::<bool>(),
        proptest::sample::subsequence(AdvisoryFlag::ALL.to_vec(), 0..=3),
        proptest::sample::select(vec![
            None,
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"),
            Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"),
            Some("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"),
            Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        ]),
        proptest::sample::subsequence(vec!["Contoso Mail", "Fabrikam Gateway", "Litware Agent"], 0..=2),
    );
    (
        partner,
        advisory,
        proptest::sample::subsequence(SectionKind::ALL.to_vec(), 0..=5),
        release_time(),
        -40i64 * 24 * 60..10 * 24 * 60,
    )
        .prop_map(
            |(
                (country, tier, status, flags, agreement),
                (state, has_t, aflags, cvss, products),
                sections,
                t,
                now_off,
            )| {
                let at = |s: &str| s.parse::<Timestamp>().unwrap();
                let partner = Partner {
                    id: PartnerId::parse("p-under-test").unwrap(),
                    name: "P".into(),
                    country: CountryCode::parse(country).unwrap(),
                    tier: TierName::parse(tier).unwrap(),
                    status,
                    status_reason: None,
                    status_changed_at: at("2020-01-01T00:00:00Z"),
                    agreement_expires_at: agreement.map(|h| t + SignedDuration::from_hours(h)),
                    contacts: vec![],
                    flags: flags.into_iter().map(str::to_owned).collect::<BTreeSet<_>>(),
                    created_at: at("2020-01-01T00:00:00Z"),
                };
                let advisory = Advisory {
                    id: AdvisoryId::parse("ADV-2026-0001").unwrap(),
                    state,
                    release_at: (has_t || state == AdvisoryState::Scheduled).then_some(t),
                    current_revision: 1,
                    approved_revision: (state != AdvisoryState::Draft).then_some(1),
                    created_by: Username::parse("alice").unwrap(),
                    created_at: at("2020-01-01T00:00:00Z"),
                    updated_at: at("2020-01-01T00:00:00Z"),
                    withdrawn_reason: None,
                };
                let meta = RevisionMeta {
                    title: "t".into(),
                    products: products.into_iter().map(|p| forewarn_core::Product::new(p, vec![]).unwrap()).collect(),
                    cvss: cvss.map(|v| Cvss::parse(v).unwrap()),
                    cwe: None,
                    cves: vec![],
                    flags: aflags,
                    marking: 2,
                };
                Case { partner, advisory, meta, sections, now: t + SignedDuration::from_mins(now_off) }
            },
        )
}

fn facts(c: &Case) -> AdvisoryFacts<'_> {
    AdvisoryFacts { advisory: &c.advisory, meta: &c.meta, sections: &c.sections }
}

fn all_visibilities(p: &Policy, c: &Case) -> Vec<Visibility> {
    SectionKind::ALL.into_iter().map(|s| decide(p, &c.partner, &facts(c), s, c.now).visibility).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_rule_never_makes_a_decision_earlier(p in policy(), extra in rule(99), at in 0usize..5, c in case()) {
        let before = all_visibilities(&p, &c);
        let mut q = p.clone();
        q.rules.insert(at.min(q.rules.len()), extra);
        let after = all_visibilities(&q, &c);
        for (b, a) in before.iter().zip(&after) {
            prop_assert!(a >= b, "a rule made a decision earlier: {b:?} -> {a:?}");
        }
    }

    #[test]
    fn no_section_is_in_a_view_before_its_time_or_when_denied(p in policy(), c in case()) {
        let v = view(&p, &c.partner, &facts(&c), c.now);
        for d in &v.decisions {
            prop_assert!(c.sections.contains(&d.section));
            let shown = v.visible.contains(&d.section);
            match d.visibility {
                Visibility::Never => {
                    prop_assert!(!shown);
                    prop_assert!(!v.upcoming.iter().any(|(s, _)| *s == d.section));
                }
                Visibility::From(t) => {
                    prop_assert_eq!(shown, t <= c.now);
                    prop_assert_eq!(v.upcoming.iter().any(|(s, u)| *s == d.section && *u == t), t > c.now);
                }
            }
        }
        for s in &v.visible {
            prop_assert!(c.sections.contains(s), "a section the advisory lacks is visible");
        }
        prop_assert!(v.upcoming.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    /// The view served with copies is the explained view without its sentences: same decisions, same traces.
    #[test]
    fn the_unexplained_view_is_the_view_without_its_sentences(p in policy(), c in case()) {
        let mut explained = view(&p, &c.partner, &facts(&c), c.now);
        for d in &mut explained.decisions {
            for r in &mut d.rules {
                r.why = std::sync::Arc::from([]);
            }
        }
        prop_assert_eq!(view_unexplained(&p, &c.partner, &facts(&c), c.now), explained);
    }

    #[test]
    fn suspended_revoked_withdrawn_or_unapproved_means_an_empty_view(p in policy(), c in case()) {
        let blocked = c.partner.status != PartnerStatus::Active
            || matches!(c.advisory.state, AdvisoryState::Withdrawn | AdvisoryState::Draft | AdvisoryState::Approved)
            || c.partner.agreement_expires_at.is_some_and(|end| end <= c.now);
        let v = view(&p, &c.partner, &facts(&c), c.now);
        if blocked {
            prop_assert!(v.visible.is_empty() && v.upcoming.is_empty(), "{:?}", v);
        }
    }

    #[test]
    fn the_explanation_recomputes_to_the_decision(p in policy(), c in case()) {
        let ev = Evaluator::new(&p);
        let fast = ev.visibilities(&ev.partner(&c.partner), &ev.advisory(facts(&c)), c.now);
        for (i, s) in SectionKind::ALL.into_iter().enumerate() {
            let d = decide(&p, &c.partner, &facts(&c), s, c.now);
            prop_assert_eq!(d.recompute(), d.visibility);
            // Independently of the stored instants: from the leads named in the trace and T.
            let expect = match (d.blocker.is_some(), d.release_at) {
                (true, _) | (false, None) => Visibility::Never,
                (false, Some(t)) => {
                    let at = |l: Lead| Visibility::of(l.moment(t, &p.timezone));
                    let v = d.rules.iter().filter(|r| r.matched).filter_map(|r| r.cap).map(at).fold(at(d.tier_lead), Visibility::meet);
                    match (v, c.partner.agreement_expires_at) {
                        (Visibility::From(x), Some(end)) if x >= end => Visibility::Never,
                        _ => v,
                    }
                }
            };
            prop_assert_eq!(d.visibility, expect);
            prop_assert_eq!(fast[i], d.visibility, "the fast evaluator disagrees on {}", s);
            // The trace names every rule, in policy order, each with a reason.
            prop_assert_eq!(d.rules.len(), p.rules.len());
            prop_assert!(d.rules.iter().all(|r| !r.why.is_empty()));
        }
    }

    #[test]
    fn business_days_never_land_on_a_weekend_or_a_missing_hour(
        zone in proptest::sample::select(ZONES.to_vec()), t in release_time(), n in 0u32..60,
    ) {
        let tz = TimeZone::get(zone).unwrap();
        let r = business_days_before(t, n, &tz);
        let local = r.to_zoned(tz.clone());
        let original = t.to_zoned(tz.clone());
        if n == 0 {
            prop_assert_eq!(r, t);
        } else {
            prop_assert!(r < t);
            prop_assert!(!matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday), "{} is a weekend", local);
            // Exactly n weekdays from r's date up to (not including) T's date.
            let mut d = local.date();
            let mut weekdays = 0;
            while d < original.date() {
                if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
                    weekdays += 1;
                }
                d = d.tomorrow().unwrap();
            }
            prop_assert_eq!(weekdays, n);
        }
        // The wall-clock time is T's, unless that time does not exist on r's date (a DST gap): then the
        // instant is the one just after the gap, and its wall-clock time is later by the gap's length.
        let wanted = local.date().to_datetime(original.time());
        let exists = tz.to_ambiguous_zoned(wanted).unambiguous().is_ok()
            || tz.to_ambiguous_zoned(wanted).is_ambiguous();
        if exists {
            prop_assert_eq!(local.time(), original.time());
        } else {
            prop_assert!(local.datetime() > wanted && local.datetime() <= wanted + SignedDuration::from_hours(2));
        }
        // r's local representation maps back to r (one of the two instants of a repeated hour): it is real.
        let back = tz.to_ambiguous_zoned(local.datetime());
        let candidates = [back.clone().earlier().unwrap().timestamp(), back.later().unwrap().timestamp()];
        prop_assert!(candidates.contains(&r), "{} does not map back to {}", local, r);
    }
}
