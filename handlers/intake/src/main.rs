//! The intake function app: `RestoreIntake`, a Service Bus queue trigger (binding `message`, `dataType:
//! binary`) with a Service Bus output `results`. All the logic is in `restore_workflow::intake`; this binary
//! wires app settings to it and serves it through the custom-handler runtime.

use restore_workflow::startup::StartupError;
use std::process::ExitCode;
use std::sync::Arc;

use custom_handler::{BodyLimit, HandlerError, Invocation, Outputs, Oversize, ServiceBusMessage};
use restore_contract::request::DEFAULT_MAX_MESSAGE_BYTES;
use restore_contract::{Policy, RequestError, RequestErrorKind, RestoreResult};
use restore_workflow::intake::{Delivery, Intake, IntakeSettings, Outcome};

async fn build(limit: BodyLimit) -> Result<Intake, StartupError> {
    let (client, source) = restore_engine::config::client_from_env(false)?;
    tracing::info!(credential = ?source, endpoint = %client.pipeline().endpoint(), "ARM client ready");
    let store = restore_store::from_env().await?;
    tracing::info!(store = %store.describe(), "state store ready");
    let policy = Policy::from_env()?;
    // The host envelope's limit follows the policy's message size (the runtime reads it per invocation).
    limit.set_message_bytes(policy.max_message_bytes);
    let settings = IntakeSettings::from_env()?;
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

/// A message over the policy's size never reaches the decoder: it is answered `Rejected` (naming the limit) and
/// settled, instead of failing the invocation, which Service Bus would redeliver until it dead-letters. The
/// envelope was not parsed, so the answer carries the invocation id, and nothing is stored.
async fn oversize(oversize: Oversize, ctx: Invocation) -> Result<Outputs, HandlerError> {
    let error = RequestError::new(
        RequestErrorKind::TooLarge,
        None,
        oversize.to_string(),
        format!("send at most {} bytes, or raise maxMessageBytes in the policy", oversize.max_message_bytes),
    );
    let id = ctx.invocation_id.unwrap_or_else(|| "unidentified-message".into());
    tracing::warn!(limit = oversize.limit, received = oversize.received, "oversized message rejected");
    let text = serde_json::to_string(&RestoreResult::rejected(id, &error)).map_err(HandlerError::msg)?;
    Ok(Outputs::new().service_bus("results", [text]))
}

fn main() -> ExitCode {
    let limit = BodyLimit::for_message_bytes(DEFAULT_MAX_MESSAGE_BYTES);
    let for_build = limit.clone();
    // One thread: a message's work is waiting on Azure and the store (see `Threads::One`).
    custom_handler::app::main(
        custom_handler::app::Threads::One,
        "intake",
        move || build(for_build),
        |runtime, ready| {
            runtime.body_limit(limit).on_oversize(oversize).service_bus(
                "RestoreIntake",
                "message",
                move |message, _ctx: Invocation| {
                    let ready = ready.clone();
                    async move { handle(ready.get().await, message).await }
                },
            )
        },
    )
}
