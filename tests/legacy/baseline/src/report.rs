//! The printed results: one Markdown table, a row per figure, a column per
//! side (before; after as planned; after with held polls), and the machine
//! line.

use crate::herd::{self, Herd};
use crate::idle::{self, Idle};
use crate::latency::{self, Latency};
use crate::round_trips::{self, RoundTrips};
use crate::sdk::Side;

/// Everything measured on one side.
#[derive(Debug, Clone, Default)]
pub(crate) struct Measured {
    pub herd: Herd,
    pub latency: Latency,
    pub idle: Vec<Idle>,
    /// One per run, in the order they ran.
    pub round_trips: Vec<RoundTrips>,
}

/// The Markdown table: scenario, then one column per side of
/// [`Side::ALL`]; `measured` is in that order.
pub(crate) fn table(measured: &[Measured; 3]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |scenario: String, cell: &dyn Fn(&Measured, Side) -> String| {
        let cells = Side::ALL
            .iter()
            .map(|&side| cell(&measured[side.index()], side))
            .collect();
        rows.push((scenario, cells));
    };
    let herd_setup = format!(
        "{} idle workers, {} queues, {} s backoff, one workflow started (mean of {})",
        herd::WORKERS,
        herd::QUEUES,
        herd::BACKOFF.as_secs(),
        herd::ROUNDS
    );
    row(
        format!("thundering herd ({herd_setup}): notifications received by workers"),
        &|m, _| {
            format!(
                "{:.1} ({:.1} for the start, {:.1} after the completion)",
                m.herd.notifications,
                m.herd.start_notifications,
                m.herd.notifications - m.herd.start_notifications
            )
        },
    );
    row("thundering herd: polls started by a notification".into(), &|m, _| {
        format!("{:.1}", m.herd.woken_polls)
    });
    row(
        "thundering herd: workflow polls in the window after the start (raw − idle = net)".into(),
        &|m, _| {
            format!(
                "{:.1} − {:.1} = {:+.1}",
                m.herd.polls,
                m.herd.idle_polls,
                m.herd.net_polls()
            )
        },
    );
    row(
        "thundering herd: that workflow's discovery (start → code runs), mean".into(),
        &|m, _| format!("{:.1} ms", m.herd.pickup_ms),
    );
    if let Some(i) = idle::COUNTS.iter().position(|&n| n == herd::WORKERS) {
        row(
            format!(
                "server requests/s while idle, {} workers, {} queues, {} ms backoff",
                herd::WORKERS,
                idle::QUEUES,
                idle::BACKOFF.as_millis()
            ),
            &|m, side| requests(&m.idle[i], side),
        );
    }
    row(
        format!(
            "workflow discovery latency, 1 idle worker, {} ms backoff, {} samples",
            latency::BACKOFF.as_millis(),
            measured[0].latency.samples.len()
        ),
        &|m, _| {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms",
                m.latency.percentile(0.50),
                m.latency.percentile(0.99)
            )
        },
    );
    for (i, n) in idle::COUNTS.iter().enumerate() {
        row(
            format!(
                "{n} idle workers, {} ms backoff: server CPU (one core), peak RSS, requests/s; bench CPU",
                idle::BACKOFF.as_millis()
            ),
            &|m, _| {
                let idle = &m.idle[i];
                format!(
                    "{:.1} %, {:.1} MiB, {:.0}/s; {:.0} %",
                    idle.server_cpu, idle.peak_rss_mib, idle.requests_per_s, idle.client_cpu
                )
            },
        );
    }
    row(
        format!(
            "workflow round trips, {} workers, {} in flight: completions/s, mean of runs (each run; server CPU; notifications per workflow)",
            round_trips::WORKERS,
            round_trips::IN_FLIGHT
        ),
        &|m, _| round_trip_cell(&m.round_trips),
    );

    let headings: Vec<&str> = Side::ALL.iter().map(|s| s.label()).collect();
    let mut out = format!("| scenario | {} |\n|---|---|---|---|\n", headings.join(" | "));
    for (scenario, cells) in rows {
        out.push_str(&format!("| {scenario} | {} |\n", cells.join(" | ")));
    }
    out
}

/// "mean/s (run, run; CPU, CPU %; notifications)".
fn round_trip_cell(runs: &[RoundTrips]) -> String {
    let n = runs.len().max(1) as f64;
    let mean = runs.iter().map(|r| r.per_s).sum::<f64>() / n;
    let join = |f: &dyn Fn(&RoundTrips) -> String| runs.iter().map(f).collect::<Vec<_>>().join(", ");
    format!(
        "{mean:.0}/s ({}; {} %; {})",
        join(&|r| format!("{:.0}", r.per_s)),
        join(&|r| format!("{:.0}", r.server_cpu)),
        join(&|r| format!("{:.1}", r.notifications_per_workflow)),
    )
}

/// Idle requests per second; legacy workers also hold one stream each.
fn requests(idle: &Idle, side: Side) -> String {
    match side {
        Side::Legacy => format!(
            "{:.0} polls/s ({:.0} notifications/s), and {} open notification streams",
            idle.requests_per_s, idle.notifications_per_s, idle.workers
        ),
        Side::Reference | Side::Held => format!("{:.0} polls/s", idle.requests_per_s),
    }
}

/// "N cores, CPU model", as `reference-server/examples/bench.rs` prints it.
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}
