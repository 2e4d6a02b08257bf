//! Alert rules: which alerts start which restore. A rule matches on the alert rule's name, the monitoring
//! service, the target's type or id prefix, severity and signal type; the first matching rule builds the request
//! from its action template. Rules live in the policy document (`alertRules`, docs/policy.md).
//!
//! Where the item comes from: Azure Backup's built-in alerts target the *vault*; the item is in
//! `alertContext.protectedItemId` (used as is). Other alerts (a metric alert on a disk or VM) target the workload
//! itself; the action then names the vault and how the backup instance or protected item is named.

use restore_models::arm_id::{
    BackupInstanceId, BackupVaultId, DiskId, ProtectedItemId, RecoveryServicesVaultId, ResourceGroupId, ResourceId,
    StorageAccountId, VirtualMachineId,
};
use serde::{Deserialize, Serialize};

use super::backup::BackupAlertContext;
use super::common::{CommonAlert, MonitorCondition};
use crate::request::{
    ContractVersion, DiskToNewDisk, Operation, Options, RecoveryPointChoice, RestoreRequest, Source, SourceKind,
    VmRestoreDisks,
};

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertRule {
    /// Unique name; it appears in `source.requestedBy` of the requests it makes.
    pub name: String,
    /// When the rule applies. Every condition given must hold.
    #[serde(rename = "match")]
    pub when: AlertMatch,
    /// The request to make.
    pub action: AlertAction,
    /// The recovery point to use (default latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<RecoveryPointChoice>,
    /// Options of the request (validateOnly, tags).
    #[serde(default, skip_serializing_if = "Options::is_default")]
    pub options: Options,
}

/// Conditions of an alert rule; absent conditions match anything, but a rule must have at least one of
/// `alertRule`, `targetResourceType` or `targetIdPrefix` (checked when the policy loads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertMatch {
    /// `essentials.alertRule`, compared case-insensitively (`Restore Failure`, `Backup Failure`, your rule's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_rule: Option<String>,
    /// `essentials.monitoringService` (`Azure Backup`, `Platform`, …), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_service: Option<String>,
    /// Type of the alert target, e.g. `Microsoft.Compute/disks` or `Microsoft.RecoveryServices/vaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_type: Option<String>,
    /// A target id must start with this ARM id (whole segments), e.g. a subscription or resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id_prefix: Option<ResourceId>,
    /// Allowed severities (`Sev0`…`Sev4`); empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<String>,
    /// Allowed signal types (`Metric`, `Log`, `Activity Log`); empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signal_types: Vec<String>,
}

/// The request an alert rule makes, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum AlertAction {
    /// Restore the alert's disk to a new disk.
    #[serde(rename_all = "camelCase")]
    DiskToNewDisk {
        /// The Backup vault protecting the disk (needed when the alert targets the disk, not the vault).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backup_vault_id: Option<BackupVaultId>,
        /// Backup instance name template; `{diskName}` and `{diskResourceGroup}` are replaced (default
        /// `{diskName}`). Used when the alert targets the disk.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backup_instance_name: Option<String>,
        /// Where the new disk goes.
        target_resource_group_id: ResourceGroupId,
    },
    /// Restore the alert's VM's disks.
    #[serde(rename_all = "camelCase")]
    VmRestoreDisks {
        /// The Recovery Services vault protecting the VM (needed when the alert targets the VM).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery_services_vault_id: Option<RecoveryServicesVaultId>,
        /// Staging storage account.
        staging_storage_account_id: StorageAccountId,
        /// Where the disks go.
        target_resource_group_id: ResourceGroupId,
        /// LUNs to restore (absent: all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        luns: Option<Vec<u32>>,
        /// Cross Region Restore.
        #[serde(default)]
        secondary_region: bool,
    },
}

/// What an alert leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertOutcome {
    /// Start this restore.
    Restore(Box<RestoreRequest>),
    /// The alert resolved: nothing to do (a restore started when it fired carries on).
    Resolved {
        /// `essentials.alertId`.
        alert_id: String,
    },
    /// No rule matched.
    Unmatched {
        /// Why each rule did not match (or that there are none).
        why: String,
    },
    /// A rule matched but the alert lacks what the rule needs (e.g. no disk in it), or the request it built is
    /// invalid. Reported, never retried.
    RuleFailed {
        /// The rule.
        rule: String,
        /// What was missing.
        why: String,
    },
}

/// Maps an alert to an outcome with the first rule that matches.
pub fn map_alert(alert: &CommonAlert, rules: &[AlertRule]) -> AlertOutcome {
    let e = alert.essentials();
    if e.monitor_condition == MonitorCondition::Resolved {
        return AlertOutcome::Resolved { alert_id: e.alert_id.clone() };
    }
    if rules.is_empty() {
        return AlertOutcome::Unmatched { why: "the policy has no alertRules, so no alert starts a restore".into() };
    }
    let mut misses = Vec::new();
    for rule in rules {
        match rule.when.check(alert) {
            Err(why) => misses.push(format!("rule '{}': {why}", rule.name)),
            Ok(()) => {
                return match build(alert, rule) {
                    Ok(req) => AlertOutcome::Restore(Box::new(req)),
                    Err(why) => AlertOutcome::RuleFailed { rule: rule.name.clone(), why },
                };
            }
        }
    }
    AlertOutcome::Unmatched { why: misses.join("; ") }
}

/// The request id for an alert: `alert-` and the alert's GUID (the last segment of `alertId`), so webhook retries
/// and duplicate deliveries of one alert dedupe to one restore, while a new firing (a new alertId) is a new one.
pub fn alert_request_id(alert_id: &str) -> String {
    let last = alert_id.rsplit('/').next().unwrap_or_default();
    if (1..=100).contains(&last.len()) && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("alert-{last}")
    } else {
        // FNV-1a: stable across processes and versions (std's hasher is not), and enough to dedupe.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in alert_id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("alert-{h:016x}")
    }
}

impl AlertMatch {
    /// Whether this rule has something specific to match on (a rule matching every alert is refused at load).
    pub fn is_specific(&self) -> bool {
        self.alert_rule.is_some() || self.target_resource_type.is_some() || self.target_id_prefix.is_some()
    }

    fn check(&self, alert: &CommonAlert) -> Result<(), String> {
        let e = alert.essentials();
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if let Some(r) = &self.alert_rule
            && !eq(r, &e.alert_rule)
        {
            return Err(format!("alertRule is '{}', not '{r}'", e.alert_rule));
        }
        if let Some(s) = &self.monitoring_service
            && !eq(s, &e.monitoring_service)
        {
            return Err(format!("monitoringService is '{}', not '{s}'", e.monitoring_service));
        }
        if let Some(t) = &self.target_resource_type {
            let actual = alert.target_type().unwrap_or_default();
            if !eq(t, &actual) {
                return Err(format!("the target type is '{actual}', not '{t}'"));
            }
        }
        if let Some(prefix) = &self.target_id_prefix {
            let p = prefix.as_str().to_ascii_lowercase();
            let hit = e.alert_target_ids.iter().any(|id| {
                let id = id.to_ascii_lowercase();
                id.strip_prefix(&p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            });
            if !hit {
                return Err(format!("no alert target is under {prefix}"));
            }
        }
        if !self.severities.is_empty() && !self.severities.iter().any(|s| eq(s, &e.severity)) {
            return Err(format!("severity '{}' is not one of {:?}", e.severity, self.severities));
        }
        if !self.signal_types.is_empty() && !self.signal_types.iter().any(|s| eq(s, &e.signal_type)) {
            return Err(format!("signal type '{}' is not one of {:?}", e.signal_type, self.signal_types));
        }
        Ok(())
    }
}

/// Builds the request a matching rule asks for.
fn build(alert: &CommonAlert, rule: &AlertRule) -> Result<RestoreRequest, String> {
    let e = alert.essentials();
    let ctx = BackupAlertContext::from_context(&alert.data.alert_context);
    // Candidate workload ids: the targets, then the Backup alert's linked resource.
    let mut workloads: Vec<&str> = e.alert_target_ids.iter().map(String::as_str).collect();
    if let Some(linked) = ctx.linked_resource_id.as_deref() {
        workloads.push(linked);
    }
    let operation = match &rule.action {
        AlertAction::DiskToNewDisk { backup_vault_id, backup_instance_name, target_resource_group_id } => {
            let from_context = ctx.protected_item_id.as_deref().and_then(|p| BackupInstanceId::parse(p).ok());
            let bi = match from_context {
                Some(bi) => {
                    if let Some(v) = backup_vault_id
                        && bi.vault() != *v
                    {
                        return Err(format!("the alert's backup instance is in vault {}, not {v}", bi.vault()));
                    }
                    bi
                }
                None => {
                    let disk = workloads.iter().find_map(|w| DiskId::parse(w).ok()).ok_or_else(|| {
                        "the alert names no managed disk (in alertTargetIDs or alertContext.linkedResourceId) and no \
                         backup instance (alertContext.protectedItemId)"
                            .to_string()
                    })?;
                    let vault = backup_vault_id.as_ref().ok_or_else(|| {
                        format!("the alert names disk {disk} but not its backup instance; set action.backupVaultId")
                    })?;
                    let name = backup_instance_name
                        .as_deref()
                        .unwrap_or("{diskName}")
                        .replace("{diskName}", disk.name())
                        .replace("{diskResourceGroup}", disk.resource_group());
                    BackupInstanceId::parse(&format!("{vault}/backupInstances/{name}")).map_err(|err| {
                        format!("action.backupInstanceName gives an invalid backup instance id: {err}")
                    })?
                }
            };
            Operation::DiskToNewDisk(DiskToNewDisk {
                backup_instance_id: bi,
                target_resource_group_id: target_resource_group_id.clone(),
                disk_name: None,
            })
        }
        AlertAction::VmRestoreDisks {
            recovery_services_vault_id,
            staging_storage_account_id,
            target_resource_group_id,
            luns,
            secondary_region,
        } => {
            let from_context = ctx.protected_item_id.as_deref().and_then(|p| ProtectedItemId::parse(p).ok());
            let pi = match from_context {
                Some(pi) => {
                    if let Some(v) = recovery_services_vault_id
                        && pi.vault() != *v
                    {
                        return Err(format!("the alert's protected item is in vault {}, not {v}", pi.vault()));
                    }
                    pi
                }
                None => {
                    let vm = workloads.iter().find_map(|w| VirtualMachineId::parse(w).ok()).ok_or_else(|| {
                        "the alert names no virtual machine (in alertTargetIDs or alertContext.linkedResourceId) and \
                         no protected item (alertContext.protectedItemId)"
                            .to_string()
                    })?;
                    let vault = recovery_services_vault_id.as_ref().ok_or_else(|| {
                        format!(
                            "the alert names VM {vm} but not its protected item; set action.recoveryServicesVaultId"
                        )
                    })?;
                    // Azure's own naming for IaaS VM items (azure-backup-rest.md §3.3), lower-cased as newer
                    // names are; the service compares these names case-insensitively.
                    let native = format!(
                        "iaasvmcontainerv2;{};{}",
                        vm.resource_group().to_ascii_lowercase(),
                        vm.name().to_ascii_lowercase()
                    );
                    ProtectedItemId::parse(&format!(
                        "{vault}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{native}/protectedItems/VM;{native}"
                    ))
                    .map_err(|err| format!("cannot name the VM's protected item: {err}"))?
                }
            };
            Operation::VmRestoreDisks(VmRestoreDisks {
                protected_item_id: pi,
                staging_storage_account_id: staging_storage_account_id.clone(),
                target_resource_group_id: target_resource_group_id.clone(),
                luns: luns.clone(),
                secondary_region: *secondary_region,
            })
        }
    };
    let requested_by: String = format!("alert rule '{}' via policy rule '{}'", e.alert_rule, rule.name)
        .chars()
        .filter(|c| !c.is_control())
        .take(256)
        .collect();
    let reference: String = e.alert_id.chars().filter(|c| !c.is_control()).take(256).collect();
    let request = RestoreRequest {
        version: ContractVersion::V1,
        request_id: Some(alert_request_id(&e.alert_id)),
        source: Source { kind: SourceKind::Alert, reference, requested_by },
        operation,
        recovery_point: rule.recovery_point.clone(),
        options: rule.options.clone(),
    };
    crate::request::validate::validate(&request)
        .map_err(|err| format!("the request built from the alert is invalid: {err}"))?;
    Ok(request)
}
