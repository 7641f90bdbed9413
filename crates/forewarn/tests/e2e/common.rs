//! Helpers for the end-to-end tests: run the real `forewarn` binary, talk HTTP to the real server, and dump a
//! database to compare it before and after a command.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sqlx::Row;

pub const BIN: &str = env!("CARGO_BIN_EXE_forewarn");

/// A data directory and, optionally, a PostgreSQL database, for one test.
pub struct Program {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Program {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), database_url: None }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A `forewarn` command with this program's data dir (and database URL), clean of the caller's FOREWARN_*.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("FOREWARN_") {
                c.env_remove(k);
            }
        }
        c.arg("--data-dir").arg(self.data_dir());
        if let Some(url) = &self.database_url {
            c.arg("--database-url").arg(url);
        }
        c.args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "forewarn {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=ro", self.data_dir().join("forewarn.db").display()))
    }

    /// Every row of every table, as text, in a stable order.
    pub async fn dump(&self) -> Vec<String> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.url()).await.unwrap();
        let is_pg = self.database_url.is_some();
        let tables_sql = if is_pg {
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"
        };
        let tables: Vec<String> = sqlx::query(tables_sql)
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("name").unwrap())
            .collect();
        let mut out = Vec::new();
        for t in tables {
            // Each row as one text value, so that every column type compares exactly.
            let sql = if is_pg {
                format!("SELECT CAST(row_to_json(x) AS TEXT) AS line FROM {t} x")
            } else {
                let cols: Vec<String> = sqlx::query(&format!("SELECT name FROM pragma_table_info('{t}')"))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| format!("quote({})", r.try_get::<String, _>("name").unwrap()))
                    .collect();
                format!("SELECT {} AS line FROM {t}", cols.join(" || '|' || "))
            };
            let mut lines: Vec<String> = sqlx::query(&sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| format!("{t}: {}", r.try_get::<String, _>("line").unwrap()))
                .collect();
            lines.sort();
            out.extend(lines);
        }
        pool.close().await;
        out
    }
}

/// A PostgreSQL database of its own for a test, when `FOREWARN_TEST_POSTGRES_URL` is set; dropped by `drop_pg`.
pub async fn create_pg() -> Option<(String, String)> {
    let admin = std::env::var("FOREWARN_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    sqlx::any::install_default_drivers();
    let mut b = [0u8; 6];
    getrandom_fill(&mut b);
    let name = format!("fw_e2e_{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>());
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some((format!("{base}/{name}"), name))
}

pub async fn drop_pg(name: &str) {
    let admin = std::env::var("FOREWARN_TEST_POSTGRES_URL").unwrap();
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&pool).await.unwrap();
    pool.close().await;
}

fn getrandom_fill(b: &mut [u8]) {
    let mut f = std::fs::File::open("/dev/urandom").unwrap();
    f.read_exact(b).unwrap();
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
pub fn http(base: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// GET with a bearer token and an optional If-None-Match; returns (ETag, status).
pub fn http_etag(base: &str, path: &str, token: &str, if_none_match: Option<&str>) -> (String, u16) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let inm = if_none_match.map(|e| format!("If-None-Match: {e}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{inm}Connection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let etag = raw
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("etag:").then(|| l[5..].trim().to_owned()))
        .unwrap_or_default();
    (etag, status)
}

/// A request with a body and a bearer token; returns (status, body).
pub fn http_send(base: &str, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// A GET with a bearer token; returns the whole raw response (status line and headers included).
pub fn http_raw(base: &str, path: &str, token: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw
}

/// A POST with a bearer token and a body; returns (status, body).
pub fn http_post(base: &str, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    http_send(base, "POST", path, token, body)
}

/// A GET with a bearer token and one extra header line (`Name: value`); returns the status.
pub fn http_status_with(base: &str, path: &str, token: &str, header: &str) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{header}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}
