//! OpenPGP through the real server: the program key is published where provider-metadata.json says, `.asc`
//! signatures verify over exactly the bytes served, a partner registers its key, and its bundle decrypts with that
//! key, carries the program's good signature, and holds the CSAF document and — only where the PoC is visible —
//! its attachments. A partner without a key gets 409, never plaintext.

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, EncryptionCaps, KeyType, Message, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::ecc_curve::ECCCurve;
use pgp::types::{KeyDetails, Password};
use serde_json::Value;

use crate::common::{http, http_send, Program};
use crate::server::{sigterm, start_demo, token_of};

pub fn partner_key() -> SignedSecretKey {
    let mut enc = SubkeyParamsBuilder::default();
    enc.key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy)).can_encrypt(EncryptionCaps::All).can_sign(false);
    let mut params = SecretKeyParamsBuilder::default();
    params
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .can_encrypt(EncryptionCaps::None)
        .primary_user_id("Partner <psirt@partner.example>".into())
        .subkeys(vec![enc.build().unwrap()]);
    params.build().unwrap().generate(rand::thread_rng()).unwrap()
}

/// The files in a ustar archive.
fn untar(mut t: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while t.len() >= 512 && t[0] != 0 {
        let name = String::from_utf8(t[..100].split(|b| *b == 0).next().unwrap().to_vec()).unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&t[124..135]).unwrap().trim_end_matches('\0'), 8).unwrap();
        out.push((name, t[512..512 + size].to_vec()));
        t = &t[512 + size.div_ceil(512) * 512..];
    }
    out
}

#[test]
fn signatures_and_bundles_verify_with_independent_openpgp_code() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let released = format!("ADV-{year}-0001");

    // The program key, where provider-metadata.json points.
    let (_, meta) = http(&url, "GET", "/.well-known/csaf/provider-metadata.json", None);
    let meta: Value = serde_json::from_str(&meta).unwrap();
    let key_url = meta["public_openpgp_keys"][0]["url"].as_str().unwrap();
    let fingerprint = meta["public_openpgp_keys"][0]["fingerprint"].as_str().unwrap();
    let (status, armored) = http(&url, "GET", &key_url[key_url.find("/.well-known").unwrap()..], None);
    assert_eq!(status, 200);
    let (program, _) = SignedPublicKey::from_string(&armored).unwrap();
    assert_eq!(program.fingerprint().as_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>(), fingerprint);

    // A feed document's .asc verifies over exactly the bytes served, and fails on any other bytes.
    let kestrel = token_of(&p, "kestrel-edr");
    let (_, feed) = http(&url, "GET", "/.well-known/csaf/tlp-amber/feed-tlp-amber.json", Some(&kestrel));
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let href = feed["feed"]["entry"][0]["link"][0]["href"].as_str().unwrap();
    let path = &href[href.find("/.well-known").unwrap()..];
    let (_, doc) = http(&url, "GET", path, Some(&kestrel));
    let (status, asc) = http(&url, "GET", &format!("{path}.asc"), Some(&kestrel));
    assert_eq!(status, 200);
    let (sig, _) = DetachedSignature::from_string(&asc).unwrap();
    sig.verify(&program, doc.as_bytes()).unwrap();
    assert!(sig.verify(&program, format!("{doc} ").as_bytes()).is_err());

    // No key registered: 409 with a message that says what to do; unknown advisories stay 404.
    let (status, body) = http(&url, "GET", &format!("/api/v1/advisories/{released}/bundle"), Some(&kestrel));
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("/api/v1/me/openpgp-key"));
    assert_eq!(http(&url, "GET", "/api/v1/advisories/ADV-2026-9999/bundle", Some(&kestrel)).0, 404);
    assert_eq!(http(&url, "GET", "/api/v1/me/openpgp-key", Some(&kestrel)).0, 404);

    // Bad keys are refused.
    assert_eq!(http_send(&url, "PUT", "/api/v1/me/openpgp-key", &kestrel, b"not a key").0, 400);
    let signing_only = program.to_armored_string(ArmorOptions::default()).unwrap();
    let (status, body) = http_send(&url, "PUT", "/api/v1/me/openpgp-key", &kestrel, signing_only.as_bytes());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("encrypt"), "{body}");

    // Register a key; the bundle decrypts with it, is signed by the program, and holds the document and the PoC.
    let secret = partner_key();
    let public = SignedPublicKey::from(secret.clone()).to_armored_string(ArmorOptions::default()).unwrap();
    let (status, body) = http_send(&url, "PUT", "/api/v1/me/openpgp-key", &kestrel, public.as_bytes());
    assert_eq!(status, 200, "{body}");
    assert_eq!(http(&url, "GET", "/api/v1/me/openpgp-key", Some(&kestrel)).0, 200);
    let (status, bundle) = http(&url, "GET", &format!("/api/v1/advisories/{released}/bundle"), Some(&kestrel));
    assert_eq!(status, 200, "{bundle}");
    assert!(bundle.starts_with("-----BEGIN PGP MESSAGE-----"));
    let (msg, _) = Message::from_string(&bundle).unwrap();
    let mut msg = msg.decrypt(&Password::empty(), &secret).unwrap();
    if msg.is_compressed() {
        msg = msg.decompress().unwrap();
    }
    let tar = msg.as_data_vec().unwrap();
    msg.verify(&program.primary_key).unwrap();
    let files = untar(&tar);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], format!("adv-{year}-0001.json"));
    assert!(names.iter().any(|n| n.starts_with("poc/")), "the validate tier sees the PoC: {names:?}");
    let (_, csaf) = http(&url, "GET", &format!("/api/v1/advisories/{released}/csaf"), Some(&kestrel));
    assert_eq!(files[0].1, csaf.as_bytes(), "the bundle holds the same CSAF document");
    // A stranger's key cannot open it.
    let (msg, _) = Message::from_string(&bundle).unwrap();
    assert!(msg.decrypt(&Password::empty(), &partner_key()).is_err());

    // The PoC attachment is each partner's own copy: another partner of the same tier gets another script of the
    // same length in lines, and an investigation finds the attachment as the source of a leaked copy, naming no
    // one but its recipient if anyone.
    let poc_of = |files: &[(String, Vec<u8>)]| -> String {
        let (_, bytes) = files.iter().find(|(n, _)| n.starts_with("poc/")).expect("a PoC attachment");
        String::from_utf8(bytes.clone()).unwrap()
    };
    let mine = poc_of(&files);
    let other = token_of(&p, "bluefen-network-defense");
    http_send(&url, "PUT", "/api/v1/me/openpgp-key", &other, public.as_bytes());
    let (status, theirs) = http(&url, "GET", &format!("/api/v1/advisories/{released}/bundle"), Some(&other));
    assert_eq!(status, 200, "{theirs}");
    let (msg, _) = Message::from_string(&theirs).unwrap();
    let mut msg = msg.decrypt(&Password::empty(), &secret).unwrap();
    if msg.is_compressed() {
        msg = msg.decompress().unwrap();
    }
    let theirs = poc_of(&untar(&msg.as_data_vec().unwrap()));
    assert_ne!(mine, theirs, "two partners' PoC attachments are two copies");
    assert_eq!(mine.lines().count(), theirs.lines().count());
    let leak = crate::common::write_file(p.dir.path(), "leaked-poc.py", &mine);
    let found: Value =
        serde_json::from_str(&p.ok(&["--as", "ivan", "trace", "--leak", leak.to_str().unwrap(), "--output", "json"]))
            .unwrap();
    let sources: Vec<&str> =
        found["sources"].as_array().unwrap().iter().filter_map(|s| s["section"].as_str()).collect();
    assert!(sources.iter().any(|s| s.starts_with("poc attachment ")), "{found}");
    for s in found["suspects"].as_array().unwrap().iter().filter(|s| s["accused"] == true) {
        assert_eq!(s["partner"], "kestrel-edr", "only the recipient may be named: {found}");
    }

    // Where the PoC is not visible, the bundle has no attachment.
    let jade = token_of(&p, "jadewell-network-security"); // CN: summary only
    http_send(&url, "PUT", "/api/v1/me/openpgp-key", &jade, public.as_bytes());
    let (status, bundle) = http(&url, "GET", &format!("/api/v1/advisories/{released}/bundle"), Some(&jade));
    assert_eq!(status, 200);
    let (msg, _) = Message::from_string(&bundle).unwrap();
    let mut msg = msg.decrypt(&Password::empty(), &secret).unwrap();
    if msg.is_compressed() {
        msg = msg.decompress().unwrap();
    }
    let files = untar(&msg.as_data_vec().unwrap());
    assert_eq!(files.len(), 1, "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());

    let records: Value = serde_json::from_str(&p.ok(&["deliveries", "--output", "json", "--limit", "1000"])).unwrap();
    let bundles = records.as_array().unwrap().iter().filter(|d| d["channel"] == "bundle").count();
    assert_eq!(bundles, 3, "each bundle served is recorded, the refused one is not");
    assert!(sigterm(&mut child).success());
}
