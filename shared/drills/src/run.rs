//! One drill run: the plan snapshot, its items, and what the run concludes once every item is done.
//!
//! A run is started once per occurrence (run id = plan + scheduled time) and stored under compare-and-swap, so
//! a tick that runs twice starts it once. It snapshots the plan and builds every item's restore request when it
//! starts, so a plan edited mid-run or a re-sent request stays identical. [`DrillRun::advance`] steps each open
//! item ([`crate::item`]); when all are done the run ends with its outcome, each item's measured RTO against its
//! target, and the signals (RTO over target or regressed, cleanup incomplete, late run).

use restore_contract::Timestamp;
use restore_contract::policy::SandboxPolicy;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::ids::{ItemId, ItemKind, VaultId, drill_request_id};
use crate::item::{DrillAzure, ItemRun, Phase, Restores, SeamError, StepContext};
use crate::plan::{DrillPlan, VmMode};
use crate::result::{
    CoverageGapEntry, DrillResult, ItemOutcome, ItemResult, Leftover, RecoveryPointUsed, ResultVersion, Signal,
};
use crate::rto::{assess, lateness, measure, rto_signals, run_outcome};
use crate::select::drill_slots;

/// A run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillRun {
    /// Plan name + scheduled UTC time.
    pub run_id: String,
    /// The plan as it was when the run started.
    pub plan: DrillPlan,
    /// The scheduled time.
    pub scheduled_at: Timestamp,
    /// When the run started.
    pub started_at: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// Its items.
    pub items: Vec<ItemRun>,
    /// Every item the plan selected (sampled or not) with its last passing drill before this run: what the
    /// coverage target is judged on when the run ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<CoverageEntry>,
    /// When the run was reported stuck (past its completion window, not ended): reported once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck_reported_at: Option<Timestamp>,
    /// The result, fixed when the run ended (against the history before this run), so that whatever is done
    /// again after a crash or a failed write (the message, the evidence) is the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_result: Option<DrillResult>,
    /// When the result message was handed to the output binding; absent: handed again on the next tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_sent_at: Option<Timestamp>,
    /// When its report page and evidence pack were written; absent after an ended run's write failed (tried
    /// again on later ticks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_written_at: Option<Timestamp>,
}

/// A selected item's last passing drill when the run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageEntry {
    /// The item.
    pub item: ItemId,
    /// Its last passing drill (scheduled time), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_passed: Option<Timestamp>,
}

/// The restore request of one item: a new disk, restored disks or a new VM in the plan's sandbox, from the
/// newest recovery point at or before the scheduled time (so a resend names the same point), with the drill's
/// request id and source.
pub fn request_for(plan: &DrillPlan, run_id: &str, scheduled_at: OffsetDateTime, item: &ItemId) -> Value {
    let request_id = drill_request_id(run_id, item);
    let sandbox = plan.sandbox.resource_group_id.as_str();
    // A name unique to the run and item, valid for disks and VMs (≤ 64 characters, letters, digits, '-').
    let suffix: String = request_id.rsplit('.').next().unwrap_or_default().chars().take(8).collect();
    let base: String = item
        .as_str()
        .rsplit(['/', ';'])
        .next()
        .unwrap_or("item")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    let name = format!("{base}-drill-{suffix}");
    let mut operation = match item.kind() {
        ItemKind::Disk => json!({
            "kind": "diskToNewDisk",
            "backupInstanceId": item.as_str(),
            "targetResourceGroupId": sandbox,
            "diskName": name,
        }),
        ItemKind::Vm => {
            let staging = plan.sandbox.staging_storage_account_id.as_ref().map(|s| s.as_str().to_string());
            match plan.restore.vm {
                VmMode::RestoreDisks => {
                    let mut op = json!({
                        "kind": "vmRestoreDisks",
                        "protectedItemId": item.as_str(),
                        "stagingStorageAccountId": staging,
                        "targetResourceGroupId": sandbox,
                    });
                    if let Some(luns) = &plan.restore.luns {
                        op["luns"] = json!(luns);
                    }
                    op
                }
                VmMode::NewVm => {
                    let subnet = plan.sandbox.subnet_id.as_ref();
                    json!({
                        "kind": "vmNewVm",
                        "protectedItemId": item.as_str(),
                        "stagingStorageAccountId": staging,
                        "targetResourceGroupId": sandbox,
                        "vmName": name,
                        "virtualNetworkId": subnet.map(|s| s.virtual_network().as_str().to_string()),
                        "subnetId": subnet.map(|s| s.as_str().to_string()),
                    })
                }
            }
        }
    };
    // Cross Region Restore: the VM's copy in the paired region (the plan's sandbox is in that region).
    if item.kind() == ItemKind::Vm && plan.recovery_point.vm_region == crate::plan::Region::Secondary {
        operation["secondaryRegion"] = json!(true);
    }
    json!({
        "version": "1",
        "requestId": request_id,
        "source": {
            "kind": "drill",
            "reference": run_id,
            "requestedBy": format!("drill plan '{}'", plan.name),
        },
        "operation": operation,
        "recoveryPoint": { "choice": "latestAtOrBefore", "time": Timestamp::from(scheduled_at) },
    })
}

/// What a run's tick needs besides the run.
#[derive(Debug, Clone)]
pub struct RunContext<'a> {
    /// The policy's sandbox.
    pub sandbox: &'a SandboxPolicy,
    /// Now.
    pub now: OffsetDateTime,
    /// Resend a request when no record exists this long after the last send.
    pub resend_after: Duration,
    /// Failed DELETEs of one resource before it is reported as a leftover.
    pub max_failed_deletes: u32,
    /// How long an accepted DELETE may take before it counts as failed and is sent again.
    pub delete_confirm_timeout: Duration,
    /// Sends webhook checks, when the function has a client for them.
    pub webhook: Option<&'a dyn crate::probes::WebhookClient>,
    /// The policy's `maxConcurrentRestoresPerVault`: with the plan's `vaultConcurrencyShare`, how many drill
    /// restores may run in a vault ([`drill_slots`]).
    pub vault_limit: usize,
}

impl DrillRun {
    /// The state store key of a run's document (`{"missed": true}` instead of a run for a missed occurrence).
    pub fn key(run_id: &str) -> String {
        format!("drill-run:{run_id}")
    }

    /// A run of `plan` scheduled at `scheduled_at` over explicit `items` (each with its source's GET body, if it
    /// exists), every one restored: what [`crate::start::start_run`] does after selection, sampling and the cost
    /// guard, for callers that already chose.
    pub fn start(
        plan: &DrillPlan,
        run_id: &str,
        scheduled_at: OffsetDateTime,
        items: Vec<(ItemId, Option<Value>)>,
        now: OffsetDateTime,
    ) -> DrillRun {
        let items = items
            .into_iter()
            .map(|(item, source)| {
                let request = request_for(plan, run_id, scheduled_at, &item);
                ItemRun::new(item.clone(), drill_request_id(run_id, &item), request, source)
            })
            .collect();
        DrillRun::new(plan, run_id, scheduled_at, items, now)
    }

    /// A run of `plan` scheduled at `scheduled_at` with its items built.
    pub fn new(
        plan: &DrillPlan,
        run_id: &str,
        scheduled_at: OffsetDateTime,
        items: Vec<ItemRun>,
        now: OffsetDateTime,
    ) -> DrillRun {
        DrillRun {
            run_id: run_id.to_string(),
            plan: plan.clone(),
            scheduled_at: Timestamp::from(scheduled_at),
            started_at: Timestamp::from(now),
            ended_at: None,
            items,
            coverage: Vec::new(),
            stuck_reported_at: None,
            final_result: None,
            result_sent_at: None,
            evidence_written_at: None,
        }
    }

    /// Whether the run has ended.
    pub fn ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Steps every open item once; ends the run when all are done. Returns whether anything changed. Items are
    /// independent: one item's seam error does not stop the others (it is retried next tick).
    pub async fn advance(
        &mut self,
        ctx: &RunContext<'_>,
        azure: &dyn DrillAzure,
        restores: &dyn Restores,
    ) -> (bool, Vec<SeamError>) {
        if self.ended() {
            return (false, Vec::new());
        }
        let keep_for = Duration::seconds(self.plan.keep_for.as_secs());
        let agent_timeout = Duration::seconds(self.plan.checks.vm_agent_timeout.map_or(20 * 60, |d| d.as_secs()));
        let step_ctx = StepContext {
            plan: &self.plan.name,
            run_id: &self.run_id,
            sandbox: ctx.sandbox,
            now: ctx.now,
            expires: ctx.now + keep_for + Duration::days(1),
            resend_after: ctx.resend_after,
            agent_timeout,
            keep_for,
            max_failed_deletes: ctx.max_failed_deletes,
            delete_confirm_timeout: ctx.delete_confirm_timeout,
            checks: &self.plan.checks,
            webhook: ctx.webhook,
        };
        let mut errors = Vec::new();
        let held = match self.held_back(ctx, restores).await {
            Ok(held) => held,
            Err(e) => {
                // Unknown load: send nothing new this tick (an incident restore must never wait for a drill).
                errors.push(e);
                self.items.iter().map(|i| i.phase == Phase::Requested && i.sends == 0).collect()
            }
        };
        let mut changed = false;
        for (item, held) in self.items.iter_mut().zip(held) {
            if held {
                continue;
            }
            match item.step(&step_ctx, azure, restores).await {
                Ok(c) => changed |= c,
                Err(e) => errors.push(e),
            }
        }
        if self.items.iter().all(|i| i.phase == Phase::Done) {
            self.ended_at = Some(Timestamp::from(ctx.now));
            changed = true;
        }
        (changed, errors)
    }

    /// The `stuckRun` signal, the first time it is asked for after the run's completion window passed without
    /// the run ending (the caller stores the run, so it is reported once).
    pub fn report_stuck(&mut self, now: OffsetDateTime) -> Option<Signal> {
        if self.stuck_reported_at.is_some() {
            return None;
        }
        let signal = lateness(self.scheduled_at.get(), self.plan.completion_window, None, now)?;
        self.stuck_reported_at = Some(Timestamp::from(now));
        Some(signal)
    }

    /// Which items must not send their first request this tick: per vault, only as many as [`drill_slots`]
    /// allows, counting the drill restores already running there (the store's count, or this run's own
    /// in-flight items if more: a record appears only once the intake has the request).
    async fn held_back(&self, ctx: &RunContext<'_>, restores: &dyn Restores) -> Result<Vec<bool>, SeamError> {
        let unsent = |i: &ItemRun| i.phase == Phase::Requested && i.sends == 0;
        let in_flight = |i: &ItemRun| matches!(i.phase, Phase::Requested | Phase::Restoring) && i.sends > 0;
        let mut held = vec![false; self.items.len()];
        let mut vaults: Vec<VaultId> = Vec::new();
        for i in self.items.iter().filter(|i| unsent(i)) {
            if !vaults.contains(&i.item.vault()) {
                vaults.push(i.item.vault());
            }
        }
        for vault in vaults {
            let load = restores.vault_load(&vault).await?;
            let ours = self.items.iter().filter(|i| i.item.vault() == vault && in_flight(i)).count();
            let mut slots =
                drill_slots(self.plan.vault_concurrency_share, ctx.vault_limit, load.drills.max(ours), load.others);
            for (n, i) in self.items.iter().enumerate() {
                if i.item.vault() == vault && unsent(i) {
                    if slots > 0 {
                        slots -= 1;
                    } else {
                        held[n] = true;
                    }
                }
            }
        }
        Ok(held)
    }

    /// The drill result message of the run. `history(item)` gives the item's previous measured RTOs (oldest
    /// first) for the regression rule.
    pub fn result(&self, history: impl Fn(&ItemId) -> Vec<i64>) -> DrillResult {
        let items: Vec<ItemResult> = self
            .items
            .iter()
            .map(|i| {
                let mut timeline = i.timeline.clone();
                timeline.scheduled = Some(self.scheduled_at);
                let outcome = if i.skipped.is_some() {
                    ItemOutcome::Skipped
                } else if i.failure.is_some() {
                    ItemOutcome::Failed
                } else if i.timeline.checks_passed.is_some() {
                    ItemOutcome::Passed
                } else {
                    ItemOutcome::Failed
                };
                ItemResult {
                    item: i.item.clone(),
                    kind: i.kind,
                    source_missing: i.source.is_none(),
                    outcome,
                    recovery_point: i.recovery_point.as_ref().and_then(|p| {
                        Some(RecoveryPointUsed {
                            name: p.name.clone(),
                            time: p.time?,
                            tier: None,
                            region: self.plan.recovery_point.vm_region,
                        })
                    }),
                    rto: assess(measure(&timeline), self.plan.rto.target_for(&i.item), &history(&i.item)),
                    timeline,
                    failure: i.failure.clone(),
                    skipped: i.skipped,
                }
            })
            .collect();
        let mut signals = rto_signals(&items);
        let leftovers: Vec<Leftover> = self
            .items
            .iter()
            .flat_map(|i| i.leftovers())
            .map(|(resource, reason)| Leftover { resource, reason })
            .collect();
        if self.ended() && !leftovers.is_empty() {
            signals.push(Signal::CleanupIncomplete { resources: leftovers });
        }
        if let Some(ended) = self.ended_at
            && let Some(late) =
                lateness(self.scheduled_at.get(), self.plan.completion_window, Some(ended.get()), ended.get())
        {
            signals.push(late);
        }
        if self.ended()
            && let Some(gaps) = self.coverage_breach(&items)
        {
            signals.push(gaps);
        }
        let outcome = self.ended().then(|| run_outcome(&items.iter().map(|i| i.outcome).collect::<Vec<_>>()));
        DrillResult {
            version: ResultVersion::V1,
            plan: self.plan.name.clone(),
            run_id: self.run_id.clone(),
            scheduled_at: self.scheduled_at,
            started_at: Some(self.started_at),
            ended_at: self.ended_at,
            outcome,
            items,
            signals,
        }
    }

    /// The coverage breach this run leaves, if the plan has a coverage target: every selected item whose last
    /// passing drill, counting this run, is older than the window at the scheduled time (a drill exactly at the
    /// window's edge still counts).
    fn coverage_breach(&self, items: &[ItemResult]) -> Option<Signal> {
        let within_days = self.plan.coverage?.within_days;
        let since = self.scheduled_at.get() - Duration::days(i64::from(within_days));
        let passed_now = |id: &ItemId| items.iter().any(|i| &i.item == id && i.outcome == ItemOutcome::Passed);
        let gaps: Vec<CoverageGapEntry> = self
            .coverage
            .iter()
            .filter(|c| !passed_now(&c.item) && c.last_passed.is_none_or(|t| t.get() < since))
            .map(|c| CoverageGapEntry { item: c.item.clone(), last_passed: c.last_passed })
            .collect();
        (!gaps.is_empty()).then_some(Signal::CoverageBreach { within_days, items: gaps })
    }
}
