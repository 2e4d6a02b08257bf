//! Microsoft.DataProtection (Backup vault) calls: recovery points, restore validation and trigger, jobs,
//! protection setup, and Data Protection's own Cross Region Restore.
//!
//! Paths come from typed ids only. Recovery-point filters use the form az CLI sends:
//! `startDate eq '<t>' and endDate eq '<t>'` with `<t>` as `yyyy-MM-ddTHH:mm:ss.fffffffZ` (azure-backup-rest.md
//! §2.2).

use azure_core::http::{Context, Method};
use restore_models::arm_id::{BackupInstanceId, BackupVaultId, DppRecoveryPointId, ResourceGroupId};
use restore_models::dataprotection::{
    API_VERSION, AzureBackupJobResource, AzureBackupRecoveryPointResource, AzureBackupRestoreRequest,
    BackupInstanceResource, BackupVaultResource, CrossRegionRestoreJobRequest, CrossRegionRestoreRequestObject,
    FetchSecondaryRPsRequestParameters, StopProtectionRequest, ValidateCrossRegionRestoreRequestObject,
    ValidateForBackupRequest, ValidateRestoreRequestObject,
};
use time::OffsetDateTime;

use crate::client::{ArmClient, Begin, CallError, Started, encode};
use crate::lro::{Expect, Provider};
use crate::pipeline::Retry;
use crate::region::Region;

/// A time window for recovery-point listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Inclusive start.
    pub start: OffsetDateTime,
    /// Inclusive end.
    pub end: OffsetDateTime,
}

/// `yyyy-MM-ddTHH:mm:ss.fffffffZ`, the form the Data Protection service and az CLI use in `$filter`.
pub fn filter_time(t: OffsetDateTime) -> String {
    restore_models::wire::azure_time(t)
}

/// The recovery-point `$filter` for a window.
pub fn recovery_point_filter(window: TimeWindow) -> String {
    format!("startDate eq '{}' and endDate eq '{}'", filter_time(window.start), filter_time(window.end))
}

fn resource_group_scope(rg: &ResourceGroupId) -> String {
    format!("{}/providers/Microsoft.DataProtection", rg.as_str())
}

impl ArmClient {
    /// Lists a backup instance's recovery points, optionally within a time window (all pages).
    pub async fn dpp_recovery_points(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        window: Option<TimeWindow>,
    ) -> Result<Vec<AzureBackupRecoveryPointResource>, CallError> {
        let filter = window.map(recovery_point_filter);
        let query: Vec<(&str, &str)> = filter.as_deref().map(|f| vec![("$filter", f)]).unwrap_or_default();
        let url = self.pipeline().url(&format!("{}/recoveryPoints", instance.as_str()), API_VERSION, &query);
        self.list_all(ctx, "list recovery points", url, None).await
    }

    /// Gets one recovery point.
    pub async fn dpp_recovery_point(
        &self,
        ctx: &Context<'_>,
        point: &DppRecoveryPointId,
    ) -> Result<AzureBackupRecoveryPointResource, CallError> {
        self.get_json(ctx, "get recovery point", point.as_str(), API_VERSION, &[]).await
    }

    /// Starts `validateRestore` (safe to repeat: it changes nothing).
    pub async fn dpp_validate_restore(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        request: &AzureBackupRestoreRequest,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let body = ValidateRestoreRequestObject { restore_request_object: request.clone(), extra: Default::default() };
        let call = Begin {
            what: "validateRestore",
            method: Method::Post,
            path: &format!("{}/validateRestore", instance.as_str()),
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, Some(&body), now).await
    }

    /// Triggers a restore. Never retried by the pipeline: a lost answer is resolved by the caller's write-ahead
    /// record and job reconciliation, not by sending the POST again.
    pub async fn dpp_trigger_restore(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        request: &AzureBackupRestoreRequest,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "restore",
            method: Method::Post,
            path: &format!("{}/restore", instance.as_str()),
            api_version: API_VERSION,
            retry: Retry::Never,
            provider: Provider::DataProtection,
            expect: Expect::JobId,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// Gets a job by GUID.
    pub async fn dpp_job(
        &self,
        ctx: &Context<'_>,
        vault: &BackupVaultId,
        job_guid: &str,
    ) -> Result<AzureBackupJobResource, CallError> {
        let id = vault.job(job_guid).map_err(|e| CallError::Unexpected {
            what: "get job".into(),
            message: format!("job id {job_guid:?} is not a valid path segment: {e}"),
        })?;
        self.get_json(ctx, "get job", id.as_str(), API_VERSION, &[]).await
    }

    /// Lists a vault's jobs (the API has no server-side filter; callers filter).
    pub async fn dpp_jobs(
        &self,
        ctx: &Context<'_>,
        vault: &BackupVaultId,
    ) -> Result<Vec<AzureBackupJobResource>, CallError> {
        let url = self.pipeline().url(&format!("{}/backupJobs", vault.as_str()), API_VERSION, &[]);
        self.list_all(ctx, "list jobs", url, None).await
    }

    /// A vault's jobs, paging only as far as jobs that started at or after `since` can be: Data Protection's job
    /// list has no server-side item or time filter, and a busy vault has thousands of jobs, while reconciliation
    /// needs only the recent ones.
    ///
    /// Azure does not document the list's order (it, and the emulator, answer newest first). Stopping early on
    /// an unordered list could miss the very job being looked for, so paging stops only after a page that is
    /// entirely older than `since` *and* while everything read so far was newest first (within each page and
    /// across page boundaries); otherwise the whole list is read (up to the client's page guard).
    pub async fn dpp_jobs_since(
        &self,
        ctx: &Context<'_>,
        vault: &BackupVaultId,
        since: OffsetDateTime,
    ) -> Result<Vec<AzureBackupJobResource>, CallError> {
        let url = self.pipeline().url(&format!("{}/backupJobs", vault.as_str()), API_VERSION, &[]);
        let start = |job: &AzureBackupJobResource| job.properties.start_time.as_ref().and_then(|t| t.datetime());
        // The oldest start seen so far, or None once the order is known not to be newest first.
        // A Mutex, not a Cell: the paging future must be Send. Never contended (one page at a time).
        let ordered = std::sync::Mutex::new(Some(None::<OffsetDateTime>));
        self.list_until(ctx, "list jobs", url, None, |page: &[AzureBackupJobResource]| {
            let mut ordered = ordered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(mut oldest) = *ordered else { return false };
            for job in page {
                match (start(job), oldest) {
                    (Some(t), Some(o)) if t <= o => oldest = Some(t),
                    (Some(t), None) => oldest = Some(t),
                    _ => {
                        *ordered = None;
                        return false;
                    }
                }
            }
            *ordered = Some(oldest);
            !page.is_empty() && page.iter().all(|job| start(job).is_some_and(|t| t < since))
        })
        .await
    }

    /// Starts `validateForBackup` for a backup instance definition.
    pub async fn dpp_validate_for_backup(
        &self,
        ctx: &Context<'_>,
        vault: &BackupVaultId,
        request: &ValidateForBackupRequest,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "validateForBackup",
            method: Method::Post,
            path: &format!("{}/validateForBackup", vault.as_str()),
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// Creates or updates a backup instance (configure protection). A PUT is idempotent, so it may be retried.
    pub async fn dpp_put_backup_instance(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        resource: &BackupInstanceResource,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "create backup instance",
            method: Method::Put,
            path: instance.as_str(),
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, Some(resource), now).await
    }

    /// Gets a Backup vault (its region, CRR setting).
    pub async fn dpp_vault(&self, ctx: &Context<'_>, vault: &BackupVaultId) -> Result<BackupVaultResource, CallError> {
        self.get_json(ctx, "get Backup vault", vault.as_str(), API_VERSION, &[]).await
    }

    /// Gets a backup instance.
    pub async fn dpp_backup_instance(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
    ) -> Result<BackupInstanceResource, CallError> {
        self.get_json(ctx, "get backup instance", instance.as_str(), API_VERSION, &[]).await
    }

    /// Stops protection and keeps the backup data (`stopProtection`).
    pub async fn dpp_stop_protection(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "stopProtection",
            method: Method::Post,
            path: &format!("{}/stopProtection", instance.as_str()),
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, Some(&StopProtectionRequest::default()), now).await
    }

    /// Stops protection and deletes the backup data (DELETE of the backup instance).
    pub async fn dpp_delete_backup_instance(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "delete backup instance",
            method: Method::Delete,
            path: instance.as_str(),
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, None::<&()>, now).await
    }

    /// Lists the recovery points replicated to the secondary region (Data Protection CRR).
    pub async fn dpp_secondary_recovery_points(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        source_region: &Region,
        secondary: &Region,
    ) -> Result<Vec<AzureBackupRecoveryPointResource>, CallError> {
        let body = FetchSecondaryRPsRequestParameters {
            source_region: Some(source_region.to_string()),
            source_backup_instance_id: Some(instance.as_str().to_string()),
            extra: Default::default(),
        };
        let path = format!(
            "{}/locations/{}/fetchSecondaryRecoveryPoints",
            resource_group_scope(&instance.resource_group_id()),
            secondary
        );
        let url = self.pipeline().url(&path, API_VERSION, &[]);
        self.list_all(ctx, "fetch secondary recovery points", url, Some(encode("fetchSecondaryRecoveryPoints", &body)?))
            .await
    }

    /// Starts `validateCrossRegionRestore`.
    pub async fn dpp_validate_cross_region_restore(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        secondary: &Region,
        request: &ValidateCrossRegionRestoreRequestObject,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let path = format!(
            "{}/locations/{}/validateCrossRegionRestore",
            resource_group_scope(&instance.resource_group_id()),
            secondary
        );
        let call = Begin {
            what: "validateCrossRegionRestore",
            method: Method::Post,
            path: &path,
            api_version: API_VERSION,
            retry: Retry::Safe,
            provider: Provider::DataProtection,
            expect: Expect::Completion,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// Triggers a Data Protection Cross Region Restore (never retried by the pipeline).
    pub async fn dpp_trigger_cross_region_restore(
        &self,
        ctx: &Context<'_>,
        instance: &BackupInstanceId,
        secondary: &Region,
        request: &CrossRegionRestoreRequestObject,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let path = format!(
            "{}/locations/{}/crossRegionRestore",
            resource_group_scope(&instance.resource_group_id()),
            secondary
        );
        let call = Begin {
            what: "crossRegionRestore",
            method: Method::Post,
            path: &path,
            api_version: API_VERSION,
            retry: Retry::Never,
            provider: Provider::DataProtection,
            expect: Expect::JobId,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// Gets a Data Protection CRR job (`fetchCrossRegionRestoreJob`).
    pub async fn dpp_cross_region_restore_job(
        &self,
        ctx: &Context<'_>,
        vault: &BackupVaultId,
        source_region: &Region,
        secondary: &Region,
        job_guid: &str,
    ) -> Result<AzureBackupJobResource, CallError> {
        let body = CrossRegionRestoreJobRequest {
            source_region: source_region.to_string(),
            source_backup_vault_id: vault.as_str().to_string(),
            job_id: job_guid.to_string(),
            extra: Default::default(),
        };
        let path = format!(
            "{}/locations/{}/fetchCrossRegionRestoreJob",
            resource_group_scope(&vault.resource_group_id()),
            secondary
        );
        self.post_json(ctx, "fetch cross-region restore job", &path, API_VERSION, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn filter_times_have_seven_fraction_digits_and_z() {
        assert_eq!(filter_time(datetime!(2024-05-01 09:08:07.123_456_789 UTC)), "2024-05-01T09:08:07.1234567Z");
        assert_eq!(filter_time(datetime!(2024-05-01 11:00:00 +02:00)), "2024-05-01T09:00:00.0000000Z");
        let window = TimeWindow { start: datetime!(2024-05-01 0:00 UTC), end: datetime!(2024-05-31 23:59:59 UTC) };
        assert_eq!(
            recovery_point_filter(window),
            "startDate eq '2024-05-01T00:00:00.0000000Z' and endDate eq '2024-05-31T23:59:59.0000000Z'"
        );
    }
}
