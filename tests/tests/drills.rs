//! The drill function end to end with the real binaries (drills, intake, tracker) on the emulator: a disk plan
//! due now runs once, its restore goes through the intake, the restored disk is tagged, checked, deleted with
//! the deletion confirmed, and the run ends `Passed` with its RTO, its report written.

mod common;

use std::time::Duration;

use common::{Stack, WAIT, deliver};
use restore_e2e::{SbMessage, TimerPayload, Worker};
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

/// One drills tick: the restore requests and drill results it returned.
async fn tick(drills: &Worker) -> (Vec<Vec<u8>>, Vec<Value>) {
    let invocation = TimerPayload::without_status().invocation("RestoreDrills", "timer");
    let response = drills.invoke(&invocation).await.expect("the drill function answers");
    let success = response.success().unwrap_or_else(|e| panic!("tick failed: {e}\n{}", drills.stderr().text()));
    let output = |name: &str| {
        success
            .outputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| restore_e2e::service_bus_messages(name, v, false).expect("a Service Bus output"))
            .unwrap_or_default()
    };
    let results = output("drillResults").iter().map(|b| serde_json::from_slice(b).expect("result JSON")).collect();
    (output("requests"), results)
}

/// A plan scheduled daily at the minute before now (UTC), so exactly one run is due for the next few minutes.
fn plan() -> Value {
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    json!({
        "version": "1",
        "name": "e2e-disk",
        "schedule": { "cron": format!("0 {} {} * * *", at.minute(), at.hour()), "timeZone": "UTC", "startWindow": "PT15M" },
        "completionWindow": "PT1H",
        "selection": { "items": [format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi")] },
        "recoveryPoint": { "pick": "latest" },
        "sandbox": { "resourceGroupId": format!("{SUB}/resourceGroups/rg-drill-sandbox") },
        "rto": { "target": "PT1H" },
        "keepFor": "PT0S",
        "costGuard": { "maxRestoredGiB": 1024, "maxVmVcpus": 1 },
        "vaultConcurrencyShare": 1
    })
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
    let plans = stack.dir.path().join("plans");
    let evidence = stack.dir.path().join("evidence");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("e2e-disk.json"), plan().to_string()).unwrap();
    stack.set("RESTORE_DRILL_PLANS_DIR", &plans.display().to_string());
    stack.set("RESTORE_DRILL_EVIDENCE_DIR", &evidence.display().to_string());
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.2");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "1");
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let mut sent = Vec::new();
    let result = loop {
        let (requests, results) = tick(&drills).await;
        for request in requests {
            let response = deliver(&intake, &SbMessage::new(request.clone()), 1).await;
            assert!(response.success().is_ok(), "the intake takes the drill's request");
            sent.push(request);
        }
        if let Some(r) = results.into_iter().next() {
            break r;
        }
        if tokio::time::Instant::now() >= deadline {
            let records = stack.store().list(&restore_store::ListFilter::all(), 10).await.unwrap_or_default();
            let states: Vec<_> = records.iter().map(|r| (r.request_id.clone(), r.state, r.result.clone())).collect();
            panic!(
                "no drill result; {} request(s) sent; records {states:#?}\ndrills: {}{}\nintake: {}",
                sent.len(),
                drills.stdout().text(),
                drills.stderr().text(),
                intake.stderr().text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
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
    // Another tick starts nothing new for the same occurrence.
    let (again, results) = tick(&drills).await;
    assert!(again.is_empty() && results.is_empty());
}
