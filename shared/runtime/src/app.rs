//! The `main` of a function app with slow initialisation.
//!
//! Order matters: the host probes the port for at most 30 s, so the listener is bound before configuration,
//! credentials and stores are built; a configuration error is printed and the process exits non-zero (the host
//! logs it and restarts the worker). Worker threads get larger stacks than tokio's 2 MiB default because
//! handler futures that nest an HTTP pipeline several levels deep keep every level's locals on the stack in
//! unoptimised builds.

use std::future::Future;
use std::process::ExitCode;

use crate::logs::init_tracing;
use crate::server::{Runtime, bind_from_env};

/// Worker thread stack size used by [`main`].
pub const STACK_BYTES: usize = 8 * 1024 * 1024;

/// Runs a function app: tracing, a multi-thread runtime, bind, `build` (returns the registered functions or a
/// configuration error naming the setting), then serve until SIGTERM/SIGINT. Returns the process exit code.
pub fn main<B, Fut>(app: &str, build: B) -> ExitCode
where
    B: FnOnce() -> Fut,
    Fut: Future<Output = Result<Runtime, String>>,
{
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(STACK_BYTES).build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{app}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match bind_from_env().await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("{app}: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let functions = match build().await {
            Ok(functions) => functions,
            Err(e) => {
                eprintln!("{app}: configuration error: {e}");
                return ExitCode::FAILURE;
            }
        };
        match functions.serve(listener).await {
            Ok(shutdown) => shutdown.exit_code(),
            Err(e) => {
                eprintln!("{app}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
