//! The item state machine branch by branch, with scripted Azure and restore records and a fixed clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use restore_contract::policy::SandboxPolicy;
use restore_drills::cleanup::TAG_RUN;
use restore_drills::item::{DrillAzure, ItemRun, Phase, RestoreView, Restores, SeamError, StepContext, VaultLoad};
use restore_drills::plan::Checks;
use restore_drills::probes::WebhookClient;
use restore_drills::result::FailureStage;
use restore_drills::{ItemId, VaultId};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const RUN: &str = "nightly.20261205T023000Z";
const T0: OffsetDateTime = datetime!(2026-12-05 02:30 UTC);

fn sandbox_disk(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/disks/{name}")
}
fn sandbox_vm(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/virtualMachines/{name}")
}
fn sandbox_nic(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkInterfaces/{name}")
}

#[derive(Default)]
struct Azure {
    resources: Mutex<BTreeMap<String, Value>>,
    views: Mutex<HashMap<String, Value>>,
    delete_failures: Mutex<HashMap<String, u32>>,
    /// Tag writes refused this many times per resource.
    tag_failures: Mutex<HashMap<String, u32>>,
    /// Resources whose DELETE is accepted but never happens.
    hung_deletes: Mutex<Vec<String>>,
    fail_everything: Mutex<bool>,
    log: Mutex<Vec<String>>,
}

impl Azure {
    fn put(&self, id: &str, body: Value) {
        self.resources.lock().unwrap().insert(id.to_ascii_lowercase(), body);
    }
    fn exists(&self, id: &str) -> bool {
        self.resources.lock().unwrap().contains_key(&id.to_ascii_lowercase())
    }
    fn calls(&self, prefix: &str) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|c| c.starts_with(prefix)).cloned().collect()
    }
    fn note(&self, call: String) -> Result<(), SeamError> {
        self.log.lock().unwrap().push(call);
        if *self.fail_everything.lock().unwrap() {
            return Err(SeamError("connection reset".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl DrillAzure for Azure {
    async fn get(&self, id: &str) -> Result<Option<Value>, SeamError> {
        self.note(format!("GET {id}"))?;
        Ok(self.resources.lock().unwrap().get(&id.to_ascii_lowercase()).cloned())
    }
    async fn instance_view(&self, vm: &str) -> Result<Value, SeamError> {
        self.note(format!("VIEW {vm}"))?;
        Ok(self.views.lock().unwrap().get(vm).cloned().unwrap_or(Value::Null))
    }
    async fn merge_tags(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), SeamError> {
        self.note(format!("TAG {id}"))?;
        if let Some(n) = self.tag_failures.lock().unwrap().get_mut(id)
            && *n > 0
        {
            *n -= 1;
            return Err(SeamError("RequestDisallowedByPolicy".into()));
        }
        if let Some(r) = self.resources.lock().unwrap().get_mut(&id.to_ascii_lowercase()) {
            for (k, v) in tags {
                r["tags"][k] = json!(v);
            }
        }
        Ok(())
    }
    async fn delete(&self, id: &str) -> Result<u16, SeamError> {
        self.note(format!("DELETE {id}"))?;
        let mut failures = self.delete_failures.lock().unwrap();
        if let Some(n) = failures.get_mut(id)
            && *n > 0
        {
            *n -= 1;
            return Ok(409);
        }
        if self.hung_deletes.lock().unwrap().contains(&id.to_string()) {
            return Ok(202);
        }
        self.resources.lock().unwrap().remove(&id.to_ascii_lowercase());
        Ok(202)
    }
    async fn delete_staging(&self, url: &str) -> Result<(), SeamError> {
        self.note(format!("DELETE-STAGING {url}"))
    }
    async fn put(&self, id: &str, body: &Value) -> Result<(), SeamError> {
        self.note(format!("PUT {id}"))?;
        self.resources.lock().unwrap().insert(id.to_ascii_lowercase(), body.clone());
        Ok(())
    }
    async fn run_command(&self, id: &str) -> Result<Option<Value>, SeamError> {
        self.note(format!("RUN-COMMAND {id}"))?;
        Ok(self.resources.lock().unwrap().get(&id.to_ascii_lowercase()).cloned())
    }
}

#[derive(Default)]
struct Records {
    views: Mutex<HashMap<String, RestoreView>>,
    sent: Mutex<Vec<Value>>,
    /// Restores running per vault (lower-case id), as the store would count them.
    load: Mutex<HashMap<String, VaultLoad>>,
}

#[async_trait]
impl Restores for Records {
    async fn restore(&self, request_id: &str) -> Result<Option<RestoreView>, SeamError> {
        Ok(self.views.lock().unwrap().get(request_id).cloned())
    }
    async fn send(&self, request: &Value) -> Result<(), SeamError> {
        self.sent.lock().unwrap().push(request.clone());
        Ok(())
    }
    async fn vault_load(&self, vault: &VaultId) -> Result<VaultLoad, SeamError> {
        Ok(self.load.lock().unwrap().get(&vault.as_str().to_ascii_lowercase()).copied().unwrap_or_default())
    }
}

/// One POST the webhook got: URL, headers, body.
type Posted = (String, Vec<(String, String)>, Vec<u8>);

/// A scripted webhook receiver: records what it was sent, answers as told.
#[derive(Debug, Default)]
struct Hook {
    secret: Option<Vec<u8>>,
    answer: (u16, Vec<u8>),
    received: Mutex<Vec<Posted>>,
}

#[async_trait]
impl WebhookClient for Hook {
    fn secret(&self, _: &str) -> Option<Vec<u8>> {
        self.secret.clone()
    }
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        _: Duration,
    ) -> Result<(u16, Vec<u8>), SeamError> {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.received.lock().unwrap().push((url.to_string(), headers, body));
        Ok(self.answer.clone())
    }
}

fn sandbox() -> SandboxPolicy {
    serde_json::from_value(json!({"resourceGroups": [format!("{SUB}/resourceGroups/rg-drill-sandbox")]})).unwrap()
}

fn disk_item() -> ItemId {
    ItemId::parse(&format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi"
    ))
    .unwrap()
}

fn vm_item() -> ItemId {
    let n = "iaasvmcontainerv2;rg-app;vm-web-01";
    ItemId::parse(&format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}"
    ))
    .unwrap()
}

fn disk_body(size: u32) -> Value {
    json!({"sku": {"name": "Premium_LRS"}, "properties": {"provisioningState": "Succeeded", "diskSizeGB": size, "encryption": {"type": "EncryptionAtRestWithPlatformKey"}}})
}

struct World {
    azure: Azure,
    records: Records,
    sandbox: SandboxPolicy,
    now: OffsetDateTime,
    /// The plan's checks (Run Command, webhook).
    checks: Checks,
    webhook: Option<Hook>,
}

impl World {
    fn new() -> World {
        World {
            azure: Azure::default(),
            records: Records::default(),
            sandbox: sandbox(),
            now: T0,
            checks: Checks::default(),
            webhook: None,
        }
    }
    fn ctx(&self) -> StepContext<'_> {
        StepContext {
            plan: "nightly",
            run_id: RUN,
            sandbox: &self.sandbox,
            now: self.now,
            expires: T0 + Duration::days(1),
            resend_after: Duration::minutes(10),
            agent_timeout: Duration::minutes(15),
            keep_for: Duration::ZERO,
            max_failed_deletes: 3,
            delete_confirm_timeout: Duration::minutes(30),
            checks: &self.checks,
            webhook: self.webhook.as_ref().map(|w| w as &dyn WebhookClient),
        }
    }
    async fn step(&self, item: &mut ItemRun) -> Result<bool, SeamError> {
        item.step(&self.ctx(), &self.azure, &self.records).await
    }
    fn restored(&self, request_id: &str, view: RestoreView) {
        self.records.views.lock().unwrap().insert(request_id.to_string(), view);
    }
}

fn disk_run() -> ItemRun {
    ItemRun::new(disk_item(), format!("{RUN}.a"), json!({"requestId": format!("{RUN}.a")}), Some(disk_body(64)))
}

fn succeeded(restored: &[String]) -> RestoreView {
    RestoreView {
        done: true,
        succeeded: true,
        triggered_at: Some(T0 + Duration::seconds(4)),
        job_started_at: Some(T0 + Duration::seconds(20)),
        job_ended_at: Some(T0 + Duration::minutes(10)),
        restored: restored.to_vec(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_request_is_sent_once_and_again_only_when_no_record_appears() {
    let mut w = World::new();
    let mut item = disk_run();
    assert!(w.step(&mut item).await.unwrap());
    assert_eq!(w.records.sent.lock().unwrap().len(), 1);
    w.now += Duration::minutes(5);
    assert!(!w.step(&mut item).await.unwrap(), "not yet: the intake may still be on it");
    w.now += Duration::minutes(6);
    w.step(&mut item).await.unwrap();
    let sent = w.records.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "resent after resend_after");
    assert_eq!(sent[0], sent[1], "the same request, byte for byte");
    // Once the record exists, never again.
    w.restored(&item.request_id.clone(), RestoreView { triggered_at: Some(w.now), ..Default::default() });
    w.now += Duration::hours(1);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Restoring);
    w.step(&mut item).await.unwrap();
    assert_eq!(w.records.sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_restored_disk_is_tagged_checked_deleted_and_its_deletion_confirmed() {
    let w = World::new();
    let disk = sandbox_disk("app-data-01-drill");
    w.azure.put(&disk, disk_body(64));
    let mut item = disk_run();
    let point = format!("{}/recoveryPoints/rp-1", item.item.as_str());
    w.azure.put(&point, json!({"properties": {"recoveryPointTime": "2026-12-04T22:00:00Z"}}));
    let mut view = succeeded(std::slice::from_ref(&disk));
    view.recovery_point_id = Some("rp-1".into());
    w.restored(&item.request_id.clone(), view);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Checking);
    w.step(&mut item).await.unwrap();
    let log = w.azure.log.lock().unwrap().clone();
    let tag_at = log.iter().position(|c| c.starts_with("TAG")).expect("tagged");
    let get_at = log.iter().position(|c| c.starts_with("GET")).expect("checked");
    assert!(tag_at < get_at, "tagged before anything else: {log:#?}");
    assert!(item.checks.iter().all(|c| c.passed), "{:#?}", item.checks);
    assert!(item.timeline.checks_passed.is_some());
    let point = item.recovery_point.clone().expect("the restored point");
    assert_eq!((point.name.as_str(), point.time.map(|t| t.to_string())), ("rp-1", Some("2026-12-04T22:00:00Z".into())));
    assert_eq!(item.phase, Phase::CleaningUp);
    w.step(&mut item).await.unwrap();
    assert_eq!(w.azure.calls("DELETE").len(), 1);
    assert!(item.timeline.cleaned_up.is_none(), "not confirmed yet");
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Done);
    assert!(item.timeline.cleaned_up.is_some(), "a GET answered 404");
    assert!(item.leftovers().is_empty());
}

#[tokio::test]
async fn a_failed_restore_skips_the_checks_and_cleans_up_what_it_left() {
    let w = World::new();
    let mut item = disk_run();
    let view = RestoreView {
        done: true,
        error: Some(("UserErrorDiskQuotaLimitReached".into(), "quota".into())),
        ..Default::default()
    };
    w.restored(&item.request_id.clone(), view);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::CleaningUp);
    let failure = item.failure.clone().unwrap();
    assert_eq!(
        (failure.stage, failure.code.as_deref()),
        (FailureStage::Restore, Some("UserErrorDiskQuotaLimitReached"))
    );
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Done);
    assert!(w.azure.calls("TAG").is_empty() && w.azure.calls("DELETE").is_empty());
}

#[tokio::test]
async fn a_disk_that_differs_from_its_source_fails_its_check_and_is_still_cleaned_up() {
    let w = World::new();
    let disk = sandbox_disk("d");
    w.azure.put(&disk, disk_body(32));
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    for _ in 0..4 {
        w.step(&mut item).await.unwrap();
    }
    let failure = item.failure.clone().expect("a failed check");
    assert_eq!((failure.stage, failure.check.as_deref()), (FailureStage::Check, Some("diskMatchesSource")));
    assert!(failure.message.contains("diskSizeGB 32 ≠ 64"), "{}", failure.message);
    assert_eq!(item.phase, Phase::Done);
    assert!(!w.azure.exists(&disk));
}

fn vm_body(vm: &str, os: &str, nic: &str) -> Value {
    json!({"id": vm, "properties": {
        "provisioningState": "Succeeded",
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
        "storageProfile": {"osDisk": {"managedDisk": {"id": os}, "deleteOption": "Detach"}, "dataDisks": []},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}
    }})
}

fn view(agent: &str) -> Value {
    json!({"statuses": [{"code": "PowerState/running"}], "vmAgent": {"statuses": [{"displayStatus": agent}]}})
}

#[tokio::test]
async fn a_vm_waits_for_its_agent_then_goes_first_with_its_disks_and_nic_recorded() {
    let mut w = World::new();
    let (vm, os, nic) = (sandbox_vm("vm-drill"), sandbox_disk("vm-drill-os"), sandbox_nic("vm-drill-nic"));
    w.azure.put(&vm, vm_body(&vm, &os, &nic));
    w.azure.put(&os, disk_body(128));
    w.azure.put(&nic, json!({"properties": {}}));
    w.azure.views.lock().unwrap().insert(vm.clone(), view("Not Ready"));
    let mut item = ItemRun::new(vm_item(), format!("{RUN}.b"), json!({}), None);
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&vm)));
    w.step(&mut item).await.unwrap();
    w.now = T0 + Duration::minutes(12);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Checking, "the agent may still come up");
    assert_eq!(item.created.len(), 3, "the VM's disk and NIC are recorded: {:?}", item.created);
    w.azure.views.lock().unwrap().insert(vm.clone(), view("Ready"));
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::CleaningUp);
    assert!(item.failure.is_none(), "{:?}", item.checks);
    w.step(&mut item).await.unwrap();
    let deletes = w.azure.calls("DELETE");
    assert!(deletes[0].ends_with("/virtualMachines/vm-drill"), "the VM goes first: {deletes:#?}");
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert!(!w.azure.exists(&vm) && !w.azure.exists(&os) && !w.azure.exists(&nic));
}

#[tokio::test]
async fn an_agent_that_never_becomes_ready_fails_the_item_after_its_timeout() {
    let mut w = World::new();
    let (vm, os, nic) = (sandbox_vm("vm-drill"), sandbox_disk("vm-drill-os"), sandbox_nic("vm-drill-nic"));
    w.azure.put(&vm, vm_body(&vm, &os, &nic));
    w.azure.views.lock().unwrap().insert(vm.clone(), view("Not Ready"));
    let mut item = ItemRun::new(vm_item(), format!("{RUN}.b"), json!({}), None);
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&vm)));
    w.step(&mut item).await.unwrap();
    w.now = T0 + Duration::minutes(26);
    w.step(&mut item).await.unwrap();
    let failure = item.failure.clone().expect("failed");
    assert_eq!(failure.check.as_deref(), Some("vmAgentReady"));
    assert_eq!(item.phase, Phase::CleaningUp);
}

/// The agent timeout runs on the function's own clock, from the tick that saw the restore end: Azure's job end
/// time is another clock, and a skew must neither keep the item waiting for ever nor fail it at once.
#[tokio::test]
async fn the_agent_timeout_runs_on_the_drills_clock_whatever_azures_job_end_time_says() {
    for skew in [Duration::hours(2), -Duration::hours(2)] {
        let mut w = World::new();
        let (vm, os, nic) = (sandbox_vm("vm-drill"), sandbox_disk("vm-drill-os"), sandbox_nic("vm-drill-nic"));
        w.azure.put(&vm, vm_body(&vm, &os, &nic));
        w.azure.views.lock().unwrap().insert(vm.clone(), view("Not Ready"));
        let mut item = ItemRun::new(vm_item(), format!("{RUN}.b"), json!({}), None);
        let mut restored = succeeded(std::slice::from_ref(&vm));
        restored.job_ended_at = Some(T0 + skew);
        w.restored(&item.request_id.clone(), restored);
        w.step(&mut item).await.unwrap();
        w.now = T0 + Duration::minutes(1);
        w.step(&mut item).await.unwrap();
        assert_eq!((item.phase, &item.failure), (Phase::Checking, &None), "skew {skew}: the agent may still come up");
        w.now = T0 + Duration::minutes(16);
        w.step(&mut item).await.unwrap();
        let failure = item.failure.clone().unwrap_or_else(|| panic!("skew {skew}: timed out: {:#?}", item.checks));
        assert_eq!(failure.check.as_deref(), Some("vmAgentReady"), "skew {skew}");
        assert_eq!(item.phase, Phase::CleaningUp);
    }
}

#[tokio::test]
async fn a_delete_that_fails_is_retried_across_ticks_then_reported_as_a_leftover() {
    let w = World::new();
    let disk = sandbox_disk("stuck");
    w.azure.put(&disk, disk_body(64));
    w.azure.delete_failures.lock().unwrap().insert(disk.clone(), 2);
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    for _ in 0..8 {
        w.step(&mut item).await.unwrap();
    }
    assert_eq!(w.azure.calls("DELETE").len(), 3, "two refusals, then accepted");
    assert_eq!(item.phase, Phase::Done);
    assert!(item.timeline.cleaned_up.is_some());

    let w = World::new();
    w.azure.put(&disk, disk_body(64));
    w.azure.delete_failures.lock().unwrap().insert(disk.clone(), 100);
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    for _ in 0..10 {
        w.step(&mut item).await.unwrap();
    }
    assert_eq!(w.azure.calls("DELETE").len(), 3, "bounded");
    assert_eq!(item.phase, Phase::Done);
    assert!(item.timeline.cleaned_up.is_none());
    assert_eq!(item.leftovers(), [(disk.clone(), "DELETE answered 409".to_string())]);
}

#[tokio::test]
async fn a_resource_that_lost_its_tag_or_lies_outside_the_sandbox_is_never_deleted() {
    let w = World::new();
    let untagged = sandbox_disk("untagged");
    let outside = format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01");
    w.azure.put(&untagged, disk_body(64));
    w.azure.put(&outside, disk_body(64));
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(&[untagged.clone(), outside.clone()]));
    w.step(&mut item).await.unwrap();
    w.step(&mut item).await.unwrap();
    // Someone removes the drill's tag before cleanup.
    w.azure.resources.lock().unwrap().get_mut(&untagged.to_ascii_lowercase()).unwrap()["tags"]
        .as_object_mut()
        .unwrap()
        .remove(TAG_RUN);
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert!(w.azure.calls("DELETE").is_empty(), "{:#?}", w.azure.calls("DELETE"));
    assert!(w.azure.exists(&untagged) && w.azure.exists(&outside));
    let leftovers = item.leftovers();
    assert_eq!(leftovers.len(), 2);
    assert!(leftovers.iter().any(|(_, why)| why.contains("outside the policy's sandbox")), "{leftovers:#?}");
    assert!(leftovers.iter().any(|(_, why)| why.contains("does not carry")), "{leftovers:#?}");
}

#[tokio::test]
async fn a_seam_failure_changes_nothing_and_the_next_tick_carries_on() {
    let w = World::new();
    let disk = sandbox_disk("d");
    w.azure.put(&disk, disk_body(64));
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    w.step(&mut item).await.unwrap();
    let before = item.clone();
    *w.azure.fail_everything.lock().unwrap() = true;
    // The tag write fails first: counted toward its bound (and stored), nothing else moves.
    assert!(w.step(&mut item).await.unwrap(), "the failed attempt is stored");
    assert_eq!((item.phase, item.created[0].tag_failures, item.created[0].tagged), (before.phase, 1, false));
    let counted = item.clone();
    // Once tagged, a failed read leaves the item exactly as it was.
    *w.azure.fail_everything.lock().unwrap() = false;
    let mut tagged = counted.clone();
    w.azure.merge_tags(&disk, &BTreeMap::new()).await.unwrap();
    tagged.created[0].tagged = true;
    *w.azure.fail_everything.lock().unwrap() = true;
    let snapshot = tagged.clone();
    assert!(w.step(&mut tagged).await.is_err());
    assert_eq!(tagged, snapshot, "a seam error changes nothing");
    *w.azure.fail_everything.lock().unwrap() = false;
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert!(item.timeline.cleaned_up.is_some());
}

#[tokio::test]
async fn staging_files_are_deleted_by_url_without_tags() {
    let w = World::new();
    let disk = sandbox_disk("vm-os");
    w.azure.put(&disk, disk_body(128));
    let mut item = ItemRun::new(vm_item(), format!("{RUN}.c"), json!({}), None);
    let mut view = succeeded(std::slice::from_ref(&disk));
    view.staging_files = vec!["https://stage01.blob.core.windows.net/vm-abc/config-vm.json".into()];
    w.restored(&item.request_id.clone(), view);
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert_eq!(w.azure.calls("DELETE-STAGING").len(), 1);
    assert!(w.azure.calls("TAG").iter().all(|c| !c.contains("blob.core")), "files carry no ARM tags");
    assert!(item.timeline.cleaned_up.is_some());
}

#[tokio::test]
async fn a_vm_ready_at_once_still_has_its_disks_and_nic_tagged_and_deleted() {
    let w = World::new();
    let (vm, os, nic) = (sandbox_vm("vm-drill"), sandbox_disk("vm-drill-os"), sandbox_nic("vm-drill-nic"));
    w.azure.put(&vm, vm_body(&vm, &os, &nic));
    w.azure.put(&os, disk_body(128));
    w.azure.put(&nic, json!({"properties": {}}));
    w.azure.views.lock().unwrap().insert(vm.clone(), view("Ready"));
    let mut item = ItemRun::new(vm_item(), format!("{RUN}.b"), json!({}), None);
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&vm)));
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert_eq!(w.azure.calls("TAG").len(), 3, "{:#?}", w.azure.calls("TAG"));
    assert!(item.leftovers().is_empty(), "{:#?}", item.leftovers());
    assert!(!w.azure.exists(&os) && !w.azure.exists(&nic));
}

#[tokio::test]
async fn a_tag_write_refused_is_retried_then_left_untagged_and_never_deleted() {
    let w = World::new();
    let disk = sandbox_disk("untaggable");
    w.azure.put(&disk, disk_body(64));
    w.azure.tag_failures.lock().unwrap().insert(disk.clone(), 100);
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    w.step(&mut item).await.unwrap(); // restored → checking
    for n in 1..3 {
        assert!(w.step(&mut item).await.unwrap(), "the failed attempt is stored");
        assert_eq!((item.phase, item.created[0].tag_failures), (Phase::Checking, n), "retried next tick");
    }
    // The third refusal reaches the bound: checked untagged, then the guard refuses the DELETE.
    while item.phase != Phase::Done {
        w.step(&mut item).await.unwrap();
    }
    assert_eq!(w.azure.calls("TAG").len(), 3, "bounded");
    assert!(w.azure.calls("DELETE").is_empty(), "an untagged resource is never deleted");
    assert!(w.azure.exists(&disk));
    let leftovers = item.leftovers();
    assert_eq!(leftovers.len(), 1);
    assert!(leftovers[0].1.contains("does not carry"), "{leftovers:?}");
}

#[tokio::test]
async fn a_delete_accepted_that_never_finishes_is_sent_again_then_reported() {
    let mut w = World::new();
    let disk = sandbox_disk("hangs");
    w.azure.put(&disk, disk_body(64));
    w.azure.hung_deletes.lock().unwrap().push(disk.clone());
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    w.step(&mut item).await.unwrap();
    w.step(&mut item).await.unwrap();
    w.step(&mut item).await.unwrap();
    assert_eq!(w.azure.calls("DELETE").len(), 1);
    // Within the confirm timeout the drill only waits for the 404.
    w.now += Duration::minutes(29);
    w.step(&mut item).await.unwrap();
    assert_eq!(w.azure.calls("DELETE").len(), 1, "waits inside the timeout");
    // Past it, the attempt counts as failed and the DELETE goes again, up to the bound.
    for _ in 0..10 {
        w.now += Duration::minutes(31);
        w.step(&mut item).await.unwrap();
        if item.phase == Phase::Done {
            break;
        }
    }
    assert_eq!(item.phase, Phase::Done, "the run is not held for ever");
    assert_eq!(w.azure.calls("DELETE").len(), 3, "one per attempt, bounded");
    let leftovers = item.leftovers();
    assert!(leftovers[0].1.contains("still exists"), "{leftovers:?}");
}

/// A ready new VM with its OS disk and NIC, restored for an item of `w`.
fn ready_vm(w: &World) -> (ItemRun, String) {
    let (vm, os, nic) = (sandbox_vm("vm-drill"), sandbox_disk("vm-drill-os"), sandbox_nic("vm-drill-nic"));
    let mut body = vm_body(&vm, &os, &nic);
    body["location"] = json!("westus");
    w.azure.put(&vm, body);
    w.azure.put(&os, disk_body(128));
    w.azure.put(&nic, json!({"properties": {}}));
    w.azure.views.lock().unwrap().insert(vm.clone(), view("Ready"));
    let item = ItemRun::new(vm_item(), format!("{RUN}.b"), json!({}), None);
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&vm)));
    (item, vm)
}

fn run_command_check(expected_output: Option<&str>) -> restore_drills::plan::RunCommandCheck {
    serde_json::from_value(json!({"script": "systemctl is-active app && echo DRILL-OK", "expectedExitCode": 0, "expectedOutput": expected_output})).unwrap()
}

#[tokio::test]
async fn a_run_command_is_put_once_followed_across_ticks_and_judged_by_exit_code_and_output() {
    for (exit, output, passes) in [(0, "app active\nDRILL-OK\n", true), (3, "inactive", false), (0, "no marker", false)]
    {
        let mut w = World::new();
        w.checks.run_command = Some(run_command_check(Some("DRILL-OK")));
        let (mut item, vm) = ready_vm(&w);
        w.step(&mut item).await.unwrap(); // restored → checking
        w.step(&mut item).await.unwrap(); // resource checks pass → Run Command PUT
        let puts = w.azure.calls("PUT");
        assert_eq!(puts.len(), 1, "{puts:?}");
        let command = item.run_command.as_ref().expect("recorded").id.clone();
        assert!(command.starts_with(&format!("{vm}/runCommands/restore-drill-")), "{command}");
        let body = w.azure.resources.lock().unwrap()[&command.to_ascii_lowercase()].clone();
        assert_eq!(body["properties"]["asyncExecution"], true, "polled across ticks, not held open: {body:#}");
        assert_eq!(body["location"], "westus");
        // Still running: the item waits, and nothing is sent again.
        let mut running = body.clone();
        running["properties"]["instanceView"] = json!({"executionState": "Running"});
        w.azure.put(&command, running);
        w.now += Duration::minutes(2);
        w.step(&mut item).await.unwrap();
        assert_eq!(item.phase, Phase::Checking);
        // Done: judged.
        let mut done = body;
        done["properties"]["instanceView"] = json!({"executionState": if exit == 0 { "Succeeded" } else { "Failed" }, "exitCode": exit, "output": output});
        w.azure.put(&command, done);
        w.step(&mut item).await.unwrap();
        assert_eq!(item.phase, Phase::CleaningUp, "{exit} {output}");
        let check = item.checks.iter().find(|c| c.name == "runCommand").expect("a runCommand check");
        assert_eq!(check.passed, passes, "{check:?}");
        assert!(!check.evidence.contains(output), "the output itself is not evidence: {check:?}");
        assert_eq!(item.failure.as_ref().and_then(|f| f.check.as_deref()), (!passes).then_some("runCommand"));
        assert_eq!(w.azure.calls("PUT").len(), 1, "the command is PUT once, never again while it runs");
    }
}

#[tokio::test]
async fn a_run_command_that_never_finishes_fails_after_its_timeout_and_grace() {
    let mut w = World::new();
    w.checks.run_command = Some(run_command_check(None));
    let (mut item, _) = ready_vm(&w);
    w.step(&mut item).await.unwrap();
    w.step(&mut item).await.unwrap();
    // The command stays Pending (an agent that stopped reporting): 10 minutes' timeout + 15 minutes' grace.
    w.now += Duration::minutes(24);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.phase, Phase::Checking);
    w.now += Duration::minutes(2);
    w.step(&mut item).await.unwrap();
    assert_eq!(item.failure.as_ref().and_then(|f| f.check.as_deref()), Some("runCommand"), "{:?}", item.checks);
}

#[tokio::test]
async fn a_webhook_gets_a_signed_payload_and_its_answer_decides() {
    for (answer, passes) in [
        ((200, br#"{"passed": true, "detail": "rows match"}"#.to_vec()), true),
        ((200, br#"{"passed": false, "detail": "table empty"}"#.to_vec()), false),
        ((500, b"oops".to_vec()), false),
        ((200, b"not json".to_vec()), false),
    ] {
        let mut w = World::new();
        w.checks.webhook = Some(
            serde_json::from_value(json!({"url": "https://checks.example/verify", "secretSetting": "DRILL_SECRET"}))
                .unwrap(),
        );
        w.webhook = Some(Hook { secret: Some(b"s3cret".to_vec()), answer: answer.clone(), ..Hook::default() });
        let disk = sandbox_disk("d");
        w.azure.put(&disk, disk_body(64));
        let mut item = disk_run();
        w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
        w.step(&mut item).await.unwrap();
        w.step(&mut item).await.unwrap();
        let check = item.checks.iter().find(|c| c.name == "webhook").expect("a webhook check");
        assert_eq!(check.passed, passes, "{answer:?}: {check:?}");
        let received = w.webhook.as_ref().unwrap().received.lock().unwrap().clone();
        assert_eq!(received.len(), 1);
        let (url, headers, body) = &received[0];
        assert_eq!(url, "https://checks.example/verify");
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        let timestamp = header("X-Drill-Timestamp");
        assert_eq!(header("X-Drill-Signature"), restore_drills::probes::signature(b"s3cret", &timestamp, body));
        assert_ne!(header("X-Drill-Signature"), restore_drills::probes::signature(b"other", &timestamp, body));
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["runId"], RUN);
        assert_eq!(payload["resources"], json!([disk.clone()]));
        assert!(headers.iter().all(|(k, _)| !k.eq_ignore_ascii_case("authorization")), "no token to a webhook");
    }
}

#[tokio::test]
async fn a_webhook_without_its_secret_sends_nothing_and_fails() {
    let mut w = World::new();
    w.checks.webhook = Some(
        serde_json::from_value(json!({"url": "https://checks.example/verify", "secretSetting": "DRILL_SECRET"}))
            .unwrap(),
    );
    w.webhook = Some(Hook::default());
    let disk = sandbox_disk("d");
    w.azure.put(&disk, disk_body(64));
    let mut item = disk_run();
    w.restored(&item.request_id.clone(), succeeded(std::slice::from_ref(&disk)));
    w.step(&mut item).await.unwrap();
    w.step(&mut item).await.unwrap();
    let check = item.checks.iter().find(|c| c.name == "webhook").unwrap();
    assert!(!check.passed && check.evidence.contains("DRILL_SECRET"), "{check:?}");
    assert!(w.webhook.as_ref().unwrap().received.lock().unwrap().is_empty());
}

#[test]
fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
    assert_eq!(
        restore_drills::probes::signature(b"key", "1700000000", b"{}"),
        "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
    );
}
