//! The service layer: validation, limits and bookkeeping around the store.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use tracing::{debug, warn};

use crate::error::DispatchError;
use crate::job::{Job, JobId, NewJob};
use crate::metrics::QueueGauge;
use crate::queue::validate_queue_name;
use crate::store::InMemoryStore;
use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A job that failed this many times stays failed.
    pub max_attempts: u32,
    pub max_payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_payload_bytes: 64 * 1024,
        }
    }
}

pub struct DispatchService {
    store: Arc<InMemoryStore>,
    limits: Limits,
    gauge: Arc<QueueGauge>,
}

/// Builds a [`DispatchService`].
pub struct DispatchServiceBuilder {
    store: Arc<InMemoryStore>,
    limits: Limits,
    gauge: Option<Arc<QueueGauge>>,
}

impl DispatchServiceBuilder {
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.limits.max_attempts = max_attempts;
        self
    }

    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_payload_bytes = bytes;
        self
    }

    pub fn with_gauge(mut self, gauge: Arc<QueueGauge>) -> Self {
        self.gauge = Some(gauge);
        self
    }

    pub fn build(self) -> DispatchService {
        DispatchService {
            store: self.store,
            limits: self.limits,
            gauge: self.gauge.unwrap_or_default(),
        }
    }
}

impl fmt::Debug for DispatchService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatchService")
            .field("limits", &self.limits)
            .field("gauge", &self.gauge.snapshot())
            .finish_non_exhaustive()
    }
}

impl DispatchService {
    pub fn builder(store: Arc<InMemoryStore>) -> DispatchServiceBuilder {
        DispatchServiceBuilder {
            store,
            limits: Limits::default(),
            gauge: None,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn store(&self) -> &InMemoryStore {
        &self.store
    }

    fn check(&self, new_job: &NewJob) -> Result<()> {
        validate_queue_name(&new_job.queue)?;
        let size = new_job.payload.len();
        if size > self.limits.max_payload_bytes {
            return Err(DispatchError::PayloadTooLarge {
                size,
                limit: self.limits.max_payload_bytes,
            });
        }
        Ok(())
    }

    /// Stores the job and, when it is ready to run, wakes the workers
    /// subscribed to its queue.
    pub fn enqueue(&self, new_job: NewJob) -> Result<Job> {
        self.check(&new_job)?;
        let job = self.store.insert(new_job);
        self.gauge.record_enqueue();
        if job.is_pending() {
            self.gauge.notify_work_available();
        }
        debug!(job = %job.id, queue = %job.queue, "enqueued");
        Ok(job)
    }

    /// Stores all jobs or none of them.
    pub fn enqueue_batch(&self, org_id: &str, jobs: Vec<NewJob>) -> Result<Vec<Job>> {
        for new_job in &jobs {
            self.check(new_job)?;
        }
        let created: Vec<Job> = jobs.into_iter().map(|job| self.store.insert(job)).collect();
        debug!(org_id, count = created.len(), "batch enqueued");
        Ok(created)
    }

    pub fn poll(&self, org_id: &str, queue: &str, worker: &str, until: Instant) -> Option<Job> {
        let job = self.store.poll(org_id, queue, worker, until);
        self.gauge.record_poll(job.is_some());
        job
    }

    /// Records a failure; the job goes back to its queue unless it has used
    /// up its attempts.
    pub fn fail(&self, id: JobId, reason: &str) -> Result<Job> {
        let job = self.store.fail(id, reason)?;
        if job.attempts >= self.limits.max_attempts {
            warn!(job = %id, attempts = job.attempts, reason, "job failed for good");
            return Ok(job);
        }
        let job = self.store.retry(id)?;
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::job::JobState;

    const ORG: &str = "acme";

    fn lease() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn failed_job_is_retried_until_attempts_run_out() {
        let store = Arc::new(InMemoryStore::new());
        let service = DispatchService::builder(store.clone())
            .max_attempts(2)
            .max_payload_bytes(1024)
            .build();
        let job = service.enqueue(NewJob::new(ORG, "emails", "{}")).unwrap();
        service.poll(ORG, "emails", "w1", lease()).unwrap();
        assert!(service.fail(job.id, "smtp timeout").unwrap().is_pending());
        service.poll(ORG, "emails", "w1", lease()).unwrap();
        let job = service.fail(job.id, "smtp timeout").unwrap();
        assert!(matches!(job.state, JobState::Failed { .. }));
    }

    #[test]
    fn oversized_payload_is_rejected() {
        let service = DispatchService::builder(Arc::new(InMemoryStore::new()))
            .max_payload_bytes(4)
            .build();
        let err = service.enqueue(NewJob::new(ORG, "emails", "too long"));
        let expected = DispatchError::PayloadTooLarge { size: 8, limit: 4 };
        assert_eq!(err.unwrap_err(), expected);
    }

    #[test]
    fn empty_polls_are_counted() {
        let gauge = Arc::new(QueueGauge::default());
        let service = DispatchService::builder(Arc::new(InMemoryStore::new()))
            .with_gauge(gauge.clone())
            .build();
        assert!(service.poll(ORG, "emails", "w1", lease()).is_none());
        assert_eq!(gauge.snapshot().empty_polls, 1);
    }
}
