//! Starting workflows: a new execution with `WORKFLOW_STARTED` as event 1,
//! pollable at once. An idempotency key already used in the org returns the
//! existing execution instead.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{now_ms, Error, Result, Services};
use crate::storage::{Tx, Workflow, WorkflowStatus};

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
        let mut tx = self.storage.begin().await?;
        let started = launch(&mut *tx, req, now_ms()).await?;
        tx.commit().await?;
        Ok(started)
    }
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
    let workflow = Workflow {
        id: Uuid::new_v4(),
        org_id: req.org_id,
        kind: req.kind.clone(),
        queue: queue.clone(),
        input: req.input.clone(),
        status: WorkflowStatus::Pending,
        output: None,
        error: None,
        priority_ms: i64::from(req.priority_seconds) * 1000,
        idempotency_key: req.idempotency_key,
        parent_id: None,
        child_name: None,
        lease_until: None,
        wakeup_pending: false,
        task_time_ms: now,
        ready_at: now,
        created_at: now,
        completed_at: None,
    };
    tx.insert_workflow(&workflow).await?;
    let data = json!({ "input": req.input, "workflowKind": req.kind, "queue": queue });
    tx.append_event(workflow.id, "WORKFLOW_STARTED", &data, now).await?;
    Ok(Started {
        id: workflow.id,
        created: true,
    })
}
