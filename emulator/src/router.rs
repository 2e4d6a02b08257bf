//! ARM path matching: literal segments compare case-insensitively (Azure itself sends `Subscriptions`,
//! `resourcegroups`, `Backupvaults`), names may hold `;` and `=`, segments are percent-decoded, and a trailing
//! slash is ignored (the passive-stamp Python client sends `…/recoveryPoints/`). Every route has a stable name
//! used by counters, logs and fault rules.

use crate::arm::Handler;
use crate::{compute, dpp, network, policy, quota, rsv, runcommand, tags};

/// The api-version family a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Microsoft.DataProtection.
    Dpp,
    /// Microsoft.RecoveryServices backup (active stamp).
    Rsv,
    /// Recovery Services CRR passive stamp.
    Crr,
    /// Microsoft.Compute.
    Compute,
    /// Microsoft.Resources (the tags API).
    Resources,
    /// Microsoft.Network.
    Network,
    /// Microsoft.Authorization (policy assignments).
    Authorization,
}

impl Api {
    /// The versions accepted (newest first). Older ones appear because header URLs carry them.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Api::Dpp => &[
                "2026-06-01",
                "2026-03-01",
                "2025-09-01",
                "2025-07-01",
                "2025-02-01",
                "2025-01-01",
                "2024-04-01",
                "2023-11-01",
                "2023-05-01",
                "2023-01-01",
                "2022-12-01",
                "2022-05-01",
                "2022-04-01",
                "2021-07-01",
                "2021-01-01",
            ],
            Api::Rsv => &[
                "2026-10-01",
                "2026-02-01",
                "2026-01-01",
                "2025-08-01",
                "2025-02-01",
                "2025-01-01",
                "2024-10-01",
                "2024-04-01",
                "2023-04-01",
                "2023-02-01",
                "2022-03-01",
                "2021-12-01",
                "2021-01-01",
                "2020-09-01",
                "2019-05-13",
                "2017-07-01",
                "2016-12-01",
            ],
            // The brief and the ARM docs use 2021-04-01 for `tags/default`; newer Microsoft.Resources versions
            // serve the same shape.
            Api::Resources => &["2024-03-01", "2022-09-01", "2021-04-01"],
            Api::Authorization => {
                &["2025-03-01", "2025-01-01", "2024-05-01", "2024-04-01", "2023-04-01", "2022-06-01", "2021-06-01"]
            }
            Api::Network => &[
                "2024-07-01",
                "2024-05-01",
                "2024-03-01",
                "2024-01-01",
                "2023-11-01",
                "2023-09-01",
                "2023-06-01",
                "2023-05-01",
                "2023-04-01",
                "2022-11-01",
            ],
            Api::Crr => &["2026-07-15", "2024-11-15", "2023-01-15", "2021-11-15", "2018-12-20"],
            Api::Compute => &[
                "2025-04-01",
                "2024-11-01",
                "2024-07-01",
                "2024-03-02",
                "2024-03-01",
                "2023-10-02",
                "2023-09-01",
                "2023-04-02",
                "2023-03-01",
            ],
        }
    }
}

/// A route.
pub struct Route {
    /// Stable name, e.g. `dpp.restore`.
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Segment pattern; `{x}` captures.
    pub pattern: &'static str,
    /// Accepted api-versions.
    pub api: Api,
    /// Handler.
    pub handler: Handler,
}

/// Captured path parameters.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(&'static str, String)>);

impl Params {
    /// A captured value ("" if the pattern has no such capture; routes only ask for their own).
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Splits and percent-decodes a request path, dropping a trailing empty segment.
pub fn segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path.trim_start_matches('/').split('/').map(crate::util::percent_decode).collect();
    if segs.last().is_some_and(|s| s.is_empty()) {
        segs.pop();
    }
    segs
}

/// Matches one pattern against decoded segments.
pub fn match_pattern(pattern: &'static str, segs: &[String]) -> Option<Params> {
    let pat: Vec<&'static str> = pattern.trim_start_matches('/').split('/').collect();
    if pat.len() != segs.len() {
        return None;
    }
    let mut params = Params::default();
    for (p, s) in pat.iter().zip(segs) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if s.is_empty() {
                return None;
            }
            params.0.push((name, s.clone()));
        } else if !p.eq_ignore_ascii_case(s) {
            return None;
        }
    }
    Some(params)
}

const BI: &str = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupInstances/{bi}";
const PI: &str = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupFabrics/{fabric}/protectionContainers/{container}/protectedItems/{item}";

const TAGS: &str = "subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{kind}/{name}/providers/Microsoft.Resources/tags/default";

const RUN_COMMANDS: &str =
    "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands";
const NET_VNETS: &str = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks";
const NET_NIC: &str = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/{name}";

macro_rules! r {
    ($name:literal, $method:literal, $pattern:expr, $api:ident, $handler:expr) => {
        Route { name: $name, method: $method, pattern: $pattern, api: Api::$api, handler: $handler }
    };
}

/// The route table. Order matters only between routes with the same pattern (api family decides).
pub fn routes() -> Vec<Route> {
    vec![
        // Microsoft.DataProtection
        r!("dpp.recoveryPoints.list", "GET", const_format(BI, "/recoveryPoints"), Dpp, dpp::recovery_points_list),
        r!("dpp.recoveryPoints.get", "GET", const_format(BI, "/recoveryPoints/{rp}"), Dpp, dpp::recovery_point_get),
        r!(
            "dpp.findRestorableTimeRanges",
            "POST",
            const_format(BI, "/findRestorableTimeRanges"),
            Dpp,
            dpp::find_restorable_time_ranges
        ),
        r!("dpp.validateRestore", "POST", const_format(BI, "/validateRestore"), Dpp, dpp::validate_restore),
        r!("dpp.restore", "POST", const_format(BI, "/restore"), Dpp, dpp::restore),
        r!(
            "dpp.vaults.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}",
            Dpp,
            dpp::vault_get
        ),
        r!("dpp.backupInstances.get", "GET", BI, Dpp, dpp::instance_get),
        r!("dpp.backupInstances.put", "PUT", BI, Dpp, dpp::instance_put),
        r!("dpp.backupInstances.delete", "DELETE", BI, Dpp, dpp::instance_delete),
        r!("dpp.stopProtection", "POST", const_format(BI, "/stopProtection"), Dpp, dpp::instance_stop),
        r!(
            "dpp.backupInstances.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupInstances",
            Dpp,
            dpp::instance_list
        ),
        r!(
            "dpp.validateForBackup",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/validateForBackup",
            Dpp,
            dpp::validate_for_backup
        ),
        r!(
            "dpp.jobs.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupJobs",
            Dpp,
            dpp::jobs_list
        ),
        r!(
            "dpp.jobs.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupJobs/{job}",
            Dpp,
            dpp::job_get
        ),
        r!(
            "dpp.vaultOperationStatus",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/operationStatus/{op}",
            Dpp,
            dpp::vault_operation_status
        ),
        r!(
            "dpp.operationStatus",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.DataProtection/locations/{loc}/operationStatus/{op}",
            Dpp,
            dpp::operation_status
        ),
        r!(
            "dpp.operationResults",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.DataProtection/locations/{loc}/operationResults/{op}",
            Dpp,
            dpp::operation_results
        ),
        r!(
            "dpp.crr.fetchSecondaryRecoveryPoints",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/locations/{loc}/fetchSecondaryRecoveryPoints",
            Dpp,
            dpp::fetch_secondary_rps
        ),
        r!(
            "dpp.crr.validateCrossRegionRestore",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/locations/{loc}/validateCrossRegionRestore",
            Dpp,
            dpp::validate_crr
        ),
        r!(
            "dpp.crr.crossRegionRestore",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/locations/{loc}/crossRegionRestore",
            Dpp,
            dpp::trigger_crr
        ),
        r!(
            "dpp.crr.fetchCrossRegionRestoreJob",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/locations/{loc}/fetchCrossRegionRestoreJob",
            Dpp,
            dpp::fetch_crr_job
        ),
        r!(
            "dpp.crr.fetchCrossRegionRestoreJobs",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/locations/{loc}/fetchCrossRegionRestoreJobs",
            Dpp,
            dpp::fetch_crr_jobs
        ),
        // Microsoft.RecoveryServices
        r!(
            "rsv.protectedItems.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupProtectedItems",
            Rsv,
            rsv::items_list
        ),
        r!(
            "rsv.vaults.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}",
            Rsv,
            rsv::vault_get
        ),
        r!("rsv.protectedItems.get", "GET", PI, Rsv, rsv::item_get),
        r!("rsv.recoveryPoints.list", "GET", const_format(PI, "/recoveryPoints"), Rsv, rsv::recovery_points_list),
        r!("crr.recoveryPoints.list", "GET", const_format(PI, "/recoveryPoints"), Crr, rsv::crr_recovery_points_list),
        r!("rsv.recoveryPoints.get", "GET", const_format(PI, "/recoveryPoints/{rp}"), Rsv, rsv::recovery_point_get),
        r!("crr.recoveryPoints.get", "GET", const_format(PI, "/recoveryPoints/{rp}"), Crr, rsv::crr_recovery_point_get),
        r!("rsv.restore", "POST", const_format(PI, "/recoveryPoints/{rp}/restore"), Rsv, rsv::restore),
        r!("crr.accessToken", "POST", const_format(PI, "/recoveryPoints/{rp}/accessToken"), Crr, rsv::access_token),
        r!("rsv.operationsStatus", "GET", const_format(PI, "/operationsStatus/{op}"), Rsv, rsv::item_operation_status),
        r!("rsv.operationResults", "GET", const_format(PI, "/operationResults/{op}"), Rsv, rsv::item_operation_results),
        r!(
            "rsv.backupOperations",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupOperations/{op}",
            Rsv,
            rsv::vault_operation_status
        ),
        r!(
            "rsv.jobs.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupJobs",
            Rsv,
            rsv::jobs_list
        ),
        r!(
            "rsv.jobs.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupJobs/{job}",
            Rsv,
            rsv::job_get
        ),
        r!(
            "rsv.validateOperation",
            "POST",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupValidateOperation",
            Rsv,
            rsv::validate_operation
        ),
        r!(
            "crr.aadProperties",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupAadProperties",
            Crr,
            rsv::aad_properties
        ),
        r!(
            "crr.crossRegionRestore",
            "POST",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupCrossRegionRestore",
            Crr,
            rsv::crr_trigger
        ),
        r!(
            "crr.operationsStatus",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupCrrOperationsStatus/{op}",
            Crr,
            rsv::crr_operation_status
        ),
        r!(
            "crr.operationResults",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupCrrOperationResults/{op}",
            Crr,
            rsv::crr_operation_results
        ),
        r!(
            "crr.job",
            "POST",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupCrrJob",
            Crr,
            rsv::crr_job
        ),
        r!(
            "crr.jobs",
            "POST",
            "subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{loc}/backupCrrJobs",
            Crr,
            rsv::crr_jobs
        ),
        // Microsoft.Compute
        r!(
            "compute.disks.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks",
            Compute,
            compute::disks_list
        ),
        r!(
            "compute.disks.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}",
            Compute,
            compute::disk_get
        ),
        r!(
            "compute.disks.delete",
            "DELETE",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}",
            Compute,
            compute::disk_delete
        ),
        r!(
            "compute.vms.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines",
            Compute,
            compute::vms_list
        ),
        r!(
            "compute.vms.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
            Compute,
            compute::vm_get
        ),
        r!(
            "compute.vms.delete",
            "DELETE",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
            Compute,
            compute::vm_delete
        ),
        r!(
            "compute.vms.patch",
            "PATCH",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
            Compute,
            compute::vm_patch
        ),
        r!(
            "compute.vms.instanceView",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}/instanceView",
            Compute,
            compute::vm_instance_view
        ),
        r!("compute.runCommands.list", "GET", RUN_COMMANDS, Compute, runcommand::list),
        r!("compute.runCommands.get", "GET", const_format(RUN_COMMANDS, "/{name}"), Compute, runcommand::get),
        r!("compute.runCommands.put", "PUT", const_format(RUN_COMMANDS, "/{name}"), Compute, runcommand::put),
        r!("compute.runCommands.delete", "DELETE", const_format(RUN_COMMANDS, "/{name}"), Compute, runcommand::delete),
        r!(
            "compute.usages.list",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/usages",
            Compute,
            quota::list
        ),
        r!(
            "compute.operations.get",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{op}",
            Compute,
            compute::operation_get
        ),
        // Microsoft.Network
        r!("network.virtualNetworks.list", "GET", NET_VNETS, Network, network::vnets_list),
        r!("network.virtualNetworks.get", "GET", const_format(NET_VNETS, "/{vnet}"), Network, network::vnet_get),
        r!("network.subnets.list", "GET", const_format(NET_VNETS, "/{vnet}/subnets"), Network, network::subnets_list),
        r!(
            "network.subnets.get",
            "GET",
            const_format(NET_VNETS, "/{vnet}/subnets/{name}"),
            Network,
            network::subnet_get
        ),
        r!(
            "network.virtualNetworkPeerings.list",
            "GET",
            const_format(NET_VNETS, "/{vnet}/virtualNetworkPeerings"),
            Network,
            network::peerings_list
        ),
        r!(
            "network.networkSecurityGroups.get",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{name}",
            Network,
            network::nsg_get
        ),
        r!(
            "network.virtualNetworkGateways.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworkGateways",
            Network,
            network::gateways_list
        ),
        r!("network.networkInterfaces.get", "GET", NET_NIC, Network, network::nic_get),
        r!("network.networkInterfaces.delete", "DELETE", NET_NIC, Network, network::nic_delete),
        r!(
            "network.operations.get",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operations/{op}",
            Network,
            network::operation_get
        ),
        r!(
            "network.operationResults.get",
            "GET",
            "subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operationResults/{op}",
            Network,
            network::operation_result
        ),
        // Microsoft.Authorization
        r!(
            "authorization.policyAssignments.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments",
            Authorization,
            policy::list
        ),
        // Microsoft.Resources tags on a resource's scope (disks, VMs and network interfaces today).
        r!("resources.tags.get", "GET", TAGS, Resources, tags::get),
        r!("resources.tags.patch", "PATCH", TAGS, Resources, tags::patch),
        r!(
            "resources.list",
            "GET",
            "subscriptions/{sub}/resourceGroups/{rg}/resources",
            Resources,
            tags::list_in_group
        ),
    ]
}

/// Concatenates two pattern pieces into a `'static` string (patterns are built once at start-up; leaking the
/// few dozen bytes keeps `Route` free of lifetimes).
fn const_format(a: &str, b: &str) -> &'static str {
    Box::leak(format!("{a}{b}").into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_with_semicolons_and_trailing_slash() {
        let segs = segments(
            "/Subscriptions/s/resourcegroups/rg/providers/microsoft.recoveryservices/vaults/v/backupFabrics/Azure/protectionContainers/iaasvmcontainer;iaasVMContainerV2;rg;vm/protectedItems/vm%3Biaasvmcontainerv2%3Brg%3Bvm/recoveryPoints/",
        );
        let p = match_pattern(const_format(PI, "/recoveryPoints"), &segs).unwrap();
        assert_eq!(p.get("container"), "iaasvmcontainer;iaasVMContainerV2;rg;vm");
        assert_eq!(p.get("item"), "vm;iaasvmcontainerv2;rg;vm");
        assert!(match_pattern(BI, &segs).is_none());
    }
}
