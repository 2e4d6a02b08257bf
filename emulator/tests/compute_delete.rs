//! Microsoft.Compute DELETE as Azure answers it: 202 with Location and Azure-AsyncOperation, then 404;
//! 204 for a resource already gone; 409 for a disk still attached to a VM; a VM's disks stay (Detach).

mod common;

use common::*;

const COMPUTE: &str = "2025-04-01";

#[tokio::test]
async fn disk_delete_is_accepted_then_gone_and_repeat_is_204() {
    let env = start().await;
    let disk = format!("{}?api-version={COMPUTE}", disk_id("rg-app", "app-unprotected"));
    let r = env.call("DELETE", &disk, None).await;
    assert_eq!(r.status, 202);
    let location = r.header("location");
    let aao = r.header("azure-asyncoperation");
    assert!(location.contains("/providers/Microsoft.Compute/locations/westus/operations/"), "{location}");
    assert!(location.contains("monitor=true"), "{location}");
    let op = env.get(&aao).await;
    assert_eq!((op.status, op.body["status"].as_str()), (200, Some("Succeeded")));
    assert!(op.body["startTime"].is_string() && op.body["endTime"].is_string());
    assert_eq!(env.get(&location).await.status, 200);
    assert_eq!(env.get(&disk).await.status, 404);
    assert_eq!(env.call("DELETE", &disk, None).await.status, 204);
    let unknown = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/nope?api-version={COMPUTE}"
    );
    assert_eq!(env.get(&unknown).await.status, 404);
    assert_eq!(env.admin("GET", "/counts", None).await["compute.operations.get GET"], 3);
}

#[tokio::test]
async fn attached_disk_refused_and_vm_delete_detaches_its_disks() {
    let env = start().await;
    let vm = format!("{}?api-version={COMPUTE}", vm_id("vm-web-01"));
    let body = env.get(&vm).await.body;
    let os_disk = body["properties"]["storageProfile"]["osDisk"].clone();
    assert_eq!(os_disk["deleteOption"], "Detach");
    let os_disk_url = format!("{}?api-version={COMPUTE}", os_disk["managedDisk"]["id"].as_str().unwrap());

    let r = env.call("DELETE", &os_disk_url, None).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("OperationNotAllowed")));
    assert_eq!(env.get(&os_disk_url).await.status, 200, "a refused delete leaves the disk");

    assert_eq!(env.call("DELETE", &vm, None).await.status, 202);
    assert_eq!(env.get(&vm).await.status, 404);
    assert_eq!(env.call("DELETE", &vm, None).await.status, 204);
    // Detach: the OS disk outlives the VM and is now unattached, so it can be deleted.
    let d = env.get(&os_disk_url).await;
    assert_eq!((d.status, d.body["properties"]["diskState"].as_str()), (200, Some("Unattached")));
    assert_eq!(env.call("DELETE", &os_disk_url, None).await.status, 202);
}

#[tokio::test]
async fn instance_view_reports_running_and_agent_ready() {
    let env = start().await;
    let r = env.get(&format!("{}/instanceView?api-version={COMPUTE}", vm_id("vm-web-01"))).await;
    assert_eq!(r.status, 200);
    let codes: Vec<&str> = r.body["statuses"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["ProvisioningState/succeeded", "PowerState/running"]);
    assert_eq!(r.body["vmAgent"]["statuses"][0]["code"], "ProvisioningState/succeeded");
    assert_eq!(r.body["vmAgent"]["statuses"][0]["displayStatus"], "Ready");
    assert!(r.body["bootDiagnostics"].is_object());
    assert!(!r.body["disks"].as_array().unwrap().is_empty());
    let vm = env.get(&format!("{}?api-version={COMPUTE}", vm_id("vm-web-01"))).await;
    assert_eq!(vm.body["properties"]["diagnosticsProfile"]["bootDiagnostics"]["enabled"], true);
    let missing = env.get(&format!("{}/instanceView?api-version={COMPUTE}", vm_id("no-such-vm"))).await;
    assert_eq!(missing.status, 404);
    let disk = env.get(&format!("{}?api-version={COMPUTE}", disk_id("rg-app", "app-data-01"))).await;
    assert_eq!(disk.body["properties"]["encryption"]["type"], "EncryptionAtRestWithPlatformKey");
}

#[tokio::test]
async fn a_delete_that_fails_twice_then_succeeds_via_a_fault_rule() {
    let env = start().await;
    let rule = serde_json::json!({
        "route": "compute.disks.delete", "method": "DELETE",
        "fault": {"kind": "status", "status": 500}, "times": 2
    });
    env.admin("POST", "/faults", Some(rule)).await;
    let disk = format!("{}?api-version={COMPUTE}", disk_id("rg-app", "app-unprotected"));
    assert_eq!(env.call("DELETE", &disk, None).await.status, 500);
    assert_eq!(env.call("DELETE", &disk, None).await.status, 500);
    assert_eq!(env.get(&disk).await.status, 200, "a failed delete leaves the disk");
    assert_eq!(env.call("DELETE", &disk, None).await.status, 202);
    assert_eq!(env.get(&disk).await.status, 404);
}
