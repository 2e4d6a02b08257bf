//! The ARM client against the Azure Backup emulator over TLS, with tokens from the emulator's identity endpoint.
//! The client is configured explicitly (the emulator's endpoint, CA and identity endpoint): azure_identity's
//! managed-identity credential reads its endpoint only from the process environment, which a running test must
//! not change. The settings-driven path (`config::client_from_env` with the real credential) is what the function
//! apps run, and the end-to-end tests drive them as child processes with those settings.

use backup_emulator::scenario::Scenario;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use restore_engine::client::{ArmClient, CallError, Started};
use restore_engine::jobs::{JobStatus, JobView};
use restore_engine::lro::{PendingOperation, PollHeader, Step, step};
use restore_engine::region::Region;
use restore_engine::selection::{PointChoice, Unusable, dpp_candidates, rsv_candidates, select};
use restore_models::arm_id::{BackupInstanceId, BackupVaultId, ProtectedItemId, RecoveryServicesVaultId};
use restore_models::crr::CrossRegionRestoreRequest;
use restore_models::dataprotection::AzureBackupRestoreRequest;
use restore_models::recoveryservices::RestoreRequestResource;
use serde_json::{Value, json};
use time::OffsetDateTime;

const SUB: &str = "00000000-1111-2222-3333-444444444444";

fn bv() -> BackupVaultId {
    BackupVaultId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks"
    ))
    .unwrap()
}
fn bi(name: &str) -> BackupInstanceId {
    BackupInstanceId::parse(&format!("{}/backupInstances/{name}", bv().as_str())).unwrap()
}
fn rsv() -> RecoveryServicesVaultId {
    RecoveryServicesVaultId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms"
    ))
    .unwrap()
}
fn pi(vm: &str) -> ProtectedItemId {
    ProtectedItemId::parse(&format!(
        "{}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;{vm}/protectedItems/VM;iaasvmcontainerv2;rg-app;{vm}",
        rsv().as_str()
    ))
    .unwrap()
}

/// An ARM client for the emulator, configured explicitly; `edit` adjusts the options (budgets).
fn client_for(emu: &EmulatorHandle, edit: impl FnOnce(&mut restore_engine::pipeline::PipelineOptions)) -> ArmClient {
    let cloud = restore_engine::cloud::Cloud::Custom {
        arm_endpoint: restore_engine::cloud::parse_endpoint(&emu.arm_url).expect("the emulator's URL"),
        audience: "https://management.azure.com/".into(),
    };
    let mut options = restore_engine::pipeline::PipelineOptions::for_cloud(cloud);
    options.transport.extra_ca_files = vec![emu.ca_file.clone()];
    edit(&mut options);
    let credential = restore_e2e::identity::EndpointIdentity::new(&emu.identity_url, &emu.identity_header);
    ArmClient::from_options(&options, credential).expect("ARM client")
}

struct Env {
    emu: EmulatorHandle,
    client: ArmClient,
    admin: reqwest::Client,
}

async fn start() -> Env {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenario.json");
    let scenario = Scenario::load(&path).expect("examples/scenario.json loads");
    let emu = Emulator::start(EmulatorConfig::new(scenario)).await.expect("emulator starts");
    // The apps choose the App Service managed identity from these settings; this process builds the same client
    // explicitly, asking the identity endpoint directly (setting variables in a running test process is unsound).
    let settings = emu.app_settings();
    let lookup = |k: &str| settings.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let source = restore_engine::credential::choose_source(lookup, false).expect("a credential source");
    assert!(format!("{source:?}").contains("AppService"), "{source:?}");
    let client = client_for(&emu, |_| {});
    Env { emu, client, admin: reqwest::Client::new() }
}

impl Env {
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.admin.request(method, format!("{}{path}", self.emu.admin_url));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let text = req.send().await.expect("admin API answers").text().await.expect("admin body");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
    fn count(&self, key: &str) -> u64 {
        self.emu.counts().get(key).copied().unwrap_or(0)
    }
}

fn ctx() -> azure_core::http::Context<'static> {
    ArmClient::context("test-correlation")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn disk_restore(rp: &str, disk: &str) -> AzureBackupRestoreRequest {
    serde_json::from_value(json!({
        "objectType": "AzureBackupRecoveryPointBasedRestoreRequest",
        "recoveryPointId": rp,
        "sourceDataStoreType": "OperationalStore",
        "restoreTargetInfo": {
            "objectType": "RestoreTargetInfo",
            "recoveryOption": "FailIfExists",
            "restoreLocation": "westus",
            "datasourceInfo": {
                "objectType": "Datasource",
                "datasourceType": "Microsoft.Compute/disks",
                "resourceType": "Microsoft.Compute/disks",
                "resourceName": disk,
                "resourceID": format!("/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/disks/{disk}"),
                "resourceLocation": "westus"
            }
        }
    }))
    .unwrap()
}

fn vm_restore(vm: &str, rp: &str, region: &str, rg: &str, sa: &str) -> Value {
    json!({
        "objectType": "IaasVMRestoreRequest",
        "recoveryPointId": rp,
        "recoveryType": "RestoreDisks",
        "sourceResourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/{vm}"),
        "storageAccountId": format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{sa}"),
        "targetResourceGroupId": format!("/subscriptions/{SUB}/resourceGroups/{rg}"),
        "region": region,
        "createNewCloudService": false,
        "originalStorageAccountOption": false,
        "encryptionDetails": {"encryptionEnabled": false}
    })
}

fn pending(started: Started) -> PendingOperation {
    match started {
        Started::Pending(op) => op,
        Started::Done(body) => panic!("expected 202, got a synchronous answer {body:?}"),
    }
}

/// Steps until the operation ends, advancing the emulator's virtual clock by what Azure asked us to wait.
async fn drive(env: &Env, op: &mut PendingOperation) -> Step {
    for _ in 0..50 {
        let before = now();
        match step(&env.client, op, before).await.expect("poll succeeds") {
            Step::Pending { next_poll_at } => env.emu.advance((next_poll_at - before).as_seconds_f64().max(1.0)),
            done => return done,
        }
    }
    panic!("operation never finished: {op:?}")
}

#[tokio::test]
async fn disk_restore_from_selection_to_completed_job() {
    let env = start().await;
    // Five points over two pages (page size 3): nextLink is followed.
    let points = env.client.dpp_recovery_points(&ctx(), &bi("app-data-01-bi"), None).await.unwrap();
    assert_eq!(points.len(), 5);
    let candidates = dpp_candidates(&points, now());
    // The newest point (1 h old) is Partial, so the latest usable one is the 2 h old point.
    let chosen = select(&PointChoice::Latest, &candidates).unwrap();
    assert_eq!(chosen.id, "a3d02fc3ab8a4c3a8cc26688c26d3356");
    assert!(candidates.iter().any(|c| c.unusable == Some(Unusable::NotCommitted)));
    assert!(candidates.iter().any(|c| c.unusable == Some(Unusable::Expired)));

    let request = disk_restore(&chosen.id, "restored-by-engine");
    let mut validation =
        pending(env.client.dpp_validate_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await.unwrap());
    assert_eq!(validation.header, PollHeader::AzureAsyncOperation);
    assert!(matches!(drive(&env, &mut validation).await, Step::Succeeded { .. }));

    let mut op = pending(env.client.dpp_trigger_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await.unwrap());
    // The operation survives a round trip through JSON (it is stored between ticks).
    op = serde_json::from_str(&serde_json::to_string(&op).unwrap()).unwrap();
    let Step::Succeeded { job_id: Some(job_id) } = drive(&env, &mut op).await else { panic!("no job id") };
    assert_eq!(job_id.len(), 36, "normalised to a GUID: {job_id}");

    let job = JobView::from_dpp(&env.client.dpp_job(&ctx(), &bv(), &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::InProgress);
    env.emu.advance(200.0);
    let job = JobView::from_dpp(&env.client.dpp_job(&ctx(), &bv(), &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert!(job.duration.is_some());
    assert_eq!(env.count("dpp.restore POST"), 1);
}

#[tokio::test]
async fn a_failed_job_carries_azures_code_and_a_failed_validation_is_typed() {
    let env = start().await;
    // "already-there" exists in rg-restore: Azure refuses FailIfExists restores onto it during validation.
    let request = disk_restore("a3d02fc3ab8a4c3a8cc26688c26d3356", "already-there");
    let outcome = env.client.dpp_validate_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await;
    let failure = match outcome {
        Err(CallError::Azure(e)) => e,
        Ok(Started::Pending(mut op)) => match drive(&env, &mut op).await {
            Step::Failed(e) => e,
            other => panic!("validation passed: {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(failure.code, "UserErrorSameNameDiskAlreadyExists", "{failure}");

    // The scenario's job-outcome rule fails restores to a disk named "restore-fails".
    let request = disk_restore("a3d02fc3ab8a4c3a8cc26688c26d3356", "restore-fails");
    let mut op = pending(env.client.dpp_trigger_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await.unwrap());
    let Step::Succeeded { job_id: Some(job_id) } = drive(&env, &mut op).await else { panic!("no job id") };
    env.emu.advance(600.0);
    let job = JobView::from_dpp(&env.client.dpp_job(&ctx(), &bv(), &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.errors[0].code, "UserErrorSubscriptionDiskQuotaLimitReached");
}

#[tokio::test]
async fn vm_restore_follows_header_urls_with_their_old_api_version() {
    let env = start().await;
    let points = env.client.rsv_recovery_points(&ctx(), &pi("vm-web-01"), None, false).await.unwrap();
    let chosen = select(&PointChoice::Latest, &rsv_candidates(&points, now())).unwrap();
    assert_eq!(chosen.id, "932895704780058094");
    let point = pi("vm-web-01").recovery_point(&chosen.id).unwrap();
    let body: RestoreRequestResource = serde_json::from_value(
        json!({"properties": vm_restore("vm-web-01", &chosen.id, "westus", "rg-app", "stagingsa01")}),
    )
    .unwrap();
    let mut op = pending(env.client.rsv_trigger_restore(&ctx(), &point, &body, now()).await.unwrap());
    assert!(op.poll_url.contains("api-version=2019-05-13"), "{}", op.poll_url);
    assert!(op.poll_url.contains("iaasVMContainerV2"), "mixed-case names kept verbatim: {}", op.poll_url);
    let Step::Succeeded { job_id: Some(job_id) } = drive(&env, &mut op).await else { panic!("no job id") };
    env.emu.advance(400.0);
    let job = JobView::from_rsv(&env.client.rsv_job(&ctx(), &rsv(), &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    // A restore-disks job names its staging files with Azure's documented keys (the disks are read from them).
    let staging = job.staging.as_ref().expect("the job names its staging files");
    assert_eq!(staging.account, "stagingsa01", "{job:?}");
    assert!(staging.config_uri.as_deref().is_some_and(|u| u.ends_with(&staging.config_blob)), "{job:?}");
}

#[tokio::test]
async fn cross_region_vm_restore_runs_through_the_passive_stamp() {
    let env = start().await;
    let secondary = Region::parse("eastus").unwrap();
    let aad = env.client.crr_aad_properties(&ctx(), SUB, &secondary).await.unwrap();
    let points = env.client.rsv_recovery_points(&ctx(), &pi("vm-web-01"), None, true).await.unwrap();
    let chosen = select(&PointChoice::Latest, &rsv_candidates(&points, now())).unwrap();
    // The newest point is not replicated, so the secondary copy's latest is the 27 h old one.
    assert_eq!(chosen.id, "932891484644960954");
    let point = pi("vm-web-01").recovery_point(&chosen.id).unwrap();
    let token = env.client.crr_access_token(&ctx(), &point, &aad).await.unwrap();
    let request: CrossRegionRestoreRequest = serde_json::from_value(json!({
        "crossRegionRestoreAccessDetails": serde_json::to_value(&token.properties).unwrap(),
        "restoreRequest": vm_restore("vm-web-01", &chosen.id, "eastus", "rg-restore-eastus", "stagingeastus"),
    }))
    .unwrap();
    let mut op = pending(env.client.crr_trigger_restore(&ctx(), SUB, &secondary, &request, now()).await.unwrap());
    let Step::Succeeded { job_id: Some(job_id) } = drive(&env, &mut op).await else { panic!("no job id") };
    let job = JobView::from_rsv(&env.client.crr_job(&ctx(), &rsv(), &secondary, &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::InProgress);
    env.emu.advance(700.0);
    let job = JobView::from_rsv(&env.client.crr_job(&ctx(), &rsv(), &secondary, &job_id).await.unwrap());
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
}

#[tokio::test]
async fn a_header_url_on_another_host_is_never_followed() {
    let env = start().await;
    env.admin(reqwest::Method::PUT, "/header-host", Some(json!({"origin": "https://attacker.example:443"}))).await;
    let request = disk_restore("a3d02fc3ab8a4c3a8cc26688c26d3356", "restored-elsewhere");
    let err = env.client.dpp_trigger_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await.unwrap_err();
    assert!(matches!(err, CallError::Unsafe(_)), "{err:?}");
    assert!(err.to_string().contains("attacker.example"), "{err}");
    // Paging refuses a nextLink on another host too.
    let err = env.client.dpp_recovery_points(&ctx(), &bi("app-data-01-bi"), None).await.unwrap_err();
    assert!(matches!(err, CallError::Unsafe(_)), "{err:?}");
}

#[tokio::test]
async fn restore_triggers_are_never_retried_but_reads_are() {
    let env = start().await;
    let fault = |route: &str, method: &str| json!({"route": route, "method": method, "fault": {"kind": "status", "status": 503, "retryAfter": 0}, "times": 1});
    env.admin(reqwest::Method::POST, "/faults", Some(fault("dpp.restore", "POST"))).await;
    let request = disk_restore("a3d02fc3ab8a4c3a8cc26688c26d3356", "restored-once");
    let err = env.client.dpp_trigger_restore(&ctx(), &bi("app-data-01-bi"), &request, now()).await.unwrap_err();
    assert!(matches!(&err, CallError::Azure(e) if e.status == 503), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(env.count("dpp.restore POST"), 1, "the POST went out exactly once");

    env.admin(reqwest::Method::POST, "/faults", Some(fault("dpp.backupInstances.get", "GET"))).await;
    env.client.dpp_backup_instance(&ctx(), &bi("app-data-01-bi")).await.expect("the read is retried past the 503");
    assert_eq!(env.count("dpp.backupInstances.get GET"), 2);
}

#[tokio::test]
async fn a_thousand_reads_stay_inside_the_budget_without_a_single_429() {
    let env = start().await;
    // ARM's bucket scaled up tenfold so the test is quick; the client's budget mirrors it. The emulator refills
    // its buckets by its own clock, so it runs in real time here.
    env.admin(reqwest::Method::POST, "/clock/realtime", Some(json!({"speed": 1.0}))).await;
    env.admin(
        reqwest::Method::PUT,
        "/throttle",
        Some(json!({"enabled": true, "reads": {"capacity": 250, "refillPerSecond": 250}})),
    )
    .await;
    let client = client_for(&env.emu, |o| {
        o.budget.reads = restore_engine::budget::BucketLimits { burst: 250.0, per_second: 250.0 };
    });
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.spawn(async move {
            for _ in 0..125 {
                client.dpp_backup_instance(&ctx(), &bi("app-data-01-bi")).await.expect("read succeeds");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let log = env.admin(reqwest::Method::GET, "/log", None).await;
    let throttled = log.as_array().map(|l| l.iter().filter(|e| e["status"] == 429).count()).unwrap_or(usize::MAX);
    let reads = env.count("dpp.backupInstances.get GET");
    println!("budget: {reads} reads in {:.2?}, {throttled} answered 429", started.elapsed());
    assert_eq!(reads, 1000);
    assert_eq!(throttled, 0);
}

#[tokio::test]
async fn data_protection_cross_region_restore_and_its_job() {
    let env = start().await;
    let (primary, secondary) = (Region::parse("westus").unwrap(), Region::parse("eastus").unwrap());
    let points =
        env.client.dpp_secondary_recovery_points(&ctx(), &bi("app-data-01-bi"), &primary, &secondary).await.unwrap();
    let chosen = select(&PointChoice::Latest, &dpp_candidates(&points, now())).unwrap();
    let mut request = serde_json::to_value(disk_restore(&chosen.id, "crr-disk")).unwrap();
    request["restoreTargetInfo"]["restoreLocation"] = json!("eastus");
    request["restoreTargetInfo"]["datasourceInfo"]["resourceLocation"] = json!("eastus");
    request["restoreTargetInfo"]["datasourceInfo"]["resourceID"] = json!(format!(
        "/subscriptions/{SUB}/resourceGroups/rg-restore-eastus/providers/Microsoft.Compute/disks/crr-disk"
    ));
    let body = json!({
        "restoreRequestObject": request,
        "crossRegionRestoreDetails": {"sourceRegion": "westus", "sourceBackupInstanceId": bi("app-data-01-bi").as_str()}
    });
    let validate = serde_json::from_value(body.clone()).unwrap();
    let mut op = pending(
        env.client
            .dpp_validate_cross_region_restore(&ctx(), &bi("app-data-01-bi"), &secondary, &validate, now())
            .await
            .unwrap(),
    );
    assert!(matches!(drive(&env, &mut op).await, Step::Succeeded { .. }));
    let trigger = serde_json::from_value(body).unwrap();
    let mut op = pending(
        env.client
            .dpp_trigger_cross_region_restore(&ctx(), &bi("app-data-01-bi"), &secondary, &trigger, now())
            .await
            .unwrap(),
    );
    let Step::Succeeded { job_id: Some(job_id) } = drive(&env, &mut op).await else { panic!("no job id") };
    env.emu.advance(700.0);
    let job = JobView::from_dpp(
        &env.client.dpp_cross_region_restore_job(&ctx(), &bv(), &primary, &secondary, &job_id).await.unwrap(),
    );
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(env.count("dpp.crr.crossRegionRestore POST"), 1);
}
