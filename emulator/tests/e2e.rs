//! End-to-end walks with plain reqwest, the emulator's CA and a token from its identity endpoint: recovery
//! points → validate → trigger → async operation → job → restored resources, driven by the virtual clock.

mod common;

use common::*;
use serde_json::{Value, json};

fn path_of(url: &str) -> String {
    // Header URLs are absolute and point at the emulator; strip the origin so Env::get can re-add it.
    let rest = url.strip_prefix("https://").expect("https header URL");
    rest[rest.find('/').expect("path")..].to_string()
}

#[tokio::test]
async fn disk_restore_walk() {
    let env = start().await;
    // List all recovery points through nextLink paging (page size 3 in the example scenario).
    let mut url = format!("{}/recoveryPoints?api-version={DPP}", bi("app-data-01-bi"));
    let mut ids = vec![];
    loop {
        let r = env.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for rp in r.body["value"].as_array().unwrap() {
            ids.push(rp["name"].as_str().unwrap().to_string());
        }
        match r.body["nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(ids.len(), 5);
    let rp = "a3d02fc3ab8a4c3a8cc26688c26d3356";
    assert!(ids.contains(&rp.to_string()));

    let body = disk_restore_body(rp, "rg-restore", "restored-disk-1");
    let v = env
        .post(
            &format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi")),
            json!({"restoreRequestObject": body}),
        )
        .await;
    assert_eq!(v.status, 202, "{}", v.body);
    assert_eq!(v.header("retry-after"), "10");
    let aao = v.header("azure-asyncoperation");
    assert!(
        aao.contains("/providers/Microsoft.DataProtection/locations/westus/operationStatus/") && aao.contains("=="),
        "{aao}"
    );
    assert_eq!(env.get(&path_of(&aao)).await.body["status"], "Inprogress");
    env.advance(10.0);
    assert_eq!(env.get(&path_of(&aao)).await.body["status"], "Succeeded");

    let t = env.post(&format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")), body).await;
    assert_eq!(t.status, 202, "{}", t.body);
    assert_eq!(t.header("retry-after"), "30");
    let aao = t.header("azure-asyncoperation");
    let loc = t.header("location");
    let s = env.get(&path_of(&aao)).await;
    assert_eq!(s.body["status"], "Inprogress");
    assert_eq!(s.body["endTime"], "0001-01-01T00:00:00");
    assert_eq!(env.get(&path_of(&loc)).await.status, 202);
    env.advance(20.0);
    let s = env.get(&path_of(&aao)).await;
    assert_eq!(s.body["status"], "Succeeded");
    let job_id = s.body["properties"]["jobId"].as_str().unwrap().to_string();
    assert!(job_id.starts_with(&bv()) && job_id.contains("/backupJobs/"), "{job_id}");
    let result = env.get(&path_of(&loc)).await;
    assert_eq!(result.status, 200);
    assert_eq!(result.body["jobId"], job_id.as_str());

    let job_path = format!("{job_id}?api-version={DPP}");
    assert_eq!(env.get(&job_path).await.body["properties"]["status"], "InProgress");
    let disk = format!("{}?api-version=2024-03-02", disk_id("rg-restore", "restored-disk-1"));
    assert_eq!(env.get(&disk).await.status, 404);
    env.advance(180.0);
    let job = env.get(&job_path).await;
    assert_eq!(job.body["properties"]["status"], "Completed", "{}", job.body);
    assert_eq!(job.body["properties"]["extendedInfo"]["recoveryDestination"], disk_id("rg-restore", "restored-disk-1"));
    let d = env.get(&disk).await;
    assert_eq!(d.status, 200);
    assert_eq!(d.body["properties"]["creationData"]["createOption"], "Restore");
    let res = env.emu.resources();
    let j = res["jobs"].as_array().unwrap().iter().find(|j| job_id.ends_with(j["jobId"].as_str().unwrap())).unwrap();
    assert_eq!(j["restoredResourceIds"][0], disk_id("rg-restore", "restored-disk-1"));
    // The restored disk can be deleted again.
    assert_eq!(env.call("DELETE", &disk, None).await.status, 202);
    assert_eq!(env.get(&disk).await.status, 404);
}

async fn follow_rsv(env: &Env, t: &Resp) -> String {
    assert_eq!(t.status, 202, "{}", t.body);
    assert_eq!(t.header("retry-after"), "60");
    let aao = t.header("azure-asyncoperation");
    let loc = t.header("location");
    assert!(aao.contains("iaasvmcontainer;iaasVMContainerV2;") && aao.contains("api-version=2019-05-13"), "{aao}");
    assert_eq!(env.get(&path_of(&aao)).await.body["status"], "InProgress");
    assert_eq!(env.get(&path_of(&loc)).await.status, 202);
    env.advance(20.0);
    let s = env.get(&path_of(&aao)).await;
    assert_eq!(s.body["status"], "Succeeded", "{}", s.body);
    assert_eq!(env.get(&path_of(&loc)).await.status, 204);
    let job = s.body["properties"]["jobId"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&job).is_ok(), "RSV job id is a bare GUID: {job}");
    // The vault-level operation status names the same job (az CLI polls this one).
    let op = aao.rsplit('/').next().unwrap().split('?').next().unwrap();
    let vault_op = env.get(&format!("{}/backupOperations/{op}?api-version={RSV}", rsv())).await;
    assert_eq!(vault_op.body["properties"]["jobId"], job.as_str());
    job
}

#[tokio::test]
async fn vm_restore_walks() {
    let env = start().await;
    let rps = env.get(&format!("{}/recoveryPoints?api-version={RSV}", pi("vm-web-01"))).await;
    assert_eq!(rps.status, 200);
    let rp = rps.body["value"][0]["name"].as_str().unwrap().to_string();

    // Restore disks, LUN 0 only.
    let mut body = vm_restore_body("vm-web-01", &rp, "RestoreDisks");
    body["properties"]["restoreDiskLunList"] = json!([0]);
    let v = env.post(&format!("{}/backupValidateOperation?api-version={RSV}", rsv()), json!({
        "id": format!("{}/recoveryPoints/{rp}", pi("vm-web-01")),
        "properties": {"objectType": "ValidateIaasVMRestoreOperationRequest", "restoreRequest": body["properties"]}
    })).await;
    assert_eq!(v.status, 200);
    let validation: restore_models::recoveryservices::ValidateOperationsResponse =
        serde_json::from_value(v.body.clone()).unwrap();
    assert!(validation.validate_operation_response.is_some(), "{}", v.body);
    assert!(validation.failures().is_empty(), "no validation failures: {}", v.body);
    let t = env.post(&format!("{}/recoveryPoints/{rp}/restore?api-version={RSV}", pi("vm-web-01")), body).await;
    let job = follow_rsv(&env, &t).await;
    let job_path = format!("{}/backupJobs/{job}?api-version={RSV}", rsv());
    assert_eq!(env.get(&job_path).await.body["properties"]["status"], "InProgress");
    env.advance(300.0);
    let j = env.get(&job_path).await;
    assert_eq!(j.body["properties"]["status"], "Completed");
    let disks = env
        .get(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/disks?api-version=2024-03-02"
        ))
        .await;
    let names: Vec<String> =
        disks.body["value"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    assert!(names.iter().any(|n| n.starts_with("vm-web-01-osdisk-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("vm-web-01-datadisk-0-")), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("vm-web-01-datadisk-1-")), "LUN 1 was not selected: {names:?}");
    // The job names its staging files with the keys Azure documents, and no invented ones.
    let bag = j.body["properties"]["extendedInfo"]["propertyBag"].clone();
    assert_eq!(bag["Job Type"], "Recover disks", "{bag:#}");
    assert!(bag.get("Restored resource IDs").is_none(), "{bag:#}");
    let config_uri = bag["Config Blob Uri"].as_str().unwrap().to_string();
    assert!(
        config_uri.ends_with(&format!(
            "/{}/{}",
            bag["Config Blob Container Name"].as_str().unwrap(),
            bag["Config Blob Name"].as_str().unwrap()
        )),
        "{bag:#}"
    );
    assert!(bag["Template Blob Uri"].is_string() && bag["Target resource group"] == "rg-restore", "{bag:#}");
    // The config is served with a storage token only, as UTF-16LE padded with NULs, naming the restored disks.
    let arm_token = token_for(&env.http, &env.emu, "https://management.azure.com/.default").await;
    assert_eq!(env.http.get(&config_uri).bearer_auth(&arm_token).send().await.unwrap().status(), 401);
    let storage = token_for(&env.http, &env.emu, "https://storage.azure.com/.default").await;
    let r = env.http.get(&config_uri).bearer_auth(&storage).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let units: Vec<u16> = bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let text = String::from_utf16(&units).unwrap();
    assert!(text.ends_with('\0'), "NUL padding");
    let config: Value = serde_json::from_str(text.trim_end_matches('\0')).unwrap();
    let os_name = config["properties.storageProfile"]["osDisk"]["name"].as_str().unwrap().to_string();
    assert!(names.contains(&os_name), "{os_name} not among {names:?}");
    // Deleting a file answers 202, then 404.
    assert_eq!(env.http.delete(&config_uri).bearer_auth(&storage).send().await.unwrap().status(), 202);
    assert_eq!(env.http.get(&config_uri).bearer_auth(&storage).send().await.unwrap().status(), 404);

    // Restore as a new VM.
    let t = env
        .post(
            &format!("{}/recoveryPoints/{rp}/restore?api-version={RSV}", pi("vm-web-01")),
            vm_restore_body("vm-web-01", &rp, "AlternateLocation"),
        )
        .await;
    follow_rsv(&env, &t).await;
    let new_vm = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/virtualMachines/vm-web-01-restored?api-version=2024-07-01"
    );
    assert_eq!(env.get(&new_vm).await.status, 404);
    env.advance(300.0);
    let vm = env.get(&new_vm).await;
    assert_eq!(vm.status, 200);
    assert_eq!(vm.body["properties"]["storageProfile"]["dataDisks"].as_array().unwrap().len(), 2);

    // Replace disks of the original VM.
    let before = env.get(&format!("{}?api-version=2024-07-01", vm_id("vm-db-01"))).await;
    let old_os = before.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].clone();
    let t = env.post(&format!("{}/recoveryPoints/26083826328862/restore?api-version={RSV}", pi("vm-db-01")), json!({"properties": {
        "objectType": "IaasVMRestoreRequest", "recoveryPointId": "26083826328862", "recoveryType": "OriginalLocation",
        "sourceResourceId": vm_id("vm-db-01"), "region": "westus", "originalStorageAccountOption": false
    }})).await;
    follow_rsv(&env, &t).await;
    env.advance(300.0);
    let after = env.get(&format!("{}?api-version=2024-07-01", vm_id("vm-db-01"))).await;
    assert_ne!(after.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"], old_os);
}

#[tokio::test]
async fn rsv_cross_region_restore_walk() {
    let env = start().await;
    let aad = env.get(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupAadProperties?api-version={CRR}")).await;
    assert_eq!(aad.status, 200);
    let rps = env.get(&format!("{}/recoveryPoints/?api-version=2021-11-15", pi("vm-web-01"))).await;
    assert_eq!(rps.status, 200);
    let names: Vec<&str> = rps.body["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"932895704780058094"), "not replicated yet");
    let rp = "932891484644960954";
    let tok = env
        .post(
            &format!("{}/recoveryPoints/{rp}/accessToken?api-version={CRR}", pi("vm-web-01")),
            json!({"properties": aad.body["properties"]}),
        )
        .await;
    assert_eq!(tok.status, 200, "{}", tok.body);
    let mut req = vm_restore_body("vm-web-01", rp, "RestoreDisks")["properties"].clone();
    req["region"] = json!("eastus");
    req["storageAccountId"] = json!(format!(
        "/subscriptions/{SUB}/resourceGroups/rg-restore-eastus/providers/Microsoft.Storage/storageAccounts/stagingeastus"
    ));
    req["targetResourceGroupId"] = json!(rg_id("rg-restore-eastus"));
    let t = env.post(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrossRegionRestore?api-version={CRR}"),
        json!({"crossRegionRestoreAccessDetails": tok.body["properties"], "restoreRequest": req})).await;
    assert_eq!(t.status, 202, "{}", t.body);
    let aao = t.header("azure-asyncoperation");
    env.advance(20.0);
    let s = env.get(&path_of(&aao)).await;
    assert_eq!(s.body["status"], "Succeeded");
    let job = s.body["properties"]["jobId"].as_str().unwrap().to_string();
    let crr_url = format!(
        "/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrrJob?api-version={CRR}"
    );
    let crr_body = json!({"resourceId": rsv(), "jobName": job});
    assert_eq!(env.post(&crr_url, crr_body.clone()).await.body["properties"]["status"], "InProgress");
    env.advance(600.0);
    let j = env.post(&crr_url, crr_body).await;
    assert_eq!(j.body["properties"]["status"], "Completed");
    assert_eq!(j.body["properties"]["operation"], "CrossRegionRestore");
    let jobs = env.post(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrrJobs?api-version={CRR}"), json!({"resourceId": rsv()})).await;
    assert_eq!(jobs.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn dpp_cross_region_restore_walk() {
    let env = start().await;
    let base =
        format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/locations/eastus");
    let details = json!({"sourceRegion": "westus", "sourceBackupInstanceId": bi("app-data-01-bi")});
    let rps = env.post(&format!("{base}/fetchSecondaryRecoveryPoints?api-version={DPP}"), details.clone()).await;
    assert_eq!(rps.status, 200, "{}", rps.body);
    let mut body = disk_restore_body("8f76ebc4c54847c09455d5785a150ce2", "rg-restore-eastus", "crr-disk");
    body["restoreTargetInfo"]["restoreLocation"] = json!("eastus");
    let v = env
        .post(
            &format!("{base}/validateCrossRegionRestore?api-version={DPP}"),
            json!({"restoreRequestObject": body, "crossRegionRestoreDetails": details}),
        )
        .await;
    assert_eq!(v.status, 202, "{}", v.body);
    let t = env
        .post(
            &format!("{base}/crossRegionRestore?api-version={DPP}"),
            json!({"restoreRequestObject": body, "crossRegionRestoreDetails": details}),
        )
        .await;
    assert_eq!(t.status, 202, "{}", t.body);
    env.advance(20.0);
    let s = env.get(&path_of(&t.header("azure-asyncoperation"))).await;
    let job = s.body["properties"]["jobId"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    env.advance(600.0);
    let j = env
        .post(
            &format!("{base}/fetchCrossRegionRestoreJob?api-version={DPP}"),
            json!({"sourceRegion": "westus", "sourceBackupVaultId": bv(), "jobId": job}),
        )
        .await;
    assert_eq!(j.body["properties"]["status"], "Completed", "{}", j.body);
    let jobs = env
        .post(
            &format!("{base}/fetchCrossRegionRestoreJobs?api-version={DPP}"),
            json!({"sourceRegion": "westus", "sourceBackupVaultId": bv()}),
        )
        .await;
    assert_eq!(jobs.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.get(&format!("{}?api-version=2024-03-02", disk_id("rg-restore-eastus", "crr-disk"))).await.status,
        200
    );
}

#[tokio::test]
async fn protection_lifecycle() {
    let env = start().await;
    let disk = disk_id("rg-app", "app-unprotected");
    let instance = json!({"objectType": "BackupInstance",
        "dataSourceInfo": {"objectType": "Datasource", "resourceID": disk, "datasourceType": "Microsoft.Compute/disks"},
        "policyInfo": {"policyId": format!("{}/backupPolicies/DiskBackupPolicy", bv())}});
    let v =
        env.post(&format!("{}/validateForBackup?api-version={DPP}", bv()), json!({"backupInstance": instance})).await;
    assert_eq!(v.status, 202);
    // Already protected disk: 400 with the UserFacingError inside.
    let mut protected = instance.clone();
    protected["dataSourceInfo"]["resourceID"] = json!(disk_id("rg-app", "app-data-01"));
    let e =
        env.post(&format!("{}/validateForBackup?api-version={DPP}", bv()), json!({"backupInstance": protected})).await;
    assert_eq!(e.status, 400);
    assert_eq!(e.body["error"]["code"], "UserErrorDppDatasourceAlreadyProtected");
    assert_eq!(e.body["error"]["additionalInfo"][0]["info"]["isRetryable"], false);

    let put =
        env.call("PUT", &format!("{}?api-version={DPP}", bi("new-bi")), Some(json!({"properties": instance}))).await;
    assert_eq!(put.status, 201, "{}", put.body);
    assert_eq!(put.body["properties"]["protectionStatus"]["status"], "ConfiguringProtection");
    let aao = put.header("azure-asyncoperation");
    assert!(aao.contains("/backupVaults/bv-disks/operationStatus/"));
    env.advance(60.0);
    assert_eq!(env.get(&path_of(&aao)).await.body["status"], "Succeeded");
    assert_eq!(
        env.get(&format!("{}?api-version={DPP}", bi("new-bi"))).await.body["properties"]["protectionStatus"]["status"],
        "ProtectionConfigured"
    );
    let list = env.get(&format!("{}/backupInstances?api-version={DPP}", bv())).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 3);

    let del = env.call("DELETE", &format!("{}?api-version={DPP}", bi("new-bi")), None).await;
    assert_eq!(del.status, 202);
    env.advance(30.0);
    assert_eq!(env.get(&format!("{}?api-version={DPP}", bi("new-bi"))).await.status, 404);
    assert_eq!(env.call("DELETE", &format!("{}?api-version={DPP}", bi("new-bi")), None).await.status, 204);
}

#[tokio::test]
async fn scenario_failure_rules() {
    let env = start().await;
    let restore = |rp: &str, rg: &str, disk: &str| {
        (format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")), disk_restore_body(rp, rg, disk))
    };
    let good = "a3d02fc3ab8a4c3a8cc26688c26d3356";
    // Expired and partial points: synchronous 400.
    let (u, b) = restore("e1e2e3e4e5e6e7e8e9eaebecedeeef00", "rg-restore", "x1");
    assert_eq!(env.post(&u, b).await.body["error"]["code"], "UserErrorRecoveryPointExpired");
    let (u, b) = restore("0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "rg-restore", "x2");
    assert_eq!(env.post(&u, b).await.body["error"]["code"], "UserErrorRecoveryPointNotCommitted");
    // Wrong recoveryOption: 400 naming the field.
    let (u, mut b) = restore(good, "rg-restore", "x3");
    b["restoreTargetInfo"]["recoveryOption"] = json!("OverwriteIfExists");
    let e = env.post(&u, b).await;
    assert_eq!(e.status, 400);
    assert!(e.body["error"]["message"].as_str().unwrap().contains("recoveryOption"));
    // Existing disk name: validateRestore's operation fails with the real code.
    let v = env
        .post(
            &format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi")),
            json!({"restoreRequestObject": disk_restore_body(good, "rg-restore", "already-there")}),
        )
        .await;
    env.advance(10.0);
    let s = env.get(&path_of(&v.header("azure-asyncoperation"))).await;
    assert_eq!(s.body["status"], "Failed");
    assert_eq!(s.body["error"]["code"], "UserErrorSameNameDiskAlreadyExists");
    // Missing Disk Restore Operator until 30 min after start: the job fails, later it works.
    let (u, b) = restore(good, "rg-restore-late", "late-1");
    let t = env.post(&u, b).await;
    env.advance(200.0);
    let job = env.get(&path_of(&t.header("azure-asyncoperation"))).await.body["properties"]["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let j = env.get(&format!("{job}?api-version={DPP}")).await;
    assert_eq!(j.body["properties"]["status"], "Failed");
    assert_eq!(
        j.body["properties"]["errorDetails"][0]["code"],
        "UserErrorDiskBackupRestoreRGOrMSIPermissionsNotPresent"
    );
    env.advance(1800.0);
    let (u, b) = restore(good, "rg-restore-late", "late-2");
    let t = env.post(&u, b).await;
    env.advance(200.0);
    let job = env.get(&path_of(&t.header("azure-asyncoperation"))).await.body["properties"]["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.get(&format!("{job}?api-version={DPP}")).await.body["properties"]["status"], "Completed");
    // Concurrency limit (3 in the example): the fourth concurrent restore is refused, retryable.
    for i in 0..3 {
        let (u, b) = restore(good, "rg-restore", &format!("c{i}"));
        assert_eq!(env.post(&u, b).await.status, 202);
    }
    let (u, b) = restore(good, "rg-restore", "c3");
    let e = env.post(&u, b).await;
    assert_eq!(e.status, 400);
    assert_eq!(e.body["error"]["code"], "UserErrorMaxConcurrentOperationLimitReached");
    assert_eq!(e.body["error"]["additionalInfo"][0]["info"]["isRetryable"], true);
    // Deleted RSV tiers: refused.
    let e = env
        .post(
            &format!("{}/recoveryPoints/932878824239669534/restore?api-version={RSV}", pi("vm-web-01")),
            vm_restore_body("vm-web-01", "932878824239669534", "RestoreDisks"),
        )
        .await;
    assert_eq!(e.status, 400);
    assert_eq!(e.body["error"]["code"], "UserErrorRecoveryPointNotFound");
    // Unknown LUN: refused, naming the field.
    let mut b = vm_restore_body("vm-web-01", "932891484644960954", "RestoreDisks");
    b["properties"]["restoreDiskLunList"] = json!([7]);
    let e =
        env.post(&format!("{}/recoveryPoints/932891484644960954/restore?api-version={RSV}", pi("vm-web-01")), b).await;
    assert!(e.body["error"]["message"].as_str().unwrap().contains("restoreDiskLunList"), "{}", e.body);
    let _: Value = e.body;
}
