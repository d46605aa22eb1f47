//! A hostile client's requests (issue 12): other orgs' task ids, durations
//! that overflow or go negative, a parent id that is not one, and log
//! messages that try to forge lines.

use std::time::Duration;

use reference_server::api::grpc::pb;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::util::{self, TestServer};

/// A standalone task of the test org, claimed by a worker.
async fn claimed_task(s: &TestServer, queue: &str, timeout_ms: i64) -> String {
    let id = s
        .tasks()
        .submit_task(pb::SubmitTaskRequest {
            org_id: s.org.to_string(),
            kind: "k".into(),
            queue: queue.into(),
            input: b"{}".to_vec(),
            timeout_ms,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .task_execution_id;
    let polled = s.poll_task(queue).await.expect("the task is pollable");
    assert_eq!(polled.task_execution_id, id);
    id
}

#[tokio::test]
async fn task_side_rpcs_answer_not_found_for_other_orgs_and_unknown_ids() {
    let s = TestServer::start().await;
    let own = claimed_task(&s, "q-own", 0).await;
    let other_tasks = || {
        pb::task_execution_client::TaskExecutionClient::with_interceptor(
            s.channel(),
            util::Bearer(Some(s.other_token.clone())),
        )
    };
    for (id, mut client, expected) in [
        (own.clone(), s.tasks(), None),
        (own.clone(), other_tasks(), Some(Code::NotFound)),
        (Uuid::new_v4().to_string(), s.tasks(), Some(Code::NotFound)),
    ] {
        let progress = client
            .report_progress(pb::ReportProgressRequest {
                task_execution_id: id.clone(),
                progress: 0.5,
                ..Default::default()
            })
            .await;
        let log = client
            .log_message(pb::LogMessageRequest {
                task_execution_id: id.clone(),
                level: "INFO".into(),
                message: "m".into(),
            })
            .await;
        let stream = client
            .stream_task_data(pb::StreamTaskDataRequest {
                task_execution_id: id.clone(),
                ..Default::default()
            })
            .await;
        for (rpc, code) in [
            ("ReportProgress", progress.err().map(|e| e.code())),
            ("LogMessage", log.err().map(|e| e.code())),
            ("StreamTaskData", stream.err().map(|e| e.code())),
        ] {
            assert_eq!(code, expected, "{rpc} on {id}");
        }
    }
}

#[tokio::test]
async fn negative_durations_are_invalid_arguments_naming_the_field() {
    let s = TestServer::start().await;
    let id = s.start_workflow("w", "q-neg", json!({})).await;
    s.poll("q-neg").await.unwrap();
    for (command, field) in [
        (util::start_timer("t", -1), "commands[0].start_timer.duration_ms"),
        (
            util::create_promise("p", Some(-5)),
            "commands[0].create_promise.timeout_ms",
        ),
    ] {
        let err = s
            .submit(&id, vec![command, util::suspend("wait")], pb::WorkflowStatus::Suspended)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains(field), "{}", err.message());
        assert!(err.message().contains("must not be negative"), "{}", err.message());
    }
    let err = s
        .tasks()
        .submit_task(pb::SubmitTaskRequest {
            org_id: s.org.to_string(),
            kind: "k".into(),
            timeout_ms: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("timeout_ms"), "{}", err.message());
    let (status, body) = util::http(&s.http(), "POST", "/api/tasks/k?timeoutMs=-3", Some(&s.api_key), "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("timeoutMs must not be negative"), "{body}");
}

#[tokio::test]
async fn the_longest_durations_saturate_instead_of_firing_at_once() {
    let s = TestServer::start_manual(|_| {}).await;
    let id = s.start_workflow("w", "q-max", json!({})).await;
    s.poll("q-max").await.unwrap();
    s.submit(
        &id,
        vec![
            util::start_timer("forever", i64::MAX),
            util::create_promise("never", Some(i64::MAX)),
            util::suspend("waiting"),
        ],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    // Neither fires, fifty years on: the workflow is not handed out again.
    s.advance(Duration::from_secs(50 * 365 * 24 * 3600)).await;
    assert!(s.poll("q-max").await.is_none());
    let events = s.events(&id).await;
    assert!(
        !util::types(&events)
            .iter()
            .any(|t| t.contains("FIRED") || t.contains("TIMEOUT")),
        "{events:?}"
    );

    // A task timeout of i64::MAX: the claim (deadline arithmetic in SQL)
    // still works, on both backends.
    let task = claimed_task(&s, "q-max-task", i64::MAX).await;
    s.tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: task,
            output: b"{}".to_vec(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_parent_id_must_be_an_execution_of_the_org() {
    let s = TestServer::start().await;
    let start = |parent: String| {
        let mut dispatch = s.dispatch();
        let org = s.org.to_string();
        async move {
            dispatch
                .start_workflow(pb::StartWorkflowRequest {
                    org_id: org,
                    workflow_kind: "child".into(),
                    parent_workflow_execution_id: Some(parent),
                    ..Default::default()
                })
                .await
        }
    };
    let err = start("not-a-uuid".into()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("parent_workflow_execution_id"),
        "{}",
        err.message()
    );
    let err = start(Uuid::new_v4().to_string()).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains("parent_workflow_execution_id"),
        "{}",
        err.message()
    );
    // Another org's execution is as unknown as a random id.
    let foreign = pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
        s.channel(),
        util::Bearer(Some(s.other_token.clone())),
    )
    .start_workflow(pb::StartWorkflowRequest {
        org_id: s.other_org.to_string(),
        workflow_kind: "w".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .workflow_execution_id;
    assert_eq!(start(foreign).await.unwrap_err().code(), Code::NotFound);
    let parent = s.start_workflow("parent", "q-parent", json!({})).await;
    start(parent).await.unwrap();
}

/// Org B's workflow, handed out, on `queue`.
async fn held_workflow_of_other_org(s: &TestServer, queue: &str) -> (String, util::Dispatch) {
    let mut dispatch = pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
        s.channel(),
        util::Bearer(Some(s.other_token.clone())),
    );
    let id = dispatch
        .start_workflow(pb::StartWorkflowRequest {
            org_id: s.other_org.to_string(),
            workflow_kind: "w".into(),
            queue: queue.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .workflow_execution_id;
    let polled = dispatch
        .poll_workflow(pb::PollRequest {
            worker_id: "b".into(),
            org_id: s.other_org.to_string(),
            queue: queue.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .workflow_execution
        .unwrap();
    assert_eq!(polled.id, id);
    (id, dispatch)
}

#[tokio::test]
async fn ids_of_another_orgs_work_refuse_the_submission_and_record_nothing() {
    let s = TestServer::start().await;
    // Org A: a workflow that scheduled a task, and a second execution.
    let a = s.start_workflow("w", "q-a", json!({})).await;
    s.poll("q-a").await.unwrap();
    let task = Uuid::new_v4();
    s.submit(
        &a,
        vec![util::schedule_task(task, "k", None), util::suspend("t")],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let a_child_id = Uuid::parse_str(&s.start_workflow("w", "q-a2", json!({})).await).unwrap();

    let (b, mut dispatch) = held_workflow_of_other_org(&s, "q-b").await;
    for (command, field) in [
        (util::schedule_task(task, "k", None), "schedule_task.task_execution_id"),
        (
            util::schedule_child("c", "w", a_child_id),
            "schedule_child_workflow.child_workflow_execution_id",
        ),
    ] {
        let err = dispatch
            .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
                workflow_execution_id: b.clone(),
                commands: vec![command, util::suspend("wait")],
                status: pb::WorkflowStatus::Suspended as i32,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists, "{}", err.message());
        assert!(err.message().contains(field), "{}", err.message());
    }
    // Nothing of either submission was recorded, and B still holds its
    // workflow: a submission with fresh ids goes through.
    let events = dispatch
        .get_events(pb::GetEventsRequest {
            workflow_execution_id: b.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["WORKFLOW_STARTED"]);
    dispatch
        .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
            workflow_execution_id: b,
            commands: vec![util::schedule_task(Uuid::new_v4(), "k", None), util::suspend("wait")],
            status: pb::WorkflowStatus::Suspended as i32,
        })
        .await
        .unwrap();
    // Org A's task is untouched: still A's, still pollable by A.
    assert_eq!(s.poll_task("q-a").await.unwrap().task_execution_id, task.to_string());
}

#[tokio::test]
async fn a_task_result_is_taken_once_per_claim_and_never_dropped_silently() {
    let s = TestServer::start_manual(|c| c.server.task_lease_seconds = 1).await;
    let id = claimed_task(&s, "q-stale", 0).await;
    // The first worker goes quiet; its lease expires and the task is handed
    // out again.
    s.advance(Duration::from_secs(1)).await;
    let again = s.poll_task("q-stale").await.expect("reclaimed");
    assert_eq!(again.execution_count, 2);
    let complete = |output: &'static [u8]| {
        let mut tasks = s.tasks();
        let id = id.clone();
        async move {
            tasks
                .complete_task(pb::CompleteTaskRequest {
                    task_execution_id: id,
                    output: output.to_vec(),
                })
                .await
        }
    };
    // The claim takes one result: the first that arrives ...
    complete(b"\"fresh\"").await.unwrap();
    // ... and any other is refused, saying why.
    let err = complete(b"\"stale\"").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("a result was already recorded"),
        "{}",
        err.message()
    );
    let err = s
        .tasks()
        .fail_task(pb::FailTaskRequest {
            task_execution_id: id.clone(),
            error: "stale".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_result_after_the_lease_expired_is_refused_until_the_task_is_claimed_again() {
    let s = TestServer::start_manual(|c| c.server.task_lease_seconds = 1).await;
    let id = claimed_task(&s, "q-expired", 0).await;
    let heartbeat = || {
        let mut tasks = s.tasks();
        let id = id.clone();
        async move { tasks.heartbeat(pb::HeartbeatRequest { task_execution_id: id }).await }
    };
    heartbeat().await.expect("held within its lease");
    s.advance(Duration::from_secs(1)).await;
    heartbeat().await.expect_err("the lease expired");
    let err = s
        .tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: id.clone(),
            output: b"1".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("lease expired"), "{}", err.message());
    // Nothing was lost: the task is handed out again.
    assert_eq!(s.poll_task("q-expired").await.unwrap().task_execution_id, id);
}
