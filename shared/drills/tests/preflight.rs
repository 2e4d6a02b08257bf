//! Preflight branch by branch with scripted Azure answers: the isolation of new-VM drills (peerings, gateway,
//! the subnet's NSG read in priority order), the regional vCPU quota, and Deny policies on the sandbox group.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use async_trait::async_trait;
use restore_contract::Policy;
use restore_drills::DrillPlan;
use restore_drills::item::{DrillAzure, SeamError};
use restore_drills::preflight::{Finding, PreflightAzure, nsg_findings, preflight};
use serde_json::{Value, json};
use time::macros::datetime;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const VNET: &str = "/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/virtualNetworks/vnet-drill";
const NSG: &str = "/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkSecurityGroups/nsg-drill";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example new-VM plan (its subnet is vnet-drill/snet-drill).
fn plan() -> DrillPlan {
    let policy = Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap();
    let bytes = std::fs::read(repo().join("examples/drills/vaults-weekly-vms.json")).unwrap();
    restore_drills::parse_plan(&bytes, &policy, datetime!(2026-12-05 12:00 UTC)).unwrap().into_plan()
}

fn rule(name: &str, direction: &str, access: &str, priority: u32, dst: &str, port: &str, protocol: &str) -> Value {
    json!({"name": name, "properties": {
        "direction": direction, "access": access, "priority": priority, "protocol": protocol,
        "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": dst, "destinationPortRange": port
    }})
}

fn isolated_rules() -> Vec<Value> {
    vec![
        rule("deny-in", "Inbound", "Deny", 4096, "*", "*", "*"),
        rule("run-command", "Outbound", "Allow", 100, "AzureCloud", "443", "Tcp"),
        rule("deny-out", "Outbound", "Deny", 4096, "*", "*", "*"),
    ]
}

#[derive(Default)]
struct Azure {
    resources: HashMap<String, Value>,
    usages: Vec<Value>,
    assignments: Vec<Value>,
}

impl Azure {
    fn isolated() -> Azure {
        Azure::default().network(json!([]), isolated_rules(), true)
    }
    fn network(mut self, peerings: Value, rules: Vec<Value>, with_nsg: bool) -> Azure {
        let subnet = format!("{SUB}{VNET}/subnets/snet-drill");
        let nsg = if with_nsg { json!({"id": format!("{SUB}{NSG}")}) } else { Value::Null };
        self.resources
            .insert(subnet.to_ascii_lowercase(), json!({"id": subnet, "properties": {"networkSecurityGroup": nsg}}));
        self.resources.insert(
            format!("{SUB}{VNET}").to_ascii_lowercase(),
            json!({"location": "westus", "properties": {"virtualNetworkPeerings": peerings, "subnets": [{"name": "snet-drill", "properties": {}}]}}),
        );
        self.resources
            .insert(format!("{SUB}{NSG}").to_ascii_lowercase(), json!({"properties": {"securityRules": rules}}));
        self
    }
}

#[async_trait]
impl DrillAzure for Azure {
    async fn get(&self, id: &str) -> Result<Option<Value>, SeamError> {
        Ok(self.resources.get(&id.to_ascii_lowercase()).cloned())
    }
    async fn instance_view(&self, _: &str) -> Result<Value, SeamError> {
        Err(SeamError("preflight reads no instance view".into()))
    }
    async fn merge_tags(&self, _: &str, _: &BTreeMap<String, String>) -> Result<(), SeamError> {
        panic!("preflight never writes")
    }
    async fn delete(&self, _: &str) -> Result<u16, SeamError> {
        panic!("preflight never writes")
    }
    async fn delete_staging(&self, _: &str) -> Result<(), SeamError> {
        panic!("preflight never writes")
    }
    async fn put(&self, _: &str, _: &Value) -> Result<(), SeamError> {
        panic!("never written here")
    }
    async fn run_command(&self, _: &str) -> Result<Option<Value>, SeamError> {
        Err(SeamError("not scripted".into()))
    }
}

#[async_trait]
impl PreflightAzure for Azure {
    async fn usages(&self, _: &str, location: &str) -> Result<Vec<Value>, SeamError> {
        assert_eq!(location, "westus", "the network's region");
        Ok(self.usages.clone())
    }
    async fn policy_assignments(&self, group: &str) -> Result<Vec<Value>, SeamError> {
        assert!(group.ends_with("/resourceGroups/rg-drill-sandbox"));
        Ok(self.assignments.clone())
    }
}

async fn codes(azure: &Azure, vcpus: u64) -> Vec<&'static str> {
    preflight(&plan(), true, vcpus, azure, azure).await.unwrap().iter().map(|f: &Finding| f.code).collect()
}

#[tokio::test]
async fn an_isolated_network_with_quota_and_no_deny_policy_passes() {
    assert_eq!(codes(&Azure::isolated(), 4).await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_peered_network_is_refused() {
    let azure = Azure::default().network(json!([{"name": "to-prod"}]), isolated_rules(), true);
    assert_eq!(codes(&azure, 4).await, ["preflight.peeredNetwork"]);
}

#[tokio::test]
async fn a_network_with_a_gateway_in_use_is_refused() {
    let mut azure = Azure::isolated();
    let vnet = azure.resources.get_mut(&format!("{SUB}{VNET}").to_ascii_lowercase()).unwrap();
    vnet["properties"]["subnets"] =
        json!([{"name": "GatewaySubnet", "properties": {"ipConfigurations": [{"id": "gw"}]}}]);
    assert_eq!(codes(&azure, 4).await, ["preflight.networkGateway"]);
}

#[tokio::test]
async fn a_subnet_without_an_nsg_is_refused() {
    let azure = Azure::default().network(json!([]), isolated_rules(), false);
    assert_eq!(codes(&azure, 4).await, ["preflight.subnetWithoutNsg"]);
}

#[test]
fn nsg_rules_are_read_in_priority_order_as_azure_evaluates_them() {
    let check = |rules: Vec<Value>| -> Vec<&'static str> {
        nsg_findings("nsg", &json!({"properties": {"securityRules": rules}})).iter().map(|f| f.code).collect()
    };
    assert!(check(isolated_rules()).is_empty());
    // No rules: Azure's defaults let the VNet in and the Internet out.
    assert_eq!(check(vec![]), ["preflight.nsgNoDenyAll", "preflight.nsgNoDenyAll"]);
    // RDP allowed before the deny: refused; after it: never reached, fine.
    let mut rules = isolated_rules();
    rules.push(rule("rdp", "Inbound", "Allow", 200, "*", "3389", "Tcp"));
    assert_eq!(check(rules), ["preflight.nsgAllows"]);
    let mut rules = isolated_rules();
    rules.push(rule("rdp-late", "Inbound", "Allow", 4097, "*", "3389", "Tcp"));
    assert!(check(rules).is_empty());
    // Outbound to the Internet, or to AzureCloud on another port, before the deny: refused.
    for (dst, port) in [("Internet", "443"), ("AzureCloud", "22"), ("*", "443")] {
        let mut rules = isolated_rules();
        rules.push(rule("out", "Outbound", "Allow", 200, dst, port, "Tcp"));
        assert_eq!(check(rules), ["preflight.nsgAllows"], "{dst}:{port}");
    }
    // A regional AzureCloud tag is as good as the global one.
    let mut rules = isolated_rules();
    rules[1] = rule("run-command", "Outbound", "Allow", 100, "AzureCloud.westus", "443", "Tcp");
    assert!(check(rules).is_empty());
    // A deny on one port only is not a deny-all.
    let mut rules = isolated_rules();
    rules[0] = rule("deny-rdp", "Inbound", "Deny", 4096, "*", "3389", "*");
    assert_eq!(check(rules), ["preflight.nsgNoDenyAll"]);
}

#[tokio::test]
async fn a_region_without_the_vcpus_is_refused() {
    let mut azure = Azure::isolated();
    azure.usages = vec![json!({"name": {"value": "cores"}, "currentValue": 346, "limit": 350})];
    assert!(codes(&azure, 4).await.is_empty(), "4 of 4 left: fits");
    assert_eq!(codes(&azure, 5).await, ["preflight.quota"]);
}

#[tokio::test]
async fn enforced_deny_policies_that_would_refuse_the_restore_are_named() {
    let assignment = |definition: &str, effect: &str, mode: &str, params: Value| {
        let mut p = params;
        p["effect"] = json!({"value": effect});
        json!({"name": "a", "properties": {"displayName": "sandbox rule", "enforcementMode": mode,
            "policyDefinitionId": format!("/providers/Microsoft.Authorization/policyDefinitions/{definition}"), "parameters": p}})
    };
    let require_tag = "871b6d14-10aa-478d-b590-94f262ecfa99";
    let not_allowed = "6c112d4e-5bc7-47ae-a041-ea2d9dccd749";
    let cases = [
        (assignment(require_tag, "Deny", "Default", json!({})), vec!["preflight.denyPolicy"]),
        (assignment(require_tag, "Audit", "Default", json!({})), vec![]),
        (assignment(require_tag, "Deny", "DoNotEnforce", json!({})), vec![]),
        (
            assignment(
                not_allowed,
                "Deny",
                "Default",
                json!({"listOfResourceTypesNotAllowed": {"value": ["Microsoft.Network/networkInterfaces"]}}),
            ),
            vec!["preflight.denyPolicy"],
        ),
        (
            assignment(
                not_allowed,
                "Deny",
                "Default",
                json!({"listOfResourceTypesNotAllowed": {"value": ["Microsoft.Sql/servers"]}}),
            ),
            vec![],
        ),
    ];
    for (a, want) in cases {
        let mut azure = Azure::isolated();
        azure.assignments = vec![a.clone()];
        assert_eq!(codes(&azure, 2).await, want, "{a:#}");
    }
}
