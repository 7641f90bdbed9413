//! The demo, served for real: health, partner authentication, and suspension taking effect on the next request
//! while the server runs. Then a graceful stop, and a second run that reuses the data.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::common::{http, Program};

/// Starts `forewarn demo` on a free port and returns the child and its base URL.
pub fn start_demo(p: &Program) -> (Child, String, Vec<String>) {
    start_demo_with(p, &[])
}

/// The same, with extra environment variables.
pub fn start_demo_with(p: &Program, env: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut child = p
        .cmd(&["demo", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    let mut url = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Serving on ") {
            url = Some(rest.split_whitespace().next().unwrap().to_owned());
            printed.push(line);
            break;
        }
        printed.push(line);
    }
    // Keep reading, as a terminal would, so that the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url.expect("the demo printed no URL"), printed)
}

pub fn token_of(p: &Program, partner: &str) -> String {
    let creds = std::fs::read_to_string(p.data_dir().join("demo-credentials.txt")).unwrap();
    let line = creds.lines().find(|l| l.split_whitespace().nth(1) == Some(partner)).unwrap();
    line.split_whitespace().find(|w| w.starts_with("fw_")).unwrap().to_owned()
}

pub fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap()
}

#[test]
fn the_demo_serves_authenticates_partners_and_suspension_holds_from_the_next_request() {
    let p = Program::new();
    let (mut child, url, printed) = start_demo(&p);
    let text = printed.join("\n");
    for expect in ["alice", "bob", "priya", "ivan", "audrey", "fw_", "(new)"] {
        assert!(text.contains(expect), "the demo did not print {expect}: {text}");
    }

    assert_eq!(http(&url, "GET", "/healthz", None).0, 200);
    assert_eq!(http(&url, "GET", "/readyz", None).0, 200);
    // The URL the demo prints leads to the console (303 to sign in from there when signed out).
    let (status, _) = http(&url, "GET", "/", None);
    assert!(matches!(status, 303 | 307 | 308), "GET / answered {status}");
    assert!(crate::console::request(&url, "GET", "/", "", None).1.to_lowercase().contains("location: /console"));
    let (status, body) = http(&url, "GET", "/api/v1/me", None);
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        http(&url, "GET", "/api/v1/me", Some("fw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).0,
        401
    );
    assert_eq!(http(&url, "GET", "/api/v1/nothing-here", None).0, 404);

    let kestrel = token_of(&p, "kestrel-edr");
    let (status, body) = http(&url, "GET", "/api/v1/me", Some(&kestrel));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"id\":\"kestrel-edr\"") && body.contains("\"country\":\"US\""), "{body}");

    // The demo's suspended partner is refused with a message that says so.
    let (status, body) = http(&url, "GET", "/api/v1/me", Some(&token_of(&p, "polder-signal-security")));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("suspended"), "{body}");

    // Suspend a partner with the CLI while the server runs: its very next request is refused — on the endpoints
    // that check the catalogue with a query of their own (/me) and on the content endpoints, which decide on the
    // server's snapshot and have it confirmed at the commit point (both were warmed up with a 200 first).
    let content =
        ["/api/v1/advisories", "/api/v1/advisories/ADV-2026-0001", "/.well-known/csaf/tlp-amber/feed-tlp-amber.json"];
    for path in content {
        assert_eq!(http(&url, "GET", path, Some(&kestrel)).0, 200, "{path}");
    }
    p.ok(&["--as", "priya", "partner", "suspend", "kestrel-edr", "--reason", "leak investigation"]);
    for path in std::iter::once("/api/v1/me").chain(content) {
        let (status, body) = http(&url, "GET", path, Some(&kestrel));
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("suspended"), "{body}");
        assert!(!body.contains("leak investigation"), "the internal reason is not for the partner: {body}");
    }
    p.ok(&["--as", "priya", "partner", "reinstate", "kestrel-edr"]);
    for path in std::iter::once("/api/v1/me").chain(content) {
        assert_eq!(http(&url, "GET", path, Some(&kestrel)).0, 200, "{path}");
    }
    p.ok(&["--as", "priya", "partner", "revoke", "kestrel-edr", "--reason", "expelled"]);
    for path in std::iter::once("/api/v1/me").chain(content) {
        let (status, body) = http(&url, "GET", path, Some(&kestrel));
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("revoked"), "{body}");
    }

    // A rotated token: the old one stops at once without an overlap, and the new one works at once.
    let northgate = token_of(&p, "northgate-threat-labs");
    assert_eq!(http(&url, "GET", "/api/v1/advisories", Some(&northgate)).0, 200);
    let rotated = p.ok(&["partner", "token-rotate", "northgate-threat-labs", "--output", "json"]);
    let new_token = rotated.split('"').find(|w| w.starts_with("fw_")).unwrap().to_owned();
    assert_eq!(http(&url, "GET", "/api/v1/advisories", Some(&northgate)).0, 401);
    assert_eq!(http(&url, "GET", "/api/v1/advisories", Some(&new_token)).0, 200);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&northgate)).0, 401);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&new_token)).0, 200);

    assert!(sigterm(&mut child).success(), "SIGTERM must stop the server gracefully");

    // Running the demo again reuses the data: same tokens, same state.
    let (mut child, url, printed) = start_demo(&p);
    assert!(printed.join("\n").contains("(reused)"));
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&new_token)).0, 200);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&kestrel)).0, 403);
    assert!(sigterm(&mut child).success());

    let list = p.ok(&["advisory", "list", "--output", "json"]);
    for status in ["\"released\"", "\"scheduled\"", "\"draft\""] {
        assert!(list.contains(status), "no {status} advisory in the demo: {list}");
    }
    let history = p.ok(&["history", "--subject", "ADV-2026-0007"]);
    assert!(history.contains("advisory.pulled-forward"), "{history}");
}

#[test]
fn the_demo_data_is_encrypted_at_rest() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(p.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("forewarn.db") {
            raw.extend(std::fs::read(path).unwrap());
        }
    }
    assert!(raw.windows(11).any(|w| w == b"kestrel-edr"), "the scan must see the database");
    for needle in [&b"RelayState"[..], b"alert http", b"sid:", b"condition:", b"Fabrikam", b"argv"] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "{} in clear", String::from_utf8_lossy(needle));
    }
}

#[test]
fn key_rotation_rewraps_and_an_interrupted_rotation_completes_on_the_next_command() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let dir = p.data_dir();
    let key_file = dir.join("master.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let adv = format!("ADV-{year}-0002");
    let before = p.ok(&["advisory", "show", &adv]);
    let signing = p.ok(&["keys", "program"]);

    let out = p.ok(&["keys", "rotate"]);
    assert!(out.contains("Re-wrapped 7 data key(s) and 1 program key(s)"), "{out}");
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!dir.join("master.key.next").exists());
    assert_eq!(p.ok(&["advisory", "show", &adv]), before, "content reads the same under the new key");
    assert_eq!(p.ok(&["keys", "program"]), signing, "the signing key survives the rotation");

    // The old key no longer opens anything, and the error says which key is wrong.
    let out = p.cmd(&["advisory", "show", &adv]).env("FOREWARN_MASTER_KEY", old_key.trim()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the one the database was encrypted with"));

    // Simulate a crash after the database commit but before the rename: the old key is still master.key and the
    // new one waits in master.key.next. The next command notices and completes the rotation.
    std::fs::rename(&key_file, dir.join("master.key.next")).unwrap();
    std::fs::write(&key_file, &old_key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(p.ok(&["advisory", "show", &adv]), before);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);
    assert!(!dir.join("master.key.next").exists());
    assert!(p.ok(&["history", "--subject", "master-key"]).contains("keys.rotate"));
}

#[test]
fn rate_limits_answer_429_with_retry_after_and_allow_lists_hold() {
    let p = Program::new();
    let (mut child, url, _) =
        start_demo_with(&p, &[("FOREWARN_RATE_LIMIT_PER_MINUTE", "60"), ("FOREWARN_TRUSTED_PROXIES", "127.0.0.1/32")]);
    let kestrel = token_of(&p, "kestrel-edr");
    // A burst of 10, then 429 with Retry-After; another token is not affected.
    for _ in 0..10 {
        assert_eq!(http(&url, "GET", "/api/v1/me", Some(&kestrel)).0, 200);
    }
    let raw = crate::common::http_raw(&url, "/api/v1/me", &kestrel);
    assert!(raw.starts_with("HTTP/1.1 429"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after: 1"), "{raw}");
    let bluefen = token_of(&p, "bluefen-network-defense");
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&bluefen)).0, 200);

    // An allow-list that excludes loopback refuses the partner with a message that says why; the right one admits it.
    p.ok(&["partner", "allow-ips", "bluefen-network-defense", "203.0.113.0/24"]);
    let (status, body) = http(&url, "GET", "/api/v1/me", Some(&bluefen));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("allow-list"), "{body}");
    // Behind a trusted proxy (here: loopback), the forwarded client address counts; a forged one does not help.
    let fwd = crate::common::http_status_with;
    assert_eq!(fwd(&url, "/api/v1/me", &bluefen, "X-Forwarded-For: 203.0.113.9"), 200);
    assert_eq!(fwd(&url, "/api/v1/me", &bluefen, "X-Forwarded-For: 198.51.100.1"), 403);
    assert_eq!(fwd(&url, "/api/v1/me", &bluefen, "X-Forwarded-For: 203.0.113.9, 198.51.100.1"), 403);
    p.ok(&["partner", "allow-ips", "bluefen-network-defense", "203.0.113.0/24", "127.0.0.0/8"]);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&bluefen)).0, 200);
    p.ok(&["partner", "allow-ips", "bluefen-network-defense"]);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&bluefen)).0, 200);
    assert!(sigterm(&mut child).success());
}

#[test]
fn the_admin_api_takes_staff_tokens_with_roles_and_never_partner_tokens() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let token_for = |user: &str| {
        let out: serde_json::Value =
            serde_json::from_str(&p.ok(&["--as", user, "user", "token", user, "--output", "json"])).unwrap();
        out["token"].as_str().unwrap().to_owned()
    };
    let priya = token_for("priya");
    let audrey = token_for("audrey");
    assert!(priya.starts_with("fws_"));
    let partner = token_of(&p, "kestrel-edr");

    assert_eq!(http(&url, "GET", "/api/v1/admin/partners", None).0, 401);
    let (status, body) = http(&url, "GET", "/api/v1/admin/partners", Some(&partner));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("partner tokens cannot use the admin API"));
    let (status, body) = http(&url, "GET", "/api/v1/admin/partners", Some(&priya));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("kestrel-edr") && body.contains("polder-signal-security"));
    // A staff token is not a partner token either.
    assert_eq!(http(&url, "GET", "/api/v1/advisories", Some(&priya)).0, 401);

    // Roles hold: the auditor reads deliveries but cannot suspend.
    let (status, body) =
        crate::common::http_post(&url, "/api/v1/admin/partners/kestrel-edr/suspend", &audrey, br#"{"reason": "x"}"#);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("program-manager"), "{body}");
    assert_eq!(http(&url, "GET", "/api/v1/admin/deliveries", Some(&audrey)).0, 200);
    assert_eq!(http(&url, "GET", "/api/v1/admin/deliveries", Some(&priya)).0, 403);

    // Suspension through the API holds from the partner's next request, and is in the history.
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&partner)).0, 200);
    let (status, body) = crate::common::http_post(
        &url,
        "/api/v1/admin/partners/kestrel-edr/suspend",
        &priya,
        br#"{"reason": "leak investigation"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&partner)).0, 403);
    assert!(p.ok(&["history", "--subject", "kestrel-edr"]).contains("staff:priya"));
    assert_eq!(crate::common::http_post(&url, "/api/v1/admin/partners/kestrel-edr/reinstate", &priya, b"").0, 200);
    assert_eq!(http(&url, "GET", "/api/v1/me", Some(&partner)).0, 200);
    assert_eq!(crate::common::http_post(&url, "/api/v1/admin/partners/nobody-here/reinstate", &priya, b"").0, 404);

    // Explanations through the API match the CLI's.
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let (status, body) = http(
        &url,
        "GET",
        &format!("/api/v1/admin/advisories/ADV-{year}-0002/explain?partner=hanshan-antivirus"),
        Some(&priya),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("reporting-obligation") && body.contains("RMSV"), "{body}");

    // A disabled user's token stops working.
    p.ok(&["user", "disable", "priya"]);
    assert_eq!(http(&url, "GET", "/api/v1/admin/partners", Some(&priya)).0, 401);
    assert!(sigterm(&mut child).success());
}
