//! Reconciliation of a write-ahead (`Triggering`) record: did the POST reach Azure?
//!
//! Used by the intake on redelivery and by the tracker for stale write-aheads (DESIGN invariant 1). The answer
//! comes from Azure's job list for the item since the write-ahead time:
//! * exactly one matching job → adopt it;
//! * several → a person must decide (`NeedsAttention`): a second restore is never risked;
//! * none, and the settle window since the write-ahead has passed → the POST did not start a restore; it may
//!   be sent again (under a new write-ahead);
//! * none yet, inside the settle window → too early to say (Azure's job list can lag the 202 by seconds).
//!
//! Protection changes (PUT / stopProtection / DELETE of a backup instance) are idempotent: repeating them is the
//! reconciliation.

use std::time::Duration;

use restore_engine::client::{ArmClient, CallError};
use restore_engine::dataprotection::TimeWindow;
use restore_engine::jobs::JobView;
use time::OffsetDateTime;

use crate::plan::AzureCall;

/// How far before the write-ahead a job's start time may be and still match (clock skew between us and Azure).
const SKEW: time::Duration = time::Duration::minutes(5);

/// What Azure's job list says about a write-ahead.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// The restore started: this is its job.
    Found(Box<JobView>),
    /// No restore started; sending the call again is safe.
    NotStarted,
    /// No job yet, but Azure may still be listing it: ask again after this long.
    TooEarly(Duration),
    /// Cannot be decided automatically.
    Ambiguous(String),
}

/// Whether `job` is a restore of `call`'s item from the same recovery point, started no earlier than the skew
/// allowance before `since`.
fn matches_item(job: &JobView, call: &AzureCall, recovery_point: Option<&str>, since: OffsetDateTime) -> bool {
    let item = call.item();
    let item_name = item.rsplit('/').next().unwrap_or(&item);
    let same_item = job.item.as_deref().is_some_and(|i| {
        i.eq_ignore_ascii_case(&item) || i.rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case(item_name))
    });
    // A Recovery Services job names its VM only by friendly name; where it reports its container
    // (`iaasvmcontainerv2;{rg};{vm}`), that must be the item's, so a same-named VM elsewhere never matches.
    let same_container = match (call.container(), job.container.as_deref()) {
        (Some(ours), Some(theirs)) => ours.to_ascii_lowercase().ends_with(&theirs.to_ascii_lowercase()),
        _ => true,
    };
    let is_restore = job.operation.as_deref().is_none_or(|o| o.to_ascii_lowercase().contains("restore"));
    let recent = job.started_at.is_none_or(|t| t >= since - SKEW);
    let same_point = match (recovery_point, job.recovery_point_id.as_deref()) {
        (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
        _ => true,
    };
    same_item && same_container && is_restore && recent && same_point
}

/// Decides from the jobs matching the item: one that started at or after the write-ahead is ours; one that
/// started only inside the skew allowance before it could be ours (clocks differ) or an earlier restore, so a
/// person decides; several are ambiguous.
fn decide(
    matching: Vec<JobView>,
    call: &AzureCall,
    write_ahead_at: OffsetDateTime,
    now: OffsetDateTime,
    settle: Duration,
) -> Reconciled {
    let describe = |jobs: &[JobView]| jobs.iter().map(|j| j.job_id.as_str()).collect::<Vec<_>>().join(", ");
    match matching.as_slice() {
        [job] if job.started_at.is_none_or(|t| t >= write_ahead_at) => Reconciled::Found(Box::new(job.clone())),
        [job] => Reconciled::Ambiguous(format!(
            "the only restore job for {} ({}) started at {}, before the write-ahead at {write_ahead_at} but within the clock-skew allowance; cannot tell whether it is this request's",
            call.item(),
            job.job_id,
            job.started_at.map(|t| t.to_string()).unwrap_or_default()
        )),
        [] => {
            let settled_at = write_ahead_at + settle;
            if now >= settled_at {
                Reconciled::NotStarted
            } else {
                Reconciled::TooEarly(Duration::try_from(settled_at - now).unwrap_or_default())
            }
        }
        jobs => Reconciled::Ambiguous(format!(
            "{} restore jobs for {} started since the write-ahead at {write_ahead_at}: {}; cannot tell which one is this request's",
            jobs.len(),
            call.item(),
            describe(jobs)
        )),
    }
}

/// Reconciles a write-ahead made at `write_ahead_at` for `call`.
pub async fn reconcile(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    call: &AzureCall,
    recovery_point: Option<&str>,
    write_ahead_at: OffsetDateTime,
    now: OffsetDateTime,
    settle: Duration,
) -> Result<Reconciled, CallError> {
    let window = TimeWindow { start: write_ahead_at - SKEW, end: now + SKEW };
    let jobs: Vec<JobView> = match call {
        AzureCall::DppRestore { backup_instance_id, .. } => {
            // Newest first; paging stops once a page is older than the window (with an hour's margin for
            // pages that are not strictly ordered).
            let since = window.start - time::Duration::hours(1);
            client
                .dpp_jobs_since(ctx, &backup_instance_id.vault(), since)
                .await?
                .iter()
                .map(JobView::from_dpp)
                .collect()
        }
        AzureCall::RsvRestore { recovery_point_id, .. } => {
            let vault = recovery_point_id.protected_item().vault();
            client.rsv_restore_jobs(ctx, &vault, window).await?.iter().map(JobView::from_rsv).collect()
        }
        AzureCall::RsvCrossRegionRestore { recovery_point_id, secondary_region, .. } => {
            let vault = recovery_point_id.protected_item().vault();
            client.crr_jobs(ctx, &vault, secondary_region, window).await?.iter().map(JobView::from_rsv).collect()
        }
        AzureCall::DppConfigureProtection { .. } | AzureCall::DppStopProtection { .. } => {
            return Ok(Reconciled::NotStarted);
        }
    };
    let matching: Vec<JobView> =
        jobs.into_iter().filter(|j| matches_item(j, call, recovery_point, write_ahead_at)).collect();
    Ok(decide(matching, call, write_ahead_at, now, settle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsv_call() -> AzureCall {
        serde_json::from_value(serde_json::json!({
            "call": "rsvRestore",
            "recoveryPointId": "/subscriptions/s/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;vm-web-01/protectedItems/VM;iaasvmcontainerv2;rg-app;vm-web-01/recoveryPoints/1",
            "body": { "properties": { "objectType": "IaasVMRestoreRequest" } }
        }))
        .expect("an RSV call")
    }

    fn job(container: Option<&str>) -> JobView {
        JobView {
            job_id: "j".into(),
            operation: Some("Restore".into()),
            status: restore_engine::jobs::JobStatus::InProgress,
            raw_status: None,
            started_at: None,
            ended_at: None,
            duration: None,
            errors: Vec::new(),
            restored_resource_ids: Vec::new(),
            progress_percent: None,
            estimated_remaining: None,
            item: Some("vm-web-01".into()),
            recovery_point_id: None,
            container: container.map(String::from),
            staging: None,
        }
    }

    #[test]
    fn a_same_named_vm_in_another_resource_group_is_not_this_item() {
        let since = OffsetDateTime::UNIX_EPOCH;
        let call = rsv_call();
        assert!(matches_item(&job(Some("iaasvmcontainerv2;rg-app;vm-web-01")), &call, None, since));
        assert!(matches_item(&job(Some("IaasVMContainer;iaasvmcontainerv2;RG-APP;vm-web-01")), &call, None, since));
        assert!(!matches_item(&job(Some("iaasvmcontainerv2;rg-other;vm-web-01")), &call, None, since));
        assert!(matches_item(&job(None), &call, None, since), "without a container the friendly name decides");
    }
}
