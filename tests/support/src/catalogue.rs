//! The catalogue of bad inputs: every way a message can be refused, with the error it must produce.
//! shared/contract/tests/catalogue.rs proves each entry against [`restore_contract::classify`] and
//! [`restore_contract::Policy::check`]; end-to-end tests replay the same entries through the real intake binary
//! (configure it with `policy`, if given, as `RESTORE_POLICY`; report `active_restores` running restores in the
//! vault) and compare the `Rejected` result's `reason`.

use serde_json::{Value, json};

use restore_contract::policy::PolicyRule;
use restore_contract::request::RequestErrorKind as K;

const SUB: &str = "00000000-1111-2222-3333-444444444444";
const BV: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks";
const RSV: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms";
const RG_RESTORE: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-restore";
const SA: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/stagingsa01";
const VNET: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app";

/// The policy the policy entries are checked against (examples/policy.json), unless an entry brings its own.
pub const EXAMPLE_POLICY: &str = include_str!("../../../examples/policy.json");

/// One bad input.
#[derive(Debug, Clone)]
pub struct BadInput {
    /// Short unique name (kebab-case).
    pub name: &'static str,
    /// The message body.
    pub body: Vec<u8>,
    /// The policy to load (inline JSON); `None` means [`EXAMPLE_POLICY`].
    pub policy: Option<String>,
    /// Restores already running in the request's vault.
    pub active_restores: usize,
    /// What must happen.
    pub expect: Expected,
}

/// The refusal an entry must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Parsing or validation fails with this kind, at this field path (`""` for the whole message), and with
    /// this rule when given.
    Request {
        /// Error kind.
        kind: K,
        /// JSON path.
        field: &'static str,
        /// Rule name.
        rule: Option<&'static str>,
    },
    /// The request parses but the policy refuses it with this rule.
    Policy {
        /// The policy rule.
        rule: PolicyRule,
    },
}

fn bi() -> String {
    format!("{BV}/backupInstances/app-data-01-bi")
}

fn pi() -> String {
    let n = "iaasvmcontainerv2;rg-app;vm-web-01";
    format!("{RSV}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}")
}

fn source() -> Value {
    json!({"kind": "ticket", "reference": "INC0012345", "requestedBy": "alice@contoso.com"})
}

/// A valid diskToNewDisk request.
pub fn valid_disk_request() -> Value {
    json!({
        "version": "1",
        "requestId": "catalogue-disk",
        "source": source(),
        "operation": {"kind": "diskToNewDisk", "backupInstanceId": bi(), "targetResourceGroupId": RG_RESTORE},
        "recoveryPoint": {"choice": "latest"}
    })
}

fn vm_restore_disks() -> Value {
    json!({
        "version": "1",
        "source": source(),
        "operation": {"kind": "vmRestoreDisks", "protectedItemId": pi(), "stagingStorageAccountId": SA,
                      "targetResourceGroupId": RG_RESTORE, "luns": [0, 1]}
    })
}

fn vm_new_vm() -> Value {
    json!({
        "version": "1",
        "source": source(),
        "operation": {"kind": "vmNewVm", "protectedItemId": pi(), "stagingStorageAccountId": SA,
                      "targetResourceGroupId": RG_RESTORE, "vmName": "vm-web-01-copy",
                      "virtualNetworkId": VNET, "subnetId": format!("{VNET}/subnets/default")}
    })
}

fn configure() -> Value {
    json!({
        "version": "1",
        "source": source(),
        "operation": {"kind": "configureDiskProtection", "backupVaultId": BV,
                      "diskId": format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-unprotected"),
                      "policyId": format!("{BV}/backupPolicies/DiskBackupPolicy"),
                      "snapshotResourceGroupId": format!("/subscriptions/{SUB}/resourceGroups/rg-backup")}
    })
}

fn stop(delete: bool) -> Value {
    json!({
        "version": "1",
        "source": source(),
        "operation": {"kind": "stopDiskProtection", "backupInstanceId": bi(), "deleteData": delete}
    })
}

/// Applies `f` to a copy of `base`.
fn with(mut base: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut base);
    base
}

fn remove(v: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().unwrap_or((&"", &[]));
    let mut cur = v;
    for p in parents {
        cur = &mut cur[*p];
    }
    if let Some(o) = cur.as_object_mut() {
        o.remove(*last);
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// `body` as text with the key at `path` written twice: first `first`, then the value `body` has. serde keeps
/// the last value, so without the duplicate-key check these bodies would be accepted as the valid request
/// (the check is what refuses them). The key is found by its key-and-value text, which is unique in these
/// bodies; if it were not, the entry would be accepted and the catalogue test would say so.
fn twice(body: &Value, path: &[&str], first: Value) -> Vec<u8> {
    let text = body.to_string();
    let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
    let (Some(key), Some(value)) = (path.last(), body.pointer(&pointer)) else {
        return text.into_bytes();
    };
    let written = format!("{}:{value}", Value::String((*key).to_string()));
    let doubled = format!("{}:{first},{written}", Value::String((*key).to_string()));
    text.replacen(&written, &doubled, 1).into_bytes()
}

fn req(name: &'static str, body: Value, kind: K, field: &'static str, rule: Option<&'static str>) -> BadInput {
    raw(name, bytes(&body), kind, field, rule)
}

fn raw(name: &'static str, body: Vec<u8>, kind: K, field: &'static str, rule: Option<&'static str>) -> BadInput {
    BadInput { name, body, policy: None, active_restores: 0, expect: Expected::Request { kind, field, rule } }
}

fn pol(name: &'static str, body: Value, policy: Option<String>, active: usize, rule: PolicyRule) -> BadInput {
    BadInput { name, body: bytes(&body), policy, active_restores: active, expect: Expected::Policy { rule } }
}

/// Every bad input.
pub fn bad_inputs() -> Vec<BadInput> {
    let d = valid_disk_request;
    let set = |base: Value, path: &'static [&'static str], value: Value| {
        with(base, move |v| {
            let (last, parents) = path.split_last().unwrap_or((&"", &[]));
            let mut cur = v;
            for p in parents {
                cur = &mut cur[*p];
            }
            cur[*last] = value;
        })
    };
    let op_id = |field: &'static [&'static str], value: String| set(d(), field, Value::String(value));
    let other_sub = "/subscriptions/99999999-1111-2222-3333-444444444444";
    vec![
        // The message as a whole.
        raw("empty-body", b"  ".to_vec(), K::MalformedJson, "", None),
        raw("truncated-json", br#"{"version": "1", "source": "#.to_vec(), K::MalformedJson, "", None),
        raw("not-utf8", vec![0x7b, 0xff, 0xfe, 0x7d], K::MalformedJson, "", None),
        raw("json-array", b"[]".to_vec(), K::NotAnObject, "", None),
        raw("json-string", br#""restore app-data-01 please""#.to_vec(), K::NotAnObject, "", None),
        BadInput {
            name: "oversize-for-policy",
            body: bytes(&set(d(), &["source", "reference"], Value::String("x".repeat(2000)))),
            policy: Some(with(restrictive_policy_value(), |v| v["maxMessageBytes"] = json!(1024)).to_string()),
            active_restores: 0,
            expect: Expected::Request { kind: K::TooLarge, field: "", rule: None },
        },
        raw(
            "oversize",
            bytes(&set(d(), &["source", "reference"], Value::String("x".repeat(70 * 1024)))),
            K::TooLarge,
            "",
            None,
        ),
        // One meaning per message: a key written twice anywhere. Only the requestId entry keeps a requestId: the
        // end-to-end replay gives other entries fresh requestIds by re-serialising them, which would drop the
        // duplicate.
        raw(
            "duplicate-request-id",
            twice(&d(), &["requestId"], json!("someone-elses-request")),
            K::DuplicateKey,
            "requestId",
            None,
        ),
        raw(
            "duplicate-target-resource-group",
            twice(
                &with(d(), |v| remove(v, &["requestId"])),
                &["operation", "targetResourceGroupId"],
                json!(format!("{other_sub}/resourceGroups/rg-prod")),
            ),
            K::DuplicateKey,
            "operation.targetResourceGroupId",
            None,
        ),
        raw(
            "duplicate-backup-instance-id",
            twice(
                &with(d(), |v| remove(v, &["requestId"])),
                &["operation", "backupInstanceId"],
                json!(format!("{BV}/backupInstances/payroll-db-bi")),
            ),
            K::DuplicateKey,
            "operation.backupInstanceId",
            None,
        ),
        raw(
            "duplicate-key-same-value",
            twice(&with(d(), |v| remove(v, &["requestId"])), &["source", "reference"], json!("INC0012345")),
            K::DuplicateKey,
            "source.reference",
            None,
        ),
        raw(
            "duplicate-tag",
            twice(
                &with(d(), |v| {
                    remove(v, &["requestId"]);
                    v["options"] = json!({"tags": {"cost": "cc-1"}});
                }),
                &["options", "tags", "cost"],
                json!("cc-2"),
            ),
            K::DuplicateKey,
            "options.tags.cost",
            None,
        ),
        raw(
            "duplicate-key-escaped",
            {
                // `\u0073ource` is `source` once unescaped: the check compares keys as the decoder reads them.
                let text = with(d(), |v| remove(v, &["requestId"])).to_string();
                text.replacen("{", "{\"\\u0073ource\":{\"kind\":\"ticket\",\"reference\":\"x\"},", 1).into_bytes()
            },
            K::DuplicateKey,
            "source",
            None,
        ),
        // version
        req("missing-version", with(d(), |v| remove(v, &["version"])), K::MissingField, "version", None),
        req("version-2", set(d(), &["version"], json!("2")), K::UnsupportedVersion, "version", None),
        req("version-as-number", set(d(), &["version"], json!(1)), K::WrongType, "version", None),
        // top level
        req("typo-top-level-field", with(d(), |v| v["requestID"] = json!("x")), K::UnknownField, "requestID", None),
        req("request-id-number", set(d(), &["requestId"], json!(42)), K::WrongType, "requestId", None),
        req(
            "request-id-slash",
            set(d(), &["requestId"], json!("a/b")),
            K::InvalidValue,
            "requestId",
            Some("requestIdFormat"),
        ),
        req(
            "request-id-too-long",
            set(d(), &["requestId"], json!("r".repeat(200))),
            K::InvalidValue,
            "requestId",
            Some("requestIdFormat"),
        ),
        // source
        req("missing-source", with(d(), |v| remove(v, &["source"])), K::MissingField, "source", None),
        req("source-kind-unknown", set(d(), &["source", "kind"], json!("pager")), K::InvalidValue, "source.kind", None),
        req(
            "source-missing-reference",
            with(d(), |v| remove(v, &["source", "reference"])),
            K::MissingField,
            "source.reference",
            None,
        ),
        req(
            "source-reference-empty",
            set(d(), &["source", "reference"], json!("")),
            K::InvalidValue,
            "source.reference",
            Some("textFormat"),
        ),
        req(
            "source-requested-by-control",
            set(d(), &["source", "requestedBy"], json!("eve\u{1b}[31m")),
            K::InvalidValue,
            "source.requestedBy",
            Some("textFormat"),
        ),
        req("source-unknown-field", set(d(), &["source", "team"], json!("ops")), K::UnknownField, "source.team", None),
        // operation shape
        req("missing-operation", with(d(), |v| remove(v, &["operation"])), K::MissingField, "operation", None),
        req("operation-not-object", set(d(), &["operation"], json!("diskToNewDisk")), K::WrongType, "operation", None),
        req(
            "operation-missing-kind",
            with(d(), |v| remove(v, &["operation", "kind"])),
            K::MissingField,
            "operation.kind",
            None,
        ),
        req(
            "operation-unknown-kind",
            set(d(), &["operation", "kind"], json!("diskToDisk")),
            K::UnknownKind,
            "operation.kind",
            None,
        ),
        req(
            "operation-kind-wrong-case",
            set(d(), &["operation", "kind"], json!("DiskToNewDisk")),
            K::UnknownKind,
            "operation.kind",
            None,
        ),
        req(
            "operation-typo-field",
            set(d(), &["operation", "diskname"], json!("x")),
            K::UnknownField,
            "operation.diskname",
            None,
        ),
        req(
            "operation-missing-backup-instance",
            with(d(), |v| remove(v, &["operation", "backupInstanceId"])),
            K::MissingField,
            "operation.backupInstanceId",
            None,
        ),
        // ARM ids
        req(
            "arm-id-dotdot",
            op_id(&["operation", "backupInstanceId"], format!("{BV}/backupInstances/../../x")),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-percent-2f",
            op_id(&["operation", "backupInstanceId"], format!("{BV}/backupInstances/a%2f..%2fb")),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-query",
            op_id(&["operation", "backupInstanceId"], format!("{}?api-version=2020-01-01", bi())),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-fragment",
            op_id(&["operation", "backupInstanceId"], format!("{}#x", bi())),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-double-slash",
            op_id(&["operation", "backupInstanceId"], bi().replace("/backupInstances/", "//backupInstances/")),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-whitespace",
            op_id(&["operation", "backupInstanceId"], format!("{} ", bi())),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-wrong-provider",
            op_id(
                &["operation", "backupInstanceId"],
                format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01"),
            ),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-not-absolute",
            op_id(&["operation", "backupInstanceId"], bi().trim_start_matches('/').to_string()),
            K::InvalidArmId,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "arm-id-number",
            set(d(), &["operation", "backupInstanceId"], json!(12)),
            K::WrongType,
            "operation.backupInstanceId",
            None,
        ),
        req(
            "target-group-is-a-disk",
            op_id(
                &["operation", "targetResourceGroupId"],
                format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01"),
            ),
            K::InvalidArmId,
            "operation.targetResourceGroupId",
            None,
        ),
        req(
            "protected-item-is-a-backup-instance",
            set(vm_restore_disks(), &["operation", "protectedItemId"], json!(bi())),
            K::InvalidArmId,
            "operation.protectedItemId",
            None,
        ),
        // cross-field rules
        req(
            "target-group-other-subscription",
            op_id(&["operation", "targetResourceGroupId"], format!("{other_sub}/resourceGroups/rg-restore")),
            K::Inconsistent,
            "operation.targetResourceGroupId",
            Some("sameSubscription"),
        ),
        req(
            "disk-name-invalid",
            set(d(), &["operation", "diskName"], json!("bad name!")),
            K::InvalidValue,
            "operation.diskName",
            Some("diskNameFormat"),
        ),
        req(
            "disk-name-too-long",
            set(d(), &["operation", "diskName"], json!("d".repeat(81))),
            K::InvalidValue,
            "operation.diskName",
            Some("diskNameFormat"),
        ),
        req(
            "luns-out-of-range",
            set(vm_restore_disks(), &["operation", "luns"], json!([0, 64])),
            K::InvalidValue,
            "operation.luns[1]",
            Some("lunRange"),
        ),
        req(
            "luns-duplicate",
            set(vm_restore_disks(), &["operation", "luns"], json!([1, 1])),
            K::InvalidValue,
            "operation.luns[1]",
            Some("lunUnique"),
        ),
        req(
            "luns-negative",
            set(vm_restore_disks(), &["operation", "luns"], json!([-1])),
            K::InvalidValue,
            "operation.luns[0]",
            None,
        ),
        req(
            "luns-not-a-list",
            set(vm_restore_disks(), &["operation", "luns"], json!("0,1")),
            K::WrongType,
            "operation.luns",
            None,
        ),
        req(
            "secondary-region-string",
            set(vm_restore_disks(), &["operation", "secondaryRegion"], json!("yes")),
            K::WrongType,
            "operation.secondaryRegion",
            None,
        ),
        req(
            "replace-disks-cross-region",
            json!({"version": "1", "source": source(), "operation": {"kind": "vmReplaceDisks", "protectedItemId": pi(), "stagingStorageAccountId": SA, "secondaryRegion": true}}),
            K::Inconsistent,
            "operation.secondaryRegion",
            Some("noCrossRegionReplace"),
        ),
        req(
            "staging-account-other-subscription",
            set(
                vm_restore_disks(),
                &["operation", "stagingStorageAccountId"],
                json!(format!("{other_sub}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/sa")),
            ),
            K::Inconsistent,
            "operation.stagingStorageAccountId",
            Some("sameSubscription"),
        ),
        req(
            "new-vm-missing-name",
            with(vm_new_vm(), |v| remove(v, &["operation", "vmName"])),
            K::MissingField,
            "operation.vmName",
            None,
        ),
        req(
            "new-vm-bad-name",
            set(vm_new_vm(), &["operation", "vmName"], json!("-vm")),
            K::InvalidValue,
            "operation.vmName",
            Some("vmNameFormat"),
        ),
        req(
            "new-vm-subnet-elsewhere",
            set(
                vm_new_vm(),
                &["operation", "subnetId"],
                json!(format!(
                    "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-other/subnets/default"
                )),
            ),
            K::Inconsistent,
            "operation.subnetId",
            Some("subnetInVirtualNetwork"),
        ),
        req(
            "configure-policy-of-other-vault",
            set(
                configure(),
                &["operation", "policyId"],
                json!(format!(
                    "/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-other/backupPolicies/DiskBackupPolicy"
                )),
            ),
            K::Inconsistent,
            "operation.policyId",
            Some("policyInVault"),
        ),
        req(
            "configure-policy-not-a-policy",
            set(configure(), &["operation", "policyId"], json!(BV)),
            K::InvalidArmId,
            "operation.policyId",
            None,
        ),
        req(
            "configure-snapshot-group-other-subscription",
            set(
                configure(),
                &["operation", "snapshotResourceGroupId"],
                json!(format!("{other_sub}/resourceGroups/snapshots")),
            ),
            K::Inconsistent,
            "operation.snapshotResourceGroupId",
            Some("sameSubscription"),
        ),
        req(
            "configure-with-recovery-point",
            set(configure(), &["recoveryPoint"], json!({"choice": "latest"})),
            K::Inconsistent,
            "recoveryPoint",
            Some("recoveryPointOnlyForRestores"),
        ),
        req(
            "stop-missing-delete-data",
            with(stop(false), |v| remove(v, &["operation", "deleteData"])),
            K::MissingField,
            "operation.deleteData",
            None,
        ),
        req(
            "stop-validate-only",
            set(stop(false), &["options"], json!({"validateOnly": true})),
            K::Inconsistent,
            "options.validateOnly",
            Some("noValidateOnlyForStop"),
        ),
        // recovery point
        req(
            "recovery-point-unknown-choice",
            set(d(), &["recoveryPoint"], json!({"choice": "newest"})),
            K::UnknownKind,
            "recoveryPoint.choice",
            None,
        ),
        req(
            "recovery-point-missing-choice",
            set(d(), &["recoveryPoint"], json!({"id": "x"})),
            K::MissingField,
            "recoveryPoint.choice",
            None,
        ),
        req(
            "recovery-point-missing-id",
            set(d(), &["recoveryPoint"], json!({"choice": "id"})),
            K::MissingField,
            "recoveryPoint.id",
            None,
        ),
        req(
            "recovery-point-full-arm-id",
            set(d(), &["recoveryPoint"], json!({"choice": "id", "id": format!("{}/recoveryPoints/a3d0", bi())})),
            K::InvalidValue,
            "recoveryPoint.id",
            Some("recoveryPointIdFormat"),
        ),
        req(
            "recovery-point-bad-time",
            set(d(), &["recoveryPoint"], json!({"choice": "latestAtOrBefore", "time": "yesterday"})),
            K::InvalidValue,
            "recoveryPoint.time",
            None,
        ),
        req(
            "recovery-point-extra-field",
            set(d(), &["recoveryPoint"], json!({"choice": "latest", "id": "x"})),
            K::UnknownField,
            "recoveryPoint.id",
            None,
        ),
        req(
            "recovery-point-string",
            set(d(), &["recoveryPoint"], json!("latest")),
            K::WrongType,
            "recoveryPoint",
            None,
        ),
        // options
        req(
            "options-typo",
            set(d(), &["options"], json!({"validate_only": true})),
            K::UnknownField,
            "options.validate_only",
            None,
        ),
        req(
            "options-validate-only-string",
            set(d(), &["options"], json!({"validateOnly": "true"})),
            K::WrongType,
            "options.validateOnly",
            None,
        ),
        req(
            "options-bad-deadline",
            set(d(), &["options"], json!({"deadline": "tomorrow 9am"})),
            K::InvalidValue,
            "options.deadline",
            None,
        ),
        req(
            "options-bad-tag-name",
            set(d(), &["options"], json!({"tags": {"a/b": "c"}})),
            K::InvalidValue,
            "options.tags.a/b",
            Some("tagFormat"),
        ),
        req(
            "options-tag-value-number",
            set(d(), &["options"], json!({"tags": {"cost": 5}})),
            K::WrongType,
            "options.tags.cost",
            None,
        ),
        // alerts
        raw(
            "alert-other-schema",
            bytes(&json!({"schemaId": "Microsoft.Insights/activityLogs", "data": {}})),
            K::InvalidAlert,
            "schemaId",
            None,
        ),
        raw(
            "alert-missing-essentials",
            bytes(&json!({"schemaId": "azureMonitorCommonAlertSchema", "data": {"alertContext": {}}})),
            K::InvalidAlert,
            "data.essentials",
            None,
        ),
        raw(
            "alert-bad-monitor-condition",
            bytes(
                &json!({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {"alertId": "a", "alertRule": "r", "monitorCondition": "Firing"}}}),
            ),
            K::InvalidAlert,
            "data.essentials.monitorCondition",
            None,
        ),
        raw(
            "alert-duplicate-key",
            twice(
                &json!({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {"alertId": "a",
                        "alertRule": "backup-failed", "monitorCondition": "Fired"}}}),
                &["data", "essentials", "alertRule"],
                json!("restore-everything"),
            ),
            K::DuplicateKey,
            "data.essentials.alertRule",
            None,
        ),
        // policy
        pol(
            "policy-replace-disks-not-allowed",
            json!({"version": "1", "source": source(), "operation": {"kind": "vmReplaceDisks", "protectedItemId": pi(), "stagingStorageAccountId": SA}}),
            Some(restrictive_policy()),
            0,
            PolicyRule::ReplaceDisksNotAllowed,
        ),
        pol("policy-delete-data-not-allowed", stop(true), None, 0, PolicyRule::DeleteBackupDataNotAllowed),
        pol("policy-kind-not-allowed", configure(), Some(restrictive_policy()), 0, PolicyRule::KindNotAllowed),
        pol(
            "policy-vault-not-listed",
            op_id(
                &["operation", "backupInstanceId"],
                format!(
                    "/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-other/backupInstances/x"
                ),
            ),
            None,
            0,
            PolicyRule::VaultNotAllowed,
        ),
        pol("policy-empty-refuses-every-vault", d(), Some("{}".into()), 0, PolicyRule::VaultNotAllowed),
        pol(
            "policy-target-group-not-allowed",
            op_id(&["operation", "targetResourceGroupId"], format!("/subscriptions/{SUB}/resourceGroups/rg-app")),
            None,
            0,
            PolicyRule::TargetResourceGroupNotAllowed,
        ),
        pol(
            "policy-staging-account-not-allowed",
            set(
                vm_restore_disks(),
                &["operation", "stagingStorageAccountId"],
                json!(format!(
                    "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/other"
                )),
            ),
            None,
            0,
            PolicyRule::StagingStorageAccountNotAllowed,
        ),
        pol("policy-concurrency-limit", d(), None, 3, PolicyRule::ConcurrencyLimit),
    ]
}

fn restrictive_policy_value() -> Value {
    json!({
        "allowedVaults": [BV, RSV],
        "allowedTargetResourceGroups": [{"subscription": SUB, "resourceGroups": [RG_RESTORE]}],
        "allowedStagingStorageAccounts": [SA]
    })
}

/// A policy with the defaults for everything but the vaults, groups and staging account: no replace-disks, no
/// protection kinds.
fn restrictive_policy() -> String {
    restrictive_policy_value().to_string()
}
