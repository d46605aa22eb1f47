//! Patterns: one workflow that runs a task, sleeps on a durable timer,
//! waits for a promise resolved from outside, runs a child workflow, and
//! fans out three tasks in parallel. The example resolves the promise
//! itself once the workflow has created it.
//!
//! ```sh
//! FLOVYN_WORKER_TOKEN=<token> cargo run -p reference-sdk --example patterns
//! ```

use std::time::Duration;

use reference_sdk::{join_all, FlovynClient, Result, TaskContext, TaskDefinition, WorkflowContext, WorkflowDefinition};
use serde_json::{json, Value};

struct Demo;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Demo {
    type Input = Value;
    type Output = Value;

    fn kind(&self) -> &str {
        "patterns-demo"
    }

    async fn execute(&self, ctx: WorkflowContext, _input: Value) -> Result<Value> {
        let fetched: u64 = ctx.schedule_task("add-one", &41u64).await?;
        ctx.sleep(Duration::from_millis(200)).await?;
        let approval: String = ctx.promise("approval").await?;
        let child: u64 = ctx.schedule_workflow("double-it", "doubler", &fetched).await?;
        let parallel = (1..=3u64).map(|i| ctx.schedule_task::<_, u64>("add-one", &i)).collect();
        let fanned: Vec<u64> = join_all(parallel).await?;
        Ok(json!({ "task": fetched, "approval": approval, "child": child, "parallel": fanned }))
    }
}

struct Doubler;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Doubler {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "doubler"
    }

    async fn execute(&self, _ctx: WorkflowContext, n: u64) -> Result<u64> {
        Ok(n * 2)
    }
}

struct AddOne;

#[reference_sdk::async_trait]
impl TaskDefinition for AddOne {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "add-one"
    }

    async fn execute(&self, ctx: TaskContext, n: u64) -> Result<u64> {
        ctx.report_progress(1.0, "added");
        Ok(n + 1)
    }
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("FLOVYN_WORKER_TOKEN")
        .map_err(|_| "set FLOVYN_WORKER_TOKEN (the reference server prints one at start)")?;
    let url = std::env::var("FLOVYN_GRPC_SERVER_URL").unwrap_or_else(|_| "http://localhost:9090".into());
    let mut builder = FlovynClient::builder()
        .server_url(url)
        .worker_token(token)
        .queue(std::env::var("FLOVYN_QUEUE").unwrap_or_else(|_| "default".into()))
        .register_workflow(Demo)
        .register_workflow(Doubler)
        .register_task(AddOne);
    if let Ok(org) = std::env::var("FLOVYN_ORG_ID") {
        builder = builder.org_id(org.parse()?);
    }
    let worker = builder.start().await?;
    let client = worker.client();
    let id = client.start_workflow("patterns-demo", &json!({})).await?;
    // Resolve the promise once the workflow has created it.
    loop {
        if client
            .events(id)
            .await?
            .iter()
            .any(|e| e.event_type == "PROMISE_CREATED")
        {
            client
                .resolve_promise(id, "approval", &"approved by the example")
                .await?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let result: Value = client.wait_for_result(id, Duration::from_secs(30)).await?;
    println!("{result}");
    worker.stop().await;
    Ok(())
}
