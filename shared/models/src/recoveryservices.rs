//! Microsoft.RecoveryServices backup (Recovery Services vault) wire models, api-version
//! 2026-10-01.
//!
//! Mirrors these `bms.json` definitions: `ProtectedItemResource` with
//! `AzureIaaSComputeVMProtectedItem` / `AzureIaaSClassicComputeVMProtectedItem`,
//! `RecoveryPointResource` with `IaasVMRecoveryPoint`, `RestoreRequestResource` with
//! `IaasVMRestoreRequest` / `IaasVMRestoreWithRehydrationRequest`, `OperationStatus` and its
//! `OperationStatusExtendedInfo` subtypes, `JobResource` with `AzureIaaSVMJob` /
//! `AzureIaaSVMJobV2`, `ValidateOperationRequestResource` /
//! `ValidateIaasVMRestoreOperationRequest`, `ValidateOperationsResponse` and
//! `BackupResourceConfigResource`.
//!
//! Request bodies carry an [`Extra`] bag so unmodelled fields round-trip unchanged.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{IaasJobErrorInfo, OperationStatusError, ValidationError};
use crate::polymorphic;
use crate::wire::{ArmResource, Extra, JobState, OperationState, ResourceList, StrOrNum, Timestamp, de};

/// The api-version these models follow.
pub const API_VERSION: &str = "2026-10-01";

// ---------------------------------------------------------------------------------------------
// Shared small types
// ---------------------------------------------------------------------------------------------

/// `ExtendedLocation` (edge zones).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedLocation {
    /// Name of the extended location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Type of the extended location.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Protected items
// ---------------------------------------------------------------------------------------------

/// `AzureIaaSVMProtectedItemExtendedInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureIaaSVMProtectedItemExtendedInfo {
    /// Oldest recovery point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_recovery_point: Option<Timestamp>,
    /// Oldest recovery point in the vault tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_recovery_point_in_vault: Option<Timestamp>,
    /// Oldest recovery point in the archive tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_recovery_point_in_archive: Option<Timestamp>,
    /// Newest recovery point in the archive tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_recovery_point_in_archive: Option<Timestamp>,
    /// Number of recovery points.
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub recovery_point_count: Option<i64>,
    /// Whether the item is out of sync with its policy.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub policy_inconsistent: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Properties of an Azure IaaS VM protected item (`AzureIaaSVMProtectedItem`; shared by the
/// Compute and ClassicCompute subtypes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureIaaSVMProtectedItem {
    /// `AzureIaasVM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_management_type: Option<String>,
    /// `VM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_type: Option<String>,
    /// Container name without the `IaasVMContainer;` prefix (`iaasvmcontainerv2;rg;vm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// ARM id of the VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    /// ARM id of the VM (read-only copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_machine_id: Option<String>,
    /// VM name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// Backup policy ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// `V1` / `V2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
    /// `Protected`, `ProtectionStopped`, `IRPending`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_state: Option<String>,
    /// `Healthy`, `Unhealthy`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_status: Option<String>,
    /// `Passed`, `ActionRequired`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<String>,
    /// Health details, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_details: Option<Value>,
    /// KPI health, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpis_healths: Option<Value>,
    /// Status of the last backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup_status: Option<String>,
    /// Time of the last backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup_time: Option<Timestamp>,
    /// Time of the newest recovery point (`null` when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_recovery_point: Option<Timestamp>,
    /// Internal data id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_item_data_id: Option<String>,
    /// Extended info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_info: Option<AzureIaaSVMProtectedItemExtendedInfo>,
    /// Extended properties, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_properties: Option<Value>,
    /// Vault ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// `Default`, `Recover`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_mode: Option<String>,
    /// Soft-delete time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_delete_time_in_utc: Option<Timestamp>,
    /// Whether the item is soft-deleted.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_scheduled_for_deferred_delete: Option<bool>,
    /// Whether the item is archived and being rehydrated.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_rehydrate: Option<bool>,
    /// Whether archive is enabled.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_archive_enabled: Option<bool>,
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `ProtectedItem`, chosen by `protectedItemType`.
    pub enum ProtectedItem via "protectedItemType" {
        /// `AzureIaaSComputeVMProtectedItem` (ARM VMs).
        AzureIaaSComputeVM(AzureIaaSVMProtectedItem) = "Microsoft.Compute/virtualMachines",
        /// `AzureIaaSClassicComputeVMProtectedItem` (classic VMs).
        AzureIaaSClassicComputeVM(AzureIaaSVMProtectedItem) = "Microsoft.ClassicCompute/virtualMachines",
    }
}

impl ProtectedItem {
    /// The IaaS VM properties, for either VM flavour.
    pub fn iaas_vm(&self) -> Option<&AzureIaaSVMProtectedItem> {
        match self {
            Self::AzureIaaSComputeVM(p) | Self::AzureIaaSClassicComputeVM(p) => Some(p),
            Self::Unknown { .. } => None,
        }
    }
}

/// `ProtectedItemResource`.
pub type ProtectedItemResource = ArmResource<ProtectedItem>;
/// `ProtectedItemResourceList`.
pub type ProtectedItemResourceList = ResourceList<ProtectedItemResource>;

// ---------------------------------------------------------------------------------------------
// Recovery points
// ---------------------------------------------------------------------------------------------

/// `RecoveryPointTierInformation` (type/status are names in new responses, numbers in old).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointTierInformation {
    /// `InstantRP`, `HardenedRP`, `ArchivedRP` (or 1, 2, 3).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub tier_type: Option<StrOrNum>,
    /// `Valid`, `Deleted`, `Rehydrated`, `Disabled` (or 1, 2, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StrOrNum>,
    /// Extra info, e.g. `RehydratedRPExpiryTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_info: Option<BTreeMap<String, String>>,
}

impl RecoveryPointTierInformation {
    /// True when the tier status is `Valid` (or the numeric 1).
    pub fn is_valid(&self) -> bool {
        match &self.status {
            Some(StrOrNum::Str(s)) => s.eq_ignore_ascii_case("Valid"),
            Some(n @ StrOrNum::Num(_)) => n.as_i64() == Some(1),
            _ => false,
        }
    }
}

/// `DiskInformation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInformation {
    /// LUN of the disk.
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub lun: Option<i64>,
    /// Disk name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `RecoveryPointDiskConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointDiskConfiguration {
    /// Disks included in the backup.
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub number_of_disks_included_in_backup: Option<i64>,
    /// Disks attached to the VM.
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub number_of_disks_attached_to_vm: Option<i64>,
    /// Included disks.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub included_disk_list: Vec<DiskInformation>,
    /// Excluded disks.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub excluded_disk_list: Vec<DiskInformation>,
}

/// `RecoveryPointMoveReadinessInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointMoveReadinessInfo {
    /// Whether the point can move to the tier.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_ready_for_move: Option<bool>,
    /// Explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
}

/// `RecoveryPointProperties`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointProperties {
    /// Expiry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<Timestamp>,
    /// Policy rule that created the point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    /// Whether the point is soft-deleted.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_soft_deleted: Option<bool>,
    /// Immutability, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutability_properties: Option<Value>,
}

/// `IaasVMRecoveryPoint` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IaasVMRecoveryPoint {
    /// `AppConsistent`, `CrashConsistent`, `FileSystemConsistent`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_type: Option<String>,
    /// When the point was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_time: Option<Timestamp>,
    /// Additional info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_additional_info: Option<String>,
    /// Source VM storage type.
    #[serde(rename = "sourceVMStorageType", default, skip_serializing_if = "Option::is_none")]
    pub source_vm_storage_type: Option<String>,
    /// Whether the source VM was encrypted.
    #[serde(
        rename = "isSourceVMEncrypted",
        default,
        deserialize_with = "de::lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_source_vm_encrypted: Option<bool>,
    /// Key/secret info for encrypted VMs, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_and_secret: Option<Value>,
    /// Whether an ILR session is active.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_instant_ilr_session_active: Option<bool>,
    /// Tiers holding the point.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub recovery_point_tier_details: Vec<RecoveryPointTierInformation>,
    /// Whether the VM uses managed disks.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_managed_virtual_machine: Option<bool>,
    /// VM size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_machine_size: Option<String>,
    /// Whether restore to the original storage account is possible.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub original_storage_account_option: Option<bool>,
    /// `Windows` / `Linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    /// Disks in the point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_disk_configuration: Option<RecoveryPointDiskConfiguration>,
    /// Availability zones of the source VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Vec<String>>,
    /// Tier move readiness, keyed by tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_move_readiness_info: Option<BTreeMap<String, RecoveryPointMoveReadinessInfo>>,
    /// `TrustedLaunch`, `ConfidentialVM`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_type: Option<String>,
    /// Expiry and rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_properties: Option<RecoveryPointProperties>,
    /// Whether any disk uses private access.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_private_access_enabled_on_any_disk: Option<bool>,
    /// Extended location of the source VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_location: Option<ExtendedLocation>,
}

impl IaasVMRecoveryPoint {
    /// True when at least one tier reports `Valid`.
    pub fn has_valid_tier(&self) -> bool {
        self.recovery_point_tier_details.iter().any(RecoveryPointTierInformation::is_valid)
    }
}

polymorphic! {
    /// `RecoveryPoint`, chosen by `objectType`.
    pub enum RecoveryPoint via "objectType" {
        /// `IaasVMRecoveryPoint`.
        IaasVM(IaasVMRecoveryPoint) = "IaasVMRecoveryPoint",
    }
}

/// `RecoveryPointResource`.
pub type RecoveryPointResource = ArmResource<RecoveryPoint>;
/// `RecoveryPointResourceList`.
pub type RecoveryPointResourceList = ResourceList<RecoveryPointResource>;

// ---------------------------------------------------------------------------------------------
// Restore requests
// ---------------------------------------------------------------------------------------------

/// `RecoveryType`: read case-insensitively, written in Azure's spelling; unknown values kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecoveryType {
    /// `Invalid`.
    Invalid,
    /// `OriginalLocation` (replace disks / original VM).
    OriginalLocation,
    /// `AlternateLocation` (new VM).
    AlternateLocation,
    /// `RestoreDisks`.
    RestoreDisks,
    /// `Offline`.
    Offline,
    /// Any other value, kept verbatim.
    Other(String),
}

impl RecoveryType {
    /// Parses a wire value (case-insensitive).
    pub fn from_wire(raw: &str) -> Self {
        match raw.to_ascii_lowercase().as_str() {
            "invalid" => Self::Invalid,
            "originallocation" => Self::OriginalLocation,
            "alternatelocation" => Self::AlternateLocation,
            "restoredisks" => Self::RestoreDisks,
            "offline" => Self::Offline,
            _ => Self::Other(raw.to_owned()),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invalid => "Invalid",
            Self::OriginalLocation => "OriginalLocation",
            Self::AlternateLocation => "AlternateLocation",
            Self::RestoreDisks => "RestoreDisks",
            Self::Offline => "Offline",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for RecoveryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RecoveryType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RecoveryType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_wire(&String::deserialize(d)?))
    }
}

/// `EncryptionDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionDetails {
    /// Whether the VM is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_enabled: Option<bool>,
    /// Key encryption key URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kek_url: Option<String>,
    /// Secret URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_url: Option<String>,
    /// Key vault of the KEK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kek_vault_id: Option<String>,
    /// Key vault of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_vault_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `IdentityInfo`: which managed identity performs the restore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityInfo {
    /// Use the vault's system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_system_assigned_identity: Option<bool>,
    /// ARM id of a user-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity_resource_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `IdentityBasedRestoreDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBasedRestoreDetails {
    /// Object type (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Staging storage account ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_storage_account_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `DiskEncryptionSetId` entry of `perDiskEncryptionSetIds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerDiskEncryptionSetId {
    /// LUN of the data disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lun: Option<i32>,
    /// Disk encryption set ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption_set_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `DataDiskEncryptionSettings` of a secured VM restore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataDiskEncryptionSettings {
    /// One DES for all data disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_disk_encryption_set_id: Option<String>,
    /// A DES per LUN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_disk_encryption_set_ids: Option<Vec<PerDiskEncryptionSetId>>,
    /// Identity used to access the DES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_disk_encryption_identity: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `SecuredVMDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuredVMDetails {
    /// OS disk DES (wire name `securedVMOsDiskEncryptionSetId`).
    #[serde(rename = "securedVMOsDiskEncryptionSetId", default, skip_serializing_if = "Option::is_none")]
    pub secured_vm_os_disk_encryption_set_id: Option<String>,
    /// Data disk encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_disk_encryption_settings: Option<DataDiskEncryptionSettings>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `TargetDiskNetworkAccessSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetDiskNetworkAccessSettings {
    /// `SameAsOnSourceDisks`, `EnablePrivateAccessForAllDisks`, `EnablePublicAccessForAllDisks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_disk_network_access_option: Option<String>,
    /// Disk access ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_disk_access_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `RecoveryPointRehydrationInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointRehydrationInfo {
    /// ISO 8601 duration, e.g. `P7D`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_retention_duration: Option<String>,
    /// `Standard` or `High`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_priority: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `IaasVMRestoreRequest` (also the body of `IaasVMRestoreWithRehydrationRequest`, which adds
/// `recoveryPointRehydrationInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IaasVMRestoreRequest {
    /// Recovery point id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// Restore mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_type: Option<RecoveryType>,
    /// ARM id of the backed-up VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    /// ARM id of the VM to create (alternate location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_virtual_machine_id: Option<String>,
    /// Target resource group (`/subscriptions/{s}/resourceGroups/{rg}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_group_id: Option<String>,
    /// Staging storage account ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    /// Target virtual network ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_network_id: Option<String>,
    /// Target subnet ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Classic cloud service (classic VMs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_domain_name_id: Option<String>,
    /// Region of the restore (the vault's; the secondary region for CRR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Affinity group (classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity_group: Option<String>,
    /// Create a new cloud service (classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_new_cloud_service: Option<bool>,
    /// Restore to the original storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_storage_account_option: Option<bool>,
    /// Encryption details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_details: Option<EncryptionDetails>,
    /// Data disk LUNs to restore (`[]` = OS disk only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_disk_lun_list: Option<Vec<i32>>,
    /// Restore as managed disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_with_managed_disks: Option<bool>,
    /// DES for the restored disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption_set_id: Option<String>,
    /// Target availability zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Vec<String>>,
    /// Managed identity performing the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_info: Option<IdentityInfo>,
    /// Identity-based staging storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_based_restore_details: Option<IdentityBasedRestoreDetails>,
    /// Target extended location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_location: Option<ExtendedLocation>,
    /// Secured (confidential) VM encryption settings.
    #[serde(rename = "securedVMDetails", default, skip_serializing_if = "Option::is_none")]
    pub secured_vm_details: Option<SecuredVMDetails>,
    /// Network access of the restored disks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_disk_network_access_settings: Option<TargetDiskNetworkAccessSettings>,
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Rehydration (only in `IaasVMRestoreWithRehydrationRequest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_rehydration_info: Option<RecoveryPointRehydrationInfo>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `RestoreRequest`, chosen by `objectType`.
    pub enum RestoreRequest via "objectType" {
        /// `IaasVMRestoreRequest`.
        IaasVM(IaasVMRestoreRequest) = "IaasVMRestoreRequest",
        /// `IaasVMRestoreWithRehydrationRequest`.
        IaasVMWithRehydration(IaasVMRestoreRequest) = "IaasVMRestoreWithRehydrationRequest",
    }
}

impl RestoreRequest {
    /// The IaaS VM request, for either variant.
    pub fn iaas_vm(&self) -> Option<&IaasVMRestoreRequest> {
        match self {
            Self::IaasVM(r) | Self::IaasVMWithRehydration(r) => Some(r),
            Self::Unknown { .. } => None,
        }
    }
}

/// `RestoreRequestResource` (`{ "properties": RestoreRequest }`).
pub type RestoreRequestResource = ArmResource<RestoreRequest>;

// ---------------------------------------------------------------------------------------------
// Validate operation
// ---------------------------------------------------------------------------------------------

/// `ValidateIaasVMRestoreOperationRequest` without its discriminator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateRestoreOperationRequest {
    /// The restore request to validate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_request: Option<RestoreRequest>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `ValidateOperationRequest`, chosen by `objectType`.
    pub enum ValidateOperationRequest via "objectType" {
        /// `ValidateIaasVMRestoreOperationRequest`.
        ValidateIaasVMRestore(ValidateRestoreOperationRequest) = "ValidateIaasVMRestoreOperationRequest",
        /// `ValidateRestoreOperationRequest`.
        ValidateRestore(ValidateRestoreOperationRequest) = "ValidateRestoreOperationRequest",
    }
}

/// Body of `backupValidateOperation` / `backupTriggerValidateOperation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateOperationRequestResource {
    /// ARM id of the recovery point.
    pub id: String,
    /// The validation request.
    pub properties: ValidateOperationRequest,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `ValidateOperationResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateOperationResponse {
    /// Failed validations (empty when valid).
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub validation_results: Vec<ValidationError>,
}

/// `ValidateOperationsResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateOperationsResponse {
    /// The response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_operation_response: Option<ValidateOperationResponse>,
}

impl ValidateOperationsResponse {
    /// The validation failures (empty when the request is valid).
    pub fn failures(&self) -> &[ValidationError] {
        self.validate_operation_response.as_ref().map(|r| r.validation_results.as_slice()).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Operation status
// ---------------------------------------------------------------------------------------------

/// `OperationStatusJobExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusJobExtendedInfo {
    /// Job id (GUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// `OperationStatusJobsExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusJobsExtendedInfo {
    /// Job ids.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<String>,
    /// Errors of jobs that failed, keyed by job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_jobs_error: Option<BTreeMap<String, String>>,
}

/// `OperationStatusProvisionILRExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusProvisionILRExtendedInfo {
    /// ILR target info, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_target: Option<Value>,
}

/// `OperationStatusRecoveryPointExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusRecoveryPointExtendedInfo {
    /// Updated recovery point, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_recovery_point: Option<Value>,
    /// Deleted backup item version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_backup_item_version: Option<String>,
}

/// `OperationStatusValidateOperationExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusValidateOperationExtendedInfo {
    /// Validation result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_operation_response: Option<ValidateOperationResponse>,
}

polymorphic! {
    /// `OperationStatusExtendedInfo`, chosen by `objectType`.
    pub enum OperationStatusExtendedInfo via "objectType" {
        /// `OperationStatusJobExtendedInfo`.
        Job(OperationStatusJobExtendedInfo) = "OperationStatusJobExtendedInfo",
        /// `OperationStatusJobsExtendedInfo`.
        Jobs(OperationStatusJobsExtendedInfo) = "OperationStatusJobsExtendedInfo",
        /// `OperationStatusProvisionILRExtendedInfo`.
        ProvisionIlr(OperationStatusProvisionILRExtendedInfo) = "OperationStatusProvisionILRExtendedInfo",
        /// `OperationStatusRecoveryPointExtendedInfo`.
        RecoveryPoint(OperationStatusRecoveryPointExtendedInfo) = "OperationStatusRecoveryPointExtendedInfo",
        /// `OperationStatusValidateOperationExtendedInfo`.
        ValidateOperation(OperationStatusValidateOperationExtendedInfo) = "OperationStatusValidateOperationExtendedInfo",
    }
}

/// `OperationStatus`: the body of `operationsStatus`, `backupOperations`,
/// `backupCrrOperationsStatus` and validate-status polls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// Operation id (often a GUID, not an ARM id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Operation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `InProgress`, `Succeeded`, `Failed`, `Canceled`, `Invalid`; see [`Self::state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// End time (`0001-01-01T00:00:00.00000Z` while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Error of a failed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationStatusError>,
    /// Extended info (job id(s), …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<OperationStatusExtendedInfo>,
}

impl OperationStatus {
    /// Typed status (missing status counts as still running).
    pub fn state(&self) -> OperationState {
        OperationState::from_wire(self.status.as_deref().unwrap_or("InProgress"))
    }

    /// End time, `None` while running.
    pub fn ended_at(&self) -> Option<OffsetDateTime> {
        self.end_time.as_ref().and_then(Timestamp::datetime)
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

/// `AzureIaaSVMJobTaskDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureIaaSVMJobTaskDetails {
    /// Task name, e.g. `Take Snapshot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Instance id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Progress in percent.
    #[serde(default, deserialize_with = "de::lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<f64>,
    /// Execution details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_execution_details: Option<String>,
}

/// `AzureIaaSVMJobExtendedInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureIaaSVMJobExtendedInfo {
    /// Tasks.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub tasks_list: Vec<AzureIaaSVMJobTaskDetails>,
    /// Job properties (e.g. restored disk info for RestoreDisks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_bag: Option<BTreeMap<String, String>>,
    /// Internal properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_property_bag: Option<BTreeMap<String, String>>,
    /// Progress in percent.
    #[serde(default, deserialize_with = "de::lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<f64>,
    /// Estimated remaining time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_remaining_duration: Option<String>,
    /// Localised error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_error_message: Option<String>,
}

/// `AzureIaaSVMJob` / `AzureIaaSVMJobV2` (same fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureIaaSVMJob {
    /// VM name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_friendly_name: Option<String>,
    /// `AzureIaasVM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_management_type: Option<String>,
    /// `Restore`, `CrossRegionRestore`, `Backup`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Free-form status; see [`Self::state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Activity id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    /// Duration (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// `Invalid`, `Cancellable`, `Retriable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_info: Option<Vec<String>>,
    /// Errors of a failed job.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub error_details: Vec<IaasJobErrorInfo>,
    /// Extended info (tasks, property bag, progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_info: Option<AzureIaaSVMJobExtendedInfo>,
    /// `Compute` or `ClassicCompute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_machine_version: Option<String>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Whether a user triggered the job.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_user_triggered: Option<bool>,
}

impl AzureIaaSVMJob {
    /// Typed status (missing status counts as still running).
    pub fn state(&self) -> JobState {
        JobState::from_wire(self.status.as_deref().unwrap_or("InProgress"))
    }
}

polymorphic! {
    /// `Job`, chosen by `jobType`.
    pub enum Job via "jobType" {
        /// `AzureIaaSVMJob`.
        AzureIaaSVMJob(AzureIaaSVMJob) = "AzureIaaSVMJob",
        /// `AzureIaaSVMJobV2`.
        AzureIaaSVMJobV2(AzureIaaSVMJob) = "AzureIaaSVMJobV2",
    }
}

impl Job {
    /// The IaaS VM job, for either variant.
    pub fn iaas_vm(&self) -> Option<&AzureIaaSVMJob> {
        match self {
            Self::AzureIaaSVMJob(j) | Self::AzureIaaSVMJobV2(j) => Some(j),
            Self::Unknown { .. } => None,
        }
    }

    /// Typed status for any job type (reads `status` from unknown bodies too).
    pub fn state(&self) -> JobState {
        match self {
            Self::AzureIaaSVMJob(j) | Self::AzureIaaSVMJobV2(j) => j.state(),
            Self::Unknown { raw, .. } => {
                JobState::from_wire(raw.get("status").and_then(Value::as_str).unwrap_or("InProgress"))
            }
        }
    }
}

/// `JobResource`.
pub type JobResource = ArmResource<Job>;
/// `JobResourceList`.
pub type JobResourceList = ResourceList<JobResource>;

// ---------------------------------------------------------------------------------------------
// Vault storage config
// ---------------------------------------------------------------------------------------------

/// `BackupResourceConfig` (vault storage config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupResourceConfig {
    /// `GeoRedundant`, `LocallyRedundant`, `ZoneRedundant`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_model_type: Option<String>,
    /// Same as `storageModelType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    /// `Locked` / `Unlocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_type_state: Option<String>,
    /// Whether Cross Region Restore is enabled.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub cross_region_restore_flag: Option<bool>,
    /// Dedup state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_state: Option<String>,
    /// Xcool state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xcool_state: Option<String>,
}

/// `BackupResourceConfigResource`.
pub type BackupResourceConfigResource = ArmResource<BackupResourceConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recovery_type_is_tolerant() {
        let r: RecoveryType = serde_json::from_value(json!("restoredisks")).unwrap();
        assert_eq!(r, RecoveryType::RestoreDisks);
        assert_eq!(serde_json::to_value(&r).unwrap(), json!("RestoreDisks"));
        let o: RecoveryType = serde_json::from_value(json!("SomethingNew")).unwrap();
        assert_eq!(serde_json::to_value(&o).unwrap(), json!("SomethingNew"));
    }

    #[test]
    fn restore_request_keeps_empty_lun_list_and_writes_no_nulls() {
        let raw = json!({"properties": {
            "objectType": "IaasVMRestoreRequest", "recoveryPointId": "1", "recoveryType": "RestoreDisks",
            "restoreDiskLunList": [], "targetDomainNameId": null, "subnetId": null
        }});
        let r: RestoreRequestResource = serde_json::from_value(raw).unwrap();
        let iaas = r.properties.iaas_vm().unwrap();
        assert_eq!(iaas.restore_disk_lun_list, Some(vec![]));
        assert_eq!(iaas.recovery_type, Some(RecoveryType::RestoreDisks));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"properties": {"objectType": "IaasVMRestoreRequest", "recoveryPointId": "1",
                "recoveryType": "RestoreDisks", "restoreDiskLunList": []}})
        );
    }

    #[test]
    fn operation_status_in_progress_and_job_id() {
        let running: OperationStatus = serde_json::from_value(json!({
            "id": "0", "name": "0", "status": "InProgress",
            "startTime": "2017-08-03T06:52:53.886027Z", "endTime": "0001-01-01T00:00:00.00000Z"
        }))
        .unwrap();
        assert_eq!(running.state(), OperationState::InProgress);
        assert_eq!(running.ended_at(), None);
        let done: OperationStatus = serde_json::from_value(json!({
            "status": "Succeeded",
            "properties": {"objectType": "OperationStatusJobExtendedInfo", "jobId": "3021262a-fb3a-4538-9b37-e3e97a386093"}
        }))
        .unwrap();
        let body = crate::wire::OperationStatusBody::deserialize(&serde_json::to_value(&done).unwrap()).unwrap();
        assert_eq!(body.job_id().as_deref(), Some("3021262a-fb3a-4538-9b37-e3e97a386093"));
        let two: crate::wire::OperationStatusBody = serde_json::from_value(json!({
            "status": "Succeeded", "properties": {"objectType": "OperationStatusJobsExtendedInfo", "jobIds": ["a", "b"]}
        }))
        .unwrap();
        assert_eq!(two.job_id(), None, "two jobs name no one job");
        let failed: OperationStatus = serde_json::from_value(json!({
            "status": "Failed", "error": {"code": "UserErrorX", "message": "m"}
        }))
        .unwrap();
        assert!(failed.state().is_terminal());
        assert_eq!(failed.error.unwrap().code.as_deref(), Some("UserErrorX"));
    }

    #[test]
    fn tier_details_as_numbers_or_names() {
        let rp: RecoveryPoint = serde_json::from_value(json!({
            "objectType": "IaasVMRecoveryPoint",
            "recoveryPointTierDetails": [{"type": 1, "status": 1}, {"type": "HardenedRP", "status": "Deleted"}]
        }))
        .unwrap();
        let RecoveryPoint::IaasVM(p) = &rp else { panic!("unknown") };
        assert!(p.recovery_point_tier_details[0].is_valid());
        assert!(!p.recovery_point_tier_details[1].is_valid());
        assert!(p.has_valid_tier());
    }

    #[test]
    fn unknown_job_type_round_trips_and_reports_status() {
        let raw = json!({"jobType": "AzureStorageJob", "status": "Cancelled", "x": [1]});
        let j: Job = serde_json::from_value(raw.clone()).unwrap();
        assert!(j.is_unknown());
        assert_eq!(j.state(), JobState::Cancelled);
        assert_eq!(serde_json::to_value(&j).unwrap(), raw);
    }

    #[test]
    fn protected_item_discriminator() {
        let pi: ProtectedItemResource = serde_json::from_value(json!({
            "id": "/x", "properties": {"protectedItemType": "microsoft.compute/virtualmachines",
                "containerName": "iaasvmcontainerv2;rg;vm", "lastRecoveryPoint": null}
        }))
        .unwrap();
        let vm = pi.properties.iaas_vm().unwrap();
        assert_eq!(vm.container_name.as_deref(), Some("iaasvmcontainerv2;rg;vm"));
        assert_eq!(
            serde_json::to_value(&pi).unwrap()["properties"]["protectedItemType"],
            json!("Microsoft.Compute/virtualMachines")
        );
    }
}
