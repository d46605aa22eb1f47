//! Workers: plain poll loops. A worker polls; when there is work it runs it
//! and polls again; when there is none it sleeps a random time between half
//! and all of `no_work_backoff` (idle workers do not poll in step) and polls
//! again. An unreachable server is retried with capped exponential backoff.
//! No push channel of any kind exists.

pub mod task_worker;
pub mod workflow_worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The connection as workers see it, for lifecycle hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Connected,
    /// The server is unreachable; polls are retried after this delay.
    Reconnecting(Duration),
    Stopped,
}

/// Reconnection delays: doubling from `initial` up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Reconnect {
    pub(crate) fn next(&self, current: Option<Duration>) -> Duration {
        match current {
            None => self.initial,
            Some(d) => (d * 2).min(self.max),
        }
    }
}

/// A random duration in [backoff / 2, backoff]: the worst case stays the
/// backoff, and idle workers drift apart instead of polling in waves.
pub(crate) fn jittered(backoff: Duration) -> Duration {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x2545_f491_4f6c_dd1d, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    let half = backoff / 2;
    let spread = backoff.saturating_sub(half).as_nanos() as u64;
    half + Duration::from_nanos(if spread == 0 { 0 } else { x % (spread + 1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_and_whole_backoff() {
        let backoff = Duration::from_millis(100);
        let samples: Vec<Duration> = (0..1000).map(|_| jittered(backoff)).collect();
        assert!(samples.iter().all(|d| *d >= backoff / 2 && *d <= backoff));
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(distinct.len() > 500, "spread out: {} distinct values", distinct.len());
    }

    #[test]
    fn reconnect_doubles_up_to_the_cap() {
        let r = Reconnect {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(350),
        };
        let steps: Vec<Duration> = std::iter::successors(Some(r.next(None)), |d| Some(r.next(Some(*d))))
            .take(4)
            .collect();
        assert_eq!(steps, [100, 200, 350, 350].map(Duration::from_millis));
    }
}
