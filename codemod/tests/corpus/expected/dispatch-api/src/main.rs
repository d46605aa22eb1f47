//! `dispatchd`: the job-dispatch server (REST only; the gRPC service is
//! mounted by the edge gateway, which links `dispatch-api` as a library).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dispatch_api::{app, AppState};
use dispatch_core::alerts::{BacklogAlerts, EmailNotifier};
use dispatch_core::metrics::QueueGauge;
use dispatch_core::sweeper::LeaseSweeper;
use dispatch_core::{DispatchService, Dispatcher, InMemoryStore, ReloadBroadcaster};
use tokio::sync::Notify;
use tracing::{info, warn};

const SWEEP_EVERY: Duration = Duration::from_secs(5);

fn listen_addr() -> SocketAddr {
    std::env::var("DISPATCH_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let store = Arc::new(InMemoryStore::new());
    let gauge = Arc::new(QueueGauge::default());
    let reloads = Arc::new(ReloadBroadcaster::new());
    let shutdown = Arc::new(Notify::new());

    let service = Arc::new(
        DispatchService::builder(store.clone())
            .max_attempts(5)
            .with_gauge(gauge.clone())
            .build(),
    );
    let dispatcher = Arc::new(Dispatcher::new(store.clone()));
    let alerts = Arc::new(BacklogAlerts {
        notifier: EmailNotifier::new(vec!["oncall@example.com".to_owned()]),
        threshold: 10_000,
    });

    let sweeper = LeaseSweeper::new(store.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let requeued = sweeper.sweep(Instant::now());
                    if !requeued.is_empty() {
                        info!(count = requeued.len(), "requeued expired leases");
                    }
                }
                _ = stop.notified() => break,
            }
        }
    });

    let mut reload_rx = reloads.subscribe();
    tokio::spawn(async move {
        while let Ok(reload) = reload_rx.recv().await {
            info!(generation = reload.generation, "configuration reloaded");
        }
    });

    let on_ctrl_c = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            warn!("ctrl-c received, shutting down");
            on_ctrl_c.notify_waiters();
        }
    });

    let state = AppState {
        service,
        store,
        dispatcher,
        reloads,
        alerts,
        gauge,
        shutdown: shutdown.clone(),
        started_at: Instant::now(),
    };
    let addr = listen_addr();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(%addr, "listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move { shutdown.notified().await })
        .await
}
