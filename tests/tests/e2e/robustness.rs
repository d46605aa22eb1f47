//! Many workflows over several workers, a worker killed mid-task, graceful
//! stop, and a determinism violation.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use workspace_tests::Env;

use super::definitions::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_workflows_over_four_workers_complete_once_each() {
    const WORKFLOWS: u64 = 200;
    let env = Env::start().await;
    let executions = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for i in 0..4 {
        let worker = env
            .worker("load")
            .worker_id(format!("load-{i}"))
            .register_workflow(FanOut)
            .register_task(Double(executions.clone()))
            .start()
            .await
            .unwrap();
        workers.push(worker);
    }
    let client = env.client("load").await;
    let mut ids = Vec::new();
    for _ in 0..WORKFLOWS {
        ids.push(client.start_workflow("fan-out", &3u64).await.unwrap());
    }
    let mut results = Vec::new();
    for id in &ids {
        let sum: u64 = client.wait_for_result(*id, WAIT).await.unwrap();
        results.push(sum);
    }
    assert!(results.iter().all(|s| *s == 12), "every workflow summed its 3 tasks");
    assert_eq!(
        executions.load(Ordering::SeqCst),
        (WORKFLOWS * 3) as usize,
        "no task executed twice"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), WORKFLOWS as usize);
    for worker in workers {
        worker.stop().await;
    }
}

#[tokio::test]
async fn task_of_a_killed_worker_is_completed_by_another() {
    let env = Env::start_with(|c| c.server.task_lease_seconds = 1).await;
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let slow = || Slow {
        kind: "slow",
        started: started.clone(),
        finished: finished.clone(),
    };
    let first = env
        .worker("killed")
        .register_workflow(OneTask)
        .register_task(slow())
        .start()
        .await
        .unwrap();
    let id = first.client().start_workflow("one-task", &"slow").await.unwrap();
    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.abort().await; // killed mid-task: no report ever comes
    assert_eq!(finished.load(Ordering::SeqCst), 0);

    let second = env
        .worker("killed")
        .register_workflow(OneTask)
        .register_task(slow())
        .start()
        .await
        .unwrap();
    let out: Value = second.client().wait_for_result(id, WAIT).await.unwrap();
    assert_eq!(out, json!("slow done"));
    assert_eq!(started.load(Ordering::SeqCst), 2, "run again after the lease expired");
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    second.stop().await;
}

#[tokio::test]
async fn graceful_stop_finishes_and_reports_in_flight_tasks() {
    let env = Env::start().await;
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let worker = env
        .worker("stop")
        .register_workflow(OneTask)
        .register_task(Slow {
            kind: "slow",
            started: started.clone(),
            finished: finished.clone(),
        })
        .start()
        .await
        .unwrap();
    let client = worker.client().clone();
    let id = client.start_workflow("one-task", &"slow").await.unwrap();
    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopping = Instant::now();
    worker.stop().await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the in-flight task finished before stop returned"
    );
    assert!(stopping.elapsed() >= Duration::from_millis(100));
    // It was reported: the workflow now has the completion in its history
    // and nothing is left claimed by the stopped worker.
    let events = client.events(id).await.unwrap();
    assert!(events.iter().any(|e| e.event_type == "TASK_COMPLETED"), "{events:?}");
}

#[tokio::test]
async fn determinism_violation_fails_that_workflow_only() {
    let env = Env::start().await;
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    // Version 1 schedules `slow`; stop it while the task is still queued.
    let v1 = env.worker("det").register_workflow(OneTask).start().await.unwrap();
    let client = v1.client().clone();
    let changed = client.start_workflow("one-task", &"slow").await.unwrap();
    while !client
        .events(changed)
        .await
        .unwrap()
        .iter()
        .any(|e| e.event_type == "TASK_SCHEDULED")
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    v1.stop().await;
    // Version 2 of the code replays the history recorded by version 1.
    let executions = Arc::new(AtomicUsize::new(0));
    let v2 = env
        .worker("det")
        .register_workflow(OneTaskV2)
        .register_workflow(Hello)
        .register_task(Slow {
            kind: "slow",
            started: started.clone(),
            finished: finished.clone(),
        })
        .register_task(Double(executions))
        .start()
        .await
        .unwrap();
    let err = client
        .wait_for_result::<Value>(changed, WAIT)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("determinism violation"), "{err}");
    assert!(err.contains("schedule_task` #1"), "names the step: {err}");
    assert!(err.contains("\"slow\"") && err.contains("\"renamed\""), "{err}");
    // Other workflows keep running.
    let ok: Value = client
        .start_workflow_and_wait(
            "hello",
            &Name {
                name: "still here".into(),
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(ok["greeting"], "Hello, still here!");
    v2.stop().await;
}

#[tokio::test]
async fn task_definition_timeout_fails_the_attempt() {
    let env = Env::start().await;
    let worker = env
        .worker("too-slow")
        .register_workflow(OneTask)
        .register_task(TooSlow)
        .start()
        .await
        .unwrap();
    let err = worker
        .client()
        .start_workflow_and_wait::<_, Value>("one-task", &"too-slow", WAIT)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Task execution timed out"), "{err}");
    worker.stop().await;
}

#[tokio::test]
async fn an_idle_worker_waits_in_a_held_poll_and_stops_at_once() {
    let env = Env::start().await;
    let worker = env.worker("idle").register_workflow(Hello).start().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.server.held_polls() == 0 {
        assert!(Instant::now() < deadline, "the worker's poll was never held");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let polls = worker.stats().workflow_polls;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // With immediate answers and a 100 ms backoff this would be 5 to 10.
    assert_eq!(worker.stats().workflow_polls, polls, "one poll, held: no empty polls");
    let stopping = Instant::now();
    worker.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        stopping.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while env.server.held_polls() > 0 {
        assert!(Instant::now() < deadline, "the stopped worker's poll is still held");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
