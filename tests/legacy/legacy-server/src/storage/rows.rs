//! Rows as stored (text ids and JSON, integer times) and their conversion
//! to domain types. Shared by every SQL backend.

use serde_json::Value;
use uuid::Uuid;

use super::{Error, Promise, PromiseStatus, Result, Schedule, Task, TaskStatus, Workflow, WorkflowStatus};

/// Column lists, in the order of the row types below.
pub const WORKFLOW_COLUMNS: &str =
    "id, org_id, kind, queue, input, status, output, error, priority_ms, idempotency_key, \
     parent_id, child_name, lease_until, wakeup_pending, task_time_ms, ready_at, created_at, completed_at";
pub const TASK_COLUMNS: &str = "id, org_id, workflow_execution_id, kind, queue, input, status, output, error, \
     execution_count, max_retries, timeout_ms, idempotency_key, lease_until, ready_at, created_at, completed_at";

pub const SCHEDULE_COLUMNS: &str =
    "id, org_id, name, cron, workflow_kind, queue, input, paused, next_fire_at, created_at";
pub const PROMISE_COLUMNS: &str = "id, org_id, execution_id, name, status, timeout_at, created_at";

/// JSON text of a payload.
pub fn text(v: &Value) -> String {
    v.to_string()
}

pub fn opt_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

#[derive(Debug, sqlx::FromRow)]
pub struct WorkflowRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub queue: String,
    pub input: String,
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub priority_ms: i64,
    pub idempotency_key: Option<String>,
    pub parent_id: Option<String>,
    pub child_name: Option<String>,
    pub lease_until: Option<i64>,
    pub wakeup_pending: i64,
    pub task_time_ms: i64,
    pub ready_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

/// A claimed workflow with the length of its history.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedRow {
    #[sqlx(flatten)]
    pub workflow: WorkflowRow,
    pub history_len: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct TaskRow {
    pub id: String,
    pub org_id: String,
    pub workflow_execution_id: Option<String>,
    pub kind: String,
    pub queue: String,
    pub input: String,
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub execution_count: i64,
    pub max_retries: i64,
    pub timeout_ms: Option<i64>,
    pub idempotency_key: Option<String>,
    pub lease_until: Option<i64>,
    pub ready_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub sequence_number: i64,
    pub event_type: String,
    pub data: String,
    pub created_at: i64,
}

pub fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| Error::Corrupt(format!("bad uuid {s:?}: {e}")))
}

pub fn json(s: &str) -> Result<Value> {
    serde_json::from_str(s).map_err(|e| Error::Corrupt(format!("bad json: {e}")))
}

pub fn opt_json(s: Option<&str>) -> Result<Option<Value>> {
    s.map(json).transpose()
}

impl TryFrom<WorkflowRow> for Workflow {
    type Error = Error;

    fn try_from(r: WorkflowRow) -> Result<Self> {
        Ok(Workflow {
            id: uuid(&r.id)?,
            org_id: uuid(&r.org_id)?,
            kind: r.kind,
            queue: r.queue,
            input: json(&r.input)?,
            status: WorkflowStatus::parse(&r.status).ok_or_else(|| Error::Corrupt(format!("status {}", r.status)))?,
            output: opt_json(r.output.as_deref())?,
            error: r.error,
            priority_ms: r.priority_ms,
            idempotency_key: r.idempotency_key,
            parent_id: r.parent_id.as_deref().map(uuid).transpose()?,
            child_name: r.child_name,
            lease_until: r.lease_until,
            wakeup_pending: r.wakeup_pending != 0,
            task_time_ms: r.task_time_ms,
            ready_at: r.ready_at,
            created_at: r.created_at,
            completed_at: r.completed_at,
        })
    }
}

impl TryFrom<TaskRow> for Task {
    type Error = Error;

    fn try_from(r: TaskRow) -> Result<Self> {
        Ok(Task {
            id: uuid(&r.id)?,
            org_id: uuid(&r.org_id)?,
            workflow_execution_id: r.workflow_execution_id.as_deref().map(uuid).transpose()?,
            kind: r.kind,
            queue: r.queue,
            input: json(&r.input)?,
            status: TaskStatus::parse(&r.status).ok_or_else(|| Error::Corrupt(format!("status {}", r.status)))?,
            output: opt_json(r.output.as_deref())?,
            error: r.error,
            execution_count: r.execution_count as i32,
            max_retries: r.max_retries as i32,
            timeout_ms: r.timeout_ms,
            idempotency_key: r.idempotency_key,
            lease_until: r.lease_until,
            ready_at: r.ready_at,
            created_at: r.created_at,
            completed_at: r.completed_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct PromiseRow {
    pub id: String,
    pub org_id: String,
    pub execution_id: String,
    pub name: String,
    pub status: String,
    pub timeout_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<PromiseRow> for Promise {
    type Error = Error;

    fn try_from(r: PromiseRow) -> Result<Self> {
        Ok(Promise {
            id: uuid(&r.id)?,
            org_id: uuid(&r.org_id)?,
            execution_id: uuid(&r.execution_id)?,
            name: r.name,
            status: PromiseStatus::parse(&r.status).ok_or_else(|| Error::Corrupt(format!("status {}", r.status)))?,
            timeout_at: r.timeout_at,
            created_at: r.created_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub cron: String,
    pub workflow_kind: String,
    pub queue: String,
    pub input: String,
    pub paused: i64,
    pub next_fire_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = Error;

    fn try_from(r: ScheduleRow) -> Result<Self> {
        Ok(Schedule {
            id: uuid(&r.id)?,
            org_id: uuid(&r.org_id)?,
            name: r.name,
            cron: r.cron,
            workflow_kind: r.workflow_kind,
            queue: r.queue,
            input: json(&r.input)?,
            paused: r.paused != 0,
            next_fire_at: r.next_fire_at,
            created_at: r.created_at,
        })
    }
}
