//! The policy engine through the CLI, on the demo data.

use serde_json::Value;

use crate::common::{write_file, Program};

fn json(p: &Program, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    serde_json::from_str(&p.ok(&all)).unwrap()
}

fn section<'a>(explained: &'a Value, name: &str) -> &'a Value {
    explained["decisions"].as_array().unwrap().iter().find(|d| d["section"] == name).unwrap()
}

#[test]
fn on_the_demo_data_decisions_follow_tier_jurisdiction_and_standing() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let adv = format!("ADV-{year}-0002"); // scheduled for the next Patch Tuesday, every section present

    // A validate-tier partner in CN: only the summary, and only from T; the rule and its legal source are named.
    let cn = json(&p, &["policy", "explain", "--partner", "hanshan-antivirus", "--advisory", &adv]);
    let t = cn["release_at"].as_str().unwrap().to_owned();
    assert_eq!(section(&cn, "summary")["visible_from"], t.as_str());
    for s in ["details", "detection", "mitigation", "poc"] {
        assert!(section(&cn, s)["visible_from"].is_null(), "{s}: {}", section(&cn, s));
    }
    let rule = section(&cn, "details")["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "reporting-obligation")
        .unwrap()
        .clone();
    assert_eq!(rule["matched"], true);
    let why = rule["why"].to_string();
    assert!(why.contains("RMSV") && why.contains("chinalawtranslate.com"), "{why}");

    // A validate-tier partner in the US: the PoC from 5 business days before T.
    let us = json(&p, &["policy", "explain", "--partner", "kestrel-edr", "--advisory", &adv]);
    let poc_from: jiff::Timestamp = section(&us, "poc")["visible_from"].as_str().unwrap().parse().unwrap();
    let t: jiff::Timestamp = t.parse().unwrap();
    let tz = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    assert_eq!(poc_from, forewarn_core::calendar::business_days_before(t, 5, &tz));
    assert_eq!(
        (t.to_zoned(tz.clone()).weekday(), poc_from.to_zoned(tz).weekday()),
        (jiff::civil::Weekday::Tuesday, jiff::civil::Weekday::Tuesday)
    );

    // The suspended partner sees nothing, and the explanation says why.
    let s = json(&p, &["policy", "explain", "--partner", "polder-signal-security", "--advisory", &adv]);
    for d in s["decisions"].as_array().unwrap() {
        assert!(d["visible_from"].is_null());
        assert_eq!(d["blocked"], "the partner is suspended");
    }

    // The timeline groups the CN partners together with the summary only.
    let tl = json(&p, &["policy", "timeline", "--advisory", &adv]);
    let cn_group = tl["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["partners"].to_string().contains("hanshan-antivirus"))
        .unwrap()
        .clone();
    assert_eq!(cn_group["partners"].as_array().unwrap().len(), 4, "{cn_group}");
    assert!(cn_group["sections"]["poc"].is_null() && !cn_group["sections"]["summary"].is_null());

    // The text form names the rule too.
    let text = p.ok(&["policy", "explain", "--partner", "hanshan-antivirus", "--advisory", &adv]);
    assert!(text.contains("reporting-obligation MATCHES") && text.contains("RMSV"), "{text}");
}

#[test]
fn setting_a_policy_versions_it_and_diff_shows_who_gains_what() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let adv = format!("ADV-{year}-0002");
    let active = json(&p, &["policy", "show"]);
    assert_eq!(active["version"], 1);
    let body = active["body"].as_str().unwrap();
    // Widen the entry tier's detection lead: entry partners gain detection earlier.
    let wider = body.replace("detection = \"24 hours\"", "detection = \"2 days\"");
    let file = write_file(p.dir.path(), "wider.toml", &wider);
    let f = file.to_str().unwrap();
    let diff = json(&p, &["policy", "diff", "active", f, "--advisory", &adv]);
    let changes = diff.as_array().unwrap();
    assert!(!changes.is_empty());
    assert!(changes.iter().all(|c| c["section"] == "detection" && c["change"] == "earlier"), "{diff}");
    assert!(
        !changes.iter().any(|c| c["partner"] == "jadewell-network-security"),
        "a CN entry partner gains nothing: {diff}"
    );
    // Nothing changes until it is set.
    assert_eq!(json(&p, &["policy", "show"])["version"], 1);
    p.ok(&["--as", "priya", "policy", "set", f, "--note", "entry partners need detection sooner"]);
    assert_eq!(json(&p, &["policy", "show"])["version"], 2);
    assert_eq!(json(&p, &["policy", "history"]).as_array().unwrap().len(), 2);
    assert!(p.ok(&["history", "--subject", "policy"]).contains("policy.set"));
}

#[test]
fn delay_and_break_embargo_move_t_with_a_reason() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let adv = format!("ADV-{year}-0003");
    p.ok(&["--as", "bob", "advisory", "delay", &adv, "--to", "2099-01-13T18:00:00Z", "--reason", "fix regressed"]);
    let shown = json(&p, &["advisory", "show", &adv]);
    assert_eq!(shown["advisory"]["release_at"], "2099-01-13T18:00:00Z");
    p.ok(&["--as", "bob", "advisory", "break-embargo", &adv, "--reason", "exploit published"]);
    let shown = json(&p, &["advisory", "show", &adv]);
    assert_eq!(shown["advisory"]["status"], "released");
    let history = p.ok(&["history", "--subject", &adv]);
    assert!(history.contains("advisory.delayed") && history.contains("advisory.embargo-broken"), "{history}");

    // The draft: approved by someone else, then scheduled for the next Patch Tuesday with the bare flag.
    let draft = format!("ADV-{year}-0006");
    p.ok(&["--as", "bob", "advisory", "approve", &draft]);
    p.ok(&["--as", "bob", "advisory", "schedule", &draft, "--patch-tuesday"]);
    let shown = json(&p, &["advisory", "show", &draft]);
    let t: jiff::Timestamp = shown["advisory"]["release_at"].as_str().unwrap().parse().unwrap();
    let local = t.to_zoned(jiff::tz::TimeZone::get("America/Los_Angeles").unwrap());
    assert_eq!((local.weekday(), local.hour(), (local.day() - 1) / 7), (jiff::civil::Weekday::Tuesday, 10, 1));
}

#[test]
fn the_calendar_lists_patch_tuesdays_in_program_time_and_utc() {
    let p = Program::new();
    let out = json(&p, &["calendar", "patch-tuesday", "--after", "2026-11-29T00:00:00Z", "--count", "4"]);
    let utc: Vec<&str> = out.as_array().unwrap().iter().map(|x| x["utc"].as_str().unwrap()).collect();
    assert_eq!(utc, ["2026-12-08T18:00:00Z", "2027-01-12T18:00:00Z", "2027-02-09T18:00:00Z", "2027-03-09T18:00:00Z"]);
    // A plain date where a date is meant: after its start in the calendar's zone.
    let out = json(&p, &["calendar", "patch-tuesday", "--after", "2027-02-09", "--count", "1"]);
    assert_eq!(out[0]["utc"], "2027-02-09T18:00:00Z", "the Patch Tuesday of that very day comes after its start");
    let out = json(
        &p,
        &[
            "calendar",
            "patch-tuesday",
            "--after",
            "2027-03-10T00:00:00Z",
            "--count",
            "1",
            "--timezone",
            "Europe/Berlin",
            "--hour",
            "9",
        ],
    );
    assert_eq!(out[0]["utc"], "2027-04-13T07:00:00Z");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let mut child = p
        .cmd(&["policy", "explain", "--partner", "kestrel-edr", "--advisory", &format!("ADV-{year}-0002")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the command prints anything, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "ends like a program killed by SIGPIPE: {stderr}");
}
