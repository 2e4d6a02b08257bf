//! Starting a run: from the inventory ([`crate::inventory`]) and the plan's history to the run's items.
//!
//! Selection, then sampling ([`crate::select`]), then the cost guard over what the sample would restore (source
//! disk sizes; for new-VM restores, the VM size's vCPUs). Everything the plan expected but will not restore is an
//! item of the run with its reason, never dropped: an explicit item no longer protected fails at `request`, an
//! item over the cost guard or whose tags cannot be decided is skipped. The selected items' last passing drills are
//! kept on the run, so its result can name the items left outside the coverage window.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::ids::{ItemId, ItemKind, drill_request_id};
use crate::inventory::Inventory;
use crate::item::{ItemRun, Phase, PointUsed, SeamError};
use crate::plan::Region;
use crate::plan::{DrillPlan, VmMode};
use crate::point::{NoPoint, candidates_from, choose_point, needs_listing};
use crate::preflight::Finding;
use crate::result::{Failure, FailureStage, SkipReason};
use crate::run::{CoverageEntry, DrillRun, request_for};
use crate::select::{ItemCost, apply_cost_guard, sample, select};

/// The vCPUs of an Azure VM size, from its name. Azure's naming convention puts the vCPU count right after the
/// family letters ("Standard_D2s_v3" → 2, "Standard_M128ms" → 128; a constrained-core size such as
/// "Standard_E4-2s_v3" names the vCPUs it is billed and counted for first: 4), documented in "Azure virtual
/// machine sizes naming conventions". `None` for a name that does not follow it.
pub fn vcpus_of_size(size: &str) -> Option<u32> {
    let rest = size.split_once('_').map_or(size, |(_, r)| r);
    let digits: String =
        rest.chars().skip_while(|c| c.is_ascii_alphabetic()).take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Total size in GiB of the disks a restore of `kind` creates from `source` (a disk's `diskSizeGB`; a VM's OS
/// and data disks). 0 when the source is gone (its size is unknown: the guard cannot count it).
pub fn restored_gib(kind: ItemKind, source: Option<&Value>) -> u64 {
    let Some(s) = source else { return 0 };
    let p = &s["properties"];
    match kind {
        ItemKind::Disk => p["diskSizeGB"].as_u64().unwrap_or(0),
        ItemKind::Vm => {
            let sp = &p["storageProfile"];
            let data: u64 =
                sp["dataDisks"].as_array().map_or(0, |d| d.iter().filter_map(|x| x["diskSizeGB"].as_u64()).sum());
            sp["osDisk"]["diskSizeGB"].as_u64().unwrap_or(0) + data
        }
    }
}

/// The vCPUs a restore creates: the source VM's size for a new-VM restore, else 0. A size whose name does not
/// tell its vCPUs counts as the whole guard (so it is admitted only alone, never silently as 0).
fn created_vcpus(plan: &DrillPlan, kind: ItemKind, source: Option<&Value>) -> u32 {
    if kind != ItemKind::Vm || plan.restore.vm != VmMode::NewVm {
        return 0;
    }
    source
        .and_then(|s| s["properties"]["hardwareProfile"]["vmSize"].as_str())
        .and_then(vcpus_of_size)
        .unwrap_or(plan.cost_guard.max_vm_vcpus)
}

/// The run of `plan` scheduled at `scheduled_at` over `inventory`.
pub fn start_run(
    plan: &DrillPlan,
    run_id: &str,
    scheduled_at: OffsetDateTime,
    inventory: &Inventory,
    now: OffsetDateTime,
) -> DrillRun {
    let selection = select(&plan.selection, &inventory.candidates);
    let sampled = sample(&selection.selected, plan.sampling, run_id);
    let source = |id: &ItemId| inventory.sources.get(&id.canonical());
    // The guard admits in sample order with source-missing items first: they are the ones a disaster needs.
    let mut order = sampled.clone();
    order.sort_by_key(|s| !s.source_missing);
    let costs: Vec<ItemCost> = order
        .iter()
        .map(|s| ItemCost {
            item: s.id().clone(),
            gib: restored_gib(s.id().kind(), source(s.id())),
            vcpus: created_vcpus(plan, s.id().kind(), source(s.id())),
        })
        .collect();
    let decision = apply_cost_guard(&costs, plan.cost_guard);

    let mut items = Vec::new();
    for s in &sampled {
        let id = s.id();
        let request_id = drill_request_id(run_id, id);
        if decision.over_budget.contains(id) {
            items.push(ItemRun::not_attempted(id.clone(), request_id, Ok(SkipReason::CostGuard)));
        } else {
            let request = request_for(plan, run_id, scheduled_at, id);
            items.push(ItemRun::new(id.clone(), request_id, request, source(id).cloned()));
        }
    }
    for id in &selection.explicit_not_found {
        let failure = Failure {
            stage: FailureStage::Request,
            check: None,
            code: Some("item.notProtected".into()),
            message: format!(
                "'{}' is listed in selection.items but its vault does not list it as a protected {}: protect it \
                 again or remove it from the plan",
                id.as_str(),
                if id.kind() == ItemKind::Disk { "disk" } else { "VM" }
            ),
        };
        items.push(ItemRun::not_attempted(id.clone(), drill_request_id(run_id, id), Err(failure)));
    }
    for id in &selection.tags_unknown {
        items.push(ItemRun::not_attempted(id.clone(), drill_request_id(run_id, id), Ok(SkipReason::SourceTagsUnknown)));
    }
    let coverage = selection
        .selected
        .iter()
        .map(|s| CoverageEntry { item: s.id().clone(), last_passed: s.candidate.last_passed.map(Into::into) })
        .collect();
    let mut run = DrillRun::new(plan, run_id, scheduled_at, items, now);
    run.coverage = coverage;
    run
}

/// Listing an item's recovery points.
#[async_trait::async_trait]
pub trait PointSource: Send + Sync {
    /// The item's recovery points as Azure lists them (every page); `secondary`: the copy in the paired region
    /// (Recovery Services Cross Region Restore).
    async fn recovery_points(&self, item: &ItemId, secondary: bool) -> Result<Vec<Value>, SeamError>;
}

/// Fixes each item's recovery point when the plan's choice needs the list (a tier, or a random point within a
/// window): the request then names the point by id, so a resend restores the same one; an item with no point
/// to restore is skipped with the reason. `latest` in any tier is left to the intake (`latestAtOrBefore` the
/// scheduled time), which reads the same list once.
pub async fn choose_points(run: &mut DrillRun, source: &dyn PointSource) -> Result<(), SeamError> {
    let secondary = run.plan.recovery_point.vm_region == Region::Secondary;
    let scheduled = run.scheduled_at.get();
    for item in run.items.iter_mut().filter(|i| i.phase == Phase::Requested && i.sends == 0) {
        if !needs_listing(&run.plan.recovery_point, item.item.kind()) {
            continue;
        }
        let listed = source.recovery_points(&item.item, secondary && item.item.kind() == ItemKind::Vm).await?;
        let candidates = candidates_from(&listed);
        match choose_point(&candidates, &run.plan.recovery_point, &item.item, scheduled, &run.run_id) {
            Ok(point) => {
                item.request["recoveryPoint"] = json!({"choice": "id", "id": point.name});
                item.recovery_point = Some(PointUsed { name: point.name.clone(), time: Some(point.time.into()) });
            }
            Err(none) => {
                item.phase = Phase::Done;
                item.skipped = Some(match none {
                    NoPoint::NoPoints => SkipReason::NoRecoveryPoint,
                    NoPoint::NoneInTier => SkipReason::NoRecoveryPointInTier,
                    NoPoint::NoneInWindow => SkipReason::NoRecoveryPointInWindow,
                });
            }
        }
    }
    Ok(())
}

/// What the run's restores create that preflight judges: whether any VM is restored, and the new VMs' vCPUs.
pub fn preflight_needs(run: &DrillRun) -> (bool, u64) {
    let restoring = run.items.iter().filter(|i| i.phase == Phase::Requested);
    let (mut vms, mut vcpus) = (false, 0u64);
    for i in restoring.filter(|i| i.item.kind() == ItemKind::Vm) {
        vms = true;
        vcpus += u64::from(created_vcpus(&run.plan, ItemKind::Vm, i.source.as_ref()));
    }
    (vms, vcpus)
}

/// Refuses every item not yet sent with the preflight's findings: the run then ends `Failed` without a write.
pub fn refuse(run: &mut DrillRun, findings: &[Finding]) {
    let Some(first) = findings.first() else { return };
    let message = findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ");
    for item in run.items.iter_mut().filter(|i| i.phase == Phase::Requested && i.sends == 0) {
        item.phase = Phase::Done;
        item.failure = Some(Failure {
            stage: FailureStage::Preflight,
            check: None,
            code: Some(first.code.to_string()),
            message: message.clone(),
        });
    }
}
