//! Policy loading errors name the setting and the field; defaults are safe; check() names rule and value.

use restore_contract::policy::{POLICY_FILE_SETTING, POLICY_INLINE_SETTING, PolicyOrigin};
use restore_contract::request::OperationKind;
use restore_contract::{Policy, PolicyRule, parse_request};
use restore_test_support::catalogue::{EXAMPLE_POLICY, valid_disk_request};

fn disk_request() -> restore_contract::RestoreRequest {
    parse_request(valid_disk_request().to_string().as_bytes()).unwrap()
}

#[test]
fn absent_policy_refuses_every_vault_and_says_why() {
    let policy = Policy::from_settings(None, Some("  ")).unwrap();
    assert_eq!(policy.origin, PolicyOrigin::Absent);
    let refusal = policy.check(&disk_request(), 0).unwrap_err();
    assert_eq!(refusal.rule, PolicyRule::VaultNotAllowed);
    assert_eq!(refusal.field.as_deref(), Some("operation.backupInstanceId"));
    assert!(refusal.message.contains("lists no vaults"), "{refusal}");
    assert!(refusal.message.contains(POLICY_FILE_SETTING), "{refusal}");
    assert!(refusal.value.ends_with("/backupVaults/bv-disks"));
}

#[test]
fn defaults_are_safe() {
    let p = Policy::default();
    assert!(!p.allow_replace_disks && !p.allow_delete_backup_data);
    assert!(p.sandbox.is_empty(), "no drill sandbox unless listed");
    assert_eq!(
        p.effective_kinds(),
        vec![OperationKind::DiskToNewDisk, OperationKind::VmRestoreDisks, OperationKind::VmNewVm]
    );
    assert_eq!(p.max_message_bytes, 64 * 1024);
    assert_eq!(p.naming.as_str(), "{source}-restored-{yyyyMMddHHmm}");
}

#[test]
fn both_settings_is_an_error() {
    let err = Policy::from_settings(Some("/x.json"), Some("{}")).unwrap_err();
    assert!(err.to_string().contains(POLICY_FILE_SETTING) && err.to_string().contains(POLICY_INLINE_SETTING), "{err}");
}

#[test]
fn unreadable_file_names_the_setting_and_path() {
    let err = Policy::from_settings(Some("/nonexistent/policy.json"), None).unwrap_err();
    assert_eq!(err.origin, PolicyOrigin::File("/nonexistent/policy.json".into()));
    assert!(err.to_string().contains("RESTORE_POLICY_FILE=/nonexistent/policy.json"), "{err}");
}

#[test]
fn file_policy_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    std::fs::write(&path, EXAMPLE_POLICY).unwrap();
    let p = Policy::from_settings(Some(path.to_str().unwrap()), None).unwrap();
    assert_eq!(p.allowed_vaults.len(), 2);
    assert_eq!(p.alert_rules.len(), 2);
    assert_eq!(p.sandbox.resource_groups.len(), 1);
    assert_eq!(p.sandbox.virtual_networks.len(), 1);
    assert_eq!(p.sandbox.staging_storage_accounts.len(), 1);
    p.check(&disk_request(), 2).unwrap();
}

fn load_err(json: &str) -> (Option<String>, String) {
    let e = Policy::from_json(json, PolicyOrigin::Inline).unwrap_err();
    assert!(e.to_string().starts_with("policy from RESTORE_POLICY"), "{e}");
    (e.field.clone(), e.to_string())
}

#[test]
fn load_errors_name_the_field() {
    let bv = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/bv";
    let cases: Vec<(String, &str, &str)> = vec![
        (r#"{"allowedVault": []}"#.into(), "allowedVault", "unknown field"),
        (r#"{"allowedVaults": ["/subscriptions/s/../x"]}"#.into(), "allowedVaults[0]", "'..'"),
        (
            r#"{"allowedVaults": ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d"]}"#.into(),
            "allowedVaults[0]",
            "not a Backup vault",
        ),
        (r#"{"allowedKinds": ["restoreEverything"]}"#.into(), "allowedKinds[0]", "unknown variant"),
        (r#"{"maxConcurrentRestoresPerVault": 0}"#.into(), "maxConcurrentRestoresPerVault", "0 would"),
        (r#"{"maxMessageBytes": 10}"#.into(), "maxMessageBytes", "outside"),
        (r#"{"naming": "{disk}-copy"}"#.into(), "naming", "unknown variable"),
        (
            format!(r#"{{"allowedTargetResourceGroups": [{{"vault": "{bv}", "subscription": "s", "resourceGroups": []}}]}}"#),
            "allowedTargetResourceGroups[0]",
            "exactly one",
        ),
        (
            format!(r#"{{"allowedTargetResourceGroups": [{{"vault": "{bv}", "resourceGroups": []}}]}}"#),
            "allowedTargetResourceGroups[0].vault",
            "not in allowedVaults",
        ),
        (
            r#"{"alertRules": [{"name": "x", "match": {}, "action": {"kind": "diskToNewDisk", "targetResourceGroupId": "/subscriptions/s/resourceGroups/r"}}]}"#.into(),
            "alertRules[0].match",
            "every alert",
        ),
        (r#"{"allowReplaceDisks": "yes"}"#.into(), "allowReplaceDisks", "invalid type"),
        (r#"{"sandbox": {"resourceGroups": ["/subscriptions/s"]}}"#.into(), "sandbox.resourceGroups[0]", "resource group"),
        (r#"{"sandbox": {"networks": []}}"#.into(), "sandbox.networks", "unknown field"),
        ("{".into(), "", "EOF"),
    ];
    for (json, field, needle) in cases {
        let (got_field, text) = load_err(&json);
        assert_eq!(got_field.as_deref().unwrap_or(""), field, "{json}: {text}");
        assert!(text.contains(needle), "{json}: {text} should mention {needle:?}");
    }
}

#[test]
fn check_names_rule_field_and_value() {
    let policy = Policy::from_json(EXAMPLE_POLICY, PolicyOrigin::Inline).unwrap();
    let r = disk_request();
    let refusal = policy.check(&r, 3).unwrap_err();
    assert_eq!(refusal.rule, PolicyRule::ConcurrencyLimit);
    assert!(refusal.retryable);
    assert_eq!(refusal.value, "3");
    // validateOnly starts nothing, so it is not held back by the limit.
    let mut v = r.clone();
    v.options.validate_only = true;
    policy.check(&v, 3).unwrap();
    // Tags: the policy's win.
    let mut t = r.clone();
    t.options.tags.insert("restored-by".into(), "me".into());
    t.options.tags.insert("ticket".into(), "1".into());
    let tags = policy.tags_for(&t);
    assert_eq!(tags["restored-by"], "restore-automation");
    assert_eq!(tags["ticket"], "1");
    let reason = restore_contract::result::Reason::from(&refusal);
    assert_eq!(reason.code, "policy.concurrencyLimit");
}
