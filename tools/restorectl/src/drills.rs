//! `restorectl drills`: recovery drill plans and their evidence.
//!
//! * `validate PLAN…`: offline, the drill function's own checks (shape, schedule, policy), with the next runs the
//!   schedule gives. Exit 0 valid, 1 invalid, 2 usage or configuration error.
//! * `report RUN | --overview [--dir DIR] [--open]`: the path of a run's report page (or the overview) in the
//!   evidence folder, checked to exist; `--open` opens it with the desktop's handler; `--json` prints the
//!   evidence pack (or the overview's data).
//! * `status RUN [--watch]`: one run's live progress, a bar over its items' steps ([`progress`]).
//! * `status PLAN… [--sqlite PATH | --blob-container-url URL]`: from the state store the drill function writes,
//!   each plan's recent runs (open with their items' phases, ended with their outcome, missed), its next run, and
//!   its history per item (last drill, last pass, last RTOs). Exit 1 when a plan does not validate.
//! * `list PLAN… [--sqlite PATH | --blob-container-url URL]`: one line per plan from the same reads as `status`:
//!   valid or its refusal code, next run, last run's outcome and when, coverage, open runs.
//! * `history ITEM [--plan PLAN…]`: one item's history in each plan ([`history`]).
//! * `sweep [--apply]`: the drill function's sandbox sweep on demand, dry run by default ([`sweep`]).
//! * `run PLAN --now`: asks for a run outside the schedule; the drill function starts it ([`run`]).

mod history;
mod online;
mod progress;
mod run;
mod sweep;

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
    /// One line per plan: valid, next run, last run, coverage, open runs (from the state store).
    List(StatusArgs),
    /// One item's drill history in each plan: last drilled, last passed, RTOs and their median.
    History(history::HistoryArgs),
    /// Judge the drill-tagged resources in the sandbox groups; delete the deletable ones with --apply.
    Sweep(sweep::SweepArgs),
    /// Ask for a run of a plan now, outside its schedule (the drill function starts it on its next tick).
    Run(run::RunArgs),
}

/// Flags of `restorectl drills status` and `restorectl drills list`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Plan files (JSON), as the drill function reads them; or, for `status`, one run id
    /// (`<plan>.<YYYYMMDDTHHMMSSZ>`) to show that run's progress.
    #[arg(value_name = "PLAN|RUN", required = true)]
    plans: Vec<PathBuf>,
    /// With a run id: follow the run, redrawing its progress bar, until it ends.
    #[arg(long)]
    watch: bool,
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
    /// Also resolve the selection, the cost guard and the preflight against Azure (reads only; the ARM settings
    /// as for `submit`), exactly as a run starting now would.
    #[arg(long)]
    online: bool,
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
        DrillsCommand::Validate(a) => validate(a, json).await,
        DrillsCommand::Report(a) => report(a, json),
        DrillsCommand::Status(a) => status(a, json).await,
        DrillsCommand::List(a) => list(a, json).await,
        DrillsCommand::History(a) => history::run(a, json).await,
        DrillsCommand::Sweep(a) => sweep::run(a, json).await,
        DrillsCommand::Run(a) => run::run(a, json).await,
    }
}

/// A state store read that failed (exit [`exit::SERVICE`]): the message names the document and the store.
struct StoreFailure(String);

/// What the state store holds about one plan, read once and shown by both `status` and `list`.
struct PlanState {
    name: String,
    /// The runs of the drill function's horizon, oldest first, classified as `status --json` prints them
    /// (`state`: due, notStarted, missed, open or ended).
    runs: Vec<Value>,
    next: Option<restore_contract::Timestamp>,
    history: restore_drills::history::PlanHistory,
    coverage: Option<restore_drills::plan::Coverage>,
}

/// Reads a plan's runs in the drill function's horizon (its completion window plus a day) and its history.
async fn plan_state(
    store: &dyn restore_store::StateStore,
    plan: &restore_drills::ValidPlan,
    now: time::OffsetDateTime,
) -> Result<PlanState, StoreFailure> {
    use restore_drills::history::PlanHistory;
    use restore_drills::run::DrillRun;
    let (schedule, plan) = (plan.schedule(), plan.plan());
    let read = |key: String| async move {
        store.document(&key).await.map_err(|e| StoreFailure(format!("reading {key} from {}: {e}", store.describe())))
    };
    // The drill function's own horizon: runs are followed for their completion window plus a day.
    let horizon = now - time::Duration::seconds(plan.completion_window.as_secs()) - time::Duration::days(1);
    // Runs asked for with `drills run --now`, beside the schedule's (the function follows both).
    let adhoc: restore_drills::adhoc::AdhocRuns = read(restore_drills::adhoc::AdhocRuns::key(&plan.name))
        .await?
        .and_then(|d| serde_json::from_value(d.body).ok())
        .unwrap_or_default();
    let requested = adhoc.occurrences(horizon);
    let mut runs = Vec::new();
    let scheduled = schedule.occurrences(horizon, now, restore_drills::schedule::MAX_OCCURRENCES);
    for o in scheduled.into_iter().chain(requested) {
        let doc = read(DrillRun::key(&o.run_id)).await?;
        let at = restore_contract::Timestamp::from(o.at);
        let entry = match doc.map(|d| d.body) {
            None if adhoc.runs.iter().any(|r| r.run_id == o.run_id) => {
                json!({"runId": o.run_id, "scheduledAt": at, "state": "requested"})
            }
            None if now < o.at + schedule.start_window().to_time() => {
                json!({"runId": o.run_id, "scheduledAt": at, "state": "due"})
            }
            None => json!({"runId": o.run_id, "scheduledAt": at, "state": "notStarted"}),
            Some(body) if body["missed"] == true => json!({"runId": o.run_id, "scheduledAt": at, "state": "missed"}),
            Some(body) => match serde_json::from_value::<DrillRun>(body) {
                Ok(run) => run_entry(&run, at),
                Err(e) => json!({"runId": o.run_id, "scheduledAt": at, "state": "unreadable", "error": e.to_string()}),
            },
        };
        runs.push(entry);
    }
    let next = schedule.next_after(now).map(|o| restore_contract::Timestamp::from(o.at));
    let history: PlanHistory =
        read(PlanHistory::key(&plan.name)).await?.and_then(|d| serde_json::from_value(d.body).ok()).unwrap_or_default();
    Ok(PlanState { name: plan.name.clone(), runs, next, history, coverage: plan.coverage })
}

/// A stored run as `status --json` shows it: open with its items' phases, or ended with outcome and signals.
fn run_entry(run: &restore_drills::run::DrillRun, at: restore_contract::Timestamp) -> Value {
    let mut phases = std::collections::BTreeMap::<String, usize>::new();
    for i in &run.items {
        let phase = serde_json::to_value(i.phase).ok().and_then(|v| v.as_str().map(str::to_string));
        *phases.entry(phase.unwrap_or_else(|| "?".into())).or_default() += 1;
    }
    let result = run.result(|_| Vec::new());
    let signals: Vec<Value> =
        result.signals.iter().filter_map(|s| serde_json::to_value(s).ok()?.get("kind").cloned()).collect();
    json!({"runId": run.run_id, "scheduledAt": at, "state": if run.ended() { "ended" } else { "open" },
           "outcome": result.outcome, "endedAt": run.ended_at, "phases": phases, "signals": signals})
}

/// One plan's status as `--json` prints it.
fn plan_status(state: &PlanState) -> Value {
    let items: Vec<Value> = state
        .history
        .items
        .iter()
        .map(|(id, h)| json!({"item": id, "lastDrilled": h.last_drilled, "lastPassed": h.last_passed, "rtoSeconds": h.rtos}))
        .collect();
    json!({"plan": state.name, "nextRun": state.next, "runs": state.runs, "items": items})
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

/// Reads and validates a plan file as the drill function does; `Err` only when the file cannot be read.
fn read_plan(
    file: &Path,
    policy: &restore_contract::Policy,
    now: time::OffsetDateTime,
) -> Result<(Vec<u8>, Result<restore_drills::ValidPlan, restore_drills::PlanError>), String> {
    let bytes = std::fs::read(file)
        .map_err(|e| format!("cannot read {}: {e}; give the path of a drill plan JSON file", file.display()))?;
    let plan = restore_drills::parse_plan(&bytes, policy, now);
    Ok((bytes, plan))
}

/// Prints a store failure and gives the exit code for it.
fn service(StoreFailure(message): StoreFailure) -> ExitCode {
    eprintln!("restorectl: {message}");
    ExitCode::from(exit::SERVICE)
}

async fn status(args: StatusArgs, json: bool) -> Result<ExitCode, String> {
    if let [one] = args.plans.as_slice()
        && let Some(run_id) = one.to_str().filter(|t| progress::is_run_id(t))
    {
        let store = args.store.open().await?;
        return progress::show(store.as_ref(), run_id, args.watch, json).await;
    }
    if args.watch {
        return Err("--watch follows one run: give its run id (<plan>.<YYYYMMDDTHHMMSSZ>) instead of plan files".into());
    }
    let (policy, _) = args.policy.load()?;
    let store = args.store.open().await?;
    let now = time::OffsetDateTime::now_utc();
    let (mut out, mut all_valid) = (Vec::new(), true);
    for file in &args.plans {
        match read_plan(file, &policy, now)?.1 {
            Ok(plan) => match plan_state(store.as_ref(), &plan, now).await {
                Ok(state) => out.push(plan_status(&state)),
                Err(e) => return Ok(service(e)),
            },
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

/// One plan's line of `list`, as `--json` prints it: the last ended or missed run, the open runs, and the share
/// of the history's items whose last passing drill is inside the coverage window.
fn list_entry(state: &PlanState, now: time::OffsetDateTime) -> Value {
    let last = state.runs.iter().rev().find(|r| matches!(r["state"].as_str(), Some("ended" | "missed")));
    let last = last.map(|r| {
        let at = if r["state"] == "ended" { &r["endedAt"] } else { &r["scheduledAt"] };
        let outcome = if r["state"] == "missed" { json!("missed") } else { r["outcome"].clone() };
        json!({"runId": r["runId"], "outcome": outcome, "at": at})
    });
    let open = state.runs.iter().filter(|r| r["state"] == "open").count();
    let coverage = state.coverage.map(|c| {
        let since = now - time::Duration::days(i64::from(c.within_days));
        let items = state.history.items.len();
        let covered = state.history.items.values().filter(|h| h.last_passed.is_some_and(|t| t.get() >= since)).count();
        json!({"withinDays": c.within_days, "items": items, "covered": covered})
    });
    json!({"plan": state.name, "valid": true, "nextRun": state.next, "lastRun": last, "openRuns": open,
           "coverage": coverage})
}

fn list_text(v: &Value) -> String {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    if v["valid"] != true {
        return format!("{}  invalid ({})  {}\n", s(v, "plan"), s(v, "code"), s(v, "file"));
    }
    let last = match v["lastRun"].as_object() {
        Some(r) => format!(
            "last {} {}",
            r.get("outcome").and_then(Value::as_str).unwrap_or("ended"),
            r.get("at").and_then(Value::as_str).unwrap_or("-")
        ),
        None => "no run yet".into(),
    };
    let coverage = match v["coverage"].as_object() {
        Some(c) => {
            let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or_default();
            let share = if n("items") == 0 { "-".into() } else { format!("{}%", n("covered") * 100 / n("items")) };
            format!("coverage {}/{} items within {} days ({share})", n("covered"), n("items"), n("withinDays"))
        }
        None => "no coverage target".into(),
    };
    format!(
        "{}  valid  next {}  {last}  {coverage}  {} open\n",
        s(v, "plan"),
        s(v, "nextRun"),
        v["openRuns"].as_u64().unwrap_or_default()
    )
}

async fn list(args: StatusArgs, json: bool) -> Result<ExitCode, String> {
    if args.watch {
        return Err("--watch follows one run: use `restorectl drills status RUN --watch`".into());
    }
    let (policy, _) = args.policy.load()?;
    let store = args.store.open().await?;
    let now = time::OffsetDateTime::now_utc();
    let (mut out, mut all_valid) = (Vec::new(), true);
    for file in &args.plans {
        let (bytes, plan) = read_plan(file, &policy, now)?;
        match plan {
            Ok(plan) => match plan_state(store.as_ref(), &plan, now).await {
                Ok(state) => out.push(list_entry(&state, now)),
                Err(e) => return Ok(service(e)),
            },
            Err(e) => {
                all_valid = false;
                // The name, if the document is well-formed enough to have one; else the file stands for it.
                let name = restore_drills::parse_document(&bytes).map(|p| p.name).ok();
                let name = name.unwrap_or_else(|| file.display().to_string());
                out.push(json!({"plan": name, "file": file.display().to_string(), "valid": false,
                                "code": e.code(), "message": e.message}));
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"plans": out})).unwrap_or_default());
    } else {
        for v in &out {
            print!("{}", list_text(v));
        }
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(exit::NO) })
}

async fn validate(args: ValidatePlanArgs, json: bool) -> Result<ExitCode, String> {
    let (policy, policy_source) = args.policy.load()?;
    // Online: the drill function's own Azure side, read-only (no staging reader: nothing is deleted).
    let azure = if args.online {
        let (client, _) = restore_engine::config::client_from_env(true).map_err(|e| format!("ARM client: {e}"))?;
        Some(restore_drills_app::seams::ArmDrillAzure { client, staging: None })
    } else {
        None
    };
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
                let mut v = json!({"file": file.display().to_string(), "valid": true, "plan": plan.plan().name, "nextRuns": next});
                if let Some(azure) = &azure {
                    let online = online::check(plan.plan(), &policy.allowed_vaults, azure).await?;
                    all_valid &= online["ok"] == true;
                    v["online"] = online;
                }
                v
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
        if v.get("online").is_some() {
            t.push_str(&online::text(&v["online"]));
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
