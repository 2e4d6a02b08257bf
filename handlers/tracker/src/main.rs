//! The tracker function app: `RestoreTracker`, a timer trigger (binding `timer`). All the logic is in
//! `restore_workflow::tracker`; this binary wires app settings to it and delivers the tick's results.
//!
//! Results are marked published only once delivered. With `RESTORE_SERVICEBUS_NAMESPACE` set (infra/ sets it)
//! the tracker sends them itself, in batches through the Service Bus REST API with its managed identity, each
//! with a MessageId derived from request id and status (Service Bus duplicate detection drops a batch sent
//! again after a lost answer), and marks a batch published when Service Bus accepted it; a failed send leaves
//! the results due, and the next tick sends them again. Without it (local hosts that capture outputs) results
//! go to the `results` output binding and are marked at the start of the next tick: the host does not tell a
//! custom handler whether its output was delivered, so that mode repeats results after a crash but cannot
//! detect a failed send.

use restore_workflow::startup::StartupError;
use std::process::ExitCode;
use std::sync::Arc;

use custom_handler::app::Threads;
use custom_handler::{HandlerError, Invocation, Outputs, TimerInfo};
use restore_servicebus::{
    MAX_BATCH, Message, Sender, check_endpoint_named, check_entity, check_namespace, messages_url,
};
use restore_workflow::tracker::{TickReport, Tracker, TrackerSettings};
use tokio::sync::Mutex;
use url::Url;

/// Where the tick's results go.
enum Results {
    /// Sent by the tracker to this topic or queue.
    Direct { sender: Sender, url: Url },
    /// Returned through the output binding; the ids returned by the previous tick, marked at the next one.
    Binding { returned: Mutex<Vec<String>> },
}

struct App {
    tracker: Tracker,
    results: Results,
}

/// The results destination from app settings, if the tracker sends itself.
fn destination() -> Result<Option<Url>, StartupError> {
    let set = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let base = match (set("RESTORE_SERVICEBUS_ENDPOINT"), set("RESTORE_SERVICEBUS_NAMESPACE")) {
        (Some(endpoint), _) => check_endpoint_named(&endpoint, "RESTORE_SERVICEBUS_ENDPOINT")?,
        (None, Some(namespace)) => {
            let host = check_namespace(&namespace)?;
            Url::parse(&format!("https://{host}/"))
                .map_err(|e| format!("RESTORE_SERVICEBUS_NAMESPACE '{host}': {e}"))?
        }
        (None, None) => return Ok(None),
    };
    let topic = set("RESTORE_RESULTS_TOPIC").ok_or(
        "RESTORE_SERVICEBUS_NAMESPACE is set but RESTORE_RESULTS_TOPIC is not: name the results topic (e.g. restore-results)",
    )?;
    let topic = check_entity(&topic, "RESTORE_RESULTS_TOPIC", "restore-results")?;
    Ok(Some(messages_url(&base, &topic)))
}

async fn build() -> Result<App, StartupError> {
    let (client, source) = restore_engine::config::client_from_env(false)?;
    tracing::info!(credential = ?source, endpoint = %client.pipeline().endpoint(), "ARM client ready");
    let store = restore_store::from_env().await?;
    tracing::info!(store = %store.describe(), "state store ready");
    let settings = TrackerSettings::from_env()?;
    let results = match destination()? {
        Some(url) => {
            let (_, credential) = restore_engine::credential::from_env(false)?;
            let options = restore_engine::config::pipeline_options_from_env()?;
            let transport = restore_engine::transport::transport(&options.transport)?;
            // Short retries: a send that still fails is repeated by the next tick, and a long one would hold up
            // every other result of this tick.
            let retry = azure_core::http::RetryOptions::exponential(azure_core::http::ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_retries: 2,
                max_total_elapsed: azure_core::time::Duration::seconds(10),
                max_delay: azure_core::time::Duration::seconds(2),
            });
            tracing::info!(url = %url, "results are sent to Service Bus and marked published once accepted");
            Results::Direct { sender: Sender::with_retry(credential, transport, retry), url }
        }
        None => {
            tracing::info!("results go to the output binding (RESTORE_SERVICEBUS_NAMESPACE is not set)");
            Results::Binding { returned: Mutex::new(Vec::new()) }
        }
    };
    let mut tracker = Tracker::new(client, store, settings);
    match staging_reader() {
        Ok(reader) => tracker = tracker.with_staging(reader),
        // Not fatal: every restore still completes; restore-disks results then lack the disks' ids and tags.
        Err(e) => tracing::warn!(error = %e, "restore-disks jobs' staging configs will not be read"),
    }
    Ok(App { tracker, results })
}

/// The reader of restore-disks jobs' staging configs (the disks they restored), with the app's identity.
fn staging_reader() -> Result<restore_workflow::staging::StagingReader, StartupError> {
    use restore_workflow::staging::{StagingEndpoint, StagingReader};
    let options = restore_engine::config::pipeline_options_from_env()?;
    let endpoint = StagingEndpoint::from_env(&options.cloud)?;
    let (_, credential) = restore_engine::credential::from_env(false)?;
    let transport = restore_engine::transport::transport(&options.transport)?;
    Ok(StagingReader::new(endpoint, credential, Some(transport)))
}

fn log_tick(timer: &TimerInfo, report: &TickReport) {
    // An idle tick (every 30 s) says so at debug level only: the log keeps the ticks that did something.
    if report.examined == 0 && report.results.is_empty() && !timer.is_past_due {
        tracing::debug!("tick: nothing due");
        return;
    }
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
}

/// Sends the tick's results in batches and marks each batch published once Service Bus accepted it. A batch
/// that fails stays unpublished (due again next tick); so do the ones after it, to keep results in order.
async fn send_direct(app: &App, sender: &Sender, url: &Url, report: &TickReport) {
    let pairs: Vec<(Message, String)> = report
        .results
        .iter()
        .zip(&report.published)
        .filter_map(|(result, id)| {
            let body = serde_json::to_string(result).ok()?;
            let status = serde_json::to_value(result.status).ok()?.as_str().unwrap_or_default().to_string();
            let message_id = restore_servicebus::derived_message_id("result", &[id, &status]);
            Some((Message { body, message_id }, id.clone()))
        })
        .collect();
    for chunk in pairs.chunks(MAX_BATCH) {
        let messages: Vec<Message> = chunk.iter().map(|(m, _)| m.clone()).collect();
        match sender.send_batch(url, &messages).await {
            Ok(()) => {
                let ids: Vec<String> = chunk.iter().map(|(_, id)| id.clone()).collect();
                app.tracker.mark_published(&ids).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, unsent = pairs.len(), "results not delivered; the next tick sends them again");
                return;
            }
        }
    }
}

async fn tick(app: Arc<App>, timer: TimerInfo) -> Result<Outputs, HandlerError> {
    let now = app.tracker.now();
    match &app.results {
        Results::Direct { sender, url } => {
            let report = app.tracker.tick(now).await.map_err(|e| HandlerError::msg(format!("state store: {e}")))?;
            log_tick(&timer, &report);
            send_direct(&app, sender, url, &report).await;
            Ok(Outputs::new().service_bus("results", Vec::<String>::new()))
        }
        Results::Binding { returned } => {
            let mut returned = returned.lock().await;
            app.tracker.mark_published(&returned).await;
            returned.clear();
            let report = app.tracker.tick(now).await.map_err(|e| HandlerError::msg(format!("state store: {e}")))?;
            log_tick(&timer, &report);
            let texts: Vec<String> = report.results.iter().filter_map(|r| serde_json::to_string(r).ok()).collect();
            *returned = report.published;
            Ok(Outputs::new().service_bus("results", texts))
        }
    }
}

fn main() -> ExitCode {
    // One thread: the timer invokes one tick at a time, and the tick waits on Azure and the store.
    custom_handler::app::main(Threads::One, "tracker", build, |runtime, ready| {
        runtime.timer("RestoreTracker", "timer", move |timer, _ctx: Invocation| {
            let ready = ready.clone();
            async move { tick(ready.get().await, timer).await }
        })
    })
}
