//! Gives jobs whose lease ran out back to their queue.

use std::sync::Arc;
use std::time::Instant;

use tracing::warn;

use crate::events::WorkerNotifier;
use crate::job::Job;
use crate::store::InMemoryStore;

pub struct LeaseSweeper {
    store: Arc<InMemoryStore>,
    notifier: Box<WorkerNotifier>,
}

impl LeaseSweeper {
    pub fn new(store: Arc<InMemoryStore>, notifier: Box<WorkerNotifier>) -> Self {
        Self { store, notifier }
    }

    /// Requeues every job whose lease ended before `now` and returns them.
    pub fn sweep(&self, now: Instant) -> Vec<Job> {
        let expired = self.store.expire_leases(now);
        // Requeued jobs are announced like new ones so that an idle worker
        // picks them up at once.
        let wake = |job: &Job| self.notifier.notify_work_available(&job.org_id, &job.queue);
        for job in &expired {
            warn!(job = %job.id, attempts = job.attempts, "lease expired; job requeued");
            wake(job);
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::job::NewJob;

    #[test]
    fn sweep_requeues_expired_leases_only() {
        let store = Arc::new(InMemoryStore::new());
        let sweeper = LeaseSweeper::new(store.clone(), Box::new(WorkerNotifier::new(4)));
        let now = Instant::now();
        store.insert(NewJob::new("acme", "emails", "a"));
        store.insert(NewJob::new("acme", "emails", "b"));
        store.poll("acme", "emails", "w1", now).unwrap();
        store
            .poll("acme", "emails", "w2", now + Duration::from_secs(60))
            .unwrap();
        let requeued = sweeper.sweep(now + Duration::from_secs(1));
        assert_eq!(requeued.len(), 1);
        assert_eq!(store.depth("acme", "emails"), 1);
    }
}
