//! Microsoft.Network as a drill sees its sandbox: a scenario-seeded isolated vnet + subnet + NSG, a subnet
//! without NSG, a peered vnet, a gateway; and a restored VM's NIC showing up in the sandbox subnet.

mod common;

use backup_emulator::scenario::ResourceGroupSpec;
use common::*;
use serde_json::{Value, json};

const NETWORK: &str = "2024-05-01";

fn net(path: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-drill/providers/Microsoft.Network/{path}?api-version={NETWORK}")
}

fn sandbox_group() -> Value {
    json!({
        "name": "rg-drill",
        "location": "westus",
        "networkSecurityGroups": [{
            "name": "nsg-sandbox",
            "securityRules": [
                {"name": "deny-all-in", "direction": "Inbound", "access": "Deny", "priority": 100},
                {"name": "allow-azurecloud-443", "direction": "Outbound", "access": "Allow", "priority": 100,
                 "protocol": "Tcp", "destinationAddressPrefix": "AzureCloud", "destinationPortRange": "443"},
                {"name": "deny-internet-out", "direction": "Outbound", "access": "Deny", "priority": 200,
                 "destinationAddressPrefix": "Internet"}
            ]
        }],
        "virtualNetworks": [
            {"name": "vnet-sandbox", "addressPrefixes": ["10.99.0.0/16"], "subnets": [
                {"name": "workload", "addressPrefix": "10.99.1.0/24", "networkSecurityGroup": "nsg-sandbox"},
                "open"
            ]},
            {"name": "vnet-hub", "gateway": true, "subnets": ["shared"]},
            {"name": "vnet-spoke", "subnets": ["default"], "peerings": [
                {"name": "spoke-to-hub", "remoteVirtualNetwork": "vnet-hub"}
            ]}
        ]
    })
}

async fn start_sandbox() -> Env {
    let mut s = example_scenario();
    let rg: ResourceGroupSpec = serde_json::from_value(sandbox_group()).unwrap();
    s.subscriptions[0].resource_groups.push(rg);
    start_with(s).await
}

#[tokio::test]
async fn sandbox_vnet_subnets_nsg_peerings_and_gateway() {
    let env = start_sandbox().await;
    let v = env.get(&net("virtualNetworks/vnet-sandbox")).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["properties"]["addressSpace"]["addressPrefixes"], json!(["10.99.0.0/16"]));
    assert_eq!(v.body["properties"]["virtualNetworkPeerings"], json!([]), "an isolated sandbox has no peering");
    let subnets = v.body["properties"]["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 2);
    let nsg_id = subnets[0]["properties"]["networkSecurityGroup"]["id"].as_str().unwrap();
    assert!(nsg_id.ends_with("/networkSecurityGroups/nsg-sandbox"), "{nsg_id}");
    assert!(subnets[1]["properties"].get("networkSecurityGroup").is_none(), "subnet 'open' has no NSG");

    let s = env.get(&net("virtualNetworks/vnet-sandbox/subnets/open")).await;
    assert_eq!((s.status, s.body["name"].as_str()), (200, Some("open")));
    assert_eq!(env.get(&net("virtualNetworks/vnet-sandbox/subnets/nope")).await.status, 404);
    assert_eq!(env.get(&net("virtualNetworks/vnet-sandbox/subnets")).await.body["value"].as_array().unwrap().len(), 2);

    let g = env.get(&format!("{nsg_id}?api-version={NETWORK}")).await;
    assert_eq!(g.status, 200);
    let rules = g.body["properties"]["securityRules"].as_array().unwrap();
    let out443 = rules.iter().find(|r| r["name"] == "allow-azurecloud-443").unwrap();
    assert_eq!(out443["properties"]["destinationAddressPrefix"], "AzureCloud");
    assert_eq!(out443["properties"]["destinationPortRange"], "443");
    assert_eq!(out443["properties"]["direction"], "Outbound");
    assert_eq!(out443["properties"]["priority"], 100);
    assert_eq!(g.body["properties"]["defaultSecurityRules"].as_array().unwrap().len(), 6);
    assert!(g.body["properties"]["subnets"][0]["id"].as_str().unwrap().ends_with("/vnet-sandbox/subnets/workload"));

    let p = env.get(&net("virtualNetworks/vnet-spoke/virtualNetworkPeerings")).await;
    let peering = &p.body["value"][0]["properties"];
    assert_eq!(peering["peeringState"], "Connected");
    assert!(peering["remoteVirtualNetwork"]["id"].as_str().unwrap().ends_with("/virtualNetworks/vnet-hub"));

    let hub = env.get(&net("virtualNetworks/vnet-hub")).await;
    let names: Vec<&str> =
        hub.body["properties"]["subnets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shared", "GatewaySubnet"]);
    let gws = env.get(&net("virtualNetworkGateways")).await;
    assert_eq!(gws.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(gws.body["value"][0]["name"], "vnet-hub-gw");
    let list = env.get(&net("virtualNetworks")).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 3);
    assert_eq!(env.get(&net("virtualNetworks/nope")).await.status, 404);
    assert_eq!(env.emu.counts()["network.virtualNetworks.get GET"], 3);
}

#[tokio::test]
async fn restored_vm_nic_lands_in_the_sandbox_subnet() {
    let env = start_sandbox().await;
    let rps = env.get(&format!("{}/recoveryPoints?api-version={RSV}", pi("vm-web-01"))).await;
    let rp = rps.body["value"][0]["name"].as_str().unwrap().to_string();
    let mut body = vm_restore_body("vm-web-01", &rp, "AlternateLocation");
    let vnet = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-drill/providers/Microsoft.Network/virtualNetworks/vnet-sandbox"
    );
    body["properties"]["virtualNetworkId"] = json!(vnet);
    body["properties"]["subnetId"] = json!(format!("{vnet}/subnets/workload"));
    let t = env.post(&format!("{}/recoveryPoints/{rp}/restore?api-version={RSV}", pi("vm-web-01")), body).await;
    assert_eq!(t.status, 202, "{}", t.body);
    let before = env.get(&net("virtualNetworks/vnet-sandbox/subnets/workload")).await;
    assert_eq!(before.body["properties"]["ipConfigurations"], json!([]));
    env.advance(400.0);
    let after = env.get(&net("virtualNetworks/vnet-sandbox/subnets/workload")).await;
    let ipc = after.body["properties"]["ipConfigurations"][0]["id"].as_str().unwrap();
    assert!(ipc.contains("/networkInterfaces/vm-web-01-restored-nic-"), "{ipc}");
}

#[test]
fn an_undeclared_nsg_is_a_scenario_error() {
    let mut s = example_scenario();
    let mut g = sandbox_group();
    g["networkSecurityGroups"] = json!([]);
    s.subscriptions[0].resource_groups.push(serde_json::from_value(g).unwrap());
    let e = backup_emulator::world::World::from_scenario(&s, time::OffsetDateTime::now_utc()).unwrap_err();
    assert!(e.contains("networkSecurityGroup 'nsg-sandbox' is not declared"), "{e}");
}
