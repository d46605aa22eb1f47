//! Test harness: a server on 127.0.0.1:0 with a fresh database, clients
//! carrying its worker token, and small protocol helpers.

use std::time::Duration;

use reference_server::api::grpc::pb;
use reference_server::config::{ApiKeyConfig, Config, OrgConfig, PrincipalKind, Role};
use reference_server::service::clock::Clock;
use reference_server::RunningServer;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

pub type Dispatch = pb::workflow_dispatch_client::WorkflowDispatchClient<InterceptedService<Channel, Bearer>>;
pub type Tasks = pb::task_execution_client::TaskExecutionClient<InterceptedService<Channel, Bearer>>;
pub type Lifecycle = pb::worker_lifecycle_client::WorkerLifecycleClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(pub Option<String>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        Ok(request)
    }
}

pub struct TestServer {
    pub server: Option<RunningServer>,
    /// Kept alive for the database file.
    _dir: tempfile::TempDir,
    pub org: Uuid,
    pub other_org: Uuid,
    pub token: String,
    pub other_token: String,
    pub api_key: String,
    channel: Channel,
    /// The server's clock: manual for [`TestServer::start_manual`].
    pub clock: Clock,
    /// What the server was started with.
    #[allow(dead_code)] // read by `start_beside`, which tests/replicas.rs uses
    config: Config,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(Clock::system(), tune).await
    }

    /// A server whose time stands still until [`TestServer::advance`].
    pub async fn start_manual(tune: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(Clock::manual_from_now(), tune).await
    }

    /// Moves the manual clock and runs the scheduler's pass: whatever
    /// became due by then has fired when this returns.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.server.as_ref().unwrap().tick().await.unwrap();
    }

    async fn start_on(clock: Clock, tune: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let org = Uuid::new_v4();
        let other_org = Uuid::new_v4();
        let mut config = Config::default();
        config.server.http_port = 0;
        config.server.grpc_port = 0;
        config.server.data_dir = dir.path().to_path_buf();
        for (id, slug) in [(org, "test"), (other_org, "other")] {
            config.orgs.push(OrgConfig {
                id,
                name: slug.into(),
                slug: slug.into(),
                tier: None,
            });
        }
        let token = format!("flovyn_wk_test_{}", &Uuid::new_v4().to_string()[..16]);
        let other_token = format!("flovyn_wk_test_{}", &Uuid::new_v4().to_string()[..16]);
        let api_key = format!("flovyn_sk_test_{}", &Uuid::new_v4().to_string()[..16]);
        for (key, org_id, kind, role) in [
            (&token, org, PrincipalKind::Worker, None),
            (&other_token, other_org, PrincipalKind::Worker, None),
            (&api_key, org, PrincipalKind::User, Some(Role::Admin)),
        ] {
            config.auth.static_api_key.keys.push(ApiKeyConfig {
                key: key.clone(),
                org_id,
                principal_type: kind,
                principal_id: format!("{kind:?}:test"),
                role,
            });
        }
        config.database.url = reference_server::testing::test_database_url().await;
        tune(&mut config);
        Self::launch(config, clock, dir).await
    }

    /// A second server on the same database, orgs and keys (a replica;
    /// PostgreSQL only, in tests/replicas.rs).
    #[allow(dead_code)]
    pub async fn start_beside(other: &TestServer) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = other.config.clone();
        config.server.data_dir = dir.path().to_path_buf();
        Self::launch(config, Clock::system(), dir).await
    }

    /// Starts `config`, whose first two orgs and first three keys are the
    /// test's (org, other org; worker, other worker, admin user).
    async fn launch(config: Config, clock: Clock, dir: tempfile::TempDir) -> Self {
        let keys = &config.auth.static_api_key.keys;
        let (token, other_token, api_key) = (keys[0].key.clone(), keys[1].key.clone(), keys[2].key.clone());
        let (org, other_org) = (config.orgs[0].id, config.orgs[1].id);
        let server = reference_server::start_with_clock(config.clone(), clock.clone())
            .await
            .unwrap();
        let channel = Channel::from_shared(format!("http://{}", server.grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        TestServer {
            server: Some(server),
            _dir: dir,
            org,
            other_org,
            token,
            other_token,
            api_key,
            channel,
            clock,
            config,
        }
    }

    /// The gRPC channel, for raw calls.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    pub fn http(&self) -> String {
        format!("http://{}", self.server.as_ref().unwrap().http_addr)
    }

    pub fn dispatch(&self) -> Dispatch {
        self.dispatch_as(Some(&self.token))
    }

    pub fn dispatch_as(&self, token: Option<&str>) -> Dispatch {
        pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
            self.channel.clone(),
            Bearer(token.map(str::to_string)),
        )
    }

    pub fn tasks(&self) -> Tasks {
        pb::task_execution_client::TaskExecutionClient::with_interceptor(
            self.channel.clone(),
            Bearer(Some(self.token.clone())),
        )
    }

    pub fn lifecycle(&self) -> Lifecycle {
        pb::worker_lifecycle_client::WorkerLifecycleClient::with_interceptor(
            self.channel.clone(),
            Bearer(Some(self.token.clone())),
        )
    }

    /// Starts a workflow on `queue` and returns its id.
    pub async fn start_workflow(&self, kind: &str, queue: &str, input: serde_json::Value) -> String {
        self.dispatch()
            .start_workflow(pb::StartWorkflowRequest {
                org_id: self.org.to_string(),
                workflow_kind: kind.into(),
                input: serde_json::to_vec(&input).unwrap(),
                queue: queue.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .workflow_execution_id
    }

    /// One look at `queue`: a poll that is answered at once
    /// (`timeout_seconds` 0), whatever the server's longest wait.
    pub async fn poll(&self, queue: &str) -> Option<pb::WorkflowExecution> {
        self.poll_held(queue, 0).await
    }

    /// A poll of `queue` that may be held up to `seconds`.
    pub async fn poll_held(&self, queue: &str, seconds: i64) -> Option<pb::WorkflowExecution> {
        self.dispatch()
            .poll_workflow(pb::PollRequest {
                worker_id: "worker-test".into(),
                org_id: self.org.to_string(),
                queue: queue.into(),
                timeout_seconds: seconds,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .workflow_execution
    }

    /// One look at the task queue `queue`, answered at once.
    pub async fn poll_task(&self, queue: &str) -> Option<pb::TaskExecutionInfo> {
        self.poll_task_held(queue, 0).await
    }

    /// A task poll of `queue` that may be held up to `seconds`.
    pub async fn poll_task_held(&self, queue: &str, seconds: i64) -> Option<pb::TaskExecutionInfo> {
        self.tasks()
            .poll_task(pb::PollTaskRequest {
                worker_id: "worker-test".into(),
                org_id: self.org.to_string(),
                queue: queue.into(),
                timeout_seconds: seconds,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .task
    }

    /// Starts a workflow on `queue`, takes its first workflow task and has
    /// it schedule task `task_id` of `kind`; returns the execution id.
    pub async fn start_scheduling_task(
        &self,
        queue: &str,
        task_id: Uuid,
        kind: &str,
        max_retries: Option<i32>,
    ) -> String {
        let id = self.start_workflow("order", queue, serde_json::json!({})).await;
        self.poll(queue).await.expect("the workflow is pollable");
        self.submit(
            &id,
            vec![schedule_task(task_id, kind, max_retries)],
            pb::WorkflowStatus::Suspended,
        )
        .await
        .unwrap();
        id
    }

    pub async fn events(&self, id: &str) -> Vec<(String, serde_json::Value)> {
        self.dispatch()
            .get_events(pb::GetEventsRequest {
                workflow_execution_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .events
            .into_iter()
            .map(|e| (e.event_type, serde_json::from_slice(&e.event_data).unwrap()))
            .collect()
    }

    pub async fn submit(
        &self,
        id: &str,
        commands: Vec<pb::WorkflowCommand>,
        status: pb::WorkflowStatus,
    ) -> Result<(), tonic::Status> {
        self.dispatch()
            .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
                workflow_execution_id: id.into(),
                commands,
                status: status as i32,
            })
            .await
            .map(|_| ())
    }
}

/// A command with its payload.
pub fn command(kind: pb::CommandType, data: pb::workflow_command::CommandData) -> pb::WorkflowCommand {
    pb::WorkflowCommand {
        command_type: kind as i32,
        sequence_number: 0,
        command_data: Some(data),
    }
}

pub fn complete(output: serde_json::Value) -> pb::WorkflowCommand {
    command(
        pb::CommandType::CompleteWorkflow,
        pb::workflow_command::CommandData::CompleteWorkflow(pb::CompleteWorkflowCommand {
            output: serde_json::to_vec(&output).unwrap(),
        }),
    )
}

pub fn schedule_task(task_id: Uuid, kind: &str, max_retries: Option<i32>) -> pb::WorkflowCommand {
    command(
        pb::CommandType::ScheduleTask,
        pb::workflow_command::CommandData::ScheduleTask(pb::ScheduleTaskCommand {
            kind: kind.into(),
            input: b"{\"n\":1}".to_vec(),
            task_execution_id: task_id.to_string(),
            max_retries,
            ..Default::default()
        }),
    )
}

pub fn suspend(reason: &str) -> pb::WorkflowCommand {
    command(
        pb::CommandType::SuspendWorkflow,
        pb::workflow_command::CommandData::SuspendWorkflow(pb::SuspendWorkflowCommand { reason: reason.into() }),
    )
}

pub fn start_timer(timer_id: &str, duration_ms: i64) -> pb::WorkflowCommand {
    command(
        pb::CommandType::StartTimer,
        pb::workflow_command::CommandData::StartTimer(pb::StartTimerCommand {
            timer_id: timer_id.into(),
            duration_ms,
        }),
    )
}

/// The event types of a history, in order.
pub fn types(events: &[(String, serde_json::Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

/// A raw HTTP/1.1 request (`Connection: close`); returns status and body.
pub async fn http(base: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub fn create_promise(name: &str, timeout_ms: Option<i64>) -> pb::WorkflowCommand {
    command(
        pb::CommandType::CreatePromise,
        pb::workflow_command::CommandData::CreatePromise(pb::CreatePromiseCommand {
            promise_id: name.into(),
            timeout_ms,
            ..Default::default()
        }),
    )
}

pub fn schedule_child(name: &str, kind: &str, child_id: Uuid) -> pb::WorkflowCommand {
    command(
        pb::CommandType::ScheduleChildWorkflow,
        pb::workflow_command::CommandData::ScheduleChildWorkflow(pb::ScheduleChildWorkflowCommand {
            child_execution_name: name.into(),
            workflow_kind: Some(kind.into()),
            child_workflow_execution_id: child_id.to_string(),
            input: b"{\"child\":true}".to_vec(),
            ..Default::default()
        }),
    )
}

pub fn fail(error: &str) -> pb::WorkflowCommand {
    command(
        pb::CommandType::FailWorkflow,
        pb::workflow_command::CommandData::FailWorkflow(pb::FailWorkflowCommand {
            error: error.into(),
            stack_trace: String::new(),
            failure_type: "ERROR".into(),
        }),
    )
}
