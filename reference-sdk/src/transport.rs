//! The floor every other module stands on: the generated protocol types
//! (`pb`), one channel with the bearer token on every call ([`Grpc`]), the
//! history events as decoded from the wire, and the JSON codec of
//! payloads. It imports nothing of the SDK but its error type.

use serde_json::Value;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

/// Generated protocol types and clients.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("flovyn.v1");
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer {
    header: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl Bearer {
    pub fn new(token: &str) -> crate::Result<Self> {
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| crate::Error::Config("the worker token is not valid header text".into()))?;
        Ok(Bearer { header })
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.header.clone());
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Bearer>;
pub(crate) type DispatchClient = pb::workflow_dispatch_client::WorkflowDispatchClient<Authed>;
pub(crate) type TaskClient = pb::task_execution_client::TaskExecutionClient<Authed>;
pub(crate) type LifecycleClient = pb::worker_lifecycle_client::WorkerLifecycleClient<Authed>;

/// One channel and the token: every service client of the SDK.
#[derive(Clone)]
pub(crate) struct Grpc {
    channel: Channel,
    bearer: Bearer,
}

impl Grpc {
    pub async fn connect(url: &str, token: &str) -> crate::Result<Self> {
        let channel = Channel::from_shared(url.to_string())
            .map_err(|e| crate::Error::Config(format!("server URL {url:?}: {e}")))?
            .connect()
            .await?;
        Ok(Grpc {
            channel,
            bearer: Bearer::new(token)?,
        })
    }

    pub fn dispatch(&self) -> DispatchClient {
        pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn tasks(&self) -> TaskClient {
        pb::task_execution_client::TaskExecutionClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn lifecycle(&self) -> LifecycleClient {
        pb::worker_lifecycle_client::WorkerLifecycleClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }
}

/// A recorded history event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub sequence_number: i32,
    pub event_type: String,
    pub data: Value,
}

/// The `org_id` text of a request: empty when the client has none.
pub(crate) fn org_text(org_id: Option<Uuid>) -> String {
    org_id.map(|o| o.to_string()).unwrap_or_default()
}

/// JSON bytes of a value.
pub(crate) fn to_bytes<T: serde::Serialize>(value: &T) -> crate::Result<Vec<u8>> {
    Ok(serde_json::to_vec(value)?)
}

/// A JSON payload (`null` when empty or unreadable, as the Flovyn SDK does).
pub(crate) fn from_bytes(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}
