//! Starting a run from what Azure lists, branch by branch with a scripted inventory: vault and tag selection, a
//! deleted source still drilled (tags from history), other datasource kinds left out, unreadable ids reported,
//! the cost guard, explicit items no longer protected, coverage at the run's end, the plan's history, and the
//! vault share that keeps incident restores from waiting on drills.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use restore_contract::Policy;
use restore_drills::history::PlanHistory;
use restore_drills::inventory::{VaultInventory, gather, vaults_to_list};
use restore_drills::item::{DrillAzure, Phase, RestoreView, Restores, SeamError, VaultLoad};
use restore_drills::result::{ItemOutcome, Signal, SkipReason};
use restore_drills::run::RunContext;
use restore_drills::start::{start_run, vcpus_of_size};
use restore_drills::{DrillPlan, ItemId, VaultId};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const AT: OffsetDateTime = datetime!(2026-12-05 02:30 UTC);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy() -> Policy {
    Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap()
}

/// The example tag plan, edited.
fn plan(edit: impl FnOnce(&mut Value)) -> DrillPlan {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(repo().join("examples/drills/tags-monthly-coverage.json")).unwrap())
            .unwrap();
    edit(&mut v);
    restore_drills::parse_plan(v.to_string().as_bytes(), &policy(), AT).unwrap().into_plan()
}

const BV: &str = "/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks";
const RSV: &str = "/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms";

fn bi(name: &str) -> String {
    format!("{SUB}{BV}/backupInstances/{name}-bi")
}
fn pi(vm: &str) -> String {
    let n = format!("iaasvmcontainerv2;rg-app;{vm}");
    format!("{SUB}{RSV}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}")
}
fn disk(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/{name}")
}
fn vm(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/{name}")
}

/// A scripted Azure: vault listings, and source GETs (absent = 404).
#[derive(Default)]
struct Scripted {
    lists: HashMap<String, Vec<Value>>,
    resources: HashMap<String, Value>,
    listed: Mutex<Vec<String>>,
}

impl Scripted {
    fn disk_instance(mut self, name: &str, size: u64, tags: Option<Value>) -> Self {
        self.lists.entry(format!("{SUB}{BV}").to_ascii_lowercase()).or_default().push(json!({
            "id": bi(name),
            "properties": {"dataSourceInfo": {"resourceID": disk(name), "datasourceType": "Microsoft.Compute/disks"}}
        }));
        if let Some(tags) = tags {
            self.resources.insert(
                disk(name).to_ascii_lowercase(),
                json!({"id": disk(name), "tags": tags, "properties": {"diskSizeGB": size}}),
            );
        }
        self
    }
    fn vm_item(mut self, name: &str, size: &str, tags: Option<Value>) -> Self {
        self.lists.entry(format!("{SUB}{RSV}").to_ascii_lowercase()).or_default().push(json!({
            "id": pi(name),
            "properties": {"sourceResourceId": vm(name), "protectedItemType": "Microsoft.Compute/virtualMachines"}
        }));
        if let Some(tags) = tags {
            self.resources.insert(
                vm(name).to_ascii_lowercase(),
                json!({"id": vm(name), "tags": tags, "properties": {
                    "hardwareProfile": {"vmSize": size},
                    "storageProfile": {"osDisk": {"diskSizeGB": 30}, "dataDisks": [{"lun": 0, "diskSizeGB": 100}]}
                }}),
            );
        }
        self
    }
    fn listing(mut self, vault: &str, body: Value) -> Self {
        self.lists.entry(format!("{SUB}{vault}").to_ascii_lowercase()).or_default().push(body);
        self
    }
}

#[async_trait]
impl VaultInventory for Scripted {
    async fn protected_items(&self, vault: &VaultId) -> Result<Vec<Value>, SeamError> {
        self.listed.lock().unwrap().push(vault.as_str().to_string());
        Ok(self.lists.get(&vault.as_str().to_ascii_lowercase()).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl DrillAzure for Scripted {
    async fn get(&self, id: &str) -> Result<Option<Value>, SeamError> {
        Ok(self.resources.get(&id.to_ascii_lowercase()).cloned())
    }
    async fn instance_view(&self, _: &str) -> Result<Value, SeamError> {
        Err(SeamError("not scripted".into()))
    }
    async fn merge_tags(&self, _: &str, _: &BTreeMap<String, String>) -> Result<(), SeamError> {
        Err(SeamError("not scripted".into()))
    }
    async fn delete(&self, _: &str) -> Result<u16, SeamError> {
        Err(SeamError("not scripted".into()))
    }
    async fn delete_staging(&self, _: &str) -> Result<(), SeamError> {
        Err(SeamError("not scripted".into()))
    }
    async fn put(&self, _: &str, _: &Value) -> Result<(), SeamError> {
        panic!("never written here")
    }
    async fn run_command(&self, _: &str) -> Result<Option<Value>, SeamError> {
        Err(SeamError("not scripted".into()))
    }
}

fn tier1() -> Option<Value> {
    Some(json!({"tier": "1"}))
}

async fn run_of(plan: &DrillPlan, azure: &Scripted, history: &PlanHistory) -> restore_drills::run::DrillRun {
    let vaults = vaults_to_list(&plan.selection, &policy().allowed_vaults);
    let inventory = gather(&vaults, azure, azure, history).await.unwrap();
    start_run(plan, "monthly-tier1.20261205T023000Z", AT, &inventory, AT)
}

fn names(run: &restore_drills::run::DrillRun) -> Vec<(String, Phase, Option<SkipReason>)> {
    run.items
        .iter()
        .map(|i| (i.item.as_str().rsplit(['/', ';']).next().unwrap().to_string(), i.phase, i.skipped))
        .collect()
}

#[tokio::test]
async fn a_tag_selection_lists_every_allowed_vault_and_drills_the_tagged_disks_and_vms() {
    let plan = plan(|p| p["sampling"] = json!("all"));
    let azure = Scripted::default()
        .disk_instance("app-data-01", 64, tier1())
        .disk_instance("app-data-02", 64, Some(json!({"tier": "2"})))
        .vm_item("vm-web-01", "Standard_D2s_v3", Some(json!({"Tier": "1"})))
        .vm_item("vm-db-01", "Standard_E4s_v5", None.or(Some(json!({}))));
    let run = run_of(&plan, &azure, &PlanHistory::default()).await;
    assert_eq!(azure.listed.lock().unwrap().len(), 2, "both allowed vaults are listed for a tag selection");
    let got = names(&run);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(_, phase, skipped)| *phase == Phase::Requested && skipped.is_none()), "{got:?}");
    assert!(got.iter().any(|(n, ..)| n == "app-data-01-bi") && got.iter().any(|(n, ..)| n == "vm-web-01"), "{got:?}");
    // The VM's request restores disks into the sandbox with the plan's staging account.
    let vm_item = run.items.iter().find(|i| i.item.kind() == restore_drills::ItemKind::Vm).unwrap();
    assert_eq!(vm_item.request["operation"]["kind"], "vmRestoreDisks");
    assert!(vm_item.source.is_some(), "the source is kept for the checks");
}

#[tokio::test]
async fn a_vault_selection_lists_only_that_vault_and_leaves_other_datasource_kinds_out() {
    let plan = plan(|p| {
        p["selection"] = json!({"vaults": [format!("{SUB}{BV}")]});
        p["sampling"] = json!("all");
    });
    let azure = Scripted::default()
        .disk_instance("app-data-01", 64, tier1())
        .vm_item("vm-web-01", "Standard_D2s_v3", tier1())
        .listing(
            BV,
            json!({"id": format!("{SUB}{BV}/backupInstances/blobs-bi"), "properties": {"dataSourceInfo": {
            "resourceID": format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/st1"),
            "datasourceType": "Microsoft.Storage/storageAccounts/blobServices"}}}),
        );
    let run = run_of(&plan, &azure, &PlanHistory::default()).await;
    assert_eq!(*azure.listed.lock().unwrap(), vec![format!("{SUB}{BV}")]);
    assert_eq!(names(&run).iter().map(|n| n.0.as_str()).collect::<Vec<_>>(), ["app-data-01-bi"]);
}

#[tokio::test]
async fn an_item_whose_source_is_gone_is_drilled_and_flagged_with_the_tags_history_remembered() {
    let plan = plan(|p| p["sampling"] = json!({"leastRecentlyDrilled": 1}));
    // app-data-02's disk is gone (no GET answer); its tags were recorded at an earlier run.
    let azure = Scripted::default().disk_instance("app-data-01", 64, tier1()).disk_instance("app-data-02", 64, None);
    let mut history = PlanHistory::default();
    let gone = ItemId::parse(&bi("app-data-02")).unwrap();
    history.remember_tags(&gone, BTreeMap::from([("tier".into(), "1".into())]));
    let run = run_of(&plan, &azure, &history).await;
    // Sampling 1, yet both: the source-missing item is always drilled on top of the sample.
    let got = names(&run);
    assert_eq!(got.len(), 2, "{got:?}");
    let missing = run.items.iter().find(|i| i.item == gone).unwrap();
    assert!(missing.source.is_none() && missing.phase == Phase::Requested);
    assert!(run.result(|_| Vec::new()).items.iter().any(|i| i.item == gone && i.source_missing));

    // Without recorded tags the selection cannot decide: reported as skipped, never silently dropped.
    let run = run_of(&plan, &azure, &PlanHistory::default()).await;
    let skipped: Vec<_> = names(&run).into_iter().filter(|n| n.2.is_some()).collect();
    assert_eq!(skipped, [("app-data-02-bi".to_string(), Phase::Done, Some(SkipReason::SourceTagsUnknown))]);
}

#[tokio::test]
async fn items_over_the_cost_guard_are_skipped_by_name_and_later_smaller_ones_still_fit() {
    let plan = plan(|p| {
        p["sampling"] = json!("all");
        p["costGuard"] = json!({"maxRestoredGiB": 200, "maxVmVcpus": 8});
    });
    // 150 GiB, then the VM's 130 GiB (over), then 40 GiB (fits).
    let azure = Scripted::default()
        .disk_instance("app-data-01", 150, tier1())
        .disk_instance("app-data-02", 40, tier1())
        .vm_item("vm-web-01", "Standard_D2s_v3", tier1());
    let run = run_of(&plan, &azure, &PlanHistory::default()).await;
    let got = names(&run);
    let skipped: Vec<_> = got.iter().filter(|n| n.2 == Some(SkipReason::CostGuard)).map(|n| n.0.as_str()).collect();
    assert_eq!(skipped, ["vm-web-01"], "{got:?}");
    let result = run.result(|_| Vec::new());
    assert!(result.items.iter().any(|i| i.outcome == ItemOutcome::Skipped && i.skipped == Some(SkipReason::CostGuard)));
}

#[test]
fn vm_sizes_give_their_vcpus_by_azures_naming_convention() {
    for (size, n) in [
        ("Standard_D2s_v3", Some(2)),
        ("Standard_M128ms", Some(128)),
        ("Standard_E4-2s_v3", Some(4)),
        ("Standard_NC24ads_A100_v4", Some(24)),
        ("Basic_A0", None),
        ("Standard_B1ms", Some(1)),
        ("nonsense", None),
    ] {
        assert_eq!(vcpus_of_size(size), n, "{size}");
    }
}

#[tokio::test]
async fn an_explicit_item_no_longer_protected_fails_at_request_with_a_fix() {
    let plan = plan(|p| {
        p["selection"] = json!({"items": [bi("app-data-01"), bi("retired")]});
        p["sampling"] = json!("all");
    });
    let azure = Scripted::default().disk_instance("app-data-01", 64, tier1());
    let run = run_of(&plan, &azure, &PlanHistory::default()).await;
    let retired = run.items.iter().find(|i| i.item.as_str().ends_with("retired-bi")).unwrap();
    let failure = retired.failure.as_ref().expect("a failure");
    assert_eq!(failure.code.as_deref(), Some("item.notProtected"));
    assert!(failure.message.contains("remove it from the plan"), "{}", failure.message);
    assert_eq!(retired.phase, Phase::Done);
}

#[tokio::test]
async fn an_unreadable_listed_id_is_reported_not_dropped() {
    let azure = Scripted::default()
        .disk_instance("app-data-01", 64, tier1())
        .listing(BV, json!({"id": "/subscriptions/x/not-an-item", "properties": {"dataSourceInfo": {"datasourceType": "Microsoft.Compute/disks"}}}));
    let vaults = [VaultId::parse(&format!("{SUB}{BV}")).unwrap()];
    let inventory = gather(&vaults, &azure, &azure, &PlanHistory::default()).await.unwrap();
    assert_eq!(inventory.candidates.len(), 1);
    assert_eq!(inventory.unreadable.len(), 1);
    assert_eq!(inventory.unreadable[0].0, "/subscriptions/x/not-an-item");
}

/// Restore records scripted per request id (all done and succeeded unless told), with a vault load.
#[derive(Default)]
struct Records {
    load: VaultLoad,
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Restores for Records {
    async fn restore(&self, _: &str) -> Result<Option<RestoreView>, SeamError> {
        Ok(None)
    }
    async fn send(&self, request: &Value) -> Result<(), SeamError> {
        self.sent.lock().unwrap().push(request["requestId"].as_str().unwrap().to_string());
        Ok(())
    }
    async fn vault_load(&self, _: &VaultId) -> Result<VaultLoad, SeamError> {
        Ok(self.load)
    }
}

fn ctx<'a>(policy: &'a Policy, now: OffsetDateTime) -> RunContext<'a> {
    RunContext {
        sandbox: &policy.sandbox,
        now,
        resend_after: time::Duration::minutes(10),
        max_failed_deletes: 5,
        delete_confirm_timeout: time::Duration::minutes(30),
        webhook: None,
        vault_limit: 3,
    }
}

#[tokio::test]
async fn drills_take_only_their_share_of_a_vault_and_never_its_reserve() {
    let policy = policy();
    let plan = plan(|p| {
        p["sampling"] = json!("all");
        p["vaultConcurrencyShare"] = json!(1);
    });
    let azure = Scripted::default()
        .disk_instance("app-data-01", 10, tier1())
        .disk_instance("app-data-02", 10, tier1())
        .disk_instance("app-data-03", 10, tier1());
    let mut run = run_of(&plan, &azure, &PlanHistory::default()).await;

    // An idle vault: one drill restore (the share), the others wait.
    let records = Records::default();
    run.advance(&ctx(&policy, AT), &azure, &records).await;
    assert_eq!(records.sent.lock().unwrap().len(), 1, "share 1: one drill restore at a time");
    // Next tick, the first still in flight (no record yet): still one.
    run.advance(&ctx(&policy, AT), &azure, &records).await;
    assert_eq!(records.sent.lock().unwrap().len(), 1, "its own in-flight restore counts");

    // An incident restore running in the vault: a drill starting now would eat into the reserve, so none does.
    let mut fresh = run_of(&plan, &azure, &PlanHistory::default()).await;
    let busy = Records { load: VaultLoad { drills: 0, others: 1 }, ..Records::default() };
    fresh.advance(&ctx(&policy, AT), &azure, &busy).await;
    assert!(busy.sent.lock().unwrap().is_empty(), "a running incident restore holds every drill back");
}

#[tokio::test]
async fn a_run_ends_with_the_items_left_outside_the_coverage_window() {
    let plan = plan(|p| {
        p["sampling"] = json!({"leastRecentlyDrilled": 1});
        p["coverage"] = json!({"withinDays": 35});
    });
    let azure = Scripted::default()
        .disk_instance("app-data-01", 10, tier1())
        .disk_instance("app-data-02", 10, tier1())
        .disk_instance("app-data-03", 10, tier1());
    let mut history = PlanHistory::default();
    // 01 passed 10 days ago (covered, drilled most recently: not sampled); 02 passed 40 days ago (breach unless
    // drilled); 03 never drilled (sampled first).
    for (name, days) in [("app-data-01", 10), ("app-data-02", 40)] {
        let id = ItemId::parse(&bi(name)).unwrap();
        let h = history.items.entry(id.canonical()).or_default();
        h.last_drilled = Some((AT - time::Duration::days(days)).into());
        h.last_passed = h.last_drilled;
    }
    let mut run = run_of(&plan, &azure, &history).await;
    assert_eq!(names(&run).iter().map(|n| n.0.as_str()).collect::<Vec<_>>(), ["app-data-03-bi"]);
    // End the run with its one item passed.
    let item = &mut run.items[0];
    item.phase = Phase::Done;
    item.timeline.triggered = Some(AT.into());
    item.timeline.checks_passed = Some((AT + time::Duration::minutes(20)).into());
    run.ended_at = Some((AT + time::Duration::hours(1)).into());
    let result = run.result(|_| Vec::new());
    let breach: Vec<_> = result
        .signals
        .iter()
        .filter_map(|s| match s {
            Signal::CoverageBreach { within_days, items } => Some((*within_days, items.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(breach.len(), 1, "{:?}", result.signals);
    assert_eq!(breach[0].0, 35);
    assert_eq!(breach[0].1.iter().map(|g| g.item.as_str().to_string()).collect::<Vec<_>>(), [bi("app-data-02")]);

    // Folded into the history: 03 now passed, its RTO kept; folding the same run again changes nothing.
    assert!(history.record(&result));
    let h = history.item(&ItemId::parse(&bi("app-data-03")).unwrap()).unwrap();
    assert_eq!(h.last_passed, Some(AT.into()));
    assert_eq!(h.rtos, [20 * 60]);
    let before = history.clone();
    assert!(!history.record(&result), "a run is folded in once");
    assert_eq!(history, before);
}

#[test]
fn history_keeps_the_last_five_rtos_and_ignores_skipped_items() {
    let mut history = PlanHistory::default();
    let id = ItemId::parse(&bi("app-data-01")).unwrap();
    let mut base: Value = json!({
        "version": "1", "plan": "p", "runId": "", "scheduledAt": "2026-12-01T00:00:00Z", "outcome": "Passed",
        "items": [{"item": id.as_str(), "kind": "disk", "outcome": "Passed", "timeline": {},
                   "rto": {"measuredSeconds": 0, "targetSeconds": 3600, "overTarget": false, "regression": false}}],
        "signals": []
    });
    for n in 1..=7 {
        base["runId"] = json!(format!("p.{n}"));
        base["items"][0]["rto"]["measuredSeconds"] = json!(n * 100);
        assert!(history.record(&serde_json::from_value(base.clone()).unwrap()));
    }
    assert_eq!(history.rtos(&id), [300, 400, 500, 600, 700]);
    base["runId"] = json!("p.skip");
    base["items"][0]["outcome"] = json!("Skipped");
    base["items"][0]["skipped"] = json!("costGuard");
    base["scheduledAt"] = json!("2026-12-04T00:00:00Z");
    history.record(&serde_json::from_value(base).unwrap());
    assert_eq!(history.item(&id).unwrap().last_drilled.unwrap().to_string(), "2026-12-01T00:00:00Z");
}

#[tokio::test]
async fn a_run_past_its_completion_window_is_reported_stuck_once_and_late_when_it_ends() {
    let plan = plan(|p| p["sampling"] = json!("all"));
    let azure = Scripted::default().disk_instance("app-data-01", 10, tier1());
    let mut run = run_of(&plan, &azure, &PlanHistory::default()).await;
    let deadline = AT + time::Duration::days(2); // the example plan's completion window is P2D
    assert_eq!(run.report_stuck(deadline), None, "at the deadline it is not late yet");
    assert!(matches!(run.report_stuck(deadline + time::Duration::seconds(1)), Some(Signal::StuckRun { .. })));
    assert_eq!(run.report_stuck(deadline + time::Duration::hours(1)), None, "reported once");
    let item = &mut run.items[0];
    item.phase = Phase::Done;
    item.timeline.triggered = Some(AT.into());
    item.timeline.checks_passed = Some((AT + time::Duration::minutes(20)).into());
    run.ended_at = Some((deadline + time::Duration::hours(2)).into());
    let result = run.result(|_| Vec::new());
    assert!(result.signals.iter().any(|s| matches!(s, Signal::LateRun { .. })), "{:?}", result.signals);
}

fn conformance(path: &str) -> Vec<Value> {
    let file = repo().join("../shared/conformance/azure-rest-api-specs").join(path);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))).unwrap();
    doc["responses"]["200"]["body"]["value"].as_array().unwrap().clone()
}

#[test]
fn points_are_read_from_azures_own_listings_with_their_valid_tiers() {
    use restore_drills::point::{PointTier, candidates_from};
    let vm = candidates_from(&conformance("recoveryservicesbackup/AzureIaasVm/RecoveryPoints_List.json"));
    let tiers: Vec<(&str, Vec<PointTier>)> = vm.iter().map(|p| (p.name.as_str(), p.tiers.clone())).collect();
    assert_eq!(
        tiers,
        [
            ("22244821112382", vec![PointTier::Vault]), // the snapshot was deleted
            ("24977149827250", vec![PointTier::Vault]), // archived, rehydrated
            ("70477518625276", vec![PointTier::Snapshot, PointTier::Vault]),
        ]
    );
    let disk = candidates_from(&conformance("dataprotection/BackupInstanceOperations/ListRecoveryPoints.json"));
    assert_eq!(disk.len(), 2);
    assert!(disk.iter().all(|p| p.tiers.is_empty() && p.time.year() == 2019));
}

/// Recovery points scripted per item.
struct Points(Vec<Value>, Mutex<Vec<(String, bool)>>);

#[async_trait]
impl restore_drills::start::PointSource for Points {
    async fn recovery_points(&self, item: &ItemId, secondary: bool) -> Result<Vec<Value>, SeamError> {
        self.1.lock().unwrap().push((item.as_str().to_string(), secondary));
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn a_tier_or_random_pick_fixes_the_point_by_id_and_latest_lists_nothing() {
    use restore_drills::start::choose_points;
    let azure = Scripted::default().vm_item("vm-web-01", "Standard_D2s_v3", tier1());
    let points = |tiers: &[(&str, &str, &str)]| {
        tiers
            .iter()
            .map(|(name, time, kinds)| {
                let details: Vec<Value> =
                    kinds.split(',').filter(|k| !k.is_empty()).map(|k| json!({"type": k, "status": "Valid"})).collect();
                json!({"name": name, "properties": {"recoveryPointTime": time, "recoveryPointTierDetails": details}})
            })
            .collect::<Vec<_>>()
    };
    let listed = points(&[
        ("100", "2026-12-04T22:00:00Z", "InstantRP,HardenedRP"),
        ("90", "2026-11-20T22:00:00Z", "HardenedRP"),
        ("110", "2026-12-05T03:00:00Z", "InstantRP,HardenedRP"), // after the scheduled time
    ]);
    // Vault tier only: the point whose snapshot is gone, named by id in the request.
    let plan_vault = plan(|p| {
        p["sampling"] = json!("all");
        p["recoveryPoint"] = json!({"pick": "latest", "vmTier": "vault"});
    });
    let mut run = run_of(&plan_vault, &azure, &PlanHistory::default()).await;
    let source = Points(listed.clone(), Mutex::new(Vec::new()));
    choose_points(&mut run, &source).await.unwrap();
    assert_eq!(run.items[0].request["recoveryPoint"], json!({"choice": "id", "id": "90"}));
    assert_eq!(run.items[0].recovery_point.as_ref().unwrap().name, "90");
    // Snapshot tier with none before the scheduled time in it: skipped by reason, not failed.
    let source = Points(points(&[("90", "2026-11-20T22:00:00Z", "HardenedRP")]), Mutex::new(Vec::new()));
    let plan_snap = plan(|p| {
        p["sampling"] = json!("all");
        p["recoveryPoint"] = json!({"pick": "latest", "vmTier": "snapshot"});
    });
    let mut run = run_of(&plan_snap, &azure, &PlanHistory::default()).await;
    choose_points(&mut run, &source).await.unwrap();
    assert_eq!((run.items[0].phase, run.items[0].skipped), (Phase::Done, Some(SkipReason::NoRecoveryPointInTier)));
    // Latest in any tier: the intake picks (latestAtOrBefore); nothing is listed.
    let plan_any = plan(|p| p["sampling"] = json!("all"));
    let mut run = run_of(&plan_any, &azure, &PlanHistory::default()).await;
    let source = Points(listed, Mutex::new(Vec::new()));
    choose_points(&mut run, &source).await.unwrap();
    assert!(source.1.lock().unwrap().is_empty());
    assert_eq!(run.items[0].request["recoveryPoint"]["choice"], "latestAtOrBefore");
}
