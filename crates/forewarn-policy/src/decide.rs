//! Decisions and views: the one place that says what a partner may see of an advisory, and when.
//!
//! For (policy, partner, advisory, section) the decision is the *meet* — the most restrictive — of the partner's
//! tier lead and the cap of every rule that matches, where `never` < `at-release` < any lead. Rules can only
//! restrict. A partner not in good standing (suspended, revoked, agreement ended), an advisory without an approved
//! revision, withdrawn or not scheduled, and a section the advisory does not have, all give `never`.

use forewarn_core::{Advisory, AdvisoryState, Partner, PartnerStatus, RevisionMeta, SectionKind, Severity, TierName};
use jiff::Timestamp;

use crate::condition::Facts;
use crate::document::{section_index, Obligation, Policy};
use crate::lead::{Lead, Visibility};

/// What the policy needs to know of an advisory: its lifecycle record, the metadata of its approved revision and
/// which sections that revision has.
#[derive(Debug, Clone, Copy)]
pub struct AdvisoryFacts<'a> {
    pub advisory: &'a Advisory,
    pub meta: &'a RevisionMeta,
    pub sections: &'a [SectionKind],
}

/// Why nothing at all is decided for a pair: the precondition that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    PartnerSuspended,
    PartnerRevoked,
    AgreementEnded(Timestamp),
    UnknownTier(TierName),
    NotApproved,
    Withdrawn,
    NotScheduled,
    SectionAbsent,
}

impl Blocker {
    pub fn describe(&self) -> String {
        match self {
            Self::PartnerSuspended => "the partner is suspended".into(),
            Self::PartnerRevoked => "the partner is revoked".into(),
            Self::AgreementEnded(t) => format!("the partner's agreement ended at {t}"),
            Self::UnknownTier(t) => format!("the partner's tier {t} is not in the policy"),
            Self::NotApproved => "the advisory has no approved revision".into(),
            Self::Withdrawn => "the advisory is withdrawn".into(),
            Self::NotScheduled => "the advisory has no release time".into(),
            Self::SectionAbsent => "the advisory has no such section".into(),
        }
    }
}

/// One rule's part in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStep {
    /// Shared with the policy (and `why` between the sections of one view): a view is made for every partner
    /// read, and copying each rule's texts into each section's trace was most of its cost.
    pub id: std::sync::Arc<str>,
    pub description: std::sync::Arc<str>,
    pub matched: bool,
    /// Which attributes made it match or not, with the legal source for obligations.
    pub why: std::sync::Arc<[String]>,
    /// The rule's cap on this section, if it has one.
    pub cap: Option<Lead>,
    /// The cap as an instant, for this advisory's T (only when the rule matched and caps the section).
    pub cap_visibility: Option<Visibility>,
}

/// A decision with the trace that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub section: SectionKind,
    pub visibility: Visibility,
    pub release_at: Option<Timestamp>,
    pub blocker: Option<Blocker>,
    pub tier: TierName,
    pub tier_lead: Lead,
    pub tier_visibility: Visibility,
    pub rules: Vec<RuleStep>,
    /// When the partner's agreement ends: a section due at or after that is never shown.
    pub agreement_ends: Option<Timestamp>,
}

impl Decision {
    /// Recomputes the visibility from the trace alone (a property test checks it equals [`Decision::visibility`]).
    pub fn recompute(&self) -> Visibility {
        if self.blocker.is_some() {
            return Visibility::Never;
        }
        let v = self
            .rules
            .iter()
            .filter(|r| r.matched)
            .filter_map(|r| r.cap_visibility)
            .fold(self.tier_visibility, Visibility::meet);
        cut_at_agreement_end(v, self.agreement_ends)
    }
}

fn cut_at_agreement_end(v: Visibility, end: Option<Timestamp>) -> Visibility {
    match (v, end) {
        (Visibility::From(t), Some(end)) if t >= end => Visibility::Never,
        _ => v,
    }
}

fn standing(partner: &Partner, a: &AdvisoryFacts<'_>, now: Timestamp) -> Option<Blocker> {
    match partner.status {
        PartnerStatus::Suspended => return Some(Blocker::PartnerSuspended),
        PartnerStatus::Revoked => return Some(Blocker::PartnerRevoked),
        PartnerStatus::Active => {}
    }
    if let Some(end) = partner.agreement_expires_at.filter(|end| *end <= now) {
        return Some(Blocker::AgreementEnded(end));
    }
    match a.advisory.state {
        AdvisoryState::Withdrawn => return Some(Blocker::Withdrawn),
        AdvisoryState::Draft => return Some(Blocker::NotApproved),
        AdvisoryState::Approved | AdvisoryState::Scheduled => {}
    }
    if a.advisory.approved_revision.is_none() {
        return Some(Blocker::NotApproved);
    }
    if a.advisory.state != AdvisoryState::Scheduled || a.advisory.release_at.is_none() {
        return Some(Blocker::NotScheduled);
    }
    None
}

fn facts<'a>(
    partner: &'a Partner,
    a: &AdvisoryFacts<'a>,
    obligations: &'a [(&'a str, &'a Obligation)],
    products: &'a [String],
) -> Facts<'a> {
    Facts {
        country: partner.country,
        tier: &partner.tier,
        status: partner.status,
        partner: &partner.id,
        partner_flags: &partner.flags,
        obligations,
        severity: severity_of(a.meta),
        products,
        advisory_flags: &a.meta.flags,
    }
}

fn severity_of(meta: &RevisionMeta) -> Option<Severity> {
    meta.cvss.as_ref().and_then(forewarn_core::Cvss::severity)
}

fn lowercase_products(meta: &RevisionMeta) -> Vec<String> {
    meta.products.iter().map(|p| p.name.to_lowercase()).collect()
}

/// The decision for one section, with its explanation.
pub fn decide(
    policy: &Policy,
    partner: &Partner,
    a: &AdvisoryFacts<'_>,
    section: SectionKind,
    now: Timestamp,
) -> Decision {
    decide_with(policy, partner, a, &matches(policy, partner, a), section, now)
}

/// Whether each rule of the policy matches (partner, advisory), and why. It does not depend on the section, so a
/// view works it out once for all of them.
fn matches(policy: &Policy, partner: &Partner, a: &AdvisoryFacts<'_>) -> Vec<(bool, std::sync::Arc<[String]>)> {
    matches_with(policy, partner, a, true)
}

/// [`matches`]; without the reasons (empty) unless `explain`.
fn matches_with(
    policy: &Policy,
    partner: &Partner,
    a: &AdvisoryFacts<'_>,
    explain: bool,
) -> Vec<(bool, std::sync::Arc<[String]>)> {
    let obligations = policy.obligations_of(partner.country);
    let products = lowercase_products(a.meta);
    let f = facts(partner, a, &obligations, &products);
    let unexplained: std::sync::Arc<[String]> = std::sync::Arc::from([]);
    policy
        .rules
        .iter()
        .map(|r| {
            if !explain {
                return (r.when.holds(&f), unexplained.clone());
            }
            let mut why = Vec::new();
            let matched = r.when.explain(&f, &mut why);
            (matched, why.into())
        })
        .collect()
}

fn decide_with(
    policy: &Policy,
    partner: &Partner,
    a: &AdvisoryFacts<'_>,
    matched: &[(bool, std::sync::Arc<[String]>)],
    section: SectionKind,
    now: Timestamp,
) -> Decision {
    let release_at = a.advisory.release_at;
    let tier = policy.tiers.get(&partner.tier);
    let mut blocker = standing(partner, a, now);
    if blocker.is_none() && tier.is_none() {
        blocker = Some(Blocker::UnknownTier(partner.tier.clone()));
    }
    if blocker.is_none() && !a.sections.contains(&section) {
        blocker = Some(Blocker::SectionAbsent);
    }
    let i = section_index(section);
    let tier_lead = tier.map_or(Lead::Never, |t| t.leads[i]);
    let at = |lead: Lead| match release_at {
        Some(t) => Visibility::of(lead.moment(t, &policy.timezone)),
        None => Visibility::Never,
    };
    let tier_visibility = at(tier_lead);
    let rules = policy
        .rules
        .iter()
        .zip(matched)
        .map(|(r, (matched, why))| {
            let cap = r.caps[i];
            RuleStep {
                id: r.id.clone(),
                description: r.description.clone(),
                matched: *matched,
                why: why.clone(),
                cap,
                cap_visibility: if *matched { cap.map(at) } else { None },
            }
        })
        .collect();
    let mut d = Decision {
        section,
        visibility: Visibility::Never,
        release_at,
        blocker,
        tier: partner.tier.clone(),
        tier_lead,
        tier_visibility,
        rules,
        agreement_ends: partner.agreement_expires_at,
    };
    d.visibility = d.recompute();
    d
}

/// What a partner may see of an advisory at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Sections visible now, in section order.
    pub visible: Vec<SectionKind>,
    /// Sections that will become visible later, with when, earliest first.
    pub upcoming: Vec<(SectionKind, Timestamp)>,
    /// The decision for every section the advisory has.
    pub decisions: Vec<Decision>,
}

impl View {
    /// Whether the advisory exists for the partner at all: false means 404 and absent from every list.
    pub fn is_visible(&self) -> bool {
        !self.visible.is_empty()
    }

    pub fn shows(&self, section: SectionKind) -> bool {
        self.visible.contains(&section)
    }

    /// When the partner's view last gained a section (for feed `updated` times), if it has any.
    pub fn last_change(&self) -> Option<Timestamp> {
        self.decisions.iter().filter(|d| self.visible.contains(&d.section)).filter_map(|d| d.visibility.time()).max()
    }
}

/// The view: every delivery path (API, CSAF, webhooks, bundles, web pages) gets its content through this function
/// (or [`view_unexplained`], the same function without the sentences).
pub fn view(policy: &Policy, partner: &Partner, a: &AdvisoryFacts<'_>, now: Timestamp) -> View {
    view_with(policy, partner, a, now, true)
}

/// [`view`] with every rule step's `why` left empty: the same decisions, traces and visibility, without the
/// explanation sentences — for serving copies, where nobody reads them and composing them was a third of the view's
/// cost. A property test checks that it equals [`view`] with the sentences removed.
pub fn view_unexplained(policy: &Policy, partner: &Partner, a: &AdvisoryFacts<'_>, now: Timestamp) -> View {
    view_with(policy, partner, a, now, false)
}

fn view_with(policy: &Policy, partner: &Partner, a: &AdvisoryFacts<'_>, now: Timestamp, explain: bool) -> View {
    let matched = matches_with(policy, partner, a, explain);
    let decisions: Vec<Decision> = SectionKind::ALL
        .into_iter()
        .filter(|s| a.sections.contains(s))
        .map(|s| decide_with(policy, partner, a, &matched, s, now))
        .collect();
    let visible = decisions.iter().filter(|d| d.visibility.is_visible_at(now)).map(|d| d.section).collect();
    let mut upcoming: Vec<(SectionKind, Timestamp)> = decisions
        .iter()
        .filter_map(|d| match d.visibility {
            Visibility::From(t) if t > now => Some((d.section, t)),
            _ => None,
        })
        .collect();
    upcoming.sort_by_key(|(s, t)| (*t, *s));
    View { visible, upcoming, decisions }
}

/// The fast path for bulk questions (timelines, diffs, schedulers, benchmarks): the same decisions without the
/// explanations, with the per-advisory lead instants and per-partner obligations computed once.
#[derive(Debug)]
pub struct Evaluator<'p> {
    policy: &'p Policy,
    /// Every distinct lead the policy uses, so that per advisory each is turned into an instant once.
    leads: Vec<Lead>,
    /// tier name -> per section index into `leads`.
    tiers: Vec<(TierName, [usize; 5])>,
    /// per rule, per section: index into `leads`.
    caps: Vec<[Option<usize>; 5]>,
}

/// An advisory prepared for the [`Evaluator`].
#[derive(Debug)]
pub struct PreparedAdvisory<'a> {
    facts: AdvisoryFacts<'a>,
    products: Vec<String>,
    /// Instant of each of the evaluator's leads for this advisory's T.
    moments: Vec<Visibility>,
    present: [bool; 5],
}

/// A partner prepared for the [`Evaluator`].
#[derive(Debug)]
pub struct PreparedPartner<'a> {
    partner: &'a Partner,
    obligations: Vec<(&'a str, &'a Obligation)>,
    tier: Option<usize>,
}

impl<'p> Evaluator<'p> {
    pub fn new(policy: &'p Policy) -> Self {
        let mut leads: Vec<Lead> = Vec::new();
        let mut index = |l: Lead| match leads.iter().position(|x| *x == l) {
            Some(i) => i,
            None => {
                leads.push(l);
                leads.len() - 1
            }
        };
        let tiers = policy.tiers.values().map(|t| (t.name.clone(), t.leads.map(&mut index))).collect();
        let caps = policy.rules.iter().map(|r| r.caps.map(|c| c.map(&mut index))).collect();
        Self { policy, leads, tiers, caps }
    }

    pub fn advisory<'a>(&self, facts: AdvisoryFacts<'a>) -> PreparedAdvisory<'a> {
        let moments = self
            .leads
            .iter()
            .map(|l| match facts.advisory.release_at {
                Some(t) => Visibility::of(l.moment(t, &self.policy.timezone)),
                None => Visibility::Never,
            })
            .collect();
        let mut present = [false; 5];
        for s in facts.sections {
            present[section_index(*s)] = true;
        }
        PreparedAdvisory { products: lowercase_products(facts.meta), facts, moments, present }
    }

    pub fn partner<'a>(&self, partner: &'a Partner) -> PreparedPartner<'a>
    where
        'p: 'a,
    {
        PreparedPartner {
            partner,
            obligations: self.policy.obligations_of(partner.country),
            tier: self.tiers.iter().position(|(n, _)| *n == partner.tier),
        }
    }

    /// The visibility of every section (indexed by section order) for one pair. Equal to [`decide`]'s.
    pub fn visibilities(&self, p: &PreparedPartner<'_>, a: &PreparedAdvisory<'_>, now: Timestamp) -> [Visibility; 5] {
        let never = [Visibility::Never; 5];
        if standing(p.partner, &a.facts, now).is_some() {
            return never;
        }
        let Some(tier) = p.tier else { return never };
        let f = facts(p.partner, &a.facts, &p.obligations, &a.products);
        let lead_of = self.tiers[tier].1;
        let mut out = lead_of.map(|i| a.moments[i]);
        for (rule, caps) in self.policy.rules.iter().zip(&self.caps) {
            if caps.iter().any(Option::is_some) && rule.when.holds(&f) {
                for (v, cap) in out.iter_mut().zip(caps) {
                    if let Some(c) = cap {
                        *v = v.meet(a.moments[*c]);
                    }
                }
            }
        }
        for (i, v) in out.iter_mut().enumerate() {
            if !a.present[i] {
                *v = Visibility::Never;
            } else {
                *v = cut_at_agreement_end(*v, p.partner.agreement_expires_at);
            }
        }
        out
    }
}

/// The rows of a timeline: partners grouped by identical schedules (one visibility per section, in section order),
/// the earliest-seeing groups first. Partners keep their order inside a group.
pub fn schedule_groups<'a>(
    policy: &Policy,
    partners: &'a [Partner],
    advisory: AdvisoryFacts<'_>,
    now: Timestamp,
) -> Vec<([Visibility; 5], Vec<&'a Partner>)> {
    let ev = Evaluator::new(policy);
    let prepared = ev.advisory(advisory);
    let mut groups: Vec<([Visibility; 5], Vec<&Partner>)> = Vec::new();
    for p in partners {
        let v = ev.visibilities(&ev.partner(p), &prepared, now);
        match groups.iter_mut().find(|(g, _)| *g == v) {
            Some((_, ps)) => ps.push(p),
            None => groups.push((v, vec![p])),
        }
    }
    groups.sort_by_key(|(v, _)| *v.iter().min().unwrap_or(&Visibility::Never));
    groups
}

/// One visibility a proposed policy would change: advisory (index into the advisories given), partner, section,
/// before and after.
pub type Change<'a> = (usize, &'a Partner, SectionKind, Visibility, Visibility);

/// What replacing `old` by `new` would change for these partners and advisories at `now`: every (advisory, partner,
/// section) whose visibility differs. A dry run: nothing is decided for anyone.
pub fn diff<'a>(
    old: &Policy,
    new: &Policy,
    partners: &'a [Partner],
    advisories: &[AdvisoryFacts<'_>],
    now: Timestamp,
) -> Vec<Change<'a>> {
    let (eo, en) = (Evaluator::new(old), Evaluator::new(new));
    let mut changes = Vec::new();
    for (i, facts) in advisories.iter().enumerate() {
        let (ao, an) = (eo.advisory(*facts), en.advisory(*facts));
        for p in partners {
            let before = eo.visibilities(&eo.partner(p), &ao, now);
            let after = en.visibilities(&en.partner(p), &an, now);
            for s in SectionKind::ALL {
                let (b, a) = (before[section_index(s)], after[section_index(s)]);
                if b != a {
                    changes.push((i, p, s, b, a));
                }
            }
        }
    }
    changes
}
