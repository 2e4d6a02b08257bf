//! The intake and tracker phases, run once per state store: SQLite (a file next to the handlers) and Blob (a
//! real Azurite over HTTPS with OAuth, see [`crate::blob`]). Each store gets a fresh emulator, so the second run
//! restores the same disks again without colliding with the first run's restored disks.
//!
//! Every phase reports its wall time with the CPU time (user + system, [`crate::cpu::cpu_ns`]) the handler
//! processes spent in it, and on Blob the store requests Azurite served in it.
//!
//! Order: rejected messages one at a time (with the intake breakdown); an idle tracker tick with few records
//! stored; rejected messages at `--concurrency`; accepted messages at `--concurrency`; the rest of the tracker's
//! backlog accepted; the drain; rejected messages until `--idle-records` records are stored; the idle tick again.
//! Two idle-tick sizes are how "a bounded number of store requests that does not grow with the number of records
//! ever stored" is checked.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use backup_emulator::EmulatorHandle;
use backup_emulator::throttle::{BucketLimit, ThrottleLimits};
use restore_e2e::{HostClient, SbMessage, Worker};
use serde_json::{Map, Value, json};

use crate::blob::{BlobBackend, Mark, Requests};
use crate::breakdown;
use crate::cpu::cpu_ns;
use crate::report::{Row, Stats};
use crate::{
    Args, MessageRun, R, base_settings, calls_by_route, clear_log, disk_request, drain, kib, log_entries, manifest_dir,
    ms, peak_rss_kib, progress, results_of, send_messages, set_throttle, spawn, start_emulator, timer,
    tracker_poll_settings, trigger, with,
};

impl StoreKind {
    /// Idle ticks measured at each size: many on SQLite, where one costs ≈ 0.3 ms and the counters are noisy at
    /// that size; few on Blob, where one lists every record (seconds with 12,000 stored on Azurite).
    fn idle_ticks(self) -> usize {
        match self {
            StoreKind::Sqlite => 50,
            StoreKind::Blob => 5,
        }
    }
}

/// The state store a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Blob,
}

impl StoreKind {
    /// As row names say it.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "SQLite",
            StoreKind::Blob => "Blob",
        }
    }

    /// The `--json` details key.
    pub fn key(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Blob => "blob",
        }
    }
}

/// What a phase is measured with: the processes' CPU counters, and Azurite's request log on Blob.
struct Probe<'a> {
    intake: Option<u32>,
    tracker: Option<u32>,
    blob: Option<&'a BlobBackend>,
}

/// The counters at a phase's start.
struct Started {
    wall: Instant,
    intake: u64,
    tracker: u64,
    azurite: u64,
    mark: Option<Mark>,
}

/// What a phase spent.
struct Spent {
    wall: Duration,
    intake_ns: u64,
    tracker_ns: u64,
    /// Azurite's CPU (0 on SQLite).
    azurite_ns: u64,
    /// Store requests (Blob only).
    requests: Option<Requests>,
}

impl Probe<'_> {
    fn azurite_ns(&self) -> u64 {
        self.blob.and_then(|b| cpu_ns(Some(b.pid()))).unwrap_or(0)
    }

    async fn start(&self) -> R<Started> {
        // The marker first, so its own request and CPU fall outside the phase.
        let mark = match self.blob {
            Some(b) => Some(b.log.mark().await?),
            None => None,
        };
        Ok(Started {
            wall: Instant::now(),
            intake: cpu_ns(self.intake).unwrap_or(0),
            tracker: cpu_ns(self.tracker).unwrap_or(0),
            azurite: self.azurite_ns(),
            mark,
        })
    }

    async fn stop(&self, started: Started) -> R<Spent> {
        let wall = started.wall.elapsed();
        let intake_ns = cpu_ns(self.intake).unwrap_or(0).saturating_sub(started.intake);
        let tracker_ns = cpu_ns(self.tracker).unwrap_or(0).saturating_sub(started.tracker);
        let azurite_ns = self.azurite_ns().saturating_sub(started.azurite);
        let requests = match (self.blob, started.mark) {
            (Some(b), Some(from)) => Some(b.log.between(from, b.log.mark().await?)?),
            _ => None,
        };
        Ok(Spent { wall, intake_ns, tracker_ns, azurite_ns, requests })
    }
}

impl Spent {
    /// "wall 1.2 s, CPU intake 0.31 ms/msg" (+ Azurite's on Blob), for a phase of `n` messages.
    fn intake_text(&self, n: usize) -> String {
        let per = |ns: u64| ns as f64 / 1e6 / n.max(1) as f64;
        let azurite =
            if self.azurite_ns > 0 { format!(", Azurite {:.2} ms/msg", per(self.azurite_ns)) } else { String::new() };
        format!("wall {:.1} s, CPU intake {:.3} ms/msg{azurite}", self.wall.as_secs_f64(), per(self.intake_ns))
    }

    fn json(&self, units: usize) -> Value {
        json!({
            "wallSeconds": self.wall.as_secs_f64(),
            "cpuIntakeMs": self.intake_ns as f64 / 1e6,
            "cpuTrackerMs": self.tracker_ns as f64 / 1e6,
            "cpuAzuriteMs": self.azurite_ns as f64 / 1e6,
            "storeRequests": self.requests.as_ref().map(|r| r.json(units)),
        })
    }
}

/// An idle-tick measurement at one size.
struct Idle {
    records: usize,
    wall: Stats,
    cpu_ns_per_tick: u64,
    requests: Option<Requests>,
    /// Measured ticks that returned results after all (not idle).
    busy: usize,
}

/// Ticks until nothing is left to publish (at most 20), then measures `n` idle ticks.
async fn idle_ticks(probe: &Probe<'_>, tracker: &Worker, records: usize, n: usize) -> R<Idle> {
    let client = tracker.client();
    let tick = || async {
        let response = client.invoke(&timer()).await.map_err(|e| format!("tracker tick: {e}"))?;
        response.success().map_err(|e| format!("tracker tick failed: {e}"))?;
        Ok::<_, String>(results_of(&response).len())
    };
    for _ in 0..20 {
        if tick().await? == 0 {
            break;
        }
    }
    let started = probe.start().await?;
    let (mut walls, mut busy) = (Vec::with_capacity(n), 0);
    for _ in 0..n {
        let t = Instant::now();
        if tick().await? > 0 {
            busy += 1;
        }
        walls.push(t.elapsed());
    }
    let spent = probe.stop(started).await?;
    Ok(Idle {
        records,
        wall: Stats::of(&walls),
        cpu_ns_per_tick: spent.tracker_ns / n.max(1) as u64,
        requests: spent.requests,
        busy,
    })
}

impl Idle {
    fn json(&self, ticks: usize) -> Value {
        json!({"records": self.records, "wallMs": self.wall.json_ms(), "cpuMsPerTick": self.cpu_ns_per_tick as f64 / 1e6,
               "busyTicks": self.busy, "storeRequests": self.requests.as_ref().map(|r| r.json(ticks))})
    }
}

/// Rejected messages (a target group the policy does not allow) with ids `{prefix}-{i}`.
fn rejected(prefix: &str, range: std::ops::Range<usize>) -> Vec<(String, Vec<u8>)> {
    range
        .map(|i| {
            let id = format!("{prefix}-{i:05}");
            let body = disk_request(&id, i, "rg-not-allowed", &id);
            (id, body)
        })
        .collect()
}

/// Messages the intake answered (each made a record).
fn answered(run: &MessageRun) -> usize {
    run.latencies.len().saturating_sub(run.failed_invocations)
}

/// Every intake and tracker phase on one store.
pub async fn store_phases(
    args: &Args,
    kind: StoreKind,
    intake_exe: &Path,
    tracker_exe: &Path,
    rows: &mut Vec<Row>,
    details: &mut Map<String, Value>,
) -> R<()> {
    let operations = match kind {
        StoreKind::Sqlite => args.operations,
        StoreKind::Blob => args.blob_operations,
    };
    let emu =
        start_emulator(&manifest_dir().join("bench-scenario.json"), args.speed, Some(args.messages.max(operations)))
            .await?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let policy_path = manifest_dir().join("bench-policy.json");
    let mut base = base_settings(&emu, &dir.path().join("restore-state.db"), &policy_path);
    let blob = match kind {
        StoreKind::Sqlite => None,
        StoreKind::Blob => {
            progress(args, "Blob: starting Azurite (HTTPS, --oauth basic, in memory)");
            Some(BlobBackend::start(&emu, dir.path()).await?)
        }
    };
    if let Some(b) = &blob {
        base = with(base, &b.settings());
    }
    // Zero-latency phases: ARM's throttle off in the emulator, and the client's mirror of it opened as wide.
    let unthrottled = with(
        base.clone(),
        &[
            ("RESTORE_ARM_READ_BURST", "1000000000".into()),
            ("RESTORE_ARM_READS_PER_SECOND", "1000000000".into()),
            ("RESTORE_ARM_WRITE_BURST", "1000000000".into()),
            ("RESTORE_ARM_WRITES_PER_SECOND", "1000000000".into()),
        ],
    );
    set_throttle(&emu, ThrottleLimits { enabled: false, ..ThrottleLimits::default() });
    // The tracker's budget is ARM's scaled by `scale` (see `Run::drain`). It is started now so that an idle tick
    // can be measured while few records exist.
    let k = args.scale;
    let tracker_settings = with(
        with(
            base,
            &[
                ("RESTORE_ARM_READ_BURST", format!("{}", 250.0 * k)),
                ("RESTORE_ARM_READS_PER_SECOND", format!("{}", 25.0 * k)),
                ("RESTORE_ARM_WRITE_BURST", format!("{}", 200.0 * k)),
                ("RESTORE_ARM_WRITES_PER_SECOND", format!("{}", 10.0 * k)),
            ],
        ),
        &tracker_poll_settings(args.speed),
    );
    let intake = spawn(intake_exe, &unthrottled).await?;
    let tracker = spawn(tracker_exe, &tracker_settings).await?;
    let mut run = Run {
        args,
        kind,
        s: kind.name(),
        emu: &emu,
        client: intake.client(),
        tracker: &tracker,
        probe: Probe { intake: intake.pid(), tracker: tracker.pid(), blob: blob.as_ref() },
        rows,
        details: Map::new(),
        records: 0,
    };
    run.details.insert("operations".into(), json!(operations));

    let breakdown_store = match &blob {
        Some(b) => BreakdownStore::Blob(b),
        None => BreakdownStore::Sqlite(dir.path()),
    };
    run.rejected_one_at_a_time(&policy_path, breakdown_store).await?;
    let idle_small = run.idle().await?;
    run.rejected_concurrently().await?;
    let expected = run.accepted(operations).await?;
    let intake_rss = peak_rss_kib(intake.pid());
    run.rows.push(Row::new(
        format!("intake: peak RSS (VmHWM) after all intake runs ({})", run.s),
        kib(intake_rss),
        "(no target)",
        None,
    ));
    run.drain(&expected).await?;
    // Many records stored (terminal ones: what a store holds after months), then the idle tick again.
    run.fill().await?;
    let idle_large = run.idle().await?;
    idle_rows(run.s, &idle_small, &idle_large, kind.idle_ticks(), run.rows);
    run.details
        .insert("idleTick".into(), json!([idle_small.json(kind.idle_ticks()), idle_large.json(kind.idle_ticks())]));

    details.insert(kind.key().into(), Value::Object(std::mem::take(&mut run.details)));
    drop(run);
    drop(intake);
    drop(tracker);
    drop(blob);
    emu.shutdown().await;
    Ok(())
}

/// One store's run: the processes, the probe, and what has been measured so far.
struct Run<'a> {
    args: &'a Args,
    kind: StoreKind,
    /// The store's name in row names.
    s: &'static str,
    emu: &'a EmulatorHandle,
    /// The intake's.
    client: HostClient,
    tracker: &'a Worker,
    probe: Probe<'a>,
    rows: &'a mut Vec<Row>,
    details: Map<String, Value>,
    /// Records in the store: every answered message made one, and on Blob the breakdown's in-process ones.
    records: usize,
}

impl Run<'_> {
    /// Rejected messages one at a time: the per-message overhead itself (no Azure call: parse, policy, store,
    /// protocol), then where that time goes.
    async fn rejected_one_at_a_time(&mut self, policy_path: &Path, store: BreakdownStore<'_>) -> R<()> {
        let (args, s) = (self.args, self.s);
        let n = args.messages.min(500);
        progress(args, &format!("{s}: intake, {n} rejected messages one at a time"));
        clear_log(self.emu);
        let started = self.probe.start().await?;
        let serial = send_messages(&self.client, rejected("rej", 0..n), 1).await;
        let spent = self.probe.stop(started).await?;
        self.records += answered(&serial);
        let stats = Stats::of(&serial.latencies);
        self.rows.push(Row::new(
            format!("intake: rejected message (no Azure call), {n} one at a time ({s})"),
            format!("p50 {} ms, p99 {} ms; {}", ms(stats.p50), ms(stats.p99), spent.intake_text(n)),
            "overhead ≤ 1 ms p99",
            Some(stats.p99 <= Duration::from_millis(1)),
        ));
        if let Some(r) = &spent.requests {
            self.rows.push(Row::new(
                format!("store requests per rejected message, one at a time ({s})"),
                r.per(n),
                "–",
                None,
            ));
        }
        self.details.insert(
            "intakeRejectedSerial".into(),
            json!({"latencyMs": stats.json_ms(), "perSecond": serial.per_second(), "spent": spent.json(n)}),
        );

        progress(args, &format!("{s}: intake breakdown ({n} messages, in-process and host round trip)"));
        if matches!(store, BreakdownStore::Blob(_)) {
            self.records += n;
        }
        let breakdown = intake_breakdown(&self.client, policy_path, n, stats, store, self.rows).await?;
        self.details.insert("breakdown".into(), breakdown);
        Ok(())
    }

    /// Idle tracker ticks with the records stored so far.
    async fn idle(&mut self) -> R<Idle> {
        progress(self.args, &format!("{}: idle tracker ticks with {} records stored", self.s, self.records));
        idle_ticks(&self.probe, self.tracker, self.records, self.kind.idle_ticks()).await
    }

    /// Rejected messages at `--concurrency` (fresh ids: the serial run's would be duplicates). Messages queue on
    /// the store (SQLite's single writer; Azurite's one node thread).
    async fn rejected_concurrently(&mut self) -> R<()> {
        let (args, s) = (self.args, self.s);
        let (n, c) = (args.messages, args.concurrency);
        progress(args, &format!("{s}: intake, {n} rejected messages at concurrency {c}"));
        let started = self.probe.start().await?;
        let rej = send_messages(&self.client, rejected("rej-c", 0..n), c).await;
        let spent = self.probe.stop(started).await?;
        self.records += answered(&rej);
        let stats = Stats::of(&rej.latencies);
        let azure_calls = log_entries(self.emu).len();
        self.rows.push(Row::new(
            format!("intake: rejected message (no Azure call), {n} at concurrency {c} ({s})"),
            format!("p50 {} ms, p99 {} ms; {}", ms(stats.p50), ms(stats.p99), spent.intake_text(n)),
            "overhead ≤ 1 ms p99",
            Some(stats.p99 <= Duration::from_millis(1)),
        ));
        self.rows.push(Row::new(
            format!("intake: rejected-message throughput ({s})"),
            format!("{:.0} msg/s", rej.per_second()),
            "≥ 2,000 msg/s",
            Some(rej.per_second() >= 2000.0),
        ));
        self.details.insert(
            "intakeRejected".into(),
            json!({"latencyMs": stats.json_ms(), "perSecond": rej.per_second(), "statuses": rej.statuses,
                   "azureCalls": azure_calls, "failedInvocations": rej.failed_invocations, "spent": spent.json(n)}),
        );
        Ok(())
    }

    /// Valid messages that Azure accepts, `--messages` measured at `--concurrency`: the whole path (2 reads to
    /// plan, validateRestore and its status poll, write-ahead, restore POST, the store writes). Azure's own
    /// latency is ~0 here, but the client still waits the Retry-After of the validation (clamped to ≥ 100 ms by
    /// the engine's LRO poller). Then the rest of the tracker's backlog up to `operations`, accepted faster
    /// (setup for the drain; reported, not a target). Returns the request ids accepted.
    async fn accepted(&mut self, operations: usize) -> R<HashSet<String>> {
        let (args, s) = (self.args, self.s);
        let (n, c) = (args.messages, args.concurrency);
        progress(args, &format!("{s}: intake, {n} valid messages at concurrency {c}"));
        clear_log(self.emu);
        let valid = |range: std::ops::Range<usize>| -> Vec<(String, Vec<u8>)> {
            range
                .map(|i| {
                    let id = format!("acc-{i:05}");
                    (id.clone(), disk_request(&id, i, "rg-restore", &format!("bench-restored-{i:05}")))
                })
                .collect()
        };
        let started = self.probe.start().await?;
        let acc = send_messages(&self.client, valid(0..n), c).await;
        let spent = self.probe.stop(started).await?;
        self.records += answered(&acc);
        let entries = log_entries(self.emu);
        let stats = Stats::of(&acc.latencies);
        let calls_per_msg = entries.len() as f64 / n.max(1) as f64;
        self.rows.push(Row::new(
            format!("intake: accepted message end to end, {n} at concurrency {c} ({s})"),
            format!(
                "p50 {} ms, p99 {} ms ({calls_per_msg:.1} ARM calls/msg; of which 100 ms is the validation's Retry-After wait, so ≈ {} ms p50 of calls + overhead); {}",
                ms(stats.p50),
                ms(stats.p99),
                ms(stats.p50.saturating_sub(Duration::from_millis(100))),
                spent.intake_text(n)
            ),
            "(Azure latency excluded by target)",
            None,
        ));
        self.rows.push(Row::new(
            format!("intake: accepted-message throughput (zero-latency emulator, {s})"),
            format!("{:.0} msg/s", acc.per_second()),
            "≥ 2,000 msg/s",
            Some(acc.per_second() >= 2000.0),
        ));
        if let Some(r) = &spent.requests {
            self.rows.push(Row::new(
                format!("store requests per accepted message, at concurrency {c} ({s})"),
                r.per(n),
                "(reported: the figure that carries to Azure)",
                None,
            ));
        }
        self.details.insert(
            "intakeAccepted".into(),
            json!({"latencyMs": stats.json_ms(), "perSecond": acc.per_second(), "statuses": acc.statuses,
                   "armCallsPerMessage": calls_per_msg, "armCalls": calls_by_route(&entries),
                   "failedInvocations": acc.failed_invocations, "spent": spent.json(n)}),
        );

        let mut expected: HashSet<String> = acc.accepted.iter().cloned().collect();
        if operations > n {
            let (more, c) = (operations - n, args.seed_concurrency);
            progress(args, &format!("{s}: intake, accepting {more} more at concurrency {c}"));
            let started = self.probe.start().await?;
            let seed = send_messages(&self.client, valid(n..operations), c).await;
            let spent = self.probe.stop(started).await?;
            self.records += answered(&seed);
            let st = Stats::of(&seed.latencies);
            self.rows.push(Row::new(
                format!("intake: accepted-message throughput at concurrency {c} ({s})"),
                format!(
                    "{:.0} msg/s (p50 {} ms, p99 {} ms); {}",
                    seed.per_second(),
                    ms(st.p50),
                    ms(st.p99),
                    spent.intake_text(more)
                ),
                "(setup for the tracker run)",
                None,
            ));
            self.details.insert(
                "intakeSeeding".into(),
                json!({"messages": more, "concurrency": c, "latencyMs": st.json_ms(),
                       "perSecond": seed.per_second(), "statuses": seed.statuses, "spent": spent.json(more)}),
            );
            expected.extend(seed.accepted);
        }
        Ok(expected)
    }

    /// The tracker drains `expected` under ARM's throttle, scaled by `--scale` on both sides (the emulator's
    /// token buckets and the tracker's budget). The emulator's buckets refill on its accelerated clock, so the
    /// refill it is given per virtual second is ARM's per real second / speed.
    async fn drain(&mut self, expected: &HashSet<String>) -> R<()> {
        let (args, s) = (self.args, self.s);
        let k = args.scale;
        let (burst, rate) = (250.0 * k, 25.0 * k);
        let n = expected.len();
        progress(
            args,
            &format!("{s}: tracker draining {n} operations, ARM limits x{k} ({burst} burst, {rate} reads/s)"),
        );
        let limits = ThrottleLimits {
            enabled: true,
            reads: BucketLimit { capacity: burst, refill_per_second: rate / args.speed },
            writes: BucketLimit { capacity: 200.0 * k, refill_per_second: 10.0 * k / args.speed },
            deletes: BucketLimit { capacity: 200.0 * k, refill_per_second: 10.0 * k / args.speed },
        };
        set_throttle(self.emu, limits);
        clear_log(self.emu);
        let started = self.probe.start().await?;
        let (terminal, ticks, drain_time, finished) =
            drain(self.tracker, expected, Duration::from_secs(args.drain_limit)).await?;
        let spent = self.probe.stop(started).await?;
        // Later phases make no ARM call to throttle, but the fill's intake must not wait on a bucket either.
        set_throttle(self.emu, ThrottleLimits { enabled: false, ..ThrottleLimits::default() });
        let entries = log_entries(self.emu);
        let reads_ok = entries.iter().filter(|(_, m, st)| (m == "GET" || m == "HEAD") && *st != Some(429)).count();
        let throttled = entries.iter().filter(|(_, _, st)| *st == Some(429)).count();
        let t = drain_time.as_secs_f64().max(1e-9);
        let budget = burst + rate * t;
        let share = reads_ok as f64 / budget;
        // The same reads at the same share of ARM's real (unscaled) budget: 250 + 25·t = reads / share.
        let unscaled = ((reads_ok as f64 / share.max(1e-9)) - 250.0).max(0.0) / 25.0;
        let tracker_rss = peak_rss_kib(self.tracker.pid());
        let ended: usize = terminal.values().sum();
        let per_op = |v: f64| v / n.max(1) as f64;
        let cpu = format!(
            "CPU tracker {:.1} s ({:.2} ms/operation, {:.1} ms/tick){}",
            spent.tracker_ns as f64 / 1e9,
            per_op(spent.tracker_ns as f64 / 1e6),
            spent.tracker_ns as f64 / 1e6 / ticks.max(1) as f64,
            if spent.azurite_ns > 0 {
                format!(", Azurite {:.1} s", spent.azurite_ns as f64 / 1e9)
            } else {
                String::new()
            },
        );
        self.rows.push(Row::new(
            // The bench policy sets no tags: one tag write per restored resource would make ARM's write limit
            // (10/s per principal and subscription), not the reads under test, bound the drain.
            format!("tracker: drain {n} outstanding operations (ARM limits x{k}, {s}, no tag writes)"),
            format!(
                "{} in {t:.1} s, {ticks} ticks, {:.1} reads/operation (≈ {unscaled:.0} s at ARM's unscaled 250 + 25/s for the same reads); {cpu}",
                if finished { "all ended".to_string() } else { format!("NOT finished: {ended} ended") },
                per_op(reads_ok as f64),
            ),
            "each polled when due",
            None,
        ));
        let ten_k = if n < 10_000 && self.kind == StoreKind::Blob {
            " (the target is stated for 10,000: --blob-operations 10000)"
        } else {
            ""
        };
        self.rows.push(Row::new(
            format!("tracker: achieved read rate vs budget (250·k + 25·k·t), {n} operations ({s}){ten_k}"),
            format!("{:.0} reads/s, {reads_ok} reads = {:.1} % of {budget:.0}", reads_ok as f64 / t, share * 100.0),
            "≥ 90 % while backlog",
            Some(share >= 0.9),
        ));
        self.rows.push(Row::new(
            format!("tracker: ARM 429s during the drain ({s})"),
            format!("{throttled}"),
            "0",
            Some(throttled == 0),
        ));
        if let Some(r) = &spent.requests {
            self.rows.push(Row::new(
                format!("store requests per busy tick, drain of {n} ({s})"),
                format!("{} over {ticks} ticks; per operation {}", r.per(ticks), r.per(n)),
                "(reported: the figure that carries to Azure)",
                None,
            ));
        }
        self.rows.push(Row::new(
            format!("tracker: peak RSS (VmHWM) after the drain ({s})"),
            kib(tracker_rss),
            "≤ 64 MB",
            tracker_rss.map(|v| v * 1024 <= 64 * 1024 * 1024),
        ));
        self.details.insert(
            "trackerDrain".into(),
            json!({"operations": n, "scale": k, "speed": args.speed, "finished": finished,
                   "seconds": t, "equivalentSecondsAtArmLimits": unscaled, "ticks": ticks, "terminal": terminal,
                   "reads": reads_ok, "throttled": throttled, "budget": budget, "shareOfBudget": share,
                   "readsPerOperation": per_op(reads_ok as f64),
                   "calls": calls_by_route(&entries), "peakRssKiB": tracker_rss, "spent": spent.json(ticks),
                   "settings": {"batch": 200, "concurrency": 8, "readReserve": 50,
                                "jobPollSeconds": 30.0 / args.speed, "jobPollMaxSeconds": 300.0 / args.speed}}),
        );
        Ok(())
    }

    /// Rejected messages at `--concurrency` until `--idle-records` records are stored (setup, not measured).
    async fn fill(&mut self) -> R<()> {
        let Some(more) = self.args.idle_records.checked_sub(self.records).filter(|m| *m > 0) else {
            return Ok(());
        };
        let target = self.args.idle_records;
        progress(
            self.args,
            &format!("{}: intake, {more} more rejected messages so that {target} records are stored", self.s),
        );
        let fill = send_messages(&self.client, rejected("rej-f", 0..more), self.args.concurrency).await;
        self.records += answered(&fill);
        self.details.insert(
            "fill".into(),
            json!({"messages": more, "perSecond": fill.per_second(), "statuses": fill.statuses}),
        );
        Ok(())
    }
}

/// The idle-tick rows: wall and CPU at both sizes, and on Blob the store requests and whether they grew.
fn idle_rows(s: &str, small: &Idle, large: &Idle, ticks: usize, rows: &mut Vec<Row>) {
    let cpu_ms = |i: &Idle| i.cpu_ns_per_tick as f64 / 1e6;
    rows.push(Row::new(
        format!("tracker: idle tick (nothing due) with {} / {} records stored ({s})", small.records, large.records),
        format!(
            "CPU {:.3} / {:.3} ms per tick, wall p50 {} / {} ms{}",
            cpu_ms(small),
            cpu_ms(large),
            ms(small.wall.p50),
            ms(large.wall.p50),
            if small.busy + large.busy > 0 {
                format!(" ({} of the ticks returned results)", small.busy + large.busy)
            } else {
                String::new()
            }
        ),
        "≤ 0.3 ms CPU",
        Some(small.cpu_ns_per_tick.max(large.cpu_ns_per_tick) <= 300_000),
    ));
    if let (Some(a), Some(b)) = (&small.requests, &large.requests) {
        let per = |r: &Requests| r.total as f64 / ticks as f64;
        rows.push(Row::new(
            format!("store requests per idle tick, {} / {} records stored ({s})", small.records, large.records),
            format!("{} / {}", a.per(ticks), b.per(ticks)),
            "bounded: does not grow with records stored",
            Some(per(b) <= per(a)),
        ));
    }
}

/// Where the breakdown's in-process store calls go: a SQLite file in this directory (next to the handlers'),
/// or the Blob container the handlers use.
enum BreakdownStore<'a> {
    Sqlite(&'a Path),
    Blob(&'a BlobBackend),
}

/// The breakdown of a rejected message's time (see [`crate::breakdown`]); `e2e` is the end-to-end run of `n` such
/// messages one at a time.
async fn intake_breakdown(
    client: &HostClient,
    policy_path: &Path,
    n: usize,
    e2e: Stats,
    store: BreakdownStore<'_>,
    rows: &mut Vec<Row>,
) -> R<Value> {
    let text = std::fs::read_to_string(policy_path).map_err(|e| format!("{}: {e}", policy_path.display()))?;
    let policy = restore_contract::Policy::from_json(&text, restore_contract::policy::PolicyOrigin::Inline)
        .map_err(|e| format!("{}: {e}", policy_path.display()))?;
    // The same messages as the end-to-end run but for their ids (the records must be new): same sizes, same path.
    let messages: Vec<SbMessage> = rejected("rbd", 0..n)
        .into_iter()
        .map(|(id, body)| SbMessage::new(body).message_id(format!("msg-{id}")))
        .collect();
    let mut round_trip = Vec::with_capacity(n);
    for m in &messages {
        let invocation = m.invocation("BenchUnregisteredFunction", &trigger());
        let t = Instant::now();
        client.invoke(&invocation).await.map_err(|e| format!("host round trip: {e}"))?;
        round_trip.push(t.elapsed());
    }
    let envelopes: Vec<Vec<u8>> =
        messages.iter().map(|m| m.invocation("RestoreIntake", &trigger()).body_bytes()).collect();
    let cpu = breakdown::cpu_parts(&envelopes, &policy)?;
    let inputs = |name, reads, commits, tmpfs, fsyncs| breakdown::Inputs {
        store: name,
        e2e,
        round_trip: &round_trip,
        cpu: &cpu,
        reads,
        commits,
        commits_tmpfs: tmpfs,
        fsyncs,
    };
    match store {
        BreakdownStore::Blob(b) => {
            let (reads, commits) = breakdown::store_parts(b.store.as_ref(), &cpu.records).await?;
            Ok(breakdown::rows(&inputs(StoreKind::Blob.name(), &reads, &commits, None, None), rows))
        }
        BreakdownStore::Sqlite(dir) => {
            let p = breakdown::sqlite_parts(dir, &cpu.records).await?;
            let i = inputs(StoreKind::Sqlite.name(), &p.reads, &p.commits, p.commits_tmpfs.as_deref(), Some(&p.fsyncs));
            Ok(breakdown::rows(&i, rows))
        }
    }
}
