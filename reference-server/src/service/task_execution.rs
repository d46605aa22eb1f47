//! Task execution: claiming a task (poll), completing it, failing it
//! (re-queued while retries remain, `TASK_FAILED` on the owning workflow
//! when they run out). A completion wakes the owning workflow.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use uuid::Uuid;

use super::events;
use super::held_poll::Claim;
use super::{lease_until, wakeup, Error, Result, Services};
use crate::storage::{self, Task, TaskStatus, Tx, Work};

#[async_trait]
impl Claim for Task {
    const WORK: Work = Work::Task;

    async fn claim(services: &Services, org_id: Uuid, queue: &str) -> Result<Option<Self>> {
        let now = services.clock.now_ms();
        let mut tx = services.storage.begin().await?;
        let lease = lease_until(now, services.settings.task_lease);
        let task = tx.claim_task(org_id, queue, now, lease).await?;
        if task.is_some() {
            tx.commit_claim().await?;
            services.alarm.due_at(lease);
        }
        Ok(task)
    }

    fn held(&self) -> Option<(Uuid, i64)> {
        Some((self.id, self.lease_until?))
    }

    async fn release(tx: &mut dyn Tx, id: Uuid, lease_until: i64) -> storage::Result<bool> {
        tx.release_task(id, lease_until).await
    }
}

impl Services {
    /// Claims the next pollable task of (org, queue); with nothing ready,
    /// waits up to `budget` for one (see `held_poll`).
    pub async fn poll_task(&self, org_id: Uuid, queue: &str, budget: Duration) -> Result<Option<Task>> {
        self.hold(org_id, queue, budget).await
    }

    /// Records a task's result: once per claim. Only a handed-out task
    /// (running) takes a result; any other report is refused (see
    /// [`not_held`]), except for a task whose workflow already ended.
    pub async fn complete_task(&self, org_id: Uuid, task_id: Uuid, output: Value) -> Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let mut task = owned_task(&mut *tx, org_id, task_id).await?;
        if task.status != TaskStatus::Running {
            return not_held(&mut *tx, &task).await;
        }
        task.status = TaskStatus::Completed;
        task.output = Some(output.clone());
        task.lease_until = None;
        task.completed_at = Some(now);
        tx.update_task(&task).await?;
        if let Some(workflow_id) = task.workflow_execution_id {
            let data = json!({ "taskExecutionId": task_id, "result": output, "output": output });
            wakeup::wake(&mut *tx, workflow_id, events::TASK_COMPLETED, &data, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: back to the queue while retries remain,
    /// otherwise failed for good and reported to the owning workflow.
    /// A failed attempt: retried while retries remain, unless the worker
    /// says another attempt cannot succeed ([`Retry::Never`]).
    pub async fn fail_task(&self, org_id: Uuid, task_id: Uuid, error: String, retry: Retry) -> Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let task = owned_task(&mut *tx, org_id, task_id).await?;
        if task.status != TaskStatus::Running {
            return not_held(&mut *tx, &task).await;
        }
        fail_attempt(&mut *tx, task, error, now, retry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Cancels a task that has not finished: it fails for good (a waiting
    /// workflow sees `TASK_FAILED`, the only failure it understands), and
    /// its worker learns it from its next heartbeat.
    pub async fn cancel_task(&self, org_id: Uuid, task_id: Uuid) -> Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let mut task = owned_task(&mut *tx, org_id, task_id).await?;
        if matches!(task.status, TaskStatus::Completed | TaskStatus::Failed) {
            return Err(Error::FailedPrecondition(format!(
                "task {task_id} already {}",
                task.status.as_str().to_ascii_lowercase()
            )));
        }
        task.execution_count = task.execution_count.max(1);
        fail_attempt(&mut *tx, task, "Task cancelled".into(), now, Retry::Never).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A running task's heartbeat; an error tells the worker the task is no
    /// longer its to run (cancelled, finished or handed to another worker).
    pub async fn task_heartbeat(&self, org_id: Uuid, task_id: Uuid) -> Result<()> {
        let mut tx = self.storage.read().await?;
        let task = owned_task(&mut *tx, org_id, task_id).await?;
        if task.status != TaskStatus::Running {
            return Err(Error::FailedPrecondition(format!(
                "task {task_id} is {}, not running",
                task.status.as_str().to_ascii_lowercase()
            )));
        }
        Ok(())
    }

    /// Running tasks whose lease or attempt timeout passed: each counts as
    /// a failed attempt (retried while retries remain). Returns how many.
    pub async fn expire_tasks(&self, limit: i64) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let expired = tx.expired_tasks(now, limit).await?;
        let count = expired.len();
        for task in expired {
            let error = match task.timeout_ms {
                Some(ms) => format!("Task execution timed out after {ms} ms"),
                None => "Task lease expired: its worker stopped reporting".to_string(),
            };
            fail_attempt(&mut *tx, task, error, now, Retry::AsAllowed).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    /// The task, when it is the org's (NOT_FOUND otherwise, as for an
    /// unknown id).
    pub async fn owned_task(&self, org_id: Uuid, task_id: Uuid) -> Result<Task> {
        let mut tx = self.storage.read().await?;
        owned_task(&mut *tx, org_id, task_id).await
    }

    pub async fn task_state(&self, org_id: Uuid, task_id: Uuid, key: &str) -> Result<Option<Value>> {
        let mut tx = self.storage.read().await?;
        owned_task(&mut *tx, org_id, task_id).await?;
        Ok(tx.task_state(task_id, key).await?)
    }

    pub async fn set_task_state(&self, org_id: Uuid, task_id: Uuid, key: &str, value: Value) -> Result<()> {
        if key.is_empty() {
            return Err(Error::InvalidArgument("key is required".into()));
        }
        let mut tx = self.storage.begin().await?;
        owned_task(&mut *tx, org_id, task_id).await?;
        tx.set_task_state(task_id, key, &value).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Clears one key, or all of them with `None`.
    pub async fn clear_task_state(&self, org_id: Uuid, task_id: Uuid, key: Option<&str>) -> Result<()> {
        let mut tx = self.storage.begin().await?;
        owned_task(&mut *tx, org_id, task_id).await?;
        tx.clear_task_state(task_id, key).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn task_state_keys(&self, org_id: Uuid, task_id: Uuid) -> Result<Vec<String>> {
        let mut tx = self.storage.read().await?;
        owned_task(&mut *tx, org_id, task_id).await?;
        Ok(tx.task_state_keys(task_id).await?)
    }
}

/// One failed attempt: retried while `execution_count <= max_retries`
/// (`max_retries` counts retries after the first attempt), otherwise final.
/// Whether a failed attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// While the task's retries last.
    AsAllowed,
    /// Not at all: the task fails now (cancelled, or the worker said
    /// another attempt cannot succeed).
    Never,
}

async fn fail_attempt(tx: &mut dyn Tx, mut task: Task, error: String, now: i64, retry: Retry) -> Result<()> {
    task.error = Some(error.clone());
    task.lease_until = None;
    if retry == Retry::AsAllowed && task.execution_count <= task.max_retries {
        task.status = TaskStatus::Pending;
        task.ready_at = now;
        tx.update_task(&task).await?;
        return Ok(());
    }
    task.status = TaskStatus::Failed;
    task.completed_at = Some(now);
    tx.update_task(&task).await?;
    if let Some(workflow_id) = task.workflow_execution_id {
        let data = json!({ "taskExecutionId": task.id, "error": error });
        wakeup::wake(tx, workflow_id, events::TASK_FAILED, &data, now).await?;
    }
    Ok(())
}

/// The answer to a result for a task that is not handed out. There is no
/// claim token in the protocol, so the first report of a claim wins and a
/// second one (a worker whose lease expired and whose task was handed to
/// another worker, or a repeat) is refused, never silently dropped. The
/// one exception: a task whose workflow already ended (a `select` or
/// timeout loser) answers OK, as the SDK expects (fact sheet 5.1).
async fn not_held(tx: &mut dyn Tx, task: &Task) -> Result<()> {
    if let Some(workflow_id) = task.workflow_execution_id {
        if tx.workflow(workflow_id).await?.is_some_and(|w| w.status.is_terminal()) {
            return Ok(());
        }
    }
    let why = match task.status {
        TaskStatus::Pending => "its lease expired and it waits to be handed out again",
        TaskStatus::Completed => "a result was already recorded for it",
        TaskStatus::Failed => "it already failed",
        TaskStatus::Running => "it is running",
    };
    Err(Error::FailedPrecondition(format!(
        "task execution {} is not held by this worker: {why}",
        task.id
    )))
}

async fn owned_task(tx: &mut dyn Tx, org_id: Uuid, id: Uuid) -> Result<Task> {
    match tx.task(id).await? {
        Some(t) if t.org_id == org_id => Ok(t),
        _ => Err(Error::NotFound(format!("task execution {id} not found"))),
    }
}
