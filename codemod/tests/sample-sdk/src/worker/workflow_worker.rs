//! Worker that polls for workflow activations and executes them.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::client::{ClientError, WorkflowActivation, WorkflowDispatchClient};

/// Configuration of a [`WorkflowExecutorWorker`].
#[derive(Clone)]
pub struct WorkflowWorkerConfig {
    /// Unique identifier of this worker instance
    pub worker_id: String,
    /// Organization the worker polls work for
    pub org_id: String,
    /// Space within the organization (`None` selects the default space)
    pub space_id: Option<String>,
    /// Queue the worker polls workflows from
    pub queue: String,
    /// Maximum number of workflows executed concurrently
    pub max_concurrent: usize,
    /// Wait before polling again when no work is available
    pub no_work_backoff: Duration,
    /// Wait before polling again after a failed poll
    pub error_backoff: Duration,
    /// Interval between heartbeats sent to the server
    pub heartbeat_interval: Duration,
    /// Enable notification subscription for instant work notifications
    pub enable_notifications: bool,
    /// Human-readable name shown in the server UI
    pub worker_name: Option<String>,
    /// Version of the workflow code served by this worker
    pub worker_version: String,
    /// Register the worker with the server when it starts
    pub enable_auto_registration: bool,
    /// Maximum time to wait for in-flight workflows when stopping
    pub shutdown_timeout: Duration,
}

impl Default for WorkflowWorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: "workflow-worker".to_string(),
            org_id: "default".to_string(),
            space_id: None,
            queue: "default".to_string(),
            max_concurrent: 10,
            no_work_backoff: Duration::from_millis(100),
            error_backoff: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(30),
            enable_notifications: true,
            worker_name: None,
            worker_version: "1.0.0".to_string(),
            enable_auto_registration: true,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for WorkflowWorkerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowWorkerConfig")
            .field("worker_id", &self.worker_id)
            .field("org_id", &self.org_id)
            .field("space_id", &self.space_id)
            .field("queue", &self.queue)
            .field("max_concurrent", &self.max_concurrent)
            .field("no_work_backoff", &self.no_work_backoff)
            .field("error_backoff", &self.error_backoff)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("enable_notifications", &self.enable_notifications)
            .field("worker_name", &self.worker_name)
            .field("worker_version", &self.worker_version)
            .field("enable_auto_registration", &self.enable_auto_registration)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

/// Polls the server for workflow activations and executes them.
pub struct WorkflowExecutorWorker {
    /// Client of the workflow dispatch service
    client: WorkflowDispatchClient,
    /// Worker configuration
    config: WorkflowWorkerConfig,
    /// Bounds the number of concurrently executing workflows
    semaphore: Arc<Semaphore>,
    /// Notify when work is available (from notification subscription)
    work_available_notify: Arc<Notify>,
    /// Signalled when the worker stops
    shutdown: Arc<Notify>,
    /// Cleared when the worker stops
    running: Arc<AtomicBool>,
    /// Number of workflow activations executed so far
    processed: Arc<AtomicUsize>,
    /// Handle of the polling loop, set by [`WorkflowExecutorWorker::start`]
    poll_handle: Option<JoinHandle<()>>,
}

impl WorkflowExecutorWorker {
    pub fn new(client: WorkflowDispatchClient, config: WorkflowWorkerConfig) -> Self {
        Self {
            client,
            semaphore: Arc::new(Semaphore::new(config.max_concurrent)),
            config,
            work_available_notify: Arc::new(Notify::new()),
            shutdown: Arc::new(Notify::new()),
            running: Arc::new(AtomicBool::new(false)),
            processed: Arc::new(AtomicUsize::new(0)),
            poll_handle: None,
        }
    }

    /// Whether the polling loop is running.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Number of workflow activations executed so far.
    pub fn processed_count(&self) -> usize {
        self.processed.load(Ordering::SeqCst)
    }

    async fn notification_subscription_loop(
        client: WorkflowDispatchClient,
        config: WorkflowWorkerConfig,
        notify: Arc<Notify>,
        shutdown: Arc<Notify>,
        running: Arc<AtomicBool>,
    ) {
        // Registered before checking `running` so a concurrent stop is never missed.
        let stopped = shutdown.notified();
        tokio::pin!(stopped);
        if !running.load(Ordering::SeqCst) {
            return;
        }

        loop {
            match client
                .subscribe_to_notifications(&config.org_id, &config.queue)
                .await
            {
                Ok(mut events) => {
                    debug!(queue = %config.queue, "Subscribed to work notifications");
                    loop {
                        tokio::select! {
                            event = events.recv() => match event {
                                Some(event) => {
                                    debug!(queue = %event.queue, "Work available");
                                    notify.notify_one();
                                }
                                None => {
                                    warn!("Notification stream ended, resubscribing in 5s");
                                    break;
                                }
                            },
                            _ = &mut stopped => return,
                        }
                    }
                }
                Err(err) => {
                    warn!(error = %err, "Failed to subscribe to notifications, retrying in 5s");
                }
            }

            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = &mut stopped => return,
            }
        }
    }

    /// Starts polling for workflows in the background.
    pub fn start(&mut self) {
        if self.running.swap(true, Ordering::SeqCst) {
            warn!(worker_id = %self.config.worker_id, "Worker already started");
            return;
        }
        info!(
            worker_id = %self.config.worker_id,
            queue = %self.config.queue,
            "Starting workflow worker"
        );

        // Start notification subscription loop in background (if enabled)
        if self.config.enable_notifications {
            tokio::spawn(Self::notification_subscription_loop(
                self.client.clone(),
                self.config.clone(),
                self.work_available_notify.clone(),
                self.shutdown.clone(),
                self.running.clone(),
            ));
        }

        let client = self.client.clone();
        let config = self.config.clone();
        let semaphore = self.semaphore.clone();
        let work_available_notify = self.work_available_notify.clone();
        let shutdown = self.shutdown.clone();
        let running = self.running.clone();
        let processed = self.processed.clone();

        self.poll_handle = Some(tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                tokio::select! {
                    result = Self::poll_and_execute(
                        &client,
                        &config,
                        &semaphore,
                        work_available_notify.clone(),
                        &processed,
                    ) => {
                        if let Err(err) = result {
                            error!(error = %err, "Failed to poll for workflows");
                            tokio::time::sleep(config.error_backoff).await;
                        }
                    }
                    _ = shutdown.notified() => break,
                }
            }
            debug!(worker_id = %config.worker_id, "Polling loop stopped");
        }));
    }

    /// Stops polling and waits for in-flight workflows to finish.
    pub async fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        self.shutdown.notify_waiters();

        if let Some(handle) = self.poll_handle.take() {
            if let Err(err) = handle.await {
                error!(error = %err, "Polling loop panicked");
            }
        }

        let permits = u32::try_from(self.config.max_concurrent).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(
            self.config.shutdown_timeout,
            self.semaphore.acquire_many(permits),
        )
        .await;
        if drained.is_err() {
            warn!("Timed out waiting for in-flight workflows");
        }
        info!(worker_id = %self.config.worker_id, "Workflow worker stopped");
    }

    async fn poll_and_execute(
        client: &WorkflowDispatchClient,
        config: &WorkflowWorkerConfig,
        semaphore: &Arc<Semaphore>,
        work_available_notify: Arc<Notify>,
        processed: &Arc<AtomicUsize>,
    ) -> Result<(), ClientError> {
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ClientError::Cancelled)?;

        match client.poll_workflow(&config.org_id, &config.queue).await? {
            Some(activation) => {
                let client = client.clone();
                let processed = processed.clone();
                tokio::spawn(async move {
                    Self::execute_workflow(&client, activation).await;
                    processed.fetch_add(1, Ordering::SeqCst);
                    drop(permit);
                });
                Ok(())
            }
            None => {
                drop(permit);
                tokio::select! {
                    _ = work_available_notify.notified() => {
                        debug!("Work available notification received, polling immediately");
                    }
                    _ = tokio::time::sleep(config.no_work_backoff) => {
                        // Regular poll interval
                    }
                }
                Ok(())
            }
        }
    }

    async fn execute_workflow(client: &WorkflowDispatchClient, activation: WorkflowActivation) {
        debug!(
            workflow_execution_id = %activation.workflow_execution_id,
            kind = %activation.workflow_kind,
            "Executing workflow"
        );
        if let Err(err) = client
            .complete_workflow(&activation.workflow_execution_id)
            .await
        {
            error!(error = %err, "Failed to report workflow completion");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation(id: &str) -> WorkflowActivation {
        WorkflowActivation {
            workflow_execution_id: id.to_string(),
            workflow_kind: "greeting".to_string(),
            org_id: "default".to_string(),
            queue: "default".to_string(),
        }
    }

    #[test]
    fn config_defaults() {
        let config = WorkflowWorkerConfig::default();
        assert_eq!(config.org_id, "default");
        assert_eq!(config.queue, "default");
        assert_eq!(config.max_concurrent, 10);
        assert_eq!(config.no_work_backoff, Duration::from_millis(100));
        assert_eq!(config.heartbeat_interval, Duration::from_secs(30));
        assert!(config.enable_notifications);
        assert!(config.space_id.is_none());
    }

    #[test]
    fn config_debug_lists_fields() {
        let rendered = format!("{:?}", WorkflowWorkerConfig::default());
        assert!(rendered.starts_with("WorkflowWorkerConfig {"));
        assert!(rendered.contains("no_work_backoff: 100ms"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn processes_pushed_workflow() {
        let client = WorkflowDispatchClient::new();
        let config = WorkflowWorkerConfig {
            no_work_backoff: Duration::from_millis(50),
            ..Default::default()
        };
        let mut worker = WorkflowExecutorWorker::new(client.clone(), config);
        worker.start();
        assert!(worker.is_running());

        // Let the worker find the queue empty and go idle before work arrives.
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.push_workflow(activation("wf-1"));
        tokio::time::timeout(Duration::from_secs(2), async {
            while client.completed_workflows().is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("workflow was not processed within 2s");

        tokio::time::timeout(Duration::from_secs(2), worker.stop())
            .await
            .expect("worker did not stop within 2s");
        assert!(!worker.is_running());
        assert_eq!(client.completed_workflows(), vec!["wf-1".to_string()]);
        assert_eq!(worker.processed_count(), 1);
    }
}
