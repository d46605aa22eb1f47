//! The real binary killed with SIGKILL in the middle of workflows and
//! started again on the same database: no acknowledged work is lost.

use std::time::{Duration, Instant};

use reference_server::api::grpc::pb;
use serde_json::json;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::process::{database_section, spawn};
use crate::util::{self, Bearer};

async fn dispatch(
    grpc: &str,
    token: &str,
) -> pb::workflow_dispatch_client::WorkflowDispatchClient<
    tonic::service::interceptor::InterceptedService<Channel, Bearer>,
> {
    let channel = Channel::from_shared(grpc.to_string()).unwrap().connect().await.unwrap();
    pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(channel, Bearer(Some(token.into())))
}

#[tokio::test]
async fn sigkill_mid_workflow_loses_no_accepted_work() {
    let dir = tempfile::tempdir().unwrap();
    let org = Uuid::new_v4();
    let token = "flovyn_wk_test_restart00000000";
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nhttp_port = 0\ngrpc_port = 0\ndata_dir = {data:?}\nworkflow_lease_seconds = 1\n\n\
             [[orgs]]\nid = \"{org}\"\nname = \"t\"\nslug = \"t\"\n\n\
             [auth.static_api_key]\nkeys = [{{ key = \"{token}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"w\" }}]\n{database}",
            data = dir.path().join("data").display().to_string(),
            database = database_section().await,
        ),
    )
    .unwrap();

    let mut first = spawn(&config);
    let mut client = dispatch(&first.grpc, token).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = client
            .start_workflow(pb::StartWorkflowRequest {
                org_id: org.to_string(),
                workflow_kind: "durable".into(),
                input: serde_json::to_vec(&json!({ "i": i })).unwrap(),
                queue: "q".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .workflow_execution_id;
        ids.push(id);
    }
    // Half of them are mid-flight: handed out, one of those with a
    // submitted step.
    let poll = |client: &mut pb::workflow_dispatch_client::WorkflowDispatchClient<_>| {
        let request = pb::PollRequest {
            worker_id: "w".into(),
            org_id: org.to_string(),
            queue: "q".into(),
            ..Default::default()
        };
        let mut client = client.clone();
        async move {
            client
                .poll_workflow(request)
                .await
                .unwrap()
                .into_inner()
                .workflow_execution
        }
    };
    let mut handed_out = Vec::new();
    for _ in 0..10 {
        handed_out.push(poll(&mut client).await.unwrap().id);
    }
    client
        .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
            workflow_execution_id: handed_out[0].clone(),
            commands: vec![util::start_timer("sleep-1", 60_000), util::suspend("sleeping")],
            status: pb::WorkflowStatus::Suspended as i32,
        })
        .await
        .unwrap();

    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    let restarted_at = Instant::now();
    let mut second = spawn(&config);
    let mut client = dispatch(&second.grpc, token).await;
    let serving_after = restarted_at.elapsed();
    assert!(
        serving_after < Duration::from_secs(10),
        "serving again after {serving_after:?}"
    );

    for id in &ids {
        let events = client
            .get_events(pb::GetEventsRequest {
                workflow_execution_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .events;
        assert_eq!(events[0].event_type, "WORKFLOW_STARTED", "{id}");
    }
    let history = client
        .get_events(pb::GetEventsRequest {
            workflow_execution_id: handed_out[0].clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let kinds: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["WORKFLOW_STARTED", "TIMER_STARTED", "WORKFLOW_SUSPENDED"]);

    // Every workflow but the sleeping one is handed out again: the 10 never
    // polled at once, the 9 held by the killed worker once their lease ends.
    let mut seen = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < 19 && Instant::now() < deadline {
        match poll(&mut client).await {
            Some(w) => {
                seen.insert(w.id);
            }
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let expected: std::collections::HashSet<String> = ids.iter().filter(|id| **id != handed_out[0]).cloned().collect();
    assert_eq!(seen, expected);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

/// 20 workflows with SDK workers; the server binary is killed with SIGKILL
/// in the middle and started again on the same database (and port): the
/// workers reconnect and all 20 complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_workflows_survive_a_server_sigkill() {
    use reference_sdk::{
        FlovynClient, Result as SdkResult, TaskContext, TaskDefinition, WorkflowContext, WorkflowDefinition,
    };

    struct TwoSteps;
    #[reference_sdk::async_trait]
    impl WorkflowDefinition for TwoSteps {
        type Input = u64;
        type Output = u64;
        fn kind(&self) -> &str {
            "two-steps"
        }
        async fn execute(&self, ctx: WorkflowContext, n: u64) -> SdkResult<u64> {
            let a: u64 = ctx.schedule_task("slow-inc", &n).await?;
            let b: u64 = ctx.schedule_task("slow-inc", &a).await?;
            Ok(b)
        }
    }
    struct SlowInc;
    #[reference_sdk::async_trait]
    impl TaskDefinition for SlowInc {
        type Input = u64;
        type Output = u64;
        fn kind(&self) -> &str {
            "slow-inc"
        }
        async fn execute(&self, _ctx: TaskContext, n: u64) -> SdkResult<u64> {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(n + 1)
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let org = Uuid::new_v4();
    let token = "flovyn_wk_test_restart11111111";
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nhttp_port = 0\ngrpc_port = {port}\ndata_dir = {data:?}\nworkflow_lease_seconds = 2\ntask_lease_seconds = 2\n\n\
             [[orgs]]\nid = \"{org}\"\nname = \"t\"\nslug = \"t\"\n\n\
             [auth.static_api_key]\nkeys = [{{ key = \"{token}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"w\" }}]\n{database}",
            data = dir.path().join("data").display().to_string(),
            database = database_section().await,
        ),
    )
    .unwrap();
    let mut first = spawn(&config);
    let worker = FlovynClient::builder()
        .server_url(first.grpc.clone())
        .worker_token(token)
        .org_id(org)
        .queue("restart")
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(500))
        .register_workflow(TwoSteps)
        .register_task(SlowInc)
        .start()
        .await
        .unwrap();
    let client = worker.client().clone();
    let mut ids = Vec::new();
    for n in 0..20u64 {
        ids.push((n, client.start_workflow("two-steps", &n).await.unwrap()));
    }
    tokio::time::sleep(Duration::from_millis(250)).await; // mid-flight
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // workers see UNAVAILABLE
    let mut second = spawn(&config);
    for (n, id) in ids {
        let out: u64 = client.wait_for_result(id, Duration::from_secs(60)).await.unwrap();
        assert_eq!(out, n + 2, "workflow {id}");
    }
    worker.stop().await;
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
