//! Microsoft.Network: the network interfaces restored VMs get, plus the virtual networks, subnets, peerings and
//! network security groups a drill inspects to judge its sandbox.
//!
//! The conformance corpus has no Microsoft.Network examples, so the bodies follow the public Azure REST
//! reference (Network Interfaces - Get, Virtual Networks - Get, Subnets - Get, Network Security Groups - Get):
//! only the fields a client is likely to read are written.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::{guid, key};

/// A network interface.
#[derive(Debug, Clone)]
pub struct Nic {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Subnet id of its only IP configuration.
    pub subnet: String,
    /// Private IP address (dynamic).
    pub private_ip: String,
    /// MAC address.
    pub mac: String,
    /// The VM using it (None once detached).
    pub vm: Option<String>,
}

/// An async Network operation: Azure-AsyncOperation answers `{status}`, Location answers 200 once done.
#[derive(Debug, Clone)]
pub struct NetworkOperation {
    /// Start.
    pub start: OffsetDateTime,
    /// Never finishes (`rules.deletes[].hang`).
    pub hangs: bool,
}

/// All Microsoft.Network state.
#[derive(Debug, Default)]
pub struct Network {
    /// Network interfaces by lower-case id.
    pub nics: BTreeMap<String, Nic>,
    /// Async operations by lower-case id.
    pub operations: BTreeMap<String, NetworkOperation>,
    /// Private IPs handed out so far (for distinct addresses).
    pub ips_given: u32,
}

impl Network {
    /// Creates the network interface a restored VM gets in `subnet` and returns its id. Azure Backup does not
    /// document how it names that NIC; the emulator uses `{vm}-nic-{8 hex}` in the VM's resource group.
    pub fn create_vm_nic(&mut self, vm_id: &str, location: &str, subnet: &str) -> String {
        let (rg_part, vm_name) = match vm_id.split_once("/providers/") {
            Some((rg, rest)) => (rg.to_string(), rest.rsplit('/').next().unwrap_or_default().to_string()),
            None => (String::new(), String::new()),
        };
        let name = format!("{vm_name}-nic-{}", guid().chars().take(8).collect::<String>());
        let id = format!("{rg_part}/providers/Microsoft.Network/networkInterfaces/{name}");
        self.ips_given += 1;
        let n = self.ips_given + 3; // Azure keeps .0-.3 of every subnet.
        let mac = format!("00-0D-3A-{:02X}-{:02X}-{:02X}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
        self.nics.insert(
            key(&id),
            Nic {
                id: id.clone(),
                name,
                location: location.to_string(),
                subnet: subnet.to_string(),
                private_ip: format!("10.0.{}.{}", n / 250, n % 250 + 4),
                mac,
                vm: Some(vm_id.to_string()),
            },
        );
        id
    }

    /// A NIC body (Network Interfaces - Get).
    pub fn nic_body(&self, n: &Nic, tags: &BTreeMap<String, String>) -> Value {
        let mut props = json!({
            "provisioningState": "Succeeded",
            "resourceGuid": "00000000-0000-0000-0000-000000000000",
            "ipConfigurations": [{
                "id": format!("{}/ipConfigurations/ipconfig1", n.id),
                "name": "ipconfig1",
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": n.private_ip,
                    "privateIPAllocationMethod": "Dynamic",
                    "privateIPAddressVersion": "IPv4",
                    "subnet": {"id": n.subnet},
                    "primary": true
                }
            }],
            "macAddress": n.mac,
            "enableAcceleratedNetworking": false,
            "enableIPForwarding": false,
            "primary": true,
            "nicType": "Standard"
        });
        if let Some(vm) = &n.vm {
            props["virtualMachine"] = json!({"id": vm});
        }
        json!({
            "id": n.id,
            "name": n.name,
            "type": "Microsoft.Network/networkInterfaces",
            "location": n.location,
            "tags": tags,
            "properties": props
        })
    }
}

fn rg_id(ctx: &Ctx) -> String {
    format!("/subscriptions/{}/resourceGroups/{}", ctx.p("sub"), ctx.p("rg"))
}

/// 202 as Network answers an accepted delete: `Azure-AsyncOperation` (`…/locations/{l}/operations/{op}`) and
/// `Location` (`…/locations/{l}/operationResults/{op}`), Retry-After 10.
pub fn accepted(ctx: &mut Ctx, location: &str, hangs: bool) -> ApiResponse {
    let op = guid();
    ctx.world.network.operations.insert(key(&op), NetworkOperation { start: ctx.now, hangs });
    let base = format!(
        "{}/subscriptions/{}/providers/Microsoft.Network/locations/{}",
        ctx.origin,
        ctx.p("sub"),
        location.to_ascii_lowercase()
    );
    let version = ctx.api_version;
    ApiResponse::empty(202)
        .header("Azure-AsyncOperation", format!("{base}/operations/{op}?api-version={version}"))
        .header("Location", format!("{base}/operationResults/{op}?api-version={version}"))
        .header("Retry-After", "10")
}

/// GET network interface.
pub fn nic_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = format!("{}/providers/Microsoft.Network/networkInterfaces/{}", rg_id(ctx), ctx.p("name"));
    let n = ctx.world.network.nics.get(&key(&id)).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Network/networkInterfaces/{}", ctx.p("name")))
    })?;
    Ok(ApiResponse::ok(ctx.world.network.nic_body(n, &ctx.world.tags_of(&n.id))))
}

/// DELETE network interface: 202 (then GET 404), 204 when absent, 400 `NicInUse` while a VM uses it (Azure
/// refuses until the VM is deleted or the NIC detached). `rules.deletes` can make it fail or hang.
pub fn nic_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = format!("{}/providers/Microsoft.Network/networkInterfaces/{}", rg_id(ctx), ctx.p("name"));
    let Some(nic) = ctx.world.network.nics.get(&key(&id)).cloned() else {
        return Ok(ApiResponse::empty(204));
    };
    if let Some(vm) = &nic.vm {
        return Err(ApiError::arm(
            400,
            "NicInUse",
            format!(
                "Network Interface {id} is used by existing resource {vm}. In order to delete the network interface, it must be dissociated from the resource."
            ),
        ));
    }
    if crate::compute::delete_gate(ctx, &id, &nic.name)? {
        return Ok(accepted(ctx, &nic.location, true));
    }
    ctx.world.network.nics.remove(&key(&id));
    Ok(accepted(ctx, &nic.location, false))
}

/// GET `…/Microsoft.Network/locations/{l}/operations/{op}` (Azure-AsyncOperation): `{status}`.
pub fn operation_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = ctx.world.network.operations.get(&key(ctx.p("op"))).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Network/locations/operations/{}", ctx.p("op")))
    })?;
    Ok(ApiResponse::ok(json!({"status": if op.hangs { "InProgress" } else { "Succeeded" }})))
}

/// GET `…/Microsoft.Network/locations/{l}/operationResults/{op}` (Location): 202 while running, then 204.
pub fn operation_result(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = ctx.world.network.operations.get(&key(ctx.p("op"))).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Network/locations/operationResults/{}", ctx.p("op")))
    })?;
    if op.hangs {
        return Ok(ApiResponse::empty(202).header("Retry-After", "10"));
    }
    Ok(ApiResponse::empty(204))
}
