//! Task definitions and what task code sees ([`TaskContext`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::transport::{from_bytes, pb, to_bytes, Grpc};
use crate::{BoxFuture, Result};

/// A task: ordinary (non-deterministic) code run by a task worker.
#[async_trait]
pub trait TaskDefinition: Send + Sync + 'static {
    type Input: DeserializeOwned + Send + 'static;
    type Output: Serialize + Send + 'static;

    fn kind(&self) -> &str;

    /// How long one attempt may run before the worker reports it as timed
    /// out (default: the worker's `task_timeout`, 300 s).
    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }

    /// Retries after a failed attempt, as registered with the server.
    fn max_retries(&self) -> Option<i32> {
        None
    }

    async fn execute(&self, ctx: TaskContext, input: Self::Input) -> Result<Self::Output>;
}

/// A task with its types erased to JSON.
pub(crate) trait DynTask: Send + Sync {
    fn kind(&self) -> String;
    fn timeout(&self) -> Option<std::time::Duration>;
    fn max_retries(&self) -> Option<i32>;
    fn run(&self, ctx: TaskContext, input: Value) -> BoxFuture<Result<Value>>;
}

impl<T: TaskDefinition> DynTask for Arc<T> {
    fn kind(&self) -> String {
        self.as_ref().kind().to_string()
    }

    fn timeout(&self) -> Option<std::time::Duration> {
        self.as_ref().timeout()
    }

    fn max_retries(&self) -> Option<i32> {
        self.as_ref().max_retries()
    }

    fn run(&self, ctx: TaskContext, input: Value) -> BoxFuture<Result<Value>> {
        let definition = self.clone();
        Box::pin(async move {
            // The same input comes with every attempt: retrying cannot help.
            let input: T::Input = serde_json::from_value(input)
                .map_err(|e| crate::Error::Fatal(format!("the task input does not decode: {e}")))?;
            let output = definition.execute(ctx, input).await?;
            Ok(serde_json::to_value(output)?)
        })
    }
}

/// What task code sees. Cheap to clone.
#[derive(Clone)]
pub struct TaskContext {
    pub(crate) grpc: Grpc,
    pub(crate) task_id: Uuid,
    pub(crate) attempt: i32,
    pub(crate) workflow_execution_id: Option<Uuid>,
    pub(crate) cancelled: Arc<AtomicBool>,
}

impl TaskContext {
    pub fn task_execution_id(&self) -> Uuid {
        self.task_id
    }

    /// 1 on the first attempt, then 2, 3, ... on retries.
    pub fn attempt(&self) -> i32 {
        self.attempt
    }

    /// The owning workflow, `None` for a standalone task.
    pub fn workflow_execution_id(&self) -> Option<Uuid> {
        self.workflow_execution_id
    }

    /// Reports progress in [0, 1] (fire and forget).
    pub fn report_progress(&self, progress: f64, details: &str) {
        let mut client = self.grpc.tasks();
        let request = pb::ReportProgressRequest {
            task_execution_id: self.task_id.to_string(),
            progress: progress.clamp(0.0, 1.0),
            details: details.to_string(),
        };
        tokio::spawn(async move {
            let _ = client.report_progress(request).await;
        });
    }

    /// Sends a log line to the server (fire and forget).
    pub fn log(&self, level: &str, message: &str) {
        let mut client = self.grpc.tasks();
        let request = pb::LogMessageRequest {
            task_execution_id: self.task_id.to_string(),
            level: level.to_string(),
            message: message.to_string(),
        };
        tokio::spawn(async move {
            let _ = client.log_message(request).await;
        });
    }

    /// Tells the server the task is alive; an error status means the task
    /// was cancelled (or is no longer this worker's), which
    /// [`Self::is_cancelled`] then reports.
    pub async fn heartbeat(&self) -> Result<()> {
        let result = self
            .grpc
            .tasks()
            .heartbeat(pb::HeartbeatRequest {
                task_execution_id: self.task_id.to_string(),
            })
            .await;
        if let Err(status) = result {
            if status.code() == tonic::Code::FailedPrecondition {
                self.cancelled.store(true, Ordering::Release);
            }
            return Err(status.into());
        }
        Ok(())
    }

    /// Has a heartbeat learnt that the task was cancelled?
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// This task execution's state value of `key`.
    pub async fn get_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let response = self
            .grpc
            .tasks()
            .get_state(pb::GetStateRequest {
                task_execution_id: self.task_id.to_string(),
                key: key.to_string(),
            })
            .await?
            .into_inner();
        if !response.found {
            return Ok(None);
        }
        Ok(Some(serde_json::from_value(from_bytes(&response.value))?))
    }

    pub async fn set_state<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.grpc
            .tasks()
            .set_state(pb::SetStateRequest {
                task_execution_id: self.task_id.to_string(),
                key: key.to_string(),
                value: to_bytes(value)?,
            })
            .await?;
        Ok(())
    }

    pub async fn clear_state(&self, key: &str) -> Result<()> {
        self.grpc
            .tasks()
            .clear_state(pb::ClearStateRequest {
                task_execution_id: self.task_id.to_string(),
                key: key.to_string(),
            })
            .await?;
        Ok(())
    }
}
