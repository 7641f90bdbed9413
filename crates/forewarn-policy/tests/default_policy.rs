//! The shipped default policy, decided for partners and advisories like the demo's.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::collections::BTreeSet;

use forewarn_core::{
    Advisory, AdvisoryFlag, AdvisoryId, AdvisoryState, CountryCode, Cvss, Partner, PartnerId, PartnerStatus,
    RevisionMeta, SectionKind, TierName, Username,
};
use forewarn_policy::{decide, view, AdvisoryFacts, Blocker, Evaluator, Policy, Visibility};
use jiff::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Patch Tuesday, December 2026: Tuesday 8 December, 10:00 PST.
const T: &str = "2026-12-08T18:00:00Z";

fn partner(id: &str, country: &str, tier: &str) -> Partner {
    Partner {
        id: PartnerId::parse(id).unwrap(),
        name: id.into(),
        country: CountryCode::parse(country).unwrap(),
        tier: TierName::parse(tier).unwrap(),
        status: PartnerStatus::Active,
        status_reason: None,
        status_changed_at: ts("2026-01-01T00:00:00Z"),
        agreement_expires_at: Some(ts("2028-01-01T00:00:00Z")),
        contacts: vec![],
        flags: BTreeSet::new(),
        created_at: ts("2026-01-01T00:00:00Z"),
    }
}

fn advisory(state: AdvisoryState) -> Advisory {
    Advisory {
        id: AdvisoryId::parse("ADV-2026-0002").unwrap(),
        state,
        release_at: Some(ts(T)),
        current_revision: 1,
        approved_revision: (state != AdvisoryState::Draft).then_some(1),
        created_by: Username::parse("alice").unwrap(),
        created_at: ts("2026-11-20T00:00:00Z"),
        updated_at: ts("2026-11-20T00:00:00Z"),
        withdrawn_reason: None,
    }
}

fn meta(flags: Vec<AdvisoryFlag>) -> RevisionMeta {
    RevisionMeta {
        title: "t".into(),
        products: vec![],
        cvss: Some(Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap()),
        cwe: None,
        cves: vec![],
        flags,
        marking: 2,
    }
}

const ALL: [SectionKind; 5] = SectionKind::ALL;

fn policy() -> Policy {
    Policy::parse(forewarn_policy::DEFAULT_POLICY).unwrap()
}

/// Checks the visibility of every section: `expect` is one entry per section in order, `None` for never.
fn check(p: &Partner, a: &Advisory, flags: Vec<AdvisoryFlag>, expect: [Option<&str>; 5]) {
    let policy = policy();
    let m = meta(flags);
    let facts = AdvisoryFacts { advisory: a, meta: &m, sections: &ALL };
    let now = ts("2026-11-01T00:00:00Z");
    let fast = Evaluator::new(&policy);
    let fast = fast.visibilities(&fast.partner(p), &fast.advisory(facts), now);
    for (i, s) in ALL.into_iter().enumerate() {
        let d = decide(&policy, p, &facts, s, now);
        let want = Visibility::of(expect[i].map(ts));
        assert_eq!(d.visibility, want, "{} {s}: {d:#?}", p.id);
        assert_eq!(fast[i], want, "fast path, {} {s}", p.id);
    }
}

#[test]
fn tiers_follow_the_mapp_model() {
    let a = advisory(AdvisoryState::Scheduled);
    // 5 business days before Tuesday 8 December is Tuesday 1 December; 3 is Thursday 3 December.
    check(&partner("kestrel-edr", "US", "validate"), &a, vec![], [Some("2026-12-01T18:00:00Z"); 5]);
    check(
        &partner("bluefen", "US", "ans"),
        &a,
        vec![],
        [
            Some("2026-12-03T18:00:00Z"),
            Some("2026-12-03T18:00:00Z"),
            Some("2026-12-03T18:00:00Z"),
            Some("2026-12-03T18:00:00Z"),
            Some("2026-12-07T18:00:00Z"),
        ],
    );
    check(
        &partner("copperline", "US", "entry"),
        &a,
        vec![],
        [Some("2026-12-07T18:00:00Z"), Some(T), Some("2026-12-07T18:00:00Z"), Some("2026-12-07T18:00:00Z"), None],
    );
}

#[test]
fn a_reporting_obligation_leaves_only_the_summary_at_release() {
    let a = advisory(AdvisoryState::Scheduled);
    for tier in ["validate", "ans", "entry"] {
        check(&partner("hanshan-antivirus", "CN", tier), &a, vec![], [Some(T), None, None, None, None]);
    }
    // The EU's CRA binds makers about their own products only: a German partner keeps its tier.
    check(&partner("falkenwerk", "DE", "validate"), &a, vec![], [Some("2026-12-01T18:00:00Z"); 5]);
}

#[test]
fn probation_and_exploited_in_the_wild() {
    let a = advisory(AdvisoryState::Scheduled);
    let mut p = partner("kestrel-edr", "US", "validate");
    p.flags.insert("probation".into());
    check(
        &p,
        &a,
        vec![],
        [
            Some("2026-12-07T18:00:00Z"),
            Some("2026-12-07T18:00:00Z"),
            Some("2026-12-07T18:00:00Z"),
            Some("2026-12-07T18:00:00Z"),
            None,
        ],
    );
    let p = partner("kestrel-edr", "US", "validate");
    check(
        &p,
        &a,
        vec![AdvisoryFlag::ExploitedInTheWild],
        [
            Some("2026-12-01T18:00:00Z"),
            Some("2026-12-01T18:00:00Z"),
            Some("2026-12-01T18:00:00Z"),
            Some("2026-12-01T18:00:00Z"),
            Some(T),
        ],
    );
}

#[test]
fn standing_blocks_everything() {
    let a = advisory(AdvisoryState::Scheduled);
    let mut p = partner("polder", "NL", "validate");
    p.status = PartnerStatus::Suspended;
    check(&p, &a, vec![], [None; 5]);
    p.status = PartnerStatus::Revoked;
    check(&p, &a, vec![], [None; 5]);
    let mut p = partner("late", "US", "validate");
    p.agreement_expires_at = Some(ts("2026-10-01T00:00:00Z"));
    check(&p, &a, vec![], [None; 5]);
    // An agreement that ends between the lead and T: sections due after the end are never shown.
    p.agreement_expires_at = Some(ts("2026-12-05T00:00:00Z"));
    check(&p, &a, vec![], [Some("2026-12-01T18:00:00Z"); 5]);
    p.agreement_expires_at = Some(ts("2026-12-01T18:00:00Z"));
    check(&p, &a, vec![], [None; 5]);
    let p = partner("kestrel-edr", "US", "validate");
    check(&p, &advisory(AdvisoryState::Withdrawn), vec![], [None; 5]);
    check(&p, &advisory(AdvisoryState::Draft), vec![], [None; 5]);
    check(&p, &advisory(AdvisoryState::Approved), vec![], [None; 5]);
}

#[test]
fn explanations_name_the_rule_and_the_legal_source() {
    let policy = policy();
    let a = advisory(AdvisoryState::Scheduled);
    let m = meta(vec![]);
    let facts = AdvisoryFacts { advisory: &a, meta: &m, sections: &ALL };
    let p = partner("hanshan-antivirus", "CN", "validate");
    let d = decide(&policy, &p, &facts, SectionKind::Details, ts("2026-11-01T00:00:00Z"));
    let rule = d.rules.iter().find(|r| &*r.id == "reporting-obligation").unwrap();
    assert!(rule.matched);
    let why = rule.why.join(" ");
    assert!(why.contains("RMSV") && why.contains("Art. 7") && why.contains("chinalawtranslate.com"), "{why}");
    assert!(why.contains("disputed in scope"), "{why}");
    assert_eq!(d.visibility, Visibility::Never);

    let mut s = partner("polder", "NL", "ans");
    s.status = PartnerStatus::Suspended;
    let d = decide(&policy, &s, &facts, SectionKind::Summary, ts("2026-11-01T00:00:00Z"));
    assert_eq!(d.blocker, Some(Blocker::PartnerSuspended));
}

#[test]
fn views_split_now_and_later() {
    let policy = policy();
    let a = advisory(AdvisoryState::Scheduled);
    let m = meta(vec![]);
    let facts = AdvisoryFacts {
        advisory: &a,
        meta: &m,
        sections: &[SectionKind::Summary, SectionKind::Details, SectionKind::Poc],
    };
    let p = partner("bluefen", "US", "ans");
    let v = view(&policy, &p, &facts, ts("2026-12-04T00:00:00Z"));
    assert_eq!(v.visible, vec![SectionKind::Summary, SectionKind::Details]);
    assert_eq!(v.upcoming, vec![(SectionKind::Poc, ts("2026-12-07T18:00:00Z"))]);
    let before = view(&policy, &p, &facts, ts("2026-12-03T17:59:59Z"));
    assert!(!before.is_visible(), "nothing before the first lead: the advisory does not exist for the partner");
}

#[test]
fn patch_tuesdays_2026_to_2028() {
    // Built from the rule (second Tuesday, 10:00 America/Los_Angeles) with an independent implementation
    // (Python's zoneinfo); the DST months checked by hand: March 2026 (DST from the 8th, PT on the 10th: 17:00 UTC),
    // March 2027 (DST from the 14th, PT on the 9th: 18:00 UTC), March 2028 (DST from the 12th, PT on the 14th:
    // 17:00 UTC); November is always after DST ends on the first Sunday (18:00 UTC).
    let table = [
        ("2026-01", "2026-01-13T18:00:00Z"),
        ("2026-02", "2026-02-10T18:00:00Z"),
        ("2026-03", "2026-03-10T17:00:00Z"),
        ("2026-04", "2026-04-14T17:00:00Z"),
        ("2026-05", "2026-05-12T17:00:00Z"),
        ("2026-06", "2026-06-09T17:00:00Z"),
        ("2026-07", "2026-07-14T17:00:00Z"),
        ("2026-08", "2026-08-11T17:00:00Z"),
        ("2026-09", "2026-09-08T17:00:00Z"),
        ("2026-10", "2026-10-13T17:00:00Z"),
        ("2026-11", "2026-11-10T18:00:00Z"),
        ("2026-12", "2026-12-08T18:00:00Z"),
        ("2027-01", "2027-01-12T18:00:00Z"),
        ("2027-02", "2027-02-09T18:00:00Z"),
        ("2027-03", "2027-03-09T18:00:00Z"),
        ("2027-04", "2027-04-13T17:00:00Z"),
        ("2027-05", "2027-05-11T17:00:00Z"),
        ("2027-06", "2027-06-08T17:00:00Z"),
        ("2027-07", "2027-07-13T17:00:00Z"),
        ("2027-08", "2027-08-10T17:00:00Z"),
        ("2027-09", "2027-09-14T17:00:00Z"),
        ("2027-10", "2027-10-12T17:00:00Z"),
        ("2027-11", "2027-11-09T18:00:00Z"),
        ("2027-12", "2027-12-14T18:00:00Z"),
        ("2028-01", "2028-01-11T18:00:00Z"),
        ("2028-02", "2028-02-08T18:00:00Z"),
        ("2028-03", "2028-03-14T17:00:00Z"),
        ("2028-04", "2028-04-11T17:00:00Z"),
        ("2028-05", "2028-05-09T17:00:00Z"),
        ("2028-06", "2028-06-13T17:00:00Z"),
        ("2028-07", "2028-07-11T17:00:00Z"),
        ("2028-08", "2028-08-08T17:00:00Z"),
        ("2028-09", "2028-09-12T17:00:00Z"),
        ("2028-10", "2028-10-10T17:00:00Z"),
        ("2028-11", "2028-11-14T18:00:00Z"),
        ("2028-12", "2028-12-12T18:00:00Z"),
    ];
    let cal = policy().calendar();
    for (month, expect) in table {
        let (y, m) = month.split_once('-').unwrap();
        assert_eq!(cal.release_of_month(y.parse().unwrap(), m.parse().unwrap()), Some(ts(expect)), "{month}");
    }
}

#[test]
fn malformed_policies_name_the_line() {
    let base = forewarn_policy::DEFAULT_POLICY;
    let cases = [
        (base.replace("summary = \"5 business days\"", "summary = \"5 fortnights\""), "is not a lead"),
        (base.replace("timezone = \"America/Los_Angeles\"", "timezone = \"Mars/Olympus\""), "not a time zone"),
        (base.replace("countries = [\"CN\"]", "countries = [\"XX\"]"), "country code"),
        (base.replace("kind = \"incident-report\"", "kind = \"rumour\""), "not an obligation kind"),
        (
            base.replace(
                "when = { partner-flag = [\"probation\"] }",
                "when = { partner-flag = [\"probation\"], tier = [\"gold\"] }",
            ),
            "tier \"gold\" is not defined",
        ),
        (
            base.replace("when = { partner-flag = [\"probation\"] }", "when = { colour = \"red\" }"),
            "unknown condition \"colour\"",
        ),
        (base.replace("cap = { poc = \"at-release\" }", "cap = { exploit = \"never\" }"), "not a section"),
        (base.replace("id = \"probation\"", "id = \"reporting-obligation\""), "two rules have the id"),
        (base.replace("[program]", "[programme]"), "unknown field `programme`"),
        (format!("{base}\n[[rule]]\nid = \"x\"\ndescription = \"y\"\ncap = {{}}\n"), "caps no section"),
        ("tiers = {}".to_owned(), "defines no tier"),
        ("this is not toml".to_owned(), "line 1"),
    ];
    for (text, expect) in cases {
        let err = Policy::parse(&text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(expect), "expected {expect:?}, got {shown}");
        assert!(shown.starts_with("line ") && err.line >= 1, "{shown}");
    }
    // The line points at the offending item.
    let text = base.replace("summary = \"24 hours\"", "summary = \"24 fortnights\"");
    let err = Policy::parse(&text).unwrap_err();
    let tier_line = text.lines().position(|l| l == "[tiers.entry]").unwrap() + 1;
    assert_eq!(err.line, tier_line, "{err}");
}
