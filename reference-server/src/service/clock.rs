//! Where the server reads the time: every deadline it stores (leases,
//! timers, promise timeouts, task attempt timeouts, cron fire times) is in
//! epoch milliseconds from one [`Clock`].
//!
//! The system clock in production. A manual clock in tests: it stands
//! still until advanced, so a test of a 300 ms timer or a one-second lease
//! moves the time by hand and runs the scheduler's pass
//! (`RunningServer::tick`) instead of sleeping, and sees the boundary
//! exactly. (Paused tokio time would not do: it jumps ahead whenever the
//! runtime waits, which it does while SQLite works on its own threads,
//! and would expire leases and connection timeouts mid-test.)

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// A shared clock; cheap to clone.
#[derive(Debug, Clone)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    Manual { now_ms: AtomicI64, moved: Notify },
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The machine's wall clock.
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock that reads `start_ms` until [`Clock::advance`]d.
    pub fn manual(start_ms: i64) -> Self {
        Clock(Arc::new(Source::Manual {
            now_ms: AtomicI64::new(start_ms),
            moved: Notify::new(),
        }))
    }

    /// A manual clock starting at the system clock's now.
    pub fn manual_from_now() -> Self {
        Clock::manual(system_now_ms())
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Source::System => system_now_ms(),
            Source::Manual { now_ms, .. } => now_ms.load(Ordering::Acquire),
        }
    }

    /// Moves a manual clock forward and wakes the scheduler.
    ///
    /// # Panics
    /// On the system clock, which no one moves.
    pub fn advance(&self, by: Duration) {
        let Source::Manual { now_ms, moved } = &*self.0 else {
            panic!("only a manual clock can be advanced");
        };
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        now_ms.fetch_add(by, Ordering::AcqRel);
        moved.notify_one();
    }

    /// Completes when a manual clock is advanced (a permit is kept if no
    /// one waits); never for the system clock.
    pub async fn moved(&self) {
        match &*self.0 {
            Source::System => std::future::pending().await,
            Source::Manual { moved, .. } => moved.notified().await,
        }
    }
}

fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.clone().now_ms(), 1_250, "clones share the time");
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        let before = system_now_ms();
        let read = Clock::system().now_ms();
        assert!(read >= before && read - before < 60_000, "{read} vs {before}");
    }

    #[tokio::test]
    async fn advancing_leaves_a_wake_for_the_scheduler() {
        let clock = Clock::manual(0);
        clock.advance(Duration::from_millis(1));
        // Advanced before anyone waited: the permit is kept.
        tokio::time::timeout(Duration::from_secs(5), clock.moved())
            .await
            .expect("woken");
    }
}
