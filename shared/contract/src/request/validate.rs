//! Rules a request must meet beyond its types: name formats, recovery point ids, tags, and the cross-field
//! rules (same subscription, subnet inside the network, policy under the vault…). Each failure names the field
//! and the rule; the rule names are listed in docs/contract.md.

use restore_models::arm_id::ProtectedItemId;

use super::error::{RequestError, RequestErrorKind as K};
use super::types::{Operation, RecoveryPointChoice, RestoreRequest};
use crate::request::parse::printable;

/// Checks every rule; the first failure is returned.
pub fn validate(r: &RestoreRequest) -> Result<(), RequestError> {
    if let Some(id) = &r.request_id {
        check_request_id(id).map_err(|m| {
            invalid("requestId", m, "use 1–128 of A-Z a-z 0-9 . _ : - (or leave it out to use the MessageId)")
                .with_rule("requestIdFormat")
        })?;
    }
    check_text("source.reference", &r.source.reference)?;
    check_text("source.requestedBy", &r.source.requested_by)?;
    check_recovery_point(r)?;
    check_operation(&r.operation)?;
    if r.options.validate_only && matches!(r.operation, Operation::StopDiskProtection(_)) {
        return Err(RequestError::new(
            K::Inconsistent,
            Some("options.validateOnly"),
            "Azure has no validation call for stopping protection, so validateOnly cannot be honoured",
            "remove validateOnly (or set it to false)",
        )
        .with_rule("noValidateOnlyForStop"));
    }
    check_tags(&r.options.tags)
}

/// Whether `id` is a usable request id (it becomes part of store keys and blob names).
pub fn check_request_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 {
        return Err(format!("the request id is {} characters long; it must be 1–128", id.chars().count()));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))) {
        return Err(format!("the request id contains {:?}, which is not allowed", c));
    }
    Ok(())
}

fn check_text(field: &str, text: &str) -> Result<(), RequestError> {
    let n = text.chars().count();
    if n == 0 || n > 256 {
        return Err(invalid(field, format!("must be 1–256 characters, not {n}"), "give a short non-empty text")
            .with_rule("textFormat"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters", "remove line breaks and control characters")
            .with_rule("textFormat"));
    }
    Ok(())
}

fn check_recovery_point(r: &RestoreRequest) -> Result<(), RequestError> {
    let Some(rp) = &r.recovery_point else { return Ok(()) };
    if !r.operation.kind().is_restore() {
        return Err(RequestError::new(
            K::Inconsistent,
            Some("recoveryPoint"),
            format!("{} does not restore anything, so a recovery point does not apply", r.operation.kind()),
            "remove recoveryPoint",
        )
        .with_rule("recoveryPointOnlyForRestores"));
    }
    if let RecoveryPointChoice::Id { id } = rp {
        let ok = (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(invalid(
                "recoveryPoint.id",
                format!("'{}' is not a recovery point name", printable(id)),
                "give the recovery point's name (the last segment of its ARM id, e.g. a3d02fc3ab8a4c3a8cc26688c26d3356 \
                 for a disk or 932895704780058094 for a VM), not its full id",
            )
            .with_rule("recoveryPointIdFormat"));
        }
    }
    Ok(())
}

fn check_operation(op: &Operation) -> Result<(), RequestError> {
    match op {
        Operation::DiskToNewDisk(o) => {
            same_subscription(
                "operation.targetResourceGroupId",
                o.target_resource_group_id.subscription(),
                o.backup_instance_id.subscription(),
                "the backup instance",
            )?;
            if let Some(name) = &o.disk_name {
                check_resource_name("operation.diskName", name, 80, "diskNameFormat")?;
            }
        }
        Operation::VmRestoreDisks(o) => {
            if !o.secondary_region {
                vm_same_subscription(
                    &o.protected_item_id,
                    o.target_resource_group_id.subscription(),
                    "operation.targetResourceGroupId",
                )?;
                vm_same_subscription(
                    &o.protected_item_id,
                    o.staging_storage_account_id.subscription(),
                    "operation.stagingStorageAccountId",
                )?;
            }
            if let Some(luns) = &o.luns {
                check_luns(luns)?;
            }
        }
        Operation::VmReplaceDisks(o) => {
            vm_same_subscription(
                &o.protected_item_id,
                o.staging_storage_account_id.subscription(),
                "operation.stagingStorageAccountId",
            )?;
        }
        Operation::VmNewVm(o) => {
            if !o.secondary_region {
                vm_same_subscription(
                    &o.protected_item_id,
                    o.target_resource_group_id.subscription(),
                    "operation.targetResourceGroupId",
                )?;
                vm_same_subscription(
                    &o.protected_item_id,
                    o.staging_storage_account_id.subscription(),
                    "operation.stagingStorageAccountId",
                )?;
            }
            check_resource_name("operation.vmName", &o.vm_name, 64, "vmNameFormat")?;
            if o.subnet_id.virtual_network() != o.virtual_network_id {
                return Err(RequestError::new(
                    K::Inconsistent,
                    Some("operation.subnetId"),
                    format!(
                        "the subnet is in virtual network '{}', not in virtualNetworkId",
                        o.subnet_id.virtual_network()
                    ),
                    "give a subnet of the virtual network named in virtualNetworkId",
                )
                .with_rule("subnetInVirtualNetwork"));
            }
            if !o.virtual_network_id.subscription().eq_ignore_ascii_case(o.target_resource_group_id.subscription()) {
                return Err(RequestError::new(
                    K::Inconsistent,
                    Some("operation.virtualNetworkId"),
                    "the virtual network is in another subscription than the target resource group",
                    "use a virtual network in the target resource group's subscription",
                )
                .with_rule("networkInTargetSubscription"));
            }
        }
        Operation::ConfigureDiskProtection(o) => {
            let under_vault = o.policy_id.vault().is_ok_and(|v| v == o.backup_vault_id);
            if !under_vault {
                return Err(RequestError::new(
                    K::Inconsistent,
                    Some("operation.policyId"),
                    "the backup policy does not belong to backupVaultId",
                    "give a policy of the same vault: {backupVaultId}/backupPolicies/{policy}",
                )
                .with_rule("policyInVault"));
            }
            same_subscription(
                "operation.snapshotResourceGroupId",
                o.snapshot_resource_group_id.subscription(),
                o.disk_id.subscription(),
                "the disk (Azure refuses this with UserErrorSnapshotRGSubscriptionMismatch)",
            )?;
        }
        Operation::StopDiskProtection(_) => {}
    }
    Ok(())
}

fn vm_same_subscription(pi: &ProtectedItemId, subscription: &str, field: &str) -> Result<(), RequestError> {
    same_subscription(
        field,
        subscription,
        pi.subscription(),
        "the protected item's vault (or set secondaryRegion for Cross Region Restore)",
    )
}

fn same_subscription(field: &str, got: &str, want: &str, what: &str) -> Result<(), RequestError> {
    if got.eq_ignore_ascii_case(want) {
        return Ok(());
    }
    Err(RequestError::new(
        K::Inconsistent,
        Some(field),
        format!("subscription '{got}' differs from the source's subscription '{want}'"),
        format!("use a resource in subscription {want}, the same as {what}"),
    )
    .with_rule("sameSubscription"))
}

fn check_luns(luns: &[u32]) -> Result<(), RequestError> {
    for (i, lun) in luns.iter().enumerate() {
        let field = format!("operation.luns[{i}]");
        if *lun > 63 {
            return Err(invalid(&field, format!("LUN {lun} is out of range"), "Azure data disk LUNs are 0–63")
                .with_rule("lunRange"));
        }
        if luns[..i].contains(lun) {
            return Err(
                invalid(&field, format!("LUN {lun} is listed twice"), "list each LUN once").with_rule("lunUnique")
            );
        }
    }
    Ok(())
}

/// Azure disk and VM names: letters, digits, `_ . -`; start with a letter or digit; end with a letter, digit or `_`.
fn check_resource_name(field: &str, name: &str, max: usize, rule: &'static str) -> Result<(), RequestError> {
    let fix = format!(
        "use 1–{max} of letters, digits, '_', '.', '-', starting with a letter or digit and not ending in '.' or '-'"
    );
    let len = name.chars().count();
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let start_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let end_ok = name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !(1..=max).contains(&len) || !chars_ok || !start_ok || !end_ok {
        return Err(invalid(field, format!("'{}' is not a valid name", printable(name)), fix).with_rule(rule));
    }
    Ok(())
}

fn check_tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), RequestError> {
    if tags.len() > 50 {
        return Err(invalid(
            "options.tags",
            format!("{} tags given; Azure allows 50 per resource", tags.len()),
            "send at most 50 tags",
        )
        .with_rule("tagLimit"));
    }
    for (k, v) in tags {
        let field = format!("options.tags.{k}");
        let key_ok = (1..=512).contains(&k.chars().count())
            && !k.chars().any(|c| matches!(c, '<' | '>' | '%' | '&' | '\\' | '?' | '/') || c.is_control());
        if !key_ok {
            return Err(invalid(
                &field,
                format!("'{}' is not a valid tag name", printable(k)),
                "tag names are 1–512 characters without < > % & \\ ? / or control characters",
            )
            .with_rule("tagFormat"));
        }
        if v.chars().count() > 256 || v.chars().any(char::is_control) {
            return Err(invalid(
                &field,
                "the tag value is too long or has control characters",
                "tag values are up to 256 printable characters",
            )
            .with_rule("tagFormat"));
        }
    }
    Ok(())
}

fn invalid(field: &str, message: impl Into<String>, fix: impl Into<String>) -> RequestError {
    RequestError::new(K::InvalidValue, Some(field), message, fix)
}
