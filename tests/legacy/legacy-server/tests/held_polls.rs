//! Long polls: a poll with nothing ready is held until work of its queue
//! is committed, and one new item wakes one held poll, not all of them.
//! Wakes come from the commits themselves (a started workflow, a fired
//! timer, a finished task), never from a call made beside them.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use reference_server::api::grpc::pb;

use crate::util::{self, TestServer};

/// Waits until `n` polls are held by the server.
async fn until_held(s: &TestServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.server.as_ref().unwrap().held_polls() < n {
        assert!(Instant::now() < deadline, "{n} polls never got held");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn spawn_poll(s: &TestServer, queue: &str, seconds: i64) -> tokio::task::JoinHandle<Option<pb::WorkflowExecution>> {
    let mut dispatch = s.dispatch();
    let request = pb::PollRequest {
        worker_id: "held".into(),
        org_id: s.org.to_string(),
        queue: queue.into(),
        timeout_seconds: seconds,
        ..Default::default()
    };
    tokio::spawn(async move {
        dispatch
            .poll_workflow(request)
            .await
            .unwrap()
            .into_inner()
            .workflow_execution
    })
}

#[tokio::test]
async fn a_held_poll_answers_as_soon_as_work_is_committed() {
    let s = TestServer::start().await;
    let poll = spawn_poll(&s, "q-held", 30);
    until_held(&s, 1).await;
    let started = Instant::now();
    let id = s.start_workflow("w", "q-held", json!({})).await;
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.expect("woken with the workflow").id, id);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(s.server.as_ref().unwrap().polls_woken(), 1);
}

#[tokio::test]
async fn a_held_poll_answers_empty_when_its_timeout_ends() {
    let s = TestServer::start().await;
    let started = Instant::now();
    assert!(s.poll_held("q-quiet", 1).await.is_none());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "answered early: {waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}

#[tokio::test]
async fn one_item_wakes_one_poll_of_its_queue_only() {
    let s = TestServer::start().await;
    let polls: Vec<_> = (0..5).map(|_| spawn_poll(&s, "q-herd", 30)).collect();
    let elsewhere = spawn_poll(&s, "q-elsewhere", 30);
    until_held(&s, 6).await;
    let id = s.start_workflow("w", "q-herd", json!({})).await;
    let server = s.server.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.held_polls() > 5 {
        assert!(Instant::now() < deadline, "nobody was woken");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.polls_woken(), 1, "one item, one wake");
    assert_eq!(
        server.held_polls(),
        5,
        "the other four and the other queue's poll still wait"
    );
    let finished: Vec<_> = polls.into_iter().filter(|p| p.is_finished()).collect();
    assert_eq!(finished.len(), 1);
    let got = finished.into_iter().next().unwrap().await.unwrap();
    assert_eq!(got.unwrap().id, id);
    assert!(!elsewhere.is_finished());
}

#[tokio::test]
async fn a_cancelled_poll_leaves_the_line_without_taking_the_wake() {
    let s = TestServer::start().await;
    let gone = spawn_poll(&s, "q-gone", 30);
    until_held(&s, 1).await;
    let waiting = spawn_poll(&s, "q-gone", 30);
    until_held(&s, 2).await;
    gone.abort(); // the client goes away: its RPC is cancelled
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.server.as_ref().unwrap().held_polls() > 1 {
        assert!(Instant::now() < deadline, "the cancelled poll is still held");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let id = s.start_workflow("w", "q-gone", json!({})).await;
    let got = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.expect("the remaining poll got the work").id, id);
}

#[tokio::test]
async fn with_max_poll_wait_zero_a_poll_is_answered_at_once() {
    let s = TestServer::start_with(|c| c.server.max_poll_wait_seconds = 0).await;
    let started = Instant::now();
    assert!(s.poll_held("q-now", 60).await.is_none());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn shutdown_answers_every_held_poll_at_once() {
    let mut s = TestServer::start_with(|c| c.server.shutdown_grace_seconds = 30).await;
    let polls: Vec<_> = (0..3).map(|_| spawn_poll(&s, "q-stop", 60)).collect();
    until_held(&s, 3).await;
    let started = Instant::now();
    s.server.take().unwrap().shutdown().await;
    for poll in polls {
        assert!(poll.await.unwrap().is_none(), "answered empty, not dropped");
    }
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_fired_timer_wakes_a_held_poll() {
    let s = TestServer::start_manual(|_| {}).await;
    let id = s.start_workflow("sleepy", "q-held-timer", json!({})).await;
    s.poll("q-held-timer").await.unwrap();
    s.submit(
        &id,
        vec![util::start_timer("t", 500), util::suspend("waiting for t")],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let poll = spawn_poll(&s, "q-held-timer", 30);
    until_held(&s, 1).await;
    s.advance(Duration::from_millis(500)).await;
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.expect("woken by the timer").id, id);
}

#[tokio::test]
async fn a_finished_task_wakes_a_held_workflow_poll_and_a_new_task_a_task_poll() {
    let s = TestServer::start().await;
    let id = s.start_workflow("order", "q-chain", json!({})).await;
    s.poll("q-chain").await.unwrap();
    let task_id = Uuid::new_v4();
    let mut tasks = s.tasks();
    let task_poll = tokio::spawn({
        let request = pb::PollTaskRequest {
            worker_id: "held".into(),
            org_id: s.org.to_string(),
            queue: "q-chain".into(),
            timeout_seconds: 30,
            ..Default::default()
        };
        async move { tasks.poll_task(request).await.unwrap().into_inner().task }
    });
    until_held(&s, 1).await;
    s.submit(
        &id,
        vec![util::schedule_task(task_id, "charge", None)],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let task = tokio::time::timeout(Duration::from_secs(10), task_poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        task.expect("woken by the scheduled task").task_execution_id,
        task_id.to_string()
    );

    let workflow_poll = spawn_poll(&s, "q-chain", 30);
    until_held(&s, 1).await;
    s.tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: task_id.to_string(),
            output: b"1".to_vec(),
        })
        .await
        .unwrap();
    let woken = tokio::time::timeout(Duration::from_secs(10), workflow_poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(woken.expect("woken by the task's completion").id, id);
}

/// A response the transport never sends whole releases its claim at once.
/// The worker's HTTP/2 stream window is 0, so the server can send the
/// answer's headers but not its message; the worker then gives up. The
/// workflow is handed to the next poll at once, not after its lease.
#[tokio::test]
async fn a_claim_whose_response_never_left_is_released_at_once() {
    let s = TestServer::start().await;
    let addr = s.server.as_ref().unwrap().grpc_addr;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .initial_stream_window_size(0)
        .connect()
        .await
        .unwrap();
    let mut stuck = pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
        channel,
        util::Bearer(Some(s.token.clone())),
    );
    let org_id = s.org.to_string();
    let poll = tokio::spawn(async move {
        let request = pb::PollRequest {
            worker_id: "stuck".into(),
            org_id,
            queue: "q".into(),
            timeout_seconds: 30,
            ..Default::default()
        };
        stuck.poll_workflow(request).await
    });
    until_held(&s, 1).await;
    let id = s.start_workflow("w", "q", json!({})).await;
    // The claim is made; its message cannot leave. The worker gives up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "the message went through a zero window");
    poll.abort();
    let started = Instant::now();
    let again = loop {
        if let Some(w) = s.poll("q").await {
            break w;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the claim was not released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(again.id, id);
}

/// Waits for a held workflow poll's answer (10 s at most).
async fn answer(poll: tokio::task::JoinHandle<Option<pb::WorkflowExecution>>) -> Option<pb::WorkflowExecution> {
    tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_rest_trigger_wakes_a_held_poll() {
    let s = TestServer::start().await;
    let poll = spawn_poll(&s, "q-rest", 30);
    until_held(&s, 1).await;
    let (status, body) = util::http(
        &s.http(),
        "POST",
        "/api/workflows/from-rest?queue=q-rest",
        Some(&s.api_key),
        "{}",
    )
    .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let woken = answer(poll).await.expect("woken by the REST trigger");
    assert_eq!(woken.kind, "from-rest");
    assert!(body.contains(&woken.id), "{body}");
}

#[tokio::test]
async fn a_resolved_promise_wakes_a_held_poll() {
    let s = TestServer::start().await;
    let id = s.start_workflow("approval", "q-held-promise", json!({})).await;
    s.poll("q-held-promise").await.unwrap();
    s.submit(
        &id,
        vec![util::create_promise("approval", None), util::suspend("waiting")],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let events = s.events(&id).await;
    let (_, created) = events.iter().find(|(t, _)| t == "PROMISE_CREATED").unwrap();
    let promise_id = created["promiseId"].as_str().unwrap().to_string();
    let poll = spawn_poll(&s, "q-held-promise", 30);
    until_held(&s, 1).await;
    s.dispatch()
        .resolve_promise(pb::ResolvePromiseRequest {
            promise_id,
            value: b"true".to_vec(),
        })
        .await
        .unwrap();
    assert_eq!(answer(poll).await.expect("woken by the resolution").id, id);
}

#[tokio::test]
async fn a_reclaimed_lease_wakes_a_held_poll() {
    let s = TestServer::start_manual(|c| c.server.workflow_lease_seconds = 1).await;
    let id = s.start_workflow("hello", "q-held-lease", json!({})).await;
    s.poll("q-held-lease").await.unwrap(); // claimed, never submitted
    let poll = spawn_poll(&s, "q-held-lease", 30);
    until_held(&s, 1).await;
    s.advance(Duration::from_secs(1)).await;
    assert_eq!(answer(poll).await.expect("woken by the reclaim").id, id);
}

#[tokio::test]
async fn a_due_schedule_wakes_a_held_poll() {
    let s = TestServer::start_manual(|_| {}).await;
    let body =
        json!({ "name": "tick", "cron": "* * * * * *", "workflowKind": "tick", "queue": "q-held-cron", "input": {} });
    let (status, created) = util::http(&s.http(), "POST", "/api/schedules", Some(&s.api_key), &body.to_string()).await;
    assert_eq!(status, 201, "{created}");
    let poll = spawn_poll(&s, "q-held-cron", 30);
    until_held(&s, 1).await;
    s.advance(Duration::from_secs(1)).await;
    assert_eq!(answer(poll).await.expect("woken by the schedule").kind, "tick");
}

#[tokio::test]
async fn a_retry_wakes_a_held_task_poll() {
    let s = TestServer::start().await;
    let task_id = Uuid::new_v4();
    s.start_scheduling_task("q-held-retry", task_id, "flaky", Some(1)).await;
    assert_eq!(
        s.poll_task("q-held-retry")
            .await
            .expect("first attempt")
            .execution_count,
        1
    );
    let mut tasks = s.tasks();
    let request = pb::PollTaskRequest {
        worker_id: "held".into(),
        org_id: s.org.to_string(),
        queue: "q-held-retry".into(),
        timeout_seconds: 30,
        ..Default::default()
    };
    let poll = tokio::spawn(async move { tasks.poll_task(request).await.unwrap().into_inner().task });
    until_held(&s, 1).await;
    s.tasks()
        .fail_task(pb::FailTaskRequest {
            task_execution_id: task_id.to_string(),
            error: "boom".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let retried = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    let retried = retried.expect("woken by the retry");
    assert_eq!(
        (retried.task_execution_id, retried.execution_count),
        (task_id.to_string(), 2)
    );
}
