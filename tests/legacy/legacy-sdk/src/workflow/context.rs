//! What workflow code sees: [`WorkflowContext`] and the [`Step`] futures
//! its operations return. A step is decided when it is created (from the
//! history, or as a new command); awaiting it either yields at once or
//! suspends the workflow task for good. Workflow code must only await
//! steps (and combinations of steps), never real I/O or real time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::replay::{Outcome, Replay};
use crate::{Error, Result};

/// A step of a workflow: done, or waiting (then awaiting it suspends the
/// workflow task).
#[must_use = "a step does nothing unless awaited or combined"]
pub struct Step<T> {
    outcome: Option<(i32, Result<T>)>,
}

impl<T> Step<T> {
    fn from_outcome(outcome: Outcome) -> Step<Value> {
        Step { outcome }
    }

    /// Is the step done?
    pub fn is_done(&self) -> bool {
        self.outcome.is_some()
    }
}

impl Step<Value> {
    fn typed<T: DeserializeOwned>(self) -> Step<T> {
        Step {
            outcome: self
                .outcome
                .map(|(seq, r)| (seq, r.and_then(|v| serde_json::from_value(v).map_err(Error::from)))),
        }
    }
}

impl<T: Unpin> Future for Step<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<T>> {
        match self.outcome.take() {
            Some((_, result)) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

/// All steps' results, in order; done when every step is done. The first
/// failure (in history order) wins.
pub fn join_all<T>(steps: Vec<Step<T>>) -> Step<Vec<T>> {
    let mut results = Vec::with_capacity(steps.len());
    let mut last = 0;
    let mut failure: Option<(i32, Error)> = None;
    for step in steps {
        match step.outcome {
            None => return Step { outcome: None },
            Some((seq, Ok(v))) => {
                last = last.max(seq);
                results.push(v);
            }
            Some((seq, Err(e))) => {
                if failure.as_ref().is_none_or(|(s, _)| seq < *s) {
                    failure = Some((seq, e));
                }
            }
        }
    }
    Step {
        outcome: Some(match failure {
            Some((seq, e)) => (seq, Err(e)),
            None => (last, Ok(results)),
        }),
    }
}

/// The first step to finish (by history order) and its index; done as soon
/// as any step is done.
pub fn select<T>(steps: Vec<Step<T>>) -> Step<(usize, T)> {
    let first = steps
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| s.outcome.map(|(seq, r)| (seq, i, r)))
        .min_by_key(|(seq, i, _)| (*seq, *i));
    Step {
        outcome: first.map(|(seq, i, r)| (seq, r.map(|v| (i, v)))),
    }
}

/// The workflow's view of its execution. Cheap to clone.
#[derive(Clone)]
pub struct WorkflowContext {
    pub(crate) replay: Arc<Mutex<Replay>>,
    execution_id: Uuid,
    org_id: Uuid,
}

impl WorkflowContext {
    pub(crate) fn new(replay: Replay, execution_id: Uuid, org_id: Uuid) -> Self {
        WorkflowContext {
            replay: Arc::new(Mutex::new(replay)),
            execution_id,
            org_id,
        }
    }

    fn replay(&self) -> std::sync::MutexGuard<'_, Replay> {
        self.replay.lock().expect("replay state is never poisoned")
    }

    pub fn execution_id(&self) -> Uuid {
        self.execution_id
    }

    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    /// The deterministic clock of this workflow task (epoch ms).
    pub fn current_time_millis(&self) -> i64 {
        self.replay().time_ms
    }

    /// A deterministic UUID: the same on every replay.
    pub fn random_uuid(&self) -> Uuid {
        self.replay().random_uuid()
    }

    /// A deterministic number in [0, 1).
    pub fn random(&self) -> f64 {
        self.replay().random()
    }

    /// Runs `f` once and records its result; replays return the record.
    pub async fn run<T, F>(&self, name: &str, f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        let recorded = self.replay().operation(name);
        match recorded {
            Some(result) => Ok(serde_json::from_value(result?)?),
            None => {
                let value = f();
                let json = serde_json::to_value(&value)?;
                self.replay().record_operation(name, &json);
                Ok(value)
            }
        }
    }

    /// Schedules a task of `kind`; the step yields its output.
    pub fn schedule_task<I: Serialize, O: DeserializeOwned>(&self, kind: &str, input: &I) -> Step<O> {
        self.schedule_task_with_retries(kind, input, None)
    }

    /// [`Self::schedule_task`] with an explicit retry budget.
    pub fn schedule_task_with_retries<I: Serialize, O: DeserializeOwned>(
        &self,
        kind: &str,
        input: &I,
        max_retries: Option<i32>,
    ) -> Step<O> {
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let outcome = self.replay().schedule_task(kind, input, max_retries);
        Step::<Value>::from_outcome(outcome).typed()
    }

    /// A durable timer.
    pub fn sleep(&self, duration: Duration) -> Step<()> {
        let outcome = self.replay().start_timer(duration.as_millis() as i64);
        Step::<Value>::from_outcome(outcome.map(|(seq, r)| (seq, r.map(|_| Value::Null)))).typed()
    }

    /// A durable promise, resolved from outside by its name.
    pub fn promise<T: DeserializeOwned>(&self, name: &str) -> Step<T> {
        let outcome = self.replay().promise(name);
        Step::<Value>::from_outcome(outcome).typed()
    }

    /// Starts a child workflow named `name`; the step yields its output.
    pub fn schedule_workflow<I: Serialize, O: DeserializeOwned>(&self, name: &str, kind: &str, input: &I) -> Step<O> {
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let outcome = self.replay().child(name, kind, input);
        Step::<Value>::from_outcome(outcome).typed()
    }

    /// The workflow's state value of `key`, if set.
    pub fn get_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.replay().state.get(key) {
            Some(v) => Ok(Some(serde_json::from_value(v.clone())?)),
            None => Ok(None),
        }
    }

    pub fn set_state<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let value = serde_json::to_value(value)?;
        self.replay().change_state(key, Some(value))
    }

    pub fn clear_state(&self, key: &str) -> Result<()> {
        self.replay().change_state(key, None)
    }
}
