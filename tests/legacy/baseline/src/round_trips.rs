//! Workflow round trips: 4 workers on one queue (default 100 ms backoff)
//! and a client keeping 8 workflows in flight. Each of 8 loops starts a
//! workflow, waits until its code has run in a worker (the worker then
//! submits the completion), and starts the next. Completions per second
//! over 5 s after a 1 s warm-up, with the server's CPU in that window.
//!
//! The loops are signalled by the probe rather than by reading the history
//! (`start_workflow_and_wait` reads it every 50 ms, which would make that
//! interval, not the pair, the measure).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::counting;
use crate::sdk::{self, Probe, Side};
use crate::server::Server;

pub(crate) const WORKERS: usize = 4;
pub(crate) const IN_FLIGHT: u64 = 8;
const QUEUE: &str = "round-trips";
const WARM_UP: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default)]
pub(crate) struct RoundTrips {
    pub per_s: f64,
    /// Server CPU in the window, % of one core.
    pub server_cpu: f64,
    /// Notification events received per completed workflow.
    pub notifications_per_workflow: f64,
}

/// Measures round trips on `server`.
pub(crate) async fn run(side: Side, server: &Server, org: Uuid) -> anyhow::Result<RoundTrips> {
    let probe = Probe::default();
    let before = counting::heard();
    let workers = side
        .start_workers(
            server.url(),
            org,
            vec![QUEUE.into(); WORKERS],
            Duration::from_millis(100),
            &probe,
        )
        .await?;
    sdk::await_ready(side, &workers, before, WORKERS as u64).await?;
    let client = Arc::new(side.client(server.url(), org).await?);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut loops = tokio::task::JoinSet::new();
    for slot in 0..IN_FLIGHT {
        let (client, probe, done, stop) = (client.clone(), probe.clone(), done.clone(), stop.clone());
        loops.spawn(async move {
            // Tags are unique per loop: the slot in the low bits.
            let mut tag = slot;
            while !stop.load(Ordering::Relaxed) {
                client.start(QUEUE, tag).await?;
                if probe.wait(tag, Duration::from_secs(10)).await.is_none() {
                    anyhow::bail!("a round trip's workflow never ran");
                }
                done.fetch_add(1, Ordering::Relaxed);
                tag += IN_FLIGHT;
            }
            Ok(())
        });
    }
    tokio::time::sleep(WARM_UP).await;
    let (d0, heard, cpu, t0) = (
        done.load(Ordering::Relaxed),
        counting::heard(),
        server.cpu_seconds(),
        Instant::now(),
    );
    tokio::time::sleep(WINDOW).await;
    let secs = t0.elapsed().as_secs_f64();
    let completed = (done.load(Ordering::Relaxed) - d0) as f64;
    let result = RoundTrips {
        per_s: completed / secs,
        server_cpu: (server.cpu_seconds() - cpu) / secs * 100.0,
        notifications_per_workflow: (counting::heard() - heard).notifications as f64 / completed.max(1.0),
    };
    stop.store(true, Ordering::Relaxed);
    while let Some(finished) = loops.join_next().await {
        finished??;
    }
    sdk::stop_all(workers).await;
    Ok(result)
}
