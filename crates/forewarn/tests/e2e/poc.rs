//! Fingerprinting never changes what code does: every variant of the demo's marked PoC script runs against a local
//! SMTP server and prints the same output and sends the same bytes as the author's text. Needs python3 (present
//! wherever `.ci/run` runs; elsewhere the test says it was skipped).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

const ADVISORY: &str = include_str!("../../demo/advisories/01-released.md");

fn poc_section() -> &'static str {
    let start = ADVISORY.find("# PoC\n").expect("a PoC section") + "# PoC\n".len();
    &ADVISORY[start..]
}

fn python_block(section: &str) -> String {
    let start = section.find("```python\n").expect("a python block") + "```python\n".len();
    let end = start + section[start..].find("```").expect("a closed block");
    section[start..end].to_owned()
}

/// A minimal SMTP server: accepts everything and keeps each message's bytes.
fn smtp_server() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let keep = messages.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let keep = keep.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut lines = BufReader::new(stream);
                let _ = out.write_all(b"220 fake ESMTP\r\n");
                let mut line = String::new();
                while lines.read_line(&mut line).unwrap_or(0) > 0 {
                    let verb = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if verb.starts_with("DATA") {
                        let _ = out.write_all(b"354 go on\r\n");
                        let mut data = Vec::new();
                        let mut byte = [0u8; 1];
                        while !data.ends_with(b"\r\n.\r\n") && lines.read(&mut byte).unwrap_or(0) == 1 {
                            data.push(byte[0]);
                        }
                        keep.lock().unwrap().push(data);
                        b"250 queued\r\n"
                    } else if verb.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = out.write_all(reply);
                    line.clear();
                }
            });
        }
    });
    (port, messages)
}

#[test]
fn every_variant_of_the_marked_poc_behaves_like_the_authors_text() {
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var("CI").is_err(), "python3 is needed in CI");
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let section = poc_section();
    let key = forewarn_mark::code::Key::from_bytes([0x42; 32]);
    let code = forewarn_render::code_section("ADV-2026-0001", 1, forewarn_core::SectionKind::Poc);
    let marked = forewarn_mark::Marked::new(&key, &code, section, forewarn_mark::Scheme::CURRENT).unwrap();
    let n = marked.prepared.slot_count();
    assert!(n >= 8, "the demo PoC carries {n} points");
    // The author's text, every point flipped, and six partners' copies.
    // Each alternative of every point at least once (symbol s everywhere: a point with fewer alternatives takes its
    // last), and six partners' copies.
    let mut variants: Vec<String> =
        (0..forewarn_mark::code::MAX_ALPHABET as u8).map(|s| marked.prepared.assemble(&vec![s; n])).collect();
    variants.extend((0..6).map(|i| marked.copy_for(&key, &code, &format!("partner-{i}"))));
    let scripts: Vec<String> = variants.iter().map(|v| python_block(v)).collect();
    assert!(scripts[1] != scripts[0] && scripts[1].contains("smtp_answers") && scripts[1].contains("0x384"));
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = scripts
        .iter()
        .enumerate()
        .map(|(i, script)| {
            let path = dir.path().join(format!("v{i}.py"));
            std::fs::write(&path, script).unwrap();
            std::thread::spawn(move || {
                let (port, messages) = smtp_server();
                let out = Command::new("python3").arg(&path).arg("127.0.0.1").arg(port.to_string()).output().unwrap();
                let sent = messages.lock().unwrap().clone();
                (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), sent)
            })
        })
        .collect();
    let results: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    let (status, stdout, sent) = &results[0];
    assert_eq!(*status, Some(0));
    assert_eq!(stdout, "message accepted for scanning\nservice still answers\n");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].len() > 72_000, "the trigger's 80 x 900 bytes were sent");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &results[0], "variant {i} behaves differently:\n{}", scripts[i]);
    }
}

/// The Suricata `content:` strings and every regular expression (Suricata `pcre`, YARA strings) of a Detection
/// section, in order.
fn rules(section: &str) -> (Vec<String>, Vec<String>) {
    let mut contents = Vec::new();
    let mut regexes = Vec::new();
    for line in section.lines() {
        for part in line.split("content:\"").skip(1) {
            contents.push(part.split('"').next().unwrap_or("").to_owned());
        }
        for part in line.split("pcre:\"/").skip(1) {
            regexes.push(part.rsplit_once('/').map_or("", |(re, _)| re).split("/\"").next().unwrap_or("").to_owned());
        }
        if let Some((_, rest)) = line.trim_start().strip_prefix('$').and_then(|l| l.split_once("= /")) {
            regexes.push(rest.rsplit_once('/').map_or("", |(re, _)| re).to_owned());
        }
    }
    (contents, regexes)
}

#[test]
fn every_variant_of_the_marked_detection_rules_matches_the_same() {
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var("CI").is_err(), "python3 is needed in CI");
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let start = ADVISORY.find("# Detection\n").unwrap();
    let end = ADVISORY.find("# Mitigation").unwrap();
    let section = &ADVISORY[start..end];
    let key = forewarn_mark::code::Key::from_bytes([0x17; 32]);
    let code = forewarn_render::code_section("ADV-2026-0001", 1, forewarn_core::SectionKind::Detection);
    let marked = forewarn_mark::Marked::new(&key, &code, section, forewarn_mark::Scheme::CURRENT).unwrap();
    let n = marked.prepared.slot_count();
    let base = rules(&marked.prepared.base());
    assert_eq!((base.0.len(), base.1.len()), (2, 6), "{base:?}");
    let mut variants: Vec<String> =
        (1..forewarn_mark::code::MAX_ALPHABET as u8).map(|s| marked.prepared.assemble(&vec![s; n])).collect();
    variants.extend((0..6).map(|i| marked.copy_for(&key, &code, &format!("partner-{i}"))));
    // Lines a rule must flag, and lines it must not.
    let samples = [
        "Content-Disposition: attachment;\r\n filename*0*=AAAA",
        " filename*45*=AAAA",
        " filename*40*=AAAA",
        "; name*100*=x",
        "; name*0=x",
        " filename*7*=AAAA",
        "; name*123*=x",
        "; name*12=x",
        "Content-Type: text/plain",
        "filename*4x*=",
    ];
    let mut pairs = Vec::new();
    for v in &variants {
        let (contents, regexes) = rules(v);
        assert_eq!(contents, base.0, "content matches changed:\n{v}");
        assert_eq!(regexes.len(), base.1.len());
        pairs.extend(base.1.iter().cloned().zip(regexes));
    }
    assert!(pairs.iter().any(|(a, b)| a != b), "the variants differ somewhere in their expressions");
    let check = serde_json::json!({"pairs": pairs, "samples": samples}).to_string();
    let script = r#"
import json, re, sys
d = json.load(sys.stdin)
for a, b in d["pairs"]:
    ra, rb = re.compile(a, re.I | re.M), re.compile(b, re.I | re.M)
    for s in d["samples"]:
        if bool(ra.search(s)) != bool(rb.search(s)):
            sys.exit("%r and %r differ on %r" % (a, b, s))
print("same")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(check.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "same");
}
