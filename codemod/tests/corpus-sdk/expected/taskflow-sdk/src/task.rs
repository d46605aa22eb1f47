//! The task poller. It runs as a spawned task that gets what it needs as arguments, so that a
//! slow handler never holds a lock on the worker.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::api::{CompletionRequest, DispatchApi, PollRequest, TaskAssignment};
use crate::config::WorkerConfig;
use crate::metrics::Metrics;

/// A task handler: the task's payload in, its result or its error out.
pub type TaskFn = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// After this many idle waits in a row the poller logs that its queue is still empty.
const IDLE_LOG_EVERY: u32 = 60;

pub(crate) struct TaskWorker {
    config: WorkerConfig,
    handlers: Arc<HashMap<String, TaskFn>>,
    metrics: Option<Arc<Metrics>>,
    shutdown: Arc<Notify>,
}

impl TaskWorker {
    pub(crate) fn new(
        config: &WorkerConfig,
        handlers_by_kind: HashMap<String, TaskFn>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        debug!(queue = %config.task_queue, "polling only");
        Self {
            config: config.clone(),
            handlers: Arc::new(handlers_by_kind),
            metrics,
            shutdown: Arc::new(Notify::new()),
        }
    }

    /// Makes the poller return before its next poll.
    pub(crate) fn stop(&self) {
        self.shutdown.notify_one();
    }

    pub(crate) fn spawn(&self, api: Arc<dyn DispatchApi>) -> JoinHandle<()> {
        tokio::spawn(poll_tasks(
            api,
            self.config.clone(),
            Arc::clone(&self.handlers),
            self.metrics.clone(),
            Arc::clone(&self.shutdown),
        ))
    }
}

async fn poll_tasks(
    api: Arc<dyn DispatchApi>,
    config: WorkerConfig,
    handlers: Arc<HashMap<String, TaskFn>>,
    metrics: Option<Arc<Metrics>>,
    shutdown: Arc<Notify>,
) {
    let request = PollRequest {
        worker_id: config.worker_id.clone(),
        queue: config.task_queue.clone(),
    };
    let mut idle_waits = 0u32;
    loop {
        let polled = tokio::select! {
            _ = shutdown.notified() => break,
            polled = api.poll_task(request.clone()) => polled,
        };
        if let Some(metrics) = &metrics {
            metrics.record_poll(matches!(polled, Ok(Some(_))));
        }
        match polled {
            Ok(Some(task)) => {
                idle_waits = 0;
                if run_task(api.as_ref(), &config, &handlers, task).await {
                    if let Some(metrics) = &metrics {
                        metrics.record_completion();
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(status) => warn!(%status, queue = %config.task_queue, "task poll failed"),
        }
        tokio::time::sleep(config.no_work_backoff).await;
        idle_waits += 1;
        if idle_waits % IDLE_LOG_EVERY == 0 {
            debug!(idle_waits, queue = %config.task_queue, "task queue still empty");
        }
    }
}

/// Runs one task and reports its result; `true` if the server accepted the report.
async fn run_task(
    api: &dyn DispatchApi,
    config: &WorkerConfig,
    handlers: &HashMap<String, TaskFn>,
    task: TaskAssignment,
) -> bool {
    let result = match handlers.get(&task.kind) {
        Some(handler) => handler(&task.payload),
        None => Err(format!("no handler for task kind {:?}", task.kind)),
    };
    if let Err(error) = &result {
        warn!(task_id = task.task_id, attempt = task.attempt, %error, "task failed");
    }
    let request = CompletionRequest {
        worker_id: config.worker_id.clone(),
        id: task.task_id,
        result,
    };
    match api.complete_task(request).await {
        Ok(()) => true,
        Err(status) => {
            warn!(%status, task_id = task.task_id, "could not report task result");
            false
        }
    }
}
