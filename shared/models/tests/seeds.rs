//! The JSON bodies of the seed articles (tests/fixtures/seeds) parse into their models.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Check, check};
use restore_models::crr;
use restore_models::dataprotection as dpp;
use restore_models::error::CloudError;
use restore_models::recoveryservices::{self as rsv, RecoveryType};
use restore_models::wire::{JobState, OperationState, OperationStatusBody};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Every fixture: (file, JSON pointer of the body inside the file, model).
const SEEDS: &[(&str, &str, Check)] = &[
    // 000: restore Azure disks (Data Protection).
    ("000_recovery-points-list.json", "", check::<dpp::AzureBackupRecoveryPointResourceList>),
    ("000_restore-request-prepare.json", "", check::<dpp::ValidateRestoreRequestObject>),
    ("000_validate-restore-request.json", "", check::<dpp::ValidateRestoreRequestObject>),
    ("000_operation-status-validate.json", "", check::<dpp::OperationResource>),
    ("000_restore-request.json", "", check::<dpp::AzureBackupRestoreRequest>),
    ("000_operation-status-restore.json", "", check::<dpp::OperationResource>),
    ("000_job.json", "", check::<dpp::AzureBackupJobResource>),
    // 002: restore Azure VMs (2018).
    ("002_recovery-points-list.json", "", check::<rsv::RecoveryPointResourceList>),
    ("002_restore-disks-request.json", "", check::<rsv::RestoreRequestResource>),
    ("002_operation-status.json", "", check::<rsv::OperationStatus>),
    ("002_alternate-location-example.json", "/parameters/parameters", check::<rsv::RestoreRequestResource>),
    // 003: restore Azure VMs (2025), incl. CRR.
    ("003_recovery-points-list.json", "", check::<rsv::RecoveryPointResourceList>),
    ("003_operation-status.json", "", check::<rsv::OperationStatus>),
    ("003_restore-disks-request.json", "", check::<rsv::RestoreRequestResource>),
    ("003_restore-disks-luns-request.json", "", check::<rsv::RestoreRequestResource>),
    ("003_replace-disks-request.json", "", check::<rsv::RestoreRequestResource>),
    ("003_alternate-location-request.json", "", check::<rsv::RestoreRequestResource>),
    ("003_recovery-points-list-2021.json", "", check::<crr::RecoveryPointResourceList>),
    ("003_aad-properties.json", "", check::<crr::AadPropertiesResource>),
    ("003_access-token-request.json", "", check::<crr::AadPropertiesResource>),
    ("003_access-token-response.json", "", check::<crr::CrrAccessTokenResource>),
    ("003_crr-request.json", "", check::<crr::CrossRegionRestoreRequest>),
    // 004: back up Azure disks (Data Protection).
    ("004_backup-instance-prepare.json", "", check::<dpp::ValidateForBackupRequest>),
    ("004_validate-for-backup-request.json", "", check::<dpp::ValidateForBackupRequest>),
    ("004_validate-for-backup-error.json", "", check::<CloudError>),
    ("004_operation-status-inprogress.json", "", check::<dpp::OperationResource>),
    ("004_operation-status-failed.json", "", check::<dpp::OperationResource>),
    ("004_operation-status-succeeded.json", "", check::<dpp::OperationResource>),
    ("004_backup-instance-request.json", "", check::<dpp::BackupInstanceResource>),
    ("004_backup-instance-created.json", "", check::<dpp::BackupInstanceResource>),
    ("004_operation-status-configure.json", "", check::<dpp::OperationResource>),
    ("004_operation-status-delete.json", "", check::<dpp::OperationResource>),
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds")
}

fn raw(file: &str, pointer: &str) -> Value {
    let path = dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let whole: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    whole.pointer(pointer).cloned().unwrap_or_else(|| panic!("{file}: nothing at {pointer:?}"))
}

fn load<T: DeserializeOwned>(file: &str) -> T {
    serde_json::from_value(raw(file, "")).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The one reader of operation statuses, over a fixture.
fn status_body(file: &str) -> OperationStatusBody {
    load(file)
}

#[test]
fn every_fixture_has_a_model_and_parses() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir().display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = SEEDS.iter().map(|(f, _, _)| (*f).to_owned()).collect();
    assert_eq!(listed.len(), SEEDS.len(), "duplicate fixture in SEEDS");
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(unlisted.is_empty(), "fixtures without a SEEDS entry: {unlisted:?}");
    assert!(missing.is_empty(), "SEEDS entries without a file: {missing:?}");

    let failures: Vec<String> = SEEDS
        .iter()
        .filter_map(|(file, pointer, model)| model(&raw(file, pointer)).err().map(|e| format!("{file}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("seeds: parsed {} fixtures", SEEDS.len());
}

#[test]
fn seed_000_disk_restore_flow() {
    let rps: dpp::AzureBackupRecoveryPointResourceList = load("000_recovery-points-list.json");
    assert_eq!(rps.value.len(), 2);
    let dpp::AzureBackupRecoveryPoint::Discrete(rp) = &rps.value[0].properties else {
        panic!("recovery point not typed");
    };
    assert_eq!(rp.recovery_point_id.as_deref(), Some("a3d02fc3ab8a4c3a8cc26688c26d3356"));
    assert!(rp.expires_at().is_some());

    // The article writes `"objectType": "restoreTargetInfo"` and `dataSourceInfo`.
    let validate: dpp::ValidateRestoreRequestObject = load("000_validate-restore-request.json");
    let dpp::AzureBackupRestoreRequest::RecoveryPointBased(req) = &validate.restore_request_object else {
        panic!("restore request not typed");
    };
    let dpp::RestoreTargetInfoBase::RestoreTargetInfo(target) = &req.restore_target_info else {
        panic!("lower-case restoreTargetInfo not recognised");
    };
    assert!(target.datasource_info.resource_id.ends_with("/disks/APITestDisk2"));
    let written = serde_json::to_value(&validate).unwrap_or_default();
    assert_eq!(
        written.pointer("/restoreRequestObject/restoreTargetInfo/objectType"),
        Some(&Value::from("RestoreTargetInfo"))
    );
    assert!(written.pointer("/restoreRequestObject/restoreTargetInfo/datasourceInfo").is_some());
    // The doc puts recoveryPointId beside restoreRequestObject: carried there, not lost.
    assert!(req.recovery_point_id.is_empty());
    assert!(validate.extra.contains_key("recoveryPointId"));
    assert!(written.pointer("/restoreRequestObject/recoveryPointId").is_none());
    assert_eq!(written.get("recoveryPointId"), Some(&Value::from("a3d02fc3ab8a4c3a8cc26688c26d3356")));

    let restore: dpp::AzureBackupRestoreRequest = load("000_restore-request.json");
    assert_eq!(restore.kind(), "AzureBackupRecoveryPointBasedRestoreRequest");
    let written = serde_json::to_value(&restore).unwrap_or_default();
    assert_eq!(written, raw("000_restore-request.json", ""));

    let validated: dpp::OperationResource = load("000_operation-status-validate.json");
    assert_eq!(validated.state(), OperationState::Succeeded);
    assert_eq!(status_body("000_operation-status-validate.json").job_id(), None);

    let _: dpp::OperationResource = load("000_operation-status-restore.json");
    let job_id = status_body("000_operation-status-restore.json").job_id();
    assert_eq!(job_id.as_deref(), Some("c4bd49a1-0645-4eec-b207-feb818962852"));

    let job: dpp::AzureBackupJobResource = load("000_job.json");
    assert_eq!(job.properties.state(), JobState::Completed);
    assert_eq!(job.properties.operation_category.as_deref(), Some("Restore"));
    assert!(job.properties.recovery_destination().is_some_and(|d| d.ends_with("/disks/APITestDisk2")));
    assert!(job.properties.ended_at().is_some());
}

fn iaas(file: &str) -> rsv::IaasVMRestoreRequest {
    let r: rsv::RestoreRequestResource = load(file);
    r.properties.iaas_vm().cloned().unwrap_or_else(|| panic!("{file}: restore request not typed"))
}

#[test]
fn seed_002_003_vm_restore_modes() {
    let disks = iaas("003_restore-disks-request.json");
    assert_eq!(disks.recovery_type, Some(RecoveryType::RestoreDisks));
    assert_eq!(disks.restore_disk_lun_list, None);
    let luns = iaas("003_restore-disks-luns-request.json");
    assert_eq!(luns.restore_disk_lun_list, Some(vec![0]));
    let replace = iaas("003_replace-disks-request.json");
    assert_eq!(replace.recovery_type, Some(RecoveryType::OriginalLocation));
    assert_eq!(replace.subnet_id, None);
    let alr = iaas("003_alternate-location-request.json");
    assert_eq!(alr.recovery_type, Some(RecoveryType::AlternateLocation));
    assert!(alr.target_virtual_machine_id.is_some() && alr.subnet_id.is_some());
    let old = iaas("002_restore-disks-request.json");
    assert_eq!(old.region.as_deref(), Some("westus"));
    let wrapped: rsv::RestoreRequestResource =
        serde_json::from_value(raw("002_alternate-location-example.json", "/parameters/parameters"))
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(!wrapped.properties.is_unknown());

    for file in ["002_operation-status.json", "003_operation-status.json"] {
        let op: rsv::OperationStatus = load(file);
        assert_eq!(op.state(), OperationState::Succeeded, "{file}");
        let job_id = status_body(file).job_id();
        assert_eq!(job_id.as_deref(), Some("3021262a-fb3a-4538-9b37-e3e97a386093"), "{file}");
    }

    let rps: rsv::RecoveryPointResourceList = load("003_recovery-points-list-2021.json");
    let rsv::RecoveryPoint::IaasVM(rp) = &rps.value[0].properties else {
        panic!("recovery point not typed");
    };
    assert!(rp.has_valid_tier(), "numeric tier status 1 means Valid");
    assert_eq!(rp.os_type.as_deref(), Some("Windows"));
}

#[test]
fn seed_003_cross_region_restore() {
    let aad: crr::AadPropertiesResource = load("003_aad-properties.json");
    assert!(aad.properties.audience.is_some());
    let token: crr::CrrAccessTokenResource = load("003_access-token-response.json");
    let fields = token.properties.fields().unwrap_or_else(|| panic!("token not typed"));
    assert_eq!(fields.bms_active_region.as_deref(), Some("EastUS"));
    assert_eq!(fields.rp_vm_size_description.as_deref(), Some("Standard_D2s_v3"));
    assert!(fields.recovery_point_time.as_ref().and_then(|t| t.datetime()).is_some());

    let req: crr::CrossRegionRestoreRequest = load("003_crr-request.json");
    assert_eq!(req.cross_region_restore_access_details.kind(), "CrrAccessToken");
    let restore = req.restore_request.iaas_vm().unwrap_or_else(|| panic!("not typed"));
    assert_eq!(restore.restore_disk_lun_list, Some(vec![]), "[] = OS disk only must survive");
    assert_eq!(restore.affinity_group.as_deref(), Some(""));
    let written = serde_json::to_value(&req).unwrap_or_default();
    assert_eq!(written.pointer("/restoreRequest/restoreDiskLunList"), Some(&Value::Array(vec![])));
}

#[test]
fn seed_004_disk_protection() {
    let prepare: dpp::ValidateForBackupRequest = load("004_validate-for-backup-request.json");
    let params = prepare
        .backup_instance
        .policy_info
        .policy_parameters
        .as_ref()
        .and_then(|p| p.data_store_parameters_list.as_ref())
        .unwrap_or_else(|| panic!("no data store parameters"));
    assert!(matches!(
        &params[0],
        dpp::DataStoreParameters::AzureOperationalStoreParameters(p)
            if p.resource_group_id.as_deref().is_some_and(|g| g.ends_with("/snapshot-rg"))
    ));

    let err: CloudError = load("004_validate-for-backup-error.json");
    let user = err.error.user_facing().unwrap_or_else(|| panic!("no UserFacingError"));
    assert_eq!(user.code.as_deref(), Some("UserErrorDppDatasourceAlreadyProtected"));
    assert_eq!(user.is_retryable, Some(false));
    assert_eq!(user.recommended_action.len(), 1);

    let running: dpp::OperationResource = load("004_operation-status-inprogress.json");
    assert_eq!(running.status.as_deref(), Some("Inprogress"));
    assert_eq!(running.state(), OperationState::InProgress);
    assert_eq!(running.ended_at(), None);

    let failed: dpp::OperationResource = load("004_operation-status-failed.json");
    assert_eq!(failed.state(), OperationState::Failed);
    let user = failed
        .error
        .as_ref()
        .and_then(|e| e.user_facing())
        .unwrap_or_else(|| panic!("no UserFacingError in failed status"));
    assert!(user.detailed_message().is_some_and(|m| m.contains("roleAssignments/read")));

    let created: dpp::BackupInstanceResource = load("004_backup-instance-created.json");
    assert_eq!(created.properties.current_protection_state.as_deref(), Some("ConfiguringProtection"));
    let request: dpp::BackupInstanceResource = load("004_backup-instance-request.json");
    assert_eq!(request.name.as_deref(), Some("msdiskbackup-2dc6eb5b-d008-4d68-9e49-7132d99da0ed"));
    assert_eq!(serde_json::to_value(&request).unwrap_or_default(), raw("004_backup-instance-request.json", ""));
}
