//! [`Worker`] runs a workflow poller and a task poller against one [`DispatchApi`], and keeps a
//! work-available subscription open so that an idle poller wakes up when work is queued.

use std::sync::Arc;

use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::api::DispatchApi;
use crate::config::WorkerConfig;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::task::TaskWorker;
use crate::workflow::WorkflowWorker;

/// A built worker; nothing runs until [`start`](Self::start).
pub struct Worker {
    api: Arc<dyn DispatchApi>,
    config: WorkerConfig,
    workflow: Arc<WorkflowWorker>,
    tasks: TaskWorker,
    metrics: Option<Arc<Metrics>>,
}

impl Worker {
    pub(crate) fn new(
        api: Arc<dyn DispatchApi>,
        config: WorkerConfig,
        workflow: WorkflowWorker,
        tasks: TaskWorker,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            api,
            config,
            workflow: Arc::new(workflow),
            tasks,
            metrics,
        }
    }

    /// Spawns both pollers (and, with notifications on, the subscription loop) on the current
    /// Tokio runtime.
    pub fn start(self) -> WorkerHandle {
        info!(config = ?self.config, "starting worker");
        let worker = Arc::new(self);
        let pollers = vec![
            tokio::spawn(Arc::clone(&worker.workflow).run(Arc::clone(&worker.api))),
            worker.tasks.spawn(Arc::clone(&worker.api)),
        ];
        WorkerHandle { worker, pollers }
    }
}

/// A started [`Worker`]. Dropping the handle leaves the worker running; [`stop`](Self::stop)
/// ends it.
pub struct WorkerHandle {
    worker: Arc<Worker>,
    pollers: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn config(&self) -> &WorkerConfig {
        &self.worker.config
    }

    /// The worker's counters, if it was built with metrics on.
    pub fn metrics(&self) -> Option<MetricsSnapshot> {
        self.worker.metrics.as_deref().map(Metrics::snapshot)
    }

    /// Closes the subscription, asks both pollers to stop and waits until they have. A poller
    /// that is sleeping out its backoff stops when the sleep ends.
    pub async fn stop(self) {
        self.worker.workflow.stop();
        self.worker.tasks.stop();
        for poller in self.pollers {
            if let Err(error) = poller.await {
                warn!(%error, "poller panicked");
            }
        }
    }
}
