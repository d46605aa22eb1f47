//! gRPC state and the work notifier.

use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::service::workflow_launcher::WorkflowLauncher;
use crate::storage::Storage;

pub mod workflow_dispatch;

/// A unit of "work is available" news.
#[derive(Debug, Clone)]
pub struct WorkNotification {
    pub org_id: Uuid,
    pub queue: String,
}

/// Broadcasts work notifications to every subscribed worker.
pub struct WorkerNotifier {
    sender: broadcast::Sender<WorkNotification>,
}

impl WorkerNotifier {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    pub fn notify_work_available(&self, org_id: Uuid, queue: &str) {
        let _ = self.sender.send(WorkNotification {
            org_id,
            queue: queue.to_string(),
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<WorkNotification> {
        self.sender.subscribe()
    }
}

#[derive(Clone)]
pub struct GrpcState {
    pub storage: Arc<Storage>,
    pub launcher: Arc<WorkflowLauncher>,
    pub notifier: Arc<WorkerNotifier>,
}
