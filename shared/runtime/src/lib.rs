//! A small runtime for Azure Functions **custom handlers**: the HTTP server the Functions host
//! starts as a child process and talks to, typed trigger events, an outputs builder and
//! per-invocation logs. Modelled on `lambda_runtime`: handlers are plain async functions.
//!
//! ```no_run
//! use custom_handler::{HandlerError, Invocation, Outputs, Runtime, ServiceBusMessage, TimerInfo};
//!
//! async fn intake(msg: ServiceBusMessage, ctx: Invocation) -> Result<Outputs, HandlerError> {
//!     if msg.is_ambiguous() {
//!         return Err(HandlerError::msg(format!("body shadows metadata {:?}", msg.shadowed_keys)));
//!     }
//!     tracing::info!(function = %ctx.function_name, "received");
//!     Ok(Outputs::new().service_bus("results", [msg.body_str()?.to_string()]))
//! }
//!
//! async fn tick(timer: TimerInfo, _ctx: Invocation) -> Result<Outputs, HandlerError> {
//!     tracing::info!(past_due = timer.is_past_due, "tick");
//!     Ok(Outputs::new())
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     custom_handler::init_tracing();
//!     Runtime::new()
//!         .service_bus("RestoreIntake", "message", intake)
//!         .timer("RestoreTracker", "timer", tick)
//!         .run()
//!         .await
//! }
//! ```
//!
//! See the crate README for the protocol quirks handled and the blob-output rule.

pub mod app;
pub mod decode;
pub mod envelope;
pub mod error;
pub mod events;
pub mod limits;
pub mod logs;
pub mod outputs;
pub mod server;

pub use envelope::{Invocation, InvocationRequest, InvocationResponse, Sys};
pub use error::{DecodeError, HandlerError, Oversize, ServeError, StartupError};
pub use events::FromInvocation;
pub use events::http::{HttpRequest, HttpResponse};
pub use events::service_bus::{BodyEncoding, ServiceBusMessage, ServiceBusMetadata};
pub use events::timer::{Schedule, ScheduleStatus, TimerInfo};
pub use limits::{BodyLimit, envelope_limit_for};
pub use logs::{InvocationLogLayer, escape_control, init_tracing};
pub use outputs::Outputs;
pub use server::{Runtime, Shutdown, bind_from_env};
