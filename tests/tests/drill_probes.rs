//! The checks that look inside, end to end with the real binaries: a new-VM drill runs the plan's Run Command on
//! the restored VM (the emulator's managed Run Command, judged by its exit code and output) and asks the plan's
//! webhook, a real HTTPS server here, which receives a payload signed with the secret from the app setting and
//! no bearer token; its answer decides the run.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use common::{Backend, Stack, drills};
use serde_json::{Value, json};

const SECRET: &str = "drill-webhook-secret-for-tests";

/// One call the webhook received: its headers and body.
type Call = (HeaderMap, Vec<u8>);

/// What the webhook received, and whether it should pass the item.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Call>>>,
    pass: bool,
}

async fn verify(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    r.seen.lock().unwrap().push((headers, body.to_vec()));
    axum::Json(json!({"passed": r.pass, "detail": if r.pass { "rows match" } else { "orders table is empty" }}))
}

fn plan(webhook: &str) -> Value {
    drills::new_vm_plan(
        "e2e-probes",
        1,
        json!({
            "vmAgentTimeout": "PT20M",
            "runCommand": { "script": "systemctl is-active nginx && echo DRILL-OK", "expectedExitCode": 0, "expectedOutput": "DRILL-OK" },
            "webhook": { "url": webhook, "secretSetting": "DRILL_WEBHOOK_SECRET", "timeout": "PT10S" }
        }),
    )
}

async fn probed(pass_webhook: bool, exit_code: i32) -> (Value, Receiver, Stack) {
    // The restored VM's Run Command answers quickly (virtual seconds) with the given exit code.
    let mut stack = Stack::start_custom(Backend::Sqlite, |s| {
        s["rules"]["vms"] = json!([{ "name": "*", "runCommand": { "exitCode": exit_code, "output": "active\nDRILL-OK\n", "error": "", "pendingSeconds": 5, "durationSeconds": 20 } }]);
    })
    .await;
    let receiver = Receiver { pass: pass_webhook, ..Receiver::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}/verify", listener.local_addr().unwrap().port());
    let router = Router::new().route("/verify", post(verify)).with_state(receiver.clone());
    common::servicebus::serve_tls(listener, router, &stack.dir.path().join("certs"));
    let plan = plan(&url);
    drills::configure(&mut stack, &[("e2e-probes", &plan)]);
    stack.set("DRILL_WEBHOOK_SECRET", SECRET);
    let drills_fn = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let (results, _) = drills::run_until_results(&stack, &drills_fn, &intake, 1).await;
    (results[0].clone(), receiver, stack)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_command_and_a_signed_webhook_pass_a_new_vm_drill() {
    let (result, receiver, stack) = probed(true, 0).await;
    assert_eq!(result["outcome"], "Passed", "{result:#}");
    let counts = stack.emu.counts();
    assert_eq!(counts.get("compute.runCommands.put PUT").copied(), Some(1), "{counts:#?}");
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one webhook call");
    let (headers, body) = &seen[0];
    assert!(headers.get("authorization").is_none(), "no token to a webhook");
    let timestamp = headers["x-drill-timestamp"].to_str().unwrap();
    let signature = headers["x-drill-signature"].to_str().unwrap();
    assert_eq!(
        signature,
        restore_drills::probes::signature(SECRET.as_bytes(), timestamp, body),
        "signed with the app setting's secret"
    );
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["kind"], "vm");
    assert!(
        payload["checks"].as_array().unwrap().iter().any(|c| c["name"] == "runCommand" && c["passed"] == true),
        "{payload:#}"
    );
    // The VM (and its Run Command with it) is gone.
    assert!(!stack.emu.resources()["vms"].to_string().to_ascii_lowercase().contains("rg-drill-sandbox"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_command_or_webhook_fails_the_drill_naming_it() {
    let (result, _, _) = probed(true, 3).await;
    assert_eq!(result["outcome"], "Failed", "{result:#}");
    assert_eq!(result["items"][0]["failure"]["check"], "runCommand", "{result:#}");
    let message = result["items"][0]["failure"]["message"].as_str().unwrap();
    assert!(message.contains("exit code 3 (expected 0)"), "{message}");

    let (result, _, _) = probed(false, 0).await;
    assert_eq!(result["outcome"], "Failed", "{result:#}");
    assert_eq!(result["items"][0]["failure"]["check"], "webhook", "{result:#}");
    let message = result["items"][0]["failure"]["message"].as_str().unwrap();
    assert!(message.contains("orders table is empty"), "the webhook's detail: {message}");
}
