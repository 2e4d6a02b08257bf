//! `restorectl drills sweep [--apply]`: the drill function's sandbox sweep, on demand. Each sandbox resource
//! group of the policy is listed for resources carrying the drill's run tag, and each is judged against its run
//! from the state store by the function's own code ([`restore_drills::sweep::survey`]). Dry run by default:
//! nothing is deleted; `--apply` sends the DELETE for the resources judged deletable, and only those.
//!
//! Exit 0 when everything judged deletable was deleted (or in a dry run), 3 when Azure or the store failed or
//! refused a DELETE, 2 for a configuration error (no sandbox groups, no ARM settings).

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::Method;
use clap::Args;
use restore_drills::item::SeamError;
use restore_drills::run::DrillRun;
use restore_drills::sweep::{LIST_API_VERSION, SweepSeams, Verdict, list_filter, survey};
use restore_engine::client::{ArmClient, CallError};
use restore_engine::pipeline::Retry;
use restore_store::StateStore;
use serde_json::{Value, json};

use crate::exit;
use crate::policy::PolicyArgs;
use crate::store::StoreArgs;

/// Flags of `restorectl drills sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Send the DELETEs for the resources judged deletable (default: a dry run, nothing deleted).
    #[arg(long)]
    apply: bool,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Azure through the engine's ARM client, runs from the state store: what the drill function's sweep reads.
struct CliSweep {
    client: ArmClient,
    store: Arc<dyn StateStore>,
}

fn ctx() -> azure_core::http::Context<'static> {
    ArmClient::context("restorectl-drills-sweep")
}

fn seam(e: impl std::fmt::Display) -> SeamError {
    SeamError(e.to_string())
}

#[async_trait]
impl SweepSeams for CliSweep {
    async fn drill_tagged(&self, group: &str) -> Result<Vec<Value>, SeamError> {
        let filter = list_filter();
        let url = self.client.pipeline().url(&format!("{group}/resources"), LIST_API_VERSION, &[("$filter", &filter)]);
        self.client
            .list_all(&ctx(), "list drill-tagged resources", url, None)
            .await
            .map_err(|e| SeamError(format!("listing {group}: {e}")))
    }

    async fn run(&self, run_id: &str) -> Result<Option<DrillRun>, SeamError> {
        let key = DrillRun::key(run_id);
        let doc = self
            .store
            .document(&key)
            .await
            .map_err(|e| SeamError(format!("reading {key} from {}: {e}", self.store.describe())))?;
        Ok(doc.and_then(|d| serde_json::from_value(d.body).ok()))
    }
}

impl CliSweep {
    /// DELETE as the drill function sends it (the same api-version per type); Azure's status, error or not.
    async fn delete(&self, id: &str) -> Result<u16, SeamError> {
        let url = self.client.pipeline().url(id, restore_drills::cleanup::api_version(id), &[]);
        match self.client.call(&ctx(), Method::Delete, url, None, Retry::Safe).await {
            Ok(response) => Ok(response.status),
            Err(CallError::Azure(e)) => Ok(e.status),
            Err(e) => Err(seam(e)),
        }
    }
}

/// Runs `drills sweep`.
pub async fn run(args: SweepArgs, json: bool) -> Result<ExitCode, String> {
    let (policy, policy_source) = args.policy.load()?;
    if policy.sandbox.resource_groups.is_empty() {
        return Err(format!(
            "the policy ({policy_source}) lists no sandbox resource groups (sandbox.resourceGroups): there is \
             nothing to sweep; give --policy FILE with the drill sandbox, as the drill function reads it"
        ));
    }
    let store = args.store.open().await?;
    let (client, _) = restore_engine::config::client_from_env(true).map_err(|e| {
        format!("the ARM client: {e}; sign in with `az login`, or set the identity and RESTORE_CLOUD settings")
    })?;
    let seams = CliSweep { client, store };
    let now = time::OffsetDateTime::now_utc();
    let judged = match survey(&seams, &policy.sandbox, now).await {
        Ok(judged) => judged,
        Err(e) => {
            eprintln!("restorectl: sweep: {e}; nothing deleted");
            return Ok(ExitCode::from(exit::SERVICE));
        }
    };
    let mut out = Vec::new();
    let mut failed = false;
    for j in judged {
        let run = j.run_id.as_deref().unwrap_or("-");
        let (verdict, reason) = match &j.verdict {
            Verdict::Delete => ("delete", format!("run {run} has ended (or the resource expired) and records it")),
            Verdict::RunOpen => ("keep", format!("run {run} is still open and cleans up after itself")),
            Verdict::Refused(why) => ("refused", why.clone()),
        };
        let mut entry = json!({"resource": j.resource, "runId": j.run_id, "verdict": verdict, "reason": reason});
        if args.apply && j.verdict == Verdict::Delete {
            match seams.delete(&j.resource).await {
                Ok(status) => {
                    failed |= !restore_drills::cleanup::delete_accepted(status);
                    entry["deleteStatus"] = json!(status);
                }
                Err(e) => {
                    failed = true;
                    entry["deleteError"] = json!(e.0);
                }
            }
        }
        out.push(entry);
    }
    if json {
        let doc = json!({"dryRun": !args.apply, "policy": policy_source, "resources": out});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", text(&out, args.apply));
    }
    Ok(if failed { ExitCode::from(exit::SERVICE) } else { ExitCode::SUCCESS })
}

fn text(resources: &[Value], apply: bool) -> String {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    let mut t = String::new();
    for r in resources {
        t.push_str(&format!("{}  {}\n  {}\n", s(r, "verdict"), s(r, "resource"), s(r, "reason")));
        if let Some(status) = r["deleteStatus"].as_u64() {
            let meaning = match status {
                200 | 204 => "deleted",
                202 => "deletion accepted",
                404 => "already gone",
                _ => "refused",
            };
            t.push_str(&format!("  DELETE: Azure answered {status} ({meaning})\n"));
        } else if let Some(e) = r["deleteError"].as_str() {
            t.push_str(&format!("  DELETE failed: {e}\n"));
        }
    }
    let deletable = resources.iter().filter(|r| r["verdict"] == "delete").count();
    if resources.is_empty() {
        t.push_str("no drill-tagged resources in the sandbox resource groups\n");
    }
    if !apply {
        t.push_str(&format!("dry run: nothing deleted; {deletable} resource(s) would be deleted with --apply\n"));
    }
    t
}
