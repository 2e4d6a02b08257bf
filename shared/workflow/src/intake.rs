//! The intake: one Service Bus message in, at most one Azure restore out, and an answer.
//!
//! Exactly once under at-least-once delivery (DESIGN invariant 1) rests on four rules:
//! 1. **one owner**: a delivery takes the record's [`Lease`] before any Azure call; duplicates wait a short,
//!    bounded time for the owner's answer, or hand their message back without touching Azure. A lease left by a
//!    crashed owner lapses and the next delivery takes over;
//! 2. **every write is a compare-and-swap that recognises its own success** ([`restore_store::write`]): a
//!    conflict behind which the stored record is our write is our write;
//! 3. `Triggering` is written before the POST; the POST is never retried by the transport and may only leave
//!    inside a short send window after the write-ahead, with a bounded wait for its answer;
//! 4. a delivery that finds `Triggering` reconciles with Azure's job list ([`crate::reconcile`]) before it may
//!    post again; the settle window exceeds send window + answer timeout, so an empty job list after it proves
//!    nothing started. Undecidable cases end in `NeedsAttention`, never in a second restore.
//!
//! Outcomes (invariant 3): a rejection is recorded and answered and the invocation succeeds. A transient failure
//! is retried inside the delivery with backoff for up to [`IntakeSettings::transient_retry`] (Service Bus
//! redelivers at once, so failing straight away would spend the message's deliveries in seconds), then fails
//! the invocation; the last delivery ends the record instead (`Failed`, or `NeedsAttention` for an undecided
//! write-ahead) rather than letting the message dead-letter silently.

use std::sync::Arc;
use std::time::Duration;

use restore_contract::alert::rules::alert_request_id;
use restore_contract::alert::{AlertOutcome, map_alert};
use restore_contract::policy::Policy;
use restore_contract::reason::ReasonCode;
use restore_contract::request::{RecoveryPointChoice, RestoreRequest};
use restore_contract::result::{Reason as ResultReason, RestoreResult, ResultStatus, Validation};
use restore_contract::{Incoming, RequestError, classify_with_limit};
use restore_engine::client::{ArmClient, CallError, Started};
use restore_engine::error::{AzureError, Retryability};
use restore_engine::jobs::JobView;
use restore_engine::pipeline::{SendError, SendWindow};
use restore_store::{Lease, Reason, Record, State, StateStore, StoreError, write};
use serde_json::Value;
use time::OffsetDateTime;

use crate::azure::{Prepared, Verdict, prepare, trigger, validate};
use crate::clock::{Clock, SystemClock};
use crate::plan::{AzureCall, Plan, PlanError, plan};
use crate::reconcile::{Reconciled, reconcile};
use crate::results::{result_for, stored_reason, with_azure_error};
use crate::slots;
use crate::tracker::takeover_at;

/// Intake settings (app settings in docs/configuration.md).
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Publish an `Accepted` result when a restore starts (`RESTORE_PUBLISH_ACCEPTED`, default true).
    pub publish_accepted: bool,
    /// Longest wait for Azure's validation (`RESTORE_VALIDATION_TIMEOUT_SECONDS`, default 120).
    pub validation_timeout: Duration,
    /// How long after a write-ahead an empty job list proves the POST started nothing
    /// (`RESTORE_TRIGGER_SETTLE_SECONDS`, default 120). Must exceed `send_window + trigger_timeout`; the rest
    /// is the margin for the lag of Azure's job list.
    pub settle: Duration,
    /// The same for Cross Region Restore, whose secondary-region job list lags more
    /// (`RESTORE_CRR_TRIGGER_SETTLE_SECONDS`, default 900).
    pub crr_settle: Duration,
    /// The restore POST may leave only this long after its write-ahead; later it is not sent
    /// (`RESTORE_TRIGGER_SEND_WINDOW_SECONDS`, default 10).
    pub send_window: Duration,
    /// Longest wait for the restore POST's answer once sent (`RESTORE_TRIGGER_TIMEOUT_SECONDS`, default 30).
    pub trigger_timeout: Duration,
    /// The queue's MaxDeliveryCount (`RESTORE_MAX_DELIVERY_COUNT`, default 10): the last delivery ends the
    /// record instead of failing again.
    pub max_delivery_count: u32,
    /// First poll of a started operation when Azure gives no Retry-After.
    pub first_poll: Duration,
    /// How long a request waits in-process for a slot when its vault is at the policy's concurrent-restore
    /// limit, before the delivery is retried (`RESTORE_CONCURRENCY_WAIT_SECONDS`, default 240).
    pub concurrency_wait: Duration,
    /// How long one delivery owns a record without writing to it (`RESTORE_LEASE_SECONDS`, default 300). The
    /// owner renews it at each write; it must outlast the longest step between two writes (validation, the
    /// settle wait, the concurrency wait, transient backoff).
    pub lease: Duration,
    /// How long a duplicate delivery waits for the owner's answer before handing its message back
    /// (`RESTORE_DUPLICATE_WAIT_SECONDS`, default 30).
    pub duplicate_wait: Duration,
    /// How long one delivery keeps retrying transient failures with backoff before handing its message back
    /// (`RESTORE_TRANSIENT_RETRY_SECONDS`, default 60).
    pub transient_retry: Duration,
    /// How long one delivery waits for a missing role to arrive (Azure answered 403 or a permission error),
    /// retrying every 30 s, before handing its message back (`RESTORE_ROLE_WAIT_SECONDS`, default 240). Role
    /// assignments take up to ~15 minutes to propagate: with ten deliveries this waits about 40 minutes in all
    /// instead of spending the deliveries in seconds.
    pub role_wait: Duration,
    /// How long after its last write a record the intake holds may be taken over by the tracker, once its
    /// lease has lapsed too (`RESTORE_STALE_WRITE_AHEAD_SECONDS`, default 900, the tracker's same setting). The
    /// intake stores that moment as the record's `next_poll_at`, so the tracker's one `due` read finds records
    /// a crashed intake left behind ([`crate::tracker::takeover_at`]).
    pub stale_write_ahead: Duration,
}

impl IntakeSettings {
    /// From app settings, defaults for what is unset; refuses combinations that would break exactly-once.
    pub fn from_env() -> Result<Self, crate::settings::SettingError> {
        use crate::settings::{count, flag, seconds};
        let d = IntakeSettings::default();
        let settings = IntakeSettings {
            publish_accepted: flag("RESTORE_PUBLISH_ACCEPTED", d.publish_accepted)?,
            validation_timeout: seconds("RESTORE_VALIDATION_TIMEOUT_SECONDS", d.validation_timeout)?,
            settle: seconds("RESTORE_TRIGGER_SETTLE_SECONDS", d.settle)?,
            crr_settle: seconds("RESTORE_CRR_TRIGGER_SETTLE_SECONDS", d.crr_settle)?,
            send_window: seconds("RESTORE_TRIGGER_SEND_WINDOW_SECONDS", d.send_window)?,
            trigger_timeout: seconds("RESTORE_TRIGGER_TIMEOUT_SECONDS", d.trigger_timeout)?,
            max_delivery_count: count("RESTORE_MAX_DELIVERY_COUNT", d.max_delivery_count)?,
            first_poll: d.first_poll,
            concurrency_wait: seconds("RESTORE_CONCURRENCY_WAIT_SECONDS", d.concurrency_wait)?,
            lease: seconds("RESTORE_LEASE_SECONDS", d.lease)?,
            duplicate_wait: seconds("RESTORE_DUPLICATE_WAIT_SECONDS", d.duplicate_wait)?,
            transient_retry: seconds("RESTORE_TRANSIENT_RETRY_SECONDS", d.transient_retry)?,
            role_wait: seconds("RESTORE_ROLE_WAIT_SECONDS", d.role_wait)?,
            stale_write_ahead: seconds("RESTORE_STALE_WRITE_AHEAD_SECONDS", d.stale_write_ahead)?,
        };
        settings.check()?;
        Ok(settings)
    }

    /// The settle window for `call`'s path.
    pub fn settle_for(&self, call: &AzureCall) -> Duration {
        match call {
            AzureCall::RsvCrossRegionRestore { .. } => self.crr_settle,
            _ => self.settle,
        }
    }

    /// Refuses settings under which an empty job list would not prove that nothing started.
    pub fn check(&self) -> Result<(), crate::settings::SettingError> {
        let bound = self.send_window + self.trigger_timeout;
        for (name, settle) in
            [("RESTORE_TRIGGER_SETTLE_SECONDS", self.settle), ("RESTORE_CRR_TRIGGER_SETTLE_SECONDS", self.crr_settle)]
        {
            if settle <= bound {
                return Err(crate::settings::SettingError {
                    name,
                    value: format!("{}", settle.as_secs_f64()),
                    expected: "more than RESTORE_TRIGGER_SEND_WINDOW_SECONDS + RESTORE_TRIGGER_TIMEOUT_SECONDS (a POST can land until then), plus a margin for Azure's job-list lag",
                });
            }
        }
        if self.lease <= bound {
            return Err(crate::settings::SettingError {
                name: "RESTORE_LEASE_SECONDS",
                value: format!("{}", self.lease.as_secs_f64()),
                expected: "more than RESTORE_TRIGGER_SEND_WINDOW_SECONDS + RESTORE_TRIGGER_TIMEOUT_SECONDS (the owner writes nothing while its POST is out)",
            });
        }
        Ok(())
    }
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            publish_accepted: true,
            validation_timeout: Duration::from_secs(120),
            settle: Duration::from_secs(120),
            crr_settle: Duration::from_secs(900),
            send_window: Duration::from_secs(10),
            trigger_timeout: Duration::from_secs(30),
            max_delivery_count: 10,
            first_poll: Duration::from_secs(10),
            concurrency_wait: Duration::from_secs(240),
            lease: Duration::from_secs(300),
            duplicate_wait: Duration::from_secs(30),
            transient_retry: Duration::from_secs(60),
            role_wait: Duration::from_secs(240),
            stale_write_ahead: Duration::from_secs(900),
        }
    }
}

/// One delivery of a message.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// The message body.
    pub body: &'a [u8],
    /// Service Bus MessageId (the default request id).
    pub message_id: Option<&'a str>,
    /// Service Bus DeliveryCount (1 on the first delivery).
    pub delivery_count: u32,
}

/// What the invocation answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Success (HTTP 200 to the host, message completed); these results go to the results output.
    Complete(Vec<RestoreResult>),
    /// Failure (the host abandons the message; Service Bus redelivers it).
    Retry(String),
}

/// The intake.
#[derive(Debug, Clone)]
pub struct Intake {
    client: ArmClient,
    store: Arc<dyn StateStore>,
    policy: Arc<Policy>,
    settings: IntakeSettings,
    clock: Arc<dyn Clock>,
}

/// Why a delivery stops without an answer.
#[derive(Debug)]
enum Stop {
    /// A failure that may pass: retried in the delivery, then the message is handed back.
    Transient {
        /// What failed.
        why: String,
        /// Wait at least this long before trying again (Azure's Retry-After, a role still propagating).
        wait: Option<Duration>,
        /// Not worth retrying inside this delivery (a role assignment takes minutes).
        hand_back: bool,
    },
    /// Another live delivery owns the record: answer nothing, make no Azure call.
    Busy(String),
    /// Azure refused for lack of a role, which may still be propagating: waited for up to `role_wait`.
    MissingRole(String),
}

impl Stop {
    fn transient(why: impl Into<String>) -> Stop {
        Stop::Transient { why: why.into(), wait: None, hand_back: false }
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::transient(format!("state store: {e}"))
    }
}

impl From<CallError> for Stop {
    fn from(e: CallError) -> Self {
        if matches!(&e, CallError::Azure(a) if a.retry == Retryability::AfterRoleAssignment) {
            return Stop::MissingRole(e.to_string());
        }
        Stop::Transient { why: e.to_string(), wait: None, hand_back: false }
    }
}

/// How often a delivery tries again while a missing role propagates.
const ROLE_RETRY: Duration = Duration::from_secs(30);

/// A bound on every loop that re-reads after a conflict: a livelock shows up as a log line and a handed-back
/// message, never as a spin.
const MAX_CONFLICT_RETRIES: u32 = 20;

/// Whether a record at `state` already has its answer (no more Azure work for the intake).
fn answered(state: State) -> bool {
    state.is_terminal() || matches!(state, State::Accepted | State::Running)
}

impl Intake {
    /// An intake over a client, a store and a policy, on the system clock.
    pub fn new(client: ArmClient, store: Arc<dyn StateStore>, policy: Arc<Policy>, settings: IntakeSettings) -> Self {
        Intake { client, store, policy, settings, clock: Arc::new(SystemClock) }
    }

    /// The same intake reading time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Intake { clock, ..self }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Handles one delivery.
    pub async fn handle(&self, delivery: Delivery<'_>) -> Outcome {
        let last = delivery.delivery_count >= self.settings.max_delivery_count;
        let me = uuid::Uuid::new_v4().simple().to_string();
        let mut request_id = None;
        match self.handle_inner(&delivery, &me, &mut request_id).await {
            Ok(results) => {
                if last {
                    self.leave_for_the_tracker(&results).await;
                }
                Outcome::Complete(results)
            }
            Err(Stop::Busy(why)) if last => {
                // The owner answers for the request; this copy's last delivery must not dead-letter it or end
                // the record under the owner's feet.
                tracing::info!(delivery = delivery.delivery_count, why = %why, "duplicate on its last delivery: completed without an answer");
                Outcome::Complete(Vec::new())
            }
            Err(Stop::Busy(why)) => Outcome::Retry(why),
            Err(Stop::Transient { why, .. } | Stop::MissingRole(why)) => {
                tracing::warn!(delivery = delivery.delivery_count, why = %why, "transient failure");
                match (last, request_id) {
                    (true, Some(id)) => match self.give_up(&id, &me, &why).await {
                        Ok(results) => Outcome::Complete(results),
                        Err(Stop::Busy(_)) => Outcome::Complete(Vec::new()),
                        Err(e) => Outcome::Retry(format!("{why}; and the record could not be closed: {e:?}")),
                    },
                    // Nothing recorded (the store itself is failing): let the message dead-letter, where
                    // operators see it.
                    _ => Outcome::Retry(why),
                }
            }
        }
    }

    /// On the message's last delivery the host's output is the only copy of its answer, and if that send fails
    /// the message dead-letters: so terminal results answered now are also left unpublished and due, and the
    /// tracker sends them again (consumers dedupe on requestId + status). Best effort: a failure here is logged.
    async fn leave_for_the_tracker(&self, results: &[RestoreResult]) {
        for result in results {
            let Ok(Some(mut record)) = self.store.get(&result.request_id).await else { continue };
            if !(record.state.is_terminal() && record.result_published) {
                continue;
            }
            record.result_published = false;
            record.next_poll_at = Some(self.now());
            record.updated_at = self.now();
            if let Err(e) = write::update(self.store.as_ref(), &record).await {
                tracing::warn!(request_id = %record.request_id, error = %e, "last-delivery result not left for the tracker");
            }
        }
    }

    async fn handle_inner(
        &self,
        delivery: &Delivery<'_>,
        me: &str,
        request_id_out: &mut Option<String>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let fallback_id = delivery.message_id.unwrap_or("").to_string();
        let request = match classify_with_limit(delivery.body, self.policy.max_message_bytes) {
            Ok(Incoming::Request(request)) => *request,
            Ok(Incoming::Alert(alert)) => match map_alert(&alert, &self.policy.alert_rules) {
                AlertOutcome::Restore(request) => *request,
                other => return self.record_alert_without_restore(&alert.essentials().alert_id, other).await,
            },
            Err(error) => return self.reject_unparsed(delivery, &fallback_id, &error).await,
        };
        let request_id = request.request_id.clone().unwrap_or(fallback_id);
        if let Some(problem) = restore_store::record::request_id_problem(&request_id) {
            let error = RequestError::new(
                restore_contract::RequestErrorKind::InvalidValue,
                Some("requestId"),
                problem,
                "set requestId (or the Service Bus MessageId) to a short identifier",
            );
            return Ok(vec![RestoreResult::rejected(request_id, &error)]);
        }
        *request_id_out = Some(request_id.clone());
        let (record, checked) = self.open(&request_id, &request, delivery, me).await?;
        if let Some(result) = id_reused(&record, &request) {
            return Ok(vec![result]);
        }
        if answered(record.state) {
            // A duplicate or a redelivery after the work was done: answer again with what we know (results may
            // repeat; consumers dedupe on requestId + status).
            return Ok(stored_result(&record).into_iter().collect());
        }
        let record = match self.claim(record, me).await? {
            Claim::Owned(record) => *record,
            Claim::Answered(results) => return Ok(results),
        };
        self.run_owned(record, &request, checked, me).await
    }

    /// Runs the owner's work, retrying transient failures with backoff inside this delivery for up to
    /// `transient_retry`, from the freshly stored record each time.
    async fn run_owned(
        &self,
        record: Record,
        request: &RestoreRequest,
        checked: bool,
        me: &str,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let request_id = record.request_id.clone();
        let give_up_at = self.now() + self.settings.transient_retry;
        let role_give_up_at = self.now() + self.settings.role_wait;
        let mut pause = Duration::from_secs(1);
        let mut record = record;
        let mut checked = checked;
        for attempt in 1u32.. {
            let outcome = match record.state {
                // Created by this delivery with the time and policy checks passed: planning need not repeat them.
                State::Received if checked => self.process_checked(record, request).await,
                State::Received | State::Planned => self.process(record, request).await,
                State::Triggering => self.after_write_ahead(record, request).await,
                _ => return Ok(stored_result(&record).into_iter().collect()),
            };
            checked = false;
            let (why, wait, deadline) = match outcome {
                Err(Stop::Transient { why, wait, hand_back: false }) => {
                    (why, wait.unwrap_or(pause).max(pause), give_up_at)
                }
                // Roles take minutes to propagate: retry every 30 s for up to `role_wait` in this delivery.
                Err(Stop::MissingRole(why)) => (why, ROLE_RETRY, role_give_up_at),
                other => return other,
            };
            if self.now() + wait >= deadline {
                return Err(Stop::transient(why));
            }
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, why = %why, "transient failure; retrying in this delivery");
            record = match self.store.get(&request_id).await? {
                Some(r) => r,
                None => return Err(Stop::transient("the record vanished")),
            };
            if answered(record.state) {
                return Ok(stored_result(&record).into_iter().collect());
            }
            if record.lease.as_ref().is_none_or(|l| l.owner != me) {
                return Err(Stop::Busy("another delivery took over this request".into()));
            }
            record = self.pause_owned(record, wait).await?;
            pause = (pause * 2).min(Duration::from_secs(15));
        }
        unreachable!("the loop returns")
    }
}

/// What claiming a record gave.
enum Claim {
    /// This delivery owns the record (the stored copy, with our lease).
    Owned(Box<Record>),
    /// The owner finished while we waited: its answer.
    Answered(Vec<RestoreResult>),
}

impl Intake {
    /// Finds or creates the record for this request. A record this delivery creates carries its lease.
    ///
    /// A new request the policy or the clock refuses outright is stored directly as `Rejected` with its result:
    /// one store write instead of two, on the path that must be cheapest (bad input costs no Azure call).
    ///
    /// Returns the record and whether this delivery created it after the time and policy checks passed.
    async fn open(
        &self,
        request_id: &str,
        request: &RestoreRequest,
        delivery: &Delivery<'_>,
        me: &str,
    ) -> Result<(Record, bool), Stop> {
        if let Some(existing) = self.store.get(request_id).await? {
            return Ok((existing, false));
        }
        let now = self.now();
        let (refusal, checked) = match time_problem(request, now) {
            Some(reason) => (Some(reason), false),
            None => {
                let vault = slots::vault_key(request.operation.vault_id().as_str());
                let limit = self.policy.max_concurrent_restores_per_vault;
                let active = if slots::tracks_vault_limit(limit) {
                    slots::in_use(self.store.as_ref(), &vault, request_id, limit, now).await?
                } else {
                    0
                };
                match self.policy.check(request, active) {
                    Ok(()) => (None, true),
                    // A full vault is waited for in `process`; only outright refusals are settled here.
                    Err(r) if r.retryable => (None, false),
                    Err(r) => (Some(ResultReason::from(&r)), false),
                }
            }
        };
        let mut record = new_record(request_id, request, delivery.delivery_count, now);
        if let Some(reason) = refusal {
            reject(&mut record, reason);
        } else {
            record.lease = Some(Lease { owner: me.to_string(), until: now + self.settings.lease });
            self.hold(&mut record);
        }
        match write::create(self.store.as_ref(), &record).await {
            Ok(created) => Ok((created, checked)),
            Err(StoreError::AlreadyExists { existing }) => Ok((*existing, false)),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes the record's lease, or waits (bounded by `duplicate_wait`, no Azure call) for the delivery that
    /// holds it to answer.
    async fn claim(&self, record: Record, me: &str) -> Result<Claim, Stop> {
        let give_up_at = self.now() + self.settings.duplicate_wait;
        let mut pause = Duration::from_millis(100);
        let mut record = record;
        let mut conflicts = 0u32;
        loop {
            if answered(record.state) {
                return Ok(Claim::Answered(stored_result(&record).into_iter().collect()));
            }
            let now = self.now();
            match &record.lease {
                Some(lease) if lease.owner == me => return Ok(Claim::Owned(Box::new(record))),
                Some(lease) if lease.held_by_other(me, now) => {
                    if now + pause > give_up_at {
                        return Err(Stop::Busy(format!(
                            "another delivery owns request {} until {}; handed back without calling Azure",
                            record.request_id, lease.until
                        )));
                    }
                    tracing::debug!(request_id = %record.request_id, "waiting for the delivery that owns the request");
                    self.clock.sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                _ => {
                    let mut mine = record.clone();
                    mine.lease = Some(Lease { owner: me.to_string(), until: now + self.settings.lease });
                    mine.updated_at = now;
                    self.hold(&mut mine);
                    match write::update(self.store.as_ref(), &mine).await {
                        Ok(stored) => {
                            if record.lease.is_some() {
                                tracing::info!(request_id = %stored.request_id, state = %stored.state, "took over a lapsed lease");
                            }
                            return Ok(Claim::Owned(Box::new(stored)));
                        }
                        Err(StoreError::Conflict { .. }) => {
                            conflicts += 1;
                            if conflicts >= MAX_CONFLICT_RETRIES {
                                tracing::warn!(request_id = %record.request_id, conflicts, "cannot take the lease: the record keeps changing");
                                return Err(Stop::Busy("the record keeps changing; handed back".into()));
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            record = self.reread(&record.request_id).await?;
        }
    }

    /// Waits `duration` while owning `record`, in steps no longer than a third of the lease, renewing the lease
    /// whenever less than half of it is left: an owner that waits (for a slot, Azure's job list, a backoff)
    /// never lets its lease lapse and so never has its request taken over while it is alive.
    async fn pause_owned(&self, record: Record, duration: Duration) -> Result<Record, Stop> {
        let step = (self.settings.lease / 3).max(Duration::from_millis(10));
        let until = self.now() + duration;
        let mut record = record;
        loop {
            let now = self.now();
            if now >= until {
                return Ok(record);
            }
            if record.lease.as_ref().is_some_and(|l| l.until - now < self.settings.lease / 2) {
                record = self.write(record, |_| {}).await?;
            }
            let left = Duration::try_from(until - now).unwrap_or_default();
            self.clock.sleep(left.min(step)).await;
        }
    }

    /// Runs `step` (planning, Azure's validation, the CRR token calls: work that writes nothing for a while)
    /// while keeping `record`'s lease alive, and returns the record as last written with the step's output.
    async fn while_owned<T>(&self, record: Record, step: impl Future<Output = T>) -> Result<(Record, T), Stop> {
        let beat = (self.settings.lease / 3).max(Duration::from_millis(10));
        let mut record = record;
        let mut step = std::pin::pin!(step);
        loop {
            tokio::select! {
                output = &mut step => return Ok((record, output)),
                _ = self.clock.sleep(beat) => {
                    if record.lease.as_ref().is_some_and(|l| l.until - self.now() < self.settings.lease / 2) {
                        record = self.write(record, |_| {}).await?;
                    }
                }
            }
        }
    }

    /// Stamps a record the intake holds with the moment the tracker may take it over, as its `next_poll_at`:
    /// the tracker's tick then finds what a crashed intake left behind with its one `due` read. Records the
    /// intake hands on (accepted, ended) keep the `next_poll_at` their step set.
    fn hold(&self, record: &mut Record) {
        if let Some(at) = takeover_at(record, self.settings.stale_write_ahead) {
            record.next_poll_at = Some(at);
        }
    }

    async fn reread(&self, request_id: &str) -> Result<Record, Stop> {
        self.store.get(request_id).await?.ok_or_else(|| Stop::transient(format!("record {request_id} vanished")))
    }

    /// The owner's write: applies `change` to the stored record, checks the state machine allows it, renews
    /// the lease (or drops it on a terminal state), and compare-and-swaps. A conflict means the lease was lost
    /// (it lapsed and another delivery took over): stop, answer nothing.
    async fn write(&self, record: Record, change: impl FnOnce(&mut Record)) -> Result<Record, Stop> {
        let from = record.state;
        let mut next = record;
        change(&mut next);
        if !from.can_move_to(next.state) {
            return Err(Stop::transient(format!(
                "refusing to move request {} from {from} to {} (the state machine does not allow it)",
                next.request_id, next.state
            )));
        }
        let now = self.now();
        next.updated_at = now;
        next.lease = match (next.state.is_terminal(), next.lease.take()) {
            (false, Some(lease)) => Some(Lease { until: now + self.settings.lease, ..lease }),
            _ => None,
        };
        self.hold(&mut next);
        match write::update(self.store.as_ref(), &next).await {
            Ok(stored) => Ok(stored),
            Err(StoreError::Conflict { .. }) => {
                tracing::warn!(request_id = %next.request_id, "lost the record's lease to another delivery");
                Err(Stop::Busy(format!("request {}: another delivery took over", next.request_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn process(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        if let Some(reason) = time_problem(request, self.now()) {
            return self.finish_rejected_with(record, reason, None).await;
        }
        let (record, refusal) = self.check_policy(record, request).await?;
        if let Some(refusal) = refusal {
            if refusal.retryable && !request.options.validate_only {
                return Err(Stop::Transient { why: refusal.message.clone(), wait: None, hand_back: true });
            }
            let reason = ResultReason::from(&refusal);
            return self.finish_rejected_with(record, reason, None).await;
        }
        self.process_checked(record, request).await
    }

    /// The policy check. A vault at its concurrent-restore limit is waited for here, up to
    /// `concurrency_wait` (Service Bus redelivers at once, so failing straight away would spend the message's
    /// deliveries in milliseconds while the running restores take minutes). The lease is renewed meanwhile.
    async fn check_policy(
        &self,
        record: Record,
        request: &RestoreRequest,
    ) -> Result<(Record, Option<restore_contract::PolicyRefusal>), Stop> {
        let give_up_at = self.now() + self.settings.concurrency_wait;
        let mut pause = Duration::from_millis(250);
        let mut record = record;
        loop {
            let vault = slots::vault_key(&record.vault_id);
            let limit = self.policy.max_concurrent_restores_per_vault;
            let active = if slots::tracks_vault_limit(limit) {
                slots::in_use(self.store.as_ref(), &vault, &record.request_id, limit, self.now()).await?
            } else {
                0
            };
            match self.policy.check(request, active) {
                Err(refusal) if refusal.retryable && self.now() + pause < give_up_at => {
                    tracing::info!(vault = %record.vault_id, active, "vault at its concurrent-restore limit; waiting for a slot");
                    record = self.pause_owned(record, pause).await?;
                    pause = (pause * 2).min(Duration::from_secs(15));
                }
                Ok(()) => return Ok((record, None)),
                Err(refusal) => return Ok((record, Some(refusal))),
            }
        }
    }

    /// Plans, validates and triggers a record whose time and policy checks have passed.
    async fn process_checked(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        let started = self.now();
        let ctx = ArmClient::context(&record.request_id);
        let request_id = record.request_id.clone();
        let planning = plan(&self.client, &ctx, request, &request_id, &self.policy, started);
        let (record, planned) = self.while_owned(record, planning).await?;
        let planned = match planned {
            Ok(p) => p,
            Err(PlanError::Rejected { code, message }) => {
                return self.finish_rejected(record, code, message, None).await;
            }
            Err(PlanError::Transient(e)) => return Err(e.into()),
        };
        let record = self
            .write(record, |r| {
                r.state = State::Planned;
                r.recovery_point_id = planned.recovery_point_id.clone();
                r.azure_request_body = serde_json::to_value(&planned.call).ok();
                if planned.call.is_restore() {
                    r.restore_tags = self.policy.tags_for(request);
                }
            })
            .await?;
        let validating = validate(&self.client, &ctx, &planned.call, self.now(), self.settings.validation_timeout);
        let (record, verdict) = self.while_owned(record, validating).await?;
        let verdict = match verdict {
            Ok(v) => v,
            Err(PlanError::Rejected { code, message }) => {
                return self.finish_rejected(record, code, message, None).await;
            }
            Err(PlanError::Transient(e)) => return Err(e.into()),
        };
        if let Verdict::Refused(error) = &verdict {
            let (code, message) = (ReasonCode::azure(error.code.clone()), error.message.clone());
            return self.finish_rejected(record, code, message, Some(error)).await;
        }
        if request.options.validate_only {
            return self.finish_validated(record, &planned, &verdict).await;
        }
        self.write_ahead_and_trigger(record, &planned.call).await
    }

    /// Everything that may wait (the CRR token calls) happens before the write-ahead; then the write-ahead, then
    /// the POST inside its send window.
    async fn write_ahead_and_trigger(&self, record: Record, call: &AzureCall) -> Result<Vec<RestoreResult>, Stop> {
        let ctx = ArmClient::context(&record.request_id);
        let record = self.take_slots(record, call).await?;
        // A credential, fetched fresh for each attempt and never stored.
        let (record, prepared) = self.while_owned(record, prepare(&self.client, &ctx, call)).await?;
        let prepared = prepared?;
        let record = self
            .write(record, |r| {
                r.state = State::Triggering;
                r.write_ahead_at = Some(self.now());
                r.attempts = r.attempts.saturating_add(1);
            })
            .await?;
        self.send(record, call, &prepared).await
    }

    /// Takes the item's slot (restores: one in flight per item) and a slot of the vault's concurrent-restore
    /// limit, waiting in-process up to `concurrency_wait` (renewing the lease) when either is full, then handing
    /// the message back. Taken after planning and validation, so a request that will be rejected never waits.
    async fn take_slots(&self, record: Record, call: &AzureCall) -> Result<Record, Stop> {
        let mut wanted = Vec::new();
        if call.is_restore() {
            wanted.push((slots::item_key(&record.item_id), 1usize, "the item already has a restore in flight"));
        }
        if slots::tracks_vault_limit(self.policy.max_concurrent_restores_per_vault) {
            wanted.push((
                slots::vault_key(&record.vault_id),
                self.policy.max_concurrent_restores_per_vault,
                "the vault is at the policy's maxConcurrentRestoresPerVault",
            ));
        }
        let give_up_at = self.now() + self.settings.concurrency_wait;
        let mut pause = Duration::from_millis(250);
        let mut record = record;
        for (key, capacity, what) in wanted {
            loop {
                match slots::take(self.store.as_ref(), &key, capacity, &record.request_id, self.now()).await? {
                    slots::Taken::Yes => break,
                    slots::Taken::Full(holders) if self.now() + pause < give_up_at => {
                        tracing::info!(request_id = %record.request_id, slot = %key, holders = ?holders, "{what}; waiting for a slot");
                        record = self.pause_owned(record, pause).await?;
                        pause = (pause * 2).min(Duration::from_secs(15));
                    }
                    slots::Taken::Full(holders) => {
                        return Err(Stop::Transient {
                            why: format!("{what} ({}); handed back", holders.join(", ")),
                            wait: None,
                            hand_back: true,
                        });
                    }
                }
            }
        }
        Ok(record)
    }

    /// Sends the call for a record already in `Triggering` (write-ahead stored) and records what happened.
    async fn send(&self, record: Record, call: &AzureCall, prepared: &Prepared) -> Result<Vec<RestoreResult>, Stop> {
        let mut ctx = ArmClient::context(&record.request_id);
        ctx.insert(SendWindow {
            not_after: tokio::time::Instant::now() + self.settings.send_window,
            timeout: self.settings.trigger_timeout,
        });
        let sent_at = self.now();
        tracing::info!(request_id = %record.request_id, item = %call.item(), attempt = record.attempts, "triggering");
        match trigger(&self.client, &ctx, call, prepared, sent_at).await {
            Ok(Started::Pending(op)) => {
                let accepted = self
                    .write(record.clone(), |r| {
                        r.state = State::Accepted;
                        r.triggered_at = Some(sent_at);
                        r.next_poll_at = Some(op.next_poll_at);
                        r.operation = serde_json::to_value(&op).ok();
                        keep_accepted_result(r);
                    })
                    .await;
                match accepted {
                    Ok(stored) => Ok(self.answer_accepted(&stored)),
                    Err(Stop::Busy(_)) => {
                        self.record_extra_job(&record.request_id, &format!("operation {}", op.poll_url)).await
                    }
                    Err(e) => Err(e),
                }
            }
            Ok(Started::Done(body)) => {
                let job = body.as_ref().and_then(restore_engine::lro::job_id_in);
                match (job, call.is_restore()) {
                    (Some(job_id), _) => {
                        let running = self
                            .write(record.clone(), |r| {
                                r.state = State::Running;
                                r.triggered_at = Some(sent_at);
                                r.job_id = Some(job_id.clone());
                                r.next_poll_at = Some(sent_at + self.settings.first_poll);
                                keep_accepted_result(r);
                            })
                            .await;
                        match running {
                            Ok(stored) => Ok(self.answer_accepted(&stored)),
                            Err(Stop::Busy(_)) => self.record_extra_job(&record.request_id, &job_id).await,
                            Err(e) => Err(e),
                        }
                    }
                    // A protection change Azure completed synchronously.
                    (None, false) => {
                        let record = self.write(record, |r| r.triggered_at = Some(sent_at)).await?;
                        self.finish(record, State::Succeeded, None, None).await
                    }
                    // A restore answered 2xx without a job or an operation to follow: it proves nothing (an
                    // empty or cut-off body). Reconcile, as after a lost answer.
                    (None, true) => Err(Stop::transient(
                        "the restore POST was answered without a job id or an operation to follow; reconciling",
                    )),
                }
            }
            Err(e) => self.trigger_failed(record, e).await,
        }
    }

    /// What a failed trigger proves, and what follows.
    async fn trigger_failed(&self, record: Record, error: CallError) -> Result<Vec<RestoreResult>, Stop> {
        match TriggerFailure::of(&error) {
            TriggerFailure::Refused(e) => {
                // Azure refused the restore itself: it did not start.
                let reason = stored_reason(&ReasonCode::azure(e.code.clone()), &e.message);
                self.finish(record, State::Failed, Some(reason), Some(&e)).await
            }
            TriggerFailure::NotStarted { wait } => {
                // Nothing started: step back so the next attempt plans (re-checking policy, deadline and the
                // recovery point) and posts again.
                self.write(record, |r| {
                    r.state = State::Planned;
                    r.write_ahead_at = None;
                })
                .await?;
                Err(Stop::Transient { why: format!("trigger not sent: {error}"), wait, hand_back: false })
            }
            TriggerFailure::MissingRole => {
                self.write(record, |r| {
                    r.state = State::Planned;
                    r.write_ahead_at = None;
                })
                .await?;
                Err(Stop::MissingRole(format!("trigger refused: {error}")))
            }
            TriggerFailure::UnsafeStatusUrl => {
                // Azure accepted the restore but pointed its status at another host: follow the job instead.
                let now = self.now();
                let stored = self
                    .write(record, |r| {
                        r.state = State::Accepted;
                        r.triggered_at = Some(now);
                        r.next_poll_at = Some(now + self.settings.first_poll);
                        r.reason = Some(stored_reason(&ReasonCode::UnsafeOperationUrl, &error.to_string()));
                        keep_accepted_result(r);
                    })
                    .await?;
                Ok(self.answer_accepted(&stored))
            }
            // The POST may have started a restore: keep the write-ahead; reconciliation decides.
            TriggerFailure::Unknown => Err(Stop::transient(format!("trigger outcome unknown: {error}"))),
        }
    }

    /// A delivery that owns a write-ahead: reconcile before anything else.
    async fn after_write_ahead(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        let Some(call) = call_of(&record) else {
            let reason = "the write-ahead record has no readable Azure call; cannot tell what was sent";
            return self
                .finish(
                    record,
                    State::NeedsAttention,
                    Some(stored_reason(&ReasonCode::UnreadableWriteAhead, reason)),
                    None,
                )
                .await;
        };
        let write_ahead_at = record.write_ahead_at.unwrap_or(record.updated_at);
        let ctx = ArmClient::context(&record.request_id);
        let settle = self.settings.settle_for(&call);
        let mut record = record;
        let mut waits = 0u32;
        loop {
            let point = record.recovery_point_id.as_deref();
            match reconcile(&self.client, &ctx, &call, point, write_ahead_at, self.now(), settle).await? {
                Reconciled::Found(job) => return self.adopt(record, &job).await,
                Reconciled::NotStarted => {
                    tracing::info!(request_id = %record.request_id, "write-ahead reconciled: nothing started; planning and sending again");
                    let record = self
                        .write(record, |r| {
                            r.state = State::Planned;
                            r.write_ahead_at = None;
                        })
                        .await?;
                    return Box::pin(self.process(record, request)).await;
                }
                Reconciled::TooEarly(wait) if waits < 3 => {
                    // Azure's job list can lag; wait out the settle window here rather than burn a delivery.
                    tracing::info!(request_id = %record.request_id, wait_ms = wait.as_millis() as u64, "write-ahead too recent to reconcile; waiting");
                    record = self.pause_owned(record, wait).await?;
                    waits += 1;
                }
                Reconciled::TooEarly(wait) => {
                    return Err(Stop::Transient {
                        why: "write-ahead still inside its settle window".into(),
                        wait: Some(wait),
                        hand_back: false,
                    });
                }
                Reconciled::Ambiguous(why) => {
                    return self
                        .finish(
                            record,
                            State::NeedsAttention,
                            Some(stored_reason(&ReasonCode::AmbiguousWriteAhead, &why)),
                            None,
                        )
                        .await;
                }
            }
        }
    }

    /// Adopts a job found by reconciliation.
    async fn adopt(&self, record: Record, job: &JobView) -> Result<Vec<RestoreResult>, Stop> {
        tracing::info!(request_id = %record.request_id, job_id = %job.job_id, "write-ahead reconciled: adopting the job");
        let now = self.now();
        let stored = self
            .write(record, |r| {
                r.state = State::Running;
                r.job_id = Some(job.job_id.clone());
                r.job_started_at = job.started_at;
                r.triggered_at = r.triggered_at.or(r.write_ahead_at);
                r.next_poll_at = Some(now);
                keep_accepted_result(r);
            })
            .await?;
        Ok(self.answer_accepted(&stored))
    }

    /// The answer for a record stored as accepted: its Accepted result (kept by the same write), if configured.
    fn answer_accepted(&self, record: &Record) -> Vec<RestoreResult> {
        if self.settings.publish_accepted { vec![result_for(record, ResultStatus::Accepted)] } else { Vec::new() }
    }

    /// Azure started a restore for this request after the record had moved on without us (our lease lapsed
    /// and another delivery took over): record the extra job and hand the request to a person. Never dropped.
    async fn record_extra_job(&self, request_id: &str, job: &str) -> Result<Vec<RestoreResult>, Stop> {
        tracing::error!(request_id = %request_id, job = %job, "a restore started after another delivery took over: recording it");
        for _ in 0..MAX_CONFLICT_RETRIES {
            let mut fresh = self.reread(request_id).await?;
            fresh.extra_jobs.push(job.to_string());
            let message = format!(
                "Azure started a second restore for this request ({job}) after another delivery took it over; check both jobs: {}",
                fresh.extra_jobs.join(", ")
            );
            let reason = stored_reason(&ReasonCode::ExtraRestoreStarted, &message);
            if !fresh.state.is_terminal() {
                fresh.state = State::NeedsAttention;
            }
            fresh.reason = Some(reason);
            let mut result = result_for(&fresh, ResultStatus::NeedsAttention);
            result.azure.get_or_insert_with(Default::default).job_id = fresh.job_id.clone().or(Some(job.to_string()));
            fresh.result = serde_json::to_value(&result).ok();
            fresh.result_published = true;
            fresh.lease = None;
            fresh.next_poll_at = None;
            fresh.updated_at = self.now();
            match write::update(self.store.as_ref(), &fresh).await {
                Ok(_) => return Ok(vec![result]),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Stop::transient(format!("could not record the extra restore job {job} for {request_id}")))
    }

    async fn finish_rejected(
        &self,
        record: Record,
        code: ReasonCode,
        message: String,
        azure: Option<&AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        self.finish(record, State::Rejected, Some(stored_reason(&code, &message)), azure).await
    }

    async fn finish_rejected_with(
        &self,
        record: Record,
        reason: ResultReason,
        azure: Option<&AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let stored_reason = stored_reason(&reason.code, &reason.message);
        let mut result = result_for(&preview(&record, State::Rejected, Some(&stored_reason)), ResultStatus::Rejected);
        result.reason = Some(reason);
        if let Some(e) = azure {
            result = with_azure_error(result, e);
        }
        self.store_final(record, State::Rejected, Some(stored_reason), result).await
    }

    async fn finish_validated(
        &self,
        record: Record,
        planned: &Plan,
        verdict: &Verdict,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let reason = stored_reason(&ReasonCode::ValidateOnly, "validated; nothing was triggered");
        let mut result = result_for(&preview(&record, State::Succeeded, Some(&reason)), ResultStatus::Validated);
        result.validation = Some(Validation {
            policy_passed: true,
            azure_passed: match verdict {
                Verdict::Passed => Some(true),
                Verdict::NotAvailable => None,
                Verdict::Refused(_) => Some(false),
            },
            recovery_point_id: planned.recovery_point_id.clone(),
            messages: match verdict {
                Verdict::NotAvailable => {
                    vec!["Azure has no validation for this operation; policy and recovery point checked".into()]
                }
                _ => Vec::new(),
            },
        });
        self.store_final(record, State::Succeeded, Some(reason), result).await
    }

    async fn finish(
        &self,
        record: Record,
        state: State,
        reason: Option<Reason>,
        azure: Option<&AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let after = preview(&record, state, reason.as_ref());
        let status = crate::results::status_of(&after).unwrap_or(ResultStatus::NeedsAttention);
        let mut result = result_for(&after, status);
        if let Some(e) = azure {
            result = with_azure_error(result, e);
        }
        self.store_final(record, state, reason, result).await
    }

    /// Stores a final state with its result, published through this invocation's output (a lost output is
    /// sent again on redelivery: the stored result is the answer to every later copy of the message).
    async fn store_final(
        &self,
        record: Record,
        state: State,
        reason: Option<Reason>,
        result: RestoreResult,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let value = serde_json::to_value(&result).ok();
        self.write(record, |r| {
            r.state = state;
            r.reason = reason;
            r.result = value;
            r.result_published = true;
            r.next_poll_at = None;
        })
        .await?;
        Ok(vec![result])
    }

    /// The last delivery failed transiently: end the record so the requester hears about it, unless another
    /// live delivery owns it (that one answers).
    async fn give_up(&self, request_id: &str, me: &str, why: &str) -> Result<Vec<RestoreResult>, Stop> {
        let fresh = self.reread(request_id).await?;
        if answered(fresh.state) {
            return Ok(stored_result(&fresh).into_iter().collect());
        }
        if fresh.lease.as_ref().is_some_and(|l| l.held_by_other(me, self.now())) {
            return Err(Stop::Busy("another delivery owns the request".into()));
        }
        let (state, code) = match fresh.state {
            State::Triggering => (State::NeedsAttention, ReasonCode::UndecidedWriteAhead),
            _ => (State::Failed, ReasonCode::TransientFailuresExhausted),
        };
        let message = format!("gave up after {} deliveries: {why}", self.settings.max_delivery_count);
        self.finish(fresh, state, Some(stored_reason(&code, &message)), None).await
    }

    /// A message that is not a valid request: record it (so a redelivery answers the same) and answer Rejected.
    async fn reject_unparsed(
        &self,
        delivery: &Delivery<'_>,
        fallback_id: &str,
        error: &RequestError,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let request_id =
            if fallback_id.is_empty() { "unidentified-message".to_string() } else { fallback_id.to_string() };
        let result = RestoreResult::rejected(request_id.clone(), error);
        if restore_store::record::request_id_problem(&request_id).is_some() {
            return Ok(vec![result]);
        }
        let mut record = Record::received(&request_id, "unknown", "", "", Value::Null, self.now());
        record.state = State::Rejected;
        record.reason = Some(stored_reason(&ReasonCode::Request(error.code().to_string()), &error.message));
        record.result = serde_json::to_value(&result).ok();
        record.result_published = true;
        record.delivery_count_seen = delivery.delivery_count;
        match write::create(self.store.as_ref(), &record).await {
            Ok(_) => Ok(vec![result]),
            Err(StoreError::AlreadyExists { existing }) => Ok(stored_result(&existing).into_iter().collect()),
            Err(e) => Err(e.into()),
        }
    }

    /// An alert that starts nothing (resolved, unmatched, or a rule that could not build a request).
    async fn record_alert_without_restore(
        &self,
        alert_id: &str,
        outcome: AlertOutcome,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let (code, message) = match outcome {
            AlertOutcome::Resolved { alert_id } => {
                (ReasonCode::AlertResolved, format!("alert {alert_id} resolved; nothing to restore"))
            }
            AlertOutcome::Unmatched { why } => (ReasonCode::AlertUnmatched, format!("no alert rule matched: {why}")),
            AlertOutcome::RuleFailed { rule, why } => {
                (ReasonCode::AlertRuleFailed, format!("alert rule '{rule}' matched but cannot build a restore: {why}"))
            }
            AlertOutcome::Restore(_) => unreachable!("restores are handled by the caller"),
        };
        // A resolved alert has the same alert id as its fired alert; keep it apart so it cannot shadow it.
        let suffix = if code == ReasonCode::AlertResolved { "-resolved" } else { "" };
        let request_id = format!("{}{suffix}", alert_request_id(alert_id));
        let mut record = Record::received(&request_id, "alert", "", "", Value::Null, self.now());
        record.state = State::Rejected;
        record.reason = Some(stored_reason(&code, &message));
        let mut result = result_for(&record, ResultStatus::Rejected);
        result.reason = Some(ResultReason { code, field: None, rule: None, message, fix: None });
        record.result = serde_json::to_value(&result).ok();
        record.result_published = true;
        match write::create(self.store.as_ref(), &record).await {
            Ok(_) => Ok(vec![result]),
            Err(StoreError::AlreadyExists { existing }) => Ok(stored_result(&existing).into_iter().collect()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Keeps the Accepted result on a record being written as accepted (or running), in that same write: a duplicate
/// delivery answers with it. `result_for` reads none of what the write itself changes (version, lease, times of
/// the write), so the stored result is the one answered.
fn keep_accepted_result(record: &mut Record) {
    record.result = serde_json::to_value(result_for(record, ResultStatus::Accepted)).ok();
}

/// `record` as it will be once it ends in `state`, for building its result before the write.
fn preview(record: &Record, state: State, reason: Option<&Reason>) -> Record {
    let mut after = record.clone();
    after.state = state;
    after.reason = reason.cloned();
    after
}

/// What a failed trigger proves.
#[derive(Debug)]
enum TriggerFailure {
    /// Azure refused the restore itself (a terminal 4xx from the provider): it did not start.
    Refused(AzureError),
    /// The request certainly started nothing (not sent, ARM throttled it, a missing role, the vault busy): it
    /// may be sent again.
    NotStarted {
        /// At least this long first.
        wait: Option<Duration>,
    },
    /// Azure refused for lack of a role (nothing started).
    MissingRole,
    /// Azure accepted the restore but its status URL points at another host.
    UnsafeStatusUrl,
    /// The restore may have started (no answer, a 5xx, an unreadable body): reconcile.
    Unknown,
}

impl TriggerFailure {
    fn of(error: &CallError) -> TriggerFailure {
        match error {
            CallError::Send(SendError::NotSent { .. } | SendError::Credential(_) | SendError::Unsafe(_)) => {
                TriggerFailure::NotStarted { wait: None }
            }
            // ARM throttles before the resource provider sees the request.
            CallError::Azure(e) if e.status == 429 => TriggerFailure::NotStarted { wait: Some(Duration::from_secs(5)) },
            CallError::Azure(e) if (400..500).contains(&e.status) && e.status != 408 => match e.retry {
                Retryability::Terminal => TriggerFailure::Refused(e.clone()),
                // `UserErrorMaxConcurrentOperationLimitReached`: wait for a slot like the policy's limit.
                Retryability::Later => TriggerFailure::NotStarted { wait: Some(Duration::from_secs(15)) },
                // A role still propagating takes minutes: waited for with `role_wait`.
                Retryability::AfterRoleAssignment => TriggerFailure::MissingRole,
                Retryability::Transient => TriggerFailure::NotStarted { wait: None },
            },
            CallError::Unsafe(_) => TriggerFailure::UnsafeStatusUrl,
            _ => TriggerFailure::Unknown,
        }
    }
}

/// The answer to a message that reuses a request id for a different restore: the first request's record and
/// its one terminal status stay untouched; this message gets a `Rejected` result whose reason code is
/// `request.idReused` (docs/contract.md tells consumers how to tell it apart).
fn id_reused(record: &Record, request: &RestoreRequest) -> Option<RestoreResult> {
    if record.request.is_null() {
        return None;
    }
    let theirs = defining_fields(&record.request);
    let ours = defining_fields(&serde_json::to_value(request).unwrap_or(Value::Null));
    if theirs == ours {
        return None;
    }
    let error = RequestError::new(
        restore_contract::RequestErrorKind::InvalidValue,
        Some("requestId"),
        format!(
            "requestId {:?} is already used by a different restore (received {}); this message was not carried out and the first request is unaffected",
            record.request_id, record.received_at
        ),
        "give each restore its own requestId",
    );
    let mut result = RestoreResult::rejected(record.request_id.clone(), &error);
    if let Some(reason) = result.reason.as_mut() {
        reason.code = ReasonCode::Request("request.idReused".into());
    }
    Some(result)
}

/// The fields that define what a request restores: the operation, the recovery point and whether it only
/// validates. Source details, deadlines and tags may differ between re-notifications of one alert.
fn defining_fields(request: &Value) -> Value {
    serde_json::json!({
        "operation": request.get("operation"),
        "recoveryPoint": request.get("recoveryPoint"),
        "validateOnly": request.get("options").and_then(|o| o.get("validateOnly")),
    })
}

fn call_of(record: &Record) -> Option<AzureCall> {
    record.azure_request_body.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The record the intake creates for a new request (`Received`, no lease yet).
pub fn new_record(request_id: &str, request: &RestoreRequest, delivery_count: u32, now: OffsetDateTime) -> Record {
    let value = serde_json::to_value(request).unwrap_or(Value::Null);
    let mut record = Record::received(
        request_id,
        request.operation.kind().as_str(),
        request.operation.vault_id().as_str(),
        item_of(request),
        value,
        now,
    );
    record.source_reference = Some(request.source.reference.clone()).filter(|r| !r.is_empty());
    record.delivery_count_seen = delivery_count;
    record
}

/// Ends a new record refused for `reason`, its Rejected result stored and answered with this delivery.
pub fn reject(record: &mut Record, reason: ResultReason) {
    record.state = State::Rejected;
    record.reason = Some(stored_reason(&reason.code, &reason.message));
    let mut result = result_for(record, ResultStatus::Rejected);
    result.reason = Some(reason);
    record.result = serde_json::to_value(&result).ok();
    record.result_published = true;
}

fn item_of(request: &RestoreRequest) -> String {
    use restore_contract::request::Operation as O;
    match &request.operation {
        O::DiskToNewDisk(o) => o.backup_instance_id.as_str().to_string(),
        O::VmRestoreDisks(o) => o.protected_item_id.as_str().to_string(),
        O::VmReplaceDisks(o) => o.protected_item_id.as_str().to_string(),
        O::VmNewVm(o) => o.protected_item_id.as_str().to_string(),
        O::ConfigureDiskProtection(o) => o.disk_id.as_str().to_string(),
        O::StopDiskProtection(o) => o.backup_instance_id.as_str().to_string(),
    }
}

fn stored_result(record: &Record) -> Option<RestoreResult> {
    record.result.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// Deadlines and point-in-time choices that cannot be met (the contract has no clock; this is where "now" is).
/// Shared with `restorectl validate`, so a person at a terminal gets the intake's own answer.
pub fn time_problem(request: &RestoreRequest, now: OffsetDateTime) -> Option<ResultReason> {
    let reason = |code: ReasonCode, field: &str, message: String, fix: &str| ResultReason {
        code,
        field: Some(field.into()),
        rule: None,
        message,
        fix: Some(fix.into()),
    };
    if let Some(deadline) = &request.options.deadline
        && deadline.get() <= now
    {
        return Some(reason(
            ReasonCode::DeadlinePassed,
            "options.deadline",
            format!("options.deadline {} has already passed", deadline.get()),
            "give a deadline in the future, or leave it out",
        ));
    }
    if let Some(RecoveryPointChoice::LatestAtOrBefore { time }) = &request.recovery_point
        && time.get() > now + time::Duration::minutes(5)
    {
        return Some(reason(
            ReasonCode::RecoveryPointTimeInFuture,
            "recoveryPoint.time",
            format!("recoveryPoint.time {} is in the future; use {{\"choice\":\"latest\"}}", time.get()),
            "use a time in the past, or {\"choice\":\"latest\"}",
        ));
    }
    None
}
