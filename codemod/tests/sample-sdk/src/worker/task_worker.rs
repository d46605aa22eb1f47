//! Worker that polls for task activations and executes them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tracing::{debug, error, info};

use crate::client::{ClientError, TaskActivation, TaskExecutionClient};

/// Configuration of a [`TaskExecutorWorker`].
#[derive(Debug, Clone)]
pub struct TaskWorkerConfig {
    /// Unique identifier of this worker instance
    pub worker_id: String,
    /// Organization the worker polls work for
    pub org_id: String,
    /// Space within the organization (`None` selects the default space)
    pub space_id: Option<String>,
    /// Queue the worker polls tasks from
    pub queue: String,
    /// Wait before polling again when no work is available
    pub no_work_backoff: Duration,
    /// Wait before polling again after a failed poll
    pub error_backoff: Duration,
    /// Interval between heartbeats sent to the server
    pub heartbeat_interval: Duration,
    /// Human-readable name shown in the server UI
    pub worker_name: Option<String>,
    /// Version of the task code served by this worker
    pub worker_version: String,
}

impl Default for TaskWorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: "task-worker".to_string(),
            org_id: "default".to_string(),
            space_id: None,
            queue: "default".to_string(),
            no_work_backoff: Duration::from_millis(100),
            error_backoff: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(30),
            worker_name: None,
            worker_version: "1.0.0".to_string(),
        }
    }
}

/// Polls the server for task activations and executes them one at a time.
pub struct TaskExecutorWorker {
    /// Client of the task execution service
    client: TaskExecutionClient,
    /// Worker configuration
    config: TaskWorkerConfig,
    /// Wakes the polling loop when the worker stops
    shutdown: Notify,
    /// Cleared when the worker stops
    running: AtomicBool,
}

impl TaskExecutorWorker {
    pub fn new(client: TaskExecutionClient, config: TaskWorkerConfig) -> Self {
        Self {
            client,
            config,
            shutdown: Notify::new(),
            running: AtomicBool::new(true),
        }
    }

    /// Polls and executes tasks until [`TaskExecutorWorker::stop`] is called.
    pub async fn run(&self) {
        info!(worker_id = %self.config.worker_id, "Starting task worker");
        while self.running.load(Ordering::SeqCst) {
            tokio::select! {
                result = self.poll_and_execute() => {
                    if let Err(err) = result {
                        error!(error = %err, "Failed to poll for tasks");
                        tokio::time::sleep(self.config.error_backoff).await;
                    }
                }
                _ = self.shutdown.notified() => break,
            }
        }
        info!(worker_id = %self.config.worker_id, "Task worker stopped");
    }

    /// Asks the polling loop to stop.
    pub fn stop(&self) {
        self.running.store(false, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }

    async fn poll_and_execute(&self) -> Result<(), ClientError> {
        let activation = match self
            .client
            .poll_task(&self.config.org_id, &self.config.queue)
            .await?
        {
            Some(activation) => activation,
            None => {
                // No task available - wait before next poll to avoid tight loop
                tokio::time::sleep(self.config.no_work_backoff).await;
                return Ok(());
            }
        };
        self.execute_task(activation).await
    }

    async fn execute_task(&self, activation: TaskActivation) -> Result<(), ClientError> {
        debug!(
            task_execution_id = %activation.task_execution_id,
            task_type = %activation.task_type,
            "Executing task"
        );
        self.client
            .complete_task(&activation.task_execution_id)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults() {
        let config = TaskWorkerConfig::default();
        assert_eq!(config.queue, "default");
        assert_eq!(config.no_work_backoff, Duration::from_millis(100));
        assert_eq!(config.error_backoff, Duration::from_secs(1));
        assert!(config.worker_name.is_none());
    }
}
