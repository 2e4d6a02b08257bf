//! Accepted requests: defaults, CRR across subscriptions, typed ids, classification.

use restore_contract::request::{OperationKind, RecoveryPointChoice};
use restore_contract::result::{RestoreResult, ResultStatus, Timings};
use restore_contract::{Incoming, Timestamp, classify, parse_request};
use restore_test_support::catalogue::valid_disk_request;
use serde_json::json;

#[test]
fn defaults_apply() {
    let mut v = valid_disk_request();
    v.as_object_mut().unwrap().remove("recoveryPoint");
    v.as_object_mut().unwrap().remove("requestId");
    let r = parse_request(v.to_string().as_bytes()).unwrap();
    assert_eq!(r.request_id, None);
    assert_eq!(r.effective_recovery_point(), Some(RecoveryPointChoice::Latest));
    assert!(!r.options.validate_only);
    // Written back without the absent optionals.
    let out = serde_json::to_value(&r).unwrap();
    assert!(out.get("options").is_none() && out.get("requestId").is_none(), "{out}");
}

#[test]
fn cross_region_restore_may_target_another_subscription() {
    let pi = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;vm-db-01/protectedItems/VM;iaasvmcontainerv2;rg-app;vm-db-01";
    let other = "/subscriptions/99999999-1111-2222-3333-444444444444";
    let body = |crr: bool| {
        json!({"version": "1", "source": {"kind": "drill", "reference": "d", "requestedBy": "drill"},
               "operation": {"kind": "vmRestoreDisks", "protectedItemId": pi,
                             "stagingStorageAccountId": format!("{other}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa"),
                             "targetResourceGroupId": format!("{other}/resourceGroups/rg"), "secondaryRegion": crr}})
        .to_string()
    };
    let r = parse_request(body(true).as_bytes()).unwrap();
    assert!(r.operation.secondary_region());
    assert_eq!(r.operation.kind(), OperationKind::VmRestoreDisks);
    assert_eq!(r.operation.source_name(), "vm-db-01");
    let e = parse_request(body(false).as_bytes()).unwrap_err();
    assert_eq!(e.rule, Some("sameSubscription"));
}

#[test]
fn classify_tells_requests_from_alerts() {
    assert!(matches!(classify(valid_disk_request().to_string().as_bytes()).unwrap(), Incoming::Request(_)));
    let e = classify(br#"{"schemaId": 7}"#).unwrap_err();
    assert_eq!(e.field_path(), "schemaId");
}

#[test]
fn errors_render_field_message_and_fix() {
    let mut v = valid_disk_request();
    v["operation"]["targetResourceGroupId"] = json!("/subscriptions/x/resourceGroups/a%2f..");
    let e = parse_request(v.to_string().as_bytes()).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("operation.targetResourceGroupId: the ARM id"), "{text}");
    assert!(text.contains("Fix: "), "{text}");
    let result = RestoreResult::rejected("r1", &e);
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["status"], "Rejected");
    assert_eq!(json["reason"]["code"], "request.invalidArmId");
    assert_eq!(json["reason"]["field"], "operation.targetResourceGroupId");
}

#[test]
fn results_round_trip_and_measure_restore_time() {
    let t = |s| Timestamp::parse(s).unwrap();
    let mut r = RestoreResult::new("r1", ResultStatus::Succeeded);
    r.timings = Timings::default().with_job(t("2026-05-01T10:00:00Z"), t("2026-05-01T10:03:00Z"));
    r.restored_resource_ids.push("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d".into());
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains(r#""restoreSeconds":180"#), "{json}");
    let back: RestoreResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert!(!ResultStatus::Accepted.is_terminal() && ResultStatus::Validated.is_terminal());
    let validator = jsonschema::validator_for(&restore_contract::schema::result_schema()).unwrap();
    assert!(validator.is_valid(&serde_json::to_value(&r).unwrap()));
}

#[test]
fn a_duplicated_key_refuses_the_message_before_any_field_is_read() {
    // Two versions: without the duplicate check serde would read "2" and answer unsupportedVersion.
    let text = valid_disk_request().to_string().replacen(r#""version":"1""#, r#""version":"1","version":"2""#, 1);
    let e = parse_request(text.as_bytes()).unwrap_err();
    assert_eq!(e.code(), "request.duplicateKey", "{e}");
    assert_eq!(e.field_path(), "version");
    assert!(e.message.contains("'version'") && e.fix.contains("'version' once"), "{e}");
    // The same check guards classify, alerts included.
    let alert = r#"{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertId":"b"}}}"#;
    let e = classify(alert.as_bytes()).unwrap_err();
    assert_eq!((e.code(), e.field_path()), ("request.duplicateKey", "data.essentials.alertId"), "{e}");
}
