//! Process-wide counters, shown on `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct QueueGauge {
    enqueued: AtomicU64,
    work_signals: AtomicU64,
    polls: AtomicU64,
    empty_polls: AtomicU64,
}

/// A point-in-time copy of a [`QueueGauge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GaugeSnapshot {
    pub enqueued: u64,
    pub work_signals: u64,
    pub polls: u64,
    pub empty_polls: u64,
}

impl QueueGauge {
    pub fn record_enqueue(&self) {
        self.enqueued.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one "work available" edge for the dashboard's throughput graph.
    pub fn notify_work_available(&self) {
        self.work_signals.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_poll(&self, found: bool) {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if !found {
            self.empty_polls.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> GaugeSnapshot {
        GaugeSnapshot {
            enqueued: self.enqueued.load(Ordering::Relaxed),
            work_signals: self.work_signals.load(Ordering::Relaxed),
            polls: self.polls.load(Ordering::Relaxed),
            empty_polls: self.empty_polls.load(Ordering::Relaxed),
        }
    }
}
