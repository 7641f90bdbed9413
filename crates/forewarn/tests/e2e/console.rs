//! The web console's first slice through the real server: sign-in with CSRF-bound forms and secure cookies,
//! the dashboard, sign-out; anonymous users sent to sign in; the CSP on every page; advisory text shown as text.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{write_file, Program};
use crate::server::{sigterm, start_demo};

/// A raw request with cookies and an optional form body; returns (status, headers, body).
fn request(base: &str, method: &str, path: &str, cookies: &str, form: Option<&str>) -> (u16, String, String) {
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
fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_owned()))
}

fn hidden_csrf(body: &str) -> String {
    body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

fn password_of(p: &Program, user: &str) -> String {
    let creds = std::fs::read_to_string(p.data_dir().join("demo-credentials.txt")).unwrap();
    let line = creds.lines().find(|l| l.split_whitespace().next() == Some(user)).unwrap();
    line.split_whitespace().nth(1).unwrap().to_owned()
}

/// Signs in; returns the session cookie.
fn sign_in(url: &str, user: &str, password: &str) -> Result<String, (u16, String)> {
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
