//! The operation record (DESIGN §3): one per requestId, the durable memory of a restore request from the moment
//! the intake receives it until its result is published.
//!
//! The record is one serde document (camelCase JSON, RFC 3339 timestamps) so that the Blob store can keep it as
//! one blob and the SQLite store as one row; the fields the store itself queries on (state, vault, next poll
//! time, publication) are typed. Fields owned by other layers (the request as received, the body sent to Azure,
//! the pending long-running operation, the result) are opaque JSON to the store.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The longest request id the stores accept, in UTF-8 bytes.
///
/// The Blob store encodes ids into blob names (base64url, 4/3 expansion) and Azure caps blob names at 1,024
/// characters; 512 bytes leaves room for the prefix. Service Bus message ids (the default request id) are at
/// most 128 characters, so this is generous.
pub const MAX_REQUEST_ID_BYTES: usize = 512;

/// Where a request is in its life.
///
/// `Received → Planned → Triggering → Accepted → Running → terminal`. `Triggering` is the write-ahead state:
/// it is stored *before* the restore POST, so a crash after the POST is detected on redelivery (DESIGN §4,
/// invariant 1). The terminal states are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum State {
    /// Stored by the intake; the request passed schema validation.
    Received,
    /// Policy checked, recovery point chosen, the exact Azure request body built.
    Planned,
    /// Written ahead of the restore POST; the POST may or may not have reached Azure.
    Triggering,
    /// Azure accepted the restore; `operation` holds the pending long-running operation.
    Accepted,
    /// The Azure Backup job is known (`job_id`) and running.
    Running,
    /// The job completed.
    Succeeded,
    /// The job or the trigger failed.
    Failed,
    /// Validation or policy refused the request; no Azure write was made.
    Rejected,
    /// The request's deadline passed before the job ended.
    TimedOut,
    /// The job was cancelled.
    Cancelled,
    /// The outcome cannot be decided automatically (e.g. a write-ahead that cannot be reconciled); a person must
    /// look. Never followed by a second restore.
    NeedsAttention,
}

impl State {
    /// Every state, in life-cycle order.
    pub const ALL: [State; 11] = [
        State::Received,
        State::Planned,
        State::Triggering,
        State::Accepted,
        State::Running,
        State::Succeeded,
        State::Failed,
        State::Rejected,
        State::TimedOut,
        State::Cancelled,
        State::NeedsAttention,
    ];

    /// The states [`crate::StateStore::count_active`] counts: from the write-ahead on, a restore may be using
    /// one of the vault's concurrent-restore slots.
    pub const ACTIVE: [State; 3] = [State::Triggering, State::Accepted, State::Running];

    /// True for the final states.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Succeeded
                | State::Failed
                | State::Rejected
                | State::TimedOut
                | State::Cancelled
                | State::NeedsAttention
        )
    }

    /// True for the states counted against a vault's concurrency limit (see [`State::ACTIVE`]).
    pub fn is_active(self) -> bool {
        State::ACTIVE.contains(&self)
    }

    /// The name used in JSON, in the SQLite `state` column and in blob metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "Received",
            State::Planned => "Planned",
            State::Triggering => "Triggering",
            State::Accepted => "Accepted",
            State::Running => "Running",
            State::Succeeded => "Succeeded",
            State::Failed => "Failed",
            State::Rejected => "Rejected",
            State::TimedOut => "TimedOut",
            State::Cancelled => "Cancelled",
            State::NeedsAttention => "NeedsAttention",
        }
    }

    /// Parses [`State::as_str`] output.
    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the state machine allows moving from `self` to `next`.
    ///
    /// Staying is always allowed (an update that changes other fields). Non-terminal states move forward, may
    /// skip steps (a reconciled write-ahead can go straight to `Running`), and may end in any terminal state.
    /// One step back exists: `Triggering → Planned`, when the POST provably started nothing (not sent, throttled
    /// by ARM, or reconciliation after the settle window found no job), so the request is planned and sent
    /// again. Terminal states are final. The stores do not enforce this (they are storage, not policy); the
    /// intake checks it at every state write (`restore_workflow::intake`).
    pub fn can_move_to(self, next: State) -> bool {
        if self == next {
            return true;
        }
        if self.is_terminal() {
            return false;
        }
        next.is_terminal() || next > self || (self == State::Triggering && next == State::Planned)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused or ended the way it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// A stable code (e.g. `VaultNotAllowed`, or Azure's error code).
    pub code: String,
    /// The message for people.
    pub message: String,
}

/// One operation record. See the module documentation and README.md for the meaning of each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The idempotency key: one record per request id.
    pub request_id: String,
    /// Where the request is.
    pub state: State,
    /// Opaque version for compare-and-swap, set by the store (the SQLite row version or the blob ETag). Empty
    /// on a record that was never stored. The stores write their documents with it cleared (so it is omitted
    /// from the stored JSON) and fill it in on read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// When the intake first received the request.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When the record was last written (set by the caller).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the write-ahead (`Triggering`) was stored: the lower bound for reconciling against Azure's job list.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub write_ahead_at: Option<OffsetDateTime>,
    /// When Azure accepted the restore POST.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<OffsetDateTime>,
    /// The Azure job's start time.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub job_started_at: Option<OffsetDateTime>,
    /// The Azure job's end time.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub job_ended_at: Option<OffsetDateTime>,
    /// The external reference of the source (ticket number, alert id, drill name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_reference: Option<String>,
    /// The restore kind (e.g. `disk`, `vmAlternateLocation`); a string so the store does not depend on the
    /// request contract.
    pub kind: String,
    /// The vault's ARM id, as the request validation rendered it; the key of the per-vault concurrency count.
    pub vault_id: String,
    /// The backup instance or protected item ARM id.
    pub item_id: String,
    /// The validated request as received.
    pub request: Value,
    /// The chosen recovery point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// The exact body sent (or about to be sent) to Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_request_body: Option<Value>,
    /// The pending long-running operation, serialized by the engine; opaque here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Value>,
    /// The Azure Backup job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// When the tracker should look at this record next; see [`crate::StateStore::due`].
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub next_poll_at: Option<OffsetDateTime>,
    /// Restore trigger attempts.
    #[serde(default)]
    pub attempts: u32,
    /// Status polls made.
    #[serde(default)]
    pub polls: u32,
    /// Why the request was refused or ended as it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The result message (built by the tracker/intake); opaque here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Whether the result message was handed to the output binding.
    #[serde(default)]
    pub result_published: bool,
    /// The highest Service Bus delivery count seen for this request.
    #[serde(default)]
    pub delivery_count_seen: u32,
    /// A fresh token per write, so a writer whose conditional write landed but whose answer was lost (a retried
    /// Blob Put then reports `Conflict`) can recognise its own write on re-read ([`crate::write`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub write_id: String,
    /// The delivery that owns planning, validation and the trigger until `until` (see [`Lease`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// A fingerprint of the fields that define the restore, so a reused request id with a different body is
    /// told apart from a redelivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Consecutive failed reads of the operation or job (a glitch is retried; the bound ends the record).
    #[serde(default)]
    pub read_failures: u32,
    /// The tags to put on what the restore creates (the request's, the policy's winning), applied by the
    /// tracker once the job has completed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub restore_tags: std::collections::BTreeMap<String, String>,
    /// Restore jobs Azure started for this request beyond the one followed (a 202 that came back after the
    /// record had moved on): never dropped, always shown to a person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_jobs: Vec<String>,
}

/// Ownership of a record's Azure work by one delivery.
///
/// Exactly one delivery plans, validates and triggers; the others wait for its outcome or hand their message
/// back without calling Azure. A lease left by a crashed owner is taken over once `until` has passed; the owner
/// renews it at every write, so `until` only has to outlast the longest step between two writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// Who holds it (a token per delivery).
    pub owner: String,
    /// When it lapses.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

impl Lease {
    /// Whether someone other than `me` holds it at `now`.
    pub fn held_by_other(&self, me: &str, now: OffsetDateTime) -> bool {
        self.owner != me && self.until > now
    }
}

impl Record {
    /// A new record in `Received`, with every optional field empty.
    pub fn received(
        request_id: impl Into<String>,
        kind: impl Into<String>,
        vault_id: impl Into<String>,
        item_id: impl Into<String>,
        request: Value,
        now: OffsetDateTime,
    ) -> Record {
        Record {
            request_id: request_id.into(),
            state: State::Received,
            version: String::new(),
            received_at: now,
            updated_at: now,
            write_ahead_at: None,
            triggered_at: None,
            job_started_at: None,
            job_ended_at: None,
            source_reference: None,
            kind: kind.into(),
            vault_id: vault_id.into(),
            item_id: item_id.into(),
            request,
            recovery_point_id: None,
            azure_request_body: None,
            operation: None,
            job_id: None,
            next_poll_at: None,
            attempts: 0,
            polls: 0,
            reason: None,
            result: None,
            result_published: false,
            delivery_count_seen: 0,
            write_id: String::new(),
            lease: None,
            fingerprint: None,
            read_failures: 0,
            restore_tags: Default::default(),
            extra_jobs: Vec::new(),
        }
    }

    /// Whether [`crate::StateStore::due`] returns this record at `now`: it has a poll time that has come, and it
    /// is still open (not terminal) or its result still has to be published.
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        self.next_poll_at.is_some_and(|t| t <= now) && self.needs_tracking()
    }

    /// Not finished: not terminal, or terminal with the result not yet published.
    pub fn needs_tracking(&self) -> bool {
        !(self.state.is_terminal() && self.result_published)
    }
}

/// Checks a request id before it is stored; `None` when it is acceptable.
pub fn request_id_problem(request_id: &str) -> Option<String> {
    if request_id.is_empty() {
        return Some("the request id is empty".into());
    }
    if request_id.len() > MAX_REQUEST_ID_BYTES {
        return Some(format!(
            "the request id is {} bytes long; at most {MAX_REQUEST_ID_BYTES} UTF-8 bytes are allowed",
            request_id.len()
        ));
    }
    if request_id.chars().any(char::is_control) {
        return Some("the request id contains a control character".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn state_machine() {
        assert!(State::Received.can_move_to(State::Planned));
        assert!(State::Triggering.can_move_to(State::Running));
        assert!(State::Planned.can_move_to(State::Rejected));
        assert!(!State::Running.can_move_to(State::Planned));
        assert!(State::Triggering.can_move_to(State::Planned), "a POST that provably started nothing steps back");
        assert!(!State::Accepted.can_move_to(State::Planned));
        assert!(!State::Succeeded.can_move_to(State::Failed));
        assert!(State::Succeeded.can_move_to(State::Succeeded));
        assert_eq!(State::ALL.iter().filter(|s| s.is_terminal()).count(), 6);
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), Value::String(s.as_str().into()));
        }
    }

    #[test]
    fn json_is_camel_case_rfc3339_and_omits_the_version() {
        let mut r =
            Record::received("r1", "disk", "/v", "/i", serde_json::json!({"a": 1}), datetime!(2026-01-02 03:04:05 UTC));
        r.version = "7".into();
        r.next_poll_at = Some(datetime!(2026-01-02 03:05:00 UTC));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["requestId"], "r1");
        assert_eq!(json["receivedAt"], "2026-01-02T03:04:05Z");
        assert_eq!(json["nextPollAt"], "2026-01-02T03:05:00Z");
        assert_eq!(json["resultPublished"], false);
        assert_eq!(json["version"], "7");
        assert!(json.get("jobId").is_none(), "absent optionals are omitted");
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        // The stores write documents with the version cleared: the version then is not in the JSON at all.
        let stored = serde_json::to_value(Record { version: String::new(), ..r }).unwrap();
        assert!(stored.get("version").is_none());
    }

    #[test]
    fn due_rule() {
        let now = datetime!(2026-01-02 00:00 UTC);
        let mut r = Record::received("r", "disk", "/v", "/i", Value::Null, now);
        assert!(!r.is_due(now));
        r.next_poll_at = Some(now);
        assert!(r.is_due(now));
        r.state = State::Succeeded;
        assert!(r.is_due(now), "a terminal record whose result is unpublished is still due");
        r.result_published = true;
        assert!(!r.is_due(now));
    }

    #[test]
    fn request_id_rules() {
        assert!(request_id_problem("a/b c ü").is_none());
        assert!(request_id_problem("").is_some());
        assert!(request_id_problem("a\nb").is_some());
        assert!(request_id_problem(&"x".repeat(MAX_REQUEST_ID_BYTES + 1)).is_some());
    }
}
