//! Recovery Services Cross Region Restore ("passive stamp") wire models, api-version 2026-07-15.
//!
//! Mirrors these `RecoveryServicesBackupCrr/.../bms.json` definitions: `AADPropertiesResource` /
//! `AADProperties`, `CrrAccessTokenResource` / `CrrAccessToken` / `WorkloadCrrAccessToken`,
//! `CrossRegionRestoreRequest`, `CrrJobRequest` and the `{resourceId}` job-list body.
//! Jobs, operation status, recovery points and protected items reuse the types in
//! [`crate::recoveryservices`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::polymorphic;
use crate::recoveryservices::RestoreRequest;
use crate::wire::{ArmResource, Extra, Timestamp, de};

pub use crate::recoveryservices::{
    JobResource, JobResourceList, OperationStatus, ProtectedItemResource, ProtectedItemResourceList,
    RecoveryPointResource, RecoveryPointResourceList,
};

/// The api-version these models follow.
pub const API_VERSION: &str = "2026-07-15";

/// `AADProperties` of the secondary region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AadProperties {
    /// Tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Token audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Service principal object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_object_id: Option<String>,
    /// Service principal client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_client_id: Option<String>,
    /// Authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// `AADPropertiesResource`: response of `backupAadProperties` and body of `accessToken`.
pub type AadPropertiesResource = ArmResource<AadProperties>;

/// Fields of a CRR access token (`CrrAccessToken` / `WorkloadCrrAccessToken`), sent back
/// unchanged as `crossRegionRestoreAccessDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrrAccessTokenFields {
    /// The token itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_string: Option<String>,
    /// Subscription of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Resource group of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_name: Option<String>,
    /// Vault name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Internal vault id (numeric string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Internal container id (a number).
    #[serde(default, deserialize_with = "de::lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub protection_container_id: Option<i64>,
    /// Recovery point id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// Recovery point time (US format, e.g. `10/3/2019 1:35:19 AM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_time: Option<Timestamp>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Container type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_type: Option<String>,
    /// Backup management type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_management_type: Option<String>,
    /// Data source type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_type: Option<String>,
    /// Data source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_name: Option<String>,
    /// Data source id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_id: Option<String>,
    /// Data source container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_container_name: Option<String>,
    /// Coordinator stamp id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_service_stamp_id: Option<String>,
    /// Coordinator stamp URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_service_stamp_uri: Option<String>,
    /// Protection stamp id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_service_stamp_id: Option<String>,
    /// Protection stamp URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_service_stamp_uri: Option<String>,
    /// Recovery point metadata (XML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_extended_information: Option<String>,
    /// Tier status by tier name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp_tier_information: Option<BTreeMap<String, String>>,
    /// Original storage account option (wire name `rpOriginalSAOption`).
    #[serde(
        rename = "rpOriginalSAOption",
        default,
        deserialize_with = "de::lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub rp_original_sa_option: Option<bool>,
    /// Whether the VM is managed.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub rp_is_managed_virtual_machine: Option<bool>,
    /// VM size (wire name `rpVMSizeDescription`).
    #[serde(rename = "rpVMSizeDescription", default, skip_serializing_if = "Option::is_none")]
    pub rp_vm_size_description: Option<String>,
    /// Active (primary) region (wire name `bMSActiveRegion`).
    #[serde(rename = "bMSActiveRegion", default, skip_serializing_if = "Option::is_none")]
    pub bms_active_region: Option<String>,
    /// Policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// Policy id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Protected object unique name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protectable_object_unique_name: Option<String>,
    /// Protected object friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protectable_object_friendly_name: Option<String>,
    /// Container id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

polymorphic! {
    /// `CrrAccessToken`, chosen by `objectType`.
    pub enum CrrAccessToken via "objectType" {
        /// `WorkloadCrrAccessToken` (what the service returns).
        WorkloadCrrAccessToken(CrrAccessTokenFields) = "WorkloadCrrAccessToken",
        /// The base type spelling `CrrAccessToken` (used in the 2025 restore article).
        CrrAccessToken(CrrAccessTokenFields) = "CrrAccessToken",
    }
}

impl CrrAccessToken {
    /// The token fields, for either spelling.
    pub fn fields(&self) -> Option<&CrrAccessTokenFields> {
        match self {
            Self::WorkloadCrrAccessToken(f) | Self::CrrAccessToken(f) => Some(f),
            Self::Unknown { .. } => None,
        }
    }
}

/// `CrrAccessTokenResource`: response of `accessToken`.
pub type CrrAccessTokenResource = ArmResource<CrrAccessToken>;

/// Body of `backupCrossRegionRestore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionRestoreRequest {
    /// The access token properties, sent back as received.
    pub cross_region_restore_access_details: CrrAccessToken,
    /// The restore request (region = secondary region).
    pub restore_request: RestoreRequest,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `backupCrrJob` (`CrrJobRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrrJobRequest {
    /// ARM id of the vault (the examples put a VM id here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Job id (GUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Body of `backupCrrJobs` (`{resourceId}`); the CRR operation-status examples also carry it
/// on a GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrrJobsRequest {
    /// ARM id of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn access_token_round_trips_and_parses_us_time() {
        let raw = json!({"properties": {
            "objectType": "WorkloadCrrAccessToken", "accessTokenString": "t",
            "recoveryPointTime": "10/3/2019 1:35:19 AM", "protectionContainerId": 0,
            "rpOriginalSAOption": false, "rpVMSizeDescription": "Standard_D2s_v3",
            "bMSActiveRegion": "EastUS", "rpTierInformation": {"InstantRP": "Valid"}
        }});
        let t: CrrAccessTokenResource = serde_json::from_value(raw.clone()).unwrap();
        let f = t.properties.fields().unwrap();
        assert_eq!(f.bms_active_region.as_deref(), Some("EastUS"));
        assert!(f.recovery_point_time.as_ref().unwrap().datetime().is_some());
        assert_eq!(f.protection_container_id, Some(0));
        let (out, unmodelled) = crate::wire::collect_unmodelled(|| serde_json::to_value(&t).unwrap());
        assert_eq!(out, raw);
        assert!(unmodelled.is_empty(), "{unmodelled:?}");
    }

    #[test]
    fn base_spelling_is_typed() {
        let t: CrrAccessToken =
            serde_json::from_value(json!({"objectType": "CrrAccessToken", "protectionContainerId": "12"})).unwrap();
        assert_eq!(t.kind(), "CrrAccessToken");
        assert_eq!(t.fields().unwrap().protection_container_id, Some(12));
    }
}
