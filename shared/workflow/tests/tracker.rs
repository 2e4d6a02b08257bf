//! The tracker's branches on a virtual clock with scripted Azure (see `common`).

mod common;

use std::time::Duration;

use common::*;
use restore_store::{State, StateStore};
use restore_workflow::clock::Clock;
use restore_workflow::intake::Outcome;
use restore_workflow::tracker::{TrackerSettings, takeover_at};
use serde_json::json;

const ID: &str = "req-1";

/// The path end of the one restore job's GET.
fn job_path(h: &Harness) -> String {
    format!("/backupJobs/{}", h.azure.jobs()[0].id)
}

async fn accepted_restore(h: &Harness) {
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn a_restore_is_followed_to_its_end_and_published_once() {
    let h = Harness::new();
    accepted_restore(&h).await;
    let published = h.track(ID, 100).await;
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Succeeded);
    assert!(r.result_published);
    let finals: Vec<_> = published.iter().filter(|p| format!("{:?}", p.status) == "Succeeded").collect();
    assert_eq!(finals.len(), 1, "{published:#?}");
    assert_eq!(finals[0].azure.as_ref().and_then(|a| a.job_id.clone()), r.job_id);
}

#[tokio::test(start_paused = true)]
async fn glitched_job_reads_are_retried_not_taken_as_a_verdict() {
    let h = Harness::new();
    accepted_restore(&h).await;
    // Empty bodies, cut-off JSON and 500s on the job GET (each after the pipeline's own retries).
    h.azure.script("GET", &job_path(&h), 2, Reply::Raw(200, Vec::new(), vec![]));
    h.azure.script("GET", &job_path(&h), 1, Reply::Raw(200, b"{\"id\":".to_vec(), vec![]));
    h.track(ID, 200).await;
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Succeeded, "{:?}", r.reason);
    assert_eq!(r.read_failures, 0);
    let reads = h.azure.count("GET", &job_path(&h));
    assert!(reads >= 4, "the glitched reads happened and were retried: {reads}");
}

#[tokio::test(start_paused = true)]
async fn a_run_of_failed_reads_ends_the_record_naming_the_last_error() {
    let settings = TrackerSettings { read_failure_limit: 3, ..TrackerSettings::default() };
    let h = Harness::with(intake_settings(), settings);
    accepted_restore(&h).await;
    h.azure.script("GET", &job_path(&h), 1000, Reply::Raw(200, Vec::new(), vec![]));
    h.track(ID, 200).await;
    let r = h.record(ID).await;
    assert_eq!(r.state, State::NeedsAttention);
    let reason = r.reason.unwrap();
    assert_eq!(reason.code, "JobUnreadable");
    assert!(reason.message.contains("3 reads in a row"), "{}", reason.message);
}

#[tokio::test(start_paused = true)]
async fn a_stale_write_ahead_past_its_deadline_is_reconciled_before_it_times_out() {
    let settings = TrackerSettings { stale_write_ahead: Duration::from_secs(60), ..TrackerSettings::default() };
    let h = Harness::with(intake_settings(), settings);
    let mut request: serde_json::Value = serde_json::from_slice(&disk_request(ID)).unwrap();
    request["options"]["deadline"] = json!("2026-12-01T12:30:00Z");
    // The intake posts, the answer is lost, and it never comes back (its transient budget is spent at once).
    h.azure.script("POST", "/restore", 1, Reply::LandThenReset);
    let intake = restore_workflow::intake::Intake::new(
        client(&h.azure),
        h.store.clone(),
        h.policy.clone(),
        restore_workflow::intake::IntakeSettings { transient_retry: Duration::ZERO, ..intake_settings() },
    )
    .with_clock(std::sync::Arc::new(h.clock));
    let body = serde_json::to_vec(&request).unwrap();
    let outcome =
        intake.handle(restore_workflow::intake::Delivery { body: &body, message_id: None, delivery_count: 1 }).await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
    let left = h.record(ID).await;
    assert_eq!(left.state, State::Triggering);
    // The intake stamped when the tracker may take it over, so the tracker's `due` read finds it.
    let takeover = takeover_at(&left, intake_settings().stale_write_ahead);
    assert!(takeover.is_some_and(|t| t >= left.lease.as_ref().unwrap().until), "{left:?}");
    assert_eq!(left.next_poll_at, takeover);
    // Past the deadline and the lease: the tracker finds the job first.
    tokio::time::sleep(Duration::from_secs(45 * 60)).await;
    let report = h.tracker.tick(h.clock.now()).await.unwrap();
    assert_eq!(report.advanced, 1, "{report:?}");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Running, "adopted, not timed out blind");
    assert_eq!(r.job_id.as_deref(), Some(h.azure.jobs()[0].id.as_str()));
}

#[tokio::test(start_paused = true)]
async fn a_record_a_dead_intake_left_in_planned_is_finished_with_a_result() {
    let settings = TrackerSettings { stale_write_ahead: Duration::from_secs(60), ..TrackerSettings::default() };
    let h = Harness::with(intake_settings(), settings);
    let mut r = restore_store::Record::received(ID, "diskToNewDisk", VAULT, INSTANCE, json!(null), START);
    r.state = State::Planned;
    r.lease = Some(restore_store::Lease { owner: "dead".into(), until: START + Duration::from_secs(30) });
    // Due at once (an intake with a shorter window than this tracker's stamped it): the tracker's own rule
    // still decides.
    r.next_poll_at = Some(START);
    h.store.create(&r).await.unwrap();
    // While the lease is live, the tracker leaves it alone.
    let report = h.tracker.tick(h.clock.now()).await.unwrap();
    assert_eq!(report.examined, 0);
    tokio::time::sleep(Duration::from_secs(120)).await;
    let report = h.tracker.tick(h.clock.now()).await.unwrap();
    assert_eq!(report.results.len(), 1, "{report:?}");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Failed);
    assert_eq!(r.reason.unwrap().code, "IntakeStopped");
    assert!(h.azure.writes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_idle_tick_makes_one_store_read_and_no_azure_call() {
    let h = Harness::new();
    accepted_restore(&h).await;
    h.track(ID, 100).await;
    assert!(h.record(ID).await.result_published);
    let calls = h.azure.log().len();
    h.store.take_reads();
    let report = h.tracker.tick(h.clock.now()).await.unwrap();
    assert_eq!(report.examined, 0, "{report:?}");
    assert_eq!(h.store.take_reads(), vec!["due"], "one read: records a crashed intake left are due too");
    assert_eq!(h.azure.log().len(), calls, "no Azure call");
}

#[tokio::test(start_paused = true)]
async fn a_result_whose_publication_was_not_confirmed_is_published_again() {
    let h = Harness::new();
    accepted_restore(&h).await;
    let mut published = Vec::new();
    for _ in 0..100 {
        // The host never confirms: nothing is marked published.
        let report = h.tracker.tick(h.clock.now()).await.unwrap();
        published.extend(report.results);
        if published.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    assert!(published.len() >= 2, "the unconfirmed result is sent again: {published:#?}");
    assert!(published.iter().all(|p| format!("{:?}", p.status) == "Succeeded"));
    assert!(!h.record(ID).await.result_published);
}

#[tokio::test(start_paused = true)]
async fn azures_retry_after_empties_the_budget_until_it_passes() {
    use restore_engine::budget::RequestKind;
    use restore_engine::pipeline::Retry;
    let h = Harness::new();
    let arm = client(&h.azure);
    let headers = vec![("retry-after-ms".to_string(), "7000".to_string())];
    h.azure.script(
        "POST",
        "/throttled",
        1,
        Reply::Json(429, json!({"error": {"code": "TooManyRequests", "message": "slow down"}}), headers),
    );
    let url = arm.pipeline().url(&format!("/subscriptions/{SUB}/throttled"), "2025-01-01", &[]);
    let ctx = restore_engine::client::ArmClient::context("budget-test");
    let answer = arm.call(&ctx, azure_core::http::Method::Post, url, Some(b"{}".to_vec()), Retry::Never).await;
    assert!(answer.is_err(), "{answer:?}");
    let budget = arm.pipeline().budget();
    assert!(budget.available(SUB, RequestKind::Write) < 1, "a 429 empties the bucket until its Retry-After");
    tokio::time::sleep(Duration::from_millis(6900)).await;
    assert!(budget.available(SUB, RequestKind::Write) < 1, "still inside the 7 s Azure asked for");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(budget.available(SUB, RequestKind::Write) >= 1, "refilling once it passed");
}

/// Data Protection's job list has no filter: reconciliation pages only as far as recent jobs can be, and only
/// while the list is provably newest first.
#[tokio::test(start_paused = true)]
async fn the_job_list_is_read_only_as_far_as_recent_jobs_can_be() {
    let h = Harness::new();
    let arm = client(&h.azure);
    let job = |id: &str, start: &str| {
        json!({"id": format!("{VAULT}/backupJobs/{id}"), "name": id, "properties": {
            "objectType": "AzureBackupJob", "operation": "Restore", "status": "Completed", "startTime": start,
            "activityID": id, "backupInstanceFriendlyName": "x", "dataSourceId": "x", "dataSourceLocation": "westus",
            "dataSourceName": "x", "dataSourceType": "x", "isUserTriggered": true, "operationCategory": "Restore",
            "progressEnabled": false, "sourceResourceGroup": "x", "sourceSubscriptionID": SUB, "subscriptionId": SUB,
            "supportedActions": [], "vaultName": "bv-disks"}})
    };
    let next = format!("{ARM}{VAULT}/backupJobs?api-version=2026-06-01&$skipToken=2");
    let page = |jobs: Vec<serde_json::Value>, next: Option<&str>| {
        Reply::Json(200, json!({"value": jobs, "nextLink": next}), vec![])
    };
    let vault = restore_models::arm_id::BackupVaultId::parse(VAULT).unwrap();
    let ctx = restore_engine::client::ArmClient::context("paging");
    let since = START - time::Duration::hours(1);

    // Newest first, and the first page is already older than the window: the second is never read.
    h.azure.script(
        "GET",
        "/backupJobs",
        1,
        page(vec![job("j2", "2026-11-30T10:00:00Z"), job("j1", "2026-11-30T09:00:00Z")], Some(&next)),
    );
    h.azure.script("GET", "/backupJobs", 1, page(vec![job("j0", "2026-11-29T09:00:00Z")], None));
    let jobs = arm.dpp_jobs_since(&ctx, &vault, since).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(h.azure.count("GET", "/backupJobs"), 1);

    // Not newest first: the order proves nothing, so the list is read to its end (a fresh world: the first
    // scenario's unread page is still scripted in the old one).
    let h = Harness::new();
    let arm = client(&h.azure);
    h.azure.script(
        "GET",
        "/backupJobs",
        1,
        page(vec![job("j1", "2026-11-30T09:00:00Z"), job("j2", "2026-11-30T10:00:00Z")], Some(&next)),
    );
    h.azure.script("GET", "/backupJobs", 1, page(vec![job("j3", "2026-12-01T12:00:00Z")], None));
    let jobs = arm.dpp_jobs_since(&ctx, &vault, since).await.unwrap();
    assert_eq!(jobs.len(), 3, "the recent job on page two is found");
    assert_eq!(h.azure.count("GET", "/backupJobs"), 2);
}

#[tokio::test(start_paused = true)]
async fn restored_resources_get_the_requests_tags_with_the_policys_winning() {
    let h = Harness::new();
    accepted_restore(&h).await;
    h.track(ID, 100).await;
    let record = h.record(ID).await;
    assert_eq!(record.state, State::Succeeded);
    let disk = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-restore/providers/Microsoft.Compute/disks/app-data-01-bi-restored";
    let patches: Vec<_> = h.azure.log().into_iter().filter(|s| s.method == "PATCH").collect();
    assert_eq!(patches.len(), 1, "{patches:#?}");
    assert!(
        patches[0].url.starts_with(&format!("{ARM}{disk}/providers/Microsoft.Resources/tags/default?")),
        "{}",
        patches[0].url
    );
    let body = patches[0].body.clone().unwrap();
    assert_eq!(body["operation"], "Merge");
    let mut expected = serde_json::Map::new();
    expected.insert("ticket".into(), json!("INC0012345"));
    for (k, v) in &h.policy.tags {
        expected.insert(k.clone(), json!(v));
    }
    assert_eq!(body["properties"]["tags"], serde_json::Value::Object(expected));
    let result: restore_contract::RestoreResult = serde_json::from_value(record.result.unwrap()).unwrap();
    let tagging = result.tagging.expect("the result reports the tagging");
    assert_eq!(tagging.tagged, [disk]);
    assert!(tagging.failed.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_refused_tag_write_is_reported_and_the_restore_still_succeeds() {
    let h = Harness::new();
    accepted_restore(&h).await;
    let refused =
        Reply::Json(403, json!({"error": {"code": "AuthorizationFailed", "message": "no tag rights"}}), vec![]);
    h.azure.script("PATCH", "/providers/Microsoft.Resources/tags/default", 10, refused);
    h.track(ID, 100).await;
    let record = h.record(ID).await;
    assert_eq!(record.state, State::Succeeded);
    let result: restore_contract::RestoreResult = serde_json::from_value(record.result.unwrap()).unwrap();
    assert_eq!(format!("{:?}", result.status), "Succeeded");
    let tagging = result.tagging.expect("the result reports the tagging");
    assert!(tagging.tagged.is_empty());
    assert_eq!(tagging.failed.len(), 1);
    assert!(tagging.failed[0].error.contains("AuthorizationFailed"), "{:?}", tagging.failed);
}

#[tokio::test(start_paused = true)]
async fn a_disk_restore_costs_six_store_writes_in_the_intake_and_six_in_the_tracker() {
    let h = Harness::new();
    accepted_restore(&h).await;
    // The record (lease taken with it), the plan, the vault's and the item's slot documents, the write-ahead,
    // and the accepted operation with its Accepted result (one write, not two).
    assert_eq!(
        h.store.take_writes(),
        ["create", "Planned", "put_document", "put_document", "Triggering", "Accepted"],
        "the intake's writes per accepted restore"
    );
    h.track(ID, 100).await;
    // The job found; two reads of it still running (each stores when to read next); the end, and the restore
    // durations the tick learned (one document write per tick that ended restores, not per restore); published.
    assert_eq!(
        h.store.take_writes(),
        ["Running", "Running", "Running", "Succeeded", "put_document", "Succeeded"],
        "the tracker's writes per completed restore"
    );
}
