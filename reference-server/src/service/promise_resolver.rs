//! Durable promises resolved from outside (ResolvePromise / RejectPromise,
//! REST) or from workflow code (RESOLVE_PROMISE), and timed out by the
//! scheduler: the outcome is appended to the owning workflow, which wakes.
//!
//! A promise is named by its server id (a UUID, from `PROMISE_CREATED`), or
//! by `<execution id>:<name>` / `<execution id>/<name>` as SDKs from before
//! the protocol change send it (the oldest pending promise of that name).

use serde_json::{json, Value};
use uuid::Uuid;

use super::events;
use super::{wakeup, Error, Result, Services};
use crate::storage::{Promise, PromiseStatus, Tx};

/// How a promise ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Resolved(Value),
    Rejected(String),
    TimedOut,
}

impl Services {
    pub async fn resolve_promise(&self, org_id: Uuid, promise_id: &str, value: Value) -> Result<()> {
        self.settle_promise(org_id, promise_id, Outcome::Resolved(value)).await
    }

    pub async fn reject_promise(&self, org_id: Uuid, promise_id: &str, error: String) -> Result<()> {
        self.settle_promise(org_id, promise_id, Outcome::Rejected(error)).await
    }

    async fn settle_promise(&self, org_id: Uuid, promise_id: &str, outcome: Outcome) -> Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let promise = find(&mut *tx, org_id, promise_id).await?;
        settle(&mut *tx, &promise, outcome, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Times out due promises (at most `limit`); returns how many.
    pub async fn time_out_promises(&self, limit: i64) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let due = tx.due_promise_timeouts(now, limit).await?;
        for promise in &due {
            settle(&mut *tx, promise, Outcome::TimedOut, now).await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }
}

/// The promise a client names.
pub(crate) async fn find(tx: &mut dyn Tx, org_id: Uuid, promise_id: &str) -> Result<Promise> {
    if promise_id.is_empty() {
        return Err(Error::InvalidArgument("promise_id is required".into()));
    }
    let found = match Uuid::parse_str(promise_id) {
        Ok(id) => tx.promise(id).await?,
        Err(_) => {
            let (execution, name) = promise_id
                .split_once(':')
                .or_else(|| promise_id.split_once('/'))
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "promise_id {promise_id:?} is neither a UUID nor <execution id>:<name>"
                    ))
                })?;
            let execution = Uuid::parse_str(execution).map_err(|_| {
                Error::InvalidArgument(format!("promise_id {promise_id:?}: {execution:?} is not a UUID"))
            })?;
            tx.pending_promise_named(execution, name).await?
        }
    };
    match found {
        Some(p) if p.org_id == org_id => Ok(p),
        _ => Err(Error::NotFound(format!("promise {promise_id} not found"))),
    }
}

/// Ends a pending promise and wakes its workflow.
pub(crate) async fn settle(tx: &mut dyn Tx, promise: &Promise, outcome: Outcome, now: i64) -> Result<()> {
    if promise.status != PromiseStatus::Pending {
        return Err(Error::FailedPrecondition(format!(
            "promise {} is already {}",
            promise.id,
            promise.status.as_str().to_ascii_lowercase()
        )));
    }
    let id = promise.id.to_string();
    let (status, event, data) = match outcome {
        Outcome::Resolved(value) => (
            PromiseStatus::Resolved,
            events::PROMISE_RESOLVED,
            json!({ "promiseId": id, "promiseName": promise.name, "value": value }),
        ),
        Outcome::Rejected(error) => (
            PromiseStatus::Rejected,
            events::PROMISE_REJECTED,
            json!({ "promiseId": id, "promiseName": promise.name, "error": error }),
        ),
        Outcome::TimedOut => (
            PromiseStatus::TimedOut,
            events::PROMISE_TIMEOUT,
            json!({ "promiseId": id, "promiseName": promise.name }),
        ),
    };
    tx.set_promise_status(promise.id, status).await?;
    wakeup::wake(tx, promise.execution_id, event, &data, now).await?;
    Ok(())
}
