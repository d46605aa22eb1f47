//! The app's handlers, run by a real worker against the in-memory server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow_app::{worker_builder, CARD_LIMIT_CENTS, QUEUE};
use taskflow_sdk::testing::FakeServer;
use taskflow_sdk::WorkerBuilder;

const WAIT: Duration = Duration::from_secs(5);

/// The app's builder with a short backoff, so that polling alone finds work quickly.
fn app(server: &Arc<FakeServer>) -> WorkerBuilder {
    worker_builder(server.clone()).no_work_backoff(Duration::from_millis(10))
}

/// Checks `done` every few milliseconds until it holds; panics after a second.
async fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while !done() {
        assert!(Instant::now() < deadline, "condition not met in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn an_order_is_confirmed() {
    let server = FakeServer::new();
    let handle = app(&server).build().start();
    let id = server.start_workflow(QUEUE, "confirm-order", b"A-7");
    let result = server.wait_for_result(id, WAIT).await;
    assert_eq!(result, Some(Ok(b"order A-7 confirmed".to_vec())));
    handle.stop().await;
}

#[tokio::test]
async fn a_charge_over_the_limit_fails_and_is_counted() {
    let server = FakeServer::new();
    let handle = worker_builder(server.clone())
        .worker_id("billing-1")
        .no_work_backoff(Duration::from_millis(10))
        .enable_metrics(true)
        .build()
        .start();
    let amount = (CARD_LIMIT_CENTS + 1).to_string();
    let id = server.schedule_task(QUEUE, "charge-card", amount.as_bytes());
    let result = server.wait_for_result(id, WAIT).await.expect("no result");
    let error = result.expect_err("the charge went through");
    assert!(error.ends_with("over the card limit"), "{error}");
    let metrics = handle.metrics().expect("metrics are on");
    assert_eq!(metrics.completed, 1);
    assert!(metrics.polls > metrics.empty_polls);
    handle.stop().await;
}

#[tokio::test]
async fn an_unknown_task_kind_is_reported_as_a_failure() {
    let server = FakeServer::new();
    let handle = app(&server).build().start();
    let id = server.schedule_task(QUEUE, "gift-wrap", b"");
    let result = server.wait_for_result(id, WAIT).await.expect("no result");
    let error = result.expect_err("an unknown task ran");
    assert!(error.contains("gift-wrap"), "{error}");
    assert!(handle.metrics().is_none());
    handle.stop().await;
}

#[tokio::test]
async fn stop_returns_while_the_queue_is_empty() {
    let server = FakeServer::new();
    let handle = app(&server).build().start();
    wait_until(|| server.polls() >= 4).await;
    assert_eq!(handle.config().task_queue, QUEUE);
    tokio::time::timeout(Duration::from_secs(1), handle.stop())
        .await
        .expect("stop hung");
}
