//! Gives jobs whose lease ran out back to their queue.

use std::sync::Arc;
use std::time::Instant;

use tracing::warn;

use crate::job::Job;
use crate::store::InMemoryStore;

pub struct LeaseSweeper {
    store: Arc<InMemoryStore>,
}

impl LeaseSweeper {
    pub fn new(store: Arc<InMemoryStore>) -> Self {
        Self { store }
    }

    /// Requeues every job whose lease ended before `now` and returns them.
    pub fn sweep(&self, now: Instant) -> Vec<Job> {
        let expired = self.store.expire_leases(now);
        for job in &expired {
            warn!(job = %job.id, attempts = job.attempts, "lease expired; job requeued");
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
        let sweeper = LeaseSweeper::new(store.clone());
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
