//! Workers: plain poll loops. A worker polls; when there is work it runs it
//! and polls again; when there is none it sleeps a random time between half
//! and all of `no_work_backoff` (idle workers do not poll in step) and polls
//! again. An unreachable server is retried with capped exponential backoff.
//! No push channel of any kind exists.

mod builder;
pub mod task_worker;
pub mod workflow_worker;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use builder::{FlovynClientBuilder, WorkerHandle, WorkerStats};

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

/// What the shared poll loop needs from a worker: one poll, running what
/// it handed out, and the wait after an empty poll. The loop owns the rest
/// (concurrency permits, spawning, counting, reconnecting).
pub(crate) trait Poller: Send + Sync + 'static {
    /// What one poll hands out.
    type Work: Send + 'static;

    /// The log line when running handed-out work or reporting it failed.
    const EXECUTE_FAILED: &'static str;

    /// Asks the server once; `None` when nothing was ready.
    fn poll(&self) -> impl Future<Output = crate::Result<Option<Self::Work>>> + Send;

    /// Runs handed-out work and reports its outcome to the server.
    fn execute(&self, work: Self::Work) -> impl Future<Output = crate::Result<()>> + Send;

    /// Waits after an empty poll (the jittered `no_work_backoff`).
    fn idle(&self) -> impl Future<Output = ()> + Send;

    fn max_concurrent(&self) -> usize;
    fn reconnect(&self) -> Reconnect;
    fn state(&self) -> &watch::Sender<ConnectionState>;
    /// Counts polls sent, empty or not.
    fn polls(&self) -> &AtomicU64;
}

/// Polls once when a concurrency permit is free: work runs in `running`
/// holding the permit; no work means [`Poller::idle`].
async fn poll_and_execute<P: Poller>(
    worker: &Arc<P>,
    semaphore: &Arc<Semaphore>,
    running: &mut JoinSet<()>,
) -> crate::Result<()> {
    let permit = semaphore.clone().acquire_owned().await.expect("never closed");
    // Counted when sent: a held poll is a poll long before it is answered.
    worker.polls().fetch_add(1, Ordering::Relaxed);
    let polled = worker.poll().await?;
    match polled {
        Some(work) => {
            let worker = worker.clone();
            running.spawn(async move {
                if let Err(err) = worker.execute(work).await {
                    tracing::warn!(error = %err, "{}", P::EXECUTE_FAILED);
                }
                drop(permit);
            });
        }
        None => {
            drop(permit);
            worker.idle().await;
        }
    }
    Ok(())
}

/// The poll loop of every worker: `poll_and_execute` until `stop`,
/// reconnecting with capped exponential backoff while the server is
/// unavailable; then waits for running work, unless `abort` cancels it.
pub(crate) async fn run<P: Poller>(worker: Arc<P>, stop: CancellationToken, abort: CancellationToken) {
    let semaphore = Arc::new(Semaphore::new(worker.max_concurrent().max(1)));
    let mut running = JoinSet::new();
    let mut reconnect: Option<Duration> = None;
    loop {
        let polled = tokio::select! {
            r = poll_and_execute(&worker, &semaphore, &mut running) => r,
            _ = stop.cancelled() => break,
        };
        while running.try_join_next().is_some() {}
        let pause = match polled {
            Ok(()) => {
                reconnect = None;
                worker.state().send_replace(ConnectionState::Connected);
                continue;
            }
            Err(err) if err.is_unavailable() => {
                let delay = worker.reconnect().next(reconnect);
                reconnect = Some(delay);
                worker.state().send_replace(ConnectionState::Reconnecting(delay));
                tracing::warn!(error = %err, ?delay, "server unavailable; reconnecting");
                delay
            }
            Err(err) => {
                tracing::warn!(error = %err, "poll failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => break,
        }
    }
    tokio::select! {
        _ = async { while running.join_next().await.is_some() {} } => {}
        _ = abort.cancelled() => running.abort_all(),
    }
    worker.state().send_replace(ConnectionState::Stopped);
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
