//! Bad input gets a precise status naming what was wrong, and changes
//! nothing.

use reference_server::api::grpc::pb;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::util::{self, TestServer};

#[tokio::test]
async fn malformed_ids_are_invalid_arguments_naming_the_field() {
    let s = TestServer::start().await;
    let err = s
        .dispatch()
        .get_events(pb::GetEventsRequest {
            workflow_execution_id: "not-a-uuid".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("workflow_execution_id"), "{}", err.message());

    let err = s
        .tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: String::new(),
            output: b"{}".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("task_execution_id is required"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn unknown_resources_are_not_found() {
    let s = TestServer::start().await;
    let err = s
        .dispatch()
        .get_events(pb::GetEventsRequest {
            workflow_execution_id: Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = s
        .tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: Uuid::new_v4().to_string(),
            output: b"{}".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn missing_fields_and_bad_json_are_invalid_arguments() {
    let s = TestServer::start().await;
    let err = s
        .dispatch()
        .start_workflow(pb::StartWorkflowRequest {
            org_id: s.org.to_string(),
            workflow_kind: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("workflow_kind"), "{}", err.message());

    let err = s
        .dispatch()
        .start_workflow(pb::StartWorkflowRequest {
            org_id: s.org.to_string(),
            workflow_kind: "k".into(),
            input: b"{not json".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("input is not valid JSON"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn submission_for_a_workflow_not_held_is_a_failed_precondition() {
    let s = TestServer::start().await;
    let id = s.start_workflow("hello", "q-held", json!({})).await;
    let err = s
        .submit(&id, vec![util::complete(json!(1))], pb::WorkflowStatus::Completed)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        util::types(&s.events(&id).await),
        ["WORKFLOW_STARTED"],
        "history untouched"
    );
    assert!(s.poll("q-held").await.is_some(), "still pollable");
}

#[tokio::test]
async fn oversized_payload_is_resource_exhausted() {
    let s = TestServer::start_with(|c| c.server.max_payload_bytes = 1024).await;
    let big = format!("\"{}\"", "x".repeat(2000));
    let err = s
        .dispatch()
        .start_workflow(pb::StartWorkflowRequest {
            org_id: s.org.to_string(),
            workflow_kind: "k".into(),
            input: big.into_bytes(),
            queue: "q-big".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("input"), "{}", err.message());
    assert!(s.poll("q-big").await.is_none(), "nothing created");
}

#[tokio::test]
async fn tokens_are_checked() {
    let s = TestServer::start().await;
    let err = s
        .dispatch_as(None)
        .get_events(pb::GetEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = s
        .dispatch_as(Some("flovyn_wk_test_wrong"))
        .get_events(pb::GetEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // A token of org B used on org A.
    let err = s
        .dispatch_as(Some(&s.other_token))
        .start_workflow(pb::StartWorkflowRequest {
            org_id: s.org.to_string(),
            workflow_kind: "k".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // ... and org A's executions are invisible to org B.
    let id = s.start_workflow("hello", "q-orgs", json!({})).await;
    let err = s
        .dispatch_as(Some(&s.other_token))
        .get_events(pb::GetEventsRequest {
            workflow_execution_id: id,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let _ = s.other_org;
}

#[tokio::test]
async fn rest_errors_are_json_with_status() {
    let s = TestServer::start().await;
    let (status, body) = util::http(&s.http(), "POST", "/api/workflows/k", None, "{}").await;
    assert_eq!(status, 401);
    assert!(body.contains("\"error\""), "{body}");
    let (status, body) = util::http(&s.http(), "POST", "/api/workflows/k", Some(&s.api_key), "{oops").await;
    assert_eq!(status, 400);
    assert!(body.contains("body is not valid JSON"), "{body}");
    // Another org's slug answers as an unknown one: slugs cannot be probed.
    let (status, other) = util::http(
        &s.http(),
        "GET",
        "/api/orgs/other/workflow-executions/x/events",
        Some(&s.api_key),
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, unknown) = util::http(
        &s.http(),
        "GET",
        "/api/orgs/nobody/workflow-executions/x/events",
        Some(&s.api_key),
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(other.replace("other", "nobody"), unknown);
    let path = format!("/api/orgs/test/workflow-executions/{}", Uuid::new_v4());
    let (status, _) = util::http(&s.http(), "GET", &path, Some(&s.api_key), "").await;
    assert_eq!(status, 404);
    let (status, _) = util::http(&s.http(), "GET", "/_/health", None, "").await;
    assert_eq!(status, 200);
}
