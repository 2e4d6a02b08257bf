//! `restorectl drills validate --online`: what a run of the plan would do now, read from Azure with the drill
//! function's own code and nothing written: the items the selection resolves to (through the vault listings and
//! the sources' tags), which are sampled, skipped by the cost guard or unknown, the restored GiB and new-VM vCPUs
//! against the guard, and the preflight's findings (isolation, quota, Deny policies).

use restore_drills::DrillPlan;
use restore_drills::history::PlanHistory;
use restore_drills::inventory::{gather, vaults_to_list};
use restore_drills::item::Phase;
use restore_drills::preflight::preflight;
use restore_drills::start::{preflight_needs, restored_gib, start_run};
use restore_drills_app::seams::ArmDrillAzure;
use serde_json::{Value, json};

/// The online view of `plan` as `--json` prints it; `ok` is false when the run would restore nothing or preflight
/// refuses it.
pub async fn check(
    plan: &DrillPlan,
    allowed_vaults: &[restore_models::arm_id::ResourceId],
    azure: &ArmDrillAzure,
) -> Result<Value, String> {
    let now = time::OffsetDateTime::now_utc();
    let vaults = vaults_to_list(&plan.selection, allowed_vaults);
    let inventory = gather(&vaults, azure, azure, &PlanHistory::default())
        .await
        .map_err(|e| format!("listing the protected items of {} vault(s): {e}", vaults.len()))?;
    let run = start_run(plan, &restore_drills::run_id(&plan.name, now), now, &inventory, now);
    let (vms, vcpus) = preflight_needs(&run);
    let findings = preflight(plan, vms, vcpus, azure, azure).await.map_err(|e| format!("preflight: {e}"))?;
    let restoring: Vec<Value> = run
        .items
        .iter()
        .filter(|i| i.phase == Phase::Requested)
        .map(|i| json!({"item": i.item.as_str(), "sourceMissing": i.source.is_none()}))
        .collect();
    let not_restored: Vec<Value> = run
        .items
        .iter()
        .filter(|i| i.phase != Phase::Requested)
        .map(|i| json!({"item": i.item.as_str(), "skipped": i.skipped, "failure": i.failure.as_ref().map(|f| &f.message)}))
        .collect();
    // The cost guard's own count, so the figure shown is the one the run is held to.
    let gib: u64 = run
        .items
        .iter()
        .filter(|i| i.phase == Phase::Requested)
        .map(|i| restored_gib(i.item.kind(), i.source.as_ref()))
        .sum();
    let ok = !restoring.is_empty() && findings.is_empty();
    Ok(json!({
        "ok": ok,
        "vaultsListed": vaults.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "candidates": inventory.candidates.len(),
        "restoring": restoring,
        "notRestored": not_restored,
        "unreadable": inventory.unreadable.iter().map(|(id, why)| json!({"id": id, "why": why})).collect::<Vec<_>>(),
        "costGuard": {"diskGiB": gib, "maxRestoredGiB": plan.cost_guard.max_restored_gib, "newVmVcpus": vcpus, "maxVmVcpus": plan.cost_guard.max_vm_vcpus},
        "preflight": findings.iter().map(|f| json!({"code": f.code, "message": f.message})).collect::<Vec<_>>(),
    }))
}

/// The human lines for the online view.
pub fn text(v: &Value) -> String {
    let mut t = String::new();
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    t.push_str(&format!(
        "  online: {} candidate item(s) in {} vault(s)\n",
        v["candidates"],
        list("vaultsListed").len()
    ));
    for i in list("restoring") {
        let flag = if i["sourceMissing"] == true { "  (source gone: drilled and flagged)" } else { "" };
        t.push_str(&format!("    would restore {}{flag}\n", i["item"].as_str().unwrap_or("?")));
    }
    for i in list("notRestored") {
        let why = i["skipped"].as_str().or(i["failure"].as_str()).unwrap_or("?");
        t.push_str(&format!("    would not restore {}: {why}\n", i["item"].as_str().unwrap_or("?")));
    }
    let g = &v["costGuard"];
    t.push_str(&format!(
        "    cost guard: {} of {} GiB of disks, {} of {} new-VM vCPUs\n",
        g["diskGiB"], g["maxRestoredGiB"], g["newVmVcpus"], g["maxVmVcpus"]
    ));
    for f in list("preflight") {
        t.push_str(&format!(
            "    preflight refuses ({}): {}\n",
            f["code"].as_str().unwrap_or("?"),
            f["message"].as_str().unwrap_or("")
        ));
    }
    if list("restoring").is_empty() {
        t.push_str("    nothing would be restored\n");
    }
    t
}
