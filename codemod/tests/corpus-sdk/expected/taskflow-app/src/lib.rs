//! The demo application: an order workflow and two tasks, registered on a TaskFlow worker.

use std::sync::Arc;

use async_trait::async_trait;
use taskflow_sdk::{DispatchApi, WorkerBuilder, Workflow};

/// The queue the app's workflow and tasks run on.
pub const QUEUE: &str = "orders";

/// Card payments above this many cents are declined.
pub const CARD_LIMIT_CENTS: u64 = 100_000;

/// Confirms an order: the input is the order number, the output the confirmation line.
pub struct ConfirmOrder;

#[async_trait]
impl Workflow for ConfirmOrder {
    async fn execute(&self, input: Vec<u8>) -> Result<Vec<u8>, String> {
        let order = String::from_utf8(input).map_err(|error| error.to_string())?;
        if order.trim().is_empty() {
            return Err("an order needs a number".to_string());
        }
        Ok(format!("order {order} confirmed").into_bytes())
    }
}

/// Task `print-label`: the label text, upper-cased for the printer.
pub fn print_label(payload: &[u8]) -> Result<Vec<u8>, String> {
    Ok(payload.to_ascii_uppercase())
}

/// Task `charge-card`: the payload is an amount in cents.
pub fn charge_card(payload: &[u8]) -> Result<Vec<u8>, String> {
    let cents: u64 = std::str::from_utf8(payload)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| "the amount is not a number".to_string())?;
    if cents > CARD_LIMIT_CENTS {
        return Err(format!("{cents} cents is over the card limit"));
    }
    Ok(format!("charged {cents} cents").into_bytes())
}

/// A builder with the app's queue, workflow and tasks; the caller adds the rest.
pub fn worker_builder(api: Arc<dyn DispatchApi>) -> WorkerBuilder {
    WorkerBuilder::new(api)
        .workflow_queue(QUEUE)
        .task_queue(QUEUE)
        .register_workflow("confirm-order", ConfirmOrder)
        .register_task("print-label", print_label)
        .register_task("charge-card", charge_card)
}
