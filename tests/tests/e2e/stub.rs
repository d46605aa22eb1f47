//! The reference server's `SubscribeToNotifications` (Option B): accepted,
//! never sends an event, ends the stream after 30 seconds. Tested with
//! paused tokio time. (It lives here, not with the server's own tests, which
//! are the same text before and after the migration.)

use std::sync::Arc;
use std::time::Duration;

use reference_server::api::grpc::pb::workflow_dispatch_server::WorkflowDispatch;
use reference_server::api::grpc::workflow_dispatch::WorkflowDispatchService;
use reference_server::api::grpc::{pb, GrpcState};
use reference_server::service::{Services, Settings};
use reference_server::storage::sqlite::SqliteStorage;
use tokio_stream::StreamExt;

#[tokio::test]
async fn subscription_stub_sends_nothing_and_ends_after_30_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("db")).await.unwrap());
    // Virtual time from here: the 30 seconds pass without waiting.
    tokio::time::pause();
    let service = WorkflowDispatchService::new(GrpcState {
        services: Services::new(storage, Settings::default()),
        max_payload_bytes: 1024,
    });
    let started = tokio::time::Instant::now();
    let response = service
        .subscribe_to_notifications(tonic::Request::new(pb::SubscriptionRequest {
            worker_id: "old-sdk".into(),
            org_id: uuid::Uuid::new_v4().to_string(),
            queue: "default".into(),
        }))
        .await
        .expect("accepted");
    let mut stream = response.into_inner();
    assert!(stream.next().await.is_none(), "no event, then the end");
    let open_for = started.elapsed();
    assert!(open_for >= Duration::from_secs(30), "ended after {open_for:?}");
    assert!(open_for < Duration::from_secs(31), "ended after {open_for:?}");
}
