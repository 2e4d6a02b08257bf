//! The intake: one Service Bus message in, at most one Azure restore out, and an answer.
//!
//! Exactly once under at-least-once delivery (DESIGN invariant 1) rests on three rules:
//! 1. every step is a compare-and-swap on the record for the request id, so two workers cannot both move it;
//! 2. `Triggering` is written before the POST, and the POST is never retried by the transport;
//! 3. a delivery that finds `Triggering` reconciles with Azure's job list before it may post again (see
//!    [`crate::reconcile`]), and ends in `NeedsAttention` when that cannot decide.
//!
//! Outcomes (invariant 3): a rejection is recorded and answered and the invocation succeeds; a transient failure
//! fails the invocation so Service Bus redelivers, until the last delivery, which ends the record (`Failed`, or
//! `NeedsAttention` for an undecided write-ahead) rather than letting the message dead-letter silently.

use std::sync::Arc;
use std::time::Duration;

use restore_contract::alert::rules::alert_request_id;
use restore_contract::alert::{AlertOutcome, map_alert};
use restore_contract::policy::Policy;
use restore_contract::request::{RecoveryPointChoice, RestoreRequest};
use restore_contract::result::{Reason as ResultReason, RestoreResult, ResultStatus, Validation};
use restore_contract::{Incoming, RequestError, classify_with_limit};
use restore_engine::client::{ArmClient, CallError, Started};
use restore_engine::jobs::JobView;
use restore_engine::pipeline::SendError;
use restore_store::{Reason, Record, State, StateStore, StoreError};
use serde_json::Value;
use time::OffsetDateTime;

use crate::azure::{Verdict, trigger, validate};
use crate::plan::{AzureCall, Plan, PlanError, plan};
use crate::reconcile::{Reconciled, reconcile};
use crate::results::{result_for, with_azure_error};

/// Intake settings (app settings in docs/configuration.md).
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Publish an `Accepted` result when a restore starts (`RESTORE_PUBLISH_ACCEPTED`, default true).
    pub publish_accepted: bool,
    /// Longest wait for Azure's validation (`RESTORE_VALIDATION_TIMEOUT_SECONDS`, default 120).
    pub validation_timeout: Duration,
    /// How long after a write-ahead an empty job list proves the POST started nothing
    /// (`RESTORE_TRIGGER_SETTLE_SECONDS`, default 120). The intake waits out the rest of it in-process.
    pub settle: Duration,
    /// The queue's MaxDeliveryCount (`RESTORE_MAX_DELIVERY_COUNT`, default 10): the last delivery ends the
    /// record instead of failing again.
    pub max_delivery_count: u32,
    /// First poll of a started operation when Azure gives no Retry-After.
    pub first_poll: Duration,
    /// How long a request waits in-process for a slot when its vault is at the policy's concurrent-restore
    /// limit, before the delivery is retried (`RESTORE_CONCURRENCY_WAIT_SECONDS`, default 240).
    pub concurrency_wait: Duration,
}

impl IntakeSettings {
    /// From app settings, defaults for what is unset.
    pub fn from_env() -> Result<Self, crate::settings::SettingError> {
        use crate::settings::{count, flag, seconds};
        let d = IntakeSettings::default();
        Ok(IntakeSettings {
            publish_accepted: flag("RESTORE_PUBLISH_ACCEPTED", d.publish_accepted)?,
            validation_timeout: seconds("RESTORE_VALIDATION_TIMEOUT_SECONDS", d.validation_timeout)?,
            settle: seconds("RESTORE_TRIGGER_SETTLE_SECONDS", d.settle)?,
            max_delivery_count: count("RESTORE_MAX_DELIVERY_COUNT", d.max_delivery_count)?,
            first_poll: d.first_poll,
            concurrency_wait: seconds("RESTORE_CONCURRENCY_WAIT_SECONDS", d.concurrency_wait)?,
        })
    }
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            publish_accepted: true,
            validation_timeout: Duration::from_secs(120),
            settle: Duration::from_secs(120),
            max_delivery_count: 10,
            first_poll: Duration::from_secs(10),
            concurrency_wait: Duration::from_secs(240),
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
}

/// Internal: a step that must stop the invocation without an answer.
enum Stop {
    /// Fail the invocation (transient), unless this is the last delivery.
    Transient { why: String, record: Option<Box<Record>> },
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Transient { why: format!("state store: {e}"), record: None }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Intake {
    /// An intake over a client, a store and a policy.
    pub fn new(client: ArmClient, store: Arc<dyn StateStore>, policy: Arc<Policy>, settings: IntakeSettings) -> Self {
        Intake { client, store, policy, settings }
    }

    /// Handles one delivery.
    pub async fn handle(&self, delivery: Delivery<'_>) -> Outcome {
        let last = delivery.delivery_count >= self.settings.max_delivery_count;
        match self.handle_inner(&delivery).await {
            Ok(results) => Outcome::Complete(results),
            Err(Stop::Transient { why, record }) => {
                tracing::warn!(delivery = delivery.delivery_count, why = %why, "transient failure");
                if !last {
                    return Outcome::Retry(why);
                }
                match record {
                    Some(record) => match self.give_up(*record, &why).await {
                        Ok(results) => Outcome::Complete(results),
                        Err(e) => Outcome::Retry(format!("{why}; and the record could not be closed: {e}")),
                    },
                    // Nothing recorded (the store itself is failing): let the message dead-letter, where
                    // operators see it.
                    None => Outcome::Retry(why),
                }
            }
        }
    }

    async fn handle_inner(&self, delivery: &Delivery<'_>) -> Result<Vec<RestoreResult>, Stop> {
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
        let (record, checked) = self.open(&request_id, &request, delivery).await?;
        match record.state {
            // Created by this delivery with the time and policy checks passed: planning need not repeat them.
            State::Received if checked => self.process_checked(record, &request).await,
            _ => self.resume(record, &request).await,
        }
    }

    /// Finds or creates the record for this request.
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
    ) -> Result<(Record, bool), Stop> {
        if let Some(existing) = self.store.get(request_id).await? {
            return Ok((existing, false));
        }
        let (refusal, checked) = match time_problem(request, now()) {
            Some(reason) => (Some(reason), false),
            None => {
                let active = self.store.count_active(request.operation.vault_id().as_str()).await?;
                match self.policy.check(request, active) {
                    Ok(()) => (None, true),
                    // A full vault is waited for in `process`; only outright refusals are settled here.
                    Err(r) if r.retryable => (None, false),
                    Err(r) => (Some(ResultReason::from(&r)), false),
                }
            }
        };
        let value = serde_json::to_value(request).unwrap_or(Value::Null);
        let mut record = Record::received(
            request_id,
            request.operation.kind().as_str(),
            request.operation.vault_id().as_str(),
            item_of(request),
            value,
            now(),
        );
        record.source_reference = Some(request.source.reference.clone()).filter(|r| !r.is_empty());
        record.delivery_count_seen = delivery.delivery_count;
        if let Some(reason) = refusal {
            record.state = State::Rejected;
            record.reason = Some(Reason { code: reason.code.clone(), message: reason.message.clone() });
            let mut result = result_for(&record, ResultStatus::Rejected);
            result.reason = Some(reason);
            record.result = serde_json::to_value(&result).ok();
            record.result_published = true;
        }
        match self.store.create(&record).await {
            Ok(created) => Ok((created, checked)),
            Err(StoreError::AlreadyExists { existing }) => Ok((*existing, false)),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves a record on from wherever it is. Re-entered after a lost compare-and-swap with the fresh record.
    async fn resume(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        match record.state {
            State::Received | State::Planned => self.process(record, request).await,
            State::Triggering => self.after_write_ahead(record).await,
            // A duplicate or a redelivery after the work was done: answer again with what we know (results may
            // repeat; consumers dedupe on requestId + status).
            _ => Ok(stored_result(&record).into_iter().collect()),
        }
    }

    async fn process(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        if let Some(reason) = time_problem(request, now()) {
            return self.finish_rejected_with(record, reason, None).await;
        }
        if let Err(refusal) = self.check_policy(request, &record.vault_id).await? {
            if refusal.retryable && !request.options.validate_only {
                return Err(Stop::Transient { why: refusal.message.clone(), record: Some(Box::new(record)) });
            }
            let reason = ResultReason::from(&refusal);
            return self.finish_rejected_with(record, reason, None).await;
        }
        self.process_checked(record, request).await
    }

    /// Plans, validates and triggers a record whose time and policy checks have passed.
    async fn process_checked(&self, record: Record, request: &RestoreRequest) -> Result<Vec<RestoreResult>, Stop> {
        let started = now();
        let ctx = ArmClient::context(&record.request_id);
        let planned = match plan(&self.client, &ctx, request, &record.request_id, &self.policy, started).await {
            Ok(p) => p,
            Err(PlanError::Rejected { code, message }) => {
                return self.finish_rejected(record, code, message, None).await;
            }
            Err(PlanError::Transient(e)) => return Err(transient(&e, record)),
        };
        let mut record = record;
        record.state = State::Planned;
        record.recovery_point_id = planned.recovery_point_id.clone();
        record.azure_request_body = serde_json::to_value(&planned.call).ok();
        let record = match self.cas(record, request).await? {
            Ok(r) => r,
            Err(results) => return Ok(results),
        };
        let verdict = match validate(&self.client, &ctx, &planned.call, now(), self.settings.validation_timeout).await {
            Ok(v) => v,
            Err(PlanError::Rejected { code, message }) => {
                return self.finish_rejected(record, code, message, None).await;
            }
            Err(PlanError::Transient(e)) => return Err(transient(&e, record)),
        };
        if let Verdict::Refused(error) = &verdict {
            let (code, message) = (error.code.clone(), error.message.clone());
            return self.finish_rejected(record, code, message, Some(error)).await;
        }
        if request.options.validate_only {
            return self.finish_validated(record, &planned, &verdict).await;
        }
        self.write_ahead_and_trigger(record, &planned.call, request).await
    }

    /// The policy check. A vault at its concurrent-restore limit is waited for here, up to
    /// `concurrency_wait` (Service Bus redelivers at once, so failing straight away would spend the message's
    /// deliveries in milliseconds while the running restores take minutes).
    async fn check_policy(
        &self,
        request: &RestoreRequest,
        vault_id: &str,
    ) -> Result<Result<(), restore_contract::PolicyRefusal>, Stop> {
        let deadline = tokio::time::Instant::now() + self.settings.concurrency_wait;
        let mut pause = Duration::from_millis(250);
        loop {
            let active = self.store.count_active(vault_id).await?;
            match self.policy.check(request, active) {
                Err(refusal) if refusal.retryable && tokio::time::Instant::now() + pause < deadline => {
                    tracing::info!(vault = %vault_id, active, "vault at its concurrent-restore limit; waiting for a slot");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(15));
                }
                other => return Ok(other),
            }
        }
    }

    /// Compare-and-swap: `Ok(Ok(record))` when stored, `Ok(Err(results))` when someone else moved the record and
    /// resuming from its fresh state already answered.
    async fn cas(&self, record: Record, request: &RestoreRequest) -> Result<Result<Record, Vec<RestoreResult>>, Stop> {
        let mut record = record;
        record.updated_at = now();
        match self.store.update(&record).await {
            Ok(stored) => Ok(Ok(stored)),
            Err(StoreError::Conflict { .. }) => {
                let fresh = self.store.get(&record.request_id).await?.ok_or_else(|| Stop::Transient {
                    why: format!("record {} vanished", record.request_id),
                    record: None,
                })?;
                if fresh.state == record.state && fresh.state == State::Planned {
                    // Another worker planned the same request in parallel; it continues, we answer nothing.
                    return Ok(Err(Vec::new()));
                }
                Ok(Err(Box::pin(self.resume(fresh, request)).await?))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn write_ahead_and_trigger(
        &self,
        record: Record,
        call: &AzureCall,
        request: &RestoreRequest,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let mut record = record;
        record.state = State::Triggering;
        record.write_ahead_at = Some(now());
        record.attempts = record.attempts.saturating_add(1);
        let record = match self.cas(record, request).await? {
            Ok(r) => r,
            Err(results) => return Ok(results),
        };
        self.send(record, call).await
    }

    /// Sends the call for a record already in `Triggering` (write-ahead stored) and records what happened.
    async fn send(&self, record: Record, call: &AzureCall) -> Result<Vec<RestoreResult>, Stop> {
        let ctx = ArmClient::context(&record.request_id);
        let sent_at = now();
        tracing::info!(request_id = %record.request_id, item = %call.item(), "triggering");
        match trigger(&self.client, &ctx, call, sent_at).await {
            Ok(Started::Pending(op)) => {
                let mut record = record;
                record.state = State::Accepted;
                record.triggered_at = Some(sent_at);
                record.next_poll_at = Some(op.next_poll_at);
                record.operation = serde_json::to_value(&op).ok();
                self.accepted(record).await
            }
            Ok(Started::Done(body)) => {
                let mut record = record;
                record.triggered_at = Some(sent_at);
                let job = body.as_ref().and_then(job_id_in);
                match (job, call.is_restore()) {
                    (Some(job_id), _) => {
                        record.state = State::Running;
                        record.job_id = Some(job_id);
                        record.next_poll_at = Some(sent_at + self.settings.first_poll);
                        self.accepted(record).await
                    }
                    // A protection change Azure completed synchronously.
                    (None, false) => self.finish(record, State::Succeeded, None, None).await,
                    // A restore accepted without a job id: the tracker finds the job by reconciliation.
                    (None, true) => {
                        record.state = State::Accepted;
                        record.next_poll_at = Some(sent_at + self.settings.first_poll);
                        self.accepted(record).await
                    }
                }
            }
            Err(e) => self.trigger_failed(record, e).await,
        }
    }

    async fn trigger_failed(&self, record: Record, error: CallError) -> Result<Vec<RestoreResult>, Stop> {
        let definitely_not_processed = match &error {
            CallError::Send(SendError::NotSent { .. }) | CallError::Send(SendError::Credential(_)) => true,
            // ARM throttles before the resource provider sees the request; 4xx come from validation of the request.
            CallError::Azure(e) => (400..500).contains(&e.status) && e.status != 408,
            _ => false,
        };
        match (&error, definitely_not_processed) {
            (CallError::Azure(e), true)
                if e.status != 429 && e.retry == restore_engine::error::Retryability::Terminal =>
            {
                // Azure refused the restore itself: it did not start.
                let (code, message) = (e.code.clone(), e.message.clone());
                let e = e.clone();
                self.finish(record, State::Failed, Some(Reason { code, message }), Some(&e)).await
            }
            (_, true) => {
                // Nothing started: step back so the next delivery plans and posts again.
                let mut record = record;
                record.state = State::Planned;
                record.write_ahead_at = None;
                record.updated_at = now();
                let record = self.store.update(&record).await?;
                Err(Stop::Transient { why: format!("trigger not sent: {error}"), record: Some(Box::new(record)) })
            }
            (CallError::Unsafe(_), _) => {
                // Azure accepted the restore but pointed its status at another host: follow the job instead.
                let mut record = record;
                record.state = State::Accepted;
                record.triggered_at = Some(now());
                record.next_poll_at = Some(now() + self.settings.first_poll);
                record.reason = Some(Reason { code: "UnsafeOperationUrl".into(), message: error.to_string() });
                self.accepted(record).await
            }
            _ => {
                // The POST may have started a restore: keep the write-ahead; the next delivery reconciles.
                Err(Stop::Transient {
                    why: format!("trigger outcome unknown: {error}"),
                    record: Some(Box::new(record)),
                })
            }
        }
    }

    /// A delivery that finds a write-ahead: reconcile before anything else.
    async fn after_write_ahead(&self, record: Record) -> Result<Vec<RestoreResult>, Stop> {
        let Some(call) =
            record.azure_request_body.as_ref().and_then(|v| serde_json::from_value::<AzureCall>(v.clone()).ok())
        else {
            let reason = "the write-ahead record has no readable Azure call; cannot tell what was sent";
            return self
                .finish(
                    record,
                    State::NeedsAttention,
                    Some(Reason { code: "UnreadableWriteAhead".into(), message: reason.into() }),
                    None,
                )
                .await;
        };
        let write_ahead_at = record.write_ahead_at.unwrap_or(record.updated_at);
        let ctx = ArmClient::context(&record.request_id);
        let mut waited = false;
        loop {
            let answer = reconcile(
                &self.client,
                &ctx,
                &call,
                record.recovery_point_id.as_deref(),
                write_ahead_at,
                now(),
                self.settings.settle,
            )
            .await;
            match answer {
                Ok(Reconciled::Found(job)) => return self.adopt(record, &job).await,
                Ok(Reconciled::NotStarted) => {
                    tracing::info!(request_id = %record.request_id, "write-ahead reconciled: nothing started; sending again");
                    let mut record = record;
                    record.write_ahead_at = Some(now());
                    record.attempts = record.attempts.saturating_add(1);
                    record.updated_at = now();
                    let record = match self.store.update(&record).await {
                        Ok(r) => r,
                        Err(StoreError::Conflict { .. }) => return Ok(Vec::new()),
                        Err(e) => return Err(e.into()),
                    };
                    return self.send(record, &call).await;
                }
                Ok(Reconciled::TooEarly(wait)) if !waited => {
                    // Azure's job list can lag; wait out the settle window here rather than burn a delivery.
                    tracing::info!(request_id = %record.request_id, wait_ms = wait.as_millis() as u64, "write-ahead too recent to reconcile; waiting");
                    tokio::time::sleep(wait).await;
                    waited = true;
                }
                Ok(Reconciled::TooEarly(_)) => {
                    return Err(Stop::Transient {
                        why: "write-ahead still inside its settle window".into(),
                        record: Some(Box::new(record)),
                    });
                }
                Ok(Reconciled::Ambiguous(why)) => {
                    return self
                        .finish(
                            record,
                            State::NeedsAttention,
                            Some(Reason { code: "AmbiguousWriteAhead".into(), message: why }),
                            None,
                        )
                        .await;
                }
                Err(e) => return Err(transient(&e, record)),
            }
        }
    }

    /// Adopts a job found by reconciliation.
    async fn adopt(&self, record: Record, job: &JobView) -> Result<Vec<RestoreResult>, Stop> {
        tracing::info!(request_id = %record.request_id, job_id = %job.job_id, "write-ahead reconciled: adopting the job");
        let mut record = record;
        record.state = State::Running;
        record.job_id = Some(job.job_id.clone());
        record.job_started_at = job.started_at;
        record.triggered_at = record.triggered_at.or(record.write_ahead_at);
        record.next_poll_at = Some(now());
        self.accepted(record).await
    }

    /// Stores an accepted record and answers with the Accepted result (if configured).
    async fn accepted(&self, record: Record) -> Result<Vec<RestoreResult>, Stop> {
        let result = result_for(&record, ResultStatus::Accepted);
        let mut record = record;
        record.result = serde_json::to_value(&result).ok();
        record.updated_at = now();
        match self.store.update(&record).await {
            Ok(_) => {}
            // Someone else (a reconciling tracker) moved it first: the restore is followed either way.
            Err(StoreError::Conflict { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
        Ok(if self.settings.publish_accepted { vec![result] } else { Vec::new() })
    }

    async fn finish_rejected(
        &self,
        record: Record,
        code: String,
        message: String,
        azure: Option<&restore_engine::error::AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        self.finish(record, State::Rejected, Some(Reason { code, message }), azure).await
    }

    async fn finish_rejected_with(
        &self,
        record: Record,
        reason: ResultReason,
        azure: Option<&restore_engine::error::AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let mut record = record;
        record.state = State::Rejected;
        record.reason = Some(Reason { code: reason.code.clone(), message: reason.message.clone() });
        let mut result = result_for(&record, ResultStatus::Rejected);
        result.reason = Some(reason);
        if let Some(e) = azure {
            result = with_azure_error(result, e);
        }
        self.store_final(record, result).await
    }

    async fn finish_validated(
        &self,
        record: Record,
        planned: &Plan,
        verdict: &Verdict,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let mut record = record;
        record.state = State::Succeeded;
        record.reason =
            Some(Reason { code: "ValidateOnly".into(), message: "validated; nothing was triggered".into() });
        let mut result = result_for(&record, ResultStatus::Validated);
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
        self.store_final(record, result).await
    }

    async fn finish(
        &self,
        record: Record,
        state: State,
        reason: Option<Reason>,
        azure: Option<&restore_engine::error::AzureError>,
    ) -> Result<Vec<RestoreResult>, Stop> {
        let mut record = record;
        record.state = state;
        record.reason = reason;
        let status = crate::results::status_of(&record).unwrap_or(ResultStatus::NeedsAttention);
        let mut result = result_for(&record, status);
        if let Some(e) = azure {
            result = with_azure_error(result, e);
        }
        self.store_final(record, result).await
    }

    async fn store_final(&self, record: Record, result: RestoreResult) -> Result<Vec<RestoreResult>, Stop> {
        let mut record = record;
        record.result = serde_json::to_value(&result).ok();
        // Published through this invocation's output; a lost output is re-sent on redelivery (see resume).
        record.result_published = true;
        record.next_poll_at = None;
        record.updated_at = now();
        match self.store.update(&record).await {
            Ok(_) => Ok(vec![result]),
            Err(StoreError::Conflict { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The last delivery failed transiently: end the record so the requester hears about it.
    async fn give_up(&self, record: Record, why: &str) -> Result<Vec<RestoreResult>, StoreError> {
        let fresh = self.store.get(&record.request_id).await?.unwrap_or(record);
        let (state, code) = match fresh.state {
            State::Triggering => (State::NeedsAttention, "UndecidedWriteAhead"),
            s if s.is_terminal() || s == State::Accepted || s == State::Running => {
                return Ok(stored_result(&fresh).into_iter().collect());
            }
            _ => (State::Failed, "TransientFailuresExhausted"),
        };
        let message = format!("gave up after {} deliveries: {why}", self.settings.max_delivery_count);
        match self.finish(fresh, state, Some(Reason { code: code.into(), message }), None).await {
            Ok(results) => Ok(results),
            Err(Stop::Transient { why, .. }) => Err(StoreError::Unavailable { backend: "intake", message: why }),
        }
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
        let mut record = Record::received(&request_id, "unknown", "", "", Value::Null, now());
        record.state = State::Rejected;
        record.reason = Some(Reason { code: error.code().to_string(), message: error.message.clone() });
        record.result = serde_json::to_value(&result).ok();
        record.result_published = true;
        record.delivery_count_seen = delivery.delivery_count;
        match self.store.create(&record).await {
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
                ("AlertResolved".to_string(), format!("alert {alert_id} resolved; nothing to restore"))
            }
            AlertOutcome::Unmatched { why } => ("AlertUnmatched".into(), format!("no alert rule matched: {why}")),
            AlertOutcome::RuleFailed { rule, why } => {
                ("AlertRuleFailed".into(), format!("alert rule '{rule}' matched but cannot build a restore: {why}"))
            }
            AlertOutcome::Restore(_) => unreachable!("restores are handled by the caller"),
        };
        // A resolved alert has the same alert id as its fired alert; keep it apart so it cannot shadow it.
        let suffix = if code == "AlertResolved" { "-resolved" } else { "" };
        let request_id = format!("{}{suffix}", alert_request_id(alert_id));
        let mut record = Record::received(&request_id, "alert", "", "", Value::Null, now());
        record.state = State::Rejected;
        record.reason = Some(Reason { code: code.clone(), message: message.clone() });
        let mut result = result_for(&record, ResultStatus::Rejected);
        result.reason = Some(ResultReason { code, field: None, rule: None, message, fix: None });
        record.result = serde_json::to_value(&result).ok();
        record.result_published = true;
        match self.store.create(&record).await {
            Ok(_) => Ok(vec![result]),
            Err(StoreError::AlreadyExists { existing }) => Ok(stored_result(&existing).into_iter().collect()),
            Err(e) => Err(e.into()),
        }
    }
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

fn job_id_in(body: &Value) -> Option<String> {
    let raw = body.get("jobId").or_else(|| body.get("properties").and_then(|p| p.get("jobId")))?.as_str()?;
    let guid = restore_models::wire::job_guid(raw);
    (!guid.is_empty()).then(|| guid.to_string())
}

/// Deadlines and point-in-time choices that cannot be met (the contract has no clock; this is where "now" is).
/// Shared with `restorectl validate`, so a person at a terminal gets the intake's own answer.
pub fn time_problem(request: &RestoreRequest, now: OffsetDateTime) -> Option<ResultReason> {
    let reason = |code: &str, field: &str, message: String, fix: &str| ResultReason {
        code: code.into(),
        field: Some(field.into()),
        rule: None,
        message,
        fix: Some(fix.into()),
    };
    if let Some(deadline) = &request.options.deadline
        && deadline.get() <= now
    {
        return Some(reason(
            "DeadlinePassed",
            "options.deadline",
            format!("options.deadline {} has already passed", deadline.get()),
            "give a deadline in the future, or leave it out",
        ));
    }
    if let Some(RecoveryPointChoice::LatestAtOrBefore { time }) = &request.recovery_point
        && time.get() > now + time::Duration::minutes(5)
    {
        return Some(reason(
            "RecoveryPointTimeInFuture",
            "recoveryPoint.time",
            format!("recoveryPoint.time {} is in the future; use {{\"choice\":\"latest\"}}", time.get()),
            "use a time in the past, or {\"choice\":\"latest\"}",
        ));
    }
    None
}

fn transient(error: &CallError, record: Record) -> Stop {
    Stop::Transient { why: error.to_string(), record: Some(Box::new(record)) }
}
