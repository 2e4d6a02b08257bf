//! The `main` of a function app with slow initialisation.
//!
//! The host probes the port and counts the worker ready at its first answer; cold-start latency is that time. So
//! the listener is bound and served at once, and the app (configuration, credential, store, policy) is built
//! concurrently: invocations that arrive first wait for it through [`Ready::get`], milliseconds at most. A
//! configuration error is printed and the process exits non-zero (the host logs it and restarts the worker).
//!
//! Worker threads get larger stacks than tokio's 2 MiB default because handler futures that nest an HTTP
//! pipeline several levels deep keep every level's locals on the stack in unoptimised builds. With
//! [`Threads::One`] the futures run on the main thread, whose stack is the process's (8 MiB under Linux's
//! default limit, the same size); `STACK_BYTES` then sizes the blocking pool's threads.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::watch;

use crate::logs::init_tracing;
use crate::server::{Runtime, bind_from_env};

/// Worker thread stack size used by [`main`].
pub const STACK_BYTES: usize = 8 * 1024 * 1024;

/// The app being built; cloned into every handler.
#[derive(Debug)]
pub struct Ready<T> {
    rx: watch::Receiver<Option<Arc<T>>>,
}

impl<T> Clone for Ready<T> {
    fn clone(&self) -> Self {
        Ready { rx: self.rx.clone() }
    }
}

impl<T> Ready<T> {
    /// The app, once built (immediately after the first few milliseconds of the process).
    pub async fn get(&self) -> Arc<T> {
        let mut rx = self.rx.clone();
        loop {
            if let Some(app) = rx.borrow_and_update().clone() {
                return app;
            }
            if rx.changed().await.is_err() {
                // The builder is gone without a value: it failed and the process is exiting.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Which tokio scheduler runs a function app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// A worker per core: for apps with CPU work worth spreading over cores (the drill function renders its
    /// reports and pages).
    PerCore,
    /// Everything on the main thread (blocking work still goes to tokio's blocking pool): for apps whose
    /// invocations mostly wait on I/O, the intake (Azure, the store) and the tracker (one timer tick at a time).
    /// It spares the cross-thread wake-ups (futexes, epoll hand-offs) a multi-thread scheduler makes for every
    /// task switch: a third of the tracker's idle tick, and the intake's rejected-message p99 fell from 1.22 to
    /// 0.75 ms while its throughput at 16 in flight rose from 4,790 to 5,944 msg/s (README, "CPU per restore").
    One,
}

/// Runs a function app: tracing, the tokio scheduler `threads` chooses, bind and serve at once while `build`
/// constructs the app (a configuration error naming the setting ends the process), until SIGTERM/SIGINT.
/// `register` adds the functions, each getting the app through [`Ready::get`]. Returns the process exit code.
/// `build`'s error is any error type; its message (which should name the setting and the fix) is printed before
/// the process exits.
pub fn main<T, E, B, Fut, R>(threads: Threads, app: &'static str, build: B, register: R) -> ExitCode
where
    T: Send + Sync + 'static,
    E: std::fmt::Display + Send + 'static,
    B: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    R: FnOnce(Runtime, Ready<T>) -> Runtime,
{
    init_tracing();
    let mut builder = match threads {
        Threads::PerCore => tokio::runtime::Builder::new_multi_thread(),
        Threads::One => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().thread_stack_size(STACK_BYTES).build() {
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
        let (tx, rx) = watch::channel(None);
        let building = build();
        tokio::spawn(async move {
            match building.await {
                Ok(built) => {
                    let _ = tx.send(Some(Arc::new(built)));
                }
                Err(e) => {
                    eprintln!("{app}: configuration error: {e}");
                    std::process::exit(1);
                }
            }
        });
        match register(Runtime::new(), Ready { rx }).serve(listener).await {
            Ok(shutdown) => shutdown.exit_code(),
            Err(e) => {
                eprintln!("{app}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
