//! `restorectl local`: the whole product on one machine, on its embedded defaults.
//!
//! Starts the Azure Backup emulator (example scenario, TLS, accelerated clock), the real `intake` and `tracker`
//! binaries served through the same Functions host simulator the end-to-end tests use, and an embedded SQLite
//! store; feeds the sample messages (or a file or folder given with `--file`) to the intake as Service Bus
//! deliveries, ticks the tracker as its timer would, shows every request's progress live, and ends with a table
//! of results and restore times. Exits 1 if a result differs from what `examples/expected-results.json` says
//! (or, for files it does not list, if any request ends `Failed`, `TimedOut` or `NeedsAttention`).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backup_emulator::clock::ClockMode;
use backup_emulator::scenario::Scenario;
use backup_emulator::{Emulator, EmulatorConfig};
use restore_e2e::{SbMessage, SbTrigger, TimerPayload, Worker, workspace_bin};
use restore_store::{ListFilter, Record, SqliteStore, StateStore};
use serde_json::Value;
use tokio::sync::Mutex;

/// Options of `restorectl local`.
#[derive(clap::Args, Debug, Clone)]
pub struct LocalArgs {
    /// A request file, or a folder of them (default: examples/requests).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Emulator clock speed, virtual seconds per real second: Azure's minutes become seconds.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Run the emulator's clock in real time (restores take as long as in Azure).
    #[arg(long)]
    pub realtime: bool,
    /// Give up after this many (real) seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Keep the SQLite state in this file (default: a temporary one).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Workspace root holding examples/ (default: found from the current directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

/// Service Bus MaxDeliveryCount of the simulated queue (the deployed queue uses 10).
const MAX_DELIVERIES: u32 = 5;

fn find_root(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(root) = given {
        return Ok(root.to_path_buf());
    }
    let mut dir = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    loop {
        if dir.join("examples/scenario.json").is_file() {
            return Ok(dir);
        }
        if !dir.pop() {
            return Err("cannot find examples/scenario.json above the current directory; run from the repository or pass --root".into());
        }
    }
}

/// One message to send: its file, its body and what it should end as.
struct Sample {
    name: String,
    body: Vec<u8>,
    expect: Option<String>,
}

fn load_samples(root: &Path, file: Option<&Path>) -> Result<Vec<Sample>, String> {
    let default_dir = root.join("examples/requests");
    let target = file.map(Path::to_path_buf).unwrap_or_else(|| default_dir.clone());
    let mut paths: Vec<PathBuf> = if target.is_dir() {
        std::fs::read_dir(&target)
            .map_err(|e| format!("--file {}: {e}", target.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect()
    } else {
        vec![target.clone()]
    };
    paths.sort();
    let expected: BTreeMap<String, String> = std::fs::read(root.join("examples/expected-results.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let body = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let expect = expected.get(&name).cloned().or_else(|| {
                expected
                    .iter()
                    .find(|(k, _)| k.ends_with('*') && name.starts_with(k.trim_end_matches('*')))
                    .map(|(_, v)| v.clone())
            });
            Ok(Sample { name, body, expect })
        })
        .collect()
}

/// What the run learned about one sample.
#[derive(Debug, Clone, Default)]
struct Outcome {
    request_id: Option<String>,
    results: Vec<Value>,
    delivery_error: Option<String>,
}

impl Outcome {
    fn last(&self) -> Option<&Value> {
        self.results.iter().rev().find(|r| r["status"] != "Accepted").or_else(|| self.results.last())
    }
    fn status(&self) -> String {
        self.last()
            .and_then(|r| r["status"].as_str())
            .unwrap_or(if self.delivery_error.is_some() { "DeadLettered" } else { "…" })
            .to_string()
    }
    fn finished(&self) -> bool {
        self.delivery_error.is_some() || self.results.iter().any(|r| r["status"] != "Accepted")
    }
}

fn trigger() -> SbTrigger {
    SbTrigger::new("message").binary()
}

/// Delivers one message as Service Bus would: redelivered on failure with DeliveryCount + 1, dead-lettered after
/// [`MAX_DELIVERIES`].
async fn deliver(intake: restore_e2e::HostClient, sample_name: String, body: Vec<u8>) -> Outcome {
    let message = SbMessage::new(body).message_id(sample_name.trim_end_matches(".json"));
    let mut last_error = String::new();
    for n in 1..=MAX_DELIVERIES {
        let invocation = message.clone().delivery_count(n).invocation("RestoreIntake", &trigger());
        match intake.invoke(&invocation).await {
            Ok(response) => match response.success() {
                Ok(success) => {
                    let results: Vec<Value> = success
                        .outputs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("results"))
                        .and_then(|(_, v)| restore_e2e::service_bus_messages("results", v, false).ok())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|b| serde_json::from_slice(b).ok())
                        .collect();
                    let request_id = results.first().and_then(|r| r["requestId"].as_str()).map(str::to_string);
                    return Outcome { request_id, results, delivery_error: None };
                }
                Err(e) => last_error = e,
            },
            Err(e) => last_error = e.to_string(),
        }
    }
    Outcome {
        delivery_error: Some(format!("dead-lettered after {MAX_DELIVERIES} deliveries: {last_error}")),
        ..Default::default()
    }
}

fn fmt_secs(d: Duration) -> String {
    format!("{:>6.1}s", d.as_secs_f64())
}

/// Runs `restorectl local`.
pub async fn run(args: LocalArgs, json: bool) -> Result<ExitCode, String> {
    let root = find_root(args.root.as_deref())?;
    let samples = load_samples(&root, args.file.as_deref())?;
    if samples.is_empty() {
        return Err("no request files to send".into());
    }
    let speed = if args.realtime { 1.0 } else { args.speed.max(1.0) };
    let scenario = Scenario::load(&root.join("examples/scenario.json"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut config = EmulatorConfig::new(scenario);
    config.clock = ClockMode::Realtime { speed };
    config.ca_dir = Some(dir.path().join("ca"));
    let emulator = Emulator::start(config).await.map_err(|e| format!("the emulator did not start: {e}"))?;
    let db = args.state.clone().unwrap_or_else(|| dir.path().join("restore-state.db"));
    let scaled = |secs: f64, floor: f64| format!("{}", (secs / speed).max(floor));
    let mut settings = emulator.app_settings();
    settings.extend(
        [
            ("RESTORE_STORE", "sqlite".into()),
            ("RESTORE_SQLITE_PATH", db.display().to_string()),
            ("RESTORE_POLICY_FILE", root.join("examples/policy.json").display().to_string()),
            ("RESTORE_MAX_DELIVERY_COUNT", MAX_DELIVERIES.to_string()),
            // The production defaults, divided by the clock speed: Azure's pace, in local time.
            ("RESTORE_TRIGGER_SETTLE_SECONDS", scaled(120.0, 1.0)),
            ("RESTORE_CRR_TRIGGER_SETTLE_SECONDS", scaled(900.0, 1.0)),
            ("RESTORE_TRIGGER_SEND_WINDOW_SECONDS", scaled(10.0, 0.2)),
            ("RESTORE_TRIGGER_TIMEOUT_SECONDS", scaled(30.0, 0.5)),
            ("RESTORE_LEASE_SECONDS", scaled(300.0, 3.0)),
            ("RESTORE_DUPLICATE_WAIT_SECONDS", scaled(30.0, 2.0)),
            ("RESTORE_TRANSIENT_RETRY_SECONDS", scaled(60.0, 2.0)),
            ("RESTORE_JOB_POLL_SECONDS", scaled(30.0, 0.05)),
            ("RESTORE_JOB_POLL_MAX_SECONDS", scaled(300.0, 0.1)),
            ("RESTORE_STALE_WRITE_AHEAD_SECONDS", scaled(900.0, 5.0)),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    );
    let spawn = |bin: &'static str| {
        let settings = settings.clone();
        async move {
            let exe =
                workspace_bin(bin).map_err(|e| format!("{e} (the run script builds it: bash scripts/run-local.sh)"))?;
            Worker::spawn(exe, settings).await.map_err(|e| format!("{bin} did not start: {e}"))
        }
    };
    let mut intake = spawn("intake").await?;
    let mut tracker = spawn("tracker").await?;
    let tty = std::io::stdout().is_terminal() && !json;
    if !json {
        println!(
            "restorectl local: emulator {} (clock x{speed}), intake pid {:?} (ready in {:?}), tracker pid {:?}, store {}",
            emulator.arm_url,
            intake.pid(),
            intake.ready_after().unwrap_or_default(),
            tracker.pid(),
            db.display()
        );
        println!(
            "sending {} messages from {}\n",
            samples.len(),
            args.file.as_deref().unwrap_or(&root.join("examples/requests")).display()
        );
    }

    let started = Instant::now();
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(vec![Outcome::default(); samples.len()]));
    // The intake: up to four deliveries at once, as maxConcurrentCalls would allow.
    let gate = Arc::new(tokio::sync::Semaphore::new(4));
    let mut deliveries = tokio::task::JoinSet::new();
    for (i, sample) in samples.iter().enumerate() {
        let (client, name, body, gate, outcomes) =
            (intake.client(), sample.name.clone(), sample.body.clone(), gate.clone(), outcomes.clone());
        deliveries.spawn(async move {
            let _permit = gate.acquire().await;
            let outcome = deliver(client, name, body).await;
            outcomes.lock().await[i] = outcome;
        });
    }
    // The tracker's timer, much faster than its 30 s production schedule because the emulator's clock is.
    let tracker_client = tracker.client();
    let tick_every = Duration::from_secs_f64((30.0 / speed).clamp(0.1, 30.0));
    let store = SqliteStore::open(&db).map_err(|e| format!("cannot open the state store {}: {e}", db.display()))?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let deadline = started + Duration::from_secs(args.timeout);
    let mut frame = 0usize;
    loop {
        // Tick the tracker and route its results to the samples they answer.
        let invocation = TimerPayload::without_status().invocation("RestoreTracker", "timer");
        if let Ok(response) = tracker_client.invoke(&invocation).await
            && let Ok(success) = response.success()
            && let Some((_, v)) = success.outputs.iter().find(|(k, _)| k.eq_ignore_ascii_case("results"))
        {
            let results: Vec<Value> = restore_e2e::service_bus_messages("results", v, false)
                .unwrap_or_default()
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let mut all = outcomes.lock().await;
            for r in results {
                if let Some(o) = all.iter_mut().find(|o| o.request_id.as_deref() == r["requestId"].as_str()) {
                    o.results.push(r);
                }
            }
        }
        // Show state changes.
        let records: Vec<Record> = store.list(&ListFilter::all(), 1000).await.unwrap_or_default();
        for record in &records {
            let state = record.state.to_string();
            if seen.get(&record.request_id) != Some(&state) {
                if !json {
                    let from = seen.get(&record.request_id).map(String::as_str).unwrap_or("—");
                    let detail =
                        record.reason.as_ref().map(|r| format!("  ({}: {})", r.code, r.message)).unwrap_or_default();
                    let line = format!(
                        "{} {:<40} {:<14} → {}{}",
                        fmt_secs(started.elapsed()),
                        record.request_id,
                        from,
                        state,
                        detail
                    );
                    if tty {
                        print!("\r\x1b[2K");
                    }
                    println!("{}", line.chars().take(180).collect::<String>());
                }
                seen.insert(record.request_id.clone(), state);
            }
        }
        let all = outcomes.lock().await.clone();
        let done = all.iter().filter(|o| o.finished()).count();
        if tty {
            let running = records.iter().filter(|r| !r.state.is_terminal()).count();
            print!(
                "\r\x1b[2K{} {} {done}/{} finished, {running} in flight",
                spinner[frame % spinner.len()],
                fmt_secs(started.elapsed()),
                all.len()
            );
            let _ = std::io::stdout().flush();
            frame += 1;
        }
        if deliveries.is_empty() && done == all.len() {
            break;
        }
        while let Some(joined) = deliveries.try_join_next() {
            joined.map_err(|e| format!("a delivery task failed: {e}"))?;
        }
        if Instant::now() > deadline {
            if tty {
                println!();
            }
            eprintln!("restorectl local: gave up after {} s (--timeout); results so far follow", args.timeout);
            break;
        }
        tokio::time::sleep(tick_every).await;
    }
    if tty {
        print!("\r\x1b[2K");
    }
    let outcomes = outcomes.lock().await.clone();
    let (restores, mut doc) = report(&samples, &outcomes, started.elapsed(), speed, json);
    // Then one drill plan over a disk, through the same intake and tracker.
    let evidence = root.join("out/drills");
    let drill = run_drill(&root, &settings, &intake, &tracker, &evidence, dir.path(), deadline, json).await;
    let _ = intake.kill().await;
    let _ = tracker.kill().await;
    emulator.shutdown().await;
    let drill_passed = match drill {
        Ok((passed, drill)) => {
            doc["drill"] = drill;
            passed
        }
        Err(e) => {
            eprintln!("restorectl local: the drill did not run: {e}");
            false
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    Ok(if restores == ExitCode::SUCCESS && drill_passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The drill plan the local run uses: `examples/drills/items-nightly-disk.json`, rescheduled daily at the minute
/// before now (UTC) so one run is due at once.
fn local_plan(root: &Path) -> Result<Value, String> {
    let path = root.join("examples/drills/items-nightly-disk.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut plan: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    plan["schedule"] = serde_json::json!({
        "cron": format!("0 {} {} * * *", at.minute(), at.hour()), "timeZone": "UTC", "startWindow": "PT15M"
    });
    Ok(plan)
}

/// Runs the drill function until its run ends; prints the outcome, the RTO per item and the report's path.
/// Returns whether the run passed, and the result with the report's path (for `--json`).
#[allow(clippy::too_many_arguments)]
async fn run_drill(
    root: &Path,
    settings: &[(String, String)],
    intake: &Worker,
    tracker: &Worker,
    evidence: &Path,
    scratch: &Path,
    deadline: Instant,
    json: bool,
) -> Result<(bool, Value), String> {
    let plans = scratch.join("plans");
    std::fs::create_dir_all(&plans).map_err(|e| format!("{}: {e}", plans.display()))?;
    let plan = local_plan(root)?;
    std::fs::write(plans.join("local-drill.json"), plan.to_string())
        .map_err(|e| format!("{}: {e}", plans.display()))?;
    let mut settings = settings.to_vec();
    settings.push(("RESTORE_DRILL_PLANS_DIR".into(), plans.display().to_string()));
    settings.push(("RESTORE_DRILL_EVIDENCE_DIR".into(), evidence.display().to_string()));
    let exe =
        workspace_bin("drills").map_err(|e| format!("{e} (the run script builds it: bash scripts/run-local.sh)"))?;
    let mut drills = Worker::spawn(exe, settings).await.map_err(|e| format!("drills did not start: {e}"))?;
    if !json {
        println!(
            "\nrunning drill plan '{}' (examples/drills/items-nightly-disk.json, due now)",
            plan["name"].as_str().unwrap_or_default()
        );
    }
    let output = |success: &restore_e2e::Success, name: &str| -> Vec<Vec<u8>> {
        success
            .outputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| restore_e2e::service_bus_messages(name, v, false).ok())
            .unwrap_or_default()
    };
    let result = loop {
        let invocation = TimerPayload::without_status().invocation("RestoreDrills", "timer");
        let response = drills.client().invoke(&invocation).await.map_err(|e| format!("drills tick: {e}"))?;
        let success = response.success().map_err(|e| format!("drills tick failed: {e}"))?;
        for request in output(success, "requests") {
            deliver(intake.client(), "drill".into(), request).await;
        }
        if let Some(r) = output(success, "drillResults").first().and_then(|b| serde_json::from_slice::<Value>(b).ok()) {
            break r;
        }
        if Instant::now() > deadline {
            let _ = drills.kill().await;
            return Err("the drill did not end before --timeout".into());
        }
        let invocation = TimerPayload::without_status().invocation("RestoreTracker", "timer");
        let _ = tracker.client().invoke(&invocation).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = drills.kill().await;
    let run_id = result["runId"].as_str().unwrap_or_default().to_string();
    let page = evidence.join("runs").join(format!("{run_id}.html"));
    let passed = result["outcome"] == "Passed";
    if !json {
        println!("drill run {run_id}: {}", result["outcome"].as_str().unwrap_or("no outcome"));
        println!("{:<60} {:<8} {:>10} {:>10}", "item", "outcome", "RTO (s)", "target (s)");
        for item in result["items"].as_array().into_iter().flatten() {
            println!(
                "{:<60} {:<8} {:>10} {:>10}",
                item["item"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default(),
                item["outcome"].as_str().unwrap_or_default(),
                item["rto"]["measuredSeconds"].as_i64().map_or_else(|| "-".into(), |s| s.to_string()),
                item["rto"]["targetSeconds"].as_i64().map_or_else(|| "-".into(), |s| s.to_string()),
            );
        }
        println!("(RTO in real seconds: the drill function measures on its own clock, the emulator's runs faster)");
        println!("drill report: {}", page.display());
    }
    Ok((passed, serde_json::json!({"result": result, "report": page.display().to_string()})))
}

/// Prints the table (text mode), decides the exit code, and returns the JSON document (printed by the caller in
/// `--json` mode, once the drill is added to it).
fn report(samples: &[Sample], outcomes: &[Outcome], elapsed: Duration, speed: f64, json: bool) -> (ExitCode, Value) {
    let mut mismatches = 0;
    let mut rows = Vec::new();
    for (sample, outcome) in samples.iter().zip(outcomes) {
        let status = outcome.status();
        let ok = match &sample.expect {
            Some(want) => *want == status,
            None => !matches!(status.as_str(), "Failed" | "TimedOut" | "NeedsAttention" | "DeadLettered" | "…"),
        };
        if !ok {
            mismatches += 1;
        }
        let last = outcome.last().cloned().unwrap_or(Value::Null);
        rows.push(serde_json::json!({
            "file": sample.name,
            "requestId": outcome.request_id,
            "status": status,
            "expected": sample.expect,
            "ok": ok,
            "restoreSeconds": last["timings"]["restoreSeconds"],
            "reason": last["reason"]["code"].as_str().or(last["azure"]["errorCode"].as_str()).map(str::to_string).or(outcome.delivery_error.clone()),
            "result": last,
        }));
    }
    let doc = serde_json::json!({"results": rows, "elapsedSeconds": elapsed.as_secs_f64(), "clockSpeed": speed, "mismatches": mismatches});
    if !json {
        println!("\n{:<34} {:<15} {:<15} {:>12}  reason", "file", "status", "expected", "restore (s)");
        println!("{}", "-".repeat(100));
        for row in &rows {
            let restore = row["restoreSeconds"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            let mark = if row["ok"] == true { "" } else { "   <-- differs" };
            println!(
                "{:<34} {:<15} {:<15} {:>12}  {}{mark}",
                row["file"].as_str().unwrap_or_default(),
                row["status"].as_str().unwrap_or_default(),
                row["expected"].as_str().unwrap_or("(any success)"),
                restore,
                row["reason"].as_str().unwrap_or_default()
            );
        }
        println!(
            "\n{} requests in {:.1} s real time (emulator clock x{speed}; restore times are Azure job durations on the emulator's clock). {}",
            rows.len(),
            elapsed.as_secs_f64(),
            if mismatches == 0 {
                "All as expected.".to_string()
            } else {
                format!("{mismatches} differ from what was expected.")
            }
        );
    }
    (if mismatches == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }, doc)
}
