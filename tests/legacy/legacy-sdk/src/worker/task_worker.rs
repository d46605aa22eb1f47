//! The task worker: polls tasks, runs them, reports completion or failure.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use super::{jittered, ConnectionState, Poller, Reconnect};
use crate::client::FlovynClient;
use crate::task::{DynTask, TaskContext};
use crate::transport::{from_bytes, org_text, pb, to_bytes};
use crate::Result;

/// Settings of a task worker.
#[derive(Debug, Clone)]
pub struct TaskWorkerConfig {
    pub worker_id: String,
    /// `None`: the server takes the token's org.
    pub org_id: Option<Uuid>,
    pub queue: String,
    /// Tasks run at the same time.
    pub max_concurrent: usize,
    /// Longest sleep after an empty poll (the sleep is jittered down to half).
    pub no_work_backoff: Duration,
    /// Longest a task may run before it is reported as timed out.
    pub task_timeout: Duration,
    pub reconnect: Reconnect,
}

impl Default for TaskWorkerConfig {
    fn default() -> Self {
        TaskWorkerConfig {
            worker_id: format!("worker-{}", Uuid::new_v4()),
            org_id: None,
            queue: "default".into(),
            max_concurrent: 10,
            no_work_backoff: Duration::from_millis(100),
            task_timeout: Duration::from_secs(300),
            reconnect: Reconnect::default(),
        }
    }
}

/// Why an attempt failed, as the worker reports it: the text the workflow
/// sees, and whether the server may run another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    error: String,
    retryable: bool,
}

impl Failure {
    fn retryable(error: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            retryable: true,
        }
    }
}

impl From<crate::Error> for Failure {
    fn from(err: crate::Error) -> Self {
        Failure {
            retryable: err.is_retryable(),
            error: err.to_string(),
        }
    }
}

pub(crate) struct TaskWorker {
    pub client: FlovynClient,
    pub config: TaskWorkerConfig,
    pub tasks: HashMap<String, Arc<dyn DynTask>>,
    pub state: watch::Sender<ConnectionState>,
    /// Polls sent, empty or not.
    pub polls: Arc<AtomicU64>,
}

impl Poller for TaskWorker {
    type Work = pb::TaskExecutionInfo;

    const EXECUTE_FAILED: &'static str = "task outcome could not be reported";

    async fn poll(&self) -> Result<Option<pb::TaskExecutionInfo>> {
        let response = self
            .client
            .grpc
            .tasks()
            .poll_task(pb::PollTaskRequest {
                worker_id: self.config.worker_id.clone(),
                org_id: org_text(self.config.org_id),
                queue: self.config.queue.clone(),
                timeout_seconds: 60,
                ..Default::default()
            })
            .await?;
        Ok(response.into_inner().task)
    }

    async fn execute(&self, task: pb::TaskExecutionInfo) -> Result<()> {
        let task_id = Uuid::parse_str(&task.task_execution_id).map_err(|e| crate::Error::Decode(e.to_string()))?;
        let outcome = match self.tasks.get(&task.kind) {
            // Another worker of the queue may know the kind.
            None => Err(Failure::retryable(format!("Task kind not found: {}", task.kind))),
            Some(definition) => {
                let ctx = TaskContext {
                    grpc: self.client.grpc.clone(),
                    task_id,
                    attempt: task.execution_count,
                    workflow_execution_id: Uuid::parse_str(&task.workflow_execution_id).ok(),
                    cancelled: Arc::new(AtomicBool::new(false)),
                };
                let run = definition.run(ctx, from_bytes(&task.input));
                let limit = definition.timeout().unwrap_or(self.config.task_timeout);
                match tokio::time::timeout(limit, run).await {
                    Ok(Ok(output)) => Ok(output),
                    Ok(Err(err)) => Err(Failure::from(err)),
                    Err(_) => Err(Failure::retryable("Task execution timed out")),
                }
            }
        };
        let mut client = self.client.grpc.tasks();
        match outcome {
            Ok(output) => {
                client
                    .complete_task(pb::CompleteTaskRequest {
                        task_execution_id: task.task_execution_id,
                        output: to_bytes(&output)?,
                    })
                    .await?;
            }
            Err(failure) => {
                client
                    .fail_task(pb::FailTaskRequest {
                        task_execution_id: task.task_execution_id,
                        error: failure.error,
                        non_retryable: !failure.retryable,
                    })
                    .await?;
            }
        }
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
    fn only_a_fatal_error_is_reported_as_not_retryable() {
        let fatal = Failure::from(crate::Error::Fatal("card declined".into()));
        assert_eq!((fatal.error.as_str(), fatal.retryable), ("card declined", false));
        let failed = Failure::from(crate::Error::Failed("flaky".into()));
        assert_eq!((failed.error.as_str(), failed.retryable), ("flaky", true));
        let timeout = Failure::from(crate::Error::Timeout("slow".into()));
        assert!(timeout.retryable, "{timeout:?}");
    }
}
