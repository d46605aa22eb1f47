//! `taskflow-app`: runs the demo worker against an in-memory server seeded with one order, prints
//! the results and exits.
//!
//! `--offline` plays a worker with a flaky connection: it holds no event stream open and polls
//! less often. `--metrics` prints the worker's counters at the end.

use std::time::Duration;

use taskflow_app::{worker_builder, QUEUE};
use taskflow_sdk::testing::FakeServer;
use taskflow_sdk::WorkerConfig;

/// How long to wait for each result.
const RESULT_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let offline = args.iter().any(|arg| arg == "--offline");
    let metrics = args.iter().any(|arg| arg == "--metrics");

    let server = FakeServer::new();
    let cfg = WorkerConfig::default();
    let backoff = if offline {
        cfg.no_work_backoff * 2
    } else {
        cfg.no_work_backoff / 5
    };

    let handle = worker_builder(server.clone())
        .worker_id("taskflow-app")
        .no_work_backoff(backoff)
        .enable_metrics(metrics)
        .build()
        .start();

    let ids = [
        server.start_workflow(QUEUE, "confirm-order", b"A-1001"),
        server.schedule_task(QUEUE, "print-label", b"A-1001, 2 parcels"),
        server.schedule_task(QUEUE, "charge-card", b"4599"),
    ];
    for id in ids {
        match server.wait_for_result(id, RESULT_TIMEOUT).await {
            Some(Ok(output)) => println!("#{id}: {}", String::from_utf8_lossy(&output)),
            Some(Err(error)) => println!("#{id} failed: {error}"),
            None => println!("#{id}: no result after {RESULT_TIMEOUT:?}"),
        }
    }
    if let Some(snapshot) = handle.metrics() {
        println!("{snapshot:?}");
    }
    handle.stop().await;
}
