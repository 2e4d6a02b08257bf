//! Conformance against the Azure REST API spec example files in `shared/conformance`.
//!
//! Every manifest entry must have a row in [`OPERATIONS`]. Request bodies are parsed and
//! re-serialised; the result must equal the original minus its `null` members, apart from the
//! differences listed in [`INTENTIONAL_DIFFERENCES`] (which must all still occur). Every
//! response body is parsed into its model, and its re-serialised form must be contained in the
//! original (no invented or renamed fields). Header values must be text or numbers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{Check, check, diff, not_subset, pointers_of_key, strip_nulls};
use restore_models::wire::{ResourceList, collect_unmodelled};
use restore_models::{crr, dataprotection as dpp, recoveryservices as rsv};
use serde_json::Value;

/// One operation: its body parameter (name, model) and the model of each response status.
struct Operation {
    id: &'static str,
    body: Option<(&'static str, Check)>,
    /// The body parameter may be left out (e.g. `stopProtection` without MUA).
    body_optional: bool,
    responses: &'static [(&'static str, Check)],
}

const fn op(
    id: &'static str,
    body: Option<(&'static str, Check)>,
    responses: &'static [(&'static str, Check)],
) -> Operation {
    Operation { id, body, body_optional: false, responses }
}

/// An operation whose body parameter is optional.
const fn op_optional_body(
    id: &'static str,
    body: (&'static str, Check),
    responses: &'static [(&'static str, Check)],
) -> Operation {
    Operation { id, body: Some(body), body_optional: true, responses }
}

/// The one place where intentional request round-trip differences are listed:
/// (example file relative to `azure-rest-api-specs/`, JSON pointer into the body, reason).
/// `null` members are always removed from the original before comparing and need no entry.
const INTENTIONAL_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "recoveryservicesbackup-crr/AzureIaasVm/ListCrrJobs_Post.json",
    "/jobName",
    "the example sends a CrrJobRequest; the backupCrrJobs body is {resourceId} (reference §4.1), \
     so jobName is not modelled and only round-trips through the Extra bag",
)];

const OPERATIONS: &[Operation] = &[
    // ---- Microsoft.DataProtection -----------------------------------------------------------
    op(
        "BackupInstances_CreateOrUpdate",
        Some(("parameters", check::<dpp::BackupInstanceResource>)),
        &[("200", check::<dpp::BackupInstanceResource>), ("201", check::<dpp::BackupInstanceResource>)],
    ),
    op("BackupInstances_Delete", None, &[]),
    op("BackupInstances_Get", None, &[("200", check::<dpp::BackupInstanceResource>)]),
    op("BackupInstances_GetBackupInstanceOperationResult", None, &[("200", check::<dpp::BackupInstanceResource>)]),
    op("BackupInstances_List", None, &[("200", check::<dpp::BackupInstanceResourceList>)]),
    op_optional_body("BackupInstances_StopProtection", ("parameters", check::<dpp::StopProtectionRequest>), &[]),
    op(
        "BackupInstances_TriggerCrossRegionRestore",
        Some(("parameters", check::<dpp::CrossRegionRestoreRequestObject>)),
        &[("200", check::<dpp::OperationExtendedInfo>)],
    ),
    op(
        "BackupInstances_TriggerRestore",
        Some(("parameters", check::<dpp::AzureBackupRestoreRequest>)),
        &[("200", check::<dpp::OperationExtendedInfo>)],
    ),
    op(
        "BackupInstances_ValidateCrossRegionRestore",
        Some(("parameters", check::<dpp::ValidateCrossRegionRestoreRequestObject>)),
        &[("200", check::<dpp::OperationExtendedInfo>)],
    ),
    op(
        "BackupInstances_ValidateForBackup",
        Some(("parameters", check::<dpp::ValidateForBackupRequest>)),
        &[("200", check::<dpp::OperationExtendedInfo>)],
    ),
    op(
        "BackupInstances_ValidateForRestore",
        Some(("parameters", check::<dpp::ValidateRestoreRequestObject>)),
        &[("200", check::<dpp::OperationExtendedInfo>)],
    ),
    op("BackupVaults_Get", None, &[("200", check::<dpp::BackupVaultResource>)]),
    op(
        "FetchCrossRegionRestoreJob_Get",
        Some(("parameters", check::<dpp::CrossRegionRestoreJobRequest>)),
        &[("200", check::<dpp::AzureBackupJobResource>)],
    ),
    op(
        "FetchCrossRegionRestoreJobs_List",
        Some(("parameters", check::<dpp::CrossRegionRestoreJobsRequest>)),
        &[("200", check::<dpp::AzureBackupJobResourceList>)],
    ),
    op(
        "FetchSecondaryRecoveryPoints_List",
        Some(("parameters", check::<dpp::FetchSecondaryRPsRequestParameters>)),
        &[("200", check::<dpp::AzureBackupRecoveryPointResourceList>)],
    ),
    op("Jobs_Get", None, &[("200", check::<dpp::AzureBackupJobResource>)]),
    op("Jobs_List", None, &[("200", check::<dpp::AzureBackupJobResourceList>)]),
    op("OperationResult_Get", None, &[("200", check::<dpp::OperationExtendedInfo>)]),
    op("OperationStatusBackupVaultContext_Get", None, &[("200", check::<dpp::OperationResource>)]),
    op("OperationStatusResourceGroupContext_Get", None, &[("200", check::<dpp::OperationResource>)]),
    op("OperationStatus_Get", None, &[("200", check::<dpp::OperationResource>)]),
    op(
        "RecoveryPoints_Get",
        None,
        &[
            // Same operationId in DPP and RSV/CRR: the model is chosen per provider below.
            ("200", check_recovery_point),
        ],
    ),
    op("RecoveryPoints_List", None, &[("200", check_recovery_point_list)]),
    op(
        "RestorableTimeRanges_Find",
        Some(("parameters", check::<dpp::AzureBackupFindRestorableTimeRangesRequest>)),
        &[("200", check::<dpp::AzureBackupFindRestorableTimeRangesResponseResource>)],
    ),
    // ---- Microsoft.RecoveryServices ---------------------------------------------------------
    op("BackupJobs_List", None, &[("200", check::<rsv::JobResourceList>)]),
    op("BackupOperationResults_Get", None, &[]),
    op("BackupOperationStatuses_Get", None, &[("200", check::<rsv::OperationStatus>)]),
    op("BackupProtectedItems_List", None, &[("200", check::<rsv::ProtectedItemResourceList>)]),
    op("BackupResourceStorageConfigsNonCRR_Get", None, &[("200", check::<rsv::BackupResourceConfigResource>)]),
    op("JobCancellations_Trigger", None, &[]),
    op("JobDetails_Get", None, &[("200", check::<rsv::JobResource>)]),
    op("JobOperationResults_Get", None, &[]),
    op(
        "Operation_Validate",
        Some(("parameters", check::<rsv::ValidateOperationRequestResource>)),
        &[("200", check::<rsv::ValidateOperationsResponse>)],
    ),
    op("ProtectedItemOperationResults_Get", None, &[("200", check::<rsv::ProtectedItemResource>)]),
    op("ProtectedItemOperationStatuses_Get", None, &[("200", check::<rsv::OperationStatus>)]),
    op(
        "ProtectedItems_CreateOrUpdate",
        Some(("parameters", check::<rsv::ProtectedItemResource>)),
        &[("200", check::<rsv::ProtectedItemResource>)],
    ),
    op("ProtectedItems_Delete", None, &[]),
    op("ProtectedItems_Get", None, &[("200", check::<rsv::ProtectedItemResource>)]),
    op("Restores_Trigger", Some(("parameters", check::<rsv::RestoreRequestResource>)), &[]),
    op("ValidateOperationResults_Get", None, &[("200", check::<rsv::ValidateOperationsResponse>)]),
    op("ValidateOperationStatuses_Get", None, &[("200", check::<rsv::OperationStatus>)]),
    op("ValidateOperation_Trigger", Some(("parameters", check::<rsv::ValidateOperationRequestResource>)), &[]),
    // ---- Cross Region Restore (passive stamp) -----------------------------------------------
    op("AadProperties_Get", None, &[("200", check::<crr::AadPropertiesResource>)]),
    op(
        "BackupCrrJobDetails_Get",
        Some(("parameters", check::<crr::CrrJobRequest>)),
        &[("200", check::<crr::JobResource>)],
    ),
    op(
        "BackupCrrJobs_List",
        Some(("parameters", check::<crr::CrrJobsRequest>)),
        &[("200", check::<crr::JobResourceList>)],
    ),
    op("BackupProtectedItemsCrr_List", None, &[("200", check::<crr::ProtectedItemResourceList>)]),
    op("BackupResourceStorageConfigs_Get", None, &[("200", check::<rsv::BackupResourceConfigResource>)]),
    op("CrossRegionRestore_Trigger", Some(("parameters", check::<crr::CrossRegionRestoreRequest>)), &[]),
    op(
        "CrrOperationResults_Get",
        // The example carries a body on a GET; the route ignores it.
        Some(("parameters", check::<crr::CrrJobsRequest>)),
        &[],
    ),
    op(
        "CrrOperationStatus_Get",
        Some(("parameters", check::<crr::CrrJobsRequest>)),
        &[("200", check::<crr::OperationStatus>)],
    ),
    op("RecoveryPointsCrr_Get", None, &[("200", check::<crr::RecoveryPointResource>)]),
    op("RecoveryPointsCrr_List", None, &[("200", check::<crr::RecoveryPointResourceList>)]),
    op(
        "RecoveryPoints_GetAccessToken",
        Some(("parameters", check::<crr::AadPropertiesResource>)),
        &[("200", check::<crr::CrrAccessTokenResource>)],
    ),
];

/// `RecoveryPoints_Get` exists in DPP and RSV: pick the model from the resource type.
fn check_recovery_point(v: &Value) -> Result<Value, String> {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or_default();
    if ty.to_ascii_lowercase().starts_with("microsoft.dataprotection") {
        check::<dpp::AzureBackupRecoveryPointResource>(v)
    } else {
        check::<rsv::RecoveryPointResource>(v)
    }
}

/// `RecoveryPoints_List` exists in DPP and RSV: pick the model from the first item's type.
fn check_recovery_point_list(v: &Value) -> Result<Value, String> {
    let first = v.pointer("/value/0").cloned().unwrap_or(Value::Null);
    let ty = first.get("type").and_then(Value::as_str).unwrap_or_default();
    if ty.to_ascii_lowercase().starts_with("microsoft.dataprotection") {
        check::<ResourceList<dpp::AzureBackupRecoveryPointResource>>(v)
    } else {
        check::<ResourceList<rsv::RecoveryPointResource>>(v)
    }
}

fn conformance_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    assert!(
        dir.join("manifest.json").is_file(),
        "conformance corpus missing: expected {} (CI checks out ../shared beside the repository)",
        dir.join("manifest.json").display()
    );
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}

fn manifest() -> Vec<Value> {
    let dir = conformance_dir();
    match read_json(&dir.join("manifest.json")) {
        Value::Array(entries) => entries,
        other => panic!("manifest.json is not an array: {other}"),
    }
}

fn text(entry: &Value, field: &str) -> String {
    entry
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("manifest entry without {field}: {entry}"))
        .to_owned()
}

/// Header values are text; `Retry-After` may be a JSON number and must be whole seconds.
fn check_headers(headers: &Value, where_: &str, failures: &mut Vec<String>) -> usize {
    let Some(map) = headers.as_object() else {
        failures.push(format!("{where_}: headers is not an object"));
        return 0;
    };
    for (name, value) in map {
        let as_text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                failures.push(format!("{where_}: header {name} is {other}"));
                continue;
            }
        };
        if name.eq_ignore_ascii_case("retry-after") && as_text.trim().parse::<u64>().is_err() {
            failures.push(format!("{where_}: Retry-After {as_text:?} is not whole seconds"));
        }
    }
    map.len()
}

#[test]
fn spec_examples_conform() {
    let dir = conformance_dir();
    let table: BTreeMap<&str, &Operation> = OPERATIONS.iter().map(|o| (o.id, o)).collect();
    assert_eq!(table.len(), OPERATIONS.len(), "duplicate operationId in OPERATIONS");

    let mut failures = Vec::new();
    let mut used_differences = BTreeSet::new();
    let (mut files, mut requests, mut responses, mut headers) = (0, 0, 0, 0);
    let mut seen_ops = BTreeSet::new();

    for entry in manifest() {
        let rel = text(&entry, "file");
        let op_id = text(&entry, "operationId");
        let short = rel.trim_start_matches("azure-rest-api-specs/");
        let Some(operation) = table.get(op_id.as_str()) else {
            failures.push(format!("{rel}: operationId {op_id} has no entry in OPERATIONS"));
            continue;
        };
        seen_ops.insert(operation.id);
        let example = read_json(&dir.join(&rel));
        files += 1;
        if let Some(file_op) = example.get("operationId").and_then(Value::as_str)
            && file_op != op_id
        {
            failures.push(format!("{rel}: file says {file_op}, manifest says {op_id}"));
        }
        let params = example.get("parameters").cloned().unwrap_or(Value::Null);

        // ---- request body
        match operation.body {
            Some((name, model)) => match params.get(name) {
                None if operation.body_optional => {}
                None => failures.push(format!("{rel}: body parameter {name:?} missing")),
                Some(body) => {
                    requests += 1;
                    let original = strip_nulls(body);
                    let (result, unmodelled) = collect_unmodelled(|| model(body));
                    match result {
                        Err(e) => failures.push(format!("{rel}: request: {e}")),
                        Ok(written) => {
                            let mut pointers = diff(&original, &written);
                            for key in unmodelled {
                                pointers.extend(pointers_of_key(&original, &key));
                            }
                            pointers.sort();
                            pointers.dedup();
                            for p in pointers {
                                let allowed =
                                    INTENTIONAL_DIFFERENCES.iter().position(|(f, ptr, _)| *f == short && *ptr == p);
                                match allowed {
                                    Some(i) => {
                                        used_differences.insert(i);
                                    }
                                    None => failures.push(format!(
                                        "{rel}: request differs or is unmodelled at {p}: \
                                         original {:?}, written {:?}",
                                        original.pointer(&p),
                                        written.pointer(&p)
                                    )),
                                }
                            }
                        }
                    }
                }
            },
            None => {
                for (name, value) in params.as_object().into_iter().flatten() {
                    if value.is_object() || value.is_array() {
                        failures
                            .push(format!("{rel}: parameter {name:?} looks like a body but {op_id} has no body model"));
                    }
                }
            }
        }

        // ---- responses
        let Some(resps) = example.get("responses").and_then(Value::as_object) else {
            failures.push(format!("{rel}: no responses"));
            continue;
        };
        for (status, resp) in resps {
            if let Some(h) = resp.get("headers") {
                headers += check_headers(h, &format!("{rel} {status}"), &mut failures);
            }
            let Some(body) = resp.get("body") else {
                continue;
            };
            let Some((_, model)) = operation.responses.iter().find(|(s, _)| s == status) else {
                failures.push(format!("{rel}: no model for response {status}"));
                continue;
            };
            responses += 1;
            match model(body) {
                Err(e) => failures.push(format!("{rel}: response {status}: {e}")),
                Ok(written) => {
                    for p in not_subset(&written, &strip_nulls(body)) {
                        failures.push(format!(
                            "{rel}: response {status} re-serialised with a field not in the \
                             original at {p}"
                        ));
                    }
                }
            }
        }
    }

    for (i, (file, pointer, reason)) in INTENTIONAL_DIFFERENCES.iter().enumerate() {
        if !used_differences.contains(&i) {
            failures.push(format!("stale intentional difference {file} {pointer} ({reason})"));
        }
    }
    for o in OPERATIONS {
        if !seen_ops.contains(o.id) {
            failures.push(format!("OPERATIONS row {} matches no manifest entry", o.id));
        }
    }

    println!(
        "conformance: checked {files} example files, {requests} request bodies round-tripped, \
         {responses} response bodies parsed, {headers} header values read as text"
    );
    assert!(failures.is_empty(), "{} conformance failure(s):\n{}", failures.len(), failures.join("\n"));
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.insert(path);
        }
    }
}

#[test]
fn every_example_file_is_in_the_manifest() {
    let dir = conformance_dir();
    let mut on_disk = BTreeSet::new();
    walk(&dir.join("azure-rest-api-specs"), &mut on_disk);
    let listed: BTreeSet<PathBuf> = manifest().iter().map(|e| dir.join(text(e, "file"))).collect();
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(unlisted.is_empty(), "files not in manifest.json: {unlisted:?}");
    assert!(missing.is_empty(), "manifest entries without a file: {missing:?}");
    assert!(!on_disk.is_empty(), "no example files under {}", dir.display());
}
