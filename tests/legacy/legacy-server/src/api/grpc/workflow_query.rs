//! `flovyn.v1.WorkflowQuery`: the SDK has no worker-side query handler, so
//! queries are answered from the workflow's recorded state (fact sheet 8.1):
//! the query name is a state key set with `SET_STATE`; any other name gets
//! an error in the response.

use tonic::{Request, Response, Status};

use super::pb;
use super::pb::workflow_query_server::WorkflowQuery;
use super::{parse_uuid, principal, to_bytes, GrpcState};

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
        let answer = self
            .state
            .services
            .query_workflow(principal.org_id, id, &req.query_name)
            .await?;
        Ok(Response::new(match answer {
            Some(value) => pb::QueryWorkflowResponse {
                result: to_bytes(&value),
                error: None,
            },
            None => pb::QueryWorkflowResponse {
                result: Vec::new(),
                error: Some(format!(
                    "unknown query {:?}: queries name a state key the workflow set",
                    req.query_name
                )),
            },
        }))
    }
}
