//! The drill function app: `RestoreDrills`, a timer trigger (binding `timer`). Each tick it
//! 1. emits `drill.tick` (the heartbeat the alert rules watch);
//! 2. reads every plan from `RESTORE_DRILL_PLANS_CONTAINER_URL` or `RESTORE_DRILL_PLANS_DIR` ([`plans`]: one JSON
//!    document per plan, read each tick: no redeploy to change a plan); a plan that no longer validates, or cannot
//!    be read, raises a `planInvalid` signal instead of being skipped;
//! 3. starts each due run once: the run document `drill-run:<run id>` is created under compare-and-swap, so a tick
//!    that runs twice starts one run; its items come from the protected items of the vaults the selection needs
//!    (listed from Azure, each with its source and the source's tags), through selection, sampling and the cost
//!    guard ([`restore_drills::start`]); the plan's history `drill-history:<plan>` gives each item's last drill
//!    and the tags of sources since deleted;
//! 4. advances every open run one step per item ([`restore_drills::run`]), storing it under compare-and-swap;
//!    restore requests go out on the `requests` output binding (the intake's queue), so duplicates and crashes
//!    are the exactly-once core's business;
//! 5. when a run ends: folds it into the plan's history (last drill and pass, RTOs for the regression rule),
//!    emits `drill.runEnded` and its signals, writes its report page and evidence pack ([`EvidenceSink`]: the
//!    `RESTORE_DRILL_EVIDENCE_CONTAINER_URL` container, never overwritten, or `RESTORE_DRILL_EVIDENCE_DIR`), and
//!    returns the drill result on the `drillResults` binding.
//!
//! Missed runs (not started within their start window) raise `missedRun` once, recorded as a document. Runs are
//! looked at for their completion window plus a day; a function that stopped ticking longer than that is the
//! heartbeat alert's to report.

use restore_drills_app::evidence::EvidenceSink;
use restore_drills_app::plans::{self, PlanSource};
use restore_drills_app::seams;
use restore_workflow::startup::StartupError;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use custom_handler::{HandlerError, Invocation, Outputs, TimerInfo};
use restore_contract::Policy;
use restore_drills::adhoc::AdhocRuns;
use restore_drills::events::Event;
use restore_drills::history::PlanHistory;
use restore_drills::inventory::{gather, vaults_to_list};
use restore_drills::preflight::preflight;
use restore_drills::result::{DrillResult, Signal};
use restore_drills::run::{DrillRun, RunContext};
use restore_drills::start::{choose_points, preflight_needs, refuse, start_run};
use restore_drills::sweep::Verdict;
use restore_evidence::summary::Occurrence;
use restore_store::{Document, StateStore, StoreError};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use seams::{ArmDrillAzure, StoreRestores};

struct App {
    azure: ArmDrillAzure,
    webhook: seams::HttpWebhook,
    store: Arc<dyn StateStore>,
    policy: Policy,
    plans: PlanSource,
    evidence: EvidenceSink,
    /// Resend a drill's restore request when no record exists this long after the last send.
    resend_after: Duration,
    /// Sweep the sandbox at most this often.
    sweep_every: Duration,
}

async fn build() -> Result<App, StartupError> {
    let (client, source) = restore_engine::config::client_from_env(false)?;
    tracing::info!(credential = ?source, endpoint = %client.pipeline().endpoint(), "ARM client ready");
    let store = restore_store::from_env().await?;
    let policy = Policy::from_env()?;
    let plans = PlanSource::from_env().await.map_err(|e| e.to_string())?;
    let evidence = EvidenceSink::from_env().await.map_err(|e| e.to_string())?;
    let resend =
        restore_workflow::settings::seconds("RESTORE_DRILL_RESEND_SECONDS", std::time::Duration::from_secs(600))?;
    let resend_after = Duration::try_from(resend).map_err(|_| "RESTORE_DRILL_RESEND_SECONDS is too large")?;
    let sweep =
        restore_workflow::settings::seconds("RESTORE_DRILL_SWEEP_SECONDS", std::time::Duration::from_secs(3600))?;
    let sweep_every = Duration::try_from(sweep).map_err(|_| "RESTORE_DRILL_SWEEP_SECONDS is too large")?;
    let options = restore_engine::config::pipeline_options_from_env()?;
    let staging = restore_workflow::staging::StagingEndpoint::from_env(&options.cloud).ok().and_then(|endpoint| {
        let (_, credential) = restore_engine::credential::from_env(false).ok()?;
        let transport = restore_engine::transport::transport(&options.transport).ok()?;
        Some(restore_workflow::staging::StagingReader::new(endpoint, credential, Some(transport)))
    });
    // The webhook check's client: the same transport settings (extra CAs) as every other client of the app.
    let http = restore_connect::transport::http_client(&options.transport)
        .map_err(|e| format!("the webhook check's HTTP client: {e}"))?;
    Ok(App {
        azure: ArmDrillAzure { client, staging },
        webhook: seams::HttpWebhook { client: http },
        store,
        policy,
        plans,
        evidence,
        resend_after,
        sweep_every,
    })
}

fn run_key(run_id: &str) -> String {
    DrillRun::key(run_id)
}

fn store_error(e: StoreError) -> HandlerError {
    HandlerError::msg(format!("state store: {e}"))
}

async fn tick(app: Arc<App>, _timer: TimerInfo) -> Result<Outputs, HandlerError> {
    Event::Tick.emit();
    let now = OffsetDateTime::now_utc();
    let restores = StoreRestores { store: app.store.clone(), outbox: Mutex::new(Vec::new()) };
    let mut results = Vec::new();
    // The overview across plans, and whether this tick changed anything it shows.
    let (mut overview, mut dirty) = (Vec::new(), false);
    for plans::PlanDocument { name: file, bytes } in
        app.plans.read().await.map_err(|e| HandlerError::msg(e.to_string()))?
    {
        // A plan that cannot be read is signalled like one that does not validate: never silently skipped.
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) => {
                Event::Signal { plan: &file, run_id: "", signal: &e.signal() }.emit();
                continue;
            }
        };
        let plan = match restore_drills::parse_plan(&bytes, &app.policy, now) {
            Ok(plan) => plan,
            Err(e) => {
                let signal = Signal::from(&e);
                Event::Signal { plan: &file, run_id: "", signal: &signal }.emit();
                continue;
            }
        };
        let (schedule, plan) = (plan.schedule().clone(), plan.into_plan());
        // How far back runs are looked at: a run is followed (and a missed one signalled) for its completion
        // window plus a day; older ones are the heartbeat alert's business (the function was not ticking).
        let horizon = now - Duration::seconds(plan.completion_window.as_secs()) - Duration::days(1);
        // Runs asked for outside the schedule (`restorectl drills run --now`): started through the same path.
        let adhoc: Vec<restore_drills::Occurrence> = match app.store.document(&AdhocRuns::key(&plan.name)).await {
            Ok(Some(doc)) => {
                serde_json::from_value::<AdhocRuns>(doc.body).map(|a| a.occurrences(horizon)).unwrap_or_default()
            }
            Ok(None) => Vec::new(),
            Err(e) => return Err(store_error(e)),
        };
        // Due runs, and runs asked for, start once: the create is conditional. At most one open run per plan: a
        // run waits (inside its start window) for an open one to end, and a scheduled one is missed if it never can.
        let occurrences = schedule.occurrences(horizon, now, restore_drills::schedule::MAX_OCCURRENCES);
        let due = schedule.due(now, |_| false);
        for (start, scheduled) in due.iter().map(|o| (o, true)).chain(adhoc.iter().map(|o| (o, false))) {
            if app.store.document(&run_key(&start.run_id)).await.map_err(store_error)?.is_some() {
                continue;
            }
            if let Some(open) = open_run(&app, occurrences.iter().chain(&adhoc), &start.run_id).await? {
                tracing::info!(plan = %plan.name, run_id = %start.run_id, open = %open, "run waits for the plan's open run");
                continue;
            }
            if scheduled {
                let closes = start.at + Duration::seconds(plan.schedule.start_window.as_secs());
                Event::RunDue {
                    plan: &plan.name,
                    run_id: &start.run_id,
                    scheduled_at: &restore_contract::Timestamp::from(start.at).to_string(),
                    window_closes_at: &restore_contract::Timestamp::from(closes).to_string(),
                }
                .emit();
            }
            dirty |= begin_run(&app, &plan, &start.run_id, start.at, now).await?;
        }
        // Missed runs, each signalled once; occurrences before the plan was first read are not missed.
        let (first_seen, mut history) = first_seen(app.store.as_ref(), &plan.name, now).await.map_err(store_error)?;
        for missed in schedule.missed(horizon.max(first_seen), now, |_| false) {
            if app.store.document(&run_key(&missed.run_id)).await.map_err(store_error)?.is_some() {
                continue;
            }
            let marker =
                Document { key: run_key(&missed.run_id), version: String::new(), body: json!({"missed": true}) };
            if app.store.put_document(&marker).await.is_ok() {
                dirty = true;
                let signal = restore_drills::rto::missed_signal(missed.at, plan.schedule.start_window);
                Event::Signal { plan: &plan.name, run_id: &missed.run_id, signal: &signal }.emit();
                let result = DrillResult::signal_only(&plan.name, &missed.run_id, missed.at.into(), signal);
                results.push(serde_json::to_string(&result).map_err(|e| HandlerError::msg(e.to_string()))?);
            }
        }
        // Open runs: every occurrence in the horizon (the scheduler's own bound, so the newest are never cut off).
        // What each holds also goes into the overview.
        let mut seen = Vec::new();
        for occurrence in occurrences.into_iter().chain(adhoc) {
            let Some(doc) = app.store.document(&run_key(&occurrence.run_id)).await.map_err(store_error)? else {
                continue;
            };
            if doc.body["missed"] == true {
                seen.push(Occurrence::Missed(occurrence.at));
                continue;
            }
            let Ok(mut run) = serde_json::from_value::<DrillRun>(doc.body.clone()) else { continue };
            if run.ended() {
                // What ending it still owes (after a crash, or a failed evidence write) is done again.
                if run.result_sent_at.is_none() || run.evidence_written_at.is_none() {
                    results.extend(finish(&app, &mut run, doc, now).await);
                    dirty = true;
                }
                seen.push(Occurrence::Run(Box::new(run)));
                continue;
            }
            let ctx = RunContext {
                sandbox: &app.policy.sandbox,
                now,
                resend_after: app.resend_after,
                max_failed_deletes: 5,
                delete_confirm_timeout: Duration::minutes(30),
                webhook: Some(&app.webhook),
                vault_limit: app.policy.max_concurrent_restores_per_vault,
            };
            let (mut changed, errors) = run.advance(&ctx, &app.azure, &restores).await;
            let stuck = run.report_stuck(now);
            changed |= stuck.is_some();
            for e in &errors {
                tracing::warn!(run_id = %run.run_id, error = %e, "drill step failed; retried next tick");
            }
            if !changed {
                seen.push(Occurrence::Run(Box::new(run)));
                continue;
            }
            if run.ended() {
                // The result is fixed now, against the history before this run, and stored with the ended run.
                let (history, _) = load_history(app.store.as_ref(), &run.plan.name).await.map_err(store_error)?;
                run.final_result = Some(run.result(|item| history.rtos(item)));
            }
            let body = serde_json::to_value(&run).map_err(|e| HandlerError::msg(e.to_string()))?;
            let stored = match app.store.put_document(&Document { body, ..doc }).await {
                Ok(stored) => stored,
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_error(e)),
            };
            dirty = true;
            if let Some(signal) = stuck {
                Event::Signal { plan: &run.plan.name, run_id: &run.run_id, signal: &signal }.emit();
                let result = DrillResult::signal_only(&run.plan.name, &run.run_id, run.scheduled_at, signal);
                results.push(serde_json::to_string(&result).map_err(|e| HandlerError::msg(e.to_string()))?);
            }
            if run.ended() {
                results.extend(finish(&app, &mut run, stored, now).await);
            }
            seen.push(Occurrence::Run(Box::new(run)));
        }
        if dirty {
            // A run ended (folded into the history) this tick: the overview shows the history as it is now.
            history = load_history(app.store.as_ref(), &plan.name).await.map_err(store_error)?.0;
        }
        let next = schedule.next_after(now).map(|o| o.at);
        overview.push(restore_evidence::summary::plan_overview(&plan, next, &seen, &history, now));
    }
    // The overview page changes only when a run did; written then (and once, if it is not there yet).
    let overview = restore_evidence::overview::Overview { generated_at: now.into(), plans: overview };
    if dirty || app.evidence.overview_missing() {
        app.evidence.write_overview(&overview).await;
    }
    if let Err(e) = sweep(&app, now).await {
        tracing::warn!(error = %e, "sandbox sweep failed; tried again next tick");
    }
    let requests = restores.outbox.into_inner().unwrap_or_default();
    Ok(Outputs::new().service_bus("requests", requests).service_bus("drillResults", results))
}

/// Deletes what runs left in the sandbox groups (at most every `RESTORE_DRILL_SWEEP_SECONDS`): each resource
/// carrying the drill's run tag is judged against its stored run ([`restore_drills::sweep::judge`]) and deleted
/// only if the run ended (or expired) and records it; a resource the guard refuses is reported, never deleted.
async fn sweep(app: &App, now: OffsetDateTime) -> Result<(), String> {
    const KEY: &str = "drill-sweep";
    let doc = app.store.document(KEY).await.map_err(|e| e.to_string())?;
    let last =
        doc.as_ref().and_then(|d| d.body["lastAt"].as_str()).and_then(|t| restore_contract::Timestamp::parse(t).ok());
    if last.is_some_and(|t| now - t.get() < app.sweep_every) {
        return Ok(());
    }
    // Claimed under compare-and-swap, so two ticks at once sweep once.
    let body = json!({"lastAt": restore_contract::Timestamp::from(now)});
    let claim = match doc {
        Some(d) => Document { body, ..d },
        None => Document { key: KEY.into(), version: String::new(), body },
    };
    if app.store.put_document(&claim).await.is_err() {
        return Ok(());
    }
    let view = seams::SweepView { azure: &app.azure, store: app.store.as_ref() };
    for judged in restore_drills::sweep::survey(&view, &app.policy.sandbox, now).await.map_err(|e| e.0)? {
        let id = judged.resource.as_str();
        match judged.verdict {
            Verdict::Delete => {
                use restore_drills::item::DrillAzure;
                match app.azure.delete(id).await {
                    Ok(status) => tracing::info!(resource = id, status, "sweep deleted a drill leftover"),
                    Err(e) => tracing::warn!(resource = id, error = %e, "sweep could not delete a drill leftover"),
                }
            }
            Verdict::RunOpen => {}
            Verdict::Refused(why) => tracing::warn!(resource = id, "sweep: {why}"),
        }
    }
    Ok(())
}

/// What an ended run owes, done once each and recorded on the run (stored ended, with its fixed result, before
/// any of it): the plan's history (folded in once, by run id), the events and the result message (handed to the
/// output binding; again on the next tick if a crash came first), and the evidence (written again until it is:
/// the same bytes, which the immutable container accepts). Returns the result message to send, if it is owed.
async fn finish(app: &App, run: &mut DrillRun, stored: Document, now: OffsetDateTime) -> Option<String> {
    let result = run.final_result.clone().unwrap_or_else(|| run.result(|_| Vec::new()));
    fold_into_history(app.store.as_ref(), &run.plan.name, &result).await;
    let mut message = None;
    if run.result_sent_at.is_none() {
        if let Some(outcome) = result.outcome {
            Event::RunEnded { plan: &run.plan.name, run_id: &run.run_id, outcome }.emit();
        }
        for s in &result.signals {
            Event::Signal { plan: &run.plan.name, run_id: &run.run_id, signal: s }.emit();
        }
        message = serde_json::to_string(&result).ok();
        run.result_sent_at = message.as_ref().map(|_| now.into());
    }
    if run.evidence_written_at.is_none() && app.evidence.write(run, &result).await {
        run.evidence_written_at = Some(now.into());
    }
    if let Ok(body) = serde_json::to_value(&*run)
        && let Err(e) = app.store.put_document(&Document { body, ..stored }).await
    {
        // Done again next tick: the history ignores a run it holds, the evidence finds its own bytes, and the
        // message goes once more (consumers dedupe on the run id).
        tracing::warn!(run_id = %run.run_id, error = %e, "what the ended run owed is done but not recorded");
    }
    message
}

/// The id of a run among `occurrences` (other than `except`) that has started and not ended, if any.
async fn open_run<'a>(
    app: &App,
    occurrences: impl Iterator<Item = &'a restore_drills::Occurrence>,
    except: &str,
) -> Result<Option<String>, HandlerError> {
    for o in occurrences.filter(|o| o.run_id != except) {
        if let Some(doc) = app.store.document(&run_key(&o.run_id)).await.map_err(store_error)?
            && let Ok(run) = serde_json::from_value::<DrillRun>(doc.body)
            && !run.ended()
        {
            return Ok(Some(run.run_id));
        }
    }
    Ok(None)
}

/// Starts the run `run_id` of `plan` scheduled at `at`, once: the protected items listed from Azure, the sample,
/// the cost guard, the recovery points and the preflight, then the run document created under compare-and-swap
/// (so a tick that runs twice, or a second `run --now`, starts it once). Returns whether this call created it.
/// The inventory is read before the run exists: a failed read starts nothing, and a later tick tries again.
async fn begin_run(
    app: &App,
    plan: &restore_drills::DrillPlan,
    run_id: &str,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, HandlerError> {
    let mut history = load_history(app.store.as_ref(), &plan.name).await.map_err(store_error)?;
    let vaults = vaults_to_list(&plan.selection, &app.policy.allowed_vaults);
    let inventory = gather(&vaults, &app.azure, &app.azure, &history.0)
        .await
        .map_err(|e| HandlerError::msg(format!("drill plan '{}': listing protected items: {e}", plan.name)))?;
    for (id, why) in &inventory.unreadable {
        tracing::warn!(plan = %plan.name, item = %id, why = %why, "a vault lists an item drills cannot read");
    }
    let mut run = start_run(plan, run_id, at, &inventory, now);
    // A tier or a random point: fixed now, by id, so every resend restores the same point.
    choose_points(&mut run, &app.azure)
        .await
        .map_err(|e| HandlerError::msg(format!("drill plan '{}': listing recovery points: {e}", plan.name)))?;
    // Preflight before any write: a run it refuses ends Failed with nothing created.
    let (vms, vcpus) = preflight_needs(&run);
    let findings = preflight(plan, vms, vcpus, &app.azure, &app.azure)
        .await
        .map_err(|e| HandlerError::msg(format!("drill plan '{}': preflight: {e}", plan.name)))?;
    for f in &findings {
        tracing::warn!(plan = %plan.name, run_id = %run_id, code = f.code, "preflight refused the run: {}", f.message);
    }
    refuse(&mut run, &findings);
    let body = serde_json::to_value(&run).map_err(|e| HandlerError::msg(e.to_string()))?;
    let doc = Document { key: run_key(run_id), version: String::new(), body };
    match app.store.put_document(&doc).await {
        Ok(_) => Event::RunStarted { plan: &plan.name, run_id, items: run.items.len() }.emit(),
        Err(StoreError::Conflict { .. }) => return Ok(false),
        Err(e) => return Err(store_error(e)),
    }
    // The sources' tags as seen now, so a tag selection still finds an item after its source is deleted.
    for c in inventory.candidates.iter().filter(|c| c.source_exists) {
        if let Some(tags) = &c.tags {
            history.0.remember_tags(&c.id, tags.clone());
        }
    }
    save_history(app.store.as_ref(), &plan.name, history).await;
    Ok(true)
}

/// A plan's history and the document it was read from (for the compare-and-swap write back).
async fn load_history(store: &dyn StateStore, plan: &str) -> Result<(PlanHistory, Option<Document>), StoreError> {
    let doc = store.document(&PlanHistory::key(plan)).await?;
    let history = doc.as_ref().and_then(|d| serde_json::from_value(d.body.clone()).ok()).unwrap_or_default();
    Ok((history, doc))
}

/// Writes a history back under compare-and-swap; a conflict or failure is logged, not retried: what it held
/// (tags as seen at a run's start) is written again at the next run's start.
async fn save_history(store: &dyn StateStore, plan: &str, (history, doc): (PlanHistory, Option<Document>)) {
    let Some(doc) = history_document(plan, &history, doc) else { return };
    if let Err(e) = store.put_document(&doc).await {
        tracing::warn!(plan, error = %e, "drill history not saved (tags are recorded again at the next run)");
    }
}

/// When the plan was first read (now, if this is the first time: recorded in its history under compare-and-swap).
/// Returns it with the history as read, so a tick that changes nothing reads the history once.
async fn first_seen(
    store: &dyn StateStore,
    plan: &str,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, PlanHistory), StoreError> {
    for _ in 0..3 {
        let (mut history, doc) = load_history(store, plan).await?;
        if let Some(t) = history.first_seen {
            return Ok((t.get(), history));
        }
        history.first_seen = Some(now.into());
        let Some(doc) = history_document(plan, &history, doc) else { break };
        match store.put_document(&doc).await {
            Ok(_) => return Ok((now, history)),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((now, PlanHistory::default()))
}

/// The document to write `history` as: a new one, or the one it was read from (its version is the condition).
fn history_document(plan: &str, history: &PlanHistory, read: Option<Document>) -> Option<Document> {
    let body = serde_json::to_value(history).ok()?;
    Some(match read {
        Some(d) => Document { body, ..d },
        None => Document { key: PlanHistory::key(plan), version: String::new(), body },
    })
}

/// Folds an ended run into its plan's history (last drilled and passed, RTOs), retrying a compare-and-swap
/// conflict with a fresh read; a run already folded in is not counted twice.
async fn fold_into_history(store: &dyn StateStore, plan: &str, result: &restore_drills::result::DrillResult) {
    for _ in 0..3 {
        let Ok((mut history, doc)) = load_history(store, plan).await else { continue };
        if !history.record(result) {
            return;
        }
        let Some(doc) = history_document(plan, &history, doc) else { return };
        match store.put_document(&doc).await {
            Ok(_) => return,
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => {
                tracing::error!(plan, run_id = %result.run_id, error = %e, "drill history not updated");
                return;
            }
        }
    }
    tracing::error!(plan, run_id = %result.run_id, "drill history not updated: kept conflicting");
}

fn main() -> ExitCode {
    custom_handler::app::main(custom_handler::app::Threads::PerCore, "drills", build, |runtime, ready| {
        runtime.timer("RestoreDrills", "timer", move |timer, _ctx: Invocation| {
            let ready = ready.clone();
            async move { tick(ready.get().await, timer).await }
        })
    })
}
