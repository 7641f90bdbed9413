//! Leak tracing through the real product: an advisory written with fingerprint alternatives, each partner's copy
//! fetched from the live server, an excerpt of one copy (reflowed, lower-cased) traced with `forewarn trace` and
//! with the investigator API — the copy's partner named, no one named from the author's base text, and only
//! investigators allowed to ask.

use crate::common::{http, http_post, write_file, Program};
use crate::server::{sigterm, start_demo, token_of};

fn advisory() -> String {
    let details: String = (0..40)
        .map(|i| {
            format!("In step {i} the {{{{worker {i}|process {i}}}}} {{{{reads field {i}|parses field {i}}}}} of the header and {{{{then stores it in slot {i}|next stores it in slot {i}}}}}.\n")
        })
        .collect();
    format!(
        "+++\ntitle = \"Contoso Relay: heap overflow in header parsing\"\n\n[[products]]\nname = \"Contoso Relay\"\nversions = [\"2.0 through 2.3\"]\n+++\n\n# Summary\nA heap overflow in Contoso Relay.\n\n# Details\n{details}"
    )
}

fn excerpt(details: &str) -> String {
    details.lines().skip(5).take(32).collect::<Vec<_>>().join(" ").to_lowercase()
}

#[test]
fn a_partners_copy_is_traced_back_to_it_by_the_cli_and_the_api() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let file = write_file(p.dir.path(), "trace.md", &advisory());
    p.ok(&["--as", "alice", "advisory", "new", file.to_str().unwrap(), "--id", "ADV-TRACE-1"]);
    p.ok(&["--as", "bob", "advisory", "approve", "ADV-TRACE-1"]);
    p.ok(&["--as", "bob", "advisory", "schedule", "ADV-TRACE-1", "--patch-tuesday", "next"]);
    p.ok(&["--as", "bob", "advisory", "break-embargo", "ADV-TRACE-1", "--reason", "test release"]);
    let (mut child, url, _) = start_demo(&p);

    // Two partners' copies differ; each is stable.
    let copy_of = |partner: &str| -> String {
        let (status, body) = http(&url, "GET", "/api/v1/advisories/ADV-TRACE-1", Some(&token_of(&p, partner)));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["sections"]["details"].as_str().unwrap().to_owned()
    };
    let kestrel = copy_of("kestrel-edr");
    let northgate = copy_of("northgate-threat-labs");
    assert_ne!(kestrel, northgate, "copies are fingerprinted");
    assert_eq!(kestrel, copy_of("kestrel-edr"), "the same partner always gets the same copy");
    assert!(!kestrel.contains("{{"), "no marker syntax reaches a partner");

    // The CLI names kestrel from an excerpt of its copy, with the access evidence.
    let leak = write_file(p.dir.path(), "leak.txt", &excerpt(&kestrel));
    let report: serde_json::Value =
        serde_json::from_str(&p.ok(&["--as", "ivan", "trace", "--leak", leak.to_str().unwrap(), "--output", "json"]))
            .unwrap();
    let accused: Vec<&str> = report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["accused"] == true)
        .map(|s| s["partner"].as_str().unwrap())
        .collect();
    assert_eq!(accused, vec!["kestrel-edr"], "{report}");
    assert_eq!(report["sources"][0]["advisory"], "ADV-TRACE-1");
    assert_eq!(report["sources"][0]["section"], "details");
    let received: Vec<&str> = report["sources"][0]["received_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partner"].as_str().unwrap())
        .collect();
    assert!(received.contains(&"kestrel-edr") && received.contains(&"northgate-threat-labs"), "{report}");

    // The author's base text names no one, and says so.
    let base = forewarn_mark::base_text(advisory().split("# Details\n").nth(1).unwrap());
    let base_leak = write_file(p.dir.path(), "base.txt", &excerpt(&base));
    let out = p.ok(&["--as", "ivan", "trace", "--leak", base_leak.to_str().unwrap()]);
    assert!(out.contains("no partner can be named at this error rate"), "{out}");
    // A whole CSAF document (the notes JSON-escaped) names its partner too.
    let (status, csaf) =
        http(&url, "GET", "/api/v1/advisories/ADV-TRACE-1/csaf", Some(&token_of(&p, "northgate-threat-labs")));
    assert_eq!(status, 200);
    let csaf_leak = write_file(p.dir.path(), "leak.json", &csaf);
    let report: serde_json::Value = serde_json::from_str(&p.ok(&[
        "--as",
        "ivan",
        "trace",
        "--leak",
        csaf_leak.to_str().unwrap(),
        "--output",
        "json",
    ]))
    .unwrap();
    assert!(report["verdict"].as_str().unwrap().contains("named: northgate-threat-labs"), "{report}");
    // Only investigators trace.
    assert_eq!(p.run(&["--as", "audrey", "trace", "--leak", leak.to_str().unwrap()]).status.code(), Some(2));

    // The investigator API: the same answer for an investigator, 403 for anyone else.
    let staff = |user: &str| -> String {
        let out: serde_json::Value =
            serde_json::from_str(&p.ok(&["--as", user, "user", "token", user, "--output", "json"])).unwrap();
        out["token"].as_str().unwrap().to_owned()
    };
    let body = serde_json::json!({"leaks": [excerpt(&northgate)], "first_seen": "2099-01-01T00:00:00Z"}).to_string();
    let (status, answer) = http_post(&url, "/api/v1/admin/investigations", &staff("ivan"), body.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert!(answer["verdict"].as_str().unwrap().contains("named: northgate-threat-labs"), "{answer}");
    assert!(answer["sources"][0]["received_by"].as_array().unwrap().iter().all(|r| r["before_first_seen"] == true));
    assert_eq!(http_post(&url, "/api/v1/admin/investigations", &staff("audrey"), body.as_bytes()).0, 403);
    assert_eq!(http_post(&url, "/api/v1/admin/investigations", &token_of(&p, "kestrel-edr"), body.as_bytes()).0, 403);
    let (status, bad) = http_post(&url, "/api/v1/admin/investigations", &staff("ivan"), b"not json");
    assert_eq!(status, 400, "{bad}");

    // Every investigation is in the history — without the leaked text.
    let history = p.ok(&["history", "--subject", "leak", "--output", "json"]);
    assert_eq!(history.matches("investigation.trace").count(), 4, "{history}");
    assert!(!history.contains("field 12 of the header"), "leaked text in the history: {history}");
    assert!(sigterm(&mut child).success());
}

/// What a leaker might post: one line, lower case, no Markdown.
fn flattened(text: &str) -> String {
    text.replace('\n', " ").replace(['`', '*'], "").replace("- ", "").to_lowercase()
}

/// The round trip on the demo: every demo partner's copy of ADV-2026-0001, fetched from the live server, and a few
/// sentences of it — the Summary for partners who get only that, five sentences of the Details for the others —
/// verbatim and flattened (reflowed, lower-cased, Markdown stripped), traced through the investigator API: exactly
/// that partner is named. The same excerpts of the author's text name no one.
#[test]
fn every_demo_partner_is_named_from_a_few_sentences_of_its_own_copy() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    // The demo's one suspended partner received copies before; reinstated here so that it can fetch its copy.
    p.ok(&["--as", "priya", "partner", "reinstate", "polder-signal-security", "--reason", "round trip test"]);
    let (mut child, url, _) = start_demo(&p);
    let ivan: serde_json::Value =
        serde_json::from_str(&p.ok(&["--as", "ivan", "user", "token", "ivan", "--output", "json"])).unwrap();
    let ivan = ivan["token"].as_str().unwrap().to_owned();
    let partners: serde_json::Value = serde_json::from_str(&p.ok(&["partner", "list", "--output", "json"])).unwrap();
    let partners: Vec<String> =
        partners.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(partners.len(), 37);
    let source = include_str!("../../demo/advisories/01-released.md");
    let base_summary =
        forewarn_mark::base_text(source.split("# Summary\n").nth(1).unwrap().split("# Details").next().unwrap());
    let base_details =
        forewarn_mark::base_text(source.split("# Details\n").nth(1).unwrap().split("# Detection").next().unwrap());
    let named = |leak: &str| -> Vec<String> {
        let body = serde_json::json!({ "leaks": [leak] }).to_string();
        let (status, answer) = http_post(&url, "/api/v1/admin/investigations", &ivan, body.as_bytes());
        assert_eq!(status, 200, "{answer}");
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        answer["suspects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["accused"] == true)
            .map(|s| s["partner"].as_str().unwrap().to_owned())
            .collect()
    };
    let (mut summary_only, mut with_details) = (0, 0);
    for partner in &partners {
        let (status, body) = http(&url, "GET", "/api/v1/advisories/ADV-2026-0001", Some(&token_of(&p, partner)));
        assert_eq!(status, 200, "{partner}: {body}");
        let view: serde_json::Value = serde_json::from_str(&body).unwrap();
        let excerpt = match view["sections"]["details"].as_str() {
            Some(details) => {
                with_details += 1;
                details.trim().split("\n\n").nth(1).unwrap().to_owned()
            }
            None => {
                summary_only += 1;
                view["sections"]["summary"].as_str().unwrap().trim().to_owned()
            }
        };
        assert!(excerpt.matches(". ").count() >= 4, "a few sentences: {excerpt}");
        for leak in [excerpt.clone(), flattened(&excerpt)] {
            assert_eq!(named(&leak), std::slice::from_ref(partner), "{partner}: {leak}");
        }
    }
    assert!(summary_only >= 3 && with_details >= 20, "{summary_only} summary-only, {with_details} with details");
    // The author's text of the same excerpts names no one.
    let base_paragraph = base_details.trim().split("\n\n").nth(1).unwrap().to_owned();
    for leak in [base_summary.trim(), base_paragraph.as_str()] {
        assert!(named(leak).is_empty(), "{leak}");
        assert!(named(&flattened(leak)).is_empty(), "{leak}");
    }
    assert!(sigterm(&mut child).success());
}
