//! What the one SQL layer (`queries`) asks of a backend: run a statement
//! with its arguments in the backend's transaction, and name the two words
//! in which the dialects differ (row locks).
//!
//! Statements are written once, in the syntax both SQLite and PostgreSQL
//! accept: numbered placeholders (`$1`, which sqlx's SQLite driver binds
//! by number too), `CAST(… AS BIGINT)` rather than `::BIGINT`, and an alias
//! on every subquery in `FROM`. Writes that report what they changed use
//! `RETURNING` rather than a row count: on SQLite's writer a statement may
//! carry savepoint statements in front of it, whose counts would be read
//! instead.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, Database, Encode, FromRow, Type};
use uuid::Uuid;

use super::{Error, Result, Work};

/// One bound value. Ids and JSON travel as text, times and counts as
/// 64-bit integers, flags as 0/1: the column types of both schemas.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

/// A statement and its arguments, in placeholder order.
#[derive(Debug)]
pub struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>) -> Self {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }
}

/// The arguments of a statement in a backend's own representation.
pub fn arguments<'q, DB: Database>(args: Vec<Arg>) -> Result<DB::Arguments<'q>>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let mut out = DB::Arguments::default();
    for arg in args {
        match arg {
            Arg::Text(v) => out.add(v),
            Arg::Int(v) => out.add(v),
        }
        .map_err(|e| Error::Database(format!("cannot bind an argument: {e}")))?;
    }
    Ok(out)
}

/// A row type that both backends can decode.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

/// The queues a transaction made rows pollable in, with how many rows.
pub type Pollable = std::collections::BTreeMap<super::QueueKey, usize>;

/// A backend's transaction, as the SQL layer uses it. Every type that
/// implements it is a [`super::Tx`] (see `queries`).
#[async_trait]
pub trait Backend: Send + 'static {
    /// Appended to a single-row read that precedes a change of that row
    /// (`FOR UPDATE` where rows can be locked, in a write transaction).
    fn row_lock(&self) -> &'static str;
    /// Appended to the pick of a claim and to the scheduler's due rows:
    /// rows another transaction holds are skipped, not waited for.
    fn skip_locked(&self) -> &'static str;

    /// The queues this transaction made rows pollable in, so far; the
    /// backend wakes their held polls once the commit is durable.
    fn pollable(&mut self) -> &mut Pollable;

    /// The transaction made a row of (work, org, queue) pollable: once it
    /// is committed, one held poll of that queue is to be woken.
    fn mark_pollable(&mut self, work: Work, org_id: Uuid, queue: &str) {
        *self.pollable().entry((work, org_id, queue.to_string())).or_default() += 1;
    }

    async fn execute(&mut self, stmt: Stmt) -> Result<()>;
    async fn fetch_optional<R: Row>(&mut self, stmt: Stmt) -> Result<Option<R>>;
    async fn fetch_all<R: Row>(&mut self, stmt: Stmt) -> Result<Vec<R>>;
    async fn commit(self: Box<Self>) -> Result<()>;
    /// See [`super::Tx::commit_claim`]; by default a plain commit.
    async fn commit_claim(self: Box<Self>) -> Result<()> {
        self.commit().await
    }

    /// A row that must exist; its absence is [`Error::NotFound`].
    async fn fetch_one<R: Row>(&mut self, stmt: Stmt) -> Result<R> {
        self.fetch_optional(stmt).await?.ok_or(Error::NotFound)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::Text(v.map(|v| v.to_string()))
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(Some(v.into()))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Int(Some(v.into()))
    }
}
