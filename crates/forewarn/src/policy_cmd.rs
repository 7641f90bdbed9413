//! `forewarn policy ...`, `forewarn calendar ...` and `forewarn bench policy`: the questions program managers ask
//! of the policy engine, answered from the stored data.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use forewarn_core::{Advisory, AdvisoryId, Partner, PartnerId, Role, SectionKind, TierName};
use forewarn_policy::{decide, AdvisoryFacts, Decision, Evaluator, Policy, Visibility};
use forewarn_store::advisories::{self, Revision};
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, PartnerFilter};
use forewarn_store::{policies, tiers, AnyConnection, Store};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::json;

use crate::context::Globals;
use crate::errors::{CliError, CliResult};
use crate::output::{print_json, print_table};
use crate::timeparse::parse_time;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the active policy (or an earlier version).
    Show {
        #[arg(long)]
        version: Option<i64>,
    },
    /// Validate a policy file without applying it.
    Check { file: PathBuf },
    /// Validate a policy file and make it the active policy.
    Set {
        file: PathBuf,
        /// Why the policy changes.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Every version of the policy, newest first.
    History,
    /// What a partner sees of an advisory, when, and why.
    Explain {
        #[arg(long)]
        partner: String,
        #[arg(long)]
        advisory: String,
        /// The moment to evaluate at (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// When each section of an advisory becomes visible to every partner, grouped by identical schedules.
    Timeline {
        #[arg(long)]
        advisory: String,
        #[arg(long)]
        at: Option<String>,
    },
    /// Which partners would gain or lose which sections, and when, if NEW replaced OLD (`active` for the active one).
    Diff {
        old: String,
        new: String,
        /// Only this advisory (default: every scheduled advisory).
        #[arg(long)]
        advisory: Option<String>,
        #[arg(long)]
        at: Option<String>,
    },
}

/// Validates a policy text and names the file in errors.
pub fn parse_policy(text: &str, origin: &str) -> CliResult<Policy> {
    Policy::parse(text).map_err(|e| CliError::user(format!("{origin}: {e}")))
}

fn read_policy_file(path: &Path) -> CliResult<(String, Policy)> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CliError::user(format!("cannot read {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::user(format!("{shown} is not valid UTF-8")))?;
    let policy = parse_policy(&text, &shown)?;
    Ok((text, policy))
}

/// Stores a validated policy as the new active version and brings the tier table in step, in the caller's
/// transaction.
pub async fn store_policy(
    conn: &mut AnyConnection,
    text: &str,
    actor: &str,
    note: &str,
    now: Timestamp,
) -> CliResult<policies::StoredPolicy> {
    let policy = parse_policy(text, "policy")?;
    let wanted: Vec<(TierName, String)> =
        policy.tiers.values().map(|t| (t.name.clone(), t.description.clone())).collect();
    tiers::sync(conn, &wanted, now).await?;
    Ok(policies::insert(conn, text, actor, note, now).await?)
}

/// The active policy, parsed.
pub async fn active_policy(conn: &mut AnyConnection) -> CliResult<(policies::StoredPolicy, Policy)> {
    let stored = policies::active(conn).await?;
    let policy = Policy::parse(&stored.body)
        .map_err(|e| CliError::Internal(format!("the stored policy version {} does not parse: {e}", stored.version)))?;
    Ok((stored, policy))
}

/// An advisory with the revision partners are given (the approved one; the newest while none is approved).
pub struct Loaded {
    pub advisory: Advisory,
    pub revision: Revision,
    pub sections: Vec<SectionKind>,
}

impl Loaded {
    pub fn facts(&self) -> AdvisoryFacts<'_> {
        AdvisoryFacts { advisory: &self.advisory, meta: &self.revision.content.meta, sections: &self.sections }
    }
}

pub async fn load_advisory(store: &Store, conn: &mut AnyConnection, id: &AdvisoryId) -> CliResult<Loaded> {
    let advisory = advisories::get(conn, id).await?;
    let number = advisory.approved_revision.unwrap_or(advisory.current_revision);
    let revision = advisories::revision(conn, store.master_key()?, id, number).await?;
    let sections = revision.content.sections.kinds().collect();
    Ok(Loaded { advisory, revision, sections })
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn local(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%a %Y-%m-%d %H:%M %Z").to_string()
}

fn visibility_text(v: Visibility, tz: &TimeZone) -> String {
    match v {
        Visibility::From(t) => format!("{} ({})", utc(t), local(t, tz)),
        Visibility::Never => "never".into(),
    }
}

fn at_or_now(at: Option<&str>) -> CliResult<Timestamp> {
    let now = Timestamp::now();
    at.map_or(Ok(now), |a| parse_time(a, now))
}

pub async fn policy(g: &Globals, command: PolicyCommand) -> CliResult {
    match command {
        PolicyCommand::Check { file } => {
            let (text, p) = read_policy_file(&file)?;
            let obligations: usize = p.jurisdictions.iter().map(|j| j.obligations.len()).sum();
            if g.json {
                print_json(
                    &json!({"valid": true, "sha256": policies::digest(&text), "tiers": p.tiers.len(), "jurisdictions": p.jurisdictions.len(), "obligations": obligations, "rules": p.rules.len()}),
                );
            } else {
                println!(
                    "{}: valid — {} tier(s), {} jurisdiction(s) with {} obligation(s), {} rule(s); time zone {}",
                    file.display(),
                    p.tiers.len(),
                    p.jurisdictions.len(),
                    obligations,
                    p.rules.len(),
                    p.timezone_name
                );
            }
        }
        PolicyCommand::Set { file, note } => {
            let (text, _) = read_policy_file(&file)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::ProgramManager).await?;
            let now = Timestamp::now();
            let mut tx = store.begin().await?;
            let actor = Actor::Staff(me.username.to_string());
            let stored = store_policy(&mut tx, &text, &actor.as_text(), &note, now).await?;
            audit::record(
                &mut tx,
                now,
                &actor,
                "policy.set",
                "policy",
                Some(&note).filter(|n| !n.is_empty()).map(String::as_str),
                json!({
                    "version": stored.version, "sha256": stored.sha256,
                }),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"version": stored.version, "sha256": stored.sha256}));
            } else {
                println!("Policy version {} is now active (sha256 {}).", stored.version, stored.sha256);
            }
        }
        PolicyCommand::Show { version } => {
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let stored = match version {
                Some(v) => policies::get(&mut conn, v).await?,
                None => policies::active(&mut conn).await?,
            };
            if g.json {
                print_json(
                    &json!({"version": stored.version, "sha256": stored.sha256, "created_by": stored.created_by, "created_at": stored.created_at.to_string(), "note": stored.note, "body": stored.body}),
                );
            } else {
                println!(
                    "# policy version {} (sha256 {}), set by {} at {}",
                    stored.version,
                    stored.sha256,
                    stored.created_by,
                    utc(stored.created_at)
                );
                print!("{}", stored.body);
            }
        }
        PolicyCommand::History => {
            let store = g.open().await?;
            let list = policies::history(&mut *store.conn().await?).await?;
            if g.json {
                print_json(&json!(list.iter().map(|p| json!({"version": p.version, "sha256": p.sha256, "created_by": p.created_by, "created_at": p.created_at.to_string(), "note": p.note})).collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|p| {
                        vec![
                            p.version.to_string(),
                            utc(p.created_at),
                            p.created_by.clone(),
                            p.sha256[..12].to_owned(),
                            p.note.clone(),
                        ]
                    })
                    .collect();
                print_table(&["VERSION", "SET AT", "BY", "SHA256", "NOTE"], &rows);
            }
        }
        PolicyCommand::Explain { partner, advisory, at } => {
            let partner_id = PartnerId::parse(&partner)?;
            let advisory_id = AdvisoryId::parse(&advisory)?;
            let now = at_or_now(at.as_deref())?;
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let (stored, policy) = active_policy(&mut conn).await?;
            let p = partners::get(&mut conn, &partner_id).await?;
            let loaded = load_advisory(&store, &mut conn, &advisory_id).await?;
            let facts = loaded.facts();
            let decisions: Vec<Decision> =
                SectionKind::ALL.into_iter().map(|s| decide(&policy, &p, &facts, s, now)).collect();
            if g.json {
                print_json(&json!({
                    "partner": p.id.as_str(), "advisory": advisory_id.as_str(), "at": now.to_string(),
                    "release_at": loaded.advisory.release_at.map(|t| t.to_string()),
                    "policy": {"version": stored.version, "sha256": stored.sha256},
                    "decisions": decisions.iter().map(|d| forewarn_server::dto::decision_json(d, now)).collect::<Vec<_>>(),
                }));
            } else {
                print_explanation(&policy, &stored, &p, &loaded, &decisions, now);
            }
        }
        PolicyCommand::Timeline { advisory, at } => {
            let id = AdvisoryId::parse(&advisory)?;
            let now = at_or_now(at.as_deref())?;
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let (_, policy) = active_policy(&mut conn).await?;
            let loaded = load_advisory(&store, &mut conn, &id).await?;
            let all = partners::list(&mut conn, &PartnerFilter::default()).await?;
            let groups = timeline(&policy, &all, &loaded, now);
            if g.json {
                print_json(&json!({
                    "advisory": id.as_str(), "at": now.to_string(),
                    "release_at": loaded.advisory.release_at.map(|t| t.to_string()),
                    "groups": groups.iter().map(|(v, ps)| json!({
                        "partners": ps.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
                        "sections": SectionKind::ALL.iter().zip(v).map(|(s, v)| (s.as_str().to_owned(), json!(v.time().map(|t| t.to_string())))).collect::<serde_json::Map<_, _>>(),
                    })).collect::<Vec<_>>(),
                }));
            } else {
                println!(
                    "{} — release T {}",
                    id,
                    loaded
                        .advisory
                        .release_at
                        .map_or("not scheduled".into(), |t| visibility_text(Visibility::From(t), &policy.timezone))
                );
                let mut rows = Vec::new();
                for (v, ps) in &groups {
                    let names: Vec<&str> = ps.iter().map(|p| p.id.as_str()).collect();
                    let shown = if names.len() > 4 {
                        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
                    } else {
                        names.join(", ")
                    };
                    let mut row = vec![ps.len().to_string(), shown];
                    row.extend(
                        v.iter().map(|x| x.time().map_or("never".into(), |t| t.strftime("%m-%d %H:%M").to_string())),
                    );
                    rows.push(row);
                }
                print_table(&["N", "PARTNERS", "SUMMARY", "DETAILS", "DETECTION", "MITIGATION", "POC"], &rows);
                println!("Times are UTC; `never` means not through forewarn (suspended, restricted, or absent from the tier).");
            }
        }
        PolicyCommand::Diff { old, new, advisory, at } => {
            let now = at_or_now(at.as_deref())?;
            let only = advisory.as_deref().map(AdvisoryId::parse).transpose()?;
            let read = |name: &str| -> CliResult<Option<Policy>> {
                if name == "active" {
                    Ok(None)
                } else {
                    read_policy_file(Path::new(name)).map(|(_, p)| Some(p))
                }
            };
            let (old_p, new_p) = (read(&old)?, read(&new)?);
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let (_, active) = active_policy(&mut conn).await?;
            let old_p = old_p.unwrap_or_else(|| active.clone());
            let new_p = new_p.unwrap_or(active);
            let ids: Vec<AdvisoryId> = match only {
                Some(id) => vec![id],
                None => advisories::list(&mut conn)
                    .await?
                    .into_iter()
                    .filter(|a| {
                        a.release_at.is_some_and(|t| t > now) || a.status(now) == forewarn_core::Status::Scheduled
                    })
                    .map(|a| a.id)
                    .collect(),
            };
            let all = partners::list(&mut conn, &PartnerFilter::default()).await?;
            let mut loaded = Vec::new();
            for id in &ids {
                loaded.push(load_advisory(&store, &mut conn, id).await?);
            }
            let facts: Vec<AdvisoryFacts<'_>> = loaded.iter().map(Loaded::facts).collect();
            let changes: Vec<(AdvisoryId, PartnerId, SectionKind, Visibility, Visibility)> =
                forewarn_policy::diff(&old_p, &new_p, &all, &facts, now)
                    .into_iter()
                    .map(|(i, p, s, b, a)| (ids[i].clone(), p.id.clone(), s, b, a))
                    .collect();
            if g.json {
                print_json(&json!(changes
                    .iter()
                    .map(|(a, p, s, b, n)| json!({
                        "advisory": a.as_str(), "partner": p.as_str(), "section": s.as_str(),
                        "before": b.time().map(|t| t.to_string()), "after": n.time().map(|t| t.to_string()),
                        "change": if n > b { "later" } else { "earlier" },
                    }))
                    .collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = changes
                    .iter()
                    .map(|(a, p, s, b, n)| {
                        vec![
                            a.to_string(),
                            p.to_string(),
                            s.to_string(),
                            b.time().map_or("never".into(), utc),
                            n.time().map_or("never".into(), utc),
                            if n > b { "later".into() } else { "EARLIER".into() },
                        ]
                    })
                    .collect();
                print_table(&["ADVISORY", "PARTNER", "SECTION", "BEFORE", "AFTER", "CHANGE"], &rows);
                let earlier = changes.iter().filter(|c| c.4 < c.3).count();
                println!("{} change(s) across {} advisory(ies) and {} partner(s); {earlier} would make a section visible earlier.", changes.len(), ids.len(), all.len());
            }
        }
    }
    Ok(())
}

fn print_explanation(
    policy: &Policy,
    stored: &policies::StoredPolicy,
    p: &Partner,
    loaded: &Loaded,
    decisions: &[Decision],
    now: Timestamp,
) {
    let tz = &policy.timezone;
    println!("{} as seen by {} ({}, {}, tier {}) at {}", loaded.advisory.id, p.id, p.name, p.country, p.tier, utc(now));
    println!(
        "  release T: {}",
        loaded.advisory.release_at.map_or("not scheduled".into(), |t| visibility_text(Visibility::From(t), tz))
    );
    println!(
        "  policy:    version {} (sha256 {}), time zone {}",
        stored.version,
        &stored.sha256[..12],
        policy.timezone_name
    );
    println!();
    let rows: Vec<Vec<String>> = decisions
        .iter()
        .map(|d| {
            vec![
                d.section.to_string(),
                visibility_text(d.visibility, tz),
                if d.visibility.is_visible_at(now) { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    print_table(&["SECTION", "VISIBLE FROM", "NOW"], &rows);
    // Whether a rule matches depends on the partner and the advisory, not the section: say it once.
    if let Some(first) = decisions.iter().find(|d| d.blocker.is_none()).or(decisions.first()) {
        println!("\nRules:");
        for r in &first.rules {
            if r.matched {
                println!("  {} MATCHES: {}", r.id, r.description);
                for w in r.why.iter() {
                    println!("      because {w}");
                }
            } else {
                println!("  {} does not match: {}", r.id, r.why.join("; "));
            }
        }
    }
    println!("\nPer section:");
    for d in decisions {
        if let Some(b) = &d.blocker {
            println!("  {}: {} -> never", d.section, b.describe());
            continue;
        }
        let mut steps = vec![format!("tier {} {} -> {}", d.tier, d.tier_lead, visibility_text(d.tier_visibility, tz))];
        for r in d.rules.iter().filter(|r| r.matched) {
            if let (Some(cap), Some(v)) = (r.cap, r.cap_visibility) {
                steps.push(format!("rule {} caps it ({cap}) -> {}", r.id, visibility_text(v, tz)));
            }
        }
        let before_cut = d
            .rules
            .iter()
            .filter(|r| r.matched)
            .filter_map(|r| r.cap_visibility)
            .fold(d.tier_visibility, Visibility::meet);
        if let (Some(end), Visibility::From(t)) = (d.agreement_ends, before_cut) {
            if t >= end {
                steps.push(format!("the partner's agreement ends first ({})", utc(end)));
            }
        }
        println!("  {}: {}", d.section, steps.join("; "));
        println!("      => {}", visibility_text(d.visibility, tz));
    }
}

/// Partners grouped by identical schedules, the earliest-seeing groups first.
pub fn timeline<'a>(
    policy: &Policy,
    all: &'a [Partner],
    loaded: &Loaded,
    now: Timestamp,
) -> Vec<([Visibility; 5], Vec<&'a Partner>)> {
    forewarn_policy::schedule_groups(policy, all, loaded.facts(), now)
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Patch Tuesdays: the second Tuesday of the month at the program's release hour, in its time zone.
    PatchTuesday {
        /// List those after this time, or after the start of this date in the calendar's zone (default: now).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 6)]
        count: u32,
        /// Time zone (default: the active policy's, or America/Los_Angeles).
        #[arg(long)]
        timezone: Option<String>,
        /// Release hour in that zone (default: the active policy's, or 10).
        #[arg(long)]
        hour: Option<i8>,
    },
}

pub async fn calendar(g: &Globals, command: CalendarCommand) -> CliResult {
    let CalendarCommand::PatchTuesday { after, count, timezone, hour } = command;
    if !(1..=120).contains(&count) {
        return Err(CliError::user("--count must be between 1 and 120"));
    }
    let now = Timestamp::now();
    let mut cal = forewarn_core::ReleaseCalendar::patch_tuesday();
    if g.is_initialised() {
        let store = g.open().await?;
        if let Ok((_, p)) = active_policy(&mut *store.conn().await?).await {
            cal = p.calendar();
        }
    }
    if let Some(tz) = timezone {
        cal.tz = TimeZone::get(&tz).map_err(|_| {
            CliError::user(format!("{tz:?} is not a time zone of the IANA database (e.g. America/Los_Angeles)"))
        })?;
    }
    // A plain date is that day's start in the calendar's zone.
    let after = after.map_or(Ok(now), |a| crate::timeparse::parse_moment(&a, now, &cal.tz))?;
    if let Some(h) = hour {
        if !(0..24).contains(&h) {
            return Err(CliError::user("--hour must be between 0 and 23"));
        }
        cal.hour = h;
    }
    let mut out = Vec::new();
    let mut t = after;
    for _ in 0..count {
        match cal.next_after(t) {
            Some(next) => {
                out.push(next);
                t = next;
            }
            None => break,
        }
    }
    if g.json {
        print_json(&json!(out
            .iter()
            .map(|t| json!({"utc": t.to_string(), "local": t.to_zoned(cal.tz.clone()).to_string()}))
            .collect::<Vec<_>>()));
    } else {
        let rows: Vec<Vec<String>> = out.iter().map(|t| vec![local(*t, &cal.tz), utc(*t)]).collect();
        print_table(&["PATCH TUESDAY (PROGRAM TIME)", "UTC"], &rows);
    }
    Ok(())
}

/// Measures decisions per second on one core: `partners` x `advisories` x 5 sections with the default policy.
pub fn bench_policy(partners: usize, advisory_count: usize) -> CliResult {
    use forewarn_core::{AdvisoryFlag, AdvisoryState, CountryCode, Cvss, PartnerStatus, RevisionMeta, Username};
    let policy = parse_policy(forewarn_policy::DEFAULT_POLICY, "default policy")?;
    let countries = ["US", "CN", "DE", "JP", "IL", "IN", "KR", "GB", "FR", "SG", "BR", "AU"];
    let tiers_ = ["validate", "ans", "entry"];
    let base: Timestamp = "2026-12-08T18:00:00Z".parse().map_err(|_| CliError::Internal("time".into()))?;
    let all_partners: Vec<Partner> = (0..partners)
        .map(|i| -> CliResult<Partner> {
            let mut flags = std::collections::BTreeSet::new();
            if i % 17 == 0 {
                flags.insert("probation".to_owned());
            }
            Ok(Partner {
                id: PartnerId::parse(&format!("p{i}"))?,
                name: format!("Partner {i}"),
                country: CountryCode::parse(countries[i % countries.len()])?,
                tier: TierName::parse(tiers_[i % 3])?,
                status: if i % 50 == 0 { PartnerStatus::Suspended } else { PartnerStatus::Active },
                status_reason: None,
                status_changed_at: base,
                agreement_expires_at: Some(base + jiff::SignedDuration::from_hours(24 * 365)),
                contacts: vec![],
                flags,
                created_at: base,
            })
        })
        .collect::<CliResult<_>>()?;
    let cvss = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")?;
    let metas: Vec<RevisionMeta> = (0..advisory_count)
        .map(|i| RevisionMeta {
            title: format!("Advisory {i}"),
            products: vec![],
            cvss: Some(cvss.clone()),
            cwe: None,
            cves: vec![],
            flags: if i % 5 == 0 { vec![AdvisoryFlag::ExploitedInTheWild] } else { vec![] },
            marking: 2,
        })
        .collect();
    let advisories_: Vec<Advisory> = (0..advisory_count)
        .map(|i| -> CliResult<Advisory> {
            Ok(Advisory {
                id: AdvisoryId::numbered(2026, u32::try_from(i + 1).unwrap_or(u32::MAX)),
                state: AdvisoryState::Scheduled,
                release_at: Some(base + jiff::SignedDuration::from_hours(24 * 7 * i64::try_from(i % 8).unwrap_or(0))),
                current_revision: 1,
                approved_revision: Some(1),
                created_by: Username::parse("alice")?,
                created_at: base,
                updated_at: base,
                withdrawn_reason: None,
            })
        })
        .collect::<CliResult<_>>()?;
    let sections = SectionKind::ALL;
    let ev = Evaluator::new(&policy);
    let prepared_a: Vec<_> = advisories_
        .iter()
        .zip(&metas)
        .map(|(a, m)| ev.advisory(AdvisoryFacts { advisory: a, meta: m, sections: &sections }))
        .collect();
    let prepared_p: Vec<_> = all_partners.iter().map(|p| ev.partner(p)).collect();
    let now = base - jiff::SignedDuration::from_hours(48);
    let started = std::time::Instant::now();
    let mut visible = 0u64;
    for a in &prepared_a {
        for p in &prepared_p {
            let v = ev.visibilities(p, a, now);
            visible += v.iter().filter(|x| x.is_visible_at(now)).count() as u64;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let decisions = (partners * advisory_count * 5) as f64;
    let rate = decisions / secs.max(1e-9);
    println!(
        "{partners} partners x {advisory_count} advisories x 5 sections = {decisions:.0} decisions in {secs:.3} s on one core: {:.1} million decisions/s ({visible} visible at T-48h)",
        rate / 1e6
    );
    // The explained path, as the API will call it per request: view() builds every decision's trace.
    let sample_p = all_partners.len().min(1000);
    let sample_a = advisories_.len().min(10);
    let started = std::time::Instant::now();
    let mut shown = 0usize;
    for (a, m) in advisories_.iter().zip(&metas).take(sample_a) {
        let facts = AdvisoryFacts { advisory: a, meta: m, sections: &sections };
        for p in all_partners.iter().take(sample_p) {
            shown += forewarn_policy::view(&policy, p, &facts, now).visible.len();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let views = (sample_p * sample_a) as f64;
    println!(
        "with explanations: {views:.0} views (5 decisions each, traced) in {secs:.3} s: {:.0} views/s, {:.1} µs per view",
        views / secs.max(1e-9),
        secs * 1e6 / views.max(1.0)
    );
    let _ = std::hint::black_box((visible, shown));
    Ok(())
}
