//! What a store operation can fail with, classified by what the caller does about it.

use crate::record::Record;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Compare-and-swap lost: the record changed since the caller read it. Re-read and decide again.
    #[error("the record for request '{request_id}' was changed by someone else (stale version); read it again")]
    Conflict {
        /// The request id.
        request_id: String,
    },
    /// `create` found a record for this request id already: the request is a duplicate (or a redelivery).
    #[error("a record for request '{}' already exists (state {})", existing.request_id, existing.state)]
    AlreadyExists {
        /// The stored record, with its version.
        existing: Box<Record>,
    },
    /// `update` found no record for this request id.
    #[error("no record exists for request '{request_id}'")]
    NotFound {
        /// The request id.
        request_id: String,
    },
    /// The record cannot be stored as given (e.g. a request id the stores cannot key on).
    #[error("cannot store the record for request '{request_id}': {field}: {message}")]
    Invalid {
        /// The request id, shortened to 80 characters (a refused id may be arbitrarily long).
        request_id: String,
        /// The offending field.
        field: &'static str,
        /// What is wrong and the fix.
        message: String,
    },
    /// The store could not be reached or answered with a transient error. The intake fails the invocation so
    /// Service Bus redelivers; the tracker retries on its next tick.
    #[error("the {backend} state store is unavailable: {message}")]
    Unavailable {
        /// `sqlite` or `blob`.
        backend: &'static str,
        /// What failed.
        message: String,
    },
    /// A stored document does not parse. Not transient: a person must repair or remove it.
    #[error("the stored record for request '{request_id}' is corrupt: {message}")]
    Corrupt {
        /// The request id (or, for the Blob store, the blob name when the id is not known).
        request_id: String,
        /// The parse error.
        message: String,
    },
}

impl StoreError {
    /// True when retrying the same call later may succeed (the caller should fail the invocation).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Shortens a request id for messages: refused ids may be arbitrarily long, and 512 bytes is a lot of log line.
pub(crate) fn display_id(request_id: &str) -> String {
    const MAX: usize = 80;
    if request_id.chars().count() <= MAX {
        request_id.to_string()
    } else {
        let head: String = request_id.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// Refuses request ids the stores cannot key on (see [`crate::record::request_id_problem`]).
pub(crate) fn check_request_id(request_id: &str) -> Result<(), StoreError> {
    match crate::record::request_id_problem(request_id) {
        None => Ok(()),
        Some(message) => Err(StoreError::Invalid { request_id: display_id(request_id), field: "requestId", message }),
    }
}
