//! The drill function end to end with the real binaries (drills, intake, tracker) on the emulator: a disk plan
//! due now runs once, its restore goes through the intake, the restored disk is tagged, checked, deleted with
//! the deletion confirmed, and the run ends `Passed` with its RTO, its report written.

mod common;

use common::{Stack, drills};
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

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
    // Another tick starts nothing new for the same occurrence.
    let again = drills::tick(&drills).await;
    assert!(again.requests.is_empty() && again.results.is_empty());
}
