//! The drill function's failure paths end to end, with the real binaries (drills, intake, tracker) on the
//! emulator. Each proves a run that goes wrong still ends with the outcome the plan implies and leaves nothing of
//! its own behind once Azure allows the delete, and that the drill never deletes what is not its own:
//!
//! * a restore job Azure fails: the run ends `Failed`, the item names Azure's error code and message, and the
//!   sandbox is empty;
//! * a new VM whose provisioning failed: `Failed` naming `vmProvisioned`, and the VM, its NIC, its disks and its
//!   staging files are deleted and confirmed gone;
//! * a new VM whose agent never becomes ready: the drill waits the plan's agent timeout on its own clock, then
//!   `Failed` naming `vmAgentReady`, with the same cleanup (the VM's `deleteOption` is `Detach`, so the drill
//!   deletes the disks and NIC itself);
//! * a delete Azure refuses twice: retried across ticks, deleted and confirmed, no `cleanupIncomplete`; a delete
//!   refused beyond the drill's bound: a `cleanupIncomplete` signal naming the resource left;
//! * a disk in the sandbox tagged exactly like this run's resources but not on the run, and one tagged so outside
//!   the sandbox: both untouched (never a DELETE) after the run.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Backend, Stack, drills};
use serde_json::{Value, json};
use time::OffsetDateTime;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const PLAN: &str = "e2e-faults";
/// The restored disk's name starts with the backup instance's name (see `restore_drills::run::request_for`).
const DISK_INSTANCE: &str = "app-data-01-bi";
/// The restored VM's name starts with the source VM's name.
const VM: &str = "vm-web-01";
/// The drill function's bound on failed DELETEs of one resource (handlers/drills/src/main.rs).
const MAX_FAILED_DELETES: usize = 5;

fn sandbox_group() -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox")
}

fn disk_item() -> String {
    format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/{DISK_INSTANCE}"
    )
}

/// The occurrence the plans are due at: the minute before now (UTC), so exactly one run is due for a while.
fn scheduled_at() -> OffsetDateTime {
    let at = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    at.replace_second(0).and_then(|t| t.replace_nanosecond(0)).expect("a whole minute")
}

/// A disk plan due at `at`, cleaning up right after its checks.
fn disk_plan(at: OffsetDateTime) -> Value {
    at_minute(drills::disk_plan(PLAN, 1), at)
}

/// A new-VM plan due at `at` into the sandbox network of the example scenario and policy, with the agent
/// timeout `agent_timeout` (ISO 8601).
fn new_vm_plan(at: OffsetDateTime, agent_timeout: &str) -> Value {
    at_minute(drills::new_vm_plan(PLAN, 1, json!({ "vmAgentTimeout": agent_timeout })), at)
}

/// `plan` scheduled daily at `at`'s minute.
fn at_minute(mut plan: Value, at: OffsetDateTime) -> Value {
    plan["schedule"]["cron"] = json!(format!("0 {} {} * * *", at.minute(), at.hour()));
    plan
}

/// The stack with `rules` (a scenario `rules` object) merged into the example scenario's rules.
async fn stack_with_rules(backend: Backend, rules: Value) -> Stack {
    Stack::start_custom(backend, |s| {
        for (k, v) in rules.as_object().expect("rules object") {
            s["rules"][k] = v.clone();
        }
    })
    .await
}

/// What one run produced: its result, the workers' logs for failure messages, and its evidence pack.
struct Ran {
    result: Value,
    evidence: Value,
    logs: String,
}

impl Ran {
    fn item(&self) -> &Value {
        &self.result["items"][0]
    }

    fn signals(&self, kind: &str) -> Vec<&Value> {
        self.result["signals"].as_array().into_iter().flatten().filter(|s| s["kind"] == kind).collect()
    }

    /// The evidence pack's cleanup entries of the (only) item.
    fn cleanup(&self) -> Vec<Value> {
        self.evidence["items"][0]["cleanup"].as_array().cloned().unwrap_or_default()
    }
}

/// Writes `plan`, starts drills, intake and a ticking tracker, and runs until the one result comes out (giving
/// up after `wait`).
async fn run(stack: &mut Stack, plan: &Value, wait: Duration) -> Ran {
    let (_, evidence_dir) = drills::configure(stack, &[(PLAN, plan)]);
    let drills_fn = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;
    let (results, sent) = drills::run_until_results_within(stack, &drills_fn, &intake, 1, wait).await;
    assert_eq!((results.len(), sent.len()), (1, 1), "one result, one restore request: {results:#?}");
    let result = results[0].clone();
    let logs = format!("drills:\n{}{}", drills_fn.stdout().text(), drills_fn.stderr().text());
    let run_id = result["runId"].as_str().unwrap_or_else(|| panic!("a run id: {result:#}")).to_string();
    let evidence = read_json(&evidence_dir.join("runs").join(format!("{run_id}.json")));
    Ran { result, evidence, logs }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Ids of the disks, VMs and NICs the emulator holds in the sandbox group, and its staging files in the sandbox
/// staging account.
fn in_sandbox(stack: &Stack) -> Vec<String> {
    let r = stack.emu.resources();
    let arm = ["disks", "vms", "networkInterfaces"]
        .iter()
        .flat_map(|k| r[k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .filter(|id| id.to_ascii_lowercase().contains("/resourcegroups/rg-drill-sandbox/"));
    let staging = r["stagingFiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .filter(|f| f.to_ascii_lowercase().starts_with("stdrillsandbox/"));
    arm.chain(staging).collect()
}

/// Whether the emulator holds `id` (a disk, VM or NIC).
fn exists(stack: &Stack, id: &str) -> bool {
    let r = stack.emu.resources();
    ["disks", "vms", "networkInterfaces"]
        .iter()
        .flat_map(|k| r[k].as_array().cloned().unwrap_or_default())
        .any(|v| v["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id)))
}

/// DELETE requests the emulator received whose path ends with `/{name}` (any casing).
async fn deletes_of(stack: &Stack, name: &str) -> Vec<Value> {
    let suffix = format!("/{}", name.to_ascii_lowercase());
    stack
        .log()
        .await
        .into_iter()
        .filter(|e| {
            e["method"] == "DELETE" && e["path"].as_str().is_some_and(|p| p.to_ascii_lowercase().ends_with(&suffix))
        })
        .collect()
}

/// The restore jobs the emulator ran for `source` (a resource id the job names as its source, any casing).
async fn jobs_for(stack: &Stack, source: &str) -> Vec<Value> {
    let source = source.to_ascii_lowercase();
    stack
        .jobs()
        .await
        .into_iter()
        .filter(|j| j["sourceId"].as_str().is_some_and(|s| s.to_ascii_lowercase().contains(&source)))
        .collect()
}

// 1. A restore job Azure fails.

const JOB_ERROR_CODE: &str = "UserErrorDiskCreationQuotaExhausted";
const JOB_ERROR_MESSAGE: &str = "Disk creation failed: the regional disk quota is exhausted (drill fault test).";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restore_job_fails_the_run_with_azures_error_and_leaves_nothing() {
    failed_restore_job(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restore_job_fails_the_run_with_azures_error_and_leaves_nothing_on_the_blob_store() {
    failed_restore_job(Backend::Blob).await;
}

async fn failed_restore_job(backend: Backend) {
    // Every recovery point of the drilled instance restores into a job that fails, whichever the intake picks.
    let scenario = common::example_json("scenario.json");
    let points: Vec<String> = scenario["subscriptions"][0]["backupVaults"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|v| v["backupInstances"].as_array().cloned().unwrap_or_default())
        .filter(|bi| bi["name"] == DISK_INSTANCE)
        .flat_map(|bi| bi["recoveryPoints"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["id"].as_str().map(str::to_string))
        .collect();
    assert!(!points.is_empty(), "the example scenario has recovery points for {DISK_INSTANCE}");
    let outcomes: Vec<Value> = points
        .iter()
        .map(|p| json!({"recoveryPointId": p, "status": "Failed", "errorCode": JOB_ERROR_CODE, "errorMessage": JOB_ERROR_MESSAGE}))
        .collect();
    let mut stack = stack_with_rules(backend, json!({"jobOutcomes": outcomes})).await;
    let ran = run(&mut stack, &disk_plan(scheduled_at()), common::WAIT).await;
    let (result, item) = (&ran.result, ran.item());

    assert_eq!(result["outcome"], "Failed", "{result:#}\n{}", ran.logs);
    assert_eq!(item["outcome"], "Failed", "{item:#}");
    let failure = &item["failure"];
    assert_eq!(failure["stage"], "restore", "{item:#}");
    assert_eq!(failure["code"], JOB_ERROR_CODE, "the item names Azure's error: {item:#}");
    assert!(failure["message"].as_str().is_some_and(|m| m.contains(JOB_ERROR_MESSAGE)), "Azure's message: {item:#}");
    assert!(item["timeline"]["checksPassed"].is_null() && item["rto"]["measuredSeconds"].is_null(), "{item:#}");
    // The failure came from Azure's job (not a refusal before it): the emulator ran it and it failed.
    let jobs = jobs_for(&stack, &disk_item()).await;
    assert!(
        !jobs.is_empty() && jobs.iter().all(|j| j["status"] == "Failed" && j["error"] == JOB_ERROR_CODE),
        "{jobs:#?}"
    );
    assert!(ran.signals("cleanupIncomplete").is_empty(), "{result:#}");
    assert_eq!(in_sandbox(&stack), Vec::<String>::new(), "nothing in the sandbox: {result:#}");
}

// 2 and 3. A new VM that fails its checks.

/// A VM rule for the VM the drill restores (named after the source, with a unique suffix).
fn restored_vm_rule(switch: &str) -> Value {
    json!({"vms": [{"name": format!("{VM}-drill-*"), switch: true}]})
}

/// The VM, its NIC and its disks were recorded, deleted and confirmed gone, with the staging files, and nothing
/// is left in the sandbox.
async fn assert_vm_cleaned_up(stack: &Stack, ran: &Ran) {
    let cleanup = ran.cleanup();
    let of = |kind: &str| -> Vec<&Value> {
        cleanup
            .iter()
            .filter(|c| c["resource"].as_str().is_some_and(|r| r.to_ascii_lowercase().contains(kind)))
            .collect()
    };
    for kind in ["/providers/microsoft.compute/virtualmachines/", "/providers/microsoft.network/networkinterfaces/"] {
        assert_eq!(of(kind).len(), 1, "one {kind} recorded: {cleanup:#?}\n{}", ran.logs);
    }
    assert!(!of("/providers/microsoft.compute/disks/").is_empty(), "the VM's disks recorded: {cleanup:#?}");
    for c in &cleanup {
        assert!(c["deleted"] == true && c["confirmedAt"].is_string(), "deleted and confirmed: {c:#}\n{cleanup:#?}");
        let resource = c["resource"].as_str().unwrap_or_default();
        if resource.starts_with('/') {
            assert!(!exists(stack, resource), "{resource} is gone");
            let name = resource.rsplit('/').next().unwrap_or_default();
            assert!(!deletes_of(stack, name).await.is_empty(), "the drill sent a DELETE for {resource}");
        }
    }
    assert!(ran.item()["timeline"]["cleanedUp"].is_string(), "{:#}", ran.item());
    assert!(ran.signals("cleanupIncomplete").is_empty(), "{:#}", ran.result);
    assert_eq!(in_sandbox(stack), Vec::<String>::new(), "nothing left in the sandbox: {:#}", ran.result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_vm_whose_provisioning_failed_fails_its_check_and_is_still_deleted() {
    let mut stack = stack_with_rules(Backend::Sqlite, restored_vm_rule("provisioningFailed")).await;
    let ran = run(&mut stack, &new_vm_plan(scheduled_at(), "PT20M"), common::WAIT).await;
    let (result, item) = (&ran.result, ran.item());

    assert_eq!(result["outcome"], "Failed", "{result:#}\n{}", ran.logs);
    let failure = &item["failure"];
    assert_eq!((&failure["stage"], &failure["check"]), (&json!("check"), &json!("vmProvisioned")), "{item:#}");
    assert!(failure["message"].as_str().is_some_and(|m| m.contains("Failed")), "what it read: {item:#}");
    // Azure's job itself completed: the restore made a VM, it is the VM that is broken.
    let jobs = jobs_for(&stack, VM).await;
    assert!(jobs.iter().any(|j| j["status"] == "Completed"), "{jobs:#?}");
    assert_vm_cleaned_up(&stack, &ran).await;
}

/// The agent timeout of the test below: the least a plan may give.
const AGENT_TIMEOUT: &str = "PT1M";
const AGENT_TIMEOUT_SECONDS: i64 = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_vm_whose_agent_never_becomes_ready_fails_after_the_timeout_and_is_deleted() {
    let mut stack = stack_with_rules(Backend::Sqlite, restored_vm_rule("agentNotReady")).await;
    // The timeout runs on the drill function's clock, which is real time: the emulator's speed cannot shorten it.
    let wait = common::WAIT + Duration::from_secs(AGENT_TIMEOUT_SECONDS.unsigned_abs());
    let ran = run(&mut stack, &new_vm_plan(scheduled_at(), AGENT_TIMEOUT), wait).await;
    let (result, item) = (&ran.result, ran.item());

    assert_eq!(result["outcome"], "Failed", "{result:#}\n{}", ran.logs);
    let failure = &item["failure"];
    assert_eq!((&failure["stage"], &failure["check"]), (&json!("check"), &json!("vmAgentReady")), "{item:#}");
    assert!(failure["message"].as_str().is_some_and(|m| m.contains("Not Ready")), "what it read: {item:#}");
    // It failed on the agent alone: the VM provisioned and runs.
    let checks = ran.evidence["items"][0]["checks"].as_array().cloned().unwrap_or_default();
    for passed in ["vmProvisioned", "vmRunning"] {
        assert!(checks.iter().any(|c| c["name"] == passed && c["passed"] == true), "{passed}: {checks:#?}");
    }
    // And only once the timeout had passed (both times on the drill function's clock).
    let time = |k: &str| {
        result[k]
            .as_str()
            .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| panic!("{k}: {result:#}"))
    };
    let took = time("endedAt") - time("startedAt");
    assert!(took.whole_seconds() >= AGENT_TIMEOUT_SECONDS, "ended {took} after it started: {result:#}");
    assert_vm_cleaned_up(&stack, &ran).await;
}

// 4. Deletes Azure refuses.

/// Rules making DELETEs of the restored disk fail with 409 `fail_times` times.
fn refused_deletes(fail_times: u32) -> Value {
    json!({"deletes": [{"name": format!("{DISK_INSTANCE}-drill-*"), "failTimes": fail_times, "status": 409}]})
}

/// The disk the drill restored, from the emulator's jobs.
async fn restored_disk(stack: &Stack) -> String {
    let jobs = jobs_for(stack, &disk_item()).await;
    let restored: Vec<String> = jobs
        .iter()
        .flat_map(|j| j["restoredResourceIds"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    assert_eq!(restored.len(), 1, "one restored disk: {jobs:#?}");
    restored[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_refused_twice_is_retried_across_ticks_and_the_disk_confirmed_gone() {
    let fail_times = 2;
    let mut stack = stack_with_rules(Backend::Sqlite, refused_deletes(fail_times)).await;
    let ran = run(&mut stack, &disk_plan(scheduled_at()), common::WAIT).await;
    let (result, item) = (&ran.result, ran.item());

    assert_eq!(result["outcome"], "Passed", "the checks passed: {result:#}\n{}", ran.logs);
    let disk = restored_disk(&stack).await;
    let name = disk.rsplit('/').next().unwrap_or_default();
    let deletes = deletes_of(&stack, name).await;
    let statuses: Vec<&Value> = deletes.iter().map(|d| &d["status"]).collect();
    let refused = usize::try_from(fail_times).unwrap();
    assert_eq!(deletes.len(), refused + 1, "refused {fail_times} times, then accepted: {statuses:?}");
    assert!(statuses[..refused].iter().all(|s| **s == 409) && statuses[refused] != 409, "{statuses:?}");
    // One DELETE per tick: the retries came on later ticks, not in a loop within one.
    let times: Vec<&str> = deletes.iter().filter_map(|d| d["time"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(!exists(&stack, &disk), "{disk} is gone");
    assert!(item["timeline"]["cleanedUp"].is_string(), "confirmed: {item:#}");
    assert!(ran.signals("cleanupIncomplete").is_empty(), "no cleanupIncomplete: {result:#}");
    assert_eq!(in_sandbox(&stack), Vec::<String>::new(), "nothing in the sandbox: {result:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_refused_beyond_the_bound_is_signalled_as_cleanup_incomplete() {
    let mut stack = stack_with_rules(Backend::Sqlite, refused_deletes(1000)).await;
    let ran = run(&mut stack, &disk_plan(scheduled_at()), common::WAIT).await;
    let (result, item) = (&ran.result, ran.item());

    // The drill itself passed; the leftover is a signal, separate from the outcome.
    assert_eq!(result["outcome"], "Passed", "{result:#}\n{}", ran.logs);
    let disk = restored_disk(&stack).await;
    assert!(exists(&stack, &disk), "Azure never allowed the delete: {disk} is still there");
    let name = disk.rsplit('/').next().unwrap_or_default();
    assert_eq!(deletes_of(&stack, name).await.len(), MAX_FAILED_DELETES, "the drill gives up at its bound");
    assert!(item["timeline"]["cleanedUp"].is_null(), "not confirmed: {item:#}");
    let signals = ran.signals("cleanupIncomplete");
    assert_eq!(signals.len(), 1, "{result:#}");
    let leftovers = signals[0]["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(leftovers.len(), 1, "{result:#}");
    assert!(
        leftovers[0]["resource"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(&disk)),
        "names {disk}: {result:#}"
    );
    assert!(leftovers[0]["reason"].as_str().is_some_and(|r| r.contains("409")), "says why: {result:#}");
}

// 5. What is not the run's own.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_tagged_like_the_run_but_not_on_it_are_never_deleted() {
    let at = scheduled_at();
    // Tagged exactly as this very run tags what it restores (same run, plan, and an expiry already past).
    let run_id = restore_drills::run_id(PLAN, at);
    let tags = restore_drills::cleanup::drill_tags(PLAN, &run_id, OffsetDateTime::now_utc() - time::Duration::days(1));
    let (stranger, outside) = ("stranger-drill-disk", "already-there");
    let mut stack = Stack::start_custom(Backend::Sqlite, |s| {
        for rg in s["subscriptions"][0]["resourceGroups"].as_array_mut().expect("groups") {
            if rg["name"] == "rg-drill-sandbox" {
                rg["disks"] = json!([{"name": stranger, "sizeGb": 32, "tags": tags}]);
            } else if rg["name"] == "rg-restore" {
                for d in rg["disks"].as_array_mut().expect("rg-restore disks") {
                    if d["name"] == outside {
                        d["tags"] = json!(tags);
                    }
                }
            }
        }
    })
    .await;
    let stranger_id = format!("{}/providers/Microsoft.Compute/disks/{stranger}", sandbox_group());
    let outside_id = format!("{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/disks/{outside}");
    for id in [&stranger_id, &outside_id] {
        assert!(exists(&stack, id), "{id} is there before the run");
    }
    let ran = run(&mut stack, &disk_plan(at), common::WAIT).await;
    let result = &ran.result;

    assert_eq!(result["runId"], run_id.as_str(), "the strangers carry this run's id: {result:#}");
    assert_eq!(result["outcome"], "Passed", "{result:#}\n{}", ran.logs);
    // The run cleaned up its own disk...
    let own = restored_disk(&stack).await;
    assert!(!exists(&stack, &own) && ran.item()["timeline"]["cleanedUp"].is_string(), "{result:#}");
    // ...and never touched the others.
    for (id, name) in [(&stranger_id, stranger), (&outside_id, outside)] {
        assert!(exists(&stack, id), "{id} still exists: {result:#}");
        assert_eq!(deletes_of(&stack, name).await, Vec::<Value>::new(), "no DELETE for {id}");
    }
    let cleanup = ran.cleanup();
    assert!(
        cleanup.iter().all(|c| c["resource"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(&own))),
        "the run recorded only its own disk: {cleanup:#?}"
    );
    assert_eq!(in_sandbox(&stack), vec![stranger_id.clone()], "only the stranger is in the sandbox");
}

/// The example scenario with the sandbox network edited by `edit` (its one virtual network, as a JSON object).
async fn stack_with_sandbox_network(edit: impl FnOnce(&mut Value)) -> Stack {
    Stack::start_custom(Backend::Sqlite, |s| {
        let groups = s["subscriptions"][0]["resourceGroups"].as_array_mut().expect("resource groups");
        let sandbox = groups.iter_mut().find(|g| g["name"] == "rg-drill-sandbox").expect("the sandbox group");
        edit(&mut sandbox["virtualNetworks"][0]);
    })
    .await
}

/// A new-VM drill the preflight refuses: the run ends Failed at stage `preflight` with `code`, with no restore
/// request and no Azure write at all.
async fn refused_before_any_write(mut stack: Stack, code: &str) {
    let plan = new_vm_plan(scheduled_at(), "PT20M");
    drills::configure(&mut stack, &[(PLAN, &plan)]);
    let drills_fn = stack.worker("drills").await;
    let tick = drills::tick(&drills_fn).await;
    assert!(tick.requests.is_empty(), "no restore request");
    let result =
        tick.results.first().unwrap_or_else(|| panic!("the refused run ends at once: {}", drills_fn.stderr().text()));
    assert_eq!(result["outcome"], "Failed", "{result:#}");
    let failure = &result["items"][0]["failure"];
    assert_eq!((failure["stage"].as_str(), failure["code"].as_str()), (Some("preflight"), Some(code)), "{result:#}");
    assert!(failure["message"].as_str().is_some_and(|m| m.contains("vnet-drill")), "names the network: {failure:#}");
    assert_eq!(stack.azure_writes().await, Vec::<Value>::new(), "no Azure write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_vm_drill_into_a_peered_network_is_refused_before_any_write() {
    let stack = stack_with_sandbox_network(|vnet| {
        vnet["peerings"] = json!([{ "name": "to-app", "remoteVirtualNetwork": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app" }]);
    })
    .await;
    refused_before_any_write(stack, "preflight.peeredNetwork").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_vm_drill_into_a_subnet_without_an_nsg_is_refused_before_any_write() {
    let stack = stack_with_sandbox_network(|vnet| {
        vnet["subnets"][0].as_object_mut().expect("a subnet object").remove("networkSecurityGroup");
    })
    .await;
    refused_before_any_write(stack, "preflight.subnetWithoutNsg").await;
}
