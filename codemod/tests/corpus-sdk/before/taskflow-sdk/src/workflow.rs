//! The workflow poller: it fetches workflow activations, runs the registered [`Workflow`] and
//! reports the result. After an empty poll it sleeps for the configured backoff.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::api::{CompletionRequest, DispatchApi, PollRequest, WorkflowActivation};
use crate::config::WorkerConfig;
use crate::metrics::Metrics;

/// Workflow code, registered with
/// [`WorkerBuilder::register_workflow`](crate::WorkerBuilder::register_workflow).
#[async_trait]
pub trait Workflow: Send + Sync {
    async fn execute(&self, input: Vec<u8>) -> Result<Vec<u8>, String>;
}

pub(crate) struct WorkflowWorker {
    config: WorkerConfig,
    workflows: HashMap<String, Arc<dyn Workflow>>,
    metrics: Option<Arc<Metrics>>,
    /// Signalled by the subscription loop when a workflow was queued for this worker.
    pub(crate) work_available_notify: Arc<Notify>,
    shutdown: Notify,
}

impl WorkflowWorker {
    pub(crate) fn new(
        config: &WorkerConfig,
        workflows: HashMap<String, Arc<dyn Workflow>>,
        metrics: Option<Arc<Metrics>>,
        work_available_notify: Arc<Notify>,
    ) -> Self {
        if config.enable_notifications {
            info!(queue = %config.workflow_queue, "workflow poller also waits for events");
        } else {
            info!(queue = %config.workflow_queue, backoff = ?config.no_work_backoff, "workflow poller");
        }
        Self {
            config: config.clone(),
            workflows,
            metrics,
            work_available_notify,
            shutdown: Notify::new(),
        }
    }

    /// Makes [`run`](Self::run) return at its next wait.
    pub(crate) fn stop(&self) {
        self.shutdown.notify_one();
    }

    pub(crate) async fn run(self: Arc<Self>, api: Arc<dyn DispatchApi>) {
        let request = PollRequest {
            worker_id: self.config.worker_id.clone(),
            queue: self.config.workflow_queue.clone(),
        };
        loop {
            let polled = tokio::select! {
                _ = self.shutdown.notified() => break,
                polled = api.poll_workflow(request.clone()) => polled,
            };
            if let Some(metrics) = &self.metrics {
                metrics.record_poll(matches!(polled, Ok(Some(_))));
            }
            match polled {
                Ok(Some(activation)) => {
                    self.execute(api.as_ref(), activation).await;
                    continue;
                }
                Ok(None) => {}
                Err(status) => warn!(%status, "workflow poll failed"),
            }
            // An event from the subscription loop ends the wait early.
            tokio::select! {
                _ = self.shutdown.notified() => break,
                _ = self.work_available_notify.notified() => {}
                _ = tokio::time::sleep(self.config.no_work_backoff) => {}
            }
        }
        debug!(queue = %self.config.workflow_queue, "stop notification received; poller exits");
    }

    async fn execute(&self, api: &dyn DispatchApi, activation: WorkflowActivation) {
        let result = match self.workflows.get(&activation.workflow_type) {
            Some(workflow) => workflow.execute(activation.input).await,
            None => Err(format!("no such workflow: {}", activation.workflow_type)),
        };
        let request = CompletionRequest {
            worker_id: self.config.worker_id.clone(),
            id: activation.execution_id,
            result,
        };
        match api.complete_workflow(request).await {
            Ok(()) => {
                if let Some(metrics) = &self.metrics {
                    metrics.record_completion();
                }
            }
            Err(status) => warn!(%status, id = activation.execution_id, "could not report result"),
        }
    }
}
