//! What the migration removes, working: the legacy server pushes "work is
//! available" to subscribed workflow workers, which then poll at once
//! instead of finishing their backoff sleep.
//!
//! The harness is the reference end-to-end harness (`tests/src/lib.rs`),
//! compiled here against the legacy crates, which keep the reference
//! library names.

#[allow(dead_code)]
#[path = "../../../src/lib.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::Env;
use reference_sdk::{async_trait, Result, WorkerHandle, WorkflowContext, WorkflowDefinition};
use reference_server::api::grpc::pb;
use serde_json::{json, Value};
use tokio_stream::StreamExt;

/// A long backoff: after an empty poll the worker sleeps 2.5 to 5 s.
const LONG_BACKOFF: Duration = Duration::from_secs(5);
const WAIT: Duration = Duration::from_secs(30);

struct Echo;

#[async_trait]
impl WorkflowDefinition for Echo {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "echo"
    }

    async fn execute(&self, _ctx: WorkflowContext, input: Value) -> Result<Value> {
        Ok(input)
    }
}

/// Waits until the worker has sent another poll, so that it is at the
/// start of a backoff sleep (no work is queued): the next poll comes no
/// earlier than half the backoff from now, unless something wakes it.
async fn just_after_a_poll(worker: &WorkerHandle) {
    let polls = worker.stats().workflow_polls;
    let deadline = Instant::now() + WAIT;
    while worker.stats().workflow_polls == polls {
        assert!(Instant::now() < deadline, "the worker stopped polling");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Polls are counted when sent: let this one be answered (a few ms
    // here) before work is started behind it.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The server as it was before the migration: polls are answered at once
/// (the legacy server has the held polls of the end state too, since the
/// codemod turns it into the reference server; 0 turns them off).
async fn before_state() -> Env {
    Env::start_with(|c| c.server.max_poll_wait_seconds = 0).await
}

/// Starts an `echo` workflow right after the worker's poll and returns how
/// long it took to complete.
async fn discovery(env: &Env, notifications: bool) -> Duration {
    let worker = env
        .worker("notified")
        .no_work_backoff(LONG_BACKOFF)
        .enable_notifications(notifications)
        .register_workflow(Echo)
        .start()
        .await
        .unwrap();
    worker.await_ready().await;
    // Two polls: the first may come before the subscription is open.
    just_after_a_poll(&worker).await;
    just_after_a_poll(&worker).await;
    let started = Instant::now();
    let output: Value = worker
        .client()
        .start_workflow_and_wait("echo", &json!({ "n": 1 }), WAIT)
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(output, json!({ "n": 1 }));
    worker.stop().await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notified_worker_polls_long_before_its_backoff_ends() {
    let env = before_state().await;
    let took = discovery(&env, true).await;
    assert!(
        took < Duration::from_millis(1000),
        "with notifications the workflow took {took:?} (backoff {LONG_BACKOFF:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_notifications_the_worker_sleeps_its_backoff() {
    let env = before_state().await;
    let took = discovery(&env, false).await;
    assert!(
        took >= LONG_BACKOFF / 2 - Duration::from_millis(100),
        "without notifications the workflow took only {took:?}: something else woke the worker"
    );
}

/// A subscription hears about its own org and queue only.
#[tokio::test]
async fn a_subscription_hears_its_own_queue_only() {
    let env = Env::start().await;
    let client = env.client("other").await;
    let token: tonic::metadata::MetadataValue<_> = format!("Bearer {}", env.token).parse().unwrap();
    let channel = tonic::transport::Endpoint::from_shared(env.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut dispatch = pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
        channel,
        move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", token.clone());
            Ok(r)
        },
    );
    let mut events = dispatch
        .subscribe_to_notifications(pb::SubscriptionRequest {
            worker_id: "old-sdk".into(),
            org_id: env.org.to_string(),
            queue: "mine".into(),
        })
        .await
        .unwrap()
        .into_inner();
    // The subscription is open once the server answered; give its
    // forwarding task a moment to start listening.
    tokio::time::sleep(Duration::from_millis(100)).await;

    client
        .start_workflow_on("echo", &json!({}), "other", None)
        .await
        .unwrap();
    client
        .start_workflow_on("echo", &json!({}), "mine", None)
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event for the subscribed queue")
        .expect("the stream stays open")
        .unwrap();
    let mut queues = vec![first.queue];
    // The start is announced twice (by the gRPC handler and by the
    // launcher, as the old code did); nothing is announced for "other".
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(300), events.next()).await {
        let event = event.unwrap();
        assert_eq!(event.org_id, env.org.to_string());
        queues.push(event.queue);
    }
    assert_eq!(queues, ["mine", "mine"]);
}
