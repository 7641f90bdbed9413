//! The partner portal through the real server: a partner's user signs in and reads exactly what the partner may
//! see — and nothing before its time, with the server's clock moved by the test-only time source; every copy shown
//! is fingerprinted (an investigator names the partner from an excerpt of its portal page) and recorded; a
//! suspended partner's users are refused from their next request on; portal and console sessions never open each
//! other's pages.

use crate::common::Program;
use crate::console::{encode, hidden_csrf, password_of, request, set_cookie, sign_in};
use crate::server::{sigterm, start_demo_with};

/// Signs a portal user in; returns the cookie header value.
fn portal_sign_in(url: &str, user: &str, password: &str) -> Result<String, u16> {
    let (status, head, body) = request(url, "GET", "/portal/login", "", None);
    assert_eq!(status, 200);
    let login = set_cookie(&head, "fw_portal_login").unwrap();
    let form = format!("username={user}&password={}&csrf={}", encode(password), hidden_csrf(&body));
    let (status, head, _) = request(url, "POST", "/portal/login", &format!("fw_portal_login={login}"), Some(&form));
    match (status, set_cookie(&head, "fw_portal")) {
        (303, Some(s)) if !s.is_empty() => Ok(format!("fw_portal={s}")),
        _ => Err(status),
    }
}

/// A signed-in portal session of a demo user (for other tests).
pub fn sign_in_for_test(url: &str, p: &Program, user: &str) -> String {
    portal_sign_in(url, user, &password_of(p, user)).unwrap()
}

fn set_clock(file: &std::path::Path, t: jiff::Timestamp) {
    std::fs::write(file, t.to_string()).unwrap();
}

#[test]
fn partner_users_read_their_copy_on_time_fingerprinted_and_are_refused_once_suspended() {
    let p = Program::new();
    let clock = p.dir.path().join("clock.txt");
    let (mut child, url, printed) = start_demo_with(&p, &[("FOREWARN_TEST_CLOCK_FILE", clock.to_str().unwrap())]);
    assert!(printed.iter().any(|l| l.contains("Partner portal logins")), "the demo prints the portal logins");
    let kestrel = portal_sign_in(&url, "kestrel-analyst", &password_of(&p, "kestrel-analyst")).unwrap();
    assert_eq!(portal_sign_in(&url, "kestrel-analyst", "wrong"), Err(401));

    // The list and the released advisory, as kestrel (US, validate tier) may see them.
    let (status, head, home) = request(&url, "GET", "/portal", &kestrel, None);
    assert_eq!(status, 200, "{home}");
    assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"));
    assert!(home.contains("ADV-2026-0001") && home.contains("Kestrel EDR"), "{home}");
    let (status, _, page) = request(&url, "GET", "/portal/advisories/ADV-2026-0001", &kestrel, None);
    assert_eq!(status, 200);
    assert!(page.contains("<h2>poc</h2>") && page.contains("<h2>details</h2>"), "{page}");
    let (status, head, csaf) = request(&url, "GET", "/portal/advisories/ADV-2026-0001/csaf", &kestrel, None);
    assert_eq!(status, 200);
    assert!(head.to_lowercase().contains("content-disposition: attachment"));
    assert!(csaf.contains("\"csaf_version\""), "a CSAF document");

    // The portal copy is fingerprinted: an investigator names kestrel from five sentences of the page.
    // The second paragraph of the Details as the page shows it (HTML; the investigation reads through the markup).
    let details = page.split("<h2>details</h2>").nth(1).unwrap();
    let paragraph = details.split("<p>").nth(2).unwrap().split("</p>").next().unwrap().to_owned();
    assert!(paragraph.contains("<code>mime_param_rfc2231_join()</code>"), "rendered Markdown: {paragraph}");
    let ivan = format!("fw_session={}", sign_in(&url, "ivan", &password_of(&p, "ivan")).unwrap());
    let (_, _, form) = request(&url, "GET", "/console/investigations", &ivan, None);
    let body = format!("csrf={}&leak={}", hidden_csrf(&form), encode(&paragraph));
    let (status, _, report) = request(&url, "POST", "/console/investigations", &ivan, Some(&body));
    assert_eq!(status, 200);
    assert!(report.contains("named: kestrel-edr"), "{report}");
    assert!(report.contains("web"), "the portal delivery is on record with its channel: {report}");

    // Nothing before its time: ADV-2026-0002's T, from the advisory list; a validate partner sees it 5 business
    // days ahead, PoC included. Before that (the clock moved back) it does not exist for kestrel; after, it does.
    let list: serde_json::Value = serde_json::from_str(&p.ok(&["advisory", "list", "--output", "json"])).unwrap();
    let t: jiff::Timestamp = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "ADV-2026-0002")
        .and_then(|a| a["release_at"].as_str())
        .unwrap()
        .parse()
        .unwrap();
    set_clock(&clock, t - jiff::SignedDuration::from_hours(24 * 9));
    let (status, _, early) = request(&url, "GET", "/portal/advisories/ADV-2026-0002", &kestrel, None);
    assert_eq!(status, 404, "{early}");
    assert!(!request(&url, "GET", "/portal", &kestrel, None).2.contains("ADV-2026-0002"));
    set_clock(&clock, t - jiff::SignedDuration::from_hours(24));
    let (status, _, on_time) = request(&url, "GET", "/portal/advisories/ADV-2026-0002", &kestrel, None);
    assert_eq!(status, 200, "{on_time}");
    assert!(on_time.contains("<h2>poc</h2>"), "the PoC after its lead time: {on_time}");
    // A CN partner's user sees only the summary, and only from T.
    let hanshan = portal_sign_in(&url, "hanshan-analyst", &password_of(&p, "hanshan-analyst")).unwrap();
    assert_eq!(request(&url, "GET", "/portal/advisories/ADV-2026-0002", &hanshan, None).0, 404);
    set_clock(&clock, t + jiff::SignedDuration::from_hours(1));
    let (status, _, cn) = request(&url, "GET", "/portal/advisories/ADV-2026-0002", &hanshan, None);
    assert_eq!(status, 200);
    assert!(cn.contains("<h2>summary</h2>") && !cn.contains("<h2>details</h2>") && !cn.contains("<h2>poc</h2>"));
    std::fs::remove_file(&clock).unwrap();

    // Suspension holds from the next request on; the suspended demo partner's user is refused already.
    let polder = portal_sign_in(&url, "polder-analyst", &password_of(&p, "polder-analyst")).unwrap();
    let (status, _, refused) = request(&url, "GET", "/portal", &polder, None);
    assert_eq!(status, 403);
    assert!(refused.contains("suspended"), "{refused}");
    p.ok(&["--as", "priya", "partner", "suspend", "kestrel-edr", "--reason", "portal test"]);
    let (status, _, refused) = request(&url, "GET", "/portal/advisories/ADV-2026-0001", &kestrel, None);
    assert_eq!(status, 403, "{refused}");
    assert_eq!(request(&url, "GET", "/portal/advisories/ADV-2026-0001/csaf", &kestrel, None).0, 403);

    // Portal and console sessions never open each other's pages; forged sign-outs change nothing.
    assert_eq!(request(&url, "GET", "/console", &kestrel.replace("fw_portal=", "fw_session="), None).0, 303);
    assert_eq!(request(&url, "GET", "/portal", &ivan.replace("fw_session=", "fw_portal="), None).0, 303);
    assert_eq!(request(&url, "GET", "/portal", "", None).0, 303);
    assert_eq!(request(&url, "POST", "/portal/logout", &hanshan, Some("csrf=forged")).0, 403);
    assert_eq!(request(&url, "GET", "/portal", &hanshan, None).0, 200, "still signed in");
    assert!(sigterm(&mut child).success());
}

/// Portal self-service: receipts of the partner's own log entries (another partner's entry does not exist for it),
/// the webhook endpoint with its secret shown once, the OpenPGP key, and API tokens that only the organisation's
/// portal administrators can rotate; bad input is refused with a reason.
#[test]
fn partner_users_fetch_receipts_and_manage_their_webhook_and_key() {
    let p = Program::new();
    let (mut child, url, _) = crate::server::start_demo(&p);
    let kestrel = portal_sign_in(&url, "kestrel-analyst", &password_of(&p, "kestrel-analyst")).unwrap();
    assert_eq!(request(&url, "GET", "/portal/advisories/ADV-2026-0001", &kestrel, None).0, 200);
    // The delivery is integrated into the log within a second or so.
    let mut page = String::new();
    for _ in 0..50 {
        page = request(&url, "GET", "/portal/settings", &kestrel, None).2;
        if page.contains("/portal/receipts/") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let entry = page.split("/portal/receipts/").nth(1).expect("a receipt").split('"').next().unwrap().to_owned();
    let (status, head, receipt) = request(&url, "GET", &format!("/portal/receipts/{entry}"), &kestrel, None);
    assert_eq!(status, 200);
    assert!(head.to_lowercase().contains("content-disposition: attachment"));
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["entry"].as_u64(), entry.parse().ok());
    let hanshan = portal_sign_in(&url, "hanshan-analyst", &password_of(&p, "hanshan-analyst")).unwrap();
    assert_eq!(request(&url, "GET", &format!("/portal/receipts/{entry}"), &hanshan, None).0, 404);

    let csrf = hidden_csrf(&page);
    let post = |form: String| request(&url, "POST", "/portal/settings", &kestrel, Some(&form));
    let (status, _, bad) = post(format!("csrf={csrf}&action=webhook&url=ftp%3A%2F%2Fhooks.example"));
    assert_eq!(status, 400, "{bad}");
    let (status, _, saved) = post(format!("csrf={csrf}&action=webhook&url=http%3A%2F%2F127.0.0.1%3A9%2Fhook"));
    assert_eq!(status, 200, "{saved}");
    let secret = saved.split("<code id=\"shown-once\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(!request(&url, "GET", "/portal/settings", &kestrel, None).2.contains(&secret), "shown once");
    let (status, _, bad_key) = post(format!("csrf={csrf}&action=key&key=not+a+key"));
    assert_eq!(status, 400);
    assert!(bad_key.contains("not a usable OpenPGP key"), "{bad_key}");
    let (status, _, no) = post(format!("csrf={csrf}&action=rotate"));
    assert_eq!(status, 400);
    assert!(no.contains("Only your organisation"), "{no}");
    assert_eq!(post("csrf=forged&action=rotate".to_owned()).0, 403);
    let history = p.ok(&["history", "--subject", "kestrel-edr", "--output", "json"]);
    assert!(history.contains("partner.webhook") && history.contains("kestrel-analyst"), "{history}");

    // The organisation's portal administrator adds a colleague and rotates the API token; an analyst cannot.
    let (status, _, no) = post(format!("csrf={csrf}&action=add-user&username=kestrel-second"));
    assert_eq!(status, 400);
    assert!(no.contains("Only your organisation"), "{no}");
    let admin = portal_sign_in(&url, "kestrel-admin", &password_of(&p, "kestrel-admin")).unwrap();
    let admin_page = request(&url, "GET", "/portal/settings", &admin, None).2;
    let admin_csrf = hidden_csrf(&admin_page);
    let as_admin = |form: String| request(&url, "POST", "/portal/settings", &admin, Some(&form));
    let (status, _, added) = as_admin(format!("csrf={admin_csrf}&action=add-user&username=kestrel-second"));
    assert_eq!(status, 200, "{added}");
    let password = added.split("<code id=\"shown-once\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let second = portal_sign_in(&url, "kestrel-second", &password).unwrap();
    assert!(request(&url, "GET", "/portal", &second, None).2.contains("Advisories for Kestrel EDR"));
    assert_eq!(as_admin(format!("csrf={admin_csrf}&action=add-user&username=kestrel-second")).0, 400, "taken");
    let (status, _, rotated) = as_admin(format!("csrf={admin_csrf}&action=rotate"));
    assert_eq!(status, 200);
    let token = rotated.split("<code id=\"shown-once\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(crate::common::http(&url, "GET", "/api/v1/me", Some(&token)).0, 200, "the new token works");

    // Bundles: refused with a reason until a key is registered, then encrypted to it and signed.
    let (status, _, no_key) = request(&url, "GET", "/portal/advisories/ADV-2026-0001/bundle", &kestrel, None);
    assert_eq!(status, 400);
    assert!(no_key.contains("No OpenPGP key is registered"), "{no_key}");
    let secret = crate::openpgp::partner_key();
    let public = pgp::composed::SignedPublicKey::from(secret.clone())
        .to_armored_string(pgp::composed::ArmorOptions::default())
        .unwrap();
    let (status, _, saved) = post(format!("csrf={csrf}&action=key&key={}", encode(&public)));
    assert_eq!(status, 200, "{saved}");
    let (status, head, bundle) = request(&url, "GET", "/portal/advisories/ADV-2026-0001/bundle", &kestrel, None);
    assert_eq!(status, 200);
    assert!(head.to_lowercase().contains("content-disposition: attachment"), "{head}");
    let (msg, _) = pgp::composed::Message::from_string(&bundle).unwrap();
    assert!(msg.decrypt(&pgp::types::Password::empty(), &secret).is_ok(), "the partner's key opens it");
    assert!(sigterm(&mut child).success());
}
