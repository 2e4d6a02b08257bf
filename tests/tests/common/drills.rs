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

/// A setting of the stack's functions.
pub fn setting(stack: &Stack, key: &str) -> Option<String> {
    stack.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Tokens from the emulator's identity endpoint (the one the functions use), asked explicitly, and a transport
/// trusting the emulator's CA.
pub fn identity(
    stack: &Stack,
) -> (std::sync::Arc<dyn azure_core::credentials::TokenCredential>, azure_core::http::Transport) {
    let credential = restore_e2e::identity::EndpointIdentity::new(&stack.emu.identity_url, &stack.emu.identity_header);
    let transport = restore_engine::transport::transport(&restore_engine::transport::TransportOptions {
        extra_ca_files: vec![stack.emu.ca_file.clone()],
        ..Default::default()
    })
    .expect("transport");
    (credential, transport)
}

/// A client on the Blob container at `url` with the functions' credential and CA (the emulator's identity and
/// certificate authority), for the test to put and read blobs as an operator would.
pub fn container_client(stack: &Stack, url: &str) -> azure_storage_blob::BlobContainerClient {
    let (credential, transport) = identity(stack);
    let options = azure_storage_blob::BlobContainerClientOptions {
        client_options: azure_core::http::ClientOptions { transport: Some(transport), ..Default::default() },
        ..Default::default()
    };
    azure_storage_blob::BlobContainerClient::new(url.parse().expect("container URL"), Some(credential), Some(options))
        .expect("container client")
}

/// Creates the container `name` on the Azurite of a [`super::Backend::Blob`] stack, beside the state store's
/// container and the way that one is created; returns its URL.
pub async fn blob_container(stack: &Stack, name: &str) -> String {
    let store_url = setting(stack, "RESTORE_BLOB_CONTAINER_URL").expect("a stack on the Blob store");
    let (account, _) = store_url.rsplit_once('/').expect("…/<account>/<container>");
    let url = format!("{account}/{name}");
    let (credential, transport) = identity(stack);
    let container = restore_store::BlobStore::new(&url, credential, Some(transport)).expect("Blob client");
    container.create_container_if_missing().await.expect("container created");
    url
}

/// Puts (or replaces) a blob.
pub async fn put_blob(stack: &Stack, container: &str, name: &str, bytes: &[u8]) {
    container_client(stack, container)
        .blob_client(name)
        .upload(azure_core::http::RequestContent::from(bytes.to_vec()), None)
        .await
        .unwrap_or_else(|e| panic!("put {name}: {e}"));
}

/// A blob's bytes and ETag, or `None` when it does not exist.
pub async fn get_blob(stack: &Stack, container: &str, name: &str) -> Option<(Vec<u8>, String)> {
    let blob = container_client(stack, container).blob_client(name);
    match blob.download(None).await {
        Ok(d) => {
            let etag = d.properties.etag.clone().map(|e| e.to_string()).expect("an ETag");
            Some((d.body.collect().await.expect("blob body").to_vec(), etag))
        }
        Err(e) if e.http_status() == Some(azure_core::http::StatusCode::NotFound) => None,
        Err(e) => panic!("get {name}: {e}"),
    }
}

/// Containers `drill-plans` and `drill-evidence` on the stack's Azurite, `plans` put there, and the drill
/// function's settings pointing at them (no folders), with a fast job poll for the tracker.
pub async fn configure_blob(stack: &mut Stack, plans: &[(&str, &Value)]) -> (String, String) {
    let plans_url = blob_container(stack, "drill-plans").await;
    let evidence_url = blob_container(stack, "drill-evidence").await;
    for (name, plan) in plans {
        put_blob(stack, &plans_url, &format!("{name}.json"), plan.to_string().as_bytes()).await;
    }
    stack.set("RESTORE_DRILL_PLANS_CONTAINER_URL", &plans_url);
    stack.set("RESTORE_DRILL_EVIDENCE_CONTAINER_URL", &evidence_url);
    let overview_url = blob_container(stack, "drill-overview").await;
    stack.set("RESTORE_DRILL_OVERVIEW_CONTAINER_URL", &overview_url);
    stack.set("RESTORE_JOB_POLL_SECONDS", "0.2");
    stack.set("RESTORE_JOB_POLL_MAX_SECONDS", "1");
    (plans_url, evidence_url)
}

/// The subscription of the example world.
const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

/// A daily plan `name` scheduled `minutes_ago` minutes before now (UTC) over the example disk `app-data-01`
/// restored as a new disk into the sandbox, cleaned up right after its checks: the base the scenarios edit.
pub fn disk_plan(name: &str, minutes_ago: i64) -> Value {
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago);
    serde_json::json!({
        "version": "1",
        "name": name,
        "schedule": { "cron": format!("0 {} {} * * *", at.minute(), at.hour()), "timeZone": "UTC", "startWindow": "PT15M" },
        "completionWindow": "PT1H",
        "selection": { "items": [format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi")] },
        "recoveryPoint": { "pick": "latest" },
        "sandbox": { "resourceGroupId": format!("{SUB}/resourceGroups/rg-drill-sandbox") },
        "rto": { "target": "PT1H" },
        "keepFor": "PT0S",
        "costGuard": { "maxRestoredGiB": 1024, "maxVmVcpus": 1 },
        "vaultConcurrencyShare": 1
    })
}

/// [`disk_plan`] turned into a new-VM drill of the example VM `vm-web-01` into the example sandbox network, with
/// `checks` as the plan's checks.
pub fn new_vm_plan(name: &str, minutes_ago: i64, checks: Value) -> Value {
    let mut plan = disk_plan(name, minutes_ago);
    let sandbox = format!("{SUB}/resourceGroups/rg-drill-sandbox");
    let n = "iaasvmcontainerv2;rg-app;vm-web-01";
    plan["selection"] = serde_json::json!({ "items": [format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}")] });
    plan["restore"] = serde_json::json!({ "vm": "newVm" });
    plan["sandbox"] = serde_json::json!({
        "resourceGroupId": sandbox,
        "subnetId": format!("{sandbox}/providers/Microsoft.Network/virtualNetworks/vnet-drill/subnets/snet-drill"),
        "stagingStorageAccountId": format!("{sandbox}/providers/Microsoft.Storage/storageAccounts/stdrillsandbox")
    });
    plan["checks"] = checks;
    plan["costGuard"] = serde_json::json!({ "maxRestoredGiB": 2048, "maxVmVcpus": 4 });
    plan
}
