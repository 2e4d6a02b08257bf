//! Driving the drill function end to end: one tick as the host sends it, and a loop that delivers each tick's
//! restore requests to the intake until a drill result comes out.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use restore_e2e::{SbMessage, TimerPayload, Worker};
use serde_json::Value;

use super::{Stack, WAIT, deliver};

/// What one drills tick returned.
#[derive(Debug, Default)]
pub struct Tick {
    /// Restore requests (the `requests` output).
    pub requests: Vec<Vec<u8>>,
    /// Drill results (the `drillResults` output).
    pub results: Vec<Value>,
}

/// One drills tick.
pub async fn tick(drills: &Worker) -> Tick {
    let invocation = TimerPayload::without_status().invocation("RestoreDrills", "timer");
    let response = drills.invoke(&invocation).await.expect("the drill function answers");
    let success = response.success().unwrap_or_else(|e| panic!("tick failed: {e}\n{}", drills.stderr().text()));
    let output = |name: &str| {
        success
            .outputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| restore_e2e::service_bus_messages(name, v, false).expect("a Service Bus output"))
            .unwrap_or_default()
    };
    let results = output("drillResults").iter().map(|b| serde_json::from_slice(b).expect("result JSON")).collect();
    Tick { requests: output("requests"), results }
}

/// Folders for plans and evidence under the stack's temp dir, set as the drill function's settings, with a fast
/// job poll for the tracker.
pub fn configure(stack: &mut Stack, plans: &[(&str, &Value)]) -> (PathBuf, PathBuf) {
    let plans_dir = stack.dir.path().join("plans");
    let evidence = stack.dir.path().join("evidence");
    std::fs::create_dir_all(&plans_dir).expect("plans folder");
    for (name, plan) in plans {
        std::fs::write(plans_dir.join(format!("{name}.json")), plan.to_string()).expect("plan written");
    }
    stack.set("RESTORE_DRILL_PLANS_DIR", &plans_dir.display().to_string());
    stack.set("RESTORE_DRILL_EVIDENCE_DIR", &evidence.display().to_string());
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.2");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "1");
    (plans_dir, evidence)
}

/// Ticks the drill function, delivering every request it emits to the intake (the tracker ticks on its own),
/// until `want` drill results came out; returns them and every request sent. Panics with the workers' logs and
/// the restore records after [`WAIT`].
pub async fn run_until_results(
    stack: &Stack,
    drills: &Worker,
    intake: &Worker,
    want: usize,
) -> (Vec<Value>, Vec<Vec<u8>>) {
    run_until_results_within(stack, drills, intake, want, WAIT).await
}

/// As [`run_until_results`], giving up after `wait` instead of [`WAIT`]: for runs that wait on the drill
/// function's own (real) clock, such as a VM agent timeout, which the emulator's accelerated clock cannot shorten.
pub async fn run_until_results_within(
    stack: &Stack,
    drills: &Worker,
    intake: &Worker,
    want: usize,
    wait: Duration,
) -> (Vec<Value>, Vec<Vec<u8>>) {
    let deadline = tokio::time::Instant::now() + wait;
    let (mut sent, mut results) = (Vec::new(), Vec::new());
    loop {
        let tick = tick(drills).await;
        for request in tick.requests {
            let response = deliver(intake, &SbMessage::new(request.clone()), 1).await;
            assert!(response.success().is_ok(), "the intake takes the drill's request");
            sent.push(request);
        }
        results.extend(tick.results);
        if results.len() >= want {
            return (results, sent);
        }
        if tokio::time::Instant::now() >= deadline {
            let records = stack.store().list(&restore_store::ListFilter::all(), 50).await.unwrap_or_default();
            let states: Vec<_> = records.iter().map(|r| (r.request_id.clone(), r.state, r.result.clone())).collect();
            panic!(
                "{} of {want} drill result(s); {} request(s) sent; records {states:#?}\ndrills: {}{}\nintake: {}",
                results.len(),
                sent.len(),
                drills.stdout().text(),
                drills.stderr().text(),
                intake.stderr().text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
