//! The SQLite backend: one file in WAL mode, embedded migrations, runtime
//! queries. A write is acknowledged once it is on disk.
//!
//! Writes go through one connection (SQLite has one writer at a time) with
//! group commit (`group_commit`), flushed to disk off the writer's path
//! (`durability`). Reads that need no write go to a separate pool of
//! connections and see durable data only.

mod backend;
mod durability;
mod group_commit;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Executor, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use self::durability::{Syncer, CHECKPOINT_SQL};
use self::group_commit::{SqliteTx, Writer};
use super::queries::ready_probe;
use super::{Error, Result, Storage, Tx, Waiters, Work};

/// (work, org, queue) of a cached "nothing ready" answer.
type ReadyKey = (Work, Uuid, String);

/// Most cached "nothing ready" answers (idle queues); beyond, the cache
/// starts over.
const MAX_EMPTY_ENTRIES: usize = 100_000;

/// Prepared statements kept per connection. Each writer statement exists in
/// a few variants (with the savepoint statements `group_commit` puts in
/// front of a transaction's first statement), so the default 100 is short.
const STATEMENT_CACHE: usize = 1024;

/// SQLite storage.
#[derive(Clone)]
pub struct SqliteStorage {
    writer: Arc<Mutex<Writer>>,
    /// Transactions waiting for the writer: while any waits, a finishing
    /// transaction leaves the batch open for it.
    waiting: Arc<AtomicUsize>,
    reader: SqlitePool,
    /// Bumped by every commit: a negative answer of `has_ready` cached at
    /// generation G holds while the generation is still G.
    generation: Arc<AtomicU64>,
    /// (work, org, queue) → generation at which nothing was ready.
    empty: Arc<std::sync::Mutex<HashMap<ReadyKey, u64>>>,
    syncer: Arc<Syncer>,
    /// The held polls, woken after each durable commit (`group_commit`).
    waiters: Arc<Waiters>,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Commits are flushed by the `Syncer`, checkpoints by the writer.
            .synchronous(SqliteSynchronous::Off)
            .pragma("wal_autocheckpoint", "0")
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .statement_cache_capacity(STATEMENT_CACHE);
        let mut conn = SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| Error::Database(format!("cannot open SQLite database {}: {e}", path.display())))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut conn)
            .await
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        conn.execute(CHECKPOINT_SQL).await?; // the migrations, on disk
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStorage {
            writer: Arc::new(Mutex::new(Writer::new(conn))),
            waiting: Arc::new(AtomicUsize::new(0)),
            reader,
            generation: Arc::new(AtomicU64::new(0)),
            empty: Arc::default(),
            syncer: Syncer::start(path),
            waiters: Arc::default(),
        })
    }

    /// Takes the writer, counting this caller as waiting until it has it.
    async fn lock_writer(&self) -> OwnedMutexGuard<Writer> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        self.writer.clone().lock_owned().await
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let writer = self.lock_writer().await;
        Ok(Box::new(SqliteTx::join(self.clone(), writer)))
    }

    async fn has_ready(&self, work: Work, org_id: Uuid, queue: &str) -> Result<bool> {
        let key = (work, org_id, queue.to_string());
        // Read the generation before the query: a commit after this point
        // makes the cached answer stale, never wrong.
        let generation = self.generation.load(Ordering::Acquire);
        if self.empty.lock().expect("not poisoned").get(&key) == Some(&generation) {
            return Ok(false);
        }
        let found: Option<i64> = sqlx::query_scalar(ready_probe(work))
            .bind(org_id.to_string())
            .bind(queue)
            .fetch_optional(&self.reader)
            .await?;
        let mut empty = self.empty.lock().expect("not poisoned");
        if found.is_some() {
            empty.remove(&key);
        } else {
            if empty.len() >= MAX_EMPTY_ENTRIES {
                empty.clear();
            }
            empty.insert(key, generation);
        }
        Ok(found.is_some())
    }

    fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }

    /// Every commit is this process's: no wake can be lost.
    fn recheck_interval(&self) -> Option<Duration> {
        None
    }

    async fn read(&self) -> Result<Box<dyn Tx>> {
        // Show nothing that could still vanish in a crash.
        self.syncer.wait(self.syncer.latest()).await.map_err(Error::Database)?;
        let conn = self.reader.acquire().await?;
        Ok(Box::new(SqliteTx::read(conn)))
    }
}
