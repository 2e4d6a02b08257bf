//! The embedded store: one SQLite file (the default, for local runs and single-machine use).
//!
//! * One row per request: the record as a JSON document (the source of truth on read) plus the columns the
//!   store queries on (state, vault, received/next-poll times, "open"), written by the same statement, so they
//!   never disagree with the document.
//! * Compare-and-swap is `UPDATE … WHERE request_id = ? AND version = ?`: SQLite serialises writers on the
//!   database file, so this is safe across connections and across processes (several intake workers on one
//!   file). `create` is `INSERT … ON CONFLICT DO NOTHING`.
//! * WAL journal (readers never block the writer), `synchronous = FULL` (a committed write-ahead survives a
//!   power cut, which invariant 1 relies on: the record must be durable before the restore POST), and a busy
//!   timeout so a writer waits for another process's write instead of failing. One exception: a record created
//!   already answered (a rejection) is committed with `synchronous = NORMAL` (no fsync; durable with the next
//!   synchronous commit): its fsync was most of a rejected message's time and all of its tail.
//! * rusqlite is blocking; every call runs on tokio's blocking pool so it never stalls the async runtime.
//! * The schema version lives in `PRAGMA user_version`; a file from a newer build is refused, not guessed at.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use time::OffsetDateTime;

use crate::error::{StoreError, check_request_id, display_id};
use crate::record::{Record, State};
use crate::slots::check_document_key;
use crate::store::Document;
use crate::store::{ListFilter, StateStore};

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// How long a write waits for another connection's write lock before reporting the store unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA_V1: &str = "
CREATE TABLE records (
    request_id   TEXT PRIMARY KEY NOT NULL,
    version      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    vault_id     TEXT NOT NULL,
    received_at  INTEGER NOT NULL,   -- unix nanoseconds
    next_poll_at INTEGER,            -- unix nanoseconds; NULL: not scheduled
    open         INTEGER NOT NULL,   -- 1 while Record::needs_tracking()
    document     TEXT NOT NULL       -- the record as JSON (without its version)
) STRICT;
-- due(): the partial index holds only the rows that can ever be due.
CREATE INDEX records_due ON records (next_poll_at) WHERE open = 1 AND next_poll_at IS NOT NULL;
-- count_active(): per vault and state.
CREATE INDEX records_vault_state ON records (vault_id, state);
-- list(): by state, newest first.
CREATE INDEX records_state_received ON records (state, received_at);
";

/// Version 2 adds the slot documents (a vault's concurrent restores, an item's one restore in flight).
const SCHEMA_V2: &str = "
CREATE TABLE slots (
    key      TEXT PRIMARY KEY NOT NULL,
    version  INTEGER NOT NULL,
    document TEXT NOT NULL       -- the Slots as JSON (without its version)
) STRICT;
";

/// The SQLite file could not be opened as a state store.
#[derive(Debug, thiserror::Error)]
pub enum SqliteOpenError {
    /// SQLite could not open or set up the file.
    #[error("cannot open the SQLite state store '{path}': {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// The file is a SQLite database but not one of ours.
    #[error(
        "'{path}' is a SQLite database that is not a restore state store (it has tables but no schema version); point RESTORE_SQLITE_PATH at a new file"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer build.
    #[error(
        "the SQLite state store '{path}' has schema version {found}, this build knows {SCHEMA_VERSION}: run the newer build, or point RESTORE_SQLITE_PATH at another file"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i32,
    },
    /// WAL could not be enabled (e.g. a file system without shared memory support).
    #[error("cannot enable the WAL journal on '{path}' (SQLite answered journal_mode={mode}); use a local disk")]
    NoWal {
        /// The file.
        path: PathBuf,
        /// What SQLite kept.
        mode: String,
    },
}

/// The embedded SQLite store. Cheap to clone (the connection is shared).
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    // One connection per store, used from the blocking pool one call at a time. Concurrency between processes
    // (and between stores opened on the same file) is SQLite's file locking; within a process a single writer
    // is plenty for the intake's volume.
    conn: Arc<Mutex<Connection>>,
}

/// How one attempt to open failed: busy or locked (worth another try) or anything else.
enum OpenAttempt {
    Busy(SqliteOpenError),
    Other(SqliteOpenError),
}
use OpenAttempt::{Busy, Other};

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`: sets WAL, durability and the busy timeout, and creates
    /// or checks the schema. Blocking; call it at startup (or from `spawn_blocking`).
    ///
    /// Two processes opening a new file at the same moment can get "database is locked" from the switch to WAL
    /// (SQLite does not always call the busy handler there), so a busy or locked open is retried whole, with
    /// backoff, for up to [`BUSY_TIMEOUT`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqliteOpenError> {
        let path = path.as_ref();
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            match Self::open_once(path) {
                Err(Busy(e)) if started.elapsed() + pause < BUSY_TIMEOUT => {
                    tracing::info!(path = %path.display(), error = %e, "state store busy while opening; retrying");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(500));
                }
                Err(Busy(e) | Other(e)) => return Err(e),
                Ok(store) => return Ok(store),
            }
        }
    }

    fn open_once(path: &Path) -> Result<SqliteStore, OpenAttempt> {
        let path = path.to_path_buf();
        let fail = |e: rusqlite::Error| {
            let busy = matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            );
            let error = SqliteOpenError::Open { path: path.clone(), message: e.to_string() };
            if busy { Busy(error) } else { Other(error) }
        };
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Other(SqliteOpenError::NoWal { path, mode }));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;

        // Schema check and creation in one write transaction, so two processes starting on a new file do not
        // both create it.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(fail)?;
        let version: i32 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(fail)?;
        match version {
            0 => {
                let tables: i64 =
                    tx.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0)).map_err(fail)?;
                if tables > 0 {
                    return Err(Other(SqliteOpenError::Foreign { path }));
                }
                tx.execute_batch(SCHEMA_V1).map_err(fail)?;
                tx.execute_batch(SCHEMA_V2).map_err(fail)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(fail)?;
            }
            // A file from the previous build: add what is new, keep every record.
            1 => {
                tx.execute_batch(SCHEMA_V2).map_err(fail)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(fail)?;
            }
            SCHEMA_VERSION => {}
            found => return Err(Other(SqliteOpenError::NewerSchema { path, found })),
        }
        tx.commit().map_err(fail)?;
        Ok(SqliteStore { path, conn: Arc::new(Mutex::new(conn)) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half-done SQLite transaction behind (SQLite rolls back an
            // unfinished statement), so a poisoned lock is still a usable connection.
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(|e| unavailable(format!("the SQLite worker task failed: {e}")))?
    }
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable { backend: "sqlite", message }
}

fn sql_error(e: rusqlite::Error) -> StoreError {
    unavailable(e.to_string())
}

/// Unix nanoseconds, the column form of a timestamp (integers sort and compare exactly, unlike text with
/// varying fractional digits).
fn nanos(t: OffsetDateTime, request_id: &str, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(|_| StoreError::Invalid {
        request_id: display_id(request_id),
        field,
        message: format!("{t} is outside the years 1678-2261 the store can index"),
    })
}

/// The column values derived from a record, plus its document.
struct Row {
    state: &'static str,
    received_at: i64,
    next_poll_at: Option<i64>,
    open: i64,
    document: String,
}

fn to_row(record: &Record) -> Result<Row, StoreError> {
    check_request_id(&record.request_id)?;
    let id = &record.request_id;
    let mut doc = record.clone();
    doc.version.clear();
    let document = serde_json::to_string(&doc).map_err(|e| StoreError::Invalid {
        request_id: display_id(id),
        field: "record",
        message: format!("does not serialise to JSON: {e}"),
    })?;
    Ok(Row {
        state: record.state.as_str(),
        received_at: nanos(record.received_at, id, "receivedAt")?,
        next_poll_at: record.next_poll_at.map(|t| nanos(t, id, "nextPollAt")).transpose()?,
        open: i64::from(record.needs_tracking()),
        document,
    })
}

fn from_row(request_id: &str, version: i64, document: &str) -> Result<Record, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { request_id: request_id.to_string(), message };
    let mut record: Record = serde_json::from_str(document).map_err(|e| corrupt(e.to_string()))?;
    if record.request_id != request_id {
        return Err(corrupt(format!("the document names request '{}'", display_id(&record.request_id))));
    }
    record.version = version.to_string();
    Ok(record)
}

fn select_one(conn: &Connection, request_id: &str) -> Result<Option<Record>, StoreError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT version, document FROM records WHERE request_id = ?1")
        .and_then(|mut st| st.query_row(params![request_id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(sql_error)?;
    row.map(|(version, document)| from_row(request_id, version, &document)).transpose()
}

/// Reads `(request_id, version, document)` rows; documents that do not parse are logged and skipped, so one bad
/// row cannot stop the tracker from seeing every other record.
fn collect_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let id: String = row.get(0).map_err(sql_error)?;
        let version: i64 = row.get(1).map_err(sql_error)?;
        let document: String = row.get(2).map_err(sql_error)?;
        match from_row(&id, version, &document) {
            Ok(record) => out.push(record),
            Err(e) => tracing::error!(error = %e, "skipping a corrupt record in the SQLite state store"),
        }
    }
    Ok(out)
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Inserts `stored` unless its request id exists; returns it with its first version, or `AlreadyExists`.
fn insert(conn: &Connection, mut stored: Record, row: &Row) -> Result<Record, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO records (request_id, version, state, vault_id, received_at, next_poll_at, open, document)
             VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (request_id) DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                stored.request_id,
                row.state,
                stored.vault_id,
                row.received_at,
                row.next_poll_at,
                row.open,
                row.document
            ])
        })
        .map_err(sql_error)?;
    if inserted == 1 {
        stored.version = "1".into();
        return Ok(stored);
    }
    // Records are never deleted, so the conflicting row is still there to report.
    match select_one(conn, &stored.request_id)? {
        Some(existing) => Err(StoreError::AlreadyExists { existing: Box::new(existing) }),
        None => Err(unavailable(format!(
            "the insert of request '{}' conflicted but no row was found; retry",
            display_id(&stored.request_id)
        ))),
    }
}

/// The `list` statement for `filter`'s shape.
fn list_statement(filter: &ListFilter) -> &'static str {
    // One constant statement per filter shape rather than spliced SQL: each stays cacheable, and the
    // state filter is a plain `IN`, which the (state, received_at) index serves; an `?1 = '[]' OR …`
    // form would make SQLite scan and sort the whole table on every call. All four take the same three
    // parameters; without a state filter ?1 is simply unused.
    match (filter.states.is_empty(), filter.oldest_first) {
        (true, true) => {
            "SELECT request_id, version, document FROM records
             WHERE (?2 IS NULL OR vault_id = ?2)
             ORDER BY received_at ASC, request_id LIMIT ?3"
        }
        (true, false) => {
            "SELECT request_id, version, document FROM records
             WHERE (?2 IS NULL OR vault_id = ?2)
             ORDER BY received_at DESC, request_id LIMIT ?3"
        }
        (false, true) => {
            "SELECT request_id, version, document FROM records
             WHERE state IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR vault_id = ?2)
             ORDER BY received_at ASC, request_id LIMIT ?3"
        }
        (false, false) => {
            "SELECT request_id, version, document FROM records
             WHERE state IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR vault_id = ?2)
             ORDER BY received_at DESC, request_id LIMIT ?3"
        }
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn create(&self, record: &Record) -> Result<Record, StoreError> {
        let row = to_row(record)?;
        let stored = record.clone();
        // A record created already answered (a rejection whose result goes out with this very answer) is
        // committed without waiting for the disk: on a power cut it can only be lost together with nothing
        // else (its result is the caller's answer; no restore hangs on it), and the next synchronous commit
        // makes it durable too, the WAL being one file synced as a whole. Everything else waits for the fsync.
        let relaxed = record.state.is_terminal() && record.result_published;
        self.run(move |conn| {
            if relaxed {
                conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql_error)?;
            }
            let inserted = insert(conn, stored, &row);
            if relaxed {
                conn.pragma_update(None, "synchronous", "FULL").map_err(sql_error)?;
            }
            inserted
        })
        .await
    }

    async fn get(&self, request_id: &str) -> Result<Option<Record>, StoreError> {
        let id = request_id.to_string();
        self.run(move |conn| select_one(conn, &id)).await
    }

    async fn update(&self, record: &Record) -> Result<Record, StoreError> {
        let row = to_row(record)?;
        let mut stored = record.clone();
        self.run(move |conn| {
            let conflict = || StoreError::Conflict { request_id: stored.request_id.clone() };
            // A version that is not ours (not a number) can never match; still tell NotFound from Conflict.
            let expected: Option<i64> = stored.version.parse().ok();
            let changed = match expected {
                Some(expected) => conn
                    .prepare_cached(
                        "UPDATE records SET version = version + 1, state = ?3, vault_id = ?4, received_at = ?5,
                                next_poll_at = ?6, open = ?7, document = ?8
                         WHERE request_id = ?1 AND version = ?2",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            stored.request_id,
                            expected,
                            row.state,
                            stored.vault_id,
                            row.received_at,
                            row.next_poll_at,
                            row.open,
                            row.document
                        ])
                    })
                    .map_err(sql_error)?,
                None => 0,
            };
            if changed == 1 {
                // The row's version is now expected + 1: nobody else could have written between (the UPDATE
                // matched on the old version and SQLite serialises writers).
                stored.version = (expected.unwrap_or_default() + 1).to_string();
                return Ok(stored);
            }
            let exists: Option<i64> = conn
                .prepare_cached("SELECT 1 FROM records WHERE request_id = ?1")
                .and_then(|mut st| st.query_row(params![stored.request_id], |r| r.get(0)).optional())
                .map_err(sql_error)?;
            match exists {
                Some(_) => Err(conflict()),
                None => Err(StoreError::NotFound { request_id: stored.request_id.clone() }),
            }
        })
        .await
    }

    async fn due(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Record>, StoreError> {
        // Clamp rather than fail: a `now` beyond the indexable range means "everything scheduled is due".
        let now = i64::try_from(now.unix_timestamp_nanos()).unwrap_or(if now.year() > 0 { i64::MAX } else { i64::MIN });
        self.run(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT request_id, version, document FROM records
                     WHERE open = 1 AND next_poll_at IS NOT NULL AND next_poll_at <= ?1
                     ORDER BY next_poll_at, request_id LIMIT ?2",
                )
                .map_err(sql_error)?;
            collect_rows(st.query(params![now, limit_param(limit)]).map_err(sql_error)?)
        })
        .await
    }

    async fn list(&self, filter: &ListFilter, limit: usize) -> Result<Vec<Record>, StoreError> {
        let filter = filter.clone();
        self.run(move |conn| {
            // States are bound as a JSON array (json_each) rather than spliced into the SQL text.
            let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
            let states = serde_json::to_string(&states).map_err(|e| unavailable(e.to_string()))?;
            let sql = list_statement(&filter);
            let mut st = conn.prepare_cached(sql).map_err(sql_error)?;
            collect_rows(st.query(params![states, filter.vault_id, limit_param(limit)]).map_err(sql_error)?)
        })
        .await
    }

    async fn count_active(&self, vault_id: &str) -> Result<usize, StoreError> {
        let vault_id = vault_id.to_string();
        self.run(move |conn| {
            let [a, b, c] = State::ACTIVE.map(State::as_str);
            let n: i64 = conn
                .prepare_cached("SELECT count(*) FROM records WHERE vault_id = ?1 AND state IN (?2, ?3, ?4)")
                .and_then(|mut st| st.query_row(params![vault_id, a, b, c], |r| r.get(0)))
                .map_err(sql_error)?;
            Ok(usize::try_from(n).unwrap_or_default())
        })
        .await
    }

    async fn document(&self, key: &str) -> Result<Option<Document>, StoreError> {
        let key = key.to_string();
        self.run(move |conn| {
            let row = conn
                .prepare_cached("SELECT version, document FROM slots WHERE key = ?1")
                .and_then(|mut st| {
                    st.query_row(params![key], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))).optional()
                })
                .map_err(sql_error)?;
            let Some((version, document)) = row else { return Ok(None) };
            let body = serde_json::from_str(&document)
                .map_err(|e| StoreError::Corrupt { request_id: display_id(&key), message: e.to_string() })?;
            Ok(Some(Document { key, version: version.to_string(), body }))
        })
        .await
    }

    async fn put_document(&self, doc: &Document) -> Result<Document, StoreError> {
        check_document_key(&doc.key)?;
        let document = doc.body.to_string();
        let (key, expected) = (doc.key.clone(), doc.version.clone());
        let stored = self
            .run(move |conn| {
                let changed = if expected.is_empty() {
                    conn.execute(
                        "INSERT INTO slots (key, version, document) VALUES (?1, 1, ?2) ON CONFLICT DO NOTHING",
                        params![key, document],
                    )
                } else {
                    let Ok(expected) = expected.parse::<i64>() else {
                        return Ok(None);
                    };
                    conn.execute(
                        "UPDATE slots SET version = version + 1, document = ?2 WHERE key = ?1 AND version = ?3",
                        params![key, document, expected],
                    )
                }
                .map_err(sql_error)?;
                if changed == 0 {
                    return Ok(None);
                }
                conn.query_row("SELECT version FROM slots WHERE key = ?1", params![key], |row| row.get::<_, i64>(0))
                    .map(Some)
                    .map_err(sql_error)
            })
            .await?;
        match stored {
            Some(version) => Ok(Document { version: version.to_string(), ..doc.clone() }),
            None => Err(StoreError::Conflict { request_id: doc.key.clone() }),
        }
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(store: &SqliteStore) -> i64 {
        let conn = store.conn.lock().unwrap();
        conn.pragma_query_value(None, "synchronous", |row| row.get(0)).unwrap()
    }

    #[test]
    fn listing_by_state_uses_the_index_instead_of_scanning_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("state.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        for filter in [ListFilter::states([State::Triggering]), ListFilter::states([State::Triggering]).oldest_first()]
        {
            let sql = format!("EXPLAIN QUERY PLAN {}", list_statement(&filter));
            let mut st = conn.prepare(&sql).unwrap();
            let plan: Vec<String> = st
                .query_map(params![r#"["Triggering"]"#, None::<String>, 10], |row| row.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(plan.iter().any(|p| p.contains("records_state_received")), "{plan:?}");
            assert!(!plan.iter().any(|p| p.starts_with("SCAN records")), "{plan:?}");
        }
    }

    #[tokio::test]
    async fn an_answered_record_is_committed_relaxed_and_the_connection_stays_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("state.db")).unwrap();
        const FULL: i64 = 2;
        assert_eq!(synchronous(&store), FULL);
        let now = OffsetDateTime::now_utc();
        let mut rejected =
            Record::received("rejected-1", "diskToNewDisk", "vault", "item", serde_json::Value::Null, now);
        rejected.state = State::Rejected;
        rejected.result_published = true;
        store.create(&rejected).await.unwrap();
        assert_eq!(synchronous(&store), FULL, "the next write (a write-ahead, say) waits for the disk again");
        // Also after the relaxed insert fails (the record exists).
        assert!(matches!(store.create(&rejected).await, Err(StoreError::AlreadyExists { .. })));
        assert_eq!(synchronous(&store), FULL);
        let received = Record::received("received-1", "diskToNewDisk", "vault", "item", serde_json::Value::Null, now);
        store.create(&received).await.unwrap();
        assert_eq!(synchronous(&store), FULL);
        assert_eq!(store.get("rejected-1").await.unwrap().unwrap().state, State::Rejected);
    }
}
