//! `restorectl validate` on the real binary: every example gets the verdict the intake would give (valid ones
//! exit 0, `invalid-*` exit 1 naming the field), policy refusals and the policy's own limits apply, the policy
//! comes from the same settings as the intake's, and configuration errors exit 2.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Run, at, restorectl, run};
use serde_json::{Value, json};

const POLICY: &str = "examples/policy.json";

/// The expected refusal of every `invalid-*` example: (code, field, rule).
fn expected_refusals() -> BTreeMap<&'static str, (&'static str, &'static str, Option<&'static str>)> {
    BTreeMap::from([
        ("invalid-dotdot-arm-id.json", ("request.invalidArmId", "operation.backupInstanceId", None)),
        (
            "invalid-other-subscription.json",
            ("request.inconsistent", "operation.targetResourceGroupId", Some("sameSubscription")),
        ),
        (
            "invalid-replace-disks-crr.json",
            ("request.inconsistent", "operation.secondaryRegion", Some("noCrossRegionReplace")),
        ),
        ("invalid-typo-field.json", ("request.unknownField", "operation.targetResourceGroupID", None)),
        ("invalid-unknown-kind.json", ("request.unknownKind", "operation.kind", None)),
        ("invalid-version.json", ("request.unsupportedVersion", "version", None)),
    ])
}

fn validate(file: &Path, extra: &[&str]) -> Run {
    let mut command = restorectl(["validate"]);
    command.args(extra).arg(file);
    run(&mut command)
}

fn validate_json(file: &Path, extra: &[&str]) -> Run {
    let mut command = restorectl(["--json", "validate"]);
    command.args(extra).arg(file);
    run(&mut command)
}

#[test]
fn every_example_gets_the_intakes_verdict() {
    let expected = expected_refusals();
    let mut invalid_seen = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(at("examples/requests")).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    assert!(entries.len() >= 10, "examples/requests looks empty: {entries:?}");
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let human = validate(&path, &["--policy", POLICY]);
        let machine = validate_json(&path, &["--policy", POLICY]);
        let verdict = machine.json();
        if name.starts_with("invalid-") {
            let (code, field, rule) =
                expected.get(name.as_str()).unwrap_or_else(|| panic!("{name}: add its expected refusal to this test"));
            invalid_seen.push(name.clone());
            assert_eq!(human.code, 1, "{name}: {human:?}");
            assert!(human.stdout.starts_with(&format!("invalid: {code}")), "{name}: {}", human.stdout);
            assert!(human.stdout.contains(&format!("field      {field}\n")), "{name}: {}", human.stdout);
            assert!(human.stdout.contains("fix "), "{name} names no fix: {}", human.stdout);
            assert_eq!(machine.code, 1, "{name}: {machine:?}");
            assert_eq!(verdict["valid"], false, "{name}");
            assert_eq!(verdict["reason"]["code"], *code, "{name}: {verdict}");
            assert_eq!(verdict["reason"]["field"], *field, "{name}: {verdict}");
            assert_eq!(verdict["reason"]["rule"], rule.map_or(Value::Null, |r| json!(r)), "{name}: {verdict}");
        } else {
            assert_eq!(human.code, 0, "{name}: {human:?}");
            assert!(human.stdout.starts_with("valid: "), "{name}: {}", human.stdout);
            assert_eq!(machine.code, 0, "{name}: {machine:?}");
            assert_eq!(verdict["valid"], true, "{name}: {verdict}");
        }
    }
    assert_eq!(invalid_seen.len(), expected.len(), "an expected invalid example is missing: {invalid_seen:?}");
}

#[test]
fn alerts_are_mapped_through_the_policys_rules() {
    let metric = at("examples/requests/alert-metric-disk.json");
    let out = validate_json(&metric, &["--policy", POLICY]);
    assert_eq!(out.code, 0, "{out:?}");
    let verdict = out.json();
    assert_eq!(verdict["outcome"], "passes");
    assert_eq!(verdict["fromAlert"], true);
    assert_eq!(verdict["kind"], "diskToNewDisk");
    assert_eq!(verdict["requestId"], "alert-b9569717-bc32-442f-add5-83a997729330");

    let resolved = validate_json(&at("examples/requests/alert-resolved.json"), &["--policy", POLICY]);
    assert_eq!(resolved.code, 0, "{resolved:?}");
    assert_eq!(resolved.json()["outcome"], "nothingToDo");

    // The same alert under a policy without alert rules: the intake answers AlertUnmatched.
    let dir = tempfile::tempdir().unwrap();
    let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(at(POLICY)).unwrap()).unwrap();
    policy["alertRules"] = json!([]);
    let policy_file = write(dir.path(), "policy.json", &policy);
    let out = validate_json(&metric, &["--policy", policy_file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["reason"]["code"], "AlertUnmatched");
}

#[test]
fn policy_refusals_name_the_rule_field_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(at(POLICY)).unwrap()).unwrap();
    policy["allowReplaceDisks"] = json!(false);
    policy["allowedKinds"] = json!(["diskToNewDisk", "vmRestoreDisks", "vmNewVm"]);
    let policy_file = write(dir.path(), "strict.json", &policy);
    let out = validate(&at("examples/requests/vm-replace-disks.json"), &["--policy", policy_file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("invalid: policy.replaceDisksNotAllowed"), "{}", out.stdout);
    assert!(out.stdout.contains("field      operation.kind"), "{}", out.stdout);
    assert!(out.stdout.contains("allowReplaceDisks"), "{}", out.stdout);

    // Inline RESTORE_POLICY, as the intake reads it: one vault only.
    let only_disks = json!({ "allowedVaults": [policy["allowedVaults"][0]] }).to_string();
    let out = run(restorectl(["--json", "validate"])
        .arg(at("examples/requests/vm-new-vm.json"))
        .env("RESTORE_POLICY", &only_disks));
    assert_eq!(out.code, 1, "{out:?}");
    let verdict = out.json();
    assert_eq!(verdict["reason"]["code"], "policy.vaultNotAllowed", "{verdict}");
    assert_eq!(verdict["reason"]["field"], "operation.protectedItemId", "{verdict}");
    assert_eq!(verdict["policy"], "RESTORE_POLICY");
}

#[test]
fn without_a_policy_every_vault_is_refused_as_in_the_intake() {
    let out = validate(&at("examples/requests/disk-to-new-disk.json"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("invalid: policy.vaultNotAllowed"), "{}", out.stdout);
    assert!(out.stdout.contains("RESTORE_POLICY_FILE") && out.stdout.contains("RESTORE_POLICY"), "{}", out.stdout);

    // RESTORE_POLICY_FILE is honoured like the intake honours it.
    let out = run(restorectl(["validate"])
        .arg(at("examples/requests/disk-to-new-disk.json"))
        .env("RESTORE_POLICY_FILE", at(POLICY)));
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn the_policys_size_limit_applies_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(at(POLICY)).unwrap()).unwrap();
    policy["maxMessageBytes"] = json!(1024);
    let small_limit = write(dir.path(), "small.json", &policy);
    // A valid request padded with whitespace past 1 KiB: only the size differs.
    let text = std::fs::read_to_string(at("examples/requests/disk-to-new-disk.json")).unwrap();
    let padded = dir.path().join("padded.json");
    std::fs::write(&padded, format!("{text}{}", " ".repeat(2048))).unwrap();

    let out = validate_json(&padded, &["--policy", small_limit.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["reason"]["code"], "request.tooLarge");
    let out = validate_json(&padded, &["--policy", POLICY]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn the_intakes_time_checks_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut request: Value =
        serde_json::from_str(&std::fs::read_to_string(at("examples/requests/disk-to-new-disk.json")).unwrap()).unwrap();
    request["options"]["deadline"] = json!("2020-01-01T00:00:00Z");
    let late = write(dir.path(), "late.json", &request);
    let out = validate_json(&late, &["--policy", POLICY]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["reason"]["code"], "DeadlinePassed");
    assert_eq!(out.json()["reason"]["field"], "options.deadline");

    request["options"]["deadline"] = json!("2999-01-01T00:00:00Z");
    request["recoveryPoint"] = json!({ "choice": "latestAtOrBefore", "time": "2999-01-01T00:00:00Z" });
    let future = write(dir.path(), "future.json", &request);
    let out = validate_json(&future, &["--policy", POLICY]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["reason"]["code"], "RecoveryPointTimeInFuture");
}

#[test]
fn configuration_errors_exit_2_and_name_the_setting() {
    let request = at("examples/requests/disk-to-new-disk.json");
    let out =
        run(restorectl(["validate"]).arg(&request).env("RESTORE_POLICY_FILE", at(POLICY)).env("RESTORE_POLICY", "{}"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("both RESTORE_POLICY_FILE and RESTORE_POLICY"), "{}", out.stderr);

    let out = run(restorectl(["validate"]).arg(&request).env("RESTORE_POLICY", r#"{"allowedVaults": ["/x"]}"#));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("RESTORE_POLICY") && out.stderr.contains("allowedVaults[0]"), "{}", out.stderr);

    let out = validate(&request, &["--policy", "/nonexistent/policy.json"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--policy /nonexistent/policy.json"), "{}", out.stderr);

    let out = validate(Path::new("/nonexistent/request.json"), &["--policy", POLICY]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("/nonexistent/request.json"), "{}", out.stderr);

    // --policy wins over a broken setting, as documented.
    let out = run(restorectl(["validate", "--policy", POLICY]).arg(&request).env("RESTORE_POLICY", "{broken"));
    assert_eq!(out.code, 0, "{out:?}");
}

fn write(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}
