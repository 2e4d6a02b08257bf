//! Writes that recognise their own success.
//!
//! A conditional write whose request reached the store but whose answer was lost is retried by the transport
//! (the Blob pipeline retries 5xx, timeouts and resets); the retry then fails its own condition and reports
//! `Conflict` (update) or `AlreadyExists` (create) for a write that in fact landed. Taking that as "another
//! worker acted" drops results and skips restore POSTs. So every write here stamps the record with a fresh
//! [`Record::write_id`]; after a conflict the stored record is read back, and if it carries our stamp the write
//! is ours and succeeded. Every caller in the workflow writes through these two functions.

use crate::error::StoreError;
use crate::record::Record;
use crate::store::StateStore;

fn stamped(record: &Record) -> Record {
    let mut record = record.clone();
    record.write_id = uuid::Uuid::new_v4().simple().to_string();
    record
}

/// [`StateStore::update`], except that a `Conflict` behind which the stored record is this very write returns
/// that record. A real conflict (someone else's write) is still `Conflict`.
pub async fn update(store: &dyn StateStore, record: &Record) -> Result<Record, StoreError> {
    let record = stamped(record);
    match store.update(&record).await {
        Err(StoreError::Conflict { request_id }) => match store.get(&record.request_id).await? {
            Some(fresh) if fresh.write_id == record.write_id => {
                tracing::info!(request_id = %record.request_id, "write landed although its answer was a conflict");
                Ok(fresh)
            }
            _ => Err(StoreError::Conflict { request_id }),
        },
        other => other,
    }
}

/// [`StateStore::create`], except that an `AlreadyExists` carrying this very write returns it.
pub async fn create(store: &dyn StateStore, record: &Record) -> Result<Record, StoreError> {
    let record = stamped(record);
    match store.create(&record).await {
        Err(StoreError::AlreadyExists { existing }) if existing.write_id == record.write_id => {
            tracing::info!(request_id = %record.request_id, "create landed although its answer was AlreadyExists");
            Ok(*existing)
        }
        other => other,
    }
}
