//! Bad plans, one table entry each ([`bad_plans`]): every one must be refused with the named field (JSON path),
//! the named rule (or error kind) and a fix.

mod bad_plans;

use bad_plans::{NOW, SUB, Want, base, cases, policy_from, policy_value, sb};
use restore_contract::Policy;
use restore_drills::parse_plan;
use serde_json::json;

#[test]
fn the_base_plan_is_valid() {
    let plan = parse_plan(&serde_json::to_vec(&base()).unwrap(), &policy_from(&policy_value()), NOW).unwrap();
    assert_eq!(plan.plan().name, "weekly-vm-boot");
}

#[test]
fn every_bad_plan_is_refused_with_field_rule_and_fix() {
    let cases = cases();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
        let policy = policy_from(c.policy.as_ref().unwrap_or(&policy_value()));
        let err = match parse_plan(&c.body, &policy, NOW) {
            Ok(_) => {
                failures.push(format!("{}: accepted", c.name));
                continue;
            }
            Err(e) => e,
        };
        let ok_want = match c.want {
            Want::Rule(rule) => err.rule == Some(rule),
            Want::Kind(kind) => err.kind == kind && err.rule.is_none(),
        };
        if err.field_path() != c.field || !ok_want || err.fix.is_empty() || err.message.is_empty() {
            failures.push(format!(
                "{}: got field '{}' rule {:?} kind {:?}: {err}",
                c.name,
                err.field_path(),
                err.rule,
                err.kind
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn an_empty_policy_refuses_every_plan_and_says_why() {
    let err = parse_plan(&serde_json::to_vec(&base()).unwrap(), &Policy::default(), NOW).unwrap_err();
    assert_eq!(err.rule, Some("vaultNotAllowed"), "{err}");
    assert!(err.message.contains("lists no vaults"), "{err}");
    let mut p = policy_value();
    p.as_object_mut().unwrap().remove("sandbox");
    let err = parse_plan(&serde_json::to_vec(&base()).unwrap(), &policy_from(&p), NOW).unwrap_err();
    assert_eq!(err.rule, Some("sandboxResourceGroupNotAllowed"), "{err}");
    assert!(err.message.contains("no sandbox resource groups"), "{err}");
}

#[test]
fn sandbox_subnet_and_staging_are_only_required_when_vms_can_be_selected() {
    let body = serde_json::to_vec(&json!({
        "version": "1",
        "name": "disks-only",
        "schedule": {"cron": "0 0 1 * * *", "timeZone": "UTC", "startWindow": "PT1H"},
        "completionWindow": "PT3H",
        "selection": {"vaults": [format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks")]},
        "restore": {"vm": "newVm"},
        "sandbox": {"resourceGroupId": sb("")},
        "rto": {"target": "PT1H"},
        "keepFor": "PT0S",
        "costGuard": {"maxRestoredGiB": 10, "maxVmVcpus": 1},
        "vaultConcurrencyShare": 1
    }))
    .unwrap();
    parse_plan(&body, &policy_from(&policy_value()), NOW).unwrap();
}
