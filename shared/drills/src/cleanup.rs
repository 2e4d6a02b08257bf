//! Cleanup that never touches anything else: the three-part guard every deletion passes, by the drill function
//! and by any sweep alike, and the order deletions go in.
//!
//! A resource is deleted only if
//! 1. its parsed ARM id lies inside a resource group the policy lists as a drill sandbox (checked on the parsed
//!    id: subscription and group compared case-insensitively, never by string prefix);
//! 2. it is recorded on the run (the drill wrote it down when the restore or the VM named it); and
//! 3. it carries the run's tag, read back from Azure just before the delete.
//!
//! Anything that fails one of them is reported with the reason and never deleted. Pure functions: the drill
//! function reads the tags and sends the DELETEs.

use std::collections::BTreeMap;

use restore_contract::policy::SandboxPolicy;
use restore_models::arm_id::ResourceId;
use serde_json::Value;
use time::OffsetDateTime;

/// Tag naming the run that created a resource.
pub const TAG_RUN: &str = "restore-drill-run";
/// Tag naming the plan.
pub const TAG_PLAN: &str = "restore-drill-plan";
/// Tag with the time after which a sweep may delete the resource (RFC 3339).
pub const TAG_EXPIRES: &str = "restore-drill-expires";

/// The tags every resource a drill creates gets.
pub fn drill_tags(plan: &str, run_id: &str, expires: OffsetDateTime) -> BTreeMap<String, String> {
    let expires = restore_contract::Timestamp::from(expires).to_string();
    BTreeMap::from([
        (TAG_RUN.to_string(), run_id.to_string()),
        (TAG_PLAN.to_string(), plan.to_string()),
        (TAG_EXPIRES.to_string(), expires),
    ])
}

/// Why a resource is not deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an ARM resource id.
    #[error("'{0}' is not an ARM resource id: never deleted")]
    NotAnArmId(String),
    /// Outside every sandbox resource group of the policy.
    #[error("{0} is outside the policy's sandbox resource groups: never deleted")]
    OutsideSandbox(String),
    /// Not recorded on the run.
    #[error("{0} is not recorded on run {1}: never deleted")]
    NotRecorded(String, String),
    /// Does not carry the run's tag.
    #[error("{resource} does not carry {TAG_RUN}={run_id} (found {found}): never deleted")]
    NotTagged {
        /// The resource.
        resource: String,
        /// The run.
        run_id: String,
        /// What the tag said, if anything.
        found: String,
    },
}

/// The three-part guard: `Ok` with the parsed id only if `resource` lies in a sandbox group of `sandbox`, is in
/// `recorded` (the run's resources; compared on parsed ids), and `tags` (as just read from Azure) carry
/// `TAG_RUN = run_id`.
pub fn guard(
    resource: &str,
    sandbox: &SandboxPolicy,
    recorded: &[String],
    tags: &BTreeMap<String, String>,
    run_id: &str,
) -> Result<ResourceId, Refusal> {
    let id = ResourceId::parse(resource).map_err(|_| Refusal::NotAnArmId(resource.to_string()))?;
    if !sandbox.resource_groups.iter().any(|g| g.contains(&id)) {
        return Err(Refusal::OutsideSandbox(resource.to_string()));
    }
    let on_run = recorded.iter().filter_map(|r| ResourceId::parse(r).ok()).any(|r| same(&r, &id));
    if !on_run {
        return Err(Refusal::NotRecorded(resource.to_string(), run_id.to_string()));
    }
    let tag = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(TAG_RUN)).map(|(_, v)| v.as_str());
    if tag != Some(run_id) {
        return Err(Refusal::NotTagged {
            resource: resource.to_string(),
            run_id: run_id.to_string(),
            found: tag.map_or_else(|| "no tag".to_string(), |t| format!("'{t}'")),
        });
    }
    Ok(id)
}

/// ARM ids compare case-insensitively.
fn same(a: &ResourceId, b: &ResourceId) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}

/// The order to delete in: VMs first (deleting a VM whose `deleteOption` is `Detach` leaves its disks and NICs,
/// which must already be recorded: see [`attached_resources`]), then network interfaces, then disks, then
/// anything else. Stable within each group.
pub fn deletion_order(resources: &[String]) -> Vec<String> {
    let rank = |r: &String| {
        let lower = r.to_ascii_lowercase();
        if lower.contains("/providers/microsoft.compute/virtualmachines/") {
            0
        } else if lower.contains("/providers/microsoft.network/networkinterfaces/") {
            1
        } else if lower.contains("/providers/microsoft.compute/disks/") {
            2
        } else {
            3
        }
    };
    let mut out = resources.to_vec();
    out.sort_by_key(rank);
    out
}

/// The disks and network interfaces a VM's GET body names (OS disk, data disks, NICs), to record on the run
/// before the VM is deleted.
pub fn attached_resources(vm: &Value) -> Vec<String> {
    let p = &vm["properties"];
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: &Value| {
        if let Some(id) = v.as_str().filter(|s| !s.is_empty())
            && !out.iter().any(|o| o.eq_ignore_ascii_case(id))
        {
            out.push(id.to_string());
        }
    };
    push(&p["storageProfile"]["osDisk"]["managedDisk"]["id"]);
    for d in p["storageProfile"]["dataDisks"].as_array().into_iter().flatten() {
        push(&d["managedDisk"]["id"]);
    }
    for n in p["networkProfile"]["networkInterfaces"].as_array().into_iter().flatten() {
        push(&n["id"]);
    }
    out
}

/// The api-version drills read, write and delete a resource with, by its provider and type (shared by the drill
/// function and `restorectl drills sweep`, so both send the same DELETE).
pub fn api_version(id: &str) -> &'static str {
    let lower = id.to_ascii_lowercase();
    if lower.contains("/providers/microsoft.network/") {
        "2024-05-01"
    } else if lower.contains("/providers/microsoft.dataprotection/") {
        restore_models::dataprotection::API_VERSION
    } else if lower.contains("/providers/microsoft.recoveryservices/") {
        restore_models::recoveryservices::API_VERSION
    } else if lower.contains("/providers/microsoft.compute/disks/") {
        "2024-03-02"
    } else {
        "2024-07-01"
    }
}

/// A DELETE's answer: 200/202/204 started or finished it; 404 means it is already gone.
pub fn delete_accepted(status: u16) -> bool {
    matches!(status, 200 | 202 | 204 | 404)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

    fn sandbox() -> SandboxPolicy {
        serde_json::from_value(json!({"resourceGroups": [format!("{SUB}/resourceGroups/rg-drill-sandbox")]})).unwrap()
    }

    fn disk(rg: &str, name: &str) -> String {
        format!("{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}")
    }

    fn tagged(run: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(TAG_RUN.to_string(), run.to_string())])
    }

    #[test]
    fn only_a_recorded_tagged_resource_inside_the_sandbox_is_deleted() {
        let ours = disk("rg-drill-sandbox", "d1");
        let recorded = vec![ours.to_uppercase()];
        assert!(guard(&ours, &sandbox(), &recorded, &tagged("run-1"), "run-1").is_ok(), "all three hold");
        // In the sandbox and tagged like a drill resource, but not on this run: never deleted.
        let stranger = disk("rg-drill-sandbox", "d2");
        assert!(matches!(
            guard(&stranger, &sandbox(), &recorded, &tagged("run-1"), "run-1"),
            Err(Refusal::NotRecorded(..))
        ));
        // Recorded and tagged, but outside the sandbox groups (a production disk named by mistake): never deleted.
        let production = disk("rg-app", "d1");
        assert!(matches!(
            guard(&production, &sandbox(), std::slice::from_ref(&production), &tagged("run-1"), "run-1"),
            Err(Refusal::OutsideSandbox(_))
        ));
        // A group whose name only starts like the sandbox's is another group.
        let lookalike = disk("rg-drill-sandbox-prod", "d1");
        assert!(matches!(
            guard(&lookalike, &sandbox(), std::slice::from_ref(&lookalike), &tagged("run-1"), "run-1"),
            Err(Refusal::OutsideSandbox(_))
        ));
        // Recorded, in the sandbox, but untagged or tagged by another run.
        assert!(matches!(
            guard(&ours, &sandbox(), &recorded, &BTreeMap::new(), "run-1"),
            Err(Refusal::NotTagged { .. })
        ));
        assert!(matches!(
            guard(&ours, &sandbox(), &recorded, &tagged("run-2"), "run-1"),
            Err(Refusal::NotTagged { .. })
        ));
        assert!(matches!(
            guard("../etc", &sandbox(), &recorded, &tagged("run-1"), "run-1"),
            Err(Refusal::NotAnArmId(_))
        ));
    }

    #[test]
    fn vms_go_first_and_their_disks_and_nics_are_recorded_from_the_vm() {
        let vm = format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/virtualMachines/vm1");
        let nic = format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkInterfaces/nic1");
        let d = disk("rg-drill-sandbox", "os1");
        assert_eq!(deletion_order(&[d.clone(), nic.clone(), vm.clone()]), [vm.clone(), nic.clone(), d.clone()]);
        let body = json!({"properties": {
            "storageProfile": {"osDisk": {"managedDisk": {"id": d}}, "dataDisks": [{"managedDisk": {"id": disk("rg-drill-sandbox", "data1")}}]},
            "networkProfile": {"networkInterfaces": [{"id": nic}]}
        }});
        assert_eq!(attached_resources(&body).len(), 3);
        assert!(delete_accepted(404) && delete_accepted(202) && !delete_accepted(409));
    }
}
