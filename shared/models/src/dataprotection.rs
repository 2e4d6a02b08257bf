//! Microsoft.DataProtection (Backup vault) wire models, api-version 2026-06-01.
//!
//! Mirrors these `dataprotection.json` definitions: `AzureBackupRecoveryPointResource` /
//! `AzureBackupDiscreteRecoveryPoint`, `AzureBackupRestoreRequest` and its subtypes,
//! `RestoreTargetInfoBase` and its subtypes, `Datasource`, `DatasourceSet`, `IdentityDetails`,
//! `ValidateRestoreRequestObject`, `AzureBackupFindRestorableTimeRangesRequest` / `…Response`,
//! `OperationJobExtendedInfo`, `OperationResource`, `AzureBackupJobResource` / `AzureBackupJob`,
//! `BackupInstanceResource` / `BackupInstance` / `PolicyInfo` / `DataStoreParameters`,
//! `ValidateForBackupRequest`, `StopProtectionRequest`, the CRR request bodies
//! (`FetchSecondaryRPsRequestParameters`, `ValidateCrossRegionRestoreRequestObject`,
//! `CrossRegionRestoreRequestObject`, `CrossRegionRestoreDetails`,
//! `CrossRegionRestoreJobRequest`, `CrossRegionRestoreJobsRequest`) and `BackupVaultResource`.
//!
//! Request bodies carry an [`Extra`] bag so unmodelled fields round-trip unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ErrorDetail, UserFacingError};
use crate::polymorphic;
use crate::wire::{ArmResource, Extra, JobState, OperationState, ResourceList, Timestamp, de};

/// The api-version these models follow.
pub const API_VERSION: &str = "2026-06-01";

// ---------------------------------------------------------------------------------------------
// Data sources and identity
// ---------------------------------------------------------------------------------------------

/// A protected or target resource (`Datasource`; `DatasourceSet` has the same shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datasource {
    /// Always `Datasource` / `DatasourceSet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Workload type, e.g. `Microsoft.Compute/disks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_type: Option<String>,
    /// ARM id of the resource (wire name `resourceID`).
    #[serde(rename = "resourceID", alias = "resourceId")]
    pub resource_id: String,
    /// Region of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_location: Option<String>,
    /// Resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Resource type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Resource URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_uri: Option<String>,
    /// Workload-specific properties, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_properties: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `DatasourceSet`: the parent of a data source (same wire shape as [`Datasource`]).
pub type DatasourceSet = Datasource;

/// Which identity the vault uses (`IdentityDetails`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDetails {
    /// Use the vault's system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_system_assigned_identity: Option<bool>,
    /// ARM id of a user-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_assigned_identity_arm_url: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Restore target info
// ---------------------------------------------------------------------------------------------

/// `RestoreTargetInfo`: restore a whole data source to `datasourceInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreTargetInfo {
    /// Only `FailIfExists` is defined.
    pub recovery_option: String,
    /// Target region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_location: Option<String>,
    /// The resource to create (some docs spell it `dataSourceInfo`).
    #[serde(alias = "dataSourceInfo")]
    pub datasource_info: Datasource,
    /// Parent of the target resource.
    #[serde(alias = "dataSourceSetInfo", default, skip_serializing_if = "Option::is_none")]
    pub datasource_set_info: Option<DatasourceSet>,
    /// Credentials (polymorphic `AuthCredentials`), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_auth_credentials: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `ItemLevelRestoreTargetInfo`: restore selected items of a data source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemLevelRestoreTargetInfo {
    /// Only `FailIfExists` is defined.
    pub recovery_option: String,
    /// Target region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_location: Option<String>,
    /// Item selection criteria (polymorphic `ItemLevelRestoreCriteria`), kept raw.
    #[serde(default)]
    pub restore_criteria: Vec<Value>,
    /// The target resource.
    #[serde(alias = "dataSourceInfo")]
    pub datasource_info: Datasource,
    /// Parent of the target resource.
    #[serde(alias = "dataSourceSetInfo", default, skip_serializing_if = "Option::is_none")]
    pub datasource_set_info: Option<DatasourceSet>,
    /// Credentials, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_auth_credentials: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `RestoreFilesTargetInfo`: restore as files to a storage container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreFilesTargetInfo {
    /// Only `FailIfExists` is defined.
    pub recovery_option: String,
    /// Target region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_location: Option<String>,
    /// Where the files go.
    pub target_details: TargetDetails,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `TargetDetails` of a files restore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetDetails {
    /// Prefix of the restored file names.
    pub file_prefix: String,
    /// `AzureBlobs` or `AzureFiles`.
    pub restore_target_location_type: String,
    /// Container URL.
    pub url: String,
    /// ARM id of the target storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_arm_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `RestoreTargetInfoBase`, chosen by `objectType`.
    pub enum RestoreTargetInfoBase via "objectType" {
        /// `RestoreTargetInfo`.
        RestoreTargetInfo(RestoreTargetInfo) = "RestoreTargetInfo",
        /// `ItemLevelRestoreTargetInfo`.
        ItemLevelRestoreTargetInfo(ItemLevelRestoreTargetInfo) = "ItemLevelRestoreTargetInfo",
        /// `RestoreFilesTargetInfo`.
        RestoreFilesTargetInfo(RestoreFilesTargetInfo) = "RestoreFilesTargetInfo",
    }
}

// ---------------------------------------------------------------------------------------------
// Restore requests
// ---------------------------------------------------------------------------------------------

/// `AzureBackupRecoveryPointBasedRestoreRequest` (also the body of
/// `AzureBackupRestoreWithRehydrationRequest`, which adds the two rehydration fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupRecoveryPointBasedRestoreRequest {
    /// Recovery point name (required by Azure; read as empty when absent — the 2021 article
    /// puts it beside `restoreRequestObject` instead — and then not written).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recovery_point_id: String,
    /// `OperationalStore`, `VaultStore`, `ArchiveStore` or `SnapshotStore`.
    pub source_data_store_type: String,
    /// Where to restore.
    pub restore_target_info: RestoreTargetInfoBase,
    /// ARM id of the protected source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Identity used for the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_details: Option<IdentityDetails>,
    /// `High` or `Standard` (rehydration requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_priority: Option<String>,
    /// ISO 8601 duration (rehydration requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_retention_duration: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `AzureBackupRecoveryTimeBasedRestoreRequest` (point-in-time workloads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupRecoveryTimeBasedRestoreRequest {
    /// Point in time to restore to.
    pub recovery_point_time: String,
    /// Source data store type.
    pub source_data_store_type: String,
    /// Where to restore.
    pub restore_target_info: RestoreTargetInfoBase,
    /// ARM id of the protected source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Identity used for the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_details: Option<IdentityDetails>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `AzureBackupRestoreRequest`, chosen by `objectType`.
    pub enum AzureBackupRestoreRequest via "objectType" {
        /// Restore from a recovery point.
        RecoveryPointBased(AzureBackupRecoveryPointBasedRestoreRequest) = "AzureBackupRecoveryPointBasedRestoreRequest",
        /// Restore to a point in time.
        RecoveryTimeBased(AzureBackupRecoveryTimeBasedRestoreRequest) = "AzureBackupRecoveryTimeBasedRestoreRequest",
        /// Restore from an archived recovery point after rehydration.
        RestoreWithRehydration(AzureBackupRecoveryPointBasedRestoreRequest) = "AzureBackupRestoreWithRehydrationRequest",
    }
}

/// Body of `validateRestore` (`ValidateRestoreRequestObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateRestoreRequestObject {
    /// The restore request to validate.
    pub restore_request_object: AzureBackupRestoreRequest,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `findRestorableTimeRanges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupFindRestorableTimeRangesRequest {
    /// Data store to look in.
    pub source_data_store_type: String,
    /// Window start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// Window end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `AzureBackupFindRestorableTimeRangesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupFindRestorableTimeRangesResponse {
    /// `AzureBackupFindRestorableTimeRangesResponse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    /// Continuous ranges.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub restorable_time_ranges: Vec<RestorableTimeRange>,
}

/// One `RestorableTimeRange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorableTimeRange {
    /// Range start.
    pub start_time: Timestamp,
    /// Range end.
    pub end_time: Timestamp,
    /// `RestorableTimeRange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
}

/// `AzureBackupFindRestorableTimeRangesResponseResource`.
pub type AzureBackupFindRestorableTimeRangesResponseResource = ArmResource<AzureBackupFindRestorableTimeRangesResponse>;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// `OperationJobExtendedInfo` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationJobExtendedInfo {
    /// Job id: a GUID in spec examples, a full ARM id in real traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

polymorphic! {
    /// `OperationExtendedInfo`, chosen by `objectType`; also the 200 body of triggers,
    /// validations and `operationResults`.
    pub enum OperationExtendedInfo via "objectType" {
        /// `OperationJobExtendedInfo`.
        OperationJobExtendedInfo(OperationJobExtendedInfo) = "OperationJobExtendedInfo",
    }
}

/// `OperationResource`: the body of `operationStatus` polls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationResource {
    /// ARM id of the status resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-form status (`Inprogress`, `Succeeded`, …); see [`Self::state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// End time (`0001-01-01T00:00:00` while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Error of a failed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// Extended info carrying the job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<OperationExtendedInfo>,
}

impl OperationResource {
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
// Recovery points
// ---------------------------------------------------------------------------------------------

/// `RecoveryPointDataStoreDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryPointDataStoreDetails {
    /// Data store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Data store type, e.g. `OperationalStore`, `Snapshot`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub store_type: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
    /// Expiry time in this store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<Timestamp>,
    /// Opaque metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<String>,
    /// State, e.g. `COMMITTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Whether the copy is visible.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Rehydration expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_expiry_time: Option<Timestamp>,
    /// Rehydration status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_status: Option<String>,
}

/// `AzureBackupDiscreteRecoveryPoint` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupDiscreteRecoveryPoint {
    /// Recovery point id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// When the point was taken.
    pub recovery_point_time: Timestamp,
    /// `Full`, `Incremental`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_type: Option<String>,
    /// Friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// Copies in the data stores.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub recovery_point_data_stores_details: Vec<RecoveryPointDataStoreDetails>,
    /// Expiry (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<Timestamp>,
    /// `Completed` or `Partial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_state: Option<String>,
    /// Policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// Policy version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Retention tag name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_tag_name: Option<String>,
    /// Retention tag version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_tag_version: Option<String>,
}

impl AzureBackupDiscreteRecoveryPoint {
    /// Latest known expiry: `expiryTime`, else the latest data-store expiry.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expiry_time.as_ref().and_then(Timestamp::datetime).or_else(|| {
            self.recovery_point_data_stores_details
                .iter()
                .filter_map(|d| d.expiry_time.as_ref().and_then(Timestamp::datetime))
                .max()
        })
    }

    /// True when a known expiry lies at or before `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at().is_some_and(|e| e <= now)
    }
}

polymorphic! {
    /// `AzureBackupRecoveryPoint`, chosen by `objectType`.
    pub enum AzureBackupRecoveryPoint via "objectType" {
        /// `AzureBackupDiscreteRecoveryPoint`.
        Discrete(AzureBackupDiscreteRecoveryPoint) = "AzureBackupDiscreteRecoveryPoint",
    }
}

/// `AzureBackupRecoveryPointResource`.
pub type AzureBackupRecoveryPointResource = ArmResource<AzureBackupRecoveryPoint>;
/// `AzureBackupRecoveryPointResourceList`.
pub type AzureBackupRecoveryPointResourceList = ResourceList<AzureBackupRecoveryPointResource>;

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

/// One job sub task (`JobSubTask`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSubTask {
    /// Task id (a number on the wire).
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<i64>,
    /// Task name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_name: Option<String>,
    /// Task status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status: Option<String>,
    /// Progress text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_progress: Option<String>,
    /// Extra details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<BTreeMap<String, Value>>,
}

/// Recovery point reference inside job extended info (`RestoreJobRecoveryPointDetails`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreJobRecoveryPointDetails {
    /// Recovery point id (wire name `recoveryPointID`).
    #[serde(rename = "recoveryPointID", alias = "recoveryPointId", default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// Recovery point time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_time: Option<Timestamp>,
}

/// `JobExtendedInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExtendedInfo {
    /// Extra details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<BTreeMap<String, Value>>,
    /// Backup instance state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_instance_state: Option<String>,
    /// Bytes transferred.
    #[serde(default, deserialize_with = "de::lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub data_transferred_in_bytes: Option<f64>,
    /// ARM id of what the restore created (e.g. the new disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_destination: Option<String>,
    /// Source recovery point of a restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_recover_point: Option<RestoreJobRecoveryPointDetails>,
    /// Target recovery point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_recover_point: Option<RestoreJobRecoveryPointDetails>,
    /// Sub tasks.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub sub_tasks: Vec<JobSubTask>,
    /// Warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_details: Option<Vec<Value>>,
}

/// `AzureBackupJob`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBackupJob {
    /// Activity id (wire name `activityID`).
    #[serde(rename = "activityID", alias = "activityId", default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    /// Backup instance friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_instance_friendly_name: Option<String>,
    /// Backup instance ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_instance_id: Option<String>,
    /// Data source ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<String>,
    /// Data source region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_location: Option<String>,
    /// Data source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_name: Option<String>,
    /// Data source set name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_set_name: Option<String>,
    /// Data source type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_type: Option<String>,
    /// Duration (ISO 8601 or `hh:mm:ss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Errors of a failed job.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub error_details: Vec<UserFacingError>,
    /// Extended info (sub tasks, recovery destination, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_info: Option<JobExtendedInfo>,
    /// Whether a user triggered the job.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_user_triggered: Option<bool>,
    /// Operation, e.g. `Restore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Operation category, e.g. `Restore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_category: Option<String>,
    /// Policy ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// Whether progress is reported.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub progress_enabled: Option<bool>,
    /// Progress URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_url: Option<String>,
    /// Rehydration priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehydration_priority: Option<String>,
    /// Restore type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_type: Option<String>,
    /// Source resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_group: Option<String>,
    /// Source subscription (wire name `sourceSubscriptionID`).
    #[serde(
        rename = "sourceSubscriptionID",
        alias = "sourceSubscriptionId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_subscription_id: Option<String>,
    /// Source data store name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_data_store_name: Option<String>,
    /// Destination data store name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_data_store_name: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// Free-form status; see [`Self::state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Subscription id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Allowed actions.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub supported_actions: Vec<String>,
    /// Vault name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_name: Option<String>,
    /// ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl AzureBackupJob {
    /// Typed status (missing status counts as still running).
    pub fn state(&self) -> JobState {
        JobState::from_wire(self.status.as_deref().unwrap_or("InProgress"))
    }

    /// End time, `None` while running or for the sentinel.
    pub fn ended_at(&self) -> Option<OffsetDateTime> {
        self.end_time.as_ref().and_then(Timestamp::datetime)
    }

    /// ARM id the restore created (`extendedInfo.recoveryDestination`).
    pub fn recovery_destination(&self) -> Option<&str> {
        self.extended_info.as_ref()?.recovery_destination.as_deref()
    }
}

/// `AzureBackupJobResource`.
pub type AzureBackupJobResource = ArmResource<AzureBackupJob>;
/// `AzureBackupJobResourceList`.
pub type AzureBackupJobResourceList = ResourceList<AzureBackupJobResource>;

// ---------------------------------------------------------------------------------------------
// Backup instances
// ---------------------------------------------------------------------------------------------

/// `AzureOperationalStoreParameters` without its discriminator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureOperationalStoreParameters {
    /// `OperationalStore`, `VaultStore` or `ArchiveStore`.
    pub data_store_type: String,
    /// Snapshot resource group ARM id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `DataStoreParameters`, chosen by `objectType`.
    pub enum DataStoreParameters via "objectType" {
        /// `AzureOperationalStoreParameters`.
        AzureOperationalStoreParameters(AzureOperationalStoreParameters) = "AzureOperationalStoreParameters",
    }
}

/// `PolicyParameters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyParameters {
    /// Per-data-store parameters (the snapshot resource group for disks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_store_parameters_list: Option<Vec<DataStoreParameters>>,
    /// Backup data source parameters (polymorphic), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_datasource_parameters_list: Option<Vec<Value>>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `PolicyInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    /// Backup policy ARM id.
    pub policy_id: String,
    /// Policy version (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Policy parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_parameters: Option<PolicyParameters>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `ProtectionStatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionStatusDetails {
    /// `ConfiguringProtection`, `ProtectionConfigured`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Error details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<UserFacingError>,
}

/// `BackupInstance` (the properties of a backup instance).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupInstance {
    /// Always `BackupInstance`.
    pub object_type: String,
    /// Friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// The protected resource (wire name `dataSourceInfo`).
    #[serde(rename = "dataSourceInfo", alias = "datasourceInfo")]
    pub data_source_info: Datasource,
    /// Its parent (wire name `dataSourceSetInfo`).
    #[serde(
        rename = "dataSourceSetInfo",
        alias = "datasourceSetInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_source_set_info: Option<DatasourceSet>,
    /// Credentials, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_auth_credentials: Option<Value>,
    /// Policy.
    pub policy_info: PolicyInfo,
    /// Protection status (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_status: Option<ProtectionStatusDetails>,
    /// Current protection state (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_protection_state: Option<String>,
    /// Protection error (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_error_details: Option<UserFacingError>,
    /// Provisioning state (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Identity the vault uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_details: Option<IdentityDetails>,
    /// `ShallowValidation` or `DeepValidation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_type: Option<String>,
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `BackupInstanceResource`.
pub type BackupInstanceResource = ArmResource<BackupInstance>;
/// `BackupInstanceResourceList`.
pub type BackupInstanceResourceList = ResourceList<BackupInstanceResource>;

/// Body of `validateForBackup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateForBackupRequest {
    /// The backup instance to validate.
    pub backup_instance: BackupInstance,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Optional body of `stopProtection` (and `suspendBackups`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopProtectionRequest {
    /// Resource Guard operation ids (MUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_guard_operation_requests: Option<Vec<String>>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Cross Region Restore
// ---------------------------------------------------------------------------------------------

/// Body of `fetchSecondaryRecoveryPoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchSecondaryRPsRequestParameters {
    /// Primary region of the backup instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_region: Option<String>,
    /// ARM id of the source backup instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_instance_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `CrossRegionRestoreDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionRestoreDetails {
    /// Primary region.
    pub source_region: String,
    /// ARM id of the source backup instance.
    pub source_backup_instance_id: String,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `validateCrossRegionRestore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateCrossRegionRestoreRequestObject {
    /// The restore request.
    pub restore_request_object: AzureBackupRestoreRequest,
    /// Source details.
    pub cross_region_restore_details: CrossRegionRestoreDetails,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `crossRegionRestore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionRestoreRequestObject {
    /// The restore request.
    pub restore_request_object: AzureBackupRestoreRequest,
    /// Source details.
    pub cross_region_restore_details: CrossRegionRestoreDetails,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `fetchCrossRegionRestoreJob`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionRestoreJobRequest {
    /// Primary region.
    pub source_region: String,
    /// ARM id of the source vault.
    pub source_backup_vault_id: String,
    /// Job GUID.
    pub job_id: String,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `fetchCrossRegionRestoreJobs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionRestoreJobsRequest {
    /// Primary region.
    pub source_region: String,
    /// ARM id of the source vault.
    pub source_backup_vault_id: String,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Backup vault
// ---------------------------------------------------------------------------------------------

/// `StorageSetting`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageSetting {
    /// `VaultStore`, `ArchiveStore`, `OperationalStore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_type: Option<String>,
    /// `GeoRedundant`, `LocallyRedundant`, `ZoneRedundant`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
}

/// A `{ "state": … }` feature toggle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSetting {
    /// `Enabled`, `Disabled`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// `FeatureSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureSettings {
    /// Cross Region Restore toggle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_restore_settings: Option<StateSetting>,
    /// Cross Subscription Restore toggle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_subscription_restore_settings: Option<StateSetting>,
}

/// `BackupVault` (vault properties).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupVault {
    /// Provisioning state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Storage redundancy.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub storage_settings: Vec<StorageSetting>,
    /// Feature toggles (CRR, CSR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_settings: Option<FeatureSettings>,
    /// Security settings (soft delete, immutability), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_settings: Option<Value>,
    /// Monitoring settings, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_settings: Option<Value>,
    /// Secure score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_score: Option<String>,
    /// BCDR security level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcdr_security_level: Option<String>,
    /// Resource move state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_move_state: Option<String>,
    /// Whether a Resource Guard protects the vault.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_vault_protected_by_resource_guard: Option<bool>,
}

impl BackupVault {
    /// True when `featureSettings.crossRegionRestoreSettings.state` is `Enabled`.
    pub fn cross_region_restore_enabled(&self) -> bool {
        self.feature_settings
            .as_ref()
            .and_then(|f| f.cross_region_restore_settings.as_ref())
            .and_then(|s| s.state.as_deref())
            .is_some_and(|s| s.eq_ignore_ascii_case("Enabled"))
    }
}

/// `BackupVaultResource`.
pub type BackupVaultResource = ArmResource<BackupVault>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disk_restore() -> Value {
        json!({
            "objectType": "AzureBackupRecoveryPointBasedRestoreRequest",
            "recoveryPointId": "a3d02fc3ab8a4c3a8cc26688c26d3356",
            "sourceDataStoreType": "OperationalStore",
            "restoreTargetInfo": {
                "objectType": "RestoreTargetInfo",
                "recoveryOption": "FailIfExists",
                "restoreLocation": "westUS",
                "datasourceInfo": {
                    "objectType": "Datasource",
                    "datasourceType": "Microsoft.Compute/disks",
                    "resourceType": "Microsoft.Compute/disks",
                    "resourceName": "APITestDisk2",
                    "resourceID": "/subscriptions/s/resourceGroups/targetrg/providers/Microsoft.Compute/disks/APITestDisk2",
                    "resourceLocation": "westUS"
                }
            }
        })
    }

    #[test]
    fn restore_request_round_trips_exactly() {
        let raw = disk_restore();
        let req: AzureBackupRestoreRequest = serde_json::from_value(raw.clone()).unwrap();
        let AzureBackupRestoreRequest::RecoveryPointBased(rp) = &req else {
            panic!("wrong variant: {req:?}");
        };
        assert_eq!(rp.recovery_point_id, "a3d02fc3ab8a4c3a8cc26688c26d3356");
        assert!(matches!(rp.restore_target_info, RestoreTargetInfoBase::RestoreTargetInfo(_)));
        assert_eq!(serde_json::to_value(&req).unwrap(), raw);
    }

    #[test]
    fn lower_case_object_type_and_data_source_spelling_are_read_and_fixed_on_write() {
        let mut raw = disk_restore();
        let target = raw["restoreTargetInfo"].as_object_mut().unwrap();
        target.insert("objectType".into(), json!("restoreTargetInfo"));
        let ds = target.remove("datasourceInfo").unwrap();
        target.insert("dataSourceInfo".into(), ds);
        let req: AzureBackupRestoreRequest = serde_json::from_value(raw).unwrap();
        let out = serde_json::to_value(&req).unwrap();
        assert_eq!(out, disk_restore());
    }

    #[test]
    fn unknown_restore_target_round_trips() {
        let mut raw = disk_restore();
        raw["restoreTargetInfo"] = json!({"objectType": "FutureTargetInfo", "foo": {"bar": 1}});
        let req: AzureBackupRestoreRequest = serde_json::from_value(raw.clone()).unwrap();
        let AzureBackupRestoreRequest::RecoveryPointBased(rp) = &req else {
            panic!("wrong variant");
        };
        assert_eq!(rp.restore_target_info.kind(), "FutureTargetInfo");
        assert!(rp.restore_target_info.is_unknown());
        assert_eq!(serde_json::to_value(&req).unwrap(), raw);
    }

    #[test]
    fn operation_status_in_progress_with_sentinel_end_time() {
        let op: OperationResource = serde_json::from_value(json!({
            "id": "/subscriptions/x/providers/Microsoft.DataProtection/locations/westus/operationStatus/abc",
            "name": "abc",
            "status": "Inprogress",
            "startTime": "2021-07-07T12:48:50.3432229Z",
            "endTime": "0001-01-01T00:00:00"
        }))
        .unwrap();
        assert_eq!(op.state(), OperationState::InProgress);
        assert!(!op.state().is_terminal());
        assert_eq!(op.ended_at(), None);
        assert_eq!(
            crate::wire::OperationStatusBody::deserialize(&serde_json::to_value(&op).unwrap()).unwrap().job_id(),
            None
        );
    }

    #[test]
    fn operation_status_job_id_full_arm_id_and_guid() {
        let read = |v: Value| crate::wire::OperationStatusBody::deserialize(&v).unwrap().job_id();
        let full = json!({
            "status": "Succeeded",
            "properties": {
                "jobId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/c4bd49a1-0645-4eec-b207-feb818962852",
                "objectType": "OperationJobExtendedInfo"
            }
        });
        assert!(serde_json::from_value::<OperationResource>(full.clone()).unwrap().state().is_success());
        assert_eq!(read(full).as_deref(), Some("c4bd49a1-0645-4eec-b207-feb818962852"));
        // The final `Location` GET: `OperationJobExtendedInfo` itself, job id at the top level.
        let bare = json!({"jobId": "c60cb49-63e8-4b21-b9bd-26277b3fdfae", "objectType": "OperationJobExtendedInfo"});
        assert!(serde_json::from_value::<OperationExtendedInfo>(bare.clone()).is_ok());
        assert_eq!(read(bare).as_deref(), Some("c60cb49-63e8-4b21-b9bd-26277b3fdfae"));
    }

    #[test]
    fn job_reads_nulls_and_typed_status() {
        let job: AzureBackupJobResource = serde_json::from_value(json!({
            "id": "/x/backupJobs/1",
            "properties": {
                "activityID": "a", "status": "Started", "errorDetails": null,
                "supportedActions": [""], "isUserTriggered": "true", "endTime": null,
                "extendedInfo": {"subTasks": [{"taskId": "1", "taskName": "Trigger Restore", "taskStatus": "Completed"}],
                    "recoveryDestination": "/disk", "additionalDetails": null}
            }
        }))
        .unwrap();
        let p = &job.properties;
        assert_eq!(p.state(), JobState::InProgress);
        assert_eq!(p.is_user_triggered, Some(true));
        assert_eq!(p.recovery_destination(), Some("/disk"));
        assert_eq!(p.extended_info.as_ref().unwrap().sub_tasks[0].task_id, Some(1));
        let out = serde_json::to_string(&job).unwrap();
        assert!(!out.contains("null"), "{out}");
        assert!(out.contains("\"activityID\""), "{out}");
    }

    #[test]
    fn recovery_point_expiry() {
        let rp: AzureBackupRecoveryPointResource = serde_json::from_value(json!({
            "properties": {
                "objectType": "AzureBackupDiscreteRecoveryPoint",
                "recoveryPointTime": "2021-08-30T10:02:11.6354913Z",
                "recoveryPointDataStoresDetails": [{"expiryTime": "2021-09-06T10:02:11.6354913Z", "metaData": null}]
            }
        }))
        .unwrap();
        let AzureBackupRecoveryPoint::Discrete(d) = &rp.properties else {
            panic!("unknown rp");
        };
        let before = Timestamp::new("2021-09-01T00:00:00Z").datetime().unwrap();
        let after = Timestamp::new("2021-09-07T00:00:00Z").datetime().unwrap();
        assert!(!d.is_expired_at(before));
        assert!(d.is_expired_at(after));
    }

    #[test]
    fn backup_instance_uses_data_source_spelling() {
        let bi = BackupInstance {
            object_type: "BackupInstance".into(),
            data_source_info: Datasource { resource_id: "/d".into(), ..Datasource::default() },
            policy_info: PolicyInfo { policy_id: "/p".into(), ..PolicyInfo::default() },
            ..BackupInstance::default()
        };
        assert_eq!(
            serde_json::to_value(&bi).unwrap(),
            json!({"objectType": "BackupInstance", "dataSourceInfo": {"resourceID": "/d"}, "policyInfo": {"policyId": "/p"}})
        );
    }
}
