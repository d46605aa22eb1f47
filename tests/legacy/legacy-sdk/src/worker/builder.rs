//! [`FlovynClientBuilder`]: connection settings, definitions; `start()`
//! registers the worker (one UNIFIED registration), runs heartbeats and the
//! workers, and returns a [`WorkerHandle`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::task_worker::{TaskWorker, TaskWorkerConfig};
use super::workflow_worker::{WorkflowWorker, WorkflowWorkerConfig};
use super::{ConnectionState, Reconnect};
use crate::client::FlovynClient;
use crate::task::{DynTask, TaskDefinition};
use crate::transport::{org_text, pb, Grpc};
use crate::workflow::{DynWorkflow, WorkflowDefinition};
use crate::{Error, Result};

/// Builds a [`FlovynClient`] and its workers.
pub struct FlovynClientBuilder {
    server_url: String,
    org_id: Option<Uuid>,
    token: Option<String>,
    queue: String,
    worker_id: String,
    worker_name: Option<String>,
    max_concurrent: usize,
    no_work_backoff: Duration,
    enable_notifications: bool,
    heartbeat_interval: Duration,
    reconnect: Reconnect,
    workflows: HashMap<String, Arc<dyn DynWorkflow>>,
    tasks: HashMap<String, Arc<dyn DynTask>>,
}

impl FlovynClient {
    pub fn builder() -> FlovynClientBuilder {
        FlovynClientBuilder {
            server_url: "http://localhost:9090".into(),
            org_id: None,
            token: None,
            queue: "default".into(),
            worker_id: format!("worker-{}", Uuid::new_v4()),
            worker_name: None,
            max_concurrent: 10,
            no_work_backoff: Duration::from_millis(100),
            enable_notifications: true,
            heartbeat_interval: Duration::from_secs(30),
            reconnect: Reconnect::default(),
            workflows: HashMap::new(),
            tasks: HashMap::new(),
        }
    }
}

impl FlovynClientBuilder {
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = url.into();
        self
    }

    /// The org to work for. Without one, requests carry no org and the
    /// server takes the token's.
    pub fn org_id(mut self, org_id: Uuid) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub fn worker_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = id.into();
        self
    }

    pub fn worker_name(mut self, name: impl Into<String>) -> Self {
        self.worker_name = Some(name.into());
        self
    }

    /// Workflow tasks and tasks each run at most this many at a time.
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n;
        self
    }

    /// Longest sleep after an empty poll (default 100 ms).
    pub fn no_work_backoff(mut self, backoff: Duration) -> Self {
        self.no_work_backoff = backoff;
        self
    }

    /// Whether the workflow worker subscribes to work notifications (default
    /// on): with them it polls as soon as the server reports work, without
    /// them only when its idle sleep ends. Tasks are always found by polling.
    pub fn enable_notifications(mut self, on: bool) -> Self {
        self.enable_notifications = on;
        self
    }

    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Delays between reconnection attempts: doubling from `initial` to `max`.
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.reconnect = Reconnect { initial, max };
        self
    }

    pub fn register_workflow<W: WorkflowDefinition>(mut self, workflow: W) -> Self {
        let workflow: Arc<dyn DynWorkflow> = Arc::new(Arc::new(workflow));
        self.workflows.insert(workflow.kind(), workflow);
        self
    }

    pub fn register_task<T: TaskDefinition>(mut self, task: T) -> Self {
        let task: Arc<dyn DynTask> = Arc::new(Arc::new(task));
        self.tasks.insert(task.kind(), task);
        self
    }

    /// Connects (no worker runs).
    pub async fn build(&self) -> Result<FlovynClient> {
        let token = self
            .token
            .as_deref()
            .ok_or_else(|| Error::Config("a worker token is required".into()))?;
        Ok(FlovynClient {
            grpc: Grpc::connect(&self.server_url, token).await?,
            org_id: self.org_id,
            queue: self.queue.clone(),
        })
    }

    /// Connects, registers the worker, and runs heartbeats and workers.
    pub async fn start(self) -> Result<WorkerHandle> {
        let client = self.build().await?;
        let registration = client
            .grpc
            .lifecycle()
            .register_worker(pb::WorkerRegistrationRequest {
                worker_name: self.worker_name.clone().unwrap_or_else(|| self.worker_id.clone()),
                worker_version: "1.0.0".into(),
                worker_type: "UNIFIED".into(),
                org_id: org_text(client.org_id),
                host_name: "unknown".into(),
                process_id: std::process::id().to_string(),
                workflows: self
                    .workflows
                    .iter()
                    .map(|(kind, w)| pb::WorkflowCapability {
                        kind: kind.clone(),
                        name: kind.clone(),
                        version: w.version(),
                        timeout_seconds: w.timeout().map(|t| t.as_secs() as i32),
                        ..Default::default()
                    })
                    .collect(),
                tasks: self
                    .tasks
                    .iter()
                    .map(|(kind, t)| pb::TaskCapability {
                        kind: kind.clone(),
                        name: kind.clone(),
                        timeout_seconds: t.timeout().map(|d| d.as_secs() as i32),
                        retry_policy: t
                            .max_retries()
                            .map(|n| format!("{{\"maxRetries\":{n}}}").into_bytes())
                            .unwrap_or_default(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .await?
            .into_inner();
        if !registration.success {
            return Err(Error::Failed(format!(
                "worker registration refused: {}",
                registration.error.unwrap_or_default()
            )));
        }
        let server_worker_id = registration.worker_id;

        let stop = CancellationToken::new();
        let abort = CancellationToken::new();
        let (state, state_rx) = watch::channel(ConnectionState::Connected);
        let mut tasks = JoinSet::new();
        let workflow_polls = Arc::new(AtomicU64::new(0));
        let task_polls = Arc::new(AtomicU64::new(0));
        if !self.workflows.is_empty() {
            let worker = Arc::new(WorkflowWorker {
                client: client.clone(),
                config: WorkflowWorkerConfig {
                    worker_id: self.worker_id.clone(),
                    org_id: client.org_id,
                    queue: self.queue.clone(),
                    max_concurrent: self.max_concurrent,
                    no_work_backoff: self.no_work_backoff,
                    enable_notifications: self.enable_notifications,
                    reconnect: self.reconnect,
                },
                workflows: self.workflows,
                state: state.clone(),
                polls: workflow_polls.clone(),
                work_available_notify: Arc::new(Notify::new()),
            });
            // Wakes the workflow poll loop when the server reports work; ends
            // with `stop` like the poll loop.
            if worker.config.enable_notifications {
                tasks.spawn(worker.clone().notification_subscription_loop(stop.clone()));
            }
            tasks.spawn(crate::worker::run(worker, stop.clone(), abort.clone()));
        }
        if !self.tasks.is_empty() {
            let worker = Arc::new(TaskWorker {
                client: client.clone(),
                config: TaskWorkerConfig {
                    worker_id: self.worker_id.clone(),
                    org_id: client.org_id,
                    queue: self.queue.clone(),
                    max_concurrent: self.max_concurrent,
                    no_work_backoff: self.no_work_backoff,
                    reconnect: self.reconnect,
                    ..TaskWorkerConfig::default()
                },
                tasks: self.tasks,
                state: state.clone(),
                polls: task_polls.clone(),
            });
            tasks.spawn(crate::worker::run(worker, stop.clone(), abort.clone()));
        }
        let heartbeat_client = client.clone();
        let heartbeat_stop = stop.clone();
        let interval = self.heartbeat_interval;
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = heartbeat_stop.cancelled() => return,
                }
                let result = heartbeat_client
                    .grpc
                    .lifecycle()
                    .send_heartbeat(pb::WorkerHeartbeatRequest {
                        worker_id: server_worker_id.clone(),
                        ..Default::default()
                    })
                    .await;
                if let Err(status) = result {
                    tracing::warn!(error = %status, "heartbeat failed");
                }
            }
        });
        Ok(WorkerHandle {
            client,
            stop,
            abort,
            tasks,
            state: state_rx,
            workflow_polls,
            task_polls,
        })
    }
}

/// Running workers.
pub struct WorkerHandle {
    client: FlovynClient,
    stop: CancellationToken,
    abort: CancellationToken,
    tasks: JoinSet<()>,
    state: watch::Receiver<ConnectionState>,
    workflow_polls: Arc<AtomicU64>,
    task_polls: Arc<AtomicU64>,
}

/// Counters of a running client's workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerStats {
    pub workflow_polls: u64,
    pub task_polls: u64,
}

impl WorkerHandle {
    /// Polls sent so far by the workflow and task workers.
    pub fn stats(&self) -> WorkerStats {
        WorkerStats {
            workflow_polls: self.workflow_polls.load(Ordering::Relaxed),
            task_polls: self.task_polls.load(Ordering::Relaxed),
        }
    }

    /// The client the workers use (to start workflows, resolve promises).
    pub fn client(&self) -> &FlovynClient {
        &self.client
    }

    /// The workers' connection state (for lifecycle hooks).
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Completes once the workers are polling.
    pub async fn await_ready(&self) {
        let mut state = self.state.clone();
        let _ = state.wait_for(|s| *s == ConnectionState::Connected).await;
    }

    /// Stops polling, lets in-flight work finish and report, then returns.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Stops at once: in-flight work is abandoned (the server re-offers it
    /// after its lease).
    pub async fn abort(mut self) {
        self.stop.cancel();
        self.abort.cancel();
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}
