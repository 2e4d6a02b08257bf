//! The contract suite against the SQLite store, plus what only SQLite has: the schema check and several
//! connections (worker processes) on one file.

#[macro_use]
mod common;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use common::Backend;
use restore_store::StateStore;
use restore_store::sqlite::{SqliteOpenError, SqliteStore};

struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Arc<SqliteStore>,
}

async fn setup() -> Sqlite {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    Sqlite { _dir: dir, path, store }
}

#[async_trait]
impl Backend for Sqlite {
    fn store(&self) -> Arc<dyn StateStore> {
        self.store.clone()
    }

    async fn another(&self) -> Arc<dyn StateStore> {
        // A second store on the same file has its own connection: the locking a second process would see.
        let path = self.path.clone();
        Arc::new(tokio::task::spawn_blocking(move || SqliteStore::open(path)).await.unwrap().unwrap())
    }

    async fn plant(&self, request_id: &str, bytes: &[u8]) {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let n = conn
            .execute(
                "UPDATE records SET document = ?1 WHERE request_id = ?2",
                rusqlite::params![String::from_utf8_lossy(bytes), request_id],
            )
            .unwrap();
        assert_eq!(n, 1, "plant needs an existing row");
    }
}

contract_tests!(setup);

#[test]
fn the_file_is_wal_with_a_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(SqliteStore::open(&path).unwrap());
    // Reopening an existing store works (the schema is checked, not recreated).
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let version: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), version), ("wal", restore_store::sqlite::SCHEMA_VERSION));
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT request_id FROM records WHERE open = 1 AND next_poll_at IS NOT NULL AND next_poll_at <= 5 ORDER BY next_poll_at LIMIT 3",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("records_due"), "the due query uses its index: {plan}");
}

#[test]
fn newer_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer).unwrap());
    rusqlite::Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = SqliteStore::open(&newer).unwrap_err();
    assert!(matches!(err, SqliteOpenError::NewerSchema { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("RESTORE_SQLITE_PATH"), "{err}");

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    assert!(matches!(SqliteStore::open(&foreign), Err(SqliteOpenError::Foreign { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_survive_reopening() {
    let backend = setup().await;
    let created = backend.store.create(&common::full_record("durable")).await.unwrap();
    let path = backend.path.clone();
    drop(backend.store);
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.get("durable").await.unwrap().unwrap(), created);
}

/// Intake and tracker starting on a new file at the same moment: every open succeeds (a busy or locked switch
/// to WAL is retried), and the schema is created once. Without the retry this failed about once in 45 paired
/// cold starts; here 40 rounds of 6 simultaneous opens make the collision near certain.
#[test]
fn simultaneous_opens_of_a_new_file_all_succeed() {
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    SqliteStore::open(&path).map(|_| ())
                })
            })
            .collect();
        for open in opens {
            let result = open.join().expect("no panic");
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
    }
}
