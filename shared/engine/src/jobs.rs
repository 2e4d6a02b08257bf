//! One normalised view of an Azure Backup job, whichever API reported it: Data Protection jobs (and Data
//! Protection CRR jobs, same shape), Recovery Services IaaS VM jobs (and CRR jobs from `backupCrrJob`).

use std::time::Duration;

use restore_models::dataprotection::AzureBackupJobResource;
use restore_models::recoveryservices::JobResource;
use restore_models::wire::{JobState, Timestamp, job_guid};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::AzureError;

/// A job's status, reduced to what a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobStatus {
    /// Running (also `Cancelling` and any status Azure adds later: not terminal until Azure says so).
    InProgress,
    /// Finished.
    Completed,
    /// Finished, with warnings worth showing.
    CompletedWithWarnings,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl JobStatus {
    /// True once the job can no longer change.
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::InProgress)
    }

    fn from_state(state: &JobState) -> Self {
        match state {
            JobState::Completed => JobStatus::Completed,
            JobState::CompletedWithWarnings => JobStatus::CompletedWithWarnings,
            JobState::Failed => JobStatus::Failed,
            JobState::Cancelled => JobStatus::Cancelled,
            _ => JobStatus::InProgress,
        }
    }
}

/// The normalised job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Job GUID.
    pub job_id: String,
    /// Azure's operation name (`Restore`, `CrossRegionRestore`, …).
    pub operation: Option<String>,
    /// Normalised status.
    pub status: JobStatus,
    /// The status string as Azure sent it.
    pub raw_status: Option<String>,
    /// Start time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// End time (absent while running).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// `ended_at - started_at` when both are known.
    pub duration: Option<Duration>,
    /// The errors of a failed job, with Azure's recommended actions.
    pub errors: Vec<AzureError>,
    /// Resources the restore created or changed, where Azure reports them.
    pub restored_resource_ids: Vec<String>,
    /// Progress percentage, where Azure reports it.
    pub progress_percent: Option<f64>,
    /// Azure's estimate of the time left, as sent (Recovery Services VM jobs'
    /// `extendedInfo.estimatedRemainingDuration`, a TimeSpan); the tracker paces its reads on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_remaining: Option<String>,
    /// What the job is about (backup instance id or VM name), for matching during reconciliation.
    pub item: Option<String>,
    /// The recovery point restored, where Azure reports it.
    pub recovery_point_id: Option<String>,
    /// Recovery Services: the protection container the job's item is in (`iaasvmcontainerv2;{rg};{vm}`), which
    /// tells two VMs of the same name apart; the job model carries no protected-item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Recovery Services "Recover disks": the files the job wrote to the staging storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging: Option<StagingFiles>,
}

/// The files a Recovery Services "Recover disks" job writes to the staging storage account (the VM's
/// configuration, which names the restored disks, and a template to create a VM from them), as the job's
/// `extendedInfo.propertyBag` names them. Azure documents these keys (azure-docs
/// backup-azure-arm-userestapi-restoreazurevms.md and the CLI tutorial's `propertyBag` example); it documents no
/// key listing the restored disks' ids, so those are read from the config file
/// (`restore_workflow::staging`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagingFiles {
    /// "Target Storage Account Name".
    pub account: String,
    /// "Config Blob Container Name".
    pub container: String,
    /// "Config Blob Name".
    pub config_blob: String,
    /// "Config Blob Uri", as Azure wrote it (reported, never followed: see `restore_workflow::staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_uri: Option<String>,
    /// "Template Blob Uri", as Azure wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_uri: Option<String>,
    /// "Target resource group": the group the restored disks were created in (a name, not an id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_group: Option<String>,
}

fn time_of(t: Option<&Timestamp>) -> Option<OffsetDateTime> {
    t.and_then(Timestamp::datetime)
}

fn duration(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Option<Duration> {
    Duration::try_from(end? - start?).ok()
}

fn guid_of(id: Option<&str>, name: Option<&str>) -> String {
    id.or(name).map(job_guid).unwrap_or_default().to_string()
}

impl JobView {
    /// From a Data Protection job (also what `fetchCrossRegionRestoreJob` returns).
    pub fn from_dpp(job: &AzureBackupJobResource) -> Self {
        let p = &job.properties;
        let started_at = time_of(p.start_time.as_ref());
        let status = JobStatus::from_state(&p.state());
        let ended_at = if status.is_terminal() { p.ended_at() } else { None };
        JobView {
            job_id: guid_of(job.id.as_deref(), job.name.as_deref()),
            operation: p.operation.clone(),
            status,
            raw_status: p.status.clone(),
            started_at,
            ended_at,
            duration: duration(started_at, ended_at),
            errors: p.error_details.iter().map(|e| AzureError::from_user_facing(0, e)).collect(),
            restored_resource_ids: p.recovery_destination().map(|d| vec![d.to_string()]).unwrap_or_default(),
            progress_percent: None,
            estimated_remaining: None,
            item: p.backup_instance_id.clone(),
            staging: None,
            recovery_point_id: p
                .extended_info
                .as_ref()
                .and_then(|e| e.source_recover_point.as_ref())
                .and_then(|s| s.recovery_point_id.clone()),
            container: None,
        }
    }

    /// From a Recovery Services job (also what `backupCrrJob` returns).
    pub fn from_rsv(job: &JobResource) -> Self {
        let guid = guid_of(job.id.as_deref(), job.name.as_deref());
        let Some(vm) = job.properties.iaas_vm() else {
            // A job type this product does not restore (e.g. a workload job): report its status only.
            return JobView {
                job_id: guid,
                operation: None,
                status: JobStatus::from_state(&job.properties.state()),
                raw_status: None,
                started_at: None,
                ended_at: None,
                duration: None,
                errors: Vec::new(),
                restored_resource_ids: Vec::new(),
                progress_percent: None,
                estimated_remaining: None,
                item: None,
                recovery_point_id: None,
                container: None,
                staging: None,
            };
        };
        let status = JobStatus::from_state(&vm.state());
        let started_at = time_of(vm.start_time.as_ref());
        let ended_at = if status.is_terminal() { time_of(vm.end_time.as_ref()) } else { None };
        let bag = vm.extended_info.as_ref().and_then(|e| e.property_bag.as_ref());
        let from_bag =
            |key: &str| bag.and_then(|b| b.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))).map(|(_, v)| v.clone());
        JobView {
            job_id: guid,
            operation: vm.operation.clone(),
            status,
            raw_status: vm.status.clone(),
            started_at,
            ended_at,
            duration: duration(started_at, ended_at),
            errors: vm.error_details.iter().map(AzureError::from_iaas_job_error).collect(),
            // Azure documents no property-bag key with the restored resources' ids: a new VM's id is the one
            // the request named, restored disks are read from the staging config (see `staging`).
            restored_resource_ids: Vec::new(),
            progress_percent: vm.extended_info.as_ref().and_then(|e| e.progress_percentage),
            estimated_remaining: vm.extended_info.as_ref().and_then(|e| e.estimated_remaining_duration.clone()),
            item: vm.entity_friendly_name.clone(),
            container: vm.container_name.clone(),
            recovery_point_id: from_bag("Recovery point ID"),
            staging: staging_files(&from_bag),
        }
    }
}

/// The staging files named in a property bag, when the three keys needed to read the config are there.
fn staging_files(from_bag: &dyn Fn(&str) -> Option<String>) -> Option<StagingFiles> {
    Some(StagingFiles {
        account: from_bag("Target Storage Account Name")?,
        container: from_bag("Config Blob Container Name")?,
        config_blob: from_bag("Config Blob Name")?,
        config_uri: from_bag("Config Blob Uri"),
        template_uri: from_bag("Template Blob Uri"),
        target_resource_group: from_bag("Target resource group"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpp_jobs_normalise_status_ids_and_errors() {
        let job: AzureBackupJobResource = serde_json::from_value(serde_json::json!({
            "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/3c60cb49-63e8-4b21-b9bd-26b54495dac1",
            "name": "3c60cb49-63e8-4b21-b9bd-26b54495dac1",
            "properties": {
                "activityID": "a", "backupInstanceFriendlyName": "d", "dataSourceId": "x", "dataSourceLocation": "l",
                "dataSourceName": "d", "dataSourceType": "t", "isUserTriggered": true, "operation": "Restore",
                "operationCategory": "Restore", "progressEnabled": false, "sourceResourceGroup": "g",
                "sourceSubscriptionID": "s", "startTime": "2024-01-01T10:00:00Z", "endTime": "2024-01-01T10:05:30Z",
                "status": "failed", "subscriptionId": "s", "supportedActions": [], "vaultName": "v",
                "errorDetails": [{"code": "UserErrorDiskAlreadyExists", "message": "m", "recommendedAction": ["rename"], "isRetryable": false}]
            }
        }))
        .unwrap();
        let view = JobView::from_dpp(&job);
        assert_eq!(view.job_id, "3c60cb49-63e8-4b21-b9bd-26b54495dac1");
        assert_eq!(view.status, JobStatus::Failed);
        assert_eq!(view.duration, Some(Duration::from_secs(330)));
        assert_eq!(view.errors[0].code, "UserErrorDiskAlreadyExists");
        assert_eq!(view.errors[0].recommended_action, ["rename"]);
    }

    #[test]
    fn rsv_jobs_read_the_property_bag_and_treat_cancelling_as_running() {
        let job: JobResource = serde_json::from_value(serde_json::json!({
            "name": "7e2ce6b8-0000-4000-8000-000000000000",
            "properties": {
                "jobType": "AzureIaaSVMJob", "entityFriendlyName": "vm1", "operation": "Restore",
                "status": "Cancelling", "startTime": "2024-01-01T10:00:00Z",
                "extendedInfo": {"propertyBag": {
                    "Config Blob Container Name": "myvm-daa1931199fd4a22ae601f46d8812276",
                    "Config Blob Name": "config-myVM-1fc2d55d-f0dc-4ca6-ad48-aca0fe5d0414.json",
                    "Config Blob Uri": "https://mystorageaccount.blob.core.windows.net/myvm-daa1931199fd4a22ae601f46d8812276/config-myVM-1fc2d55d-f0dc-4ca6-ad48-aca0fe5d0414.json",
                    "Job Type": "Recover disks",
                    "Recovery point time ": "12/25/2019 10:07:11 PM",
                    "Target Storage Account Name": "mystorageaccount",
                    "Target resource group": "mystorageaccountRG",
                    "Template Blob Uri": "https://mystorageaccount.blob.core.windows.net/myvm-daa1931199fd4a22ae601f46d8812276/azuredeploy1fc2d55d.json",
                    "Recovery point ID": "123"
                }, "progressPercentage": 40, "estimatedRemainingDuration": "00:04:10"}
            }
        }))
        .unwrap();
        let view = JobView::from_rsv(&job);
        assert_eq!(view.status, JobStatus::InProgress);
        assert_eq!(view.ended_at, None);
        assert!(view.restored_resource_ids.is_empty(), "no documented key lists them");
        let staging = view.staging.expect("the documented keys name the staging files");
        assert_eq!(staging.account, "mystorageaccount");
        assert_eq!(staging.container, "myvm-daa1931199fd4a22ae601f46d8812276");
        assert_eq!(staging.config_blob, "config-myVM-1fc2d55d-f0dc-4ca6-ad48-aca0fe5d0414.json");
        assert_eq!(staging.target_resource_group.as_deref(), Some("mystorageaccountRG"));
        assert!(staging.template_uri.unwrap().ends_with("azuredeploy1fc2d55d.json"));
        assert_eq!(view.recovery_point_id.as_deref(), Some("123"));
        assert_eq!(view.progress_percent, Some(40.0));
        assert_eq!(view.estimated_remaining.as_deref(), Some("00:04:10"));
    }
}
