//! `restorectl drills history ITEM [--plan PLAN…]`: one item's history in each plan's history document (last
//! drilled, last passed, last RTOs and their median, the regression rule's baseline). Exit 1 when no plan has
//! drilled the item.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use restore_drills::ItemId;
use restore_drills::history::PlanHistory;
use serde_json::{Value, json};

use crate::exit;
use crate::store::StoreArgs;

/// Where the drill function reads its plans (the default for `--plan`).
const PLANS_DIR: &str = "RESTORE_DRILL_PLANS_DIR";

/// Flags of `restorectl drills history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The item: a backup instance id (a disk in a Backup vault) or a protected item id (a VM in a Recovery
    /// Services vault), as plans and drill results name it.
    #[arg(value_name = "ITEM")]
    item: String,
    /// A drill plan file whose history to read (repeat for several). Default: every *.json in
    /// RESTORE_DRILL_PLANS_DIR, the folder the drill function reads.
    #[arg(long = "plan", value_name = "PLAN_FILE")]
    plans: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// The plan files: the flags, else the drill function's folder.
fn plan_files(flags: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if !flags.is_empty() {
        return Ok(flags.to_vec());
    }
    let dir = std::env::var(PLANS_DIR).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        format!("no plans: give --plan PLAN_FILE (repeatable), or set {PLANS_DIR} to the folder of drill plans")
    })?;
    let entries = std::fs::read_dir(dir.trim())
        .map_err(|e| format!("{PLANS_DIR} {}: {e}; set it to the folder of drill plans or give --plan", dir.trim()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{PLANS_DIR} {}: no *.json plan files there; give --plan PLAN_FILE", dir.trim()));
    }
    Ok(files)
}

/// The plan's name (its history's key): the document's shape is enough, the policy does not matter here.
fn plan_name(file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file)
        .map_err(|e| format!("cannot read {}: {e}; give the path of a drill plan JSON file", file.display()))?;
    restore_drills::parse_document(&bytes).map(|p| p.name).map_err(|e| {
        format!(
            "{} is not a drill plan ({}): {}; `restorectl drills validate` says more",
            file.display(),
            e.code(),
            e.message
        )
    })
}

/// Runs `drills history`.
pub async fn run(args: HistoryArgs, json: bool) -> Result<ExitCode, String> {
    let item = ItemId::parse(args.item.trim()).map_err(|e| format!("ITEM: {e}"))?;
    let files = plan_files(&args.plans)?;
    let named = files.iter().map(|f| Ok((f, plan_name(f)?))).collect::<Result<Vec<_>, String>>()?;
    let store = args.store.open().await?;
    let mut plans = Vec::new();
    for (file, name) in named {
        let key = PlanHistory::key(&name);
        let doc = match store.document(&key).await {
            Ok(doc) => doc,
            Err(e) => {
                eprintln!("restorectl: reading {key} from {}: {e}", store.describe());
                return Ok(ExitCode::from(exit::SERVICE));
            }
        };
        let history: PlanHistory = doc.and_then(|d| serde_json::from_value(d.body).ok()).unwrap_or_default();
        let entry = match history.item(&item) {
            Some(h) => json!({
                "plan": name, "file": file.display().to_string(), "drilled": h.last_drilled.is_some(),
                "lastDrilled": h.last_drilled, "lastPassed": h.last_passed, "rtoSeconds": h.rtos,
                "medianRtoSeconds": restore_drills::rto::median_of_last_five(&h.rtos)
            }),
            None => json!({"plan": name, "file": file.display().to_string(), "drilled": false}),
        };
        plans.push(entry);
    }
    let drilled = plans.iter().any(|p| p["drilled"] == true);
    if json {
        let doc = json!({"item": item.as_str(), "plans": plans});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", text(item.as_str(), &plans));
    }
    if !drilled {
        eprintln!(
            "restorectl: no plan among {} has drilled {}; check the id (drill results and `restorectl drills status` name \
             items) and the plans",
            plans.len(),
            item.as_str()
        );
        return Ok(ExitCode::from(exit::NO));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(item: &str, plans: &[Value]) -> String {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("never").to_string();
    let mut t = format!("item {item}\n");
    for p in plans {
        if p["drilled"] != true {
            t.push_str(&format!("  plan {}  never drilled\n", s(p, "plan")));
            continue;
        }
        let rtos: Vec<String> = p["rtoSeconds"].as_array().into_iter().flatten().map(|n| format!("{n}s")).collect();
        let rtos = if rtos.is_empty() { "-".to_string() } else { rtos.join(" ") };
        let median = p["medianRtoSeconds"].as_i64().map_or_else(|| "-".to_string(), |m| format!("{m}s"));
        t.push_str(&format!(
            "  plan {}\n    last drilled {}  last passed {}\n    RTOs {rtos}  median {median}\n",
            s(p, "plan"),
            s(p, "lastDrilled"),
            s(p, "lastPassed")
        ));
    }
    t
}
