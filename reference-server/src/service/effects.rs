//! One function per workflow command: its history event and its side
//! effect, inside the submission's transaction. `dispatch::apply` picks
//! the function.

use serde_json::{json, Value};
use uuid::Uuid;

use super::commands::{ScheduleChild, ScheduleTask};
use super::dispatch::finish;
use super::{events, promise_resolver, workflow_launcher, Error, Result};
use crate::storage::{Promise, PromiseStatus, Task, Tx, Workflow, WorkflowStatus};

/// `RECORD_OPERATION`: the operation's result, for replay.
pub(super) async fn record_operation(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    name: String,
    result: Value,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    let data = json!({ "operationName": name, "result": result });
    tx.append_event(id, events::OPERATION_COMPLETED, &data, now).await?;
    Ok(())
}

/// `SET_STATE`: the workflow's state key, and its event.
pub(super) async fn set_state(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    key: String,
    value: Value,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    tx.set_state(id, &key, &value).await?;
    tx.append_event(id, events::STATE_SET, &json!({ "key": key, "value": value }), now)
        .await?;
    Ok(())
}

/// `CLEAR_STATE`: removes a state key.
pub(super) async fn clear_state(tx: &mut dyn Tx, workflow: &mut Workflow, key: String, now: i64) -> Result<()> {
    let id = workflow.id;
    tx.clear_state(id, &key).await?;
    tx.append_event(id, events::STATE_CLEARED, &json!({ "key": key }), now)
        .await?;
    Ok(())
}

/// `SCHEDULE_TASK`: a pollable task of the workflow (the same command sent again schedules nothing new).
pub(super) async fn schedule_task(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    command: ScheduleTask,
    now: i64,
    default_retries: i32,
) -> Result<()> {
    let id = workflow.id;
    let ScheduleTask {
        task_id,
        kind,
        input,
        max_retries,
        timeout_ms,
        queue,
    } = command;
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
    Ok(())
}

/// `COMPLETE_WORKFLOW`: the output; the execution ends.
pub(super) async fn complete_workflow(tx: &mut dyn Tx, workflow: &mut Workflow, output: Value, now: i64) -> Result<()> {
    let id = workflow.id;
    tx.append_event(id, events::WORKFLOW_COMPLETED, &json!({ "output": output }), now)
        .await?;
    workflow.output = Some(output);
    finish(tx, workflow, WorkflowStatus::Completed, now).await?;
    Ok(())
}

/// `FAIL_WORKFLOW`: the error; the execution ends.
pub(super) async fn fail_workflow(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    error: String,
    stack_trace: String,
    failure_type: String,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    let data = json!({ "error": error, "stackTrace": stack_trace, "failureType": failure_type });
    tx.append_event(id, events::WORKFLOW_EXECUTION_FAILED, &data, now)
        .await?;
    // Lets `start_workflow_and_wait` return the error (fact sheet 8.2).
    tx.append_event(id, events::WORKFLOW_FAILED, &json!({ "error": error }), now)
        .await?;
    workflow.error = Some(error);
    finish(tx, workflow, WorkflowStatus::Failed, now).await?;
    Ok(())
}

/// `SUSPEND_WORKFLOW`: the workflow waits for a wake-up.
pub(super) async fn suspend_workflow(tx: &mut dyn Tx, workflow: &mut Workflow, reason: String, now: i64) -> Result<()> {
    let id = workflow.id;
    tx.append_event(id, events::WORKFLOW_SUSPENDED, &json!({ "reason": reason }), now)
        .await?;
    Ok(())
}

/// `CANCEL_WORKFLOW`: the execution ends cancelled.
pub(super) async fn cancel_workflow(tx: &mut dyn Tx, workflow: &mut Workflow, reason: String, now: i64) -> Result<()> {
    let id = workflow.id;
    tx.append_event(id, events::WORKFLOW_CANCELLED, &json!({ "reason": reason }), now)
        .await?;
    workflow.error = Some(reason);
    finish(tx, workflow, WorkflowStatus::Cancelled, now).await?;
    Ok(())
}

/// `START_TIMER`: a timer the scheduler fires when due.
pub(super) async fn start_timer(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    timer_id: String,
    duration_ms: i64,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    let data = json!({ "timerId": timer_id, "durationMs": duration_ms });
    tx.append_event(id, events::TIMER_STARTED, &data, now).await?;
    tx.insert_timer(id, &timer_id, now.saturating_add(duration_ms.max(0)))
        .await?;
    Ok(())
}

/// `CANCEL_TIMER`: the timer will not fire.
pub(super) async fn cancel_timer(tx: &mut dyn Tx, workflow: &mut Workflow, timer_id: String, now: i64) -> Result<()> {
    let id = workflow.id;
    tx.delete_timer(id, &timer_id).await?;
    tx.append_event(id, events::TIMER_CANCELLED, &json!({ "timerId": timer_id }), now)
        .await?;
    Ok(())
}

/// `CREATE_PROMISE`: a promise others resolve or reject, with an optional timeout.
pub(super) async fn create_promise(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    name: String,
    timeout_ms: Option<i64>,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
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
    Ok(())
}

/// `RESOLVE_PROMISE`: settles a promise of the org from workflow code.
pub(super) async fn resolve_promise(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    promise_id: String,
    value: Value,
    now: i64,
) -> Result<()> {
    let promise = promise_resolver::find(tx, workflow.org_id, &promise_id).await?;
    promise_resolver::settle(tx, &promise, promise_resolver::Outcome::Resolved(value), now).await?;
    Ok(())
}

/// `SCHEDULE_CHILD_WORKFLOW`: a child execution (the same command sent again creates no second child).
pub(super) async fn schedule_child_workflow(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    command: ScheduleChild,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    let ScheduleChild {
        name,
        kind,
        child_id,
        input,
        queue,
    } = command;
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
    Ok(())
}

/// `REQUEST_CANCEL_CHILD_WORKFLOW`: cancels a child that has not ended.
pub(super) async fn request_cancel_child_workflow(
    tx: &mut dyn Tx,
    workflow: &mut Workflow,
    child_id: Uuid,
    reason: String,
    now: i64,
) -> Result<()> {
    let id = workflow.id;
    if let Some(mut child) = tx.workflow(child_id).await? {
        if child.parent_id == Some(id) && !child.status.is_terminal() {
            tx.append_event(child_id, events::WORKFLOW_CANCELLED, &json!({ "reason": reason }), now)
                .await?;
            child.error = Some(format!("cancelled: {reason}"));
            finish(tx, &mut child, WorkflowStatus::Cancelled, now).await?;
            tx.update_workflow(&child).await?;
        }
    }
    Ok(())
}

/// An id a command names for new work that is already used by other work
/// (of this org or another: the message is the same either way).
fn id_taken(field: &str, id: Uuid) -> Error {
    Error::AlreadyExists(format!("{field}: {id} is already in use; nothing was recorded"))
}
