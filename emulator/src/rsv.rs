//! Microsoft.RecoveryServices (Recovery Services vault) handlers, including the CRR passive stamp.
//!
//! Body kinds built with `json!` here (swap for `restore_models::recoveryservices` / `crr` when available):
//! protected items ([`item_body`]), recovery points ([`rp_body`]), validate results, AAD properties, CRR access
//! tokens.

use serde_json::{Value, json};
use time::Duration;

use crate::arm::{Ctx, parse_filter};
use crate::dpp::get_ci;
use crate::error::{ApiError, ApiResponse, Dialect};
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

/// A protected item resource body.
pub fn item_body(ctx: &Ctx, pi: &ProtectedItem) -> Value {
    let vault = ctx.world.rsv_vaults.get(&pi.vault);
    let last = pi.recovery_points.first().map(|r| fmt_time(r.time));
    json!({
        "id": pi.id,
        "name": pi.item_name,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "backupManagementType": "AzureIaasVM",
            "workloadType": "VM",
            "containerName": pi.container_name.split_once(';').map(|x| x.1).unwrap_or(&pi.container_name),
            "friendlyName": pi.vm_name,
            "virtualMachineId": pi.vm_id,
            "sourceResourceId": pi.vm_id,
            "policyId": format!("{}/backupPolicies/{}", vault.map(|v| v.id.clone()).unwrap_or_default(), pi.policy_name),
            "policyName": pi.policy_name,
            "protectionStatus": "Healthy",
            "protectionState": "Protected",
            "healthStatus": "Passed",
            "lastBackupStatus": "Completed",
            "lastBackupTime": last,
            "lastRecoveryPoint": last,
            "protectedItemDataId": "636482643132986882"
        }
    })
}

/// A VM recovery point resource body.
pub fn rp_body(ctx: &Ctx, pi: &ProtectedItem, rp: &RsvRecoveryPoint) -> Value {
    let vm = ctx.world.vms.get(&key(&pi.vm_id));
    json!({
        "id": format!("{}/recoveryPoints/{}", pi.id, rp.id),
        "name": rp.id,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
        "properties": {
            "objectType": "IaasVMRecoveryPoint",
            "recoveryPointType": rp.kind,
            "recoveryPointTime": fmt_time(rp.time),
            "recoveryPointAdditionalInfo": "",
            "sourceVMStorageType": "PremiumVMOnPartialPremiumStorage",
            "isSourceVMEncrypted": false,
            "isInstantIlrSessionActive": false,
            "recoveryPointTierDetails": rp.tiers.iter().map(|t| json!({"type": t.kind, "status": t.status})).collect::<Vec<_>>(),
            "isManagedVirtualMachine": true,
            "virtualMachineSize": vm.map(|v| v.size.clone()).unwrap_or_default(),
            "originalStorageAccountOption": false,
            "osType": "Linux",
            "recoveryPointDiskConfiguration": {
                "numberOfDisksIncludedInBackup": vm.map(|v| v.data_disks.len() + 1).unwrap_or(1),
                "numberOfDisksAttachedToVm": vm.map(|v| v.data_disks.len() + 1).unwrap_or(1),
                "includedDiskList": vm.map(|v| v.data_disks.iter().map(|(lun, id)| json!({"lun": lun, "name": id.rsplit('/').next()})).collect::<Vec<_>>()).unwrap_or_default(),
                "excludedDiskList": []
            },
            "recoveryPointProperties": {"expiryTime": fmt_time(rp.expiry), "ruleName": "DailyRule"}
        }
    })
}

/// GET {V}/backupProtectedItems
pub fn items_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let items: Vec<Value> = ctx.world.items.values().filter(|p| p.vault == v).map(|p| item_body(ctx, p)).collect();
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}

/// GET {PI}
pub fn item_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let pi = item(ctx)?;
    Ok(ApiResponse::ok(item_body(ctx, pi)))
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
    let items: Vec<Value> = pi
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
    Ok(ApiResponse::ok(rp_body(ctx, pi, find_rp(pi, ctx.p("rp"))?)))
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
    Ok(ApiResponse::ok(rp_body(ctx, pi, rp)))
}

/// A checked VM restore.
struct VmPlan {
    rp: RsvRecoveryPoint,
    effects: Vec<Effect>,
    target_name: String,
    destination: String,
    details: Vec<(String, String)>,
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
    if rp.expiry <= ctx.now || !rp.usable() {
        return Err(bad(
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{rp_id}' has expired or its tiers were deleted; choose another recovery point."),
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
    let mut details = vec![("Job Type".to_string(), recovery_type.to_string())];
    if needs_target {
        let sa = storage.ok_or_else(|| {
            inv("properties.storageAccountId (or identityBasedRestoreDetails.targetStorageAccountId) is required"
                .into())
        })?;
        if !ctx.world.storage_accounts.contains(&key(sa)) {
            return Err(bad("UserErrorStorageAccountNotFound", format!("Storage account '{sa}' was not found.")));
        }
        details.push(("Target Storage Account Name".into(), sa.rsplit('/').next().unwrap_or_default().to_string()));
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
    let os_disk = disk(format!("{}-osdisk-{stamp}", vm.name));
    let data: Vec<(i32, String)> =
        luns.iter().map(|l| (*l, disk(format!("{}-datadisk-{l}-{stamp}", vm.name)))).collect();
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
            });
            (target_vm.rsplit('/').next().unwrap_or_default().to_string(), target_vm.to_string())
        }
        "OriginalLocation" => {
            effects.push(Effect::ReplaceDisks { vm: vm.id.clone(), os_disk: os_disk.clone(), data_disks: data });
            (vm.name.clone(), vm.id.clone())
        }
        _ => (vm.name.clone(), format!("/subscriptions/{target_sub}/resourceGroups/{target_rg}")),
    };
    Ok(VmPlan { rp: rp.clone(), effects, target_name, destination, details })
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
        guid: guid(),
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
    Ok(ApiResponse::ok(ctx.world.operation_status_body(op, &op.id, ctx.now)))
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
    Ok(ApiResponse::ok(ctx.world.operation_status_body(op, &op.id, ctx.now)))
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
    let items: Vec<Value> = ctx
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
    Ok(ApiResponse::ok(ctx.world.rsv_job_body(job, ctx.now)))
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
    let results = match check_vm_restore(ctx, &pi, rp, &req, &v.location) {
        Ok(_) => vec![],
        Err(e) => vec![
            json!({"code": e.code, "message": e.message, "recommendations": ["Correct the restore request and validate again."]}),
        ],
    };
    Ok(ApiResponse::ok(json!({"validateOperationResponse": {"validationResults": results}})))
}

/// GET /subscriptions/{s}/providers/Microsoft.RecoveryServices/locations/{loc}/backupAadProperties
pub fn aad_properties(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let short: String =
        ctx.p("loc").chars().filter(|c| c.is_ascii_alphanumeric()).take(3).collect::<String>().to_ascii_lowercase();
    Ok(ApiResponse::ok(json!({
        "id": format!("/subscriptions/{}", ctx.p("sub")),
        "properties": {
            "tenantId": ctx.world.tenant_id,
            "audience": format!("https://RecoveryServices/IaasCoord/aadmgmt/{short}"),
            "servicePrincipalObjectId": "07e0a67b-cba3-4fcf-a58c-b670d5ced06d"
        }
    })))
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
    Ok(ApiResponse::ok(json!({
        "id": format!("{}/recoveryPoints/{}", pi.id, rp.id),
        "name": rp.id,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
        "properties": {
            "objectType": "WorkloadCrrAccessToken",
            "accessTokenString": token,
            "subscriptionId": v.subscription,
            "resourceGroupName": v.resource_group,
            "resourceName": v.name,
            "resourceId": "3639249524302882971",
            "protectionContainerId": 0,
            "recoveryPointId": rp.id,
            "recoveryPointTime": fmt_us_time(rp.time),
            "containerName": native,
            "containerType": "IaasVMContainer",
            "backupManagementType": "AzureIaasVM",
            "datasourceType": "VM",
            "datasourceName": pi.vm_name,
            "datasourceId": "2252345172496828211",
            "datasourceContainerName": native,
            "coordinatorServiceStampUri": "https://pod01-coord1.backup.emulator.invalid",
            "protectionServiceStampId": guid(),
            "protectionServiceStampUri": "https://pod01-prot1.backup.emulator.invalid",
            "tokenExtendedInformation": "<IaaSVMRecoveryPointMetadataBase />",
            "rpTierInformation": rp.tiers.iter().map(|t| (t.kind.clone(), json!(t.status))).collect::<serde_json::Map<_, _>>(),
            "rpOriginalSAOption": false,
            "rpIsManagedVirtualMachine": true,
            "rpVMSizeDescription": "Standard_D2s_v3",
            "bMSActiveRegion": v.location
        }
    })))
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
    Ok(ApiResponse::ok(ctx.world.operation_status_body(op, &id, ctx.now)))
}

/// GET …/locations/{loc}/backupCrrOperationResults/{op}: 202 while running, 200 after.
pub fn crr_operation_results(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = rsv_op(ctx)?.clone();
    if op.done(ctx.now) { Ok(ApiResponse::empty(200)) } else { Ok(crr_headers(ctx, &op.id)) }
}

fn crr_jobs_for(ctx: &Ctx, resource_id: &str) -> Vec<Value> {
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
    crr_jobs_for(ctx, resource)
        .into_iter()
        .find(|j| j["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map(ApiResponse::ok)
        .ok_or_else(|| {
            ApiError::arm(404, "BMSUserErrorJobNotFound", format!("CRR job '{name}' was not found for '{resource}'."))
        })
}

/// POST …/locations/{loc}/backupCrrJobs {resourceId}
pub fn crr_jobs(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(A)?;
    let resource = str_ci(&body, "resourceId")
        .ok_or_else(|| bad("BMSUserErrorInvalidInput", "resourceId (the vault ARM id) is required"))?;
    let items = crr_jobs_for(ctx, resource);
    Ok(ApiResponse::ok(ctx.page(items, A)?))
}
