//! `flovyn.v1.WorkerLifecycle`: registration and heartbeats.

use tonic::{Request, Response, Status};

use super::pb;
use super::pb::worker_lifecycle_server::WorkerLifecycle;
use super::{org_of, principal, GrpcState};
use crate::service::workers::Registration;

pub struct WorkerLifecycleService {
    state: GrpcState,
}

impl WorkerLifecycleService {
    pub fn new(state: GrpcState) -> Self {
        WorkerLifecycleService { state }
    }
}

#[tonic::async_trait]
impl WorkerLifecycle for WorkerLifecycleService {
    async fn register_worker(
        &self,
        request: Request<pb::WorkerRegistrationRequest>,
    ) -> Result<Response<pb::WorkerRegistrationResponse>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let org_id = org_of(&principal, &req.org_id, "org_id")?;
        let worker_id = self
            .state
            .services
            .register_worker(Registration {
                org_id,
                name: req.worker_name,
                version: req.worker_version,
                worker_type: req.worker_type,
                workflow_kinds: req.workflows.into_iter().map(|w| w.kind).collect(),
                task_kinds: req.tasks.into_iter().map(|t| t.kind).collect(),
            })
            .await?;
        Ok(Response::new(pb::WorkerRegistrationResponse {
            worker_id: worker_id.to_string(),
            success: true,
            ..Default::default()
        }))
    }

    async fn send_heartbeat(&self, request: Request<pb::WorkerHeartbeatRequest>) -> Result<Response<()>, Status> {
        principal(&request)?;
        // Unknown or malformed worker ids are answered OK (fact sheet 7.2).
        if let Ok(id) = uuid::Uuid::parse_str(&request.get_ref().worker_id) {
            self.state.services.heartbeat(id).await?;
        }
        Ok(Response::new(()))
    }
}
