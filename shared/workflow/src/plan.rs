//! Planning: from a validated request to the exact Azure call, with its recovery point chosen.
//!
//! Planning only reads from Azure. The result, an [`AzureCall`], is stored in the record before anything is
//! written to Azure, so a crash between planning and triggering repeats the same call, and the record shows
//! exactly what was (or would have been) sent. Bodies follow the seeds: the disk ALR body of seed 000, the
//! `IaasVMRestoreRequest` per mode of seed 003, the backup instance of seed 004.

use restore_contract::policy::Policy;
use restore_contract::reason::ReasonCode;
use restore_contract::request::{Operation, RecoveryPointChoice, RestoreRequest};
use restore_engine::client::{ArmClient, CallError};
use restore_engine::error::{AzureError, Retryability};
use restore_engine::region::Region;
use restore_engine::selection::{NoUsableRecoveryPoint, PointChoice, dpp_candidates, rsv_candidates, select};
use restore_models::arm_id::{BackupInstanceId, DiskId, RsvRecoveryPointId};
use restore_models::dataprotection::{
    AzureBackupRecoveryPointBasedRestoreRequest, AzureBackupRestoreRequest, AzureOperationalStoreParameters,
    BackupInstance, BackupInstanceResource, DataStoreParameters, Datasource, PolicyInfo, PolicyParameters,
    RestoreTargetInfo, RestoreTargetInfoBase,
};
use restore_models::recoveryservices::{
    EncryptionDetails, IaasVMRestoreRequest, RecoveryType, RestoreRequest as RsvRestoreRequest, RestoreRequestResource,
};
use restore_models::wire::ArmResource;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The Azure call a request turns into. Serialised into the record (`azureRequestBody`).
// The variants are stored once per request and never in bulk; boxing them would only obscure the bodies.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "camelCase")]
pub enum AzureCall {
    /// `POST {backupInstance}/restore`.
    #[serde(rename_all = "camelCase")]
    DppRestore {
        /// The backup instance.
        backup_instance_id: BackupInstanceId,
        /// The body sent.
        body: AzureBackupRestoreRequest,
    },
    /// `POST {recoveryPoint}/restore`.
    #[serde(rename_all = "camelCase")]
    RsvRestore {
        /// The recovery point (full ARM id).
        recovery_point_id: RsvRecoveryPointId,
        /// The body sent.
        body: RestoreRequestResource,
    },
    /// The CRR sequence: AAD properties of the secondary region, an access token for the recovery point, then
    /// `backupCrossRegionRestore`. The token is fetched at trigger time (it expires, and it is a credential:
    /// it is never stored).
    #[serde(rename_all = "camelCase")]
    RsvCrossRegionRestore {
        /// The recovery point (full ARM id) in the secondary region's copy.
        recovery_point_id: RsvRecoveryPointId,
        /// The secondary region.
        secondary_region: Region,
        /// The restore request sent inside the CRR body.
        restore_request: RsvRestoreRequest,
    },
    /// `validateForBackup`, then `PUT {backupInstance}`.
    #[serde(rename_all = "camelCase")]
    DppConfigureProtection {
        /// The backup instance to create.
        backup_instance_id: BackupInstanceId,
        /// The body sent.
        body: BackupInstanceResource,
    },
    /// `stopProtection` (keep data) or `DELETE {backupInstance}` (delete data).
    #[serde(rename_all = "camelCase")]
    DppStopProtection {
        /// The backup instance.
        backup_instance_id: BackupInstanceId,
        /// Delete the backup data too.
        delete_data: bool,
    },
}

impl AzureCall {
    /// The item Azure's jobs name (for reconciliation): the backup instance id or the source VM's name.
    pub fn item(&self) -> String {
        match self {
            AzureCall::DppRestore { backup_instance_id, .. }
            | AzureCall::DppConfigureProtection { backup_instance_id, .. }
            | AzureCall::DppStopProtection { backup_instance_id, .. } => backup_instance_id.as_str().to_string(),
            AzureCall::RsvRestore { recovery_point_id, .. }
            | AzureCall::RsvCrossRegionRestore { recovery_point_id, .. } => {
                let item = recovery_point_id.protected_item();
                item.native_vm().map(|n| n.vm_name).unwrap_or_else(|| item.name().to_string())
            }
        }
    }

    /// What the restore will create, where the call itself names it: a disk restore's target disk, a new-VM
    /// restore's VM. Azure names everything else (a restore-disks job's disks are read from its staging
    /// config, see [`crate::staging`]).
    pub fn named_targets(&self) -> Vec<String> {
        match self {
            AzureCall::DppRestore { body: AzureBackupRestoreRequest::RecoveryPointBased(r), .. } => {
                match &r.restore_target_info {
                    RestoreTargetInfoBase::RestoreTargetInfo(t) => vec![t.datasource_info.resource_id.clone()],
                    _ => Vec::new(),
                }
            }
            AzureCall::RsvRestore { body, .. } => body
                .properties
                .iaas_vm()
                .filter(|r| matches!(r.recovery_type, Some(RecoveryType::AlternateLocation)))
                .and_then(|r| r.target_virtual_machine_id.clone())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Recovery Services: the protection container of the item (`IaasVMContainer;iaasvmcontainerv2;{rg};{vm}`).
    pub fn container(&self) -> Option<String> {
        match self {
            AzureCall::RsvRestore { recovery_point_id, .. }
            | AzureCall::RsvCrossRegionRestore { recovery_point_id, .. } => {
                Some(recovery_point_id.protected_item().container_name().to_string())
            }
            _ => None,
        }
    }

    /// Whether the call starts a restore job (as opposed to a protection change).
    pub fn is_restore(&self) -> bool {
        matches!(
            self,
            AzureCall::DppRestore { .. } | AzureCall::RsvRestore { .. } | AzureCall::RsvCrossRegionRestore { .. }
        )
    }
}

/// A planned request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The recovery point chosen (restores only).
    pub recovery_point_id: Option<String>,
    /// Names of resources the restore will create, for the result and drills.
    pub target_names: Vec<String>,
    /// The call.
    pub call: AzureCall,
}

/// Why planning stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanError {
    /// The request cannot be carried out as asked (a rejection: recorded, answered, never retried).
    #[error("{code}: {message}")]
    Rejected {
        /// Stable code (Azure's when Azure refused).
        code: ReasonCode,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Azure (or the network) failed in a way that may pass: the message should be redelivered.
    #[error(transparent)]
    Transient(CallError),
}

impl From<NoUsableRecoveryPoint> for PlanError {
    fn from(e: NoUsableRecoveryPoint) -> Self {
        PlanError::Rejected { code: ReasonCode::NoUsableRecoveryPoint, message: e.to_string() }
    }
}

impl From<CallError> for PlanError {
    /// Terminal Azure errors (`UserError*`, 404 on the item) reject the request; everything that may pass on
    /// its own, including permissions still propagating, is transient.
    fn from(e: CallError) -> Self {
        match &e {
            CallError::Azure(AzureError {
                retry: Retryability::Terminal, code, message, recommended_action, ..
            }) => {
                let advice = if recommended_action.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", recommended_action.join(" "))
                };
                PlanError::Rejected { code: ReasonCode::azure(code.clone()), message: format!("{message}{advice}") }
            }
            CallError::Unsafe(u) => PlanError::Rejected { code: ReasonCode::UnsafeUrl, message: u.to_string() },
            _ => PlanError::Transient(e),
        }
    }
}

fn choice(request: &RestoreRequest) -> PointChoice {
    match request.effective_recovery_point() {
        Some(RecoveryPointChoice::Id { id }) => PointChoice::Id(id),
        Some(RecoveryPointChoice::LatestAtOrBefore { time }) => PointChoice::LatestAtOrBefore(time.get()),
        _ => PointChoice::Latest,
    }
}

fn region_of(what: &str, location: Option<&str>) -> Result<Region, PlanError> {
    let raw = location.unwrap_or_default();
    Region::parse(raw).map_err(|e| PlanError::Rejected {
        code: ReasonCode::UnknownRegion,
        message: format!("Azure reported no usable region for {what}: {e}"),
    })
}

/// Plans `request` (already parsed and allowed by policy) at `now`.
pub async fn plan(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    request: &RestoreRequest,
    request_id: &str,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Plan, PlanError> {
    let kind = request.operation.kind();
    let name_for = |source: &str, max_len: usize| policy.naming.render(source, request_id, kind.as_str(), now, max_len);
    match &request.operation {
        Operation::DiskToNewDisk(op) => {
            let instance = client.dpp_backup_instance(ctx, &op.backup_instance_id).await?;
            let source = &instance.properties.data_source_info;
            let location = region_of("the backup instance's disk", source.resource_location.as_deref())?;
            let points = client.dpp_recovery_points(ctx, &op.backup_instance_id, None).await?;
            let chosen = select(&choice(request), &dpp_candidates(&points, now))?;
            let source_name = source.resource_name.clone().unwrap_or_else(|| request.operation.source_name());
            // Managed disk names: up to 80 characters.
            let disk_name = op.disk_name.clone().unwrap_or_else(|| name_for(&source_name, 80));
            let disk_id = DiskId::parse(&format!(
                "{}/providers/Microsoft.Compute/disks/{disk_name}",
                op.target_resource_group_id.as_str()
            ))
            .map_err(|e| PlanError::Rejected {
                code: ReasonCode::InvalidDiskName,
                message: format!("the restored disk name {disk_name:?} is not usable: {e}; set operation.diskName"),
            })?;
            let body = AzureBackupRestoreRequest::RecoveryPointBased(AzureBackupRecoveryPointBasedRestoreRequest {
                recovery_point_id: chosen.id.clone(),
                source_data_store_type: "OperationalStore".into(),
                restore_target_info: RestoreTargetInfoBase::RestoreTargetInfo(RestoreTargetInfo {
                    recovery_option: "FailIfExists".into(),
                    restore_location: Some(location.to_string()),
                    datasource_info: Datasource {
                        object_type: Some("Datasource".into()),
                        datasource_type: Some("Microsoft.Compute/disks".into()),
                        resource_id: disk_id.as_str().to_string(),
                        resource_location: Some(location.to_string()),
                        resource_name: Some(disk_name.clone()),
                        resource_type: Some("Microsoft.Compute/disks".into()),
                        resource_uri: Some(disk_id.as_str().to_string()),
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                source_resource_id: None,
                resource_guard_operation_requests: None,
                identity_details: None,
                rehydration_priority: None,
                rehydration_retention_duration: None,
                extra: Default::default(),
            });
            Ok(Plan {
                recovery_point_id: Some(chosen.id),
                target_names: vec![disk_id.as_str().to_string()],
                call: AzureCall::DppRestore { backup_instance_id: op.backup_instance_id.clone(), body },
            })
        }
        Operation::VmRestoreDisks(_) | Operation::VmReplaceDisks(_) | Operation::VmNewVm(_) => {
            plan_vm(client, ctx, request, &name_for, now).await
        }
        Operation::ConfigureDiskProtection(op) => {
            let vault = client.dpp_vault(ctx, &op.backup_vault_id).await?;
            let location = region_of("the Backup vault", vault.location.as_deref())?;
            let disk = op.disk_id.name().to_string();
            let instance_id =
                BackupInstanceId::parse(&format!("{}/backupInstances/{disk}", op.backup_vault_id.as_str()))
                    .map_err(|e| PlanError::Rejected { code: ReasonCode::InvalidDiskName, message: e.to_string() })?;
            let body = ArmResource::new(BackupInstance {
                object_type: "BackupInstance".into(),
                friendly_name: Some(disk.clone()),
                data_source_info: Datasource {
                    object_type: Some("Datasource".into()),
                    datasource_type: Some("Microsoft.Compute/disks".into()),
                    resource_id: op.disk_id.as_str().to_string(),
                    resource_location: Some(location.to_string()),
                    resource_name: Some(disk.clone()),
                    resource_type: Some("Microsoft.Compute/disks".into()),
                    resource_uri: Some(op.disk_id.as_str().to_string()),
                    ..Default::default()
                },
                policy_info: PolicyInfo {
                    policy_id: op.policy_id.as_str().to_string(),
                    policy_parameters: Some(PolicyParameters {
                        data_store_parameters_list: Some(vec![DataStoreParameters::AzureOperationalStoreParameters(
                            AzureOperationalStoreParameters {
                                data_store_type: "OperationalStore".into(),
                                resource_group_id: Some(op.snapshot_resource_group_id.as_str().to_string()),
                                ..Default::default()
                            },
                        )]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            });
            Ok(Plan {
                recovery_point_id: None,
                target_names: vec![instance_id.as_str().to_string()],
                call: AzureCall::DppConfigureProtection { backup_instance_id: instance_id, body },
            })
        }
        Operation::StopDiskProtection(op) => {
            // Reading the instance first turns "no such instance" into a rejection instead of a silent no-op.
            client.dpp_backup_instance(ctx, &op.backup_instance_id).await?;
            Ok(Plan {
                recovery_point_id: None,
                target_names: Vec::new(),
                call: AzureCall::DppStopProtection {
                    backup_instance_id: op.backup_instance_id.clone(),
                    delete_data: op.delete_data,
                },
            })
        }
    }
}

async fn plan_vm(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    request: &RestoreRequest,
    name_for: &impl Fn(&str, usize) -> String,
    now: OffsetDateTime,
) -> Result<Plan, PlanError> {
    let (item_id, staging, secondary) = match &request.operation {
        Operation::VmRestoreDisks(o) => (&o.protected_item_id, &o.staging_storage_account_id, o.secondary_region),
        Operation::VmReplaceDisks(o) => (&o.protected_item_id, &o.staging_storage_account_id, false),
        Operation::VmNewVm(o) => (&o.protected_item_id, &o.staging_storage_account_id, o.secondary_region),
        _ => unreachable!("plan_vm is only called for VM kinds (see plan)"),
    };
    let item = client.rsv_protected_item(ctx, item_id).await?;
    let vm_id = item
        .properties
        .iaas_vm()
        .and_then(|vm| vm.source_resource_id.clone().or_else(|| vm.virtual_machine_id.clone()))
        .ok_or_else(|| PlanError::Rejected {
            code: ReasonCode::NotAVirtualMachine,
            message: format!("{} is not an Azure VM protected item", item_id.as_str()),
        })?;
    let vault = client.rsv_vault(ctx, &item_id.vault()).await?;
    let primary = region_of("the Recovery Services vault", vault.location.as_deref())?;
    let region = if secondary {
        primary.paired().ok_or_else(|| PlanError::Rejected {
            code: ReasonCode::NoPairedRegion,
            message: format!(
                "the vault's region {primary} has no Azure region pair, so Cross Region Restore is not available"
            ),
        })?
    } else {
        primary
    };
    let points = client.rsv_recovery_points(ctx, item_id, None, secondary).await?;
    let chosen = select(&choice(request), &rsv_candidates(&points, now))?;
    let point = item_id.recovery_point(&chosen.id).map_err(|e| PlanError::Rejected {
        code: ReasonCode::InvalidRecoveryPointId,
        message: format!("Azure listed recovery point {:?}, which is not a usable id: {e}", chosen.id),
    })?;
    let mut body = IaasVMRestoreRequest {
        recovery_point_id: Some(chosen.id.clone()),
        source_resource_id: Some(vm_id),
        storage_account_id: Some(staging.as_str().to_string()),
        region: Some(region.to_string()),
        create_new_cloud_service: Some(false),
        original_storage_account_option: Some(false),
        encryption_details: Some(EncryptionDetails { encryption_enabled: Some(false), ..Default::default() }),
        ..Default::default()
    };
    let mut target_names = Vec::new();
    match &request.operation {
        Operation::VmRestoreDisks(o) => {
            body.recovery_type = Some(RecoveryType::RestoreDisks);
            body.target_resource_group_id = Some(o.target_resource_group_id.as_str().to_string());
            body.restore_disk_lun_list = o.luns.as_ref().map(|l| l.iter().map(|&n| n as i32).collect());
        }
        Operation::VmReplaceDisks(_) => body.recovery_type = Some(RecoveryType::OriginalLocation),
        Operation::VmNewVm(o) => {
            body.recovery_type = Some(RecoveryType::AlternateLocation);
            body.target_resource_group_id = Some(o.target_resource_group_id.as_str().to_string());
            let vm_name =
                if o.vm_name.is_empty() { name_for(&request.operation.source_name(), 64) } else { o.vm_name.clone() };
            let target = format!(
                "{}/providers/Microsoft.Compute/virtualMachines/{vm_name}",
                o.target_resource_group_id.as_str()
            );
            body.target_virtual_machine_id = Some(target.clone());
            body.virtual_network_id = Some(o.virtual_network_id.as_str().to_string());
            body.subnet_id = Some(o.subnet_id.as_str().to_string());
            target_names.push(target);
        }
        _ => {}
    }
    let restore_request = RsvRestoreRequest::IaasVM(body);
    let call = if secondary {
        AzureCall::RsvCrossRegionRestore { recovery_point_id: point, secondary_region: region, restore_request }
    } else {
        AzureCall::RsvRestore { recovery_point_id: point, body: ArmResource::new(restore_request) }
    };
    Ok(Plan { recovery_point_id: Some(chosen.id), target_names, call })
}
