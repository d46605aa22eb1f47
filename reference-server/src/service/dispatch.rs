//! Workflow dispatch: claiming a workflow task (poll), reading its history,
//! and applying a submission (commands, then status) in one transaction.

use serde_json::json;
use uuid::Uuid;

use super::commands::{Command, SubmitStatus};
use super::events;
use super::{lease_until, now_ms, promise_resolver, wakeup, workflow_launcher, Error, Result, Services};
use crate::storage::{Event, Promise, PromiseStatus, Task, Tx, Work, Workflow, WorkflowStatus};

/// A workflow task handed to a poller.
#[derive(Debug, Clone)]
pub struct WorkflowTask {
    pub workflow: Workflow,
    /// Number of events in the history when it was handed out.
    pub current_sequence: i32,
}

impl Services {
    /// Claims the next pollable workflow of (org, queue), if any. Answers at
    /// once: the worker's backoff is the only wait.
    pub async fn poll_workflow(&self, org_id: Uuid, queue: &str) -> Result<Option<WorkflowTask>> {
        let queue = if queue.is_empty() { "default" } else { queue };
        // An empty poll only reads: it never waits for the writer nor
        // writes to disk.
        if !self.storage.has_ready(Work::Workflow, org_id, queue).await? {
            return Ok(None);
        }
        let now = now_ms();
        let mut tx = self.storage.begin().await?;
        let lease = lease_until(now, self.settings.workflow_lease);
        let Some((workflow, current_sequence)) = tx.claim_workflow(org_id, queue, lease).await? else {
            return Ok(None);
        };
        tx.commit().await?;
        self.alarm.due_at(lease);
        Ok(Some(WorkflowTask {
            workflow,
            current_sequence,
        }))
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
        let now = now_ms();
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
            apply(&mut *tx, &mut workflow, command, now, self.settings.default_max_retries).await?;
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
                    finish(&mut *tx, &mut workflow, new_status, now).await?;
                }
                SubmitStatus::Running => make_pollable(&mut workflow, now),
                SubmitStatus::Suspended | SubmitStatus::Unspecified => {
                    if workflow.wakeup_pending {
                        make_pollable(&mut workflow, now);
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
pub(crate) async fn finish(tx: &mut dyn Tx, workflow: &mut Workflow, status: WorkflowStatus, now: i64) -> Result<()> {
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
        wakeup::wake(tx, parent, event, &data, now).await?;
    }
    Ok(())
}

/// An id a command names for new work that is already used by other work
/// (of this org or another: the message is the same either way).
fn id_taken(field: &str, id: Uuid) -> Error {
    Error::AlreadyExists(format!("{field}: {id} is already in use; nothing was recorded"))
}

/// Applies one command: its history event and its side effect.
async fn apply(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    command: Command,
    now: i64,
    default_retries: i32,
) -> Result<()> {
    if workflow.status.is_terminal() {
        // Commands after a terminal one have nothing to act on.
        return Ok(());
    }
    let id = workflow.id;
    match command {
        Command::RecordOperation { name, result } => {
            let data = json!({ "operationName": name, "result": result });
            tx.append_event(id, events::OPERATION_COMPLETED, &data, now).await?;
        }
        Command::SetState { key, value } => {
            tx.set_state(id, &key, &value).await?;
            tx.append_event(id, events::STATE_SET, &json!({ "key": key, "value": value }), now)
                .await?;
        }
        Command::ClearState { key } => {
            tx.clear_state(id, &key).await?;
            tx.append_event(id, events::STATE_CLEARED, &json!({ "key": key }), now)
                .await?;
        }
        Command::ScheduleTask {
            task_id,
            kind,
            input,
            max_retries,
            timeout_ms,
            queue,
        } => {
            let queue = queue
                .filter(|q| !q.is_empty())
                .unwrap_or_else(|| workflow.queue.clone());
            let max_retries = max_retries.unwrap_or(default_retries);
            let mut task = Task::pending(
                task_id,
                workflow.org_id,
                kind.clone(),
                queue.clone(),
                input.clone(),
                max_retries,
                now,
            );
            task.workflow_execution_id = Some(id);
            task.timeout_ms = timeout_ms.filter(|t| *t > 0);
            // The id is deterministic: a re-sent command schedules nothing
            // new. An id taken by anything else (another workflow's task,
            // another org's) refuses the whole submission: no event may
            // name work that does not exist.
            match tx.task(task_id).await? {
                Some(existing) if existing.org_id == workflow.org_id && existing.workflow_execution_id == Some(id) => {}
                Some(_) => return Err(id_taken("schedule_task.task_execution_id", task_id)),
                None => {
                    tx.insert_task(&task).await?;
                }
            }
            let data = json!({
                "kind": kind, "taskType": kind, "taskExecutionId": task_id, "input": input,
                "queue": queue, "maxRetries": max_retries,
            });
            tx.append_event(id, events::TASK_SCHEDULED, &data, now).await?;
        }
        Command::CompleteWorkflow { output } => {
            tx.append_event(id, events::WORKFLOW_COMPLETED, &json!({ "output": output }), now)
                .await?;
            workflow.output = Some(output);
            finish(tx, workflow, WorkflowStatus::Completed, now).await?;
        }
        Command::FailWorkflow {
            error,
            stack_trace,
            failure_type,
        } => {
            let data = json!({ "error": error, "stackTrace": stack_trace, "failureType": failure_type });
            tx.append_event(id, events::WORKFLOW_EXECUTION_FAILED, &data, now)
                .await?;
            // Lets `start_workflow_and_wait` return the error (fact sheet 8.2).
            tx.append_event(id, events::WORKFLOW_FAILED, &json!({ "error": error }), now)
                .await?;
            workflow.error = Some(error);
            finish(tx, workflow, WorkflowStatus::Failed, now).await?;
        }
        Command::SuspendWorkflow { reason } => {
            tx.append_event(id, events::WORKFLOW_SUSPENDED, &json!({ "reason": reason }), now)
                .await?;
        }
        Command::CancelWorkflow { reason } => {
            tx.append_event(id, events::WORKFLOW_CANCELLED, &json!({ "reason": reason }), now)
                .await?;
            workflow.error = Some(reason);
            finish(tx, workflow, WorkflowStatus::Cancelled, now).await?;
        }
        Command::StartTimer { timer_id, duration_ms } => {
            let data = json!({ "timerId": timer_id, "durationMs": duration_ms });
            tx.append_event(id, events::TIMER_STARTED, &data, now).await?;
            tx.insert_timer(id, &timer_id, now.saturating_add(duration_ms.max(0)))
                .await?;
        }
        Command::CancelTimer { timer_id } => {
            tx.delete_timer(id, &timer_id).await?;
            tx.append_event(id, events::TIMER_CANCELLED, &json!({ "timerId": timer_id }), now)
                .await?;
        }
        Command::CreatePromise { name, timeout_ms } => {
            let promise = Promise {
                id: Uuid::new_v4(),
                org_id: workflow.org_id,
                execution_id: id,
                name: name.clone(),
                status: PromiseStatus::Pending,
                timeout_at: timeout_ms.map(|t| now.saturating_add(t.max(0))),
                created_at: now,
            };
            tx.insert_promise(&promise).await?;
            let mut data = json!({ "promiseName": name, "promiseId": promise.id.to_string() });
            if let Some(t) = timeout_ms {
                data["timeoutMs"] = json!(t);
            }
            tx.append_event(id, events::PROMISE_CREATED, &data, now).await?;
        }
        Command::ResolvePromise { promise_id, value } => {
            let promise = promise_resolver::find(tx, workflow.org_id, &promise_id).await?;
            promise_resolver::settle(tx, &promise, promise_resolver::Outcome::Resolved(value), now).await?;
        }
        Command::ScheduleChildWorkflow {
            name,
            kind,
            child_id,
            input,
            queue,
        } => {
            let queue = if queue.is_empty() {
                workflow.queue.clone()
            } else {
                queue
            };
            // The id is deterministic: a re-sent command creates no second
            // child; an id taken by any other execution refuses the submission.
            let existing = tx.workflow(child_id).await?;
            if existing
                .as_ref()
                .is_some_and(|c| c.org_id != workflow.org_id || c.parent_id != Some(id))
            {
                return Err(id_taken(
                    "schedule_child_workflow.child_workflow_execution_id",
                    child_id,
                ));
            }
            if existing.is_none() {
                let mut child = Workflow::pending(
                    child_id,
                    workflow.org_id,
                    kind.clone(),
                    queue.clone(),
                    input.clone(),
                    now,
                );
                child.priority_ms = workflow.priority_ms;
                child.parent_id = Some(id);
                child.child_name = Some(name.clone());
                workflow_launcher::insert_started(tx, &child, now).await?;
            }
            let data = json!({
                "childExecutionName": name, "childWorkflowKind": kind, "childExecutionId": child_id,
                "childWorkflowExecutionId": child_id, "childWorkflowExecutionName": name,
                "workflowKind": kind, "input": input,
            });
            tx.append_event(id, events::CHILD_WORKFLOW_INITIATED, &data, now)
                .await?;
        }
        Command::RequestCancelChildWorkflow { child_id, reason } => {
            if let Some(mut child) = tx.workflow(child_id).await? {
                if child.parent_id == Some(id) && !child.status.is_terminal() {
                    tx.append_event(child_id, events::WORKFLOW_CANCELLED, &json!({ "reason": reason }), now)
                        .await?;
                    child.error = Some(format!("cancelled: {reason}"));
                    finish(tx, &mut child, WorkflowStatus::Cancelled, now).await?;
                    tx.update_workflow(&child).await?;
                }
            }
        }
        Command::Unsupported(_) | Command::Ignored => {}
    }
    Ok(())
}
