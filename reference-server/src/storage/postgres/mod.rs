//! The PostgreSQL backend: a pool of connections, one database
//! transaction per storage transaction, embedded migrations, runtime
//! queries. Any number of server replicas can share one database: claims
//! and the scheduler's due rows use `SELECT … FOR UPDATE SKIP LOCKED`
//! (`backend`), so no item is handed out twice and nothing fires twice.
//! A commit returns once PostgreSQL has made it durable
//! (`synchronous_commit` as configured on the server, `on` by default).

mod backend;
mod listener;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};
use uuid::Uuid;

use super::queries::ready_probe;
use super::sql::Pollable;
use super::{Error, Result, Storage, Tx, Waiters, Work};

/// Connections per replica: enough for the concurrent requests of a busy
/// server on a small machine.
const MAX_CONNECTIONS: u32 = 16;

/// PostgreSQL storage.
#[derive(Clone)]
pub struct PgStorage {
    pool: PgPool,
    /// The channel this database's pollable work is announced on.
    channel: Arc<str>,
    waiters: Arc<Waiters>,
    /// The listener task, stopped with the last clone.
    _listener: Arc<AbortOnDrop>,
}

/// How often a held poll looks again without a notification.
const RECHECK: Duration = Duration::from_secs(2);

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PgStorage {
    /// Connects to `url` (`postgres://user:password@host:port/database`)
    /// and migrates the database. Replicas starting together migrate once
    /// (sqlx takes an advisory lock).
    pub async fn connect(url: &str) -> Result<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| Error::Database(format!("database URL {}: {e}", redact(url))))?;
        probe(&options, url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| Error::Database(format!("cannot connect to {}: {e}", redact(url))))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()::TEXT")
            .fetch_one(&pool)
            .await?;
        let channel = listener::channel(&schema);
        let waiters = Arc::<Waiters>::default();
        let listener = listener::start(pool.clone(), channel.clone(), waiters.clone())
            .await
            .map_err(|e| Error::Database(format!("cannot listen for work notifications: {e}")))?;
        Ok(PgStorage {
            pool,
            channel: channel.into(),
            waiters,
            _listener: Arc::new(AbortOnDrop(listener)),
        })
    }
}

/// Creates `schema` (if missing) in the database at `url` and returns a URL
/// whose connections work inside it: one database can hold the state of
/// several independent servers.
pub async fn create_schema(url: &str, schema: &str) -> Result<String> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Database(format!(
            "schema name {schema:?}: use lowercase letters, digits and '_'"
        )));
    }
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| Error::Database(format!("cannot connect to {}: {e}", redact(url))))?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut conn)
        .await?;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}options[search_path]={schema}"))
}

/// How long the first connection may take before start-up gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One direct connection before the pool: the pool only reports that it
/// timed out, a connection says why it failed (refused, authentication,
/// missing database), within [`CONNECT_TIMEOUT`].
async fn probe(options: &PgConnectOptions, url: &str) -> Result<()> {
    let at = format!("{}:{}", options.get_host(), options.get_port());
    let failed = |cause: String| Error::Database(format!("cannot connect to {}: {cause}", redact(url)));
    let connection = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options))
        .await
        .map_err(|_| failed(format!("no answer from {at} within {} s", CONNECT_TIMEOUT.as_secs())))?;
    match connection {
        Ok(connection) => {
            let _ = connection.close().await;
            Ok(())
        }
        Err(sqlx::Error::Io(e)) => Err(failed(format!("{at}: {e}"))),
        Err(sqlx::Error::Database(e)) => {
            let cause = match e.code().as_deref() {
                Some("28P01" | "28000") => format!("authentication failed for user {:?}", options.get_username()),
                Some("3D000") => format!(
                    "database {:?} does not exist",
                    options.get_database().unwrap_or_default()
                ),
                _ => e.to_string(),
            };
            Err(failed(format!("{cause} ({e})")))
        }
        Err(e) => Err(failed(e.to_string())),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[async_trait]
impl Storage for PgStorage {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
            writing: true,
            channel: self.channel.clone(),
            pollable: Pollable::new(),
        }))
    }

    /// Another replica may have committed work a moment ago: no local
    /// cache, one indexed read.
    async fn has_ready(&self, work: Work, org_id: Uuid, queue: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(ready_probe(work))
            .bind(org_id.to_string())
            .bind(queue)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }

    fn recheck_interval(&self) -> Option<Duration> {
        Some(RECHECK)
    }

    async fn read(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
            writing: false,
            channel: self.channel.clone(),
            pollable: Pollable::new(),
        }))
    }
}

/// A database transaction; dropped without commit, it rolls back.
pub(super) struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// Rows read for a change are locked (`FOR UPDATE`); reads lock nothing.
    writing: bool,
    /// Announced on `channel` at commit (`backend`).
    channel: Arc<str>,
    pollable: Pollable,
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://flovyn:s3cret@db:5432/flovyn"),
            "postgres://flovyn:***@db:5432/flovyn"
        );
        assert_eq!(redact("postgres://db/flovyn"), "postgres://db/flovyn");
    }
}
