//! gRPC: the four `flovyn.v1` services on one tonic server. Shared state,
//! authentication and authorization (the [`guard`] layer puts the caller's
//! [`Principal`] into the request), the release of claims whose response
//! never left (the [`delivery`] layer), the single service-error → `Status`
//! mapping, and decoding helpers. Proto types stay inside this module
//! (`pb::…`).

pub mod delivery;
pub mod guard;
mod poll_budget;
pub mod task_execution;
pub mod worker_lifecycle;
pub mod workflow_dispatch;
pub mod workflow_query;

use serde_json::Value;
use tokio::net::TcpListener;
use tonic::{Request, Status};
use uuid::Uuid;

use crate::auth::{Authenticator, Principal};
use crate::service::{self, Services};

/// Generated protocol types and service traits.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("flovyn.v1");
}

/// State shared by the gRPC services.
#[derive(Clone)]
pub struct GrpcState {
    pub services: Services,
    /// Largest accepted payload in bytes.
    pub max_payload_bytes: usize,
}

impl From<service::Error> for Status {
    fn from(err: service::Error) -> Self {
        match err {
            service::Error::InvalidArgument(m) => Status::invalid_argument(m),
            service::Error::NotFound(m) => Status::not_found(m),
            service::Error::FailedPrecondition(m) => Status::failed_precondition(m),
            service::Error::AlreadyExists(m) => Status::already_exists(m),
            service::Error::PermissionDenied(m) => Status::permission_denied(m),
            service::Error::ResourceExhausted(m) => Status::resource_exhausted(m),
            service::Error::Unimplemented(m) => Status::unimplemented(m),
            service::Error::Storage(e) => {
                tracing::error!(error = %e, "storage failure");
                Status::internal("internal storage error")
            }
        }
    }
}

/// The authenticated caller of a request.
pub(crate) fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("not authenticated"))
}

/// The org a request acts on: the token's. A body `org_id` naming another
/// org is refused.
pub(crate) fn org_of(principal: &Principal, body_org_id: &str, field: &str) -> Result<Uuid, Status> {
    if body_org_id.is_empty() {
        return Ok(principal.org_id);
    }
    let org = parse_uuid(body_org_id, field)?;
    if org != principal.org_id {
        return Err(Status::permission_denied(format!(
            "{field}: the token does not belong to org {org}"
        )));
    }
    Ok(org)
}

/// A required UUID field.
pub(crate) fn parse_uuid(value: &str, field: &str) -> Result<Uuid, Status> {
    if value.is_empty() {
        return Err(Status::invalid_argument(format!("{field} is required")));
    }
    Uuid::parse_str(value).map_err(|_| Status::invalid_argument(format!("{field} is not a UUID: {value:?}")))
}

/// A JSON payload field: at most `limit` bytes; empty means `null`.
pub(crate) fn parse_json(bytes: &[u8], field: &str, limit: usize) -> Result<Value, Status> {
    if bytes.len() > limit {
        return Err(Status::resource_exhausted(format!(
            "{field} is {} bytes, over the limit of {limit} bytes",
            bytes.len()
        )));
    }
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| Status::invalid_argument(format!("{field} is not valid JSON: {e}")))
}

/// JSON for the wire (`{}` stands for nothing where an object is expected).
pub(crate) fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

/// Serves the four services on `listener` until `shutdown` completes.
pub async fn serve(
    state: GrpcState,
    auth: Authenticator,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    // Transport limit above the payload limit, so that an oversized payload
    // gets the precise ResourceExhausted of `parse_json`.
    let limit = state.max_payload_bytes.saturating_mul(2).saturating_add(64 * 1024);
    let dispatch = pb::workflow_dispatch_server::WorkflowDispatchServer::new(
        workflow_dispatch::WorkflowDispatchService::new(state.clone()),
    )
    .max_decoding_message_size(limit);
    let tasks =
        pb::task_execution_server::TaskExecutionServer::new(task_execution::TaskExecutionService::new(state.clone()))
            .max_decoding_message_size(limit);
    let lifecycle = pb::worker_lifecycle_server::WorkerLifecycleServer::new(
        worker_lifecycle::WorkerLifecycleService::new(state.clone()),
    );
    let query = pb::workflow_query_server::WorkflowQueryServer::new(workflow_query::WorkflowQueryService::new(state));
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .layer(guard::GuardLayer::new(auth))
        .layer(delivery::DeliveryLayer)
        .add_service(dispatch)
        .add_service(tasks)
        .add_service(lifecycle)
        .add_service(query)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
