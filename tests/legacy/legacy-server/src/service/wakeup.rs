//! Wake-ups: an event that a waiting workflow may be blocked on (a task
//! finished, a timer fired, ...) is appended to its history and makes it
//! pollable again. A workflow handed out at that moment remembers it, so
//! that its `SUSPENDED` submission makes it pollable at once (fact sheet
//! 4.7). Terminal workflows take no late events.

use serde_json::Value;
use uuid::Uuid;

use super::Result;
use crate::api::grpc::WorkerNotifier;
use crate::storage::{Tx, WorkflowStatus};

/// Appends a wake-up event to `execution_id` and makes it pollable.
/// Returns whether the workflow took the event.
pub async fn wake(
    tx: &mut dyn Tx,
    execution_id: Uuid,
    event_type: &str,
    data: &Value,
    now: i64,
    notifier: &WorkerNotifier,
) -> Result<bool> {
    let Some(mut workflow) = tx.workflow(execution_id).await? else {
        return Ok(false);
    };
    if workflow.status.is_terminal() {
        return Ok(false);
    }
    tx.append_event(execution_id, event_type, data, now).await?;
    match workflow.status {
        WorkflowStatus::Running => workflow.wakeup_pending = true,
        WorkflowStatus::Waiting => {
            workflow.status = WorkflowStatus::Pending;
            workflow.task_time_ms = now;
            workflow.ready_at = now;
            // Pollable again: wake its workers.
            notifier.notify_work_available(workflow.org_id, &workflow.queue);
        }
        _ => {}
    }
    tx.update_workflow(&workflow).await?;
    Ok(true)
}
