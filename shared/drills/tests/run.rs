//! A run: every item's request passes the intake's own contract and policy checks, and a run whose items all
//! end reports its outcome, RTO per item and signals.

use std::path::PathBuf;

use restore_contract::Policy;
use restore_contract::request::parse_request_value;
use restore_drills::ItemId;
use restore_drills::result::{ItemOutcome, RunOutcome, Signal};
use restore_drills::run::{DrillRun, request_for};
use serde_json::json;
use time::macros::datetime;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy() -> Policy {
    Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap()
}

fn plan(file: &str) -> restore_drills::DrillPlan {
    let bytes = std::fs::read(repo().join("examples/drills").join(file)).unwrap();
    restore_drills::parse_plan(&bytes, &policy(), datetime!(2026-12-05 12:00 UTC)).unwrap().into_plan()
}

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

fn items() -> Vec<ItemId> {
    let n = "iaasvmcontainerv2;rg-app;vm-web-01";
    [
        format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi"),
        format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}"),
    ]
    .iter()
    .map(|i| ItemId::parse(i).unwrap())
    .collect()
}

#[test]
fn every_request_a_drill_sends_passes_the_intakes_contract_and_policy() {
    let policy = policy();
    let scheduled = datetime!(2026-12-05 02:30 UTC);
    for file in ["items-nightly-disk.json", "vaults-weekly-vms.json", "tags-monthly-coverage.json"] {
        let plan = plan(file);
        let run_id = restore_drills::run_id(&plan.name, scheduled);
        // A plan without a staging account cannot select VMs (plan validation refuses that), so only disks.
        let selectable = items().into_iter().filter(|i| {
            plan.sandbox.staging_storage_account_id.is_some() || i.kind() == restore_drills::ItemKind::Disk
        });
        for item in selectable {
            let body = request_for(&plan, &run_id, scheduled, &item);
            let request = parse_request_value(&body).unwrap_or_else(|e| panic!("{file}: {e}: {body:#}"));
            policy.check(&request, 0).unwrap_or_else(|e| panic!("{file}: policy refused {body:#}: {e:?}"));
            assert_eq!(body["source"]["kind"], "drill");
            assert_eq!(body["recoveryPoint"], json!({"choice": "latestAtOrBefore", "time": "2026-12-05T02:30:00Z"}));
            assert_eq!(
                body,
                request_for(&plan, &run_id, scheduled, &item),
                "the same run and item always give the same request"
            );
        }
    }
}

#[test]
fn a_run_snapshots_its_plan_and_reports_outcome_rto_and_leftovers() {
    let plan = plan("items-nightly-disk.json");
    let scheduled = datetime!(2026-12-05 02:30 UTC);
    let run_id = restore_drills::run_id(&plan.name, scheduled);
    let items = items().into_iter().map(|i| (i, Some(json!({})))).collect();
    let mut run = DrillRun::start(&plan, &run_id, scheduled, items, scheduled);
    assert_eq!(run.items.len(), 2);
    // As if both items ran: one passed in 12 minutes, one failed its checks and left a NIC behind.
    let t = |m: i64| Some(restore_contract::Timestamp::from(scheduled + time::Duration::minutes(m)));
    run.items[0].timeline.triggered = t(0);
    run.items[0].timeline.checks_passed = t(12);
    run.items[0].phase = restore_drills::item::Phase::Done;
    run.items[1].timeline.triggered = t(0);
    run.items[1].failure = Some(restore_drills::result::Failure {
        stage: restore_drills::result::FailureStage::Check,
        check: Some("vmAgentReady".into()),
        code: None,
        message: "agent not ready".into(),
    });
    let stored: restore_drills::item::ItemRun = serde_json::from_value(json!({
        "item": run.items[1].item, "kind": "vm", "requestId": "r", "request": {}, "phase": "done", "sends": 1,
        "created": [{"id": format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkInterfaces/nic"), "failedDeletes": 3, "problem": "DELETE answered 409"}]
    }))
    .unwrap();
    run.items[1].created = stored.created;
    run.items[1].phase = restore_drills::item::Phase::Done;
    run.ended_at = t(30);
    let result = run.result(|_| vec![700, 720, 710]);
    assert_eq!(result.outcome, Some(RunOutcome::Partial));
    assert_eq!(result.items[0].outcome, ItemOutcome::Passed);
    assert_eq!(result.items[0].rto.measured_seconds, Some(720));
    assert_eq!(result.items[1].outcome, ItemOutcome::Failed);
    assert!(
        result
            .signals
            .iter()
            .any(|s| matches!(s, Signal::CleanupIncomplete { resources } if resources[0].reason.contains("409"))),
        "{:#?}",
        result.signals
    );
    // The run keeps the plan it started with, whatever the plan becomes.
    let json = serde_json::to_value(&run).unwrap();
    let back: DrillRun = serde_json::from_value(json).unwrap();
    assert_eq!(back, run);
}
