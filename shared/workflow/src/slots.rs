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

/// A vault limit above this is no limit the product tracks: Azure's own per-vault concurrency limits are far
/// lower, and a slot document listing thousands of holders would be rewritten by every restore of the vault.
pub const MAX_TRACKED_VAULT_LIMIT: usize = 1000;

/// Whether the product enforces `limit` with a vault slot document.
pub fn tracks_vault_limit(limit: usize) -> bool {
    limit <= MAX_TRACKED_VAULT_LIMIT
}

/// How long a record that ended without seeing its job end (`TimedOut`, `NeedsAttention` with a job) keeps its
/// slots: its Azure job may still be running, and Azure's own limit would refuse the next restore anyway.
pub const UNENDED_JOB_HOLD: Duration = Duration::from_secs(24 * 3600);

/// Attempts before a slot document that keeps changing is reported full for now. A conflict means another
/// request took or freed a slot meanwhile (progress), and one costs a read and a write, so many are allowed:
/// a busy vault's document is written by every request of the vault.
const MAX_ATTEMPTS: u32 = 200;

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

/// How many holders of `key` other than `except` still hold, as far as a limit of `capacity` needs to know:
/// below it the holders are counted as listed (an upper bound, and no record is read), at or above it each is
/// judged from its record. So the common case costs one read, however many restores a vault has.
pub async fn in_use(
    store: &dyn StateStore,
    key: &str,
    except: &str,
    capacity: usize,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let slots = store.slots(key).await?;
    let others: Vec<&Holder> = slots.holders.iter().filter(|h| h.request_id != except).collect();
    if others.len() < capacity {
        return Ok(others.len());
    }
    let mut live = 0;
    for holder in others {
        if holds(store, holder, now).await? {
            live += 1;
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
        // Holders are judged from their records only when the slots are full, oldest first (they are the likeliest
        // to have finished), and only until one slot is free: a vault with many restores in flight costs a few
        // reads per take, not one per restore.
        if slots.holders.len() >= capacity {
            let mut holders = std::mem::take(&mut slots.holders);
            holders.sort_by_key(|h| h.since);
            let mut kept = Vec::with_capacity(holders.len());
            let mut unjudged = holders.len();
            for holder in holders {
                unjudged -= 1;
                // Keeping it unjudged still leaves a slot free: no need to read its record.
                if kept.len() + 1 + unjudged < capacity || holds(store, &holder, now).await? {
                    kept.push(holder);
                }
            }
            if kept.len() >= capacity {
                return Ok(Taken::Full(kept.into_iter().map(|h| h.request_id).collect()));
            }
            slots.holders = kept;
        }
        slots.holders.push(Holder { request_id: request_id.to_string(), since: now });
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
