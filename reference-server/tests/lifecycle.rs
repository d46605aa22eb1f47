//! Worker registration and heartbeats (fact sheet 7).

use reference_server::api::grpc::pb;

use crate::util::TestServer;

#[tokio::test]
async fn registration_returns_a_worker_id_and_heartbeats_are_accepted() {
    let s = TestServer::start().await;
    let response = s
        .lifecycle()
        .register_worker(pb::WorkerRegistrationRequest {
            worker_name: "worker-1".into(),
            worker_version: "1.0.0".into(),
            worker_type: "UNIFIED".into(),
            org_id: s.org.to_string(),
            workflows: vec![pb::WorkflowCapability {
                kind: "hello".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(response.success);
    let id = uuid::Uuid::parse_str(&response.worker_id).unwrap();
    assert!(!id.is_nil());
    for worker_id in [response.worker_id, uuid::Uuid::new_v4().to_string(), "garbage".into()] {
        s.lifecycle()
            .send_heartbeat(pb::WorkerHeartbeatRequest {
                worker_id,
                ..Default::default()
            })
            .await
            .expect("heartbeats are always answered OK");
    }
}
