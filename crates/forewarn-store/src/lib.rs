//! Persistence for forewarn.
//!
//! One code path for two databases: SQLite (the embedded default) and PostgreSQL (several servers sharing one
//! database), chosen at run time from the database URL through sqlx's `Any` driver. Each backend has its own
//! migrations (`migrations/sqlite`, `migrations/postgres`); queries are written once in the SQL both accept (`$1`
//! placeholders, `BIGINT` microsecond timestamps, no booleans).
//!
//! Repository functions live in one module per domain object and take a `&mut AnyConnection`, so that a caller
//! composes several of them in one transaction ([`Store::begin`]). Every administrative change writes an
//! [`audit`] event in the same transaction as the change itself.
//!
//! Architecture invariant: embargoed content (revision metadata, section bodies, attachments) is sealed by
//! [`crypto`] before it is bound into any query, and opened only after it is read. Errors from this crate never
//! contain such content.

pub mod advisories;
pub mod audit;
pub mod catalogue;
pub mod credentials;
pub mod crypto;
pub mod deliveries;
pub mod keys;
pub mod log;
pub mod partners;
pub mod policies;
pub mod portal;
pub mod program_keys;
pub mod sessions;
pub mod tiers;
pub mod users;
pub mod webhooks;

mod error;
/// The kinds of database constraint a [`StoreError::Constraint`] reports.
pub mod error_kind {
    pub use crate::error::ConstraintKind;
}
mod time;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction, TransactionManager};

pub use crypto::{CryptoError, MasterKey};
pub use error::StoreError;
pub use sqlx::AnyConnection;
/// The driver error, as returned by `Transaction::commit`.
pub use sqlx::Error as DbError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Config(
                "the database URL must start with sqlite: or postgres:// (e.g. sqlite:///var/lib/forewarn/forewarn.db)"
                    .into(),
            ))
        }
    }
}

/// The SQLite URL for a database file, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A write transaction (see [`Store::begin`]): use it as a connection, then `commit` or `rollback`. Dropped without
/// either, it rolls back (the rollback is queued on the connection ahead of anything the next writer sends it).
#[derive(Debug)]
pub struct WriteTx {
    inner: Tx,
}

#[derive(Debug)]
enum Tx {
    /// PostgreSQL: a transaction on a pooled connection.
    Pooled(Transaction<'static, Any>),
    /// SQLite: a transaction on the writer connection, held in its slot for this process's turn to write.
    Held(Held),
}

/// The SQLite writer connection's slot, held for a turn to write.
type WriterSlot = tokio::sync::OwnedMutexGuard<Option<AnyConnection>>;

/// sqlx's own transaction steps, on a connection that stays out of the pool: the same depth tracking, savepoints for
/// nested transactions and rollback on drop as `sqlx::Transaction`.
type Manager = <Any as sqlx::Database>::TransactionManager;

#[derive(Debug)]
struct Held {
    conn: tokio::sync::OwnedMappedMutexGuard<Option<AnyConnection>, AnyConnection>,
    open: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.open {
            Manager::start_rollback(&mut self.conn);
        }
    }
}

impl WriteTx {
    pub async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.end(true).await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.end(false).await
    }

    async fn end(self, commit: bool) -> std::result::Result<(), sqlx::Error> {
        match self.inner {
            Tx::Pooled(tx) if commit => tx.commit().await,
            Tx::Pooled(tx) => tx.rollback().await,
            Tx::Held(mut held) => {
                if commit {
                    Manager::commit(&mut held.conn).await?;
                } else {
                    Manager::rollback(&mut held.conn).await?;
                }
                held.open = false;
                Ok(())
            }
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.inner {
            Tx::Pooled(tx) => tx,
            Tx::Held(held) => &held.conn,
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            Tx::Pooled(tx) => tx,
            Tx::Held(held) => &mut held.conn,
        }
    }
}

/// A connection pool and the master key that opens what it stores.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions ([`Store::begin`]) run. On SQLite, a pool of one connection of its own: a
    /// connection's page cache is thrown away whenever another connection has written since its last transaction, so
    /// writers taking turns over the shared pool's connections read the pages they change (the log's indexes) back
    /// from the WAL every time; one writer connection keeps them cached. On PostgreSQL, the shared pool.
    writer: AnyPool,
    backend: Backend,
    key: Option<Arc<MasterKey>>,
    /// SQLite: the writer connection, between transactions. SQLite has one writer at a time; writers of this process
    /// take turns here, in order, instead of in SQLite's busy handler, which sleeps and retries with growing pauses
    /// (a writer that arrives while another commits could sleep 50 ms or more after the lock is free). The
    /// connection stays out of its pool: giving it back after each transaction and taking it again cost two round
    /// trips to its thread (sqlx tests a connection when it is released and when it is acquired) and a task that has
    /// to be scheduled — under a release burst, behind hundreds of requests, while every delivery waits for the
    /// recorder's transaction. Measured there: the start of a transaction took 3.4 ms with the pool, 2.4 ms without
    /// (the rest is waiting for a CPU on a loaded machine).
    write_slot: Arc<tokio::sync::Mutex<Option<AnyConnection>>>,
    /// Commitments of the log events this process committed, for the sequencer (see [`log::Fresh`]).
    fresh: Arc<log::Fresh>,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        vec![$(Migration::new(
            $version,
            $name.into(),
            MigrationType::Simple,
            include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")).into(),
            false,
        )),*]
    };
}

/// Rows written by one multi-row `INSERT` (see [`values`]).
pub(crate) const ROWS_PER_STATEMENT: usize = 128;

/// The `VALUES` list of a multi-row `INSERT` of `rows` rows of `cols` columns. SQLite gets anonymous `?`
/// parameters: with numbered ones it looks each parameter up by name when binding, which costs time quadratic in
/// their number; PostgreSQL needs `$n`.
pub(crate) fn values(conn: &AnyConnection, rows: usize, cols: usize) -> String {
    values_for(conn.backend_name() == "SQLite", rows, cols)
}

/// [`values`], for SQLite or not.
pub(crate) fn values_for(sqlite: bool, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push_str(&format!("${}", r * cols + c + 1));
            }
        }
        sql.push(')');
    }
    sql
}

impl Store {
    /// Connects to the database at `url`. SQLite files are created when missing and run in WAL mode with
    /// `synchronous = FULL`: a transaction that returned from commit survives a crash of the process or the machine.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options: AnyConnectOptions =
            url.parse().map_err(|e| StoreError::Config(format!("the database URL is not valid: {e}")))?;
        // SQLite: `cache_kib`, the page cache per connection (it grows as used, up to this); `checkpoint`, the WAL
        // size in pages at which a committing connection copies it into the database.
        let open = |max: u32, cache_kib: u32, checkpoint: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(
                                format!(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                     PRAGMA cache_size = -{cache_kib}; PRAGMA wal_autocheckpoint = {checkpoint};"
                                )
                                .as_str(),
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let pool = open(8, 2_000, 1_000).await.map_err(StoreError::connect)?;
                // The writer checkpoints at 8,000 pages (32 MB) instead of SQLite's 1,000: the log's index pages
                // change in every commit, and a checkpoint copies each page once however often it changed.
                //
                // Its page cache is small (4 MB): writes touch the ends of the log's table and of its bucketed
                // indexes, which fit. A large one costs at every commit: when a B-tree rebalance has swapped page
                // numbers in a transaction (SQLite parks a page at the locking page's number meanwhile, page 262,145),
                // the commit drops cached pages beyond the database's end by walking the whole cache — with 64 MB,
                // 16,000 pages and about a millisecond per commit, on the thread every delivery waits for.
                (pool, open(1, 4 * 1024, 8_000).await.map_err(StoreError::connect)?)
            }
            Backend::Postgres => {
                let pool = open(10, 0, 0).await.map_err(StoreError::connect)?;
                (pool.clone(), pool)
            }
        };
        Ok(Self { pool, writer, backend, key: None, write_slot: Arc::default(), fresh: Arc::default() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Sets the master key used to seal and open embargoed content.
    pub fn with_master_key(mut self, key: MasterKey) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    pub fn master_key(&self) -> Result<&MasterKey> {
        self.key.as_deref().ok_or_else(|| StoreError::Config("no master key is loaded".into()))
    }

    fn migrator(&self) -> Migrator {
        let migrations = match self.backend {
            Backend::Sqlite => {
                migrations!("sqlite": 1 "0001_init", 2 "0002_policies", 3 "0003_deliveries", 4 "0004_openpgp", 5 "0005_webhooks", 6 "0006_ip_allow", 7 "0007_staff_tokens", 8 "0008_catalogue", 9 "0009_log", 10 "0010_console_sessions", 11 "0011_portal", 12 "0012_deliveries_in_log", 13 "0013_leaf_index_at_append", 14 "0014_log_indexes_by_bucket")
            }
            Backend::Postgres => {
                migrations!("postgres": 1 "0001_init", 2 "0002_policies", 3 "0003_deliveries", 4 "0004_openpgp", 5 "0005_webhooks", 6 "0006_ip_allow", 7 "0007_staff_tokens", 8 "0008_catalogue", 9 "0009_log", 10 "0010_console_sessions", 11 "0011_portal", 12 "0012_deliveries_in_log", 13 "0013_leaf_index_at_append", 14 "0014_log_indexes_by_bucket")
            }
        };
        Migrator { migrations: migrations.into(), ignore_missing: false, locking: true, no_tx: false }
    }

    /// Brings the schema up to date. Safe to run from several processes at once (PostgreSQL takes an advisory
    /// lock; SQLite serialises writers).
    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pool).await.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Brings the schema up to migration `last` only: for tests of a migration, which need data written in the
    /// schema before it.
    #[doc(hidden)]
    pub async fn migrate_to(&self, last: i64) -> Result<()> {
        let mut migrator = self.migrator();
        migrator.migrations = migrator.migrations.iter().filter(|m| m.version <= last).cloned().collect();
        migrator.run(&self.pool).await.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A connection for reads (and single-statement writes).
    pub async fn conn(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), after this
    /// process's earlier writers are done; a writer in another process (the CLI, another server) is waited for by the
    /// busy timeout.
    pub async fn begin(&self) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let mut slot = self.writer_turn().await?;
                for attempt in 0..2 {
                    let conn = self.writer_in(&mut slot).await?;
                    match Manager::begin(conn, Some("BEGIN IMMEDIATE".into())).await {
                        Ok(()) => break,
                        // Still inside an earlier transaction whose rollback failed: start again on a new
                        // connection (closing this one ends that transaction).
                        Err(sqlx::Error::InvalidSavePointStatement) if attempt == 0 => {
                            if let Some(conn) = slot.take() {
                                let _ = conn.close_hard().await;
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                let conn = tokio::sync::OwnedMutexGuard::try_map(slot, Option::as_mut)
                    .map_err(|_| StoreError::Config("the database is closed".into()))?;
                WriteTx { inner: Tx::Held(Held { conn, open: true }) }
            }
            Backend::Postgres => WriteTx { inner: Tx::Pooled(self.writer.begin().await?) },
        })
    }

    /// SQLite only: runs `script` — one whole write transaction, `BEGIN IMMEDIATE` to `COMMIT` — on the writer
    /// connection, in this process's turn to write, and returns the rows it selects. The script goes to the
    /// connection's thread in one message and runs there to its end; sqlx's `fetch_all` is what lets it (`fetch_one`
    /// would stop the script at its first row, before `COMMIT`). Should a statement fail, or this future be dropped
    /// before the script has answered, the connection is closed — which rolls back whatever it left open — and the
    /// next writer opens another.
    pub(crate) async fn run_script<'q>(
        &self,
        script: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        /// Empties the slot unless disarmed: dropping a SQLite connection ends its thread, which closes the handle.
        struct Unfinished(WriterSlot, bool);
        impl Drop for Unfinished {
            fn drop(&mut self) {
                if self.1 {
                    self.0.take();
                }
            }
        }
        let mut run = Unfinished(self.writer_turn().await?, true);
        let rows = script.fetch_all(self.writer_in(&mut run.0).await?).await?;
        run.1 = false;
        Ok(rows)
    }

    /// SQLite: this process's turn to write, in order of arrival — an error after as long as SQLite's own busy
    /// timeout: a writer that never finishes is an error, not a hang.
    async fn writer_turn(&self) -> Result<WriterSlot> {
        tokio::time::timeout(Duration::from_secs(10), self.write_slot.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Busy(10))
    }

    /// The writer connection in `slot`, opened if there is none.
    async fn writer_in<'s>(&self, slot: &'s mut WriterSlot) -> Result<&'s mut AnyConnection> {
        let conn = match slot.take() {
            Some(conn) => conn,
            None => self.writer.acquire().await?.detach(),
        };
        Ok(slot.insert(conn))
    }

    /// The commitments of log events this process committed and the sequencer has not yet taken.
    pub fn fresh(&self) -> &log::Fresh {
        &self.fresh
    }

    pub async fn close(&self) {
        if let Some(conn) = self.write_slot.lock().await.take() {
            let _ = conn.close().await;
        }
        self.writer.close().await;
        self.pool.close().await;
    }
}
