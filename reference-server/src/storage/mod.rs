//! Storage: the server's durable state behind one trait, so that SQLite
//! (the embedded default) and PostgreSQL (next) are interchangeable.
//!
//! Every RPC runs its reads and writes in one [`Tx`]: nothing is half
//! applied, and what a commit acknowledged survives a crash (a claim's
//! commit is the one exception, see [`Tx::commit_claim`]). The trait deals
//! in domain types only; SQL rows stay in the implementations.

pub mod postgres;
mod queries;
mod rows;
mod sql;
pub mod sqlite;
pub mod waiters;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

pub use self::waiters::{QueueKey, Ticket, Waiters};

/// Storage failures. `NotFound` is for lookups that must find a row.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            other => Error::Database(other.to_string()),
        }
    }
}

/// A durable store; cheap to clone behind an `Arc`.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Starts a write transaction. Transactions are serialisable: a claim
    /// made in one is never seen as free by another.
    async fn begin(&self) -> Result<Box<dyn Tx>>;

    /// Starts a read: it sees committed data only and must not write.
    async fn read(&self) -> Result<Box<dyn Tx>>;

    /// Might (org, queue) have pollable work of this kind? `false` is a
    /// promise that a claim would find nothing; `true` may be wrong. Lets
    /// empty polls skip the writer (and, with a cache, the database).
    async fn has_ready(&self, work: Work, org_id: Uuid, queue: &str) -> Result<bool>;

    /// The held polls of this server. Every committed transaction that
    /// made rows pollable wakes as many of its queue's polls, once the
    /// commit is durable; no caller has to.
    fn waiters(&self) -> &Arc<Waiters>;

    /// How often a held poll looks again without being woken: `None` when
    /// no wake can be lost (one process), an interval when one can (a
    /// notification from another replica missed while reconnecting).
    fn recheck_interval(&self) -> Option<Duration>;
}

/// One transaction. Dropping it without [`Tx::commit`] rolls back.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Commits a claim (a lease taken, nothing made pollable): visible at
    /// once, on disk with the next flush instead of before this returns.
    /// What the claim read is on disk before it returns, so a poll never
    /// hands out work a crash could take back; a claim a crash takes back
    /// leaves its item pollable again, as an expired lease does.
    async fn commit_claim(self: Box<Self>) -> Result<()>;

    async fn upsert_org(&mut self, org: &Org) -> Result<()>;

    async fn insert_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    async fn workflow(&mut self, id: Uuid) -> Result<Option<Workflow>>;
    async fn workflow_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Workflow>>;
    async fn update_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    /// Hands the highest-priority, oldest pollable workflow of (org, queue)
    /// to the caller until `lease_until`, with the length of its history.
    async fn claim_workflow(&mut self, org_id: Uuid, queue: &str, lease_until: i64) -> Result<Option<(Workflow, i32)>>;

    /// Appends an event with the next dense sequence number and returns it.
    async fn append_event(&mut self, execution_id: Uuid, event_type: &str, data: &Value, now: i64) -> Result<i32>;
    async fn events(&mut self, execution_id: Uuid) -> Result<Vec<Event>>;

    /// Inserts a task; `false` when a task with this id already exists.
    async fn insert_task(&mut self, task: &Task) -> Result<bool>;
    async fn task(&mut self, id: Uuid) -> Result<Option<Task>>;
    async fn task_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Task>>;
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    /// Claims the next pollable task; its lease ends at `lease_until`, or
    /// earlier when the task's own timeout says so.
    async fn claim_task(&mut self, org_id: Uuid, queue: &str, now: i64, lease_until: i64) -> Result<Option<Task>>;
    /// Undoes a claim that was never delivered: the workflow (still held
    /// under `lease_until`) is pollable again; `false` if it was not.
    async fn release_workflow(&mut self, id: Uuid, lease_until: i64) -> Result<bool>;
    /// Undoes a task claim that was never delivered, attempt count
    /// included; `false` if the task was no longer held under `lease_until`.
    async fn release_task(&mut self, id: Uuid, lease_until: i64) -> Result<bool>;
    /// Running tasks whose lease (or attempt timeout) has passed.
    async fn expired_tasks(&mut self, now: i64, limit: i64) -> Result<Vec<Task>>;

    async fn task_state(&mut self, task_id: Uuid, key: &str) -> Result<Option<Value>>;
    async fn set_task_state(&mut self, task_id: Uuid, key: &str, value: &Value) -> Result<()>;
    /// Removes one key, or every key with `None`.
    async fn clear_task_state(&mut self, task_id: Uuid, key: Option<&str>) -> Result<()>;
    async fn task_state_keys(&mut self, task_id: Uuid) -> Result<Vec<String>>;

    async fn insert_timer(&mut self, execution_id: Uuid, timer_id: &str, fire_at: i64) -> Result<()>;
    /// Removes a timer; `false` when there was none.
    async fn delete_timer(&mut self, execution_id: Uuid, timer_id: &str) -> Result<bool>;
    async fn delete_timers_of(&mut self, execution_id: Uuid) -> Result<()>;
    async fn due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<(Uuid, String)>>;

    async fn insert_promise(&mut self, promise: &Promise) -> Result<()>;
    async fn promise(&mut self, id: Uuid) -> Result<Option<Promise>>;
    /// The oldest pending promise of that name in an execution.
    async fn pending_promise_named(&mut self, execution_id: Uuid, name: &str) -> Result<Option<Promise>>;
    async fn set_promise_status(&mut self, id: Uuid, status: PromiseStatus) -> Result<()>;
    async fn due_promise_timeouts(&mut self, now: i64, limit: i64) -> Result<Vec<Promise>>;

    /// Inserts a schedule; `false` when the org already has one of that name.
    async fn insert_schedule(&mut self, schedule: &Schedule) -> Result<bool>;
    async fn schedule(&mut self, id: Uuid) -> Result<Option<Schedule>>;
    async fn schedules(&mut self, org_id: Uuid) -> Result<Vec<Schedule>>;
    async fn update_schedule(&mut self, schedule: &Schedule) -> Result<()>;
    async fn delete_schedule(&mut self, id: Uuid) -> Result<()>;
    async fn due_schedules(&mut self, now: i64, limit: i64) -> Result<Vec<Schedule>>;

    async fn set_state(&mut self, execution_id: Uuid, key: &str, value: &Value) -> Result<()>;
    async fn clear_state(&mut self, execution_id: Uuid, key: &str) -> Result<()>;
    /// A workflow's state value (set by `SET_STATE`).
    async fn state(&mut self, execution_id: Uuid, key: &str) -> Result<Option<Value>>;

    /// Workflows whose lease expired go back to their queue; returns how
    /// many.
    async fn reclaim_expired_workflows(&mut self, now: i64) -> Result<u64>;
    /// The earliest future instant at which a lease expires or a timer is
    /// due.
    async fn next_due(&mut self) -> Result<Option<i64>>;

    async fn upsert_worker(&mut self, worker: &Worker) -> Result<()>;
    /// Records a heartbeat; `false` for an unknown worker.
    async fn heartbeat(&mut self, worker_id: Uuid, now: i64) -> Result<bool>;
}

/// The two kinds of pollable work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Work {
    Workflow,
    Task,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// Server-side workflow execution status (fact sheet 4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowStatus {
    Pending,
    Running,
    Waiting,
    Completed,
    Failed,
    Cancelled,
}

impl WorkflowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Pending => "PENDING",
            WorkflowStatus::Running => "RUNNING",
            WorkflowStatus::Waiting => "WAITING",
            WorkflowStatus::Completed => "COMPLETED",
            WorkflowStatus::Failed => "FAILED",
            WorkflowStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => WorkflowStatus::Pending,
            "RUNNING" => WorkflowStatus::Running,
            "WAITING" => WorkflowStatus::Waiting,
            "COMPLETED" => WorkflowStatus::Completed,
            "FAILED" => WorkflowStatus::Failed,
            "CANCELLED" => WorkflowStatus::Cancelled,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            WorkflowStatus::Completed | WorkflowStatus::Failed | WorkflowStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub queue: String,
    pub input: Value,
    pub status: WorkflowStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub priority_ms: i64,
    pub idempotency_key: Option<String>,
    pub parent_id: Option<Uuid>,
    pub child_name: Option<String>,
    pub lease_until: Option<i64>,
    /// A wake-up event arrived while the execution was handed out.
    pub wakeup_pending: bool,
    /// The deterministic clock of the current workflow task (epoch ms).
    pub task_time_ms: i64,
    pub ready_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

impl Workflow {
    /// A new execution, pollable at once.
    pub fn pending(id: Uuid, org_id: Uuid, kind: String, queue: String, input: Value, now: i64) -> Self {
        Workflow {
            id,
            org_id,
            kind,
            queue,
            input,
            status: WorkflowStatus::Pending,
            output: None,
            error: None,
            priority_ms: 0,
            idempotency_key: None,
            parent_id: None,
            child_name: None,
            lease_until: None,
            wakeup_pending: false,
            task_time_ms: now,
            ready_at: now,
            created_at: now,
            completed_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub sequence_number: i32,
    pub event_type: String,
    pub data: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Running,
    Completed,
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => TaskStatus::Pending,
            "RUNNING" => TaskStatus::Running,
            "COMPLETED" => TaskStatus::Completed,
            "FAILED" => TaskStatus::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: Uuid,
    pub org_id: Uuid,
    pub workflow_execution_id: Option<Uuid>,
    pub kind: String,
    pub queue: String,
    pub input: Value,
    pub status: TaskStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    /// Attempts started so far (1 during the first run).
    pub execution_count: i32,
    pub max_retries: i32,
    /// Time one attempt may take before it counts as failed.
    pub timeout_ms: Option<i64>,
    pub idempotency_key: Option<String>,
    pub lease_until: Option<i64>,
    pub ready_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

impl Task {
    /// A new task, pollable at once (its first attempt not yet started).
    pub fn pending(
        id: Uuid,
        org_id: Uuid,
        kind: String,
        queue: String,
        input: Value,
        max_retries: i32,
        now: i64,
    ) -> Self {
        Task {
            id,
            org_id,
            workflow_execution_id: None,
            kind,
            queue,
            input,
            status: TaskStatus::Pending,
            output: None,
            error: None,
            execution_count: 0,
            max_retries,
            timeout_ms: None,
            idempotency_key: None,
            lease_until: None,
            ready_at: now,
            created_at: now,
            completed_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseStatus {
    Pending,
    Resolved,
    Rejected,
    TimedOut,
}

impl PromiseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseStatus::Pending => "PENDING",
            PromiseStatus::Resolved => "RESOLVED",
            PromiseStatus::Rejected => "REJECTED",
            PromiseStatus::TimedOut => "TIMED_OUT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => PromiseStatus::Pending,
            "RESOLVED" => PromiseStatus::Resolved,
            "REJECTED" => PromiseStatus::Rejected,
            "TIMED_OUT" => PromiseStatus::TimedOut,
            _ => return None,
        })
    }
}

/// A durable promise owned by a workflow execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    pub id: Uuid,
    pub org_id: Uuid,
    pub execution_id: Uuid,
    /// The name the workflow code gave it.
    pub name: String,
    pub status: PromiseStatus,
    pub timeout_at: Option<i64>,
    pub created_at: i64,
}

/// A cron schedule starting one workflow per fire time.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub cron: String,
    pub workflow_kind: String,
    pub queue: String,
    pub input: Value,
    pub paused: bool,
    /// The next fire time (epoch ms); `None` when the expression has no
    /// future fire time.
    pub next_fire_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub version: String,
    pub worker_type: String,
    pub workflow_kinds: Vec<String>,
    pub task_kinds: Vec<String>,
    pub registered_at: i64,
    pub last_heartbeat: i64,
}
