//! REST handlers, called directly with hand-built extractors.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use dispatch_api::rest::{self, EnqueueBody, OrgId, PauseBody, PollBody};
use dispatch_api::AppState;
use dispatch_core::alerts::{BacklogAlerts, EmailNotifier};
use dispatch_core::metrics::QueueGauge;
use dispatch_core::{DispatchService, Dispatcher, InMemoryStore, ReloadBroadcaster};
use dispatch_core::{SharedNotifier, WorkNotification, WorkerNotifier};
use tokio::sync::{broadcast, Notify};

const ORG: &str = "acme";

fn test_state() -> AppState {
    let store = Arc::new(InMemoryStore::new());
    let notifier: SharedNotifier = Arc::new(WorkerNotifier::new(16));
    let service = DispatchService::builder(store.clone())
        .with_notifier(notifier.clone())
        .build();
    AppState {
        service: Arc::new(service),
        dispatcher: Arc::new(Dispatcher::new(store.clone(), notifier.clone())),
        store,
        notifier,
        reloads: Arc::new(ReloadBroadcaster::new()),
        alerts: Arc::new(BacklogAlerts {
            notifier: EmailNotifier::new(vec!["oncall@example.com".to_owned()]),
            threshold: 2,
        }),
        gauge: Arc::new(QueueGauge::default()),
        shutdown: Arc::new(Notify::new()),
        started_at: Instant::now(),
    }
}

fn org() -> OrgId {
    OrgId(ORG.to_owned())
}

fn queue_path(queue: &str) -> Path<String> {
    Path(queue.to_owned())
}

async fn enqueue(state: &AppState, queue: &str, payload: &str) -> u64 {
    let body = EnqueueBody {
        payload: payload.to_owned(),
        priority: 0,
    };
    let path = queue_path(queue);
    let (status, Json(view)) = rest::enqueue_job(State(state.clone()), org(), path, Json(body))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    view.id
}

async fn poll(state: &AppState, queue: &str) -> Option<u64> {
    let body = PollBody {
        worker: "w1".to_owned(),
    };
    let state = State(state.clone());
    let Json(job) = rest::poll_job(state, org(), queue_path(queue), Json(body)).await;
    job.map(|job| job.id)
}

/// The queue named by the oldest notification not yet received, if any.
fn woken_queue(rx: &mut broadcast::Receiver<WorkNotification>) -> Option<String> {
    rx.try_recv().ok().map(|notification| notification.queue)
}

#[tokio::test]
async fn enqueued_job_is_polled_once() {
    let state = test_state();
    let id = enqueue(&state, "emails", "{}").await;
    assert_eq!(poll(&state, "emails").await, Some(id));
    assert_eq!(poll(&state, "emails").await, None);
}

#[tokio::test]
async fn enqueue_wakes_idle_workers() {
    let state = test_state();
    let mut rx = state.notifier.subscribe();
    enqueue(&state, "emails", "{}").await;
    assert_eq!(woken_queue(&mut rx).as_deref(), Some("emails"));
}

#[tokio::test]
async fn dropped_worker_gives_its_jobs_back() {
    let state = test_state();
    let id = enqueue(&state, "emails", "{}").await;
    poll(&state, "emails").await.unwrap();
    let Json(released) = rest::drop_worker(State(state.clone()), Path("w1".to_owned())).await;
    assert_eq!(released, 1);
    assert_eq!(poll(&state, "emails").await, Some(id));
}

#[tokio::test]
async fn dropped_worker_wakes_its_queues() {
    let state = test_state();
    enqueue(&state, "emails", "{}").await;
    poll(&state, "emails").await.unwrap();
    let mut rx = state.notifier.subscribe();
    let _ = rest::drop_worker(State(state.clone()), Path("w1".to_owned())).await;
    assert_eq!(woken_queue(&mut rx).as_deref(), Some("emails"));
    assert_eq!(woken_queue(&mut rx), None);
}

#[tokio::test]
async fn backlog_alert_is_mailed_at_threshold() {
    let state = test_state();
    enqueue(&state, "emails", "a").await;
    assert!(state.alerts.notifier.drain().is_empty());
    enqueue(&state, "emails", "b").await;
    assert_eq!(state.alerts.notifier.drain().len(), 1);
}

#[tokio::test]
async fn released_job_can_be_polled_again() {
    let state = test_state();
    let id = enqueue(&state, "emails", "{}").await;
    assert_eq!(poll(&state, "emails").await, Some(id));
    let extension = Extension(state.notifier.clone());
    let released = rest::release_lease(State(state.clone()), extension, org(), Path(id)).await;
    assert_eq!(released.unwrap().0.state, "pending");
    assert_eq!(poll(&state, "emails").await, Some(id));
}

#[tokio::test]
async fn paused_queue_is_not_polled() {
    let state = test_state();
    enqueue(&state, "emails", "{}").await;
    let body = Json(PauseBody { paused: true });
    let status = rest::set_paused(State(state.clone()), org(), queue_path("emails"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(poll(&state, "emails").await, None);
}

#[tokio::test]
async fn request_without_org_header_is_unauthorized() {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    let result = OrgId::from_request_parts(&mut parts, &()).await;
    let response = result.unwrap_err().into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn router_builds() {
    let _router = dispatch_api::app(test_state());
}
