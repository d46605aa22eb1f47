//! One test per path from the design's call-site table: the work is made
//! available, an SDK worker discovers it by polling, and the workflow or
//! task completes. Discovery is bounded by the backoff plus a margin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use workspace_tests::{http, Env, BACKOFF, DISCOVERY_MARGIN};

use super::definitions::*;

const WAIT: Duration = Duration::from_secs(20);

/// A workflow made available at `at` that completed by now was discovered
/// within the elapsed time (an upper bound on discovery latency).
fn assert_discovered(what: &str, elapsed: Duration, extra: Duration) {
    let bound = BACKOFF + DISCOVERY_MARGIN + extra;
    assert!(elapsed <= bound, "{what}: took {elapsed:?}, more than {bound:?}");
}

#[tokio::test]
async fn workflow_started_over_grpc_completes() {
    let env = Env::start().await;
    let worker = env.worker("grpc-start").register_workflow(Hello).start().await.unwrap();
    worker.await_ready().await;
    tokio::time::sleep(BACKOFF).await; // the worker is idle in its backoff
    let client = worker.client();
    let started = Instant::now();
    let output: Value = client
        .start_workflow_and_wait("hello", &Name { name: "Ada".into() }, WAIT)
        .await
        .unwrap();
    assert_discovered("gRPC start", started.elapsed(), Duration::from_millis(100));
    assert_eq!(output["greeting"], "Hello, Ada!");
    assert!(output["timestamp"].as_i64().unwrap() > 0);
    worker.stop().await;
}

#[tokio::test]
async fn workflow_triggered_over_rest_completes() {
    let env = Env::start().await;
    let worker = env.worker("rest-start").register_workflow(Hello).start().await.unwrap();
    worker.await_ready().await;
    let started = Instant::now();
    let (status, body) = http(
        &env.http_url(),
        "POST",
        "/api/workflows/hello?queue=rest-start",
        Some(&env.api_key),
        "{\"name\":\"REST\"}",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let output: Value = worker.client().wait_for_result(id, WAIT).await.unwrap();
    assert_discovered("REST trigger", started.elapsed(), Duration::from_millis(100));
    assert_eq!(output["greeting"], "Hello, REST!");
    worker.stop().await;
}

#[tokio::test]
async fn task_completion_resumes_the_workflow() {
    let env = Env::start().await;
    let executions = Arc::new(AtomicUsize::new(0));
    let worker = env
        .worker("fan-out")
        .register_workflow(FanOut)
        .register_task(Double(executions.clone()))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let sum: u64 = worker
        .client()
        .start_workflow_and_wait("fan-out", &3, WAIT)
        .await
        .unwrap();
    assert_eq!(sum, 2 + 4 + 6);
    assert_eq!(executions.load(Ordering::SeqCst), 3, "each task ran once");
    // Three discoveries in a row: workflow, tasks, workflow again.
    assert_discovered("task completion", started.elapsed(), 2 * (BACKOFF + DISCOVERY_MARGIN));
    worker.stop().await;
}

#[tokio::test]
async fn task_failure_after_retries_resumes_the_workflow() {
    let env = Env::start().await;
    let worker = env
        .worker("doomed")
        .register_workflow(Doomed)
        .register_task(AlwaysFails)
        .start()
        .await
        .unwrap();
    let outcome: String = worker
        .client()
        .start_workflow_and_wait("doomed", &json!({}), WAIT)
        .await
        .unwrap();
    assert_eq!(outcome, "caught: Task failed: Intentional failure (attempt 3)");
    worker.stop().await;
}

#[tokio::test]
async fn a_fatal_task_error_resumes_the_workflow_without_retries() {
    let env = Env::start().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let worker = env
        .worker("checkout")
        .register_workflow(Checkout)
        .register_task(Declines(attempts.clone()))
        .start()
        .await
        .unwrap();
    let outcome: String = worker
        .client()
        .start_workflow_and_wait("checkout", &json!({}), WAIT)
        .await
        .unwrap();
    assert_eq!(outcome, "caught: Task failed: card declined (attempt 1)");
    worker.stop().await;
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "two retries were left, none ran");
}

#[tokio::test]
async fn standalone_task_created_over_rest_is_executed() {
    let env = Env::start().await;
    let executions = Arc::new(AtomicUsize::new(0));
    let worker = env
        .worker("standalone")
        .register_task(Double(executions.clone()))
        .start()
        .await
        .unwrap();
    worker.await_ready().await;
    let started = Instant::now();
    let (status, body) = http(
        &env.http_url(),
        "POST",
        "/api/tasks/double?queue=standalone",
        Some(&env.api_key),
        "21",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    while executions.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < WAIT, "never executed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_discovered("standalone task", started.elapsed(), Duration::ZERO);
    worker.stop().await;
    assert_eq!(executions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn timer_fires_and_resumes_the_workflow() {
    let env = Env::start().await;
    let worker = env.worker("timer").register_workflow(Sleeper).start().await.unwrap();
    let started = Instant::now();
    let out: String = worker
        .client()
        .start_workflow_and_wait("sleeper", &300, WAIT)
        .await
        .unwrap();
    assert_eq!(out, "woke up");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "fired early: {elapsed:?}");
    assert_discovered(
        "timer",
        elapsed,
        Duration::from_millis(300) + BACKOFF + DISCOVERY_MARGIN,
    );
    worker.stop().await;
}

#[tokio::test]
async fn promise_resolved_over_grpc_and_rest_resumes_the_workflow() {
    let env = Env::start().await;
    let worker = env.worker("promise").register_workflow(Approval).start().await.unwrap();
    let client = worker.client();
    for via_rest in [false, true] {
        let id = client.start_workflow("approval", &json!({})).await.unwrap();
        // The worker creates the promise; wait until it is in the history.
        let promise_id = loop {
            let events = client.events(id).await.unwrap();
            if let Some(e) = events.iter().find(|e| e.event_type == "PROMISE_CREATED") {
                break e.data["promiseId"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let resolved = Instant::now();
        if via_rest {
            let (status, body) = http(
                &env.http_url(),
                "POST",
                &format!("/api/promises/{promise_id}/resolve"),
                Some(&env.api_key),
                "\"yes\"",
            )
            .await;
            assert_eq!(status, 204, "{body}");
        } else {
            client.resolve_promise(id, "approval", &"yes").await.unwrap();
        }
        let output: Value = client.wait_for_result(id, WAIT).await.unwrap();
        assert_eq!(output["decision"], "yes");
        assert_discovered("promise resolution", resolved.elapsed(), Duration::from_millis(100));
    }
    worker.stop().await;
}

#[tokio::test]
async fn child_completion_resumes_the_parent() {
    let env = Env::start().await;
    let worker = env
        .worker("child")
        .register_workflow(Parent)
        .register_workflow(Hello)
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let output: Value = worker
        .client()
        .start_workflow_and_wait("parent", &json!({}), WAIT)
        .await
        .unwrap();
    assert_eq!(output["child"]["greeting"], "Hello, child!");
    assert_discovered("child completion", started.elapsed(), 2 * (BACKOFF + DISCOVERY_MARGIN));
    worker.stop().await;
}

#[tokio::test]
async fn schedule_fires_a_workflow() {
    let env = Env::start().await;
    let executions = Arc::new(AtomicUsize::new(0));
    let worker = env
        .worker("cron")
        .register_workflow(FanOut)
        .register_task(Double(executions.clone()))
        .start()
        .await
        .unwrap();
    let body = json!({ "name": "every-second", "cron": "* * * * * *", "workflowKind": "fan-out", "queue": "cron", "input": 1 });
    let created = Instant::now();
    let (status, text) = http(
        &env.http_url(),
        "POST",
        "/api/schedules",
        Some(&env.api_key),
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let schedule: Value = serde_json::from_str(&text).unwrap();
    // Each fire starts a fan-out of one task: the task running proves the
    // fired workflow was discovered and executed.
    while executions.load(Ordering::SeqCst) == 0 {
        assert!(created.elapsed() < WAIT, "the scheduled workflow never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // First fire within a second, then workflow and task discovery.
    assert_discovered(
        "schedule",
        created.elapsed(),
        Duration::from_secs(1) + BACKOFF + DISCOVERY_MARGIN,
    );
    let id = schedule["id"].as_str().unwrap();
    let (status, _) = http(
        &env.http_url(),
        "DELETE",
        &format!("/api/schedules/{id}"),
        Some(&env.api_key),
        "",
    )
    .await;
    assert_eq!(status, 204);
    worker.stop().await;
}
