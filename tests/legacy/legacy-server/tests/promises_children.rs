//! Durable promises (resolved over gRPC and REST, rejected, timed out) and
//! child workflows (the parent is woken by the child's completion or
//! failure): each makes the waiting workflow pollable again.

use std::time::Duration;

use reference_server::api::grpc::pb;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::util::{self, TestServer};

/// Starts a workflow on `queue`, polls it and suspends it on promise `name`;
/// returns the execution id and the promise's server id.
async fn waiting_on_promise(s: &TestServer, queue: &str, name: &str, timeout_ms: Option<i64>) -> (String, String) {
    let id = s.start_workflow("approval", queue, json!({})).await;
    s.poll(queue).await.unwrap();
    s.submit(
        &id,
        vec![
            util::create_promise(name, timeout_ms),
            util::suspend("Waiting for promise"),
        ],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    assert!(s.poll(queue).await.is_none(), "waiting");
    let events = s.events(&id).await;
    let (_, created) = events
        .iter()
        .find(|(t, _)| t == "PROMISE_CREATED")
        .expect("PROMISE_CREATED");
    assert_eq!(created["promiseName"], name);
    let promise_id = created["promiseId"].as_str().unwrap().to_string();
    Uuid::parse_str(&promise_id).expect("server promise ids are UUIDs");
    (id, promise_id)
}

#[tokio::test]
async fn promise_resolved_over_grpc_wakes_the_workflow() {
    let s = TestServer::start().await;
    let (id, promise_id) = waiting_on_promise(&s, "q-promise", "approval", None).await;
    s.dispatch()
        .resolve_promise(pb::ResolvePromiseRequest {
            promise_id: promise_id.clone(),
            value: b"{\"approved\":true}".to_vec(),
        })
        .await
        .unwrap();
    assert_eq!(s.poll("q-promise").await.unwrap().id, id);
    let events = s.events(&id).await;
    let (kind, data) = events.last().unwrap();
    assert_eq!(kind, "PROMISE_RESOLVED");
    assert_eq!(
        (&data["promiseId"], &data["value"]),
        (&json!(promise_id), &json!({"approved": true}))
    );

    let again = s
        .dispatch()
        .resolve_promise(pb::ResolvePromiseRequest {
            promise_id,
            value: b"1".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn promise_resolved_over_rest_wakes_the_workflow() {
    let s = TestServer::start().await;
    let (id, promise_id) = waiting_on_promise(&s, "q-promise-rest", "approval", None).await;
    let (status, body) = util::http(
        &s.http(),
        "POST",
        &format!("/api/promises/{promise_id}/resolve"),
        Some(&s.api_key),
        "42",
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(s.poll("q-promise-rest").await.unwrap().id, id);
    assert_eq!(s.events(&id).await.last().unwrap().1["value"], json!(42));
}

#[tokio::test]
async fn promise_rejection_and_legacy_id_spelling() {
    let s = TestServer::start().await;
    let (id, _) = waiting_on_promise(&s, "q-reject", "approval", None).await;
    // SDKs from before the protocol change name the promise <execution>:<name>.
    s.dispatch()
        .reject_promise(pb::RejectPromiseRequest {
            promise_id: format!("{id}:approval"),
            error: "denied by reviewer".into(),
        })
        .await
        .unwrap();
    assert!(s.poll("q-reject").await.is_some());
    let (kind, data) = s.events(&id).await.last().cloned().unwrap();
    assert_eq!(
        (kind.as_str(), &data["error"]),
        ("PROMISE_REJECTED", &json!("denied by reviewer"))
    );

    let err = s
        .dispatch()
        .resolve_promise(pb::ResolvePromiseRequest {
            promise_id: Uuid::new_v4().to_string(),
            value: b"1".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn promise_timeout_wakes_the_workflow() {
    let s = TestServer::start_manual(|_| {}).await;
    let (id, promise_id) = waiting_on_promise(&s, "q-promise-timeout", "approval", Some(300)).await;
    s.advance(Duration::from_millis(299)).await;
    assert!(s.poll("q-promise-timeout").await.is_none(), "timed out early");
    s.advance(Duration::from_millis(1)).await;
    let woken = s.poll("q-promise-timeout").await.expect("timed out");
    assert_eq!(woken.id, id);
    let (kind, data) = s.events(&id).await.last().cloned().unwrap();
    assert_eq!(
        (kind.as_str(), &data["promiseId"]),
        ("PROMISE_TIMEOUT", &json!(promise_id))
    );
}

#[tokio::test]
async fn child_completion_wakes_the_parent() {
    let s = TestServer::start().await;
    let parent = s.start_workflow("parent", "q-child", json!({})).await;
    s.poll("q-child").await.unwrap();
    let child_id = Uuid::new_v4();
    let schedule = || {
        vec![
            util::schedule_child("child-1", "child-kind", child_id),
            util::suspend("Waiting for child"),
        ]
    };
    s.submit(&parent, schedule(), pb::WorkflowStatus::Suspended)
        .await
        .unwrap();

    let child = s
        .poll("q-child")
        .await
        .expect("the child is an ordinary pollable workflow");
    assert_eq!(child.id, child_id.to_string());
    assert_eq!(child.kind, "child-kind");
    assert_eq!(util::types(&s.events(&child.id).await), ["WORKFLOW_STARTED"]);
    s.submit(
        &child.id,
        vec![util::complete(json!({"sum": 3}))],
        pb::WorkflowStatus::Completed,
    )
    .await
    .unwrap();

    let woken = s.poll("q-child").await.expect("parent woken");
    assert_eq!(woken.id, parent);
    let events = s.events(&parent).await;
    assert_eq!(
        util::types(&events),
        [
            "WORKFLOW_STARTED",
            "CHILD_WORKFLOW_INITIATED",
            "WORKFLOW_SUSPENDED",
            "CHILD_WORKFLOW_COMPLETED"
        ]
    );
    assert_eq!(events[1].1["childExecutionName"], "child-1");
    assert_eq!(events[1].1["childExecutionId"], child_id.to_string());
    assert_eq!(events[3].1["output"], json!({"sum": 3}));

    // The same command again (a replay that re-sends it) makes no second child.
    s.submit(&parent, schedule(), pb::WorkflowStatus::Suspended)
        .await
        .unwrap();
    assert!(s.poll("q-child").await.is_none(), "no duplicate child");
}

#[tokio::test]
async fn child_failure_wakes_the_parent_with_the_error() {
    let s = TestServer::start().await;
    let parent = s.start_workflow("parent", "q-child-fail", json!({})).await;
    s.poll("q-child-fail").await.unwrap();
    let child_id = Uuid::new_v4();
    s.submit(
        &parent,
        vec![util::schedule_child("c", "failing", child_id)],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let child = s.poll("q-child-fail").await.unwrap();
    s.submit(
        &child.id,
        vec![util::fail("child exploded")],
        pb::WorkflowStatus::Failed,
    )
    .await
    .unwrap();
    assert_eq!(s.poll("q-child-fail").await.unwrap().id, parent);
    let (kind, data) = s.events(&parent).await.last().cloned().unwrap();
    assert_eq!(kind, "CHILD_WORKFLOW_FAILED");
    assert_eq!(data["error"], "child exploded");
    assert_eq!(data["childworkflowExecutionId"], child_id.to_string());
    let child_events = s.events(&child.id).await;
    assert_eq!(
        util::types(&child_events),
        ["WORKFLOW_STARTED", "WORKFLOW_EXECUTION_FAILED", "WORKFLOW_FAILED"]
    );
}
