//! The gRPC guard: one tower layer in front of every service authenticates
//! the bearer token and checks the method against the permission table
//! (`permissions::GRPC`) before any handler runs. The caller's
//! [`Principal`] then travels in the request's extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::Status;

use crate::auth::{Authenticator, Principal};
use crate::permissions;

/// Wraps the gRPC server's routes.
#[derive(Clone)]
pub struct GuardLayer {
    auth: Arc<Authenticator>,
}

impl GuardLayer {
    pub fn new(auth: Authenticator) -> Self {
        GuardLayer { auth: Arc::new(auth) }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            auth: self.auth.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

/// The principal a request may act as, or the status refusing it.
fn admit(auth: &Authenticator, path: &str, header: Option<&str>) -> Result<Principal, Status> {
    let principal = auth
        .authenticate(header)
        .map_err(|e| Status::unauthenticated(e.to_string()))?;
    principal
        .may_call(permissions::GRPC, permissions::grpc_endpoint(path))
        .map_err(|denied| match denied {
            permissions::Denied::Unlisted(_) => Status::unimplemented(denied.to_string()),
            permissions::Denied::NotAllowed { .. } => Status::permission_denied(denied.to_string()),
        })?;
    Ok(principal)
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Guard<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let header = request.headers().get("authorization").and_then(|v| v.to_str().ok());
        match admit(&self.auth, request.uri().path(), header) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                Box::pin(self.inner.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
