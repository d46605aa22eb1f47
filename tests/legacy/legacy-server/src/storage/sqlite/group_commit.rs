//! Group commit on the one SQLite writer.
//!
//! Concurrent transactions join one physical transaction (a *batch*), each
//! inside its own savepoint so that one can roll back alone; the last one to
//! finish while nobody else waits commits for all of them: one flush per
//! batch instead of one per request. A transaction's `commit()` returns only
//! once its batch is on disk (`durability`).
//!
//! Every call on the connection is a round trip to sqlx's SQLite thread, the
//! main cost of a short transaction, so the bookkeeping rides along with the
//! real statements: `BEGIN`, the transaction's `SAVEPOINT` and the release
//! of the previous member's savepoint go in front of its first statement
//! ([`SqliteTx::sql`]); a member's commit runs nothing (its savepoint is
//! released by the next member's first statement or by the batch's
//! `COMMIT`). Two savepoint names alternate, so a member's `ROLLBACK TO` can
//! only reach its own savepoint: if that was never opened, the rollback
//! fails and the whole batch is abandoned rather than undo a neighbour.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Executor, Sqlite};
use tokio::sync::{watch, OwnedMutexGuard};

use super::durability::CHECKPOINT_SQL;
use super::SqliteStorage;
use crate::storage::sql::Pollable;
use crate::storage::{Error, Result};

/// How a batch ended, for the transactions waiting on it: the commit's
/// number (see `Syncer`) or why it failed.
type BatchResult = Option<std::result::Result<u64, String>>;
/// The signal a batch's members wait on.
type BatchDone = Arc<watch::Sender<BatchResult>>;

/// Most transactions in one batch.
const MAX_BATCH: usize = 512;
/// Longest a batch stays open waiting for more transactions.
const MAX_BATCH_DELAY: Duration = Duration::from_millis(10);
/// Commits between two checkpoints (automatic ones are off, `durability`).
const CHECKPOINT_EVERY: u32 = 500;

/// The two savepoint names members alternate between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Savepoint {
    A,
    B,
}

impl Savepoint {
    fn name(self) -> &'static str {
        match self {
            Savepoint::A => "sp_a",
            Savepoint::B => "sp_b",
        }
    }

    fn other(self) -> Savepoint {
        match self {
            Savepoint::A => Savepoint::B,
            Savepoint::B => Savepoint::A,
        }
    }

    /// Undoes and closes this savepoint, in one call.
    fn rollback_sql(self) -> &'static str {
        match self {
            Savepoint::A => "ROLLBACK TO sp_a; RELEASE sp_a",
            Savepoint::B => "ROLLBACK TO sp_b; RELEASE sp_b",
        }
    }
}

/// The write connection and the batch open on it.
pub(super) struct Writer {
    conn: SqliteConnection,
    batch: Option<Batch>,
    commits_since_checkpoint: u32,
}

impl Writer {
    pub(super) fn new(conn: SqliteConnection) -> Writer {
        Writer {
            conn,
            batch: None,
            commits_since_checkpoint: 0,
        }
    }
}

struct Batch {
    /// Transactions that joined this batch.
    members: usize,
    started: Instant,
    /// `Some(result)` once the batch committed (or failed to).
    done: BatchDone,
    /// `BEGIN` has run (some member ran a statement).
    begun: bool,
    /// The savepoint of a member that committed, still to be released.
    unreleased: Option<Savepoint>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            members: 0,
            started: Instant::now(),
            done: Arc::new(watch::channel(None).0),
            begun: false,
            unreleased: None,
        }
    }
}

/// The connection a transaction runs on.
pub(super) enum Conn {
    /// The writer, for this transaction's lifetime (`None` once finished).
    Writer(Option<OwnedMutexGuard<Writer>>),
    /// A read-only pooled connection (autocommit).
    Reader(PoolConnection<Sqlite>),
}

impl Deref for Conn {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            Conn::Writer(w) => &w.as_ref().expect("transaction still open").conn,
            Conn::Reader(r) => r,
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Conn::Writer(w) => &mut w.as_mut().expect("transaction still open").conn,
            Conn::Reader(r) => r,
        }
    }
}

/// A transaction: a member of the writer's batch, or a read.
pub(super) struct SqliteTx {
    pub(super) tx: Conn,
    storage: Option<SqliteStorage>,
    /// The batch's completion signal (writers only).
    done: Option<BatchDone>,
    /// This transaction's savepoint, once its first statement opened it.
    savepoint: Option<Savepoint>,
    /// Queues this transaction made rows pollable in: their held polls are
    /// woken once it commits (and answer once the commit is durable).
    pub(super) pollable: Pollable,
    /// For the first member of a batch, the latest commit before it: all
    /// it can have read. Later members may read earlier members' writes.
    read_upto: Option<u64>,
}

impl SqliteTx {
    /// Joins the writer's open batch, opening one if there is none.
    pub(super) fn join(storage: SqliteStorage, mut writer: OwnedMutexGuard<Writer>) -> SqliteTx {
        let batch = writer.batch.get_or_insert_with(Batch::new);
        batch.members += 1;
        let done = batch.done.clone();
        // Earlier batches all committed (and were numbered) under the lock.
        let read_upto = (batch.members == 1).then(|| storage.syncer.latest());
        SqliteTx {
            tx: Conn::Writer(Some(writer)),
            storage: Some(storage),
            done: Some(done),
            savepoint: None,
            pollable: Pollable::new(),
            read_upto,
        }
    }

    /// A read on a pooled connection.
    pub(super) fn read(conn: PoolConnection<Sqlite>) -> SqliteTx {
        SqliteTx {
            tx: Conn::Reader(conn),
            storage: None,
            done: None,
            savepoint: None,
            pollable: Pollable::new(),
            read_upto: None,
        }
    }

    /// The SQL to run for `stmt`: on the writer, a transaction's first
    /// statement gets `[BEGIN IMMEDIATE;] [RELEASE <previous>;] SAVEPOINT
    /// <own>;` in front of it.
    pub(super) fn sql<'a>(&mut self, stmt: &'a str) -> Cow<'a, str> {
        let Conn::Writer(Some(writer)) = &mut self.tx else {
            return Cow::Borrowed(stmt);
        };
        if self.savepoint.is_some() {
            return Cow::Borrowed(stmt);
        }
        let batch = writer.batch.as_mut().expect("a member's batch is open");
        let mut sql = String::with_capacity(48 + stmt.len());
        if !batch.begun {
            sql.push_str("BEGIN IMMEDIATE; ");
            batch.begun = true;
        }
        let own = match batch.unreleased.take() {
            Some(previous) => {
                sql.push_str("RELEASE ");
                sql.push_str(previous.name());
                sql.push_str("; ");
                previous.other()
            }
            None => Savepoint::A,
        };
        sql.push_str("SAVEPOINT ");
        sql.push_str(own.name());
        sql.push_str("; ");
        sql.push_str(stmt);
        self.savepoint = Some(own);
        Cow::Owned(sql)
    }

    /// Commits: leaves the savepoint to the batch and either commits the
    /// batch (nobody else is coming) or waits for it to be committed; then
    /// waits until the commit is durable. A `claim` that made nothing
    /// pollable waits only for what it read (see `Tx::commit_claim`).
    pub(super) async fn finish(mut self: Box<Self>, claim: bool) -> Result<()> {
        let Conn::Writer(guard) = &mut self.tx else {
            return Ok(()); // a read: nothing to commit
        };
        let mut writer = guard.take().expect("transaction still open");
        let storage = self.storage.take().expect("writer transaction");
        let done = self.done.take().expect("writer transaction");
        if let Some(savepoint) = self.savepoint {
            writer.batch.as_mut().expect("a member's batch is open").unreleased = Some(savepoint);
        }
        let number = if should_commit(&storage, &writer) {
            let number = commit_batch(&storage, &mut writer).await.map_err(Error::Database)?;
            // The next batch runs while the disk works on this one.
            drop(writer);
            number
        } else {
            // Others are about to join: let them in and wait for the batch.
            drop(writer);
            wait_for_batch(&storage, done).await?
        };
        // Wake the held polls at the commit, not after its flush: a woken
        // poll's claim reads this commit and waits for it to be durable
        // before it answers (its `read_upto`), so the flush overlaps the
        // claim's own work and nothing is handed out before it is on disk.
        for (queue, rows) in &self.pollable {
            storage.waiters.publish(queue, *rows);
        }
        let upto = match self.read_upto {
            Some(read) if claim && self.pollable.is_empty() => read,
            _ => number,
        };
        storage.syncer.wait(upto).await.map_err(Error::Database)?;
        if let Some(err) = storage.syncer.failed().filter(|_| upto < number) {
            return Err(Error::Database(err)); // nothing is acknowledged then
        }
        Ok(())
    }
}

impl Drop for SqliteTx {
    /// Dropped without commit: undo this transaction's savepoint and, if it
    /// was the last one the batch waited for, commit the others.
    fn drop(&mut self) {
        let (Conn::Writer(guard), Some(storage)) = (&mut self.tx, self.storage.take()) else {
            return;
        };
        let Some(mut writer) = guard.take() else { return };
        let savepoint = self.savepoint;
        tokio::spawn(async move {
            if let Some(savepoint) = savepoint {
                if let Err(err) = writer.conn.execute(savepoint.rollback_sql()).await {
                    let reason = format!("rolling back a failed transaction failed: {err}");
                    abandon_batch(&storage, &mut writer, reason).await;
                    return;
                }
            }
            if should_commit(&storage, &writer) {
                let _ = commit_batch(&storage, &mut writer).await;
            }
        });
    }
}

/// Should a finishing transaction commit the batch now?
fn should_commit(storage: &SqliteStorage, writer: &Writer) -> bool {
    let Some(batch) = &writer.batch else { return false };
    storage.waiting.load(Ordering::Acquire) == 0
        || batch.members >= MAX_BATCH
        || batch.started.elapsed() >= MAX_BATCH_DELAY
}

/// Commits the open batch and tells its members the commit's number, to
/// wait on for durability.
async fn commit_batch(storage: &SqliteStorage, writer: &mut Writer) -> std::result::Result<u64, String> {
    let Some(batch) = writer.batch.take() else { return Ok(0) };
    let result = if batch.begun {
        let committed = writer.conn.execute("COMMIT").await.map_err(|e| e.to_string());
        if committed.is_err() {
            let _ = writer.conn.execute("ROLLBACK").await;
        }
        storage.generation.fetch_add(1, Ordering::AcqRel);
        committed.map(|_| storage.syncer.committed())
    } else {
        Ok(0) // nobody wrote anything
    };
    batch.done.send_replace(Some(result.clone()));
    if result.is_ok() {
        writer.commits_since_checkpoint += 1;
        if writer.commits_since_checkpoint >= CHECKPOINT_EVERY {
            writer.commits_since_checkpoint = 0;
            if let Err(err) = writer.conn.execute(CHECKPOINT_SQL).await {
                tracing::warn!("checkpoint failed (retried later): {err}");
            }
        }
    }
    result
}

/// Rolls the whole open batch back and fails its members: for when a
/// member's own savepoint cannot be told apart from its neighbours'.
async fn abandon_batch(storage: &SqliteStorage, writer: &mut Writer, reason: String) {
    tracing::error!("{reason}; the open batch of transactions is rolled back");
    let _ = writer.conn.execute("ROLLBACK").await;
    storage.generation.fetch_add(1, Ordering::AcqRel);
    if let Some(batch) = writer.batch.take() {
        batch.done.send_replace(Some(Err(reason)));
    }
}

/// Waits for the batch a committed transaction joined to be committed, and
/// returns the commit's number.
async fn wait_for_batch(storage: &SqliteStorage, done: BatchDone) -> Result<u64> {
    let mut rx = done.subscribe();
    loop {
        let waited = tokio::time::timeout(MAX_BATCH_DELAY, async {
            rx.wait_for(Option::is_some).await.map(|r| r.clone())
        })
        .await;
        match waited {
            Ok(Ok(result)) => {
                return result.expect("checked is_some").map_err(Error::Database);
            }
            Ok(Err(_)) => return Err(Error::Database("batch abandoned".into())),
            Err(_) => {
                // Nobody came to commit: do it ourselves if our batch is
                // still the open one.
                let mut writer = storage.lock_writer().await;
                let ours = writer.batch.as_ref().is_some_and(|b| Arc::ptr_eq(&b.done, &done));
                if ours {
                    return commit_batch(storage, &mut writer).await.map_err(Error::Database);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use serde_json::json;

    use crate::storage::{Org, Storage, Task, Work};

    fn org(id: Uuid) -> Org {
        Org {
            id,
            name: id.to_string(),
            slug: id.to_string(),
        }
    }

    /// Concurrent transactions share batches; one that rolls back takes
    /// only its own writes with it, and every commit is visible to readers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_isolates_rollbacks() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("db")).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..64 {
            let storage = storage.clone();
            handles.push(tokio::spawn(async move {
                let id = Uuid::new_v4();
                let mut tx = storage.begin().await.unwrap();
                tx.upsert_org(&org(id)).await.unwrap();
                if i % 8 == 0 {
                    drop(tx); // rolled back
                    (id, false)
                } else {
                    tx.commit().await.unwrap();
                    (id, true)
                }
            }));
        }
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(h.await.unwrap());
        }
        // Let a pending drop-rollback finish its batch.
        tokio::time::sleep(Duration::from_millis(50)).await;
        for (id, committed) in outcomes {
            let found: Option<String> = sqlx::query_scalar("SELECT id FROM orgs WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&storage.reader)
                .await
                .unwrap();
            assert_eq!(found.is_some(), committed, "{id}");
        }
    }

    async fn org_exists(storage: &SqliteStorage, id: Uuid) -> bool {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM orgs WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&storage.reader)
            .await
            .unwrap();
        found.is_some()
    }

    /// Members of one batch, one after the other: a rollback, including one
    /// whose first statement failed, undoes only that member's writes,
    /// whether the member before it left its savepoint unreleased or not.
    #[tokio::test]
    async fn rollback_in_a_batch_spares_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("db")).await.unwrap();
        // Someone "waits" for the writer: commits leave the batch open.
        storage.waiting.fetch_add(1, Ordering::AcqRel);
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();

        let mut first = storage.begin().await.unwrap();
        first.upsert_org(&org(ids[0])).await.unwrap();
        let first = tokio::spawn(first.commit());

        let mut rolled_back = storage.begin().await.unwrap();
        rolled_back.upsert_org(&org(ids[1])).await.unwrap();
        rolled_back.upsert_org(&org(ids[2])).await.unwrap();
        drop(rolled_back);

        let mut third = storage.begin().await.unwrap();
        third.upsert_org(&org(ids[3])).await.unwrap();
        let third = tokio::spawn(third.commit());

        // A first statement that fails: a task of an org that does not exist.
        let mut failed = storage.begin().await.unwrap();
        let orphan = Task::pending(Uuid::new_v4(), Uuid::new_v4(), "k".into(), "q".into(), json!({}), 0, 0);
        assert!(failed.insert_task(&orphan).await.is_err());
        drop(failed);

        let mut last = storage.begin().await.unwrap();
        last.upsert_org(&org(ids[4])).await.unwrap();
        storage.waiting.fetch_sub(1, Ordering::AcqRel);
        last.commit().await.unwrap();
        first.await.unwrap().unwrap();
        third.await.unwrap().unwrap();

        let kept: Vec<bool> = kept(&storage, &ids).await;
        assert_eq!(kept, [true, false, false, true, true]);
    }

    async fn kept(storage: &SqliteStorage, ids: &[Uuid]) -> Vec<bool> {
        let mut kept = Vec::new();
        for id in ids {
            kept.push(org_exists(storage, *id).await);
        }
        kept
    }

    /// Is `future` still waiting after `ms` milliseconds?
    async fn still_waiting<F: std::future::Future>(future: &mut std::pin::Pin<Box<F>>, ms: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(ms), future.as_mut())
            .await
            .is_err()
    }

    /// A claim's commit waits for what it read to be on disk, not for its
    /// own flush: with flushes held back, a claim of durable work returns,
    /// a claim that read a commit not yet flushed waits for that flush, and
    /// a plain commit waits for its own.
    #[tokio::test]
    async fn a_claim_waits_for_what_it_read_not_for_its_own_flush() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("db")).await.unwrap();
        let org_id = Uuid::new_v4();
        let task = |queue: &str| Task::pending(Uuid::new_v4(), org_id, "k".into(), queue.into(), json!({}), 0, 0);
        let mut tx = storage.begin().await.unwrap();
        tx.upsert_org(&org(org_id)).await.unwrap();
        tx.insert_task(&task("durable")).await.unwrap();
        tx.commit().await.unwrap();

        storage.syncer.pause(true);
        let mut claim = storage.begin().await.unwrap();
        assert!(claim.claim_task(org_id, "durable", 0, 60_000).await.unwrap().is_some());
        let claimed = tokio::time::timeout(Duration::from_secs(5), claim.commit_claim()).await;
        assert!(claimed.expect("a claim of durable work waits for no flush").is_ok());

        let mut write = storage.begin().await.unwrap();
        write.insert_task(&task("fresh")).await.unwrap();
        let mut write = Box::pin(write.commit());
        assert!(
            still_waiting(&mut write, 200).await,
            "a plain commit waits for its flush"
        );

        let mut claim = storage.begin().await.unwrap();
        assert!(claim.claim_task(org_id, "fresh", 0, 60_000).await.unwrap().is_some());
        let mut claim = Box::pin(claim.commit_claim());
        assert!(still_waiting(&mut claim, 200).await, "it read a commit not yet on disk");

        storage.syncer.pause(false);
        write.await.unwrap();
        claim.await.unwrap();
    }

    /// A commit wakes the held polls of its queues when it commits, before
    /// its flush; the woken poll's claim still answers only after that
    /// flush, so nothing is handed out that a crash could take back.
    #[tokio::test]
    async fn a_commit_wakes_its_queues_before_its_flush() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("db")).await.unwrap();
        let org_id = Uuid::new_v4();
        let mut tx = storage.begin().await.unwrap();
        tx.upsert_org(&org(org_id)).await.unwrap();
        tx.commit().await.unwrap();

        storage.syncer.pause(true);
        let ticket = storage.waiters.register((Work::Task, org_id, "q".into()));
        let mut write = storage.begin().await.unwrap();
        let task = Task::pending(Uuid::new_v4(), org_id, "k".into(), "q".into(), json!({}), 0, 0);
        write.insert_task(&task).await.unwrap();
        let mut write = Box::pin(write.commit());
        assert!(still_waiting(&mut write, 200).await, "the commit waits for its flush");
        tokio::time::timeout(Duration::from_secs(5), ticket.woken())
            .await
            .expect("the held poll is woken before the flush");

        let mut claim = storage.begin().await.unwrap();
        assert!(claim.claim_task(org_id, "q", 0, 60_000).await.unwrap().is_some());
        let mut claim = Box::pin(claim.commit_claim());
        assert!(still_waiting(&mut claim, 200).await, "the claim waits for the flush");
        storage.syncer.pause(false);
        write.await.unwrap();
        claim.await.unwrap();
    }
}
