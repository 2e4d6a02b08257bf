//! A simulator of the Azure Functions host's custom-handler protocol, for end-to-end tests
//! that drive the real handler binaries (reference: shared/reference/functions-custom-handler.md).
//!
//! * [`Worker`]: start a handler as the host does (free port, `FUNCTIONS_*` variables,
//!   readiness probe `GET /` every 25 ms for up to 30 s), capture stdout/stderr, SIGKILL or
//!   SIGTERM it.
//! * [`HostInvocation`] / [`HostValue`]: envelopes built with the host's value encoding;
//!   [`SbMessage`], [`TimerPayload`], [`HttpTriggerRequest`] build trigger payloads.
//! * [`HostClient`]: sends invocations on the wire as the host does (POST, chunked body, host
//!   headers) and interprets answers as the host does ([`HostResponse`]).
//! * [`ServiceBusQueue`]: delivery with DeliveryCount, redelivery, dead-lettering, outputs.
//! * [`workspace_bin`]: find a workspace binary from a test.
//! * [`azurite::Azurite`]: a real Azurite (Blob), HTTPS with `--oauth basic`, for the Blob state store.
//!
//! The simulator does not depend on the runtime crate: it checks the protocol independently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "the test harness: a failure panics the test that met it, with its message"
)]

pub mod azurite;
pub mod binaries;
pub mod http;
pub mod identity;
pub mod invocation;
pub mod queue;
pub mod response;
pub mod triggers;
pub mod worker;

pub use binaries::workspace_bin;
pub use invocation::{HostInvocation, HostValue};
pub use queue::{DeadLetter, Delivery, OutputBinding, OutputKind, QueueConfig, ServiceBusQueue};
pub use response::{Failure, HostResponse, Success, blob_bytes, service_bus_messages};
pub use triggers::{DataType, HttpTriggerRequest, SbMessage, SbTrigger, TimerPayload};
pub use worker::{Captured, HostClient, PortEnv, Worker, WorkerBuilder};

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A socket or process I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The worker broke the HTTP protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Something did not happen in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The worker never became ready.
    #[error("worker not ready: {0}")]
    NotReady(String),
    /// A binary is missing or cannot start.
    #[error("{0}")]
    Binary(String),
}
