//! The transparency log's storage: events (an outbox written in the transaction of each action, each given its leaf
//! index as it is written), the hash tiles, the signed checkpoints, and [`integrate`] — the sequencer's step, which
//! adds the pending events to the tree and writes the tiles and a checkpoint in one transaction.
//!
//! An event's entry in the tree is its commitment (`forewarn_tlog::commitment`): tiles and entry bundles reveal
//! nothing about partners or advisories. The body and salt are kept here and handed only to those entitled to them
//! (a partner receives its own events, with receipts).
//!
//! `log_state` holds two counters: `next`, the next leaf index to give, and `size`, the tree's size. [`append`]
//! takes `next` in the writer's transaction — SQLite's write lock, or the `log_state` row lock on PostgreSQL, held
//! to commit — so indices are gap-free and in commit order, and an event row is never written again. Events with
//! `size <= leaf_index < next` are pending.
//!
//! Exactly one integration commits at a time: its transaction takes the same lock and checks the tree size inside
//! it (the work itself may be prepared before, see [`integrate`]) — so with several servers each may run a
//! sequencer, and no event is integrated twice. A crash before commit leaves the events pending; a crash after
//! leaves them integrated.

use std::collections::HashMap;

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::tiles::{decode_hashes, encode_hashes, Frontier, TileId};
use forewarn_tlog::tree::ExpandedTile;
use forewarn_tlog::Hash;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::time::{from_db, to_db};
use crate::ROWS_PER_STATEMENT;
use crate::{Backend, Result, Store, StoreError};

/// An event about to be logged. `body` is its canonical form (compact JSON) and is what the commitment covers.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub at: Timestamp,
    /// `delivery`, `admin`, `webhook`, `investigation`.
    pub kind: &'a str,
    /// The partner the event concerns, who may receive it with a receipt.
    pub partner: Option<&'a str>,
    /// The advisory a delivery event is a copy of (indexed, for listing deliveries by advisory).
    pub advisory: Option<&'a str>,
    pub body: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub kind: String,
    pub partner_id: Option<String>,
    pub body: String,
    pub salt: Vec<u8>,
    pub commitment: Vec<u8>,
    /// Its index in the tree. Every function here that returns events returns integrated ones only.
    pub leaf_index: Option<u64>,
}

/// The canonical form of an event body: compact JSON with every object's keys sorted. It is what release builds
/// of `Value::to_string` give, but not what they give when some dependency turns on serde_json's `preserve_order`
/// (a test dependency does), so bodies are written through this and stay the same whatever the build.
pub(crate) fn canonical_json(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(value) = map.get(k) {
                        write(value, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Appends events to the outbox, in order, each with the next leaf index. Call it only inside a transaction — the
/// action's own: it takes the indices and writes the events in two statements, which must commit together (a gap
/// in the indices would stop the sequencer). On PostgreSQL it locks the log's state row until that transaction
/// ends.
pub async fn append(conn: &mut AnyConnection, events: &[NewEvent<'_>]) -> Result<()> {
    append_returning(conn, events).await.map(|_| ())
}

/// [`append`], returning the first leaf index given and the events' commitments.
async fn append_returning(conn: &mut AnyConnection, events: &[NewEvent<'_>]) -> Result<(u64, Vec<[u8; 32]>)> {
    if events.is_empty() {
        return Ok((0, Vec::new()));
    }
    let count = event_count(events)?;
    let next: i64 = sqlx::query("UPDATE log_state SET next = next + $1 WHERE id = 1 RETURNING next")
        .bind(count)
        .fetch_one(&mut *conn)
        .await?
        .try_get("next")?;
    let first = next - count;
    let sealed = seal(events)?;
    // `OR FAIL` on SQLite: a failure ends the whole transaction anyway, so the statement needs no journal of its own
    // to undo just itself (copying every page it touches).
    let verb = if conn.backend_name() == "SQLite" { "INSERT OR FAIL" } else { "INSERT" };
    let mut leaf = first;
    for (chunk, sealed) in events.chunks(ROWS_PER_STATEMENT).zip(sealed.chunks(ROWS_PER_STATEMENT)) {
        let sql = format!(
            "{verb} INTO log_events (at, kind, partner_id, advisory_id, body, salt, commitment, leaf_index) VALUES {}",
            crate::values(conn, chunk.len(), 8)
        );
        let mut q = sqlx::query(&sql);
        for (e, s) in chunk.iter().zip(sealed) {
            q = bind_event(q, e, s).bind(leaf);
            leaf += 1;
        }
        q.execute(&mut *conn).await?;
    }
    Ok((first as u64, sealed.into_iter().map(|s| s.commitment).collect()))
}

fn event_count(events: &[NewEvent<'_>]) -> Result<i64> {
    i64::try_from(events.len()).map_err(|_| StoreError::Corrupt("too many events at once".into()))
}

/// An event's salt and the commitment to its body under that salt.
struct Sealed {
    salt: [u8; 32],
    commitment: [u8; 32],
}

fn seal(events: &[NewEvent<'_>]) -> Result<Vec<Sealed>> {
    // Every salt from one call to the system's generator.
    let mut salts = vec![0u8; 32 * events.len()];
    getrandom::fill(&mut salts).map_err(|_| crate::CryptoError::Random)?;
    Ok(events
        .iter()
        .zip(salts.chunks_exact(32))
        .map(|(e, salt)| {
            let mut s = [0u8; 32];
            s.copy_from_slice(salt);
            Sealed { salt: s, commitment: forewarn_tlog::commitment::commit(salt, e.body.as_bytes()) }
        })
        .collect())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an event's columns `at, kind, partner_id, advisory_id, body, salt, commitment`, in that order.
fn bind_event<'q>(q: Query<'q>, e: &'q NewEvent<'_>, s: &Sealed) -> Query<'q> {
    q.bind(to_db(e.at))
        .bind(e.kind)
        .bind(e.partner)
        .bind(e.advisory)
        .bind(e.body.as_str())
        .bind(s.salt.to_vec())
        .bind(s.commitment.to_vec())
}

/// Appends `events` in a transaction of their own if, and only if, the catalogue is still at `version`; returns
/// the catalogue's version (so nothing was written when it is not `version`). The delivery recorder's commit: the
/// records of copies decided on catalogue `version`, durable together with the proof that it was current.
///
/// On SQLite the whole transaction is one script on the writer connection — one round trip to its thread instead
/// of six or more (begin, the version, the counter, the rows, commit), each of which waits for a CPU under a release
/// burst while every delivery waits for this commit. The committed events' commitments are left in
/// [`Store::fresh`] for the sequencer.
pub async fn append_if_current(store: &Store, version: i64, events: &[NewEvent<'_>]) -> Result<i64> {
    if events.is_empty() {
        return crate::catalogue::version(&mut *store.conn().await?).await;
    }
    if store.backend() != Backend::Sqlite {
        let mut tx = store.begin().await?;
        let current = crate::catalogue::version(&mut tx).await?;
        if current != version {
            tx.rollback().await?;
            return Ok(current);
        }
        let (first, commitments) = append_returning(&mut tx, events).await?;
        tx.commit().await?;
        store.fresh().put(first, commitments);
        return Ok(current);
    }
    let count = event_count(events)?;
    let sealed = seal(events)?;
    // Each chunk's rows take their leaf indices from `next` as it was before the transaction (offset by their place
    // in the batch), and are written only when the catalogue is at `version`; the counter moves under the same
    // condition, after the rows; the last SELECT says which happened. Parameters are anonymous and bound in order.
    //
    // Each chunk's VALUES list is padded with rows of NULLs (which the statement skips) to a power of two, so that a
    // dozen scripts cover every batch and each stays prepared in the connection's statement cache; with one script
    // per batch size, most batches had to be compiled again.
    let mut script = String::from("BEGIN IMMEDIATE;\n");
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        script.push_str(
            "INSERT OR FAIL INTO log_events (at, kind, partner_id, advisory_id, body, salt, commitment, leaf_index) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, s.next + v.column8 \
             FROM (VALUES ",
        );
        script.push_str(&crate::values_for(true, chunk.len().next_power_of_two(), 8));
        script.push_str(
            ") AS v JOIN log_state AS s ON s.id = 1 JOIN catalogue AS c ON c.id = 1 AND c.version = ? \
             WHERE v.column8 IS NOT NULL;\n",
        );
    }
    script.push_str(
        "UPDATE log_state SET next = next + ? WHERE id = 1 AND (SELECT version FROM catalogue WHERE id = 1) = ?;\n\
         SELECT c.version AS version, s.next AS next FROM catalogue AS c JOIN log_state AS s ON c.id = 1 AND s.id = 1;\n\
         COMMIT;",
    );
    let mut q = sqlx::query(&script);
    let mut offset = 0i64;
    for (chunk, sealed) in events.chunks(ROWS_PER_STATEMENT).zip(sealed.chunks(ROWS_PER_STATEMENT)) {
        for (e, s) in chunk.iter().zip(sealed) {
            q = bind_event(q, e, s).bind(offset);
            offset += 1;
        }
        for _ in chunk.len()..chunk.len().next_power_of_two() {
            for _ in 0..8 {
                q = q.bind(None::<i64>);
            }
        }
        q = q.bind(version);
    }
    q = q.bind(count).bind(version);
    let rows = store.run_script(q).await?;
    let row = rows.first().ok_or_else(|| StoreError::Corrupt("the log's state row is missing".into()))?;
    let current: i64 = row.try_get("version")?;
    if current == version {
        let next: i64 = row.try_get("next")?;
        store.fresh().put((next - count) as u64, sealed.into_iter().map(|s| s.commitment).collect());
    }
    Ok(current)
}

/// Commitments of events this process committed, by leaf index, kept for the sequencer: it integrates them without
/// reading back what was just written. Only ever given events after their transaction committed, so an entry here
/// is exactly what the database holds at that index; whatever is missing (events another process or another
/// writer of this one appended) the sequencer reads from the database.
#[derive(Debug, Default)]
pub struct Fresh {
    commitments: std::sync::Mutex<std::collections::BTreeMap<u64, [u8; 32]>>,
}

/// Most entries [`Fresh`] keeps (about 15 MB); beyond, it forgets them all and the sequencer reads them back
/// instead. A sequencer keeping up holds a few seconds of deliveries at most: 10,000 at 30,000 a second.
const FRESH_LIMIT: usize = 1 << 18;

impl Fresh {
    /// Records the commitments of committed events from leaf index `first` on.
    pub(crate) fn put(&self, first: u64, commitments: Vec<[u8; 32]>) {
        let Ok(mut map) = self.commitments.lock() else { return };
        if map.len() + commitments.len() > FRESH_LIMIT {
            map.clear();
        }
        map.extend((first..).zip(commitments));
    }

    /// Takes the run of consecutive entries from leaf index `from` on, at most `max` of them, as (leaf index,
    /// commitment); forgets every entry below the run's end.
    fn take_from(&self, from: u64, max: usize) -> Vec<(i64, Vec<u8>)> {
        let Ok(mut map) = self.commitments.lock() else { return Vec::new() };
        let rest = map.split_off(&from);
        *map = rest;
        let mut run = Vec::new();
        while run.len() < max {
            let index = from + run.len() as u64;
            match map.remove(&index) {
                Some(c) => run.push((index as i64, c.to_vec())),
                None => break,
            }
        }
        run
    }
}

/// The integrated tree's size.
pub async fn size(conn: &mut AnyConnection) -> Result<u64> {
    let n: i64 = sqlx::query("SELECT size FROM log_state WHERE id = 1").fetch_one(conn).await?.try_get("size")?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt("negative log size".into()))
}

/// The longest stored version of a hash tile.
pub async fn tile(conn: &mut AnyConnection, level: u8, index: u64) -> Result<Option<Vec<Hash>>> {
    let row = sqlx::query("SELECT data FROM log_tiles WHERE level = $1 AND idx = $2")
        .bind(i64::from(level))
        .bind(index as i64)
        .fetch_optional(conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let data: Vec<u8> = r.try_get("data")?;
    decode_hashes(&data).map(Some).map_err(|e| StoreError::Corrupt(format!("log tile {level}/{index}: {e}")))
}

/// The given tiles, by (level, index); absent ones are left out.
pub async fn tiles(conn: &mut AnyConnection, wanted: &[(u8, u64)]) -> Result<HashMap<(u8, u64), Vec<Hash>>> {
    let mut out = HashMap::new();
    for &(level, index) in wanted {
        if let Some(t) = tile(&mut *conn, level, index).await? {
            out.insert((level, index), t);
        }
    }
    Ok(out)
}

/// Tiles for proofs, kept with their interior nodes (`forewarn_tlog::tree::ExpandedTile`). A tile at a given width
/// never changes, so entries are keyed by (level, index, width) and never go stale; a proof then costs a few
/// lookups instead of reads and hundreds of hashes.
#[derive(Debug, Default)]
pub struct TileCache {
    tiles: std::sync::Mutex<HashMap<(u8, u64, u16), std::sync::Arc<ExpandedTile>>>,
}

/// Entries kept before the cache is emptied (a crude bound: 4,096 tiles of at most 16 KB each).
const TILE_CACHE_LIMIT: usize = 4096;

impl TileCache {
    /// The tiles (`wanted`, at the widths a tree of `size` gives them), from the cache or the database.
    pub async fn tiles(
        &self,
        conn: &mut AnyConnection,
        size: u64,
        wanted: &[(u8, u64)],
    ) -> Result<HashMap<(u8, u64), std::sync::Arc<ExpandedTile>>> {
        let mut out = HashMap::new();
        for &(level, index) in wanted {
            let hashes_at_level = size >> (8 * u32::from(level));
            let width = hashes_at_level.saturating_sub(index.saturating_mul(256)).min(256) as u16;
            if width == 0 {
                continue;
            }
            let key = (level, index, width);
            if let Some(t) = self.tiles.lock().ok().and_then(|m| m.get(&key).cloned()) {
                out.insert((level, index), t);
                continue;
            }
            let Some(stored) = tile(&mut *conn, level, index).await? else { continue };
            let Some(prefix) = stored.get(..usize::from(width)) else { continue };
            let expanded = std::sync::Arc::new(ExpandedTile::new(prefix.to_vec()));
            if let Ok(mut m) = self.tiles.lock() {
                if m.len() >= TILE_CACHE_LIMIT {
                    m.clear();
                }
                m.insert(key, expanded.clone());
            }
            out.insert((level, index), expanded);
        }
        Ok(out)
    }

    /// The inclusion proof of entry `index` in the tree of `size`.
    pub async fn inclusion_proof(&self, conn: &mut AnyConnection, size: u64, index: u64) -> Result<Vec<Hash>> {
        let tiles = self.tiles(conn, size, &forewarn_tlog::tree::inclusion_tiles(size, index)).await?;
        forewarn_tlog::tree::inclusion_proof(&tiles, size, index)
            .map_err(|e| StoreError::Corrupt(format!("the log's tiles cannot prove entry {index}: {e}")))
    }

    /// The consistency proof from the tree of `old` to the tree of `new`.
    pub async fn consistency_proof(&self, conn: &mut AnyConnection, old: u64, new: u64) -> Result<Vec<Hash>> {
        let tiles = self.tiles(conn, new, &forewarn_tlog::tree::consistency_tiles(old, new)).await?;
        forewarn_tlog::tree::consistency_proof(&tiles, old, new)
            .map_err(|e| StoreError::Corrupt(format!("the log's tiles cannot prove {old} -> {new}: {e}")))
    }
}

/// The commitments of entries `from .. from + count`, in order (fewer when the tree is shorter).
pub async fn entries(conn: &mut AnyConnection, from: u64, count: u64) -> Result<Vec<Vec<u8>>> {
    let (Ok(from), Ok(to)) = (i64::try_from(from), i64::try_from(from.saturating_add(count))) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "SELECT commitment FROM log_events WHERE leaf_index >= $1 AND leaf_index < $2 \
         AND leaf_index < (SELECT size FROM log_state WHERE id = 1) ORDER BY leaf_index",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<Vec<u8>, _>("commitment")?)).collect()
}

fn event(r: &sqlx::any::AnyRow) -> Result<StoredEvent> {
    let leaf: Option<i64> = r.try_get("leaf_index")?;
    Ok(StoredEvent {
        seq: r.try_get("seq")?,
        at: from_db(r.try_get("at")?)?,
        kind: r.try_get("kind")?,
        partner_id: r.try_get("partner_id")?,
        body: r.try_get("body")?,
        salt: r.try_get("salt")?,
        commitment: r.try_get("commitment")?,
        leaf_index: leaf.map(|l| l as u64),
    })
}

const EVENT_COLUMNS: &str = "seq, at, kind, partner_id, body, salt, commitment, leaf_index";

/// Only events in the tree.
const INTEGRATED: &str = "leaf_index < (SELECT size FROM log_state WHERE id = 1)";

/// The event at a leaf index, if it is in the tree.
pub async fn event_at(conn: &mut AnyConnection, leaf_index: u64) -> Result<Option<StoredEvent>> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM log_events WHERE leaf_index = $1 AND {INTEGRATED}"))
        .bind(leaf_index as i64)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(event).transpose()
}

/// Events per bucket of SQLite's partner and advisory indexes: the `seq / 1024` of migration 0014, which lookups
/// must write the same way for SQLite to use those indexes.
const INDEX_BUCKET: i64 = 1024;

/// The events (columns `columns`) whose `key` column — `partner_id` or `advisory_id` — is `$1` and that meet
/// `and` (`AND ...`, or empty), newest first, at most `$limit_param`.
///
/// On SQLite those indexes lead with a bucket of [`INDEX_BUCKET`] events (migration 0014), so the statement walks the buckets
/// from the newest down, one index seek each, and sorts what it found; on PostgreSQL it reads the index in order.
pub fn newest_by(conn: &AnyConnection, columns: &str, key: &str, and: &str, limit_param: usize) -> String {
    if conn.backend_name() == "SQLite" {
        format!(
            "WITH RECURSIVE bucket(n) AS (SELECT MAX(seq) / {INDEX_BUCKET} FROM log_events \
             UNION ALL SELECT n - 1 FROM bucket WHERE n > 0) \
             SELECT {columns} FROM bucket CROSS JOIN log_events \
             WHERE seq / {INDEX_BUCKET} = bucket.n AND {key} = $1 {and} ORDER BY seq DESC LIMIT ${limit_param}"
        )
    } else {
        format!("SELECT {columns} FROM log_events WHERE {key} = $1 {and} ORDER BY seq DESC LIMIT ${limit_param}")
    }
}

/// A partner's integrated events, newest first.
pub async fn events_of(conn: &mut AnyConnection, partner: &str, limit: i64) -> Result<Vec<StoredEvent>> {
    let sql = newest_by(conn, EVENT_COLUMNS, "partner_id", &format!("AND {INTEGRATED}"), 2);
    let rows = sqlx::query(&sql).bind(partner).bind(limit).fetch_all(conn).await?;
    rows.iter().map(event).collect()
}

/// Events with leaf index `from .. below`, in leaf order, at most `limit` of them (for verification).
async fn page(conn: &mut AnyConnection, from: u64, below: u64, limit: i64) -> Result<Vec<StoredEvent>> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM log_events WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index LIMIT $3"
    ))
    .bind(from as i64)
    .bind(below as i64)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(event).collect()
}

/// How many events wait for integration.
pub async fn pending_count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query("SELECT next - size AS n FROM log_state WHERE id = 1").fetch_one(conn).await?.try_get("n")?)
}

/// The newest signed checkpoint: (size, note).
pub async fn latest_checkpoint(conn: &mut AnyConnection) -> Result<Option<(u64, String)>> {
    let row =
        sqlx::query("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1").fetch_optional(conn).await?;
    row.map(|r| Ok((r.try_get::<i64, _>("size")? as u64, r.try_get("note")?))).transpose()
}

/// Every signed checkpoint, smallest first.
pub async fn checkpoints(conn: &mut AnyConnection) -> Result<Vec<(u64, String)>> {
    let rows = sqlx::query("SELECT size, note FROM log_checkpoints ORDER BY size").fetch_all(conn).await?;
    rows.iter().map(|r| Ok((r.try_get::<i64, _>("size")? as u64, r.try_get("note")?))).collect()
}

/// The log's signing key: created on first use with `origin` as its name (which is then the checkpoints' origin),
/// sealed by the master key like the program's other keys.
pub async fn signer(conn: &mut AnyConnection, store: &Store, origin: &str, now: Timestamp) -> Result<SignerKey> {
    let stored = crate::program_keys::get_or_create(conn, store.master_key()?, "transparency-log", now, || {
        let seed = crate::crypto::random_bytes::<32>().map_err(|e| e.to_string())?;
        let key = SignerKey::from_seed(origin, seed).map_err(|e| e.to_string())?;
        Ok((key.verifier().to_text(), zeroize::Zeroizing::new(key.to_text())))
    })
    .await?;
    SignerKey::parse(&stored.secret_text).map_err(|e| StoreError::Corrupt(format!("the log's signing key: {e}")))
}

/// The log's signing key, if one was made.
pub async fn stored_signer(conn: &mut AnyConnection, store: &Store) -> Result<Option<SignerKey>> {
    let Some(stored) = crate::program_keys::get(conn, store.master_key()?, "transparency-log").await? else {
        return Ok(None);
    };
    SignerKey::parse(&stored.secret_text)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("the log's signing key: {e}")))
}

/// What one integration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrated {
    pub from: u64,
    pub size: u64,
    pub root: Hash,
}

/// The sequencer's step: adds up to `max` pending events to the tree in leaf order, writes the tiles that changed,
/// signs a checkpoint for the new size, in one transaction. With nothing pending it signs the first
/// checkpoint if there is none yet (the empty tree). `cache` is the sequencer's frontier, reused when it is still
/// the stored tree's (another server may have integrated since) and replaced after a commit.
///
/// When `cache` holds the stored tree, the work is prepared before the write transaction: the pending events are
/// read outside it (they are committed and never change), the frontier extended and the checkpoint signed. The
/// transaction then only checks that the tree still has the size the work started from and writes. Reading and
/// hashing thousands of events under the write lock held up every delivery's commit for that long (measured:
/// 20-35 ms every 230 ms at 13,000 deliveries/s, with the CPUs idle while the deliveries waited). When the tree grew
/// meanwhile (another server's sequencer), the prepared work is dropped and the step is done under the lock.
pub async fn integrate(
    store: &Store,
    signer: &SignerKey,
    cache: &mut Option<Frontier>,
    max: usize,
    now: Timestamp,
) -> Result<Option<Integrated>> {
    if let Some(frontier) = cache.take() {
        let mut conn = store.conn().await?;
        let size = size(&mut conn).await?;
        if frontier.size() == size {
            let rows = pending(store, &mut conn, size, max).await?;
            drop(conn);
            if rows.is_empty() {
                // The cache is only kept after a checkpoint of its size was committed.
                *cache = Some(frontier);
                return Ok(None);
            }
            let work = extend(frontier, &rows, signer, now)?;
            let mut tx = store.begin().await?;
            if locked_size(&mut tx, store.backend()).await? == size {
                return commit(tx, work, size, cache).await;
            }
            tx.rollback().await?;
        }
    }
    integrate_locked(store, signer, cache, max, now).await
}

/// [`integrate`] with every step inside the write transaction: when the sequencer has no frontier of the stored
/// tree (at start, or after another server's sequencer integrated).
async fn integrate_locked(
    store: &Store,
    signer: &SignerKey,
    cache: &mut Option<Frontier>,
    max: usize,
    now: Timestamp,
) -> Result<Option<Integrated>> {
    let mut tx = store.begin().await?;
    let size = locked_size(&mut tx, store.backend()).await?;
    let rows = pending(store, &mut tx, size, max).await?;
    if rows.is_empty() {
        if latest_checkpoint(&mut tx).await?.is_none() {
            let frontier = restore(&mut tx, size).await?;
            let root = frontier.root();
            put_checkpoint(&mut tx, &sign_checkpoint(signer, size, root)?, size, now).await?;
            tx.commit().await?;
            *cache = Some(frontier);
            return Ok(Some(Integrated { from: size, size, root }));
        }
        // Nothing pending: end the transaction now, before this process's next writer starts.
        tx.rollback().await?;
        return Ok(None);
    }
    let frontier = restore(&mut tx, size).await?;
    let work = extend(frontier, &rows, signer, now)?;
    commit(tx, work, size, cache).await
}

/// Writes and commits an integration of the tree of size `from`, and keeps its frontier.
async fn commit(
    mut tx: crate::WriteTx,
    work: Extended,
    from: u64,
    cache: &mut Option<Frontier>,
) -> Result<Option<Integrated>> {
    let done = Integrated { from, size: work.frontier.size(), root: work.root };
    write(&mut tx, &work).await?;
    tx.commit().await?;
    *cache = Some(work.frontier);
    Ok(Some(done))
}

/// The tree's size, read in a write transaction so that no other integration changes it before commit (SQLite's
/// write lock is held from `BEGIN IMMEDIATE`; PostgreSQL locks the row).
async fn locked_size(tx: &mut AnyConnection, backend: Backend) -> Result<u64> {
    let lock = match backend {
        Backend::Postgres => "SELECT size FROM log_state WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT size FROM log_state WHERE id = 1",
    };
    let size: i64 = sqlx::query(lock).fetch_one(&mut *tx).await?.try_get("size")?;
    u64::try_from(size).map_err(|_| StoreError::Corrupt("negative log size".into()))
}

/// Up to `max` pending events from leaf `size` on, in leaf order: (leaf index, commitment) — those this process
/// committed from [`Store::fresh`], when it holds the one at `size`; otherwise from the database, in one statement,
/// so the events and the `next` counter come from one snapshot: a transaction's events are all there or none.
async fn pending(store: &Store, conn: &mut AnyConnection, size: u64, max: usize) -> Result<Vec<(i64, Vec<u8>)>> {
    let fresh = store.fresh().take_from(size, max);
    if !fresh.is_empty() {
        return Ok(fresh);
    }
    let rows = sqlx::query(
        "SELECT leaf_index, commitment FROM log_events WHERE leaf_index >= $1 AND leaf_index < \
         (SELECT next FROM log_state WHERE id = 1) ORDER BY leaf_index LIMIT $2",
    )
    .bind(size as i64)
    .bind(max as i64)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("leaf_index")?, r.try_get("commitment")?))).collect()
}

/// An integration's result, ready to write.
struct Extended {
    frontier: Frontier,
    root: Hash,
    tiles: Vec<(TileId, Vec<Hash>)>,
    note: String,
    at: Timestamp,
}

/// `frontier` extended by `rows`, the tiles that changed, and the signed checkpoint of the new tree.
fn extend(mut frontier: Frontier, rows: &[(i64, Vec<u8>)], signer: &SignerKey, now: Timestamp) -> Result<Extended> {
    let mut tiles = Vec::new();
    for (index, commitment) in rows {
        if *index as u64 != frontier.size() {
            return Err(StoreError::Corrupt(format!(
                "the log's pending events skip from entry {} to {index}",
                frontier.size()
            )));
        }
        frontier.append(forewarn_tlog::hash::leaf(commitment), &mut tiles);
    }
    tiles.extend(frontier.partial_tiles());
    let root = frontier.root();
    let note = sign_checkpoint(signer, frontier.size(), root)?;
    Ok(Extended { frontier, root, tiles, note, at: now })
}

/// Writes an integration: its tiles, its checkpoint and the tree's new size.
async fn write(tx: &mut AnyConnection, work: &Extended) -> Result<()> {
    let size = work.frontier.size();
    put_tiles(&mut *tx, &work.tiles).await?;
    put_checkpoint(&mut *tx, &work.note, size, work.at).await?;
    sqlx::query("UPDATE log_state SET size = $1 WHERE id = 1").bind(size as i64).execute(&mut *tx).await?;
    Ok(())
}

/// The frontier of the stored tree of `size`, from its partial tiles.
async fn restore(conn: &mut AnyConnection, size: u64) -> Result<Frontier> {
    let wanted: Vec<(u8, u64)> =
        TileId::all_for(size).into_iter().filter(|t| !t.is_full()).map(|t| (t.level, t.index)).collect();
    let got = tiles(conn, &wanted).await?;
    Frontier::restore(size, |l, i| got.get(&(l, i)).cloned())
        .map_err(|e| StoreError::Corrupt(format!("the log's tiles do not hold a tree of {size} entries: {e}")))
}

async fn put_tiles(conn: &mut AnyConnection, tiles: &[(TileId, Vec<Hash>)]) -> Result<()> {
    for chunk in tiles.chunks(ROWS_PER_STATEMENT) {
        let mut sql =
            format!("INSERT INTO log_tiles (level, idx, data) VALUES {}", crate::values(conn, chunk.len(), 3));
        sql.push_str(" ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data");
        let mut q = sqlx::query(&sql);
        for (id, hashes) in chunk {
            q = q.bind(i64::from(id.level)).bind(id.index as i64).bind(encode_hashes(hashes));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

fn sign_checkpoint(signer: &SignerKey, size: u64, root: Hash) -> Result<String> {
    let body = Checkpoint { origin: signer.name().to_owned(), size, root }.body();
    signer.sign(&body).map_err(|e| StoreError::Corrupt(format!("cannot sign a checkpoint: {e}")))
}

async fn put_checkpoint(conn: &mut AnyConnection, note: &str, size: u64, now: Timestamp) -> Result<()> {
    sqlx::query("INSERT INTO log_checkpoints (size, note, at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING")
        .bind(size as i64)
        .bind(note)
        .bind(to_db(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// What `verify` found wrong, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An event's body or salt no longer matches its commitment.
    Altered { entry: u64 },
    /// Leaf indices jump: entries `from .. to` are not in the database.
    Missing { from: u64, to: u64 },
    /// The event at this index is not the one the tiles hold there: altered, inserted or reordered.
    NotInTiles { entry: u64 },
    /// A stored hash tile differs from the one recomputed from the events.
    TileDiffers { tile: String },
    /// The tree recomputed from the events does not have the root its signed checkpoint states.
    CheckpointDiffers { size: u64 },
    /// A stored checkpoint is not validly signed by the log's key, or does not parse.
    BadCheckpoint { size: u64, why: String },
    /// The recorded tree size and the events disagree.
    SizeDiffers { state: u64, events: u64 },
    /// Some of the events given indices `from .. to` and not yet in the tree are missing.
    PendingMissing { from: u64, to: u64, missing: u64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { entry } => {
                write!(f, "entry {entry}: the event no longer matches its commitment (its body or salt was altered)")
            }
            Self::Missing { from, to } if to - from == 1 => write!(f, "entry {from}: missing (deleted)"),
            Self::Missing { from, to } => write!(f, "entries {from} to {}: missing (deleted)", to - 1),
            Self::NotInTiles { entry } => write!(
                f,
                "entry {entry}: not the event the log's tiles hold at that index (altered, inserted or reordered)"
            ),
            Self::TileDiffers { tile } => {
                write!(f, "{tile}: the stored tile differs from the one recomputed from the events")
            }
            Self::CheckpointDiffers { size } => {
                write!(f, "checkpoint {size}: the tree recomputed from the events has a different root")
            }
            Self::BadCheckpoint { size, why } => write!(f, "checkpoint {size}: {why}"),
            Self::SizeDiffers { state, events } => {
                write!(f, "the log records {state} entries but the events hold {events}")
            }
            Self::PendingMissing { from, to, missing } => write!(
                f,
                "entries {from} to {}, not yet in the tree: {missing} of them are missing (deleted)",
                to.saturating_sub(1)
            ),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    pub checkpoints: usize,
    pub problems: Vec<Problem>,
}

/// Recomputes the tree from the stored events and checks it against the stored tiles and every stored checkpoint
/// (whose signatures are checked with `key`), naming each entry that was altered, removed, inserted or reordered.
/// `progress` is called with the number of entries checked so far.
pub async fn verify(
    conn: &mut AnyConnection,
    key: &forewarn_tlog::note::VerifierKey,
    mut progress: impl FnMut(u64),
) -> Result<Verification> {
    const PAGE: i64 = 10_000;
    const MOST: usize = 50;
    let state = size(conn).await?;
    let next = state.saturating_add(u64::try_from(pending_count(conn).await?).unwrap_or(0));
    let mut problems = Vec::new();
    let mut signed: Vec<(u64, Hash)> = Vec::new();
    let all = checkpoints(conn).await?;
    for (size, note) in &all {
        match Checkpoint::open(note, key) {
            Ok(cp) if cp.size == *size => signed.push((cp.size, cp.root)),
            Ok(cp) => problems.push(Problem::BadCheckpoint {
                size: *size,
                why: format!("it is filed under size {size} but states {}", cp.size),
            }),
            Err(e) => problems.push(Problem::BadCheckpoint { size: *size, why: e.to_string() }),
        }
    }
    let mut next_checkpoint = signed.iter().peekable();
    while next_checkpoint.peek().is_some_and(|(s, _)| *s == 0) {
        if let Some((_, root)) = next_checkpoint.next() {
            if *root != Hash::empty() {
                problems.push(Problem::CheckpointDiffers { size: 0 });
            }
        }
    }
    let mut frontier = Frontier::new();
    let mut filled = Vec::new();
    let mut expected = 0u64;
    let mut tree_ok = true;
    let mut stored_leaves: Option<(u64, Vec<Hash>)> = None;
    loop {
        let page = page(conn, expected, state, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            let index = e.leaf_index.unwrap_or(expected);
            if index != expected {
                problems.push(Problem::Missing { from: expected, to: index });
                tree_ok = false;
            }
            expected = index + 1;
            let recomputed = forewarn_tlog::commitment::commit(&e.salt, e.body.as_bytes());
            if recomputed.as_slice() != e.commitment.as_slice() {
                problems.push(Problem::Altered { entry: index });
            }
            let leaf = forewarn_tlog::hash::leaf(&recomputed);
            let tile_index = index / 256;
            if stored_leaves.as_ref().is_none_or(|(t, _)| *t != tile_index) {
                stored_leaves = Some((tile_index, tile(conn, 0, tile_index).await?.unwrap_or_default()));
            }
            let in_tile = stored_leaves.as_ref().and_then(|(_, t)| t.get((index % 256) as usize).copied());
            if in_tile != Some(leaf) && problems.len() < MOST {
                problems.push(Problem::NotInTiles { entry: index });
            }
            if !tree_ok {
                continue;
            }
            frontier.append(leaf, &mut filled);
            for (id, hashes) in filled.drain(..) {
                if tile(conn, id.level, id.index).await?.as_deref() != Some(hashes.as_slice()) && problems.len() < MOST
                {
                    problems.push(Problem::TileDiffers { tile: id.path() });
                }
            }
            while let Some((s, root)) = next_checkpoint.peek() {
                if *s > frontier.size() {
                    break;
                }
                if *s == frontier.size() && *root != frontier.root() {
                    problems.push(Problem::CheckpointDiffers { size: *s });
                }
                next_checkpoint.next();
            }
        }
        progress(expected);
    }
    if tree_ok {
        for (id, hashes) in frontier.partial_tiles() {
            let stored = tile(conn, id.level, id.index).await?;
            if stored.as_deref().and_then(|s| s.get(..hashes.len())) != Some(hashes.as_slice()) {
                problems.push(Problem::TileDiffers { tile: id.path() });
            }
        }
        for (s, _) in next_checkpoint {
            problems.push(Problem::CheckpointDiffers { size: *s });
        }
    }
    if expected != state {
        problems.push(Problem::SizeDiffers { state, events: expected });
    }
    // Pending events are not in the tree yet; an event past every index `append` gave was written some other way.
    let pending: i64 = sqlx::query("SELECT COUNT(*) AS n FROM log_events WHERE leaf_index >= $1 AND leaf_index < $2")
        .bind(state as i64)
        .bind(next as i64)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if pending as u64 != next - state {
        problems.push(Problem::PendingMissing { from: state, to: next, missing: next - state - pending as u64 });
    }
    let beyond = sqlx::query("SELECT leaf_index FROM log_events WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2")
        .bind(next as i64)
        .bind(MOST as i64)
        .fetch_all(&mut *conn)
        .await?;
    for r in &beyond {
        problems.push(Problem::NotInTiles { entry: r.try_get::<i64, _>("leaf_index")? as u64 });
    }
    Ok(Verification { entries: expected, checkpoints: all.len(), problems })
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_bodies_have_sorted_keys_at_every_depth() {
        let v = serde_json::json!({"type": "admin", "b": 1, "a": {"d": "x\"y", "c": [{"z": null, "y": 2.5}]}});
        assert_eq!(super::canonical_json(&v), r#"{"a":{"c":[{"y":2.5,"z":null}],"d":"x\"y"},"b":1,"type":"admin"}"#);
    }
}
