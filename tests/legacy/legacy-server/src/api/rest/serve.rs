//! The HTTP server loop with the limits a public listener needs, which
//! `axum::serve` does not set: a deadline for reading a request's headers
//! (which, between the requests of a kept-alive connection, is also the
//! idle limit), a deadline for its body ([`super::limits`]), and a
//! graceful shutdown that stops accepting and lets requests in flight end.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// HTTP/2: an idle connection is pinged this often and closed when a ping
/// goes unanswered for as long.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// Serves `app` on `listener` until `stop` is cancelled, then waits for the
/// connections to finish their requests. `header_timeout`: how long a
/// client may take to send a request's headers, and how long a kept-alive
/// connection may stay idle between requests.
pub async fn serve(listener: TcpListener, app: Router, stop: CancellationToken, header_timeout: Duration) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %err, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let (builder, app, watcher) = (builder.clone(), app.clone(), graceful.watcher());
        tokio::spawn(async move {
            // Telling HTTP/1 from HTTP/2 waits for the first bytes, before
            // any HTTP/1 deadline runs: a connection that sends nothing is
            // dropped after the header deadline here.
            let mut first = [0u8; 1];
            match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let service = TowerToHyperService::new(app);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let _ = watcher.watch(connection.into_owned()).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
