//! [`Worker`] runs a workflow poller and a task poller against one [`DispatchApi`], and keeps a
//! work-available subscription open so that an idle poller wakes up when work is queued.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tracing::{debug, info, warn};

use crate::api::{DispatchApi, SubscriptionRequest, WorkKind};
use crate::config::WorkerConfig;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::task::TaskWorker;
use crate::workflow::WorkflowWorker;

/// How long the subscription loop waits before it subscribes again after the stream failed or
/// the server closed it.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(500);

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
        let mut subscription = None;
        if worker.config.enable_notifications {
            let worker = Arc::clone(&worker);
            let handle = tokio::spawn(async move { worker.notification_subscription_loop().await });
            subscription = Some(handle);
        }
        WorkerHandle {
            worker,
            pollers,
            subscription,
        }
    }

    /// Keeps a subscription for both queues open and wakes the poller each event is for. Runs
    /// until its task is aborted.
    async fn notification_subscription_loop(&self) {
        let config = &self.config;
        let request = SubscriptionRequest {
            worker_id: config.worker_id.clone(),
            queues: vec![config.workflow_queue.clone(), config.task_queue.clone()],
        };
        loop {
            match self.api.subscribe_to_notifications(request.clone()).await {
                Ok(mut stream) => {
                    debug!(queues = ?request.queues, "subscribed to work-available events");
                    while let Some(event) = stream.next().await {
                        match event {
                            Ok(event) if event.kind == WorkKind::Workflow => {
                                self.workflow.work_available_notify.notify_one()
                            }
                            Ok(_) => self.tasks.wake(),
                            Err(status) => {
                                warn!(%status, "work-available stream failed");
                                break;
                            }
                        }
                    }
                }
                Err(status) => warn!(%status, "could not subscribe to work-available events"),
            }
            tokio::time::sleep(RECONNECT_BACKOFF).await;
        }
    }
}

/// A started [`Worker`]. Dropping the handle leaves the worker running; [`stop`](Self::stop)
/// ends it.
pub struct WorkerHandle {
    worker: Arc<Worker>,
    pollers: Vec<JoinHandle<()>>,
    subscription: Option<JoinHandle<()>>,
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
    pub async fn stop(mut self) {
        if let Some(subscription) = self.subscription.take() {
            subscription.abort();
            let _ = subscription.await;
        }
        self.worker.workflow.stop();
        self.worker.tasks.stop();
        for poller in self.pollers {
            if let Err(error) = poller.await {
                warn!(%error, "poller panicked");
            }
        }
    }
}
