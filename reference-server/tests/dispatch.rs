//! Dispatch without notifications: every path that used to call
//! `notify_work_available` leaves the work pollable by a plain poll.

use std::collections::HashSet;
use std::time::Duration;

use reference_server::api::grpc::pb;
use serde_json::json;
use uuid::Uuid;

use crate::util::{self, TestServer};

#[tokio::test]
async fn workflow_started_over_grpc_is_pollable_and_completes() {
    let s = TestServer::start().await;
    let id = s.start_workflow("hello", "q-start", json!({"name": "Ada"})).await;
    let task = s.poll("q-start").await.expect("pollable at once");
    assert_eq!(task.id, id);
    assert_eq!(task.kind, "hello");
    assert_eq!(task.org_id, s.org.to_string());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&task.input).unwrap(),
        json!({"name": "Ada"})
    );
    assert!(task.workflow_task_time_millis > 0);
    assert_eq!(task.current_sequence, 1);
    assert!(s.poll("q-start").await.is_none(), "handed to one poller only");

    s.submit(
        &id,
        vec![util::complete(json!({"greeting": "hi"}))],
        pb::WorkflowStatus::Completed,
    )
    .await
    .unwrap();
    let events = s.events(&id).await;
    assert_eq!(util::types(&events), ["WORKFLOW_STARTED", "WORKFLOW_COMPLETED"]);
    assert_eq!(events[1].1["output"], json!({"greeting": "hi"}));
    assert!(s.poll("q-start").await.is_none());
}

#[tokio::test]
async fn workflow_triggered_over_rest_is_pollable() {
    let s = TestServer::start().await;
    let (status, body) = util::http(
        &s.http(),
        "POST",
        "/api/workflows/report?queue=q-rest",
        Some(&s.api_key),
        "{\"n\":3}",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let task = s.poll("q-rest").await.expect("pollable");
    assert_eq!(task.id, id);

    let (status, body) = util::http(
        &s.http(),
        "GET",
        &format!("/api/orgs/test/workflow-executions/{id}/events"),
        Some(&s.api_key),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let events: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(events[0]["eventType"], "WORKFLOW_STARTED");
    assert_eq!(events[0]["sequenceNumber"], 1);
    assert_eq!(events[0]["data"]["input"], json!({"n": 3}));
}

#[tokio::test]
async fn start_workflow_is_idempotent_per_key() {
    let s = TestServer::start().await;
    let request = pb::StartWorkflowRequest {
        org_id: s.org.to_string(),
        workflow_kind: "hello".into(),
        input: b"{}".to_vec(),
        queue: "q-idem".into(),
        idempotency_key: Some("order-42".into()),
        ..Default::default()
    };
    let first = s.dispatch().start_workflow(request.clone()).await.unwrap().into_inner();
    let second = s.dispatch().start_workflow(request).await.unwrap().into_inner();
    assert_eq!(first.workflow_execution_id, second.workflow_execution_id);
    assert!(first.idempotency_key_used && first.idempotency_key_new);
    assert!(second.idempotency_key_used && !second.idempotency_key_new);
    assert!(s.poll("q-idem").await.is_some());
    assert!(s.poll("q-idem").await.is_none(), "one execution only");
}

#[tokio::test]
async fn task_completion_wakes_the_workflow() {
    let s = TestServer::start().await;
    let id = s.start_workflow("order", "q-task", json!({})).await;
    s.poll("q-task").await.unwrap();
    let task_id = Uuid::new_v4();
    s.submit(
        &id,
        vec![
            util::schedule_task(task_id, "charge", None),
            util::suspend("Waiting for task"),
        ],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    assert!(s.poll("q-task").await.is_none(), "waiting");

    let task = s
        .poll_task("q-task")
        .await
        .expect("task pollable on the workflow's queue");
    assert_eq!(task.task_execution_id, task_id.to_string());
    assert_eq!(task.workflow_execution_id, id);
    assert_eq!(task.execution_count, 1);
    s.tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: task_id.to_string(),
            output: b"{\"paid\":true}".to_vec(),
        })
        .await
        .unwrap();

    let again = s.poll("q-task").await.expect("woken by the completion");
    assert_eq!(again.id, id);
    let events = s.events(&id).await;
    assert_eq!(
        util::types(&events),
        [
            "WORKFLOW_STARTED",
            "TASK_SCHEDULED",
            "WORKFLOW_SUSPENDED",
            "TASK_COMPLETED"
        ]
    );
    assert_eq!(events[1].1["kind"], "charge");
    assert_eq!(events[1].1["taskExecutionId"], task_id.to_string());
    assert_eq!(events[3].1["result"], json!({"paid": true}));
    assert_eq!(again.current_sequence, 4);
}

#[tokio::test]
async fn task_failure_retries_then_wakes_the_workflow() {
    let s = TestServer::start().await;
    let task_id = Uuid::new_v4();
    let id = s.start_scheduling_task("q-fail", task_id, "flaky", Some(1)).await;
    for attempt in 1..=2 {
        let task = s.poll_task("q-fail").await.expect("pollable");
        assert_eq!(task.execution_count, attempt);
        s.tasks()
            .fail_task(pb::FailTaskRequest {
                task_execution_id: task_id.to_string(),
                error: format!("boom {attempt}"),
                ..Default::default()
            })
            .await
            .unwrap();
        if attempt == 1 {
            assert!(
                s.poll("q-fail").await.is_none(),
                "a retried failure does not wake the workflow"
            );
        }
    }
    assert!(s.poll_task("q-fail").await.is_none(), "retries exhausted");
    assert!(s.poll("q-fail").await.is_some(), "final failure wakes the workflow");
    let events = s.events(&id).await;
    let (kind, data) = events.last().unwrap();
    assert_eq!(kind, "TASK_FAILED");
    assert_eq!(data["error"], "boom 2");
}

#[tokio::test]
async fn a_non_retryable_failure_fails_the_task_at_once() {
    let s = TestServer::start().await;
    let task_id = Uuid::new_v4();
    let id = s.start_scheduling_task("q-fatal", task_id, "charge", Some(3)).await;
    let task = s.poll_task("q-fatal").await.expect("pollable");
    assert_eq!(task.execution_count, 1);
    s.tasks()
        .fail_task(pb::FailTaskRequest {
            task_execution_id: task_id.to_string(),
            error: "card declined".into(),
            non_retryable: true,
        })
        .await
        .unwrap();
    assert!(
        s.poll_task("q-fatal").await.is_none(),
        "not retried, 3 retries left or not"
    );
    assert!(s.poll("q-fatal").await.is_some(), "the failure wakes the workflow");
    let events = s.events(&id).await;
    let (kind, data) = events.last().unwrap();
    assert_eq!(
        (kind.as_str(), &data["error"]),
        ("TASK_FAILED", &json!("card declined"))
    );
}

#[tokio::test]
async fn wake_up_while_running_makes_it_pollable_after_suspension() {
    let s = TestServer::start().await;
    let id = s.start_workflow("parallel", "q-race", json!({})).await;
    s.poll("q-race").await.unwrap();
    let (t1, t2) = (Uuid::new_v4(), Uuid::new_v4());
    s.submit(
        &id,
        vec![util::schedule_task(t1, "a", None), util::schedule_task(t2, "b", None)],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let complete = |task: Uuid| {
        let mut tasks = s.tasks();
        async move {
            tasks
                .complete_task(pb::CompleteTaskRequest {
                    task_execution_id: task.to_string(),
                    output: b"1".to_vec(),
                })
                .await
                .unwrap();
        }
    };
    assert_eq!(s.poll_task("q-race").await.unwrap().task_execution_id, t1.to_string());
    complete(t1).await;
    s.poll("q-race").await.expect("woken by t1"); // RUNNING: history has t1 only
    assert_eq!(s.poll_task("q-race").await.unwrap().task_execution_id, t2.to_string());
    complete(t2).await; // arrives while the workflow task runs
    s.submit(
        &id,
        vec![util::suspend("Waiting for task b")],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    let again = s
        .poll("q-race")
        .await
        .expect("pollable right after the SUSPENDED submission");
    assert_eq!(again.id, id);
    let events = s.events(&id).await;
    let completed: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(t, _)| t == "TASK_COMPLETED")
        .map(|(_, d)| &d["taskExecutionId"])
        .collect();
    assert_eq!(completed, [&json!(t1.to_string()), &json!(t2.to_string())]);

    // Without a wake-up in flight, a suspension waits.
    s.submit(&id, vec![], pb::WorkflowStatus::Suspended).await.unwrap();
    assert!(s.poll("q-race").await.is_none());
}

#[tokio::test]
async fn timer_fires_and_wakes_the_workflow() {
    let s = TestServer::start_manual(|_| {}).await;
    let id = s.start_workflow("sleepy", "q-timer", json!({})).await;
    s.poll("q-timer").await.unwrap();
    s.submit(
        &id,
        vec![
            util::start_timer("sleep-1", 300),
            util::suspend("Waiting for timer sleep-1 to fire"),
        ],
        pb::WorkflowStatus::Suspended,
    )
    .await
    .unwrap();
    // Not a millisecond early ...
    s.advance(Duration::from_millis(299)).await;
    assert!(s.poll("q-timer").await.is_none(), "fired early");
    // ... and fired once its duration has passed.
    s.advance(Duration::from_millis(1)).await;
    let woken = s.poll("q-timer").await.expect("timer fired");
    assert_eq!(woken.id, id);
    let events = s.events(&id).await;
    let (kind, data) = events.last().unwrap();
    assert_eq!((kind.as_str(), &data["timerId"]), ("TIMER_FIRED", &json!("sleep-1")));
    assert_eq!(events.iter().filter(|(t, _)| t == "TIMER_STARTED").count(), 1);
}

#[tokio::test]
async fn expired_lease_is_reclaimed_for_another_poller() {
    let s = TestServer::start_manual(|c| c.server.workflow_lease_seconds = 1).await;
    let id = s.start_workflow("hello", "q-lease", json!({})).await;
    let first = s.poll("q-lease").await.unwrap();
    assert_eq!(first.id, id);
    assert!(s.poll("q-lease").await.is_none());
    s.advance(Duration::from_millis(999)).await;
    assert!(s.poll("q-lease").await.is_none(), "reclaimed before the lease ended");
    s.advance(Duration::from_millis(1)).await;
    let reclaimed = s.poll("q-lease").await.expect("reclaimed after the lease");
    assert_eq!(reclaimed.id, id);
    assert_eq!(
        reclaimed.workflow_task_time_millis,
        first.workflow_task_time_millis.max(reclaimed.workflow_task_time_millis)
    );
    // The first holder's late submission is refused: it no longer holds it
    // ... unless the new holder submitted first; here nobody did, so the
    // execution is handed out again and the submission applies once.
    s.submit(&id, vec![util::complete(json!(1))], pb::WorkflowStatus::Completed)
        .await
        .unwrap();
    let err = s
        .submit(&id, vec![util::complete(json!(2))], pb::WorkflowStatus::Completed)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
}

#[tokio::test]
async fn standalone_task_created_over_rest_is_pollable() {
    let s = TestServer::start().await;
    let (status, body) = util::http(
        &s.http(),
        "POST",
        "/api/tasks/send-email?queue=q-standalone",
        Some(&s.api_key),
        "{\"to\":\"a@b\"}",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let task = s.poll_task("q-standalone").await.expect("pollable");
    assert_eq!(task.kind, "send-email");
    assert_eq!(task.workflow_execution_id, "");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&task.input).unwrap(),
        json!({"to": "a@b"})
    );
    s.tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: task.task_execution_id,
            output: b"true".to_vec(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_pollers_claim_each_item_exactly_once() {
    const ITEMS: usize = 2000;
    const POLLERS: usize = 8;
    let s = TestServer::start().await;
    let mut started = HashSet::new();
    for i in 0..ITEMS {
        started.insert(s.start_workflow("bulk", "q-bulk", json!({ "i": i })).await);
    }
    let mut handles = Vec::new();
    for _ in 0..POLLERS {
        let mut client = s.dispatch();
        let org = s.org.to_string();
        handles.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let response = client
                    .poll_workflow(pb::PollRequest {
                        worker_id: "w".into(),
                        org_id: org.clone(),
                        queue: "q-bulk".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                match response.workflow_execution {
                    Some(w) => claimed.push(w.id),
                    None => return claimed,
                }
            }
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), ITEMS, "claims");
    assert_eq!(unique, started, "every item claimed exactly once");
}
