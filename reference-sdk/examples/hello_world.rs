//! Hello world: a worker with one workflow (`greeting-workflow`, one
//! recorded step) that starts one execution, prints its result and stops.
//!
//! ```sh
//! cargo run --release -p reference-server            # prints a worker token
//! FLOVYN_WORKER_TOKEN=<token> cargo run -p reference-sdk --example hello_world
//! ```
//!
//! `FLOVYN_GRPC_SERVER_URL` (default `http://localhost:9090`),
//! `FLOVYN_ORG_ID` (default: the token's org) and `FLOVYN_QUEUE` (default
//! `default`) are read too.

use std::time::Duration;

use reference_sdk::{FlovynClient, Result, WorkflowContext, WorkflowDefinition};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    name: String,
}

struct Greeting;

#[reference_sdk::async_trait]
impl WorkflowDefinition for Greeting {
    type Input = Input;
    type Output = Value;

    fn kind(&self) -> &str {
        "greeting-workflow"
    }

    async fn execute(&self, ctx: WorkflowContext, input: Input) -> Result<Value> {
        let message = ctx
            .run("compose-greeting", || format!("Hello, {}!", input.name))
            .await?;
        Ok(json!({ "message": message, "timestamp": ctx.current_time_millis() }))
    }
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("FLOVYN_WORKER_TOKEN")
        .map_err(|_| "set FLOVYN_WORKER_TOKEN (the reference server prints one at start)")?;
    let url = std::env::var("FLOVYN_GRPC_SERVER_URL").unwrap_or_else(|_| "http://localhost:9090".into());
    let queue = std::env::var("FLOVYN_QUEUE").unwrap_or_else(|_| "default".into());
    let mut builder = FlovynClient::builder()
        .server_url(url)
        .worker_token(token)
        .queue(queue)
        .register_workflow(Greeting);
    if let Ok(org) = std::env::var("FLOVYN_ORG_ID") {
        builder = builder.org_id(org.parse()?);
    }
    let worker = builder.start().await?;
    worker.await_ready().await;
    let result: Value = worker
        .client()
        .start_workflow_and_wait(
            "greeting-workflow",
            &json!({ "name": "World" }),
            Duration::from_secs(30),
        )
        .await?;
    println!("{result}");
    worker.stop().await;
    Ok(())
}
