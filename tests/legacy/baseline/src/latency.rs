//! Workflow discovery latency: one idle worker with the default 100 ms
//! backoff; each sample starts a workflow and measures the time from just
//! before the StartWorkflow call to the workflow's code running in the
//! worker (the probe records `Instant::now()`).
//!
//! Samples start at a random offset, 0 to 150 ms after the previous
//! sample's code ran: work arrives independently of the worker's poll
//! phase, as it does in production, so the distribution is the one users
//! see. (Starting just after a poll would measure only the worst case,
//! which the backoff bounds.)

use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use crate::counting;
use crate::sdk::{self, Probe, Side};
use crate::server::Server;

pub(crate) const BACKOFF: Duration = Duration::from_millis(100);
const QUEUE: &str = "latency";

/// The measured distribution.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latency {
    /// Milliseconds, sorted.
    pub samples: Vec<f64>,
}

impl Latency {
    /// The `p` quantile (0..=1) by nearest rank.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        self.samples[((self.samples.len() - 1) as f64 * p).round() as usize]
    }
}

/// Takes `samples` samples on `server`.
pub(crate) async fn run(side: Side, server: &Server, org: Uuid, samples: usize) -> anyhow::Result<Latency> {
    let probe = Probe::default();
    let before = counting::heard();
    let workers = side
        .start_workers(server.url(), org, vec![QUEUE.into()], BACKOFF, &probe)
        .await?;
    sdk::await_ready(side, &workers, before, 1).await?;
    let client = side.client(server.url(), org).await?;
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut values = Vec::with_capacity(samples);
    for tag in 0..samples as u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(rng % 150)).await;
        let t0 = Instant::now();
        client.start(QUEUE, tag).await?;
        let ran = probe
            .wait(tag, Duration::from_secs(5))
            .await
            .context("a latency sample's workflow never ran")?;
        values.push((ran - t0).as_secs_f64() * 1000.0);
    }
    sdk::stop_all(workers).await;
    values.sort_by(f64::total_cmp);
    Ok(Latency { samples: values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let latency = Latency {
            samples: (1..=100).map(f64::from).collect(),
        };
        assert_eq!(latency.percentile(0.50), 51.0);
        assert_eq!(latency.percentile(0.99), 99.0);
        assert!(Latency::default().percentile(0.5).is_nan());
    }
}
