//! Operator actions on jobs and queues, outside the normal worker flow.

use std::sync::Arc;

use tracing::info;

use crate::error::DispatchError;
use crate::job::{Job, JobId};
use crate::queue::validate_queue_name;
use crate::store::InMemoryStore;
use crate::Result;

pub struct Dispatcher {
    store: Arc<InMemoryStore>,
}

impl Dispatcher {
    pub fn new(store: Arc<InMemoryStore>) -> Self {
        Self { store }
    }

    /// Puts a failed job back on its queue, unless it already had
    /// `max_attempts` tries.
    pub fn retry(&self, id: JobId, max_attempts: u32) -> Result<Job> {
        if self.store.get(id)?.attempts >= max_attempts {
            return Err(DispatchError::AttemptsExhausted(id));
        }
        let job = self.store.retry(id)?;
        info!(job = %id, "retried by operator");
        Ok(job)
    }

    /// Moves a pending job to another queue of the same organisation.
    pub fn move_job(&self, id: JobId, to_queue: &str) -> Result<Job> {
        validate_queue_name(to_queue)?;
        let job = self.store.move_to(id, to_queue)?;
        Ok(job)
    }

    /// Un-pauses every queue of `org_id` and returns their names.
    pub fn resume_org(&self, org_id: &str) -> Vec<String> {
        let queues = self.store.resume_org(org_id);
        info!(org_id, resumed = queues.len(), "organisation resumed");
        queues
    }
}

/// Puts a leased job back on its queue and wakes one of the queue's workers.
pub fn finish_requeue(store: &InMemoryStore, id: JobId) -> Result<Job> {
    let job = store.release(id)?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::job::NewJob;

    #[test]
    fn retry_refuses_exhausted_job() {
        let store = Arc::new(InMemoryStore::new());
        let dispatcher = Dispatcher::new(store.clone());
        let job = store.insert(NewJob::new("acme", "emails", "{}"));
        store.poll("acme", "emails", "w1", Instant::now()).unwrap();
        store.fail(job.id, "boom").unwrap();
        assert_eq!(
            dispatcher.retry(job.id, 1).unwrap_err(),
            DispatchError::AttemptsExhausted(job.id)
        );
        assert!(dispatcher.retry(job.id, 2).unwrap().is_pending());
    }

    #[test]
    fn finish_requeue_returns_job_to_queue() {
        let store = InMemoryStore::new();
        let job = store.insert(NewJob::new("acme", "emails", "{}"));
        let until = Instant::now() + Duration::from_secs(30);
        store.poll("acme", "emails", "w1", until).unwrap();
        let job = finish_requeue(&store, job.id).unwrap();
        assert!(job.is_pending());
    }
}
