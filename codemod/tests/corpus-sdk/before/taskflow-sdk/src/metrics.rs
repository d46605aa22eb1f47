//! Counters kept when [`WorkerConfig::enable_metrics`](crate::WorkerConfig::enable_metrics) is on.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    polls: AtomicU64,
    empty_polls: AtomicU64,
    completed: AtomicU64,
}

/// A copy of a worker's counters, summed over both pollers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub polls: u64,
    pub empty_polls: u64,
    pub completed: u64,
}

impl Metrics {
    pub(crate) fn record_poll(&self, found_work: bool) {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if !found_work {
            self.empty_polls.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_completion(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            polls: self.polls.load(Ordering::Relaxed),
            empty_polls: self.empty_polls.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
        }
    }
}
