//! Microsoft.RecoveryServices (Recovery Services vault) calls for VM restores, and the Cross Region Restore
//! passive stamp (`crr_*`).
//!
//! Filters use the form az CLI sends (azure-backup-rest.md §3.2): dates as `yyyy-MM-dd hh:mm:ss AM` (12-hour
//! clock), keys joined with ` and `.

use azure_core::http::{Context, Method};
use restore_models::arm_id::{ProtectedItemId, RecoveryServicesVaultId, RsvRecoveryPointId};
use restore_models::crr::{
    self, AadPropertiesResource, CrossRegionRestoreRequest, CrrAccessTokenResource, CrrJobRequest, CrrJobsRequest,
};
use restore_models::recoveryservices::{
    API_VERSION, JobResource, ProtectedItemResource, RecoveryPointResource, RestoreRequestResource,
    ValidateOperationRequestResource, ValidateOperationsResponse,
};
use restore_models::wire::ArmResource;
use time::OffsetDateTime;

use crate::client::{ArmClient, Begin, CallError, Started, encode};
use crate::dataprotection::TimeWindow;
use crate::lro::{Expect, Provider};
use crate::pipeline::Retry;
use crate::region::Region;

/// api-version of the vault resource itself (`Microsoft.RecoveryServices/vaults`, a different API from backup).
pub const VAULT_API_VERSION: &str = "2025-08-01";

/// `yyyy-MM-dd hh:mm:ss AM`, UTC.
pub fn filter_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (hour12, meridiem) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        hour12,
        t.minute(),
        t.second(),
        meridiem
    )
}

/// The recovery-point `$filter` for a window.
pub fn recovery_point_filter(window: TimeWindow) -> String {
    format!("startDate eq '{}' and endDate eq '{}'", filter_time(window.start), filter_time(window.end))
}

/// The job `$filter` for restore jobs started in a window.
pub fn restore_job_filter(window: TimeWindow) -> String {
    format!(
        "operation eq 'Restore' and startTime eq '{}' and endTime eq '{}'",
        filter_time(window.start),
        filter_time(window.end)
    )
}

fn not_a_segment(what: &str, value: &str, e: impl std::fmt::Display) -> CallError {
    CallError::Unexpected { what: what.into(), message: format!("{value:?} is not a valid path segment: {e}") }
}

impl ArmClient {
    /// Gets a Recovery Services vault (its region and redundancy settings, kept as raw JSON).
    pub async fn rsv_vault(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
    ) -> Result<ArmResource<serde_json::Value>, CallError> {
        self.get_json(ctx, "get Recovery Services vault", vault.as_str(), VAULT_API_VERSION, &[]).await
    }

    /// Gets a protected item.
    pub async fn rsv_protected_item(
        &self,
        ctx: &Context<'_>,
        item: &ProtectedItemId,
    ) -> Result<ProtectedItemResource, CallError> {
        self.get_json(ctx, "get protected item", item.as_str(), API_VERSION, &[]).await
    }

    /// Lists a protected item's recovery points, optionally within a window (all pages). `crr` reads the copy in
    /// the secondary region through the passive stamp's api-version.
    pub async fn rsv_recovery_points(
        &self,
        ctx: &Context<'_>,
        item: &ProtectedItemId,
        window: Option<TimeWindow>,
        crr: bool,
    ) -> Result<Vec<RecoveryPointResource>, CallError> {
        let filter = window.map(recovery_point_filter);
        let query: Vec<(&str, &str)> = filter.as_deref().map(|f| vec![("$filter", f)]).unwrap_or_default();
        let version = if crr { crr::API_VERSION } else { API_VERSION };
        let url = self.pipeline().url(&format!("{}/recoveryPoints", item.as_str()), version, &query);
        self.list_all(ctx, "list recovery points", url, None).await
    }

    /// Gets one recovery point (`crr`: from the secondary region).
    pub async fn rsv_recovery_point(
        &self,
        ctx: &Context<'_>,
        point: &RsvRecoveryPointId,
        crr: bool,
    ) -> Result<RecoveryPointResource, CallError> {
        let version = if crr { crr::API_VERSION } else { API_VERSION };
        self.get_json(ctx, "get recovery point", point.as_str(), version, &[]).await
    }

    /// Validates a restore request synchronously (`backupValidateOperation`).
    pub async fn rsv_validate_restore(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
        request: &ValidateOperationRequestResource,
    ) -> Result<ValidateOperationsResponse, CallError> {
        let path = format!("{}/backupValidateOperation", vault.as_str());
        self.post_json(ctx, "backupValidateOperation", &path, API_VERSION, request).await
    }

    /// Triggers a VM restore (202 only). Never retried by the pipeline.
    pub async fn rsv_trigger_restore(
        &self,
        ctx: &Context<'_>,
        point: &RsvRecoveryPointId,
        request: &RestoreRequestResource,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let call = Begin {
            what: "restore",
            method: Method::Post,
            path: &format!("{}/restore", point.as_str()),
            api_version: API_VERSION,
            retry: Retry::Never,
            provider: Provider::RecoveryServices,
            expect: Expect::JobId,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// Gets a job by GUID.
    pub async fn rsv_job(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
        job_guid: &str,
    ) -> Result<JobResource, CallError> {
        let path = vault.job_path(job_guid).map_err(|e| not_a_segment("get job", job_guid, e))?;
        self.get_json(ctx, "get job", path.as_str(), API_VERSION, &[]).await
    }

    /// Lists the vault's restore jobs started within `window` (all pages).
    pub async fn rsv_restore_jobs(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
        window: TimeWindow,
    ) -> Result<Vec<JobResource>, CallError> {
        let filter = restore_job_filter(window);
        let url = self.pipeline().url(&format!("{}/backupJobs", vault.as_str()), API_VERSION, &[("$filter", &filter)]);
        self.list_all(ctx, "list jobs", url, None).await
    }

    /// CRR step 1: the secondary region's AAD properties.
    pub async fn crr_aad_properties(
        &self,
        ctx: &Context<'_>,
        subscription: &str,
        secondary: &Region,
    ) -> Result<AadPropertiesResource, CallError> {
        let path = crr_location_path(subscription, secondary, "backupAadProperties")?;
        self.get_json(ctx, "get AAD properties", &path, crr::API_VERSION, &[]).await
    }

    /// CRR step 3: an access token for one recovery point, given the AAD properties from step 1.
    pub async fn crr_access_token(
        &self,
        ctx: &Context<'_>,
        point: &RsvRecoveryPointId,
        aad: &AadPropertiesResource,
    ) -> Result<CrrAccessTokenResource, CallError> {
        let path = format!("{}/accessToken", point.as_str());
        self.post_json(ctx, "get CRR access token", &path, crr::API_VERSION, aad).await
    }

    /// CRR step 4: trigger the restore in the secondary region. Never retried by the pipeline.
    pub async fn crr_trigger_restore(
        &self,
        ctx: &Context<'_>,
        subscription: &str,
        secondary: &Region,
        request: &CrossRegionRestoreRequest,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let path = crr_location_path(subscription, secondary, "backupCrossRegionRestore")?;
        let call = Begin {
            what: "backupCrossRegionRestore",
            method: Method::Post,
            path: &path,
            api_version: crr::API_VERSION,
            retry: Retry::Never,
            provider: Provider::RecoveryServicesCrr,
            expect: Expect::JobId,
        };
        self.begin(ctx, call, Some(request), now).await
    }

    /// A CRR job (`backupCrrJob`).
    pub async fn crr_job(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
        secondary: &Region,
        job_guid: &str,
    ) -> Result<JobResource, CallError> {
        // The GUID goes into a JSON body, but it is still checked so a stored value cannot smuggle anything.
        vault.job_path(job_guid).map_err(|e| not_a_segment("get CRR job", job_guid, e))?;
        let path = crr_location_path(vault.subscription(), secondary, "backupCrrJob")?;
        let body = CrrJobRequest {
            resource_id: Some(vault.as_str().to_string()),
            job_name: Some(job_guid.to_string()),
            extra: Default::default(),
        };
        self.post_json(ctx, "get CRR job", &path, crr::API_VERSION, &body).await
    }

    /// The vault's CRR jobs in the secondary region (`backupCrrJobs`, all pages).
    pub async fn crr_jobs(
        &self,
        ctx: &Context<'_>,
        vault: &RecoveryServicesVaultId,
        secondary: &Region,
        window: TimeWindow,
    ) -> Result<Vec<JobResource>, CallError> {
        let path = crr_location_path(vault.subscription(), secondary, "backupCrrJobs")?;
        let filter = restore_job_filter(window).replace("operation eq 'Restore'", "operation eq 'CrossRegionRestore'");
        let url = self.pipeline().url(&path, crr::API_VERSION, &[("$filter", &filter)]);
        let body = CrrJobsRequest { resource_id: Some(vault.as_str().to_string()), extra: Default::default() };
        self.list_all(ctx, "list CRR jobs", url, Some(encode("backupCrrJobs", &body)?)).await
    }
}

/// `/subscriptions/{s}/providers/Microsoft.RecoveryServices/locations/{region}/{leaf}`; the subscription comes
/// from a validated ARM id but is checked again because it is used on its own here.
fn crr_location_path(subscription: &str, region: &Region, leaf: &str) -> Result<String, CallError> {
    restore_models::arm_id::ResourceId::parse(&format!("/subscriptions/{subscription}"))
        .map_err(|e| not_a_segment(leaf, subscription, e))?;
    Ok(format!("/subscriptions/{subscription}/providers/Microsoft.RecoveryServices/locations/{region}/{leaf}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn filter_times_use_a_twelve_hour_clock() {
        assert_eq!(filter_time(datetime!(2024-05-31 23:59:59 UTC)), "2024-05-31 11:59:59 PM");
        assert_eq!(filter_time(datetime!(2024-05-01 0:00 UTC)), "2024-05-01 12:00:00 AM");
        assert_eq!(filter_time(datetime!(2024-05-01 12:30 UTC)), "2024-05-01 12:30:00 PM");
        assert_eq!(filter_time(datetime!(2024-05-01 9:05:01 UTC)), "2024-05-01 09:05:01 AM");
        let w = TimeWindow { start: datetime!(2024-05-01 0:00 UTC), end: datetime!(2024-05-31 23:59:59 UTC) };
        assert_eq!(
            recovery_point_filter(w),
            "startDate eq '2024-05-01 12:00:00 AM' and endDate eq '2024-05-31 11:59:59 PM'"
        );
    }

    #[test]
    fn location_paths_refuse_bad_subscriptions() {
        let region = Region::parse("westeurope").unwrap();
        assert!(crr_location_path("00000000-0000-0000-0000-000000000000", &region, "backupCrrJob").is_ok());
        assert!(crr_location_path("x/../y", &region, "backupCrrJob").is_err());
    }
}
