//! The storage contract every implementation keeps (and `tests/contract` proves for each).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::record::{Record, State};
use crate::slots::Slots;

/// Which records [`StateStore::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only these states; empty means every state.
    pub states: Vec<State>,
    /// Only this vault (exact string match on `vault_id`).
    pub vault_id: Option<String>,
    /// Oldest `received_at` first instead of newest first (sweeps of what was left behind: with a limit,
    /// newest first would let fresh records starve old ones).
    pub oldest_first: bool,
}

impl ListFilter {
    /// Every record.
    pub fn all() -> ListFilter {
        ListFilter::default()
    }

    /// Records in any of `states`.
    pub fn states(states: impl IntoIterator<Item = State>) -> ListFilter {
        ListFilter { states: states.into_iter().collect(), vault_id: None, oldest_first: false }
    }

    /// The same filter, oldest first.
    pub fn oldest_first(self) -> ListFilter {
        ListFilter { oldest_first: true, ..self }
    }

    /// Whether `record` passes the filter.
    pub fn matches(&self, record: &Record) -> bool {
        (self.states.is_empty() || self.states.contains(&record.state))
            && self.vault_id.as_ref().is_none_or(|v| *v == record.vault_id)
    }
}

/// A keyed JSON document under compare-and-swap, beside the records: the workflow's slot documents
/// (`vault:…`, `item:…`) and the drill function's runs (`drill-run:…`). Keys are at most
/// [`crate::slots::MAX_SLOT_KEY_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The key.
    pub key: String,
    /// Compare-and-swap version set by the store; empty for a document never stored.
    pub version: String,
    /// The document.
    pub body: serde_json::Value,
}

/// The operation-record store.
///
/// Every write is conditional: `create` only if absent, `update` only if the stored version is the caller's.
/// That is the whole concurrency story: two intake workers handling the same request race on `create` /
/// `update`, exactly one wins, the other gets [`StoreError::AlreadyExists`] / [`StoreError::Conflict`] and
/// re-reads (DESIGN §4, invariant 1).
#[async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Stores a new record if none exists for its request id. Returns it with its first version.
    /// `record.version` is ignored. Fails with [`StoreError::AlreadyExists`] (carrying the stored record).
    async fn create(&self, record: &Record) -> Result<Record, StoreError>;

    /// The record for `request_id`, if any.
    async fn get(&self, request_id: &str) -> Result<Option<Record>, StoreError>;

    /// Replaces the record if its stored version is still `record.version` (compare-and-swap). Returns the
    /// record with its new version. Fails with [`StoreError::Conflict`] when the version is stale and
    /// [`StoreError::NotFound`] when there is no record.
    async fn update(&self, record: &Record) -> Result<Record, StoreError>;

    /// Up to `limit` records the tracker should work on at `now`, earliest `next_poll_at` first: every record
    /// with `next_poll_at <= now` that is not terminal, or is terminal with `result_published == false`
    /// ([`Record::is_due`]). Terminal records with a published result are never due. Records without
    /// `next_poll_at` are never due (the intake owns them until it sets one). Every record returned is due; a
    /// store whose due index trails its writes (Blob: Azure updates blob index tags asynchronously, seconds) may
    /// leave out one written moments ago, which a later call returns.
    async fn due(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// Up to `limit` records matching `filter`, newest `received_at` first, or oldest first with
    /// `filter.oldest_first` (ties by request id).
    async fn list(&self, filter: &ListFilter, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// How many records of `vault_id` are in `Triggering`, `Accepted` or `Running` ([`State::ACTIVE`]): the
    /// restores that may hold one of the vault's concurrent-restore slots. `Received` and `Planned` are not
    /// counted: they have made no Azure write and may still be rejected. The count is a snapshot, not a
    /// reservation: two workers checking at the same moment can both see room for one more.
    async fn count_active(&self, vault_id: &str) -> Result<usize, StoreError>;

    /// The keyed document `key` (a slot document, a drill run), if one is stored.
    async fn document(&self, key: &str) -> Result<Option<Document>, StoreError>;

    /// Stores `doc`: created when its version is empty (a document created meanwhile is a `Conflict`), else
    /// replaced if the stored version is still `doc.version` (else `Conflict`). Returns it with its new version.
    async fn put_document(&self, doc: &Document) -> Result<Document, StoreError>;

    /// The slot document for `key`; an empty one (version `""`) when none is stored.
    async fn slots(&self, key: &str) -> Result<Slots, StoreError> {
        match self.document(key).await? {
            None => Ok(Slots::empty(key)),
            Some(doc) => {
                let mut slots: Slots = serde_json::from_value(doc.body)
                    .map_err(|e| StoreError::Corrupt { request_id: key.to_string(), message: e.to_string() })?;
                slots.version = doc.version;
                Ok(slots)
            }
        }
    }

    /// Stores `slots` under compare-and-swap, as [`Self::put_document`] does.
    async fn put_slots(&self, slots: &Slots) -> Result<Slots, StoreError> {
        let mut body = slots.clone();
        body.version.clear();
        let body = serde_json::to_value(&body).map_err(|e| StoreError::Invalid {
            request_id: crate::error::display_id(&slots.key),
            field: "slots",
            message: e.to_string(),
        })?;
        let doc = Document { key: slots.key.clone(), version: slots.version.clone(), body };
        let stored = self.put_document(&doc).await?;
        Ok(Slots { version: stored.version, ..slots.clone() })
    }

    /// Brings what the store keeps beside the records for [`Self::due`] up to date with every record, and returns
    /// how many records it re-saved: a one-off upgrade step (`restorectl reindex`), safe to repeat and to run
    /// while the apps work. The default has nothing to do (SQLite updates its index with the row).
    async fn reindex(&self) -> Result<usize, StoreError> {
        Ok(0)
    }

    /// Which store this is, for the startup log (`sqlite ./restore-state.db`, `blob https://…/container`).
    fn describe(&self) -> String;
}
