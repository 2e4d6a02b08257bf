//! The one contract suite every `StateStore` implementation must pass. Each implementation's test file provides
//! a [`Backend`] and expands [`contract_tests!`], which generates one test per case (nextest runs each in its
//! own process, so each gets a fresh store).

#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use restore_store::{ListFilter, Reason, Record, State, StateStore, StoreError};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

/// One implementation under test.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The store.
    fn store(&self) -> Arc<dyn StateStore>;
    /// An independent handle on the same storage (its own connection / HTTP client): what a second worker
    /// process would see.
    async fn another(&self) -> Arc<dyn StateStore>;
    /// Overwrites the stored document of `request_id` with `bytes`, bypassing the store (a corrupt write).
    async fn plant(&self, request_id: &str, bytes: &[u8]);
}

/// Generates one `#[tokio::test]` per contract case, each calling `$setup().await` for a fresh backend.
#[macro_export]
macro_rules! contract_tests {
    ($setup:path) => {
        $crate::contract_tests!(@cases $setup;
            create_get_round_trip,
            duplicate_create_is_already_exists,
            concurrent_creates_exactly_one_wins,
            update_is_compare_and_swap,
            concurrent_updates_exactly_one_wins,
            due_ordering_and_limit,
            terminal_records_are_not_due_once_published,
            a_record_rescheduled_later_is_not_due_before_its_time,
            count_active_per_vault,
            list_by_state_and_vault,
            corrupt_document_is_reported_and_skipped,
            awkward_request_ids_round_trip,
            unusable_request_ids_are_refused,
            slots_are_created_then_compare_and_swapped,
            documents_are_created_then_compare_and_swapped,
            concurrent_slot_takers_exactly_one_wins
        );
    };
    (@cases $setup:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let backend = $setup().await;
                common::$case(&backend).await;
            }
        )*
    };
}

/// A fixed clock with sub-second precision, to prove timestamps survive a round trip exactly.
pub const T0: OffsetDateTime = datetime!(2026-05-01 10:00:00.123456789 UTC);

/// A minimal record.
pub fn record(id: &str, vault: &str, received: OffsetDateTime) -> Record {
    Record::received(
        id,
        "disk",
        vault,
        format!("{vault}/backupInstances/bi-1"),
        json!({"requestId": id, "target": {"backupInstanceId": "x"}}),
        received,
    )
}

/// A record with every field set.
pub fn full_record(id: &str) -> Record {
    let mut r = record(id, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v", T0);
    r.state = State::Running;
    r.updated_at = T0 + Duration::seconds(90);
    r.write_ahead_at = Some(T0 + Duration::seconds(10));
    r.triggered_at = Some(T0 + Duration::seconds(11));
    r.job_started_at = Some(T0 + Duration::seconds(12));
    r.job_ended_at = Some(T0 + Duration::seconds(13));
    r.source_reference = Some("INC-42".into());
    r.recovery_point_id = Some("rp-1".into());
    r.azure_request_body =
        Some(json!({"objectType": "AzureBackupRecoveryPointBasedRestoreRequest", "n": [1, 2.5, null]}));
    r.operation = Some(json!({"operationUrl": "https://management.azure.com/op?api-version=1", "retryAfter": 30}));
    r.job_id = Some("job-1".into());
    r.next_poll_at = Some(T0 + Duration::minutes(5));
    r.attempts = 2;
    r.polls = 7;
    r.reason = Some(Reason { code: "UserErrorX".into(), message: "it went wrong ✗".into() });
    r.result = Some(json!({"status": "Running"}));
    r.result_published = false;
    r.delivery_count_seen = 3;
    r
}

fn ids(records: &[Record]) -> Vec<&str> {
    records.iter().map(|r| r.request_id.as_str()).collect()
}

async fn create(store: &dyn StateStore, r: Record) -> Record {
    store.create(&r).await.unwrap_or_else(|e| panic!("create {}: {e}", r.request_id))
}

pub async fn create_get_round_trip(b: &impl Backend) {
    let store = b.store();
    let r = full_record("req-1");
    let created = create(&*store, r.clone()).await;
    assert!(!created.version.is_empty(), "create returns the first version");
    assert_eq!(Record { version: String::new(), ..created.clone() }, r);

    let got = store.get("req-1").await.unwrap().expect("the record exists");
    assert_eq!(got, created, "get returns exactly what was created, with the same version");
    assert!(store.get("req-2").await.unwrap().is_none());
}

pub async fn duplicate_create_is_already_exists(b: &impl Backend) {
    let store = b.store();
    let first = create(&*store, record("dup", "/v/a", T0)).await;
    let mut second = record("dup", "/v/other", T0 + Duration::hours(1));
    second.state = State::Planned;
    match store.create(&second).await {
        Err(StoreError::AlreadyExists { existing }) => assert_eq!(*existing, first),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.get("dup").await.unwrap().unwrap(), first, "the duplicate did not overwrite");
}

pub async fn concurrent_creates_exactly_one_wins(b: &impl Backend) {
    let n = 10;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let store = b.another().await;
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut r = record("race-create", "/v/a", T0);
            r.attempts = i as u32;
            barrier.wait().await;
            store.create(&r).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => winners.push(r),
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create wins");
    assert_eq!(b.store().get("race-create").await.unwrap().unwrap(), winners[0]);
}

pub async fn update_is_compare_and_swap(b: &impl Backend) {
    let store = b.store();
    let v1 = create(&*store, record("cas", "/v/a", T0)).await;

    let mut next = v1.clone();
    next.state = State::Planned;
    next.recovery_point_id = Some("rp".into());
    let v2 = store.update(&next).await.unwrap();
    assert_ne!(v2.version, v1.version, "an update changes the version");
    assert_eq!(Record { version: String::new(), ..v2.clone() }, Record { version: String::new(), ..next });
    assert_eq!(store.get("cas").await.unwrap().unwrap(), v2);

    // A writer still holding v1 loses and changes nothing.
    let mut stale = v1.clone();
    stale.state = State::Rejected;
    assert!(matches!(store.update(&stale).await, Err(StoreError::Conflict { .. })), "stale version is a conflict");
    assert_eq!(store.get("cas").await.unwrap().unwrap(), v2);

    // A version that was never issued, or none at all, cannot match either.
    for bogus in ["", "not-a-version", "\"0x8D000000000000\""] {
        let r = Record { version: bogus.into(), ..v2.clone() };
        assert!(matches!(store.update(&r).await, Err(StoreError::Conflict { .. })), "version {bogus:?}");
    }

    let ghost = Record { version: v2.version.clone(), ..record("ghost", "/v/a", T0) };
    assert!(matches!(store.update(&ghost).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.update(&record("ghost", "/v/a", T0)).await, Err(StoreError::NotFound { .. })));
    assert!(store.get("ghost").await.unwrap().is_none(), "a failed update creates nothing");
}

pub async fn concurrent_updates_exactly_one_wins(b: &impl Backend) {
    let base = create(&*b.store(), record("race-update", "/v/a", T0)).await;
    let n = 10;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        // Each racer has its own connection / client, as separate worker processes would.
        let store = b.another().await;
        let barrier = barrier.clone();
        let mut mine = base.clone();
        mine.state = State::Triggering;
        mine.attempts = 100 + i as u32;
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.update(&mine).await
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => winners.push(r),
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, n - 1), "exactly one update wins, the rest conflict");
    let stored = b.store().get("race-update").await.unwrap().unwrap();
    assert_eq!(stored, winners[0], "the stored record is the winner's, with the winner's version");
}

pub async fn due_ordering_and_limit(b: &impl Backend) {
    let store = b.store();
    let now = T0 + Duration::hours(1);
    let plan = [
        ("d-late", Some(now - Duration::seconds(1)), State::Running),
        ("d-early", Some(now - Duration::minutes(30)), State::Accepted),
        ("d-mid", Some(now - Duration::minutes(10)), State::Triggering),
        ("d-exactly-now", Some(now), State::Received),
        ("d-future", Some(now + Duration::nanoseconds(1)), State::Running),
        ("d-unscheduled", None, State::Running),
    ];
    for (id, at, state) in plan {
        let mut r = record(id, "/v/a", T0);
        r.state = state;
        r.next_poll_at = at;
        create(&*store, r).await;
    }
    let due = store.due(now, 100).await.unwrap();
    assert_eq!(ids(&due), ["d-early", "d-mid", "d-late", "d-exactly-now"]);
    let due = store.due(now, 2).await.unwrap();
    assert_eq!(ids(&due), ["d-early", "d-mid"], "limit keeps the earliest");
    assert!(store.due(T0, 100).await.unwrap().is_empty());

    // Rescheduling moves a record to the back.
    let mut early = store.get("d-early").await.unwrap().unwrap();
    early.next_poll_at = Some(now);
    store.update(&early).await.unwrap();
    let due = store.due(now, 100).await.unwrap();
    assert_eq!(ids(&due), ["d-mid", "d-late", "d-early", "d-exactly-now"], "ties order by request id");
}

pub async fn terminal_records_are_not_due_once_published(b: &impl Backend) {
    let store = b.store();
    let now = T0 + Duration::hours(1);
    let past = Some(now - Duration::minutes(1));
    for (id, state, published) in [
        ("t-succeeded-published", State::Succeeded, true),
        ("t-rejected-published", State::Rejected, true),
        ("t-failed-unpublished", State::Failed, false),
        ("t-running", State::Running, false),
    ] {
        let mut r = record(id, "/v/a", T0);
        r.state = state;
        r.result_published = published;
        r.next_poll_at = past;
        create(&*store, r).await;
    }
    let due = store.due(now, 100).await.unwrap();
    assert_eq!(ids(&due), ["t-failed-unpublished", "t-running"]);

    // Publishing the result takes it out of the due set.
    let mut failed = store.get("t-failed-unpublished").await.unwrap().unwrap();
    failed.result_published = true;
    store.update(&failed).await.unwrap();
    assert_eq!(ids(&store.due(now, 100).await.unwrap()), ["t-running"]);
}

pub async fn a_record_rescheduled_later_is_not_due_before_its_time(b: &impl Backend) {
    let store = b.store();
    let now = T0 + Duration::hours(1);
    let mut r = record("resched", "/v/a", T0);
    r.state = State::Running;
    r.next_poll_at = Some(now - Duration::minutes(1));
    let r = create(&*store, r).await;
    assert_eq!(ids(&store.due(now, 10).await.unwrap()), ["resched"]);
    let later = now + Duration::minutes(5);
    store.update(&Record { next_poll_at: Some(later), ..r }).await.unwrap();
    assert!(store.due(now, 10).await.unwrap().is_empty());
    assert!(store.due(later - Duration::nanoseconds(1), 10).await.unwrap().is_empty());
    assert_eq!(ids(&store.due(later, 10).await.unwrap()), ["resched"]);
}

pub async fn count_active_per_vault(b: &impl Backend) {
    let store = b.store();
    let (va, vb) = ("/subscriptions/s/resourceGroups/rg-ü/providers/Microsoft.DataProtection/backupVaults/a", "/v/b");
    for (i, state) in State::ALL.into_iter().enumerate() {
        let mut r = record(&format!("a-{i}"), va, T0);
        r.state = state;
        create(&*store, r).await;
    }
    let mut r = record("b-0", vb, T0);
    r.state = State::Running;
    create(&*store, r).await;

    assert_eq!(store.count_active(va).await.unwrap(), 3, "Triggering, Accepted and Running count");
    assert_eq!(store.count_active(vb).await.unwrap(), 1);
    assert_eq!(store.count_active("/v/none").await.unwrap(), 0);
    assert_eq!(store.count_active(&va.to_uppercase()).await.unwrap(), 0, "vault ids match exactly");

    let running = State::ALL.iter().position(|s| *s == State::Running).unwrap();
    let mut r = store.get(&format!("a-{running}")).await.unwrap().unwrap();
    r.state = State::Succeeded;
    store.update(&r).await.unwrap();
    assert_eq!(store.count_active(va).await.unwrap(), 2, "an ended restore frees its slot");
}

pub async fn list_by_state_and_vault(b: &impl Backend) {
    let store = b.store();
    for (i, (state, vault)) in [
        (State::Running, "/v/a"),
        (State::Received, "/v/a"),
        (State::Running, "/v/b"),
        (State::Succeeded, "/v/a"),
        (State::Running, "/v/a"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = record(&format!("l-{i}"), vault, T0 + Duration::minutes(i as i64));
        r.state = state;
        create(&*store, r).await;
    }
    let running = store.list(&ListFilter::states([State::Running]), 100).await.unwrap();
    assert_eq!(ids(&running), ["l-4", "l-2", "l-0"], "newest first");
    let two = store.list(&ListFilter::states([State::Running, State::Received]), 2).await.unwrap();
    assert_eq!(ids(&two), ["l-4", "l-2"]);
    // Oldest first, with a limit: the oldest are not starved by fresh ones.
    let oldest = store.list(&ListFilter::states([State::Running]).oldest_first(), 2).await.unwrap();
    assert_eq!(ids(&oldest), ["l-0", "l-2"], "oldest first");
    let all = store.list(&ListFilter::all(), 100).await.unwrap();
    assert_eq!(ids(&all), ["l-4", "l-3", "l-2", "l-1", "l-0"]);
    let vault_a = ListFilter { states: vec![State::Running], vault_id: Some("/v/a".into()), oldest_first: false };
    assert_eq!(ids(&store.list(&vault_a, 100).await.unwrap()), ["l-4", "l-0"]);
    assert!(store.list(&ListFilter::states([State::TimedOut]), 100).await.unwrap().is_empty());
    assert_eq!(store.list(&ListFilter::all(), 100).await.unwrap()[0], store.get("l-4").await.unwrap().unwrap());
}

pub async fn corrupt_document_is_reported_and_skipped(b: &impl Backend) {
    let store = b.store();
    let now = T0 + Duration::hours(1);
    for id in ["bad/one ✗", "good"] {
        let mut r = record(id, "/v/a", T0);
        r.state = State::Running;
        r.next_poll_at = Some(now - Duration::minutes(1));
        create(&*store, r).await;
    }
    b.plant("bad/one ✗", b"{\"requestId\": \"bad/one \xe2\x9c\x97\", \"state\": \"Exploded\"").await;

    match store.get("bad/one ✗").await {
        Err(StoreError::Corrupt { request_id, message }) => {
            assert_eq!(request_id, "bad/one ✗", "the error names the request");
            assert!(!message.is_empty());
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // One bad document does not stop the tracker from seeing the others.
    assert_eq!(ids(&store.due(now, 10).await.unwrap()), ["good"]);
    assert_eq!(ids(&store.list(&ListFilter::all(), 10).await.unwrap()), ["good"]);
}

/// Request ids with characters that are special in URLs, paths, blob names or SQL.
pub fn awkward_ids() -> Vec<String> {
    vec![
        "a/b/c".into(),
        "/leading/and/trailing/".into(),
        "with  spaces and + plus".into(),
        "ünïcødé ✓ 日本語 🚀".into(),
        "..".into(),
        ".".into(),
        "ends.with.dot.".into(),
        "100%2F%20encoded?x=1&y=2#frag".into(),
        "quote'\"; DROP TABLE records; --".into(),
        "records/x.json".into(),
        "back\\slash".into(),
        "ÄÖÜ".repeat(66) + "ab", // 200 characters, 398 bytes
        "z".repeat(200),
    ]
}

pub async fn awkward_request_ids_round_trip(b: &impl Backend) {
    let store = b.store();
    let awkward = awkward_ids();
    assert_eq!(awkward[11].chars().count(), 200);
    for (i, id) in awkward.iter().enumerate() {
        let mut r = record(id, "/v/a", T0 + Duration::seconds(i as i64));
        r.source_reference = Some(id.clone());
        let created = create(&*store, r).await;
        let got = store.get(id).await.unwrap().unwrap_or_else(|| panic!("{id:?} not found"));
        assert_eq!(got, created, "{id:?}");
        let mut next = got.clone();
        next.state = State::Planned;
        let updated = store.update(&next).await.unwrap_or_else(|e| panic!("update {id:?}: {e}"));
        assert_eq!(store.get(id).await.unwrap().unwrap(), updated);
    }
    let listed = store.list(&ListFilter::all(), 100).await.unwrap();
    let mut listed: Vec<String> = listed.into_iter().map(|r| r.request_id).collect();
    listed.sort();
    let mut expected = awkward.clone();
    expected.sort();
    assert_eq!(listed, expected, "every id comes back exactly, and no id aliases another");
}

pub async fn unusable_request_ids_are_refused(b: &impl Backend) {
    let store = b.store();
    for id in [String::new(), "line\nbreak".into(), "x".repeat(restore_store::record::MAX_REQUEST_ID_BYTES + 1)] {
        match store.create(&record(&id, "/v/a", T0)).await {
            Err(StoreError::Invalid { field: "requestId", .. }) => {}
            other => panic!("expected Invalid for {id:?}, got {other:?}"),
        }
    }
    // The longest allowed id (4-byte characters) still fits the Blob store's name limit.
    let longest = "🚀".repeat(restore_store::record::MAX_REQUEST_ID_BYTES / 4);
    create(&*store, record(&longest, "/v/a", T0)).await;
    assert!(store.get(&longest).await.unwrap().is_some());
}

pub async fn slots_are_created_then_compare_and_swapped(b: &impl Backend) {
    let store = b.store();
    let key = "vault:/subscriptions/s/resourcegroups/g/providers/microsoft.dataprotection/backupvaults/v";
    let empty = store.slots(key).await.unwrap();
    assert_eq!(empty, restore_store::Slots::empty(key), "absent: empty and never stored");
    let mut mine = empty.clone();
    mine.holders.push(restore_store::Holder { request_id: "r-1".into(), since: T0 });
    let stored = store.put_slots(&mine).await.unwrap();
    assert!(!stored.version.is_empty());
    assert_eq!(store.slots(key).await.unwrap(), stored, "read back with its version");
    // Creating again over an existing document, or writing with a stale version, is a conflict.
    assert!(matches!(store.put_slots(&mine).await, Err(StoreError::Conflict { .. })));
    let mut next = stored.clone();
    next.holders.clear();
    let released = store.put_slots(&next).await.unwrap();
    assert_ne!(released.version, stored.version);
    assert!(matches!(store.put_slots(&stored).await, Err(StoreError::Conflict { .. })), "stale version");
    assert!(store.slots(key).await.unwrap().holders.is_empty());
    // Slot documents are not records.
    assert!(store.list(&ListFilter::all(), 100).await.unwrap().is_empty());
}

pub async fn documents_are_created_then_compare_and_swapped(b: &impl Backend) {
    let store = b.store();
    let key = "drill-run:nightly.20261205T023000Z";
    assert_eq!(store.document(key).await.unwrap(), None, "absent");
    let new =
        restore_store::Document { key: key.into(), version: String::new(), body: serde_json::json!({"items": [1]}) };
    let stored = store.put_document(&new).await.unwrap();
    assert!(!stored.version.is_empty());
    assert_eq!(store.document(key).await.unwrap(), Some(stored.clone()), "read back with its version");
    assert!(matches!(store.put_document(&new).await, Err(StoreError::Conflict { .. })), "created twice");
    let next = restore_store::Document { body: serde_json::json!({"items": [1, 2]}), ..stored.clone() };
    let updated = store.put_document(&next).await.unwrap();
    assert_ne!(updated.version, stored.version);
    assert!(matches!(store.put_document(&next).await, Err(StoreError::Conflict { .. })), "stale version");
    assert_eq!(store.document(key).await.unwrap().unwrap().body, serde_json::json!({"items": [1, 2]}));
    let too_long = restore_store::Document { key: "k".repeat(600), ..new.clone() };
    assert!(matches!(store.put_document(&too_long).await, Err(StoreError::Invalid { .. })));
    // Documents are not records.
    assert!(store.list(&ListFilter::all(), 100).await.unwrap().is_empty());
}

pub async fn concurrent_slot_takers_exactly_one_wins(b: &impl Backend) {
    let key = "item:/subscriptions/s/x";
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let store = b.another().await;
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut slots = store.slots(key).await.unwrap();
            slots.holders.push(restore_store::Holder { request_id: format!("r-{i}"), since: T0 });
            barrier.wait().await;
            store.put_slots(&slots).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(s) => winners.push(s),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one taker wins");
    assert_eq!(b.store().slots(key).await.unwrap(), winners[0]);
}
