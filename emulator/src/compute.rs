//! Microsoft.Compute: the disks and VMs restores produce (GET, list, DELETE).

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::{fmt_time, guid, key};

fn id(ctx: &Ctx, kind: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{kind}/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("name")
    )
}

fn rg_prefix(ctx: &Ctx, kind: &str) -> String {
    key(&format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{kind}/", ctx.p("sub"), ctx.p("rg")))
}

/// GET disk.
pub fn disk_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "disks");
    let d = ctx
        .world
        .disks
        .get(&key(&id))
        .ok_or_else(|| ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/disks/{}", ctx.p("name"))))?;
    Ok(ApiResponse::ok(ctx.world.disk_body(d)))
}

/// 202 with the Location (`monitor=true`) and Azure-AsyncOperation headers Compute sends for a delete,
/// both pointing at a location-scoped operation that has already succeeded (the resource is gone at once).
fn accepted_delete(ctx: &mut Ctx, location: &str) -> ApiResponse {
    let op = guid();
    ctx.world.compute_operations.insert(key(&op), ctx.now);
    let base = format!(
        "{}/subscriptions/{}/providers/Microsoft.Compute/locations/{}/operations/{op}",
        ctx.origin,
        ctx.p("sub"),
        location.to_ascii_lowercase()
    );
    let version = ctx.api_version;
    ApiResponse::empty(202)
        .header("Location", format!("{base}?monitor=true&api-version={version}"))
        .header("Azure-AsyncOperation", format!("{base}?api-version={version}"))
        .header("Retry-After", "10")
}

/// DELETE disk: 202 + Location/Azure-AsyncOperation when deleted (then GET answers 404), 204 when absent,
/// 409 `OperationNotAllowed` while a VM has it attached (Azure refuses to delete an attached disk).
pub fn disk_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "disks");
    let Some(disk) = ctx.world.disks.get(&key(&id)) else {
        return Ok(ApiResponse::empty(204));
    };
    let location = disk.location.clone();
    if let Some(vm) =
        ctx.world.vms.values().find(|v| {
            v.os_disk.eq_ignore_ascii_case(&id) || v.data_disks.iter().any(|(_, d)| d.eq_ignore_ascii_case(&id))
        })
    {
        return Err(ApiError::arm(
            409,
            "OperationNotAllowed",
            format!("Disk {} is attached to VM {}.", ctx.p("name"), vm.id),
        ));
    }
    ctx.world.disks.remove(&key(&id));
    Ok(accepted_delete(ctx, &location))
}

/// GET a Compute operation: `Azure-AsyncOperation` answers the status body, `Location` (`monitor=true`)
/// answers 200 without a body once done, as Compute does for deletes.
pub fn operation_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = ctx.p("op").to_string();
    let start =
        *ctx.world.compute_operations.get(&key(&op)).ok_or_else(|| {
            ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/locations/operations/{op}"))
        })?;
    if ctx.q("monitor").is_some_and(|m| m.eq_ignore_ascii_case("true")) {
        return Ok(ApiResponse::empty(200));
    }
    Ok(ApiResponse::ok(json!({
        "name": op,
        "status": "Succeeded",
        "startTime": fmt_time(start),
        "endTime": fmt_time(start)
    })))
}

/// GET disks in a resource group.
pub fn disks_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = rg_prefix(ctx, "disks");
    let items: Vec<Value> =
        ctx.world.disks.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, d)| ctx.world.disk_body(d)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}

/// GET VM.
pub fn vm_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    let v = ctx.world.vms.get(&key(&id)).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("name")))
    })?;
    Ok(ApiResponse::ok(ctx.world.vm_body(v)))
}

/// DELETE VM: 202 + Location/Azure-AsyncOperation when deleted (then GET answers 404), 204 when absent. Its
/// disks stay: every disk reports `deleteOption: Detach`, Azure's default.
pub fn vm_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    match ctx.world.vms.remove(&key(&id)) {
        Some(vm) => Ok(accepted_delete(ctx, &vm.location)),
        None => Ok(ApiResponse::empty(204)),
    }
}

/// GET `{vm}/instanceView`: Azure's `VirtualMachineInstanceView` for a running VM whose agent is ready
/// (`ProvisioningState/succeeded` + `PowerState/running`, `vmAgent.statuses` "Ready", each disk provisioned,
/// boot diagnostics on managed storage, which lists no blob URIs).
pub fn vm_instance_view(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    let v = ctx.world.vms.get(&key(&id)).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("name")))
    })?;
    let now = fmt_time(ctx.now);
    let provisioned = json!({
        "code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": now
    });
    let disks: Vec<Value> = std::iter::once(&v.os_disk)
        .chain(v.data_disks.iter().map(|(_, d)| d))
        .map(|d| json!({"name": d.rsplit('/').next().unwrap_or_default(), "statuses": [provisioned]}))
        .collect();
    Ok(ApiResponse::ok(json!({
        "computerName": v.name,
        "vmAgent": {
            "vmAgentVersion": "2.7.41491.1102",
            "statuses": [{
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Ready",
                "message": "GuestAgent is running and processing the extensions.",
                "time": now
            }]
        },
        "disks": disks,
        "bootDiagnostics": {},
        "hyperVGeneration": "V1",
        "statuses": [provisioned, {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"}]
    })))
}

/// GET VMs in a resource group.
pub fn vms_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = rg_prefix(ctx, "virtualmachines");
    let items: Vec<Value> =
        ctx.world.vms.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| ctx.world.vm_body(v)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
