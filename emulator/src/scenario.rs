//! The scenario file: what exists in the emulated Azure, how long jobs take, and which failures Azure produces.
//! JSON; every field is documented in emulator/README.md, with `examples/scenario.json` as the example.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::faults::FaultRule;
use crate::identity::Principal;
use crate::throttle::ThrottleLimits;
use crate::util::parse_time;

/// The whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Entra tenant id: token issuer `https://sts.windows.net/<tenantId>/`.
    pub tenant_id: String,
    /// Principals the identity endpoint serves; the first is the default (no `client_id`).
    #[serde(default)]
    pub principals: Vec<Principal>,
    /// Clock start (RFC 3339). Absent: the real time when the emulator starts.
    #[serde(default)]
    pub clock_start: Option<String>,
    /// Timings, paging, throttling and quirks.
    #[serde(default)]
    pub settings: Settings,
    /// Subscriptions with their resources.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Failure rules.
    #[serde(default)]
    pub rules: Rules,
    /// Fault rules active from the start.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// Global settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Virtual seconds until a trigger's async operation finishes (then it names the job).
    pub operation_delay_seconds: f64,
    /// Virtual seconds until a validate operation finishes.
    pub validate_delay_seconds: f64,
    /// Page size of list operations (small so clients exercise `nextLink`).
    pub page_size: usize,
    /// Lifetime of identity tokens, real seconds.
    pub token_lifetime_seconds: i64,
    /// Job durations, virtual seconds.
    pub job_durations: JobDurations,
    /// ARM throttling.
    pub throttle: ThrottleLimits,
    /// Reproduced quirks.
    pub quirks: Quirks,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            operation_delay_seconds: 20.0,
            validate_delay_seconds: 10.0,
            page_size: 10,
            token_lifetime_seconds: 3600,
            job_durations: JobDurations::default(),
            throttle: ThrottleLimits::default(),
            quirks: Quirks::default(),
        }
    }
}

/// How long jobs take, virtual seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct JobDurations {
    /// Backup vault disk restore.
    pub disk_restore: f64,
    /// Recovery Services VM restore (any recovery type).
    pub vm_restore: f64,
    /// Cross Region Restore (both providers).
    pub cross_region_restore: f64,
    /// Configure protection (PUT backup instance).
    pub configure_protection: f64,
    /// Stop protection and delete data (DELETE backup instance).
    pub delete_protection: f64,
}

impl Default for JobDurations {
    fn default() -> Self {
        Self {
            disk_restore: 180.0,
            vm_restore: 300.0,
            cross_region_restore: 600.0,
            configure_protection: 60.0,
            delete_protection: 30.0,
        }
    }
}

/// Quirks of real Azure, each switchable (all on by default, as Azure does them).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Quirks {
    /// DPP operation status says `Inprogress` (lower-case p) instead of `InProgress`.
    pub inprogress_casing: bool,
    /// Running operations report `endTime` `0001-01-01T00:00:00` instead of omitting it.
    pub zero_end_time: bool,
    /// DPP operation status `properties.jobId` is the full ARM job id instead of the GUID.
    pub dpp_full_job_id: bool,
    /// RSV operation status `properties.jobId` is a bare GUID (off: the full ARM job id).
    pub rsv_guid_job_id: bool,
    /// Header URLs carry older api-versions (2021-01-01 DPP, 2019-05-13 RSV) instead of the request's.
    pub old_api_versions_in_headers: bool,
    /// RSV header URLs use mixed-case container/item names (`iaasvmcontainer;iaasVMContainerV2;…`).
    pub mixed_case_header_names: bool,
    /// Retry-After is 10 (validate), 30 (DPP restore) and 60 (RSV/CRR); off: no Retry-After on triggers.
    pub retry_after_values: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            inprogress_casing: true,
            zero_end_time: true,
            dpp_full_job_id: true,
            rsv_guid_job_id: true,
            old_api_versions_in_headers: true,
            mixed_case_header_names: true,
            retry_after_values: true,
        }
    }
}

/// A point in time: absolute, or relative to the clock start.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeSpec {
    /// Absolute RFC 3339 time.
    #[serde(default)]
    pub time: Option<String>,
    /// Hours before the clock start (a recovery point's age).
    #[serde(default)]
    pub age_hours: Option<f64>,
    /// Minutes after the clock start.
    #[serde(default)]
    pub after_minutes: Option<f64>,
}

impl TimeSpec {
    /// Resolves against `start`; `what` names the field in errors.
    pub fn resolve(&self, start: OffsetDateTime, what: &str) -> Result<Option<OffsetDateTime>, String> {
        let given = [self.time.is_some(), self.age_hours.is_some(), self.after_minutes.is_some()];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(format!("{what}: give only one of 'time', 'ageHours', 'afterMinutes'"));
        }
        if let Some(t) = &self.time {
            return parse_time(t)
                .map(Some)
                .ok_or_else(|| format!("{what}.time '{t}' is not an RFC 3339 time like 2026-01-31T10:00:00Z"));
        }
        if let Some(h) = self.age_hours {
            return Ok(Some(start - time::Duration::seconds_f64(h * 3600.0)));
        }
        if let Some(m) = self.after_minutes {
            return Ok(Some(start + time::Duration::seconds_f64(m * 60.0)));
        }
        Ok(None)
    }
}

/// A subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// Subscription id (a GUID).
    pub id: String,
    /// Resource groups with their compute, storage and network resources.
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroupSpec>,
    /// Backup vaults (Microsoft.DataProtection).
    #[serde(default)]
    pub backup_vaults: Vec<BackupVaultSpec>,
    /// Recovery Services vaults.
    #[serde(default)]
    pub recovery_services_vaults: Vec<RsvVaultSpec>,
    /// Compute usages / quotas (`…/Microsoft.Compute/locations/{l}/usages`).
    #[serde(default)]
    pub usages: Vec<UsageSpec>,
}

/// One Compute usage line in a region: `cores` (Total Regional vCPUs), `virtualMachines`, or a family such as
/// `standardDSv3Family`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsageSpec {
    /// Region.
    pub location: String,
    /// Usage name (`name.value`).
    pub name: String,
    /// Display name (`name.localizedValue`; default: the name).
    #[serde(default)]
    pub localized_name: Option<String>,
    /// Usage outside the emulated VMs (for `cores` and `virtualMachines` the VMs in the region are added).
    #[serde(default)]
    pub current_value: u64,
    /// Quota.
    pub limit: u64,
}

/// A policy assignment on a resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyAssignmentSpec {
    /// Assignment name.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Policy definition id (default: the built-in "Not allowed resource types",
    /// `/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749`).
    #[serde(default)]
    pub policy_definition_id: Option<String>,
    /// Effect, written as the assignment's `parameters.effect.value` (e.g. `Deny`, `Audit`).
    #[serde(default)]
    pub effect: Option<String>,
    /// Further parameters, as Azure writes them (`{"name": {"value": …}}`).
    #[serde(default)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// `Default` (enforced) or `DoNotEnforce`.
    #[serde(default)]
    pub enforcement_mode: Option<String>,
}

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroupSpec {
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Managed disks that exist (a restore to one of these names fails with UserErrorSameNameDiskAlreadyExists).
    #[serde(default)]
    pub disks: Vec<DiskSpec>,
    /// Virtual machines (their disks are created automatically).
    #[serde(default)]
    pub vms: Vec<VmSpec>,
    /// Storage account names (staging accounts for VM restores).
    #[serde(default)]
    pub storage_accounts: Vec<String>,
    /// Virtual networks.
    #[serde(default)]
    pub virtual_networks: Vec<VnetSpec>,
    /// Network security groups (subnets refer to them by name).
    #[serde(default)]
    pub network_security_groups: Vec<NsgSpec>,
    /// Azure Policy assignments at this group's scope.
    #[serde(default)]
    pub policy_assignments: Vec<PolicyAssignmentSpec>,
    /// When the Backup vault identities get Disk Restore Operator on this group. Absent: always had it.
    #[serde(default)]
    pub disk_restore_operator_from: Option<TimeSpec>,
    /// The vault identities never get Disk Restore Operator here.
    #[serde(default)]
    pub disk_restore_operator_missing: bool,
}

/// A managed disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiskSpec {
    /// Name.
    pub name: String,
    /// Size in GiB (default 128).
    #[serde(default)]
    pub size_gb: Option<u32>,
    /// Tags it carries (as a Tags - Update At Scope would have set them).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// A virtual machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmSpec {
    /// Name.
    pub name: String,
    /// VM size (default Standard_D2s_v3).
    #[serde(default)]
    pub size: Option<String>,
    /// OS disk name.
    pub os_disk: String,
    /// Data disks with their LUNs.
    #[serde(default)]
    pub data_disks: Vec<DataDiskSpec>,
}

/// A data disk attached at a LUN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataDiskSpec {
    /// LUN.
    pub lun: i32,
    /// Disk name.
    pub name: String,
}

/// A virtual network.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VnetSpec {
    /// Name.
    pub name: String,
    /// Subnets: names, or objects with a network security group.
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    /// Address space (default `10.{n}.0.0/16`, n counting the scenario's virtual networks).
    #[serde(default)]
    pub address_prefixes: Option<Vec<String>>,
    /// Peerings to other virtual networks.
    #[serde(default)]
    pub peerings: Vec<PeeringSpec>,
    /// A virtual network gateway is deployed: the network gets a `GatewaySubnet` used by `{vnet}-gw`.
    #[serde(default)]
    pub gateway: bool,
}

/// A subnet: a bare name, or `{name, addressPrefix, networkSecurityGroup}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubnetSpec {
    /// Just the name (no NSG, a default prefix).
    Name(String),
    /// The full form.
    Full(SubnetDetail),
}

impl SubnetSpec {
    /// The subnet's name.
    pub fn name(&self) -> &str {
        match self {
            SubnetSpec::Name(n) => n,
            SubnetSpec::Full(d) => &d.name,
        }
    }
}

/// A subnet with its details.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubnetDetail {
    /// Name.
    pub name: String,
    /// Address prefix (default `10.{n}.{i}.0/24`).
    #[serde(default)]
    pub address_prefix: Option<String>,
    /// Network security group: a name in the same resource group, or an ARM id.
    #[serde(default)]
    pub network_security_group: Option<String>,
}

/// A virtual network peering.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeeringSpec {
    /// Peering name.
    pub name: String,
    /// The remote network: a name in the same resource group, or an ARM id (need not be declared).
    pub remote_virtual_network: String,
    /// `Connected` (default), `Initiated` or `Disconnected`.
    #[serde(default)]
    pub state: Option<String>,
}

/// A network security group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NsgSpec {
    /// Name.
    pub name: String,
    /// Its own rules (Azure's six default rules are always added as `defaultSecurityRules`).
    #[serde(default)]
    pub security_rules: Vec<SecurityRuleSpec>,
}

/// A security rule, as Azure writes it (`*` wildcards, service tags such as `AzureCloud`, `Internet`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityRuleSpec {
    /// Name.
    pub name: String,
    /// `Inbound` or `Outbound`.
    pub direction: String,
    /// `Allow` or `Deny`.
    pub access: String,
    /// 100-4096, lower wins.
    pub priority: u32,
    /// `Tcp`, `Udp`, `Icmp` or `*` (default).
    #[serde(default = "star")]
    pub protocol: String,
    /// Source prefix or service tag (default `*`).
    #[serde(default = "star")]
    pub source_address_prefix: String,
    /// Source ports (default `*`).
    #[serde(default = "star")]
    pub source_port_range: String,
    /// Destination prefix or service tag (default `*`).
    #[serde(default = "star")]
    pub destination_address_prefix: String,
    /// Destination ports, e.g. `443` or `*` (default).
    #[serde(default = "star")]
    pub destination_port_range: String,
}

fn star() -> String {
    "*".into()
}

/// A Backup vault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupVaultSpec {
    /// Name.
    pub name: String,
    /// Resource group (must be listed in the subscription's resourceGroups).
    pub resource_group: String,
    /// Region.
    pub location: String,
    /// Whether Cross Region Restore is enabled.
    #[serde(default)]
    pub cross_region_restore: bool,
    /// The paired region (required when crossRegionRestore is true).
    #[serde(default)]
    pub secondary_region: Option<String>,
    /// Backup instances (protected disks).
    #[serde(default)]
    pub backup_instances: Vec<BackupInstanceSpec>,
    /// Most restore jobs that may run at once in this vault; more fail with UserErrorMaxConcurrentOperationLimitReached.
    #[serde(default)]
    pub max_concurrent_restores: Option<usize>,
}

/// A disk backup instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupInstanceSpec {
    /// Backup instance name.
    pub name: String,
    /// ARM id of the protected disk (it is created if missing).
    pub disk: String,
    /// Policy name (default DiskBackupPolicy).
    #[serde(default)]
    pub policy_name: Option<String>,
    /// Snapshot resource group name (default: the vault's group).
    #[serde(default)]
    pub snapshot_resource_group: Option<String>,
    /// Recovery points.
    #[serde(default)]
    pub recovery_points: Vec<DppRecoveryPointSpec>,
}

/// A Backup vault recovery point.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DppRecoveryPointSpec {
    /// Recovery point id (32 hex chars in real traffic).
    pub id: String,
    /// When it was taken.
    #[serde(flatten)]
    pub at: TimeSpec,
    /// `Full` or `Incremental` (default Incremental).
    #[serde(default)]
    pub r#type: Option<String>,
    /// Retention in days after the point's time (default 7); the expiry time follows.
    #[serde(default)]
    pub retention_days: Option<f64>,
    /// `Completed` (default) or `Partial` (not committed: restores are refused).
    #[serde(default)]
    pub state: Option<String>,
    /// The snapshot behind it was deleted: restores fail with UserErrorDiskSnapshotNotFound.
    #[serde(default)]
    pub snapshot_deleted: bool,
    /// Replicated to the secondary region (visible to CRR); default true.
    #[serde(default)]
    pub replicated: Option<bool>,
}

/// A Recovery Services vault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RsvVaultSpec {
    /// Name.
    pub name: String,
    /// Resource group.
    pub resource_group: String,
    /// Region.
    pub location: String,
    /// Whether Cross Region Restore is enabled.
    #[serde(default)]
    pub cross_region_restore: bool,
    /// The paired region (required when crossRegionRestore is true).
    #[serde(default)]
    pub secondary_region: Option<String>,
    /// Protected VMs.
    #[serde(default)]
    pub protected_items: Vec<ProtectedItemSpec>,
    /// Most restore jobs that may run at once in this vault.
    #[serde(default)]
    pub max_concurrent_restores: Option<usize>,
}

/// A protected VM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProtectedItemSpec {
    /// ARM id of the VM (must be declared in a resource group's vms).
    pub vm: String,
    /// Policy name (default DefaultPolicy).
    #[serde(default)]
    pub policy_name: Option<String>,
    /// Recovery points.
    #[serde(default)]
    pub recovery_points: Vec<RsvRecoveryPointSpec>,
}

/// A tier of a VM recovery point.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierSpec {
    /// `InstantRP`, `HardenedRP` or `ArchivedRP`.
    pub r#type: String,
    /// `Valid` (default), `Deleted`, `Disabled`, `Rehydrated`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A VM recovery point.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RsvRecoveryPointSpec {
    /// Recovery point id (a numeric string).
    pub id: String,
    /// When it was taken.
    #[serde(flatten)]
    pub at: TimeSpec,
    /// `AppConsistent` (default), `CrashConsistent`, `FileSystemConsistent`.
    #[serde(default)]
    pub r#type: Option<String>,
    /// Tiers (default InstantRP + HardenedRP, both Valid).
    #[serde(default)]
    pub tiers: Option<Vec<TierSpec>>,
    /// Retention in days (default 30).
    #[serde(default)]
    pub retention_days: Option<f64>,
    /// Replicated to the secondary region (default true).
    #[serde(default)]
    pub replicated: Option<bool>,
}

/// Failure rules beyond what the resources imply.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rules {
    /// Job outcomes other than Completed.
    #[serde(default)]
    pub job_outcomes: Vec<JobOutcomeRule>,
    /// How VMs behave once they exist (restored or declared), matched by VM name: provisioning, agent, Run
    /// Command results. Replaceable at run time through the admin API (`PUT /rules/vms`).
    #[serde(default)]
    pub vms: Vec<VmRule>,
    /// Deletes (disks, VMs, NICs) that fail some times or never finish, matched by resource name. Replaceable
    /// through the admin API (`PUT /rules/deletes`, which also restarts the failure counts).
    #[serde(default)]
    pub deletes: Vec<DeleteRule>,
}

/// Whether `pattern` (a name, or a prefix ending in `*`) matches `name`, ignoring ASCII case as ARM does.
/// Restored disk names carry a unique suffix, hence the prefix form.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

/// Behaviour of matching VMs (the first matching rule wins).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmRule {
    /// VM name, or a prefix ending in `*`.
    pub name: String,
    /// The VM reports `provisioningState: Failed` (OS provisioning timed out) while the restore job that made it
    /// still ends Completed; its agent is then never ready either. A *job* failure is `jobOutcomes`' business.
    #[serde(default)]
    pub provisioning_failed: bool,
    /// The VM agent never becomes ready: instanceView `vmAgent.statuses[0]` is `ProvisioningState/Unavailable`,
    /// "Not Ready", and Run Commands never start.
    #[serde(default)]
    pub agent_not_ready: bool,
    /// What a managed Run Command on this VM does (default: succeeds, exit code 0).
    #[serde(default)]
    pub run_command: Option<RunCommandRule>,
}

/// The result a managed Run Command gets, whatever its script says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RunCommandRule {
    /// Exit code; non-zero ends the run `Failed`.
    pub exit_code: i32,
    /// Standard output (the last 4 KB in Azure).
    pub output: String,
    /// Standard error.
    pub error: String,
    /// Virtual seconds the command stays `Pending` before it starts (the extension being installed).
    pub pending_seconds: f64,
    /// Virtual seconds the script runs; beyond the command's `timeoutInSeconds` it ends `TimedOut`.
    pub duration_seconds: f64,
}

impl Default for RunCommandRule {
    fn default() -> Self {
        Self {
            exit_code: 0,
            output: "Drill check passed.".into(),
            error: String::new(),
            pending_seconds: 5.0,
            // Azure documents about 20 s as the least a Run Command takes.
            duration_seconds: 20.0,
        }
    }
}

/// A delete that fails or hangs for matching resources.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteRule {
    /// Resource name (disk, VM or network interface), or a prefix ending in `*`.
    pub name: String,
    /// The first this-many DELETEs of each matching resource fail with `status` (then deletes work).
    #[serde(default)]
    pub fail_times: u32,
    /// The failing status (default 409).
    #[serde(default = "default_delete_status")]
    pub status: u16,
    /// Error code (default `Conflict` for 409, `InternalExecutionError` otherwise).
    #[serde(default)]
    pub error_code: Option<String>,
    /// Error message.
    #[serde(default)]
    pub error_message: Option<String>,
    /// After any failures, the DELETE is accepted (202) but its operation stays `InProgress` for ever and the
    /// resource stays (a VM shows `provisioningState: Deleting`).
    #[serde(default)]
    pub hang: bool,
}

fn default_delete_status() -> u16 {
    409
}

/// Makes matching restore jobs end differently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobOutcomeRule {
    /// Matches jobs restoring this recovery point id.
    #[serde(default)]
    pub recovery_point_id: Option<String>,
    /// Matches jobs whose target resource name (disk or VM) equals this.
    #[serde(default)]
    pub target_name: Option<String>,
    /// `Failed`, `CompletedWithWarnings` or `Cancelled`.
    pub status: String,
    /// Error code for Failed.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Error message.
    #[serde(default)]
    pub error_message: Option<String>,
}

impl Scenario {
    /// Parses and validates a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let s: Scenario = serde_json::from_str(text).map_err(|e| format!("scenario JSON: {e}"))?;
        s.validate()?;
        Ok(s)
    }

    /// Reads a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Cross-field checks; each error names the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.tenant_id.trim().is_empty() {
            return Err("tenantId is empty; give the Entra tenant id (a GUID)".into());
        }
        if let Some(t) = &self.clock_start
            && parse_time(t).is_none()
        {
            return Err(format!("clockStart '{t}' is not an RFC 3339 time like 2026-01-31T10:00:00Z"));
        }
        if self.settings.page_size == 0 {
            return Err("settings.pageSize is 0; use at least 1".into());
        }
        for (i, rule) in self.faults.iter().enumerate() {
            rule.validate().map_err(|e| format!("faults[{i}]: {e}"))?;
        }
        for (i, r) in self.rules.job_outcomes.iter().enumerate() {
            if !["Failed", "CompletedWithWarnings", "Cancelled"].contains(&r.status.as_str()) {
                return Err(format!(
                    "rules.jobOutcomes[{i}].status '{}' must be Failed, CompletedWithWarnings or Cancelled",
                    r.status
                ));
            }
        }
        for (i, r) in self.rules.deletes.iter().enumerate() {
            if !(400..=599).contains(&r.status) {
                return Err(format!("rules.deletes[{i}].status {} must be an error status (400-599)", r.status));
            }
        }
        for (i, r) in self.rules.vms.iter().enumerate() {
            if let Some(rc) = &r.run_command
                && !(rc.pending_seconds >= 0.0 && rc.duration_seconds >= 0.0)
            {
                return Err(format!("rules.vms[{i}].runCommand: pendingSeconds and durationSeconds must be >= 0"));
            }
        }
        for (si, sub) in self.subscriptions.iter().enumerate() {
            let rg_exists = |name: &str| sub.resource_groups.iter().any(|rg| rg.name.eq_ignore_ascii_case(name));
            for (vi, v) in sub.backup_vaults.iter().enumerate() {
                let at = format!("subscriptions[{si}].backupVaults[{vi}]");
                if !rg_exists(&v.resource_group) {
                    return Err(format!(
                        "{at}.resourceGroup '{}' is not in subscriptions[{si}].resourceGroups; add it",
                        v.resource_group
                    ));
                }
                if v.cross_region_restore && v.secondary_region.is_none() {
                    return Err(format!("{at}.secondaryRegion is missing; crossRegionRestore needs the paired region"));
                }
                for (bi, b) in v.backup_instances.iter().enumerate() {
                    if !b.disk.to_ascii_lowercase().contains("/providers/microsoft.compute/disks/") {
                        return Err(format!(
                            "{at}.backupInstances[{bi}].disk '{}' is not a managed disk ARM id",
                            b.disk
                        ));
                    }
                    for (ri, rp) in b.recovery_points.iter().enumerate() {
                        let f = format!("{at}.backupInstances[{bi}].recoveryPoints[{ri}]");
                        if rp.at.time.is_none() && rp.at.age_hours.is_none() && rp.at.after_minutes.is_none() {
                            return Err(format!("{f}: give 'time' or 'ageHours'"));
                        }
                        if let Some(s) = &rp.state
                            && s != "Completed"
                            && s != "Partial"
                        {
                            return Err(format!("{f}.state '{s}' must be Completed or Partial"));
                        }
                    }
                }
            }
            for (vi, v) in sub.recovery_services_vaults.iter().enumerate() {
                let at = format!("subscriptions[{si}].recoveryServicesVaults[{vi}]");
                if !rg_exists(&v.resource_group) {
                    return Err(format!(
                        "{at}.resourceGroup '{}' is not in subscriptions[{si}].resourceGroups; add it",
                        v.resource_group
                    ));
                }
                if v.cross_region_restore && v.secondary_region.is_none() {
                    return Err(format!("{at}.secondaryRegion is missing; crossRegionRestore needs the paired region"));
                }
                for (pi, p) in v.protected_items.iter().enumerate() {
                    let declared = sub.resource_groups.iter().any(|rg| {
                        rg.vms.iter().any(|vm| {
                            format!(
                                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
                                sub.id, rg.name, vm.name
                            )
                            .eq_ignore_ascii_case(&p.vm)
                        })
                    });
                    if !declared {
                        return Err(format!(
                            "{at}.protectedItems[{pi}].vm '{}' is not a VM declared in subscriptions[{si}].resourceGroups[].vms",
                            p.vm
                        ));
                    }
                    for (ri, rp) in p.recovery_points.iter().enumerate() {
                        if rp.at.time.is_none() && rp.at.age_hours.is_none() && rp.at.after_minutes.is_none() {
                            return Err(format!(
                                "{at}.protectedItems[{pi}].recoveryPoints[{ri}]: give 'time' or 'ageHours'"
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
