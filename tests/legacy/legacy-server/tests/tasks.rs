//! Task state, cancellation, heartbeats, timeouts and the lease of a task
//! whose worker vanished.

use std::time::Duration;

use reference_server::api::grpc::pb;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::util::{self, TestServer};

async fn standalone(s: &TestServer, queue: &str, query: &str) -> String {
    let (status, body) = util::http(
        &s.http(),
        "POST",
        &format!("/api/tasks/job?queue={queue}{query}"),
        Some(&s.api_key),
        "{}",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn task_state_round_trips() {
    let s = TestServer::start().await;
    let id = standalone(&s, "q-state", "").await;
    let mut tasks = s.tasks();
    let get = |key: &str| pb::GetStateRequest {
        task_execution_id: id.clone(),
        key: key.into(),
    };
    assert!(!tasks.get_state(get("cursor")).await.unwrap().into_inner().found);
    for (key, value) in [
        ("cursor", json!(41)),
        ("cursor", json!(42)),
        ("owner", json!({"name": "a"})),
    ] {
        tasks
            .set_state(pb::SetStateRequest {
                task_execution_id: id.clone(),
                key: key.into(),
                value: serde_json::to_vec(&value).unwrap(),
            })
            .await
            .unwrap();
    }
    let got = tasks.get_state(get("cursor")).await.unwrap().into_inner();
    assert!(got.found);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got.value).unwrap(),
        json!(42)
    );
    let keys = |tasks: &mut util::Tasks| {
        let mut tasks = tasks.clone();
        let id = id.clone();
        async move {
            tasks
                .get_state_keys(pb::GetStateKeysRequest { task_execution_id: id })
                .await
                .unwrap()
                .into_inner()
                .keys
        }
    };
    assert_eq!(keys(&mut tasks).await, ["cursor", "owner"]);
    tasks
        .clear_state(pb::ClearStateRequest {
            task_execution_id: id.clone(),
            key: "cursor".into(),
        })
        .await
        .unwrap();
    assert_eq!(keys(&mut tasks).await, ["owner"]);
    tasks
        .clear_all_state(pb::ClearAllStateRequest {
            task_execution_id: id.clone(),
        })
        .await
        .unwrap();
    assert!(keys(&mut tasks).await.is_empty());
    let err = tasks
        .set_state(pb::SetStateRequest {
            task_execution_id: Uuid::new_v4().to_string(),
            key: "k".into(),
            value: b"1".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn cancelled_task_fails_its_workflow_wait_and_heartbeats_say_so() {
    let s = TestServer::start().await;
    let task_id = Uuid::new_v4();
    let wf = s.start_scheduling_task("q-cancel", task_id, "long", Some(5)).await;
    let task = s.poll_task("q-cancel").await.unwrap();
    let heartbeat = pb::HeartbeatRequest {
        task_execution_id: task.task_execution_id.clone(),
    };
    s.tasks().heartbeat(heartbeat.clone()).await.expect("running");
    s.tasks()
        .cancel_task(pb::CancelTaskRequest {
            task_execution_id: task_id.to_string(),
        })
        .await
        .unwrap();
    let err = s.tasks().heartbeat(heartbeat).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(s.poll_task("q-cancel").await.is_none(), "no retry after a cancel");
    assert_eq!(s.poll("q-cancel").await.unwrap().id, wf);
    let (kind, data) = s.events(&wf).await.last().cloned().unwrap();
    assert_eq!(
        (kind.as_str(), &data["error"]),
        ("TASK_FAILED", &json!("Task cancelled"))
    );
}

#[tokio::test]
async fn attempt_timeout_counts_as_a_failed_attempt() {
    let s = TestServer::start_manual(|_| {}).await;
    let id = standalone(&s, "q-timeout", "&timeoutMs=300&maxRetries=1").await;
    let first = s.poll_task("q-timeout").await.unwrap();
    assert_eq!(
        (first.task_execution_id.as_str(), first.execution_count),
        (id.as_str(), 1)
    );
    // The worker never reports; after 300 ms the attempt times out and the
    // task is offered again as attempt 2.
    s.advance(Duration::from_millis(299)).await;
    assert!(s.poll_task("q-timeout").await.is_none(), "timed out early");
    s.advance(Duration::from_millis(1)).await;
    let second = s.poll_task("q-timeout").await.expect("re-offered");
    assert_eq!(second.execution_count, 2);
}

#[tokio::test]
async fn task_of_a_vanished_worker_is_reclaimed() {
    let s = TestServer::start_manual(|c| c.server.task_lease_seconds = 1).await;
    let id = standalone(&s, "q-vanish", "").await;
    let first = s.poll_task("q-vanish").await.unwrap();
    assert_eq!(first.task_execution_id, id);
    assert!(s.poll_task("q-vanish").await.is_none(), "held by the first worker");
    s.advance(Duration::from_millis(999)).await;
    assert!(
        s.poll_task("q-vanish").await.is_none(),
        "reclaimed before the lease ended"
    );
    s.advance(Duration::from_millis(1)).await;
    let second = s.poll_task("q-vanish").await.expect("reclaimed");
    assert_eq!(
        (second.task_execution_id.as_str(), second.execution_count),
        (id.as_str(), 2)
    );
    s.tasks()
        .complete_task(pb::CompleteTaskRequest {
            task_execution_id: id,
            output: b"\"done\"".to_vec(),
        })
        .await
        .unwrap();
}
