//! The tracker function app: `RestoreTracker`, a timer trigger (binding `timer`) with a Service Bus output
//! `results`. All the logic is in `restore_workflow::tracker`; this binary wires app settings to it.
//!
//! Results are marked published at the start of the *next* tick, after the host has had this invocation's
//! output: a crash in between publishes them again (consumers dedupe on requestId), never loses them.

use std::process::ExitCode;
use std::sync::Arc;

use custom_handler::{HandlerError, Invocation, Outputs, TimerInfo};
use restore_workflow::tracker::{Tracker, TrackerSettings};
use time::OffsetDateTime;
use tokio::sync::Mutex;

struct App {
    tracker: Tracker,
    /// Request ids whose results the previous tick returned.
    returned: Mutex<Vec<String>>,
}

async fn build() -> Result<App, String> {
    let (client, source) = restore_engine::config::client_from_env(false).map_err(|e| e.to_string())?;
    tracing::info!(credential = ?source, endpoint = %client.pipeline().endpoint(), "ARM client ready");
    let store = restore_store::from_env().await.map_err(|e| e.to_string())?;
    tracing::info!(store = %store.describe(), "state store ready");
    let settings = TrackerSettings::from_env().map_err(|e| e.to_string())?;
    Ok(App { tracker: Tracker::new(client, store, settings), returned: Mutex::new(Vec::new()) })
}

async fn tick(app: Arc<App>, timer: TimerInfo) -> Result<Outputs, HandlerError> {
    let mut returned = app.returned.lock().await;
    app.tracker.mark_published(&returned).await;
    returned.clear();
    let report = app
        .tracker
        .tick(OffsetDateTime::now_utc())
        .await
        .map_err(|e| HandlerError::msg(format!("state store: {e}")))?;
    tracing::info!(
        past_due = timer.is_past_due,
        examined = report.examined,
        advanced = report.advanced,
        conflicts = report.conflicts,
        deferred = report.deferred,
        errors = report.errors,
        results = report.results.len(),
        "tick"
    );
    let texts: Vec<String> = report.results.iter().filter_map(|r| serde_json::to_string(r).ok()).collect();
    *returned = report.published;
    Ok(Outputs::new().service_bus("results", texts))
}

fn main() -> ExitCode {
    custom_handler::app::main("tracker", build, |runtime, ready| {
        runtime.timer("RestoreTracker", "timer", move |timer, _ctx: Invocation| {
            let ready = ready.clone();
            async move { tick(ready.get().await, timer).await }
        })
    })
}
