//! The bad-plan catalogue: each entry must be refused with the named field (JSON path), the named rule (or error
//! kind) and a fix. The base plan is examples/drills/vaults-weekly-vms.json, which must itself pass, so each entry
//! fails for its own reason only. Shared by the library's table test (`plans.rs`) and the drill function's
//! end-to-end test (`tests/tests/drill_plans.rs`, which includes this file by path).
#![allow(dead_code)]

use std::path::PathBuf;

use restore_contract::Policy;
use restore_contract::policy::PolicyOrigin;
pub use restore_drills::PlanErrorKind as K;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-12-05 12:00 UTC);
pub const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

/// The repository root, from whichever crate includes this file.
pub fn repo() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("examples/policy.json").is_file() {
        assert!(dir.pop(), "no examples/policy.json above {}", env!("CARGO_MANIFEST_DIR"));
    }
    dir
}

pub fn policy_value() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("examples/policy.json")).unwrap()).unwrap()
}

pub fn policy_from(v: &Value) -> Policy {
    Policy::from_json(&v.to_string(), PolicyOrigin::Inline).unwrap()
}

pub fn base() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("examples/drills/vaults-weekly-vms.json")).unwrap())
        .unwrap()
}

fn pi(vm: &str) -> String {
    let n = format!("iaasvmcontainerv2;rg-app;{vm}");
    format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}"
    )
}

pub fn sb(rest: &str) -> String {
    format!("{SUB}/resourceGroups/rg-drill-sandbox{rest}")
}

/// What a case must produce.
pub enum Want {
    /// This rule at this field.
    Rule(&'static str),
    /// No rule, this kind (shape errors: serde's own).
    Kind(K),
}

pub struct Case {
    /// Names the case.
    pub name: &'static str,
    /// The plan's bytes.
    pub body: Vec<u8>,
    /// A policy other than the example's, when the case needs one.
    pub policy: Option<Value>,
    /// The field the refusal names.
    pub field: &'static str,
    /// The rule or kind.
    pub want: Want,
}

pub fn with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = base();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn case(name: &'static str, body: Vec<u8>, field: &'static str, want: Want) -> Case {
    Case { name, body, policy: None, field, want }
}

pub fn cases() -> Vec<Case> {
    use Want::{Kind, Rule};
    let base_text = serde_json::to_string_pretty(&base()).unwrap();
    vec![
        // Schedule.
        case(
            "cron-five-fields",
            with(|p| p["schedule"]["cron"] = json!("0 6 * * 6")),
            "schedule.cron",
            Rule("cronSixFields"),
        ),
        case(
            "cron-quartz-question-mark",
            with(|p| p["schedule"]["cron"] = json!("0 0 6 ? * SAT")),
            "schedule.cron",
            Rule("cronNotNcrontab"),
        ),
        case(
            "cron-hour-out-of-range",
            with(|p| p["schedule"]["cron"] = json!("0 0 25 * * 6")),
            "schedule.cron",
            Rule("cronInvalid"),
        ),
        case(
            "cron-every-half-hour",
            with(|p| p["schedule"]["cron"] = json!("0 */30 * * * *")),
            "schedule.cron",
            Rule("scheduleTooFrequent"),
        ),
        case(
            "cron-never-fires",
            with(|p| p["schedule"]["cron"] = json!("0 0 0 30 2 *")),
            "schedule.cron",
            Rule("scheduleNeverFires"),
        ),
        case(
            "unknown-time-zone",
            with(|p| p["schedule"]["timeZone"] = json!("Europe/Atlantis")),
            "schedule.timeZone",
            Rule("unknownTimeZone"),
        ),
        case(
            "windows-time-zone-name",
            with(|p| p["schedule"]["timeZone"] = json!("W. Europe Standard Time")),
            "schedule.timeZone",
            Rule("unknownTimeZone"),
        ),
        case(
            "start-window-longer-than-period",
            // Daily in New York is 23 hours apart across the spring change, so a one-day window overlaps the next.
            with(|p| {
                p["schedule"]["cron"] = json!("0 0 6 * * *");
                p["schedule"]["startWindow"] = json!("P1D");
                p["completionWindow"] = json!("P2D");
                p["coverage"] = json!({"withinDays": 30});
            }),
            "schedule.startWindow",
            Rule("startWindowLongerThanPeriod"),
        ),
        case(
            "start-window-too-short",
            with(|p| p["schedule"]["startWindow"] = json!("PT5M")),
            "schedule.startWindow",
            Rule("startWindowRange"),
        ),
        case(
            "start-window-not-a-duration",
            with(|p| p["schedule"]["startWindow"] = json!("4 hours")),
            "schedule.startWindow",
            Rule("durationFormat"),
        ),
        case(
            "completion-not-after-start",
            with(|p| p["completionWindow"] = json!("PT4H")),
            "completionWindow",
            Rule("completionWindowNotAfterStartWindow"),
        ),
        // Selection.
        case("empty-selection", with(|p| p["selection"] = json!({})), "selection", Rule("emptySelection")),
        case(
            "only-exclusions",
            with(|p| p["selection"] = json!({"excludeItems": [pi("vm-web-01")]})),
            "selection",
            Rule("emptySelection"),
        ),
        case(
            "duplicate-item-ids",
            with(|p| {
                p["selection"]["items"] = json!([
                    pi("vm-web-01"),
                    pi("vm-web-01").to_uppercase().replace("/SUBSCRIPTIONS/", "/subscriptions/")
                ])
            }),
            "selection.items[1]",
            Rule("duplicateItem"),
        ),
        case(
            "item-not-an-item",
            with(|p| {
                p["selection"]["items"] =
                    json!([format!("{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01")])
            }),
            "selection.items[0]",
            Kind(K::InvalidArmId),
        ),
        case(
            "vault-outside-policy",
            with(|p| {
                p["selection"]["vaults"] = json!([format!(
                    "{SUB}/resourceGroups/rg-other/providers/Microsoft.RecoveryServices/vaults/rsv-other"
                )])
            }),
            "selection.vaults[0]",
            Rule("vaultNotAllowed"),
        ),
        case(
            "item-selected-and-excluded",
            with(|p| {
                p["selection"]["items"] = json!([pi("vm-web-01")]);
                p["selection"]["excludeItems"] = json!([pi("vm-web-01")]);
            }),
            "selection.excludeItems[0]",
            Rule("itemSelectedAndExcluded"),
        ),
        case(
            "tag-names-differ-only-in-case",
            with(|p| p["selection"]["tags"] = json!({"Tier": "1", "tier": "1"})),
            "selection.tags.tier",
            Rule("duplicateTag"),
        ),
        case(
            "tag-selected-and-excluded",
            with(|p| {
                p["selection"]["tags"] = json!({"drill": "never"});
            }),
            "selection.excludeTags.drill",
            Rule("tagSelectedAndExcluded"),
        ),
        // Sampling and coverage.
        case(
            "zero-random-sample",
            with(|p| p["sampling"] = json!({"random": 0})),
            "sampling.random",
            Rule("zeroSample"),
        ),
        case(
            "zero-least-recent-sample",
            with(|p| p["sampling"] = json!({"leastRecentlyDrilled": 0})),
            "sampling.leastRecentlyDrilled",
            Rule("zeroSample"),
        ),
        case("unknown-sampling", with(|p| p["sampling"] = json!("some")), "sampling", Kind(K::InvalidValue)),
        case(
            "coverage-zero-days",
            with(|p| p["coverage"] = json!({"withinDays": 0})),
            "coverage.withinDays",
            Rule("coverageRange"),
        ),
        case(
            "coverage-shorter-than-period",
            with(|p| p["coverage"] = json!({"withinDays": 3})),
            "coverage.withinDays",
            Rule("coverageShorterThanPeriod"),
        ),
        // Recovery point and restore.
        case(
            "random-window-zero",
            with(|p| p["recoveryPoint"]["pick"] = json!({"randomWithinDays": 0})),
            "recoveryPoint.pick.randomWithinDays",
            Rule("randomWindowRange"),
        ),
        case(
            "snapshot-tier-in-secondary-region",
            with(|p| {
                p["recoveryPoint"]["vmTier"] = json!("snapshot");
                p["recoveryPoint"]["vmRegion"] = json!("secondary");
            }),
            "recoveryPoint.vmTier",
            Rule("snapshotTierNotInSecondaryRegion"),
        ),
        case(
            "destructive-vm-mode",
            with(|p| p["restore"]["vm"] = json!("replaceDisks")),
            "restore.vm",
            Rule("destructiveMode"),
        ),
        case(
            "destructive-disk-mode",
            with(|p| p["restore"]["disk"] = json!("originalLocation")),
            "restore.disk",
            Rule("destructiveMode"),
        ),
        case(
            "luns-with-new-vm",
            with(|p| p["restore"]["luns"] = json!([0])),
            "restore.luns",
            Rule("lunsOnlyForRestoreDisks"),
        ),
        case(
            "lun-out-of-range",
            with(|p| p["restore"] = json!({"vm": "restoreDisks", "luns": [0, 64]})),
            "restore.luns[1]",
            Rule("lunRange"),
        ),
        case(
            "lun-twice",
            with(|p| p["restore"] = json!({"vm": "restoreDisks", "luns": [1, 1]})),
            "restore.luns[1]",
            Rule("lunUnique"),
        ),
        // Sandbox and policy.
        case(
            "sandbox-group-outside-policy",
            with(|p| p["sandbox"]["resourceGroupId"] = json!(format!("{SUB}/resourceGroups/rg-restore"))),
            "sandbox.resourceGroupId",
            Rule("sandboxResourceGroupNotAllowed"),
        ),
        Case {
            name: "sandbox-not-an-allowed-restore-target",
            body: with(|_| {}),
            policy: Some({
                let mut p = policy_value();
                p["allowedTargetResourceGroups"] = json!([]);
                p
            }),
            field: "sandbox.resourceGroupId",
            want: Rule("sandboxNotRestoreTarget"),
        },
        case(
            "subnet-missing-for-new-vm",
            with(|p| {
                p["sandbox"].as_object_mut().unwrap().remove("subnetId");
            }),
            "sandbox.subnetId",
            Rule("subnetRequired"),
        ),
        case(
            "subnet-outside-sandbox-networks",
            with(|p| {
                p["sandbox"]["subnetId"] = json!(format!(
                    "{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/default"
                ))
            }),
            "sandbox.subnetId",
            Rule("sandboxNetworkNotAllowed"),
        ),
        case(
            "staging-missing-for-vms",
            with(|p| {
                p["sandbox"].as_object_mut().unwrap().remove("stagingStorageAccountId");
            }),
            "sandbox.stagingStorageAccountId",
            Rule("stagingAccountRequired"),
        ),
        case(
            "staging-outside-sandbox",
            with(|p| {
                p["sandbox"]["stagingStorageAccountId"] = json!(format!(
                    "{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/stagingsa01"
                ))
            }),
            "sandbox.stagingStorageAccountId",
            Rule("sandboxStagingAccountNotAllowed"),
        ),
        // RTO.
        case("rto-zero", with(|p| p["rto"]["target"] = json!("PT0S")), "rto.target", Rule("rtoTargetRange")),
        case(
            "rto-override-twice",
            with(|p| {
                p["rto"]["overrides"] =
                    json!([{"item": pi("vm-web-01"), "target": "PT1H"}, {"item": pi("vm-web-01"), "target": "PT2H"}])
            }),
            "rto.overrides[1].item",
            Rule("duplicateRtoOverride"),
        ),
        // Checks.
        case(
            "webhook-inline-secret",
            with(|p| p["checks"]["webhook"]["secret"] = json!("hunter2")),
            "checks.webhook.secret",
            Rule("inlineSecret"),
        ),
        case(
            "webhook-key-in-url",
            with(|p| p["checks"]["webhook"]["url"] = json!("https://fn.example/api/verify?code=abc123")),
            "checks.webhook.url",
            Rule("inlineSecret"),
        ),
        case(
            "webhook-http",
            with(|p| p["checks"]["webhook"]["url"] = json!("http://drill-checks.contoso.example/verify")),
            "checks.webhook.url",
            Rule("webhookNotHttps"),
        ),
        case(
            "webhook-secret-setting-is-a-value",
            with(|p| p["checks"]["webhook"]["secretSetting"] = json!("s3cr3t value!")),
            "checks.webhook.secretSetting",
            Rule("secretSettingFormat"),
        ),
        case(
            "run-command-on-restored-disks",
            with(|p| p["restore"]["vm"] = json!("restoreDisks")),
            "checks.runCommand",
            Rule("runCommandNeedsNewVm"),
        ),
        case(
            "run-command-timeout-over-azure-limit",
            with(|p| p["checks"]["runCommand"]["timeout"] = json!("PT2H")),
            "checks.runCommand.timeout",
            Rule("runCommandTimeoutRange"),
        ),
        // Keep-for, cost guard, share.
        case("keep-for-negative", with(|p| p["keepFor"] = json!("-PT1H")), "keepFor", Rule("keepForNegative")),
        case("keep-for-a-month", with(|p| p["keepFor"] = json!("P30D")), "keepFor", Rule("keepForTooLong")),
        case(
            "cost-guard-zero-gib",
            with(|p| p["costGuard"]["maxRestoredGiB"] = json!(0)),
            "costGuard.maxRestoredGiB",
            Rule("costGuardRange"),
        ),
        case(
            "cost-guard-vcpus-huge",
            with(|p| p["costGuard"]["maxVmVcpus"] = json!(5000)),
            "costGuard.maxVmVcpus",
            Rule("costGuardRange"),
        ),
        case(
            "cost-guard-negative",
            with(|p| p["costGuard"]["maxRestoredGiB"] = json!(-1)),
            "costGuard.maxRestoredGiB",
            Kind(K::InvalidValue),
        ),
        case("share-zero", with(|p| p["vaultConcurrencyShare"] = json!(0)), "vaultConcurrencyShare", Rule("shareZero")),
        case(
            "share-above-vault-limit",
            with(|p| p["vaultConcurrencyShare"] = json!(4)),
            "vaultConcurrencyShare",
            Rule("shareAboveVaultLimit"),
        ),
        case(
            "share-as-string",
            with(|p| p["vaultConcurrencyShare"] = json!("1")),
            "vaultConcurrencyShare",
            Kind(K::WrongType),
        ),
        // Rules with fewer obvious triggers, so every rule of validate.rs is exercised.
        case(
            "description-too-long",
            with(|p| p["description"] = json!("x".repeat(1025))),
            "description",
            Rule("descriptionLength"),
        ),
        case(
            "sample-too-large",
            with(|p| p["sampling"] = json!({"random": 1001})),
            "sampling.random",
            Rule("sampleTooLarge"),
        ),
        case(
            "tag-name-with-slash",
            with(|p| p["selection"]["tags"] = json!({"a/b": "1"})),
            "selection.tags.a/b",
            Rule("tagFormat"),
        ),
        case(
            "duplicate-vault",
            with(|p| {
                let v = p["selection"]["vaults"][0].clone();
                p["selection"]["vaults"] = json!([v.clone(), v]);
            }),
            "selection.vaults[1]",
            Rule("duplicateVault"),
        ),
        case(
            "duplicate-excluded-item",
            with(|p| p["selection"]["excludeItems"] = json!([pi("vm-a"), pi("vm-a")])),
            "selection.excludeItems[1]",
            Rule("duplicateItem"),
        ),
        case(
            "completion-window-too-long",
            with(|p| p["completionWindow"] = json!("P8D")),
            "completionWindow",
            Rule("completionWindowRange"),
        ),
        case(
            "rto-override-zero",
            with(|p| p["rto"]["overrides"] = json!([{"item": pi("vm-web-01"), "target": "PT0S"}])),
            "rto.overrides[0].target",
            Rule("rtoTargetRange"),
        ),
        case(
            "vm-agent-timeout-too-long",
            with(|p| p["checks"]["vmAgentTimeout"] = json!("PT3H")),
            "checks.vmAgentTimeout",
            Rule("vmAgentTimeoutRange"),
        ),
        case(
            "run-command-empty-script",
            with(|p| p["checks"]["runCommand"]["script"] = json!("")),
            "checks.runCommand.script",
            Rule("scriptLength"),
        ),
        case(
            "run-command-expected-output-too-long",
            with(|p| p["checks"]["runCommand"]["expectedOutput"] = json!("x".repeat(5000))),
            "checks.runCommand.expectedOutput",
            Rule("expectedOutputLength"),
        ),
        case(
            "webhook-url-not-a-url",
            with(|p| p["checks"]["webhook"]["url"] = json!("not a url")),
            "checks.webhook.url",
            Rule("webhookUrlInvalid"),
        ),
        case(
            "webhook-credentials-in-url",
            with(|p| p["checks"]["webhook"]["url"] = json!("https://drill:pw@drill-checks.contoso.example/verify")),
            "checks.webhook.url",
            Rule("inlineSecret"),
        ),
        case(
            "webhook-timeout-too-long",
            with(|p| p["checks"]["webhook"]["timeout"] = json!("PT10M")),
            "checks.webhook.timeout",
            Rule("webhookTimeoutRange"),
        ),
        case(
            "webhook-password-field",
            with(|p| p["checks"]["webhook"]["password"] = json!("x")),
            "checks.webhook.password",
            Rule("inlineSecret"),
        ),
        Case {
            name: "staging-not-allowed-for-restores",
            body: with(|_| {}),
            policy: Some({
                let mut p = policy_value();
                p["allowedStagingStorageAccounts"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|a| !a.as_str().unwrap().ends_with("stdrillsandbox"));
                p
            }),
            field: "sandbox.stagingStorageAccountId",
            want: Rule("stagingNotAllowedForRestores"),
        },
        Case {
            name: "sandbox-in-another-subscription",
            body: with(|p| {
                p["sandbox"]["resourceGroupId"] =
                    json!("/subscriptions/99999999-1111-2222-3333-444444444444/resourceGroups/rg-drill")
            }),
            policy: Some({
                let mut p = policy_value();
                p["sandbox"]["resourceGroups"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("/subscriptions/99999999-1111-2222-3333-444444444444/resourceGroups/rg-drill"));
                p
            }),
            field: "sandbox.resourceGroupId",
            want: Rule("sandboxSubscription"),
        },
        Case {
            name: "tags-with-a-policy-without-vaults",
            body: with(|p| p["selection"] = json!({"tags": {"tier": "1"}})),
            policy: Some({
                let mut p = policy_value();
                p["allowedVaults"] = json!([]);
                p["allowedTargetResourceGroups"] = json!([]);
                p
            }),
            field: "selection.tags",
            want: Rule("vaultNotAllowed"),
        },
        // Shape.
        case("plan-name-with-dot", with(|p| p["name"] = json!("weekly.vms")), "name", Rule("planNameFormat")),
        case("unknown-top-level-field", with(|p| p["schedul"] = json!({})), "schedul", Kind(K::UnknownField)),
        case(
            "unknown-nested-field",
            with(|p| p["schedule"]["timezone"] = json!("UTC")),
            "schedule.timezone",
            Kind(K::UnknownField),
        ),
        case(
            "duplicate-top-level-key",
            base_text
                .replacen("\"name\": \"weekly-vm-boot\",", "\"name\": \"weekly-vm-boot\",\n  \"name\": \"other\",", 1)
                .into_bytes(),
            "name",
            Rule("duplicateKey"),
        ),
        case(
            "duplicate-nested-key",
            base_text.replacen("\"cron\":", "\"cron\": \"0 0 1 * * *\", \"cron\":", 1).into_bytes(),
            "schedule.cron",
            Rule("duplicateKey"),
        ),
        case(
            "missing-sandbox",
            with(|p| {
                p.as_object_mut().unwrap().remove("sandbox");
            }),
            "sandbox",
            Kind(K::MissingField),
        ),
        case(
            "missing-version",
            with(|p| {
                p.as_object_mut().unwrap().remove("version");
            }),
            "version",
            Kind(K::MissingField),
        ),
        case("version-two", with(|p| p["version"] = json!("2")), "version", Kind(K::UnsupportedVersion)),
        case("not-json", b"{\"version\": \"1\",".to_vec(), "", Kind(K::MalformedJson)),
        case("not-an-object", b"[]".to_vec(), "", Kind(K::NotAnObject)),
        case("too-large", vec![b' '; 300 * 1024], "", Kind(K::TooLarge)),
    ]
}
