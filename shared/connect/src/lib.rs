//! How the product reaches Azure over HTTP, below any one service: the ARM engine, the state store (Blob) and
//! the Service Bus sender all build on these two, so they live apart from the engine (the store need not depend
//! on the ARM client to get a TLS configuration and a token).
//!
//! * [`blob`]: the container URL rules and storage error codes every Blob client shares.
//! * [`transport`]: the reqwest transport, trusting extra CAs from configuration, one per settings.
//! * [`credential`]: the explicit choice of azure_identity credential.

pub mod blob;
pub mod credential;
pub mod transport;
