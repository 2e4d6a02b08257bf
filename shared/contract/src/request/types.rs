//! The restore request types (contract v1). The JSON is camelCase; unknown fields are errors everywhere, so a typo
//! is reported with its path instead of being silently ignored.

use std::collections::BTreeMap;
use std::fmt;

use restore_models::arm_id::{
    BackupInstanceId, BackupVaultId, DiskId, ProtectedItemId, ResourceGroupId, StorageAccountId, SubnetId,
    VirtualNetworkId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ids::BackupPolicyId;
use crate::schema;
use crate::timestamp::Timestamp;

/// A restore request (or a disk-protection change): the body of a queue message.
///
/// Read messages with [`crate::parse_request`]: plain `Deserialize` checks types and ARM ids but not the
/// cross-field rules of [`crate::request::validate`], nor does it give field paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "RestoreRequest",
    description = "Restore request, message contract v1. See docs/contract.md.",
    extend("additionalProperties" = false)
)]
pub struct RestoreRequest {
    /// Contract version; must be the string "1".
    pub version: ContractVersion,
    /// Idempotency key (1–128 of `A-Z a-z 0-9 . _ : -`). When absent the intake uses the Service Bus MessageId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Who asked and why.
    pub source: Source,
    /// What to do: the restore mode (or protection change) and its destination, tagged by `kind`.
    pub operation: Operation,
    /// Which recovery point to restore. Restores only; absent means `{"choice":"latest"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<RecoveryPointChoice>,
    /// Options.
    #[serde(default, skip_serializing_if = "Options::is_default")]
    pub options: Options,
}

/// The contract version. Only "1" exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ContractVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

/// Who asked for the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// What raised the request.
    pub kind: SourceKind,
    /// External reference for correlation (ticket number, alert id, drill name); echoed in the result.
    /// 1–256 characters, no control characters.
    pub reference: String,
    /// Who asked (user principal name, service name, alert rule). 1–256 characters, no control characters.
    pub requested_by: String,
}

/// What raised the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// A ticketing system.
    Ticket,
    /// An Azure Monitor alert (the intake sets this when it maps an alert).
    Alert,
    /// A scheduled recovery drill.
    Drill,
    /// A person, by hand (restorectl).
    Manual,
}

impl SourceKind {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Ticket => "ticket",
            SourceKind::Alert => "alert",
            SourceKind::Drill => "drill",
            SourceKind::Manual => "manual",
        }
    }
}

/// The operation, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Operation {
    /// Restore a managed disk from its Backup vault backup instance to a new disk (alternate location).
    DiskToNewDisk(DiskToNewDisk),
    /// Restore a VM's disks (optionally only some LUNs) into a resource group, through a staging storage account.
    VmRestoreDisks(VmRestoreDisks),
    /// Replace the disks of the original VM (original location). Destructive: refused unless the policy opts in.
    VmReplaceDisks(VmReplaceDisks),
    /// Restore as a new VM (alternate location).
    VmNewVm(VmNewVm),
    /// Protect a managed disk with a Backup vault policy (create a backup instance).
    ConfigureDiskProtection(ConfigureDiskProtection),
    /// Stop protecting a disk, keeping or deleting its backup data.
    StopDiskProtection(StopDiskProtection),
}

/// The operation kinds, as named in `operation.kind` and the policy's `allowedKinds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OperationKind {
    /// [`Operation::DiskToNewDisk`].
    DiskToNewDisk,
    /// [`Operation::VmRestoreDisks`].
    VmRestoreDisks,
    /// [`Operation::VmReplaceDisks`].
    VmReplaceDisks,
    /// [`Operation::VmNewVm`].
    VmNewVm,
    /// [`Operation::ConfigureDiskProtection`].
    ConfigureDiskProtection,
    /// [`Operation::StopDiskProtection`].
    StopDiskProtection,
}

impl OperationKind {
    /// Every kind, in documentation order.
    pub const ALL: [OperationKind; 6] = [
        OperationKind::DiskToNewDisk,
        OperationKind::VmRestoreDisks,
        OperationKind::VmReplaceDisks,
        OperationKind::VmNewVm,
        OperationKind::ConfigureDiskProtection,
        OperationKind::StopDiskProtection,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::DiskToNewDisk => "diskToNewDisk",
            OperationKind::VmRestoreDisks => "vmRestoreDisks",
            OperationKind::VmReplaceDisks => "vmReplaceDisks",
            OperationKind::VmNewVm => "vmNewVm",
            OperationKind::ConfigureDiskProtection => "configureDiskProtection",
            OperationKind::StopDiskProtection => "stopDiskProtection",
        }
    }

    /// Parses the JSON name (exact, as serde does).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether this kind restores data (and so takes a recovery point and counts against concurrency limits).
    pub fn is_restore(self) -> bool {
        matches!(
            self,
            OperationKind::DiskToNewDisk
                | OperationKind::VmRestoreDisks
                | OperationKind::VmReplaceDisks
                | OperationKind::VmNewVm
        )
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `diskToNewDisk`: Backup vault (Microsoft.DataProtection) managed-disk restore to a new disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiskToNewDisk {
    /// The backup instance of the disk.
    #[schemars(with = "schema::BackupInstanceIdSchema")]
    pub backup_instance_id: BackupInstanceId,
    /// Where the new disk is created (same subscription as the vault).
    #[schemars(with = "schema::ResourceGroupIdSchema")]
    pub target_resource_group_id: ResourceGroupId,
    /// Name of the new disk. Absent: the policy's naming template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_name: Option<String>,
}

/// `vmRestoreDisks`: Recovery Services VM restore of disks (optionally selected LUNs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmRestoreDisks {
    /// The protected VM.
    #[schemars(with = "schema::ProtectedItemIdSchema")]
    pub protected_item_id: ProtectedItemId,
    /// Staging storage account (in the target region: the secondary region for Cross Region Restore).
    #[schemars(with = "schema::StorageAccountIdSchema")]
    pub staging_storage_account_id: StorageAccountId,
    /// Where the managed disks are created.
    #[schemars(with = "schema::ResourceGroupIdSchema")]
    pub target_resource_group_id: ResourceGroupId,
    /// Data disk LUNs to restore (the OS disk is always restored). Absent: every disk; `[]`: the OS disk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luns: Option<Vec<u32>>,
    /// Restore from the secondary region's copy (Cross Region Restore).
    #[serde(default, skip_serializing_if = "is_false")]
    pub secondary_region: bool,
}

/// `vmReplaceDisks`: replace the disks of the original VM (original location). Cross Region Restore is not
/// possible here: the original VM lives in the primary region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmReplaceDisks {
    /// The protected VM whose disks are replaced.
    #[schemars(with = "schema::ProtectedItemIdSchema")]
    pub protected_item_id: ProtectedItemId,
    /// Staging storage account.
    #[schemars(with = "schema::StorageAccountIdSchema")]
    pub staging_storage_account_id: StorageAccountId,
}

/// `vmNewVm`: restore as a new VM (alternate location).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmNewVm {
    /// The protected VM.
    #[schemars(with = "schema::ProtectedItemIdSchema")]
    pub protected_item_id: ProtectedItemId,
    /// Staging storage account.
    #[schemars(with = "schema::StorageAccountIdSchema")]
    pub staging_storage_account_id: StorageAccountId,
    /// Resource group of the new VM.
    #[schemars(with = "schema::ResourceGroupIdSchema")]
    pub target_resource_group_id: ResourceGroupId,
    /// Name of the new VM (1–64 of letters, digits, '-', '_', '.'; not ending in '.' or '-').
    pub vm_name: String,
    /// Virtual network of the new VM.
    #[schemars(with = "schema::VirtualNetworkIdSchema")]
    pub virtual_network_id: VirtualNetworkId,
    /// Subnet of the new VM (must be in `virtualNetworkId`).
    #[schemars(with = "schema::SubnetIdSchema")]
    pub subnet_id: SubnetId,
    /// Restore from the secondary region's copy (Cross Region Restore).
    #[serde(default, skip_serializing_if = "is_false")]
    pub secondary_region: bool,
}

/// `configureDiskProtection`: protect a disk with a Backup vault policy (seed 004).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigureDiskProtection {
    /// The Backup vault.
    #[schemars(with = "schema::BackupVaultIdSchema")]
    pub backup_vault_id: BackupVaultId,
    /// The disk to protect.
    #[schemars(with = "schema::DiskIdSchema")]
    pub disk_id: DiskId,
    /// The vault's disk backup policy (must be under `backupVaultId`).
    #[schemars(with = "schema::BackupPolicyIdSchema")]
    pub policy_id: BackupPolicyId,
    /// Resource group holding the snapshots (same subscription as the disk).
    #[schemars(with = "schema::ResourceGroupIdSchema")]
    pub snapshot_resource_group_id: ResourceGroupId,
}

/// `stopDiskProtection`: stop protecting a disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StopDiskProtection {
    /// The backup instance to stop.
    #[schemars(with = "schema::BackupInstanceIdSchema")]
    pub backup_instance_id: BackupInstanceId,
    /// `true`: delete the backup instance and its recovery points (destructive, policy opt-in);
    /// `false`: stop protection and keep the data. Required: there is no default for deleting data.
    pub delete_data: bool,
}

/// Which recovery point to restore, tagged by `choice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "choice", rename_all = "camelCase", deny_unknown_fields)]
pub enum RecoveryPointChoice {
    /// The newest usable recovery point: `{"choice":"latest"}`.
    Latest,
    /// This recovery point: `{"choice":"id","id":"a3d02fc3ab8a4c3a8cc26688c26d3356"}` (the recovery point name,
    /// not its full ARM id; 1–128 of letters, digits, '-' and '_').
    Id {
        /// The recovery point name.
        id: String,
    },
    /// The newest recovery point taken at or before `time`: `{"choice":"latestAtOrBefore","time":"…"}`.
    LatestAtOrBefore {
        /// The instant (RFC 3339).
        time: Timestamp,
    },
}

/// Options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    /// Only validate (policy, then Azure's own validation); trigger nothing. The result's status is `Validated`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub validate_only: bool,
    /// Give up (status `TimedOut`) if the operation has not ended by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// Tags to put on restored resources (the policy's tags win on conflict). At most 50; keys 1–512 characters
    /// without `< > % & \ ? /`; values up to 256 characters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Options {
    /// Whether nothing is set (so it is left out when serialising).
    pub fn is_default(&self) -> bool {
        *self == Options::default()
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Operation {
    /// The kind.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::DiskToNewDisk(_) => OperationKind::DiskToNewDisk,
            Operation::VmRestoreDisks(_) => OperationKind::VmRestoreDisks,
            Operation::VmReplaceDisks(_) => OperationKind::VmReplaceDisks,
            Operation::VmNewVm(_) => OperationKind::VmNewVm,
            Operation::ConfigureDiskProtection(_) => OperationKind::ConfigureDiskProtection,
            Operation::StopDiskProtection(_) => OperationKind::StopDiskProtection,
        }
    }

    /// The vault the operation runs in: a Backup vault or a Recovery Services vault, as an untyped id.
    pub fn vault_id(&self) -> restore_models::arm_id::ResourceId {
        match self {
            Operation::DiskToNewDisk(o) => o.backup_instance_id.vault().resource_id().clone(),
            Operation::VmRestoreDisks(o) => o.protected_item_id.vault().resource_id().clone(),
            Operation::VmReplaceDisks(o) => o.protected_item_id.vault().resource_id().clone(),
            Operation::VmNewVm(o) => o.protected_item_id.vault().resource_id().clone(),
            Operation::ConfigureDiskProtection(o) => o.backup_vault_id.resource_id().clone(),
            Operation::StopDiskProtection(o) => o.backup_instance_id.vault().resource_id().clone(),
        }
    }

    /// The resource group the operation creates resources in, if any (with the JSON field naming it).
    pub fn target_resource_group(&self) -> Option<(&'static str, &ResourceGroupId)> {
        match self {
            Operation::DiskToNewDisk(o) => Some(("operation.targetResourceGroupId", &o.target_resource_group_id)),
            Operation::VmRestoreDisks(o) => Some(("operation.targetResourceGroupId", &o.target_resource_group_id)),
            Operation::VmNewVm(o) => Some(("operation.targetResourceGroupId", &o.target_resource_group_id)),
            Operation::VmReplaceDisks(_) | Operation::ConfigureDiskProtection(_) | Operation::StopDiskProtection(_) => {
                None
            }
        }
    }

    /// The staging storage account of a VM restore.
    pub fn staging_storage_account(&self) -> Option<&StorageAccountId> {
        match self {
            Operation::VmRestoreDisks(o) => Some(&o.staging_storage_account_id),
            Operation::VmReplaceDisks(o) => Some(&o.staging_storage_account_id),
            Operation::VmNewVm(o) => Some(&o.staging_storage_account_id),
            _ => None,
        }
    }

    /// Whether this is a Cross Region Restore.
    pub fn secondary_region(&self) -> bool {
        match self {
            Operation::VmRestoreDisks(o) => o.secondary_region,
            Operation::VmNewVm(o) => o.secondary_region,
            _ => false,
        }
    }

    /// The name of the source resource (disk or VM), for naming templates.
    pub fn source_name(&self) -> String {
        let vm = |pi: &ProtectedItemId| pi.native_vm().map(|n| n.vm_name).unwrap_or_else(|| pi.name().to_string());
        match self {
            // Backup instance names are usually `{disk}-{guid}` or `{disk}-bi`; the instance name is what we have.
            Operation::DiskToNewDisk(o) => o.backup_instance_id.name().to_string(),
            Operation::VmRestoreDisks(o) => vm(&o.protected_item_id),
            Operation::VmReplaceDisks(o) => vm(&o.protected_item_id),
            Operation::VmNewVm(o) => vm(&o.protected_item_id),
            Operation::ConfigureDiskProtection(o) => o.disk_id.name().to_string(),
            Operation::StopDiskProtection(o) => o.backup_instance_id.name().to_string(),
        }
    }
}

impl RestoreRequest {
    /// The recovery point choice, with the default (`latest`) applied for restores; `None` for protection kinds.
    pub fn effective_recovery_point(&self) -> Option<RecoveryPointChoice> {
        self.operation.kind().is_restore().then(|| self.recovery_point.clone().unwrap_or(RecoveryPointChoice::Latest))
    }
}
