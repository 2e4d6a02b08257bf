//! Preflight: what a run checks in Azure before its first write, so a drill that cannot be safe or cannot succeed
//! is refused while nothing exists yet.
//!
//! * **Isolation of new-VM drills.** A drill boots a clone of a production VM (same host name, domain identity,
//!   application settings). Its subnet must sit in a virtual network with no peerings and no gateway, and carry a
//!   network security group whose rules, read in priority order as Azure evaluates them, deny all inbound traffic
//!   before allowing any, and allow outbound only TCP 443 to the `AzureCloud` service tag (what Run Command
//!   needs) before denying everything else. The restore request creates no public IP.
//! * **Quota.** The region's remaining vCPUs (`cores` in Compute usages) hold the VMs the run creates.
//! * **Policy.** No enforced Deny assignment on the sandbox group would refuse what the restore creates: a
//!   required tag (restore requests cannot carry tags), or a resource type the drill creates listed as not allowed.
//!
//! Each finding names the resource read and the fix. Reads go through [`DrillAzure::get`] and [`PreflightAzure`].

use async_trait::async_trait;
use serde_json::Value;

use crate::item::{DrillAzure, SeamError};
use crate::plan::{DrillPlan, VmMode};

/// The lists preflight reads.
#[async_trait]
pub trait PreflightAzure: Send + Sync {
    /// Compute usages of a region (`Microsoft.Compute/locations/{location}/usages`).
    async fn usages(&self, subscription: &str, location: &str) -> Result<Vec<Value>, SeamError>;
    /// Policy assignments that apply to a resource group.
    async fn policy_assignments(&self, resource_group: &str) -> Result<Vec<Value>, SeamError>;
}

/// Why a run is refused before any write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable code, e.g. `preflight.peeredNetwork`.
    pub code: &'static str,
    /// What is wrong (naming the resource read) and how to fix it.
    pub message: String,
}

fn finding(code: &'static str, message: String) -> Finding {
    Finding { code, message }
}

/// Built-in policy definitions that deny a resource without a given tag: "Require a tag on resources" and
/// "Require a tag and its value on resources".
const REQUIRE_TAG_DEFINITIONS: [&str; 2] =
    ["871b6d14-10aa-478d-b590-94f262ecfa99", "1e30110a-5ceb-460c-a204-c1c3969c6d62"];
/// The built-in "Not allowed resource types".
const NOT_ALLOWED_TYPES_DEFINITION: &str = "6c112d4e-5bc7-47ae-a041-ea2d9dccd749";

/// The resource types a run of `plan` creates.
fn created_types(plan: &DrillPlan, vms: bool) -> Vec<&'static str> {
    let mut types = vec!["Microsoft.Compute/disks"];
    if vms && plan.restore.vm == VmMode::NewVm {
        types.extend(["Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces"]);
    }
    types
}

/// Runs every check that applies; `vcpus` is what the run's new VMs need, `vms` whether it restores any VM.
pub async fn preflight(
    plan: &DrillPlan,
    vms: bool,
    vcpus: u64,
    azure: &dyn DrillAzure,
    lists: &dyn PreflightAzure,
) -> Result<Vec<Finding>, SeamError> {
    let mut out = Vec::new();
    if vms
        && plan.restore.vm == VmMode::NewVm
        && let Some(subnet) = &plan.sandbox.subnet_id
        && let Some(location) = isolation(subnet.as_str(), azure, &mut out).await?
    {
        quota(plan.sandbox.resource_group_id.subscription(), &location, vcpus, lists, &mut out).await?;
    }
    policies(plan, vms, lists, &mut out).await?;
    Ok(out)
}

/// The network checks; returns the network's region (for the quota).
async fn isolation(
    subnet_id: &str,
    azure: &dyn DrillAzure,
    out: &mut Vec<Finding>,
) -> Result<Option<String>, SeamError> {
    let Some(subnet) = azure.get(subnet_id).await? else {
        out.push(finding(
            "preflight.subnetNotFound",
            format!("the sandbox subnet {subnet_id} does not exist: create it or fix sandbox.subnetId"),
        ));
        return Ok(None);
    };
    let vnet_id = subnet_id.rsplit_once("/subnets/").map_or(subnet_id, |(v, _)| v);
    let vnet = azure.get(vnet_id).await?.unwrap_or(Value::Null);
    let vp = &vnet["properties"];
    let peerings = vp["virtualNetworkPeerings"].as_array().map_or(0, Vec::len);
    if peerings > 0 {
        out.push(finding(
            "preflight.peeredNetwork",
            format!("the sandbox network {vnet_id} has {peerings} peering(s): a booted clone could reach production; use a network with no peerings"),
        ));
    }
    let gateway = vp["subnets"].as_array().into_iter().flatten().any(|s| {
        s["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("GatewaySubnet"))
            && s["properties"]["ipConfigurations"].as_array().is_some_and(|c| !c.is_empty())
    });
    if gateway {
        out.push(finding(
            "preflight.networkGateway",
            format!("the sandbox network {vnet_id} has a gateway (its GatewaySubnet is in use): a booted clone could reach on-premises; use a network without one"),
        ));
    }
    match subnet["properties"]["networkSecurityGroup"]["id"].as_str() {
        None => out.push(finding(
            "preflight.subnetWithoutNsg",
            format!("the sandbox subnet {subnet_id} has no network security group: attach one that denies inbound traffic and allows outbound only TCP 443 to AzureCloud"),
        )),
        Some(nsg_id) => match azure.get(nsg_id).await? {
            None => out.push(finding("preflight.subnetWithoutNsg", format!("the sandbox subnet's network security group {nsg_id} does not exist"))),
            Some(nsg) => out.extend(nsg_findings(nsg_id, &nsg)),
        },
    }
    Ok(vnet["location"].as_str().map(str::to_string))
}

/// A rule's field, singular or the first of its plural (`…Prefixes`, `…Ranges`), with every plural value.
fn values<'a>(p: &'a Value, singular: &str, plural: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = p[plural].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if let Some(s) = p[singular].as_str() {
        v.push(s);
    }
    v
}

fn is_any(v: &[&str]) -> bool {
    v.len() == 1 && v[0] == "*"
}

/// The NSG's own rules against the isolation requirement (Azure's default rules allow VNet and load-balancer
/// inbound and Internet outbound, so custom rules must override them).
pub fn nsg_findings(nsg_id: &str, nsg: &Value) -> Vec<Finding> {
    let mut rules: Vec<&Value> = nsg["properties"]["securityRules"].as_array().into_iter().flatten().collect();
    rules.sort_by_key(|r| r["properties"]["priority"].as_u64().unwrap_or(u64::MAX));
    let mut out = Vec::new();
    for direction in ["Inbound", "Outbound"] {
        let mut denied = false;
        for r in rules.iter().filter(|r| r["properties"]["direction"].as_str() == Some(direction)) {
            let p = &r["properties"];
            let name = r["name"].as_str().unwrap_or("?");
            let access = p["access"].as_str().unwrap_or_default();
            let (src, dst) = (
                values(p, "sourceAddressPrefix", "sourceAddressPrefixes"),
                values(p, "destinationAddressPrefix", "destinationAddressPrefixes"),
            );
            let ports = values(p, "destinationPortRange", "destinationPortRanges");
            let protocol = p["protocol"].as_str().unwrap_or("*");
            if access.eq_ignore_ascii_case("Deny") && is_any(&src) && is_any(&dst) && is_any(&ports) && protocol == "*"
            {
                denied = true;
                break;
            }
            if !access.eq_ignore_ascii_case("Allow") {
                continue;
            }
            let run_command = direction == "Outbound"
                && dst
                    .iter()
                    .all(|d| d.eq_ignore_ascii_case("AzureCloud") || d.to_ascii_lowercase().starts_with("azurecloud."))
                && !dst.is_empty()
                && ports == ["443"]
                && (protocol.eq_ignore_ascii_case("Tcp") || protocol == "*");
            if !run_command {
                out.push(finding(
                    "preflight.nsgAllows",
                    format!("{nsg_id} rule '{name}' allows {} traffic before any deny-all rule: a drill allows no inbound traffic and outbound only TCP 443 to AzureCloud; remove the rule or give it a lower precedence than a deny-all", direction.to_ascii_lowercase()),
                ));
            }
        }
        if !denied {
            out.push(finding(
                "preflight.nsgNoDenyAll",
                format!("{nsg_id} has no {} deny-all rule (source, destination and ports '*'): Azure's default rules would let traffic {}; add one",
                    direction.to_ascii_lowercase(), if direction == "Inbound" { "in from the virtual network" } else { "out to the Internet" }),
            ));
        }
    }
    out
}

async fn quota(
    subscription: &str,
    location: &str,
    vcpus: u64,
    lists: &dyn PreflightAzure,
    out: &mut Vec<Finding>,
) -> Result<(), SeamError> {
    if vcpus == 0 {
        return Ok(());
    }
    let usages = lists.usages(subscription, location).await?;
    if let Some(cores) = usages.iter().find(|u| u["name"]["value"].as_str() == Some("cores")) {
        let (used, limit) = (cores["currentValue"].as_u64().unwrap_or(0), cores["limit"].as_u64().unwrap_or(0));
        let free = limit.saturating_sub(used);
        if free < vcpus {
            out.push(finding(
                "preflight.quota",
                format!("the run's VMs need {vcpus} vCPUs in {location} and the regional quota has {free} left ({used} of {limit} used): raise the quota, lower costGuard.maxVmVcpus or sample fewer VMs"),
            ));
        }
    }
    Ok(())
}

async fn policies(
    plan: &DrillPlan,
    vms: bool,
    lists: &dyn PreflightAzure,
    out: &mut Vec<Finding>,
) -> Result<(), SeamError> {
    let group = plan.sandbox.resource_group_id.as_str();
    let created = created_types(plan, vms);
    for a in lists.policy_assignments(group).await? {
        let p = &a["properties"];
        if !p["enforcementMode"].as_str().unwrap_or("Default").eq_ignore_ascii_case("Default") {
            continue;
        }
        let definition = p["policyDefinitionId"].as_str().unwrap_or_default().to_ascii_lowercase();
        let effect = p["parameters"]["effect"]["value"].as_str().unwrap_or("Deny");
        if !effect.eq_ignore_ascii_case("Deny") {
            continue;
        }
        let name = p["displayName"].as_str().or(a["name"].as_str()).unwrap_or("?");
        if REQUIRE_TAG_DEFINITIONS.iter().any(|d| definition.ends_with(d)) {
            out.push(finding(
                "preflight.denyPolicy",
                format!("policy assignment '{name}' on {group} denies resources without a tag, and restores cannot carry tags: exempt the sandbox group or use another"),
            ));
        } else if definition.ends_with(NOT_ALLOWED_TYPES_DEFINITION) {
            let listed: Vec<&str> = p["parameters"]["listOfResourceTypesNotAllowed"]["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if let Some(t) = created.iter().find(|t| listed.iter().any(|l| l.eq_ignore_ascii_case(t))) {
                out.push(finding(
                    "preflight.denyPolicy",
                    format!("policy assignment '{name}' on {group} does not allow {t}, which the drill creates: exempt the sandbox group or use another"),
                ));
            }
        }
    }
    Ok(())
}
