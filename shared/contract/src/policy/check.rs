//! [`Policy::check`]: whether a parsed request is allowed, and if not, which rule refuses it and why.

use std::fmt;

use serde::Serialize;

use super::Policy;
use crate::request::{Operation, OperationKind, RestoreRequest};

/// The policy rules; their names (`policy.<name>` codes) are listed in docs/policy.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyRule {
    /// vmReplaceDisks without `allowReplaceDisks: true`.
    ReplaceDisksNotAllowed,
    /// stopDiskProtection with deleteData without `allowDeleteBackupData: true`.
    DeleteBackupDataNotAllowed,
    /// The kind is not in `allowedKinds`.
    KindNotAllowed,
    /// The vault is not in `allowedVaults`.
    VaultNotAllowed,
    /// The target resource group is not allowed for the vault.
    TargetResourceGroupNotAllowed,
    /// The staging storage account is not in `allowedStagingStorageAccounts`.
    StagingStorageAccountNotAllowed,
    /// The vault already runs `maxConcurrentRestoresPerVault` restores (retryable: defer, do not reject).
    ConcurrencyLimit,
}

impl PolicyRule {
    /// The rule's name, e.g. `vaultNotAllowed`.
    pub fn name(self) -> &'static str {
        match self {
            PolicyRule::ReplaceDisksNotAllowed => "replaceDisksNotAllowed",
            PolicyRule::DeleteBackupDataNotAllowed => "deleteBackupDataNotAllowed",
            PolicyRule::KindNotAllowed => "kindNotAllowed",
            PolicyRule::VaultNotAllowed => "vaultNotAllowed",
            PolicyRule::TargetResourceGroupNotAllowed => "targetResourceGroupNotAllowed",
            PolicyRule::StagingStorageAccountNotAllowed => "stagingStorageAccountNotAllowed",
            PolicyRule::ConcurrencyLimit => "concurrencyLimit",
        }
    }

    /// The result code, e.g. `policy.vaultNotAllowed`.
    pub fn code(self) -> String {
        format!("policy.{}", self.name())
    }
}

/// Why the policy refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRefusal {
    /// The rule.
    pub rule: PolicyRule,
    /// JSON path of the request field holding the offending value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The offending value.
    pub value: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// Whether the same request may pass later without changes (only [`PolicyRule::ConcurrencyLimit`]): the
    /// intake defers it instead of rejecting it.
    pub retryable: bool,
}

impl fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by policy rule {}: ", self.rule.name())?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}. Fix: {}", self.message, self.fix)
    }
}

impl From<&PolicyRefusal> for crate::result::Reason {
    fn from(r: &PolicyRefusal) -> Self {
        crate::result::Reason {
            code: crate::reason::ReasonCode::Policy(r.rule.code()),
            field: r.field.clone(),
            rule: Some(r.rule.name().to_string()),
            message: r.message.clone(),
            fix: Some(r.fix.clone()),
        }
    }
}

fn refuse(
    rule: PolicyRule,
    field: Option<&str>,
    value: impl Into<String>,
    message: String,
    fix: String,
) -> PolicyRefusal {
    PolicyRefusal {
        rule,
        field: field.map(str::to_string),
        value: value.into(),
        message,
        fix,
        retryable: rule == PolicyRule::ConcurrencyLimit,
    }
}

impl Policy {
    /// Checks a parsed request. `active_restores_in_vault` is how many restores the store says are running in the
    /// request's vault now.
    pub fn check(&self, request: &RestoreRequest, active_restores_in_vault: usize) -> Result<(), PolicyRefusal> {
        let op = &request.operation;
        let kind = op.kind();
        if kind == OperationKind::VmReplaceDisks && !self.allow_replace_disks {
            return Err(refuse(
                PolicyRule::ReplaceDisksNotAllowed,
                Some("operation.kind"),
                kind.as_str(),
                "vmReplaceDisks overwrites the original VM's disks, and the policy does not allow it".into(),
                format!(
                    "set \"allowReplaceDisks\": true in the policy ({}), or restore to a new location with vmRestoreDisks / vmNewVm",
                    self.origin
                ),
            ));
        }
        if let Operation::StopDiskProtection(s) = op
            && s.delete_data
            && !self.allow_delete_backup_data
        {
            return Err(refuse(
                PolicyRule::DeleteBackupDataNotAllowed,
                Some("operation.deleteData"),
                "true",
                "deleting backup data destroys every recovery point of the disk, and the policy does not allow it"
                    .into(),
                format!(
                    "send \"deleteData\": false to stop protection and keep the data, or set \"allowDeleteBackupData\": true in the policy ({})",
                    self.origin
                ),
            ));
        }
        let kinds = self.effective_kinds();
        if !kinds.contains(&kind) {
            let list: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(refuse(
                PolicyRule::KindNotAllowed,
                Some("operation.kind"),
                kind.as_str(),
                format!("the policy allows only: {}", list.join(", ")),
                format!("add \"{kind}\" to allowedKinds in the policy ({})", self.origin),
            ));
        }
        let vault = op.vault_id();
        if !self.allowed_vaults.contains(&vault) {
            let message = if self.allowed_vaults.is_empty() {
                format!(
                    "the policy lists no vaults (allowedVaults is empty; {}), so every vault is refused",
                    self.origin
                )
            } else {
                format!("vault {vault} is not in the policy's allowedVaults")
            };
            return Err(refuse(
                PolicyRule::VaultNotAllowed,
                Some(vault_field(op)),
                vault.as_str(),
                message,
                format!("add {vault} to allowedVaults in the policy, or use an allowed vault"),
            ));
        }
        if let Some((field, rg)) = op.target_resource_group() {
            let allowed = self.allowed_target_resource_groups.iter().any(|t| {
                let applies = match (&t.vault, &t.subscription) {
                    (Some(v), _) => *v == vault,
                    (None, Some(s)) => s.eq_ignore_ascii_case(vault.subscription()),
                    (None, None) => false,
                };
                applies && t.resource_groups.contains(rg)
            });
            if !allowed {
                return Err(refuse(
                    PolicyRule::TargetResourceGroupNotAllowed,
                    Some(field),
                    rg.as_str(),
                    format!("resource group {rg} is not an allowed restore target for vault {vault}"),
                    "restore into an allowed group, or add it to allowedTargetResourceGroups for this vault or its subscription".into(),
                ));
            }
        }
        if let Some(sa) = op.staging_storage_account()
            && !self.allowed_staging_storage_accounts.contains(sa)
        {
            return Err(refuse(
                PolicyRule::StagingStorageAccountNotAllowed,
                Some("operation.stagingStorageAccountId"),
                sa.as_str(),
                format!("storage account {sa} is not in the policy's allowedStagingStorageAccounts"),
                "use an allowed staging account, or add it to allowedStagingStorageAccounts".into(),
            ));
        }
        // A validate-only request starts nothing, so it does not count against the limit.
        if kind.is_restore()
            && !request.options.validate_only
            && active_restores_in_vault >= self.max_concurrent_restores_per_vault
        {
            return Err(refuse(
                PolicyRule::ConcurrencyLimit,
                None,
                active_restores_in_vault.to_string(),
                format!(
                    "vault {vault} already runs {active_restores_in_vault} restores; the policy allows {} at once",
                    self.max_concurrent_restores_per_vault
                ),
                "wait: the request is deferred and retried when a restore in this vault ends".into(),
            ));
        }
        Ok(())
    }
}

fn vault_field(op: &Operation) -> &'static str {
    match op {
        Operation::DiskToNewDisk(_) | Operation::StopDiskProtection(_) => "operation.backupInstanceId",
        Operation::VmRestoreDisks(_) | Operation::VmReplaceDisks(_) | Operation::VmNewVm(_) => {
            "operation.protectedItemId"
        }
        Operation::ConfigureDiskProtection(_) => "operation.backupVaultId",
    }
}
