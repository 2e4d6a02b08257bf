//! The intake function app: `RestoreIntake`, a Service Bus queue trigger (binding `message`, `dataType:
//! binary`) with a Service Bus output `results`. All the logic is in `restore_workflow::intake`; this binary
//! wires app settings to it and serves it through the custom-handler runtime.

use std::process::ExitCode;
use std::sync::Arc;

use custom_handler::{HandlerError, Invocation, Outputs, Runtime, ServiceBusMessage};
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

/// Worker threads get 8 MiB stacks: a restore's future nests the azure_core pipeline several levels deep, and
/// unoptimised (debug) builds keep every level's locals on the stack; 2 MiB (tokio's default) overflowed.
const STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(STACK_BYTES).build() {
        Ok(runtime) => runtime.block_on(serve()),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> ExitCode {
    custom_handler::init_tracing();
    // Bind before anything slow: the host probes the port for at most 30 s.
    let listener = match custom_handler::bind_from_env().await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("intake: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let intake = match build().await {
        Ok(intake) => Arc::new(intake),
        Err(e) => {
            eprintln!("intake: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = Runtime::new().service_bus("RestoreIntake", "message", move |message, _ctx: Invocation| {
        let intake = intake.clone();
        async move { handle(intake, message).await }
    });
    match runtime.serve(listener).await {
        Ok(shutdown) => shutdown.exit_code(),
        Err(e) => {
            eprintln!("intake: {e}");
            ExitCode::FAILURE
        }
    }
}
