//! `restorectl status` and `list` against a real SQLite state store that the test fills through
//! `restore_store::SqliteStore`, the same code the function apps write with.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, restorectl, run};
use restore_store::{Reason, Record, SqliteStore, State, StateStore};
use serde_json::json;
use time::macros::datetime;

const DISK_VAULT: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks";
const VM_VAULT: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms";
const JOB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupJobs/c4bd49a1-0000-4000-8000-000000000001";

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: SqliteStore,
}

/// Three records: a running disk restore (oldest), a failed VM restore, a just-received one (newest).
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();

    let t0 = datetime!(2026-05-01 09:00:00 UTC);
    let mut running = Record::received("ticket-INC1", "diskToNewDisk", DISK_VAULT, "bi-1", json!({"v": 1}), t0);
    running.source_reference = Some("INC1".into());
    let mut running = store.create(&running).await.unwrap();
    running.state = State::Running;
    running.triggered_at = Some(t0 + time::Duration::seconds(2));
    running.job_started_at = Some(t0 + time::Duration::seconds(5));
    running.job_id = Some(JOB.into());
    running.recovery_point_id = Some("a3d02fc3ab8a4c3a8cc26688c26d3356".into());
    running.updated_at = t0 + time::Duration::seconds(5);
    store.update(&running).await.unwrap();

    let t1 = t0 + time::Duration::minutes(1);
    let failed = Record::received("ticket-INC2", "vmRestoreDisks", VM_VAULT, "item-2", json!({"v": 2}), t1);
    let mut failed = store.create(&failed).await.unwrap();
    failed.state = State::Failed;
    failed.reason =
        Some(Reason { code: "UserErrorStagingAccountMissing".into(), message: "the staging account is gone".into() });
    failed.result_published = true;
    store.update(&failed).await.unwrap();

    let t2 = t0 + time::Duration::minutes(2);
    store
        .create(&Record::received("ticket-INC3", "diskToNewDisk", DISK_VAULT, "bi-3", json!({"v": 3}), t2))
        .await
        .unwrap();
    Fixture { _dir: dir, path, store }
}

fn with_store(path: &Path, args: &[&str]) -> Run {
    let mut command = restorectl(args);
    command.arg("--sqlite").arg(path);
    run(&mut command)
}

#[tokio::test]
async fn status_summarises_a_record_for_a_person() {
    let f = fixture().await;
    let out = with_store(&f.path, &["status", "ticket-INC1"]);
    assert_eq!(out.code, 0, "{out:?}");
    for expected in [
        "request id      ticket-INC1\n",
        "state           Running\n",
        "kind            diskToNewDisk\n",
        &format!("vault           bv-disks ({DISK_VAULT})\n"),
        "source          INC1\n",
        "received        2026-05-01T09:00:00Z\n",
        "triggered       2026-05-01T09:00:02Z\n",
        "job started     2026-05-01T09:00:05Z\n",
        &format!("job id          {JOB}\n"),
        "recovery point  a3d02fc3ab8a4c3a8cc26688c26d3356\n",
    ] {
        assert!(out.stdout.contains(expected), "missing {expected:?} in:\n{}", out.stdout);
    }

    let out = with_store(&f.path, &["status", "ticket-INC2"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("state           Failed (final)\n"), "{}", out.stdout);
    assert!(out.stdout.contains("vault           rsv-vms"), "{}", out.stdout);
    assert!(
        out.stdout.contains("reason          UserErrorStagingAccountMissing: the staging account is gone\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("job id          -\n"), "{}", out.stdout);
}

#[tokio::test]
async fn status_json_is_the_stored_record() {
    let f = fixture().await;
    let out = with_store(&f.path, &["--json", "status", "ticket-INC2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let printed: Record = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, f.store.get("ticket-INC2").await.unwrap().unwrap());
}

#[tokio::test]
async fn an_unknown_request_id_exits_1_and_says_where_it_looked() {
    let f = fixture().await;
    let out = with_store(&f.path, &["status", "ticket-NOPE"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(out.stderr.contains("no record for request id 'ticket-NOPE'"), "{}", out.stderr);
    assert!(out.stderr.contains(f.path.to_str().unwrap()), "{}", out.stderr);
}

#[tokio::test]
async fn list_is_a_table_newest_first_filtered_by_state() {
    let f = fixture().await;
    let out = with_store(&f.path, &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(lines[0].starts_with("RECEIVED (UTC)") && lines[0].ends_with("REQUEST ID"), "{}", lines[0]);
    let ids: Vec<&str> = lines[1..].iter().map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(ids, ["ticket-INC3", "ticket-INC2", "ticket-INC1"]);
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["2026-05-01T09:01:00Z", "Failed", "vmRestoreDisks", "rsv-vms", "2026-05-01T09:01:00Z", "ticket-INC2"]
    );

    // States in any case, repeatable.
    let out = with_store(&f.path, &["list", "--state", "running", "--state", "FAILED"]);
    assert_eq!(out.code, 0, "{out:?}");
    let ids: Vec<&str> = out.stdout.lines().skip(1).map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(ids, ["ticket-INC2", "ticket-INC1"]);

    let out = with_store(&f.path, &["list", "--limit", "1"]);
    assert!(out.stdout.contains("ticket-INC3") && !out.stdout.contains("ticket-INC2"), "{}", out.stdout);
    assert!(out.stdout.contains("raise --limit"), "{}", out.stdout);

    let out = with_store(&f.path, &["list", "--vault", VM_VAULT]);
    let ids: Vec<&str> = out.stdout.lines().skip(1).map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(ids, ["ticket-INC2"]);

    let out = with_store(&f.path, &["list", "--state", "Cancelled"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("no records match"), "{}", out.stdout);

    let out = with_store(&f.path, &["list", "--state", "Done"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("NeedsAttention"), "{}", out.stderr);
}

#[tokio::test]
async fn list_json_is_the_stored_records() {
    let f = fixture().await;
    let out = with_store(&f.path, &["--json", "list", "--state", "Received", "--state", "Running"]);
    assert_eq!(out.code, 0, "{out:?}");
    let printed: Vec<Record> = serde_json::from_str(&out.stdout).unwrap();
    let stored = f.store.list(&restore_store::ListFilter::states([State::Received, State::Running]), 50).await.unwrap();
    assert_eq!(printed, stored);
    assert_eq!(printed.len(), 2);
}

#[tokio::test]
async fn the_store_comes_from_the_function_apps_settings_too() {
    let f = fixture().await;
    let out = run(restorectl(["status", "ticket-INC1"]).env("RESTORE_SQLITE_PATH", &f.path));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("state           Running"), "{}", out.stdout);

    let out = run(restorectl(["list"]).env("RESTORE_STORE", "cosmos"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("RESTORE_STORE='cosmos'"), "{}", out.stderr);

    let out = run(&mut restorectl(["list", "--blob-container-url", "http://acct.blob.core.windows.net/c"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("https") && out.stderr.contains("--blob-container-url"), "{}", out.stderr);
}

#[test]
fn a_missing_sqlite_file_is_an_error_not_a_new_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let out = with_store(&missing, &["list"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no state store") && out.stderr.contains("--sqlite"), "{}", out.stderr);
    assert!(!missing.exists(), "restorectl created {}", missing.display());
}

#[tokio::test]
async fn reindex_makes_records_an_older_intake_left_findable_by_the_tracker() {
    let f = fixture().await;
    let far = datetime!(2030-01-01 00:00:00 UTC);
    // ticket-INC3 is Received without next_poll_at, as an intake before takeover stamping left it: never due.
    let before = f.store.due(far, 100).await.unwrap();
    assert!(before.iter().all(|r| r.request_id != "ticket-INC3"), "{before:?}");
    let run = with_store(&f.path, &["reindex", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(out["stamped"], 1, "{out}");
    let left = f.store.get("ticket-INC3").await.unwrap().unwrap();
    assert_eq!(left.next_poll_at, Some(left.updated_at), "due from its last write");
    assert!(f.store.due(far, 100).await.unwrap().iter().any(|r| r.request_id == "ticket-INC3"));
    // Running and ended records are not touched; a second run has nothing to do.
    let again = with_store(&f.path, &["reindex", "--json"]);
    let out: serde_json::Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(out["stamped"], 0, "{out}");
}
