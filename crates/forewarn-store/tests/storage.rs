//! The storage suite. Every test runs on SQLite, and on PostgreSQL as well when `FOREWARN_TEST_POSTGRES_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): each test then gets a database of its own,
//! created for it and dropped after. `.ci/run` sets the variable; the same test bodies run unchanged on both.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use forewarn_core::{
    hex, AdvisoryFlag, AdvisoryId, AdvisoryState, Attachment, Cvss, CweId, LifecycleError, PartnerId, PartnerStatus,
    Product, RevisionMeta, Roles, SectionKind, Sections, TierName, Username,
};
use forewarn_store::advisories::{self, Content};
use forewarn_store::audit::{self, Actor};
use forewarn_store::error_kind::ConstraintKind;
use forewarn_store::partners::{self, NewPartner, PartnerFilter};
use forewarn_store::{credentials, tiers, users, Backend, MasterKey, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use sqlx::{Executor, Row};

struct TestDb {
    store: Store,
    /// Keeps the SQLite directory alive.
    dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (admin URL, database name) to drop afterwards.
    pg: Option<(String, String)>,
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = forewarn_store::sqlite_url(&dir.path().join("forewarn.db"));
        Self::ready(Store::connect(&url).await.unwrap(), Some(dir), None).await
    }

    async fn postgres(admin_url: &str) -> Self {
        let name = format!("fw_test_{}", hex(&rand_bytes()));
        let admin = Store::connect(admin_url).await.unwrap();
        admin.conn().await.unwrap().execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let store = Store::connect(&format!("{base}/{name}")).await.unwrap();
        Self::ready(store, None, Some((admin_url.to_owned(), name))).await
    }

    async fn ready(store: Store, dir: Option<tempfile::TempDir>, pg: Option<(String, String)>) -> Self {
        store.migrate().await.unwrap();
        // Migrations are idempotent.
        store.migrate().await.unwrap();
        let store = store.with_master_key(MasterKey::generate().unwrap());
        let mut tx = store.begin().await.unwrap();
        for name in ["validate", "ans", "entry"] {
            tiers::insert(&mut tx, &TierName::parse(name).unwrap(), name, now()).await.unwrap();
        }
        for u in ["alice", "bob"] {
            users::insert(&mut tx, &user(u), u, Roles::parse("author,approver").unwrap(), "$argon2id$x", now())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        Self { store, dir, pg }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.pg {
            let admin = Store::connect(&admin_url).await.unwrap();
            admin.conn().await.unwrap().execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
            admin.close().await;
        }
        drop(self.dir);
    }
}

/// The first column of the one row `sql` gives.
async fn scalar<T>(c: &mut sqlx::AnyConnection, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    sqlx::query(sql).fetch_one(c).await.unwrap().try_get(0).unwrap()
}

fn rand_bytes() -> [u8; 6] {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b
}

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn user(s: &str) -> Username {
    Username::parse(s).unwrap()
}

/// Runs one test body on SQLite, then on PostgreSQL when configured.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn on_sqlite_and_postgres() {
                let db = super::TestDb::sqlite().await;
                super::$name(&db).await;
                db.finish().await;
                match std::env::var("FOREWARN_TEST_POSTGRES_URL") {
                    Ok(url) if !url.is_empty() => {
                        let db = super::TestDb::postgres(&url).await;
                        assert_eq!(db.store.backend(), super::Backend::Postgres);
                        super::$name(&db).await;
                        db.finish().await;
                    }
                    _ => eprintln!(
                        "{}: PostgreSQL part skipped (FOREWARN_TEST_POSTGRES_URL is not set)",
                        stringify!($name)
                    ),
                }
            }
        }
    };
}

fn kestrel() -> NewPartner {
    NewPartner::new("Kestrel EDR", None, "us", "validate", &["psirt@kestrel.example".into()], &[]).unwrap()
}

fn content(marker: &str) -> Content {
    let mut sections = Sections::new();
    sections.set(SectionKind::Summary, &format!("A flaw in the parser. {marker}-summary")).unwrap();
    sections.set(SectionKind::Details, &format!("Root cause: {marker}-details")).unwrap();
    sections.set(SectionKind::Poc, &format!("```python\nprint('{marker}-poc')\n```")).unwrap();
    Content {
        meta: RevisionMeta {
            title: format!("Contoso Mail Gateway: heap overflow {marker}-title"),
            products: vec![Product::new("Contoso Mail Gateway", vec!["16.0 through 16.2.4".into()]).unwrap()],
            cvss: Some(Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
            cwe: Some(CweId::parse("CWE-787").unwrap()),
            cves: vec![forewarn_core::CveId::parse("CVE-2026-41021").unwrap()],
            flags: vec![AdvisoryFlag::HighLeakRisk],
            marking: 2,
        }
        .validated()
        .unwrap(),
        sections,
        attachments: vec![Attachment::new("trigger.py", format!("# {marker}-attachment\n").into_bytes()).unwrap()],
    }
}

async fn create_advisory(db: &TestDb, marker: &str) -> AdvisoryId {
    let mut tx = db.store.begin().await.unwrap();
    let a = advisories::create(&mut tx, db.store.master_key().unwrap(), None, &content(marker), &user("alice"), now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    a.id
}

on_both!(partners_create_read_update_and_refuse_duplicates);
async fn partners_create_read_update_and_refuse_duplicates(db: &TestDb) {
    let store = &db.store;
    let mut c = store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    assert_eq!(p.id.as_str(), "kestrel-edr");
    assert_eq!(partners::get(&mut c, &p.id).await.unwrap(), p);

    // The same id, or the same name written differently, is a duplicate; nothing is written.
    assert!(matches!(partners::insert(&mut c, &kestrel(), now()).await, Err(StoreError::Duplicate { .. })));
    let renamed = NewPartner::new("KESTREL  edr", Some("kestrel-2"), "US", "entry", &[], &[]).unwrap();
    let err = partners::insert(&mut c, &renamed, now()).await.unwrap_err();
    assert!(err.to_string().contains("already exists as kestrel-edr"), "{err}");
    let bad_tier = NewPartner::new("Hanshan Antivirus", None, "CN", "platinum", &[], &[]).unwrap();
    let err = partners::insert(&mut c, &bad_tier, now()).await.unwrap_err();
    assert!(err.to_string().contains("there is no tier platinum"), "{err}");
    assert_eq!(partners::list(&mut c, &PartnerFilter::default()).await.unwrap().len(), 1);

    let cn = NewPartner::new("Hanshan Antivirus", None, "CN", "entry", &[], &["probation".into()]).unwrap();
    partners::insert(&mut c, &cn, now()).await.unwrap();
    let filter =
        PartnerFilter { country: Some(forewarn_core::CountryCode::parse("CN").unwrap()), ..Default::default() };
    let listed = partners::list(&mut c, &filter).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].flags.contains("probation"));

    let mut updated = partners::get(&mut c, &p.id).await.unwrap();
    updated.tier = TierName::parse("ans").unwrap();
    updated.agreement_expires_at = Some("2027-06-30T00:00:00Z".parse().unwrap());
    partners::update(&mut c, &updated, now()).await.unwrap();
    assert_eq!(partners::get(&mut c, &p.id).await.unwrap(), updated);
}

on_both!(partner_status_and_tokens);
async fn partner_status_and_tokens(db: &TestDb) {
    let mut c = db.store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let t1 = partners::issue(&mut c, &p.id, "initial", None, now()).await.unwrap();
    assert_eq!(partners::authenticate(&mut c, &t1.text, now()).await.unwrap().unwrap().id, p.id);
    assert!(partners::authenticate(&mut c, "fw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now())
        .await
        .unwrap()
        .is_none());

    // Rotation with an overlap: both work until the overlap ends, then only the new one.
    let t2 = partners::rotate(&mut c, &p.id, SignedDuration::from_hours(24), None, now()).await.unwrap();
    assert!(partners::authenticate(&mut c, &t1.text, now()).await.unwrap().is_some());
    let later = now() + SignedDuration::from_hours(25);
    assert!(partners::authenticate(&mut c, &t1.text, later).await.unwrap().is_none());
    assert!(partners::authenticate(&mut c, &t2.text, later).await.unwrap().is_some());

    // Suspension is visible at once through the token; revocation kills the tokens.
    let s = partners::set_status(&mut c, &p.id, PartnerStatus::Suspended, Some("investigation"), now()).await.unwrap();
    assert_eq!(s.status, PartnerStatus::Suspended);
    let seen = partners::authenticate(&mut c, &t2.text, now()).await.unwrap().unwrap();
    assert_eq!(seen.status, PartnerStatus::Suspended);
    assert!(matches!(
        partners::set_status(&mut c, &p.id, PartnerStatus::Revoked, None, now()).await,
        Err(StoreError::Status(_))
    ));
    partners::set_status(&mut c, &p.id, PartnerStatus::Revoked, Some("expelled"), now()).await.unwrap();
    let seen = partners::authenticate(&mut c, &t2.text, now()).await.unwrap().unwrap();
    assert_eq!(seen.status, PartnerStatus::Revoked, "the caller learns it is revoked (403), not anonymous");
    assert_eq!(partners::revoke_tokens(&mut c, &p.id, now()).await.unwrap(), 2);
    assert!(partners::authenticate(&mut c, &t2.text, now()).await.unwrap().is_none());
    assert!(matches!(partners::issue(&mut c, &p.id, "x", None, now()).await, Err(StoreError::Refused(_))));
}

on_both!(users_and_logins);
async fn users_and_logins(db: &TestDb) {
    let mut c = db.store.conn().await.unwrap();
    let pw = credentials::generate_password().unwrap();
    let hash = credentials::hash_password(&pw).unwrap();
    let u =
        users::insert(&mut c, &user("carol"), "Carol", Roles::parse("auditor").unwrap(), &hash, now()).await.unwrap();
    assert_eq!(users::get(&mut c, &u.username).await.unwrap(), u);
    assert!(matches!(
        users::insert(&mut c, &user("carol"), "Carol", Roles::parse("auditor").unwrap(), &hash, now()).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(users::verify_login(&mut c, "carol", &pw).await.unwrap().unwrap().username, u.username);
    assert!(users::verify_login(&mut c, "carol", "wrong").await.unwrap().is_none());
    assert!(users::verify_login(&mut c, "nobody", &pw).await.unwrap().is_none());
    users::disable(&mut c, &u.username, now()).await.unwrap();
    assert!(users::verify_login(&mut c, "carol", &pw).await.unwrap().is_none());
    assert_eq!(users::list(&mut c).await.unwrap().len(), 3);
}

on_both!(advisory_content_round_trips_through_encryption);
async fn advisory_content_round_trips_through_encryption(db: &TestDb) {
    let key = db.store.master_key().unwrap();
    let id = create_advisory(db, "m1").await;
    assert_eq!(id.as_str(), "ADV-2026-0001");
    assert_eq!(create_advisory(db, "m2").await.as_str(), "ADV-2026-0002");
    let mut c = db.store.conn().await.unwrap();
    let rev = advisories::revision(&mut c, key, &id, 1).await.unwrap();
    assert_eq!(rev.content, content("m1"));
    assert_eq!(rev.author, user("alice"));

    // A second revision; the first stays readable and unchanged.
    let mut tx = db.store.begin().await.unwrap();
    let a = advisories::revise(&mut tx, key, &id, &content("m3"), &user("bob"), "typo", now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(a.current_revision, 2);
    assert_eq!(advisories::revision(&mut c, key, &id, 2).await.unwrap().content, content("m3"));
    assert_eq!(advisories::revision(&mut c, key, &id, 1).await.unwrap().content, content("m1"));
    assert!(matches!(advisories::revision(&mut c, key, &id, 3).await, Err(StoreError::NotFound { .. })));

    // Another key cannot open it, and says so.
    let other = MasterKey::generate().unwrap();
    let err = advisories::revision(&mut c, &other, &id, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto(forewarn_store::CryptoError::WrongMasterKey { .. })), "{err}");
}

on_both!(advisory_lifecycle_is_enforced_and_persisted);
async fn advisory_lifecycle_is_enforced_and_persisted(db: &TestDb) {
    let id = create_advisory(db, "m").await;
    let mut c = db.store.conn().await.unwrap();
    let err = advisories::approve(&mut c, &id, &user("alice"), now()).await.unwrap_err();
    assert!(matches!(err, StoreError::Lifecycle(LifecycleError::OwnRevision { .. })), "{err}");
    assert_eq!(advisories::get(&mut c, &id).await.unwrap().state, AdvisoryState::Draft);
    let a = advisories::approve(&mut c, &id, &user("bob"), now()).await.unwrap();
    assert_eq!(a.state, AdvisoryState::Approved);
    let mut a = advisories::get(&mut c, &id).await.unwrap();
    a.schedule("2026-12-08T18:00:00Z".parse().unwrap(), None, now()).unwrap();
    advisories::save_lifecycle(&mut c, &a).await.unwrap();
    assert_eq!(advisories::get(&mut c, &id).await.unwrap(), a);
    let rev = advisories::revision(&mut c, db.store.master_key().unwrap(), &id, 1).await.unwrap();
    assert_eq!(rev.approved_by, Some(user("bob")));
}

on_both!(transactions_commit_or_leave_nothing);
async fn transactions_commit_or_leave_nothing(db: &TestDb) {
    {
        let mut tx = db.store.begin().await.unwrap();
        partners::insert(&mut tx, &kestrel(), now()).await.unwrap();
        audit::record(
            &mut tx,
            now(),
            &Actor::System("test"),
            "partner.add",
            "kestrel-edr",
            None,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        // Dropped without commit: rolled back.
    }
    let mut c = db.store.conn().await.unwrap();
    assert!(partners::find(&mut c, &PartnerId::parse("kestrel-edr").unwrap()).await.unwrap().is_none());
    assert!(audit::list(&mut c, None, 10).await.unwrap().is_empty());
    drop(c);

    let mut tx = db.store.begin().await.unwrap();
    partners::insert(&mut tx, &kestrel(), now()).await.unwrap();
    audit::record(
        &mut tx,
        now(),
        &Actor::Staff("alice".into()),
        "partner.add",
        "kestrel-edr",
        Some("onboarding"),
        serde_json::json!({"tier": "validate"}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.store.conn().await.unwrap();
    let events = audit::list(&mut c, Some("kestrel-edr"), 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "staff:alice");
    assert_eq!(events[0].reason.as_deref(), Some("onboarding"));
    assert_eq!(events[0].detail["tier"], "validate");
}

on_both!(constraint_violations_are_typed_errors);
async fn constraint_violations_are_typed_errors(db: &TestDb) {
    let mut c = db.store.conn().await.unwrap();
    let fk = sqlx::query("INSERT INTO partner_tokens (id, partner_id, secret_hash, label, created_at) VALUES ('aaaaaaaaaaaa', 'nobody', $1, 'x', 0)")
        .bind(vec![0u8; 32])
        .execute(&mut *c)
        .await
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(matches!(fk, StoreError::Constraint { kind: ConstraintKind::ForeignKey, .. }), "{fk}");
    partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let check = sqlx::query("UPDATE partners SET status = 'deleted' WHERE id = 'kestrel-edr'")
        .execute(&mut *c)
        .await
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(matches!(check, StoreError::Constraint { kind: ConstraintKind::Check, .. }), "{check}");
    let unique = sqlx::query("INSERT INTO tiers (name, description, created_at) VALUES ('entry', 'again', 0)")
        .execute(&mut *c)
        .await
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(matches!(unique, StoreError::Constraint { kind: ConstraintKind::Unique, .. }), "{unique}");
    let notnull = sqlx::query("INSERT INTO tiers (name, description, created_at) VALUES ('x', NULL, 0)")
        .execute(&mut *c)
        .await
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(matches!(notnull, StoreError::Constraint { kind: ConstraintKind::NotNull, .. }), "{notnull}");

    // The history is append-only.
    audit::record(&mut c, now(), &Actor::System("test"), "x", "y", None, serde_json::json!({})).await.unwrap();
    assert!(sqlx::query("UPDATE audit_events SET actor = 'someone else'").execute(&mut *c).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_events").execute(&mut *c).await.is_err());
    assert_eq!(audit::list(&mut c, None, 10).await.unwrap()[0].actor, "system:test");
}

/// Every byte the database holds, as text: the raw files for SQLite, every row of every table for PostgreSQL.
async fn database_contents(db: &TestDb) -> Vec<u8> {
    match db.store.backend() {
        Backend::Sqlite => {
            let mut c = db.store.conn().await.unwrap();
            // Leave the WAL in place (no checkpoint needed): both files are read.
            sqlx::query("SELECT 1").execute(&mut *c).await.unwrap();
            let dir = db.dir.as_ref().unwrap().path();
            let mut all = Vec::new();
            for entry in std::fs::read_dir(dir).unwrap() {
                all.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            all
        }
        Backend::Postgres => {
            let mut c = db.store.conn().await.unwrap();
            let tables = sqlx::query(
                "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut *c)
            .await
            .unwrap();
            let mut all = Vec::new();
            for t in tables {
                let name: String = t.try_get("t").unwrap();
                let rows = sqlx::query(&format!("SELECT CAST(row_to_json(x) AS TEXT) AS j FROM {name} x"))
                    .fetch_all(&mut *c)
                    .await
                    .unwrap();
                for r in rows {
                    all.extend(r.try_get::<String, _>("j").unwrap().into_bytes());
                }
            }
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

on_both!(no_plaintext_content_or_credentials_in_the_database);
async fn no_plaintext_content_or_credentials_in_the_database(db: &TestDb) {
    let marker = format!("MARKER{}", hex(&rand_bytes()));
    create_advisory(db, &marker).await;
    let mut c = db.store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let token = partners::issue(&mut c, &p.id, "t", None, now()).await.unwrap();
    let password = credentials::generate_password().unwrap();
    let hash = credentials::hash_password(&password).unwrap();
    users::insert(&mut c, &user("dave"), "Dave", Roles::parse("author").unwrap(), &hash, now()).await.unwrap();
    // The fingerprinting key and the log's signing key are program secrets: sealed, never in clear.
    let fingerprint =
        forewarn_store::program_keys::secret_bytes(&mut c, db.store.master_key().unwrap(), "fingerprinting", now())
            .await
            .unwrap();
    let log_key = forewarn_store::log::signer(&mut c, &db.store, "log.test", now()).await.unwrap().to_text();
    drop(c);

    let raw = database_contents(db).await;
    assert!(contains(&raw, b"kestrel-edr"), "the scan must see the data it is looking through");
    // fw_<hex id>_<secret>: the secret is base64url and may itself contain '_'.
    let secret = token.text.splitn(3, '_').nth(2).unwrap().to_owned();
    assert!(secret.len() >= 40, "{secret}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(fingerprint);
    // PRIVATE+KEY+<name>+<key id>+<base64>: the base64 may itself hold '+'.
    let log_secret = log_key.splitn(5, '+').nth(4).unwrap().to_owned();
    assert!(log_secret.len() >= 44, "{log_secret}");
    for needle in [
        marker.clone(),
        hex(marker.as_bytes()),
        secret.clone(),
        hex(secret.as_bytes()),
        password.to_string(),
        b64.clone(),
        hex(&fingerprint),
        log_secret.clone(),
    ] {
        assert!(!contains(&raw, needle.as_bytes()), "found {needle} in the database");
    }
    assert!(!contains(&raw, &fingerprint), "the raw fingerprinting key is in the database");
    // The title and product are sealed too.
    assert!(!contains(&raw, b"heap overflow"));
    assert!(!contains(&raw, b"Contoso Mail Gateway"));
}

on_both!(key_rotation_rewraps_every_data_key);
async fn key_rotation_rewraps_every_data_key(db: &TestDb) {
    let old = db.store.master_key().unwrap();
    let a = create_advisory(db, "r1").await;
    let b = create_advisory(db, "r2").await;
    let new = MasterKey::generate().unwrap();
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(advisories::rewrap_all(&mut tx, old, &new).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut c = db.store.conn().await.unwrap();
    assert_eq!(advisories::key_ids(&mut c).await.unwrap(), vec![(new.id().to_owned(), 2)]);
    for (id, m) in [(a, "r1"), (b, "r2")] {
        assert_eq!(advisories::revision(&mut c, &new, &id, 1).await.unwrap().content, content(m));
        assert!(advisories::revision(&mut c, old, &id, 1).await.is_err());
    }
}

on_both!(policies_are_versioned_and_tiers_follow_them);
async fn policies_are_versioned_and_tiers_follow_them(db: &TestDb) {
    use forewarn_store::policies;
    let mut c = db.store.conn().await.unwrap();
    assert!(matches!(policies::active(&mut c).await, Err(StoreError::Refused(_))));
    let v1 = policies::insert(&mut c, "[tiers.a]\n", "staff:alice", "first", now()).await.unwrap();
    let v2 = policies::insert(&mut c, "[tiers.b]\n", "staff:bob", "second", now()).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(policies::active(&mut c).await.unwrap(), v2);
    assert_eq!(policies::get(&mut c, 1).await.unwrap(), v1);
    assert_eq!(policies::history(&mut c).await.unwrap().len(), 2);
    assert!(sqlx::query("UPDATE policies SET body = 'x'").execute(&mut *c).await.is_err(), "history is append-only");
    assert!(sqlx::query("DELETE FROM policies").execute(&mut *c).await.is_err(), "history is append-only");

    // Tiers follow the policy; a tier with partners cannot be dropped.
    partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let t = |n: &str| (TierName::parse(n).unwrap(), format!("{n} tier"));
    let err = tiers::sync(&mut c, &[t("ans"), t("entry")], now()).await.unwrap_err();
    assert!(err.to_string().contains("drops tier validate") && err.to_string().contains("kestrel-edr"), "{err}");
    tiers::sync(&mut c, &[t("validate"), t("gold")], now()).await.unwrap();
    let names: Vec<String> = tiers::list(&mut c).await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, vec!["gold", "validate"]);
}

on_both!(webhook_events_are_enqueued_once_and_claimed_once);
async fn webhook_events_are_enqueued_once_and_claimed_once(db: &TestDb) {
    use forewarn_store::webhooks::{self, Attempt, Event};
    let id = create_advisory(db, "w").await;
    let mut c = db.store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let key = db.store.master_key().unwrap();
    webhooks::set_endpoint(&mut c, key, &p.id, "http://hooks.example/x", "whsec_c2VjcmV0", now()).await.unwrap();
    assert_eq!(
        webhooks::endpoint(&mut c, key, p.id.as_str()).await.unwrap().unwrap().secret.as_str(),
        "whsec_c2VjcmV0"
    );
    let e = Event {
        id: "msg_1".into(),
        partner_id: p.id.to_string(),
        advisory_id: id.to_string(),
        event_type: "advisory.available".into(),
        payload: "{}".into(),
        attempts: 0,
        created_at: now(),
    };
    assert!(webhooks::enqueue(&mut c, &e, now()).await.unwrap());
    assert!(!webhooks::enqueue(&mut c, &e, now()).await.unwrap(), "the same announcement is stored once");
    let hold = SignedDuration::from_secs(60);
    let first = webhooks::claim_due(&mut c, now(), hold, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(webhooks::claim_due(&mut c, now(), hold, 10).await.unwrap().is_empty(), "claimed by one sender only");
    // An unsettled claim expires and the event is tried again with the same id.
    let later = now() + SignedDuration::from_secs(61);
    let again = webhooks::claim_due(&mut c, later, hold, 10).await.unwrap();
    assert_eq!((again.len(), again[0].id.as_str(), again[0].attempts), (1, "msg_1", 2));
    let attempt = Attempt { at: later, status_code: Some(204), error: None, duration_ms: 3 };
    webhooks::settle(&mut c, &again[0], &attempt, None).await.unwrap();
    assert!(webhooks::claim_due(&mut c, later + hold + hold, hold, 10).await.unwrap().is_empty());
    let log = webhooks::log(&mut c, p.id.as_str(), 10).await.unwrap();
    assert_eq!((log[0].state.as_str(), log[0].status_code), ("delivered", Some(204)));
}

on_both!(every_change_that_decides_visibility_moves_the_catalogue_counter);
async fn every_change_that_decides_visibility_moves_the_catalogue_counter(db: &TestDb) {
    use forewarn_store::{catalogue, policies};
    let mut c = db.store.conn().await.unwrap();
    let mut last = catalogue::version(&mut c).await.unwrap();
    let mut moved = |c: i64, what: &str| {
        assert!(c > last, "{what} did not move the catalogue counter");
        last = c;
    };
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "adding a partner");
    partners::issue(&mut c, &p.id, "t", None, now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "issuing a token");
    partners::set_status(&mut c, &p.id, PartnerStatus::Suspended, Some("x"), now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "suspending");
    partners::revoke_tokens(&mut c, &p.id, now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "revoking tokens");
    drop(c);
    let id = create_advisory(db, "c").await;
    let mut c = db.store.conn().await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "creating an advisory");
    advisories::approve(&mut c, &id, &user("bob"), now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "approving");
    policies::insert(&mut c, "[tiers.a]\n", "staff:x", "", now()).await.unwrap();
    moved(catalogue::version(&mut c).await.unwrap(), "setting a policy");
    // A delivery record or a history event is not a change of visibility.
    audit::record(&mut c, now(), &Actor::System("test"), "x", "y", None, serde_json::json!({})).await.unwrap();
    assert_eq!(catalogue::version(&mut c).await.unwrap(), last);
    let snap = catalogue::load(&mut c).await.unwrap();
    assert_eq!((snap.version, snap.partners.len(), snap.tokens.len(), snap.advisories.len()), (last, 1, 1, 1));
    assert!(snap.policy.is_some());
}

on_both!(delivery_records_are_written_in_batches_and_read_back_exactly);
async fn delivery_records_are_written_in_batches_and_read_back_exactly(db: &TestDb) {
    use forewarn_store::catalogue;
    use forewarn_store::deliveries::{self, Channel, NewDelivery};
    let id = create_advisory(db, "d").await;
    let mut c = db.store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let version = catalogue::version(&mut c).await.unwrap();
    drop(c);
    // More rows than one statement holds, so the batch spans several statements; each row distinct.
    let t0 = now();
    let digests: Vec<String> = (0..300).map(|i| format!("{i:064x}")).collect();
    let kinds = [SectionKind::Summary, SectionKind::Details];
    let rows: Vec<NewDelivery<'_>> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| NewDelivery {
            at: t0 + SignedDuration::from_millis(i as i64),
            partner: &p.id,
            advisory: &id,
            revision: 1 + (i % 3) as u32,
            sections: &kinds[..1 + i % 2],
            channel: if i % 2 == 0 { Channel::Csaf } else { Channel::Api },
            digest: d,
            codeword: None,
        })
        .collect();
    let mut tx = db.store.begin().await.unwrap();
    deliveries::record_all(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = db.store.conn().await.unwrap();
    let back = deliveries::list(&mut c, Some(p.id.as_str()), None, 1000).await.unwrap();
    assert_eq!(back.len(), 300);
    for (i, d) in back.iter().rev().enumerate() {
        assert_eq!(d.digest, digests[i], "row {i} out of order");
        assert_eq!(d.revision, 1 + (i % 3) as u32);
        assert_eq!(d.sections.len(), 1 + i % 2);
        assert_eq!(d.channel, if i % 2 == 0 { "csaf" } else { "api" });
        assert_eq!(d.at, rows[i].at);
    }
    // Delivery records are not changes of visibility.
    assert_eq!(catalogue::version(&mut c).await.unwrap(), version);
    // Filtered by advisory (its own index), by both, and by neither, the same records.
    let other = create_advisory(db, "e").await;
    assert_eq!(deliveries::list(&mut c, None, Some(id.as_str()), 1000).await.unwrap(), back);
    assert_eq!(deliveries::list(&mut c, Some(p.id.as_str()), Some(id.as_str()), 1000).await.unwrap(), back);
    assert!(deliveries::list(&mut c, None, Some(other.as_str()), 1000).await.unwrap().is_empty());
    assert_eq!(deliveries::list(&mut c, None, None, 5).await.unwrap(), back[..5]);
    // A record from before the transparency log (no event; listed by migration 0012) comes after the events.
    let legacy: i64 = sqlx::query(
        "INSERT INTO deliveries (at, partner_id, advisory_id, revision, sections, channel, digest) \
         VALUES (0, $1, $2, 1, 'summary', 'api', 'legacy') RETURNING seq",
    )
    .bind(p.id.as_str())
    .bind(id.as_str())
    .fetch_one(&mut *c)
    .await
    .unwrap()
    .try_get("seq")
    .unwrap();
    sqlx::query("INSERT INTO deliveries_without_event (seq) VALUES ($1)").bind(legacy).execute(&mut *c).await.unwrap();
    let all = deliveries::list(&mut c, Some(p.id.as_str()), Some(id.as_str()), 1000).await.unwrap();
    assert_eq!(all.len(), 301);
    assert_eq!(all[..300], back[..]);
    assert_eq!((all[300].seq, all[300].digest.as_str(), all[300].channel.as_str()), (legacy, "legacy", "api"));
    assert_eq!(deliveries::list(&mut c, None, None, 300).await.unwrap(), back, "the limit counts both");
    assert!(deliveries::list(&mut c, None, Some(other.as_str()), 1000).await.unwrap().is_empty());
    // Each record is a log event, in the form release builds have always written (its commitment covers these bytes).
    let body: String = scalar(&mut c, "SELECT body FROM log_events WHERE kind = 'delivery' ORDER BY seq LIMIT 1").await;
    assert_eq!(
        body,
        format!(
            r#"{{"advisory":"{id}","at":"{}","channel":"csaf","codeword":null,"partner":"{}","revision":1,"sections":["summary"],"sha256":"{}","type":"delivery"}}"#,
            rows[0].at, p.id, digests[0]
        )
    );
}

on_both!(conditional_records_commit_only_on_the_current_catalogue_and_the_log_integrates_them);
/// The recorder's commit (`deliveries::record_if_current`): written only while the catalogue is at the version the
/// copies were decided on, nothing at all otherwise; a failed batch leaves nothing and the next one succeeds; the
/// sequencer integrates what this process committed (from memory) and what others wrote (from the database) into a
/// log that verifies.
async fn conditional_records_commit_only_on_the_current_catalogue_and_the_log_integrates_them(db: &TestDb) {
    use forewarn_store::catalogue;
    use forewarn_store::deliveries::{self, Channel, NewDelivery};
    use forewarn_store::log;
    let id = create_advisory(db, "c").await;
    let mut c = db.store.conn().await.unwrap();
    let p = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let signer = log::signer(&mut c, &db.store, "log.forewarn.test", now()).await.unwrap();
    let version = catalogue::version(&mut c).await.unwrap();
    drop(c);
    let kinds = [SectionKind::Summary];
    let digests: Vec<String> = (0..400).map(|i| format!("{i:064x}")).collect();
    let batch = |range: std::ops::Range<usize>| -> Vec<NewDelivery<'_>> {
        digests[range]
            .iter()
            .map(|d| NewDelivery {
                at: now(),
                partner: &p.id,
                advisory: &id,
                revision: 1,
                sections: &kinds,
                channel: Channel::Csaf,
                digest: d,
                codeword: None,
            })
            .collect()
    };
    let count = |db: &TestDb| {
        let store = db.store.clone();
        async move {
            let mut c = store.conn().await.unwrap();
            let n: i64 = scalar(&mut c, "SELECT COUNT(*) FROM log_events WHERE kind = 'delivery'").await;
            let next: i64 = scalar(&mut c, "SELECT next FROM log_state WHERE id = 1").await;
            (n, next)
        }
    };
    let (_, next0) = count(db).await;
    // More rows than one statement holds.
    assert_eq!(deliveries::record_if_current(&db.store, version, &batch(0..300)).await.unwrap(), version);
    assert_eq!(count(db).await, (300, next0 + 300));
    // An event another writer appends, which the sequencer has to read from the database.
    let mut tx = db.store.begin().await.unwrap();
    let other = log::NewEvent { at: now(), kind: "test", partner: None, advisory: None, body: "{}".into() };
    log::append(&mut tx, &[other]).await.unwrap();
    tx.commit().await.unwrap();
    // Decided on an older catalogue: nothing written, and the current version said.
    assert_eq!(deliveries::record_if_current(&db.store, version - 1, &batch(300..310)).await.unwrap(), version);
    assert_eq!(count(db).await, (300, next0 + 301));
    // The catalogue moves (a partner is added): copies decided before are not recorded.
    let mut c = db.store.conn().await.unwrap();
    partners::insert(&mut c, &NewPartner::new("Hanshan", None, "cn", "entry", &[], &[]).unwrap(), now()).await.unwrap();
    let moved = catalogue::version(&mut c).await.unwrap();
    drop(c);
    assert!(moved > version);
    assert_eq!(deliveries::record_if_current(&db.store, version, &batch(310..320)).await.unwrap(), moved);
    assert_eq!(count(db).await, (300, next0 + 301));
    // A batch that fails (its leaf indices collide with stored ones) leaves nothing, and the writer goes on.
    let mut c = db.store.conn().await.unwrap();
    sqlx::query("UPDATE log_state SET next = next - 1 WHERE id = 1").execute(&mut *c).await.unwrap();
    assert!(deliveries::record_if_current(&db.store, moved, &batch(320..330)).await.is_err());
    sqlx::query("UPDATE log_state SET next = next + 1 WHERE id = 1").execute(&mut *c).await.unwrap();
    drop(c);
    assert_eq!(count(db).await, (300, next0 + 301));
    assert_eq!(deliveries::record_if_current(&db.store, moved, &batch(330..400)).await.unwrap(), moved);
    assert_eq!(count(db).await, (370, next0 + 371));
    let mut tx = db.store.begin().await.unwrap();
    log::append(
        &mut tx,
        &[log::NewEvent { at: now(), kind: "test", partner: None, advisory: None, body: "{}".into() }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Exactly the written batches' digests are recorded.
    let mut c = db.store.conn().await.unwrap();
    let listed = deliveries::list(&mut c, Some(p.id.as_str()), None, 1000).await.unwrap();
    let mut got: Vec<&str> = listed.iter().map(|d| d.digest.as_str()).collect();
    got.sort_unstable();
    let want: Vec<&str> = digests[..300].iter().chain(&digests[330..400]).map(String::as_str).collect();
    assert_eq!(got, want);
    drop(c);
    // Integrated in small batches, from memory and from the database alike: the log verifies.
    let mut cache = None;
    while log::integrate(&db.store, &signer, &mut cache, 64, now()).await.unwrap().is_some() {}
    let mut c = db.store.conn().await.unwrap();
    assert_eq!(log::pending_count(&mut c).await.unwrap(), 0);
    let size = log::size(&mut c).await.unwrap();
    assert_eq!(size as i64, next0 + 372);
    let v = log::verify(&mut c, &signer.verifier(), |_| {}).await.unwrap();
    assert_eq!(v.problems, vec![]);
    assert_eq!(v.entries, size);
}

/// Appends `n` admin events and integrates them in batches of `batch`.
async fn log_events(db: &TestDb, n: usize, batch: usize) -> forewarn_tlog::note::SignerKey {
    use forewarn_store::log;
    let mut c = db.store.conn().await.unwrap();
    let signer = log::signer(&mut c, &db.store, "log.forewarn.test", now()).await.unwrap();
    drop(c);
    let mut tx = db.store.begin().await.unwrap();
    let events: Vec<log::NewEvent<'_>> = (0..n)
        .map(|i| log::NewEvent {
            at: now(),
            kind: "test",
            partner: Some("kestrel-edr"),
            advisory: None,
            body: format!("{{\"n\":{i}}}"),
        })
        .collect();
    log::append(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    let mut cache = None;
    while log::integrate(&db.store, &signer, &mut cache, batch, now()).await.unwrap().is_some() {}
    signer
}

on_both!(the_log_integrates_events_once_and_verifies);
async fn the_log_integrates_events_once_and_verifies(db: &TestDb) {
    use forewarn_store::log;
    use forewarn_tlog::{checkpoint::Checkpoint, tree};
    let signer = log_events(db, 700, 300).await;
    let key = signer.verifier();
    let mut c = db.store.conn().await.unwrap();
    // The setup's audit events are logged too.
    let size = log::size(&mut c).await.unwrap();
    assert!(size >= 700, "{size}");
    assert_eq!(log::pending_count(&mut c).await.unwrap(), 0);
    let (cp_size, note) = log::latest_checkpoint(&mut c).await.unwrap().unwrap();
    let cp = Checkpoint::open(&note, &key).unwrap();
    assert_eq!((cp_size, cp.size), (size, size));
    // The same key comes back: it is stored, sealed.
    assert_eq!(log::signer(&mut c, &db.store, "other", now()).await.unwrap().verifier(), key);
    // Every entry's inclusion proof, from the stored tiles, verifies against the checkpoint.
    for index in [0, 1, 255, 256, 699, size - 1] {
        let tiles = log::tiles(&mut c, &tree::inclusion_tiles(size, index)).await.unwrap();
        let proof = tree::inclusion_proof(&tiles, size, index).unwrap();
        let e = log::event_at(&mut c, index).await.unwrap().unwrap();
        let leaf = forewarn_tlog::hash::leaf(&e.commitment);
        tree::verify_inclusion(leaf, index, size, &proof, cp.root).unwrap();
        assert_eq!(e.commitment, forewarn_tlog::commitment::commit(&e.salt, e.body.as_bytes()).to_vec());
    }
    let v = log::verify(&mut c, &key, |_| {}).await.unwrap();
    assert_eq!(v.problems, vec![], "a clean log verifies");
    assert_eq!(v.entries, size);
    // Nothing pending: no new checkpoint, no new entry.
    let mut cache = None;
    assert_eq!(log::integrate(&db.store, &signer, &mut cache, 100, now()).await.unwrap(), None);
    // Events are append-only.
    assert!(sqlx::query("UPDATE log_events SET body = 'x' WHERE leaf_index = 3").execute(&mut *c).await.is_err());
    assert!(sqlx::query("DELETE FROM log_events WHERE leaf_index = 3").execute(&mut *c).await.is_err());
}

on_both!(verify_names_each_altered_deleted_or_reordered_entry);
async fn verify_names_each_altered_deleted_or_reordered_entry(db: &TestDb) {
    use forewarn_store::log::{self, Problem};
    let key = log_events(db, 600, 1000).await.verifier();
    let mut c = db.store.conn().await.unwrap();
    // An attacker with the database can drop the guard; verification does not rely on it.
    let drop_guards = match db.store.backend() {
        Backend::Sqlite => "DROP TRIGGER log_events_no_rewrite; DROP TRIGGER log_events_no_delete",
        Backend::Postgres => "DROP TRIGGER log_events_no_rewrite ON log_events",
    };
    c.execute(drop_guards).await.unwrap();
    // Edited body.
    sqlx::query("UPDATE log_events SET body = '{\"n\":-1}' WHERE leaf_index = 10").execute(&mut *c).await.unwrap();
    let found = log::verify(&mut c, &key, |_| {}).await.unwrap().problems;
    assert!(
        found.contains(&Problem::Altered { entry: 10 }) && found.contains(&Problem::NotInTiles { entry: 10 }),
        "{found:?}"
    );
    // Edited body with a matching new commitment: the tiles and checkpoints still catch it.
    let salt = vec![0u8; 32];
    let commitment = forewarn_tlog::commitment::commit(&salt, b"{\"n\":-1}").to_vec();
    sqlx::query("UPDATE log_events SET salt = $1, commitment = $2 WHERE leaf_index = 10")
        .bind(salt)
        .bind(commitment)
        .execute(&mut *c)
        .await
        .unwrap();
    let found = log::verify(&mut c, &key, |_| {}).await.unwrap().problems;
    assert!(
        !found.contains(&Problem::Altered { entry: 10 }) && found.contains(&Problem::NotInTiles { entry: 10 }),
        "{found:?}"
    );
    assert!(found.iter().any(|p| matches!(p, Problem::CheckpointDiffers { .. })), "{found:?}");
    // Reordered: two entries swap places.
    sqlx::query("UPDATE log_events SET leaf_index = -1 WHERE leaf_index = 20").execute(&mut *c).await.unwrap();
    sqlx::query("UPDATE log_events SET leaf_index = 20 WHERE leaf_index = 21").execute(&mut *c).await.unwrap();
    sqlx::query("UPDATE log_events SET leaf_index = 21 WHERE leaf_index = -1").execute(&mut *c).await.unwrap();
    let found = log::verify(&mut c, &key, |_| {}).await.unwrap().problems;
    assert!(
        found.contains(&Problem::NotInTiles { entry: 20 }) && found.contains(&Problem::NotInTiles { entry: 21 }),
        "{found:?}"
    );
    // Deleted.
    sqlx::query("DELETE FROM log_events WHERE leaf_index = 30").execute(&mut *c).await.unwrap();
    let found = log::verify(&mut c, &key, |_| {}).await.unwrap().problems;
    assert!(found.contains(&Problem::Missing { from: 30, to: 31 }), "{found:?}");
    // Inserted beyond the tree.
    let size = log::size(&mut c).await.unwrap();
    sqlx::query(
        "INSERT INTO log_events (at, kind, body, salt, commitment, leaf_index) VALUES (0, 'x', '{}', $1, $2, $3)",
    )
    .bind(vec![0u8; 32])
    .bind(vec![0u8; 32])
    .bind(size as i64)
    .execute(&mut *c)
    .await
    .unwrap();
    let found = log::verify(&mut c, &key, |_| {}).await.unwrap().problems;
    assert!(found.contains(&Problem::NotInTiles { entry: size }), "{found:?}");
}

/// Events written before migration 0013 and still pending get the next leaf indices, in outbox order; integrated
/// ones keep theirs; afterwards no event can be changed.
#[tokio::test]
async fn migration_0013_gives_pending_events_their_indices() {
    async fn check(store: Store) {
        store.migrate_to(12).await.unwrap();
        let mut c = store.conn().await.unwrap();
        let insert =
            "INSERT INTO log_events (at, kind, body, salt, commitment, leaf_index) VALUES (0, 'test', $1, $2, $2, $3)";
        for (body, leaf) in [("a", Some(0i64)), ("b", Some(1)), ("c", None), ("d", None), ("e", None)] {
            sqlx::query(insert).bind(body).bind(vec![0u8; 32]).bind(leaf).execute(&mut *c).await.unwrap();
        }
        sqlx::query("UPDATE log_state SET size = 2 WHERE id = 1").execute(&mut *c).await.unwrap();
        drop(c);
        store.migrate().await.unwrap();
        let mut c = store.conn().await.unwrap();
        let rows: Vec<(String, i64)> = sqlx::query("SELECT body, leaf_index FROM log_events ORDER BY seq")
            .fetch_all(&mut *c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("body").unwrap(), r.try_get("leaf_index").unwrap()))
            .collect();
        let want: Vec<(String, i64)> =
            ["a", "b", "c", "d", "e"].iter().zip(0..).map(|(b, i)| (b.to_string(), i)).collect();
        assert_eq!(rows, want);
        assert_eq!(forewarn_store::log::pending_count(&mut c).await.unwrap(), 3);
        assert_eq!(forewarn_store::log::size(&mut c).await.unwrap(), 2);
        // Pending events are not served as entries of the tree.
        assert_eq!(forewarn_store::log::event_at(&mut c, 2).await.unwrap(), None);
        assert_eq!(forewarn_store::log::entries(&mut c, 0, 10).await.unwrap().len(), 2);
        assert!(sqlx::query("UPDATE log_events SET leaf_index = 7 WHERE body = 'e'").execute(&mut *c).await.is_err());
        drop(c);
        store.close().await;
    }
    let dir = tempfile::tempdir().unwrap();
    check(Store::connect(&forewarn_store::sqlite_url(&dir.path().join("old.db"))).await.unwrap()).await;
    if let Ok(url) = std::env::var("FOREWARN_TEST_POSTGRES_URL") {
        if !url.is_empty() {
            let name = format!("fw_test_{}", hex(&rand_bytes()));
            let admin = Store::connect(&url).await.unwrap();
            admin.conn().await.unwrap().execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            check(Store::connect(&format!("{base}/{name}")).await.unwrap()).await;
            admin.conn().await.unwrap().execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
            admin.close().await;
        }
    }
}

on_both!(an_audit_event_and_its_log_event_commit_together_without_a_callers_transaction);
async fn an_audit_event_and_its_log_event_commit_together_without_a_callers_transaction(db: &TestDb) {
    use forewarn_store::log;
    let mut c = db.store.conn().await.unwrap();
    let audits = "SELECT COUNT(*) FROM audit_events";
    let (before, next): (i64, i64) = (scalar(&mut c, audits).await, log::pending_count(&mut c).await.unwrap());
    // Writing the log event fails after the audit row and the log's counter were written.
    let (block, unblock) = match db.store.backend() {
        Backend::Sqlite => (
            "CREATE TRIGGER block_events BEFORE INSERT ON log_events BEGIN SELECT RAISE(ABORT, 'blocked'); END",
            "DROP TRIGGER block_events",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION block_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'blocked'; END; $$; \
             CREATE TRIGGER block_events BEFORE INSERT ON log_events FOR EACH ROW EXECUTE FUNCTION block_events()",
            "DROP TRIGGER block_events ON log_events; DROP FUNCTION block_events()",
        ),
    };
    c.execute(block).await.unwrap();
    let failed =
        audit::record(&mut c, now(), &Actor::System("test"), "test.fail", "x", None, serde_json::json!({})).await;
    assert!(failed.is_err());
    c.execute(unblock).await.unwrap();
    // Neither the audit row nor the leaf index it took survived: no gap for the sequencer to stop at.
    assert_eq!(scalar::<i64>(&mut c, audits).await, before);
    assert_eq!(log::pending_count(&mut c).await.unwrap(), next);
    let detail = serde_json::json!({"z": 1, "a": {"c": 2, "b": 3}});
    audit::record(&mut c, now(), &Actor::System("test"), "test.ok", "x", None, detail).await.unwrap();
    // Stored with its keys sorted, as the log event's body is, whatever serde_json features the build has.
    let stored: String = scalar(&mut c, "SELECT detail FROM audit_events WHERE action = 'test.ok'").await;
    assert_eq!(stored, r#"{"a":{"b":3,"c":2},"z":1}"#);
    assert_eq!(scalar::<i64>(&mut c, audits).await, before + 1);
    assert_eq!(log::pending_count(&mut c).await.unwrap(), next + 1);
    drop(c);
    let signer = log::signer(&mut db.store.conn().await.unwrap(), &db.store, "log.forewarn.test", now()).await.unwrap();
    let mut cache = None;
    while log::integrate(&db.store, &signer, &mut cache, 1000, now()).await.unwrap().is_some() {}
    let v = log::verify(&mut db.store.conn().await.unwrap(), &signer.verifier(), |_| {}).await.unwrap();
    assert_eq!(v.problems, vec![]);
}

on_both!(two_sequencers_racing_integrate_every_event_exactly_once);
async fn two_sequencers_racing_integrate_every_event_exactly_once(db: &TestDb) {
    use forewarn_store::log;
    let mut c = db.store.conn().await.unwrap();
    let signer = std::sync::Arc::new(log::signer(&mut c, &db.store, "log.forewarn.test", now()).await.unwrap());
    let before = log::pending_count(&mut c).await.unwrap() as u64 + log::size(&mut c).await.unwrap();
    drop(c);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Two sequencers, as two servers on one database would run them, each with its own frontier cache.
    let sequencers: Vec<_> = (0..2)
        .map(|_| {
            let (store, signer, done) = (db.store.clone(), signer.clone(), done.clone());
            tokio::spawn(async move {
                let mut cache = None;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let did = log::integrate(&store, &signer, &mut cache, 37, now()).await.unwrap();
                    if did.is_none() && finished {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    // Meanwhile, writers append 600 events in small transactions.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let store = db.store.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let events: Vec<log::NewEvent<'_>> = (0..10)
                        .map(|j| log::NewEvent {
                            at: now(),
                            kind: "test",
                            partner: None,
                            advisory: None,
                            body: format!("{{\"w\":{w},\"i\":{i},\"j\":{j}}}"),
                        })
                        .collect();
                    let mut tx = store.begin().await.unwrap();
                    log::append(&mut tx, &events).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for s in sequencers {
        s.await.unwrap();
    }
    let mut c = db.store.conn().await.unwrap();
    assert_eq!(log::pending_count(&mut c).await.unwrap(), 0);
    assert_eq!(log::size(&mut c).await.unwrap(), before + 600);
    // Leaf indices are exactly 0..size, each once; the tree verifies against every checkpoint.
    let v = log::verify(&mut c, &signer.verifier(), |_| {}).await.unwrap();
    assert_eq!(v.problems, vec![]);
    assert_eq!(v.entries, before + 600);
    assert!(v.checkpoints > 2, "{} checkpoints", v.checkpoints);
}

on_both!(console_sessions_expire_end_and_die_with_their_user);
async fn console_sessions_expire_end_and_die_with_their_user(db: &TestDb) {
    use forewarn_store::sessions;
    let mut c = db.store.conn().await.unwrap();
    let hash = credentials::hash_password("correct horse battery staple").unwrap();
    let erin =
        users::insert(&mut c, &user("erin"), "Erin", Roles::parse("auditor").unwrap(), &hash, now()).await.unwrap();
    let t0 = now();
    let s = sessions::create(&mut c, &erin, t0, SignedDuration::from_hours(8)).await.unwrap();
    assert_ne!(s.token, s.csrf);
    let live = sessions::get(&mut c, &s.token, t0).await.unwrap().unwrap();
    assert_eq!((live.user.username.as_str(), live.csrf.as_str()), ("erin", s.csrf.as_str()));
    assert!(sessions::get(&mut c, "not-a-token", t0).await.unwrap().is_none());
    // The token itself is not stored.
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM console_sessions WHERE token_hash = $1")
        .bind(&s.token)
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(stored, 0);
    // Expired: refused and removed.
    assert!(sessions::get(&mut c, &s.token, t0 + SignedDuration::from_hours(9)).await.unwrap().is_none());
    assert!(sessions::get(&mut c, &s.token, t0).await.unwrap().is_none(), "an expired session is gone");
    // Ended, and a disabled user's sessions.
    let s2 = sessions::create(&mut c, &erin, t0, SignedDuration::from_hours(8)).await.unwrap();
    sessions::end(&mut c, &s2.token).await.unwrap();
    assert!(sessions::get(&mut c, &s2.token, t0).await.unwrap().is_none());
    let s3 = sessions::create(&mut c, &erin, t0, SignedDuration::from_hours(8)).await.unwrap();
    users::disable(&mut c, &user("erin"), t0).await.unwrap();
    assert!(sessions::get(&mut c, &s3.token, t0).await.unwrap().is_none(), "a disabled user is signed out");
}

on_both!(deliveries_and_receipts_by_partner_and_advisory_span_index_buckets);
/// Lists by partner, by advisory and by both, and a partner's receipts, are exact and newest first across many of
/// SQLite's index buckets (1,024 events each, migration 0014), with limits that end inside a bucket; on SQLite the
/// statements seek the bucketed indexes instead of scanning the log.
async fn deliveries_and_receipts_by_partner_and_advisory_span_index_buckets(db: &TestDb) {
    use forewarn_store::deliveries::{self, Channel, NewDelivery};
    use forewarn_store::log;
    let advisories = [create_advisory(db, "b1").await, create_advisory(db, "b2").await];
    let mut c = db.store.conn().await.unwrap();
    let kestrel = partners::insert(&mut c, &kestrel(), now()).await.unwrap();
    let other =
        NewPartner::new("Northgate AV", None, "de", "validate", &["psirt@northgate.example".into()], &[]).unwrap();
    let northgate = partners::insert(&mut c, &other, now()).await.unwrap();
    drop(c);
    let who = [&kestrel.id, &northgate.id];
    let digests: Vec<String> = (0..3000).map(|i| format!("{i:064x}")).collect();
    // Partner i % 2 (but kestrel alone for a long run), advisory i % 3 == 0.
    let rows: Vec<NewDelivery<'_>> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| NewDelivery {
            at: now() + SignedDuration::from_millis(i as i64),
            partner: who[if (1200..2400).contains(&i) { 0 } else { i % 2 }],
            advisory: &advisories[usize::from(i % 3 == 0)],
            revision: 1,
            sections: &[SectionKind::Summary],
            channel: Channel::Csaf,
            digest: d,
            codeword: None,
        })
        .collect();
    for chunk in rows.chunks(700) {
        let mut tx = db.store.begin().await.unwrap();
        deliveries::record_all(&mut tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut c = db.store.conn().await.unwrap();
    let all = deliveries::list(&mut c, None, None, 10_000).await.unwrap();
    assert_eq!(all.len(), 3000);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    for p in [Some(kestrel.id.as_str()), Some(northgate.id.as_str()), None] {
        for a in [Some(advisories[0].as_str()), Some(advisories[1].as_str()), None] {
            let want: Vec<_> = all
                .iter()
                .filter(|d| p.is_none_or(|p| d.partner_id == p) && a.is_none_or(|a| d.advisory_id == a))
                .cloned()
                .collect();
            for limit in [1, 7, 1030, 10_000] {
                let got = deliveries::list(&mut c, p, a, limit).await.unwrap();
                let n = want.len().min(limit as usize);
                assert_eq!(got, want[..n], "partner {p:?}, advisory {a:?}, limit {limit}");
            }
        }
    }
    // Receipts: a partner's integrated events, newest first.
    let signer = log::signer(&mut c, &db.store, "test-log", now()).await.unwrap();
    drop(c);
    let mut cache = None;
    while log::integrate(&db.store, &signer, &mut cache, 1000, now()).await.unwrap().is_some() {}
    let mut c = db.store.conn().await.unwrap();
    let mine = log::events_of(&mut c, kestrel.id.as_str(), 5000).await.unwrap();
    let want: Vec<i64> = all.iter().filter(|d| d.partner_id == kestrel.id.as_str()).map(|d| d.seq).collect();
    assert_eq!(mine.iter().filter(|e| e.kind == "delivery").map(|e| e.seq).collect::<Vec<_>>(), want);
    assert!(mine.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    assert_eq!(log::events_of(&mut c, northgate.id.as_str(), 3).await.unwrap().len(), 3);
    if db.store.backend() == Backend::Sqlite {
        for (sql, index) in [
            (log::newest_by(&c, "seq", "partner_id", "AND kind = 'delivery'", 2), "log_events_partner"),
            (log::newest_by(&c, "seq", "advisory_id", "AND kind = 'delivery'", 2), "log_events_advisory"),
        ] {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind("x")
                .bind(10i64)
                .fetch_all(&mut *c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap())
                .collect();
            assert!(plan.iter().any(|d| d.contains(&format!("USING INDEX {index} (<expr>=? AND"))), "{plan:?}");
            assert!(!plan.iter().any(|d| d.starts_with("SCAN log_events")), "{plan:?}");
        }
    }
}
