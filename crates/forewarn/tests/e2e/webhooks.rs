//! Webhooks through the real server to a real local receiver: Standard Webhooks signatures verify, payloads carry
//! ids and URLs but no section text, each announcement is sent once, and the partner's delivery log shows them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::common::{http, http_send, Program};
use crate::server::{sigterm, start_demo_with, token_of};

type Received = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A receiver that answers 204 to every POST and keeps what it got.
fn receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/forewarn", listener.local_addr().unwrap());
    let got: Received = Arc::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            serve_one(stream, &keep);
        }
    });
    (url, got)
}

/// The same over TLS, with a fresh self-signed certificate for `localhost`; returns the URL, what arrives, and the
/// certificate (PEM) to trust.
fn tls_receiver() -> (String, Received, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = cert.cert.pem();
    let chain = vec![cert.cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}/hooks/forewarn", listener.local_addr().unwrap().port());
    let got: Received = Arc::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else { continue };
            let tls = rustls::StreamOwned::new(conn, stream);
            serve_one(tls, &keep);
        }
    });
    (url, got, pem)
}

fn serve_one<S: Read + Write>(mut stream: S, keep: &Received) {
    {
        let mut reader = BufReader::new(&mut stream);
        let mut headers = Vec::new();
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).is_err() {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        keep.lock().unwrap().push((headers, body));
    }
    let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    let _ = stream.flush();
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn verify(secret: &str, h: &[(String, String)], body: &[u8]) -> bool {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", header(h, "webhook-id"), header(h, "webhook-timestamp")).as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header(h, "webhook-signature").split(' ').any(|s| s == expected)
}

#[test]
fn webhooks_are_signed_carry_no_text_and_are_sent_once() {
    let p = Program::new();
    let (mut child, url, _) = start_demo_with(&p, &[("FOREWARN_WEBHOOK_INTERVAL_SECS", "1")]);

    let (hook, got) = receiver();
    let token = token_of(&p, "kestrel-edr");
    assert_eq!(http_send(&url, "PUT", "/api/v1/me/webhook", &token, br#"{"url": "ftp://x.example/"}"#).0, 400);
    let (status, body) =
        http_send(&url, "PUT", "/api/v1/me/webhook", &token, format!(r#"{{"url": "{hook}"}}"#).as_bytes());
    assert_eq!(status, 200, "{body}");
    let secret = serde_json::from_str::<Value>(&body).unwrap()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    // What kestrel may see now, to know what must be announced.
    let (_, list) = http(&url, "GET", "/api/v1/advisories", Some(&token));
    let list: Value = serde_json::from_str(&list).unwrap();
    let visible_sections: usize =
        list["advisories"].as_array().unwrap().iter().map(|a| a["sections"].as_array().unwrap().len()).sum();
    let advisories = list["advisories"].as_array().unwrap().len();
    let released = list["advisories"].as_array().unwrap().iter().filter(|a| a["released"] == true).count();
    let expected = advisories + visible_sections + released;

    let started = Instant::now();
    while got.lock().unwrap().len() < expected && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Two more scheduler runs: nothing is sent twice.
    std::thread::sleep(Duration::from_millis(2500));
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), expected, "one request per announcement");

    let mut ids = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let secret_texts: Vec<String> = (1..=7)
        .flat_map(|n| {
            let shown: Value =
                serde_json::from_str(&p.ok(&["advisory", "show", &format!("ADV-{year}-{n:04}"), "--output", "json"]))
                    .unwrap();
            shown["revision"]["sections"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_str().unwrap()[..30].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    for (h, body) in &received {
        assert!(verify(&secret, h, body), "signature does not verify");
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert!(!verify(&secret, h, &tampered), "a tampered body must fail");
        assert!(ids.insert(header(h, "webhook-id").to_owned()), "duplicate webhook-id");
        let payload: Value = serde_json::from_slice(body).unwrap();
        types.insert(payload["type"].as_str().unwrap().to_owned());
        assert!(payload["data"]["url"].as_str().unwrap().contains("/api/v1/advisories/"));
        let text = String::from_utf8_lossy(body);
        for s in &secret_texts {
            assert!(!text.contains(s.as_str()), "a webhook payload carries section text");
        }
    }
    assert!(
        types.contains("advisory.available")
            && types.contains("advisory.section_available")
            && types.contains("advisory.released"),
        "{types:?}"
    );

    // The partner's delivery log.
    let (_, log) = http(&url, "GET", "/api/v1/me/webhook", Some(&token));
    let log: Value = serde_json::from_str(&log).unwrap();
    let delivered = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "delivered" && d["status_code"] == 204)
        .count();
    assert_eq!(delivered, expected, "{log}");
    assert!(!log.to_string().contains(secret.as_str()), "the secret is shown once, at registration");

    // Every attempt is in the transparency log, among the partner's receipts, once the sequencer has run.
    let started = Instant::now();
    let logged = loop {
        let (_, receipts) = http(&url, "GET", "/api/v1/receipts", Some(&token));
        let receipts: Value = serde_json::from_str(&receipts).unwrap();
        let n = receipts["receipts"].as_array().unwrap().iter().filter(|r| r["kind"] == "webhook").count();
        if n >= expected || started.elapsed() > Duration::from_secs(15) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(logged, expected, "one log event per webhook attempt");
    assert!(sigterm(&mut child).success());
}

#[test]
fn https_endpoints_get_webhooks_when_their_certificate_is_trusted_and_not_otherwise() {
    let (url_ok, got_ok, pem) = tls_receiver();
    let (url_untrusted, got_untrusted, _) = tls_receiver();
    let p = Program::new();
    std::fs::create_dir_all(p.dir.path()).unwrap();
    let ca = p.dir.path().join("receiver-ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    let ca = ca.to_str().unwrap().to_owned();
    let (mut child, url, _) =
        start_demo_with(&p, &[("FOREWARN_WEBHOOK_INTERVAL_SECS", "1"), ("FOREWARN_WEBHOOK_EXTRA_CA", ca.as_str())]);

    let a = token_of(&p, "kestrel-edr");
    let b = token_of(&p, "northgate-threat-labs");
    let (status, body) =
        http_send(&url, "PUT", "/api/v1/me/webhook", &a, format!(r#"{{"url": "{url_ok}"}}"#).as_bytes());
    assert_eq!(status, 200, "{body}");
    let secret = serde_json::from_str::<Value>(&body).unwrap()["secret"].as_str().unwrap().to_owned();
    // The second receiver's certificate is trusted by nobody.
    assert_eq!(
        http_send(&url, "PUT", "/api/v1/me/webhook", &b, format!(r#"{{"url": "{url_untrusted}"}}"#).as_bytes()).0,
        200
    );

    let started = Instant::now();
    while got_ok.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let received = got_ok.lock().unwrap().clone();
    assert!(!received.is_empty(), "nothing arrived over TLS");
    for (h, body) in &received {
        assert!(verify(&secret, h, body));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(got_untrusted.lock().unwrap().is_empty(), "an untrusted certificate must not receive webhooks");
    let (_, log) = http(&url, "GET", "/api/v1/me/webhook", Some(&b));
    let log: Value = serde_json::from_str(&log).unwrap();
    let failed = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status_code"].is_null() && d["error"].is_string())
        .cloned();
    let failed = failed.expect("the failed attempt is in the partner's delivery log");
    assert!(failed["error"].as_str().unwrap().to_lowercase().contains("certificate"), "{failed}");
    assert!(sigterm(&mut child).success());
}

/// Webhooks announce, for each identity, exactly what its view shows: a CN partner hears of the summary only, a
/// suspended partner hears nothing, and no announcement names a section the partner may not see.
#[test]
fn each_partner_is_told_only_what_its_view_shows() {
    let p = Program::new();
    let (mut child, url, _) = start_demo_with(&p, &[("FOREWARN_WEBHOOK_INTERVAL_SECS", "1")]);
    let partners = ["kestrel-edr", "copperline-managed-security", "hanshan-antivirus", "deccan-shield-technologies"];
    let mut receivers = Vec::new();
    for partner in partners {
        let (hook, got) = receiver();
        let token = token_of(&p, partner);
        let (status, body) =
            http_send(&url, "PUT", "/api/v1/me/webhook", &token, format!(r#"{{"url": "{hook}"}}"#).as_bytes());
        assert_eq!(status, 200, "{body}");
        receivers.push((partner, token, got));
    }
    // The suspended partner cannot even register.
    let (status, _) = http_send(
        &url,
        "PUT",
        "/api/v1/me/webhook",
        &token_of(&p, "polder-signal-security"),
        br#"{"url": "http://127.0.0.1:9/x"}"#,
    );
    assert_eq!(status, 403);

    std::thread::sleep(Duration::from_secs(4));
    for (partner, token, got) in &receivers {
        let (_, list) = http(&url, "GET", "/api/v1/advisories", Some(token));
        let list: Value = serde_json::from_str(&list).unwrap();
        let mut expected = std::collections::BTreeSet::new();
        for a in list["advisories"].as_array().unwrap() {
            for s in a["sections"].as_array().unwrap() {
                expected.insert((a["id"].as_str().unwrap().to_owned(), s.as_str().unwrap().to_owned()));
            }
        }
        let mut announced = std::collections::BTreeSet::new();
        for (_, body) in got.lock().unwrap().iter() {
            let payload: Value = serde_json::from_slice(body).unwrap();
            let id = payload["data"]["advisory_id"].as_str().unwrap().to_owned();
            assert!(list.to_string().contains(&id), "{partner} was told of {id}, which it cannot see");
            if payload["type"] == "advisory.section_available" {
                announced.insert((id, payload["data"]["section"].as_str().unwrap().to_owned()));
            }
        }
        assert_eq!(announced, expected, "{partner}: announced sections differ from its view");
        if *partner == "hanshan-antivirus" {
            assert!(expected.iter().all(|(_, s)| s == "summary"), "{expected:?}");
        }
    }
    assert!(sigterm(&mut child).success());
}
