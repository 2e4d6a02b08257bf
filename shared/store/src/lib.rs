//! The operation-record state store: one trait, an embedded SQLite implementation and an Azure Blob Storage
//! implementation (DESIGN §3 "Operation record"). See README.md.
//!
//! * [`record`]: the record and its state machine.
//! * [`store`]: the [`StateStore`] trait every implementation keeps.
//! * [`error`]: [`StoreError`], classified by what the caller does about it.
//! * [`sqlite`]: the embedded default.
//! * [`blob`]: Azure Blob Storage, one JSON blob per request.
//! * [`config`]: [`from_env`], choosing and opening the store from settings.

pub mod blob;
pub mod config;
pub mod error;
pub mod record;
pub mod slots;
pub mod sqlite;
pub mod store;
pub mod write;

pub use blob::BlobStore;
pub use config::{ConfigError, from_env};
pub use error::StoreError;
pub use record::{Lease, Reason, Record, State};
pub use slots::{Holder, Slots};
pub use sqlite::SqliteStore;
pub use store::{Document, ListFilter, StateStore};
