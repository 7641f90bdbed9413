//! The web console's first slice through the real server: sign-in with CSRF-bound forms and secure cookies,
//! the dashboard, sign-out; anonymous users sent to sign in; the CSP on every page; advisory text shown as text.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{write_file, Program};
use crate::server::{sigterm, start_demo};

/// A raw request with cookies and an optional form body; returns (status, headers, body).
pub fn request(base: &str, method: &str, path: &str, cookies: &str, form: Option<&str>) -> (u16, String, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let body = form.unwrap_or("");
    let cookie = if cookies.is_empty() { String::new() } else { format!("Cookie: {cookies}\r\n") };
    let ctype = if form.is_some() { "Content-Type: application/x-www-form-urlencoded\r\n" } else { "" };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}{ctype}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// The value a response sets for a cookie.
pub fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_owned()))
}

pub fn hidden_csrf(body: &str) -> String {
    body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

pub fn password_of(p: &Program, user: &str) -> String {
    let creds = std::fs::read_to_string(p.data_dir().join("demo-credentials.txt")).unwrap();
    let line = creds.lines().find(|l| l.split_whitespace().next() == Some(user)).unwrap();
    line.split_whitespace().nth(1).unwrap().to_owned()
}

/// Signs in; returns the session cookie.
pub fn sign_in(url: &str, user: &str, password: &str) -> Result<String, (u16, String)> {
    let (status, head, body) = request(url, "GET", "/console/login", "", None);
    assert_eq!(status, 200);
    let login = set_cookie(&head, "fw_login").unwrap();
    let csrf = hidden_csrf(&body);
    let form = format!("username={user}&password={password}&csrf={csrf}");
    let (status, head, body) = request(url, "POST", "/console/login", &format!("fw_login={login}"), Some(&form));
    match (status, set_cookie(&head, "fw_session")) {
        (303, Some(session)) if !session.is_empty() => Ok(session),
        _ => Err((status, body)),
    }
}

#[test]
fn staff_sign_in_see_the_dashboard_and_sign_out_under_csp_and_csrf() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    // An advisory whose title holds markup: it must come out as text.
    let file = write_file(
        p.dir.path(),
        "xss.md",
        "+++\ntitle = \"<script>alert(1)</script> & <b>bold</b>\"\n+++\n\n# Summary\nA flaw.\n",
    );
    p.ok(&["--as", "alice", "advisory", "new", file.to_str().unwrap(), "--id", "ADV-XSS-1"]);
    let (mut child, url, _) = start_demo(&p);

    // Anonymous: sent to sign in; the page has the CSP and no script.
    let (status, head, _) = request(&url, "GET", "/console", "", None);
    assert_eq!(status, 303);
    assert!(head.to_lowercase().contains("location: /console/login"), "{head}");
    let (status, head, body) = request(&url, "GET", "/console/login", "", None);
    assert_eq!(status, 200);
    let lower = head.to_lowercase();
    assert!(lower.contains("content-security-policy: default-src 'none'; style-src 'self'"), "{head}");
    assert!(lower.contains("x-frame-options: deny") && lower.contains("cache-control: no-store"));
    assert!(!body.contains("<script"), "no script on any page");
    let login_cookie = head.lines().find(|l| l.to_lowercase().starts_with("set-cookie: fw_login=")).unwrap();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"), "{login_cookie}");

    // Wrong password, and a form without its CSRF cookie: refused, no session.
    assert_eq!(sign_in(&url, "priya", "wrong").unwrap_err().0, 401);
    let (status, _, body) = request(&url, "POST", "/console/login", "", Some("username=priya&password=x&csrf=forged"));
    assert_eq!(status, 403, "{body}");

    // The right password: a session cookie, the dashboard.
    let session = sign_in(&url, "priya", &password_of(&p, "priya")).unwrap();
    let (status, head, body) = request(&url, "GET", "/console", &format!("fw_session={session}"), None);
    assert_eq!(status, 200, "{body}");
    assert!(head.to_lowercase().contains("content-security-policy"));
    for expect in ["Dashboard", "priya", "ADV-2026-0001", "Partners suspended recently", "Polder Signal Security"] {
        assert!(body.contains(expect), "the dashboard lacks {expect}");
    }
    let row = body.lines().find(|l| l.contains("ADV-XSS-1")).unwrap_or("");
    // Escaped (askama writes numeric references): the text is there, the markup is not.
    assert!(row.contains("alert(1)") && row.contains("&#60;script&#62;"), "markup is shown as text: {row}");
    assert!(!row.contains("<script>") && !row.contains("<b>"), "markup must never be rendered: {row}");
    assert!(!body.contains("<script>alert(1)"), "markup must never be rendered");

    // Sign out needs the session's CSRF token; a forged one changes nothing.
    let csrf = hidden_csrf(&body);
    let cookie = format!("fw_session={session}");
    let (status, _, _) = request(&url, "POST", "/console/logout", &cookie, Some("csrf=forged"));
    assert_eq!(status, 403);
    assert_eq!(request(&url, "GET", "/console", &cookie, None).0, 200, "still signed in");
    let (status, _, _) = request(&url, "POST", "/console/logout", &cookie, Some(&format!("csrf={csrf}")));
    assert_eq!(status, 303);
    assert_eq!(request(&url, "GET", "/console", &cookie, None).0, 303, "the session ended");
    // A partner's API token is no way in.
    let token = crate::server::token_of(&p, "kestrel-edr");
    assert_eq!(request(&url, "GET", "/console", &format!("fw_session={token}"), None).0, 303);
    assert!(sigterm(&mut child).success());
}

/// The advisory page's timeline, "see it as a partner", and partner management through the console: the CN
/// partners' row is restricted with its legal source; a preview is the partner's own copy (or says that nothing
/// exists for it) and is recorded; a program manager suspends a partner, which its API token feels on the next
/// request; forged forms and other roles change nothing.
#[test]
fn timeline_preview_and_suspension_through_the_console() {
    let p = Program::new();
    let (mut child, url, printed) = start_demo(&p);
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    let audrey = format!("fw_session={}", sign_in(&url, "audrey", &password_of(&p, "audrey")).unwrap());

    // The dashboard leads to the next Patch Tuesday's advisories; the demo printed where the console is.
    let (_, _, dashboard) = request(&url, "GET", "/console", &priya, None);
    let next = dashboard.split("<section class=\"next-pt\">").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(next.contains("href=\"/console/advisories/ADV-2026-0002\""), "{next}");
    assert!(printed.iter().any(|l| l.starts_with("Console: http")), "{printed:?}");
    // The next Patch Tuesday's advisory: CN partners see only the summary, at T, for a stated legal reason.
    let (status, head, body) = request(&url, "GET", "/console/advisories/ADV-2026-0002", &priya, None);
    assert_eq!(status, 200, "{body}");
    assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"));
    assert!(body.contains("<svg class=\"timeline\"") && body.contains(">T</text>") && body.contains(">now</text>"));
    assert!(body.contains(r#"class="row restricted""#), "a restricted row is drawn differently");
    let restricted = body
        .split("<article class=\"group restricted\"")
        .skip(1)
        .map(|a| a.split("</article>").next().unwrap())
        .find(|a| a.contains("Hanshan Antivirus"))
        .expect("the CN partners' group is restricted");
    assert!(restricted.contains(" CN "), "{restricted}");
    assert!(restricted.contains("RMSV"), "the legal source is given: {restricted}");
    assert!(restricted.contains("<td>details</td><td>never</td>"), "{restricted}");
    assert!(!body.contains("<script"), "no script");

    // See it as a partner: kestrel's copy of the released advisory, and nothing of a future one for a CN partner.
    let (status, _, copy) =
        request(&url, "GET", "/console/advisories/ADV-2026-0001/as?partner=kestrel-edr&at=", &priya, None);
    assert_eq!(status, 200, "{copy}");
    assert!(copy.contains("<h3>details</h3>") && copy.contains("Copy fingerprint"), "{copy}");
    let (status, _, none) =
        request(&url, "GET", "/console/advisories/ADV-2026-0002/as?partner=hanshan-antivirus&at=", &priya, None);
    assert_eq!(status, 200);
    assert!(none.contains("Nothing of ADV-2026-0002 exists for this partner"), "{none}");
    let (status, _, _) =
        request(&url, "GET", "/console/advisories/ADV-2026-0001/as?partner=kestrel-edr&at=yesterday", &priya, None);
    assert_eq!(status, 400);
    assert_eq!(request(&url, "GET", "/console/advisories/ADV-2026-9999", &priya, None).0, 404);
    let history = p.ok(&["history", "--subject", "ADV-2026-0001", "--output", "json"]);
    assert!(history.contains("advisory.preview") && history.contains("kestrel-edr"), "{history}");

    // Partners: filtered by country.
    let (status, _, list) = request(&url, "GET", "/console/partners?country=CN", &priya, None);
    assert_eq!(status, 200);
    assert_eq!(list.matches("<tr id=\"partner-").count(), 4, "{list}");
    // Suspend kestrel: a forged form and an auditor change nothing; the program manager's form does.
    let token = crate::server::token_of(&p, "kestrel-edr");
    let api = |t: &str| crate::common::http(&url, "GET", "/api/v1/advisories", Some(t)).0;
    assert_eq!(api(&token), 200);
    let path = "/console/partners/kestrel-edr/status";
    let (status, _, _) = request(&url, "POST", path, &priya, Some("csrf=forged&action=suspend&reason=test"));
    assert_eq!(status, 403);
    let audrey_csrf = hidden_csrf(&request(&url, "GET", "/console/partners", &audrey, None).2);
    let form = format!("csrf={audrey_csrf}&action=suspend&reason=test");
    assert_eq!(request(&url, "POST", path, &audrey, Some(&form)).0, 403);
    assert_eq!(api(&token), 200, "nothing changed");
    let csrf = hidden_csrf(&list);
    let (status, _, _) = request(&url, "POST", path, &priya, Some(&format!("csrf={csrf}&action=suspend&reason=")));
    assert_eq!(status, 400, "a reason is required");
    let form = format!("csrf={csrf}&action=suspend&reason=Leak+under+investigation");
    let (status, _, done) = request(&url, "POST", path, &priya, Some(&form));
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Kestrel EDR is now suspended"), "{done}");
    assert_eq!(api(&token), 403, "suspended from the next request on");
    let form = format!("csrf={csrf}&action=reinstate&reason=");
    assert_eq!(request(&url, "POST", path, &priya, Some(&form)).0, 200);
    assert_eq!(api(&token), 200, "reinstated");
    let history = p.ok(&["history", "--subject", "kestrel-edr", "--output", "json"]);
    assert!(history.contains("Leak under investigation") && history.contains("console"), "{history}");

    // Anonymous and partner-token requests reach none of these pages.
    for path in [
        "/console/partners",
        "/console/advisories/ADV-2026-0001",
        "/console/advisories/ADV-2026-0001/as?partner=kestrel-edr",
    ] {
        assert_eq!(request(&url, "GET", path, "", None).0, 303, "{path}");
        assert_eq!(request(&url, "GET", path, &format!("fw_session={token}"), None).0, 303, "{path}");
    }
    assert_eq!(request(&url, "POST", "/console/partners/kestrel-edr/status", "", Some("csrf=x&action=suspend")).0, 303);
    assert!(sigterm(&mut child).success());
}

/// An investigator pastes an excerpt of a partner's copy into the console and that partner is named; the report
/// downloads as JSON; other roles, forged forms and empty leaks change nothing; pasted markup stays text.
#[test]
fn an_investigator_names_a_partner_from_a_pasted_excerpt() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let ivan = format!("fw_session={}", sign_in(&url, "ivan", &password_of(&p, "ivan")).unwrap());
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    assert_eq!(request(&url, "GET", "/console/investigations", &priya, None).0, 403);
    assert_eq!(request(&url, "GET", "/console/investigations", "", None).0, 303);
    let (status, _, page) = request(&url, "GET", "/console/investigations", &ivan, None);
    assert_eq!(status, 200);
    let csrf = hidden_csrf(&page);

    let token = crate::server::token_of(&p, "northgate-threat-labs");
    let (status, body) = crate::common::http(&url, "GET", "/api/v1/advisories/ADV-2026-0001", Some(&token));
    assert_eq!(status, 200);
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    let excerpt = view["sections"]["details"].as_str().unwrap().trim().split("\n\n").nth(1).unwrap().to_owned();
    let form = |extra: &str| format!("csrf={csrf}&leak={}{extra}", encode(&excerpt));
    let (status, _, report) = request(&url, "POST", "/console/investigations", &ivan, Some(&form("")));
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("named: northgate-threat-labs"), "{report}");
    assert!(report.contains("<tr class=\"accused\"><td>northgate-threat-labs</td>"), "{report}");
    let (status, head, json) = request(&url, "POST", "/console/investigations", &ivan, Some(&form("&format=json")));
    assert_eq!(status, 200);
    assert!(head.to_lowercase().contains("content-disposition: attachment"), "{head}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(json["verdict"].as_str().unwrap().contains("northgate-threat-labs"), "{json}");

    // Refused: a forged form, another role, an empty leak. Markup in a leak comes back as text.
    let forged = format!("csrf=forged&leak={}", encode(&excerpt));
    assert_eq!(request(&url, "POST", "/console/investigations", &ivan, Some(&forged)).0, 403);
    let priya_csrf = hidden_csrf(&request(&url, "GET", "/console/partners", &priya, None).2);
    let other = format!("csrf={priya_csrf}&leak={}", encode(&excerpt));
    assert_eq!(request(&url, "POST", "/console/investigations", &priya, Some(&other)).0, 403);
    assert_eq!(request(&url, "POST", "/console/investigations", &ivan, Some(&format!("csrf={csrf}&leak=+"))).0, 400);
    let (_, _, echoed) = request(
        &url,
        "POST",
        "/console/investigations",
        &ivan,
        Some(&format!("csrf={csrf}&leak={}", encode("<script>alert(1)</script>"))),
    );
    assert!(!echoed.contains("<script>alert(1)") && echoed.contains("alert(1)"), "{echoed}");
    let history = p.ok(&["history", "--subject", "leak", "--output", "json"]);
    assert_eq!(history.matches("investigation.trace").count(), 3, "{history}");
    assert!(!history.contains("mime_param_rfc2231_join"), "no leaked text in the history");
    assert!(sigterm(&mut child).success());
}

/// application/x-www-form-urlencoded.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Writing and releasing an advisory in the console: an author submits one (bad markers refused with their line,
/// nothing saved); the author cannot approve it; a second user approves it and schedules it for a Patch Tuesday;
/// an embargo break needs the id typed and a reason. Every step is in the history.
#[test]
fn an_author_submits_and_a_second_user_approves_and_schedules_in_the_console() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let alice = format!("fw_session={}", sign_in(&url, "alice", &password_of(&p, "alice")).unwrap());
    let bob = format!("fw_session={}", sign_in(&url, "bob", &password_of(&p, "bob")).unwrap());
    let audrey = format!("fw_session={}", sign_in(&url, "audrey", &password_of(&p, "audrey")).unwrap());
    assert_eq!(request(&url, "GET", "/console/advisories/new", &audrey, None).0, 403);
    let (status, _, form) = request(&url, "GET", "/console/advisories/new", &alice, None);
    assert_eq!(status, 200);
    let csrf = hidden_csrf(&form);
    let fields = |summary: &str| {
        format!(
            "csrf={csrf}&title={}&cves=CVE-2026-50001&cwe=CWE-787&cvss={}&products={}&summary={}&details={}",
            encode("Contoso Relay: heap overflow <b>in</b> header parsing"),
            encode("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            encode("Contoso Relay: 2.0 through 2.3"),
            encode(summary),
            encode("An {{attacker|adversary}} sends a long header.\n\n<script>alert(1)</script>"),
        )
    };
    let before = p.ok(&["advisory", "list", "--output", "json"]);
    let (status, _, refused) =
        request(&url, "POST", "/console/advisories", &alice, Some(&fields("A flaw.\nAn {{unclosed|marker")));
    assert_eq!(status, 400);
    assert!(refused.contains("Summary section, line 2: fingerprint alternatives"), "{refused}");
    assert_eq!(p.ok(&["advisory", "list", "--output", "json"]), before, "nothing saved");
    assert_eq!(request(&url, "POST", "/console/advisories", &alice, Some("csrf=forged&title=x&summary=y")).0, 403);
    // The preview renders the Markdown, and the section's HTML comes out as text.
    let (status, _, preview) =
        request(&url, "POST", "/console/advisories", &alice, Some(&(fields("A {{flaw|bug}}.") + "&preview=1")));
    assert_eq!(status, 200);
    assert!(preview.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !preview.contains("<script"), "{preview}");
    assert_eq!(p.ok(&["advisory", "list", "--output", "json"]), before, "a preview saves nothing");
    let (status, head, _) = request(&url, "POST", "/console/advisories", &alice, Some(&fields("A {{flaw|bug}}.")));
    assert_eq!(status, 303);
    let location = head.lines().find_map(|l| l.strip_prefix("location: ")).unwrap().trim().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let (status, _, page) = request(&url, "GET", &location, &alice, None);
    assert_eq!(status, 200);
    assert!(page.contains("draft") && !page.contains("<b>in</b>") && page.contains("&#60;b&#62;in"), "{page}");

    // The author cannot approve her own advisory (alice is no approver); bob can, and schedules it.
    let act = |who: &str, body: &str| request(&url, "POST", &location, who, Some(body));
    assert_eq!(act(&alice, &format!("csrf={csrf}&action=approve")).0, 403);
    let (_, _, bob_page) = request(&url, "GET", &location, &bob, None);
    let bob_csrf = hidden_csrf(&bob_page);
    assert!(bob_page.contains("Approve revision 1"), "{bob_page}");
    assert_eq!(act(&bob, "csrf=forged&action=approve").0, 403);
    assert_eq!(act(&bob, &format!("csrf={bob_csrf}&action=approve")).0, 303);
    let month = bob_page.split("name=\"patch_tuesday\">").nth(1).unwrap().split("<option value=\"").nth(2).unwrap();
    let month = month.split('"').next().unwrap().to_owned();
    assert_eq!(act(&bob, &format!("csrf={bob_csrf}&action=schedule&patch_tuesday={month}&at=")).0, 303);
    let (_, _, scheduled) = request(&url, "GET", &location, &bob, None);
    assert!(scheduled.contains("<dd>scheduled</dd>") && scheduled.contains("Break the embargo now"), "{scheduled}");
    // An embargo break needs the id typed and a reason.
    let (status, _, _) = act(&bob, &format!("csrf={bob_csrf}&action=break-embargo&confirm=wrong&reason=x"));
    assert_eq!(status, 400);
    let (status, _, _) = act(&bob, &format!("csrf={bob_csrf}&action=break-embargo&confirm={id}&reason="));
    assert_eq!(status, 400);
    let history = p.ok(&["history", "--subject", &id, "--output", "json"]);
    for action in ["advisory.create", "advisory.approve", "advisory.scheduled"] {
        assert!(history.contains(action), "{action} missing: {history}");
    }
    assert!(!history.contains("embargo_broken") && !history.contains("embargo-broken"), "{history}");
    assert!(sigterm(&mut child).success());
}

/// Every console route, table-driven: anonymous requests, partner portal sessions and partner API tokens are sent
/// to sign in; every state-changing request with a staff session but a missing or forged CSRF token is refused and
/// changes nothing; every page carries the CSP. (The portal's routes: the same, the other way round.)
#[test]
fn every_console_and_portal_route_refuses_strangers_and_forged_forms() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let staff = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    let token = crate::server::token_of(&p, "kestrel-edr");
    let console_get = [
        "/console",
        "/console/advisories/new",
        "/console/advisories/ADV-2026-0001",
        "/console/advisories/ADV-2026-0001/as?partner=kestrel-edr",
        "/console/partners",
        "/console/investigations",
        "/console/log",
        "/console/log?entry=0",
        "/console/policy",
        "/console/policy?partner=hanshan-antivirus&advisory=ADV-2026-0002",
        "/console/partners/kestrel-edr",
        "/console/advisories/ADV-2026-0001/edit",
    ];
    let console_post = [
        ("/console/logout", ""),
        ("/console/advisories", "title=x&summary=y"),
        ("/console/advisories/ADV-2026-0001", "action=break-embargo&confirm=ADV-2026-0001&reason=x"),
        ("/console/partners/kestrel-edr/status", "action=suspend&reason=x"),
        ("/console/investigations", "leak=some+text"),
        ("/console/log/verify", ""),
        ("/console/policy/diff", "policy=x"),
        ("/console/partners/kestrel-edr/rotate", "overlap_hours=0"),
        ("/console/partners/new", "name=Zed+Labs&country=DE&tier=ans&contact=a%40zed.example"),
        ("/console/advisories/ADV-2026-0001/edit", "title=x&summary=y&note=z"),
        ("/console/partners/kestrel-edr/edit", "country=CN&tier=ans&contacts=a%40b.example"),
        ("/console/timezone", "tz=Europe%2FBerlin"),
    ];
    let portal = crate::portal::sign_in_for_test(&url, &p, "kestrel-analyst");
    let strangers =
        ["".to_owned(), format!("fw_session={token}"), portal.replace("fw_portal=", "fw_session="), portal.clone()];
    for path in console_get {
        for who in &strangers {
            assert_eq!(request(&url, "GET", path, who, None).0, 303, "GET {path} as {who:?}");
        }
        let (status, head, _) = request(&url, "GET", path, &staff, None);
        assert!(status == 200 || status == 403, "GET {path}: {status}");
        assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"), "GET {path}");
    }
    let before = (p.ok(&["advisory", "list", "--output", "json"]), p.ok(&["partner", "list", "--output", "json"]));
    for (path, form) in console_post {
        for who in &strangers {
            assert_eq!(request(&url, "POST", path, who, Some(&format!("csrf=x&{form}"))).0, 303, "POST {path}");
        }
        // Without a token: refused when the form is read (422) or when it is checked (403).
        let status = request(&url, "POST", path, &staff, Some(form)).0;
        assert!(status == 422 || status == 403, "POST {path} without a token: {status}");
        assert_eq!(request(&url, "POST", path, &staff, Some(&format!("csrf=forged&{form}"))).0, 403, "POST {path}");
    }
    let after = (p.ok(&["advisory", "list", "--output", "json"]), p.ok(&["partner", "list", "--output", "json"]));
    assert_eq!(before, after, "nothing changed");
    assert_eq!(request(&url, "GET", "/console", &staff, None).0, 200, "still signed in");
    let portal_get = [
        "/portal",
        "/portal/advisories/ADV-2026-0001",
        "/portal/advisories/ADV-2026-0001/csaf",
        "/portal/settings",
        "/portal/advisories/ADV-2026-0001/bundle",
        "/portal/receipts/0",
    ];
    for path in portal_get {
        for who in
            ["".to_owned(), staff.clone(), staff.replace("fw_session=", "fw_portal="), format!("fw_portal={token}")]
        {
            assert_eq!(request(&url, "GET", path, &who, None).0, 303, "GET {path} as {who:?}");
        }
        let (status, head, _) = request(&url, "GET", path, &portal, None);
        assert!(matches!(status, 200 | 400 | 404), "GET {path}: {status}");
        assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"), "GET {path}");
    }
    for path in ["/portal/logout", "/portal/timezone"] {
        assert_eq!(request(&url, "POST", path, "", Some("csrf=x&tz=UTC")).0, 303, "POST {path}");
        assert_eq!(request(&url, "POST", path, &portal, Some("csrf=forged&tz=UTC")).0, 403, "POST {path}");
    }
    for form in ["action=rotate", "csrf=forged&action=rotate", "csrf=forged&action=webhook&url=http%3A%2F%2Fx.example"]
    {
        // Anonymous: a well-formed form goes to sign-in; a malformed one is refused before that (422).
        let anonymous = request(&url, "POST", "/portal/settings", "", Some(form)).0;
        assert!(anonymous == 303 || (anonymous == 422 && !form.contains("csrf")), "{form}: {anonymous}");
        let status = request(&url, "POST", "/portal/settings", &portal, Some(form)).0;
        assert!(status == 403 || status == 422, "POST /portal/settings {form}: {status}");
    }
    for path in ["/console/login", "/portal/login"] {
        let (_, head, _) = request(&url, "GET", path, "", None);
        assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"), "GET {path}");
    }
    assert!(sigterm(&mut child).success());
}

/// The log page for auditors: the signed checkpoint and the key to pin, any entry with its inclusion proof, and a
/// full verification on request; other roles are refused.
#[test]
fn an_auditor_sees_the_checkpoint_looks_up_an_entry_and_verifies_the_log() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let audrey = format!("fw_session={}", sign_in(&url, "audrey", &password_of(&p, "audrey")).unwrap());
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    assert_eq!(request(&url, "GET", "/console/log", &priya, None).0, 403);
    // The sequencer integrates the demo's events within a second or so.
    let mut page = String::new();
    for _ in 0..50 {
        page = request(&url, "GET", "/console/log", &audrey, None).2;
        if page.contains("entries</h2>") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(page.contains("entries</h2>") && page.contains("Verifier key"), "{page}");
    let (_, _, dashboard) = request(&url, "GET", "/console", &audrey, None);
    assert!(dashboard.contains("The log verifies"), "the dashboard says whether the log verifies: {dashboard}");
    let (_, _, entry) = request(&url, "GET", "/console/log?entry=0", &audrey, None);
    assert!(entry.contains("&#34;entry&#34;: 0") || entry.contains("\"entry\": 0"), "{entry}");
    assert!(entry.contains("proof"), "{entry}");
    let (_, _, bad) = request(&url, "GET", "/console/log?entry=first", &audrey, None);
    assert!(bad.contains("An entry is a number"), "{bad}");
    let (_, _, missing) = request(&url, "GET", "/console/log?entry=99999999", &audrey, None);
    assert!(missing.contains("is not in the log"), "{missing}");
    let csrf = hidden_csrf(&page);
    let (status, _, verified) = request(&url, "POST", "/console/log/verify", &audrey, Some(&format!("csrf={csrf}")));
    assert_eq!(status, 200);
    assert!(verified.contains("Verified:") && verified.contains("match the stored events"), "{verified}");
    assert!(!verified.contains(" 1 signed checkpoints") && !verified.contains(" 1 entries"), "{verified}");
    assert!(sigterm(&mut child).success());
}

/// The policy pages: the active policy, an explanation with its legal source, and a dry run that flags a proposed
/// policy's earlier visibilities and refuses one that does not parse.
#[test]
fn the_policy_is_explained_and_a_proposal_dry_run() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    let (status, _, page) = request(&url, "GET", "/console/policy", &priya, None);
    assert_eq!(status, 200);
    assert!(page.contains("Active: version 1"), "{page}");
    let (_, _, explained) =
        request(&url, "GET", "/console/policy?partner=hanshan-antivirus&advisory=ADV-2026-0002", &priya, None);
    assert!(explained.contains("as seen by Hanshan Antivirus"), "{explained}");
    assert!(explained.contains("matches</strong>") && explained.contains("RMSV"), "{explained}");
    assert!(explained.contains("<td>details</td>") && explained.contains("<td>never</td>"), "{explained}");
    let csrf = hidden_csrf(&page);
    let policy = include_str!("../../../../policy/default.toml");
    let earlier = policy.replacen("poc = \"5 business days\"", "poc = \"8 business days\"", 1);
    assert_ne!(earlier, policy);
    let form = format!("csrf={csrf}&policy={}", encode(&earlier));
    let (status, _, diff) = request(&url, "POST", "/console/policy/diff", &priya, Some(&form));
    assert_eq!(status, 200, "{diff}");
    assert!(diff.contains("would make a section visible earlier") && diff.contains("EARLIER"), "{diff}");
    assert!(!diff.contains(" 0 would make"), "{diff}");
    let same = format!("csrf={csrf}&policy={}", encode(policy));
    let (_, _, none) = request(&url, "POST", "/console/policy/diff", &priya, Some(&same));
    assert!(none.contains("0 change(s); 0 would make"), "{none}");
    let (status, _, bad) =
        request(&url, "POST", "/console/policy/diff", &priya, Some(&format!("csrf={csrf}&policy=tiers+%3D+3")));
    assert_eq!(status, 400);
    assert!(bad.contains("does not parse"), "{bad}");
    assert_eq!(request(&url, "GET", "/console/policy", &priya, None).2.matches("<tr><td>1</td>").count(), 1);
    assert!(sigterm(&mut child).success());
}

/// Partners in the console: a partner's page with its tokens, webhook deliveries and history; rotating its token
/// (the new one shown once, the old one refused at once with no overlap); adding a partner, whose token works; bad
/// input refused with nothing added; other roles refused.
#[test]
fn program_managers_rotate_tokens_and_add_partners_in_the_console() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    let audrey = format!("fw_session={}", sign_in(&url, "audrey", &password_of(&p, "audrey")).unwrap());
    let (status, _, page) = request(&url, "GET", "/console/partners/kestrel-edr", &priya, None);
    assert_eq!(status, 200);
    assert!(page.contains("API tokens") && page.contains("<td>demo</td>") && page.contains("partner.add"), "{page}");
    assert_eq!(request(&url, "GET", "/console/partners/nobody-here", &priya, None).0, 404);
    let csrf = hidden_csrf(&page);
    let old = crate::server::token_of(&p, "kestrel-edr");
    let api = |t: &str| crate::common::http(&url, "GET", "/api/v1/me", Some(t)).0;
    assert_eq!(api(&old), 200);
    let audrey_csrf = hidden_csrf(&request(&url, "GET", "/console/partners", &audrey, None).2);
    let path = "/console/partners/kestrel-edr/rotate";
    assert_eq!(request(&url, "POST", path, &audrey, Some(&format!("csrf={audrey_csrf}&overlap_hours=0"))).0, 403);
    assert_eq!(request(&url, "POST", path, &priya, Some(&format!("csrf={csrf}&overlap_hours=soon"))).0, 400);
    assert_eq!(api(&old), 200, "nothing changed");
    let (status, _, rotated) = request(&url, "POST", path, &priya, Some(&format!("csrf={csrf}&overlap_hours=0")));
    assert_eq!(status, 200);
    let new = rotated.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(new.starts_with("fw_"), "{new}");
    assert_eq!(api(&old), 401, "the old token stopped working");
    assert_eq!(api(&new), 200);
    assert!(!request(&url, "GET", "/console/partners/kestrel-edr", &priya, None).2.contains(&new), "shown once");

    let before = p.ok(&["partner", "list", "--output", "json"]);
    let bad = format!("csrf={csrf}&name=Zed+Labs&country=DE&tier=platinum&contact=psirt%40zed.example");
    let (status, _, refused) = request(&url, "POST", "/console/partners/new", &priya, Some(&bad));
    assert_eq!(status, 400, "{refused}");
    assert_eq!(p.ok(&["partner", "list", "--output", "json"]), before, "nothing added");
    let good = format!("csrf={csrf}&name=Zed+Labs&country=DE&tier=ans&contact=psirt%40zed.example");
    let (status, _, added) = request(&url, "POST", "/console/partners/new", &priya, Some(&good));
    assert_eq!(status, 200, "{added}");
    let token = added.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(api(&token), 200, "the new partner's token works");

    // Editing: a bad country changes nothing; a tier change is saved and recorded with before and after.
    let edit = "/console/partners/zed-labs/edit";
    let bad = format!("csrf={csrf}&country=Germany&tier=ans&contacts=psirt%40zed.example");
    assert_eq!(request(&url, "POST", edit, &priya, Some(&bad)).0, 400);
    let good = format!("csrf={csrf}&country=DE&tier=validate&contacts=psirt%40zed.example&flags=probation");
    let (status, _, saved) = request(&url, "POST", edit, &priya, Some(&good));
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("Saved.") && saved.contains("<dd>validate</dd>") && saved.contains("probation"), "{saved}");
    let history = p.ok(&["history", "--subject", "zed-labs", "--output", "json"]);
    assert!(history.contains("partner.edit") && history.contains("\"before\""), "{history}");
    assert_eq!(
        request(
            &url,
            "POST",
            edit,
            &audrey,
            Some(&format!("csrf={audrey_csrf}&country=DE&tier=ans&contacts=x%40y.example"))
        )
        .0,
        403
    );
    assert!(sigterm(&mut child).success());
}

/// Editing in the console: the form holds the newest revision; a preview shows the author's text and what its
/// fingerprint can do and saves nothing; a save needs a note and makes a new revision that awaits approval while
/// partners keep the approved one (its attachments carried over); the page shows the history.
#[test]
fn an_author_previews_and_edits_an_advisory_as_a_new_revision() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let alice = format!("fw_session={}", sign_in(&url, "alice", &password_of(&p, "alice")).unwrap());
    let (status, _, form) = request(&url, "GET", "/console/advisories/ADV-2026-0001/edit", &alice, None);
    assert_eq!(status, 200);
    assert!(form.contains("Edit ADV-2026-0001") && form.contains("Contoso Mail Gateway"), "{form}");
    let csrf = hidden_csrf(&form);
    let textarea = |name: &str| -> String {
        let start = form.find(&format!("name=\"{name}\"")).unwrap();
        let body = &form[start..];
        let body = &body[body.find('>').unwrap() + 1..];
        body[..body.find("</textarea>").unwrap()]
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#38;", "&")
    };
    let (summary, details) = (textarea("summary"), textarea("details"));
    assert!(details.contains("{{is in|lies in"), "markers are kept for editing");
    let body = |extra: &str| {
        format!(
            "csrf={csrf}&title={}&products={}&summary={}&details={}{extra}",
            encode("Contoso Mail Gateway: heap-based buffer overflow (revised)"),
            encode("Contoso Mail Gateway: 16.0 through 16.2.4"),
            encode(&summary),
            encode(&details),
        )
    };
    let path = "/console/advisories/ADV-2026-0001/edit";
    let (status, _, preview) = request(&url, "POST", path, &alice, Some(&body("&preview=1")));
    assert_eq!(status, 200, "{preview}");
    assert!(preview.contains("Preview (nothing is saved yet)") && preview.contains("fingerprint points"), "{preview}");
    assert!(preview.contains("The vulnerability is in"), "the author's text, markers resolved: {preview}");
    let list = || p.ok(&["advisory", "show", "ADV-2026-0001", "--output", "json"]);
    let before = list();
    assert_eq!(request(&url, "POST", path, &alice, Some(&body(""))).0, 400, "a note is required");
    assert_eq!(list(), before, "nothing saved");
    let (status, _, _) = request(&url, "POST", path, &alice, Some(&body("&note=Clarify+the+title")));
    assert_eq!(status, 303);
    let shown: serde_json::Value = serde_json::from_str(&list()).unwrap();
    assert_eq!(shown["advisory"]["current_revision"], 2, "{shown}");
    assert_eq!(shown["advisory"]["approved_revision"], 1, "partners keep revision 1 until approval");
    let attachments = shown["revision"]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "the PoC attachment is carried over: {shown}");
    let token = crate::server::token_of(&p, "kestrel-edr");
    let (_, copy) = crate::common::http(&url, "GET", "/api/v1/advisories/ADV-2026-0001", Some(&token));
    assert!(!copy.contains("(revised)"), "partners do not see the unapproved revision");
    let (_, _, page) = request(&url, "GET", "/console/advisories/ADV-2026-0001", &alice, None);
    assert!(page.contains("advisory.edit") && page.contains("Clarify the title"), "the history: {page}");
    assert!(sigterm(&mut child).success());
}

/// Times are shown in the viewer's zone once they pick one (program time until then), with UTC on hover; the
/// choice is a cookie set through a CSRF-checked form, and a zone that does not exist is refused.
#[test]
fn viewers_choose_the_time_zone_pages_are_shown_in() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let priya = format!("fw_session={}", sign_in(&url, "priya", &password_of(&p, "priya")).unwrap());
    let (_, _, page) = request(&url, "GET", "/console/advisories/ADV-2026-0002", &priya, None);
    assert!(page.contains("America/Los_Angeles") && page.contains(" PST"), "program time first");
    let csrf = hidden_csrf(&page);
    assert_eq!(request(&url, "POST", "/console/timezone", &priya, Some("csrf=forged&tz=Europe%2FBerlin")).0, 403);
    let (status, _, bad) =
        request(&url, "POST", "/console/timezone", &priya, Some(&format!("csrf={csrf}&tz=Mars%2FOlympus")));
    assert_eq!(status, 400);
    assert!(bad.contains("is not a time zone"), "{bad}");
    let (status, head, _) =
        request(&url, "POST", "/console/timezone", &priya, Some(&format!("csrf={csrf}&tz=Europe%2FBerlin")));
    assert_eq!(status, 303);
    let zone = set_cookie(&head, "fw_tz").unwrap();
    assert_eq!(zone, "Europe/Berlin");
    let cookies = format!("{priya}; fw_tz={zone}");
    let (_, _, berlin) = request(&url, "GET", "/console/advisories/ADV-2026-0002", &cookies, None);
    assert!(berlin.contains("Times in</dt><dd>Europe/Berlin") && berlin.contains(" CET"), "{berlin}");
    assert!(berlin.contains("T18:00:00Z"), "UTC stays on hover");
    let kestrel = crate::portal::sign_in_for_test(&url, &p, "kestrel-analyst");
    let (_, _, portal) = request(&url, "GET", "/portal", &format!("{kestrel}; fw_tz=Asia/Tokyo"), None);
    assert!(portal.contains("Times in Asia/Tokyo") && portal.contains(" JST"), "{portal}");
    assert!(sigterm(&mut child).success());
}

/// Approval states what a whole leaked copy says about its source: the approver sees the sentence on the pending
/// draft's page, and no demo advisory is below the program's default threshold.
#[test]
fn the_approval_form_states_the_fingerprint_and_no_demo_advisory_is_below_the_threshold() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let bob = format!("fw_session={}", sign_in(&url, "bob", &password_of(&p, "bob")).unwrap());
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let (status, _, page) = request(&url, "GET", &format!("/console/advisories/ADV-{year}-0006"), &bob, None);
    assert_eq!(status, 200, "{page}");
    let sentence = page
        .split("id=\"fingerprint-capacity\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_else(|| panic!("no fingerprint sentence on the approval form: {page}"));
    assert!(
        sentence.contains("A whole leaked copy carries about") && sentence.contains("names its source"),
        "{sentence}"
    );
    for n in 1..=7 {
        let id = format!("ADV-{year}-{n:04}");
        let out = p.ok(&["advisory", "fingerprint-capacity", &id, "--output", "json"]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["below_threshold"], false, "{id}: {report}");
        assert!(report["whole_copy_nats"].as_f64().unwrap() >= report["nats_needed"].as_f64().unwrap(), "{id}");
    }
    assert!(sigterm(&mut child).success());
}

/// "See it as a partner" shows embargoed sections: an auditor (who reads the history and the log, not content) is
/// refused, and the details of an unreleased advisory appear nowhere in the answer; roles whose work needs the
/// preview still get it.
#[test]
fn an_auditor_cannot_read_embargoed_content_through_the_partner_preview() {
    let p = Program::new();
    let (mut child, url, _) = start_demo(&p);
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let path = format!("/console/advisories/ADV-{year}-0002/as?partner=kestrel-edr");
    let shown: serde_json::Value =
        serde_json::from_str(&p.ok(&["advisory", "show", &format!("ADV-{year}-0002"), "--output", "json"])).unwrap();
    let details = shown["revision"]["sections"]["details"].as_str().unwrap();
    let secret: String = details.split(". ").nth(1).unwrap().chars().take(40).collect();
    let audrey = format!("fw_session={}", sign_in(&url, "audrey", &password_of(&p, "audrey")).unwrap());
    let (status, _, body) = request(&url, "GET", &path, &audrey, None);
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains(&secret), "the auditor's answer holds the embargoed details");
    let ivan = format!("fw_session={}", sign_in(&url, "ivan", &password_of(&p, "ivan")).unwrap());
    let (status, _, body) = request(&url, "GET", &path, &ivan, None);
    assert_eq!(status, 200, "an investigator compares copies: {body}");
    assert!(sigterm(&mut child).success());
}
