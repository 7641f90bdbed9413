//! Every command refuses bad input with exit code 2 and a one-line message that says what to do, and the database
//! is exactly as it was before (compared row by row).

use crate::common::{create_pg, drop_pg, write_file, Program};

const ADVISORY: &str = "+++\ntitle = \"Contoso Widget: overflow\"\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n+++\n\n# Summary\nSECRET-SUMMARY-TEXT\n\n# Details\nSECRET-DETAILS-TEXT\n";

async fn setup(p: &Program) {
    p.ok(&["init"]);
    p.ok(&["user", "add", "alice", "--roles", "author"]);
    p.ok(&["user", "add", "bob", "--roles", "approver"]);
    p.ok(&["user", "add", "audrey", "--roles", "auditor"]);
    p.ok(&["partner", "add", "--name", "Kestrel EDR", "--country", "US", "--tier", "validate"]);
    let file = write_file(p.dir.path(), "adv.md", ADVISORY);
    p.ok(&["--as", "alice", "advisory", "new", file.to_str().unwrap(), "--id", "ADV-2026-0001"]);
}

/// (arguments, a phrase the message must contain)
fn cases(p: &Program) -> Vec<(Vec<String>, &'static str)> {
    let dir = p.dir.path();
    let f = |name: &str, text: &str| write_file(dir, name, text).display().to_string();
    let bad_cvss = f("bad-cvss.md", "+++\ntitle = \"x\"\ncvss = \"CVSS:3.1/AV:N/AC:L\"\n+++\n# Summary\nSECRET-A\n");
    let bad_heading = f("bad-heading.md", "+++\ntitle = \"x\"\n+++\n# Summary\nSECRET-B\n# Exploit chain\nSECRET-C\n");
    let no_front = f("no-front.md", "# Summary\nSECRET-D\n");
    let latin1 = dir.join("latin1.md");
    std::fs::write(&latin1, b"+++\ntitle = \"caf\xe9\"\n+++\n# Summary\nx\n").unwrap();
    let latin1 = latin1.display().to_string();
    let policy = forewarn_policy::DEFAULT_POLICY;
    let bad_policy = f("bad-policy.toml", &policy.replace("poc = \"1 day\"", "poc = \"1 fortnight\""));
    let drops_tier = f("drops-tier.toml", &policy.replace("[tiers.validate]", "[tiers.validated]"));
    let good_policy = f("good-policy.toml", policy);
    let bad_markers = f("bad-markers.md", "+++\ntitle = \"x\"\n+++\n# Summary\nA {{SECRET-E|SECRET-F\n");
    let leak = f("leak.txt", "some leaked text");
    let empty = f("empty.txt", "");
    let junk = f("junk.json", "not a receipt");
    let vkey = forewarn_tlog::note::SignerKey::from_seed("log.example", [1; 32]).unwrap().verifier().to_text();
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    vec![
        (s(&["partner", "add", "--name", "Hanshan AV", "--country", "XX", "--tier", "entry"]), "country code"),
        (s(&["partner", "add", "--name", "Hanshan AV", "--country", "UK", "--tier", "entry"]), "country code"),
        (
            s(&["partner", "add", "--name", "kestrel  EDR", "--country", "US", "--tier", "entry", "--id", "k2"]),
            "already exists",
        ),
        (s(&["partner", "add", "--name", "Kestrel EDR", "--country", "US", "--tier", "entry"]), "already exists"),
        (s(&["partner", "add", "--name", "Hanshan AV", "--country", "CN", "--tier", "platinum"]), "no tier platinum"),
        (
            s(&[
                "partner",
                "add",
                "--name",
                "Hanshan AV",
                "--country",
                "CN",
                "--tier",
                "entry",
                "--agreement-expires",
                "next year",
            ]),
            "not a time",
        ),
        (
            s(&[
                "partner",
                "add",
                "--name",
                "Hanshan AV",
                "--country",
                "CN",
                "--tier",
                "entry",
                "--contact",
                "not-an-email",
            ]),
            "e-mail",
        ),
        (
            s(&["--as", "audrey", "partner", "add", "--name", "Hanshan AV", "--country", "CN", "--tier", "entry"]),
            "program-manager role",
        ),
        (
            s(&["--as", "nobody", "partner", "add", "--name", "Hanshan AV", "--country", "CN", "--tier", "entry"]),
            "no user nobody",
        ),
        (s(&["partner", "list", "--country", "ZZ"]), "country code"),
        (s(&["partner", "list", "--status", "sleeping"]), "partner status"),
        (s(&["partner", "show", "Not A Slug"]), "partner id"),
        (s(&["partner", "suspend", "no-such-partner", "--reason", "x"]), "does not exist"),
        (s(&["partner", "suspend", "kestrel-edr", "--reason", "  "]), "needs a reason"),
        (s(&["partner", "suspend", "kestrel-edr"]), "--reason"),
        (s(&["partner", "reinstate", "kestrel-edr"]), "already active"),
        (s(&["partner", "token-rotate", "kestrel-edr", "--overlap", "5 fortnights"]), "not a duration"),
        (s(&["--as", "alice", "advisory", "new", &bad_cvss]), "CVSS vector"),
        (s(&["--as", "alice", "advisory", "new", &bad_heading]), "unknown section heading"),
        (s(&["--as", "alice", "advisory", "new", &no_front]), "must start with a +++"),
        (s(&["--as", "alice", "advisory", "new", &latin1]), "not valid UTF-8"),
        (s(&["--as", "alice", "advisory", "new", "/nonexistent/adv.md"]), "cannot read"),
        (s(&["--as", "bob", "advisory", "new", &bad_cvss]), "CVSS vector"),
        (s(&["--as", "alice", "advisory", "approve", "ADV-2026-0001"]), "approver role"),
        (
            s(&["--as", "bob", "advisory", "schedule", "ADV-2026-0001", "--patch-tuesday", "next"]),
            "approve it before scheduling",
        ),
        (s(&["--as", "bob", "advisory", "schedule", "ADV-2026-0001", "--at", "2026-13-45"]), "not a time"),
        (s(&["--as", "bob", "advisory", "schedule", "ADV-2026-0001", "--patch-tuesday", "2027-13"]), "not a month"),
        (s(&["--as", "bob", "advisory", "schedule", "ADV-2026-0001"]), "--at TIME or --patch-tuesday"),
        (s(&["--as", "bob", "advisory", "withdraw", "ADV-2026-0099", "--reason", "dup"]), "does not exist"),
        (s(&["--as", "bob", "advisory", "withdraw", "ADV-2026-0001", "--reason", " "]), "reason is required"),
        (s(&["advisory", "show", "ADV/1"]), "advisory id"),
        (s(&["user", "add", "carol", "--roles", "root"]), "not a role"),
        (s(&["user", "add", "Carol", "--roles", "author"]), "user name"),
        (s(&["user", "add", "alice", "--roles", "author"]), "already exists"),
        (s(&["user", "disable", "admin"]), "cannot disable yourself"),
        (s(&["--as", "alice", "keys", "rotate"]), "admin role"),
        (s(&["history", "--limit", "0"]), "--limit"),
        (s(&["init"]), "already initialised"),
        (s(&["serve", "--listen", "nowhere"]), "listen address"),
        (s(&["policy", "check", &bad_policy]), "tier ans, poc"),
        (s(&["policy", "set", &bad_policy]), "is not a lead"),
        (s(&["policy", "set", &drops_tier]), "drops tier validate"),
        (s(&["--as", "audrey", "policy", "set", &good_policy]), "program-manager role"),
        (s(&["policy", "show", "--version", "7"]), "does not exist"),
        (s(&["policy", "explain", "--partner", "nobody-here", "--advisory", "ADV-2026-0001"]), "does not exist"),
        (
            s(&["policy", "explain", "--partner", "kestrel-edr", "--advisory", "ADV-2026-0001", "--at", "yesterday"]),
            "not a time",
        ),
        (s(&["policy", "diff", "active", "/nonexistent.toml"]), "cannot read"),
        (
            s(&["--as", "bob", "advisory", "delay", "ADV-2026-0001", "--to", "2099-01-01T00:00:00Z", "--reason", "x"]),
            "not scheduled",
        ),
        (s(&["--as", "bob", "advisory", "break-embargo", "ADV-2026-0001", "--reason", "x"]), "not scheduled"),
        (s(&["calendar", "patch-tuesday", "--count", "0"]), "--count"),
        (s(&["calendar", "patch-tuesday", "--timezone", "Mars/Base"]), "not a time zone"),
        (s(&["bench", "policy", "--partners", "0"]), "--partners"),
        (s(&["partner", "allow-ips", "kestrel-edr", "192.0.2.1/24"]), "host bits set"),
        (s(&["partner", "allow-ips", "kestrel-edr", "example.com"]), "not an address"),
        (s(&["partner", "token-rotate", "kestrel-edr", "--expires", "2020-01-01T00:00:00Z"]), "must be in the future"),
        // Fingerprinting and the log.
        (s(&["--as", "alice", "advisory", "new", &bad_markers]), "fingerprint alternatives: '{{' is not closed"),
        (s(&["trace", "--leak", "/nonexistent"]), "cannot read"),
        (s(&["trace", "--leak", &empty]), "is empty"),
        (s(&["trace", "--leak", &leak, "--error", "2"]), "--error"),
        (s(&["--as", "audrey", "trace", "--leak", &leak]), "investigator role"),
        (s(&["advisory", "fingerprint-capacity", "ADV-2026-0009"]), "does not exist"),
        (s(&["advisory", "fingerprint-capacity", "ADV-2026-0001", "--revision", "4"]), "has revisions 1 to 1"),
        (s(&["log", "verify-receipt", &junk, "--key", "x"]), "--key: malformed verifier key"),
        (s(&["log", "verify-receipt", &junk, "--key", &vkey]), "is not a receipt"),
        (s(&["log", "verify-receipt", "/nonexistent", "--key", &vkey]), "cannot read"),
        (s(&["--as", "audrey", "log", "verify"]), "the log has no key yet"),
        (s(&["log", "checkpoint"]), "no checkpoint yet"),
        (s(&["bench", "trace", "--partners", "1"]), "--partners"),
        (s(&["bench", "log", "--batch", "0"]), "--batch"),
    ]
}

async fn check_all(p: &Program) {
    setup(p).await;
    let before = p.dump().await;
    assert!(before.iter().any(|l| l.starts_with("partners:")), "the dump must see the data");
    for (args, phrase) in cases(p) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = p.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "forewarn {args:?} should exit 2; stderr: {stderr}");
        assert!(stderr.contains(phrase), "forewarn {args:?}: expected {phrase:?} in {stderr:?}");
        assert!(!stderr.contains("SECRET-"), "forewarn {args:?} echoed advisory text: {stderr}");
        if !phrase.starts_with("--") {
            assert_eq!(stderr.trim_end().lines().count(), 1, "forewarn {args:?}: one line expected, got {stderr:?}");
        }
        assert_eq!(p.dump().await, before, "forewarn {args:?} changed the database");
    }
    // The self-approval rule: alice holds both roles here, and still may not approve her own advisory.
    p.ok(&["user", "add", "carol", "--roles", "author,approver"]);
    let file = write_file(p.dir.path(), "own.md", ADVISORY);
    p.ok(&["--as", "carol", "advisory", "new", file.to_str().unwrap(), "--id", "ADV-2026-0002"]);
    let before = p.dump().await;
    let out = p.run(&["--as", "carol", "advisory", "approve", "ADV-2026-0002"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("approval must come from someone else"));
    assert_eq!(p.dump().await, before);
}

#[tokio::test]
async fn bad_input_is_refused_with_exit_2_and_changes_nothing_on_sqlite() {
    check_all(&Program::new()).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_exit_2_and_changes_nothing_on_postgres() {
    let Some((url, name)) = create_pg().await else {
        eprintln!("skipped: FOREWARN_TEST_POSTGRES_URL is not set");
        return;
    };
    let p = Program { dir: tempfile::tempdir().unwrap(), database_url: Some(url) };
    check_all(&p).await;
    drop_pg(&name).await;
}

#[test]
fn a_command_on_a_directory_that_was_never_initialised_says_what_to_do() {
    let p = Program::new();
    let out = p.run(&["partner", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `forewarn init"));
    assert!(!p.data_dir().exists(), "nothing may be created by a refused command");
}

/// A data directory names no database path of its own (unless one was given): a copy of it — a backup restored
/// elsewhere, a staging copy — opens the database inside the copy, and a change there leaves the original alone.
#[test]
fn a_copied_data_directory_uses_its_own_database() {
    let p = Program::new();
    p.ok(&["init"]);
    let config = std::fs::read_to_string(p.data_dir().join("forewarn.toml")).unwrap();
    assert!(!config.lines().any(|l| l.trim_start().starts_with("database_url")), "{config}");
    let copy = p.dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(p.data_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let in_copy = |args: &[&str]| {
        let mut c = std::process::Command::new(crate::common::BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("FOREWARN_")) {
            c.env_remove(k);
        }
        let out = c.arg("--data-dir").arg(&copy).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    in_copy(&["partner", "add", "--name", "Kestrel EDR", "--country", "US", "--tier", "validate"]);
    assert!(in_copy(&["partner", "list"]).contains("Kestrel EDR"));
    assert!(!p.ok(&["partner", "list"]).contains("Kestrel EDR"), "the original directory's database is untouched");
}
