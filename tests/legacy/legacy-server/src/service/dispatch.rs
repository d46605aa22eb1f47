//! Workflow dispatch: claiming a workflow task (poll), reading its history,
//! and applying a submission (commands, then status) in one transaction.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::commands::{Command, SubmitStatus};
use super::events;
use super::held_poll::Claim;
use super::{effects, lease_until, wakeup, Error, Result, Services};
use crate::api::grpc::WorkerNotifier;
use crate::storage::{self, Event, Tx, Work, Workflow, WorkflowStatus};

/// A workflow task handed to a poller.
#[derive(Debug, Clone)]
pub struct WorkflowTask {
    pub workflow: Workflow,
    /// Number of events in the history when it was handed out.
    pub current_sequence: i32,
}

#[async_trait]
impl Claim for WorkflowTask {
    const WORK: Work = Work::Workflow;

    async fn claim(services: &Services, org_id: Uuid, queue: &str) -> Result<Option<Self>> {
        let now = services.clock.now_ms();
        let mut tx = services.storage.begin().await?;
        let lease = lease_until(now, services.settings.workflow_lease);
        let Some((workflow, current_sequence)) = tx.claim_workflow(org_id, queue, lease).await? else {
            return Ok(None);
        };
        tx.commit_claim().await?;
        services.alarm.due_at(lease);
        Ok(Some(WorkflowTask {
            workflow,
            current_sequence,
        }))
    }

    fn held(&self) -> Option<(Uuid, i64)> {
        Some((self.workflow.id, self.workflow.lease_until?))
    }

    async fn release(tx: &mut dyn Tx, id: Uuid, lease_until: i64) -> storage::Result<bool> {
        tx.release_workflow(id, lease_until).await
    }
}

impl Services {
    /// Claims the next pollable workflow of (org, queue); with nothing
    /// ready, waits up to `budget` for one (see `held_poll`).
    pub async fn poll_workflow(&self, org_id: Uuid, queue: &str, budget: Duration) -> Result<Option<WorkflowTask>> {
        self.hold(org_id, queue, budget).await
    }

    /// The whole history of an execution of the caller's org.
    pub async fn events(&self, org_id: Uuid, execution_id: Uuid) -> Result<Vec<Event>> {
        let mut tx = self.storage.read().await?;
        owned_workflow(&mut *tx, org_id, execution_id).await?;
        Ok(tx.events(execution_id).await?)
    }

    /// The execution itself (REST).
    pub async fn workflow(&self, org_id: Uuid, execution_id: Uuid) -> Result<Workflow> {
        let mut tx = self.storage.read().await?;
        owned_workflow(&mut *tx, org_id, execution_id).await
    }

    /// Answers a query from the workflow's recorded state: the query name
    /// is a state key. `Ok(None)` when there is no such key.
    pub async fn query_workflow(
        &self,
        org_id: Uuid,
        execution_id: Uuid,
        name: &str,
    ) -> Result<Option<serde_json::Value>> {
        let mut tx = self.storage.read().await?;
        owned_workflow(&mut *tx, org_id, execution_id).await?;
        Ok(tx.state(execution_id, name).await?)
    }

    /// Applies a workflow task's outcome: each command appends its event in
    /// order, then the status decides what comes next.
    pub async fn submit_workflow_task(
        &self,
        org_id: Uuid,
        execution_id: Uuid,
        commands: Vec<Command>,
        status: SubmitStatus,
    ) -> Result<()> {
        if let Some(Command::Unsupported(what)) = commands.iter().find(|c| matches!(c, Command::Unsupported(_))) {
            return Err(Error::Unimplemented(format!(
                "command {what} is not supported by this server yet"
            )));
        }
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let mut workflow = owned_workflow(&mut *tx, org_id, execution_id).await?;
        if workflow.status != WorkflowStatus::Running {
            return Err(Error::FailedPrecondition(format!(
                "workflow execution {execution_id} is not handed out (status {}); its workflow task was already submitted or its lease expired",
                workflow.status.as_str()
            )));
        }
        // The earliest timer or promise timeout this submission creates.
        let mut first_due = None;
        for command in commands {
            let due_in = match &command {
                Command::StartTimer { duration_ms, .. } => Some(*duration_ms),
                Command::CreatePromise { timeout_ms, .. } => *timeout_ms,
                _ => None,
            };
            if let Some(due_in) = due_in {
                let at = now.saturating_add(due_in.max(0));
                first_due = Some(first_due.map_or(at, |t: i64| t.min(at)));
            }
            apply(
                &mut *tx,
                &mut workflow,
                command,
                now,
                self.settings.default_max_retries,
                &self.notifier,
            )
            .await?;
        }
        if !workflow.status.is_terminal() {
            match status {
                SubmitStatus::Completed | SubmitStatus::Failed | SubmitStatus::Cancelled => {
                    let (new_status, event) = match status {
                        SubmitStatus::Completed => (WorkflowStatus::Completed, events::WORKFLOW_COMPLETED),
                        SubmitStatus::Failed => (WorkflowStatus::Failed, events::WORKFLOW_EXECUTION_FAILED),
                        _ => (WorkflowStatus::Cancelled, events::WORKFLOW_CANCELLED),
                    };
                    tx.append_event(execution_id, event, &json!({}), now).await?;
                    finish(&mut *tx, &mut workflow, new_status, now, &self.notifier).await?;
                }
                SubmitStatus::Running => make_pollable(&mut workflow, now),
                SubmitStatus::Suspended | SubmitStatus::Unspecified => {
                    if workflow.wakeup_pending {
                        make_pollable(&mut workflow, now);
                        // Woken while it ran: its workers may poll right away.
                        self.notifier.notify_work_available(org_id, &workflow.queue);
                    } else {
                        workflow.status = WorkflowStatus::Waiting;
                        workflow.lease_until = None;
                    }
                }
            }
        }
        tx.update_workflow(&workflow).await?;
        tx.commit().await?;
        if let Some(at) = first_due {
            self.alarm.due_at(at);
        }
        Ok(())
    }

    /// Workflows whose lease expired go back to their queue; returns how
    /// many.
    pub async fn reclaim_expired_workflows(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let reclaimed = tx.reclaim_expired_workflows(now).await?;
        tx.commit().await?;
        Ok(reclaimed)
    }
}

/// The execution, if it exists and belongs to `org_id`.
pub(crate) async fn owned_workflow(tx: &mut dyn Tx, org_id: Uuid, id: Uuid) -> Result<Workflow> {
    match tx.workflow(id).await? {
        Some(w) if w.org_id == org_id => Ok(w),
        _ => Err(Error::NotFound(format!("workflow execution {id} not found"))),
    }
}

fn make_pollable(workflow: &mut Workflow, now: i64) {
    workflow.status = WorkflowStatus::Pending;
    workflow.lease_until = None;
    workflow.wakeup_pending = false;
    workflow.task_time_ms = now;
    workflow.ready_at = now;
}

/// A terminal status: pending timers are dropped and the parent, if any,
/// is woken with the child's outcome (fact sheet 6.3).
pub(crate) async fn finish(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    status: WorkflowStatus,
    now: i64,
    notifier: &WorkerNotifier,
) -> Result<()> {
    workflow.status = status;
    workflow.lease_until = None;
    workflow.wakeup_pending = false;
    workflow.completed_at = Some(now);
    tx.delete_timers_of(workflow.id).await?;
    if let Some(parent) = workflow.parent_id {
        let name = workflow.child_name.clone().unwrap_or_default();
        let (event, data) = if status == WorkflowStatus::Completed {
            let output = workflow.output.clone().unwrap_or(serde_json::Value::Null);
            let data = json!({ "childExecutionName": name, "childWorkflowExecutionId": workflow.id, "output": output });
            (events::CHILD_WORKFLOW_COMPLETED, data)
        } else {
            let error = workflow.error.clone().unwrap_or_else(|| status.as_str().to_string());
            let data = json!({
                "childExecutionName": name, "childWorkflowExecutionId": workflow.id,
                // Lower-case `w`: the spelling the SDK reads for this event.
                "childworkflowExecutionId": workflow.id, "error": error,
            });
            (events::CHILD_WORKFLOW_FAILED, data)
        };
        wakeup::wake(tx, parent, event, &data, now, notifier).await?;
    }
    Ok(())
}

/// Applies one command: its history event and its side effect.
async fn apply(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    command: Command,
    now: i64,
    default_retries: i32,
    notifier: &WorkerNotifier,
) -> Result<()> {
    if workflow.status.is_terminal() {
        // Commands after a terminal one have nothing to act on.
        return Ok(());
    }
    match command {
        Command::RecordOperation { name, result } => effects::record_operation(tx, workflow, name, result, now).await,
        Command::SetState { key, value } => effects::set_state(tx, workflow, key, value, now).await,
        Command::ClearState { key } => effects::clear_state(tx, workflow, key, now).await,
        Command::ScheduleTask(command) => {
            effects::schedule_task(tx, workflow, command, now, default_retries, notifier).await
        }
        Command::CompleteWorkflow { output } => effects::complete_workflow(tx, workflow, output, now, notifier).await,
        Command::FailWorkflow {
            error,
            stack_trace,
            failure_type,
        } => effects::fail_workflow(tx, workflow, error, stack_trace, failure_type, now, notifier).await,
        Command::SuspendWorkflow { reason } => effects::suspend_workflow(tx, workflow, reason, now).await,
        Command::CancelWorkflow { reason } => effects::cancel_workflow(tx, workflow, reason, now, notifier).await,
        Command::StartTimer { timer_id, duration_ms } => {
            effects::start_timer(tx, workflow, timer_id, duration_ms, now).await
        }
        Command::CancelTimer { timer_id } => effects::cancel_timer(tx, workflow, timer_id, now).await,
        Command::CreatePromise { name, timeout_ms } => {
            effects::create_promise(tx, workflow, name, timeout_ms, now).await
        }
        Command::ResolvePromise { promise_id, value } => {
            effects::resolve_promise(tx, workflow, promise_id, value, now, notifier).await
        }
        Command::ScheduleChildWorkflow(command) => {
            effects::schedule_child_workflow(tx, workflow, command, now, notifier).await
        }
        Command::RequestCancelChildWorkflow { child_id, reason } => {
            effects::request_cancel_child_workflow(tx, workflow, child_id, reason, now, notifier).await
        }
        Command::Unsupported(_) | Command::Ignored => Ok(()),
    }
}
