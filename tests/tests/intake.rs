//! The intake binary end to end: driven as the Functions host drives it (host payload encoding, redelivery with
//! increasing DeliveryCount, dead-letter after MaxDeliveryCount), against the emulator over TLS and the SQLite
//! store. What Azure received is read from the emulator's request log.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use restore_e2e::SbMessage;
use restore_store::State;
use restore_test_support::catalogue::{Expected, bad_inputs};
use serde_json::{Value, json};

/// Dotted paths of the non-null leaves of a JSON document (array items as `[]`).
fn leaf_paths(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: String, out: &mut BTreeSet<String>) {
        match v {
            Value::Null => {}
            Value::Object(m) => {
                m.iter().for_each(|(k, v)| walk(v, format!("{prefix}.{}", k.to_ascii_lowercase()), out))
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, format!("{prefix}[]"), out)),
            _ => {
                out.insert(prefix);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, String::new(), &mut out);
    out
}

fn seed(name: &str) -> Value {
    let path = workspace().join("shared/models/tests/fixtures/seeds").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn body_of(entry: &Value) -> Value {
    match &entry["body"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// The body we sent has exactly the seed's shape: every field the seed sets, and nothing it does not, apart
/// from the listed differences (each with its reason).
fn assert_seed_shape(what: &str, sent: &Value, seed: &Value, we_add: &[&str], we_omit: &[&str]) {
    let ours = leaf_paths(sent);
    let theirs = leaf_paths(seed);
    let extra: Vec<_> = ours.difference(&theirs).filter(|p| !we_add.contains(&p.as_str())).collect();
    let missing: Vec<_> = theirs.difference(&ours).filter(|p| !we_omit.contains(&p.as_str())).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: fields not in the seed {extra:?}; seed fields we do not send {missing:?}\nsent: {sent:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_accepted_and_azure_receives_the_seed_shaped_body() {
    every_kind_is_accepted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_accepted_with_the_blob_store() {
    every_kind_is_accepted(Backend::Blob).await;
}

async fn every_kind_is_accepted(backend: Backend) {
    let mut stack = Stack::start_with(backend).await;
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.05");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "0.2");
    let intake = stack.intake().await;
    // Three of the cases restore the same VM: each waits until the tracker sees the previous job end.
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let cases = [
        ("disk-to-new-disk.json", "Accepted"),
        ("vm-restore-disks.json", "Accepted"),
        ("vm-replace-disks.json", "Accepted"),
        ("vm-new-vm.json", "Accepted"),
        ("vm-restore-disks-crr.json", "Accepted"),
        ("configure-disk-protection.json", "Accepted"),
        ("stop-disk-protection.json", "Accepted"),
        ("disk-validate-only.json", "Validated"),
    ];
    let mut q = queue();
    for (file, _) in &cases {
        q.send(request(&format!("requests/{file}"), file));
    }
    q.run(&intake.client()).await;
    let results = results(&q);
    for (file, status) in &cases {
        let mine = result_for(&results, file);
        assert_eq!(mine.len(), 1, "{file}: {results:#?}\n{}", intake.stderr().text());
        assert_eq!(mine[0]["status"], *status, "{file}: {:#}", mine[0]);
        let record = stack.record(file).await;
        assert!(
            matches!(record.state, State::Accepted | State::Running | State::Succeeded),
            "{file}: {:?}",
            record.state
        );
    }
    assert!(q.dead_letters.is_empty());

    // What Azure received, against the seed articles' bodies.
    let log = stack.log().await;
    let sent = |route: &str, pred: &dyn Fn(&Value) -> bool| -> Value {
        log.iter()
            .filter(|e| e["route"] == route)
            .map(body_of)
            .find(|b| pred(b))
            .unwrap_or_else(|| panic!("no {route} call"))
    };
    // Seed 000 sends resourceUri; we do too. It has no fields we lack.
    assert_seed_shape("disk restore", &sent("dpp.restore", &|_| true), &seed("000_restore-request.json"), &[], &[]);
    let rsv = |kind: &'static str| move |b: &Value| b["properties"]["recoveryType"] == kind;
    // Restore disks with LUNs (seed 003's LUN example). The seeds leave out targetResourceGroupId, which a request
    // carries for managed-disk VMs: without it disks come back unmanaged (azure-backup-rest.md §3.1).
    assert_seed_shape(
        "restore disks",
        &sent("rsv.restore", &rsv("RestoreDisks")),
        &seed("003_restore-disks-luns-request.json"),
        &[".properties.targetresourcegroupid"],
        &[],
    );
    assert_seed_shape(
        "new VM",
        &sent("rsv.restore", &rsv("AlternateLocation")),
        &seed("003_alternate-location-request.json"),
        &[],
        &[],
    );
    // The replace-disks seed spells out nulls (we never send them) and an empty affinityGroup.
    assert_seed_shape(
        "replace disks",
        &sent("rsv.restore", &rsv("OriginalLocation")),
        &seed("003_replace-disks-request.json"),
        &[".properties.encryptiondetails.encryptionenabled"],
        &[".properties.affinitygroup"],
    );
    let crr = sent("crr.crossRegionRestore", &|_| true);
    assert_eq!(crr["restoreRequest"]["region"], "eastus", "CRR restores into the paired region: {crr:#}");
    assert!(crr["crossRegionRestoreAccessDetails"]["accessTokenString"].is_string(), "{crr:#}");
    assert_seed_shape(
        "CRR restore request",
        &crr["restoreRequest"],
        &seed("003_restore-disks-request.json")["properties"],
        &[".targetresourcegroupid"],
        &[],
    );
    assert_seed_shape(
        "protect a disk",
        &sent("dpp.backupInstances.put", &|_| true),
        &seed("004_backup-instance-request.json"),
        &[".properties.friendlyname"],
        &[".name", ".type"],
    );
    // Validate-only triggered nothing; the stop request used stopProtection (keep data), not DELETE.
    assert_eq!(log.iter().filter(|e| e["route"] == "dpp.restore").count(), 1);
    assert!(
        log.iter().any(|e| e["route"] == "dpp.stopProtection"
            || e["path"].as_str().unwrap_or_default().ends_with("/stopProtection"))
    );
    assert!(!log.iter().any(|e| e["route"] == "dpp.backupInstances.delete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_rejected_with_a_precise_reason_and_no_azure_write() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    let catalogue: Vec<_> = bad_inputs().into_iter().filter(|b| b.policy.is_none() && b.active_restores == 0).collect();
    assert!(catalogue.len() >= 40, "only {} entries replayable with the example policy", catalogue.len());
    // Entries share the example's requestId; give each its own (unless the requestId is what is wrong), or later
    // ones would be answered as duplicates of the first.
    let unique = |i: usize, bad: &restore_test_support::catalogue::BadInput| -> Vec<u8> {
        match serde_json::from_slice::<Value>(&bad.body) {
            Ok(mut v)
                if v.get("requestId").is_some_and(Value::is_string)
                    && !matches!(bad.expect, Expected::Request { field: "requestId", .. }) =>
            {
                v["requestId"] = json!(format!("bad-{i}-{}", bad.name));
                v.to_string().into_bytes()
            }
            _ => bad.body.clone(),
        }
    };
    let mut q = queue();
    for (i, bad) in catalogue.iter().enumerate() {
        q.send(SbMessage::new(unique(i, bad)).message_id(format!("bad-{i}-{}", bad.name)));
    }
    q.run(&intake.client()).await;
    let results = results(&q);
    for (i, bad) in catalogue.iter().enumerate() {
        let id = format!("bad-{i}-{}", bad.name);
        // A request that names its own requestId is answered under it.
        let body: Value = serde_json::from_slice(&unique(i, bad)).unwrap_or(Value::Null);
        let id_is_the_problem = matches!(bad.expect, Expected::Request { field: "requestId", .. });
        let answered_as = body["requestId"]
            .as_str()
            .filter(|s| !s.is_empty() && !id_is_the_problem)
            .map(str::to_string)
            .unwrap_or(id.clone());
        let mine = result_for(&results, &answered_as);
        assert_eq!(mine.len(), 1, "{}: expected one result under {answered_as}, got {results:#?}", bad.name);
        let r = mine[0];
        assert_eq!(r["status"], "Rejected", "{}: {r:#}", bad.name);
        match &bad.expect {
            Expected::Request { field, .. } => {
                if !field.is_empty() {
                    assert_eq!(r["reason"]["field"], *field, "{}: {r:#}", bad.name);
                }
            }
            Expected::Policy { rule } => assert_eq!(r["reason"]["rule"], rule.name(), "{}: {r:#}", bad.name),
        }
    }
    assert!(q.dead_letters.is_empty(), "{:#?}", q.dead_letters);
    let writes = stack.azure_writes().await;
    assert!(writes.is_empty(), "bad inputs caused Azure writes: {writes:#?}");
    println!("catalogue: {} bad inputs rejected, 0 Azure writes", catalogue.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_refusals_are_rejections_with_azures_code() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    let mut q = queue();
    // The scenario's disk "already-there" exists: Azure's validation refuses a FailIfExists restore onto it.
    let mut exists = example_json("requests/disk-to-new-disk.json");
    exists["requestId"] = json!("exists");
    exists["operation"]["diskName"] = json!("already-there");
    q.send(SbMessage::new(exists.to_string()));
    // An expired recovery point, asked for by id.
    let mut expired = example_json("requests/disk-to-new-disk.json");
    expired["requestId"] = json!("expired");
    expired["recoveryPoint"] = json!({"choice": "id", "id": "e1e2e3e4e5e6e7e8e9eaebecedeeef00"});
    q.send(SbMessage::new(expired.to_string()));
    // A recovery point that does not exist.
    let mut missing = example_json("requests/disk-to-new-disk.json");
    missing["requestId"] = json!("missing");
    missing["recoveryPoint"] = json!({"choice": "id", "id": "ffffffffffffffffffffffffffffffff"});
    q.send(SbMessage::new(missing.to_string()));
    // Nothing at or before the requested time.
    q.send(request("requests/disk-point-in-time.json", "too-early"));
    q.run(&intake.client()).await;
    let results = results(&q);
    let reason = |id: &str| {
        result_for(&results, id)
            .first()
            .map(|r| (r["status"].clone(), r["reason"]["code"].clone()))
            .unwrap_or_else(|| panic!("{id}: {results:#?}"))
    };
    assert_eq!(reason("exists"), (json!("Rejected"), json!("UserErrorSameNameDiskAlreadyExists")));
    assert_eq!(reason("expired"), (json!("Rejected"), json!("NoUsableRecoveryPoint")));
    assert_eq!(reason("missing"), (json!("Rejected"), json!("NoUsableRecoveryPoint")));
    assert_eq!(reason("too-early"), (json!("Rejected"), json!("NoUsableRecoveryPoint")));
    let exists_result = result_for(&results, "exists")[0];
    assert_eq!(exists_result["azure"]["errorCode"], "UserErrorSameNameDiskAlreadyExists", "{exists_result:#}");
    assert!(stack.azure_writes().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_concurrent_deliveries_of_one_request_trigger_one_restore() {
    three_concurrent_deliveries(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_concurrent_deliveries_trigger_one_restore_with_the_blob_store() {
    three_concurrent_deliveries(Backend::Blob).await;
}

async fn three_concurrent_deliveries(backend: Backend) {
    let stack = Stack::start_with(backend).await;
    let intake = stack.intake().await;
    let message = request("requests/disk-to-new-disk.json", "dup-3");
    let (a, b, c) =
        tokio::join!(deliver(&intake, &message, 1), deliver(&intake, &message, 1), deliver(&intake, &message, 1));
    // Every delivery either answers or asks for redelivery; redeliver the ones that asked.
    let mut pending: Vec<_> = [a, b, c].into_iter().filter(|r| r.success().is_err()).collect();
    let mut n = 2;
    while !pending.is_empty() && n <= 5 {
        let mut next = Vec::new();
        for _ in pending.drain(..) {
            let r = deliver(&intake, &message, n).await;
            if r.success().is_err() {
                next.push(r);
            }
        }
        pending = next;
        n += 1;
    }
    assert!(pending.is_empty(), "some deliveries never completed");
    assert_eq!(stack.emu.counts().get("dpp.restore POST").copied().unwrap_or(0), 1);
    assert_eq!(stack.record("dup-3").await.state, State::Accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_duplicates_among_other_traffic_trigger_one_restore_each() {
    let mut stack = Stack::start().await;
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.05");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "0.2");
    let intake = stack.intake().await;
    // Two of the requests restore the same VM: the second waits until the tracker sees the first's job end.
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let mut q = queue();
    let files = ["requests/disk-to-new-disk.json", "requests/vm-restore-disks.json", "requests/vm-new-vm.json"];
    // Interleave: 20 copies of each request id (same MessageId, as a publisher retrying would send).
    for round in 0..20 {
        for (i, file) in files.iter().enumerate() {
            let mut body = example_json(file);
            body["requestId"] = json!(format!("req-{i}"));
            if round % 2 == 0 {
                body["requestId"] = Value::Null;
                body.as_object_mut().unwrap().remove("requestId");
            }
            q.send(SbMessage::new(body.to_string()).message_id(format!("req-{i}")));
        }
    }
    q.run(&intake.client()).await;
    let stderr = intake.stderr().text();
    assert!(
        q.dead_letters.is_empty(),
        "{} dead letters; intake stderr tail:\n{}",
        q.dead_letters.len(),
        &stderr[stderr.len().saturating_sub(3000)..]
    );
    let counts = stack.emu.counts();
    assert_eq!(counts.get("dpp.restore POST").copied().unwrap_or(0), 1, "{counts:?}");
    assert_eq!(counts.get("rsv.restore POST").copied().unwrap_or(0), 2, "{counts:?}");
    for i in 0..3 {
        let state = stack.record(&format!("req-{i}")).await.state;
        assert!(matches!(state, State::Accepted | State::Running | State::Succeeded), "req-{i}: {state:?}");
    }
}

/// The scenario at Azure's pace: twenty copies of one request, four at a time with random gaps of up to
/// 2 s, while Azure's validation takes 4 s: one plan, one validation, one restore, and every copy answered
/// within the validation time plus a few seconds.
async fn twenty_copies_at_azures_pace(backend: Backend) {
    let stack = Stack::start_custom(backend, |scenario| {
        // 800 virtual seconds at ×200: 4 s of real time.
        scenario["settings"]["validateDelaySeconds"] = json!(800);
    })
    .await;
    let intake = stack.intake().await;
    let client = intake.client();
    let message = request("requests/disk-to-new-disk.json", "paced");
    let started = std::time::Instant::now();
    let mut seed = 0x9e37_79b9_u64;
    let mut tasks = tokio::task::JoinSet::new();
    for batch in 0..5u32 {
        // A gap of 0–2 s before each batch of four (xorshift: reproducible, no dependency).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(seed % 2000)).await;
        for copy in 0..4u32 {
            let client = client.clone();
            let inv = message.clone().delivery_count(1).invocation("RestoreIntake", &trigger());
            let n = batch * 4 + copy;
            tasks.spawn(async move {
                let sent = std::time::Instant::now();
                let answer = client.invoke(&inv).await;
                (n, sent.elapsed(), answer.map(|a| a.outcome.is_ok()))
            });
        }
    }
    let mut answers = Vec::new();
    while let Some(done) = tasks.join_next().await {
        answers.push(done.unwrap());
    }
    let log = stack.log().await;
    let writes: Vec<_> = log.iter().filter(|e| e["method"] != "GET").map(|e| e["route"].clone()).collect();
    assert_eq!(writes, [json!("dpp.validateRestore"), json!("dpp.restore")], "exactly 2 write calls");
    let plans = log.iter().filter(|e| e["route"] == "dpp.backupInstances.get").count();
    assert_eq!(plans, 1, "one plan");
    for (n, took, answer) in &answers {
        assert!(answer.is_ok(), "copy {n} was answered: {answer:?}");
        // Validation (4 s) plus a few seconds; a waiting copy never holds its call for long.
        assert!(*took <= Duration::from_secs(4 + 6), "copy {n} took {took:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(40));
    let record = stack.record("paced").await;
    assert!(matches!(record.state, State::Accepted | State::Running), "{:?}", record.state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_copies_at_azures_pace_make_one_validation_and_one_restore() {
    twenty_copies_at_azures_pace(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_copies_at_azures_pace_on_the_blob_store() {
    twenty_copies_at_azures_pace(Backend::Blob).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_reconciled_not_repeated() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    // Azure processes the restore, then the connection dies without an answer.
    stack.fault(json!({"route": "dpp.restore", "method": "POST", "fault": {"kind": "processThenHang", "timeoutMs": 200}, "times": 1})).await;
    let mut q = queue();
    q.send(request("requests/disk-to-new-disk.json", "lost-answer"));
    q.run(&intake.client()).await;
    let results = results(&q);
    let outcomes: Vec<_> = q.deliveries.iter().map(|d| (d.delivery_count, d.outcome.is_ok())).collect();
    assert_eq!(
        outcomes,
        [(1, true)],
        "the delivery reconciles in-process after the settle window instead of spending a redelivery: {:#?}",
        q.deliveries
    );
    assert_eq!(result_for(&results, "lost-answer")[0]["status"], "Accepted");
    assert_eq!(stack.emu.counts().get("dpp.restore POST").copied(), Some(1), "never posted twice");
    let record = stack.record("lost-answer").await;
    assert_eq!(record.state, State::Running, "adopted the job found in Azure: {record:?}");
    assert!(record.job_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_never_arrived_is_sent_again_after_the_settle_window() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    // The connection drops before Azure sees the request.
    stack.fault(json!({"route": "dpp.restore", "method": "POST", "fault": {"kind": "reset"}, "times": 1})).await;
    let mut q = queue();
    q.send(request("requests/disk-to-new-disk.json", "never-arrived"));
    q.run(&intake.client()).await;
    assert_eq!(result_for(&results(&q), "never-arrived")[0]["status"], "Accepted");
    let restores: Vec<_> = stack
        .jobs()
        .await
        .into_iter()
        .filter(|j| j["operation"].as_str().unwrap_or_default().contains("Restore"))
        .collect();
    assert_eq!(restores.len(), 1, "exactly one restore job: {restores:#?}");
    assert!(
        intake.stderr().text().contains("nothing started; planning and sending again")
            || intake.stdout().text().contains("nothing started; planning and sending again")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_handler_at_each_step_never_produces_a_second_restore() {
    for (name, fault) in [
        // Killed after the write-ahead, while the POST is in flight and not yet processed.
        ("after-write-ahead", json!({"kind": "hang", "timeoutMs": 500})),
        // Killed after Azure processed the POST, before the record was updated.
        ("after-post", json!({"kind": "processThenHang", "timeoutMs": 60000})),
    ] {
        let stack = Stack::start().await;
        let mut intake = stack.intake().await;
        stack.fault(json!({"route": "dpp.restore", "method": "POST", "fault": fault, "times": 1})).await;
        let message = request("requests/disk-to-new-disk.json", name);
        let first = {
            let worker_client = intake.client();
            let message = message.clone();
            tokio::spawn(async move {
                let inv = message.delivery_count(1).invocation("RestoreIntake", &trigger());
                worker_client.invoke(&inv).await
            })
        };
        tokio::time::timeout(WAIT, stack.emu.wait_hung(1)).await.expect("the POST reaches the emulator");
        assert_eq!(
            stack.record(name).await.state,
            State::Triggering,
            "{name}: the write-ahead is stored before the POST"
        );
        intake.kill().await.expect("kill");
        let _ = first.await;
        // The host restarts the worker; Service Bus redelivers the message.
        let intake = stack.intake().await;
        let response = deliver(&intake, &message, 2).await;
        let answered = match response.success() {
            Ok(_) => outputs(&response),
            Err(_) => outputs(&deliver(&intake, &message, 3).await),
        };
        assert_eq!(
            answered.first().map(|r| r["status"].clone()),
            Some(json!("Accepted")),
            "{name}: {answered:#?}\n{}",
            intake.stderr().text()
        );
        stack.admin(reqwest::Method::POST, "/release", None).await;
        let restores: Vec<_> = stack
            .jobs()
            .await
            .into_iter()
            .filter(|j| j["operation"].as_str().unwrap_or_default().contains("Restore"))
            .collect();
        assert_eq!(restores.len(), 1, "{name}: exactly one restore job: {restores:#?}");
        let state = stack.record(name).await.state;
        assert!(matches!(state, State::Accepted | State::Running), "{name}: {state:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_restore_or_are_recorded_as_configured() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    let mut q = queue();
    for file in ["alert-metric-disk.json", "alert-backup-job-failure.json", "alert-resolved.json"] {
        q.send(SbMessage::new(example(&format!("requests/{file}"))).message_id(file));
    }
    let mut unmatched = example_json("requests/alert-metric-disk.json");
    unmatched["data"]["essentials"]["alertRule"] = json!("Some other rule");
    unmatched["data"]["essentials"]["alertId"] = json!(
        "/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.AlertsManagement/alerts/99999999-9999-4999-8999-999999999999"
    );
    q.send(SbMessage::new(unmatched.to_string()).message_id("unmatched"));
    // The same fired alert again: deduplicated on its alert id.
    q.send(SbMessage::new(example("requests/alert-metric-disk.json")).message_id("again"));
    q.run(&intake.client()).await;
    let results = results(&q);
    let status_of = |code_or_status: &str| {
        results.iter().filter(|r| r["status"] == code_or_status || r["reason"]["code"] == code_or_status).count()
    };
    // The metric alert on a disk restores it (the repeat is the same alert id: deduplicated, not restored twice).
    assert!(status_of("Accepted") >= 1, "{results:#?}");
    // The example policy answers Azure Backup job-failure alerts with a validate-only drill of the item.
    assert_eq!(status_of("Validated"), 1, "{results:#?}");
    assert_eq!(status_of("AlertResolved"), 1, "{results:#?}");
    assert_eq!(status_of("AlertUnmatched"), 1, "{results:#?}");
    let counts = stack.emu.counts();
    assert_eq!(counts.get("dpp.restore POST").copied().unwrap_or(0), 1, "{counts:?}");
    assert_eq!(counts.get("rsv.restore POST").copied().unwrap_or(0), 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_error_stops_the_worker_and_names_the_setting() {
    let mut stack = Stack::start().await;
    stack.set("RESTORE_STORE", "cosmos");
    let exe = restore_e2e::workspace_bin("intake").unwrap();
    // The worker answers the host's probe at once and builds its configuration concurrently; a bad setting
    // then ends the process, which the host logs and restarts.
    let mut worker = restore_e2e::Worker::builder(exe);
    for (k, v) in &stack.settings {
        worker = worker.env(k, v);
    }
    // It may exit before the first probe lands; either way it must exit non-zero and say why.
    let stderr = match worker.spawn().await {
        Ok(mut w) => {
            let status = w.wait_exit(WAIT).await.expect("the worker exits");
            assert!(!status.success());
            w.stderr().text()
        }
        Err(e) => e.to_string(),
    };
    assert!(stderr.contains("configuration error") && stderr.contains("RESTORE_STORE"), "{stderr}");
}

/// A message far over the policy's size is never buffered or parsed: it is answered Rejected with
/// `request.tooLarge` naming the limit, and settled (not redelivered until it dead-letters).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_rejected_naming_the_limit_not_redelivered() {
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    let mut q = queue();
    let huge = format!("{{\"version\":\"1\",\"padding\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    q.send(SbMessage::new(huge).message_id("huge"));
    q.run(&intake.client()).await;
    assert!(q.dead_letters.is_empty());
    assert_eq!(q.deliveries.len(), 1, "settled on the first delivery");
    let results = results(&q);
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0]["status"], "Rejected");
    assert_eq!(results[0]["reason"]["code"], "request.tooLarge");
    assert!(results[0]["reason"]["fix"].as_str().unwrap_or_default().contains("maxMessageBytes"), "{:#}", results[0]);
    assert!(stack.azure_writes().await.is_empty());
}

/// An alert storm: 50 "disk unavailable" alerts for 50 disks of one Backup vault whose policy limit is 3.
/// Azure's own job times show never more than 3 restores running at once, and every alert ends restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_storm_never_runs_more_restores_than_the_vaults_limit() {
    const DISKS: usize = 50;
    let mut stack = Stack::start_custom(Backend::Sqlite, |scenario| {
        let app = &mut scenario["subscriptions"][0]["resourceGroups"][1];
        assert_eq!(app["name"], "rg-app");
        for i in 0..DISKS {
            app["disks"].as_array_mut().unwrap().push(json!({ "name": format!("storm-{i}"), "sizeGb": 32 }));
        }
        let vault = &mut scenario["subscriptions"][0]["backupVaults"][0];
        assert_eq!(vault["name"], "bv-disks");
        // Azure's own limit is not what is tested: the policy's is.
        vault["maxConcurrentRestores"] = json!(50);
        for i in 0..DISKS {
            vault["backupInstances"].as_array_mut().unwrap().push(json!({
                "name": format!("storm-{i}-bi"),
                "disk": format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/storm-{i}"),
                "recoveryPoints": [ { "id": format!("{i:032x}"), "ageHours": 3 } ]
            }));
        }
    })
    .await;
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.05");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "0.2");
    stack.set("RESTORE_MAX_DELIVERY_COUNT", "10");
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let mut q = restore_e2e::ServiceBusQueue::new(
        restore_e2e::QueueConfig::new("RestoreIntake", trigger())
            .max_delivery_count(10)
            .output(restore_e2e::OutputBinding::service_bus("results")),
    );
    for n in 0..50 {
        let disk = format!("storm-{}", n % DISKS);
        let mut alert = example_json("requests/alert-metric-disk.json");
        let essentials = &mut alert["data"]["essentials"];
        essentials["alertId"] = json!(format!(
            "/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/00000000-0000-4000-8000-{n:012}"
        ));
        essentials["alertTargetIDs"] =
            json!([format!("/subscriptions/{SUB}/resourcegroups/rg-app/providers/microsoft.compute/disks/{disk}")]);
        essentials["configurationItems"] = json!([disk]);
        q.send(SbMessage::new(alert.to_string()).message_id(format!("alert-{n}")));
    }
    q.run(&intake.client()).await;
    assert!(q.dead_letters.is_empty(), "{:#?}", q.dead_letters);
    let answers: std::collections::BTreeMap<String, usize> = results(&q).iter().fold(Default::default(), |mut m, r| {
        *m.entry(format!("{} {}", r["status"], r["reason"]["code"])).or_default() += 1;
        m
    });
    assert_eq!(
        answers.into_iter().collect::<Vec<_>>(),
        [("\"Accepted\" null".to_string(), 50)],
        "every alert answered"
    );
    // Every alert restored: wait for the tracker to see the last jobs end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let jobs = stack.jobs().await;
        let done = jobs.iter().filter(|j| j["operation"] == "Restore" && j["status"] == "Completed").count();
        if done == 50 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{done} of 50 restores completed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The most restore jobs running at any moment, from Azure's own start and end times.
    let jobs: Vec<(String, String)> = stack
        .jobs()
        .await
        .iter()
        .filter(|j| j["operation"] == "Restore")
        .map(|j| (j["startTime"].as_str().unwrap().to_string(), j["endTime"].as_str().unwrap().to_string()))
        .collect();
    let parse = |t: &str| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap();
    let most = jobs
        .iter()
        .map(|(start, _)| {
            let at = parse(start);
            jobs.iter().filter(|(s, e)| parse(s) <= at && at < parse(e)).count()
        })
        .max()
        .unwrap();
    assert!(most <= 3, "{most} restores ran at once; the policy allows 3");
    assert_eq!(most, 3, "the storm used the vault's 3 slots");
}

/// Tokens go only where they belong (DESIGN invariant 4), proven with a second TLS listener on loopback that
/// the functions trust and that records every Authorization header: a restore whose operation URLs point at
/// it, a list whose nextLink points at it, and a redirect to it. It receives no bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bearer_token_ever_reaches_another_host() {
    let mut stack = Stack::start().await;
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.05");
    let trap = common::servicebus::TokenTrap::start(&stack.dir.path().join("certs")).await;
    let elsewhere = trap.endpoint.clone();
    let respond = |route: &str, status: u16, headers: Value, body: Value| json!({"route": route, "fault": {"kind": "respond", "status": status, "headers": headers, "body": body}, "times": 1});
    // The disk restore's 202 names operation URLs on the other host.
    let op_headers = json!({
        "Azure-AsyncOperation": format!("{elsewhere}/subscriptions/{SUB}/providers/Microsoft.DataProtection/locations/westus/operationStatus/x?api-version=2025-07-01"),
        "Location": format!("{elsewhere}/subscriptions/{SUB}/providers/Microsoft.DataProtection/locations/westus/operationResults/x?api-version=2025-07-01"),
        "Retry-After": "1",
    });
    stack.fault(respond("dpp.restore", 202, op_headers, Value::Null)).await;
    // The VM request is first redirected there, then given a nextLink there.
    stack
        .fault(respond(
            "rsv.protectedItems.get",
            302,
            json!({ "Location": format!("{elsewhere}/redirected") }),
            Value::Null,
        ))
        .await;
    stack
        .fault(respond(
            "rsv.recoveryPoints.list",
            200,
            json!({}),
            json!({ "value": [], "nextLink": format!("{elsewhere}/next?api-version=2025-02-01") }),
        ))
        .await;
    let intake = stack.intake().await;
    let (_tracker, ticking) = stack.ticking_tracker().await;
    let mut q = queue();
    q.send(request("requests/disk-to-new-disk.json", "op-elsewhere"));
    q.send(request("requests/vm-restore-disks.json", "links-elsewhere"));
    q.run(&intake.client()).await;
    // The tracker follows the disk restore (its status URL refused, so through the job list) for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(ticking);
    let record = stack.record("op-elsewhere").await;
    assert_eq!(record.reason.as_ref().map(|r| r.code.as_str()), Some("UnsafeOperationUrl"), "{record:?}");
    let vm = stack.record("links-elsewhere").await;
    assert_eq!(vm.state, State::Rejected, "{vm:?}");
    let requests = trap.requests();
    let tokens: Vec<_> = requests
        .iter()
        .filter(|(_, auth)| auth.as_deref().is_some_and(|a| a.to_ascii_lowercase().starts_with("bearer")))
        .collect();
    assert!(tokens.is_empty(), "bearer tokens reached the other host: {tokens:?}");
    assert!(requests.is_empty(), "nothing was sent to the other host at all: {requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_cloud_endpoint_is_announced_loudly_at_start() {
    // The stack points the apps at the emulator through RESTORE_CLOUD=Custom: ARM tokens go to that host.
    let stack = Stack::start().await;
    let intake = stack.intake().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let warning = loop {
        let log = format!("{}{}", intake.stdout().text(), intake.stderr().text());
        if let Some(line) = log.lines().find(|l| l.contains("RESTORE_CLOUD=Custom: ARM bearer tokens")) {
            break line.to_string();
        }
        assert!(tokio::time::Instant::now() < deadline, "no start-up warning about the custom endpoint:\n{log}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(warning.contains("WARN") && warning.contains(&stack.emu.arm_url), "{warning}");
}
