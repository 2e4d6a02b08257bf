//! `restorectl drills run PLAN --now`: asks for a run of a plan outside its schedule. The request is recorded in
//! the plan's `drill-adhoc:<plan>` document (compare-and-swap, retried on a conflict); the drill function starts
//! it on its next tick through the same path as a scheduled run, so the exactly-once rules are the same: the run
//! id is the plan and the requested second, and asking twice in one second is one run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use restore_drills::adhoc::AdhocRuns;
use restore_store::{Document, StoreError};
use serde_json::json;

use crate::exit;
use crate::policy::PolicyArgs;
use crate::store::StoreArgs;

/// Flags of `restorectl drills run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan file (JSON), as the drill function reads it; it must validate.
    #[arg(value_name = "PLAN")]
    plan: PathBuf,
    /// Start the run now (the only mode: a run at another time is the schedule's business).
    #[arg(long, required = true)]
    now: bool,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Who asks, as the machine knows them (recorded with the request).
fn requester() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "restorectl".into())
}

/// Runs `drills run`.
pub async fn run(args: RunArgs, json: bool) -> Result<ExitCode, String> {
    let (policy, _) = args.policy.load()?;
    let bytes = std::fs::read(&args.plan)
        .map_err(|e| format!("cannot read {}: {e}; give the path of a drill plan JSON file", args.plan.display()))?;
    let now = time::OffsetDateTime::now_utc();
    let plan = match restore_drills::parse_plan(&bytes, &policy, now) {
        Ok(plan) => plan.into_plan(),
        Err(e) => {
            eprintln!(
                "restorectl: {} does not validate ({}): {}; `restorectl drills validate` says more",
                args.plan.display(),
                e.code(),
                e.message
            );
            return Ok(ExitCode::from(exit::NO));
        }
    };
    let store = args.store.open().await?;
    // Requests older than the function's horizon are never started: forget them as this one is added.
    let forget_before = now - time::Duration::seconds(plan.completion_window.as_secs()) - time::Duration::days(1);
    let key = AdhocRuns::key(&plan.name);
    for _ in 0..5 {
        let doc = store.document(&key).await.map_err(|e| format!("reading {key} from {}: {e}", store.describe()))?;
        let mut runs: AdhocRuns =
            doc.as_ref().and_then(|d| serde_json::from_value(d.body.clone()).ok()).unwrap_or_default();
        let run_id = runs.request(&plan.name, now, &requester(), forget_before);
        let body = serde_json::to_value(&runs).map_err(|e| e.to_string())?;
        let write = match doc {
            Some(d) => Document { body, ..d },
            None => Document { key: key.clone(), version: String::new(), body },
        };
        match store.put_document(&write).await {
            Ok(_) => {
                if json {
                    println!("{}", json!({"plan": plan.name, "runId": run_id, "requested": true}));
                } else {
                    println!("requested run {run_id}: the drill function starts it on its next tick");
                    println!("follow it with `restorectl drills status {}`", args.plan.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(format!("writing {key} to {}: {e}", store.describe())),
        }
    }
    Err(format!("{key} kept changing under this write (5 tries); try again"))
}
