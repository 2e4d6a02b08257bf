//! `restorectl drills status RUN [--watch]`: one run's live progress from its run document: each item's phase,
//! a progress bar over the items' steps (requested → restoring → checking → cleaning up → done), and, once it has
//! ended, its outcome. `--watch` reads it again every two seconds until it ends, redrawing the bar on stderr.

use std::process::ExitCode;

use restore_drills::item::Phase;
use restore_drills::run::DrillRun;
use serde_json::{Value, json};

use crate::exit;

/// Whether `text` is a run id (`<plan>.<YYYYMMDDTHHMMSSZ>`) rather than a plan file.
pub fn is_run_id(text: &str) -> bool {
    !std::path::Path::new(text).exists()
        && text.rsplit_once('.').is_some_and(|(plan, at)| {
            !plan.is_empty()
                && at.len() == 16
                && at.ends_with('Z')
                && at.as_bytes()[8] == b'T'
                && at.bytes().enumerate().all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
        })
}

/// Steps an item has taken, out of 4.
fn steps(phase: Phase) -> usize {
    match phase {
        Phase::Requested => 0,
        Phase::Restoring => 1,
        Phase::Checking => 2,
        Phase::CleaningUp => 3,
        Phase::Done => 4,
    }
}

/// The run's progress as `--json` prints it.
pub fn progress(run: &DrillRun) -> Value {
    let done: usize = run.items.iter().map(|i| steps(i.phase)).sum();
    let total = run.items.len() * 4;
    let items: Vec<Value> = run
        .items
        .iter()
        .map(|i| json!({"item": i.item.as_str(), "phase": i.phase, "skipped": i.skipped, "failure": i.failure.as_ref().map(|f| &f.message)}))
        .collect();
    let outcome = run
        .final_result
        .as_ref()
        .and_then(|r| r.outcome)
        .or_else(|| run.ended().then(|| run.result(|_| Vec::new()).outcome).flatten());
    json!({"runId": run.run_id, "ended": run.ended(), "outcome": outcome, "steps": done, "of": total, "items": items})
}

/// A text bar of `done` out of `total`, 30 characters wide.
pub fn bar(done: usize, total: usize) -> String {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    format!("[{}{}] {done}/{total}", "#".repeat(filled), "-".repeat(width - filled))
}

fn text(p: &Value) -> String {
    let n = |k: &str| usize::try_from(p[k].as_u64().unwrap_or(0)).unwrap_or(0);
    let mut t = format!("run {}  {}\n", p["runId"].as_str().unwrap_or("?"), bar(n("steps"), n("of")));
    for i in p["items"].as_array().into_iter().flatten() {
        let phase = i["phase"].as_str().unwrap_or("?");
        let extra = i["failure"].as_str().map(|f| format!("  failed: {f}")).unwrap_or_default();
        t.push_str(&format!("  {phase:<11} {}{extra}\n", i["item"].as_str().unwrap_or("?")));
    }
    if let Some(o) = p["outcome"].as_str() {
        t.push_str(&format!("  outcome {o}\n"));
    }
    t
}

/// Shows (and with `watch`, follows) one run.
pub async fn show(
    store: &dyn restore_store::StateStore,
    run_id: &str,
    watch: bool,
    json: bool,
) -> Result<ExitCode, String> {
    loop {
        let key = DrillRun::key(run_id);
        let doc = store.document(&key).await.map_err(|e| format!("reading {key} from {}: {e}", store.describe()))?;
        let Some(doc) = doc else {
            eprintln!(
                "restorectl: no run {run_id} in {}: check the id (`restorectl drills status PLAN` lists a plan's runs)",
                store.describe()
            );
            return Ok(ExitCode::from(exit::NO));
        };
        let run: DrillRun = serde_json::from_value(doc.body)
            .map_err(|e| format!("run {run_id} is not a run this restorectl can read: {e}"))?;
        let p = progress(&run);
        if watch && !run.ended() {
            let n = |k: &str| usize::try_from(p[k].as_u64().unwrap_or(0)).unwrap_or(0);
            eprint!("\r{run_id}  {}", bar(n("steps"), n("of")));
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            continue;
        }
        if watch {
            eprintln!();
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
        } else {
            print!("{}", text(&p));
        }
        return Ok(ExitCode::SUCCESS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_told_from_plan_files_and_the_bar_fills() {
        assert!(is_run_id("nightly-app-data.20261205T023000Z"));
        assert!(!is_run_id("plan.json") && !is_run_id("nightly.2026-12-05") && !is_run_id(".20261205T023000Z"));
        assert_eq!(bar(0, 8), format!("[{}] 0/8", "-".repeat(30)));
        assert_eq!(bar(4, 8), format!("[{}{}] 4/8", "#".repeat(15), "-".repeat(15)));
        assert_eq!(bar(8, 8), format!("[{}] 8/8", "#".repeat(30)));
    }
}
