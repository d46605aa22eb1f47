//! Cron schedules over REST: a schedule fires workflows that a plain poll
//! picks up, one per fire time; paused and deleted schedules stop firing.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{self, TestServer};

async fn drain(s: &TestServer, queue: &str) -> Vec<String> {
    let mut ids = Vec::new();
    while let Some(w) = s.poll(queue).await {
        ids.push(w.id);
    }
    ids
}

#[tokio::test]
async fn schedule_fires_workflows_one_per_fire_time() {
    let s = TestServer::start_manual(|_| {}).await;
    let body =
        json!({ "name": "tick", "cron": "* * * * * *", "workflowKind": "tick", "queue": "q-cron", "input": {"x": 1} });
    let (status, created) = util::http(&s.http(), "POST", "/api/schedules", Some(&s.api_key), &body.to_string()).await;
    assert_eq!(status, 201, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(drain(&s, "q-cron").await.is_empty(), "fired before its first fire time");

    // One workflow per fire time passed ...
    s.advance(Duration::from_secs(1)).await;
    let first = s.poll("q-cron").await.expect("the schedule fired");
    assert_eq!(first.kind, "tick");
    assert_eq!(serde_json::from_slice::<Value>(&first.input).unwrap(), json!({"x": 1}));
    assert!(drain(&s, "q-cron").await.is_empty(), "one workflow per fire time");
    for second in 2..=3 {
        s.advance(Duration::from_secs(1)).await;
        assert_eq!(drain(&s, "q-cron").await.len(), 1, "second {second}");
    }
    // ... and after a gap, one: missed fire times are skipped, not caught up.
    s.advance(Duration::from_secs(5)).await;
    assert_eq!(drain(&s, "q-cron").await.len(), 1, "after a gap");

    let (status, _) = util::http(
        &s.http(),
        "POST",
        &format!("/api/schedules/{id}/pause"),
        Some(&s.api_key),
        "",
    )
    .await;
    assert_eq!(status, 200);
    s.advance(Duration::from_secs(3)).await;
    assert!(drain(&s, "q-cron").await.is_empty(), "a paused schedule does not fire");

    let (status, list) = util::http(&s.http(), "GET", "/api/schedules", Some(&s.api_key), "").await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["paused"], true);

    let (status, _) = util::http(
        &s.http(),
        "DELETE",
        &format!("/api/schedules/{id}"),
        Some(&s.api_key),
        "",
    )
    .await;
    assert_eq!(status, 204);
    let (_, list) = util::http(&s.http(), "GET", "/api/schedules", Some(&s.api_key), "").await;
    assert_eq!(list, "[]");
}

#[tokio::test]
async fn invalid_schedules_are_rejected_naming_the_field() {
    let s = TestServer::start().await;
    for (body, field) in [
        (json!({ "name": "a", "cron": "* * *", "workflowKind": "k" }), "cron"),
        (
            json!({ "name": "a", "cron": "99 * * * *", "workflowKind": "k" }),
            "cron",
        ),
        (json!({ "cron": "* * * * *", "workflowKind": "k" }), "name"),
        (json!({ "name": "a", "cron": "* * * * *" }), "workflowKind"),
    ] {
        let (status, text) = util::http(&s.http(), "POST", "/api/schedules", Some(&s.api_key), &body.to_string()).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(field), "{field}: {text}");
    }
    let ok = json!({ "name": "dup", "cron": "0 0 * * *", "workflowKind": "k" });
    assert_eq!(
        util::http(&s.http(), "POST", "/api/schedules", Some(&s.api_key), &ok.to_string())
            .await
            .0,
        201
    );
    assert_eq!(
        util::http(&s.http(), "POST", "/api/schedules", Some(&s.api_key), &ok.to_string())
            .await
            .0,
        409
    );
}
