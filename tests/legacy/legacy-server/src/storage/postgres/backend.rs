//! How the shared statements (`storage::queries`) run on PostgreSQL, and
//! what makes them safe with several replicas on one database:
//!
//! - a claim picks its row with `FOR UPDATE SKIP LOCKED` inside the
//!   `UPDATE`: two pollers, on one replica or two, never get the same item;
//! - the scheduler's due rows (timers, promise timeouts, expired tasks,
//!   schedules) are locked the same way, so that two replicas' schedulers
//!   split them and none fires twice;
//! - a single row read in a write transaction is locked (`FOR UPDATE`)
//!   until commit, which serialises concurrent changes of one workflow,
//!   task, promise or schedule.

use async_trait::async_trait;
use sqlx::Postgres;

use super::{listener, PgTx};
use crate::storage::sql::{arguments, Backend, Pollable, Row, Stmt};
use crate::storage::Result;

#[async_trait]
impl Backend for PgTx {
    fn row_lock(&self) -> &'static str {
        if self.writing {
            " FOR UPDATE"
        } else {
            ""
        }
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn pollable(&mut self) -> &mut Pollable {
        &mut self.pollable
    }

    async fn execute(&mut self, Stmt { sql, args }: Stmt) -> Result<()> {
        sqlx::query_with(&sql, arguments::<Postgres>(args)?)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn fetch_optional<R: Row>(&mut self, Stmt { sql, args }: Stmt) -> Result<Option<R>> {
        Ok(sqlx::query_as_with(&sql, arguments::<Postgres>(args)?)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn fetch_all<R: Row>(&mut self, Stmt { sql, args }: Stmt) -> Result<Vec<R>> {
        Ok(sqlx::query_as_with(&sql, arguments::<Postgres>(args)?)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Announces the pollable queues in the transaction itself: the
    /// notifications go out with the commit, or not at all.
    async fn commit(mut self: Box<Self>) -> Result<()> {
        for (queue, rows) in std::mem::take(&mut self.pollable) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&*self.channel)
                .bind(listener::payload(&queue, rows))
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// A claim's commit does not wait for its WAL flush; what it read was
    /// flushed before it became visible (synchronous commits only).
    async fn commit_claim(mut self: Box<Self>) -> Result<()> {
        if self.pollable.is_empty() {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *self.tx)
                .await?;
        }
        Backend::commit(self).await
    }
}
