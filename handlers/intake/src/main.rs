//! Skeleton: serves the `RestoreIntake` function through the custom-handler runtime (logic lands with its issue).

use std::process::ExitCode;

use custom_handler::{HandlerError, Invocation, Outputs, Runtime, ServiceBusMessage};

async fn handle(_input: ServiceBusMessage, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    Err(HandlerError::msg("RestoreIntake is not implemented yet"))
}

#[tokio::main]
async fn main() -> ExitCode {
    custom_handler::init_tracing();
    let listener = match custom_handler::bind_from_env().await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("RestoreIntake: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match Runtime::new().service_bus("RestoreIntake", "message", handle).serve(listener).await {
        Ok(shutdown) => shutdown.exit_code(),
        Err(e) => {
            eprintln!("RestoreIntake: {e}");
            ExitCode::FAILURE
        }
    }
}
