//! Slots: a small document per key naming the requests that hold it, written under compare-and-swap like
//! records. The workflow keeps two kinds: one per vault (its concurrent-restore limit) and one per protected
//! item (at most one restore in flight), both taken at the write-ahead.
//!
//! The store keeps the document; what a holder's liveness means (its record still active) is the workflow's
//! business, so a holder left by a crash between two writes is pruned by the next reservation instead of
//! leaking a slot.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The longest slot key, in bytes (keys are lower-cased ARM ids with a prefix).
pub const MAX_SLOT_KEY_BYTES: usize = 512;

/// One slot document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slots {
    /// The key (e.g. `vault:/subscriptions/…` lower-cased).
    pub key: String,
    /// Compare-and-swap version set by the store; empty for a document never stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// The requests holding a slot.
    #[serde(default)]
    pub holders: Vec<Holder>,
}

/// A request holding a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// The request.
    pub request_id: String,
    /// When it took the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

impl Slots {
    /// An empty, never-stored document for `key`.
    pub fn empty(key: impl Into<String>) -> Slots {
        Slots { key: key.into(), version: String::new(), holders: Vec::new() }
    }

    /// Whether `request_id` holds a slot.
    pub fn held_by(&self, request_id: &str) -> bool {
        self.holders.iter().any(|h| h.request_id == request_id)
    }
}

/// Refuses a document key that is empty, longer than [`MAX_SLOT_KEY_BYTES`] or holds control characters.
pub fn check_document_key(key: &str) -> Result<(), crate::error::StoreError> {
    if key.is_empty() || key.len() > MAX_SLOT_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(crate::error::StoreError::Invalid {
            request_id: crate::error::display_id(key),
            field: "key",
            message: format!("a document key is 1–{MAX_SLOT_KEY_BYTES} bytes without control characters"),
        });
    }
    Ok(())
}
