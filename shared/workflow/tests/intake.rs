//! The intake's branches, one test each, on a virtual clock with scripted Azure (see `common`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use restore_engine::budget::{BucketLimits, BudgetLimits};
use restore_store::{Lease, State, StateStore};
use restore_workflow::clock::Clock;
use restore_workflow::intake::{Delivery, IntakeSettings, Outcome};
use restore_workflow::slots;
use serde_json::json;

const ID: &str = "req-1";

fn accepted(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Complete(r) if r.len() == 1 && format!("{:?}", r[0].status) == "Accepted")
}

#[tokio::test(start_paused = true)]
async fn a_disk_request_is_validated_then_triggered_with_two_azure_writes() {
    let h = Harness::new();
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    let writes: Vec<String> = h.azure.writes().iter().map(|s| s.url.split('?').next().unwrap().to_string()).collect();
    assert_eq!(writes.len(), 2, "{writes:#?}");
    assert!(writes[0].ends_with("/validateRestore") && writes[1].ends_with("/restore"), "{writes:#?}");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Accepted);
    assert!(r.lease.as_ref().is_some_and(|l| !l.owner.is_empty()), "the owner keeps the lease until the end");
    // Azure's Retry-After (10 s) sets the first poll.
    assert_eq!(r.next_poll_at, Some(r.triggered_at.unwrap() + Duration::from_secs(10)));
}

#[tokio::test(start_paused = true)]
async fn twenty_concurrent_duplicates_make_one_plan_one_validation_one_restore() {
    let h = Arc::new(Harness::new());
    // Azure's validation takes several seconds.
    h.azure.script("POST", "/validateRestore", 1, Reply::Delay(Duration::from_secs(8)));
    let started = h.clock.now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20u64 {
        let h = h.clone();
        tasks.spawn(async move {
            // Four at a time, with gaps.
            tokio::time::sleep(Duration::from_millis((i / 4) * 700 + (i % 4) * 90)).await;
            let outcome = h.deliver(&disk_request(ID), 1).await;
            (outcome, h.clock.now())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.unwrap());
    }
    assert_eq!(h.azure.count("POST", "/validateRestore"), 1);
    assert_eq!(h.azure.count("POST", "/restore"), 1);
    assert_eq!(h.azure.count("GET", "/recoveryPoints"), 1, "one plan");
    assert_eq!(h.azure.writes().len(), 2);
    for (outcome, at) in &outcomes {
        assert!(accepted(outcome), "every delivery is answered with the owner's result: {outcome:?}");
        assert!(*at - started <= time::Duration::seconds(8 + 15), "answered within validation + a few seconds");
    }
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_hands_its_message_back_without_calling_azure_while_the_owner_works() {
    let h = Harness::new();
    let mut record = restore_store::Record::received(ID, "diskToNewDisk", VAULT, INSTANCE, json!(null), START);
    record.lease = Some(Lease { owner: "live-owner".into(), until: START + Duration::from_secs(300) });
    record.request = serde_json::from_slice(&disk_request(ID)).unwrap();
    h.store.create(&record).await.unwrap();
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(matches!(&outcome, Outcome::Retry(why) if why.contains("another delivery")), "{outcome:?}");
    assert!(h.azure.log().is_empty(), "no Azure call: {:#?}", h.azure.log());
    // On its last delivery it completes without an answer and leaves the owner's record alone.
    let before = h.record(ID).await;
    let outcome = h.deliver(&disk_request(ID), h.settings.max_delivery_count).await;
    assert_eq!(outcome, Outcome::Complete(Vec::new()));
    assert_eq!(h.record(ID).await.version, before.version, "the owned record was not given up");
}

#[tokio::test(start_paused = true)]
async fn a_lease_left_by_a_crashed_owner_is_taken_over_once_it_lapses() {
    let h = Harness::new();
    let mut record = restore_store::Record::received(ID, "diskToNewDisk", VAULT, INSTANCE, json!(null), START);
    record.lease = Some(Lease { owner: "crashed".into(), until: START + Duration::from_secs(60) });
    record.request = serde_json::from_slice(&disk_request(ID)).unwrap();
    h.store.create(&record).await.unwrap();
    tokio::time::sleep(Duration::from_secs(61)).await;
    let outcome = h.deliver(&disk_request(ID), 2).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn our_own_write_behind_a_conflict_is_recognised_at_every_write() {
    // The happy path writes: Planned, Triggering, Accepted, the Accepted result.
    for n in 1..=4 {
        let h = Harness::new();
        h.store.fail_update(n, StoreFault::LandThenConflict);
        let outcome = h.deliver(&disk_request(ID), 1).await;
        assert!(accepted(&outcome), "write {n}: the result is still delivered: {outcome:?}");
        assert_eq!(h.azure.count("POST", "/restore"), 1, "write {n}: the POST is still sent, once");
        assert_eq!(h.record(ID).await.state, State::Accepted, "write {n}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_post_that_would_leave_after_its_send_window_is_not_sent() {
    let settings = IntakeSettings { transient_retry: Duration::from_secs(30), ..IntakeSettings::default() };
    let h = Harness::with(settings, Default::default());
    // One write token every 100 s: the validation spends it, so the restore POST waits in the budget far past
    // its 10 s send window.
    let slow = BudgetLimits { writes: BucketLimits { burst: 1.0, per_second: 0.01 }, ..BudgetLimits::default() };
    let intake = h.intake_with_budget(slow);
    let outcome = intake.handle(Delivery { body: &disk_request(ID), message_id: None, delivery_count: 1 }).await;
    assert!(matches!(&outcome, Outcome::Retry(why) if why.contains("send window")), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 0, "never sent after its window");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Planned, "stepped back: nothing started");
    assert_eq!(r.write_ahead_at, None);
}

#[tokio::test(start_paused = true)]
async fn a_202_that_arrives_after_another_delivery_took_over_is_recorded_not_dropped() {
    let h = Arc::new(Harness::new());
    let gate = Arc::new(tokio::sync::Notify::new());
    h.azure.script("POST", "/restore", 1, Reply::Gate(gate.clone()));
    let task = {
        let h = h.clone();
        tokio::spawn(async move { h.deliver(&disk_request(ID), 1).await })
    };
    while h.azure.count("POST", "/restore") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Meanwhile another delivery took the record over.
    let mut r = h.record(ID).await;
    r.lease = Some(Lease { owner: "other".into(), until: h.clock.now() + Duration::from_secs(300) });
    h.store.update(&r).await.unwrap();
    gate.notify_one();
    let outcome = task.await.unwrap();
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(format!("{:?}", results[0].status), "NeedsAttention");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::NeedsAttention);
    assert_eq!(r.reason.as_ref().unwrap().code, "ExtraRestoreStarted");
    assert_eq!(r.extra_jobs.len(), 1, "{:?}", r.extra_jobs);
    assert!(r.extra_jobs[0].contains("operation"), "{:?}", r.extra_jobs);
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_reconciled_to_the_job_it_started() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 1, Reply::LandThenReset);
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 1, "never sent twice");
    let r = h.record(ID).await;
    assert_eq!(r.state, State::Running);
    assert_eq!(r.job_id.as_deref(), Some(h.azure.jobs()[0].id.as_str()));
}

#[tokio::test(start_paused = true)]
async fn an_earlier_restore_of_the_same_item_is_not_adopted_and_nothing_started_is_sent_again() {
    let h = Harness::new();
    let old = h.azure.add_job(INSTANCE, "rp-1", START - time::Duration::hours(1));
    h.azure.script("POST", "/restore", 1, Reply::Reset);
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 2, "re-sent after the settle window proved nothing started");
    let r = h.record(ID).await;
    assert_ne!(r.job_id.as_deref(), Some(old.as_str()));
    assert_eq!(h.azure.jobs().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn two_matching_jobs_need_a_person_and_no_second_post() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 1, Reply::LandThenReset);
    // Someone else restored the same item from the same point at the same moment.
    h.azure.add_job(INSTANCE, "rp-1", START + time::Duration::seconds(20));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(format!("{:?}", results[0].status), "NeedsAttention");
    assert_eq!(h.record(ID).await.reason.unwrap().code, "AmbiguousWriteAhead");
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn an_empty_answer_to_the_restore_post_is_reconciled_not_accepted() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 1, Reply::Raw(200, Vec::new(), Vec::new()));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 2, "nothing had started: sent again after reconciliation");
    assert_eq!(h.azure.jobs().len(), 1);
    assert_eq!(h.record(ID).await.state, State::Accepted);
}

fn azure_error(status: u16, code: &str) -> Reply {
    Reply::Json(status, json!({"error": {"code": code, "message": format!("{code} (scripted)")}}), Vec::new())
}

#[tokio::test(start_paused = true)]
async fn a_throttled_post_started_nothing_and_is_sent_again() {
    let h = Harness::new();
    let mut throttled = azure_error(429, "TooManyRequests");
    if let Reply::Json(_, _, headers) = &mut throttled {
        headers.push(("retry-after".into(), "5".into()));
    }
    h.azure.script("POST", "/restore", 1, throttled);
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 2);
    assert_eq!(h.azure.jobs().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_missing_role_is_waited_for_inside_the_delivery() {
    let h = Harness::new();
    // The role assignment propagates after two refusals.
    h.azure.script("POST", "/restore", 2, azure_error(403, "AuthorizationFailed"));
    let started = h.clock.now();
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 3);
    assert!(h.clock.now() - started >= time::Duration::seconds(60), "retried every 30 s, not at once");
    assert_eq!(h.azure.jobs().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_role_that_never_arrives_hands_the_message_back_after_the_role_wait() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 1000, azure_error(403, "AuthorizationFailed"));
    let started = h.clock.now();
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(matches!(&outcome, Outcome::Retry(why) if why.contains("AuthorizationFailed")), "{outcome:?}");
    let waited = h.clock.now() - started;
    assert!(waited >= time::Duration::seconds(200) && waited <= time::Duration::seconds(300), "{waited}");
    assert!(h.azure.count("POST", "/restore") <= 10, "about one try per 30 s: {}", h.azure.count("POST", "/restore"));
    assert_eq!(h.record(ID).await.state, State::Planned);
    assert!(h.azure.jobs().is_empty());
}

#[tokio::test(start_paused = true)]
async fn azure_refusing_the_restore_ends_it_failed_with_azures_error() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 1, azure_error(409, "UserErrorSameNameDiskAlreadyExists"));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(format!("{:?}", results[0].status), "Failed");
    assert_eq!(
        results[0].azure.as_ref().and_then(|a| a.error_code.as_deref()),
        Some("UserErrorSameNameDiskAlreadyExists")
    );
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn azures_own_concurrency_limit_waits_for_a_slot_instead_of_spending_deliveries() {
    let h = Harness::new();
    h.azure.script("POST", "/restore", 2, azure_error(400, "UserErrorMaxConcurrentOperationLimitReached"));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_status_url_on_another_host_gets_no_token_and_the_job_is_followed_instead() {
    let h = Harness::new();
    let headers = vec![("azure-asyncoperation".to_string(), "https://attacker.invalid/op/1".to_string())];
    h.azure.script("POST", "/restore", 1, Reply::Json(202, serde_json::Value::Null, headers));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert!(h.azure.log().iter().all(|s| !s.url.contains("attacker")), "nothing was sent to the other host");
    assert_eq!(h.record(ID).await.reason.unwrap().code, "UnsafeOperationUrl");
}

#[tokio::test(start_paused = true)]
async fn the_last_delivery_ends_the_record_with_a_result_instead_of_dead_lettering() {
    let h = Harness::new();
    h.azure.script("GET", "/recoveryPoints", 1000, azure_error(503, "ServiceUnavailable"));
    let outcome = h.deliver(&disk_request(ID), h.settings.max_delivery_count).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(format!("{:?}", results[0].status), "Failed");
    let r = h.record(ID).await;
    assert_eq!(r.reason.unwrap().code, "TransientFailuresExhausted");
    assert!(h.azure.writes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn transient_failures_back_off_inside_the_delivery() {
    let h = Harness::new();
    // Four failed plans (each after the pipeline's own retries), then Azure recovers.
    h.azure.script("GET", "/recoveryPoints", 16, azure_error(503, "ServiceUnavailable"));
    let started = h.clock.now();
    let outcome = h.deliver(&disk_request(ID), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
    assert!(h.clock.now() - started >= time::Duration::seconds(1 + 2 + 4), "backed off between attempts");
}

/// Plants a running restore that holds the item's and the vault's slots, as the intake would have.
async fn running_restore(h: &Harness, id: &str, instance: &str) {
    let item = instance_id(instance);
    let mut r = restore_store::Record::received(id, "diskToNewDisk", VAULT, &item, json!(null), START);
    r.state = State::Running;
    h.store.create(&r).await.unwrap();
    for key in [slots::item_key(&item), slots::vault_key(VAULT)] {
        let mut doc = h.store.slots(&key).await.unwrap();
        doc.holders.push(restore_store::Holder { request_id: id.into(), since: START });
        h.store.put_slots(&doc).await.unwrap();
    }
}

async fn finish_later(h: Arc<Harness>, id: &'static str, after: Duration) -> time::OffsetDateTime {
    tokio::time::sleep(after).await;
    let mut r = h.record(id).await;
    r.state = State::Succeeded;
    h.store.update(&r).await.unwrap();
    h.clock.now()
}

#[tokio::test(start_paused = true)]
async fn a_vault_at_its_limit_is_waited_for_and_the_slot_is_used_once_free() {
    let h = Arc::new(Harness::new());
    for i in 0..h.policy.max_concurrent_restores_per_vault {
        running_restore(&h, &format!("busy-{i}"), &format!("other-{i}")).await;
    }
    let freer = tokio::spawn(finish_later(h.clone(), "busy-0", Duration::from_secs(40)));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    let freed_at = freer.await.unwrap();
    assert!(accepted(&outcome), "{outcome:?}");
    let restore = h.azure.log().into_iter().find(|s| s.is("POST", "/restore")).unwrap();
    assert!(restore.at >= freed_at, "no restore POST before a slot was free");
}

#[tokio::test(start_paused = true)]
async fn one_restore_in_flight_per_item() {
    let h = Arc::new(Harness::new());
    running_restore(&h, "earlier", "app-data-01-bi").await;
    let freer = tokio::spawn(finish_later(h.clone(), "earlier", Duration::from_secs(60)));
    let outcome = h.deliver(&disk_request(ID), 1).await;
    let freed_at = freer.await.unwrap();
    assert!(accepted(&outcome), "{outcome:?}");
    let restore = h.azure.log().into_iter().find(|s| s.is("POST", "/restore")).unwrap();
    assert!(restore.at >= freed_at, "the item's second restore waited for the first");
}

#[tokio::test(start_paused = true)]
async fn an_owner_waiting_far_longer_than_its_lease_keeps_it() {
    let settings = IntakeSettings {
        lease: Duration::from_secs(3),
        duplicate_wait: Duration::from_secs(1),
        ..IntakeSettings::default()
    };
    let h = Arc::new(Harness::with(settings, Default::default()));
    running_restore(&h, "earlier", "app-data-01-bi").await;
    let freer = tokio::spawn(finish_later(h.clone(), "earlier", Duration::from_secs(40)));
    let owner = {
        let h = h.clone();
        tokio::spawn(async move { h.deliver(&disk_request(ID), 1).await })
    };
    tokio::time::sleep(Duration::from_secs(20)).await;
    let duplicate = h.deliver(&disk_request(ID), 2).await;
    assert!(matches!(&duplicate, Outcome::Retry(why) if why.contains("another delivery")), "{duplicate:?}");
    freer.await.unwrap();
    let outcome = owner.await.unwrap();
    assert!(accepted(&outcome), "the owner was not displaced: {outcome:?}");
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_validation_that_outlasts_the_lease_does_not_let_a_duplicate_take_over() {
    let settings = IntakeSettings {
        lease: Duration::from_secs(3),
        send_window: Duration::from_millis(500),
        trigger_timeout: Duration::from_secs(1),
        duplicate_wait: Duration::from_secs(1),
        ..IntakeSettings::default()
    };
    let h = Arc::new(Harness::with(settings, Default::default()));
    h.azure.script("POST", "/validateRestore", 1, Reply::Delay(Duration::from_secs(30)));
    let owner = {
        let h = h.clone();
        tokio::spawn(async move { h.deliver(&disk_request(ID), 1).await })
    };
    tokio::time::sleep(Duration::from_secs(15)).await;
    let duplicate = h.deliver(&disk_request(ID), 2).await;
    assert!(matches!(&duplicate, Outcome::Retry(why) if why.contains("another delivery")), "{duplicate:?}");
    assert!(accepted(&owner.await.unwrap()));
    assert_eq!(h.azure.count("POST", "/validateRestore"), 1);
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_never_exceed_the_vaults_limit() {
    let settings = IntakeSettings { concurrency_wait: Duration::from_secs(30), ..IntakeSettings::default() };
    let h = Arc::new(Harness::with(settings, Default::default()));
    let limit = h.policy.max_concurrent_restores_per_vault;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..limit + 3 {
        let h = h.clone();
        tasks.spawn(async move { h.deliver(&disk_request_for(&format!("r-{i}"), &format!("disk-{i}")), 1).await });
    }
    let mut accepted_count = 0;
    let mut handed_back = 0;
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            o if accepted(&o) => accepted_count += 1,
            Outcome::Retry(why) if why.contains("maxConcurrentRestoresPerVault") => handed_back += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((accepted_count, handed_back), (limit, 3));
    assert_eq!(h.azure.count("POST", "/restore"), limit);
    // Handed back before any Azure write: the extra requests validated, but never posted.
    assert_eq!(h.azure.count("POST", "/validateRestore"), limit + 3);
}

#[tokio::test(start_paused = true)]
async fn clock_skew_between_hosts_never_leads_to_a_second_restore() {
    let settings = IntakeSettings { transient_retry: Duration::ZERO, ..IntakeSettings::default() };
    let h = Harness::with(settings, Default::default());
    // Host A's clock is 4 minutes fast; its POST lands but the answer is lost and it stops.
    let a = h.intake_skewed(time::Duration::minutes(4));
    h.azure.script("POST", "/restore", 1, Reply::LandThenReset);
    let outcome = a.handle(Delivery { body: &disk_request(ID), message_id: None, delivery_count: 1 }).await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
    assert_eq!(h.record(ID).await.state, State::Triggering);
    // Host B (true time) takes over once A's lease has lapsed on B's clock too.
    tokio::time::sleep(h.settings.lease + Duration::from_secs(5 * 60)).await;
    let outcome = h.deliver(&disk_request(ID), 2).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    // The job started "before" A's write-ahead on A's clock: a person decides; nothing is sent again.
    assert_eq!(format!("{:?}", results[0].status), "NeedsAttention");
    assert_eq!(h.azure.count("POST", "/restore"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_reused_request_id_with_another_restore_is_refused_and_the_first_is_untouched() {
    let h = Harness::new();
    assert!(accepted(&h.deliver(&disk_request(ID), 1).await));
    let before = h.record(ID).await;
    let mut other: serde_json::Value = serde_json::from_slice(&disk_request(ID)).unwrap();
    other["operation"]["diskName"] = json!("another-disk");
    let outcome = h.deliver(&serde_json::to_vec(&other).unwrap(), 1).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(results[0].reason.as_ref().unwrap().code, "request.idReused");
    let after = h.record(ID).await;
    assert_eq!(after.version, before.version, "the first request's record is untouched");
    assert_eq!(h.azure.count("POST", "/restore"), 1);
    // A re-notification that differs only in volatile fields is the same request.
    let mut same: serde_json::Value = serde_json::from_slice(&disk_request(ID)).unwrap();
    same["source"]["requestedBy"] = json!("bob@contoso.com");
    let outcome = h.deliver(&serde_json::to_vec(&same).unwrap(), 1).await;
    assert!(accepted(&outcome), "{outcome:?}");
}

#[test]
fn settings_refuse_a_settle_window_that_a_late_post_could_outlast() {
    let settings = IntakeSettings {
        settle: Duration::from_secs(30),
        send_window: Duration::from_secs(10),
        trigger_timeout: Duration::from_secs(30),
        ..IntakeSettings::default()
    };
    let error = settings.check().unwrap_err();
    assert_eq!(error.name, "RESTORE_TRIGGER_SETTLE_SECONDS");
    let short_lease = IntakeSettings { lease: Duration::from_secs(20), ..IntakeSettings::default() };
    assert_eq!(short_lease.check().unwrap_err().name, "RESTORE_LEASE_SECONDS");
    assert!(IntakeSettings::default().check().is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_result_answered_on_the_last_delivery_is_also_left_for_the_tracker() {
    let h = Harness::new();
    // Refused by Azure's validation: a terminal answer from the intake itself.
    h.azure.script("POST", "/validateRestore", 1, azure_error(400, "UserErrorSameNameDiskAlreadyExists"));
    let outcome = h.deliver(&disk_request(ID), h.settings.max_delivery_count).await;
    let Outcome::Complete(results) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(format!("{:?}", results[0].status), "Rejected");
    let record = h.record(ID).await;
    assert!(!record.result_published, "if the host's send fails now the message dead-letters: keep it due");
    let report = h.tracker.tick(h.clock.now()).await.unwrap();
    assert_eq!(report.results.len(), 1, "the tracker sends it again");
    assert_eq!(report.results[0].reason.as_ref().unwrap().code, "UserErrorSameNameDiskAlreadyExists");
    // Any earlier delivery answers through its output alone (Service Bus redelivers if that send fails).
    let h = Harness::new();
    h.azure.script("POST", "/validateRestore", 1, azure_error(400, "UserErrorSameNameDiskAlreadyExists"));
    h.deliver(&disk_request(ID), 1).await;
    assert!(h.record(ID).await.result_published);
}

#[tokio::test(start_paused = true)]
async fn a_full_slot_document_frees_only_what_has_finished() {
    let h = Harness::new();
    let key = slots::vault_key(VAULT);
    for (i, state) in [State::Succeeded, State::Running, State::Running].into_iter().enumerate() {
        let id = format!("holder-{i}");
        let mut r = restore_store::Record::received(&id, "diskToNewDisk", VAULT, INSTANCE, json!(null), START);
        r.state = state;
        h.store.create(&r).await.unwrap();
        let mut doc = h.store.slots(&key).await.unwrap();
        doc.holders.push(restore_store::Holder { request_id: id, since: START + Duration::from_secs(i as u64) });
        h.store.put_slots(&doc).await.unwrap();
    }
    let store: &dyn StateStore = h.store.as_ref();
    assert_eq!(slots::in_use(store, &key, "new", 3, START).await.unwrap(), 2, "the finished holder does not count");
    assert_eq!(slots::take(store, &key, 3, "new", START).await.unwrap(), slots::Taken::Yes);
    let holders: Vec<String> = h.store.slots(&key).await.unwrap().holders.into_iter().map(|h| h.request_id).collect();
    assert_eq!(holders, ["holder-1", "holder-2", "new"], "the finished one was pruned, the live ones kept");
    // "new" goes on to its write-ahead; a holder without a record would not count.
    let mut r = restore_store::Record::received("new", "diskToNewDisk", VAULT, INSTANCE, json!(null), START);
    r.state = State::Triggering;
    h.store.create(&r).await.unwrap();
    assert!(matches!(slots::take(store, &key, 3, "another", START).await.unwrap(), slots::Taken::Full(_)));
    // Below capacity nothing is judged: a large limit counts the listed holders.
    assert_eq!(slots::in_use(store, &key, "x", 1000, START).await.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_vault_limit_above_a_thousand_is_not_tracked_but_the_item_slot_is() {
    let h = Harness::with_policy(|policy| policy["maxConcurrentRestoresPerVault"] = json!(1_000_000));
    assert!(accepted(&h.deliver(&disk_request(ID), 1).await));
    assert!(h.store.slots(&slots::vault_key(VAULT)).await.unwrap().holders.is_empty(), "no vault document");
    let item = h.store.slots(&slots::item_key(INSTANCE)).await.unwrap();
    assert!(item.held_by(ID), "one restore in flight per item still applies");
}
