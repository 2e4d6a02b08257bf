//! The tracker binary end to end: timer invocations as the Functions host sends them, following what the real
//! intake accepted to its end in the emulator, and publishing one result per request.

mod common;

use std::time::Duration;

use common::*;
use restore_e2e::{TimerPayload, Worker};
use restore_store::State;
use serde_json::{Value, json};

/// Poll settings sized for the accelerated emulator clock (configuration, as an operator would set it).
fn tracker_settings(stack: &mut Stack) {
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.05");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "0.2");
}

async fn tick(tracker: &Worker) -> Vec<Value> {
    let invocation = TimerPayload::without_status().invocation("RestoreTracker", "timer");
    let response = tracker.invoke(&invocation).await.expect("the tracker answers");
    let success = response.success().unwrap_or_else(|e| panic!("tick failed: {e}\n{}", tracker.stderr().text()));
    let Some((_, value)) = success.outputs.iter().find(|(k, _)| k.eq_ignore_ascii_case("results")) else {
        return Vec::new();
    };
    restore_e2e::service_bus_messages("results", value, false)
        .expect("results output")
        .iter()
        .map(|b| serde_json::from_slice(b).expect("result JSON"))
        .collect()
}

/// Ticks until every listed request has a terminal result (or the deadline passes); returns all results.
async fn tick_until_done(tracker: &Worker, ids: &[&str]) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut all = Vec::new();
    loop {
        all.extend(tick(tracker).await);
        let done = ids.iter().all(|id| all.iter().any(|r| r["requestId"] == *id && r["status"] != "Accepted"));
        if done {
            return all;
        }
        assert!(tokio::time::Instant::now() < deadline, "not finished: {all:#?}\n{}", tracker.stderr().text());
        // Let the emulator's accelerated clock move between ticks (the real timer fires every 30 s).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn accept(stack: &Stack, files: &[(&str, &str)]) {
    let intake = stack.intake().await;
    let mut q = queue();
    for (file, id) in files {
        q.send(request(file, id));
    }
    q.run(&intake.client()).await;
    let results = results(&q);
    for (_, id) in files {
        assert_eq!(
            result_for(&results, id).first().map(|r| r["status"].clone()),
            Some(json!("Accepted")),
            "{id}: {results:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_restores_are_followed_to_their_end_with_measured_times() {
    followed_to_their_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_restores_are_followed_to_their_end_with_the_blob_store() {
    followed_to_their_end(Backend::Blob).await;
}

async fn followed_to_their_end(backend: Backend) {
    let mut stack = Stack::start_with(backend).await;
    tracker_settings(&mut stack);
    let cases = [
        ("requests/disk-to-new-disk.json", "disk"),
        ("requests/vm-restore-disks.json", "vm-disks"),
        ("requests/vm-new-vm.json", "new-vm"),
        ("requests/vm-restore-disks-crr.json", "crr"),
        ("requests/configure-disk-protection.json", "protect"),
        ("requests/stop-disk-protection.json", "unprotect"),
    ];
    // Two cases restore the same VM: the second waits for the first's job to end, so the tracker runs while
    // the intake accepts, as in production; the published results are read back from the records.
    let (ticking_tracker, ticking) = stack.ticking_tracker().await;
    accept(&stack, &cases).await;
    let ids: Vec<&str> = cases.iter().map(|(_, id)| *id).collect();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut results = Vec::new();
    for id in &ids {
        loop {
            let record = stack.record(id).await;
            if record.state.is_terminal() && record.result_published {
                results.push(record.result.clone().expect("a published record keeps its result"));
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{id}: {record:?}\n{}", ticking_tracker.stderr().text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    drop(ticking);
    let tracker = stack.worker("tracker").await;
    for id in &ids {
        let terminal: Vec<_> = results.iter().filter(|r| r["requestId"] == *id && r["status"] != "Accepted").collect();
        assert_eq!(terminal.len(), 1, "{id}: one terminal result: {terminal:#?}");
        let r = terminal[0];
        assert_eq!(r["status"], "Succeeded", "{id}: {r:#}");
        assert!(r["timings"]["receivedAt"].is_string() && r["timings"]["triggeredAt"].is_string(), "{id}: {r:#}");
        let record = stack.record(id).await;
        assert_eq!(record.state, State::Succeeded);
    }
    for id in ["disk", "vm-disks", "new-vm", "crr"] {
        let r = results.iter().find(|r| r["requestId"] == id && r["status"] == "Succeeded").unwrap();
        assert!(r["azure"]["jobId"].is_string(), "{id}: {r:#}");
        assert!(r["timings"]["restoreSeconds"].as_u64().is_some(), "{id}: measured restore time: {r:#}");
        assert!(!r["restoredResourceIds"].as_array().map(Vec::is_empty).unwrap_or(true), "{id}: {r:#}");
    }
    // What the results name exists in Azure.
    let disk = results.iter().find(|r| r["requestId"] == "disk" && r["status"] == "Succeeded").unwrap();
    let disks = stack.emu.resources()["disks"].clone();
    let restored = disk["restoredResourceIds"][0].as_str().unwrap().to_ascii_lowercase();
    assert!(disks.to_string().to_ascii_lowercase().contains(&restored), "{restored} not among {disks:#}");
    // A restore-disks job lists no restored ids: they come from the config it wrote to the staging account,
    // which the result also names for cleanup.
    for id in ["vm-disks", "crr"] {
        let r = results.iter().find(|r| r["requestId"] == id && r["status"] == "Succeeded").unwrap();
        let lower = |v: &serde_json::Value| -> Vec<String> {
            let mut ids: Vec<String> =
                v.as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_ascii_lowercase()).collect();
            ids.sort();
            ids
        };
        let jobs = stack.emu.resources()["jobs"].clone();
        let job = jobs.as_array().unwrap().iter().find(|j| j["jobId"] == r["azure"]["jobId"]).unwrap();
        assert_eq!(lower(&r["restoredResourceIds"]), lower(&job["restoredResourceIds"]), "{id}: {r:#}");
        assert!(r["restoredResourceIds"].as_array().unwrap().len() >= 2, "{id}: OS and data disks: {r:#}");
        assert_eq!(r["stagingFiles"].as_array().map(Vec::len), Some(2), "{id}: config and template: {r:#}");
    }
    assert!(stack.emu.counts().get("staging.blob.get GET").copied().unwrap_or(0) >= 2);
    // Once published and recorded, results are not sent again.
    tick(&tracker).await; // records the previous tick's publication
    assert!(tick(&tracker).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_publishes_azures_error_and_recommended_action() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    let intake = stack.intake().await;
    let mut body = example_json("requests/disk-to-new-disk.json");
    body["requestId"] = json!("fails");
    body["operation"]["diskName"] = json!("restore-fails");
    let mut q = queue();
    q.send(restore_e2e::SbMessage::new(body.to_string()));
    q.run(&intake.client()).await;
    let tracker = stack.worker("tracker").await;
    let results = tick_until_done(&tracker, &["fails"]).await;
    let r = results.iter().find(|r| r["requestId"] == "fails" && r["status"] != "Accepted").unwrap();
    assert_eq!(r["status"], "Failed", "{r:#}");
    assert_eq!(r["azure"]["errorCode"], "UserErrorSubscriptionDiskQuotaLimitReached", "{r:#}");
    assert!(r["azure"]["errorMessage"].as_str().unwrap_or_default().contains("quota"), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_that_crashes_after_publishing_publishes_again_instead_of_losing_the_result() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    accept(&stack, &[("requests/disk-to-new-disk.json", "crash")]).await;
    let mut tracker = stack.worker("tracker").await;
    let first = tick_until_done(&tracker, &["crash"]).await;
    let published = first.iter().filter(|r| r["requestId"] == "crash" && r["status"] == "Succeeded").count();
    assert_eq!(published, 1);
    // The host kills the worker before the next tick could record the publication.
    tracker.kill().await.expect("kill");
    assert!(!stack.record("crash").await.result_published);
    let tracker = stack.worker("tracker").await;
    let again = tick(&tracker).await;
    let repeated: Vec<_> = again.iter().filter(|r| r["requestId"] == "crash").collect();
    assert_eq!(repeated.len(), 1, "published again: {again:#?}");
    assert_eq!(repeated[0], first.iter().find(|r| r["requestId"] == "crash" && r["status"] == "Succeeded").unwrap());
    tick(&tracker).await;
    assert!(stack.record("crash").await.result_published);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_ahead_left_by_a_crashed_intake_is_adopted_by_the_tracker() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    stack.set("RESTORE_STALE_WRITE_AHEAD_SECONDS", "0");
    // Azure processes the POST; the intake dies before recording it, and its message is gone (dead-lettered).
    stack.fault(json!({"route": "dpp.restore", "method": "POST", "fault": {"kind": "processThenHang", "timeoutMs": 60000}, "times": 1})).await;
    let mut intake = stack.intake().await;
    let message = request("requests/disk-to-new-disk.json", "orphan");
    let client = intake.client();
    let pending = tokio::spawn(async move { client.invoke(&message.invocation("RestoreIntake", &trigger())).await });
    tokio::time::timeout(WAIT, stack.emu.wait_hung(1)).await.expect("the POST reaches the emulator");
    intake.kill().await.expect("kill");
    let _ = pending.await;
    assert_eq!(stack.record("orphan").await.state, State::Triggering);
    let tracker = stack.worker("tracker").await;
    let results = tick_until_done(&tracker, &["orphan"]).await;
    let r = results.iter().find(|r| r["requestId"] == "orphan" && r["status"] != "Accepted").unwrap();
    assert_eq!(r["status"], "Succeeded", "{r:#}");
    let restores = stack
        .jobs()
        .await
        .into_iter()
        .filter(|j| j["operation"].as_str().unwrap_or_default().contains("Restore"))
        .count();
    assert_eq!(restores, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_outlive_their_limit_end_timed_out() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    stack.set("RESTORE_JOB_TIMEOUT_SECONDS", "0");
    accept(&stack, &[("requests/vm-restore-disks.json", "slow")]).await;
    let tracker = stack.worker("tracker").await;
    // Follow the operation to its job, then stop the emulator's clock: the job never ends.
    let deadline = tokio::time::Instant::now() + WAIT;
    while stack.record("slow").await.state != State::Running {
        assert!(tokio::time::Instant::now() < deadline, "never reached Running");
        tick(&tracker).await;
    }
    stack.admin(reqwest::Method::POST, "/clock/virtual", None).await;
    let results = tick_until_done(&tracker, &["slow"]).await;
    let r = results.iter().find(|r| r["requestId"] == "slow" && r["status"] != "Accepted").unwrap();
    assert_eq!(r["status"], "TimedOut", "{r:#}");
    assert_eq!(r["reason"]["code"], "JobTimedOut", "{r:#}");
    assert_eq!(stack.store().get("slow").await.unwrap().unwrap().state, State::TimedOut);
}

/// A thousand restores outstanding at once drain through the tracker inside ARM's read budget: not a single 429.
/// ARM's bucket (250 burst, 25/s) is scaled tenfold in both the emulator and the client budget so the test takes
/// seconds; the ratio between them, which is what is being tested, is ARM's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_outstanding_operations_drain_with_zero_429s() {
    const N: usize = 1000;
    let mut stack = Stack::start_custom(Backend::Sqlite, |scenario| {
        for vault in scenario["subscriptions"][0]["backupVaults"].as_array_mut().unwrap() {
            vault.as_object_mut().unwrap().remove("maxConcurrentRestores");
        }
    })
    .await;
    tracker_settings(&mut stack);
    stack.set("RESTORE_ARM_READ_BURST", "250");
    stack.set("RESTORE_ARM_READS_PER_SECOND", "250");
    stack.set("RESTORE_TRACKER_BATCH", "1000");
    stack.set("RESTORE_TRACKER_CONCURRENCY", "16");
    // Start the restores directly (the intake's own path is tested elsewhere), with the emulator's throttle off.
    stack.admin(reqwest::Method::PUT, "/throttle", Some(json!({"enabled": false}))).await;
    // The setup client, configured explicitly (the process environment is never touched): the emulator's ARM
    // endpoint and CA, its identity endpoint, and a write budget above ARM's 10 writes/s (the emulator's throttle
    // is off while it writes).
    let client = common::arm_client(&stack, restore_engine::budget::BucketLimits { burst: 1000.0, per_second: 1000.0 });
    let bi = restore_models::arm_id::BackupInstanceId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi"
    ))
    .unwrap();
    let store = stack.store();
    let now = time::OffsetDateTime::now_utc();
    let mut setup = tokio::task::JoinSet::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..N {
        let (client, store, bi, gate) = (client.clone(), store.clone(), bi.clone(), gate.clone());
        setup.spawn(async move {
            let _permit = gate.acquire().await;
            let ctx = restore_engine::client::ArmClient::context("bulk");
            let disk = format!("bulk-{i:04}");
            let body: restore_models::dataprotection::AzureBackupRestoreRequest = serde_json::from_value(json!({
                "objectType": "AzureBackupRecoveryPointBasedRestoreRequest",
                "recoveryPointId": "a3d02fc3ab8a4c3a8cc26688c26d3356",
                "sourceDataStoreType": "OperationalStore",
                "restoreTargetInfo": {"objectType": "RestoreTargetInfo", "recoveryOption": "FailIfExists", "restoreLocation": "westus",
                    "datasourceInfo": {"objectType": "Datasource", "datasourceType": "Microsoft.Compute/disks", "resourceType": "Microsoft.Compute/disks",
                        "resourceName": disk, "resourceLocation": "westus",
                        "resourceID": format!("/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/disks/{disk}")}}
            }))
            .unwrap();
            let started = client.dpp_trigger_restore(&ctx, &bi, &body, now).await.expect("restore accepted");
            let restore_engine::client::Started::Pending(op) = started else { panic!("expected a 202") };
            let call = json!({"call": "dppRestore", "backupInstanceId": bi.as_str(), "body": body});
            let mut record = restore_store::Record::received(format!("bulk-{i:04}"), "diskToNewDisk", bi.vault().as_str(), bi.as_str(), Value::Null, now);
            record.state = State::Accepted;
            record.triggered_at = Some(now);
            record.next_poll_at = Some(now);
            record.operation = Some(serde_json::to_value(&op).unwrap());
            record.azure_request_body = Some(call);
            store.create(&record).await.expect("record stored");
        });
    }
    while let Some(done) = setup.join_next().await {
        done.expect("setup task");
    }
    // Now ARM's throttle, tenfold, counting from here.
    stack
        .admin(
            reqwest::Method::PUT,
            "/throttle",
            Some(json!({"enabled": true, "reads": {"capacity": 250, "refillPerSecond": 250}})),
        )
        .await;
    stack.admin(reqwest::Method::POST, "/reset", None).await;
    let tracker = stack.worker("tracker").await;
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        tick(&tracker).await;
        let open =
            store.list(&restore_store::ListFilter::states([State::Accepted, State::Running]), N).await.unwrap().len();
        if open == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{open} still open\n{}", tracker.stderr().text());
    }
    let elapsed = started.elapsed();
    let log = stack.log().await;
    let reads = log.iter().filter(|e| e["method"] == "GET").count();
    let throttled = log.iter().filter(|e| e["status"] == 429).count();
    let succeeded = store.list(&restore_store::ListFilter::states([State::Succeeded]), N).await.unwrap().len();
    println!(
        "drain: {N} operations in {elapsed:.1?}, {reads} reads ({:.0}/s against a 250/s budget), {throttled} answered 429",
        reads as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(succeeded, N);
    assert_eq!(throttled, 0, "the tracker exceeded ARM's read budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_jobs_and_jobs_with_warnings_give_their_own_results() {
    let mut stack = Stack::start_custom(Backend::Sqlite, |scenario| {
        let rules = scenario["rules"]["jobOutcomes"].as_array_mut().unwrap();
        rules.push(json!({"targetName": "restore-cancelled", "status": "Cancelled"}));
        rules.push(json!({"targetName": "restore-warns", "status": "CompletedWithWarnings"}));
    })
    .await;
    tracker_settings(&mut stack);
    let intake = stack.intake().await;
    let mut q = queue();
    // Two different disks: one restore in flight per item, and no tracker runs while the intake accepts.
    for (id, disk, instance) in
        [("cancelled", "restore-cancelled", "app-data-01-bi"), ("warns", "restore-warns", "app-data-02-bi")]
    {
        let mut body = example_json("requests/disk-to-new-disk.json");
        body["requestId"] = json!(id);
        body["operation"]["diskName"] = json!(disk);
        let item = body["operation"]["backupInstanceId"].as_str().unwrap().replace("app-data-01-bi", instance);
        body["operation"]["backupInstanceId"] = json!(item);
        q.send(restore_e2e::SbMessage::new(body.to_string()));
    }
    q.run(&intake.client()).await;
    let tracker = stack.worker("tracker").await;
    let results = tick_until_done(&tracker, &["cancelled", "warns"]).await;
    let last = |id: &str| results.iter().rfind(|r| r["requestId"] == id).unwrap().clone();
    let cancelled = last("cancelled");
    assert_eq!(cancelled["status"], "Cancelled", "{cancelled:#}");
    assert_eq!(cancelled["azure"]["jobStatus"], "Cancelled", "{cancelled:#}");
    let warns = last("warns");
    assert_eq!(warns["status"], "Succeeded", "{warns:#}");
    assert_eq!(warns["azure"]["jobStatus"], "CompletedWithWarnings", "the warning stays visible: {warns:#}");
    assert_eq!(stack.record("cancelled").await.state, State::Cancelled);
}

/// The "a glitch is not a verdict" run: about a fifth of every Azure answer faulted (429, 500, 503,
/// connection reset, cut-off JSON, empty body; restore POSTs included) while 18 restores of every kind run,
/// Cross Region Restore included. Azure finishes every one, so every one must end `Succeeded`, with one job
/// each, none `NeedsAttention`, nothing dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_fifth_of_answers_faulted_every_restore_succeeds_with_one_job() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    // A delivery keeps retrying transient failures for 10 s (its deliveries are worth more than seconds here).
    stack.set("RESTORE_TRANSIENT_RETRY_SECONDS", "10");
    stack.set("RESTORE_MAX_DELIVERY_COUNT", "10");
    let faults = [
        (json!({"kind": "status", "status": 429, "retryAfter": 1}), 0.05),
        (json!({"kind": "status", "status": 500}), 0.04),
        (json!({"kind": "status", "status": 503}), 0.04),
        (json!({"kind": "reset"}), 0.03),
        (json!({"kind": "malformedJson"}), 0.02),
        (json!({"kind": "emptyBody"}), 0.02),
    ];
    for (fault, probability) in faults {
        stack.fault(json!({"route": "*", "fault": fault, "probability": probability})).await;
    }
    let intake = stack.intake().await;
    let (tracker, ticking) = stack.ticking_tracker().await;
    let kinds = [
        ("requests/disk-to-new-disk.json", 4),
        ("requests/vm-restore-disks.json", 4),
        ("requests/vm-replace-disks.json", 3),
        ("requests/vm-new-vm.json", 4),
        ("requests/vm-restore-disks-crr.json", 3),
    ];
    let mut q = restore_e2e::ServiceBusQueue::new(
        restore_e2e::QueueConfig::new("RestoreIntake", trigger())
            .max_delivery_count(10)
            .output(restore_e2e::OutputBinding::service_bus("results")),
    );
    let mut ids = Vec::new();
    for (file, copies) in kinds {
        for copy in 0..copies {
            let id = format!("{}-{copy}", file.trim_start_matches("requests/").trim_end_matches(".json"));
            let mut body = example_json(file);
            body["requestId"] = json!(id);
            // Distinct targets, so Azure has no reason to refuse a copy.
            if body["operation"]["diskName"].is_string() {
                body["operation"]["diskName"] = json!(format!("restored-{id}"));
            }
            if body["operation"]["vmName"].is_string() {
                body["operation"]["vmName"] = json!(format!("vm-{copy}"));
            }
            q.send(restore_e2e::SbMessage::new(body.to_string()).message_id(id.clone()));
            ids.push(id);
        }
    }
    q.run(&intake.client()).await;
    assert!(q.dead_letters.is_empty(), "dead-lettered: {:#?}\n{}", q.dead_letters, intake.stderr().text());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let mut open = Vec::new();
        for id in &ids {
            let record = stack.record(id).await;
            if !(record.state.is_terminal() && record.result_published) {
                open.push((id.clone(), record.state));
            }
        }
        if open.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still open: {open:?}\n{}", tracker.stderr().text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(ticking);
    for id in &ids {
        let record = stack.record(id).await;
        assert_eq!(record.state, State::Succeeded, "{id}: {:?}", record.reason);
    }
    let restore_jobs = stack
        .jobs()
        .await
        .into_iter()
        .filter(|j| j["operation"].as_str().unwrap_or_default().contains("Restore"))
        .count();
    assert_eq!(restore_jobs, ids.len(), "one job per request");
}

/// Results are marked published only once delivered: the tracker sends them itself to Service Bus (here a
/// stand-in that fails the first send whatever the tracker's retries do), so a failed send is repeated by the
/// next tick, and duplicate detection on the derived MessageId leaves each result delivered exactly once. On
/// the deployed store (Blob, Azurite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_result_send_is_repeated_and_every_result_arrives_once_on_blob() {
    let mut stack = Stack::start_with(Backend::Blob).await;
    tracker_settings(&mut stack);
    let bus = common::servicebus::FakeServiceBus::start(&stack.dir.path().join("certs")).await;
    stack.set("RESTORE_SERVICEBUS_ENDPOINT", &bus.endpoint);
    stack.set("RESTORE_RESULTS_TOPIC", "restore-results");
    let cases = [("requests/disk-to-new-disk.json", "disk"), ("requests/vm-restore-disks-crr.json", "crr")];
    accept(&stack, &cases).await;
    // The first send fails on every try (the first and the tracker's two retries).
    bus.fail_next(3, 503);
    let tracker = stack.worker("tracker").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(tick(&tracker).await.is_empty(), "nothing goes through the output binding");
        let mut done = true;
        for (_, id) in &cases {
            let record = stack.record(id).await;
            done &= record.state.is_terminal() && record.result_published;
        }
        if done {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:#?}\n{}", bus.attempts(), tracker.stderr().text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few more ticks: nothing is sent again once marked.
    for _ in 0..5 {
        tick(&tracker).await;
    }
    let attempts = bus.attempts();
    assert!(attempts.iter().all(|(entity, authorized, _)| entity == "restore-results" && *authorized), "{attempts:?}");
    assert!(attempts.len() >= 4, "the failed send was repeated: {attempts:?}");
    let delivered = bus.delivered();
    for (_, id) in &cases {
        let mine: Vec<_> = delivered.iter().filter(|d| d.body["requestId"] == *id).collect();
        assert_eq!(mine.len(), 1, "{id}: delivered exactly once: {delivered:#?}");
        assert_eq!(mine[0].body["status"], "Succeeded", "{id}");
    }
}

/// Restored resources carry the request's and the policy's tags once the job has completed (Azure's restore
/// requests take no tags): the emulator's restored disk shows them, and the result says what was tagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restored_disk_carries_the_request_and_policy_tags() {
    let mut stack = Stack::start().await;
    tracker_settings(&mut stack);
    accept(&stack, &[("requests/disk-to-new-disk.json", "tagged")]).await;
    let tracker = stack.worker("tracker").await;
    let results = tick_until_done(&tracker, &["tagged"]).await;
    let result = results.iter().rfind(|r| r["requestId"] == "tagged").unwrap();
    assert_eq!(result["status"], "Succeeded", "{result:#}");
    let disk_id = result["restoredResourceIds"][0].as_str().unwrap().to_string();
    assert_eq!(result["tagging"]["tagged"], json!([disk_id]), "{result:#}");
    let disks = stack.emu.resources()["disks"].as_array().cloned().unwrap_or_default();
    let disk = disks.iter().find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(&disk_id))).unwrap();
    assert_eq!(disk["tags"]["ticket"], "INC0012345", "the request's options.tags: {disk:#}");
    assert_eq!(disk["tags"]["restored-by"], "restore-automation", "the policy's tags: {disk:#}");
    let patches: Vec<_> = stack.log().await.into_iter().filter(|e| e["route"] == "resources.tags.patch").collect();
    assert_eq!(patches.len(), 1);
}
