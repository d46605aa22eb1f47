//! Client operations that are not a worker's: starting workflows, waiting
//! for their results, resolving promises.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::transport::{from_bytes, org_text, pb, to_bytes, Event, Grpc};
use crate::{Error, Result};

/// Talks to the server on behalf of an application.
#[derive(Clone)]
pub struct FlovynClient {
    pub(crate) grpc: Grpc,
    /// `None`: requests carry no org and the server takes the token's.
    pub(crate) org_id: Option<Uuid>,
    pub(crate) queue: String,
}

impl FlovynClient {
    /// Connects without running any worker.
    pub async fn connect(url: &str, token: &str, org_id: Option<Uuid>, queue: &str) -> Result<Self> {
        Ok(FlovynClient {
            grpc: Grpc::connect(url, token).await?,
            org_id,
            queue: queue.to_string(),
        })
    }

    /// Starts a workflow on the client's queue and returns its id.
    pub async fn start_workflow<I: Serialize>(&self, kind: &str, input: &I) -> Result<Uuid> {
        self.start_workflow_on(kind, input, &self.queue, None).await
    }

    /// Starts a workflow on `queue`, with an optional idempotency key.
    pub async fn start_workflow_on<I: Serialize>(
        &self,
        kind: &str,
        input: &I,
        queue: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Uuid> {
        let response = self
            .grpc
            .dispatch()
            .start_workflow(pb::StartWorkflowRequest {
                org_id: org_text(self.org_id),
                workflow_kind: kind.to_string(),
                input: to_bytes(input)?,
                queue: queue.to_string(),
                idempotency_key: idempotency_key.map(str::to_string),
                ..Default::default()
            })
            .await?
            .into_inner();
        Uuid::parse_str(&response.workflow_execution_id).map_err(|e| Error::Decode(e.to_string()))
    }

    /// The history of an execution.
    pub async fn events(&self, execution_id: Uuid) -> Result<Vec<Event>> {
        let events = self
            .grpc
            .dispatch()
            .get_events(pb::GetEventsRequest {
                workflow_execution_id: execution_id.to_string(),
            })
            .await?
            .into_inner()
            .events;
        Ok(events
            .into_iter()
            .map(|e| Event {
                sequence_number: e.sequence_number,
                data: from_bytes(&e.event_data),
                event_type: e.event_type,
            })
            .collect())
    }

    /// Waits (reading the history every `every`) until the execution ends;
    /// its output, or its error as [`Error::Failed`].
    pub async fn wait_for_result<O: DeserializeOwned>(&self, execution_id: Uuid, timeout: Duration) -> Result<O> {
        let deadline = tokio::time::Instant::now() + timeout;
        let every = Duration::from_millis(50);
        loop {
            for event in self.events(execution_id).await? {
                match event.event_type.as_str() {
                    "WORKFLOW_COMPLETED" => {
                        return Ok(serde_json::from_value(event.data["output"].clone())?);
                    }
                    "WORKFLOW_EXECUTION_FAILED" | "WORKFLOW_FAILED" => {
                        let error = event.data["error"].as_str().unwrap_or("unknown error");
                        return Err(Error::Failed(error.to_string()));
                    }
                    "WORKFLOW_CANCELLED" => return Err(Error::Failed("cancelled".into())),
                    _ => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "workflow {execution_id} did not finish within {timeout:?}"
                )));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Starts a workflow and waits for its result.
    pub async fn start_workflow_and_wait<I: Serialize, O: DeserializeOwned>(
        &self,
        kind: &str,
        input: &I,
        timeout: Duration,
    ) -> Result<O> {
        let id = self.start_workflow(kind, input).await?;
        self.wait_for_result(id, timeout).await
    }

    /// The server id of the oldest promise named `name` of an execution.
    async fn promise_id(&self, execution_id: Uuid, name: &str) -> Result<String> {
        self.events(execution_id)
            .await?
            .into_iter()
            .find(|e| e.event_type == "PROMISE_CREATED" && e.data["promiseName"] == name)
            .and_then(|e| e.data["promiseId"].as_str().map(str::to_string))
            .ok_or_else(|| Error::Failed(format!("promise {name:?} not found in workflow {execution_id}")))
    }

    /// Resolves a workflow's promise with a value.
    pub async fn resolve_promise<T: Serialize>(&self, execution_id: Uuid, name: &str, value: &T) -> Result<()> {
        let promise_id = self.promise_id(execution_id, name).await?;
        self.grpc
            .dispatch()
            .resolve_promise(pb::ResolvePromiseRequest {
                promise_id,
                value: to_bytes(value)?,
            })
            .await?;
        Ok(())
    }

    /// Rejects a workflow's promise with an error message.
    pub async fn reject_promise(&self, execution_id: Uuid, name: &str, error: &str) -> Result<()> {
        let promise_id = self.promise_id(execution_id, name).await?;
        self.grpc
            .dispatch()
            .reject_promise(pb::RejectPromiseRequest {
                promise_id,
                error: error.to_string(),
            })
            .await?;
        Ok(())
    }
}
