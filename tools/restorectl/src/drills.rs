//! `restorectl drills`: recovery drill plans and their evidence.
//!
//! * `validate PLAN…`: offline, the drill function's own checks (shape, schedule, policy), with the next runs the
//!   schedule gives. Exit 0 valid, 1 invalid, 2 usage or configuration error.
//! * `report RUN | --overview [--dir DIR] [--open]`: the path of a run's report page (or the overview) in the
//!   evidence folder, checked to exist; `--open` opens it with the desktop's handler; `--json` prints the
//!   evidence pack (or the overview's data).
//! * `status PLAN… [--sqlite PATH | --blob-container-url URL]`: from the state store the drill function writes,
//!   each plan's recent runs (open with their items' phases, ended with their outcome, missed), its next run, and
//!   its history per item (last drill, last pass, last RTOs). Exit 1 when a plan does not validate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::exit;
use crate::policy::PolicyArgs;
use crate::store::StoreArgs;

/// Flags of `restorectl drills`.
#[derive(Debug, Args)]
pub struct DrillsArgs {
    #[command(subcommand)]
    command: DrillsCommand,
}

#[derive(Debug, Subcommand)]
enum DrillsCommand {
    /// Check drill plans offline exactly as the drill function does (shape, schedule, policy).
    Validate(ValidatePlanArgs),
    /// Show where a run's report (or the overview) is, or print its evidence with --json.
    Report(ReportArgs),
    /// Show plans' recent runs, next run and per-item history from the state store.
    Status(StatusArgs),
}

/// Flags of `restorectl drills status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Plan files (JSON), as the drill function reads them.
    #[arg(value_name = "PLAN", required = true)]
    plans: Vec<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Flags of `restorectl drills validate`.
#[derive(Debug, Args)]
pub struct ValidatePlanArgs {
    /// Plan files (JSON).
    #[arg(value_name = "PLAN", required = true)]
    plans: Vec<PathBuf>,
    /// How many upcoming runs to show per plan.
    #[arg(long, default_value_t = 3)]
    next: usize,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// Flags of `restorectl drills report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run id (plan name + scheduled UTC time, e.g. nightly-app-data.20261205T023000Z).
    #[arg(value_name = "RUN", required_unless_present = "overview")]
    run: Option<String>,
    /// The overview page across plans instead of one run.
    #[arg(long, conflicts_with = "run")]
    overview: bool,
    /// The evidence folder (RESTORE_DRILL_EVIDENCE_DIR; the local run writes to out/drills).
    #[arg(long, env = "RESTORE_DRILL_EVIDENCE_DIR", default_value = "out/drills")]
    dir: PathBuf,
    /// Open the page with the desktop's default handler (xdg-open / open).
    #[arg(long)]
    open: bool,
}

/// Runs `drills`.
pub async fn run(args: DrillsArgs, json: bool) -> Result<ExitCode, String> {
    match args.command {
        DrillsCommand::Validate(a) => validate(a, json),
        DrillsCommand::Report(a) => report(a, json),
        DrillsCommand::Status(a) => status(a, json).await,
    }
}

/// One plan's status as `--json` prints it.
async fn plan_status(
    store: &dyn restore_store::StateStore,
    plan: &restore_drills::ValidPlan,
    now: time::OffsetDateTime,
) -> Result<Value, String> {
    use restore_drills::history::PlanHistory;
    use restore_drills::run::DrillRun;
    let (schedule, plan) = (plan.schedule(), plan.plan());
    let read = |key: String| async move { store.document(&key).await.map_err(|e| format!("reading {key}: {e}")) };
    // The drill function's own horizon: runs are followed for their completion window plus a day.
    let horizon = now - time::Duration::seconds(plan.completion_window.as_secs()) - time::Duration::days(1);
    let mut runs = Vec::new();
    for o in schedule.occurrences(horizon, now, restore_drills::schedule::MAX_OCCURRENCES) {
        let doc = read(format!("drill-run:{}", o.run_id)).await?;
        let at = restore_contract::Timestamp::from(o.at);
        let entry = match doc.map(|d| d.body) {
            None if now < o.at + schedule.start_window().to_time() => {
                json!({"runId": o.run_id, "scheduledAt": at, "state": "due"})
            }
            None => json!({"runId": o.run_id, "scheduledAt": at, "state": "notStarted"}),
            Some(body) if body["missed"] == true => json!({"runId": o.run_id, "scheduledAt": at, "state": "missed"}),
            Some(body) => {
                let run: DrillRun = serde_json::from_value(body).map_err(|e| format!("run {}: {e}", o.run_id))?;
                let mut phases = std::collections::BTreeMap::<String, usize>::new();
                for i in &run.items {
                    *phases
                        .entry(serde_json::to_value(i.phase).unwrap_or_default().as_str().unwrap_or("?").to_string())
                        .or_default() += 1;
                }
                let result = run.result(|_| Vec::new());
                json!({"runId": o.run_id, "scheduledAt": at, "state": if run.ended() { "ended" } else { "open" },
                       "outcome": result.outcome, "endedAt": run.ended_at, "phases": phases,
                       "signals": result.signals.iter().filter_map(|s| serde_json::to_value(s).ok()?.get("kind").cloned()).collect::<Vec<_>>()})
            }
        };
        runs.push(entry);
    }
    let next = schedule.next_after(now).map(|o| restore_contract::Timestamp::from(o.at));
    let history: PlanHistory =
        read(PlanHistory::key(&plan.name)).await?.and_then(|d| serde_json::from_value(d.body).ok()).unwrap_or_default();
    let items: Vec<Value> = history
        .items
        .iter()
        .map(|(id, h)| json!({"item": id, "lastDrilled": h.last_drilled, "lastPassed": h.last_passed, "rtoSeconds": h.rtos}))
        .collect();
    Ok(json!({"plan": plan.name, "nextRun": next, "runs": runs, "items": items}))
}

fn status_text(v: &Value) -> String {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    let mut t = format!(
        "plan {}
  next run   {}
",
        s(v, "plan"),
        s(v, "nextRun")
    );
    for r in v["runs"].as_array().into_iter().flatten() {
        let detail = match r["state"].as_str() {
            Some("ended") => format!("{} ended {}", s(r, "outcome"), s(r, "endedAt")),
            Some("open") => {
                let phases: Vec<String> =
                    r["phases"].as_object().into_iter().flatten().map(|(k, n)| format!("{n} {k}")).collect();
                format!("open: {}", phases.join(", "))
            }
            other => other.unwrap_or("?").to_string(),
        };
        let signals: Vec<&str> = r["signals"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let signals = if signals.is_empty() { String::new() } else { format!("  signals: {}", signals.join(", ")) };
        t.push_str(&format!(
            "  run {}  {detail}{signals}
",
            s(r, "runId")
        ));
    }
    for i in v["items"].as_array().into_iter().flatten() {
        let rtos: Vec<String> = i["rtoSeconds"].as_array().into_iter().flatten().map(|n| format!("{n}s")).collect();
        t.push_str(&format!(
            "  item {}
    last drilled {}  last passed {}  RTOs {}
",
            s(i, "item"),
            s(i, "lastDrilled"),
            s(i, "lastPassed"),
            if rtos.is_empty() { "-".into() } else { rtos.join(" ") }
        ));
    }
    t
}

async fn status(args: StatusArgs, json: bool) -> Result<ExitCode, String> {
    let (policy, _) = args.policy.load()?;
    let store = args.store.open().await?;
    let now = time::OffsetDateTime::now_utc();
    let (mut out, mut all_valid) = (Vec::new(), true);
    for file in &args.plans {
        let bytes = std::fs::read(file)
            .map_err(|e| format!("cannot read {}: {e}; give the path of a drill plan JSON file", file.display()))?;
        match restore_drills::parse_plan(&bytes, &policy, now) {
            Ok(plan) => out.push(plan_status(store.as_ref(), &plan, now).await?),
            Err(e) => {
                all_valid = false;
                eprintln!(
                    "restorectl: {} does not validate ({}): {}; `restorectl drills validate` says more",
                    file.display(),
                    e.code(),
                    e.message
                );
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"plans": out})).unwrap_or_default());
    } else {
        for v in &out {
            print!("{}", status_text(v));
        }
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(exit::NO) })
}

fn validate(args: ValidatePlanArgs, json: bool) -> Result<ExitCode, String> {
    let (policy, policy_source) = args.policy.load()?;
    let now = time::OffsetDateTime::now_utc();
    let mut all_valid = true;
    let mut out = Vec::new();
    for file in &args.plans {
        let bytes = std::fs::read(file)
            .map_err(|e| format!("cannot read {}: {e}; give the path of a drill plan JSON file", file.display()))?;
        let verdict = match restore_drills::parse_plan(&bytes, &policy, now) {
            Ok(plan) => {
                let next: Vec<Value> = plan
                    .schedule()
                    .occurrences(now, now + time::Duration::days(3660), args.next)
                    .into_iter()
                    .map(
                        |o| json!({"runId": o.run_id, "at": restore_contract::Timestamp::from(o.at), "local": o.local}),
                    )
                    .collect();
                json!({"file": file.display().to_string(), "valid": true, "plan": plan.plan().name, "nextRuns": next})
            }
            Err(e) => {
                all_valid = false;
                json!({"file": file.display().to_string(), "valid": false, "error": {
                    "code": e.code(), "field": e.field, "rule": e.rule, "message": e.message, "fix": e.fix
                }})
            }
        };
        out.push(verdict);
    }
    if json {
        let doc = json!({"policy": policy_source, "plans": out});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        for v in &out {
            print!("{}", text(v));
        }
        println!("policy: {policy_source}");
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(exit::NO) })
}

fn text(v: &Value) -> String {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    if v["valid"] == true {
        let mut t = format!("valid: {} ({})\n", s("/plan"), s("/file"));
        for r in v["nextRuns"].as_array().into_iter().flatten() {
            let at = r["at"].as_str().unwrap_or_default();
            let local = r["local"].as_str().unwrap_or_default();
            t.push_str(&format!("  next run {at} (local {local})\n"));
        }
        t
    } else {
        let mut t = format!("invalid: {} ({})\n", s("/error/code"), s("/file"));
        if let Some(f) = v.pointer("/error/field").and_then(Value::as_str) {
            t.push_str(&format!("  field      {f}\n"));
        }
        if let Some(r) = v.pointer("/error/rule").and_then(Value::as_str) {
            t.push_str(&format!("  rule       {r}\n"));
        }
        t.push_str(&format!("  problem    {}\n  fix        {}\n", s("/error/message"), s("/error/fix")));
        t
    }
}

fn report(args: ReportArgs, json: bool) -> Result<ExitCode, String> {
    let (page, data) = match &args.run {
        Some(run) if !args.overview => {
            let (page, data) = restore_evidence::store::run_files(run).map_err(|e| e.to_string())?;
            (args.dir.join(page), args.dir.join(data))
        }
        _ => (args.dir.join("index.html"), args.dir.join("index.json")),
    };
    if !page.is_file() {
        eprintln!(
            "restorectl: no report at {}: check the run id (`restorectl drills status PLAN` lists a plan's runs) or --dir / RESTORE_DRILL_EVIDENCE_DIR",
            page.display()
        );
        return Ok(ExitCode::from(exit::NO));
    }
    if json {
        let text = std::fs::read_to_string(&data).map_err(|e| format!("cannot read {}: {e}", data.display()))?;
        println!("{text}");
    } else {
        println!("{}", page.display());
    }
    if args.open {
        open(&page)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens `page` with the desktop's handler; a machine without one gets an error naming the file to open.
fn open(page: &Path) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener).arg(page).status() {
        Ok(s) if s.success() => Ok(()),
        _ => Err(format!("cannot open {} with {opener}; open the file in a browser", page.display())),
    }
}
