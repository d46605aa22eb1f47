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

#[tokio::test]
async fn queries_answer_from_workflow_state() {
    use crate::util;
    let s = TestServer::start().await;
    let id = s.start_workflow("stateful", "q-query", serde_json::json!({})).await;
    s.poll("q-query").await.unwrap();
    let set = util::command(
        pb::CommandType::SetState,
        pb::workflow_command::CommandData::SetState(pb::SetStateCommand {
            key: "progress".into(),
            value: b"{\"done\":3}".to_vec(),
        }),
    );
    s.submit(&id, vec![set], pb::WorkflowStatus::Suspended).await.unwrap();
    let mut query = pb::workflow_query_client::WorkflowQueryClient::with_interceptor(
        tonic::transport::Channel::from_shared(format!("http://{}", s.server.as_ref().unwrap().grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap(),
        util::Bearer(Some(s.token.clone())),
    );
    let answer = query
        .query_workflow(pb::QueryWorkflowRequest {
            workflow_execution_id: id.clone(),
            query_name: "progress".into(),
            params: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.error, None);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&answer.result).unwrap(),
        serde_json::json!({"done": 3})
    );
    let unknown = query
        .query_workflow(pb::QueryWorkflowRequest {
            workflow_execution_id: id,
            query_name: "nope".into(),
            params: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(unknown.error.unwrap().contains("unknown query"));
}
