//! Fake gRPC clients backed by in-memory queues.
//!
//! They mirror the surface of the generated Flovyn clients closely enough for
//! the workers, while letting tests push work directly.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

/// Capacity of each notification subscription channel.
const NOTIFICATION_CHANNEL_CAPACITY: usize = 16;

/// Error returned by the fake gRPC clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server could not be reached.
    Unavailable(String),
    /// The worker is shutting down and cannot accept more work.
    Cancelled,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unavailable(reason) => write!(f, "server unavailable: {reason}"),
            ClientError::Cancelled => f.write_str("operation cancelled"),
        }
    }
}

impl std::error::Error for ClientError {}

/// A workflow execution handed to a worker by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowActivation {
    pub workflow_execution_id: String,
    pub workflow_kind: String,
    pub org_id: String,
    pub queue: String,
}

/// A task execution handed to a worker by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskActivation {
    pub task_execution_id: String,
    pub task_type: String,
    pub org_id: String,
    pub queue: String,
}

/// Event streamed to subscribers when work is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkAvailableEvent {
    pub org_id: String,
    pub queue: String,
}

#[derive(Debug)]
struct Subscriber {
    org_id: String,
    queue: String,
    sender: mpsc::Sender<WorkAvailableEvent>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fake client for the `WorkflowDispatch` gRPC service.
#[derive(Debug, Clone, Default)]
pub struct WorkflowDispatchClient {
    pending: Arc<Mutex<VecDeque<WorkflowActivation>>>,
    completed: Arc<Mutex<Vec<String>>>,
    subscribers: Arc<Mutex<Vec<Subscriber>>>,
}

impl WorkflowDispatchClient {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a workflow activation, as the server would when a workflow is started.
    pub fn push_workflow(&self, activation: WorkflowActivation) {
        let event = WorkAvailableEvent {
            org_id: activation.org_id.clone(),
            queue: activation.queue.clone(),
        };
        lock(&self.pending).push_back(activation);

        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|subscriber| !subscriber.sender.is_closed());
        for subscriber in subscribers.iter() {
            if subscriber.org_id == event.org_id && subscriber.queue == event.queue {
                // A full channel already has a wake-up pending for this worker.
                let _ = subscriber.sender.try_send(event.clone());
            }
        }
    }

    /// Ids of the workflow executions that workers reported as completed.
    pub fn completed_workflows(&self) -> Vec<String> {
        lock(&self.completed).clone()
    }

    /// Long-polls for the next workflow activation of `org_id`/`queue`.
    pub async fn poll_workflow(
        &self,
        org_id: &str,
        queue: &str,
    ) -> Result<Option<WorkflowActivation>, ClientError> {
        let mut pending = lock(&self.pending);
        let position = pending
            .iter()
            .position(|activation| activation.org_id == org_id && activation.queue == queue);
        Ok(position.and_then(|index| pending.remove(index)))
    }

    /// Reports a workflow execution as completed.
    pub async fn complete_workflow(&self, workflow_execution_id: &str) -> Result<(), ClientError> {
        lock(&self.completed).push(workflow_execution_id.to_string());
        Ok(())
    }

    /// Opens a stream of work-available events for `org_id`/`queue`.
    pub async fn subscribe_to_notifications(
        &self,
        org_id: &str,
        queue: &str,
    ) -> Result<mpsc::Receiver<WorkAvailableEvent>, ClientError> {
        let (sender, receiver) = mpsc::channel(NOTIFICATION_CHANNEL_CAPACITY);
        lock(&self.subscribers).push(Subscriber {
            org_id: org_id.to_string(),
            queue: queue.to_string(),
            sender,
        });
        Ok(receiver)
    }
}

/// Fake client for the `TaskExecution` gRPC service.
#[derive(Debug, Clone, Default)]
pub struct TaskExecutionClient {
    pending: Arc<Mutex<VecDeque<TaskActivation>>>,
    completed: Arc<Mutex<Vec<String>>>,
}

impl TaskExecutionClient {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a task activation, as the server would when a task is scheduled.
    pub fn push_task(&self, activation: TaskActivation) {
        lock(&self.pending).push_back(activation);
    }

    /// Ids of the task executions that workers reported as completed.
    pub fn completed_tasks(&self) -> Vec<String> {
        lock(&self.completed).clone()
    }

    /// Polls for the next task activation of `org_id`/`queue`.
    pub async fn poll_task(
        &self,
        org_id: &str,
        queue: &str,
    ) -> Result<Option<TaskActivation>, ClientError> {
        let mut pending = lock(&self.pending);
        let position = pending
            .iter()
            .position(|activation| activation.org_id == org_id && activation.queue == queue);
        Ok(position.and_then(|index| pending.remove(index)))
    }

    /// Reports a task execution as completed.
    pub async fn complete_task(&self, task_execution_id: &str) -> Result<(), ClientError> {
        lock(&self.completed).push(task_execution_id.to_string());
        Ok(())
    }
}
