//! The emulated world's response bodies: Data Protection and Recovery Services jobs and operation statuses
//! (built from the `restore_models` wire types) and Compute disk and VM bodies (`json!`: restore-models has no
//! Microsoft.Compute types).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use restore_models::dataprotection as dp;
use restore_models::error::{IaasJobErrorInfo, OperationStatusError};
use restore_models::recoveryservices as rs;
use restore_models::wire::{ArmResource, StrOrNum, Timestamp};

use crate::error::ApiError;
use crate::util::{fmt_duration, fmt_time, key};
use crate::world::*;

impl World {
    /// The job id an operation status reports, per the `dppFullJobId` / `rsvGuidJobId` quirks.
    fn op_job_id(&self, op: &Operation) -> Option<String> {
        let q = self.quirks();
        let (guid, full) = op.job.as_ref()?;
        let full_id = match op.scope {
            OpScope::DppLocation => q.dpp_full_job_id,
            _ => !q.rsv_guid_job_id,
        };
        Some(if full_id { full.clone() } else { guid.clone() })
    }

    /// DPP `OperationResource` at `now` (`Inprogress` and the `0001-01-01T00:00:00` end time while running,
    /// per the quirks).
    pub fn dpp_operation_status(&self, op: &Operation, status_id: &str, now: OffsetDateTime) -> dp::OperationResource {
        let q = self.quirks();
        let mut body = dp::OperationResource {
            id: Some(status_id.to_string()),
            name: Some(op.id.clone()),
            start_time: Some(Timestamp::new(fmt_time(op.start))),
            ..Default::default()
        };
        if !op.done(now) {
            body.status = Some(if q.inprogress_casing { "Inprogress" } else { "InProgress" }.into());
            body.end_time = q.zero_end_time.then(|| Timestamp::new("0001-01-01T00:00:00"));
            return body;
        }
        body.end_time = Some(Timestamp::new(fmt_time(op.done_at)));
        if let Some(err) = &op.error {
            body.status = Some("Failed".into());
            body.error = Some(err.error_detail());
            return body;
        }
        body.status = Some("Succeeded".into());
        body.properties = self.op_job_id(op).map(|job_id| {
            dp::OperationExtendedInfo::OperationJobExtendedInfo(dp::OperationJobExtendedInfo { job_id: Some(job_id) })
        });
        body
    }

    /// RSV `OperationStatus` at `now` (`InProgress`, end time `0001-01-01T00:00:00.00000Z` while running, the
    /// job id a bare GUID per the quirks).
    pub fn rsv_operation_status(&self, op: &Operation, status_id: &str, now: OffsetDateTime) -> rs::OperationStatus {
        let q = self.quirks();
        let mut body = rs::OperationStatus {
            id: Some(status_id.to_string()),
            name: Some(op.id.clone()),
            start_time: Some(Timestamp::new(fmt_time(op.start))),
            ..Default::default()
        };
        if !op.done(now) {
            body.status = Some("InProgress".into());
            body.end_time = q.zero_end_time.then(|| Timestamp::new("0001-01-01T00:00:00.00000Z"));
            return body;
        }
        body.end_time = Some(Timestamp::new(fmt_time(op.done_at)));
        if let Some(err) = &op.error {
            body.status = Some("Failed".into());
            body.error =
                Some(OperationStatusError { code: Some(err.code.clone()), message: Some(err.message.clone()) });
            return body;
        }
        body.status = Some("Succeeded".into());
        body.properties = self.op_job_id(op).map(|job_id| {
            rs::OperationStatusExtendedInfo::Job(rs::OperationStatusJobExtendedInfo { job_id: Some(job_id) })
        });
        body
    }

    /// `AzureBackupJobResource` at `now`.
    pub fn dpp_job_body(&self, job: &Job, now: OffsetDateTime) -> dp::AzureBackupJobResource {
        let vault = self.backup_vaults.get(&job.vault);
        let status = job.status(now);
        let done = now >= job.end;
        let elapsed = if done { job.end - job.start } else { now - job.start };
        let bi = self.instances.get(&key(&job.source_id));
        let ds_rg = job.datasource_id.split('/').nth(4).unwrap_or_default().to_string();
        let sub = vault.map(|v| v.subscription.clone()).unwrap_or_default();
        let policy_name = bi.map(|b| b.policy_name.clone()).unwrap_or_else(|| "DiskBackupPolicy".into());
        let error_details = match (&job.outcome, done) {
            (Outcome::Failed { code, message }, true) => vec![ApiError::dpp(400, code, message.clone()).user_facing()],
            _ => vec![],
        };
        let props = dp::AzureBackupJob {
            activity_id: Some(format!("{}-Ibz", job.guid)),
            backup_instance_friendly_name: Some(job.datasource_name.clone()),
            backup_instance_id: Some(job.source_id.clone()),
            data_source_id: Some(job.datasource_id.clone()),
            data_source_location: Some(vault.map(|v| v.location.clone()).unwrap_or_default()),
            data_source_name: Some(job.datasource_name.clone()),
            data_source_type: Some("Microsoft.Compute/disks".into()),
            duration: Some(fmt_duration(elapsed.as_seconds_f64())),
            end_time: done.then(|| Timestamp::new(fmt_time(job.end))),
            error_details,
            extended_info: Some(dp::JobExtendedInfo {
                recovery_destination: job.destination.clone(),
                source_recover_point: job.recovery_point.as_ref().map(|(id, t)| dp::RestoreJobRecoveryPointDetails {
                    recovery_point_id: Some(id.clone()),
                    recovery_point_time: Some(Timestamp::new(fmt_time(*t))),
                }),
                sub_tasks: vec![dp::JobSubTask {
                    task_id: Some(1),
                    task_name: Some("Trigger Restore".into()),
                    task_status: Some(status.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            is_user_triggered: Some(true),
            operation: Some(job.operation.clone()),
            operation_category: Some(if job.operation.contains("Restore") { "Restore" } else { "Backup" }.into()),
            policy_id: Some(format!(
                "{}/backupPolicies/{policy_name}",
                vault.map(|v| v.id.clone()).unwrap_or_default()
            )),
            policy_name: Some(policy_name),
            progress_enabled: Some(false),
            source_resource_group: Some(ds_rg),
            source_subscription_id: Some(sub.clone()),
            start_time: Some(Timestamp::new(fmt_time(job.start))),
            status: Some(status.into()),
            subscription_id: Some(sub),
            supported_actions: vec![String::new()],
            vault_name: Some(vault.map(|v| v.name.clone()).unwrap_or_default()),
            ..Default::default()
        };
        ArmResource {
            id: Some(self.job_full_id(job)),
            name: Some(job.guid.clone()),
            resource_type: Some("Microsoft.DataProtection/backupVaults/backupJobs".into()),
            ..ArmResource::new(props)
        }
    }

    /// RSV `JobResource` (AzureIaaSVMJob) at `now`.
    pub fn rsv_job_body(&self, job: &Job, now: OffsetDateTime) -> rs::JobResource {
        let status = job.status(now);
        let done = now >= job.end;
        let elapsed = if done { job.end - job.start } else { now - job.start };
        let total = (job.end - job.start).as_seconds_f64().max(1.0);
        let progress = ((elapsed.as_seconds_f64() / total) * 100.0).clamp(0.0, 100.0).floor();
        let mut bag: BTreeMap<String, String> = job.details.clone();
        // Only keys Azure documents (see crate::staging); "Recovery point time " carries the trailing space
        // Azure's own output shows.
        if let Some((_, t)) = &job.recovery_point {
            bag.insert("Recovery point time ".into(), crate::util::fmt_us_time(*t));
        }
        let error_details = match (&job.outcome, done) {
            (Outcome::Failed { code, message }, true) => vec![IaasJobErrorInfo {
                error_code: Some(StrOrNum::Num(serde_json::Number::from(400_000 + code.len() as i64))),
                error_title: Some(code.clone()),
                error_string: Some(message.clone()),
                recommendations: vec!["Correct the request and retry the restore.".into()],
            }],
            _ => vec![],
        };
        let props = rs::AzureIaaSVMJob {
            entity_friendly_name: Some(job.datasource_name.clone()),
            backup_management_type: Some("AzureIaasVM".into()),
            operation: Some(job.operation.clone()),
            status: Some(status.into()),
            start_time: Some(Timestamp::new(fmt_time(job.start))),
            end_time: done.then(|| Timestamp::new(fmt_time(job.end))),
            activity_id: Some(format!("{}-{}-Ibz", job.guid, fmt_time(job.start))),
            duration: Some(fmt_duration(elapsed.as_seconds_f64())),
            actions_info: Some(if done { vec![] } else { vec!["Cancellable".into()] }),
            error_details,
            extended_info: Some(rs::AzureIaaSVMJobExtendedInfo {
                tasks_list: vec![rs::AzureIaaSVMJobTaskDetails {
                    task_id: Some("Transfer data".into()),
                    status: Some(status.into()),
                    duration: Some(fmt_duration(elapsed.as_seconds_f64())),
                    ..Default::default()
                }],
                property_bag: Some(bag),
                progress_percentage: Some(progress),
                ..Default::default()
            }),
            virtual_machine_version: Some("Compute".into()),
            ..Default::default()
        };
        ArmResource {
            id: Some(self.job_full_id(job)),
            name: Some(job.guid.clone()),
            resource_type: Some("Microsoft.RecoveryServices/vaults/backupJobs".into()),
            ..ArmResource::new(rs::Job::AzureIaaSVMJob(props))
        }
    }

    /// A disk resource body.
    pub fn disk_body(&self, d: &Disk) -> Value {
        let attached = self.vms.values().any(|v| {
            v.os_disk.eq_ignore_ascii_case(&d.id) || v.data_disks.iter().any(|(_, x)| x.eq_ignore_ascii_case(&d.id))
        });
        let mut tags: serde_json::Map<String, Value> =
            self.tags_of(&d.id).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        if let Some(j) = &d.created_by_job {
            tags.insert("RSVJobId".into(), json!(j));
        }
        json!({
            "id": d.id,
            "name": d.name,
            "type": "Microsoft.Compute/disks",
            "location": d.location,
            "tags": tags,
            "sku": {"name": "Premium_LRS", "tier": "Premium"},
            "properties": {
                "creationData": if d.created_by_job.is_some() {
                    json!({"createOption": "Restore", "sourceResourceId": d.source_recovery_point})
                } else {
                    json!({"createOption": "Empty"})
                },
                "diskSizeGB": d.size_gb,
                "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                "timeCreated": fmt_time(d.created),
                "provisioningState": "Succeeded",
                "diskState": if attached { "Attached" } else { "Unattached" }
            }
        })
    }

    /// The tags set on a resource through the tags API (empty when none).
    pub fn tags_of(&self, id: &str) -> BTreeMap<String, String> {
        self.tags.get(&key(id)).cloned().unwrap_or_default()
    }

    /// A VM resource body (built by [`crate::compute::vm_body`], which owns the Compute shapes).
    pub fn vm_body(&self, v: &Vm) -> Value {
        crate::compute::vm_body(self, v)
    }
}
