//! Workflow definitions and their replay-based execution.

mod context;
pub(crate) mod replay;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use context::{join_all, select, Step, WorkflowContext};

use crate::{BoxFuture, Result};

/// A workflow: deterministic code over [`WorkflowContext`] steps.
#[async_trait]
pub trait WorkflowDefinition: Send + Sync + 'static {
    type Input: DeserializeOwned + Send + 'static;
    type Output: Serialize + Send + 'static;

    /// The kind the server dispatches by.
    fn kind(&self) -> &str;

    fn version(&self) -> &str {
        "1.0.0"
    }

    /// How long an execution may take, as registered with the server.
    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }

    async fn execute(&self, ctx: WorkflowContext, input: Self::Input) -> Result<Self::Output>;
}

/// A workflow with its types erased to JSON.
pub(crate) trait DynWorkflow: Send + Sync {
    fn kind(&self) -> String;
    fn version(&self) -> String;
    fn timeout(&self) -> Option<std::time::Duration>;
    fn run(&self, ctx: WorkflowContext, input: Value) -> BoxFuture<Result<Value>>;
}

impl<W: WorkflowDefinition> DynWorkflow for Arc<W> {
    fn kind(&self) -> String {
        self.as_ref().kind().to_string()
    }

    fn version(&self) -> String {
        self.as_ref().version().to_string()
    }

    fn timeout(&self) -> Option<std::time::Duration> {
        self.as_ref().timeout()
    }

    fn run(&self, ctx: WorkflowContext, input: Value) -> BoxFuture<Result<Value>> {
        let definition = self.clone();
        Box::pin(async move {
            let input: W::Input = serde_json::from_value(input)?;
            let output = definition.execute(ctx, input).await?;
            Ok(serde_json::to_value(output)?)
        })
    }
}
