//! The workflow worker: polls workflow tasks, runs each by replaying the
//! workflow code against its history ([`crate::workflow`]), and submits the
//! new commands with the outcome.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use super::{jittered, ConnectionState, Poller, Reconnect};
use crate::client::FlovynClient;
use crate::transport::{from_bytes, org_text, pb};
use crate::workflow::replay::Replay;
use crate::workflow::{DynWorkflow, WorkflowContext};
use crate::Result;

/// Settings of a workflow worker.
#[derive(Clone)]
pub struct WorkflowWorkerConfig {
    /// The client-chosen worker identity sent with each poll.
    pub worker_id: String,
    /// `None`: the server takes the token's org.
    pub org_id: Option<Uuid>,
    pub queue: String,
    /// Workflow tasks run at the same time.
    pub max_concurrent: usize,
    /// Longest sleep after an empty poll (the sleep is jittered down to half).
    pub no_work_backoff: Duration,
    pub reconnect: Reconnect,
}

impl Default for WorkflowWorkerConfig {
    fn default() -> Self {
        WorkflowWorkerConfig {
            worker_id: format!("worker-{}", Uuid::new_v4()),
            org_id: None,
            queue: "default".into(),
            max_concurrent: 10,
            no_work_backoff: Duration::from_millis(100),
            reconnect: Reconnect::default(),
        }
    }
}

/// Spells out what `org_id: None` means: the server takes the token's org.
impl fmt::Debug for WorkflowWorkerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let org_id = self
            .org_id
            .map_or_else(|| "token's org".to_string(), |org| org.to_string());
        f.debug_struct("WorkflowWorkerConfig")
            .field("worker_id", &self.worker_id)
            .field("org_id", &format_args!("{org_id}"))
            .field("queue", &self.queue)
            .field("max_concurrent", &self.max_concurrent)
            .field("no_work_backoff", &self.no_work_backoff)
            .field("reconnect", &self.reconnect)
            .finish()
    }
}

pub(crate) struct WorkflowWorker {
    pub client: FlovynClient,
    pub config: WorkflowWorkerConfig,
    pub workflows: HashMap<String, Arc<dyn DynWorkflow>>,
    pub state: watch::Sender<ConnectionState>,
    /// Polls sent, empty or not.
    pub polls: Arc<AtomicU64>,
}

impl Poller for WorkflowWorker {
    type Work = pb::WorkflowExecution;

    const EXECUTE_FAILED: &'static str = "workflow task failed to run";

    async fn poll(&self) -> Result<Option<pb::WorkflowExecution>> {
        let response = self
            .client
            .grpc
            .dispatch()
            .poll_workflow(pb::PollRequest {
                worker_id: self.config.worker_id.clone(),
                org_id: org_text(self.config.org_id),
                queue: self.config.queue.clone(),
                timeout_seconds: 60,
                ..Default::default()
            })
            .await?;
        Ok(response.into_inner().workflow_execution)
    }

    /// Runs one workflow task: replay, then submit the new commands.
    async fn execute(&self, task: pb::WorkflowExecution) -> Result<()> {
        let id = Uuid::parse_str(&task.id).map_err(|e| crate::Error::Decode(e.to_string()))?;
        let Some(workflow) = self.workflows.get(&task.kind) else {
            // Not ours: the server re-offers it after its lease.
            return Err(crate::Error::Config(format!(
                "workflow kind {:?} is not registered",
                task.kind
            )));
        };
        let events = self.client.events(id).await?;
        let replay = Replay::new(id, task.workflow_task_time_millis, events);
        let org = Uuid::parse_str(&task.org_id)
            .ok()
            .or(self.config.org_id)
            .unwrap_or_default();
        let ctx = WorkflowContext::new(replay, id, org);
        let mut run = workflow.run(ctx.clone(), from_bytes(&task.input));
        // Steps are decided when created: one poll runs the code as far as
        // the history allows.
        let outcome = match run.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        };
        drop(run);
        let (commands, status) = {
            let mut replay = ctx.replay.lock().expect("replay state is never poisoned");
            let status = replay.finish(outcome);
            (std::mem::take(&mut replay.commands), status)
        };
        self.client
            .grpc
            .dispatch()
            .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
                workflow_execution_id: task.id,
                commands,
                status: status as i32,
            })
            .await?;
        Ok(())
    }

    async fn idle(&self) {
        tokio::time::sleep(jittered(self.config.no_work_backoff)).await;
    }

    fn max_concurrent(&self) -> usize {
        self.config.max_concurrent
    }

    fn reconnect(&self) -> Reconnect {
        self.config.reconnect
    }

    fn state(&self) -> &watch::Sender<ConnectionState> {
        &self.state
    }

    fn polls(&self) -> &AtomicU64 {
        &self.polls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_says_where_the_org_comes_from() {
        let mut config = WorkflowWorkerConfig::default();
        assert!(format!("{config:?}").contains("org_id: token's org,"));
        let org = Uuid::from_u128(7);
        config.org_id = Some(org);
        assert!(format!("{config:?}").contains(&format!("org_id: {org},")));
    }
}
