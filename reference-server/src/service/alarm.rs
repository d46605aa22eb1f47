//! The scheduler's alarm clock. Services report each new due instant (a
//! timer, a lease); the scheduler sleeps until the earliest one it knows and
//! is woken early when an earlier one appears. This is internal to the
//! server: nothing here reaches workers.

use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::{Mutex, MutexGuard, Notify};

use super::{Result, Services};

/// The earliest due instant known, in epoch ms (`i64::MAX`: none).
#[derive(Debug)]
pub struct Alarm {
    earliest: AtomicI64,
    changed: Notify,
    /// Held for a scheduler pass: one at a time in a process.
    pass: Mutex<()>,
}

impl Default for Alarm {
    fn default() -> Self {
        Alarm {
            earliest: AtomicI64::new(i64::MAX),
            changed: Notify::new(),
            pass: Mutex::new(()),
        }
    }
}

impl Alarm {
    /// Something is due at `at`; wakes the scheduler if that is earlier
    /// than what it sleeps towards.
    pub fn due_at(&self, at: i64) {
        if self.earliest.fetch_min(at, Ordering::AcqRel) > at {
            self.changed.notify_one();
        }
    }

    /// The scheduler's own estimate after a pass (`None`: nothing due).
    pub fn reset(&self, next: Option<i64>) {
        self.earliest.store(next.unwrap_or(i64::MAX), Ordering::Release);
    }

    pub fn earliest(&self) -> Option<i64> {
        let at = self.earliest.load(Ordering::Acquire);
        (at != i64::MAX).then_some(at)
    }

    /// Waits for any other pass of this process to end. A pass that begins
    /// after another ended sees all that the other committed, so the caller
    /// of `RunningServer::tick` knows that what was due has fired.
    pub async fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.pass.lock().await
    }

    /// Completes when an earlier instant is reported.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

impl Services {
    /// The earliest instant at which a lease expires, a timer or promise
    /// timeout is due, or a schedule fires (`None`: nothing is).
    pub async fn next_due(&self) -> Result<Option<i64>> {
        let mut tx = self.storage.read().await?;
        Ok(tx.next_due().await?)
    }
}
