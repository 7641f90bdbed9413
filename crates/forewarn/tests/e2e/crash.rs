//! A process killed with SIGKILL in the middle of a stream of writes leaves a database that opens and holds every
//! write that was acknowledged before the kill.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use sqlx::Row;

use crate::common::{create_pg, drop_pg, Program};

async fn check(p: &Program) {
    p.ok(&["init"]);
    let mut child =
        p.cmd(&["bench", "writes", "--count", "1000000"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = 0u64;
    // Kill it mid-stream, a few hundred commits in.
    for line in lines.by_ref() {
        acked = line.unwrap().strip_prefix("ack ").unwrap().parse().unwrap();
        if acked == 300 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
                           // Acknowledgements already in the pipe were printed after their commit returned: they count too.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse().ok()) {
            acked = n;
        }
    }
    child.wait().unwrap();
    assert!(acked >= 300);

    // The database opens (through the CLI, which runs migrations and reads the history) ...
    let history = p.ok(&["history", "--limit", "1", "--output", "json"]);
    assert!(history.contains("bench.write"), "{history}");
    // ... and holds every acknowledged write.
    sqlx::any::install_default_drivers();
    let url = p.url();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let rows =
        sqlx::query("SELECT subject FROM audit_events WHERE action = 'bench.write'").fetch_all(&pool).await.unwrap();
    let written: std::collections::HashSet<u64> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("subject").unwrap().trim_start_matches("bench-").parse().unwrap())
        .collect();
    for n in 1..=acked {
        assert!(written.contains(&n), "acknowledged write {n} was lost (acked up to {acked})");
    }
    if p.database_url.is_none() {
        let ok: String = sqlx::query("PRAGMA integrity_check").fetch_one(&pool).await.unwrap().try_get(0).unwrap();
        assert_eq!(ok, "ok");
    }
    pool.close().await;
}

#[tokio::test]
async fn sigkill_loses_no_acknowledged_write_on_sqlite() {
    check(&Program::new()).await;
}

#[tokio::test]
async fn sigkill_loses_no_acknowledged_write_on_postgres() {
    let Some((url, name)) = create_pg().await else {
        eprintln!("skipped: FOREWARN_TEST_POSTGRES_URL is not set");
        return;
    };
    check(&Program { dir: tempfile::tempdir().unwrap(), database_url: Some(url) }).await;
    drop_pg(&name).await;
}
