//! The idle cost: N workflow workers (10, 100, 1,000) spread over 10
//! queues, nothing to do, the default 100 ms backoff. Over a 5 s window
//! after a 1 s warm-up: the server's CPU (% of one core), the requests it
//! serves per second, and the bench process's own CPU (it runs all the
//! workers on the same 2 cores); then the server's peak RSS.
//!
//! The requests in the window are the workers' polls. Heartbeats come every
//! 30 s per worker, the same on both sides, and none falls in the window
//! (the workers are younger than 30 s). Legacy workers also each hold one
//! open notification stream, which costs no requests while nothing happens.

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::counting;
use crate::sdk::{self, Probe, Side};
use crate::server::{self, Server};

pub(crate) const COUNTS: [usize; 3] = [10, 100, 1000];
pub(crate) const QUEUES: usize = 10;
pub(crate) const BACKOFF: Duration = Duration::from_millis(100);
const WARM_UP: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(5);

/// One worker count's figures.
#[derive(Debug, Clone, Default)]
pub(crate) struct Idle {
    pub workers: usize,
    /// Workflow polls per second (all requests in the window).
    pub requests_per_s: f64,
    /// Server CPU, % of one core.
    pub server_cpu: f64,
    /// Bench process CPU (all the workers), % of one core.
    pub client_cpu: f64,
    pub peak_rss_mib: f64,
    /// Notification events received per second (expected: none).
    pub notifications_per_s: f64,
}

/// Measures `workers` idle workers on `server`.
pub(crate) async fn run(side: Side, server: &Server, org: Uuid, workers: usize) -> anyhow::Result<Idle> {
    let probe = Probe::default();
    let queues = (0..workers).map(|i| format!("idle-{}", i % QUEUES)).collect();
    let before = counting::heard();
    let running = side.start_workers(server.url(), org, queues, BACKOFF, &probe).await?;
    sdk::await_ready(side, &running, before, workers as u64).await?;
    tokio::time::sleep(WARM_UP).await;

    let (polls, heard) = (sdk::polls(&running), counting::heard());
    let (server_cpu, client_cpu, t0) = (server.cpu_seconds(), server::cpu_seconds("self"), Instant::now());
    tokio::time::sleep(WINDOW).await;
    let secs = t0.elapsed().as_secs_f64();
    let idle = Idle {
        workers,
        requests_per_s: (sdk::polls(&running) - polls) as f64 / secs,
        server_cpu: (server.cpu_seconds() - server_cpu) / secs * 100.0,
        client_cpu: (server::cpu_seconds("self") - client_cpu) / secs * 100.0,
        peak_rss_mib: server.peak_rss_mib(),
        notifications_per_s: (counting::heard() - heard).notifications as f64 / secs,
    };
    sdk::stop_all(running).await;
    Ok(idle)
}
