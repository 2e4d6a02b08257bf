//! Every example under examples/requests/ is checked: valid requests against the published JSON Schema and
//! through `parse_request`, then against examples/policy.json; alerts are classified and mapped with the example
//! policy's alert rules; `invalid-*.json` must be refused by `classify` (and the contract-shape ones by the schema).

use std::path::PathBuf;

use restore_contract::alert::{AlertOutcome, map_alert};
use restore_contract::request::OperationKind;
use restore_contract::{Incoming, Policy, classify, parse_request, schema};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn files() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(examples().join("requests"))
        .expect("examples/requests exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

fn policy() -> Policy {
    Policy::from_settings(Some(examples().join("policy.json").to_str().unwrap()), None)
        .expect("examples/policy.json loads")
}

#[test]
fn valid_requests_match_the_schema_and_parse_and_pass_policy() {
    let validator = jsonschema::validator_for(&schema::request_schema()).expect("the request schema compiles");
    let policy = policy();
    let mut kinds = std::collections::HashSet::new();
    let mut count = 0;
    for (name, bytes) in files() {
        if name.starts_with("invalid-") || name.starts_with("alert-") {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{name} does not match the schema: {errors:?}");
        let request = parse_request(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        policy.check(&request, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Round trip: what we write, we read back the same.
        let again = parse_request(&serde_json::to_vec(&request).unwrap()).unwrap();
        assert_eq!(again, request, "{name} does not round-trip");
        kinds.insert(request.operation.kind());
        count += 1;
    }
    assert!(count >= 8, "only {count} valid examples");
    assert_eq!(kinds.len(), OperationKind::ALL.len(), "every kind has an example: {kinds:?}");
}

#[test]
fn invalid_examples_are_refused() {
    let validator = jsonschema::validator_for(&schema::request_schema()).unwrap();
    let mut count = 0;
    for (name, bytes) in files().into_iter().filter(|(n, _)| n.starts_with("invalid-")) {
        let err = classify(&bytes).err().unwrap_or_else(|| panic!("{name} was accepted"));
        assert!(err.field.is_some(), "{name}: {err} names no field");
        // Shape errors are also caught by the schema; cross-field ones (other subscription) only by the parser.
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if !name.contains("other-subscription") && !name.contains("dotdot") {
            assert!(!validator.is_valid(&value), "{name} passes the schema");
        }
        count += 1;
    }
    assert!(count >= 5);
}

#[test]
fn alert_examples_map_through_the_example_rules() {
    let policy = policy();
    let load = |file: &str| match classify(&std::fs::read(examples().join("requests").join(file)).unwrap()).unwrap() {
        Incoming::Alert(a) => a,
        other => panic!("{file} classified as {other:?}"),
    };

    let metric = load("alert-metric-disk.json");
    let AlertOutcome::Restore(r) = map_alert(&metric, &policy.alert_rules) else { panic!("metric alert did not map") };
    assert_eq!(r.request_id.as_deref(), Some("alert-b9569717-bc32-442f-add5-83a997729330"));
    assert_eq!(r.operation.kind(), OperationKind::DiskToNewDisk);
    policy.check(&r, 0).unwrap();
    let json = serde_json::to_value(&*r).unwrap();
    assert!(json["operation"]["backupInstanceId"].as_str().unwrap().ends_with("/backupInstances/app-data-01-bi"));

    let backup = load("alert-backup-job-failure.json");
    let AlertOutcome::Restore(r) = map_alert(&backup, &policy.alert_rules) else { panic!("backup alert did not map") };
    assert_eq!(r.operation.kind(), OperationKind::VmRestoreDisks);
    assert!(r.options.validate_only);
    let json = serde_json::to_value(&*r).unwrap();
    assert!(
        json["operation"]["protectedItemId"]
            .as_str()
            .unwrap()
            .ends_with("protectedItems/VM;iaasvmcontainerv2;rg-app;vm-web-01")
    );
    policy.check(&r, 0).unwrap();

    let resolved = load("alert-resolved.json");
    assert!(matches!(map_alert(&resolved, &policy.alert_rules), AlertOutcome::Resolved { .. }));
}
