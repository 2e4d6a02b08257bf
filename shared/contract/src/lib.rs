//! Message contract v1 (restore request and result, JSON Schema), Azure Monitor alert input and alert rules, and
//! the restore policy.
//!
//! Pure: nothing here does I/O except [`policy::Policy::from_settings`] reading the policy file.
//!
//! * [`request`] – [`RestoreRequest`], [`parse_request`], and [`RequestError`] (names the JSON path, what is
//!   wrong and the fix).
//! * [`result`] – [`RestoreResult`].
//! * [`alert`] – the common alert schema, Azure Backup's built-in alert context, alert rules and [`map_alert`].
//! * [`incoming`] – [`classify`]: request or alert.
//! * [`policy`] – [`Policy`], loading and [`Policy::check`].
//! * [`schema`] – the published JSON Schemas.
//!
//! The wire format is described in docs/contract.md and docs/policy.md.

pub mod alert;
pub mod incoming;
pub mod policy;
pub mod reason;
pub mod request;
pub mod result;
pub mod schema;
pub mod timestamp;

pub use alert::{AlertOutcome, AlertRule, CommonAlert, map_alert};
pub use incoming::{Incoming, classify, classify_with_limit};
pub use policy::{Policy, PolicyError, PolicyRefusal, PolicyRule};
pub use reason::ReasonCode;
pub use request::{RequestError, RequestErrorKind, RestoreRequest, parse_request, parse_request_with_limit};
pub use result::{RestoreResult, ResultStatus};
pub use timestamp::Timestamp;
