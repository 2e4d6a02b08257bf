//! Skeleton: serves the `RestoreTracker` function through the custom-handler runtime (logic lands with its issue).

use std::process::ExitCode;

use custom_handler::{HandlerError, Invocation, Outputs, Runtime, TimerInfo};

async fn handle(_input: TimerInfo, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    Err(HandlerError::msg("RestoreTracker is not implemented yet"))
}

#[tokio::main]
async fn main() -> ExitCode {
    custom_handler::init_tracing();
    let listener = match custom_handler::bind_from_env().await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("RestoreTracker: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match Runtime::new().timer("RestoreTracker", "timer", handle).serve(listener).await {
        Ok(shutdown) => shutdown.exit_code(),
        Err(e) => {
            eprintln!("RestoreTracker: {e}");
            ExitCode::FAILURE
        }
    }
}
