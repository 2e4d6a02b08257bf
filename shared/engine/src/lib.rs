//! The restore engine's connection to Azure Resource Manager.
//!
//! * [`cloud`]: ARM endpoint and token scope per cloud.
//! * [`origin`]: which hosts a bearer token may be sent to (DESIGN invariant 4).
//! * [`budget`]: a client-side mirror of ARM's token-bucket throttle.
//! * [`transport`], [`credential`]: re-exported from `restore-connect`, which the state store shares.
//! * [`pipeline`]: the azure_core pipelines every ARM call goes through.
//! * [`client`]: typed JSON calls, paging, and starting long-running operations.
//! * [`lro`]: long-running operations as data ([`lro::PendingOperation`], [`lro::step`]).
//! * [`error`]: Azure's errors, typed and classified by retryability.

pub mod budget;
pub mod client;
pub mod cloud;
pub mod config;
pub use restore_connect::credential;
pub mod dataprotection;
pub mod error;
pub mod jobs;
pub mod lro;
pub mod origin;
pub mod pipeline;
pub mod recoveryservices;
pub mod region;
pub mod selection;
pub mod tags;
pub use restore_connect::transport;
