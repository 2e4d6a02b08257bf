//! The drill function end to end with the real binaries (drills, intake, tracker) on the emulator: a disk plan
//! due now runs once, its restore goes through the intake, the restored disk is tagged, checked, deleted with
//! the deletion confirmed, and the run ends `Passed` with its RTO, its report written.

mod common;

use common::{Stack, drills};
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

/// A disk plan scheduled daily at the minute before now (UTC), so exactly one run is due for the next few minutes.
fn plan() -> Value {
    drills::disk_plan("e2e-disk", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_disk_plan_restores_checks_cleans_up_and_passes() {
    due_disk_plan(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_disk_plan_restores_checks_cleans_up_and_passes_on_the_blob_store() {
    due_disk_plan(common::Backend::Blob).await;
}

async fn due_disk_plan(backend: common::Backend) {
    // The example scenario has the policy's sandbox group, rg-drill-sandbox.
    let mut stack = Stack::start_with(backend).await;
    let plan = plan();
    let (_, evidence) = drills::configure(&mut stack, &[("e2e-disk", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    let result = &results[0];
    assert_eq!(sent.len(), 1, "one restore request for one item");
    assert_eq!(result["outcome"], "Passed", "{result:#}\n{}", drills.stderr().text());
    let item = &result["items"][0];
    assert_eq!(item["outcome"], "Passed", "{item:#}");
    assert!(item["rto"]["measuredSeconds"].as_i64().is_some(), "{item:#}");
    assert!(item["timeline"]["cleanedUp"].is_string(), "{item:#}");
    assert!(item["recoveryPoint"]["name"].is_string() && item["recoveryPoint"]["time"].is_string(), "{item:#}");
    // The restore created a disk in the sandbox; it was tagged, then deleted and confirmed gone.
    let counts = stack.emu.counts();
    assert!(counts.get("resources.tags.patch PATCH").copied().unwrap_or(0) >= 1, "{counts:#?}");
    assert_eq!(counts.get("compute.disks.delete DELETE").copied(), Some(1), "{counts:#?}");
    let disks = stack.emu.resources()["disks"].to_string().to_ascii_lowercase();
    assert!(!disks.contains("rg-drill-sandbox"), "nothing left in the sandbox: {disks}");
    // The report and the evidence pack are written under the run's id.
    let run_id = result["runId"].as_str().unwrap();
    let page = evidence.join("runs").join(format!("{run_id}.html"));
    assert!(page.is_file(), "{}", page.display());
    // The evidence pack names the restored size as the checks read it: a restored disk has its source's size.
    let pack: Value =
        serde_json::from_slice(&std::fs::read(evidence.join("runs").join(format!("{run_id}.json"))).unwrap()).unwrap();
    let disks = stack.emu.resources()["disks"].clone();
    let source = disks.as_array().unwrap().iter().find(|d| d["name"] == "app-data-01").expect("the source disk");
    assert_eq!(pack["items"][0]["restoredGib"], source["properties"]["diskSizeGB"], "{pack:#}");
    // The overview across plans shows the run, its item's RTO and the next run.
    let overview: Value =
        serde_json::from_slice(&std::fs::read(evidence.join("index.json")).expect("overview data")).unwrap();
    let entry = &overview["plans"][0];
    assert_eq!(entry["lastRun"]["runId"], run_id, "{overview:#}");
    assert_eq!(entry["lastRun"]["outcome"], "Passed", "{overview:#}");
    assert_eq!(entry["items"][0]["historySeconds"], json!([item["rto"]["measuredSeconds"]]), "{overview:#}");
    assert!(entry["nextRunAt"].is_string() && evidence.join("index.html").is_file(), "{overview:#}");
    // Another tick starts nothing new for the same occurrence.
    let again = drills::tick(&drills).await;
    assert!(again.requests.is_empty() && again.results.is_empty());
}

/// A plan scheduled at the minute before now over a whole Backup vault and a tag that only a VM in the Recovery
/// Services vault carries, restoring VMs as disks through the sandbox's staging account.
fn vault_and_tag_plan() -> Value {
    let mut plan = plan();
    plan["name"] = json!("e2e-vault-tags");
    plan["selection"] = json!({
        "vaults": [format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks")],
        "tags": { "drill": "tier1" }
    });
    plan["restore"] = json!({ "disk": "newDisk", "vm": "restoreDisks" });
    plan["sandbox"]["stagingStorageAccountId"] = json!(format!(
        "{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Storage/storageAccounts/stdrillsandbox"
    ));
    plan["costGuard"] = json!({ "maxRestoredGiB": 4096, "maxVmVcpus": 1 });
    plan
}

/// The example scenario with vm-web-01 tagged `drill=tier1` and the sandbox's staging account.
fn tagged_scenario(scenario: &mut Value) {
    for rg in scenario["subscriptions"][0]["resourceGroups"].as_array_mut().expect("resource groups") {
        match rg["name"].as_str() {
            Some("rg-app") => {
                for vm in rg["vms"].as_array_mut().expect("vms") {
                    if vm["name"] == "vm-web-01" {
                        vm["tags"] = json!({ "drill": "tier1" });
                    }
                }
            }
            Some("rg-drill-sandbox") => rg["storageAccounts"] = json!(["stdrillsandbox"]),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_over_a_vault_and_a_tag_drills_every_disk_and_the_tagged_vm_once() {
    vault_and_tag(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_over_a_vault_and_a_tag_drills_every_disk_and_the_tagged_vm_once_on_the_blob_store() {
    vault_and_tag(common::Backend::Blob).await;
}

async fn vault_and_tag(backend: common::Backend) {
    let mut stack = Stack::start_custom(backend, tagged_scenario).await;
    let plan = vault_and_tag_plan();
    drills::configure(&mut stack, &[("e2e-vault-tags", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    let result = &results[0];
    assert_eq!(result["outcome"], "Passed", "{result:#}\n{}", drills.stderr().text());
    // The vault's two disks and the one tagged VM (vm-db-01 carries no tag), each requested once.
    let mut items: Vec<String> = result["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["item"].as_str().unwrap().rsplit(['/', ';']).next().unwrap().to_string())
        .collect();
    items.sort();
    assert_eq!(items, ["app-data-01-bi", "app-data-02-bi", "vm-web-01"], "{result:#}");
    let mut request_ids: Vec<String> = sent
        .iter()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap()["requestId"].as_str().unwrap().to_string())
        .collect();
    request_ids.sort();
    request_ids.dedup();
    assert_eq!((sent.len(), request_ids.len()), (3, 3), "each item's request sent once");
    for item in result["items"].as_array().unwrap() {
        assert_eq!(item["outcome"], "Passed", "{item:#}");
        assert!(item["rto"]["measuredSeconds"].as_i64().is_some(), "{item:#}");
        assert!(item["timeline"]["cleanedUp"].is_string(), "{item:#}");
    }
    // Every restored disk and the VM restore's staging files were deleted; the sources are untouched.
    let resources = stack.emu.resources();
    let disks = resources["disks"].to_string().to_ascii_lowercase();
    assert!(!disks.contains("rg-drill-sandbox"), "nothing left in the sandbox: {disks}");
    assert!(disks.contains("/rg-app/providers/microsoft.compute/disks/app-data-01"), "sources stay");
    assert_eq!(resources["stagingFiles"], json!([]), "staging files deleted");
    let counts = stack.emu.counts();
    assert!(counts.get("staging.blob.delete DELETE").copied().unwrap_or(0) >= 2, "config and template: {counts:#?}");
    // Three restores' disks: the two new disks and the VM's restored disks, each deleted.
    assert!(counts.get("compute.disks.delete DELETE").copied().unwrap_or(0) >= 3, "{counts:#?}");
    // The drill's request for the VM restores its disks into the sandbox.
    let vm_request = sent
        .iter()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap())
        .find(|r| r["operation"]["kind"] == "vmRestoreDisks")
        .expect("a VM restore-disks request");
    assert!(vm_request["operation"]["targetResourceGroupId"].as_str().unwrap().ends_with("rg-drill-sandbox"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_tier_plan_restores_the_newest_point_without_a_snapshot_by_id() {
    let mut stack = Stack::start_custom(common::Backend::Sqlite, tagged_scenario).await;
    let mut plan = vault_and_tag_plan();
    plan["name"] = json!("e2e-vault-tier");
    plan["selection"] = json!({ "tags": { "drill": "tier1" } });
    plan["recoveryPoint"] = json!({ "pick": "latest", "vmTier": "vault" });
    drills::configure(&mut stack, &[("e2e-vault-tier", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    let result = &results[0];
    assert_eq!(result["outcome"], "Passed", "{result:#}");
    let request: Value = serde_json::from_slice(&sent[0]).unwrap();
    let chosen = request["recoveryPoint"]["id"].as_str().unwrap_or_else(|| panic!("chosen by id: {request:#}"));
    assert_eq!(request["recoveryPoint"]["choice"], "id");
    // The newest point (3 hours old) still has its snapshot: not the vault tier.
    assert_ne!(chosen, "932895704780058094", "the newest point has a snapshot");
    assert_eq!(result["items"][0]["recoveryPoint"]["name"], chosen, "{result:#}");
    let record = stack.record(request["requestId"].as_str().unwrap()).await;
    assert_eq!(record.recovery_point_id.as_deref(), Some(chosen), "the intake restored the point the drill named");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_asked_for_with_restorectl_now_is_started_once_by_the_function_and_passes() {
    let mut stack = Stack::start().await;
    // Scheduled twelve hours from now: nothing is due, only the requested run can start.
    let mut plan = plan();
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(12);
    plan["name"] = json!("e2e-now");
    plan["schedule"]["cron"] = json!(format!("0 {} {} * * *", later.minute(), later.hour()));
    let (plans, _) = drills::configure(&mut stack, &[("e2e-now", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let idle = drills::tick(&drills).await;
    assert!(idle.requests.is_empty() && idle.results.is_empty(), "nothing is due");

    let restorectl = |args: &[&str]| {
        let out = std::process::Command::new(restore_e2e::workspace_bin("restorectl").expect("restorectl is built"))
            .args(args)
            .args(["--policy", &common::workspace().join("examples/policy.json").display().to_string()])
            .args(["--sqlite", &stack.db.display().to_string()])
            .output()
            .expect("restorectl runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")
    };
    let file = plans.join("e2e-now.json").display().to_string();
    let asked = restorectl(&["--json", "drills", "run", &file, "--now"]);
    let run_id = asked["runId"].as_str().expect("the run id").to_string();
    assert!(run_id.starts_with("e2e-now."), "{asked}");

    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    assert_eq!(results[0]["runId"], run_id.as_str(), "{:#}", results[0]);
    assert_eq!(results[0]["outcome"], "Passed", "{:#}", results[0]);
    assert_eq!(sent.len(), 1, "one restore");
    // Asked again for the same run id (a repeated command within the second, or a retried write): no second run.
    let again = drills::tick(&drills).await;
    assert!(again.requests.is_empty() && again.results.is_empty());
    let progress = restorectl(&["--json", "drills", "status", &run_id, "--watch"]);
    assert_eq!(
        (progress["ended"].as_bool(), progress["outcome"].as_str()),
        (Some(true), Some("Passed")),
        "{progress:#}"
    );
    assert_eq!(progress["steps"], progress["of"], "every item's steps done: {progress:#}");
    let status = restorectl(&["--json", "drills", "status", &file]);
    let runs = status["plans"][0]["runs"].as_array().expect("runs");
    assert!(runs.iter().any(|r| r["runId"] == run_id.as_str() && r["outcome"] == "Passed"), "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_that_could_not_be_written_is_written_on_a_later_tick_and_the_result_goes_once() {
    let mut stack = Stack::start().await;
    let plan = plan();
    let (_, evidence) = drills::configure(&mut stack, &[("e2e-disk", &plan)]);
    // A file where the runs folder should be: the first write of the report fails.
    std::fs::create_dir_all(&evidence).unwrap();
    std::fs::write(evidence.join("runs"), b"in the way").unwrap();
    let drills_fn = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let (results, _) = drills::run_until_results(&stack, &drills_fn, &intake, 1).await;
    let run_id = results[0]["runId"].as_str().unwrap().to_string();
    assert_eq!(results[0]["outcome"], "Passed");
    assert!(!evidence.join("runs").is_dir(), "the first write failed");

    // The disk frees up: the next tick writes the evidence, and does not send the result again.
    std::fs::remove_file(evidence.join("runs")).unwrap();
    let next = drills::tick(&drills_fn).await;
    assert!(next.results.is_empty() && next.requests.is_empty(), "the result went once: {:#?}", next.results);
    let pack = evidence.join("runs").join(format!("{run_id}.json"));
    assert!(
        pack.is_file() && evidence.join("runs").join(format!("{run_id}.html")).is_file(),
        "written on a later tick"
    );
    let written = std::fs::read(&pack).unwrap();
    // Once written it is not written again.
    let after = drills::tick(&drills_fn).await;
    assert!(after.results.is_empty());
    assert_eq!(std::fs::read(&pack).unwrap(), written);
}
