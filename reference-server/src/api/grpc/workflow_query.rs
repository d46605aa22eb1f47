//! `flovyn.v1.WorkflowQuery`: no query is defined yet; every query name is
//! answered with an error in the response (fact sheet 8.1).

use tonic::{Request, Response, Status};

use super::pb;
use super::pb::workflow_query_server::WorkflowQuery;
use super::{parse_uuid, principal, GrpcState};

pub struct WorkflowQueryService {
    state: GrpcState,
}

impl WorkflowQueryService {
    pub fn new(state: GrpcState) -> Self {
        WorkflowQueryService { state }
    }
}

#[tonic::async_trait]
impl WorkflowQuery for WorkflowQueryService {
    async fn query_workflow(
        &self,
        request: Request<pb::QueryWorkflowRequest>,
    ) -> Result<Response<pb::QueryWorkflowResponse>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.workflow_execution_id, "workflow_execution_id")?;
        // The execution must exist and be the caller's.
        self.state.services.workflow(principal.org_id, id).await?;
        Ok(Response::new(pb::QueryWorkflowResponse {
            result: Vec::new(),
            error: Some(format!("unknown query {:?}", req.query_name)),
        }))
    }
}
