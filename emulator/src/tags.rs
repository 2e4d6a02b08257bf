//! `Microsoft.Resources/tags/default` on the compute resources restores create: `PATCH` with
//! `{"operation": "Merge" | "Replace" | "Delete", "properties": {"tags": {...}}}` and `GET`, as ARM's Tags API
//! does (api-version 2021-04-01). The tags also show on the resource's own GET.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::key;

/// The resource the tags belong to, from the route's captures; 404 when it does not exist.
fn resource(ctx: &Ctx, kind: &str) -> Result<String, ApiError> {
    let id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{kind}/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("name")
    );
    let exists = match kind {
        "disks" => ctx.world.disks.contains_key(&key(&id)),
        _ => ctx.world.vms.contains_key(&key(&id)),
    };
    if !exists {
        return Err(ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/{kind}/{}", ctx.p("name"))));
    }
    Ok(id)
}

fn body(id: &str, tags: &BTreeMap<String, String>) -> Value {
    json!({
        "id": format!("{id}/providers/Microsoft.Resources/tags/default"),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": { "tags": tags }
    })
}

fn patch(ctx: &mut Ctx, kind: &str) -> Result<ApiResponse, ApiError> {
    let id = resource(ctx, kind)?;
    let request: Value = serde_json::from_slice(ctx.body)
        .map_err(|e| ApiError::bad_request(Dialect::Arm, "InvalidRequestContent", format!("not JSON: {e}")))?;
    let given: BTreeMap<String, String> =
        request.pointer("/properties/tags").and_then(|t| serde_json::from_value(t.clone()).ok()).ok_or_else(|| {
            ApiError::bad_request(Dialect::Arm, "InvalidRequestContent", "properties.tags must be an object of strings")
        })?;
    let tags = ctx.world.tags.entry(key(&id)).or_default();
    match request.get("operation").and_then(Value::as_str).unwrap_or_default() {
        "Merge" => tags.extend(given),
        "Replace" => *tags = given,
        "Delete" => tags.retain(|k, v| given.get(k).is_none_or(|g| g != v)),
        other => {
            return Err(ApiError::bad_request(
                Dialect::Arm,
                "InvalidRequestContent",
                format!("operation '{other}' is not Merge, Replace or Delete"),
            ));
        }
    }
    let tags = tags.clone();
    Ok(ApiResponse::ok(body(&id, &tags)))
}

fn get(ctx: &mut Ctx, kind: &str) -> Result<ApiResponse, ApiError> {
    let id = resource(ctx, kind)?;
    let tags = ctx.world.tags.get(&key(&id)).cloned().unwrap_or_default();
    Ok(ApiResponse::ok(body(&id, &tags)))
}

/// PATCH a disk's tags.
pub fn disk_patch(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    patch(ctx, "disks")
}

/// GET a disk's tags.
pub fn disk_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    get(ctx, "disks")
}

/// PATCH a VM's tags.
pub fn vm_patch(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    patch(ctx, "virtualMachines")
}

/// GET a VM's tags.
pub fn vm_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    get(ctx, "virtualMachines")
}
