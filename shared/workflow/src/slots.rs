//! The write-ahead's reservations: a slot of the vault's concurrent-restore limit
//! (`maxConcurrentRestoresPerVault`) and the protected item's single slot (at most one restore in flight per
//! item, so a restore job on the item since the write-ahead can only be this request's).
//!
//! A slot document lists its holders ([`restore_store::Slots`], compare-and-swapped like records). Whether a
//! holder still holds is read from its record, never trusted from the document: a request that crashed between
//! taking a slot and its write-ahead stops holding once its lease lapses, and a finished restore stops holding
//! once its job has ended. So no crash can leak a slot, and nothing has to release one explicitly.

use std::time::Duration;

use restore_store::{Holder, State, StateStore, StoreError};
use time::OffsetDateTime;

/// How long a record that ended without seeing its job end (`TimedOut`, `NeedsAttention` with a job) keeps its
/// slots: its Azure job may still be running, and Azure's own limit would refuse the next restore anyway.
pub const UNENDED_JOB_HOLD: Duration = Duration::from_secs(24 * 3600);

/// Attempts before a slot document that keeps changing is reported busy.
const MAX_ATTEMPTS: u32 = 20;

/// The vault's slot key (lower-cased: ARM ids compare case-insensitively).
pub fn vault_key(vault_id: &str) -> String {
    format!("vault:{}", vault_id.to_ascii_lowercase())
}

/// The protected item's (or backup instance's) slot key.
pub fn item_key(item_id: &str) -> String {
    format!("item:{}", item_id.to_ascii_lowercase())
}

/// What taking a slot gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The request holds a slot (it may have held it already).
    Yes,
    /// Every slot is held by these other requests.
    Full(Vec<String>),
}

/// Whether `holder` still holds its slot at `now`, read from its record.
async fn holds(store: &dyn StateStore, holder: &Holder, now: OffsetDateTime) -> Result<bool, StoreError> {
    let record = match store.get(&holder.request_id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Ok(false),
        // Cannot tell: keep the slot held (the limit errs on the safe side) and say so.
        Err(StoreError::Corrupt { request_id, message }) => {
            tracing::error!(request_id = %request_id, error = %message, "slot holder's record is unreadable; its slot stays held");
            return Ok(true);
        }
        Err(e) => return Err(e),
    };
    Ok(match record.state {
        State::Triggering | State::Accepted | State::Running => true,
        // Between taking the slot and its write-ahead: holds while its owner is alive.
        State::Received | State::Planned => record.lease.is_some_and(|l| l.until > now),
        State::TimedOut | State::NeedsAttention => {
            record.job_id.is_some() && record.job_ended_at.is_none() && now < record.updated_at + UNENDED_JOB_HOLD
        }
        State::Succeeded | State::Failed | State::Rejected | State::Cancelled => false,
    })
}

/// The holders of `key` that still hold, other than `except`.
pub async fn in_use(
    store: &dyn StateStore,
    key: &str,
    except: &str,
    now: OffsetDateTime,
) -> Result<Vec<String>, StoreError> {
    let slots = store.slots(key).await?;
    let mut live = Vec::new();
    for holder in slots.holders.iter().filter(|h| h.request_id != except) {
        if holds(store, holder, now).await? {
            live.push(holder.request_id.clone());
        }
    }
    Ok(live)
}

/// Takes one of `capacity` slots of `key` for `request_id`, dropping holders that no longer hold. Atomic: of
/// requests racing for the last slot exactly one gets it (compare-and-swap on the document).
pub async fn take(
    store: &dyn StateStore,
    key: &str,
    capacity: usize,
    request_id: &str,
    now: OffsetDateTime,
) -> Result<Taken, StoreError> {
    for _ in 0..MAX_ATTEMPTS {
        let mut slots = store.slots(key).await?;
        if slots.held_by(request_id) {
            return Ok(Taken::Yes);
        }
        let mut live = Vec::new();
        for holder in &slots.holders {
            if holds(store, holder, now).await? {
                live.push(holder.clone());
            }
        }
        if live.len() >= capacity {
            return Ok(Taken::Full(live.into_iter().map(|h| h.request_id).collect()));
        }
        live.push(Holder { request_id: request_id.to_string(), since: now });
        slots.holders = live;
        match store.put_slots(&slots).await {
            Ok(_) => return Ok(Taken::Yes),
            // Someone else changed the document (or our own write landed behind a lost answer): read again.
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    tracing::warn!(key = %key, "slot document kept changing; treating it as full for now");
    Ok(Taken::Full(Vec::new()))
}
