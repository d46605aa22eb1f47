//! The service layer: validation, limits and bookkeeping around the store.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use tracing::{debug, warn};

use crate::error::DispatchError;
use crate::events::SharedNotifier;
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
    notifier: Option<SharedNotifier>,
    gauge: Arc<QueueGauge>,
}

/// Builds a [`DispatchService`]. Without
/// [`with_notifier`](Self::with_notifier), workers only learn about new jobs
/// when they poll.
pub struct DispatchServiceBuilder {
    store: Arc<InMemoryStore>,
    limits: Limits,
    notifier: Option<SharedNotifier>,
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

    pub fn with_notifier(mut self, notifier: SharedNotifier) -> Self {
        self.notifier = Some(notifier);
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
            notifier: self.notifier,
            gauge: self.gauge.unwrap_or_default(),
        }
    }
}

impl fmt::Debug for DispatchService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatchService")
            .field("limits", &self.limits)
            .field("notifier", &self.notifier.is_some())
            .field("gauge", &self.gauge.snapshot())
            .finish_non_exhaustive()
    }
}

impl DispatchService {
    pub fn builder(store: Arc<InMemoryStore>) -> DispatchServiceBuilder {
        DispatchServiceBuilder {
            store,
            limits: Limits::default(),
            notifier: None,
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
            // Tell idle workers right away; otherwise they see the job on their next poll.
            if let Some(n) = &self.notifier {
                n.notify_work_available(&job.org_id, &job.queue);
            }
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
        // One wake-up per queue, however many jobs landed on it.
        let queues: BTreeSet<&str> = created.iter().map(|job| job.queue.as_str()).collect();
        for queue in queues {
            self.notifier
                .as_ref()
                .map(|notifier| notifier.notify_work_available(org_id, queue));
        }
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
        if let Some(notifier) = self.notifier.as_deref() {
            notifier.notify_work_available(&job.org_id, &job.queue);
        }
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::broadcast;

    use super::*;
    use crate::events::{WorkNotification, WorkerNotifier};
    use crate::job::JobState;

    const ORG: &str = "acme";
    const WAKE_TIMEOUT: Duration = Duration::from_millis(500);

    async fn next_notification(rx: &mut broadcast::Receiver<WorkNotification>) -> WorkNotification {
        tokio::time::timeout(WAKE_TIMEOUT, rx.recv())
            .await
            .expect("no notification in time")
            .expect("notifier dropped")
    }

    fn lease() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    // The notification must name the job's queue: workers subscribe per queue.
    #[tokio::test]
    async fn enqueue_wakes_subscribers() {
        let notifier = Arc::new(WorkerNotifier::new(8));
        let mut rx = notifier.subscribe();
        let service = DispatchService::builder(Arc::new(InMemoryStore::new()))
            .with_notifier(notifier.clone())
            .build();
        service.enqueue(NewJob::new(ORG, "emails", "{}")).unwrap();
        let expected = WorkNotification {
            org_id: ORG.to_owned(),
            queue: "emails".to_owned(),
        };
        assert_eq!(next_notification(&mut rx).await, expected);
    }

    #[tokio::test]
    async fn batch_wakes_each_queue_once() {
        let notifier = Arc::new(WorkerNotifier::new(8));
        let mut rx = notifier.subscribe();
        let service = DispatchService::builder(Arc::new(InMemoryStore::new()))
            .with_notifier(Arc::clone(&notifier))
            .build();
        let jobs = ["emails", "reports", "emails"]
            .map(|queue| NewJob::new(ORG, queue, "{}"))
            .to_vec();
        service.enqueue_batch(ORG, jobs).unwrap();
        assert_eq!(next_notification(&mut rx).await.queue, "emails");
        assert_eq!(next_notification(&mut rx).await.queue, "reports");
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn failed_job_is_retried_until_attempts_run_out() {
        let store = Arc::new(InMemoryStore::new());
        let service = DispatchService::builder(store.clone())
            .with_notifier(Arc::new(WorkerNotifier::new(8)))
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
