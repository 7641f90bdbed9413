//! Partner delivery through the real HTTP server, table-driven over identities x advisories x endpoints on the demo
//! data, whose advisories sit at every moment of their life (before any section, between leads, after T).
//!
//! For every pair the expected sections come from `policy explain` and the section texts from `advisory show`; every
//! response body is then searched for a snippet of every section: a snippet of a section the decision denies must
//! never appear — not in the JSON, the CSAF document, the listing, the feed, or an error.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{http, Program};
use crate::server::{sigterm, start_demo, token_of};

fn json(p: &Program, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    serde_json::from_str(&p.ok(&all)).unwrap()
}

/// A distinctive piece of a section: the longest run of plain characters, cut to 40, so that it survives JSON escaping.
/// Candidate snippets of a section, longest first: runs of plain text of up to 40 characters that every copy
/// carries as written — taken from the fixed text between the fingerprint's variation points, so that no
/// partner's variant hides them, without the first and last word of a run (they may join a point's text).
fn snippets_of(body: &str) -> Vec<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == ' ';
    let prepared = forewarn_mark::prepare::prepare_with(body, forewarn_mark::Scheme::CURRENT).unwrap();
    let mut out: Vec<String> = Vec::new();
    for seg in &prepared.segments {
        let forewarn_mark::prepare::Segment::Fixed(fixed) = seg else { continue };
        for run in fixed.split(|c: char| !plain(c)) {
            let words: Vec<&str> = run.split(' ').filter(|w| !w.is_empty()).collect();
            let core = if words.len() > 4 { words[1..words.len() - 1].join(" ") } else { words.join(" ") };
            let mut at = 0;
            // Every 40-character window of the run, so that a common opening does not hide a unique middle.
            while at < core.len() {
                out.push(core[at..].chars().take(40).collect());
                at = core[at..].find(' ').map_or(core.len(), |k| at + k + 1);
            }
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

#[test]
fn each_identity_gets_exactly_its_sections_through_every_endpoint() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let ids: Vec<String> = (1..=7).map(|n| format!("ADV-{year}-{n:04}")).collect();

    // Section snippets of every advisory.
    let mut snippets: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut bodies: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut raw: BTreeMap<(String, String), String> = BTreeMap::new();
    for id in &ids {
        let shown = json(&p, &["advisory", "show", id]);
        for (section, body) in shown["revision"]["sections"].as_object().unwrap() {
            let body = body.as_str().unwrap();
            raw.insert((id.clone(), section.clone()), body.to_owned());
            let base = forewarn_mark::base_text_with(body, forewarn_mark::Scheme::CURRENT);
            bodies.insert((id.clone(), section.clone()), base);
        }
    }
    // Each section's snippet is text of its own alone, so finding it anywhere else is a leak of that section.
    for (key, body) in &raw {
        let unique = snippets_of(body)
            .into_iter()
            .find(|s| s.len() >= 20 && bodies.iter().all(|(k, other)| k == key || !other.contains(s.as_str())));
        let s = unique.unwrap_or_else(|| panic!("{key:?}: no snippet of 20 characters is its own"));
        snippets.insert(key.clone(), s);
    }

    let (_, unknown_body) = http(&url, "GET", "/api/v1/advisories/ADV-2026-9999", Some(&token_of(&p, "kestrel-edr")));
    let mut delivered = 0;
    let partners = [
        "kestrel-edr",
        "bluefen-network-defense",
        "copperline-managed-security",
        "hanshan-antivirus",
        "jadewell-network-security",
        "deccan-shield-technologies",
    ];
    for partner in partners {
        let token = token_of(&p, partner);
        let (status, list) = http(&url, "GET", "/api/v1/advisories", Some(&token));
        assert_eq!(status, 200, "{partner}: {list}");
        let (status, feed) = http(&url, "GET", "/.well-known/csaf/tlp-amber/feed-tlp-amber.json", Some(&token));
        assert_eq!(status, 200, "{partner}: {feed}");
        let listed: Value = serde_json::from_str(&list).unwrap();
        let feed_json: Value = serde_json::from_str(&feed).unwrap();
        for id in &ids {
            let explained = json(&p, &["policy", "explain", "--partner", partner, "--advisory", id]);
            let expected: Vec<String> = explained["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["visible_now"] == true)
                .map(|d| d["section"].as_str().unwrap().to_owned())
                .collect();
            let (s1, one) = http(&url, "GET", &format!("/api/v1/advisories/{id}"), Some(&token));
            let (s2, csaf) = http(&url, "GET", &format!("/api/v1/advisories/{id}/csaf"), Some(&token));
            let in_list = listed["advisories"].as_array().unwrap().iter().find(|a| a["id"] == id.as_str());
            let in_feed = feed_json["feed"]["entry"].as_array().unwrap().iter().find(|e| e["id"] == id.as_str());
            if expected.is_empty() {
                // The advisory does not exist for this partner: 404 exactly like an unknown id, and absent everywhere.
                assert_eq!((s1, s2), (404, 404), "{partner} {id}");
                assert_eq!(one, unknown_body, "{partner} {id}: a hidden advisory must look unknown");
                assert_eq!(csaf, unknown_body);
                assert!(in_list.is_none() && in_feed.is_none(), "{partner} {id} is listed");
                assert!(!list.contains(id.as_str()) && !feed.contains(id.as_str()));
            } else {
                assert_eq!((s1, s2), (200, 200), "{partner} {id}: {one}");
                delivered += 2;
                let got: Value = serde_json::from_str(&one).unwrap();
                let mut keys: Vec<String> = got["sections"].as_object().unwrap().keys().cloned().collect();
                keys.sort_by_key(|k| {
                    ["summary", "details", "detection", "mitigation", "poc"].iter().position(|x| x == k)
                });
                assert_eq!(keys, expected, "{partner} {id}");
                let listed_sections: Vec<String> = in_list.unwrap()["sections"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(listed_sections, expected, "{partner} {id} in the listing");
                let entry = in_feed.expect("visible advisories are in the feed");
                // The feed's document and its hash agree byte for byte.
                let href = entry["link"][0]["href"].as_str().unwrap();
                let path = &href[href.find("/.well-known").unwrap()..];
                let (s3, doc) = http(&url, "GET", path, Some(&token));
                let (s4, sum) = http(&url, "GET", &format!("{path}.sha256"), Some(&token));
                assert_eq!((s3, s4), (200, 200), "{partner} {id} {path}");
                delivered += 1;
                let digest: String = Sha256::digest(doc.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(sum.split_whitespace().next(), Some(digest.as_str()), "{partner} {id}: hash file");
                assert_eq!(doc, csaf, "the feed serves the same document as the API");
            }
            // No denied section leaks anywhere; every visible one is in the copy and the CSAF document.
            for ((adv, section), snip) in &snippets {
                if adv != id {
                    continue;
                }
                let allowed = expected.contains(section);
                for (what, body) in [("json", &one), ("csaf", &csaf), ("list", &list), ("feed", &feed)] {
                    if !allowed {
                        assert!(!body.contains(snip.as_str()), "{partner} {id}: denied {section} leaked into {what}");
                    }
                }
                if allowed {
                    assert!(one.contains(snip.as_str()), "{partner} {id}: {section} missing from the JSON copy");
                    assert!(csaf.contains(snip.as_str()), "{partner} {id}: {section} missing from CSAF");
                }
            }
        }
    }

    // Identities that get nothing.
    for (token, expect) in [
        (None, 401),
        (Some("fw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()), 401),
        (Some("Basic abc".to_owned()), 401),
        (Some(token_of(&p, "polder-signal-security")), 403),
    ] {
        for path in [
            "/api/v1/advisories",
            &format!("/api/v1/advisories/{}", ids[0]),
            &format!("/api/v1/advisories/{}/csaf", ids[0]),
            "/.well-known/csaf/tlp-amber/feed-tlp-amber.json",
        ] {
            let (status, body) = http(&url, "GET", path, token.as_deref());
            assert_eq!(status, expect, "{path} with {token:?}: {body}");
            for snip in snippets.values() {
                assert!(!body.contains(snip.as_str()), "an error answer carries advisory text");
            }
        }
    }
    // An expired token (rotated with no overlap) and a revoked partner.
    let old = token_of(&p, "kestrel-edr");
    p.ok(&["partner", "token-rotate", "kestrel-edr"]);
    assert_eq!(http(&url, "GET", "/api/v1/advisories", Some(&old)).0, 401);
    p.ok(&["partner", "revoke", "bluefen-network-defense", "--reason", "expelled"]);
    let (status, body) =
        http(&url, "GET", &format!("/api/v1/advisories/{}", ids[0]), Some(&token_of(&p, "bluefen-network-defense")));
    assert_eq!(status, 403, "{body}");

    // Provider metadata is public; ETag polling answers 304 when nothing changed.
    let (status, meta) = http(&url, "GET", "/.well-known/csaf/provider-metadata.json", None);
    assert_eq!(status, 200);
    assert!(meta.contains("feed-tlp-amber.json"));
    let copperline = token_of(&p, "copperline-managed-security");
    let (etag, status) = crate::common::http_etag(&url, "/api/v1/advisories", &copperline, None);
    assert_eq!(status, 200);
    let (_, status) = crate::common::http_etag(&url, "/api/v1/advisories", &copperline, Some(&etag));
    assert_eq!(status, 304);
    let (status, body) = http(&url, "GET", "/api/v1/advisories?updated_since=yesterday", Some(&copperline));
    assert_eq!(status, 400, "{body}");
    let (status, body) = http(&url, "GET", "/api/v1/advisories?updated_since=2999-01-01T00:00:00Z", Some(&copperline));
    assert_eq!(status, 200);
    assert!(body.contains("\"advisories\": []"), "{body}");

    // Every content copy served was recorded, hash files and listings were not.
    let records = json(&p, &["deliveries", "--limit", "10000"]);
    assert_eq!(records.as_array().unwrap().len(), delivered, "one record per copy served");
    assert!(sigterm(&mut child).success());
}
