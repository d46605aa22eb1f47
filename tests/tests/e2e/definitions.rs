//! Workflows and tasks used by the end-to-end tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reference_sdk::{join_all, Error, Result, TaskContext, TaskDefinition, WorkflowContext, WorkflowDefinition};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Serialize, Deserialize)]
pub struct Name {
    pub name: String,
}

/// One recorded step.
pub struct Hello;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Hello {
    type Input = Name;
    type Output = Value;

    fn kind(&self) -> &str {
        "hello"
    }

    async fn execute(&self, ctx: WorkflowContext, input: Name) -> Result<Value> {
        let greeting = ctx.run("greet", || format!("Hello, {}!", input.name)).await?;
        Ok(json!({ "greeting": greeting, "timestamp": ctx.current_time_millis() }))
    }
}

/// Schedules `n` tasks `double` in parallel and sums them.
pub struct FanOut;

#[reference_sdk::async_trait]
impl WorkflowDefinition for FanOut {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "fan-out"
    }

    async fn execute(&self, ctx: WorkflowContext, n: u64) -> Result<u64> {
        let steps = (1..=n).map(|i| ctx.schedule_task::<_, u64>("double", &i)).collect();
        Ok(join_all(steps).await?.into_iter().sum())
    }
}

/// Runs one task that always fails; the workflow reports the error.
pub struct Doomed;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Doomed {
    type Input = Value;
    type Output = String;

    fn kind(&self) -> &str {
        "doomed"
    }

    async fn execute(&self, ctx: WorkflowContext, _input: Value) -> Result<String> {
        match ctx
            .schedule_task_with_retries::<_, Value>("always-fails", &json!({}), Some(2))
            .await
        {
            Ok(_) => Ok("unexpected success".into()),
            Err(err) => Ok(format!("caught: {err}")),
        }
    }
}

/// Sleeps, then returns.
pub struct Sleeper;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Sleeper {
    type Input = u64;
    type Output = &'static str;

    fn kind(&self) -> &str {
        "sleeper"
    }

    async fn execute(&self, ctx: WorkflowContext, millis: u64) -> Result<&'static str> {
        ctx.sleep(Duration::from_millis(millis)).await?;
        Ok("woke up")
    }
}

/// Waits for the promise `approval`.
pub struct Approval;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Approval {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "approval"
    }

    async fn execute(&self, ctx: WorkflowContext, _input: Value) -> Result<Value> {
        let decision: Value = ctx.promise("approval").await?;
        Ok(json!({ "decision": decision }))
    }
}

/// Runs a child `hello` and returns its output.
pub struct Parent;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Parent {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "parent"
    }

    async fn execute(&self, ctx: WorkflowContext, _input: Value) -> Result<Value> {
        let child: Value = ctx
            .schedule_workflow("child-1", "hello", &Name { name: "child".into() })
            .await?;
        Ok(json!({ "child": child }))
    }
}

/// `double`: returns twice its input, counting executions.
pub struct Double(pub Arc<AtomicUsize>);

#[reference_sdk::async_trait]
impl TaskDefinition for Double {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "double"
    }

    async fn execute(&self, _ctx: TaskContext, n: u64) -> Result<u64> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(n * 2)
    }
}

/// `always-fails`: fails every attempt.
pub struct AlwaysFails;

#[reference_sdk::async_trait]
impl TaskDefinition for AlwaysFails {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "always-fails"
    }

    async fn execute(&self, ctx: TaskContext, _input: Value) -> Result<Value> {
        Err(Error::Failed(format!(
            "Intentional failure (attempt {})",
            ctx.attempt()
        )))
    }
}

/// `declines`: fails every attempt with an error no retry can fix, and
/// counts its attempts.
pub struct Declines(pub Arc<AtomicUsize>);

#[reference_sdk::async_trait]
impl TaskDefinition for Declines {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "declines"
    }

    async fn execute(&self, ctx: TaskContext, _input: Value) -> Result<Value> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(Error::Fatal(format!("card declined (attempt {})", ctx.attempt())))
    }
}

/// Schedules `declines` with two retries and reports how it ended.
pub struct Checkout;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Checkout {
    type Input = Value;
    type Output = String;

    fn kind(&self) -> &str {
        "checkout"
    }

    async fn execute(&self, ctx: WorkflowContext, _input: Value) -> Result<String> {
        match ctx
            .schedule_task_with_retries::<_, Value>("declines", &json!({}), Some(2))
            .await
        {
            Ok(_) => Ok("unexpected success".into()),
            Err(err) => Ok(format!("caught: {err}")),
        }
    }
}

/// Schedules one task of the given kind and returns its output (the kind
/// comes from the input, so two versions of the code can disagree).
pub struct OneTask;

#[reference_sdk::async_trait]
impl WorkflowDefinition for OneTask {
    type Input = String;
    type Output = Value;

    fn kind(&self) -> &str {
        "one-task"
    }

    async fn execute(&self, ctx: WorkflowContext, kind: String) -> Result<Value> {
        ctx.schedule_task(&kind, &json!({})).await
    }
}

/// Version 2 of `one-task`: schedules `renamed` whatever the input says,
/// which no longer matches histories recorded by version 1.
pub struct OneTaskV2;

#[reference_sdk::async_trait]
impl WorkflowDefinition for OneTaskV2 {
    type Input = String;
    type Output = Value;

    fn kind(&self) -> &str {
        "one-task"
    }

    async fn execute(&self, ctx: WorkflowContext, _kind: String) -> Result<Value> {
        ctx.schedule_task("renamed", &json!({})).await
    }
}

/// A task that takes `millis` and counts executions and completions.
pub struct Slow {
    pub kind: &'static str,
    pub started: Arc<AtomicUsize>,
    pub finished: Arc<AtomicUsize>,
}

#[reference_sdk::async_trait]
impl TaskDefinition for Slow {
    type Input = Value;
    type Output = &'static str;

    fn kind(&self) -> &str {
        self.kind
    }

    async fn execute(&self, _ctx: TaskContext, input: Value) -> Result<&'static str> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let millis = input.as_u64().unwrap_or(300);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok("slow done")
    }
}

/// A task whose definition allows 100 ms and that takes a second.
pub struct TooSlow;

#[reference_sdk::async_trait]
impl TaskDefinition for TooSlow {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "too-slow"
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_millis(100))
    }

    async fn execute(&self, _ctx: TaskContext, _input: Value) -> Result<Value> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(Value::Null)
    }
}
