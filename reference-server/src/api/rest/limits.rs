//! Request bodies, bounded before any handler runs: a declared
//! `Content-Length` over the limit is answered 413 at once (nothing is
//! read), a body that grows over it while being read is 413 too, and a body
//! not received within the deadline (a client trickling it) is 408.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::ApiError;

/// The size limit and the deadline of a request body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
}

/// Reads the body within the limit and the deadline, then hands the request
/// on with the body in memory.
pub async fn bounded_body(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let limit = limits.max_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = request.into_parts();
    let read = http_body_util::Limited::new(body, limit).collect();
    let bytes = match tokio::time::timeout(limits.read_timeout, read).await {
        Err(_) => {
            let message = format!("the body was not received within {:?}", limits.read_timeout);
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, message).into_response();
        }
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => return too_large(limit),
        Ok(Err(err)) => {
            return ApiError::new(StatusCode::BAD_REQUEST, format!("reading the body failed: {err}")).into_response();
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn too_large(limit: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is over the limit of {limit} bytes"),
    )
    .into_response()
}
