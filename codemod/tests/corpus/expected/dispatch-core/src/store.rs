//! The in-memory job store.
//!
//! All state sits behind one [`Mutex`]. Every method takes the lock once,
//! changes what it needs in one step and never awaits while holding it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::error::DispatchError;
use crate::job::{Job, JobId, JobState, NewJob};
use crate::queue::QueueKey;
use crate::Result;

#[derive(Debug, Default)]
pub struct InMemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    jobs: BTreeMap<JobId, Job>,
    paused: BTreeSet<QueueKey>,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every method mutates in one step, so a panic elsewhere cannot leave
        // the maps half-updated: a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(|err| err.into_inner())
    }

    pub fn insert(&self, new: NewJob) -> Job {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = JobId(inner.next_id);
        let state = match new.due {
            Some(due) => JobState::Scheduled { due },
            None => JobState::Pending,
        };
        let job = Job {
            id,
            org_id: new.org_id,
            queue: new.queue,
            payload: new.payload,
            priority: new.priority,
            attempts: 0,
            state,
        };
        inner.jobs.insert(id, job.clone());
        job
    }

    pub fn get(&self, id: JobId) -> Result<Job> {
        let inner = self.lock();
        let job = inner.jobs.get(&id).ok_or(DispatchError::NotFound(id))?;
        Ok(job.clone())
    }

    /// Leases the most urgent ready job of the queue to `worker`.
    pub fn poll(&self, org_id: &str, queue: &str, worker: &str, until: Instant) -> Option<Job> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.paused.contains(&QueueKey::new(org_id, queue)) {
            return None;
        }
        let job = inner
            .jobs
            .values_mut()
            .filter(|job| job.org_id == org_id && job.queue == queue && job.is_ready(now))
            .max_by_key(|job| (job.priority, Reverse(job.id)))?;
        job.attempts += 1;
        job.state = JobState::Leased {
            worker: worker.to_owned(),
            until,
        };
        Some(job.clone())
    }

    /// Puts a leased job back on its queue.
    pub fn release(&self, id: JobId) -> Result<Job> {
        self.transition(id, "leased", JobState::Pending)
    }

    pub fn complete(&self, id: JobId) -> Result<Job> {
        self.transition(id, "leased", JobState::Done)
    }

    pub fn fail(&self, id: JobId, reason: &str) -> Result<Job> {
        let failed = JobState::Failed {
            reason: reason.to_owned(),
        };
        self.transition(id, "leased", failed)
    }

    /// Makes a failed job pending again.
    pub fn retry(&self, id: JobId) -> Result<Job> {
        self.transition(id, "failed", JobState::Pending)
    }

    fn transition(&self, id: JobId, expected: &'static str, next: JobState) -> Result<Job> {
        let mut inner = self.lock();
        let job = inner.jobs.get_mut(&id).ok_or(DispatchError::NotFound(id))?;
        if job.state.name() != expected {
            return Err(DispatchError::InvalidState { id, expected });
        }
        job.state = next;
        Ok(job.clone())
    }

    /// Moves a pending job to another queue of the same organisation.
    pub fn move_to(&self, id: JobId, queue: &str) -> Result<Job> {
        let mut inner = self.lock();
        let job = inner.jobs.get_mut(&id).ok_or(DispatchError::NotFound(id))?;
        if !job.is_pending() {
            return Err(DispatchError::InvalidState {
                id,
                expected: "pending",
            });
        }
        job.queue = queue.to_owned();
        Ok(job.clone())
    }

    /// Returns every leased job whose lease ended before `now` to its queue.
    pub fn expire_leases(&self, now: Instant) -> Vec<Job> {
        self.requeue_where(|state| matches!(state, JobState::Leased { until, .. } if *until < now))
    }

    /// Returns every job leased by `worker` to its queue.
    pub fn release_worker(&self, worker: &str) -> Vec<Job> {
        self.requeue_where(|state| match state {
            JobState::Leased { worker: holder, .. } => holder == worker,
            _ => false,
        })
    }

    fn requeue_where(&self, pred: impl Fn(&JobState) -> bool) -> Vec<Job> {
        let mut inner = self.lock();
        let mut requeued = Vec::new();
        for job in inner.jobs.values_mut().filter(|job| pred(&job.state)) {
            job.state = JobState::Pending;
            requeued.push(job.clone());
        }
        requeued
    }

    pub fn set_paused(&self, org_id: &str, queue: &str, paused: bool) {
        let key = QueueKey::new(org_id, queue);
        let mut inner = self.lock();
        if paused {
            inner.paused.insert(key);
        } else {
            inner.paused.remove(&key);
        }
    }

    /// Un-pauses every queue of `org_id` and returns their names.
    pub fn resume_org(&self, org_id: &str) -> Vec<String> {
        let mut inner = self.lock();
        let (resumed, kept) = std::mem::take(&mut inner.paused)
            .into_iter()
            .partition::<BTreeSet<_>, _>(|key| key.org_id == org_id);
        inner.paused = kept;
        resumed.into_iter().map(|key| key.queue).collect()
    }

    /// Number of jobs waiting on the queue.
    pub fn depth(&self, org_id: &str, queue: &str) -> usize {
        let inner = self.lock();
        inner
            .jobs
            .values()
            .filter(|job| job.org_id == org_id && job.queue == queue && job.is_pending())
            .count()
    }

    /// Every (organisation, queue) pair that has a pending job.
    pub fn pending_queues(&self) -> BTreeSet<(String, String)> {
        let inner = self.lock();
        inner
            .jobs
            .values()
            .filter(|job| job.is_pending())
            .map(|job| (job.org_id.clone(), job.queue.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn lease_until() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn poll_prefers_priority_then_age() {
        let store = InMemoryStore::new();
        let low = store.insert(NewJob::new("acme", "emails", "a"));
        let high = store.insert(NewJob::new("acme", "emails", "b").priority(9));
        let polled = store.poll("acme", "emails", "w1", lease_until()).unwrap();
        assert_eq!(polled.id, high.id);
        let polled = store.poll("acme", "emails", "w1", lease_until()).unwrap();
        assert_eq!(polled.id, low.id);
        assert!(store.poll("acme", "emails", "w1", lease_until()).is_none());
    }

    #[test]
    fn paused_queue_yields_nothing_until_resumed() {
        let store = InMemoryStore::new();
        store.insert(NewJob::new("acme", "emails", "a"));
        store.set_paused("acme", "emails", true);
        assert!(store.poll("acme", "emails", "w1", lease_until()).is_none());
        assert_eq!(store.resume_org("acme"), vec!["emails".to_owned()]);
        assert!(store.poll("acme", "emails", "w1", lease_until()).is_some());
    }

    #[test]
    fn expired_leases_go_back_to_pending() {
        let store = InMemoryStore::new();
        let job = store.insert(NewJob::new("acme", "emails", "a"));
        let past = Instant::now();
        store.poll("acme", "emails", "w1", past).unwrap();
        let requeued = store.expire_leases(past + Duration::from_millis(1));
        assert_eq!(requeued.len(), 1);
        assert!(store.get(job.id).unwrap().is_pending());
    }
}
