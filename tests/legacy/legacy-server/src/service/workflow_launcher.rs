//! Starting workflows: a new execution with `WORKFLOW_STARTED` as event 1,
//! pollable at once. An idempotency key already used in the org returns the
//! existing execution instead.

use serde_json::{json, Value};
use uuid::Uuid;

use super::events;
use super::{Error, Result, Services};
use crate::storage::{Tx, Workflow};

/// A request to start a workflow.
#[derive(Debug, Clone)]
pub struct StartWorkflow {
    pub org_id: Uuid,
    pub kind: String,
    pub queue: String,
    pub input: Value,
    pub priority_seconds: i32,
    pub idempotency_key: Option<String>,
}

/// The started (or found) execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub id: Uuid,
    /// `false` when the idempotency key returned an existing execution.
    pub created: bool,
}

impl Services {
    pub async fn start_workflow(&self, req: StartWorkflow) -> Result<Started> {
        let org_id = req.org_id;
        let queue = req.queue.clone();
        let mut tx = self.storage.begin().await?;
        let started = launch(&mut *tx, req, self.clock.now_ms()).await?;
        tx.commit().await?;
        if started.created {
            self.notifier.notify_work_available(org_id, &queue);
        }
        Ok(started)
    }
}

/// Stores a new execution with `WORKFLOW_STARTED` as its event 1.
pub(crate) async fn insert_started(tx: &mut dyn Tx, workflow: &Workflow, now: i64) -> Result<()> {
    tx.insert_workflow(workflow).await?;
    let mut data = json!({ "input": workflow.input, "workflowKind": workflow.kind, "queue": workflow.queue });
    if let Some(parent) = workflow.parent_id {
        data["parentWorkflowExecutionId"] = json!(parent);
    }
    tx.append_event(workflow.id, events::WORKFLOW_STARTED, &data, now)
        .await?;
    Ok(())
}

/// Starts a workflow inside an open transaction.
pub(crate) async fn launch(tx: &mut dyn Tx, req: StartWorkflow, now: i64) -> Result<Started> {
    if req.kind.trim().is_empty() {
        return Err(Error::InvalidArgument("workflow_kind must not be empty".into()));
    }
    if let Some(key) = &req.idempotency_key {
        if let Some(existing) = tx.workflow_by_key(req.org_id, key).await? {
            return Ok(Started {
                id: existing.id,
                created: false,
            });
        }
    }
    let queue = if req.queue.is_empty() {
        "default".to_string()
    } else {
        req.queue
    };
    let mut workflow = Workflow::pending(Uuid::new_v4(), req.org_id, req.kind, queue, req.input, now);
    workflow.priority_ms = i64::from(req.priority_seconds) * 1000;
    workflow.idempotency_key = req.idempotency_key;
    insert_started(tx, &workflow, now).await?;
    Ok(Started {
        id: workflow.id,
        created: true,
    })
}
