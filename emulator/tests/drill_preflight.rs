//! A drill's preflight: regional vCPU quota (Compute usages, seeded and raised by restored VMs) and policy
//! assignments on the target resource group (a seeded Deny assignment; a group without any as control).

mod common;

use common::*;
use serde_json::json;

const COMPUTE: &str = "2025-04-01";
const AUTHZ: &str = "2023-04-01";

fn usages(loc: &str) -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{loc}/usages?api-version={COMPUTE}")
}

fn usage(body: &serde_json::Value, name: &str) -> (u64, u64) {
    let u = body["value"].as_array().unwrap().iter().find(|u| u["name"]["value"] == name).unwrap();
    assert_eq!(u["unit"], "Count");
    (u["currentValue"].as_u64().unwrap(), u["limit"].as_u64().unwrap())
}

#[tokio::test]
async fn seeded_vcpu_quota_counts_the_vms_in_the_region() {
    let mut s = example_scenario();
    s.subscriptions[0].usages = serde_json::from_value(json!([
        {"location": "westus", "name": "cores", "currentValue": 90, "limit": 100},
        {"location": "westus", "name": "standardDSv3Family", "localizedName": "Standard DSv3 Family vCPUs",
         "currentValue": 10, "limit": 10}
    ]))
    .unwrap();
    let env = start_with(s).await;
    let r = env.get(&usages("westus")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // vm-web-01 (D2s_v3) and vm-db-01 (E4s_v5) run in westus: 90 + 6.
    assert_eq!(usage(&r.body, "cores"), (96, 100));
    assert_eq!(usage(&r.body, "virtualMachines").0, 2);
    assert_eq!(usage(&r.body, "standardDSv3Family"), (10, 10), "family exhausted");
    let family =
        r.body["value"].as_array().unwrap().iter().find(|u| u["name"]["value"] == "standardDSv3Family").unwrap();
    assert_eq!(family["name"]["localizedValue"], "Standard DSv3 Family vCPUs");
    // An unseeded region: Azure-like defaults, nothing running.
    let east = env.get(&usages("eastus")).await;
    assert_eq!(usage(&east.body, "cores"), (0, 350));
    assert_eq!(env.emu.counts()["compute.usages.list GET"], 2);
}

#[tokio::test]
async fn deny_policy_assignment_on_a_resource_group() {
    let mut s = example_scenario();
    let rg = s.subscriptions[0].resource_groups.iter_mut().find(|g| g.name == "rg-restore").unwrap();
    rg.policy_assignments = serde_json::from_value(json!([{
        "name": "deny-vms", "displayName": "No VMs here", "effect": "Deny",
        "parameters": {"listOfResourceTypesNotAllowed": {"value": ["Microsoft.Compute/virtualMachines"]}}
    }]))
    .unwrap();
    let env = start_with(s).await;
    let url = |rg: &str| {
        format!(
            "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments?$filter=atScope()&api-version={AUTHZ}"
        )
    };
    let r = env.get(&url("rg-restore")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = &r.body["value"][0];
    assert_eq!(a["type"], "Microsoft.Authorization/policyAssignments");
    assert_eq!(a["properties"]["parameters"]["effect"]["value"], "Deny");
    assert_eq!(a["properties"]["enforcementMode"], "Default");
    assert_eq!(a["properties"]["scope"], rg_id("rg-restore"));
    assert!(a["properties"]["policyDefinitionId"].as_str().unwrap().contains("/policyDefinitions/"));
    assert_eq!(
        a["properties"]["parameters"]["listOfResourceTypesNotAllowed"]["value"][0],
        "Microsoft.Compute/virtualMachines"
    );
    let control = env.get(&url("rg-app")).await;
    assert_eq!((control.status, control.body["value"].as_array().unwrap().len()), (200, 0));
    assert_eq!(env.get(&url("rg-nope")).await.status, 404);
    assert_eq!(env.emu.counts()["authorization.policyAssignments.list GET"], 3);
}
