//! One drilled item's state machine: request → restore → checks → cleanup, advanced one step per tick and
//! resumable after a crash at any step boundary (everything it needs is on the [`ItemRun`], stored with the
//! run under compare-and-swap).
//!
//! * **Request.** The restore request was built when the run started and is stored on the item, so a resend is
//!   byte-for-byte the same request with the same deterministic request id: the intake's exactly-once core
//!   dedupes it. It is sent again only when no restore record exists after `resend_after` (a lost queue send
//!   costs a little time, never a run).
//! * **Restore.** Followed through the restore record the intake and tracker keep (no Azure call here).
//! * **Checks.** Every restored resource is tagged with the plan, run and expiry first (so a crash after this
//!   point leaves resources a sweep can recognise), then checked ([`crate::checks`]); a VM whose agent is not
//!   ready is looked at again on later ticks until the agent timeout.
//! * **Cleanup.** After `keep_for`, every recorded resource passes the three-part guard ([`crate::cleanup`])
//!   before its DELETE, VMs first with their disks and NICs recorded from the VM; each deletion is confirmed by
//!   a GET answering 404 on a later tick; a failed delete is retried across ticks up to a bound, then reported
//!   as a leftover. Staging files (no ARM tags) are deleted by URL, recorded on the item alone.
//!
//! Seams: [`DrillAzure`] (ARM and staging reads, tags, deletes) and [`Restores`] (the restore records and the
//! requests queue), so the branches below are unit-tested with scripted answers.

use std::collections::BTreeMap;

use async_trait::async_trait;
use restore_contract::Timestamp;
use restore_contract::policy::SandboxPolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::checks::{CheckResult, VmVerdict, disk_checks, vm_checks};
use crate::cleanup::{attached_resources, delete_accepted, deletion_order, drill_tags, guard};
use crate::ids::{ItemId, ItemKind, VaultId};
use crate::plan::Checks;
use crate::probes::{
    RunCommandVerdict, WebhookClient, WebhookPayload, judge_run_command, run_command_body, run_command_id,
    webhook_check,
};
use crate::result::{Failure, FailureStage, SkipReason, Timeline};

/// A seam call that failed; the step is retried on the next tick.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SeamError(pub String);

/// What the drill does in Azure.
#[async_trait]
pub trait DrillAzure: Send + Sync {
    /// GET a resource; `None` when Azure answers 404.
    async fn get(&self, id: &str) -> Result<Option<Value>, SeamError>;
    /// A VM's instance view.
    async fn instance_view(&self, vm: &str) -> Result<Value, SeamError>;
    /// Merges tags into a resource's tags.
    async fn merge_tags(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), SeamError>;
    /// DELETE a resource; Azure's status.
    async fn delete(&self, id: &str) -> Result<u16, SeamError>;
    /// Deletes a staging file by its URL (already gone counts as deleted).
    async fn delete_staging(&self, url: &str) -> Result<(), SeamError>;
    /// PUT a resource (a Run Command); accepted (200/201) or an error.
    async fn put(&self, id: &str, body: &Value) -> Result<(), SeamError>;
    /// GET a Run Command with its instance view (`$expand=instanceView`); `None` on 404.
    async fn run_command(&self, id: &str) -> Result<Option<Value>, SeamError>;
}

/// A restore as its record tells it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RestoreView {
    /// Terminal.
    pub done: bool,
    /// Ended `Succeeded`.
    pub succeeded: bool,
    /// Trigger time.
    pub triggered_at: Option<OffsetDateTime>,
    /// Azure's job start.
    pub job_started_at: Option<OffsetDateTime>,
    /// Azure's job end.
    pub job_ended_at: Option<OffsetDateTime>,
    /// What the restore created.
    pub restored: Vec<String>,
    /// Staging files it left.
    pub staging_files: Vec<String>,
    /// The reason code and message of a restore that did not succeed.
    pub error: Option<(String, String)>,
    /// The recovery point the intake chose (its name).
    pub recovery_point_id: Option<String>,
}

/// The restore path the drill goes through.
#[async_trait]
pub trait Restores: Send + Sync {
    /// The restore record of `request_id`, if it exists yet.
    async fn restore(&self, request_id: &str) -> Result<Option<RestoreView>, SeamError>;
    /// Sends a restore request to the intake's queue.
    async fn send(&self, request: &Value) -> Result<(), SeamError>;
    /// The restores in `vault` that have not ended yet.
    async fn vault_load(&self, vault: &VaultId) -> Result<VaultLoad, SeamError>;
}

/// The restores in a vault that have not ended yet, drills' apart from everyone else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VaultLoad {
    /// Drill restores (request source kind `drill`).
    pub drills: usize,
    /// Every other restore.
    pub others: usize,
}

/// Where an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// The request is sent; no restore record yet.
    Requested,
    /// The intake has it; Azure is restoring.
    Restoring,
    /// Restored: tagging and checking.
    Checking,
    /// Checked (or failed): deleting what was created.
    CleaningUp,
    /// Nothing left to do.
    Done,
}

/// A resource (or staging file) the drill created for an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// ARM id, or a staging file's URL.
    pub id: String,
    /// A staging file (no ARM tags; deleted by URL).
    #[serde(default)]
    pub staging: bool,
    /// Tagged with the run's tags.
    #[serde(default)]
    pub tagged: bool,
    /// A DELETE was accepted (awaiting its confirmation).
    #[serde(default)]
    pub delete_sent: bool,
    /// When a GET confirmed it gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<Timestamp>,
    /// DELETE attempts that failed (refused, or accepted and never finished within the confirm timeout).
    #[serde(default)]
    pub failed_deletes: u32,
    /// When the last accepted DELETE was sent (its 404 is awaited until the confirm timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_sent_at: Option<Timestamp>,
    /// Tag writes that failed; at the bound the resource is checked untagged, and cleanup's guard will refuse it.
    #[serde(default)]
    pub tag_failures: u32,
    /// Why it is not (or will never be) deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The guard refused it: never deleted.
    #[serde(default)]
    pub refused: bool,
}

impl Created {
    fn new(id: &str, staging: bool) -> Created {
        Created {
            id: id.to_string(),
            staging,
            tagged: false,
            delete_sent: false,
            gone_at: None,
            failed_deletes: 0,
            delete_sent_at: None,
            tag_failures: 0,
            problem: None,
            refused: false,
        }
    }

    /// Settled: confirmed gone, refused, or given up.
    fn settled(&self, max_failed: u32) -> bool {
        self.gone_at.is_some() || self.refused || self.failed_deletes >= max_failed
    }
}

/// One item of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRun {
    /// The item.
    pub item: ItemId,
    /// Disk or VM.
    pub kind: ItemKind,
    /// The deterministic request id (run + item).
    pub request_id: String,
    /// The restore request, fixed at the run's start.
    pub request: Value,
    /// Where it is.
    pub phase: Phase,
    /// Times the request was sent.
    pub sends: u32,
    /// The last send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sent_at: Option<Timestamp>,
    /// The timeline.
    #[serde(default)]
    pub timeline: Timeline,
    /// What was created.
    #[serde(default)]
    pub created: Vec<Created>,
    /// Check results.
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The recovery point restored: its name and, once read from Azure, when it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<PointUsed>,
    /// The source disk's or VM's GET body when the run started (what checks compare against); absent when the
    /// source no longer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// Not attempted, and why (the item starts [`Phase::Done`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
    /// Total size of the disks the restore created, in GiB, as the checks read them (restored disks' `diskSizeGB`;
    /// a new VM's disks from its `storageProfile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_gib: Option<u64>,
    /// The Run Command check's command, once its PUT was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_command: Option<RunCommandSent>,
    /// When a tick first saw the restore succeeded, on the function's own clock: the agent timeout (and the
    /// checks' durations) run from here. Azure's job end time is another machine's clock, so comparing it with
    /// our `now` lets clock skew stretch or cut the timeout (absent in runs stored before: the job end is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks_started: Option<Timestamp>,
}

/// A Run Command the drill created on a restored VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCommandSent {
    /// Its ARM id.
    pub id: String,
    /// When its PUT was accepted.
    pub sent_at: Timestamp,
}

/// The recovery point an item's restore used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PointUsed {
    /// Its name (the id within the item).
    pub name: String,
    /// When it was taken (`properties.recoveryPointTime`), once read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
}

/// What an item's step needs besides the item.
#[derive(Debug, Clone)]
pub struct StepContext<'a> {
    /// The plan's name.
    pub plan: &'a str,
    /// The run id.
    pub run_id: &'a str,
    /// The policy's sandbox (the guard's first condition).
    pub sandbox: &'a SandboxPolicy,
    /// Now.
    pub now: OffsetDateTime,
    /// When tagged resources expire (a sweep may delete them after).
    pub expires: OffsetDateTime,
    /// Resend the request when no record exists this long after the last send.
    pub resend_after: Duration,
    /// How long a VM's agent may take to report ready after the restore ended (as the drill first saw it).
    pub agent_timeout: Duration,
    /// How long restored resources are kept after the checks.
    pub keep_for: Duration,
    /// Failed DELETEs of one resource before it is reported as a leftover; also the bound on failed tag writes.
    pub max_failed_deletes: u32,
    /// The plan's checks (the optional Run Command and webhook).
    pub checks: &'a Checks,
    /// Sends webhook checks; `None` when the function has no HTTP client for them (a plan with a webhook then
    /// fails that check, saying so).
    pub webhook: Option<&'a dyn WebhookClient>,
    /// How long an accepted DELETE may take to make the resource disappear before it counts as failed and is sent
    /// again (Azure's deletes of disks, NICs and VMs take minutes; one that never finishes must not stall the run).
    pub delete_confirm_timeout: Duration,
}

fn ts(t: OffsetDateTime) -> Timestamp {
    Timestamp::from(t)
}

impl ItemRun {
    /// A new item whose request is sent on the first step.
    pub fn new(item: ItemId, request_id: String, request: Value, source: Option<Value>) -> ItemRun {
        let kind = item.kind();
        ItemRun {
            item,
            kind,
            request_id,
            request,
            phase: Phase::Requested,
            sends: 0,
            last_sent_at: None,
            timeline: Timeline::default(),
            created: Vec::new(),
            checks: Vec::new(),
            failure: None,
            recovery_point: None,
            source,
            skipped: None,
            restored_gib: None,
            run_command: None,
            checks_started: None,
        }
    }

    /// An item the run reports without restoring it: skipped (`Ok(reason)`) or failed before any request
    /// (`Err(failure)`, e.g. an explicit item no longer protected).
    pub fn not_attempted(item: ItemId, request_id: String, why: Result<SkipReason, Failure>) -> ItemRun {
        let mut run = ItemRun::new(item, request_id, Value::Null, None);
        run.phase = Phase::Done;
        match why {
            Ok(reason) => run.skipped = Some(reason),
            Err(failure) => run.failure = Some(failure),
        }
        run
    }

    /// Advances the item by at most one phase. Returns whether anything changed (and must be stored). A seam
    /// error leaves the item as it was for the next tick.
    pub async fn step(
        &mut self,
        ctx: &StepContext<'_>,
        azure: &dyn DrillAzure,
        restores: &dyn Restores,
    ) -> Result<bool, SeamError> {
        match self.phase {
            Phase::Requested | Phase::Restoring => self.follow_restore(ctx, restores).await,
            Phase::Checking => self.check(ctx, azure).await,
            Phase::CleaningUp => self.clean_up(ctx, azure).await,
            Phase::Done => Ok(false),
        }
    }

    async fn follow_restore(&mut self, ctx: &StepContext<'_>, restores: &dyn Restores) -> Result<bool, SeamError> {
        let Some(view) = restores.restore(&self.request_id).await? else {
            let due = self.last_sent_at.as_ref().is_none_or(|t| ctx.now - t.get() >= ctx.resend_after);
            if !due {
                return Ok(false);
            }
            restores.send(&self.request).await?;
            self.sends += 1;
            self.last_sent_at = Some(ts(ctx.now));
            return Ok(true);
        };
        let before = (self.phase, self.timeline.clone());
        self.timeline.triggered = view.triggered_at.map(ts).or(self.timeline.triggered.take());
        self.timeline.job_started = view.job_started_at.map(ts).or(self.timeline.job_started.take());
        self.timeline.job_ended = view.job_ended_at.map(ts).or(self.timeline.job_ended.take());
        if !view.done {
            self.phase = Phase::Restoring;
            return Ok((self.phase, self.timeline.clone()) != before);
        }
        if let Some(name) = view.recovery_point_id.filter(|_| self.recovery_point.is_none()) {
            self.recovery_point = Some(PointUsed { name, time: None });
        }
        for id in &view.restored {
            self.record(id, false);
        }
        for url in &view.staging_files {
            self.record(url, true);
        }
        if view.succeeded {
            self.checks_started = Some(ts(ctx.now));
            self.phase = Phase::Checking;
        } else {
            let (code, message) =
                view.error.unwrap_or_else(|| ("RestoreFailed".into(), "the restore did not succeed".into()));
            self.failure = Some(Failure { stage: FailureStage::Restore, check: None, code: Some(code), message });
            self.phase = Phase::CleaningUp;
        }
        Ok(true)
    }

    fn record(&mut self, id: &str, staging: bool) {
        if !self.created.iter().any(|c| c.id.eq_ignore_ascii_case(id)) {
            self.created.push(Created::new(id, staging));
        }
    }

    async fn check(&mut self, ctx: &StepContext<'_>, azure: &dyn DrillAzure) -> Result<bool, SeamError> {
        // Tag first: from here on a crash leaves only resources a sweep can recognise as this run's. A failed tag
        // write is counted (and stored) and retried next tick, up to the bound.
        if !self.tag_untagged(ctx, azure).await {
            return Ok(true);
        }
        // When the restored point was taken (its age goes into the evidence).
        if let Some(point) = self.recovery_point.as_mut().filter(|p| p.time.is_none()) {
            let id = format!("{}/recoveryPoints/{}", self.item.as_str(), point.name);
            if let Some(body) = azure.get(&id).await? {
                point.time = body["properties"]["recoveryPointTime"].as_str().and_then(|t| Timestamp::parse(t).ok());
            }
        }
        let started = self.checks_started.as_ref().or(self.timeline.job_ended.as_ref()).map_or(ctx.now, Timestamp::get);
        let elapsed_ms = |now: OffsetDateTime| u64::try_from((now - started).whole_milliseconds()).unwrap_or(0);
        let mut results = Vec::new();
        let mut wait = false;
        let mut gib = 0u64;
        let ids: Vec<String> = self.created.iter().filter(|c| !c.staging).map(|c| c.id.clone()).collect();
        for id in &ids {
            let lower = id.to_ascii_lowercase();
            if lower.contains("/providers/microsoft.compute/virtualmachines/") {
                let Some(vm) = azure.get(id).await? else {
                    results.push(missing("vmProvisioned", id));
                    continue;
                };
                let view = azure.instance_view(id).await?;
                match vm_checks(&vm, &view, ctx.now - started >= ctx.agent_timeout) {
                    VmVerdict::Passed(r) | VmVerdict::Failed(r) => results.extend(r),
                    VmVerdict::Wait(r) => {
                        wait = true;
                        results.extend(r);
                    }
                }
                let sp = &vm["properties"]["storageProfile"];
                gib += sp["osDisk"]["diskSizeGB"].as_u64().unwrap_or(0);
                gib +=
                    sp["dataDisks"].as_array().map_or(0, |d| d.iter().filter_map(|x| x["diskSizeGB"].as_u64()).sum());
                // Record what the VM holds now, so cleanup finds its disks and NICs even if it is gone by then.
                for attached in attached_resources(&vm) {
                    self.record(&attached, false);
                }
            } else if lower.contains("/providers/microsoft.compute/disks/") {
                match azure.get(id).await? {
                    Some(disk) => {
                        gib += disk["properties"]["diskSizeGB"].as_u64().unwrap_or(0);
                        results.extend(disk_checks(&disk, self.source.as_ref().filter(|_| self.kind == ItemKind::Disk)))
                    }
                    None => results.push(missing("diskExists", id)),
                }
            }
        }
        // The disks and NICs a VM holds were just recorded: tag them too, or cleanup's guard would refuse them.
        if !self.tag_untagged(ctx, azure).await {
            return Ok(true);
        }
        self.restored_gib = (gib > 0).then_some(gib);
        if !wait && results.iter().all(|r| r.passed) {
            // Inside the item, only once the resources are sound: a Run Command on the new VM, then the webhook.
            match self.probe(ctx, azure, &results).await? {
                Some(extra) => results.extend(extra),
                None => wait = true,
            }
        }
        for r in &mut results {
            if r.duration_ms == 0 {
                r.duration_ms = elapsed_ms(ctx.now);
            }
        }
        self.checks = results;
        if wait {
            return Ok(true);
        }
        match self.checks.iter().find(|c| !c.passed) {
            Some(failed) => {
                self.failure = Some(Failure {
                    stage: FailureStage::Check,
                    check: Some(failed.name.clone()),
                    code: None,
                    message: failed.evidence.clone(),
                });
            }
            None => self.timeline.checks_passed = Some(ts(ctx.now)),
        }
        self.phase = Phase::CleaningUp;
        Ok(true)
    }

    /// The optional checks inside the item, once the resource checks passed: `None` while the Run Command runs
    /// (the item waits for a later tick), else their results.
    async fn probe(
        &mut self,
        ctx: &StepContext<'_>,
        azure: &dyn DrillAzure,
        so_far: &[CheckResult],
    ) -> Result<Option<Vec<CheckResult>>, SeamError> {
        let mut out = Vec::new();
        let vm = self
            .created
            .iter()
            .find(|c| c.id.to_ascii_lowercase().contains("/providers/microsoft.compute/virtualmachines/"));
        if let (Some(check), Some(vm)) = (&ctx.checks.run_command, vm) {
            let vm_id = vm.id.clone();
            match &self.run_command {
                None => {
                    let location = azure.get(&vm_id).await?.and_then(|v| v["location"].as_str().map(str::to_string));
                    let id = run_command_id(&vm_id, &self.request_id);
                    azure.put(&id, &run_command_body(check, location.as_deref().unwrap_or_default())).await?;
                    self.run_command = Some(RunCommandSent { id, sent_at: ts(ctx.now) });
                    return Ok(None);
                }
                Some(sent) => {
                    let body = azure.run_command(&sent.id).await?;
                    let waited = ctx.now - sent.sent_at.get();
                    match judge_run_command(check, body.as_ref(), waited) {
                        RunCommandVerdict::Running => return Ok(None),
                        RunCommandVerdict::Done(mut r) => {
                            r.duration_ms = u64::try_from(waited.whole_milliseconds()).unwrap_or(0);
                            out.push(r);
                        }
                    }
                }
            }
        }
        if let Some(check) = &ctx.checks.webhook {
            let mut checks: Vec<CheckResult> = so_far.to_vec();
            checks.extend(out.iter().cloned());
            let payload = WebhookPayload {
                plan: ctx.plan,
                run_id: ctx.run_id,
                item: self.item.as_str(),
                kind: if self.kind == ItemKind::Disk { "disk" } else { "vm" },
                resources: self.created.iter().filter(|c| !c.staging).map(|c| c.id.as_str()).collect(),
                checks: &checks,
            };
            let result = match ctx.webhook {
                Some(client) => webhook_check(check, &payload, client, &ts(ctx.now).to_string()).await,
                None => CheckResult {
                    name: "webhook".into(),
                    passed: false,
                    duration_ms: 0,
                    evidence: "this drill function has no webhook client configured: nothing sent".into(),
                },
            };
            out.push(result);
        }
        Ok(Some(out))
    }

    /// Tags every recorded resource not tagged yet. Returns false while a failed tag write is still under the
    /// bound (the item waits for the next tick, with the failure counted); at the bound the resource stays
    /// untagged with the reason, and cleanup's guard will refuse to delete it (reported as a leftover, never
    /// deleted without the tag).
    async fn tag_untagged(&mut self, ctx: &StepContext<'_>, azure: &dyn DrillAzure) -> bool {
        let tags = drill_tags(ctx.plan, ctx.run_id, ctx.expires);
        let mut all = true;
        for c in self.created.iter_mut().filter(|c| !c.staging && !c.tagged && c.tag_failures < ctx.max_failed_deletes)
        {
            match azure.merge_tags(&c.id, &tags).await {
                Ok(()) => c.tagged = true,
                Err(e) => {
                    c.tag_failures += 1;
                    c.problem = Some(format!("tagging failed {} time(s): {e}", c.tag_failures));
                    all &= c.tag_failures >= ctx.max_failed_deletes;
                }
            }
        }
        all
    }

    async fn clean_up(&mut self, ctx: &StepContext<'_>, azure: &dyn DrillAzure) -> Result<bool, SeamError> {
        let ready_at = self.timeline.checks_passed.as_ref().or(self.timeline.job_ended.as_ref()).map(Timestamp::get);
        if self.failure.is_none() && ready_at.is_some_and(|t| ctx.now - t < ctx.keep_for) {
            return Ok(false);
        }
        let recorded: Vec<String> = self.created.iter().map(|c| c.id.clone()).collect();
        let order = deletion_order(&recorded);
        let mut changed = false;
        for id in order {
            let Some(i) = self.created.iter().position(|c| c.id == id) else { continue };
            if self.created[i].settled(ctx.max_failed_deletes) {
                continue;
            }
            if self.created[i].staging {
                match azure.delete_staging(&id).await {
                    Ok(()) => self.created[i].gone_at = Some(ts(ctx.now)),
                    Err(e) => self.fail_delete(i, &e.0),
                }
                changed = true;
                continue;
            }
            // Read it: gone (confirmed), or its tags for the guard and, for a VM, what it holds.
            let Some(body) = azure.get(&id).await? else {
                self.created[i].gone_at = Some(ts(ctx.now));
                changed = true;
                continue;
            };
            if self.created[i].delete_sent {
                // Deletion in progress: confirmed by a later GET's 404, unless it has taken too long.
                let sent = self.created[i].delete_sent_at.map(|t| t.get());
                if sent.is_some_and(|t| ctx.now - t >= ctx.delete_confirm_timeout) {
                    self.created[i].delete_sent = false;
                    let why =
                        format!("DELETE accepted but the resource still exists after {}", ctx.delete_confirm_timeout);
                    self.fail_delete(i, &why);
                    changed = true;
                }
                continue;
            }
            if id.to_ascii_lowercase().contains("/providers/microsoft.compute/virtualmachines/") {
                for attached in attached_resources(&body) {
                    self.record(&attached, false);
                }
            }
            let tags: BTreeMap<String, String> = serde_json::from_value(body["tags"].clone()).unwrap_or_default();
            let recorded: Vec<String> = self.created.iter().map(|c| c.id.clone()).collect();
            if let Err(refusal) = guard(&id, ctx.sandbox, &recorded, &tags, ctx.run_id) {
                self.created[i].refused = true;
                self.created[i].problem = Some(refusal.to_string());
                changed = true;
                continue;
            }
            match azure.delete(&id).await {
                Ok(status) if delete_accepted(status) => {
                    self.created[i].delete_sent = true;
                    self.created[i].delete_sent_at = Some(ts(ctx.now));
                }
                Ok(status) => self.fail_delete(i, &format!("DELETE answered {status}")),
                Err(e) => self.fail_delete(i, &e.0),
            }
            changed = true;
        }
        if self.created.iter().all(|c| c.settled(ctx.max_failed_deletes)) {
            if self.created.iter().all(|c| c.gone_at.is_some()) {
                self.timeline.cleaned_up = Some(ts(ctx.now));
            }
            self.phase = Phase::Done;
            changed = true;
        }
        Ok(changed)
    }

    fn fail_delete(&mut self, i: usize, why: &str) {
        let c = &mut self.created[i];
        c.failed_deletes += 1;
        c.problem = Some(why.to_string());
    }

    /// Resources not confirmed deleted, with why.
    pub fn leftovers(&self) -> Vec<(String, String)> {
        self.created
            .iter()
            .filter(|c| c.gone_at.is_none())
            .map(|c| (c.id.clone(), c.problem.clone().unwrap_or_else(|| "delete pending".into())))
            .collect()
    }
}

fn missing(check: &str, id: &str) -> CheckResult {
    CheckResult {
        name: check.into(),
        passed: false,
        duration_ms: 0,
        evidence: format!("GET {id}: 404, it does not exist"),
    }
}
