//! Wake-ups: an event that a waiting workflow may be blocked on (a task
//! finished, a timer fired, ...) is appended to its history and makes it
//! pollable again. A workflow handed out at that moment remembers it, so
//! that its `SUSPENDED` submission makes it pollable at once (fact sheet
//! 4.7). Terminal workflows take no late events.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{events, Result, Services};
use crate::storage::{Tx, WorkflowStatus};

impl Services {
    /// Fires due timers (at most `limit`): each appends `TIMER_FIRED` to
    /// its workflow, which wakes. Returns how many fired.
    pub async fn fire_due_timers(&self, limit: i64) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let due = tx.due_timers(now, limit).await?;
        for (execution_id, timer_id) in &due {
            tx.delete_timer(*execution_id, timer_id).await?;
            wake(
                &mut *tx,
                *execution_id,
                events::TIMER_FIRED,
                &json!({ "timerId": timer_id }),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }
}

/// Appends a wake-up event to `execution_id` and makes it pollable.
/// Returns whether the workflow took the event.
pub async fn wake(tx: &mut dyn Tx, execution_id: Uuid, event_type: &str, data: &Value, now: i64) -> Result<bool> {
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
        }
        _ => {}
    }
    tx.update_workflow(&workflow).await?;
    Ok(true)
}
