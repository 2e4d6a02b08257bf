//! The restore engine's connection to Azure Resource Manager.
//!
//! * [`cloud`]: ARM endpoint and token scope per cloud.
//! * [`origin`]: which hosts a bearer token may be sent to (DESIGN invariant 4).
//! * [`budget`]: a client-side mirror of ARM's token-bucket throttle.
//! * [`transport`]: the reqwest transport, trusting extra CAs from configuration.
//! * [`credential`]: the explicit choice of azure_identity credential.
//! * [`pipeline`]: the azure_core pipelines every ARM call goes through.
//! * [`client`]: typed JSON calls, paging, and starting long-running operations.
//! * [`lro`]: long-running operations as data ([`lro::PendingOperation`], [`lro::step`]).
//! * [`error`]: Azure's errors, typed and classified by retryability.

pub mod budget;
pub mod client;
pub mod cloud;
pub mod config;
pub mod credential;
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
pub mod transport;
