//! The workflow worker: polls workflow tasks, runs each by replaying the
//! workflow code against its history ([`crate::workflow`]), and submits the
//! new commands with the outcome.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
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
    /// Subscribe to the server's work notifications, so that an idle worker
    /// polls as soon as work is reported instead of at the end of its sleep.
    pub enable_notifications: bool,
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
            enable_notifications: true,
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
            .field("enable_notifications", &self.enable_notifications)
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
    /// Woken by the notification subscription: cuts the idle sleep short.
    pub work_available_notify: Arc<Notify>,
}

impl WorkflowWorker {
    /// Keeps a notification subscription open for the worker's org and queue
    /// and wakes the poll loop on every event, until `stop`. Whatever ends a
    /// subscription (an error, the server closing the stream, a refused
    /// call), a new one is opened 5 s later; meanwhile the worker just polls.
    pub async fn notification_subscription_loop(self: Arc<Self>, stop: CancellationToken) {
        const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(5);
        while !stop.is_cancelled() {
            let subscription = self
                .client
                .grpc
                .dispatch()
                .subscribe_to_notifications(pb::SubscriptionRequest {
                    worker_id: self.config.worker_id.clone(),
                    org_id: org_text(self.config.org_id),
                    queue: self.config.queue.clone(),
                })
                .await;
            match subscription {
                Ok(response) => {
                    tracing::debug!(queue = %self.config.queue, "subscribed to work notifications");
                    let mut events = response.into_inner();
                    loop {
                        let event = tokio::select! {
                            event = events.message() => event,
                            _ = stop.cancelled() => return,
                        };
                        match event {
                            Ok(Some(event)) => {
                                // Only a hint: the next poll says whether
                                // there is work for us.
                                tracing::debug!(
                                    org_id = %event.org_id,
                                    queue = %event.queue,
                                    timestamp_ms = event.timestamp_ms,
                                    "work available notification"
                                );
                                self.work_available_notify.notify_one();
                            }
                            Ok(None) => {
                                tracing::debug!("notification stream closed by the server");
                                break;
                            }
                            Err(status) => {
                                tracing::warn!(error = %status, "notification stream failed");
                                break;
                            }
                        }
                    }
                }
                Err(status) => {
                    tracing::warn!(error = %status, "cannot subscribe to work notifications; polling only");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RESUBSCRIBE_DELAY) => {}
                _ = stop.cancelled() => return,
            }
        }
    }
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
        tokio::select! {
            _ = self.work_available_notify.notified() => {
                tracing::debug!("work available notification received, polling immediately");
            }
            _ = tokio::time::sleep(jittered(self.config.no_work_backoff)) => {}
        }
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
