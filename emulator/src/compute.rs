//! Microsoft.Compute: the disks and VMs restores produce (GET, list, PATCH, DELETE), their instance view, the
//! location-scoped operations Compute's long-running calls point at, and the `rules.deletes` / `rules.vms`
//! switches that make them fail.
//!
//! The conformance corpus has no Compute examples; the VM shapes follow the public REST reference (Virtual
//! Machines - Get / Update / Delete / Instance View, api-version 2021-03-01 or later for `deleteOption`).

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::scenario::{VmRule, name_matches};
use crate::util::{fmt_time, guid, key};
use crate::world::{Vm, World};

/// A Compute async operation (a delete, a VM update, a Run Command).
#[derive(Debug, Clone)]
pub struct ComputeOperation {
    /// Start.
    pub start: OffsetDateTime,
    /// When it ends; None: never (a hanging delete, a Run Command on a VM whose agent is not ready).
    pub done_at: Option<OffsetDateTime>,
    /// Failure (code, message) once ended.
    pub error: Option<(String, String)>,
}

impl ComputeOperation {
    /// An operation already finished successfully.
    pub fn done(now: OffsetDateTime) -> Self {
        Self { start: now, done_at: Some(now), error: None }
    }

    /// `InProgress`, `Succeeded` or `Failed` at `now`.
    pub fn status(&self, now: OffsetDateTime) -> &'static str {
        match self.done_at {
            Some(t) if now >= t => {
                if self.error.is_some() {
                    "Failed"
                } else {
                    "Succeeded"
                }
            }
            _ => "InProgress",
        }
    }
}

/// Registers a Compute operation and returns the URL of its status (`Azure-AsyncOperation`), without query.
pub fn add_operation(ctx: &mut Ctx, location: &str, op: ComputeOperation) -> String {
    let id = guid();
    ctx.world.compute_operations.insert(key(&id), op);
    format!(
        "{}/subscriptions/{}/providers/Microsoft.Compute/locations/{}/operations/{id}",
        ctx.origin,
        ctx.p("sub"),
        location.to_ascii_lowercase()
    )
}

/// The first `rules.vms` entry matching a VM name.
pub fn vm_rule<'a>(world: &'a World, name: &str) -> Option<&'a VmRule> {
    world.rules.vms.iter().find(|r| name_matches(&r.name, name))
}

/// Applies `rules.deletes` to a DELETE of resource `id` named `name`: `Err` while the rule still has failures
/// to give (each DELETE uses one), `Ok(true)` when the delete must be accepted but never finish, `Ok(false)` to
/// go ahead.
pub fn delete_gate(ctx: &mut Ctx, id: &str, name: &str) -> Result<bool, ApiError> {
    let Some(rule) = ctx.world.rules.deletes.iter().find(|r| name_matches(&r.name, name)).cloned() else {
        return Ok(false);
    };
    let used = ctx.world.delete_failures.entry(key(id)).or_insert(0);
    if *used < rule.fail_times {
        *used += 1;
        let code = rule
            .error_code
            .clone()
            .unwrap_or_else(|| if rule.status == 409 { "Conflict" } else { "InternalExecutionError" }.to_string());
        let message = rule.error_message.clone().unwrap_or_else(|| {
            if rule.status == 409 {
                format!("The operation on '{name}' conflicts with another operation in progress. Retry later.")
            } else {
                "An internal execution error occurred. Please retry later.".to_string()
            }
        });
        return Err(ApiError::arm(rule.status, &code, message));
    }
    Ok(rule.hang)
}

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

/// 202 with the Location (`monitor=true`) and Azure-AsyncOperation headers Compute sends for a delete, both
/// pointing at a location-scoped operation: already succeeded (the resource is gone at once) unless `hangs`.
pub fn accepted_delete(ctx: &mut Ctx, location: &str, hangs: bool) -> ApiResponse {
    let op = if hangs {
        ComputeOperation { start: ctx.now, done_at: None, error: None }
    } else {
        ComputeOperation::done(ctx.now)
    };
    let base = add_operation(ctx, location, op);
    let version = ctx.api_version;
    ApiResponse::empty(202)
        .header("Location", format!("{base}?monitor=true&api-version={version}"))
        .header("Azure-AsyncOperation", format!("{base}?api-version={version}"))
        .header("Retry-After", "10")
}

/// DELETE disk: 202 + Location/Azure-AsyncOperation when deleted (then GET answers 404), 204 when absent,
/// 409 `OperationNotAllowed` while a VM has it attached (Azure refuses to delete an attached disk);
/// `rules.deletes` can make it fail or hang.
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
    let name = ctx.p("name").to_string();
    if delete_gate(ctx, &id, &name)? {
        return Ok(accepted_delete(ctx, &location, true));
    }
    ctx.world.disks.remove(&key(&id));
    Ok(accepted_delete(ctx, &location, false))
}

/// GET a Compute operation: `Azure-AsyncOperation` answers the status body (`{name, status, startTime,
/// endTime, error}`); `Location` (`monitor=true`) answers 202 while running and 200 without a body once done,
/// as Compute does for deletes.
pub fn operation_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op_id = ctx.p("op").to_string();
    let op =
        ctx.world.compute_operations.get(&key(&op_id)).cloned().ok_or_else(|| {
            ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/locations/operations/{op_id}"))
        })?;
    let status = op.status(ctx.now);
    if ctx.q("monitor").is_some_and(|m| m.eq_ignore_ascii_case("true")) {
        return Ok(if status == "InProgress" {
            ApiResponse::empty(202).header("Retry-After", "10")
        } else {
            ApiResponse::empty(200)
        });
    }
    let mut body = json!({"name": op_id, "status": status, "startTime": fmt_time(op.start)});
    if status != "InProgress" {
        body["endTime"] = json!(fmt_time(op.done_at.unwrap_or(op.start)));
        if let Some((code, message)) = &op.error {
            body["error"] = json!({"code": code, "message": message});
        }
    }
    Ok(ApiResponse::ok(body))
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

/// DELETE VM (`forceDeletion` accepted and ignored): 202 + Location/Azure-AsyncOperation when deleted (then GET
/// answers 404), 204 when absent. `deleteOption` decides what goes with it: `Delete` disks and NICs are removed,
/// `Detach` ones (Azure's default) stay, NICs without their `virtualMachine`. Its Run Commands go with it.
/// `rules.deletes` can make it fail or hang (then the VM stays, `provisioningState: Deleting`).
pub fn vm_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    let Some(vm) = ctx.world.vms.get(&key(&id)).cloned() else {
        return Ok(ApiResponse::empty(204));
    };
    if delete_gate(ctx, &id, &vm.name)? {
        if let Some(v) = ctx.world.vms.get_mut(&key(&id)) {
            v.deleting = true;
        }
        return Ok(accepted_delete(ctx, &vm.location, true));
    }
    ctx.world.vms.remove(&key(&id));
    let disks = std::iter::once(&vm.os_disk).chain(vm.data_disks.iter().map(|(_, d)| d));
    for d in disks {
        if vm.delete_on_vm_delete.contains(&key(d)) {
            ctx.world.disks.remove(&key(d));
        }
    }
    for nic in &vm.nics {
        if vm.delete_on_vm_delete.contains(&key(nic)) {
            ctx.world.network.nics.remove(&key(nic));
        } else if let Some(n) = ctx.world.network.nics.get_mut(&key(nic)) {
            n.vm = None;
        }
    }
    crate::runcommand::remove_for_vm(ctx.world, &id);
    Ok(accepted_delete(ctx, &vm.location, false))
}

fn delete_option(v: &Vm, id: &str) -> &'static str {
    if v.delete_on_vm_delete.contains(&key(id)) { "Delete" } else { "Detach" }
}

/// The VM's `provisioningState`: `Deleting` under a hanging delete, `Failed` under a `provisioningFailed`
/// rule, else `Succeeded`.
pub fn provisioning_state(world: &World, v: &Vm) -> &'static str {
    if v.deleting {
        "Deleting"
    } else if vm_rule(world, &v.name).is_some_and(|r| r.provisioning_failed) {
        "Failed"
    } else {
        "Succeeded"
    }
}

/// Whether the VM agent reports Ready (a failed provisioning means the agent never reported either).
pub fn agent_ready(world: &World, v: &Vm) -> bool {
    !vm_rule(world, &v.name).is_some_and(|r| r.agent_not_ready || r.provisioning_failed)
}

/// A VM resource body: `storageProfile` disks and `networkProfile.networkInterfaces[]` each with their
/// `deleteOption` (`Detach` unless set to `Delete`).
pub fn vm_body(world: &World, v: &Vm) -> Value {
    let disk_name = |id: &str| id.rsplit('/').next().unwrap_or_default().to_string();
    json!({
        "id": v.id,
        "name": v.name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": v.location,
        "tags": world.tags_of(&v.id),
        "properties": {
            "hardwareProfile": {"vmSize": v.size},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
            "storageProfile": {
                "osDisk": {
                    "name": disk_name(&v.os_disk), "createOption": "Attach", "managedDisk": {"id": v.os_disk},
                    "deleteOption": delete_option(v, &v.os_disk)
                },
                "dataDisks": v.data_disks.iter().map(|(lun, id)| json!({
                    "lun": lun, "name": disk_name(id), "createOption": "Attach", "managedDisk": {"id": id},
                    "deleteOption": delete_option(v, id)
                })).collect::<Vec<_>>()
            },
            "networkProfile": {
                "networkInterfaces": v.nics.iter().enumerate().map(|(i, id)| json!({
                    "id": id, "properties": {"primary": i == 0, "deleteOption": delete_option(v, id)}
                })).collect::<Vec<_>>()
            },
            "provisioningState": provisioning_state(world, v)
        }
    })
}

/// Reads a `deleteOption` value (`Delete` / `Detach`, any casing) at `field`.
fn parse_delete_option(value: &Value, field: &str) -> Result<Option<bool>, ApiError> {
    match value.get("deleteOption") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Delete") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Detach") => Ok(Some(false)),
        Some(other) => Err(ApiError::arm(
            400,
            "InvalidParameter",
            format!("The value {other} of parameter '{field}.deleteOption' is invalid; use Delete or Detach."),
        )),
    }
}

/// PATCH VM (Virtual Machines - Update): `tags` (replaces the set), `storageProfile.osDisk.deleteOption`,
/// `storageProfile.dataDisks[]` and `networkProfile.networkInterfaces[].properties.deleteOption`. As in Azure,
/// `dataDisks` is the whole list: a LUN left out is detached (the disk stays, unattached); attaching a new disk
/// is not emulated (400). NICs are matched by id; ones left out stay attached (Azure would detach them, and
/// refuses to leave a VM without a NIC). Answers 200 with the VM and an `Azure-AsyncOperation` that has
/// already succeeded.
pub fn vm_patch(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    let mut vm = ctx.world.vms.get(&key(&id)).cloned().ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("name")))
    })?;
    if vm.deleting {
        return Err(ApiError::arm(409, "OperationNotAllowed", format!("VM {} is being deleted.", vm.name)));
    }
    let req = ctx.json(Dialect::Arm)?;
    let invalid = |m: String| ApiError::arm(400, "InvalidParameter", m);
    let set = |vm: &mut Vm, id: &str, delete: Option<bool>| match delete {
        Some(true) => {
            vm.delete_on_vm_delete.insert(key(id));
        }
        Some(false) => {
            vm.delete_on_vm_delete.remove(&key(id));
        }
        None => {}
    };
    let props = req.get("properties").cloned().unwrap_or(Value::Null);
    let storage = props.get("storageProfile").cloned().unwrap_or(Value::Null);
    if let Some(os) = storage.get("osDisk") {
        let d = parse_delete_option(os, "storageProfile.osDisk")?;
        let os_id = vm.os_disk.clone();
        set(&mut vm, &os_id, d);
    }
    if let Some(list) = storage.get("dataDisks") {
        let list = list.as_array().ok_or_else(|| invalid("'storageProfile.dataDisks' must be an array.".into()))?;
        let mut kept = vec![];
        for (i, entry) in list.iter().enumerate() {
            let field = format!("storageProfile.dataDisks[{i}]");
            let lun = entry
                .get("lun")
                .and_then(Value::as_i64)
                .ok_or_else(|| invalid(format!("'{field}.lun' is required.")))?;
            let (lun, disk) = vm
                .data_disks
                .iter()
                .find(|(l, _)| i64::from(*l) == lun)
                .cloned()
                .ok_or_else(|| invalid(format!("'{field}': attaching a new disk at LUN {lun} is not emulated.")))?;
            let d = parse_delete_option(entry, &field)?;
            set(&mut vm, &disk, d);
            kept.push((lun, disk));
        }
        vm.data_disks = kept;
    }
    if let Some(list) = props.get("networkProfile").and_then(|n| n.get("networkInterfaces")) {
        let list =
            list.as_array().ok_or_else(|| invalid("'networkProfile.networkInterfaces' must be an array.".into()))?;
        for (i, entry) in list.iter().enumerate() {
            let field = format!("networkProfile.networkInterfaces[{i}]");
            let nic =
                entry.get("id").and_then(Value::as_str).ok_or_else(|| invalid(format!("'{field}.id' is required.")))?;
            let nic = vm
                .nics
                .iter()
                .find(|n| n.eq_ignore_ascii_case(nic))
                .cloned()
                .ok_or_else(|| invalid(format!("'{field}.id' {nic} is not a network interface of this VM.")))?;
            let d = match entry.get("properties") {
                Some(p) => parse_delete_option(p, &format!("{field}.properties"))?,
                None => None,
            };
            set(&mut vm, &nic, d);
        }
    }
    if let Some(tags) = req.get("tags") {
        let tags = tags.as_object().ok_or_else(|| invalid("'tags' must be an object of strings.".into()))?;
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in tags {
            let v = v.as_str().ok_or_else(|| invalid(format!("Tag '{k}' must have a string value.")))?;
            map.insert(k.clone(), v.to_string());
        }
        ctx.world.tags.insert(key(&id), map);
    }
    let location = vm.location.clone();
    ctx.world.vms.insert(key(&id), vm);
    let body = ctx.world.vms.get(&key(&id)).map(|v| vm_body(ctx.world, v)).unwrap_or(Value::Null);
    let op = ComputeOperation::done(ctx.now);
    let aao = add_operation(ctx, &location, op);
    let version = ctx.api_version;
    Ok(ApiResponse::ok(body).header("Azure-AsyncOperation", format!("{aao}?api-version={version}")))
}

/// GET `{vm}/instanceView`: Azure's `VirtualMachineInstanceView`. Normally a running VM whose agent is ready
/// (`ProvisioningState/succeeded` + `PowerState/running`, `vmAgent.statuses` "Ready", each disk provisioned,
/// boot diagnostics on managed storage, which lists no blob URIs). Under `rules.vms`: `provisioningFailed` gives
/// `ProvisioningState/failed/OSProvisioningTimedOut` (the VM still runs, as with Azure's OS provisioning
/// timeout), `agentNotReady` (and a failed provisioning) gives the agent status Azure shows when no agent ever
/// reported: `ProvisioningState/Unavailable`, "Not Ready", agent version "Unknown".
pub fn vm_instance_view(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = id(ctx, "virtualMachines");
    let v = ctx.world.vms.get(&key(&id)).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("name")))
    })?;
    let now = fmt_time(ctx.now);
    let provisioned = json!({
        "code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": now
    });
    let vm_state = match provisioning_state(ctx.world, v) {
        "Failed" => json!({
            "code": "ProvisioningState/failed/OSProvisioningTimedOut",
            "level": "Error",
            "displayStatus": "Provisioning failed",
            "message": format!("OS Provisioning for VM '{}' did not finish in the allotted time. The VM may still finish provisioning successfully. Please check provisioning state later.", v.name),
            "time": now
        }),
        "Deleting" => json!({"code": "ProvisioningState/deleting", "level": "Info", "displayStatus": "Deleting"}),
        _ => provisioned.clone(),
    };
    let agent = if agent_ready(ctx.world, v) {
        json!({
            "vmAgentVersion": "2.7.41491.1102",
            "statuses": [{
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Ready",
                "message": "GuestAgent is running and processing the extensions.",
                "time": now
            }]
        })
    } else {
        json!({
            "vmAgentVersion": "Unknown",
            "statuses": [{
                "code": "ProvisioningState/Unavailable",
                "level": "Warning",
                "displayStatus": "Not Ready",
                "message": "VM status blob is found but not yet populated.",
                "time": now
            }]
        })
    };
    let disks: Vec<Value> = std::iter::once(&v.os_disk)
        .chain(v.data_disks.iter().map(|(_, d)| d))
        .map(|d| json!({"name": d.rsplit('/').next().unwrap_or_default(), "statuses": [provisioned]}))
        .collect();
    Ok(ApiResponse::ok(json!({
        "computerName": v.name,
        "vmAgent": agent,
        "disks": disks,
        "bootDiagnostics": {},
        "hyperVGeneration": "V1",
        "statuses": [vm_state, {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"}]
    })))
}

/// GET VMs in a resource group.
pub fn vms_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = rg_prefix(ctx, "virtualmachines");
    let items: Vec<Value> =
        ctx.world.vms.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| ctx.world.vm_body(v)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
