//! Worker settings.

use std::fmt;
use std::time::Duration;

/// Settings of a [`Worker`](crate::Worker). Set them with [`WorkerBuilder`](crate::WorkerBuilder)
/// or start from [`WorkerConfig::default`].
#[derive(Clone)]
pub struct WorkerConfig {
    /// Names this process in the server's worker list.
    pub worker_id: String,
    /// The queue workflow executions are polled from.
    pub workflow_queue: String,
    /// The queue tasks are polled from.
    pub task_queue: String,
    /// How long an idle poller waits before it polls again, unless a work-available event
    /// arrives first.
    pub no_work_backoff: Duration,
    /// Subscribe to the server's work-available events, so that an idle poller wakes up as soon
    /// as work is queued instead of waiting out `no_work_backoff`.
    pub enable_notifications: bool,
    /// Count polls and completions; read them with
    /// [`WorkerHandle::metrics`](crate::WorkerHandle::metrics).
    pub enable_metrics: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: "taskflow-worker".to_string(),
            workflow_queue: "default".to_string(),
            task_queue: "default".to_string(),
            no_work_backoff: Duration::from_secs(1),
            enable_notifications: true,
            enable_metrics: false,
        }
    }
}

// Written by hand to print the backoff in milliseconds, the unit of the server's admin page.
impl fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("worker_id", &self.worker_id)
            .field("workflow_queue", &self.workflow_queue)
            .field("task_queue", &self.task_queue)
            .field("no_work_backoff_ms", &self.no_work_backoff.as_millis())
            .field("enable_notifications", &self.enable_notifications)
            .field("enable_metrics", &self.enable_metrics)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_poll_the_default_queues_every_second() {
        let config = WorkerConfig::default();
        assert_eq!(config.workflow_queue, "default");
        assert_eq!(config.task_queue, "default");
        assert_eq!(config.no_work_backoff, Duration::from_secs(1));
        assert!(!config.enable_metrics);
    }

    // Push is the default: a worker that keeps the defaults wakes up on events.
    #[test]
    fn notifications_are_on_by_default() {
        assert!(WorkerConfig::default().enable_notifications);
    }

    #[test]
    fn debug_prints_the_backoff_in_milliseconds() {
        let text = format!("{:?}", WorkerConfig::default());
        assert!(text.contains("no_work_backoff_ms: 1000"), "{text}");
        assert!(text.contains("enable_notifications: true"), "{text}");
        assert!(text.contains("enable_metrics: false"), "{text}");
    }
}
