//! The drill function killed at each step boundary and restarted, with the real binaries on the emulator: the
//! run completes with one restore, nothing left behind, every deletion confirmed.
//! * after starting the run, its restore request lost with the dying tick's outputs (resent after
//!   `RESTORE_DRILL_RESEND_SECONDS`, the same request id, so the intake makes one restore of it);
//! * after its requests were enqueued;
//! * mid-checks: killed while the check's GET of the restored disk is in flight;
//! * mid-cleanup: killed after Azure processed the DELETE and before the drill learnt of it (the DELETE is sent
//!   again, Azure answers that it is gone, and the GET confirms it).

mod common;

use std::time::Duration;

use common::{Stack, WAIT, deliver, drills};
use restore_e2e::{SbMessage, TimerPayload, Worker};
use serde_json::{Value, json};

fn plan() -> Value {
    drills::disk_plan("e2e-crash", 1)
}

/// Where the function is killed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Boundary {
    /// Right after the tick that started the run; its outputs never reach the queue.
    AfterStartOutputsLost,
    /// Right after the tick whose requests were delivered.
    AfterEnqueue,
    /// While the check's GET of the restored disk hangs.
    MidChecks,
    /// After the emulator processed the DELETE, before the answer.
    MidCleanup,
}

async fn restart(stack: &Stack, worker: &mut Worker) -> Worker {
    worker.kill().await.expect("kill");
    stack.worker("drills").await
}

/// Ticks (delivering each tick's requests) until a tick's Azure call hangs in the emulator, then kills the worker
/// in the middle of that tick, releases the call (Azure carries on without the dead caller) and restarts the
/// worker.
async fn tick_until_killed_mid_call(stack: &Stack, worker: &mut Worker, intake: &Worker) -> Worker {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let client = worker.client();
        let mut call = tokio::spawn(async move {
            let invocation = TimerPayload::without_status().invocation("RestoreDrills", "timer");
            client.invoke(&invocation).await
        });
        tokio::select! {
            () = stack.emu.wait_hung(1) => {
                let next = restart(stack, worker).await;
                let _ = call.await;
                stack.admin(reqwest::Method::POST, "/release", None).await;
                return next;
            }
            answered = &mut call => {
                let response = answered.expect("tick task").expect("the drill function answers");
                let success = response.success().unwrap_or_else(|e| panic!("tick failed: {e}"));
                let requests = success
                    .outputs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("requests"))
                    .map(|(_, v)| restore_e2e::service_bus_messages("requests", v, false).expect("messages"))
                    .unwrap_or_default();
                for request in requests {
                    assert!(deliver(intake, &SbMessage::new(request), 1).await.success().is_ok());
                }
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no call hung\n{}", worker.stderr().text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_each_step_the_drill_completes_with_one_restore_and_nothing_left() {
    for boundary in [Boundary::AfterStartOutputsLost, Boundary::AfterEnqueue, Boundary::MidChecks, Boundary::MidCleanup]
    {
        let mut stack = Stack::start().await;
        let plan = plan();
        drills::configure(&mut stack, &[("e2e-crash", &plan)]);
        stack.set("RESTORE_DRILL_RESEND_SECONDS", "1");
        let mut worker = stack.worker("drills").await;
        let intake = stack.intake().await;
        let (_tracker, _ticking) = stack.ticking_tracker().await;

        match boundary {
            Boundary::AfterStartOutputsLost => {
                let tick = drills::tick(&worker).await;
                assert_eq!(tick.requests.len(), 1, "the first tick starts the run");
                worker = restart(&stack, &mut worker).await; // its requests die with it
            }
            Boundary::AfterEnqueue => {
                let tick = drills::tick(&worker).await;
                assert_eq!(tick.requests.len(), 1, "the first tick starts the run");
                assert!(deliver(&intake, &SbMessage::new(tick.requests[0].clone()), 1).await.success().is_ok());
                worker = restart(&stack, &mut worker).await;
            }
            Boundary::MidChecks => {
                // Until the restore has ended and its result is out, then the next disk GET is the check's.
                let deadline = tokio::time::Instant::now() + WAIT;
                loop {
                    for request in drills::tick(&worker).await.requests {
                        assert!(deliver(&intake, &SbMessage::new(request), 1).await.success().is_ok());
                    }
                    let records = stack.store().list(&restore_store::ListFilter::all(), 10).await.unwrap_or_default();
                    if records.iter().any(|r| r.state == restore_store::State::Succeeded && r.result_published) {
                        break;
                    }
                    assert!(tokio::time::Instant::now() < deadline, "the drill's restore never ended");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                stack.fault(json!({"route": "compute.disks.get", "method": "GET", "fault": {"kind": "hang", "timeoutMs": 60000}, "times": 1})).await;
                worker = tick_until_killed_mid_call(&stack, &mut worker, &intake).await;
            }
            Boundary::MidCleanup => {
                stack.fault(json!({"route": "compute.disks.delete", "method": "DELETE", "fault": {"kind": "processThenHang", "timeoutMs": 60000}, "times": 1})).await;
                worker = tick_until_killed_mid_call(&stack, &mut worker, &intake).await;
            }
        }

        let (results, _) = drills::run_until_results(&stack, &worker, &intake, 1).await;
        let result = &results[0];
        assert_eq!(result["outcome"], "Passed", "{boundary:?}: {result:#}");
        assert!(result["items"][0]["timeline"]["cleanedUp"].is_string(), "{boundary:?}: {result:#}");
        let restores: Vec<Value> = stack
            .jobs()
            .await
            .into_iter()
            .filter(|j| j["operation"].as_str().unwrap_or_default().contains("Restore"))
            .collect();
        assert_eq!(restores.len(), 1, "{boundary:?}: one restore: {restores:#?}");
        let disks = stack.emu.resources()["disks"].to_string().to_ascii_lowercase();
        assert!(!disks.contains("rg-drill-sandbox"), "{boundary:?}: nothing left in the sandbox: {disks}");
    }
}
