//! The SQLite backend: one file in WAL mode, `synchronous = FULL` (a commit
//! is on disk when it returns), embedded migrations, runtime queries.
//!
//! Writes go through one connection (SQLite has one writer at a time) with
//! **group commit**: concurrent transactions join one physical transaction,
//! each inside its own `SAVEPOINT` (so one can roll back alone), and the
//! last one to finish while nobody else waits commits for all of them: one
//! fsync per batch instead of one per request. A transaction's `commit()`
//! returns only once its batch is on disk. Reads that need no write go to a
//! separate pool of connections and see committed data only.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Executor, Sqlite, SqlitePool};
use tokio::sync::{watch, Mutex, OwnedMutexGuard};
use uuid::Uuid;

use super::rows::{ClaimedRow, EventRow, PromiseRow, ScheduleRow, TaskRow, WorkflowRow};
use super::{Error, Event, Org, Promise, PromiseStatus, Result, Schedule, Storage, Task, Tx, Work, Worker, Workflow};

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            other => Error::Database(other.to_string()),
        }
    }
}

/// How a batch ended, for the transactions waiting on it.
type BatchResult = Option<std::result::Result<(), String>>;
/// The signal a batch's members wait on.
type BatchDone = Arc<watch::Sender<BatchResult>>;
/// (work, org, queue) of a cached "nothing ready" answer.
type ReadyKey = (Work, Uuid, String);

/// Most transactions in one batch.
const MAX_BATCH: usize = 512;
/// Longest a batch stays open waiting for more transactions.
const MAX_BATCH_DELAY: Duration = Duration::from_millis(10);

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
}

/// Most cached "nothing ready" answers (idle queues); beyond, the cache
/// starts over.
const MAX_EMPTY_ENTRIES: usize = 100_000;

/// The write connection and the batch open on it.
struct Writer {
    conn: SqliteConnection,
    batch: Option<Batch>,
}

struct Batch {
    /// Transactions that joined this batch.
    members: usize,
    started: Instant,
    /// `Some(result)` once the batch committed (or failed to).
    done: BatchDone,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut conn = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut conn)
            .await
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStorage {
            writer: Arc::new(Mutex::new(Writer { conn, batch: None })),
            waiting: Arc::new(AtomicUsize::new(0)),
            reader,
            generation: Arc::new(AtomicU64::new(0)),
            empty: Arc::default(),
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
        let mut writer = self.lock_writer().await;
        // One round trip to the SQLite thread either way.
        if writer.batch.is_none() {
            if let Err(err) = writer.conn.execute("BEGIN IMMEDIATE; SAVEPOINT op").await {
                if !writer.conn.is_in_transaction() {
                    return Err(err.into());
                }
                let _ = writer.conn.execute("ROLLBACK").await;
                return Err(err.into());
            }
            writer.batch = Some(Batch {
                members: 0,
                started: Instant::now(),
                done: Arc::new(watch::channel(None).0),
            });
        } else if let Err(err) = writer.conn.execute("SAVEPOINT op").await {
            // Nothing of ours is in the batch; leave it to its members.
            return Err(err.into());
        }
        let batch = writer.batch.as_mut().expect("a batch is open");
        batch.members += 1;
        let done = batch.done.clone();
        Ok(Box::new(SqliteTx {
            tx: Conn::Writer(Some(writer)),
            storage: Some(self.clone()),
            done: Some(done),
        }))
    }

    async fn has_ready(&self, work: Work, org_id: Uuid, queue: &str) -> Result<bool> {
        let key = (work, org_id, queue.to_string());
        // Read the generation before the query: a commit after this point
        // makes the cached answer stale, never wrong.
        let generation = self.generation.load(Ordering::Acquire);
        if self.empty.lock().expect("not poisoned").get(&key) == Some(&generation) {
            return Ok(false);
        }
        let sql = match work {
            Work::Workflow => {
                "SELECT 1 FROM workflow_executions WHERE org_id = ? AND queue = ? AND status = 'PENDING' LIMIT 1"
            }
            Work::Task => "SELECT 1 FROM tasks WHERE org_id = ? AND queue = ? AND status = 'PENDING' LIMIT 1",
        };
        let found: Option<i64> = sqlx::query_scalar(sql)
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

    async fn read(&self) -> Result<Box<dyn Tx>> {
        let conn = self.reader.acquire().await?;
        Ok(Box::new(SqliteTx {
            tx: Conn::Reader(conn),
            storage: None,
            done: None,
        }))
    }
}

/// Commits the open batch and tells its members. `release` also releases
/// the committing member's savepoint, in the same round trip.
async fn commit_batch(storage: &SqliteStorage, writer: &mut Writer, release: bool) -> std::result::Result<(), String> {
    let sql = if release {
        "RELEASE SAVEPOINT op; COMMIT"
    } else {
        "COMMIT"
    };
    let result = writer.conn.execute(sql).await.map(|_| ()).map_err(|e| e.to_string());
    storage.generation.fetch_add(1, Ordering::AcqRel);
    if result.is_err() {
        let _ = writer.conn.execute("ROLLBACK").await;
    }
    if let Some(batch) = writer.batch.take() {
        batch.done.send_replace(Some(result.clone()));
    }
    result
}

/// Should a finishing transaction commit the batch now?
fn should_commit(storage: &SqliteStorage, writer: &Writer) -> bool {
    let Some(batch) = &writer.batch else { return false };
    storage.waiting.load(Ordering::Acquire) == 0
        || batch.members >= MAX_BATCH
        || batch.started.elapsed() >= MAX_BATCH_DELAY
}

/// The connection a transaction runs on.
enum Conn {
    /// The writer, inside this transaction's savepoint (`None` once
    /// released).
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

struct SqliteTx {
    tx: Conn,
    storage: Option<SqliteStorage>,
    /// The batch's completion signal (writers only).
    done: Option<BatchDone>,
}

impl Drop for SqliteTx {
    /// Dropped without commit: undo this transaction's savepoint and, if it
    /// was the last one the batch waited for, commit the others.
    fn drop(&mut self) {
        let (Conn::Writer(guard), Some(storage)) = (&mut self.tx, self.storage.take()) else {
            return;
        };
        let Some(mut writer) = guard.take() else { return };
        tokio::spawn(async move {
            let _ = writer.conn.execute("ROLLBACK TO SAVEPOINT op").await;
            let _ = writer.conn.execute("RELEASE SAVEPOINT op").await;
            if should_commit(&storage, &writer) {
                let _ = commit_batch(&storage, &mut writer, false).await;
            }
        });
    }
}

impl SqliteTx {
    /// Waits for the batch this transaction joined to be committed.
    async fn wait_for_batch(
        &mut self,
        done: Arc<watch::Sender<Option<std::result::Result<(), String>>>>,
    ) -> Result<()> {
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
                    let storage = self.storage.as_ref().expect("writer transaction");
                    let mut writer = storage.lock_writer().await;
                    let ours = writer.batch.as_ref().is_some_and(|b| Arc::ptr_eq(&b.done, &done));
                    if ours {
                        return commit_batch(storage, &mut writer, false).await.map_err(Error::Database);
                    }
                }
            }
        }
    }
}

const WORKFLOW_COLUMNS: &str = "id, org_id, kind, queue, input, status, output, error, priority_ms, idempotency_key, \
     parent_id, child_name, lease_until, wakeup_pending, task_time_ms, ready_at, created_at, completed_at";
const TASK_COLUMNS: &str = "id, org_id, workflow_execution_id, kind, queue, input, status, output, error, \
     execution_count, max_retries, timeout_ms, idempotency_key, lease_until, ready_at, created_at, completed_at";

const SCHEDULE_COLUMNS: &str = "id, org_id, name, cron, workflow_kind, queue, input, paused, next_fire_at, created_at";
const PROMISE_COLUMNS: &str = "id, org_id, execution_id, name, status, timeout_at, created_at";

fn text(v: &Value) -> String {
    v.to_string()
}

fn opt_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        let Conn::Writer(guard) = &mut self.tx else {
            return Ok(()); // a read: nothing to commit
        };
        let mut writer = guard.take().expect("transaction still open");
        let storage = self.storage.take().expect("writer transaction");
        let done = self.done.take().expect("writer transaction");
        if should_commit(&storage, &writer) {
            return commit_batch(&storage, &mut writer, true).await.map_err(Error::Database);
        }
        if let Err(err) = writer.conn.execute("RELEASE SAVEPOINT op").await {
            let _ = writer.conn.execute("ROLLBACK TO SAVEPOINT op").await;
            let _ = writer.conn.execute("RELEASE SAVEPOINT op").await;
            if should_commit(&storage, &writer) {
                let _ = commit_batch(&storage, &mut writer, false).await;
            }
            return Err(err.into());
        }
        // Others are about to join: let them in and wait for the batch.
        drop(writer);
        self.storage = Some(storage);
        self.wait_for_batch(done).await
    }

    async fn upsert_org(&mut self, org: &Org) -> Result<()> {
        sqlx::query("INSERT INTO orgs (id, name, slug) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, slug = excluded.slug")
            .bind(org.id.to_string())
            .bind(&org.name)
            .bind(&org.slug)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO workflow_executions ({WORKFLOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(w.id.to_string())
        .bind(w.org_id.to_string())
        .bind(&w.kind)
        .bind(&w.queue)
        .bind(text(&w.input))
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.priority_ms)
        .bind(&w.idempotency_key)
        .bind(w.parent_id.map(|p| p.to_string()))
        .bind(&w.child_name)
        .bind(w.lease_until)
        .bind(w.wakeup_pending as i64)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.created_at)
        .bind(w.completed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn workflow(&mut self, id: Uuid) -> Result<Option<Workflow>> {
        let row: Option<WorkflowRow> = sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn workflow_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Workflow>> {
        let row: Option<WorkflowRow> = sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE org_id = ? AND idempotency_key = ?"
        ))
        .bind(org_id.to_string())
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        sqlx::query(
            "UPDATE workflow_executions SET status = ?, output = ?, error = ?, lease_until = ?, wakeup_pending = ?, \
             task_time_ms = ?, ready_at = ?, completed_at = ? WHERE id = ?",
        )
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.lease_until)
        .bind(w.wakeup_pending as i64)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.completed_at)
        .bind(w.id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn claim_workflow(&mut self, org_id: Uuid, queue: &str, lease_until: i64) -> Result<Option<(Workflow, i32)>> {
        // One statement: the claim and the history length together.
        let row: Option<ClaimedRow> = sqlx::query_as(&format!(
            "UPDATE workflow_executions SET status = 'RUNNING', lease_until = ?, wakeup_pending = 0 \
             WHERE id = (SELECT id FROM workflow_executions WHERE org_id = ? AND queue = ? AND status = 'PENDING' \
                         ORDER BY priority_ms, ready_at LIMIT 1) \
             RETURNING {WORKFLOW_COLUMNS}, \
                 (SELECT COUNT(*) FROM workflow_events WHERE execution_id = workflow_executions.id) AS history_len"
        ))
        .bind(lease_until)
        .bind(org_id.to_string())
        .bind(queue)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| Ok((Workflow::try_from(r.workflow)?, r.history_len as i32)))
            .transpose()
    }

    async fn append_event(&mut self, execution_id: Uuid, event_type: &str, data: &Value, now: i64) -> Result<i32> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO workflow_events (execution_id, sequence_number, event_type, data, created_at) \
             VALUES (?1, (SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM workflow_events WHERE execution_id = ?1), ?2, ?3, ?4) \
             RETURNING sequence_number",
        )
        .bind(execution_id.to_string())
        .bind(event_type)
        .bind(text(data))
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(seq as i32)
    }

    async fn events(&mut self, execution_id: Uuid) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT sequence_number, event_type, data, created_at FROM workflow_events \
             WHERE execution_id = ? ORDER BY sequence_number",
        )
        .bind(execution_id.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Event {
                    sequence_number: r.sequence_number as i32,
                    event_type: r.event_type,
                    data: super::rows::json(&r.data)?,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    async fn insert_task(&mut self, t: &Task) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO NOTHING"
        ))
        .bind(t.id.to_string())
        .bind(t.org_id.to_string())
        .bind(t.workflow_execution_id.map(|w| w.to_string()))
        .bind(&t.kind)
        .bind(&t.queue)
        .bind(text(&t.input))
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count as i64)
        .bind(t.max_retries as i64)
        .bind(t.timeout_ms)
        .bind(&t.idempotency_key)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.created_at)
        .bind(t.completed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn task(&mut self, id: Uuid) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(Task::try_from).transpose()
    }

    async fn task_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE org_id = ? AND idempotency_key = ?"
        ))
        .bind(org_id.to_string())
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Task::try_from).transpose()
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        sqlx::query(
            "UPDATE tasks SET status = ?, output = ?, error = ?, execution_count = ?, lease_until = ?, ready_at = ?, \
             completed_at = ? WHERE id = ?",
        )
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count as i64)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.completed_at)
        .bind(t.id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn claim_task(&mut self, org_id: Uuid, queue: &str, now: i64, lease_until: i64) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "UPDATE tasks SET status = 'RUNNING', execution_count = execution_count + 1, \
                 lease_until = CASE WHEN timeout_ms IS NOT NULL AND ?1 + timeout_ms < ?2 THEN ?1 + timeout_ms ELSE ?2 END \
             WHERE id = (SELECT id FROM tasks WHERE org_id = ?3 AND queue = ?4 AND status = 'PENDING' \
                         ORDER BY ready_at LIMIT 1) \
             RETURNING {TASK_COLUMNS}"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(org_id.to_string())
        .bind(queue)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Task::try_from).transpose()
    }

    async fn expired_tasks(&mut self, now: i64, limit: i64) -> Result<Vec<Task>> {
        let rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND lease_until <= ? ORDER BY lease_until LIMIT ?"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Task::try_from).collect()
    }

    async fn task_state(&mut self, task_id: Uuid, key: &str) -> Result<Option<Value>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM task_state WHERE task_id = ? AND key = ?")
            .bind(task_id.to_string())
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        value.as_deref().map(super::rows::json).transpose()
    }

    async fn set_task_state(&mut self, task_id: Uuid, key: &str, value: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO task_state (task_id, key, value) VALUES (?, ?, ?) \
             ON CONFLICT(task_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(task_id.to_string())
        .bind(key)
        .bind(text(value))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn clear_task_state(&mut self, task_id: Uuid, key: Option<&str>) -> Result<()> {
        match key {
            Some(key) => sqlx::query("DELETE FROM task_state WHERE task_id = ? AND key = ?")
                .bind(task_id.to_string())
                .bind(key),
            None => sqlx::query("DELETE FROM task_state WHERE task_id = ?").bind(task_id.to_string()),
        }
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn task_state_keys(&mut self, task_id: Uuid) -> Result<Vec<String>> {
        let keys = sqlx::query_scalar("SELECT key FROM task_state WHERE task_id = ? ORDER BY key")
            .bind(task_id.to_string())
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(keys)
    }

    async fn insert_timer(&mut self, execution_id: Uuid, timer_id: &str, fire_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO timers (execution_id, timer_id, fire_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(execution_id.to_string())
            .bind(timer_id)
            .bind(fire_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_timer(&mut self, execution_id: Uuid, timer_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM timers WHERE execution_id = ? AND timer_id = ?")
            .bind(execution_id.to_string())
            .bind(timer_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_timers_of(&mut self, execution_id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM timers WHERE execution_id = ?")
            .bind(execution_id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT execution_id, timer_id FROM timers WHERE fire_at <= ? ORDER BY fire_at LIMIT ?")
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
        rows.into_iter().map(|(e, t)| Ok((super::rows::uuid(&e)?, t))).collect()
    }

    async fn insert_promise(&mut self, p: &Promise) -> Result<()> {
        sqlx::query(
            "INSERT INTO promises (id, org_id, execution_id, name, status, timeout_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.to_string())
        .bind(p.org_id.to_string())
        .bind(p.execution_id.to_string())
        .bind(&p.name)
        .bind(p.status.as_str())
        .bind(p.timeout_at)
        .bind(p.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn promise(&mut self, id: Uuid) -> Result<Option<Promise>> {
        let row: Option<PromiseRow> = sqlx::query_as(&format!("SELECT {PROMISE_COLUMNS} FROM promises WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(Promise::try_from).transpose()
    }

    async fn pending_promise_named(&mut self, execution_id: Uuid, name: &str) -> Result<Option<Promise>> {
        let row: Option<PromiseRow> = sqlx::query_as(&format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE execution_id = ? AND name = ? AND status = 'PENDING' \
             ORDER BY created_at LIMIT 1"
        ))
        .bind(execution_id.to_string())
        .bind(name)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Promise::try_from).transpose()
    }

    async fn set_promise_status(&mut self, id: Uuid, status: PromiseStatus) -> Result<()> {
        sqlx::query("UPDATE promises SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_promise_timeouts(&mut self, now: i64, limit: i64) -> Result<Vec<Promise>> {
        let rows: Vec<PromiseRow> = sqlx::query_as(&format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE status = 'PENDING' AND timeout_at <= ? ORDER BY timeout_at LIMIT ?"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Promise::try_from).collect()
    }

    async fn insert_schedule(&mut self, sc: &Schedule) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        ))
        .bind(sc.id.to_string())
        .bind(sc.org_id.to_string())
        .bind(&sc.name)
        .bind(&sc.cron)
        .bind(&sc.workflow_kind)
        .bind(&sc.queue)
        .bind(text(&sc.input))
        .bind(sc.paused as i64)
        .bind(sc.next_fire_at)
        .bind(sc.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn schedule(&mut self, id: Uuid) -> Result<Option<Schedule>> {
        let row: Option<ScheduleRow> =
            sqlx::query_as(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&mut *self.tx)
                .await?;
        row.map(Schedule::try_from).transpose()
    }

    async fn schedules(&mut self, org_id: Uuid) -> Result<Vec<Schedule>> {
        let rows: Vec<ScheduleRow> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE org_id = ? ORDER BY name"
        ))
        .bind(org_id.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn update_schedule(&mut self, sc: &Schedule) -> Result<()> {
        sqlx::query("UPDATE schedules SET paused = ?, next_fire_at = ? WHERE id = ?")
            .bind(sc.paused as i64)
            .bind(sc.next_fire_at)
            .bind(sc.id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_schedule(&mut self, id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM schedules WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_schedules(&mut self, now: i64, limit: i64) -> Result<Vec<Schedule>> {
        let rows: Vec<ScheduleRow> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE paused = 0 AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn set_state(&mut self, execution_id: Uuid, key: &str, value: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO workflow_state (execution_id, key, value) VALUES (?, ?, ?) \
             ON CONFLICT(execution_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(execution_id.to_string())
        .bind(key)
        .bind(text(value))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn clear_state(&mut self, execution_id: Uuid, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM workflow_state WHERE execution_id = ? AND key = ?")
            .bind(execution_id.to_string())
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn state(&mut self, execution_id: Uuid, key: &str) -> Result<Option<Value>> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM workflow_state WHERE execution_id = ? AND key = ?")
                .bind(execution_id.to_string())
                .bind(key)
                .fetch_optional(&mut *self.tx)
                .await?;
        value.as_deref().map(super::rows::json).transpose()
    }

    async fn reclaim_expired_workflows(&mut self, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE workflow_executions SET status = 'PENDING', lease_until = NULL, ready_at = ? \
             WHERE status = 'RUNNING' AND lease_until <= ?",
        )
        .bind(now)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    async fn next_due(&mut self) -> Result<Option<i64>> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(lease_until) AS t FROM workflow_executions WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(lease_until) FROM tasks WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(fire_at) FROM timers \
               UNION ALL SELECT MIN(timeout_at) FROM promises WHERE status = 'PENDING' \
               UNION ALL SELECT MIN(next_fire_at) FROM schedules WHERE paused = 0)",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(next)
    }

    async fn upsert_worker(&mut self, w: &Worker) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (id, org_id, name, version, worker_type, workflow_kinds, task_kinds, registered_at, last_heartbeat) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat",
        )
        .bind(w.id.to_string())
        .bind(w.org_id.to_string())
        .bind(&w.name)
        .bind(&w.version)
        .bind(&w.worker_type)
        .bind(serde_json::to_string(&w.workflow_kinds).unwrap_or_default())
        .bind(serde_json::to_string(&w.task_kinds).unwrap_or_default())
        .bind(w.registered_at)
        .bind(w.last_heartbeat)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn heartbeat(&mut self, worker_id: Uuid, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE workers SET last_heartbeat = ? WHERE id = ?")
            .bind(now)
            .bind(worker_id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
