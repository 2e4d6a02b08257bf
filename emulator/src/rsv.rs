//! Microsoft.RecoveryServices (Recovery Services vault) handlers, including the CRR passive stamp.
//!
//! Response bodies are `restore_models::recoveryservices` / `crr` types: protected items ([`item_body`]),
//! recovery points ([`rp_body`]), jobs, operation statuses, validate results, AAD properties and CRR access
//! tokens.

use serde_json::{Value, json};
use time::Duration;

use crate::arm::{Ctx, parse_filter};
use crate::dpp::get_ci;
use restore_models::crr;
use restore_models::error::ValidationError;
use restore_models::recoveryservices as rs;
use restore_models::wire::{ArmResource, StrOrNum, Timestamp};

use crate::error::{ApiError, ApiResponse, Dialect, parse_model};
use crate::util::{b64, b64url_decode, fmt_time, fmt_us_time, guid, key, parse_rsv_filter_time};
use crate::world::{Effect, Job, JobApi, OpScope, Operation, ProtectedItem, RsvRecoveryPoint, Vault};

const A: Dialect = Dialect::Arm;

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(A, code, msg)
}

fn str_ci<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    get_ci(v, name).and_then(Value::as_str)
}

fn norm_region(r: &str) -> String {
    r.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

fn vault_id(ctx: &Ctx) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.RecoveryServices/vaults/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("vault")
    )
}

fn vault<'a>(ctx: &'a Ctx) -> Result<&'a Vault, ApiError> {
    let id = vault_id(ctx);
    ctx.world.rsv_vaults.get(&key(&id)).ok_or_else(|| ApiError::not_found(A, &id))
}

fn item<'a>(ctx: &'a Ctx) -> Result<&'a ProtectedItem, ApiError> {
    let id = format!(
        "{}/backupFabrics/{}/protectionContainers/{}/protectedItems/{}",
        vault_id(ctx),
        ctx.p("fabric"),
        ctx.p("container"),
        ctx.p("item")
    );
    ctx.world.items.get(&key(&id)).ok_or_else(|| {
        ApiError::arm(
            404,
            "BMSUserErrorItemNotFound",
            format!("Protected item '{}' was not found in the vault.", ctx.p("item")),
        )
    })
}

fn find_rp<'a>(pi: &'a ProtectedItem, rp: &str) -> Result<&'a RsvRecoveryPoint, ApiError> {
    pi.recovery_points.iter().find(|r| r.id == rp).ok_or_else(|| {
        ApiError::arm(
            404,
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{rp}' was not found for '{}'.", pi.item_name),
        )
    })
}

/// A protected item resource body (`ProtectedItemResource`, `Microsoft.Compute/virtualMachines`).
pub fn item_body(ctx: &Ctx, pi: &ProtectedItem) -> rs::ProtectedItemResource {
    let vault = ctx.world.rsv_vaults.get(&pi.vault);
    let last = pi.recovery_points.first().map(|r| Timestamp::new(fmt_time(r.time)));
    let props = rs::AzureIaaSVMProtectedItem {
        backup_management_type: Some("AzureIaasVM".into()),
        workload_type: Some("VM".into()),
        container_name: Some(pi.container_name.split_once(';').map(|x| x.1).unwrap_or(&pi.container_name).to_string()),
        friendly_name: Some(pi.vm_name.clone()),
        virtual_machine_id: Some(pi.vm_id.clone()),
        source_resource_id: Some(pi.vm_id.clone()),
        policy_id: Some(format!(
            "{}/backupPolicies/{}",
            vault.map(|v| v.id.clone()).unwrap_or_default(),
            pi.policy_name
        )),
        policy_name: Some(pi.policy_name.clone()),
        protection_status: Some("Healthy".into()),
        protection_state: Some("Protected".into()),
        health_status: Some("Passed".into()),
        last_backup_status: Some("Completed".into()),
        last_backup_time: last.clone(),
        last_recovery_point: last,
        protected_item_data_id: Some("636482643132986882".into()),
        ..Default::default()
    };
    ArmResource {
        id: Some(pi.id.clone()),
        name: Some(pi.item_name.clone()),
        resource_type: Some(
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems".into(),
        ),
        ..ArmResource::new(rs::ProtectedItem::AzureIaaSComputeVM(props))
    }
}

/// A VM recovery point resource body (`RecoveryPointResource`, `IaasVMRecoveryPoint`).
pub fn rp_body(ctx: &Ctx, pi: &ProtectedItem, rp: &RsvRecoveryPoint) -> rs::RecoveryPointResource {
    let vm = ctx.world.vms.get(&key(&pi.vm_id));
    let disks = vm.map(|v| v.data_disks.len() as i64 + 1).unwrap_or(1);
    let props = rs::IaasVMRecoveryPoint {
        recovery_point_type: Some(rp.kind.clone()),
        recovery_point_time: Some(Timestamp::new(fmt_time(rp.time))),
        recovery_point_additional_info: Some(String::new()),
        source_vm_storage_type: Some("PremiumVMOnPartialPremiumStorage".into()),
        is_source_vm_encrypted: Some(false),
        is_instant_ilr_session_active: Some(false),
        recovery_point_tier_details: rp
            .tiers
            .iter()
            .map(|t| rs::RecoveryPointTierInformation {
                tier_type: Some(StrOrNum::Str(t.kind.clone())),
                status: Some(StrOrNum::Str(t.status.clone())),
                extended_info: None,
            })
            .collect(),
        is_managed_virtual_machine: Some(true),
        virtual_machine_size: Some(vm.map(|v| v.size.clone()).unwrap_or_default()),
        original_storage_account_option: Some(false),
        os_type: Some("Linux".into()),
        recovery_point_disk_configuration: Some(rs::RecoveryPointDiskConfiguration {
            number_of_disks_included_in_backup: Some(disks),
            number_of_disks_attached_to_vm: Some(disks),
            included_disk_list: vm
                .map(|v| {
                    v.data_disks
                        .iter()
                        .map(|(lun, id)| rs::DiskInformation {
                            lun: Some(i64::from(*lun)),
                            name: id.rsplit('/').next().map(str::to_string),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            excluded_disk_list: vec![],
        }),
        recovery_point_properties: Some(rs::RecoveryPointProperties {
            expiry_time: Some(Timestamp::new(fmt_time(rp.expiry))),
            rule_name: Some("DailyRule".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    ArmResource {
        id: Some(format!("{}/recoveryPoints/{}", pi.id, rp.id)),
        name: Some(rp.id.clone()),
        resource_type: Some(
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints".into(),
        ),
        ..ArmResource::new(rs::RecoveryPoint::IaasVM(props))
    }
}

/// GET {V}/backupProtectedItems
pub fn items_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let items: Vec<_> = ctx.world.items.values().filter(|p| p.vault == v).map(|p| item_body(ctx, p)).collect();
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}

/// GET {PI}
pub fn item_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let pi = item(ctx)?;
    ApiResponse::model(&item_body(ctx, pi))
}

fn rp_list(ctx: &Ctx, secondary: bool) -> Result<ApiResponse, ApiError> {
    let (mut start, mut end) = (None, None);
    if let Some(filter) = ctx.q("$filter") {
        let clauses =
            parse_filter(filter).map_err(|e| bad("BMSUserErrorInvalidInput", format!("Invalid $filter: {e}.")))?;
        for (k, v) in clauses {
            let t = || {
                parse_rsv_filter_time(&v).ok_or_else(|| {
                    bad(
                        "BMSUserErrorInvalidInput",
                        format!("Invalid $filter: '{v}' for {k} is not a time like 'yyyy-MM-dd hh:mm:ss AM'."),
                    )
                })
            };
            match k.as_str() {
                "startdate" => start = Some(t()?),
                "enddate" => end = Some(t()?),
                "restorepointquerytype" | "extendedinfo" => {}
                other => {
                    return Err(bad(
                        "BMSUserErrorInvalidInput",
                        format!("Invalid $filter: '{other}' is not supported; use startDate and endDate."),
                    ));
                }
            }
        }
    }
    let pi = item(ctx)?;
    let items: Vec<_> = pi
        .recovery_points
        .iter()
        .filter(|r| !secondary || r.replicated)
        .filter(|r| start.is_none_or(|s| r.time >= s) && end.is_none_or(|e| r.time <= e))
        .map(|r| rp_body(ctx, pi, r))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}

/// GET {PI}/recoveryPoints
pub fn recovery_points_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    rp_list(ctx, false)
}

/// GET {PI}/recoveryPoints/{rp}
pub fn recovery_point_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let pi = item(ctx)?;
    ApiResponse::model(&rp_body(ctx, pi, find_rp(pi, ctx.p("rp"))?))
}

fn crr_vault<'a>(ctx: &'a Ctx, pi: &ProtectedItem) -> Result<&'a Vault, ApiError> {
    let v = ctx.world.rsv_vaults.get(&pi.vault).ok_or_else(|| ApiError::not_found(A, &pi.vault))?;
    if !v.crr {
        return Err(bad(
            "BMSUserErrorCrossRegionRestoreNotEnabled",
            format!("Cross Region Restore is not enabled on vault '{}'.", v.name),
        ));
    }
    Ok(v)
}

/// GET {PI}/recoveryPoints with the CRR api-version: the secondary region's copies.
pub fn crr_recovery_points_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    crr_vault(ctx, item(ctx)?)?;
    rp_list(ctx, true)
}

/// GET {PI}/recoveryPoints/{rp} with the CRR api-version.
pub fn crr_recovery_point_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let pi = item(ctx)?;
    crr_vault(ctx, pi)?;
    let rp = find_rp(pi, ctx.p("rp"))?;
    if !rp.replicated {
        return Err(ApiError::arm(
            404,
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{}' is not in the secondary region yet.", rp.id),
        ));
    }
    ApiResponse::model(&rp_body(ctx, pi, rp))
}

/// A checked VM restore.
struct VmPlan {
    rp: RsvRecoveryPoint,
    effects: Vec<Effect>,
    target_name: String,
    destination: String,
    details: Vec<(String, String)>,
    /// The job's GUID, chosen with the plan because the staging files are named after it.
    guid: String,
}

fn lower_rg(id: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    (segs.len() >= 4 && segs[0].eq_ignore_ascii_case("subscriptions") && segs[2].eq_ignore_ascii_case("resourceGroups"))
        .then(|| (segs[1].to_string(), segs[3].to_string()))
}

/// Validates an `IaasVMRestoreRequest` like the service; `region` is the vault region (or secondary for CRR).
fn check_vm_restore(
    ctx: &Ctx,
    pi: &ProtectedItem,
    rp_id: &str,
    props: &Value,
    region: &str,
) -> Result<VmPlan, ApiError> {
    let inv = |m: String| bad("BMSUserErrorInvalidInput", m);
    match str_ci(props, "objectType") {
        Some(t) if t == "IaasVMRestoreRequest" || t == "IaasVMRestoreWithRehydrationRequest" => {}
        other => return Err(inv(format!("properties.objectType {other:?} must be IaasVMRestoreRequest"))),
    }
    if let Some(body_rp) = str_ci(props, "recoveryPointId")
        && body_rp != rp_id
    {
        return Err(inv(format!(
            "properties.recoveryPointId '{body_rp}' does not match the recovery point '{rp_id}' in the URL"
        )));
    }
    let rp = pi
        .recovery_points
        .iter()
        .find(|r| r.id == rp_id)
        .ok_or_else(|| bad("UserErrorRecoveryPointNotFound", format!("Recovery point '{rp_id}' was not found.")))?;
    // Azure documents no dedicated code for these (azure-backup-rest.md §errors): both are "not found".
    if rp.expiry <= ctx.now {
        return Err(bad(
            "UserErrorRecoveryPointNotFound",
            format!(
                "Recovery point '{rp_id}' expired at {} and was removed; choose a newer recovery point.",
                fmt_time(rp.expiry)
            ),
        ));
    }
    if !rp.usable() {
        let tiers: Vec<String> = rp.tiers.iter().map(|t| format!("{}: {}", t.kind, t.status)).collect();
        return Err(bad(
            "UserErrorRecoveryPointNotFound",
            format!(
                "Recovery point '{rp_id}' has no Valid tier ({}); choose another recovery point.",
                tiers.join(", ")
            ),
        ));
    }
    let recovery_type = str_ci(props, "recoveryType").unwrap_or_default();
    if !["RestoreDisks", "AlternateLocation", "OriginalLocation"].contains(&recovery_type) {
        return Err(inv(format!(
            "properties.recoveryType '{recovery_type}' must be RestoreDisks, AlternateLocation or OriginalLocation"
        )));
    }
    let source = str_ci(props, "sourceResourceId").unwrap_or_default();
    if !source.eq_ignore_ascii_case(&pi.vm_id) {
        return Err(inv(format!("properties.sourceResourceId '{source}' must be the protected VM '{}'", pi.vm_id)));
    }
    let req_region = str_ci(props, "region").unwrap_or_default();
    if norm_region(req_region) != norm_region(region) {
        return Err(inv(format!("properties.region '{req_region}' must be '{region}'")));
    }
    let vm = ctx
        .world
        .vms
        .get(&key(&pi.vm_id))
        .cloned()
        .ok_or_else(|| inv(format!("the protected VM '{}' no longer exists", pi.vm_id)))?;
    let mut luns: Vec<i32> = vm.data_disks.iter().map(|(l, _)| *l).collect();
    if let Some(list) = get_ci(props, "restoreDiskLunList").and_then(Value::as_array) {
        let mut chosen = vec![];
        for l in list {
            let lun = l.as_i64().ok_or_else(|| inv("properties.restoreDiskLunList must hold integers".into()))? as i32;
            if !luns.contains(&lun) {
                return Err(inv(format!(
                    "properties.restoreDiskLunList has LUN {lun}, which the VM does not have (LUNs: {luns:?})"
                )));
            }
            chosen.push(lun);
        }
        luns = chosen;
    }
    let storage = str_ci(props, "storageAccountId")
        .or_else(|| get_ci(props, "identityBasedRestoreDetails").and_then(|d| str_ci(d, "targetStorageAccountId")));
    let needs_target = recovery_type != "OriginalLocation";
    // Azure documents "Recover disks" for a restore-disks job; the other modes keep the request's word.
    let job_type = if recovery_type == "RestoreDisks" { "Recover disks" } else { recovery_type };
    let mut details = vec![("Job Type".to_string(), job_type.to_string())];
    let mut staging_account = String::new();
    if needs_target {
        let sa = storage.ok_or_else(|| {
            inv("properties.storageAccountId (or identityBasedRestoreDetails.targetStorageAccountId) is required"
                .into())
        })?;
        if !ctx.world.storage_accounts.contains(&key(sa)) {
            return Err(bad("UserErrorStorageAccountNotFound", format!("Storage account '{sa}' was not found.")));
        }
        staging_account = sa.rsplit('/').next().unwrap_or_default().to_string();
        details.push(("Target Storage Account Name".into(), staging_account.clone()));
    }
    let stamp = {
        let t = ctx.now;
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let (target_sub, target_rg) = if needs_target {
        let rg_id = str_ci(props, "targetResourceGroupId").ok_or_else(|| {
            inv("properties.targetResourceGroupId is required (/subscriptions/{s}/resourceGroups/{rg})".into())
        })?;
        let (s, rg) = lower_rg(rg_id)
            .ok_or_else(|| inv(format!("properties.targetResourceGroupId '{rg_id}' is not a resource group id")))?;
        let rg_decl = ctx.world.resource_groups.get(&crate::world::rg_key(&s, &rg)).ok_or_else(|| {
            bad("UserErrorTargetResourceGroupNotFound", format!("Target resource group '{rg}' does not exist."))
        })?;
        details.push(("Target resource group".into(), rg_decl.name.clone()));
        (s, rg_decl.name.clone())
    } else {
        lower_rg(&vm.id).unwrap_or_default()
    };
    let disk = |name: String| {
        format!("/subscriptions/{target_sub}/resourceGroups/{target_rg}/providers/Microsoft.Compute/disks/{name}")
    };
    // Azure adds a unique suffix so two restores of one VM in the same second do not collide; so do we.
    let unique = crate::util::guid().chars().take(8).collect::<String>();
    let job_guid = guid();
    let os_disk = disk(format!("{}-osdisk-{stamp}-{unique}", vm.name));
    let data: Vec<(i32, String)> =
        luns.iter().map(|l| (*l, disk(format!("{}-datadisk-{l}-{stamp}-{unique}", vm.name)))).collect();
    let mut effects = vec![Effect::CreateDisk { id: os_disk.clone(), location: region.to_string(), size_gb: 128 }];
    effects.extend(data.iter().map(|(_, id)| Effect::CreateDisk {
        id: id.clone(),
        location: region.to_string(),
        size_gb: 256,
    }));
    let (target_name, destination) = match recovery_type {
        "AlternateLocation" => {
            let target_vm = str_ci(props, "targetVirtualMachineId")
                .ok_or_else(|| inv("properties.targetVirtualMachineId is required for AlternateLocation".into()))?;
            let vnet = str_ci(props, "virtualNetworkId")
                .ok_or_else(|| inv("properties.virtualNetworkId is required for AlternateLocation".into()))?;
            let subnet = str_ci(props, "subnetId")
                .ok_or_else(|| inv("properties.subnetId is required for AlternateLocation".into()))?;
            if !ctx.world.vnets.contains(&key(vnet)) {
                return Err(inv(format!("properties.virtualNetworkId '{vnet}' was not found")));
            }
            if !ctx.world.subnets.contains(&key(subnet)) {
                return Err(inv(format!("properties.subnetId '{subnet}' was not found")));
            }
            if ctx.world.vms.contains_key(&key(target_vm)) {
                return Err(bad(
                    "UserErrorVmAlreadyExists",
                    format!("A VM '{target_vm}' already exists; choose another name."),
                ));
            }
            effects.push(Effect::CreateVm {
                id: target_vm.to_string(),
                location: region.to_string(),
                size: vm.size.clone(),
                os_disk: os_disk.clone(),
                data_disks: data,
                subnet: subnet.to_string(),
            });
            (target_vm.rsplit('/').next().unwrap_or_default().to_string(), target_vm.to_string())
        }
        "OriginalLocation" => {
            effects.push(Effect::ReplaceDisks { vm: vm.id.clone(), os_disk: os_disk.clone(), data_disks: data });
            (vm.name.clone(), vm.id.clone())
        }
        _ => {
            let mut staging = crate::staging::StagingPlan::new(&staging_account, &vm.name, &job_guid);
            staging.vm_size = vm.size.clone();
            staging.location = region.to_string();
            staging.os_disk = os_disk.rsplit('/').next().unwrap_or_default().to_string();
            staging.data_disks =
                data.iter().map(|(l, id)| (*l, id.rsplit('/').next().unwrap_or_default().to_string())).collect();
            details.extend(staging.property_bag(ctx.origin));
            effects.push(Effect::StageFiles(staging));
            (vm.name.clone(), format!("/subscriptions/{target_sub}/resourceGroups/{target_rg}"))
        }
    };
    parse_model::<rs::RestoreRequest>(props, "properties", A)?;
    Ok(VmPlan { rp: rp.clone(), effects, target_name, destination, details, guid: job_guid })
}

fn create_restore_job(ctx: &mut Ctx, pi: &ProtectedItem, plan: VmPlan, api: JobApi) -> Result<Job, ApiError> {
    let v = ctx.world.rsv_vaults.get(&pi.vault).cloned().ok_or_else(|| ApiError::not_found(A, &pi.vault))?;
    if let Some(limit) = v.max_concurrent_restores
        && ctx.world.running_restores(&pi.vault, ctx.now) >= limit
    {
        return Err(bad(
            "UserErrorMaxConcurrentOperationLimitReached",
            format!(
                "The vault '{}' already runs {limit} restore operations; wait for one to finish and retry.",
                v.name
            ),
        ));
    }
    let crr = matches!(api, JobApi::RsvCrr { .. });
    let duration = if crr {
        ctx.world.settings.job_durations.cross_region_restore
    } else {
        ctx.world.settings.job_durations.vm_restore
    };
    let job = Job {
        guid: plan.guid,
        vault: pi.vault.clone(),
        api,
        operation: if crr { "CrossRegionRestore".into() } else { "Restore".into() },
        start: ctx.now,
        end: ctx.now + Duration::seconds_f64(duration),
        outcome: ctx.world.rule_outcome(&plan.rp.id, &plan.target_name),
        effects: plan.effects,
        applied: false,
        source_id: pi.id.clone(),
        datasource_id: pi.vm_id.clone(),
        datasource_name: pi.vm_name.clone(),
        recovery_point: Some((plan.rp.id.clone(), plan.rp.time)),
        destination: Some(plan.destination),
        details: plan.details.into_iter().collect(),
        restored: vec![],
    };
    ctx.world.jobs.push(job.clone());
    Ok(job)
}

/// The `iaasvmcontainer;iaasVMContainerV2;rg;vm` casing real 202 headers carry.
fn mixed_case(name: &str, first: &str) -> String {
    let mut parts: Vec<String> = name.split(';').map(str::to_string).collect();
    if let Some(p) = parts.first_mut() {
        *p = first.to_string();
    }
    if let Some(p) = parts.get_mut(1)
        && p.eq_ignore_ascii_case("iaasvmcontainerv2")
    {
        *p = "iaasVMContainerV2".into();
    }
    parts.join(";")
}

fn item_header_base(ctx: &Ctx, pi: &ProtectedItem) -> String {
    let v = ctx.world.rsv_vaults.get(&pi.vault);
    let (container, item) = if ctx.world.quirks().mixed_case_header_names {
        (mixed_case(&pi.container_name, "iaasvmcontainer"), mixed_case(&pi.item_name, "vm"))
    } else {
        (pi.container_name.clone(), pi.item_name.clone())
    };
    format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/microsoft.recoveryservices/vaults/{}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}",
        ctx.origin,
        v.map(|v| v.subscription.clone()).unwrap_or_default(),
        v.map(|v| v.resource_group.clone()).unwrap_or_default(),
        v.map(|v| v.name.clone()).unwrap_or_default(),
    )
}

fn item_accepted(ctx: &Ctx, pi: &ProtectedItem, op: &str) -> ApiResponse {
    let base = item_header_base(ctx, pi);
    let v = ctx.header_api_version("2019-05-13");
    let mut r = ApiResponse::empty(202)
        .header("Azure-AsyncOperation", format!("{base}/operationsStatus/{op}?api-version={v}"))
        .header("Location", format!("{base}/operationResults/{op}?api-version={v}"));
    if ctx.world.quirks().retry_after_values {
        r = r.header("Retry-After", "60");
    }
    r
}

/// POST {PI}/recoveryPoints/{rp}/restore: 202 only.
pub fn restore(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let props = get_ci(&body, "properties").cloned().ok_or_else(|| {
        bad(
            "BMSUserErrorInvalidInput",
            "properties is required: {\"properties\": {\"objectType\": \"IaasVMRestoreRequest\", …}}",
        )
    })?;
    parse_model::<rs::RestoreRequestResource>(&body, "the restore body", A)?;
    let pi = item(ctx)?.clone();
    let region = ctx.world.rsv_vaults.get(&pi.vault).map(|v| v.location.clone()).unwrap_or_default();
    let plan = check_vm_restore(ctx, &pi, ctx.p("rp"), &props, &region)?;
    let job = create_restore_job(ctx, &pi, plan, JobApi::Rsv)?;
    let op = Operation {
        id: guid(),
        scope: OpScope::RsvItem(key(&pi.id)),
        subscription: ctx.p("sub").to_string(),
        location: region,
        start: ctx.now,
        done_at: ctx.now + Duration::seconds_f64(ctx.world.settings.operation_delay_seconds),
        job: Some((job.guid.clone(), ctx.world.job_full_id(&job))),
        error: None,
        effect: None,
        applied: false,
    };
    let id = ctx.world.add_operation(op);
    Ok(item_accepted(ctx, &pi, &id))
}

fn rsv_op<'a>(ctx: &'a Ctx) -> Result<&'a Operation, ApiError> {
    ctx.world.operation(ctx.p("sub"), ctx.p("op")).ok_or_else(|| {
        ApiError::arm(404, "BMSUserErrorOperationNotFound", format!("Operation '{}' was not found.", ctx.p("op")))
    })
}

/// GET {PI}/operationsStatus/{op}
pub fn item_operation_status(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    item(ctx)?;
    let op = rsv_op(ctx)?;
    ApiResponse::model(&ctx.world.rsv_operation_status(op, &op.id, ctx.now))
}

/// GET {PI}/operationResults/{op}: 202 while running, then 204.
pub fn item_operation_results(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let pi = item(ctx)?.clone();
    let op = rsv_op(ctx)?.clone();
    if op.done(ctx.now) { Ok(ApiResponse::empty(204)) } else { Ok(item_accepted(ctx, &pi, &op.id)) }
}

/// GET {V}/backupOperations/{op}
pub fn vault_operation_status(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    vault(ctx)?;
    let op = rsv_op(ctx)?;
    ApiResponse::model(&ctx.world.rsv_operation_status(op, &op.id, ctx.now))
}

/// GET {V}/backupJobs?$filter
pub fn jobs_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let mut start = None;
    let mut end = None;
    let mut operation = None;
    let mut status = None;
    if let Some(filter) = ctx.q("$filter") {
        for (k, val) in
            parse_filter(filter).map_err(|e| bad("BMSUserErrorInvalidInput", format!("Invalid $filter: {e}.")))?
        {
            let t = || {
                parse_rsv_filter_time(&val).or_else(|| crate::util::parse_time(&val)).ok_or_else(|| {
                    bad(
                        "BMSUserErrorInvalidInput",
                        format!("Invalid $filter: '{val}' for {k} is not a time like 'yyyy-MM-dd hh:mm:ss AM'."),
                    )
                })
            };
            match k.as_str() {
                "starttime" => start = Some(t()?),
                "endtime" => end = Some(t()?),
                "operation" => operation = Some(val),
                "status" => status = Some(val),
                "backupmanagementtype" => {}
                other => {
                    return Err(bad(
                        "BMSUserErrorInvalidInput",
                        format!("Invalid $filter: '{other}' is not supported."),
                    ));
                }
            }
        }
    }
    let now = ctx.now;
    let items: Vec<_> = ctx
        .world
        .jobs
        .iter()
        .rev()
        .filter(|j| j.vault == v && j.api == JobApi::Rsv)
        .filter(|j| start.is_none_or(|s| j.start >= s) && end.is_none_or(|e| j.start <= e))
        .filter(|j| operation.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(&j.operation)))
        .filter(|j| status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(j.status(now))))
        .map(|j| ctx.world.rsv_job_body(j, now))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}

/// GET {V}/backupJobs/{job}
pub fn job_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let job = ctx.world.job(ctx.p("job")).filter(|j| j.vault == v && j.api == JobApi::Rsv).ok_or_else(|| {
        ApiError::arm(404, "BMSUserErrorJobNotFound", format!("Job '{}' was not found.", ctx.p("job")))
    })?;
    ApiResponse::model(&ctx.world.rsv_job_body(job, ctx.now))
}

/// POST {V}/backupValidateOperation: 200 with validation results (empty when the restore would be accepted).
pub fn validate_operation(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let v = vault(ctx)?.clone();
    let rp_id = str_ci(&body, "id")
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "id (the recovery point ARM id) is required"))?;
    let (pi_id, rp) = rp_id
        .rsplit_once("/recoveryPoints/")
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", format!("id '{rp_id}' is not a recovery point id")))?;
    let pi = ctx.world.items.get(&key(pi_id)).cloned().ok_or_else(|| {
        bad("BMSUserErrorItemNotFound", format!("id '{rp_id}' names no protected item of this vault"))
    })?;
    let req = get_ci(&body, "properties")
        .and_then(|p| get_ci(p, "restoreRequest"))
        .cloned()
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "properties.restoreRequest is required"))?;
    parse_model::<rs::ValidateOperationRequestResource>(&body, "the backupValidateOperation body", A)?;
    let validation_results = match check_vm_restore(ctx, &pi, rp, &req, &v.location) {
        Ok(_) => vec![],
        Err(e) => vec![ValidationError {
            code: Some(e.code),
            message: Some(e.message),
            recommendations: vec!["Correct the restore request and validate again.".into()],
        }],
    };
    ApiResponse::model(&rs::ValidateOperationsResponse {
        validate_operation_response: Some(rs::ValidateOperationResponse { validation_results }),
    })
}

/// GET /subscriptions/{s}/providers/Microsoft.RecoveryServices/locations/{loc}/backupAadProperties
pub fn aad_properties(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let short: String =
        ctx.p("loc").chars().filter(|c| c.is_ascii_alphanumeric()).take(3).collect::<String>().to_ascii_lowercase();
    let body: crr::AadPropertiesResource = ArmResource {
        id: Some(format!("/subscriptions/{}", ctx.p("sub"))),
        ..ArmResource::new(crr::AadProperties {
            tenant_id: Some(ctx.world.tenant_id.clone()),
            audience: Some(format!("https://RecoveryServices/IaasCoord/aadmgmt/{short}")),
            service_principal_object_id: Some("07e0a67b-cba3-4fcf-a58c-b670d5ced06d".into()),
            ..Default::default()
        })
    };
    ApiResponse::model(&body)
}

/// POST {PI}/recoveryPoints/{rp}/accessToken
pub fn access_token(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let props = get_ci(&body, "properties").cloned().unwrap_or(Value::Null);
    if str_ci(&props, "tenantId").is_none() || str_ci(&props, "audience").is_none() {
        return Err(bad(
            "BMSUserErrorInvalidInput",
            "properties.tenantId and properties.audience are required: send the backupAadProperties response",
        ));
    }
    parse_model::<crr::AadPropertiesResource>(&body, "the accessToken body", A)?;
    let pi = item(ctx)?.clone();
    let v = crr_vault(ctx, &pi)?.clone();
    let rp = find_rp(&pi, ctx.p("rp"))?.clone();
    if !rp.replicated {
        return Err(bad(
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{}' is not in the secondary region yet.", rp.id),
        ));
    }
    let expires = ctx.now + Duration::hours(1);
    let token = b64(json!({"item": pi.id, "rp": rp.id, "exp": fmt_time(expires)}).to_string().as_bytes());
    let native = pi.container_name.split_once(';').map(|x| x.1).unwrap_or(&pi.container_name).to_string();
    let fields = crr::CrrAccessTokenFields {
        access_token_string: Some(token),
        subscription_id: Some(v.subscription.clone()),
        resource_group_name: Some(v.resource_group.clone()),
        resource_name: Some(v.name.clone()),
        resource_id: Some("3639249524302882971".into()),
        protection_container_id: Some(0),
        recovery_point_id: Some(rp.id.clone()),
        recovery_point_time: Some(Timestamp::new(fmt_us_time(rp.time))),
        container_name: Some(native.clone()),
        container_type: Some("IaasVMContainer".into()),
        backup_management_type: Some("AzureIaasVM".into()),
        datasource_type: Some("VM".into()),
        datasource_name: Some(pi.vm_name.clone()),
        datasource_id: Some("2252345172496828211".into()),
        datasource_container_name: Some(native),
        coordinator_service_stamp_uri: Some("https://pod01-coord1.backup.emulator.invalid".into()),
        protection_service_stamp_id: Some(guid()),
        protection_service_stamp_uri: Some("https://pod01-prot1.backup.emulator.invalid".into()),
        token_extended_information: Some("<IaaSVMRecoveryPointMetadataBase />".into()),
        rp_tier_information: Some(rp.tiers.iter().map(|t| (t.kind.clone(), t.status.clone())).collect()),
        rp_original_sa_option: Some(false),
        rp_is_managed_virtual_machine: Some(true),
        rp_vm_size_description: Some("Standard_D2s_v3".into()),
        bms_active_region: Some(v.location.clone()),
        ..Default::default()
    };
    let body: crr::CrrAccessTokenResource = ArmResource {
        id: Some(format!("{}/recoveryPoints/{}", pi.id, rp.id)),
        name: Some(rp.id.clone()),
        resource_type: Some(
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints".into(),
        ),
        ..ArmResource::new(crr::CrrAccessToken::WorkloadCrrAccessToken(fields))
    };
    ApiResponse::model(&body)
}

fn crr_headers(ctx: &Ctx, op: &str) -> ApiResponse {
    let base = format!(
        "{}/subscriptions/{}/providers/microsoft.recoveryservices/locations/{}",
        ctx.origin,
        ctx.p("sub"),
        ctx.p("loc")
    );
    let v = ctx.api_version;
    let mut r = ApiResponse::empty(202)
        .header("Azure-AsyncOperation", format!("{base}/backupCrrOperationsStatus/{op}?api-version={v}"))
        .header("Location", format!("{base}/backupCrrOperationResults/{op}?api-version={v}"));
    if ctx.world.quirks().retry_after_values {
        r = r.header("Retry-After", "60");
    }
    r
}

/// POST …/locations/{loc}/backupCrossRegionRestore
pub fn crr_trigger(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let access = get_ci(&body, "crossRegionRestoreAccessDetails").cloned().ok_or_else(|| {
        bad(
            "BMSUserErrorInvalidInput",
            "crossRegionRestoreAccessDetails is required (the accessToken response's properties)",
        )
    })?;
    let req = get_ci(&body, "restoreRequest")
        .cloned()
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "restoreRequest is required"))?;
    let token = str_ci(&access, "accessTokenString").ok_or_else(|| {
        bad("BMSUserErrorInvalidInput", "crossRegionRestoreAccessDetails.accessTokenString is required")
    })?;
    parse_model::<crr::CrossRegionRestoreRequest>(&body, "the backupCrossRegionRestore body", A)?;
    let decoded: Value = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .or_else(|| b64url_decode(token))
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                bad(
                    "UserErrorCrrAccessTokenInvalid",
                    "The CRR access token is invalid; fetch a new one with accessToken.",
                )
            })?
    };
    let pi_id = decoded["item"].as_str().unwrap_or_default();
    let rp_id = decoded["rp"].as_str().unwrap_or_default().to_string();
    let exp = decoded["exp"].as_str().and_then(crate::util::parse_time).unwrap_or(ctx.now);
    if exp <= ctx.now {
        return Err(bad(
            "UserErrorCrrAccessTokenExpired",
            "The CRR access token expired; fetch a new one with accessToken.",
        ));
    }
    if str_ci(&access, "recoveryPointId").is_some_and(|r| r != rp_id) {
        return Err(bad(
            "UserErrorCrrAccessTokenInvalid",
            "crossRegionRestoreAccessDetails.recoveryPointId does not match the access token",
        ));
    }
    let pi = ctx
        .world
        .items
        .get(&key(pi_id))
        .cloned()
        .ok_or_else(|| bad("UserErrorCrrAccessTokenInvalid", "The access token names no protected item."))?;
    let v = crr_vault(ctx, &pi)?.clone();
    let secondary = v.secondary_region.clone().unwrap_or_default();
    if norm_region(ctx.p("loc")) != norm_region(&secondary) {
        return Err(bad(
            "BMSUserErrorInvalidInput",
            format!("the location '{}' in the path must be the vault's secondary region '{secondary}'", ctx.p("loc")),
        ));
    }
    let plan = check_vm_restore(ctx, &pi, &rp_id, &req, &secondary)?;
    let job = create_restore_job(ctx, &pi, plan, JobApi::RsvCrr { region: ctx.p("loc").to_string() })?;
    let op = Operation {
        id: b64(format!("{};{}", guid(), guid()).as_bytes()),
        scope: OpScope::RsvCrr,
        subscription: ctx.p("sub").to_string(),
        location: ctx.p("loc").to_string(),
        start: ctx.now,
        done_at: ctx.now + Duration::seconds_f64(ctx.world.settings.operation_delay_seconds),
        job: Some((job.guid.clone(), ctx.world.job_full_id(&job))),
        error: None,
        effect: None,
        applied: false,
    };
    let id = ctx.world.add_operation(op);
    Ok(crr_headers(ctx, &id))
}

/// GET …/locations/{loc}/backupCrrOperationsStatus/{op}
pub fn crr_operation_status(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = rsv_op(ctx)?;
    let id = format!(
        "/subscriptions/{}/providers/microsoft.recoveryservices/locations/{}/backupCrrOperationsStatus/{}",
        ctx.p("sub"),
        ctx.p("loc"),
        op.id
    );
    ApiResponse::model(&ctx.world.rsv_operation_status(op, &id, ctx.now))
}

/// GET …/locations/{loc}/backupCrrOperationResults/{op}: 202 while running, 200 after.
pub fn crr_operation_results(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = rsv_op(ctx)?.clone();
    if op.done(ctx.now) { Ok(ApiResponse::empty(200)) } else { Ok(crr_headers(ctx, &op.id)) }
}

fn crr_jobs_for(ctx: &Ctx, resource_id: &str) -> Vec<rs::JobResource> {
    ctx.world
        .jobs
        .iter()
        .rev()
        .filter(|j| matches!(j.api, JobApi::RsvCrr { .. }))
        .filter(|j| {
            let vault_id = ctx.world.rsv_vaults.get(&j.vault).map(|v| v.id.as_str()).unwrap_or_default();
            vault_id.eq_ignore_ascii_case(resource_id) || j.datasource_id.eq_ignore_ascii_case(resource_id)
        })
        .map(|j| ctx.world.rsv_job_body(j, ctx.now))
        .collect()
}

/// POST …/locations/{loc}/backupCrrJob {resourceId, jobName}
pub fn crr_job(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let resource = str_ci(&body, "resourceId")
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "resourceId (the vault ARM id) is required"))?;
    let name = str_ci(&body, "jobName").ok_or_else(|| bad("BMSUserErrorInvalidInput", "jobName is required"))?;
    parse_model::<crr::CrrJobRequest>(&body, "the backupCrrJob body", A)?;
    crr_jobs_for(ctx, resource)
        .into_iter()
        .find(|j| j.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .ok_or_else(|| {
            ApiError::arm(404, "BMSUserErrorJobNotFound", format!("CRR job '{name}' was not found for '{resource}'."))
        })
        .and_then(|j| ApiResponse::model(&j))
}

/// POST …/locations/{loc}/backupCrrJobs {resourceId}
pub fn crr_jobs(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let resource = str_ci(&body, "resourceId")
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "resourceId (the vault ARM id) is required"))?;
    parse_model::<crr::CrrJobsRequest>(&body, "the backupCrrJobs body", A)?;
    let items = crr_jobs_for(ctx, resource);
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}

/// GET a Recovery Services vault (`Microsoft.RecoveryServices/vaults/{vault}`): region, redundancy and CRR.
pub fn vault_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vault(ctx)?;
    Ok(ApiResponse::ok(json!({
        "id": v.id,
        "name": v.name,
        "type": "Microsoft.RecoveryServices/vaults",
        "location": v.location,
        "identity": {"type": "SystemAssigned", "principalId": v.principal_id},
        "sku": {"name": "RS0", "tier": "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "redundancySettings": {
                "standardTierStorageRedundancy": "GeoRedundant",
                "crossRegionRestore": if v.crr { "Enabled" } else { "Disabled" }
            }
        }
    })))
}
