//! Where a rejected message's time goes (issue 15 item 6: p99 ≤ 1 ms one at a time).
//!
//! The intake is a separate process, so its parts are timed from outside without changing product code:
//!
//! * **host round trip** (end to end): the same envelope POSTed to a function the intake does not register; the
//!   runtime reads the body and answers 404. Connection, chunked body, routing and the answer: the protocol
//!   alone, no handler work.
//! * **in-process**, with the library crates the intake links, on the same message bytes: the envelope decode
//!   (custom-handler), the message decode (restore-contract), the policy (deadline check and `Policy::check`
//!   with the bench policy), the record and result built as the intake builds a refused request's, and the two
//!   store calls the intake makes for it (`get`, absent, then `write::create`) on a store of the same kind.
//! * **fsync**, reported apart from the commit: the same commits on tmpfs (`/dev/shm`), where fsync returns at
//!   once, give the commit without it; a bare `fsync` after a 4 KiB append in the store's directory is shown next
//!   to it (SQLite's bundled build has no `HAVE_FDATASYNC`, so it calls `fsync`). The three are timed in turn
//!   for each message, so that they see the same disk load.
//! * **rest** = end-to-end p50 minus the parts' p50s: the runtime's dispatch, the answer's encoding, the
//!   tokio blocking-pool hand-offs and scheduling. Percentiles do not add, so the rest is given at p50 only.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use custom_handler::{FromInvocation, InvocationRequest, ServiceBusMessage};
use restore_contract::request::RestoreRequest;
use restore_contract::result::Reason as ResultReason;
use restore_contract::{Incoming, Policy, classify_with_limit};
use restore_store::{Record, StateStore, write};
use serde_json::{Value, json};

use crate::R;
use crate::report::{Row, Stats};

/// The in-process parts that do not depend on the store.
pub struct CpuParts {
    pub envelope: Vec<Duration>,
    pub message: Vec<Duration>,
    pub policy: Vec<Duration>,
    pub build: Vec<Duration>,
    /// The records built, for the store part.
    pub records: Vec<Record>,
}

/// Times envelope decode, message decode, policy and record building on each of `messages` (host envelope bytes
/// and the message body they carry), as the intake does them for a request the policy refuses.
pub fn cpu_parts(envelopes: &[Vec<u8>], policy: &Policy) -> R<CpuParts> {
    let mut parts = CpuParts {
        envelope: Vec::new(),
        message: Vec::new(),
        policy: Vec::new(),
        build: Vec::new(),
        records: Vec::new(),
    };
    for envelope in envelopes {
        let t = Instant::now();
        let invocation = InvocationRequest::parse(envelope).map_err(|e| format!("envelope: {e}"))?;
        let message =
            ServiceBusMessage::from_invocation("message", &invocation).map_err(|e| format!("envelope: {e}"))?;
        parts.envelope.push(t.elapsed());

        let t = Instant::now();
        let request = match classify_with_limit(&message.body, policy.max_message_bytes) {
            Ok(Incoming::Request(request)) => *request,
            other => return Err(format!("the bench message does not decode as a request: {other:?}")),
        };
        parts.message.push(t.elapsed());

        let t = Instant::now();
        let now = time::OffsetDateTime::now_utc();
        let refusal = match restore_workflow::intake::time_problem(&request, now) {
            Some(reason) => reason,
            // maxConcurrentRestoresPerVault is above what the product tracks: no slot read, 0 active.
            None => match policy.check(&request, 0) {
                Err(r) if !r.retryable => ResultReason::from(&r),
                other => return Err(format!("the bench policy does not refuse the message: {other:?}")),
            },
        };
        parts.policy.push(t.elapsed());

        let t = Instant::now();
        let record = rejected_record(&request, refusal, now);
        // The answer the intake puts in its `results` output.
        let answer = record.result.as_ref().map(|r| r.to_string()).unwrap_or_default();
        parts.build.push(t.elapsed());
        std::hint::black_box(answer);
        parts.records.push(record);
    }
    Ok(parts)
}

/// The record the intake stores for a refused new request (the intake's own functions).
fn rejected_record(request: &RestoreRequest, reason: ResultReason, now: time::OffsetDateTime) -> Record {
    let id = request.request_id.clone().unwrap_or_default();
    let mut record = restore_workflow::intake::new_record(&id, request, 1, now);
    restore_workflow::intake::reject(&mut record, reason);
    record
}

/// The intake's two store calls for one refused request: `get` (absent), then `write::create`.
async fn store_calls(store: &dyn StateStore, record: &Record) -> R<(Duration, Duration)> {
    let t = Instant::now();
    let existing = store.get(&record.request_id).await.map_err(|e| format!("store get: {e}"))?;
    let read = t.elapsed();
    if existing.is_some() {
        return Err(format!("breakdown: record {} already exists", record.request_id));
    }
    let t = Instant::now();
    write::create(store, record).await.map_err(|e| format!("store create: {e}"))?;
    Ok((read, t.elapsed()))
}

/// The intake's store calls for each record: read and commit times.
pub async fn store_parts(store: &dyn StateStore, records: &[Record]) -> R<(Vec<Duration>, Vec<Duration>)> {
    let (mut reads, mut commits) = (Vec::new(), Vec::new());
    for record in records {
        let (read, commit) = store_calls(store, record).await?;
        reads.push(read);
        commits.push(commit);
    }
    Ok((reads, commits))
}

/// A file in the store's directory that a bare fsync is timed on: a 4 KiB append, then `fsync`.
struct FsyncProbe {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl FsyncProbe {
    fn create(dir: &Path) -> R<FsyncProbe> {
        let path = dir.join("bench-fsync.bin");
        let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(FsyncProbe { file, path })
    }

    fn time(&mut self) -> R<Duration> {
        self.file.write_all(&[0x5a_u8; 4096]).map_err(|e| format!("{}: {e}", self.path.display()))?;
        let t = Instant::now();
        self.file.sync_all().map_err(|e| format!("fsync {}: {e}", self.path.display()))?;
        Ok(t.elapsed())
    }
}

/// The SQLite part: the same commits on disk (next to the handlers' file) and on tmpfs, and bare fsyncs.
pub struct SqliteParts {
    pub reads: Vec<Duration>,
    pub commits: Vec<Duration>,
    /// `None` without a tmpfs at /dev/shm.
    pub commits_tmpfs: Option<Vec<Duration>>,
    pub fsyncs: Vec<Duration>,
}

/// For each record in turn: the store calls on disk, the same on tmpfs, a bare fsync. Interleaved, so that the
/// three see the same disk load (other processes' writes on a shared machine move fsync times by milliseconds).
pub async fn sqlite_parts(dir: &Path, records: &[Record]) -> R<SqliteParts> {
    let open = |path: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || restore_store::SqliteStore::open(path))
            .await
            .map_err(|e| format!("open task: {e}"))?
            .map_err(|e| e.to_string())
    };
    let disk = open(dir.join("breakdown.db")).await?;
    // Kept until the end: the directory goes with it.
    let shm = tempfile::Builder::new().prefix("restore-bench-").tempdir_in("/dev/shm").ok();
    let tmpfs = match &shm {
        Some(d) => Some(open(d.path().join("breakdown.db")).await?),
        None => None,
    };
    let mut probe = FsyncProbe::create(dir)?;
    let mut parts = SqliteParts {
        reads: Vec::new(),
        commits: Vec::new(),
        commits_tmpfs: tmpfs.as_ref().map(|_| Vec::new()),
        fsyncs: Vec::new(),
    };
    for record in records {
        let (read, commit) = store_calls(&disk, record).await?;
        parts.reads.push(read);
        parts.commits.push(commit);
        if let (Some(store), Some(times)) = (&tmpfs, parts.commits_tmpfs.as_mut()) {
            times.push(store_calls(store, record).await?.1);
        }
        parts.fsyncs.push(probe.time()?);
    }
    Ok(parts)
}

/// Milliseconds with three decimals: the in-process parts take microseconds, which two decimals round to 0.
fn ms3(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn p50_p99(s: &Stats) -> String {
    format!("p50 {} ms, p99 {} ms", ms3(s.p50), ms3(s.p99))
}

/// The rows for one store: `e2e` is the end-to-end run of the same messages one at a time, `round_trip` the
/// host round trip alone, `reads`/`commits` the store calls on this store, `fsync` the SQLite-only extras.
pub struct Inputs<'a> {
    pub store: &'a str,
    pub e2e: Stats,
    pub round_trip: &'a [Duration],
    pub cpu: &'a CpuParts,
    pub reads: &'a [Duration],
    pub commits: &'a [Duration],
    pub commits_tmpfs: Option<&'a [Duration]>,
    pub fsyncs: Option<&'a [Duration]>,
}

pub fn rows(i: &Inputs, rows: &mut Vec<Row>) -> Value {
    let n = i.cpu.records.len();
    let what = |part: &str| format!("intake breakdown, rejected message one at a time ({}, {n}): {part}", i.store);
    let (rt, env, msg, pol, build, read, commit) = (
        Stats::of(i.round_trip),
        Stats::of(&i.cpu.envelope),
        Stats::of(&i.cpu.message),
        Stats::of(&i.cpu.policy),
        Stats::of(&i.cpu.build),
        Stats::of(i.reads),
        Stats::of(i.commits),
    );
    rows.push(Row::new(
        what("host round trip, end to end (same envelope to an unregistered function: body read, 404)"),
        p50_p99(&rt),
        "–",
        None,
    ));
    let decode: Vec<Duration> = i.cpu.envelope.iter().zip(&i.cpu.message).map(|(a, b)| *a + *b).collect();
    rows.push(Row::new(
        what("decode, in-process (host envelope: custom-handler; message: restore-contract)"),
        format!("{} (envelope p50 {} ms, message p50 {} ms)", p50_p99(&Stats::of(&decode)), ms3(env.p50), ms3(msg.p50)),
        "–",
        None,
    ));
    rows.push(Row::new(what("policy, in-process (deadline check + Policy::check)"), p50_p99(&pol), "–", None));
    rows.push(Row::new(what("record and answer built, in-process (JSON)"), p50_p99(&build), "–", None));
    rows.push(Row::new(what("store read, record absent, in-process"), p50_p99(&read), "–", None));
    let commit_what = if i.fsyncs.is_some() {
        "store commit, in-process (write::create, synchronous = FULL)"
    } else {
        "store commit, in-process (write::create: Put Blob If-None-Match)"
    };
    rows.push(Row::new(what(commit_what), p50_p99(&commit), "–", None));
    let mut fsync_json = Value::Null;
    if let Some(fsyncs) = i.fsyncs {
        let bare = Stats::of(fsyncs);
        let measured = match i.commits_tmpfs.map(Stats::of) {
            Some(tmpfs) => format!(
                "p50 ≈ {} ms, p99 ≈ {} ms of the commit (the same commits on tmpfs: {}); a bare fsync after a 4 KiB append: {}",
                ms3(commit.p50.saturating_sub(tmpfs.p50)),
                ms3(commit.p99.saturating_sub(tmpfs.p99)),
                p50_p99(&tmpfs),
                p50_p99(&bare)
            ),
            None => format!("a bare fsync after a 4 KiB append: {} (no tmpfs at /dev/shm)", p50_p99(&bare)),
        };
        rows.push(Row::new(what("of which fsync, in-process (commit on disk − on tmpfs)"), measured, "–", None));
        fsync_json =
            json!({"bareFsyncMs": bare.json_ms(), "commitTmpfsMs": i.commits_tmpfs.map(|c| Stats::of(c).json_ms())});
    }
    let parts = rt.p50 + env.p50 + msg.p50 + pol.p50 + build.p50 + read.p50 + commit.p50;
    let rest = i.e2e.p50.as_secs_f64() * 1e3 - parts.as_secs_f64() * 1e3;
    rows.push(Row::new(
        what("rest: end-to-end p50 − the parts' p50s (runtime dispatch, answer encoding, thread hand-offs)"),
        format!("p50 ≈ {rest:.3} ms of {} ms end to end", ms3(i.e2e.p50)),
        "–",
        None,
    ));
    json!({
        "messages": n,
        "endToEndMs": i.e2e.json_ms(),
        "hostRoundTripMs": rt.json_ms(),
        "envelopeDecodeMs": env.json_ms(),
        "messageDecodeMs": msg.json_ms(),
        "policyMs": pol.json_ms(),
        "recordBuildMs": build.json_ms(),
        "storeReadMs": read.json_ms(),
        "storeCommitMs": commit.json_ms(),
        "fsync": fsync_json,
        "restP50Ms": rest,
    })
}
