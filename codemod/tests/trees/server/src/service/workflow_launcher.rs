//! Starts workflows.

use std::sync::Arc;

use crate::api::grpc::WorkerNotifier;
use crate::storage::Storage;

pub struct WorkflowLauncher {
    storage: Arc<Storage>,
    notifier: Arc<WorkerNotifier>,
}

impl WorkflowLauncher {
    pub fn new(storage: Arc<Storage>, notifier: Arc<WorkerNotifier>) -> Self {
        Self { storage, notifier }
    }

    pub async fn launch_child(&self, org_id: uuid::Uuid, queue: &str) -> anyhow::Result<()> {
        self.storage.insert_child(org_id, queue).await?;
        // Wake a worker of the child's queue.
        self.notifier.notify_work_available(org_id, queue);
        Ok(())
    }
}
