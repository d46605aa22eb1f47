//! WorkflowDispatch gRPC service.

use std::pin::Pin;

use tokio_stream::{wrappers::BroadcastStream, Stream, StreamExt};
use tonic::{Request, Response, Status};
use tracing::debug;

use super::GrpcState;
use crate::proto::workflow_dispatch_server::WorkflowDispatch;
use crate::proto::{StartWorkflowRequest, StartWorkflowResponse, SubscriptionRequest, WorkAvailableEvent};

pub struct WorkflowDispatchService {
    state: GrpcState,
}

#[tonic::async_trait]
impl WorkflowDispatch for WorkflowDispatchService {
    type SubscribeToNotificationsStream = Pin<Box<dyn Stream<Item = Result<WorkAvailableEvent, Status>> + Send>>;

    async fn start_workflow(
        &self,
        request: Request<StartWorkflowRequest>,
    ) -> Result<Response<StartWorkflowResponse>, Status> {
        let org_id = self.state.storage.authenticate(&request).await?;
        let req = request.into_inner();
        let (workflow, is_new) = self.state.launcher.launch(org_id, &req).await?;
        if is_new {
            debug!(queue = %workflow.queue, "notifying workers");
            self.state.notifier.notify_work_available(org_id, &workflow.queue);
        }
        Ok(Response::new(StartWorkflowResponse { workflow_execution_id: workflow.id.to_string() }))
    }

    async fn subscribe_to_notifications(
        &self,
        request: Request<SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeToNotificationsStream>, Status> {
        let org_id = self.state.storage.authenticate(&request).await?;
        let req = request.into_inner();
        let rx = self.state.notifier.subscribe();
        let stream = BroadcastStream::new(rx).filter_map(move |n| match n {
            Ok(n) if n.org_id == org_id && n.queue == req.queue => {
                Some(Ok(WorkAvailableEvent { queue: n.queue }))
            }
            _ => None,
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
