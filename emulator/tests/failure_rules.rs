//! The scenario's failure rules, each next to a control that must succeed: deleted and expired RSV recovery
//! points, the DPP `snapshotDeleted` rule, `diskRestoreOperatorFrom {afterMinutes}`, `maxConcurrentRestores`,
//! `processThenHang` and `/release` (all or `{"count": n}`). Bodies are read with the `restore-models` types,
//! so the emulator and the client side are checked against the same models. Time only moves through the
//! virtual clock; waits on hung requests have real-time deadlines.

mod common;

use std::time::Duration;

use common::*;
use restore_models::dataprotection as dp;
use restore_models::error::CloudError;
use restore_models::recoveryservices as rs;
use restore_models::wire::{JobState, OperationState};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(10);

fn model<T: DeserializeOwned>(r: &Resp) -> T {
    serde_json::from_value(r.body.clone())
        .unwrap_or_else(|e| panic!("status {} body does not parse with the models: {e}\n{}", r.status, r.body))
}

fn path_of(url: &str, env: &Env) -> String {
    url.strip_prefix(&env.emu.arm_url).unwrap_or(url).to_string()
}

async fn wait_hung(env: &Env, n: usize) {
    tokio::time::timeout(DEADLINE, env.emu.wait_hung(n))
        .await
        .unwrap_or_else(|_| panic!("{n} request(s) should be hung within {DEADLINE:?}"));
}

fn rsv_restore_url(vm: &str, rp: &str) -> String {
    format!("{}/recoveryPoints/{rp}/restore?api-version={RSV}", pi(vm))
}

fn rsv_validate_body(vm: &str, rp: &str) -> Value {
    json!({
        "id": format!("{}/recoveryPoints/{rp}", pi(vm)),
        "properties": {
            "objectType": "ValidateIaasVMRestoreOperationRequest",
            "restoreRequest": vm_restore_body(vm, rp, "RestoreDisks")["properties"]
        }
    })
}

async fn rsv_validate(env: &Env, vm: &str, rp: &str) -> rs::ValidateOperationsResponse {
    let r = env.post(&format!("{}/backupValidateOperation?api-version={RSV}", rsv()), rsv_validate_body(vm, rp)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    model(&r)
}

fn error_of(r: &Resp) -> (u16, String, String) {
    let e: CloudError = model(r);
    (r.status, e.error.code.unwrap_or_default(), e.error.message.unwrap_or_default())
}

fn dpp_restore_url(bi_name: &str) -> String {
    format!("{}/restore?api-version={DPP}", bi(bi_name))
}

/// Follows a DPP trigger to its job: the operation must succeed and name a job.
async fn dpp_job_of(env: &Env, trigger: &Resp) -> String {
    assert_eq!(trigger.status, 202, "{}", trigger.body);
    env.advance(20.0);
    let s = env.get(&path_of(&trigger.header("azure-asyncoperation"), env)).await;
    let op: dp::OperationResource = model(&s);
    assert_eq!(op.state(), OperationState::Succeeded, "{}", s.body);
    op.properties
        .as_ref()
        .and_then(|p| match p {
            dp::OperationExtendedInfo::OperationJobExtendedInfo(j) => j.job_id.clone(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no job id in {}", s.body))
}

async fn dpp_job(env: &Env, job_id: &str) -> dp::AzureBackupJobResource {
    let r = env.get(&format!("{job_id}?api-version={DPP}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    model(&r)
}

fn disk_names(env: &Env) -> Vec<String> {
    env.emu.resources()["disks"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn scenario_with(edit: impl FnOnce(&mut Value)) -> backup_emulator::scenario::Scenario {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/scenario.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    backup_emulator::scenario::Scenario::from_json(&v.to_string()).unwrap()
}

#[tokio::test]
async fn rsv_point_with_every_tier_deleted_is_refused() {
    let env = start().await;
    let deleted = "932878824239669534";
    let valid = "932891484644960954";
    // The listing shows the tiers as Azure would, and the models see no valid tier.
    let r = env.get(&format!("{}/recoveryPoints/{deleted}?api-version={RSV}", pi("vm-web-01"))).await;
    let rp: rs::RecoveryPointResource = model(&r);
    let rs::RecoveryPoint::IaasVM(props) = &rp.properties else { panic!("not an IaasVMRecoveryPoint: {}", r.body) };
    assert_eq!(props.recovery_point_tier_details.len(), 2);
    assert!(!props.has_valid_tier(), "{}", r.body);

    let e =
        env.post(&rsv_restore_url("vm-web-01", deleted), vm_restore_body("vm-web-01", deleted, "RestoreDisks")).await;
    let (status, code, message) = error_of(&e);
    assert_eq!((status, code.as_str()), (400, "UserErrorRecoveryPointNotFound"));
    assert!(message.contains("no Valid tier") && message.contains("HardenedRP: Deleted"), "{message}");
    assert!(e.headers.get("azure-asyncoperation").is_none(), "a refused restore starts no operation");
    let v = rsv_validate(&env, "vm-web-01", deleted).await;
    assert_eq!(v.failures().len(), 1);
    assert_eq!(v.failures()[0].code.as_deref(), Some("UserErrorRecoveryPointNotFound"));
    assert_eq!(env.emu.resources()["jobs"], json!([]), "no job for a refused restore");

    // Control: a point with valid tiers validates clean and is accepted.
    assert!(rsv_validate(&env, "vm-web-01", valid).await.failures().is_empty());
    let t = env.post(&rsv_restore_url("vm-web-01", valid), vm_restore_body("vm-web-01", valid, "RestoreDisks")).await;
    assert_eq!(t.status, 202, "{}", t.body);
}

#[tokio::test]
async fn rsv_point_is_refused_once_the_clock_passes_its_expiry() {
    // 719 hours old with 30 days' retention: it expires one hour after the clock starts.
    let env = start_with(scenario_with(|v| {
        let rps = v["subscriptions"][0]["recoveryServicesVaults"][0]["protectedItems"][1]["recoveryPoints"]
            .as_array_mut()
            .unwrap();
        rps.push(json!({"id": "26083826320001", "ageHours": 719, "retentionDays": 30}));
    }))
    .await;
    let rp = "26083826320001";
    let r = env.get(&format!("{}/recoveryPoints/{rp}?api-version={RSV}", pi("vm-db-01"))).await;
    let point: rs::RecoveryPointResource = model(&r);
    let rs::RecoveryPoint::IaasVM(props) = &point.properties else { panic!("{}", r.body) };
    let expiry = props.recovery_point_properties.as_ref().and_then(|p| p.expiry_time.as_ref()).unwrap();
    let start =
        backup_emulator::util::parse_time(env.admin("GET", "/clock", None).await["start"].as_str().unwrap()).unwrap();
    assert_eq!(expiry.datetime(), Some(start + time::Duration::hours(1)), "expiry is start + 1 h");

    // Before expiry: validates clean and is accepted.
    assert!(rsv_validate(&env, "vm-db-01", rp).await.failures().is_empty());
    let t = env.post(&rsv_restore_url("vm-db-01", rp), vm_restore_body("vm-db-01", rp, "RestoreDisks")).await;
    assert_eq!(t.status, 202, "{}", t.body);

    env.advance(3600.0);
    let e = env.post(&rsv_restore_url("vm-db-01", rp), vm_restore_body("vm-db-01", rp, "RestoreDisks")).await;
    let (status, code, message) = error_of(&e);
    assert_eq!((status, code.as_str()), (400, "UserErrorRecoveryPointNotFound"));
    assert!(message.contains("expired"), "{message}");
    let v = rsv_validate(&env, "vm-db-01", rp).await;
    assert_eq!(v.failures().first().and_then(|f| f.code.as_deref()), Some("UserErrorRecoveryPointNotFound"));
    // The other points of the item are unaffected.
    let other = "26083826328862";
    let t = env.post(&rsv_restore_url("vm-db-01", other), vm_restore_body("vm-db-01", other, "RestoreDisks")).await;
    assert_eq!(t.status, 202, "{}", t.body);
}

#[tokio::test]
async fn dpp_snapshot_deleted_fails_validation_and_the_job_and_creates_no_disk() {
    let env = start().await;
    // validateRestore already fails (restore-managed-disks.md: "if snapshots were moved or deleted").
    let validate_url = format!("{}/validateRestore?api-version={DPP}", bi("app-data-02-bi"));
    let v = env
        .post(
            &validate_url,
            json!({"restoreRequestObject": disk_restore_body("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", "rg-restore", "snap-v")}),
        )
        .await;
    assert_eq!(v.status, 202, "{}", v.body);
    env.advance(10.0);
    let s = env.get(&path_of(&v.header("azure-asyncoperation"), &env)).await;
    let op: dp::OperationResource = model(&s);
    assert_eq!(op.state(), OperationState::Failed, "{}", s.body);
    assert_eq!(op.error.and_then(|e| e.code).as_deref(), Some("UserErrorDiskSnapshotNotFound"));
    let t = env
        .post(
            &dpp_restore_url("app-data-02-bi"),
            disk_restore_body("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", "rg-restore", "snap-gone"),
        )
        .await;
    let job_id = dpp_job_of(&env, &t).await;
    assert!(job_id.starts_with(&bv()), "full ARM job id in DPP op status: {job_id}");
    let running = dpp_job(&env, &job_id).await;
    assert_eq!(running.properties.state(), JobState::InProgress);
    assert!(running.properties.error_details.is_empty());

    let ok = env
        .post(
            &dpp_restore_url("app-data-02-bi"),
            disk_restore_body("f0e1d2c3b4a5968778695a4b3c2d1e0f", "rg-restore", "snap-ok"),
        )
        .await;
    let ok_job = dpp_job_of(&env, &ok).await;

    env.advance(180.0);
    let failed = dpp_job(&env, &job_id).await;
    assert_eq!(failed.properties.state(), JobState::Failed);
    let err = failed.properties.error_details.first().expect("errorDetails of a failed job");
    assert_eq!(err.code.as_deref(), Some("UserErrorDiskSnapshotNotFound"));
    assert_eq!(err.is_user_error, Some(true));
    assert!(failed.properties.ended_at().is_some(), "a failed job has a real end time");
    // Control: the other point of the same instance restores.
    assert_eq!(dpp_job(&env, &ok_job).await.properties.state(), JobState::Completed);
    let disks = disk_names(&env);
    assert!(disks.contains(&"snap-ok".to_string()), "{disks:?}");
    assert!(!disks.contains(&"snap-gone".to_string()), "a failed restore creates no disk: {disks:?}");
}

#[tokio::test]
async fn disk_restore_operator_after_minutes_gates_validation() {
    let env = start().await;
    let good = "a3d02fc3ab8a4c3a8cc26688c26d3356";
    let validate_url = format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi"));
    let validate = |disk: &str| {
        env.post(&validate_url, json!({"restoreRequestObject": disk_restore_body(good, "rg-restore-late", disk)}))
    };
    // 29 min 50 s after the start the role is still missing: the validation operation fails.
    env.advance(29.0 * 60.0 + 50.0);
    let v = validate("late-a").await;
    assert_eq!(v.status, 202, "{}", v.body);
    env.advance(10.0);
    let s = env.get(&path_of(&v.header("azure-asyncoperation"), &env)).await;
    let op: dp::OperationResource = model(&s);
    assert_eq!(op.state(), OperationState::Failed, "{}", s.body);
    let err = op.error.as_ref().expect("error of a failed validation");
    assert_eq!(err.code.as_deref(), Some("UserErrorDiskBackupRestoreRGOrMSIPermissionsNotPresent"));
    let uf = err.user_facing().expect("UserFacingError in additionalInfo");
    assert_eq!(uf.code, err.code);
    assert_eq!(uf.is_user_error, Some(true));
    assert!(!uf.recommended_action.is_empty());
    // operationResults answers the same error.
    let res = env.get(&path_of(&v.header("location"), &env)).await;
    assert_eq!(error_of(&res).1, "UserErrorDiskBackupRestoreRGOrMSIPermissionsNotPresent");

    // From 30 minutes on (the clock is at exactly 30:00 now) the role is there: the same validation succeeds.
    let v = validate("late-b").await;
    env.advance(10.0);
    let s = env.get(&path_of(&v.header("azure-asyncoperation"), &env)).await;
    let op: dp::OperationResource = model(&s);
    assert_eq!(op.state(), OperationState::Succeeded, "{}", s.body);
    assert!(op.error.is_none());
    // A resource group without the rule never needed to wait.
    let v = env
        .post(
            &format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi")),
            json!({"restoreRequestObject": disk_restore_body(good, "rg-restore", "early")}),
        )
        .await;
    env.advance(10.0);
    let s = env.get(&path_of(&v.header("azure-asyncoperation"), &env)).await;
    assert_eq!(model::<dp::OperationResource>(&s).state(), OperationState::Succeeded);
}

#[tokio::test]
async fn max_concurrent_restores_refuses_then_frees_up() {
    let env = start().await;
    let good = "a3d02fc3ab8a4c3a8cc26688c26d3356";
    // DPP vault: limit 3.
    for i in 0..3 {
        let t = env
            .post(&dpp_restore_url("app-data-01-bi"), disk_restore_body(good, "rg-restore", &format!("mc{i}")))
            .await;
        assert_eq!(t.status, 202, "{}", t.body);
    }
    let e = env.post(&dpp_restore_url("app-data-01-bi"), disk_restore_body(good, "rg-restore", "mc3")).await;
    assert_eq!(error_of(&e).1, "UserErrorMaxConcurrentOperationLimitReached");
    assert_eq!(error_of(&e).0, 400);
    let cloud: CloudError = model(&e);
    assert_eq!(cloud.error.is_retryable(), Some(true), "{}", e.body);
    // Validation is not a restore: it is still accepted.
    let v = env
        .post(
            &format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi")),
            json!({"restoreRequestObject": disk_restore_body(good, "rg-restore", "mc-v")}),
        )
        .await;
    assert_eq!(v.status, 202);

    // RSV vault: limit 4, counted separately.
    let rp = "932891484644960954";
    for _ in 0..4 {
        let t = env.post(&rsv_restore_url("vm-web-01", rp), vm_restore_body("vm-web-01", rp, "RestoreDisks")).await;
        assert_eq!(t.status, 202, "{}", t.body);
    }
    let e = env.post(&rsv_restore_url("vm-web-01", rp), vm_restore_body("vm-web-01", rp, "RestoreDisks")).await;
    assert_eq!(error_of(&e).0, 400);
    assert_eq!(error_of(&e).1, "UserErrorMaxConcurrentOperationLimitReached");

    // One second before the disk jobs end the limit still holds; once they end, a restore is accepted again.
    env.advance(179.0);
    let e = env.post(&dpp_restore_url("app-data-01-bi"), disk_restore_body(good, "rg-restore", "mc4")).await;
    assert_eq!(error_of(&e).1, "UserErrorMaxConcurrentOperationLimitReached");
    env.advance(1.0);
    let t = env.post(&dpp_restore_url("app-data-01-bi"), disk_restore_body(good, "rg-restore", "mc5")).await;
    assert_eq!(t.status, 202, "{}", t.body);
    env.advance(120.0);
    let t = env.post(&rsv_restore_url("vm-web-01", rp), vm_restore_body("vm-web-01", rp, "RestoreDisks")).await;
    assert_eq!(t.status, 202, "{}", t.body);
}

#[tokio::test]
async fn process_then_hang_creates_the_job_without_answering() {
    let env = start().await;
    let rp = "932891484644960954";
    env.admin("POST", "/faults", Some(json!({"route": "rsv.restore", "sequence": [{"kind": "processThenHang"}]})))
        .await;
    let req = env
        .http
        .post(env.url(&rsv_restore_url("vm-web-01", rp)))
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body(vm_restore_body("vm-web-01", rp, "RestoreDisks").to_string())
        .send();
    let pending = tokio::spawn(req);
    wait_hung(&env, 1).await;
    // The job is visible through the ARM API while the client still waits for its answer.
    let list = env.get(&format!("{}/backupJobs?api-version={RSV}", rsv())).await;
    let jobs: rs::JobResourceList = model(&list);
    assert_eq!(jobs.value.len(), 1, "{}", list.body);
    assert_eq!(jobs.value[0].properties.state(), JobState::InProgress);
    assert_eq!(jobs.value[0].properties.iaas_vm().and_then(|j| j.operation.as_deref()), Some("Restore"));
    let log = env.admin("GET", "/log", None).await;
    let entry = log.as_array().unwrap().iter().find(|e| e["route"] == "rsv.restore").unwrap().clone();
    assert_eq!((entry["fault"].as_str(), entry["status"].is_null()), (Some("processThenHang"), true), "{entry}");

    let released = env.admin("POST", "/release", None).await;
    assert_eq!(released["released"], 1);
    let answer = tokio::time::timeout(DEADLINE, pending).await.expect("released in time").unwrap();
    assert!(answer.is_err(), "the answer is withheld and the connection closed: {answer:?}");
    // The rule is spent: the same request now gets its 202, and a second job exists.
    let t = env.post(&rsv_restore_url("vm-web-01", rp), vm_restore_body("vm-web-01", rp, "RestoreDisks")).await;
    assert_eq!(t.status, 202);
    assert_eq!(env.emu.resources()["jobs"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn release_count_releases_only_that_many() {
    let env = start().await;
    let url = format!("{}/recoveryPoints?api-version={DPP}", bi("app-data-01-bi"));
    env.admin(
        "POST",
        "/faults",
        Some(json!({"route": "dpp.recoveryPoints.list", "sequence": [{"kind": "hang"}, {"kind": "hang"}, {"kind": "hang"}]})),
    )
    .await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..3 {
        set.spawn(env.http.get(env.url(&url)).bearer_auth(&env.token).send());
    }
    wait_hung(&env, 3).await;
    assert_eq!(env.admin("GET", "/hung", None).await["count"], 3);

    let r = env.admin("POST", "/release", Some(json!({"count": 1}))).await;
    assert_eq!((r["released"].as_u64(), r["stillHung"].as_u64()), (Some(1), Some(2)), "{r}");
    let first = tokio::time::timeout(DEADLINE, set.join_next()).await.expect("one answer").unwrap().unwrap();
    assert_eq!(first.unwrap().status(), 200);
    assert_eq!(env.admin("GET", "/hung", None).await["count"], 2, "the others stay hung");
    assert_eq!(set.len(), 2);

    // A bad body is refused and releases nothing.
    let bad = env.http.post(format!("{}/release", env.emu.admin_url)).body(r#"{"cnt": 1}"#).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(env.admin("GET", "/hung", None).await["count"], 2);

    // More than are hung: all of them, and the count says how many really were.
    let r = env.admin("POST", "/release", Some(json!({"count": 5}))).await;
    assert_eq!((r["released"].as_u64(), r["stillHung"].as_u64()), (Some(2), Some(0)), "{r}");
    while let Some(done) = tokio::time::timeout(DEADLINE, set.join_next()).await.expect("answers") {
        assert_eq!(done.unwrap().unwrap().status(), 200);
    }
    let r = env.admin("POST", "/release", None).await;
    assert_eq!(r["released"], 0);
}
