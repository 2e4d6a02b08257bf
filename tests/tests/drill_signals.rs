//! The drill function's schedule-level guarantees end to end with the real binaries on the emulator:
//! * a run whose start window closed before any tick started it gives one `missedRun` result, and nothing else;
//! * an item left outside its coverage window is named in a `coverageBreach` when the run ends;
//! * with the plan's vault share at 1, a real restore arriving mid-drill is triggered at once (the drill left
//!   the vault's reserve free), and the drill's next restore in that vault waits until the real one ends.

mod common;

use common::{Stack, WAIT, deliver, drills};
use restore_e2e::SbMessage;
use serde_json::{Value, json};
use std::time::Duration;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const BV: &str = "/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks";

/// A daily plan over the whole Backup vault (two disks), scheduled `minutes_ago` minutes before now (UTC).
fn vault_plan(name: &str, minutes_ago: i64) -> Value {
    let mut plan = drills::disk_plan(name, minutes_ago);
    plan["selection"] = json!({ "vaults": [format!("{SUB}{BV}")] });
    plan["costGuard"]["maxRestoredGiB"] = json!(4096);
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_not_started_in_its_start_window_is_reported_missed_once() {
    let mut stack = Stack::start().await;
    // Due 30 minutes ago with a 15-minute start window: the window closed before this first tick. The plan was
    // first seen an hour before that (the history remembers it), so the occurrence is one it should have run;
    // yesterday's, from before the plan existed, is not reported.
    let plan = vault_plan("e2e-missed", 30);
    drills::configure(&mut stack, &[("e2e-missed", &plan)]);
    let seen = time::OffsetDateTime::now_utc() - time::Duration::minutes(90);
    let history = restore_store::Document {
        key: "drill-history:e2e-missed".into(),
        version: String::new(),
        body: json!({ "firstSeen": restore_contract::Timestamp::from(seen) }),
    };
    stack.store().put_document(&history).await.expect("history written");
    let drills = stack.worker("drills").await;

    let first = drills::tick(&drills).await;
    assert!(first.requests.is_empty(), "a missed run restores nothing");
    assert_eq!(first.results.len(), 1, "{:#?}", first.results);
    let result = &first.results[0];
    assert_eq!(result["signals"][0]["kind"], "missedRun", "{result:#}");
    assert!(result["signals"][0]["windowClosedAt"].is_string(), "{result:#}");
    assert!(result.get("outcome").is_none() && result["items"] == json!([]), "{result:#}");
    let again = drills::tick(&drills).await;
    assert!(again.results.is_empty() && again.requests.is_empty(), "reported once: {:#?}", again.results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_outside_its_coverage_window_is_named_when_the_run_ends() {
    let mut stack = Stack::start().await;
    let mut plan = vault_plan("e2e-coverage", 1);
    // One of the vault's two disks per run, and each must pass a drill every day: the one not drilled breaches.
    plan["sampling"] = json!({ "leastRecentlyDrilled": 1 });
    plan["coverage"] = json!({ "withinDays": 1 });
    drills::configure(&mut stack, &[("e2e-coverage", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    let result = &results[0];
    assert_eq!(sent.len(), 1, "one item sampled");
    assert_eq!(result["outcome"], "Passed", "{result:#}");
    let drilled = result["items"][0]["item"].as_str().unwrap().to_string();
    let breaches: Vec<&Value> =
        result["signals"].as_array().unwrap().iter().filter(|s| s["kind"] == "coverageBreach").collect();
    assert_eq!(breaches.len(), 1, "{result:#}");
    let named: Vec<&str> =
        breaches[0]["items"].as_array().unwrap().iter().map(|g| g["item"].as_str().unwrap()).collect();
    assert_eq!(named.len(), 1, "{result:#}");
    assert_ne!(named[0], drilled, "the drilled item passed, so it is covered");
    assert!(
        named[0].ends_with("/backupInstances/app-data-01-bi") || named[0].ends_with("/backupInstances/app-data-02-bi")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_restore_arriving_mid_drill_is_not_delayed_by_it() {
    let mut stack = Stack::start().await;
    // Two restores at a time per vault; the drill's share is one, so one is always free for an incident.
    let mut policy = common::example_json("../examples/policy.json");
    policy["maxConcurrentRestoresPerVault"] = json!(2);
    let policy_file = stack.dir.path().join("policy.json");
    std::fs::write(&policy_file, policy.to_string()).unwrap();
    stack.set("RESTORE_POLICY_FILE", &policy_file.display().to_string());
    let plan = vault_plan("e2e-share", 1);
    drills::configure(&mut stack, &[("e2e-share", &plan)]);
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    // The drill's first restore.
    let first = drills::tick(&drills).await;
    assert_eq!(first.requests.len(), 1, "share 1: one drill restore at a time");
    let drill_request: Value = serde_json::from_slice(&first.requests[0]).unwrap();
    assert!(deliver(&intake, &SbMessage::new(first.requests[0].clone()), 1).await.success().is_ok());
    let drilled = drill_request["operation"]["backupInstanceId"].as_str().unwrap().to_string();

    // A real restore of the vault's other disk arrives while the drill's restore runs.
    let other = if drilled.ends_with("app-data-01-bi") { "app-data-02-bi" } else { "app-data-01-bi" };
    let mut real = common::example_json("requests/disk-to-new-disk.json");
    real["requestId"] = json!("ticket-mid-drill");
    real["operation"]["backupInstanceId"] = json!(format!("{SUB}{BV}/backupInstances/{other}"));
    real["operation"]["diskName"] = json!("restored-mid-drill");
    let response = deliver(&intake, &SbMessage::new(real.to_string().into_bytes()), 1).await;
    assert!(response.success().is_ok(), "the real restore is taken on its first delivery");
    let record = stack.record("ticket-mid-drill").await;
    assert!(record.triggered_at.is_some(), "triggered at once: {:?}", record.state);
    let log = format!("{}{}", intake.stdout().text(), intake.stderr().text());
    assert!(
        !log.lines().any(|l| l.contains("ticket-mid-drill") && l.contains("waiting for a slot")),
        "the real restore never waited for a slot:\n{log}"
    );

    // The drill's second restore is sent only once the real one has ended: the drill never eats the reserve.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut drill_sends = 1;
    loop {
        let tick = drills::tick(&drills).await;
        for request in &tick.requests {
            let real_state = stack.record("ticket-mid-drill").await.state;
            let body: Value = serde_json::from_slice(request).unwrap();
            if body["requestId"] != drill_request["requestId"] {
                assert!(real_state.is_terminal(), "a drill restore started while the real one was {real_state:?}");
            }
            assert!(deliver(&intake, &SbMessage::new(request.clone()), 1).await.success().is_ok());
            drill_sends += 1;
        }
        if let Some(result) = tick.results.first() {
            assert_eq!(result["outcome"], "Passed", "{result:#}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no drill result; {drill_sends} drill request(s) sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(drill_sends >= 2, "both disks drilled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_has_at_most_one_open_run_the_next_waits_for_it() {
    let mut stack = Stack::start().await;
    // A plan not due now, with two runs asked for a second apart (as two `restorectl drills run --now` would).
    let mut plan = vault_plan("e2e-one-open", 1);
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(12);
    plan["schedule"]["cron"] = json!(format!("0 {} {} * * *", later.minute(), later.hour()));
    plan["selection"] = json!({ "items": [format!("{SUB}{BV}/backupInstances/app-data-01-bi")] });
    drills::configure(&mut stack, &[("e2e-one-open", &plan)]);
    let now = time::OffsetDateTime::now_utc();
    let mut asked = restore_drills::adhoc::AdhocRuns::default();
    let first = asked.request("e2e-one-open", now - time::Duration::seconds(2), "test", now - time::Duration::days(1));
    let second = asked.request("e2e-one-open", now - time::Duration::seconds(1), "test", now - time::Duration::days(1));
    let doc = restore_store::Document {
        key: restore_drills::adhoc::AdhocRuns::key("e2e-one-open"),
        version: String::new(),
        body: serde_json::to_value(&asked).unwrap(),
    };
    stack.store().put_document(&doc).await.unwrap();
    let drills_fn = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut results, mut requested): (Vec<Value>, Vec<String>) = (Vec::new(), Vec::new());
    while results.len() < 2 {
        let tick = drills::tick(&drills_fn).await;
        for request in &tick.requests {
            let body: Value = serde_json::from_slice(request).unwrap();
            let run = body["source"]["reference"].as_str().unwrap().to_string();
            if run == second {
                assert!(
                    results.iter().any(|r| r["runId"] == first.as_str()),
                    "the second run started while the first was open"
                );
            }
            requested.push(run);
            assert!(deliver(&intake, &SbMessage::new(request.clone()), 1).await.success().is_ok());
        }
        results.extend(tick.results);
        assert!(tokio::time::Instant::now() < deadline, "{} result(s); requested {requested:?}", results.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(requested, [first.clone(), second.clone()], "one restore per run, in order");
    assert!(results.iter().all(|r| r["outcome"] == "Passed"), "{results:#?}");
}
