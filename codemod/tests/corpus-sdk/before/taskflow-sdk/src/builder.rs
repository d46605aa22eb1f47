//! [`WorkerBuilder`]: collects a worker's settings and handlers, then builds the [`Worker`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tracing::debug;

use crate::api::DispatchApi;
use crate::config::WorkerConfig;
use crate::metrics::Metrics;
use crate::task::{TaskFn, TaskWorker};
use crate::worker::Worker;
use crate::workflow::{Workflow, WorkflowWorker};

/// Builds a [`Worker`] for one [`DispatchApi`].
///
/// ```
/// use std::time::Duration;
/// use taskflow_sdk::{testing::FakeServer, WorkerBuilder};
///
/// let builder = WorkerBuilder::new(FakeServer::new())
///     .task_queue("billing")
///     .no_work_backoff(Duration::from_millis(200))
///     .register_task("echo", |payload| Ok(payload.to_vec()));
/// assert_eq!(builder.config().task_queue, "billing");
/// ```
pub struct WorkerBuilder {
    api: Arc<dyn DispatchApi>,
    config: WorkerConfig,
    workflows: HashMap<String, Arc<dyn Workflow>>,
    tasks: HashMap<String, TaskFn>,
}

impl WorkerBuilder {
    pub fn new(api: Arc<dyn DispatchApi>) -> Self {
        Self {
            api,
            config: WorkerConfig::default(),
            workflows: HashMap::new(),
            tasks: HashMap::new(),
        }
    }

    pub fn worker_id(mut self, worker_id: impl Into<String>) -> Self {
        self.config.worker_id = worker_id.into();
        self
    }

    pub fn workflow_queue(mut self, queue: impl Into<String>) -> Self {
        self.config.workflow_queue = queue.into();
        self
    }

    pub fn task_queue(mut self, queue: impl Into<String>) -> Self {
        self.config.task_queue = queue.into();
        self
    }

    pub fn no_work_backoff(mut self, backoff: Duration) -> Self {
        self.config.no_work_backoff = backoff;
        self
    }

    /// Subscribe to work-available events (on by default).
    pub fn enable_notifications(mut self, on: bool) -> Self {
        self.config.enable_notifications = on;
        self
    }

    /// Count polls and completions (off by default).
    pub fn enable_metrics(mut self, on: bool) -> Self {
        self.config.enable_metrics = on;
        self
    }

    /// Runs `workflow` for every activation of the workflow type `name`.
    pub fn register_workflow(mut self, name: &str, workflow: impl Workflow + 'static) -> Self {
        self.workflows.insert(name.to_string(), Arc::new(workflow));
        self
    }

    /// Runs `run` for every task of the given kind; its error becomes the task's failure.
    pub fn register_task<F>(mut self, kind: &str, run: F) -> Self
    where
        F: Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    {
        self.tasks.insert(kind.to_string(), Arc::new(run));
        self
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    pub fn build(self) -> Worker {
        let Self {
            api,
            config,
            workflows,
            tasks,
        } = self;
        if workflows.is_empty() && tasks.is_empty() {
            debug!(worker_id = %config.worker_id, "no handlers registered; the worker only polls");
        }
        let metrics = config.enable_metrics.then(|| Arc::new(Metrics::default()));
        let workflow = WorkflowWorker::new(&config, workflows, metrics.clone(), Arc::default());
        // The task poller gets its own wake-up, so that an event only wakes the poller it is for.
        let task_notify = Arc::new(Notify::new());
        let tasks = TaskWorker::new(&config, tasks, metrics.clone(), task_notify);
        Worker::new(api, config, workflow, tasks, metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeServer;

    #[test]
    fn setters_end_up_in_the_config() {
        let builder = WorkerBuilder::new(FakeServer::new())
            .worker_id("w-1")
            .task_queue("billing")
            .no_work_backoff(Duration::from_millis(250))
            .enable_notifications(false)
            .enable_metrics(true);
        let config = builder.config();
        assert_eq!(config.worker_id, "w-1");
        assert_eq!(config.workflow_queue, "default");
        assert_eq!(config.task_queue, "billing");
        assert_eq!(config.no_work_backoff, Duration::from_millis(250));
        assert!(!config.enable_notifications);
        assert!(config.enable_metrics);
    }

    #[test]
    fn a_later_registration_replaces_an_earlier_one() {
        let builder = WorkerBuilder::new(FakeServer::new())
            .register_task("echo", |_| Err("first".to_string()))
            .register_task("echo", |payload| Ok(payload.to_vec()));
        assert_eq!(builder.tasks.len(), 1);
        assert_eq!((builder.tasks["echo"])(b"hi"), Ok(b"hi".to_vec()));
    }
}
