//! The checks a drill runs on what it restored, as pure functions over what Azure answered (the drill function
//! does the GETs). Each check records what it read, so the evidence pack shows why it passed or failed.
//!
//! What they prove and what they do not (docs/drills.md): they prove that Azure restored resources with the
//! expected shape (a disk of the source's size, SKU and encryption; a VM that provisioned, runs and whose agent
//! reports ready, with boot diagnostics). None of them reads the data: a corrupt file system on a disk of the
//! right size passes. A Run Command or a webhook check is what looks inside.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One check's result and what it read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckResult {
    /// The check (`diskExists`, `diskMatchesSource`, `vmProvisioned`, `vmRunning`, `vmAgentReady`,
    /// `bootDiagnostics`, `runCommand`, `webhook`).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// How long it took, in milliseconds (across ticks for checks that wait).
    pub duration_ms: u64,
    /// What was read: the fields and values compared, the statuses seen.
    pub evidence: String,
}

impl CheckResult {
    fn new(name: &str, passed: bool, evidence: String) -> CheckResult {
        CheckResult { name: name.to_string(), passed, duration_ms: 0, evidence }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "absent".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A restored disk against its source (as of now: Azure exposes no disk properties on a disk recovery point).
/// Compared: `properties.diskSizeGB`, `sku.name`, `properties.encryption.type`; `properties.provisioningState`
/// must be `Succeeded`. Without the source (it no longer exists), only existence and provisioning are checked,
/// and the evidence says so.
pub fn disk_checks(restored: &Value, source: Option<&Value>) -> Vec<CheckResult> {
    let state = &restored["properties"]["provisioningState"];
    let exists = CheckResult::new(
        "diskExists",
        state.as_str() == Some("Succeeded"),
        format!("GET disk: provisioningState {}", text(state)),
    );
    let Some(source) = source else {
        return vec![
            exists,
            CheckResult::new(
                "diskMatchesSource",
                true,
                "the source disk no longer exists: nothing to compare against (size, SKU, encryption not checked)"
                    .into(),
            ),
        ];
    };
    let fields =
        [("diskSizeGB", "/properties/diskSizeGB"), ("sku", "/sku/name"), ("encryption", "/properties/encryption/type")];
    let mut matches = true;
    let compared: Vec<String> = fields
        .iter()
        .map(|(name, pointer)| {
            let (got, want) =
                (restored.pointer(pointer).unwrap_or(&Value::Null), source.pointer(pointer).unwrap_or(&Value::Null));
            let same = got == want;
            matches &= same;
            format!("{name} {} {} {}", text(got), if same { "=" } else { "≠" }, text(want))
        })
        .collect();
    vec![exists, CheckResult::new("diskMatchesSource", matches, format!("restored vs source: {}", compared.join("; ")))]
}

/// What the VM checks concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmVerdict {
    /// Every check passed.
    Passed(Vec<CheckResult>),
    /// A check failed for good.
    Failed(Vec<CheckResult>),
    /// The agent is not ready yet and its timeout has not passed: look again on a later tick.
    Wait(Vec<CheckResult>),
}

/// A new VM's checks from its GET (`vm`) and instance view (`view`): provisioned, running, agent ready, boot
/// diagnostics on. `agent_timed_out`: whether the plan's agent timeout has passed since the restore ended.
pub fn vm_checks(vm: &Value, view: &Value, agent_timed_out: bool) -> VmVerdict {
    let provisioning = &vm["properties"]["provisioningState"];
    let statuses: Vec<String> = view["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["code"].as_str().map(str::to_string))
        .collect();
    let agent: Vec<String> = view["vmAgent"]["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["displayStatus"].as_str().or(s["code"].as_str()).map(str::to_string))
        .collect();
    let boot = &vm["properties"]["diagnosticsProfile"]["bootDiagnostics"]["enabled"];
    let provisioned = provisioning.as_str() == Some("Succeeded");
    let running = statuses.iter().any(|c| c.eq_ignore_ascii_case("PowerState/running"));
    let ready = agent.iter().any(|s| s.eq_ignore_ascii_case("Ready"));
    let checks = vec![
        CheckResult::new("vmProvisioned", provisioned, format!("GET VM: provisioningState {}", text(provisioning))),
        CheckResult::new("vmRunning", running, format!("instanceView statuses: {}", statuses.join(", "))),
        CheckResult::new(
            "vmAgentReady",
            ready,
            format!("instanceView vmAgent: {}", if agent.is_empty() { "no status".into() } else { agent.join(", ") }),
        ),
        CheckResult::new(
            "bootDiagnostics",
            boot.as_bool() == Some(true),
            format!("bootDiagnostics.enabled {}", text(boot)),
        ),
    ];
    let failed_for_good = !provisioned
        || checks.iter().any(|c| !c.passed && c.name != "vmAgentReady" && c.name != "vmRunning")
        || (!(running && ready) && agent_timed_out);
    if checks.iter().all(|c| c.passed) {
        VmVerdict::Passed(checks)
    } else if failed_for_good {
        VmVerdict::Failed(checks)
    } else {
        VmVerdict::Wait(checks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disk(size: u32, sku: &str) -> Value {
        json!({"sku": {"name": sku}, "properties": {"provisioningState": "Succeeded", "diskSizeGB": size, "encryption": {"type": "EncryptionAtRestWithPlatformKey"}}})
    }

    #[test]
    fn a_disk_matches_its_source_field_by_field() {
        let checks = disk_checks(&disk(64, "Premium_LRS"), Some(&disk(64, "Premium_LRS")));
        assert!(checks.iter().all(|c| c.passed), "{checks:#?}");
        assert!(checks[1].evidence.contains("diskSizeGB 64 = 64"), "{}", checks[1].evidence);
        let other = disk_checks(&disk(64, "Standard_LRS"), Some(&disk(64, "Premium_LRS")));
        assert!(!other[1].passed && other[1].evidence.contains("sku Standard_LRS ≠ Premium_LRS"), "{other:#?}");
        let failed = disk_checks(&json!({"properties": {"provisioningState": "Failed"}}), None);
        assert!(!failed[0].passed);
        assert!(failed[1].evidence.contains("no longer exists"));
    }

    fn vm(state: &str) -> Value {
        json!({"properties": {"provisioningState": state, "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}}}})
    }

    fn view(power: &str, agent: &str) -> Value {
        json!({"statuses": [{"code": "ProvisioningState/succeeded"}, {"code": power}], "vmAgent": {"statuses": [{"code": "ProvisioningState/succeeded", "displayStatus": agent}]}})
    }

    #[test]
    fn a_vm_passes_waits_for_its_agent_or_fails() {
        assert!(matches!(
            vm_checks(&vm("Succeeded"), &view("PowerState/running", "Ready"), false),
            VmVerdict::Passed(_)
        ));
        assert!(matches!(
            vm_checks(&vm("Succeeded"), &view("PowerState/running", "Not Ready"), false),
            VmVerdict::Wait(_)
        ));
        assert!(matches!(
            vm_checks(&vm("Succeeded"), &view("PowerState/running", "Not Ready"), true),
            VmVerdict::Failed(_)
        ));
        assert!(matches!(vm_checks(&vm("Failed"), &view("PowerState/running", "Ready"), false), VmVerdict::Failed(_)));
        let VmVerdict::Failed(checks) = vm_checks(&vm("Succeeded"), &view("PowerState/stopped", "Not Ready"), true)
        else {
            panic!("a stopped VM past its timeout fails")
        };
        assert!(checks.iter().any(|c| c.name == "vmRunning" && c.evidence.contains("PowerState/stopped")));
    }
}
