//! Alert mapping: Resolved and unmatched alerts are typed outcomes; the built-in Backup alert's item comes from
//! alertContext, not alertTargetIDs; the request id derives from the alert id.

use restore_contract::alert::rules::alert_request_id;
use restore_contract::alert::{AlertOutcome, AlertRule, map_alert};
use restore_contract::policy::PolicyOrigin;
use restore_contract::request::{Operation, SourceKind};
use restore_contract::{CommonAlert, Incoming, Policy, classify};
use restore_test_support::catalogue::EXAMPLE_POLICY;
use serde_json::{Value, json};

fn example(file: &str) -> Value {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests").join(file);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn alert(v: &Value) -> CommonAlert {
    match classify(v.to_string().as_bytes()).unwrap() {
        Incoming::Alert(a) => *a,
        other => panic!("{other:?}"),
    }
}

fn rules() -> Vec<AlertRule> {
    Policy::from_json(EXAMPLE_POLICY, PolicyOrigin::Inline).unwrap().alert_rules
}

#[test]
fn metric_alert_on_a_disk_restores_it() {
    let a = alert(&example("alert-metric-disk.json"));
    let AlertOutcome::Restore(r) = map_alert(&a, &rules()) else { panic!() };
    assert_eq!(r.source.kind, SourceKind::Alert);
    assert!(r.source.reference.ends_with("b9569717-bc32-442f-add5-83a997729330"));
    assert!(r.source.requested_by.contains("disk-unavailable-restore"));
    assert_eq!(r.options.tags["trigger"], "alert");
    let Operation::DiskToNewDisk(d) = &r.operation else { panic!() };
    assert_eq!(d.backup_instance_id.name(), "app-data-01-bi");
    assert_eq!(d.target_resource_group_id.name(), "rg-restore");
}

#[test]
fn backup_alert_takes_the_item_from_alert_context() {
    let v = example("alert-backup-job-failure.json");
    // The vault is the target: without alertContext.protectedItemId the rule would have to derive the item.
    assert!(v["data"]["essentials"]["alertTargetIDs"][0].as_str().unwrap().ends_with("/vaults/rsv-vms"));
    let AlertOutcome::Restore(r) = map_alert(&alert(&v), &rules()) else { panic!() };
    let Operation::VmRestoreDisks(o) = &r.operation else { panic!() };
    assert_eq!(o.protected_item_id.item_name(), "VM;iaasvmcontainerv2;rg-app;vm-web-01");

    // Without protectedItemId, the item is derived from linkedResourceId and the rule's vault.
    let mut v2 = v.clone();
    v2["data"]["alertContext"].as_object_mut().unwrap().remove("protectedItemId");
    let AlertOutcome::Restore(r2) = map_alert(&alert(&v2), &rules()) else { panic!() };
    assert_eq!(r2.operation, r.operation);
}

#[test]
fn resolved_and_unmatched_are_not_restores() {
    let a = alert(&example("alert-resolved.json"));
    assert!(matches!(map_alert(&a, &rules()), AlertOutcome::Resolved { alert_id } if alert_id.ends_with("29330")));

    let mut v = example("alert-metric-disk.json");
    v["data"]["essentials"]["severity"] = json!("Sev3");
    match map_alert(&alert(&v), &rules()) {
        AlertOutcome::Unmatched { why } => {
            assert!(why.contains("rule 'disk-unavailable-restore': severity 'Sev3'"), "{why}");
            assert!(why.contains("rule 'vm-backup-failed-check-restorable': alertRule is"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let fired = alert(&example("alert-metric-disk.json"));
    assert!(matches!(map_alert(&fired, &[]), AlertOutcome::Unmatched { why } if why.contains("no alertRules")));

    // Outside the prefix (whole segments: rg-app2 is not under rg-app).
    let mut v = example("alert-metric-disk.json");
    v["data"]["essentials"]["alertTargetIDs"] = json!([
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app2/providers/Microsoft.Compute/disks/d"
    ]);
    assert!(matches!(map_alert(&alert(&v), &rules()), AlertOutcome::Unmatched { .. }));
}

#[test]
fn matched_rule_without_a_usable_target_fails_with_reason() {
    let mut v = example("alert-backup-job-failure.json");
    let ctx = v["data"]["alertContext"].as_object_mut().unwrap();
    ctx.remove("protectedItemId");
    ctx.remove("linkedResourceId");
    match map_alert(&alert(&v), &rules()) {
        AlertOutcome::RuleFailed { rule, why } => {
            assert_eq!(rule, "vm-backup-failed-check-restorable");
            assert!(why.contains("names no virtual machine"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_ids_dedupe_on_the_alert_id() {
    assert_eq!(
        alert_request_id("/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/abc-123"),
        "alert-abc-123"
    );
    let odd = alert_request_id("weird id with spaces");
    assert!(odd.starts_with("alert-") && odd.len() == 22, "{odd}");
    assert_eq!(odd, alert_request_id("weird id with spaces"));
}

#[test]
fn alerts_tolerate_new_fields() {
    let mut v = example("alert-metric-disk.json");
    v["data"]["essentials"]["alertRuleID"] = json!("/subscriptions/x/rule");
    v["data"]["somethingNew"] = json!(1);
    let a = alert(&v);
    assert_eq!(a.essentials().other["alertRuleID"], "/subscriptions/x/rule");
    assert_eq!(a.target_type().as_deref(), Some("microsoft.compute/disks"));
}
