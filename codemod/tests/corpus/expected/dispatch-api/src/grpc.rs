//! The gRPC front end: [`GrpcDispatch`] implements [`JobDispatch`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dispatch_core::rpc::{EventStream, JobDispatch, LeasedJob, NackRequest, NackResponse};
use dispatch_core::rpc::{PollRequest, PollResponse, PushRequest, PushResponse};
use dispatch_core::rpc::{SubscriptionRequest, WorkAvailableEvent};
use dispatch_core::{DispatchError, DispatchService, InMemoryStore, JobId, NewJob};
use tonic::{Request, Response, Status};

/// How long a worker may hold a job it leased over gRPC.
const LEASE: Duration = Duration::from_secs(60);

pub struct GrpcDispatch {
    service: Arc<DispatchService>,
    store: Arc<InMemoryStore>,
    /// Bearer token to organisation.
    tokens: HashMap<String, String>,
}

impl GrpcDispatch {
    pub fn new(
        service: Arc<DispatchService>,
        store: Arc<InMemoryStore>,
        tokens: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            service,
            store,
            tokens: tokens.into_iter().collect(),
        }
    }

    /// Returns the organisation of the caller's bearer token.
    fn authorize<T>(&self, request: &Request<T>) -> Result<String, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("missing authorization"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| Status::unauthenticated("expected a bearer token"))?;
        self.tokens
            .get(token)
            .cloned()
            .ok_or_else(|| Status::unauthenticated("unknown token"))
    }
}

fn to_status(err: DispatchError) -> Status {
    match err {
        DispatchError::NotFound(_) => Status::not_found(err.to_string()),
        DispatchError::InvalidQueue(_) | DispatchError::PayloadTooLarge { .. } => {
            Status::invalid_argument(err.to_string())
        }
        DispatchError::InvalidState { .. } | DispatchError::AttemptsExhausted(_) => {
            Status::failed_precondition(err.to_string())
        }
    }
}

#[async_trait]
impl JobDispatch for GrpcDispatch {
    type SubscribeToNotificationsStream = EventStream;

    async fn push(&self, request: Request<PushRequest>) -> Result<Response<PushResponse>, Status> {
        let org = self.authorize(&request)?;
        let req = request.into_inner();
        let mut new_job = NewJob::new(&org, &req.queue, req.payload).priority(req.priority);
        if req.delay_ms > 0 {
            new_job = new_job.due(Instant::now() + Duration::from_millis(req.delay_ms));
        }
        let job = self.service.enqueue(new_job).map_err(to_status)?;
        Ok(Response::new(PushResponse { job_id: job.id.0 }))
    }

    /// Long-poll fallback: workers normally wait on their notification
    /// stream and only poll once it told them a queue has work.
    async fn poll(&self, request: Request<PollRequest>) -> Result<Response<PollResponse>, Status> {
        let org = self.authorize(&request)?;
        let req = request.into_inner();
        let until = Instant::now() + LEASE;
        let job = self
            .service
            .poll(&org, &req.queue, &req.worker, until)
            .map(|job| LeasedJob {
                job_id: job.id.0,
                payload: job.payload,
                attempt: job.attempts,
            });
        Ok(Response::new(PollResponse { job }))
    }

    async fn nack(&self, request: Request<NackRequest>) -> Result<Response<NackResponse>, Status> {
        let org = self.authorize(&request)?;
        let id = JobId(request.into_inner().job_id);
        if self.store.get(id).map_err(to_status)?.org_id != org {
            return Err(Status::not_found(format!("{id} does not exist")));
        }
        let _job = self.store.release(id).map_err(to_status)?;
        Ok(Response::new(NackResponse {}))
    }

    async fn subscribe_to_notifications(
        &self,
        request: Request<SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeToNotificationsStream>, Status> {
        let _org = self.authorize(&request)?;
        // WorkerNotifier was removed: workers discover work by polling. This stub keeps
        // SDKs from before the removal connected: it accepts the call, never sends an
        // event and ends the stream after 30 seconds (or when the client goes away).
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<WorkAvailableEvent, Status>>(1);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), tx.closed()).await;
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}
