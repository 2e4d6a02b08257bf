//! Microsoft.DataProtection (Backup vault) handlers: recovery points, restore and its validation, async
//! operations, jobs, backup instances, and cross-region restore.
//!
//! Response bodies are `restore_models::dataprotection` types (recovery points, restorable time ranges, backup
//! instances, jobs, `OperationResource`, `OperationJobExtendedInfo`); request bodies are read with the same
//! models after the checks that give Azure's friendlier 400 messages.

use serde_json::{Value, json};
use time::Duration;

use crate::arm::{Ctx, parse_filter};
use restore_models::dataprotection as dp;
use restore_models::wire::{ArmResource, Timestamp};

use crate::error::{ApiError, ApiResponse, Dialect, parse_model, to_body};
use crate::util::{b64, fmt_time, guid, key, parse_time};
use crate::world::{
    BackupInstance, DppRecoveryPoint, Effect, InstanceState, Job, JobApi, OpEffect, OpScope, Operation, Outcome, Vault,
    rg_key,
};

const D: Dialect = Dialect::Dpp;

fn vault_id(ctx: &Ctx) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DataProtection/backupVaults/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("vault")
    )
}

fn vault<'a>(ctx: &'a Ctx) -> Result<&'a Vault, ApiError> {
    let id = vault_id(ctx);
    ctx.world.backup_vaults.get(&key(&id)).ok_or_else(|| ApiError::not_found(D, &id))
}

fn instance<'a>(ctx: &'a Ctx) -> Result<&'a BackupInstance, ApiError> {
    let id = format!("{}/backupInstances/{}", vault_id(ctx), ctx.p("bi"));
    ctx.world.instances.get(&key(&id)).ok_or_else(|| {
        ApiError::dpp(404, "UserErrorBackupInstanceNotFound", format!("The backup instance '{id}' was not found."))
    })
}

/// Looks a key up case-insensitively (Azure's deserialiser is case-insensitive: docs send `dataSourceInfo`).
pub fn get_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).filter(|v| !v.is_null())
}

fn str_ci<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    get_ci(v, name).and_then(Value::as_str)
}

fn norm_region(r: &str) -> String {
    r.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// A recovery point resource body (`AzureBackupRecoveryPointResource`).
pub fn rp_body(bi: &BackupInstance, rp: &DppRecoveryPoint) -> dp::AzureBackupRecoveryPointResource {
    let props = dp::AzureBackupDiscreteRecoveryPoint {
        recovery_point_id: Some(rp.id.clone()),
        recovery_point_time: Timestamp::new(fmt_time(rp.time)),
        recovery_point_type: Some(rp.kind.clone()),
        friendly_name: Some(guid()),
        recovery_point_data_stores_details: vec![dp::RecoveryPointDataStoreDetails {
            id: Some(guid()),
            store_type: Some("OperationalStore".into()),
            creation_time: Some(Timestamp::new(fmt_time(rp.time))),
            expiry_time: Some(Timestamp::new(fmt_time(rp.expiry))),
            visible: Some(true),
            state: Some(if rp.state == "Completed" { "COMMITTED" } else { "UNCOMMITTED" }.into()),
            ..Default::default()
        }],
        expiry_time: Some(Timestamp::new(fmt_time(rp.expiry))),
        recovery_point_state: Some(rp.state.clone()),
        policy_name: Some(bi.policy_name.clone()),
        policy_version: None,
        retention_tag_name: Some("Default".into()),
        retention_tag_version: Some("637607428336647408".into()),
    };
    ArmResource {
        id: Some(format!("{}/recoveryPoints/{}", bi.id, rp.id)),
        name: Some(rp.id.clone()),
        resource_type: Some("Microsoft.DataProtection/backupVaults/backupInstances/recoveryPoints".into()),
        ..ArmResource::new(dp::AzureBackupRecoveryPoint::Discrete(props))
    }
}

fn rp_filter(ctx: &Ctx) -> Result<(Option<time::OffsetDateTime>, Option<time::OffsetDateTime>), ApiError> {
    let Some(filter) = ctx.q("$filter") else { return Ok((None, None)) };
    let clauses = parse_filter(filter)
        .map_err(|e| ApiError::bad_request(D, "UserErrorInvalidRequestParameter", format!("Invalid $filter: {e}.")))?;
    let (mut start, mut end) = (None, None);
    for (k, v) in clauses {
        let t = parse_time(&v).ok_or_else(|| {
            ApiError::bad_request(
                D,
                "UserErrorInvalidRequestParameter",
                format!("Invalid $filter: '{v}' for {k} is not an RFC 3339 time like 2021-08-30T10:02:11.6354913Z."),
            )
        })?;
        match k.as_str() {
            "startdate" => start = Some(t),
            "enddate" => end = Some(t),
            other => {
                return Err(ApiError::bad_request(
                    D,
                    "UserErrorInvalidRequestParameter",
                    format!("Invalid $filter: '{other}' is not supported; use startDate and endDate."),
                ));
            }
        }
    }
    Ok((start, end))
}

/// GET …/recoveryPoints
pub fn recovery_points_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let (start, end) = rp_filter(ctx)?;
    let bi = instance(ctx)?;
    let items: Vec<_> = bi
        .recovery_points
        .iter()
        .filter(|rp| start.is_none_or(|s| rp.time >= s) && end.is_none_or(|e| rp.time <= e))
        .map(|rp| rp_body(bi, rp))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, D)?))
}

/// GET …/recoveryPoints/{rp}
pub fn recovery_point_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let bi = instance(ctx)?;
    let rp = bi.recovery_points.iter().find(|r| r.id.eq_ignore_ascii_case(ctx.p("rp"))).ok_or_else(|| {
        ApiError::dpp(404, "UserErrorRecoveryPointNotFound", format!("Recovery point '{}' was not found.", ctx.p("rp")))
    })?;
    ApiResponse::model(&rp_body(bi, rp))
}

/// POST …/findRestorableTimeRanges
pub fn find_restorable_time_ranges(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    if str_ci(&body, "sourceDataStoreType").is_none() {
        return Err(ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "sourceDataStoreType is required (OperationalStore for disks).",
        ));
    }
    let parse = |name: &str| -> Result<Option<time::OffsetDateTime>, ApiError> {
        match str_ci(&body, name) {
            None => Ok(None),
            Some(s) => parse_time(s).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    D,
                    "UserErrorInvalidRequestParameter",
                    format!("{name} '{s}' is not an RFC 3339 time."),
                )
            }),
        }
    };
    let (start, end) = (parse("startTime")?, parse("endTime")?);
    parse_model::<dp::AzureBackupFindRestorableTimeRangesRequest>(&body, "the findRestorableTimeRanges body", D)?;
    let bi = instance(ctx)?;
    let now = ctx.now;
    let usable: Vec<&DppRecoveryPoint> = bi
        .recovery_points
        .iter()
        .filter(|r| r.state == "Completed" && r.expiry > now)
        .filter(|r| start.is_none_or(|s| r.time >= s) && end.is_none_or(|e| r.time <= e))
        .collect();
    let restorable_time_ranges = match (usable.iter().map(|r| r.time).min(), usable.iter().map(|r| r.time).max()) {
        (Some(a), Some(b)) => vec![dp::RestorableTimeRange {
            start_time: Timestamp::new(fmt_time(a)),
            end_time: Timestamp::new(fmt_time(b)),
            object_type: Some("RestorableTimeRange".into()),
        }],
        _ => vec![],
    };
    let body: dp::AzureBackupFindRestorableTimeRangesResponseResource = ArmResource {
        id: Some(bi.name.clone()),
        resource_type: Some("Microsoft.DataProtection/backupVaults/backupInstances/findRestorableTimeRanges".into()),
        ..ArmResource::new(dp::AzureBackupFindRestorableTimeRangesResponse {
            object_type: Some("AzureBackupFindRestorableTimeRangesResponse".into()),
            restorable_time_ranges,
        })
    };
    ApiResponse::model(&body)
}

/// A checked disk restore request.
struct Plan {
    rp: DppRecoveryPoint,
    target_disk: String,
    target_rg_key: String,
    target_name: String,
}

/// Validates a restore request the way the service does (synchronous 400s).
fn check_restore(ctx: &Ctx, bi: &BackupInstance, req: &Value, expected_region: &str) -> Result<Plan, ApiError> {
    let bad = |msg: String| ApiError::bad_request(D, "UserErrorInvalidRequestParameter", msg);
    let object_type = str_ci(req, "objectType")
        .ok_or_else(|| bad("objectType is required: AzureBackupRecoveryPointBasedRestoreRequest".into()))?;
    if !object_type.eq_ignore_ascii_case("AzureBackupRecoveryPointBasedRestoreRequest") {
        return Err(bad(format!(
            "objectType '{object_type}' is not supported for Azure Disks; use AzureBackupRecoveryPointBasedRestoreRequest"
        )));
    }
    match str_ci(req, "sourceDataStoreType") {
        Some(s) if s.eq_ignore_ascii_case("OperationalStore") => {}
        Some(s) => {
            return Err(bad(format!(
                "sourceDataStoreType '{s}' is not supported for Azure Disks; use OperationalStore"
            )));
        }
        None => return Err(bad("sourceDataStoreType is required (OperationalStore)".into())),
    }
    let rp_id = str_ci(req, "recoveryPointId").ok_or_else(|| bad("recoveryPointId is required".into()))?;
    let rp = bi.recovery_points.iter().find(|r| r.id.eq_ignore_ascii_case(rp_id)).ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{rp_id}' does not exist for backup instance '{}'.", bi.name),
        )
    })?;
    if rp.expiry <= ctx.now {
        return Err(ApiError::bad_request(
            D,
            "UserErrorRecoveryPointExpired",
            format!("Recovery point '{rp_id}' expired at {}; choose a newer recovery point.", fmt_time(rp.expiry)),
        ));
    }
    if rp.state != "Completed" {
        return Err(ApiError::bad_request(
            D,
            "UserErrorRecoveryPointNotCommitted",
            format!(
                "Recovery point '{rp_id}' is in state {} and cannot be restored; choose a Completed recovery point.",
                rp.state
            ),
        ));
    }
    let target = get_ci(req, "restoreTargetInfo").ok_or_else(|| bad("restoreTargetInfo is required".into()))?;
    match str_ci(target, "objectType") {
        Some(t) if t.eq_ignore_ascii_case("RestoreTargetInfo") => {}
        other => return Err(bad(format!("restoreTargetInfo.objectType {other:?} must be RestoreTargetInfo"))),
    }
    match str_ci(target, "recoveryOption") {
        Some("FailIfExists") => {}
        other => return Err(bad(format!("restoreTargetInfo.recoveryOption {other:?} must be FailIfExists"))),
    }
    if let Some(loc) = str_ci(target, "restoreLocation")
        && norm_region(loc) != norm_region(expected_region)
    {
        return Err(bad(format!("restoreTargetInfo.restoreLocation '{loc}' must be '{expected_region}'")));
    }
    let ds =
        get_ci(target, "datasourceInfo").ok_or_else(|| bad("restoreTargetInfo.datasourceInfo is required".into()))?;
    let rid = str_ci(ds, "resourceID")
        .ok_or_else(|| bad("restoreTargetInfo.datasourceInfo.resourceID is required".into()))?;
    let segs: Vec<&str> = rid.trim_start_matches('/').split('/').collect();
    let is_disk = segs.len() == 8
        && segs[0].eq_ignore_ascii_case("subscriptions")
        && segs[2].eq_ignore_ascii_case("resourceGroups")
        && segs[4].eq_ignore_ascii_case("providers")
        && segs[5].eq_ignore_ascii_case("Microsoft.Compute")
        && segs[6].eq_ignore_ascii_case("disks")
        && segs.iter().all(|s| !s.is_empty());
    if !is_disk {
        return Err(bad(format!(
            "restoreTargetInfo.datasourceInfo.resourceID '{rid}' is not a managed disk id /subscriptions/{{s}}/resourceGroups/{{rg}}/providers/Microsoft.Compute/disks/{{name}}"
        )));
    }
    let rgk = rg_key(segs[1], segs[3]);
    if !ctx.world.resource_groups.contains_key(&rgk) {
        return Err(ApiError::bad_request(
            D,
            "UserErrorRestoreTargetRGNotFound",
            format!("The target resource group '{}' does not exist.", segs[3]),
        ));
    }
    parse_model::<dp::AzureBackupRestoreRequest>(req, "the restore request", D)?;
    Ok(Plan { rp: rp.clone(), target_disk: rid.to_string(), target_rg_key: rgk, target_name: segs[7].to_string() })
}

/// Conditions that Azure reports as a failed validation / failed job rather than a 400 ("validation fails if a
/// disk with the same name exists, if the MSI lost its roles, or if snapshots were moved or deleted").
fn blocking_condition(ctx: &Ctx, plan: &Plan) -> Option<(String, String)> {
    if ctx.world.disks.contains_key(&key(&plan.target_disk)) {
        return Some((
            "UserErrorSameNameDiskAlreadyExists".into(),
            format!(
                "A disk with name '{}' already exists in the target resource group; restore with FailIfExists cannot overwrite it.",
                plan.target_name
            ),
        ));
    }
    if let Some(rg) = ctx.world.resource_groups.get(&plan.target_rg_key)
        && !rg.has_disk_restore_operator(ctx.now)
    {
        return Some((
            "UserErrorDiskBackupRestoreRGOrMSIPermissionsNotPresent".into(),
            format!("The Backup vault's managed identity lacks Disk Restore Operator on resource group '{}'.", rg.name),
        ));
    }
    if plan.rp.snapshot_deleted {
        return Some((
            "UserErrorDiskSnapshotNotFound".into(),
            format!("The snapshot behind recovery point '{}' was deleted or moved.", plan.rp.id),
        ));
    }
    None
}

fn dpp_op_id() -> String {
    b64(format!("{};{}", guid(), guid()).as_bytes())
}

/// 202 headers for a location-scoped DPP operation.
fn accepted(ctx: &Ctx, sub: &str, location: &str, op: &str, retry_after: u64) -> ApiResponse {
    let v = ctx.header_api_version("2021-01-01");
    let base = format!(
        "{}/subscriptions/{sub}/providers/Microsoft.DataProtection/locations/{}",
        ctx.origin,
        location.to_ascii_lowercase()
    );
    let mut r = ApiResponse::empty(202)
        .header("Azure-AsyncOperation", format!("{base}/operationStatus/{op}?api-version={v}"))
        .header("Location", format!("{base}/operationResults/{op}?api-version={v}"));
    r = r.header("Retry-After", if ctx.world.quirks().retry_after_values { retry_after } else { 60 }.to_string());
    r
}

fn new_op(ctx: &Ctx, location: &str, delay: f64) -> Operation {
    Operation {
        id: dpp_op_id(),
        scope: OpScope::DppLocation,
        subscription: ctx.p("sub").to_string(),
        location: location.to_string(),
        start: ctx.now,
        done_at: ctx.now + Duration::seconds_f64(delay),
        job: None,
        error: None,
        effect: None,
        applied: false,
    }
}

fn validate_common(
    ctx: &mut Ctx,
    bi: BackupInstance,
    req: &Value,
    region: &str,
    op_location: &str,
) -> Result<ApiResponse, ApiError> {
    let plan = check_restore(ctx, &bi, req, region)?;
    let mut op = new_op(ctx, op_location, ctx.world.settings.validate_delay_seconds);
    if let Some((code, message)) = blocking_condition(ctx, &plan) {
        op.error = Some(ApiError::dpp(400, &code, message));
    }
    let id = ctx.world.add_operation(op);
    Ok(accepted(ctx, ctx.p("sub"), op_location, &id, 10))
}

/// POST …/validateRestore
pub fn validate_restore(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let req = get_ci(&body, "restoreRequestObject").cloned().ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "restoreRequestObject is required: {\"restoreRequestObject\": <the restore request>}",
        )
    })?;
    parse_model::<dp::ValidateRestoreRequestObject>(&body, "the validateRestore body", D)?;
    let bi = instance(ctx)?.clone();
    let location = vault(ctx)?.location.clone();
    validate_common(ctx, bi, &req, &location, &location)
}

fn trigger_common(
    ctx: &mut Ctx,
    bi: BackupInstance,
    req: &Value,
    region: &str,
    op_location: &str,
    crr: bool,
) -> Result<ApiResponse, ApiError> {
    let plan = check_restore(ctx, &bi, req, region)?;
    let v = ctx.world.backup_vaults.get(&bi.vault).cloned().ok_or_else(|| ApiError::not_found(D, &bi.vault))?;
    if let Some(limit) = v.max_concurrent_restores
        && ctx.world.running_restores(&bi.vault, ctx.now) >= limit
    {
        return Err(ApiError::bad_request(
            D,
            "UserErrorMaxConcurrentOperationLimitReached",
            format!(
                "The vault '{}' already runs {limit} restore operations; wait for one to finish and retry.",
                v.name
            ),
        )
        .retryable());
    }
    let mut outcome = ctx.world.rule_outcome(&plan.rp.id, &plan.target_name);
    if let Some((code, message)) = blocking_condition(ctx, &plan) {
        outcome = Outcome::Failed { code, message };
    }
    let duration = if crr {
        ctx.world.settings.job_durations.cross_region_restore
    } else {
        ctx.world.settings.job_durations.disk_restore
    };
    let size = ctx.world.disks.get(&key(&bi.disk_id)).map(|d| d.size_gb).unwrap_or(128);
    let target_location = ctx
        .world
        .resource_groups
        .get(&plan.target_rg_key)
        .map(|r| r.location.clone())
        .unwrap_or_else(|| region.to_string());
    let job = Job {
        guid: guid(),
        vault: bi.vault.clone(),
        api: if crr { JobApi::DppCrr } else { JobApi::Dpp },
        operation: if crr { "CrossRegionRestore".into() } else { "Restore".into() },
        start: ctx.now,
        end: ctx.now + Duration::seconds_f64(duration),
        outcome,
        effects: vec![Effect::CreateDisk { id: plan.target_disk.clone(), location: target_location, size_gb: size }],
        applied: false,
        source_id: bi.id.clone(),
        datasource_id: bi.disk_id.clone(),
        datasource_name: bi.disk_id.rsplit('/').next().unwrap_or_default().to_string(),
        recovery_point: Some((plan.rp.id.clone(), plan.rp.time)),
        destination: Some(plan.target_disk.clone()),
        details: Default::default(),
        restored: vec![],
    };
    let full = ctx.world.job_full_id(&job);
    let mut op = new_op(ctx, op_location, ctx.world.settings.operation_delay_seconds);
    op.job = Some((job.guid.clone(), full));
    ctx.world.jobs.push(job);
    let id = ctx.world.add_operation(op);
    Ok(accepted(ctx, ctx.p("sub"), op_location, &id, 30))
}

/// POST …/restore
pub fn restore(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let bi = instance(ctx)?.clone();
    let location = vault(ctx)?.location.clone();
    trigger_common(ctx, bi, &body, &location, &location, false)
}

fn op_status(ctx: &Ctx, status_id: String) -> Result<ApiResponse, ApiError> {
    let op = ctx.world.operation(ctx.p("sub"), ctx.p("op")).ok_or_else(|| {
        ApiError::dpp(404, "OperationNotFound", format!("Operation '{}' was not found.", ctx.p("op")))
    })?;
    ApiResponse::model(&ctx.world.dpp_operation_status(op, &status_id, ctx.now))
}

/// GET …/locations/{loc}/operationStatus/{op}
pub fn operation_status(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = format!(
        "/subscriptions/{}/providers/Microsoft.DataProtection/locations/{}/operationStatus/{}",
        ctx.p("sub"),
        ctx.p("loc"),
        ctx.p("op")
    );
    op_status(ctx, id)
}

/// GET {vault}/operationStatus/{op}
pub fn vault_operation_status(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    vault(ctx)?;
    let id = format!("{}/operationStatus/{}", vault_id(ctx), ctx.p("op"));
    op_status(ctx, id)
}

/// GET …/locations/{loc}/operationResults/{op}: 202 while running, 200 with the job id after.
pub fn operation_results(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let op = ctx.world.operation(ctx.p("sub"), ctx.p("op")).cloned().ok_or_else(|| {
        ApiError::dpp(404, "OperationNotFound", format!("Operation '{}' was not found.", ctx.p("op")))
    })?;
    if !op.done(ctx.now) {
        return Ok(accepted(ctx, &op.subscription, &op.location, &op.id, 10));
    }
    if let Some(e) = op.error {
        return Err(e);
    }
    let job_id =
        op.job.as_ref().map(|(guid, full)| if ctx.world.quirks().dpp_full_job_id { full } else { guid }.clone());
    ApiResponse::model(&dp::OperationExtendedInfo::OperationJobExtendedInfo(dp::OperationJobExtendedInfo { job_id }))
}

/// GET {vault}/backupJobs
pub fn jobs_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let items: Vec<_> = ctx
        .world
        .jobs
        .iter()
        .rev()
        .filter(|j| j.vault == v && j.api == JobApi::Dpp)
        .map(|j| ctx.world.dpp_job_body(j, ctx.now))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, D)?))
}

/// GET {vault}/backupJobs/{job}
pub fn job_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let job = ctx.world.job(ctx.p("job")).filter(|j| j.vault == v && j.api == JobApi::Dpp).ok_or_else(|| {
        ApiError::dpp(404, "UserErrorJobNotFound", format!("Job '{}' was not found in the vault.", ctx.p("job")))
    })?;
    ApiResponse::model(&ctx.world.dpp_job_body(job, ctx.now))
}

/// A backup instance resource body (`BackupInstanceResource`): the PUT body's properties (as parsed by the
/// model) or, for scenario instances, the properties Azure would show, plus the read-only protection state.
pub fn instance_body(bi: &BackupInstance) -> dp::BackupInstanceResource {
    let (status, provisioning) = match bi.state {
        InstanceState::Configuring => ("ConfiguringProtection", "Provisioning"),
        InstanceState::Configured => ("ProtectionConfigured", "Succeeded"),
        InstanceState::Deleting => ("SoftDeleting", "Deleting"),
        InstanceState::Stopped => ("ProtectionStopped", "Succeeded"),
    };
    let disk_name = bi.disk_id.rsplit('/').next().unwrap_or_default();
    let mut props = bi.put_properties.clone().unwrap_or_else(|| dp::BackupInstance {
        object_type: "BackupInstance".into(),
        friendly_name: Some(disk_name.to_string()),
        data_source_info: dp::Datasource {
            object_type: Some("Datasource".into()),
            datasource_type: Some("Microsoft.Compute/disks".into()),
            resource_id: bi.disk_id.clone(),
            resource_location: Some(bi.location.clone()),
            resource_name: Some(disk_name.to_string()),
            resource_type: Some("Microsoft.Compute/disks".into()),
            resource_uri: Some(bi.disk_id.clone()),
            ..Default::default()
        },
        policy_info: dp::PolicyInfo {
            policy_id: format!(
                "{}/backupPolicies/{}",
                bi.id.rsplit_once("/backupInstances/").map(|x| x.0).unwrap_or_default(),
                bi.policy_name
            ),
            policy_parameters: Some(dp::PolicyParameters {
                data_store_parameters_list: Some(vec![dp::DataStoreParameters::AzureOperationalStoreParameters(
                    dp::AzureOperationalStoreParameters {
                        data_store_type: "OperationalStore".into(),
                        resource_group_id: Some(bi.snapshot_rg_id.clone()),
                        ..Default::default()
                    },
                )]),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    props.protection_status = Some(dp::ProtectionStatusDetails { status: Some(status.into()), error_details: None });
    props.current_protection_state = Some(status.into());
    props.provisioning_state = Some(provisioning.into());
    ArmResource {
        id: Some(bi.id.clone()),
        name: Some(bi.name.clone()),
        resource_type: Some("Microsoft.DataProtection/backupVaults/backupInstances".into()),
        ..ArmResource::new(props)
    }
}

/// GET …/backupInstances/{bi}
pub fn instance_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    ApiResponse::model(&instance_body(instance(ctx)?))
}

/// GET {vault}/backupInstances
pub fn instance_list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = key(&vault(ctx)?.id);
    let items: Vec<_> = ctx.world.instances.values().filter(|b| b.vault == v).map(instance_body).collect();
    Ok(ApiResponse::ok(ctx.page(items, D)?))
}

/// Checks a `BackupInstance` (PUT properties or validateForBackup's backupInstance) and returns the disk id.
fn check_backup_instance(ctx: &Ctx, props: &Value, this_instance: Option<&str>) -> Result<String, ApiError> {
    let bad = |msg: String| ApiError::bad_request(D, "UserErrorInvalidRequestParameter", msg);
    let ds = get_ci(props, "dataSourceInfo").ok_or_else(|| bad("dataSourceInfo is required".into()))?;
    let disk = str_ci(ds, "resourceID")
        .ok_or_else(|| bad("dataSourceInfo.resourceID is required (the disk's ARM id)".into()))?;
    if !disk.to_ascii_lowercase().contains("/providers/microsoft.compute/disks/") {
        return Err(bad(format!("dataSourceInfo.resourceID '{disk}' is not a managed disk id")));
    }
    if get_ci(props, "policyInfo").and_then(|p| str_ci(p, "policyId")).is_none() {
        return Err(bad("policyInfo.policyId is required".into()));
    }
    if !ctx.world.disks.contains_key(&key(disk)) {
        return Err(ApiError::bad_request(
            D,
            "UserErrorManagedDiskNotFound",
            format!("The disk '{disk}' was not found."),
        ));
    }
    if let Some(other) =
        ctx.world.instances.values().find(|b| {
            b.disk_id.eq_ignore_ascii_case(disk) && this_instance.is_none_or(|t| !b.id.eq_ignore_ascii_case(t))
        })
    {
        return Err(ApiError::bad_request(
            D,
            "UserErrorDppDatasourceAlreadyProtected",
            format!("The disk '{disk}' is already protected by backup instance '{}'.", other.id),
        ));
    }
    Ok(disk.to_string())
}

/// POST {vault}/validateForBackup
pub fn validate_for_backup(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let location = vault(ctx)?.location.clone();
    let bi = get_ci(&body, "backupInstance").ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "backupInstance is required: {\"backupInstance\": {…}}",
        )
    })?;
    check_backup_instance(ctx, bi, None)?;
    parse_model::<dp::ValidateForBackupRequest>(&body, "the validateForBackup body", D)?;
    let op = new_op(ctx, &location, ctx.world.settings.validate_delay_seconds);
    let id = ctx.world.add_operation(op);
    Ok(accepted(ctx, ctx.p("sub"), &location, &id, 10))
}

fn vault_scoped_headers(ctx: &Ctx, op: &str, location: &str, r: ApiResponse) -> ApiResponse {
    let v = ctx.header_api_version("2021-01-01");
    let vault_base = format!("{}{}", ctx.origin, vault_id(ctx));
    let loc_base = format!(
        "{}/subscriptions/{}/providers/Microsoft.DataProtection/locations/{}",
        ctx.origin,
        ctx.p("sub"),
        location.to_ascii_lowercase()
    );
    r.header("Azure-AsyncOperation", format!("{vault_base}/operationStatus/{op}?api-version={v}"))
        .header("Location", format!("{loc_base}/operationResults/{op}?api-version={v}"))
        .header("Retry-After", "10")
}

/// PUT …/backupInstances/{bi}: 201 + body + LRO headers for a new instance, 200 for an update.
pub fn instance_put(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let v = vault(ctx)?.clone();
    let props = get_ci(&body, "properties").cloned().ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "properties is required: {\"properties\": {\"objectType\": \"BackupInstance\", …}}",
        )
    })?;
    let id = format!("{}/backupInstances/{}", v.id, ctx.p("bi"));
    let disk = check_backup_instance(ctx, &props, Some(&id))?;
    let props: dp::BackupInstance = parse_model(&props, "properties", D)?;
    if let Some(existing) = ctx.world.instances.get_mut(&key(&id)) {
        existing.put_properties = Some(props);
        return ApiResponse::model(&instance_body(existing));
    }
    let policy_name = props
        .policy_info
        .policy_id
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("DiskBackupPolicy")
        .to_string();
    let bi = BackupInstance {
        id: id.clone(),
        vault: key(&v.id),
        name: ctx.p("bi").to_string(),
        disk_id: disk,
        location: v.location.clone(),
        policy_name,
        snapshot_rg_id: format!("/subscriptions/{}/resourceGroups/{}", v.subscription, v.resource_group),
        recovery_points: vec![],
        state: InstanceState::Configuring,
        put_properties: Some(props),
    };
    let body = to_body(&instance_body(&bi))?;
    ctx.world.instances.insert(key(&id), bi);
    let mut op = new_op(ctx, &v.location, ctx.world.settings.job_durations.configure_protection);
    op.effect = Some(OpEffect::InstanceConfigured(key(&id)));
    let op_id = ctx.world.add_operation(op);
    let mut r = ApiResponse::ok(body);
    r.status = 201;
    Ok(vault_scoped_headers(ctx, &op_id, &v.location, r))
}

/// DELETE …/backupInstances/{bi}: 202 + LRO; 204 when it does not exist.
pub fn instance_delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vault(ctx)?.clone();
    let id = format!("{}/backupInstances/{}", v.id, ctx.p("bi"));
    let Some(bi) = ctx.world.instances.get_mut(&key(&id)) else {
        return Ok(ApiResponse::empty(204));
    };
    bi.state = InstanceState::Deleting;
    let mut op = new_op(ctx, &v.location, ctx.world.settings.job_durations.delete_protection);
    op.effect = Some(OpEffect::InstanceDeleted(key(&id)));
    let op_id = ctx.world.add_operation(op);
    Ok(vault_scoped_headers(ctx, &op_id, &v.location, ApiResponse::empty(202)))
}

/// POST …/backupInstances/{bi}/stopProtection: stop backups, keep the data; 202 + LRO (404 when absent).
pub fn instance_stop(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vault(ctx)?.clone();
    let id = format!("{}/backupInstances/{}", v.id, ctx.p("bi"));
    if !ctx.world.instances.contains_key(&key(&id)) {
        return Err(ApiError::not_found(D, &id));
    }
    let mut op = new_op(ctx, &v.location, ctx.world.settings.job_durations.delete_protection);
    op.effect = Some(OpEffect::InstanceStopped(key(&id)));
    let op_id = ctx.world.add_operation(op);
    Ok(vault_scoped_headers(ctx, &op_id, &v.location, ApiResponse::empty(202)))
}

/// Finds the source instance of a CRR call and checks the vault's CRR settings against the path location.
fn crr_source(ctx: &Ctx, bi_id: &str, source_region: &str) -> Result<(BackupInstance, Vault), ApiError> {
    let bad = |code: &str, msg: String| ApiError::bad_request(D, code, msg);
    let bi = ctx.world.instances.get(&key(bi_id)).cloned().ok_or_else(|| {
        bad("UserErrorBackupInstanceNotFound", format!("sourceBackupInstanceId '{bi_id}' was not found"))
    })?;
    let v = ctx.world.backup_vaults.get(&bi.vault).cloned().ok_or_else(|| ApiError::not_found(D, &bi.vault))?;
    if !v.crr {
        return Err(bad(
            "UserErrorCrossRegionRestoreNotEnabled",
            format!("Cross Region Restore is not enabled on vault '{}'.", v.name),
        ));
    }
    if norm_region(source_region) != norm_region(&v.location) {
        return Err(bad(
            "UserErrorInvalidRequestParameter",
            format!("sourceRegion '{source_region}' must be the vault's region '{}'", v.location),
        ));
    }
    let secondary = v.secondary_region.clone().unwrap_or_default();
    if norm_region(ctx.p("loc")) != norm_region(&secondary) {
        return Err(bad(
            "UserErrorInvalidRequestParameter",
            format!("the location '{}' in the path must be the vault's secondary region '{secondary}'", ctx.p("loc")),
        ));
    }
    Ok((bi, v))
}

fn crr_details(body: &Value) -> Result<(String, String), ApiError> {
    let d = get_ci(body, "crossRegionRestoreDetails").unwrap_or(body);
    let bi = str_ci(d, "sourceBackupInstanceId").ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "crossRegionRestoreDetails.sourceBackupInstanceId is required",
        )
    })?;
    let region = str_ci(d, "sourceRegion").ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            "crossRegionRestoreDetails.sourceRegion is required",
        )
    })?;
    Ok((bi.to_string(), region.to_string()))
}

/// POST {Base}/locations/{loc}/fetchSecondaryRecoveryPoints
pub fn fetch_secondary_rps(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let (bi_id, region) = crr_details(&body)?;
    let (bi, _) = crr_source(ctx, &bi_id, &region)?;
    parse_model::<dp::FetchSecondaryRPsRequestParameters>(&body, "the fetchSecondaryRecoveryPoints body", D)?;
    let (start, end) = rp_filter(ctx)?;
    let items: Vec<_> = bi
        .recovery_points
        .iter()
        .filter(|r| r.replicated && r.state == "Completed")
        .filter(|rp| start.is_none_or(|s| rp.time >= s) && end.is_none_or(|e| rp.time <= e))
        .map(|rp| rp_body(&bi, rp))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, D)?))
}

fn crr_request(ctx: &Ctx) -> Result<(Value, BackupInstance, Vault), ApiError> {
    let body = ctx.json(D)?;
    let (bi_id, region) = crr_details(&body)?;
    let (bi, v) = crr_source(ctx, &bi_id, &region)?;
    let req = get_ci(&body, "restoreRequestObject").cloned().ok_or_else(|| {
        ApiError::bad_request(D, "UserErrorInvalidRequestParameter", "restoreRequestObject is required")
    })?;
    // validateCrossRegionRestore and crossRegionRestore bodies have the same shape.
    parse_model::<dp::CrossRegionRestoreRequestObject>(&body, "the cross-region restore body", D)?;
    let rp_id = str_ci(&req, "recoveryPointId").unwrap_or_default();
    if bi.recovery_points.iter().any(|r| r.id.eq_ignore_ascii_case(rp_id) && !r.replicated) {
        return Err(ApiError::bad_request(
            D,
            "UserErrorRecoveryPointNotFound",
            format!("Recovery point '{rp_id}' is not yet available in the secondary region."),
        ));
    }
    Ok((req, bi, v))
}

/// POST {Base}/locations/{loc}/validateCrossRegionRestore
pub fn validate_crr(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let (req, bi, v) = crr_request(ctx)?;
    let secondary = v.secondary_region.clone().unwrap_or_default();
    validate_common(ctx, bi, &req, &secondary, &secondary)
}

/// POST {Base}/locations/{loc}/crossRegionRestore
pub fn trigger_crr(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let (req, bi, v) = crr_request(ctx)?;
    let secondary = v.secondary_region.clone().unwrap_or_default();
    trigger_common(ctx, bi, &req, &secondary, &secondary, true)
}

fn crr_job_source(ctx: &Ctx, body: &Value) -> Result<Vault, ApiError> {
    let vault_id = str_ci(body, "sourceBackupVaultId").ok_or_else(|| {
        ApiError::bad_request(D, "UserErrorInvalidRequestParameter", "sourceBackupVaultId is required")
    })?;
    let region = str_ci(body, "sourceRegion")
        .ok_or_else(|| ApiError::bad_request(D, "UserErrorInvalidRequestParameter", "sourceRegion is required"))?;
    let v = ctx.world.backup_vaults.get(&key(vault_id)).cloned().ok_or_else(|| {
        ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            format!("sourceBackupVaultId '{vault_id}' was not found"),
        )
    })?;
    if norm_region(region) != norm_region(&v.location) {
        return Err(ApiError::bad_request(
            D,
            "UserErrorInvalidRequestParameter",
            format!("sourceRegion '{region}' must be the vault's region '{}'", v.location),
        ));
    }
    Ok(v)
}

/// POST {Base}/locations/{loc}/fetchCrossRegionRestoreJob
pub fn fetch_crr_job(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let v = crr_job_source(ctx, &body)?;
    let job_id = str_ci(&body, "jobId")
        .ok_or_else(|| ApiError::bad_request(D, "UserErrorInvalidRequestParameter", "jobId is required"))?;
    parse_model::<dp::CrossRegionRestoreJobRequest>(&body, "the fetchCrossRegionRestoreJob body", D)?;
    let guid = job_id.rsplit('/').next().unwrap_or(job_id);
    let job = ctx.world.job(guid).filter(|j| j.vault == key(&v.id) && j.api == JobApi::DppCrr).ok_or_else(|| {
        ApiError::dpp(404, "UserErrorJobNotFound", format!("Cross-region restore job '{job_id}' was not found."))
    })?;
    ApiResponse::model(&ctx.world.dpp_job_body(job, ctx.now))
}

/// POST {Base}/locations/{loc}/fetchCrossRegionRestoreJobs
pub fn fetch_crr_jobs(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let body = ctx.json(D)?;
    let v = key(&crr_job_source(ctx, &body)?.id);
    parse_model::<dp::CrossRegionRestoreJobsRequest>(&body, "the fetchCrossRegionRestoreJobs body", D)?;
    let items: Vec<_> = ctx
        .world
        .jobs
        .iter()
        .rev()
        .filter(|j| j.vault == v && j.api == JobApi::DppCrr)
        .map(|j| ctx.world.dpp_job_body(j, ctx.now))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, D)?))
}

/// GET a Backup vault: region, storage redundancy and the CRR feature state.
pub fn vault_get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let v = vault(ctx)?;
    Ok(ApiResponse::ok(json!({
        "id": v.id,
        "name": v.name,
        "type": "Microsoft.DataProtection/backupVaults",
        "location": v.location,
        "identity": {"type": "SystemAssigned", "principalId": v.principal_id},
        "properties": {
            "provisioningState": "Succeeded",
            "storageSettings": [{"datastoreType": "VaultStore", "type": "GeoRedundant"}],
            "featureSettings": {"crossRegionRestoreSettings": {"state": if v.crr { "Enabled" } else { "Disabled" }}}
        }
    })))
}
