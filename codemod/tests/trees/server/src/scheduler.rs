//! Timers and lease reclaim.

use std::sync::Arc;
use std::time::Duration;

use crate::api::grpc::WorkerNotifier;
use crate::storage::Storage;

pub struct Scheduler {
    storage: Arc<Storage>,
    notifier: Arc<WorkerNotifier>,
}

impl Scheduler {
    pub fn new(storage: Arc<Storage>, notifier: Arc<WorkerNotifier>) -> Self {
        Self { storage, notifier }
    }

    pub async fn run(self) {
        loop {
            let fired = self.storage.fire_due_timers().await.unwrap_or_default();
            for timer in &fired {
                self.notifier.notify_work_available(timer.org_id, &timer.queue);
            }
            match self.storage.reclaim_expired().await {
                Ok(reclaimed) if reclaimed > 0 => {
                    tracing::info!(reclaimed, "reclaimed expired leases");
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
