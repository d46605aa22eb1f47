//! The gRPC service, called in-process.

use std::collections::HashMap;
use std::sync::Arc;

use dispatch_api::GrpcDispatch;
use dispatch_core::rpc::{self, JobDispatch, LeasedJob, SubscriptionRequest};
use dispatch_core::{DispatchService, InMemoryStore};
use tonic::{Code, Request};

const TOKEN: &str = "test-token";

fn grpc_dispatch() -> GrpcDispatch {
    let store = Arc::new(InMemoryStore::new());
    let service = Arc::new(DispatchService::builder(store.clone()).build());
    let tokens = HashMap::from([(TOKEN.to_owned(), "acme".to_owned())]);
    GrpcDispatch::new(service, store, tokens)
}

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    let value = format!("Bearer {TOKEN}").parse().unwrap();
    request.metadata_mut().insert("authorization", value);
    request
}

async fn poll_once(dispatch: &GrpcDispatch) -> Option<LeasedJob> {
    let request = authed(rpc::PollRequest {
        queue: "emails".to_owned(),
        worker: "w1".to_owned(),
    });
    dispatch.poll(request).await.unwrap().into_inner().job
}

#[tokio::test]
async fn push_poll_nack_round_trip() {
    let dispatch = grpc_dispatch();
    let pushed = dispatch
        .push(authed(rpc::PushRequest {
            queue: "emails".to_owned(),
            payload: "{}".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let job_id = pushed.job_id;
    let polled = poll_once(&dispatch).await;
    assert_eq!(polled.map(|job| job.job_id), Some(job_id));
    let nack = rpc::NackRequest { job_id };
    dispatch.nack(authed(nack)).await.unwrap();
    let again = poll_once(&dispatch).await;
    assert_eq!(again.map(|job| job.attempt), Some(2));
}

#[tokio::test]
async fn subscription_requires_a_token() {
    let dispatch = grpc_dispatch();
    let request = Request::new(SubscriptionRequest::default());
    match dispatch.subscribe_to_notifications(request).await {
        Err(status) => assert_eq!(status.code(), Code::Unauthenticated),
        Ok(_) => panic!("a subscription without a token was accepted"),
    }
}
