//! The transparency log through the real server: receipts only for their partner, offline verification of a
//! receipt, tiles that name no partner or advisory, consistency between checkpoints, `forewarn log verify` naming
//! a tampered entry, and no delivery lost or logged twice when the server is killed mid-stream.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::tiles::TileId;
use sqlx::{Executor, Row};

use crate::common::{http, Program};
use crate::server::{sigterm, start_demo, token_of};

/// GET returning raw bytes.
fn get_bytes(base: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, raw[split + 4..].to_vec())
}

/// Waits until the partner has a receipt for a delivery of `advisory`; returns its entry.
fn wait_for_receipt(url: &str, token: &str, advisory: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = http(url, "GET", "/api/v1/receipts", Some(token));
        assert_eq!(status, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        for r in list["receipts"].as_array().unwrap() {
            let entry = r["entry"].as_u64().unwrap();
            let (_, one) = http(url, "GET", &format!("/api/v1/receipts/{entry}"), Some(token));
            let one: serde_json::Value = serde_json::from_str(&one).unwrap();
            if one["event"]["advisory"] == advisory {
                return entry;
            }
        }
        assert!(Instant::now() < deadline, "no receipt for {advisory} within 15 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn checkpoint(url: &str, key: &VerifierKey) -> Checkpoint {
    let (status, note) = http(url, "GET", "/log/checkpoint", None);
    assert_eq!(status, 200);
    Checkpoint::open(&note, key).unwrap()
}

#[test]
fn receipts_are_private_tiles_name_no_one_and_checkpoints_are_consistent() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let (_, key_text) = http(&url, "GET", "/log/key", None);
    let key = VerifierKey::parse(&key_text).unwrap();
    let kestrel = token_of(&p, "kestrel-edr");
    let northgate = token_of(&p, "northgate-threat-labs");
    assert_eq!(http(&url, "GET", "/api/v1/advisories/ADV-2026-0001/csaf", Some(&kestrel)).0, 200);
    assert_eq!(http(&url, "GET", "/api/v1/advisories/ADV-2026-0001", Some(&northgate)).0, 200);
    let mine = wait_for_receipt(&url, &kestrel, "ADV-2026-0001");
    let theirs = wait_for_receipt(&url, &northgate, "ADV-2026-0001");
    let before = checkpoint(&url, &key);

    // A partner's receipts hold only its own events; another partner's entry does not exist for it.
    let (_, list) = http(&url, "GET", "/api/v1/receipts", Some(&kestrel));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    for r in list["receipts"].as_array().unwrap() {
        let (status, body) = http(&url, "GET", &format!("/api/v1/receipts/{}", r["entry"]), Some(&kestrel));
        assert_eq!(status, 200);
        assert!(!body.contains("northgate"), "another partner's event in a receipt: {body}");
        let one: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(one["event"]["partner"], "kestrel-edr");
        if one["kind"] == "delivery" {
            // The copy's fingerprint codeword is committed to in the log (its SHA-256).
            assert_eq!(one["event"]["codeword"].as_str().map(str::len), Some(64), "{body}");
        }
    }
    assert_eq!(http(&url, "GET", &format!("/api/v1/receipts/{theirs}"), Some(&kestrel)).0, 404);
    assert_eq!(http(&url, "GET", "/api/v1/receipts/0", Some(&kestrel)).0, 404, "admin events are not receipts");
    assert_eq!(http(&url, "GET", "/api/v1/receipts/99999999", Some(&kestrel)).0, 404);
    assert_eq!(http(&url, "GET", "/api/v1/receipts/x", Some(&kestrel)).0, 404);
    assert_eq!(http(&url, "GET", "/api/v1/receipts", None).0, 401);

    // The receipt verifies offline with the key alone, and a tampered one does not.
    let (_, receipt) = http(&url, "GET", &format!("/api/v1/receipts/{mine}"), Some(&kestrel));
    let file = p.dir.path().join("receipt.json");
    std::fs::write(&file, &receipt).unwrap();
    let out = p.run(&["log", "verify-receipt", file.to_str().unwrap(), "--key", key_text.trim()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("OK: entry {mine}")));
    let mut tampered: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    tampered["body"] =
        serde_json::Value::String(tampered["body"].as_str().unwrap().replace("kestrel-edr", "someone-else"));
    std::fs::write(&file, tampered.to_string()).unwrap();
    let out = p.run(&["log", "verify-receipt", file.to_str().unwrap(), "--key", key_text.trim()]);
    assert_eq!(out.status.code(), Some(2), "a tampered receipt verified");

    // Tiles and entry bundles: commitments and hashes only, no partner or advisory named anywhere.
    let mut served = Vec::new();
    for id in TileId::all_for(before.size) {
        let (status, bytes) = get_bytes(&url, &format!("/log/{}", id.path()));
        assert_eq!(status, 200, "{}", id.path());
        assert_eq!(bytes.len(), 32 * usize::from(id.width));
        served.extend(bytes);
        if id.level == 0 {
            let (status, bytes) = get_bytes(&url, &format!("/log/{}", id.entries_path()));
            assert_eq!(status, 200, "{}", id.entries_path());
            assert_eq!(forewarn_tlog::tiles::decode_entries(&bytes).unwrap().len(), usize::from(id.width));
            served.extend(bytes);
        }
    }
    let mut names: Vec<String> = Vec::new();
    for list in [p.ok(&["partner", "list", "--output", "json"]), p.ok(&["advisory", "list", "--output", "json"])] {
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        names.extend(v.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()));
    }
    assert!(names.len() > 40);
    for name in &names {
        assert!(!served.windows(name.len()).any(|w| w == name.as_bytes()), "{name} appears in a tile");
    }
    assert_eq!(get_bytes(&url, "/log/tile/0/000.p/0").0, 404);
    assert_eq!(get_bytes(&url, "/log/tile/9/000").0, 404);
    // Indices far beyond any tree (and beyond what 64 bits hold once multiplied by 256) are just absent.
    for far in [
        "0/x018/x446/x744/x073/x709/x551/615",
        "entries/x018/x446/x744/x073/x709/x551/615",
        "entries/x072/x057/x594/x037/x927/x936.p/3",
    ] {
        assert_eq!(get_bytes(&url, &format!("/log/tile/{far}")).0, 404, "{far}");
    }

    // The log grows; the older checkpoint is consistent with the newer one.
    assert_eq!(http(&url, "GET", "/api/v1/advisories/ADV-2026-0001/csaf", Some(&northgate)).0, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let cp = checkpoint(&url, &key);
        if cp.size > before.size {
            break cp;
        }
        assert!(Instant::now() < deadline, "the log did not grow");
        std::thread::sleep(Duration::from_millis(200));
    };
    let (status, proof) = http(&url, "GET", &format!("/log/consistency?old={}&new={}", before.size, after.size), None);
    assert_eq!(status, 200, "{proof}");
    let proof: Vec<forewarn_tlog::Hash> = proof.lines().map(|l| forewarn_tlog::Hash::from_base64(l).unwrap()).collect();
    forewarn_tlog::tree::verify_consistency(before.size, after.size, before.root, after.root, &proof).unwrap();
    for bad in [format!("old=1&new={}", after.size + 1), "old=2&new=1".into(), "old=x&new=2".into(), "new=2".into()] {
        let (status, body) = http(&url, "GET", &format!("/log/consistency?{bad}"), None);
        assert_eq!(status, 400, "{bad}");
        assert!(body.contains("ask for ?old=N&new=M"), "{body}");
    }

    assert!(sigterm(&mut child).success());
    let out = p.ok(&["log", "verify"]);
    assert!(out.contains("The log verifies"), "{out}");
}

#[tokio::test]
async fn log_verify_names_the_entry_an_attacker_edited() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let kestrel = token_of(&p, "kestrel-edr");
    assert_eq!(http(&url, "GET", "/api/v1/advisories/ADV-2026-0001/csaf", Some(&kestrel)).0, 200);
    let entry = wait_for_receipt(&url, &kestrel, "ADV-2026-0001");
    assert!(sigterm(&mut child).success());
    p.ok(&["log", "verify"]);
    // Staff (auditors) can print any entry's receipt; it verifies offline like a partner's.
    let receipt = p.ok(&["--as", "audrey", "log", "prove", "--entry", &entry.to_string()]);
    let file = p.dir.path().join("prove.json");
    std::fs::write(&file, &receipt).unwrap();
    let key = p.ok(&["log", "key"]);
    let out = p.ok(&["log", "verify-receipt", file.to_str().unwrap(), "--key", key.trim()]);
    assert!(out.contains(&format!("OK: entry {entry}")), "{out}");
    let refused = p.run(&["--as", "alice", "log", "prove", "--entry", &entry.to_string()]);
    assert_eq!(refused.status.code(), Some(2), "an author is not an auditor");
    // Someone with write access to the database rewrites the delivery: drops the guard, changes the copy's digest.
    sqlx::any::install_default_drivers();
    let rw = format!("sqlite://{}", p.data_dir().join("forewarn.db").display());
    let pool = sqlx::AnyPool::connect(&rw).await.unwrap();
    pool.execute("DROP TRIGGER log_events_no_rewrite").await.unwrap();
    let body: String = sqlx::query("SELECT body FROM log_events WHERE leaf_index = $1")
        .bind(entry as i64)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("body")
        .unwrap();
    sqlx::query("UPDATE log_events SET body = $1 WHERE leaf_index = $2")
        .bind(body.replace("\"channel\":\"csaf\"", "\"channel\":\"web\""))
        .bind(entry as i64)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = p.run(&["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("entry {entry}: the event no longer matches its commitment")), "{text}");
}

/// SIGKILL the server repeatedly while clients fetch documents: every delivery that got a response is recorded,
/// as its log event, and every one of them has its own log entry once the server runs again; the log verifies.
#[tokio::test]
async fn killing_the_server_loses_no_logged_delivery_and_logs_none_twice() {
    let p = Program::new();
    let tokens = [token_of_after_demo(&p, "kestrel-edr"), token_of(&p, "northgate-threat-labs")];
    let mut answered = 0u64;
    for round in 0..4 {
        let (mut child, url, _) = start_demo(&p);
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let clients: Vec<_> = (0..4)
            .map(|i| {
                let (url, token, stop, ok) = (url.clone(), tokens[i % 2].clone(), stop.clone(), ok.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match std::panic::catch_unwind(|| {
                            http(&url, "GET", "/api/v1/advisories/ADV-2026-0001/csaf", Some(&token))
                        }) {
                            Ok((200, _)) => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => break,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        child.kill().unwrap(); // SIGKILL, mid-stream
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            let _ = c.join();
        }
        answered += ok.load(Ordering::Relaxed);
    }
    assert!(answered > 20, "too few deliveries to mean anything: {answered}");
    // A last run integrates whatever was pending.
    let (mut child, url, _) = start_demo(&p);
    let deadline = Instant::now() + Duration::from_secs(15);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&p.url()).await.unwrap();
    loop {
        let pending: i64 = sqlx::query("SELECT next - size AS n FROM log_state WHERE id = 1")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} events still pending");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = url;
    let status = sigterm(&mut child);
    assert!(status.success(), "{status:?}");
    let logged: Vec<(i64, String, Option<i64>)> =
        sqlx::query("SELECT at, body, leaf_index FROM log_events WHERE kind = 'delivery'")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("at").unwrap(), r.try_get("body").unwrap(), r.try_get("leaf_index").unwrap()))
            .collect();
    pool.close().await;
    // Every answered request was recorded before its answer was sent (a delivery's record is its log event).
    assert!(logged.len() as u64 >= answered, "{} recorded, {answered} answered", logged.len());
    // Every record is integrated, each at its own leaf: none is logged twice.
    let mut leaves: Vec<i64> = logged.iter().map(|(_, _, l)| l.expect("an event left pending")).collect();
    leaves.sort();
    leaves.dedup();
    assert_eq!(leaves.len(), logged.len(), "two events share a leaf");
    // Each is a delivery record with the digest of the bytes sent.
    for (_, body, _) in &logged {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["type"], "delivery");
        assert_eq!(v["sha256"].as_str().map(str::len), Some(64), "{body}");
    }
    let out = p.ok(&["log", "verify"]);
    assert!(out.contains("The log verifies"), "{out}");
}

/// Seeds the demo (without serving) and returns a partner's token.
fn token_of_after_demo(p: &Program, partner: &str) -> String {
    p.ok(&["demo", "--no-serve"]);
    token_of(p, partner)
}
