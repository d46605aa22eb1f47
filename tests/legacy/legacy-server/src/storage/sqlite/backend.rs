//! How the shared statements (`storage::queries`) run on SQLite: on the
//! writer, a transaction's first statement carries its savepoint
//! statements in front (`SqliteTx::sql`); rows are never locked, because
//! SQLite has one writer at a time.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::group_commit::SqliteTx;
use crate::storage::sql::{arguments, Backend, Pollable, Row, Stmt};
use crate::storage::Result;

#[async_trait]
impl Backend for SqliteTx {
    fn row_lock(&self) -> &'static str {
        ""
    }

    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn pollable(&mut self) -> &mut Pollable {
        &mut self.pollable
    }

    async fn execute(&mut self, Stmt { sql, args }: Stmt) -> Result<()> {
        let sql = self.sql(&sql);
        sqlx::query_with(&sql, arguments::<Sqlite>(args)?)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn fetch_optional<R: Row>(&mut self, Stmt { sql, args }: Stmt) -> Result<Option<R>> {
        let sql = self.sql(&sql);
        Ok(sqlx::query_as_with(&sql, arguments::<Sqlite>(args)?)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn fetch_all<R: Row>(&mut self, Stmt { sql, args }: Stmt) -> Result<Vec<R>> {
        let sql = self.sql(&sql);
        Ok(sqlx::query_as_with(&sql, arguments::<Sqlite>(args)?)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.finish(false).await
    }

    async fn commit_claim(self: Box<Self>) -> Result<()> {
        self.finish(true).await
    }
}
