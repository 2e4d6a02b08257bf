//! What a recovery drill does to a restored VM: deleteOption (read, PATCH, honoured by DELETE), the VM's NIC in
//! the requested subnet, and the `rules.vms` / `rules.deletes` switches (provisioning failure, agent never
//! ready, deletes that fail or hang).

mod common;

use common::*;
use serde_json::{Value, json};

const COMPUTE: &str = "2025-04-01";
const NETWORK: &str = "2024-05-01";
const VM: &str = "vm-web-01-restored";

fn restored_vm() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/virtualMachines/{VM}?api-version={COMPUTE}"
    )
}

fn arm(id: &str, version: &str) -> String {
    format!("{id}?api-version={version}")
}

/// Restores vm-web-01 as a new VM (AlternateLocation) and lets the job finish; returns the VM body.
async fn restore_new_vm(env: &Env) -> Value {
    let rps = env.get(&format!("{}/recoveryPoints?api-version={RSV}", pi("vm-web-01"))).await;
    let rp = rps.body["value"][0]["name"].as_str().unwrap().to_string();
    let t = env
        .post(
            &format!("{}/recoveryPoints/{rp}/restore?api-version={RSV}", pi("vm-web-01")),
            vm_restore_body("vm-web-01", &rp, "AlternateLocation"),
        )
        .await;
    assert_eq!(t.status, 202, "{}", t.body);
    env.advance(400.0);
    let vm = env.get(&restored_vm()).await;
    assert_eq!(vm.status, 200, "{}", vm.body);
    vm.body
}

async fn start_with_rules(rules: Value) -> Env {
    let mut s = example_scenario();
    s.rules = serde_json::from_value(rules).unwrap();
    start_with(s).await
}

#[tokio::test]
async fn restored_vm_has_a_nic_in_the_requested_subnet_and_detach_defaults() {
    let env = start().await;
    let vm = restore_new_vm(&env).await;
    let p = &vm["properties"];
    assert_eq!(p["storageProfile"]["osDisk"]["deleteOption"], "Detach");
    for d in p["storageProfile"]["dataDisks"].as_array().unwrap() {
        assert_eq!(d["deleteOption"], "Detach");
    }
    let nics = p["networkProfile"]["networkInterfaces"].as_array().unwrap();
    assert_eq!(nics.len(), 1);
    assert_eq!(nics[0]["properties"]["deleteOption"], "Detach");
    assert_eq!(nics[0]["properties"]["primary"], true);
    let nic_id = nics[0]["id"].as_str().unwrap();
    assert!(nic_id.contains("/resourceGroups/rg-restore/providers/Microsoft.Network/networkInterfaces/"), "{nic_id}");
    let nic = env.get(&arm(nic_id, NETWORK)).await;
    assert_eq!(nic.status, 200);
    let ipc = &nic.body["properties"]["ipConfigurations"][0]["properties"];
    assert_eq!(
        ipc["subnet"]["id"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/default"
        )
    );
    assert!(ipc["privateIPAddress"].as_str().unwrap().starts_with("10."));
    assert_eq!(nic.body["properties"]["virtualMachine"]["id"], vm["id"]);
    // A NIC in use cannot be deleted.
    let r = env.call("DELETE", &arm(nic_id, NETWORK), None).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("NicInUse")));

    // Detach: deleting the VM leaves disks and NIC; the NIC loses its VM and can then be deleted.
    assert_eq!(env.call("DELETE", &restored_vm(), None).await.status, 202);
    assert_eq!(env.get(&restored_vm()).await.status, 404);
    let os = p["storageProfile"]["osDisk"]["managedDisk"]["id"].as_str().unwrap();
    assert_eq!(env.get(&arm(os, COMPUTE)).await.body["properties"]["diskState"], "Unattached");
    let nic = env.get(&arm(nic_id, NETWORK)).await;
    assert_eq!(nic.status, 200);
    assert!(nic.body["properties"].get("virtualMachine").is_none());
    let r = env.call("DELETE", &arm(nic_id, NETWORK), None).await;
    assert_eq!(r.status, 202);
    let aao = env.get(&r.header("azure-asyncoperation")).await;
    assert_eq!(aao.body["status"], "Succeeded");
    assert_eq!(env.get(&r.header("location")).await.status, 204);
    assert_eq!(env.get(&arm(nic_id, NETWORK)).await.status, 404);
    assert_eq!(env.call("DELETE", &arm(nic_id, NETWORK), None).await.status, 204);
    let counts = env.emu.counts();
    assert_eq!(counts["network.networkInterfaces.delete DELETE"], 3);
    assert_eq!(counts["network.operations.get GET"], 1);
}

#[tokio::test]
async fn patch_sets_delete_option_and_delete_honours_it() {
    let env = start().await;
    let vm = restore_new_vm(&env).await;
    let p = &vm["properties"];
    let os = p["storageProfile"]["osDisk"]["managedDisk"]["id"].as_str().unwrap().to_string();
    let data0 = p["storageProfile"]["dataDisks"][0]["managedDisk"]["id"].as_str().unwrap().to_string();
    let data1 = p["storageProfile"]["dataDisks"][1]["managedDisk"]["id"].as_str().unwrap().to_string();
    let lun0 = p["storageProfile"]["dataDisks"][0]["lun"].clone();
    let lun1 = p["storageProfile"]["dataDisks"][1]["lun"].clone();
    let nic = p["networkProfile"]["networkInterfaces"][0]["id"].as_str().unwrap().to_string();

    let bad = env
        .call(
            "PATCH",
            &restored_vm(),
            Some(json!({"properties": {"storageProfile": {"osDisk": {"deleteOption": "Destroy"}}}})),
        )
        .await;
    assert_eq!((bad.status, bad.body["error"]["code"].as_str()), (400, Some("InvalidParameter")));

    // OS disk, data disk at lun0 and the NIC go with the VM; lun1 keeps Detach.
    let r = env
        .call(
            "PATCH",
            &restored_vm(),
            Some(json!({"properties": {
                "storageProfile": {
                    "osDisk": {"deleteOption": "Delete"},
                    "dataDisks": [{"lun": lun0, "deleteOption": "Delete"}, {"lun": lun1}]
                },
                "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"deleteOption": "Delete"}}]}
            }})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.header("azure-asyncoperation").is_empty());
    let sp = &r.body["properties"]["storageProfile"];
    assert_eq!(sp["osDisk"]["deleteOption"], "Delete");
    assert_eq!(sp["dataDisks"][0]["deleteOption"], "Delete");
    assert_eq!(sp["dataDisks"][1]["deleteOption"], "Detach");
    assert_eq!(r.body["properties"]["networkProfile"]["networkInterfaces"][0]["properties"]["deleteOption"], "Delete");
    assert_eq!(env.get(&restored_vm()).await.body["properties"]["storageProfile"]["osDisk"]["deleteOption"], "Delete");

    assert_eq!(env.call("DELETE", &restored_vm(), None).await.status, 202);
    assert_eq!(env.get(&arm(&os, COMPUTE)).await.status, 404, "Delete: the OS disk went with the VM");
    assert_eq!(env.get(&arm(&data0, COMPUTE)).await.status, 404);
    assert_eq!(env.get(&arm(&data1, COMPUTE)).await.status, 200, "Detach: the disk stays");
    assert_eq!(env.get(&arm(&nic, NETWORK)).await.status, 404);
}

#[tokio::test]
async fn patch_data_disks_is_the_whole_list() {
    let env = start().await;
    let vm = restore_new_vm(&env).await;
    let lun0 = vm["properties"]["storageProfile"]["dataDisks"][0]["lun"].clone();
    let r = env
        .call("PATCH", &restored_vm(), Some(json!({"properties": {"storageProfile": {"dataDisks": [{"lun": lun0}]}}})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["properties"]["storageProfile"]["dataDisks"].as_array().unwrap().len(),
        1,
        "a LUN left out is detached"
    );
}

#[tokio::test]
async fn provisioning_failed_and_agent_not_ready_switches() {
    let env = start_with_rules(json!({"vms": [{"name": "vm-web-01-re*", "provisioningFailed": true}]})).await;
    let vm = restore_new_vm(&env).await;
    assert_eq!(vm["properties"]["provisioningState"], "Failed");
    let jobs = env.emu.resources()["jobs"].clone();
    assert!(jobs.as_array().unwrap().iter().all(|j| j["status"] == "Completed"), "{jobs}");
    let iv = env.get(&format!("{}/instanceView?api-version={COMPUTE}", vm["id"].as_str().unwrap())).await;
    assert_eq!(iv.body["statuses"][0]["code"], "ProvisioningState/failed/OSProvisioningTimedOut");
    assert_eq!(iv.body["vmAgent"]["statuses"][0]["displayStatus"], "Not Ready");

    // The admin switch replaces the rules: now only the agent is missing; the control VM is unaffected.
    env.admin("PUT", "/rules/vms", Some(json!([{"name": VM, "agentNotReady": true}]))).await;
    let iv = env.get(&format!("{}/instanceView?api-version={COMPUTE}", vm["id"].as_str().unwrap())).await;
    assert_eq!(iv.body["statuses"][0]["code"], "ProvisioningState/succeeded");
    let agent = &iv.body["vmAgent"]["statuses"][0];
    assert_eq!(
        (agent["code"].as_str(), agent["displayStatus"].as_str()),
        (Some("ProvisioningState/Unavailable"), Some("Not Ready"))
    );
    let control = env.get(&format!("{}/instanceView?api-version={COMPUTE}", vm_id("vm-web-01"))).await;
    assert_eq!(control.body["vmAgent"]["statuses"][0]["displayStatus"], "Ready");
    assert_eq!(env.get(&restored_vm()).await.body["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn delete_fails_twice_then_works() {
    let env = start_with_rules(json!({"deletes": [{"name": VM, "failTimes": 2, "status": 409}]})).await;
    restore_new_vm(&env).await;
    for _ in 0..2 {
        let r = env.call("DELETE", &restored_vm(), None).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("Conflict")), "{}", r.body);
        assert_eq!(env.get(&restored_vm()).await.status, 200);
    }
    assert_eq!(env.call("DELETE", &restored_vm(), None).await.status, 202);
    assert_eq!(env.get(&restored_vm()).await.status, 404);
    // The control: a disk the rule does not name deletes at once.
    let disk = arm(&disk_id("rg-app", "app-unprotected"), COMPUTE);
    assert_eq!(env.call("DELETE", &disk, None).await.status, 202);
}

#[tokio::test]
async fn delete_that_hangs_stays_in_progress() {
    let env = start().await;
    restore_new_vm(&env).await;
    env.admin("PUT", "/rules/deletes", Some(json!([{"name": VM, "hang": true}]))).await;
    let r = env.call("DELETE", &restored_vm(), None).await;
    assert_eq!(r.status, 202);
    env.advance(3600.0);
    let op = env.get(&r.header("azure-asyncoperation")).await;
    assert_eq!(op.body["status"], "InProgress");
    assert!(op.body.get("endTime").is_none());
    assert_eq!(env.get(&r.header("location")).await.status, 202);
    let vm = env.get(&restored_vm()).await;
    assert_eq!((vm.status, vm.body["properties"]["provisioningState"].as_str()), (200, Some("Deleting")));
    // Lifting the rule lets the next DELETE through.
    env.admin("PUT", "/rules/deletes", Some(json!([]))).await;
    assert_eq!(env.call("DELETE", &restored_vm(), None).await.status, 202);
    assert_eq!(env.get(&restored_vm()).await.status, 404);
}

#[tokio::test]
async fn a_restored_vms_nic_takes_tags_like_its_disks() {
    let env = start().await;
    let vm = restore_new_vm(&env).await;
    let nic = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"].as_str().unwrap().to_string();
    let tags = format!("{nic}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01");
    let r = env
        .call("PATCH", &tags, Some(json!({"operation": "Merge", "properties": {"tags": {"drill-run": "r1"}}})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], format!("{nic}/providers/Microsoft.Resources/tags/default"));
    assert_eq!(env.get(&arm(&nic, NETWORK)).await.body["tags"], json!({"drill-run": "r1"}), "on the NIC's own GET");
    assert_eq!(env.get(&tags).await.body["properties"]["tags"]["drill-run"], "r1");
    let missing = nic.replace("/networkInterfaces/", "/networkInterfaces/no-such-");
    let r = env.get(&format!("{missing}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // A kind the emulator does not tag is a 404 too, never a silent success.
    let vnet = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app/providers/Microsoft.Resources/tags/default?api-version=2021-04-01"
    );
    assert_eq!(env.get(&vnet).await.status, 404);
}
