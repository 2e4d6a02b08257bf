//! Conformance: for every emulated operation, the status code and the header names match the public spec
//! example in ../shared/conformance (Retry-After both ways: present exactly where the example has it), our body has the example's top-level fields, and it parses with the wire
//! models of `restore-models`.

mod common;

use std::path::PathBuf;

use common::*;
use restore_models::{crr, dataprotection as dp, recoveryservices as rs};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn corpus() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/azure-rest-api-specs");
    assert!(p.is_dir(), "conformance corpus missing at {} (expected /work/shared/conformance)", p.display());
    p
}

fn example(file: &str) -> Value {
    let path = corpus().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parses<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(v.clone()).map(|_| ()).map_err(|e| e.to_string())
}

type Parse = fn(&Value) -> Result<(), String>;

/// Checks one response against an example file.
fn check(file: &str, ours: &Resp, parse: Option<Parse>) {
    let ex = example(file);
    let entry = ex["responses"].get(ours.status.to_string()).unwrap_or_else(|| {
        panic!(
            "{file}: our status {} is not among the example's {:?}; body {}",
            ours.status,
            ex["responses"].as_object().map(|o| o.keys().collect::<Vec<_>>()),
            ours.body
        )
    });
    if let Some(headers) = entry.get("headers").and_then(Value::as_object) {
        for name in headers.keys() {
            assert!(
                ours.headers.contains_key(name.to_ascii_lowercase().as_str()),
                "{file}: header {name} missing on our {} response",
                ours.status
            );
        }
    }
    // Retry-After exactly where Azure's answers carry it (202s and operation results while running), never on
    // status, job or resource reads: a client paced by it must not wait where Azure would not ask it to.
    let spec_waits = entry
        .get("headers")
        .and_then(Value::as_object)
        .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("retry-after")));
    assert_eq!(
        ours.headers.contains_key("retry-after"),
        spec_waits,
        "{file}: our {} response {} Retry-After, the spec example {}",
        ours.status,
        if spec_waits { "lacks" } else { "carries" },
        if spec_waits { "has one" } else { "has none" }
    );
    if let Some(ex_body) = entry.get("body") {
        assert!(!ours.body.is_null(), "{file}: example has a body, ours is empty");
        let (ex_top, our_top) = match (ex_body.get("value"), ours.body.get("value")) {
            (Some(e), Some(o)) => (e.get(0).cloned().unwrap_or(json!({})), o.get(0).cloned().unwrap_or(json!({}))),
            _ => (ex_body.clone(), ours.body.clone()),
        };
        if let (Some(e), Some(o)) = (ex_top.as_object(), our_top.as_object())
            && !o.is_empty()
        {
            for k in e.keys() {
                assert!(o.contains_key(k), "{file}: field '{k}' of the example is missing in ours: {our_top}");
            }
        }
        if let Some(p) = parse {
            p(&ours.body)
                .unwrap_or_else(|e| panic!("{file}: our body does not parse with the models: {e}\n{}", ours.body));
        }
    }
}

const D: &str = "dataprotection/";
const R: &str = "recoveryservicesbackup/";
const C: &str = "recoveryservicesbackup-crr/";

fn strip(url: &str, env: &Env) -> String {
    url.strip_prefix(&env.emu.arm_url).unwrap_or(url).to_string()
}

#[tokio::test]
async fn dataprotection_operations() {
    let env = start().await;
    let bi1 = bi("app-data-01-bi");
    let r = env.get(&format!("{bi1}/recoveryPoints?api-version={DPP}")).await;
    check(
        &format!("{D}BackupInstanceOperations/ListRecoveryPoints.json"),
        &r,
        Some(parses::<dp::AzureBackupRecoveryPointResourceList>),
    );
    let r = env.get(&format!("{bi1}/recoveryPoints/a3d02fc3ab8a4c3a8cc26688c26d3356?api-version={DPP}")).await;
    check(
        &format!("{D}BackupInstanceOperations/GetRecoveryPoint.json"),
        &r,
        Some(parses::<dp::AzureBackupRecoveryPointResource>),
    );
    let r = env
        .post(
            &format!("{bi1}/findRestorableTimeRanges?api-version={DPP}"),
            json!({"sourceDataStoreType": "OperationalStore"}),
        )
        .await;
    check(
        &format!("{D}BackupInstanceOperations/FindRestorableTimeRanges.json"),
        &r,
        Some(parses::<dp::AzureBackupFindRestorableTimeRangesResponseResource>),
    );
    let body = disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "conf-disk");
    let r = env.post(&format!("{bi1}/validateRestore?api-version={DPP}"), json!({"restoreRequestObject": body})).await;
    check(&format!("{D}BackupInstanceOperations/ValidateRestore.json"), &r, None);
    let t = env.post(&format!("{bi1}/restore?api-version={DPP}"), body).await;
    check(&format!("{D}BackupInstanceOperations/TriggerRestore.json"), &t, None);
    let loc = strip(&t.header("location"), &env);
    let aao = strip(&t.header("azure-asyncoperation"), &env);
    let r = env.get(&loc).await;
    check(&format!("{D}GetOperationResult.json"), &r, None);
    let r = env.get(&aao).await;
    check(&format!("{D}GetOperationStatus.json"), &r, Some(parses::<dp::OperationResource>));
    env.advance(20.0);
    let r = env.get(&aao).await;
    check(&format!("{D}GetOperationStatus.json"), &r, Some(parses::<dp::OperationResource>));
    let job_id = r.body["properties"]["jobId"].as_str().unwrap().to_string();
    let r = env.get(&loc).await;
    check(&format!("{D}GetOperationResult.json"), &r, Some(parses::<dp::OperationJobExtendedInfo>));
    let r = env.get(&format!("{job_id}?api-version={DPP}")).await;
    check(&format!("{D}JobCRUD/GetJob.json"), &r, Some(parses::<dp::AzureBackupJobResource>));
    let r = env.get(&format!("{}/backupJobs?api-version={DPP}", bv())).await;
    check(&format!("{D}JobCRUD/ListJobs.json"), &r, Some(parses::<dp::AzureBackupJobResourceList>));
    env.advance(180.0);
    let r = env.get(&format!("{job_id}?api-version={DPP}")).await;
    check(&format!("{D}JobCRUD/GetJob.json"), &r, Some(parses::<dp::AzureBackupJobResource>));

    let instance = json!({"objectType": "BackupInstance",
        "dataSourceInfo": {"objectType": "Datasource", "resourceID": disk_id("rg-app", "app-unprotected"), "datasourceType": "Microsoft.Compute/disks"},
        "policyInfo": {"policyId": format!("{}/backupPolicies/DiskBackupPolicy", bv())}});
    let r =
        env.post(&format!("{}/validateForBackup?api-version={DPP}", bv()), json!({"backupInstance": instance})).await;
    check(&format!("{D}BackupInstanceOperations/ValidateForBackup.json"), &r, None);
    let r =
        env.call("PUT", &format!("{}?api-version={DPP}", bi("conf-bi")), Some(json!({"properties": instance}))).await;
    check(
        &format!("{D}BackupInstanceOperations/PutBackupInstance.json"),
        &r,
        Some(parses::<dp::BackupInstanceResource>),
    );
    let vault_status = strip(&r.header("azure-asyncoperation"), &env);
    let r = env.get(&vault_status).await;
    check(&format!("{D}GetOperationStatusVaultContext.json"), &r, Some(parses::<dp::OperationResource>));
    let r = env.get(&format!("{}?api-version={DPP}", bi("conf-bi"))).await;
    check(
        &format!("{D}BackupInstanceOperations/GetBackupInstance.json"),
        &r,
        Some(parses::<dp::BackupInstanceResource>),
    );
    let r = env.get(&format!("{}/backupInstances?api-version={DPP}", bv())).await;
    check(
        &format!("{D}BackupInstanceOperations/ListBackupInstances.json"),
        &r,
        Some(parses::<dp::BackupInstanceResourceList>),
    );
    let r = env.call("DELETE", &format!("{}?api-version={DPP}", bi("conf-bi")), None).await;
    check(&format!("{D}BackupInstanceOperations/DeleteBackupInstance.json"), &r, None);
    env.advance(60.0);
    let r = env.call("DELETE", &format!("{}?api-version={DPP}", bi("conf-bi")), None).await;
    check(&format!("{D}BackupInstanceOperations/DeleteBackupInstance.json"), &r, None);
}

#[tokio::test]
async fn dataprotection_cross_region_operations() {
    let env = start().await;
    let base =
        format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/locations/eastus");
    let details = json!({"sourceRegion": "westus", "sourceBackupInstanceId": bi("app-data-01-bi")});
    let r = env.post(&format!("{base}/fetchSecondaryRecoveryPoints?api-version={DPP}"), details.clone()).await;
    check(
        &format!("{D}CrossRegionRestore/FetchSecondaryRPs.json"),
        &r,
        Some(parses::<dp::AzureBackupRecoveryPointResourceList>),
    );
    let mut body = disk_restore_body("8f76ebc4c54847c09455d5785a150ce2", "rg-restore-eastus", "conf-crr");
    body["restoreTargetInfo"]["restoreLocation"] = json!("eastus");
    let req = json!({"restoreRequestObject": body, "crossRegionRestoreDetails": details});
    let r = env.post(&format!("{base}/validateCrossRegionRestore?api-version={DPP}"), req.clone()).await;
    check(&format!("{D}CrossRegionRestore/ValidateCrossRegionRestore.json"), &r, None);
    let r = env.post(&format!("{base}/crossRegionRestore?api-version={DPP}"), req).await;
    check(&format!("{D}CrossRegionRestore/TriggerCrossRegionRestore.json"), &r, None);
    env.advance(20.0);
    let s = env.get(&strip(&r.header("azure-asyncoperation"), &env)).await;
    let job = s.body["properties"]["jobId"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let r = env
        .post(
            &format!("{base}/fetchCrossRegionRestoreJob?api-version={DPP}"),
            json!({"sourceRegion": "westus", "sourceBackupVaultId": bv(), "jobId": job}),
        )
        .await;
    check(
        &format!("{D}CrossRegionRestore/FetchCrossRegionRestoreJob.json"),
        &r,
        Some(parses::<dp::AzureBackupJobResource>),
    );
    let r = env
        .post(
            &format!("{base}/fetchCrossRegionRestoreJobs?api-version={DPP}"),
            json!({"sourceRegion": "westus", "sourceBackupVaultId": bv()}),
        )
        .await;
    check(
        &format!("{D}CrossRegionRestore/FetchCrossRegionRestoreJobs.json"),
        &r,
        Some(parses::<dp::AzureBackupJobResourceList>),
    );
}

#[tokio::test]
async fn recoveryservices_operations() {
    let env = start().await;
    let item = pi("vm-web-01");
    let r = env.get(&format!("{}/backupProtectedItems?api-version={RSV}", rsv())).await;
    check(&format!("{R}AzureIaasVm/BackupProtectedItems_List.json"), &r, Some(parses::<rs::ProtectedItemResourceList>));
    let r = env.get(&format!("{item}?api-version={RSV}")).await;
    check(&format!("{R}AzureIaasVm/Compute_ProtectedItem_Get.json"), &r, Some(parses::<rs::ProtectedItemResource>));
    let r = env.get(&format!("{item}/recoveryPoints?api-version={RSV}")).await;
    check(&format!("{R}AzureIaasVm/RecoveryPoints_List.json"), &r, Some(parses::<rs::RecoveryPointResourceList>));
    let rp = "932891484644960954";
    let r = env.get(&format!("{item}/recoveryPoints/{rp}?api-version={RSV}")).await;
    check(&format!("{R}AzureIaasVm/RecoveryPoints_Get.json"), &r, Some(parses::<rs::RecoveryPointResource>));
    let body = vm_restore_body("vm-web-01", rp, "RestoreDisks");
    let r = env.post(&format!("{}/backupValidateOperation?api-version={RSV}", rsv()), json!({
        "id": format!("{item}/recoveryPoints/{rp}"),
        "properties": {"objectType": "ValidateIaasVMRestoreOperationRequest", "restoreRequest": body["properties"]}
    })).await;
    check(
        &format!("{R}AzureIaasVm/ValidateOperation_RestoreDisk.json"),
        &r,
        Some(parses::<rs::ValidateOperationsResponse>),
    );
    let t = env.post(&format!("{item}/recoveryPoints/{rp}/restore?api-version={RSV}"), body).await;
    check(&format!("{R}AzureIaasVm/TriggerRestore_RestoreDisks_IaasVMRestoreRequest.json"), &t, None);
    let aao = strip(&t.header("azure-asyncoperation"), &env);
    let loc = strip(&t.header("location"), &env);
    let op = aao.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let r = env.get(&loc).await;
    check(&format!("{R}AzureIaasVm/ProtectedItemOperationResults.json"), &r, None);
    let r = env.get(&format!("{}/backupOperations/{op}?api-version={RSV}", rsv())).await;
    check(&format!("{R}Common/ProtectedItem_Delete_OperationStatus.json"), &r, Some(parses::<rs::OperationStatus>));
    env.advance(20.0);
    let r = env.get(&aao).await;
    check(&format!("{R}AzureIaasVm/ProtectedItemOperationStatus.json"), &r, Some(parses::<rs::OperationStatus>));
    let job = r.body["properties"]["jobId"].as_str().unwrap().to_string();
    let r = env.get(&loc).await;
    check(&format!("{R}AzureIaasVm/ProtectedItemOperationResults.json"), &r, None);
    let r = env.get(&format!("{}/backupJobs/{job}?api-version={RSV}", rsv())).await;
    check(&format!("{R}Common/GetJobDetails.json"), &r, Some(parses::<rs::JobResource>));
    let r = env.get(&format!("{}/backupJobs?api-version={RSV}&$filter=operation%20eq%20'Restore'", rsv())).await;
    check(&format!("{R}Common/ListJobs.json"), &r, Some(parses::<rs::JobResourceList>));
    env.advance(300.0);
    let r = env.get(&format!("{}/backupJobs/{job}?api-version={RSV}", rsv())).await;
    check(&format!("{R}Common/GetJobDetails.json"), &r, Some(parses::<rs::JobResource>));
}

#[tokio::test]
async fn cross_region_restore_operations() {
    let env = start().await;
    let item = pi("vm-web-01");
    let r = env.get(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupAadProperties?api-version={CRR}")).await;
    check(&format!("{C}AzureIaasVm/BackupAadProperties_Get.json"), &r, Some(parses::<crr::AadPropertiesResource>));
    let aad = r.body["properties"].clone();
    let r = env.get(&format!("{item}/recoveryPoints/?api-version={CRR}")).await;
    check(&format!("{C}AzureIaasVm/RecoveryPoints_List.json"), &r, Some(parses::<rs::RecoveryPointResourceList>));
    let rp = "932891484644960954";
    let r = env.get(&format!("{item}/recoveryPoints/{rp}?api-version={CRR}")).await;
    check(&format!("{C}AzureIaasVm/RecoveryPoints_Get.json"), &r, Some(parses::<rs::RecoveryPointResource>));
    let tok = env
        .post(&format!("{item}/recoveryPoints/{rp}/accessToken?api-version={CRR}"), json!({"properties": aad}))
        .await;
    check(&format!("{C}AzureIaasVm/GetAccessToken_Get.json"), &tok, Some(parses::<crr::CrrAccessTokenResource>));
    let bad =
        env.post(&format!("{item}/recoveryPoints/{rp}/accessToken?api-version={CRR}"), json!({"properties": {}})).await;
    check(&format!("{C}AzureIaasVm/GetAccessToken_Get.json"), &bad, None);
    let mut req = vm_restore_body("vm-web-01", rp, "RestoreDisks")["properties"].clone();
    req["region"] = json!("eastus");
    req["storageAccountId"] = json!(format!(
        "/subscriptions/{SUB}/resourceGroups/rg-restore-eastus/providers/Microsoft.Storage/storageAccounts/stagingeastus"
    ));
    req["targetResourceGroupId"] = json!(rg_id("rg-restore-eastus"));
    let t = env.post(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrossRegionRestore?api-version={CRR}"),
        json!({"crossRegionRestoreAccessDetails": tok.body["properties"], "restoreRequest": req})).await;
    check(&format!("{C}AzureIaasVm/TriggerCrossRegionRestore_Post.json"), &t, None);
    let r = env.get(&strip(&t.header("location"), &env)).await;
    check(&format!("{C}AzureIaasVm/GetCrrOperationResults_Get.json"), &r, None);
    env.advance(20.0);
    let r = env.get(&strip(&t.header("azure-asyncoperation"), &env)).await;
    check(&format!("{C}AzureIaasVm/GetCrrOperationStatus_Get.json"), &r, Some(parses::<rs::OperationStatus>));
    let job = r.body["properties"]["jobId"].as_str().unwrap().to_string();
    let r = env.post(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrrJob?api-version={CRR}"), json!({"resourceId": rsv(), "jobName": job})).await;
    check(&format!("{C}AzureIaasVm/GetCrrJob_Post.json"), &r, Some(parses::<rs::JobResource>));
    let r = env.post(&format!("/subscriptions/{SUB}/providers/Microsoft.RecoveryServices/locations/eastus/backupCrrJobs?api-version={CRR}"), json!({"resourceId": rsv()})).await;
    check(&format!("{C}AzureIaasVm/ListCrrJobs_Post.json"), &r, Some(parses::<rs::JobResourceList>));
}

#[tokio::test]
async fn error_bodies_parse_with_the_models() {
    let env = start().await;
    let r =
        env.post(&format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")), json!({"objectType": "Nope"})).await;
    assert_eq!(r.status, 400);
    parses::<restore_models::error::CloudError>(&r.body).unwrap();
    let r = env.get(&format!("{}/recoveryPoints/0?api-version={RSV}", pi("vm-web-01"))).await;
    assert_eq!(r.status, 404);
    parses::<restore_models::error::CloudError>(&r.body).unwrap();
}
