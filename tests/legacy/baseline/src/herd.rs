//! The thundering herd: 100 idle workflow workers on 10 queues (10 each),
//! with a long backoff so that idle polls are rare, and one workflow started
//! on one queue. Counts the notifications the workers receive and the polls
//! they send in a window after the start, beside an equally long idle window
//! just before it.
//!
//! The workers run the workflow, so what its completion sets off counts
//! too. A window lasts [`WINDOW`], or until [`SETTLE`] after the workflow's
//! code ran when that is later (a polling worker may find it late); the idle
//! polls subtracted are then scaled to the window's length. Before each
//! idle window the workers idle for two backoffs: workers that polled
//! together (at start-up, or woken together by the previous round) have
//! drifted apart again by then, so the idle window sees the steady rate.

use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use crate::counting::{self, Heard};
use crate::sdk::{self, Probe, Side, Worker};
use crate::server::Server;

pub(crate) const WORKERS: usize = 100;
pub(crate) const QUEUES: usize = 10;
/// Idle workers sleep 2.5 to 5 s between empty polls.
pub(crate) const BACKOFF: Duration = Duration::from_secs(5);
pub(crate) const ROUNDS: u32 = 3;
const WINDOW: Duration = Duration::from_secs(1);
/// Time left after the workflow's code ran for its completion to be
/// submitted and for what that sets off.
const SETTLE: Duration = Duration::from_millis(500);

/// Means per started workflow over [`ROUNDS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Herd {
    /// Notification events received by all workers in the window.
    pub notifications: f64,
    /// Of those, the ones received before the workflow's code ran (the
    /// start's); the rest follow its completion.
    pub start_notifications: f64,
    /// Polls that a notification started (legacy SDK's own log line).
    pub woken_polls: f64,
    /// Workflow polls in the window after the start.
    pub polls: f64,
    /// Workflow polls in the idle window before, scaled to the same length.
    pub idle_polls: f64,
    /// Notifications in the idle window (expected: none).
    pub idle_notifications: f64,
    /// From the start call to the workflow's code running, in ms.
    pub pickup_ms: f64,
}

impl Herd {
    pub(crate) fn net_polls(&self) -> f64 {
        self.polls - self.idle_polls
    }
}

/// Runs the herd scenario on `server`.
pub(crate) async fn run(side: Side, server: &Server, org: Uuid) -> anyhow::Result<Herd> {
    let probe = Probe::default();
    let queues = (0..WORKERS).map(|i| format!("herd-{}", i % QUEUES)).collect();
    let before = counting::heard();
    let workers = side.start_workers(server.url(), org, queues, BACKOFF, &probe).await?;
    sdk::await_ready(side, &workers, before, WORKERS as u64).await?;
    let client = side.client(server.url(), org).await?;
    let mut sum = Herd::default();
    for round in 0..ROUNDS {
        // Two backoffs: the workers' idle polls are spread out again.
        tokio::time::sleep(BACKOFF * 2).await;
        let idle = window(&workers, WINDOW).await;
        let event = started(&workers, &client, &probe, u64::from(round)).await?;
        let scale = event.length.as_secs_f64() / WINDOW.as_secs_f64();
        sum.notifications += event.heard.notifications as f64;
        sum.start_notifications += event.heard_before_run.notifications as f64;
        sum.woken_polls += event.heard.woken_polls as f64;
        sum.polls += event.polls as f64;
        sum.idle_polls += idle.0 as f64 * scale;
        sum.idle_notifications += idle.1.notifications as f64 * scale;
        sum.pickup_ms += event.pickup.as_secs_f64() * 1000.0;
    }
    sdk::stop_all(workers).await;
    let n = f64::from(ROUNDS);
    Ok(Herd {
        notifications: sum.notifications / n,
        start_notifications: sum.start_notifications / n,
        woken_polls: sum.woken_polls / n,
        polls: sum.polls / n,
        idle_polls: sum.idle_polls / n,
        idle_notifications: sum.idle_notifications / n,
        pickup_ms: sum.pickup_ms / n,
    })
}

/// Polls and legacy log counts during `length`.
async fn window(workers: &[Worker], length: Duration) -> (u64, Heard) {
    let (polls, heard) = (sdk::polls(workers), counting::heard());
    tokio::time::sleep(length).await;
    (sdk::polls(workers) - polls, counting::heard() - heard)
}

/// What one started workflow set off.
struct Started {
    /// Workflow polls in the window.
    polls: u64,
    /// Legacy log counts in the window.
    heard: Heard,
    /// Legacy log counts up to the moment the workflow's code ran.
    heard_before_run: Heard,
    /// From the start call to the code running.
    pickup: Duration,
    /// The window's length.
    length: Duration,
}

/// Starts one workflow on the first queue and counts until the window ends.
async fn started(workers: &[Worker], client: &sdk::Client, probe: &Probe, tag: u64) -> anyhow::Result<Started> {
    let (polls, heard) = (sdk::polls(workers), counting::heard());
    let t0 = Instant::now();
    client.start("herd-0", tag).await?;
    let ran = probe
        .wait(tag, BACKOFF * 3)
        .await
        .context("the herd's workflow never ran")?;
    // The completion is submitted after the code returns, so what the
    // workers heard so far is the start's.
    let heard_before_run = counting::heard() - heard;
    let end = (t0 + WINDOW).max(ran + SETTLE);
    tokio::time::sleep_until(end.into()).await;
    Ok(Started {
        polls: sdk::polls(workers) - polls,
        heard: counting::heard() - heard,
        heard_before_run,
        pickup: ran - t0,
        length: end - t0,
    })
}
