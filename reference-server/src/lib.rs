//! The Flovyn reference server: the migration's end state. Workers find
//! work only by polling (`PollWorkflow`, `PollTask` claim the next ready
//! item of their org and queue, or hold the poll until a commit makes one
//! ready, waking one poll per item); there is no notifier, no broadcast and
//! no push channel. `SubscribeToNotifications` stays
//! registered as a stub for SDKs from before the migration.
//!
//! Layout: [`config`] → [`storage`] (SQLite) → [`service`] (domain logic,
//! no wire types) → [`api`] (gRPC and REST adapters); [`scheduler`] fires
//! timers and reclaims expired leases. [`start`] runs it all;
//! [`start_with_clock`] on a clock of the caller's (tests use a manual one).

pub mod api;
pub mod auth;
pub mod config;
pub mod log_text;
pub mod permissions;
pub mod scheduler;
pub mod service;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::service::clock::Clock;
use crate::service::{Services, Settings};
use crate::storage::postgres::PgStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{Org, Storage};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("storage: {0}")]
    Storage(#[from] storage::Error),
    /// A start-up step of the services (its storage failures read as the
    /// variant above does).
    #[error(transparent)]
    Service(#[from] service::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot create data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
}

/// A running server.
pub struct RunningServer {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    /// How long in-flight requests may take once shutdown began.
    grace: Duration,
    services: Services,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, stops the scheduler.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.wait().await;
    }

    /// Runs one scheduler pass now, as the background loop does when
    /// something is due: after advancing a manual clock, a test calls this
    /// to see at once what became due.
    pub async fn tick(&self) -> service::Result<()> {
        scheduler::pass(&self.services).await
    }

    /// Polls held now, waiting for work: each looked and found nothing (a
    /// poll still looking is not counted, though it is already in line).
    pub fn held_polls(&self) -> usize {
        self.services.storage.waiters().parked()
    }

    /// Held polls woken since start: one per row made pollable while polls
    /// waited on its queue (never all of a queue's polls at once).
    pub fn polls_woken(&self) -> u64 {
        self.services.storage.waiters().woken_total()
    }

    /// The token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server stops (after the token is cancelled). Once
    /// shutdown began, connections still open after the grace period (an
    /// idle client can hold hyper's graceful shutdown indefinitely) are
    /// closed: their requests were not answered, so nothing they sent was
    /// acknowledged.
    pub async fn wait(mut self) {
        tokio::select! {
            _ = join_all(&mut self.tasks) => return,
            _ = self.shutdown.cancelled() => {}
        }
        if tokio::time::timeout(self.grace, join_all(&mut self.tasks))
            .await
            .is_err()
        {
            tracing::warn!(
                grace_ms = self.grace.as_millis() as u64,
                "connections still open after the grace period; closing them"
            );
            self.tasks.abort_all();
            join_all(&mut self.tasks).await;
        }
    }
}

async fn join_all(tasks: &mut JoinSet<()>) {
    while tasks.join_next().await.is_some() {}
}

/// Opens the database, binds both listeners and starts serving.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    start_with_clock(config, Clock::system()).await
}

/// [`start`], reading the time from `clock`.
pub async fn start_with_clock(config: Config, clock: Clock) -> Result<RunningServer, StartError> {
    config.validate()?;
    let data_dir = &config.server.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let storage: Arc<dyn Storage> = match config.database.backend(data_dir)? {
        config::Backend::Postgres(url) => Arc::new(PgStorage::connect(&url).await?),
        config::Backend::Sqlite(path) => Arc::new(SqliteStorage::open(&path).await?),
    };
    let settings = Settings {
        workflow_lease: Duration::from_secs(config.server.workflow_lease_seconds),
        task_lease: Duration::from_secs(config.server.task_lease_seconds),
        max_poll_wait: Duration::from_secs(config.server.max_poll_wait_seconds),
        ..Settings::default()
    };
    let shutdown = CancellationToken::new();
    let services = Services::new(storage, settings)
        .with_clock(clock)
        .with_shutdown(shutdown.clone());
    let orgs: Vec<Org> = config
        .orgs
        .iter()
        .map(|org| Org {
            id: org.id,
            name: org.name.clone(),
            slug: org.slug.clone(),
        })
        .collect();
    services.register_orgs(&orgs).await?;
    let auth = auth::Authenticator::new(&config);

    let bind = |port: u16| SocketAddr::new(config.server.bind_address, port);
    let grpc_listener = listen(bind(config.server.grpc_port)).await?;
    let http_listener = listen(bind(config.server.http_port)).await?;
    let grpc_addr = grpc_listener.local_addr().map_err(|source| StartError::Bind {
        addr: bind(config.server.grpc_port),
        source,
    })?;
    let http_addr = http_listener.local_addr().map_err(|source| StartError::Bind {
        addr: bind(config.server.http_port),
        source,
    })?;

    let mut tasks = JoinSet::new();
    let grpc_state = api::grpc::GrpcState {
        services: services.clone(),
        max_payload_bytes: config.server.max_payload_bytes,
    };
    let token = shutdown.clone();
    let grpc_auth = auth.clone();
    tasks.spawn(async move {
        let stop = token.clone();
        if let Err(err) = api::grpc::serve(
            grpc_state,
            grpc_auth,
            grpc_listener,
            async move { stop.cancelled().await },
        )
        .await
        {
            tracing::error!(error = %err, "gRPC server failed");
            token.cancel();
        }
    });
    let app_state = api::rest::AppState {
        services: services.clone(),
        auth,
        org_slugs: config
            .orgs
            .iter()
            .map(|o| (o.slug.clone(), o.id))
            .collect::<HashMap<_, _>>(),
        max_payload_bytes: config.server.max_payload_bytes,
        body_timeout: Duration::from_secs(config.server.http_body_timeout_seconds),
    };
    let app = api::rest::router(app_state);
    let header_timeout = Duration::from_secs(config.server.http_header_timeout_seconds);
    tasks.spawn(api::rest::serve::serve(
        http_listener,
        app,
        shutdown.clone(),
        header_timeout,
    ));
    tasks.spawn(scheduler::run(services.clone(), shutdown.clone()));

    Ok(RunningServer {
        http_addr,
        grpc_addr,
        shutdown,
        tasks,
        grace: Duration::from_secs(config.server.shutdown_grace_seconds),
        services,
    })
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}
