//! The tracker: each timer tick advances every due record by one step and publishes the results of the ones
//! that ended.
//!
//! One step per record per tick: operation → job id ([`restore_engine::lro::step`]), job → terminal state.
//! Polls are scheduled from Azure's Retry-After for operations and from a growing interval for jobs (jobs run
//! for minutes to hours), spread by a per-request offset so records accepted together do not poll together.
//! A tick stays inside a read budget (the ARM client's token bucket: records it cannot afford stay due for the
//! next tick) and a time budget well under the function timeout. Every write is a compare-and-swap: a record
//! another tick or the intake changed meanwhile is skipped.
//!
//! Results are published through the tick's output binding *before* the record says so; a crash in between
//! publishes the result again on the next tick. Results carry the requestId for consumers to dedupe.

use std::sync::Arc;
use std::time::{Duration, Instant};

use restore_contract::reason::ReasonCode;
use restore_contract::request::RestoreRequest;
use restore_contract::result::{RestoreResult, ResultStatus, TagFailure, Tagging};
use restore_engine::budget::RequestKind;
use restore_engine::client::{ArmClient, CallError};
use restore_engine::error::AzureError;
use restore_engine::jobs::{JobStatus, JobView, StagingFiles};
use restore_engine::lro::{PendingOperation, Step, step};
use restore_models::arm_id::{ResourceGroupId, ResourceId};
use restore_store::{Document, Record, State, StateStore, StoreError, write};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::clock::{Clock, SystemClock};
use crate::plan::AzureCall;
use crate::reconcile::{Reconciled, reconcile};
use crate::results::{result_for, status_of, stored_reason, with_azure_error};
use crate::staging::{StagingError, StagingReader};

/// Tracker settings (app settings in docs/configuration.md).
#[derive(Debug, Clone)]
pub struct TrackerSettings {
    /// Records taken per tick (`RESTORE_TRACKER_BATCH`, default 200).
    pub batch: usize,
    /// Records advanced at once (`RESTORE_TRACKER_CONCURRENCY`, default 8).
    pub concurrency: usize,
    /// Stop starting new work after this long (`RESTORE_TRACKER_TICK_BUDGET_SECONDS`, default 120; the tracker's
    /// function timeout is 5 minutes).
    pub tick_budget: Duration,
    /// Reads kept in reserve in the ARM budget for the intake (`RESTORE_TRACKER_READ_RESERVE`, default 50).
    pub read_reserve: u32,
    /// An operation not resolved to a job by then ends `TimedOut` (`RESTORE_OPERATION_TIMEOUT_SECONDS`, 3600).
    pub operation_timeout: Duration,
    /// A job not ended by then ends `TimedOut` (`RESTORE_JOB_TIMEOUT_SECONDS`, default 86400).
    pub job_timeout: Duration,
    /// First job poll after the job id is known; doubles to [`Self::job_poll_max`] (`RESTORE_JOB_POLL_SECONDS`, 30).
    pub job_poll: Duration,
    /// Longest interval between job polls (`RESTORE_JOB_POLL_MAX_SECONDS`, default 300).
    pub job_poll_max: Duration,
    /// A `Triggering` record untouched this long was left by a crashed intake (`RESTORE_STALE_WRITE_AHEAD_SECONDS`,
    /// default 900: longer than the intake's function timeout plus its settle window).
    pub stale_write_ahead: Duration,
    /// The settle window reconciliation uses (same setting as the intake, `RESTORE_TRIGGER_SETTLE_SECONDS`).
    pub settle: Duration,
    /// The same for Cross Region Restore (`RESTORE_CRR_TRIGGER_SETTLE_SECONDS`, default 900).
    pub crr_settle: Duration,
    /// Consecutive failed reads of one operation or job (a 5xx after retries, an empty or cut-off body, a
    /// reset) before the record ends `NeedsAttention` (`RESTORE_READ_FAILURE_LIMIT`, default 20). Until then a
    /// failed read is retried on later ticks with backoff: only Azure's own answer ends a request.
    pub read_failure_limit: u32,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            batch: 200,
            concurrency: 8,
            tick_budget: Duration::from_secs(120),
            read_reserve: 50,
            operation_timeout: Duration::from_secs(3600),
            job_timeout: Duration::from_secs(86_400),
            job_poll: Duration::from_secs(30),
            job_poll_max: Duration::from_secs(300),
            stale_write_ahead: Duration::from_secs(900),
            settle: Duration::from_secs(120),
            crr_settle: Duration::from_secs(900),
            read_failure_limit: 20,
        }
    }
}

impl TrackerSettings {
    /// From app settings, defaults for what is unset.
    pub fn from_env() -> Result<Self, crate::settings::SettingError> {
        use crate::settings::{count, seconds};
        let d = TrackerSettings::default();
        Ok(TrackerSettings {
            batch: count("RESTORE_TRACKER_BATCH", d.batch as u32)? as usize,
            concurrency: count("RESTORE_TRACKER_CONCURRENCY", d.concurrency as u32)? as usize,
            tick_budget: seconds("RESTORE_TRACKER_TICK_BUDGET_SECONDS", d.tick_budget)?,
            read_reserve: count("RESTORE_TRACKER_READ_RESERVE", d.read_reserve)?,
            operation_timeout: seconds("RESTORE_OPERATION_TIMEOUT_SECONDS", d.operation_timeout)?,
            job_timeout: seconds("RESTORE_JOB_TIMEOUT_SECONDS", d.job_timeout)?,
            job_poll: seconds("RESTORE_JOB_POLL_SECONDS", d.job_poll)?,
            job_poll_max: seconds("RESTORE_JOB_POLL_MAX_SECONDS", d.job_poll_max)?,
            stale_write_ahead: seconds("RESTORE_STALE_WRITE_AHEAD_SECONDS", d.stale_write_ahead)?,
            settle: seconds("RESTORE_TRIGGER_SETTLE_SECONDS", d.settle)?,
            crr_settle: seconds("RESTORE_CRR_TRIGGER_SETTLE_SECONDS", d.crr_settle)?,
            read_failure_limit: count("RESTORE_READ_FAILURE_LIMIT", d.read_failure_limit)?,
        })
    }
}

/// What a tick did.
#[derive(Debug, Clone, Default)]
pub struct TickReport {
    /// Records looked at.
    pub examined: usize,
    /// Records that moved (any stored change).
    pub advanced: usize,
    /// Records another writer changed first (skipped).
    pub conflicts: usize,
    /// Records left for the next tick because the read budget or the time budget ran out.
    pub deferred: usize,
    /// Records whose step failed transiently (retried next tick).
    pub errors: usize,
    /// Results to publish (terminal, plus Accepted for reconciled write-aheads).
    pub results: Vec<RestoreResult>,
    /// Request ids whose results are in [`Self::results`], to mark published once the output is sent.
    pub published: Vec<String>,
}

/// The tracker.
#[derive(Debug, Clone)]
pub struct Tracker {
    client: ArmClient,
    store: Arc<dyn StateStore>,
    settings: TrackerSettings,
    clock: Arc<dyn Clock>,
    /// Reads a restore-disks job's staging config to learn the disks it restored; without it those disks are
    /// neither reported nor tagged.
    staging: Option<StagingReader>,
    /// Restore durations seen by this tracker, to read the next jobs near their expected end.
    pace: Arc<crate::pace::History>,
}

/// One record's step.
enum Advance {
    /// Store this record (a changed copy).
    Store(Box<Record>),
    /// Nothing to do now.
    Skip,
}

impl Tracker {
    /// A tracker over a client and a store.
    pub fn new(client: ArmClient, store: Arc<dyn StateStore>, settings: TrackerSettings) -> Self {
        Tracker { client, store, settings, clock: Arc::new(SystemClock), staging: None, pace: Arc::default() }
    }

    /// The same tracker reading restore-disks jobs' staging configs with `reader`.
    pub fn with_staging(self, reader: StagingReader) -> Self {
        Tracker { staging: Some(reader), ..self }
    }

    /// The same tracker reading time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Tracker { clock, ..self }
    }

    /// The current time on the tracker's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// One tick at `now`. Errors only when the store cannot list work (the tick fails and the next one retries).
    pub async fn tick(&self, now: OffsetDateTime) -> Result<TickReport, StoreError> {
        let started = Instant::now();
        // One store read. Records the intake holds are due at their takeover time ([`takeover_at`], stamped by
        // the intake at each write); they are worked on only if they are still left behind by this tracker's
        // own rule (a live intake renews its lease and pushes the time on).
        let mut work = self.store.due(now, self.settings.batch).await?;
        work.retain(|r| !INTAKE_STATES.contains(&r.state) || self.left_behind(r, now));

        // Durations kept in the store, read once per process before the first job is paced (not on idle ticks).
        if work.iter().any(|r| matches!(r.state, State::Accepted | State::Running)) {
            self.load_pace().await;
        }
        let mut report = TickReport { examined: work.len(), ..Default::default() };
        let gate = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for record in work {
            if started.elapsed() >= self.settings.tick_budget || !self.can_afford(&record) {
                report.deferred += 1;
                continue;
            }
            let permit = match gate.clone().acquire_owned().await {
                Ok(p) => p,
                Err(_) => break,
            };
            let this = self.clone();
            tasks.spawn(async move {
                let _permit = permit;
                this.advance_one(record, now).await
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(Some((stored, result)))) => {
                    report.advanced += 1;
                    if let Some(result) = result {
                        report.published.push(stored.request_id.clone());
                        report.results.push(result);
                    }
                }
                Ok(Ok(None)) => {}
                Ok(Err(StoreError::Conflict { .. })) => report.conflicts += 1,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "record not advanced");
                    report.errors += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a record's step panicked");
                    report.errors += 1;
                }
            }
        }
        self.save_pace().await;
        Ok(report)
    }

    async fn load_pace(&self) {
        self.pace
            .load_once(|| async {
                match self.store.document(crate::pace::STORED_KEY).await {
                    Ok(Some(doc)) => self.pace.absorb(&doc.version, &doc.body),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "stored restore durations not read; pacing without them"),
                }
            })
            .await;
    }

    /// Writes what this tick learned about restore durations (one write, only after a tick that ended a
    /// restore). Another instance's write in between: take in its durations and write again. A failure only
    /// costs promptness: it is logged and tried again after the next tick.
    async fn save_pace(&self) {
        for _ in 0..3 {
            let Some((version, body)) = self.pace.to_save() else { return };
            let doc = Document { key: crate::pace::STORED_KEY.to_string(), version, body };
            match self.store.put_document(&doc).await {
                Ok(stored) => return self.pace.saved(&stored.version),
                Err(StoreError::Conflict { .. }) => {
                    self.pace.unsaved();
                    match self.store.document(crate::pace::STORED_KEY).await {
                        Ok(Some(theirs)) => self.pace.absorb(&theirs.version, &theirs.body),
                        Ok(None) => self.pace.absorb("", &serde_json::Value::Null),
                        Err(e) => {
                            tracing::warn!(error = %e, "restore durations not stored; trying after the next tick");
                            return;
                        }
                    }
                }
                Err(e) => {
                    self.pace.unsaved();
                    tracing::warn!(error = %e, "restore durations not stored; trying after the next tick");
                    return;
                }
            }
        }
    }

    /// Marks results as published once the tick's output has been handed to the host.
    pub async fn mark_published(&self, request_ids: &[String]) {
        for id in request_ids {
            if let Ok(Some(mut record)) = self.store.get(id).await
                && record.state.is_terminal()
                && !record.result_published
            {
                record.result_published = true;
                record.next_poll_at = None;
                record.updated_at = self.now();
                if let Err(e) = write::update(self.store.as_ref(), &record).await {
                    tracing::warn!(request_id = %id, error = %e, "result published but not marked; it will be sent again");
                }
            }
        }
    }

    /// Whether a record in an intake state was left by an intake that stopped: untouched for
    /// `stale_write_ahead` and no lease in force.
    fn left_behind(&self, record: &Record, now: OffsetDateTime) -> bool {
        record.updated_at <= now - self.settings.stale_write_ahead
            && record.lease.as_ref().is_none_or(|l| l.until <= now)
    }

    fn can_afford(&self, record: &Record) -> bool {
        let subscription = record.vault_id.split('/').nth(2).unwrap_or_default().to_ascii_lowercase();
        self.client.pipeline().budget().available(&subscription, RequestKind::Read) > self.settings.read_reserve
    }

    /// Advances one record; returns the stored record and the result to publish, if any.
    async fn advance_one(
        &self,
        record: Record,
        now: OffsetDateTime,
    ) -> Result<Option<(Record, Option<RestoreResult>)>, StoreError> {
        let request_id = record.request_id.clone();
        let advance = match self.decide(record, now).await {
            Ok(a) => a,
            Err((record, e)) => Advance::Store(Box::new(self.read_failed(*record, &e, now))),
        };
        let Advance::Store(record) = advance else { return Ok(None) };
        let mut record = *record;
        record.updated_at = self.now();
        let result = publishable(&record);
        if let Some(result) = &result {
            record.result = serde_json::to_value(result).ok();
        }
        tracing::debug!(request_id = %request_id, state = %record.state, "advanced");
        let stored = write::update(self.store.as_ref(), &record).await?;
        Ok(Some((stored, result)))
    }

    /// A read of the operation, the job or the job list failed (a 5xx after the pipeline's retries, an empty or
    /// cut-off body, a reset): it is not Azure's verdict, so it is retried with backoff on later ticks; only a
    /// run of `read_failure_limit` failures in a row ends the record, naming the last error.
    fn read_failed(&self, record: Record, error: &CallError, now: OffsetDateTime) -> Record {
        let mut record = record;
        record.read_failures = record.read_failures.saturating_add(1);
        if record.read_failures >= self.settings.read_failure_limit {
            let code = if record.state == State::Running {
                ReasonCode::JobUnreadable
            } else {
                ReasonCode::OperationUnreadable
            };
            let message = format!(
                "{} reads in a row failed; the last: {error}. The restore may still be running in Azure",
                record.read_failures
            );
            return end(record, State::NeedsAttention, code, &message);
        }
        tracing::warn!(request_id = %record.request_id, failures = record.read_failures, error = %error, "read failed; retrying on a later tick");
        let wait = Duration::from_secs(15).saturating_mul(record.read_failures.min(20)).min(self.settings.job_poll_max);
        record.next_poll_at = Some(now + wait);
        record
    }

    /// Decides one record's next state. `Err` carries the unchanged record and a failed read.
    async fn decide(&self, record: Record, now: OffsetDateTime) -> Result<Advance, (Box<Record>, CallError)> {
        if record.state.is_terminal() {
            // Its result was not published yet: publish it now.
            return Ok(if record.result_published { Advance::Skip } else { Advance::Store(Box::new(record)) });
        }
        // A write-ahead is reconciled first: its restore may be running, and a deadline result must say so.
        if let Some(deadline) = deadline_of(&record)
            && now >= deadline
            && record.state != State::Triggering
        {
            return Ok(Advance::Store(Box::new(end(
                record,
                State::TimedOut,
                ReasonCode::DeadlinePassed,
                "the request's deadline passed before the restore ended (the Azure job may still finish)",
            ))));
        }
        let ctx = ArmClient::context(&record.request_id);
        match record.state {
            State::Received | State::Planned => Ok(stored(end(
                record,
                State::Failed,
                ReasonCode::IntakeStopped,
                "the intake stopped before it triggered anything and the message did not come back; nothing was restored: submit the request again if it is still needed",
            ))),
            State::Triggering => self.reconcile_stale(record, now).await,
            State::Accepted => {
                match record.operation.clone().and_then(|v| serde_json::from_value::<PendingOperation>(v).ok()) {
                    Some(op) => self.step_operation(record, op, now).await,
                    None => self.find_job(record, now).await,
                }
            }
            State::Running => self.poll_job(record, now, &ctx).await,
            _ => Ok(Advance::Skip),
        }
    }

    async fn step_operation(
        &self,
        record: Record,
        mut op: PendingOperation,
        now: OffsetDateTime,
    ) -> Result<Advance, (Box<Record>, CallError)> {
        let triggered = record.triggered_at.unwrap_or(record.received_at);
        let answer = step(&self.client, &mut op, now).await;
        let mut record = record;
        if answer.is_ok() {
            record.read_failures = 0;
        }
        match answer {
            Ok(Step::Pending { next_poll_at }) => {
                if now - triggered >= self.settings.operation_timeout {
                    return Ok(Advance::Store(Box::new(end(
                        record,
                        State::TimedOut,
                        ReasonCode::OperationTimedOut,
                        "Azure did not resolve the operation to a job in time",
                    ))));
                }
                let mut record = record;
                record.polls = record.polls.saturating_add(1);
                let wait = Duration::try_from(next_poll_at - now).unwrap_or_default();
                record.next_poll_at = Some(next_poll_at + spread(&record.request_id, wait / 10));
                record.operation = serde_json::to_value(&op).ok();
                Ok(Advance::Store(Box::new(record)))
            }
            Ok(Step::Succeeded { job_id: Some(job_id) }) => {
                let mut record = record;
                record.state = State::Running;
                record.job_id = Some(job_id);
                record.polls = record.polls.saturating_add(1);
                record.next_poll_at = Some(now + self.next_job_read(&record, None, now));
                record.operation = serde_json::to_value(&op).ok();
                Ok(Advance::Store(Box::new(record)))
            }
            // A protection change: the operation was the whole work.
            Ok(Step::Succeeded { job_id: None }) => Ok(Advance::Store(Box::new(ended(record, State::Succeeded)))),
            Ok(Step::Failed(error)) => Ok(Advance::Store(Box::new(fail(record, &error)))),
            Err(e @ CallError::Unsafe(_)) => Ok(Advance::Store(Box::new(end(
                record,
                State::NeedsAttention,
                ReasonCode::OperationUnreadable,
                &format!("the operation cannot be followed: {e}"),
            )))),
            Err(e) => Err((Box::new(record), e)),
        }
    }

    async fn poll_job(
        &self,
        record: Record,
        now: OffsetDateTime,
        ctx: &azure_core::http::Context<'_>,
    ) -> Result<Advance, (Box<Record>, CallError)> {
        let (Some(call), Some(job_id)) = (call_of(&record), record.job_id.clone()) else {
            return Ok(Advance::Store(Box::new(end(
                record,
                State::NeedsAttention,
                ReasonCode::RecordIncomplete,
                "a running record without its call or job id",
            ))));
        };
        let job = match &call {
            AzureCall::DppRestore { backup_instance_id, .. }
            | AzureCall::DppConfigureProtection { backup_instance_id, .. }
            | AzureCall::DppStopProtection { backup_instance_id, .. } => {
                self.client.dpp_job(ctx, &backup_instance_id.vault(), &job_id).await.map(|j| JobView::from_dpp(&j))
            }
            AzureCall::RsvRestore { recovery_point_id, .. } => self
                .client
                .rsv_job(ctx, &recovery_point_id.protected_item().vault(), &job_id)
                .await
                .map(|j| JobView::from_rsv(&j)),
            AzureCall::RsvCrossRegionRestore { recovery_point_id, secondary_region, .. } => self
                .client
                .crr_job(ctx, &recovery_point_id.protected_item().vault(), secondary_region, &job_id)
                .await
                .map(|j| JobView::from_rsv(&j)),
        };
        let job = match job {
            Ok(j) => j,
            Err(e @ CallError::Unsafe(_)) => {
                return Ok(Advance::Store(Box::new(end(
                    record,
                    State::NeedsAttention,
                    ReasonCode::JobUnreadable,
                    &format!("job {job_id} cannot be read: {e}"),
                ))));
            }
            Err(e) => return Err((Box::new(record), e)),
        };
        let mut record = record;
        record.read_failures = 0;
        record.polls = record.polls.saturating_add(1);
        // When a job read last found it running, for the pace history: the record's last write, if one did.
        let last_seen_running = record.job_started_at.map(|_| record.updated_at);
        record.job_started_at = record.job_started_at.or(job.started_at);
        if !job.status.is_terminal() {
            // Measured on our clock from the trigger: Azure's job start comes from Azure's clock.
            let started = record.triggered_at.or(record.write_ahead_at).unwrap_or(record.received_at);
            if now - started >= self.settings.job_timeout {
                return Ok(Advance::Store(Box::new(end(
                    record,
                    State::TimedOut,
                    ReasonCode::JobTimedOut,
                    "the Azure job did not end in time (it may still finish)",
                ))));
            }
            let wait = self.next_job_read(&record, Some(&job), now);
            record.next_poll_at = Some(now + wait + spread(&record.request_id, wait / 10));
            return Ok(Advance::Store(Box::new(record)));
        }
        // Completed jobs only: a failure's duration says little about the next success's.
        let completed = matches!(job.status, JobStatus::Completed | JobStatus::CompletedWithWarnings);
        if let (true, Some((kind, item)), Some(triggered)) = (completed, pace_key(&call), record.triggered_at) {
            let since = |t: OffsetDateTime| Duration::try_from(t - triggered).unwrap_or_default();
            self.pace.learn(kind, &item, last_seen_running.map(since), since(now));
        }
        record.job_ended_at = job.ended_at.or(Some(now));
        let mut job = job;
        let mut staging_failure = None;
        let completed = matches!(job.status, JobStatus::Completed | JobStatus::CompletedWithWarnings);
        if completed && job.restored_resource_ids.is_empty() {
            // What the call named (a new VM): Azure's job lists no restored ids.
            job.restored_resource_ids = call_of(&record).map(|c| c.named_targets()).unwrap_or_default();
        }
        if completed && let Some(files) = job.staging.clone() {
            match self.staged_disks(&record, &files).await {
                Ok(disks) => job.restored_resource_ids = disks,
                Err(e) => {
                    tracing::warn!(request_id = %record.request_id, error = %e, "restored disks not read from the staging config");
                    staging_failure = Some(TagFailure {
                        resource_id: files.config_uri.clone().unwrap_or_else(|| files.config_blob.clone()),
                        error: format!("the restored disks could not be read, so they are not tagged: {e}"),
                    });
                }
            }
        }
        let tagging = match job.status {
            JobStatus::Completed | JobStatus::CompletedWithWarnings => {
                self.apply_tags(&record, &job, ctx).await.map(|mut t| {
                    t.failed.extend(staging_failure);
                    t
                })
            }
            _ => None,
        };
        record.operation = Some(serde_json::json!({ "job": job, "tagging": tagging }));
        Ok(Advance::Store(Box::new(match job.status {
            JobStatus::Completed | JobStatus::CompletedWithWarnings => ended(record, State::Succeeded),
            JobStatus::Cancelled => {
                end(record, State::Cancelled, ReasonCode::JobCancelled, "the Azure job was cancelled")
            }
            _ => match job.errors.first() {
                Some(error) => fail(record, error),
                None => {
                    end(record, State::Failed, ReasonCode::JobFailed, "the Azure job failed without an error detail")
                }
            },
        })))
    }

    /// The disks a restore-disks job created, from the staging config it wrote (see [`crate::staging`]).
    async fn staged_disks(&self, record: &Record, files: &StagingFiles) -> Result<Vec<String>, StagingError> {
        let reader = self.staging.as_ref().ok_or(StagingError::NoEndpoint)?;
        let target_group = record
            .request
            .pointer("/operation/targetResourceGroupId")
            .and_then(serde_json::Value::as_str)
            .and_then(|g| ResourceGroupId::parse(g).ok())
            .ok_or_else(|| StagingError::BadConfig("belongs to a request without a target resource group".into()))?;
        if let Some(named) = &files.target_resource_group
            && !named.eq_ignore_ascii_case(target_group.name())
        {
            return Err(StagingError::BadConfig(format!(
                "belongs to a job that restored into '{named}', not the request's group {target_group}"
            )));
        }
        let account = record
            .request
            .pointer("/operation/stagingStorageAccountId")
            .and_then(serde_json::Value::as_str)
            .and_then(|a| a.rsplit('/').next())
            .ok_or_else(|| StagingError::BadConfig("belongs to a request that named no staging account".into()))?;
        let bytes = reader.read_config(files, account).await?;
        crate::staging::restored_disks(&crate::staging::decode_config(&bytes)?, &target_group)
    }

    /// Puts the record's tags on what the restore created (Azure's restore requests take no tags): the
    /// resources the job reports, else the one the call named. Only resources inside the request's target
    /// resource group are touched; a failure is reported in the result and does not fail the restore. `Merge`
    /// is idempotent, so a crash before the record is stored just tags again.
    async fn apply_tags(&self, record: &Record, job: &JobView, ctx: &azure_core::http::Context<'_>) -> Option<Tagging> {
        if record.restore_tags.is_empty() {
            return None;
        }
        // Original-location restores (replace disks) have no target group: production resources are not tagged.
        let target_group = record
            .request
            .pointer("/operation/targetResourceGroupId")
            .and_then(serde_json::Value::as_str)
            .and_then(|g| ResourceGroupId::parse(g).ok())?;
        let targets = job.restored_resource_ids.clone();
        let mut tagging = Tagging { tags: record.restore_tags.clone(), ..Default::default() };
        for id in targets {
            let resource = match ResourceId::parse(&id) {
                Ok(r) if r.resource_group_id().is_some_and(|g| g == target_group) => r,
                Ok(_) => {
                    let error = format!("outside the restore's target resource group {target_group}; not tagged");
                    tagging.failed.push(TagFailure { resource_id: id, error });
                    continue;
                }
                Err(e) => {
                    tagging.failed.push(TagFailure { resource_id: id, error: format!("not an ARM resource id: {e}") });
                    continue;
                }
            };
            match self.client.merge_tags(ctx, &resource, &tagging.tags).await {
                Ok(()) => tagging.tagged.push(id),
                Err(e) => {
                    tracing::warn!(request_id = %record.request_id, resource = %id, error = %e, "restored resource not tagged");
                    tagging.failed.push(TagFailure { resource_id: id, error: e.to_string() });
                }
            }
        }
        Some(tagging)
    }

    /// An accepted restore whose operation cannot be followed (no job id, or a status URL on another host):
    /// find its job in Azure's job list.
    async fn find_job(&self, record: Record, now: OffsetDateTime) -> Result<Advance, (Box<Record>, CallError)> {
        let since = record.triggered_at.or(record.write_ahead_at).unwrap_or(record.received_at);
        let Some(answer) = self.reconcile_record(&record, since, now).await else {
            return Ok(stored(end(
                record,
                State::NeedsAttention,
                ReasonCode::RecordIncomplete,
                "an accepted record without its call",
            )));
        };
        match answer {
            Ok(Reconciled::Found(job)) => Ok(stored(running(record, &job, now, &self.settings))),
            Ok(Reconciled::TooEarly(wait)) => {
                let mut record = record;
                record.next_poll_at = Some(now + wait);
                Ok(stored(record))
            }
            Ok(Reconciled::NotStarted) => Ok(stored(end(
                record,
                State::NeedsAttention,
                ReasonCode::JobNotFound,
                "Azure accepted the restore but no job for it can be found",
            ))),
            Ok(Reconciled::Ambiguous(why)) => {
                Ok(stored(end(record, State::NeedsAttention, ReasonCode::AmbiguousJob, &why)))
            }
            Err(e) => Err((Box::new(record), e)),
        }
    }

    /// A write-ahead left by a crashed intake whose message will not come back: adopt its job if it started;
    /// otherwise hand it to a person. The tracker never posts a restore: only the intake does.
    async fn reconcile_stale(&self, record: Record, now: OffsetDateTime) -> Result<Advance, (Box<Record>, CallError)> {
        let since = record.write_ahead_at.unwrap_or(record.updated_at);
        let Some(answer) = self.reconcile_record(&record, since, now).await else {
            return Ok(stored(end(
                record,
                State::NeedsAttention,
                ReasonCode::UnreadableWriteAhead,
                "the write-ahead has no readable call",
            )));
        };
        match answer {
            Ok(Reconciled::Found(job)) => {
                let mut record = running(record, &job, now, &self.settings);
                record.triggered_at = record.triggered_at.or(Some(since));
                Ok(stored(record))
            }
            Ok(Reconciled::TooEarly(_)) => Ok(Advance::Skip),
            Ok(Reconciled::NotStarted) => Ok(stored(end(
                record,
                State::NeedsAttention,
                ReasonCode::IntakeStoppedBeforeTrigger,
                "the intake stopped after its write-ahead and Azure shows no restore for it; submit the request again with a new requestId if it is still needed",
            ))),
            Ok(Reconciled::Ambiguous(why)) => {
                Ok(stored(end(record, State::NeedsAttention, ReasonCode::AmbiguousWriteAhead, &why)))
            }
            Err(e) => Err((Box::new(record), e)),
        }
    }

    /// What Azure's job list says about `record`'s call since `since`; `None` when the record has no readable call.
    async fn reconcile_record(
        &self,
        record: &Record,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Option<Result<Reconciled, CallError>> {
        let call = call_of(record)?;
        let ctx = ArmClient::context(&record.request_id);
        let point = record.recovery_point_id.as_deref();
        let settle = match call {
            AzureCall::RsvCrossRegionRestore { .. } => self.settings.crr_settle,
            _ => self.settings.settle,
        };
        Some(reconcile(&self.client, &ctx, &call, point, since, now, settle).await)
    }
}

/// The states in which the intake holds a record (the tracker only ever ends or adopts them).
const INTAKE_STATES: [State; 3] = [State::Received, State::Planned, State::Triggering];

/// When the tracker may take over `record` from the intake that holds it: `stale_write_ahead` after its last
/// write, and not before its lease lapses. `None` for records the intake does not hold. The intake stores
/// this as the record's `next_poll_at` at each write, so that finding what a crashed intake left behind
/// costs the tracker no read beyond `due`.
pub fn takeover_at(record: &Record, stale_write_ahead: Duration) -> Option<OffsetDateTime> {
    if !INTAKE_STATES.contains(&record.state) {
        return None;
    }
    let stale = record.updated_at + stale_write_ahead;
    Some(record.lease.as_ref().map_or(stale, |l| stale.max(l.until)))
}

fn stored(record: Record) -> Advance {
    Advance::Store(Box::new(record))
}

fn call_of(record: &Record) -> Option<AzureCall> {
    record.azure_request_body.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn deadline_of(record: &Record) -> Option<OffsetDateTime> {
    let request: RestoreRequest = serde_json::from_value(record.request.clone()).ok()?;
    request.options.deadline.map(|d| d.get())
}

fn running(record: Record, job: &JobView, now: OffsetDateTime, settings: &TrackerSettings) -> Record {
    let mut record = record;
    record.state = State::Running;
    record.job_id = Some(job.job_id.clone());
    record.job_started_at = job.started_at;
    record.next_poll_at = Some(now + settings.job_poll);
    record
}

/// The record ended in `state` for `code`.
fn end(record: Record, state: State, code: ReasonCode, message: &str) -> Record {
    let mut record = ended(record, state);
    record.reason = Some(stored_reason(&code, message));
    record
}

/// The record ended in `state`, due at once so a result whose publication is not confirmed is found again.
fn ended(record: Record, state: State) -> Record {
    let mut record = record;
    record.state = state;
    record.reason = None;
    record.result_published = false;
    // Due at once, so a result whose publication is not confirmed is found again by the next tick.
    record.next_poll_at = Some(record.updated_at);
    record
}

fn fail(record: Record, error: &AzureError) -> Record {
    let mut record = end(record, State::Failed, ReasonCode::azure(error.code.clone()), &error.message);
    record.result = Some(serde_json::json!({ "azureError": error }));
    record
}

/// The result a stored record should publish now, if any: terminal records not yet published, and the
/// Accepted result of a write-ahead the tracker reconciled.
fn publishable(record: &Record) -> Option<RestoreResult> {
    if !record.state.is_terminal() || record.result_published {
        return None;
    }
    let status = status_of(record)?;
    // Built on an earlier tick whose publication was not recorded: send the same result again.
    if let Some(built) = record.result.as_ref().and_then(|r| serde_json::from_value::<RestoreResult>(r.clone()).ok())
        && built.status == status
    {
        return Some(built);
    }
    let mut result = result_for(record, status);
    result.tagging = record
        .operation
        .as_ref()
        .and_then(|o| o.get("tagging"))
        .and_then(|t| serde_json::from_value::<Tagging>(t.clone()).ok());
    if let Some(job) = record
        .operation
        .as_ref()
        .and_then(|o| o.get("job"))
        .and_then(|j| serde_json::from_value::<JobView>(j.clone()).ok())
    {
        result.restored_resource_ids = job.restored_resource_ids.clone();
        if let Some(files) = &job.staging {
            result.staging_files = [&files.config_uri, &files.template_uri].into_iter().flatten().cloned().collect();
        }
        let azure = result.azure.get_or_insert_with(Default::default);
        azure.job_status = job.raw_status.clone();
    }
    let azure_error = record
        .result
        .as_ref()
        .and_then(|r| r.get("azureError"))
        .and_then(|e| serde_json::from_value::<AzureError>(e.clone()).ok());
    if let Some(error) = azure_error {
        result = with_azure_error(result, &error);
    }
    if status == ResultStatus::Succeeded {
        result.reason = None;
    }
    Some(result)
}

impl Tracker {
    /// The wait before the next read of a running job (`job`: what the last read said, `None` when the job id
    /// just became known): near its expected end, see [`crate::pace`].
    fn next_job_read(&self, record: &Record, job: Option<&JobView>, now: OffsetDateTime) -> Duration {
        let triggered = record.triggered_at.or(record.write_ahead_at).unwrap_or(record.received_at);
        let typical = call_of(record).and_then(|call| pace_key(&call)).and_then(|(k, i)| self.pace.typical(k, &i));
        let progress = crate::pace::JobProgress {
            elapsed: Duration::try_from(now - triggered).unwrap_or_default(),
            remaining: job.and_then(|j| j.estimated_remaining.as_deref()).and_then(crate::pace::parse_remaining),
            percent: job.and_then(|j| j.progress_percent),
            typical,
        };
        let pace = crate::pace::Pace {
            floor: self.settings.job_poll / 3,
            first_blind: self.settings.job_poll.mul_f64(2.5),
            max: self.settings.job_poll_max,
        };
        crate::pace::next_read(progress, pace)
    }
}

/// The kind and item a restore's duration is remembered under, for [`crate::pace::History`].
fn pace_key(call: &AzureCall) -> Option<(&'static str, String)> {
    match call {
        AzureCall::DppRestore { backup_instance_id, .. } => Some(("dpp-restore", backup_instance_id.to_string())),
        AzureCall::RsvRestore { recovery_point_id, .. } => {
            Some(("rsv-restore", recovery_point_id.protected_item().to_string()))
        }
        AzureCall::RsvCrossRegionRestore { recovery_point_id, .. } => {
            Some(("rsv-crr", recovery_point_id.protected_item().to_string()))
        }
        AzureCall::DppConfigureProtection { .. } | AzureCall::DppStopProtection { .. } => None,
    }
}

/// A stable per-request offset in `[0, max)` (a tenth of the interval), so records accepted together spread
/// their polls instead of bunching on the same tick.
fn spread(request_id: &str, max: Duration) -> Duration {
    let hash =
        request_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let millis = max.as_millis().max(1) as u64;
    Duration::from_millis(hash % millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_stable_and_bounded() {
        let a = spread("req-1", Duration::from_secs(10));
        assert_eq!(a, spread("req-1", Duration::from_secs(10)));
        assert!(a < Duration::from_secs(10));
        let distinct: std::collections::BTreeSet<u128> =
            (0..50).map(|i| spread(&format!("req-{i}"), Duration::from_secs(10)).as_millis()).collect();
        assert!(distinct.len() > 40, "offsets bunch: {distinct:?}");
    }
}
