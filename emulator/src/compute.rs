//! Microsoft.Compute: the disks and VMs restores produce (GET, list, DELETE).

use serde_json::Value;

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::key;

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

/// DELETE disk: 200 when deleted, 204 when absent.
pub fn disk_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "disks");
    Ok(ApiResponse::empty(if ctx.world.disks.remove(&key(&id)).is_some() { 200 } else { 204 }))
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

/// DELETE VM: 200 when deleted, 204 when absent (its disks stay, as in Azure by default).
pub fn vm_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    Ok(ApiResponse::empty(if ctx.world.vms.remove(&key(&id)).is_some() { 200 } else { 204 }))
}

/// GET VMs in a resource group.
pub fn vms_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = rg_prefix(ctx, "virtualmachines");
    let items: Vec<Value> =
        ctx.world.vms.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| ctx.world.vm_body(v)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
