//! `forewarn demo`: a realistic program for a newcomer, in `./forewarn-demo` unless `--data-dir` says otherwise.
//!
//! The first run initialises the directory and seeds it: six staff users (one per role), the partners in
//! `demo/partners.toml` (37 organisations in 21 countries, every tier, one suspended) each with an API token, and the
//! seven advisories in `demo/advisories/` placed around *now*: one released last Patch Tuesday, three scheduled for
//! the next, one out-of-band in two days, one draft awaiting approval, and one whose release was pulled forward
//! (an embargo break). Their history is recorded as if it had happened over the past weeks. The logins and tokens
//! are written to `demo-credentials.txt` (mode 0600) in the data directory; later runs reuse the data and print
//! them again.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use clap::Args;
use forewarn_core::calendar::ReleaseCalendar;
use forewarn_core::{Role, Roles, Username};
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, NewPartner};
use forewarn_store::{advisories, credentials, users};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;

use crate::commands;
use crate::context::Globals;
use crate::errors::{CliError, CliResult};

pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seed (or reuse) the data, print the credentials, and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

const PARTNERS: &str = include_str!("../demo/partners.toml");

const ADVISORIES: [&str; 7] = [
    include_str!("../demo/advisories/01-released.md"),
    include_str!("../demo/advisories/02-scheduled-a.md"),
    include_str!("../demo/advisories/03-scheduled-b.md"),
    include_str!("../demo/advisories/04-scheduled-c.md"),
    include_str!("../demo/advisories/05-out-of-band.md"),
    include_str!("../demo/advisories/06-draft.md"),
    include_str!("../demo/advisories/07-embargo-break.md"),
];

const POCS: [(&str, &[u8]); 4] = [
    ("poc/contoso-mime-trigger.py", include_bytes!("../demo/advisories/poc/contoso-mime-trigger.py")),
    ("poc/fabrikam-relaystate-overflow.py", include_bytes!("../demo/advisories/poc/fabrikam-relaystate-overflow.py")),
    ("poc/adventureworks-session-probe.py", include_bytes!("../demo/advisories/poc/adventureworks-session-probe.py")),
    ("poc/tailspin-hls-traversal-check.py", include_bytes!("../demo/advisories/poc/tailspin-hls-traversal-check.py")),
];

#[derive(Debug, Deserialize)]
struct PartnerFile {
    partner: Vec<DemoPartner>,
}

#[derive(Debug, Deserialize)]
struct DemoPartner {
    name: String,
    country: String,
    tier: String,
    status: String,
    status_reason: Option<String>,
    contact: String,
    agreement_months: i64,
    #[serde(default)]
    flags: Vec<String>,
}

const STAFF: [(&str, &str, Role); 5] = [
    ("alice", "Alice Author", Role::Author),
    ("bob", "Bob Approver", Role::Approver),
    ("priya", "Priya Program-Manager", Role::ProgramManager),
    ("ivan", "Ivan Investigator", Role::Investigator),
    ("audrey", "Audrey Auditor", Role::Auditor),
];

pub async fn run(g: &Globals, args: DemoArgs) -> CliResult {
    let creds = g.data_dir.join(CREDENTIALS_FILE);
    let reused = g.is_initialised();
    if reused && !creds.exists() {
        return Err(CliError::user(format!(
            "{} holds a forewarn program that the demo did not create; pass another --data-dir for the demo",
            g.data_dir.display()
        )));
    }
    let mut config = commands::server_config(g, Some(args.listen))?;
    if !config.webhook_private_explicit {
        // The demo runs on one machine: let partners' test receivers on localhost get webhooks.
        config.config.webhooks.allow_private = true;
    }
    if !reused {
        seed(g).await?;
    }
    let text = std::fs::read_to_string(&creds)
        .map_err(|e| CliError::Internal(format!("cannot read {}: {e}", creds.display())))?;
    let store = g.open().await?;
    let summary = |url: &str| {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "forewarn demo — {} ({})", g.data_dir.display(), if reused { "reused" } else { "new" });
        let _ = writeln!(out);
        for line in text.lines().filter(|l| !l.starts_with("partner-token ")) {
            let _ = writeln!(out, "{line}");
        }
        let tokens: Vec<Vec<&str>> = text
            .lines()
            .filter_map(|l| l.strip_prefix("partner-token "))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let _ = writeln!(out, "Partner API tokens ({} in all, every one in {}); a few:", tokens.len(), creds.display());
        // One partner per tier, every Chinese partner, and the suspended one.
        let mut tiers_seen = Vec::new();
        for t in tokens.iter().filter(|t| t.len() == 5) {
            let (country, tier, status) = (t[1], t[2], t[3]);
            if status != "active" || country == "CN" || !tiers_seen.contains(&tier) {
                tiers_seen.push(tier);
                let _ = writeln!(out, "  {:<28} {country} {tier:<8} {status:<9} {}", t[0], t[4]);
            }
        }
        let _ = writeln!(out);
        if !args.no_serve {
            let _ = writeln!(out, "Console: {url}/console  (sign in as priya with the password above; the dashboard");
            let _ = writeln!(
                out,
                "         links each advisory of the next Patch Tuesday to who sees what, when, and why)"
            );
            let _ = writeln!(out, "Portal:  {url}/portal   (a partner's view: kestrel-analyst or hanshan-analyst)");
            let _ = writeln!(out, "Serving on {url}   (try: curl {url}/healthz)");
            let _ = writeln!(out, "Stop with Ctrl-C; run the same command again to reuse this data.");
        }
        // A closed stdout (the caller stopped reading) must not stop the server.
        let _ = std::io::stdout().write_all(out.as_bytes()).and_then(|()| std::io::stdout().flush());
    };
    if args.no_serve {
        summary("");
        store.close().await;
        return Ok(());
    }
    commands::serve_store(store, config, summary).await
}

async fn seed(g: &Globals) -> CliResult {
    let init = commands::initialise(g, "admin").await?;
    let store = init.store;
    let key = store.master_key()?;
    let now = Timestamp::now();
    let mut creds = String::new();
    creds.push_str("Staff logins (user / password / role):\n");
    creds.push_str(&format!("  {:<7} {}  admin\n", init.admin.as_str(), init.admin_password.as_str()));

    let mut tx = store.begin().await?;
    for (name, display, role) in STAFF {
        let password = credentials::generate_password()?;
        let hash = credentials::hash_password(&password)?;
        users::insert(&mut tx, &Username::parse(name)?, display, Roles::from_slice(&[role]), &hash, now).await?;
        creds.push_str(&format!("  {name:<7} {}  {role}\n", password.as_str()));
    }
    creds.push('\n');

    let file: PartnerFile =
        toml::from_str(PARTNERS).map_err(|e| CliError::Internal(format!("demo/partners.toml: {}", e.message())))?;
    let pm = Actor::Staff("priya".into());
    for d in &file.partner {
        let mut new = NewPartner::new(&d.name, None, &d.country, &d.tier, std::slice::from_ref(&d.contact), &d.flags)?;
        new.agreement_expires_at = Some(now + SignedDuration::from_hours(d.agreement_months * 730));
        let p = partners::insert(&mut tx, &new, now).await?;
        let token = partners::issue(&mut tx, &p.id, "demo", None, now).await?;
        audit::record(
            &mut tx,
            now,
            &pm,
            "partner.add",
            p.id.as_str(),
            None,
            json!({"tier": d.tier, "country": d.country}),
        )
        .await?;
        if d.status == "suspended" {
            let reason = d.status_reason.as_deref().unwrap_or("under investigation");
            partners::set_status(&mut tx, &p.id, forewarn_core::PartnerStatus::Suspended, Some(reason), now).await?;
            audit::record(&mut tx, now, &pm, "partner.suspend", p.id.as_str(), Some(reason), json!({})).await?;
        }
        creds.push_str(&format!(
            "partner-token {:<28} {} {:<8} {:<9} {}\n",
            p.id.as_str(),
            p.country,
            p.tier.as_str(),
            d.status,
            token.text.as_str(),
        ));
    }

    // Partner portal logins: a validate-tier US partner (an analyst and its organisation's portal administrator), a
    // restricted CN partner, and the suspended one.
    creds.push_str("\nPartner portal logins (user / password / partner), at /portal:\n");
    for (user, partner, admin) in [
        ("kestrel-analyst", "kestrel-edr", false),
        ("kestrel-admin", "kestrel-edr", true),
        ("hanshan-analyst", "hanshan-antivirus", false),
        ("polder-analyst", "polder-signal-security", false),
    ] {
        let password = credentials::generate_password()?;
        let u = forewarn_store::portal::add_user(
            &mut tx,
            &Username::parse(user)?,
            &forewarn_core::PartnerId::parse(partner)?,
            &password,
            admin,
            "priya",
            now,
        )
        .await?;
        audit::record(&mut tx, now, &pm, "portal.user.add", partner, None, json!({"user": u.username.as_str()}))
            .await?;
        let role = if admin { " (portal administrator)" } else { "" };
        creds.push_str(&format!("  {user:<16} {}  {partner}{role}\n", password.as_str()));
    }
    creds.push('\n');

    // Advisories around now.
    let cal = ReleaseCalendar::patch_tuesday();
    let next_pt = cal.next_after(now).ok_or_else(|| CliError::Internal("no next Patch Tuesday".into()))?;
    let prev_pt =
        cal.previous_at_or_before(now).ok_or_else(|| CliError::Internal("no previous Patch Tuesday".into()))?;
    let h = SignedDuration::from_hours;
    let round_hour = |t: Timestamp| Timestamp::from_second(t.as_second() - t.as_second().rem_euclid(3600)).unwrap_or(t);
    let oob = round_hour(now + h(48));
    let pulled = {
        let t = round_hour(now + h(24)).min(next_pt - h(1));
        if t > now {
            t
        } else {
            now + SignedDuration::from_mins(30)
        }
    };
    // (file index, created, approved and scheduled at, release T, embargo break: (when, new T))
    type Step = (usize, Timestamp, Option<Timestamp>, Option<Timestamp>, Option<(Timestamp, Timestamp)>);
    let plan: [Step; 7] = [
        (0, prev_pt - h(12 * 24), Some(prev_pt - h(10 * 24)), Some(prev_pt), None),
        (1, now - h(6 * 24), Some(now - h(5 * 24)), Some(next_pt), None),
        (2, now - h(6 * 24) + h(2), Some(now - h(5 * 24) + h(2)), Some(next_pt), None),
        (3, now - h(6 * 24) + h(4), Some(now - h(5 * 24) + h(4)), Some(next_pt), None),
        (4, now - h(24), Some(now - h(20)), Some(oob), None),
        (5, now - h(2), None, None, None),
        (6, now - h(8 * 24), Some(now - h(7 * 24)), Some(next_pt), Some((now - h(3), pulled))),
    ];
    let alice = Username::parse("alice")?;
    let bob = Username::parse("bob")?;
    let (author, approver) = (Actor::Staff("alice".into()), Actor::Staff("bob".into()));
    for (index, created, approved, release, brk) in plan {
        let content = crate::advisory_file::parse(ADVISORIES[index], &format!("demo advisory {}", index + 1), |rel| {
            POCS.iter()
                .find(|(p, _)| *p == rel)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| CliError::Internal(format!("demo attachment {rel} missing")))
        })?;
        // Numbered in file order, in the current year, whatever the simulated creation time.
        let id = forewarn_core::AdvisoryId::numbered(now.to_zoned(jiff::tz::TimeZone::UTC).year(), index as u32 + 1);
        let a = advisories::create(&mut tx, key, Some(id), &content, &alice, created).await?;
        audit::record(&mut tx, created, &author, "advisory.create", a.id.as_str(), None, json!({"revision": 1}))
            .await?;
        if let (Some(at), Some(t)) = (approved, release) {
            let mut a = advisories::approve(&mut tx, &a.id, &bob, at).await?;
            audit::record(&mut tx, at, &approver, "advisory.approve", a.id.as_str(), None, json!({"revision": 1}))
                .await?;
            a.schedule(t, None, at)?;
            advisories::save_lifecycle(&mut tx, &a).await?;
            audit::record(
                &mut tx,
                at,
                &approver,
                "advisory.scheduled",
                a.id.as_str(),
                None,
                json!({"release_at": t.to_string()}),
            )
            .await?;
            if let Some((when, to)) = brk {
                let reason = "Technical details were posted publicly; release pulled forward";
                let change = a.schedule(to, Some(reason), when)?;
                advisories::save_lifecycle(&mut tx, &a).await?;
                audit::record(
                    &mut tx,
                    when,
                    &approver,
                    &format!("advisory.{}", change.as_str()),
                    a.id.as_str(),
                    Some(reason),
                    json!({
                        "release_at": to.to_string(), "previous": t.to_string(),
                    }),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;

    let path = g.data_dir.join(CREDENTIALS_FILE);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| CliError::Internal(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(creds.as_bytes())
        .map_err(|e| CliError::Internal(format!("cannot write {}: {e}", path.display())))?;
    store.close().await;
    Ok(())
}

/// The release-burst benchmark's program: `partners` partners in twelve countries across the three tiers, and
/// `advisories` advisories (the demo's texts, cycled) approved and released an hour ago, so that everything becomes
/// visible at once. Tokens go to `bench-tokens.txt` (`<partner> <token>` per line).
pub async fn seed_bench(g: &Globals, partner_count: usize, advisory_count: usize) -> CliResult {
    if g.is_initialised() {
        return Err(CliError::user(format!(
            "{} is already initialised; seed a new data directory",
            g.data_dir.display()
        )));
    }
    let started = std::time::Instant::now();
    let init = commands::initialise(g, "admin").await?;
    let store = init.store;
    let key = store.master_key()?;
    let now = Timestamp::now();
    let h = SignedDuration::from_hours;
    let mut tx = store.begin().await?;
    let approver = Username::parse("bench-approver")?;
    users::insert(&mut tx, &approver, "Bench approver", Roles::from_slice(&[Role::Approver]), "-", now).await?;
    let countries = ["US", "DE", "JP", "GB", "FR", "CN", "IN", "KR", "SG", "BR", "AU", "IL"];
    let tiers = ["validate", "ans", "entry"];
    let mut tokens = String::new();
    for i in 0..partner_count {
        let new = NewPartner::new(
            &format!("Bench Partner {i}"),
            None,
            countries[i % countries.len()],
            tiers[i % 3],
            &[],
            &[],
        )?;
        let p = partners::insert(&mut tx, &new, now).await?;
        let token = partners::issue(&mut tx, &p.id, "bench", None, now).await?;
        tokens.push_str(&format!("{} {}\n", p.id, token.text.as_str()));
    }
    for j in 0..advisory_count {
        let content = crate::advisory_file::parse(ADVISORIES[j % ADVISORIES.len()], "bench advisory", |rel| {
            POCS.iter()
                .find(|(p, _)| *p == rel)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| CliError::Internal(format!("{rel} missing")))
        })?;
        let id = forewarn_core::AdvisoryId::parse(&format!("BENCH-{j:05}"))?;
        let created = now - h(240);
        advisories::create(&mut tx, key, Some(id.clone()), &content, &init.admin, created).await?;
        let mut a = advisories::approve(&mut tx, &id, &approver, created + h(1)).await?;
        a.schedule(now - h(1), None, created + h(1))?;
        advisories::save_lifecycle(&mut tx, &a).await?;
    }
    tx.commit().await?;
    let path = g.data_dir.join("bench-tokens.txt");
    std::fs::write(&path, tokens).map_err(|e| CliError::Internal(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "Seeded {partner_count} partners and {advisory_count} released advisories in {:.1} s; tokens in {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    store.close().await;
    Ok(())
}
