//! Claims whose response never left. A poll's handler hands its claim to
//! the transport along with the response: an [`Undelivered`] in the
//! response's extensions. The [`DeliveryLayer`] moves it into the response
//! body, which lets go of it once the transport has taken the body to its
//! end (the gRPC trailers). A body dropped before that (the client reset the
//! stream, the connection closed, flow control never let the message out)
//! releases the claim at once, instead of leaving the item to its lease.
//!
//! What this cannot see: bytes the transport accepted and then lost with
//! the connection. Those claims still wait for their lease.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};

/// Runs when a response with a claim was not delivered.
type Release = Box<dyn FnOnce() + Send>;

/// A claim riding with its response (cloneable, as extensions must be; the
/// release runs at most once).
#[derive(Clone)]
pub struct Undelivered(Arc<Mutex<Option<Release>>>);

impl Undelivered {
    pub fn new(release: impl FnOnce() + Send + 'static) -> Self {
        Undelivered(Arc::new(Mutex::new(Some(Box::new(release)))))
    }

    fn take(&self) -> Option<Release> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Wraps every gRPC response body in a [`Delivered`].
#[derive(Clone, Copy, Default)]
pub struct DeliveryLayer;

impl<S> tower::Layer<S> for DeliveryLayer {
    type Service = Delivery<S>;

    fn layer(&self, inner: S) -> Delivery<S> {
        Delivery { inner }
    }
}

#[derive(Clone)]
pub struct Delivery<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Delivery<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Delivered<R>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move {
            let (mut parts, body) = response.await?.into_parts();
            let release = parts.extensions.remove::<Undelivered>().and_then(|u| u.take());
            Ok(http::Response::from_parts(parts, Delivered { body, release }))
        })
    }
}

/// A response body that releases its claim unless it reaches its end.
pub struct Delivered<B> {
    body: B,
    release: Option<Release>,
}

/// An empty body without a claim (the guard's refusals build one).
impl<B: Default> Default for Delivered<B> {
    fn default() -> Self {
        Delivered {
            body: B::default(),
            release: None,
        }
    }
}

impl<B: Body + Unpin> Body for Delivered<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        let delivered = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(frame))) => frame.is_trailers(),
            _ => false,
        };
        if delivered {
            this.release = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for Delivered<B> {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::*;

    fn body(released: &Arc<AtomicUsize>) -> Delivered<Full<Bytes>> {
        let released = released.clone();
        let undelivered = Undelivered::new(move || {
            released.fetch_add(1, Ordering::SeqCst);
        });
        Delivered {
            body: Full::new(Bytes::from_static(b"message")),
            release: undelivered.take(),
        }
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_keeps_its_claim() {
        let released = Arc::default();
        let mut delivered = body(&released);
        while delivered.frame().await.is_some() {}
        drop(delivered);
        assert_eq!(released.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_releases_once() {
        let released = Arc::default();
        drop(body(&released));
        assert_eq!(released.load(Ordering::SeqCst), 1, "never polled");
        let mut delivered = body(&released);
        assert!(delivered.frame().await.unwrap().unwrap().is_data());
        drop(delivered);
        assert_eq!(
            released.load(Ordering::SeqCst),
            2,
            "dropped after the message, before the end"
        );
    }

    #[test]
    fn an_undelivered_claim_is_taken_once_whatever_its_clones() {
        let undelivered = Undelivered::new(|| {});
        let clone = undelivered.clone();
        assert!(clone.take().is_some());
        assert!(undelivered.take().is_none());
    }
}
