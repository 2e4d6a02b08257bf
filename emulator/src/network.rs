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
use crate::scenario::{ResourceGroupSpec, SecurityRuleSpec, SubnetSpec};
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

/// A subnet of a virtual network.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// Name.
    pub name: String,
    /// Address prefix.
    pub address_prefix: String,
    /// Network security group id.
    pub nsg: Option<String>,
}

/// A virtual network peering.
#[derive(Debug, Clone)]
pub struct Peering {
    /// Name.
    pub name: String,
    /// Remote network id.
    pub remote: String,
    /// `Connected`, `Initiated`, `Disconnected`.
    pub state: String,
}

/// A virtual network.
#[derive(Debug, Clone)]
pub struct Vnet {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Address space.
    pub address_prefixes: Vec<String>,
    /// Subnets (a `GatewaySubnet` when a gateway is deployed).
    pub subnets: Vec<Subnet>,
    /// Peerings.
    pub peerings: Vec<Peering>,
    /// A virtual network gateway `{name}-gw` uses its `GatewaySubnet`.
    pub gateway: bool,
}

/// A network security group.
#[derive(Debug, Clone)]
pub struct Nsg {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Its own rules.
    pub rules: Vec<SecurityRuleSpec>,
}

/// All Microsoft.Network state.
#[derive(Debug, Default)]
pub struct Network {
    /// Virtual networks by lower-case id.
    pub vnets: BTreeMap<String, Vnet>,
    /// Network security groups by lower-case id.
    pub nsgs: BTreeMap<String, Nsg>,
    /// Network interfaces by lower-case id.
    pub nics: BTreeMap<String, Nic>,
    /// Async operations by lower-case id.
    pub operations: BTreeMap<String, NetworkOperation>,
    /// Private IPs handed out so far (for distinct addresses).
    pub ips_given: u32,
}

impl Network {
    /// Adds a resource group's network security groups and virtual networks from the scenario. A subnet's NSG
    /// must be declared in the scenario (by name in the group, or by id).
    pub fn seed_group(&mut self, sub: &str, rg: &ResourceGroupSpec) -> Result<(), String> {
        let base = format!("/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.Network", rg.name);
        for nsg in &rg.network_security_groups {
            let id = format!("{base}/networkSecurityGroups/{}", nsg.name);
            let nsg = Nsg {
                id: id.clone(),
                name: nsg.name.clone(),
                location: rg.location.clone(),
                rules: nsg.security_rules.clone(),
            };
            self.nsgs.insert(key(&id), nsg);
        }
        let resolve = |kind: &str, name_or_id: &str| {
            if name_or_id.starts_with('/') { name_or_id.to_string() } else { format!("{base}/{kind}/{name_or_id}") }
        };
        for (vi, v) in rg.virtual_networks.iter().enumerate() {
            let n = self.vnets.len() + 1;
            let id = format!("{base}/virtualNetworks/{}", v.name);
            let mut subnets = vec![];
            for (si, sn) in v.subnets.iter().enumerate() {
                let (prefix, nsg) = match sn {
                    SubnetSpec::Name(_) => (None, None),
                    SubnetSpec::Full(d) => (d.address_prefix.clone(), d.network_security_group.clone()),
                };
                let nsg = match nsg {
                    Some(x) => {
                        let nsg_id = resolve("networkSecurityGroups", &x);
                        if !self.nsgs.contains_key(&key(&nsg_id)) {
                            return Err(format!(
                                "virtualNetworks[{vi}].subnets[{si}].networkSecurityGroup '{x}' is not declared; add it to networkSecurityGroups"
                            ));
                        }
                        Some(nsg_id)
                    }
                    None => None,
                };
                subnets.push(Subnet {
                    name: sn.name().to_string(),
                    address_prefix: prefix.unwrap_or_else(|| format!("10.{n}.{si}.0/24")),
                    nsg,
                });
            }
            if v.gateway && !subnets.iter().any(|s| s.name.eq_ignore_ascii_case("GatewaySubnet")) {
                subnets.push(Subnet {
                    name: "GatewaySubnet".into(),
                    address_prefix: format!("10.{n}.255.0/27"),
                    nsg: None,
                });
            }
            let peerings = v
                .peerings
                .iter()
                .map(|p| Peering {
                    name: p.name.clone(),
                    remote: resolve("virtualNetworks", &p.remote_virtual_network),
                    state: p.state.clone().unwrap_or_else(|| "Connected".into()),
                })
                .collect();
            let vnet = Vnet {
                id: id.clone(),
                name: v.name.clone(),
                location: rg.location.clone(),
                address_prefixes: v.address_prefixes.clone().unwrap_or_else(|| vec![format!("10.{n}.0.0/16")]),
                subnets,
                peerings,
                gateway: v.gateway,
            };
            self.vnets.insert(key(&id), vnet);
        }
        Ok(())
    }

    /// A subnet body (Subnets - Get): its NSG and the NIC IP configurations (or gateway) in it.
    fn subnet_body(&self, v: &Vnet, s: &Subnet) -> Value {
        let id = format!("{}/subnets/{}", v.id, s.name);
        let mut ip_configs: Vec<Value> = self
            .nics
            .values()
            .filter(|n| n.subnet.eq_ignore_ascii_case(&id))
            .map(|n| json!({"id": format!("{}/ipConfigurations/ipconfig1", n.id)}))
            .collect();
        if v.gateway && s.name.eq_ignore_ascii_case("GatewaySubnet") {
            ip_configs.push(json!({"id": format!("{}/ipConfigurations/default", gateway_id(v))}));
        }
        let mut props = json!({
            "provisioningState": "Succeeded",
            "addressPrefix": s.address_prefix,
            "ipConfigurations": ip_configs,
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled"
        });
        if let Some(nsg) = &s.nsg {
            props["networkSecurityGroup"] = json!({"id": nsg});
        }
        json!({"id": id, "name": s.name, "type": "Microsoft.Network/virtualNetworks/subnets", "properties": props})
    }

    /// A peering body (Virtual Network Peerings - Get).
    fn peering_body(&self, v: &Vnet, p: &Peering) -> Value {
        let remote_space = self.vnets.get(&key(&p.remote)).map(|r| r.address_prefixes.clone()).unwrap_or_default();
        json!({
            "id": format!("{}/virtualNetworkPeerings/{}", v.id, p.name),
            "name": p.name,
            "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
            "properties": {
                "provisioningState": "Succeeded",
                "peeringState": p.state,
                "peeringSyncLevel": "FullyInSync",
                "remoteVirtualNetwork": {"id": p.remote},
                "remoteAddressSpace": {"addressPrefixes": remote_space},
                "allowVirtualNetworkAccess": true,
                "allowForwardedTraffic": false,
                "allowGatewayTransit": false,
                "useRemoteGateways": false
            }
        })
    }

    /// A virtual network body (Virtual Networks - Get), subnets and peerings inline as Azure returns them.
    pub fn vnet_body(&self, v: &Vnet, tags: &BTreeMap<String, String>) -> Value {
        json!({
            "id": v.id,
            "name": v.name,
            "type": "Microsoft.Network/virtualNetworks",
            "location": v.location,
            "tags": tags,
            "properties": {
                "provisioningState": "Succeeded",
                "addressSpace": {"addressPrefixes": v.address_prefixes},
                "subnets": v.subnets.iter().map(|s| self.subnet_body(v, s)).collect::<Vec<_>>(),
                "virtualNetworkPeerings": v.peerings.iter().map(|p| self.peering_body(v, p)).collect::<Vec<_>>(),
                "enableDdosProtection": false
            }
        })
    }

    /// A network security group body: its rules, Azure's six `defaultSecurityRules`, and the subnets and NICs
    /// that use it.
    pub fn nsg_body(&self, g: &Nsg, tags: &BTreeMap<String, String>) -> Value {
        let rule = |name: &str, r: &SecurityRuleSpec, kind: &str| {
            json!({
                "id": format!("{}/{kind}/{name}", g.id),
                "name": name,
                "type": format!("Microsoft.Network/networkSecurityGroups/{kind}"),
                "properties": {
                    "provisioningState": "Succeeded",
                    "protocol": r.protocol,
                    "sourcePortRange": r.source_port_range,
                    "destinationPortRange": r.destination_port_range,
                    "sourceAddressPrefix": r.source_address_prefix,
                    "destinationAddressPrefix": r.destination_address_prefix,
                    "access": r.access,
                    "priority": r.priority,
                    "direction": r.direction
                }
            })
        };
        let default = |name: &str, dir: &str, access: &str, priority: u32, src: &str, dst: &str| {
            let r = SecurityRuleSpec {
                name: name.into(),
                direction: dir.into(),
                access: access.into(),
                priority,
                protocol: "*".into(),
                source_address_prefix: src.into(),
                source_port_range: "*".into(),
                destination_address_prefix: dst.into(),
                destination_port_range: "*".into(),
            };
            rule(name, &r, "defaultSecurityRules")
        };
        let subnets: Vec<Value> = self
            .vnets
            .values()
            .flat_map(|v| v.subnets.iter().map(move |s| (v, s)))
            .filter(|(_, s)| s.nsg.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&g.id)))
            .map(|(v, s)| json!({"id": format!("{}/subnets/{}", v.id, s.name)}))
            .collect();
        json!({
            "id": g.id,
            "name": g.name,
            "type": "Microsoft.Network/networkSecurityGroups",
            "location": g.location,
            "tags": tags,
            "properties": {
                "provisioningState": "Succeeded",
                "securityRules": g.rules.iter().map(|r| rule(&r.name, r, "securityRules")).collect::<Vec<_>>(),
                "defaultSecurityRules": [
                    default("AllowVnetInBound", "Inbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
                    default("AllowAzureLoadBalancerInBound", "Inbound", "Allow", 65001, "AzureLoadBalancer", "*"),
                    default("DenyAllInBound", "Inbound", "Deny", 65500, "*", "*"),
                    default("AllowVnetOutBound", "Outbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
                    default("AllowInternetOutBound", "Outbound", "Allow", 65001, "*", "Internet"),
                    default("DenyAllOutBound", "Outbound", "Deny", 65500, "*", "*")
                ],
                "subnets": subnets
            }
        })
    }

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

/// The id of the gateway a `gateway: true` network has.
fn gateway_id(v: &Vnet) -> String {
    let rg = v.id.split("/providers/").next().unwrap_or_default();
    format!("{rg}/providers/Microsoft.Network/virtualNetworkGateways/{}-gw", v.name)
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

fn not_found(kind: &str, name: &str) -> ApiError {
    ApiError::not_found(Dialect::Arm, &format!("Microsoft.Network/{kind}/{name}"))
}

fn vnet<'a>(ctx: &'a Ctx) -> Result<&'a Vnet, ApiError> {
    let id = format!("{}/providers/Microsoft.Network/virtualNetworks/{}", rg_id(ctx), ctx.p("vnet"));
    ctx.world.network.vnets.get(&key(&id)).ok_or_else(|| not_found("virtualNetworks", ctx.p("vnet")))
}

/// GET virtual network.
pub fn vnet_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vnet(ctx)?;
    Ok(ApiResponse::ok(ctx.world.network.vnet_body(v, &ctx.world.tags_of(&v.id))))
}

/// GET virtual networks in a resource group.
pub fn vnets_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = key(&format!("{}/providers/Microsoft.Network/virtualNetworks/", rg_id(ctx)));
    let net = &ctx.world.network;
    let items: Vec<Value> = net
        .vnets
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| net.vnet_body(v, &ctx.world.tags_of(&v.id)))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}

/// GET subnet.
pub fn subnet_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vnet(ctx)?;
    let s = v
        .subnets
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(ctx.p("name")))
        .ok_or_else(|| not_found("virtualNetworks/subnets", ctx.p("name")))?;
    Ok(ApiResponse::ok(ctx.world.network.subnet_body(v, s)))
}

/// GET subnets of a virtual network.
pub fn subnets_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vnet(ctx)?;
    let items: Vec<Value> = v.subnets.iter().map(|s| ctx.world.network.subnet_body(v, s)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}

/// GET peerings of a virtual network (an isolated sandbox has none).
pub fn peerings_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vnet(ctx)?;
    let items: Vec<Value> = v.peerings.iter().map(|p| ctx.world.network.peering_body(v, p)).collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}

/// GET network security group.
pub fn nsg_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = format!("{}/providers/Microsoft.Network/networkSecurityGroups/{}", rg_id(ctx), ctx.p("name"));
    let g = ctx.world.network.nsgs.get(&key(&id)).ok_or_else(|| not_found("networkSecurityGroups", ctx.p("name")))?;
    Ok(ApiResponse::ok(ctx.world.network.nsg_body(g, &ctx.world.tags_of(&g.id))))
}

/// GET virtual network gateways in a resource group: one `{vnet}-gw` (route-based VPN) per network declared
/// with `gateway: true`, on its `GatewaySubnet`.
pub fn gateways_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let prefix = key(&format!("{}/providers/Microsoft.Network/virtualNetworks/", rg_id(ctx)));
    let items: Vec<Value> = ctx
        .world
        .network
        .vnets
        .iter()
        .filter(|(k, v)| k.starts_with(&prefix) && v.gateway)
        .map(|(_, v)| {
            let id = gateway_id(v);
            json!({
                "id": id,
                "name": format!("{}-gw", v.name),
                "type": "Microsoft.Network/virtualNetworkGateways",
                "location": v.location,
                "properties": {
                    "provisioningState": "Succeeded",
                    "gatewayType": "Vpn",
                    "vpnType": "RouteBased",
                    "sku": {"name": "VpnGw1", "tier": "VpnGw1"},
                    "ipConfigurations": [{
                        "id": format!("{id}/ipConfigurations/default"),
                        "name": "default",
                        "properties": {"subnet": {"id": format!("{}/subnets/GatewaySubnet", v.id)}}
                    }]
                }
            })
        })
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
