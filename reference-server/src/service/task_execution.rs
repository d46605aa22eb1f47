//! Task execution: claiming a task (poll), completing it, failing it
//! (re-queued while retries remain, `TASK_FAILED` on the owning workflow
//! when they run out). A completion wakes the owning workflow.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{lease_until, now_ms, wakeup, Error, Result, Services};
use crate::storage::{Task, TaskStatus, Tx};

impl Services {
    /// Claims the next pollable task of (org, queue), if any; answers at once.
    pub async fn poll_task(&self, org_id: Uuid, queue: &str) -> Result<Option<Task>> {
        let queue = if queue.is_empty() { "default" } else { queue };
        let now = now_ms();
        let mut tx = self.storage.begin().await?;
        let lease = lease_until(now, self.settings.task_lease);
        let task = tx.claim_task(org_id, queue, lease).await?;
        if task.is_some() {
            tx.commit().await?;
            self.alarm.due_at(lease);
        }
        Ok(task)
    }

    /// Records a task's result. Completing a task that already finished is
    /// accepted and changes nothing (a late or repeated report).
    pub async fn complete_task(&self, org_id: Uuid, task_id: Uuid, output: Value) -> Result<()> {
        let now = now_ms();
        let mut tx = self.storage.begin().await?;
        let mut task = owned_task(&mut *tx, org_id, task_id).await?;
        match task.status {
            TaskStatus::Completed => return Ok(()),
            TaskStatus::Failed => {
                return Err(Error::FailedPrecondition(format!("task {task_id} already failed")));
            }
            TaskStatus::Pending | TaskStatus::Running => {}
        }
        task.status = TaskStatus::Completed;
        task.output = Some(output.clone());
        task.lease_until = None;
        task.completed_at = Some(now);
        tx.update_task(&task).await?;
        if let Some(workflow_id) = task.workflow_execution_id {
            let data = json!({ "taskExecutionId": task_id, "result": output, "output": output });
            wakeup::wake(&mut *tx, workflow_id, "TASK_COMPLETED", &data, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: back to the queue while retries remain,
    /// otherwise failed for good and reported to the owning workflow.
    pub async fn fail_task(&self, org_id: Uuid, task_id: Uuid, error: String) -> Result<()> {
        let now = now_ms();
        let mut tx = self.storage.begin().await?;
        let mut task = owned_task(&mut *tx, org_id, task_id).await?;
        match task.status {
            TaskStatus::Failed => return Ok(()),
            TaskStatus::Completed => {
                return Err(Error::FailedPrecondition(format!("task {task_id} already completed")));
            }
            TaskStatus::Pending | TaskStatus::Running => {}
        }
        task.error = Some(error.clone());
        task.lease_until = None;
        // `max_retries` counts retries: the first attempt plus that many.
        if task.execution_count <= task.max_retries {
            task.status = TaskStatus::Pending;
            task.ready_at = now;
            tx.update_task(&task).await?;
        } else {
            task.status = TaskStatus::Failed;
            task.completed_at = Some(now);
            tx.update_task(&task).await?;
            if let Some(workflow_id) = task.workflow_execution_id {
                let data = json!({ "taskExecutionId": task_id, "error": error });
                wakeup::wake(&mut *tx, workflow_id, "TASK_FAILED", &data, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn owned_task(tx: &mut dyn Tx, org_id: Uuid, id: Uuid) -> Result<Task> {
    match tx.task(id).await? {
        Some(t) if t.org_id == org_id => Ok(t),
        _ => Err(Error::NotFound(format!("task execution {id} not found"))),
    }
}
