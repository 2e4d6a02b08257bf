//! Evidence for four runs people will read: passed, failed, with leftovers, missed; and an overview of them.
#![allow(dead_code)]

use restore_evidence::overview::Overview;
use restore_evidence::pack::EvidencePack;
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

pub fn disk_item() -> String {
    format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi"
    )
}

pub fn vm_item() -> String {
    let n = "iaasvmcontainerv2;rg-app;vm-web-01";
    format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}"
    )
}

fn sandbox(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/{name}")
}

fn item(item: &str, kind: &str, outcome: &str, measured: Option<i64>, target: i64) -> Value {
    let mut v = json!({
        "item": item, "kind": kind, "outcome": outcome,
        "recoveryPoint": { "name": "rp-20261204", "time": "2026-12-04T22:00:00Z", "tier": "snapshot", "region": "primary" },
        "timeline": {
            "scheduled": "2026-12-05T02:30:00Z", "triggered": "2026-12-05T02:30:04Z",
            "jobStarted": "2026-12-05T02:30:20Z", "jobEnded": "2026-12-05T02:41:00Z"
        },
        "rto": { "targetSeconds": target, "overTarget": measured.is_some_and(|m| m > target), "regression": measured.is_some_and(|m| m > target) }
    });
    if let Some(m) = measured {
        v["rto"]["measuredSeconds"] = json!(m);
        v["timeline"]["checksPassed"] = json!("2026-12-05T02:42:10Z");
        v["timeline"]["cleanedUp"] = json!("2026-12-05T02:45:00Z");
    }
    v
}

fn evidence(item: &str, gib: u64, checks: &[(&str, bool, &str)], cleanup: &[(&str, bool)]) -> Value {
    json!({
        "item": item, "restoredGib": gib, "recoveryPointAgeSeconds": 16200,
        "checks": checks.iter().map(|(n, p, e)| json!({"name": n, "passed": p, "durationMs": 840, "evidence": e})).collect::<Vec<_>>(),
        "cleanup": cleanup.iter().map(|(r, d)| if *d {
            json!({"resource": r, "deleted": true, "confirmedAt": "2026-12-05T02:45:00Z"})
        } else {
            json!({"resource": r, "deleted": false, "detail": "DELETE answered 409 twice: <b>Conflict</b>"})
        }).collect::<Vec<_>>(),
    })
}

fn pack(run: Value, items: Vec<Value>) -> EvidencePack {
    let run = serde_json::from_value(run).expect("a valid drill result");
    let items = items.into_iter().map(|i| serde_json::from_value(i).expect("valid evidence")).collect();
    let at = restore_contract::Timestamp::parse("2026-12-05T03:00:00Z").expect("a timestamp");
    EvidencePack::new(at, run, items)
}

fn run(run_id: &str, outcome: Option<&str>, items: Vec<Value>, signals: Vec<Value>) -> Value {
    let mut v = json!({
        "version": "1", "plan": "nightly-app-data", "runId": run_id, "scheduledAt": "2026-12-05T02:30:00Z",
        "items": items, "signals": signals
    });
    if let Some(o) = outcome {
        v["outcome"] = json!(o);
        v["startedAt"] = json!("2026-12-05T02:30:01Z");
        v["endedAt"] = json!("2026-12-05T02:45:00Z");
    }
    v
}

pub fn passed() -> EvidencePack {
    let disk = disk_item();
    let vm = vm_item();
    pack(
        run(
            "nightly-app-data.20261205T023000Z",
            Some("Passed"),
            vec![item(&disk, "disk", "Passed", Some(726), 3600), item(&vm, "vm", "Passed", Some(1510), 3600)],
            vec![],
        ),
        vec![
            evidence(
                &disk,
                64,
                &[
                    ("diskExists", true, "GET disk: provisioningState Succeeded"),
                    (
                        "diskMatchesSource",
                        true,
                        "diskSizeGB 64 = 64; sku Premium_LRS = Premium_LRS; encryption EncryptionAtRestWithPlatformKey",
                    ),
                ],
                &[(&sandbox("disks/app-data-01-drill"), true)],
            ),
            evidence(
                &vm,
                160,
                &[
                    ("vmRunning", true, "instanceView: PowerState/running"),
                    ("vmAgentReady", true, "instanceView vmAgent: ProvisioningState/succeeded, Ready"),
                    ("runCommand", true, "exit code 0; output: OK"),
                ],
                &[
                    (&sandbox("virtualMachines/vm-web-01-drill"), true),
                    (&sandbox("disks/vm-web-01-osdisk-drill"), true),
                ],
            ),
        ],
    )
}

pub fn failed() -> EvidencePack {
    let disk = disk_item();
    let mut failed = item(&disk, "disk", "Failed", None, 3600);
    failed["failure"] = json!({"stage": "restore", "code": "UserErrorDiskQuotaLimitReached", "message": "The subscription's disk quota <script>alert(1)</script> is exhausted."});
    pack(
        run("nightly-app-data.20261206T023000Z", Some("Failed"), vec![failed], vec![]),
        vec![evidence(&disk, 0, &[], &[])],
    )
}

pub fn leftovers() -> EvidencePack {
    let vm = vm_item();
    let nic = format!(
        "{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkInterfaces/vm-web-01-drill-nic"
    );
    pack(
        run(
            "nightly-app-data.20261207T023000Z",
            Some("Partial"),
            vec![item(&vm, "vm", "Passed", Some(4100), 3600)],
            vec![
                json!({"kind": "rtoOverTarget", "item": vm, "measuredSeconds": 4100, "targetSeconds": 3600}),
                json!({"kind": "cleanupIncomplete", "resources": [{"resource": nic, "reason": "DELETE answered 409 twice"}]}),
            ],
        ),
        vec![evidence(
            &vm,
            160,
            &[("vmRunning", true, "instanceView: PowerState/running")],
            &[(&sandbox("virtualMachines/vm-web-01-drill"), true), (&nic, false)],
        )],
    )
}

pub fn missed() -> EvidencePack {
    pack(
        run(
            "nightly-app-data.20261208T023000Z",
            None,
            vec![],
            vec![json!({"kind": "missedRun", "windowClosedAt": "2026-12-08T04:30:00Z"})],
        ),
        vec![],
    )
}

pub fn overview() -> Overview {
    serde_json::from_value(json!({
        "generatedAt": "2026-12-08T05:00:00Z",
        "plans": [{
            "plan": "nightly-app-data",
            "lastRun": {"runId": "nightly-app-data.20261207T023000Z", "outcome": "Partial", "endedAt": "2026-12-07T02:45:00Z"},
            "nextRunAt": "2026-12-09T02:30:00Z",
            "coverage": {"withinDays": 30, "selected": 3, "drilled": 2, "outside": [{"item": disk_item()}]},
            "items": [
                {"item": disk_item(), "targetSeconds": 3600, "historySeconds": [700, 690, 726]},
                {"item": vm_item(), "targetSeconds": 3600, "historySeconds": [1500, 1510, 4100]}
            ],
            "missedRuns": ["2026-12-08T02:30:00Z"],
            "lateRuns": [],
            "leftovers": [{"resource": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-drill-sandbox/providers/Microsoft.Network/networkInterfaces/vm-web-01-drill-nic", "reason": "DELETE answered 409 twice"}]
        }]
    }))
    .expect("a valid overview")
}
