//! The intake function app: `RestoreIntake`, a Service Bus queue trigger (binding `message`, `dataType:
//! binary`) with a Service Bus output `results`. All the logic is in `restore_workflow::intake`; this binary
//! wires app settings to it and serves it through the custom-handler runtime.

use std::process::ExitCode;
use std::sync::Arc;

use custom_handler::{HandlerError, Invocation, Outputs, ServiceBusMessage};
use restore_contract::Policy;
use restore_workflow::intake::{Delivery, Intake, IntakeSettings, Outcome};

async fn build() -> Result<Intake, String> {
    let (client, source) = restore_engine::config::client_from_env(false).map_err(|e| e.to_string())?;
    tracing::info!(credential = ?source, endpoint = %client.pipeline().endpoint(), "ARM client ready");
    let store = restore_store::from_env().await.map_err(|e| e.to_string())?;
    tracing::info!(store = %store.describe(), "state store ready");
    let policy = Policy::from_env().map_err(|e| e.to_string())?;
    let settings = IntakeSettings::from_env().map_err(|e| e.to_string())?;
    Ok(Intake::new(client, store, Arc::new(policy), settings))
}

async fn handle(intake: Arc<Intake>, message: ServiceBusMessage) -> Result<Outputs, HandlerError> {
    let delivery = Delivery {
        body: &message.body,
        message_id: message.metadata.message_id.as_deref(),
        delivery_count: message.metadata.delivery_count.unwrap_or(1),
    };
    match Box::pin(intake.handle(delivery)).await {
        Outcome::Complete(results) => {
            let texts: Vec<String> = results.iter().filter_map(|r| serde_json::to_string(r).ok()).collect();
            for r in &results {
                tracing::info!(request_id = %r.request_id, status = ?r.status, "answered");
            }
            Ok(Outputs::new().service_bus("results", texts))
        }
        Outcome::Retry(why) => Err(HandlerError::msg(format!("will be redelivered: {why}"))),
    }
}

fn main() -> ExitCode {
    custom_handler::app::main("intake", build, |runtime, ready| {
        runtime.service_bus("RestoreIntake", "message", move |message, _ctx: Invocation| {
            let ready = ready.clone();
            async move { handle(ready.get().await, message).await }
        })
    })
}
