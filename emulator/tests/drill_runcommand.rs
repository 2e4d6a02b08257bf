//! Managed Run Command: PUT as a long-running operation, GET with `$expand=instanceView` through Pending →
//! Running → Succeeded/Failed/TimedOut on the virtual clock, results from `rules.vms[].runCommand`, a VM whose
//! agent is not ready, DELETE.

mod common;

use common::*;
use serde_json::{Value, json};

const COMPUTE: &str = "2025-04-01";

fn rc(vm: &str, name: &str) -> String {
    format!("{}/runCommands/{name}", vm_id(vm))
}

fn body() -> Value {
    json!({"location": "westus", "properties": {"source": {"script": "echo ok"}, "timeoutInSeconds": 120}})
}

async fn start_with_rules(rules: Value) -> Env {
    let mut s = example_scenario();
    s.rules = serde_json::from_value(rules).unwrap();
    start_with(s).await
}

async fn view(env: &Env, vm: &str, name: &str) -> Value {
    let r = env.get(&format!("{}?$expand=instanceView&api-version={COMPUTE}", rc(vm, name))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn succeeds_through_pending_and_running() {
    let env = start().await;
    let r = env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-web-01", "drill-check")), Some(body())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    assert_eq!(r.body["type"], "Microsoft.Compute/virtualMachines/runCommands");
    let aao = r.header("azure-asyncoperation");
    assert!(aao.contains("/providers/Microsoft.Compute/locations/westus/operations/"), "{aao}");
    assert_eq!(env.get(&aao).await.body["status"], "InProgress");

    let v = view(&env, "vm-web-01", "drill-check").await;
    assert_eq!(v["properties"]["instanceView"]["executionState"], "Pending");
    assert!(v["properties"]["instanceView"].get("exitCode").is_none());
    let plain = env.get(&format!("{}?api-version={COMPUTE}", rc("vm-web-01", "drill-check"))).await;
    assert!(plain.body["properties"].get("instanceView").is_none(), "no instanceView without $expand");

    env.advance(10.0);
    let iv = view(&env, "vm-web-01", "drill-check").await["properties"]["instanceView"].clone();
    assert_eq!(iv["executionState"], "Running");
    assert!(iv["startTime"].is_string() && iv.get("endTime").is_none());

    env.advance(20.0);
    let v = view(&env, "vm-web-01", "drill-check").await;
    let iv = &v["properties"]["instanceView"];
    assert_eq!((iv["executionState"].as_str(), iv["exitCode"].as_i64()), (Some("Succeeded"), Some(0)));
    assert_eq!(iv["output"], "Drill check passed.");
    assert!(iv["endTime"].is_string());
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    let op = env.get(&aao).await;
    assert_eq!(op.body["status"], "Succeeded");

    // PUT again: an update, which runs the command again.
    let again =
        env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-web-01", "drill-check")), Some(body())).await;
    assert_eq!((again.status, again.body["properties"]["provisioningState"].as_str()), (200, Some("Updating")));
    assert_eq!(view(&env, "vm-web-01", "drill-check").await["properties"]["instanceView"]["executionState"], "Pending");

    let list = env.get(&format!("{}/runCommands?api-version={COMPUTE}", vm_id("vm-web-01"))).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let d = env.call("DELETE", &format!("{}?api-version={COMPUTE}", rc("vm-web-01", "drill-check")), None).await;
    assert_eq!(d.status, 202);
    assert_eq!(env.get(&format!("{}?api-version={COMPUTE}", rc("vm-web-01", "drill-check"))).await.status, 404);
    let counts = env.emu.counts();
    assert_eq!(counts["compute.runCommands.put PUT"], 2);
    assert_eq!(counts["compute.runCommands.delete DELETE"], 1);
}

#[tokio::test]
async fn failing_script_and_timeout_from_rules() {
    let env = start_with_rules(json!({"vms": [
        {"name": "vm-web-01", "runCommand": {"exitCode": 3, "output": "", "error": "sentinel missing"}},
        {"name": "vm-db-01", "runCommand": {"durationSeconds": 600}}
    ]}))
    .await;
    let mut strict = body();
    strict["properties"]["treatFailureAsDeploymentFailure"] = json!(true);
    let r = env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-web-01", "c")), Some(strict)).await;
    let aao = r.header("azure-asyncoperation");
    let t = env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-db-01", "c")), Some(body())).await;
    let t_aao = t.header("azure-asyncoperation");
    env.advance(200.0);
    let v = view(&env, "vm-web-01", "c").await;
    let iv = &v["properties"]["instanceView"];
    assert_eq!((iv["executionState"].as_str(), iv["exitCode"].as_i64()), (Some("Failed"), Some(3)));
    assert_eq!(iv["error"], "sentinel missing");
    assert_eq!(v["properties"]["provisioningState"], "Failed", "treatFailureAsDeploymentFailure");
    let op = env.get(&aao).await;
    assert_eq!(
        (op.body["status"].as_str(), op.body["error"]["code"].as_str()),
        (Some("Failed"), Some("VMExtensionProvisioningError"))
    );

    // 600 s of script against a 120 s timeout; without treatFailure the deployment itself succeeds.
    let v = view(&env, "vm-db-01", "c").await;
    assert_eq!(v["properties"]["instanceView"]["executionState"], "TimedOut");
    assert!(v["properties"]["instanceView"].get("exitCode").is_none());
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(env.get(&t_aao).await.body["status"], "Succeeded");
}

#[tokio::test]
async fn agent_not_ready_stays_pending_and_the_put_fails_later() {
    let env = start_with_rules(json!({"vms": [{"name": "vm-web-01", "agentNotReady": true}]})).await;
    let r = env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-web-01", "c")), Some(body())).await;
    assert_eq!(r.status, 201);
    let aao = r.header("azure-asyncoperation");
    env.advance(600.0);
    assert_eq!(view(&env, "vm-web-01", "c").await["properties"]["instanceView"]["executionState"], "Pending");
    assert_eq!(env.get(&aao).await.body["status"], "InProgress");
    env.advance(300.0);
    let v = view(&env, "vm-web-01", "c").await;
    assert_eq!(v["properties"]["instanceView"]["executionState"], "Pending");
    assert!(v["properties"]["instanceView"].get("startTime").is_none());
    assert_eq!(v["properties"]["provisioningState"], "Failed");
    let op = env.get(&aao).await;
    assert_eq!(op.body["error"]["code"], "VMAgentStatusCommunicationError");
    // The control VM's agent is ready.
    env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("vm-db-01", "c")), Some(body())).await;
    env.advance(30.0);
    assert_eq!(view(&env, "vm-db-01", "c").await["properties"]["instanceView"]["executionState"], "Succeeded");
}

#[tokio::test]
async fn refusals_and_vm_delete_removes_commands() {
    let env = start().await;
    let url = format!("{}?api-version={COMPUTE}", rc("vm-web-01", "c"));
    let r = env.call("PUT", &url, Some(json!({"properties": {"source": {"script": "x"}}}))).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("LocationRequired")));
    let r = env.call("PUT", &url, Some(json!({"location": "westus", "properties": {"source": {}}}))).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("InvalidParameter")));
    let r = env.call("PUT", &format!("{}?api-version={COMPUTE}", rc("no-such-vm", "c")), Some(body())).await;
    assert_eq!(r.status, 404);
    assert_eq!(env.call("DELETE", &url, None).await.status, 204);
    assert_eq!(env.call("PUT", &url, Some(body())).await.status, 201);
    assert_eq!(env.call("DELETE", &format!("{}?api-version={COMPUTE}", vm_id("vm-web-01")), None).await.status, 202);
    assert_eq!(env.get(&url).await.status, 404);
}
