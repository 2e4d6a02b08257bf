//! The restore policy: which vaults, target resource groups, staging accounts and kinds are allowed, concurrency,
//! naming and tags of restored resources, the message size limit, and the alert rules. Loaded from a JSON file
//! (`RESTORE_POLICY_FILE`) or an inline JSON app setting (`RESTORE_POLICY`) ([`load`]); requests are checked with
//! [`Policy::check`] ([`check`]); restored resources are named with the template ([`naming`]).
//!
//! Safe by default: with no policy, every vault is refused; replace-disks and deleting backup data are refused
//! unless switched on; protection changes must be listed in `allowedKinds`.

pub mod check;
pub mod load;
pub mod naming;

use std::collections::BTreeMap;

use restore_models::arm_id::{ResourceGroupId, ResourceId, StorageAccountId, VirtualNetworkId};
use serde::{Deserialize, Serialize};

pub use check::{PolicyRefusal, PolicyRule};
pub use load::{POLICY_FILE_SETTING, POLICY_INLINE_SETTING, PolicyError, PolicyOrigin};
pub use naming::{DEFAULT_NAMING_TEMPLATE, NamingTemplate};

use crate::alert::AlertRule;
use crate::request::{DEFAULT_MAX_MESSAGE_BYTES, OperationKind};

/// The policy document (docs/policy.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// Vaults (Backup vaults and Recovery Services vaults) requests may use. Empty: every vault is refused.
    #[serde(default)]
    pub allowed_vaults: Vec<ResourceId>,
    /// Resource groups restores may create resources in, per vault or per subscription of the vault.
    #[serde(default)]
    pub allowed_target_resource_groups: Vec<TargetGroups>,
    /// Staging storage accounts VM restores may use. Empty: every VM restore is refused.
    #[serde(default)]
    pub allowed_staging_storage_accounts: Vec<StorageAccountId>,
    /// Kinds allowed. Absent: diskToNewDisk, vmRestoreDisks, vmNewVm (and vmReplaceDisks when allowReplaceDisks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_kinds: Option<Vec<OperationKind>>,
    /// Allow vmReplaceDisks (overwrites the original VM's disks). Default false.
    #[serde(default)]
    pub allow_replace_disks: bool,
    /// Allow stopDiskProtection with deleteData: true (deletes recovery points). Default false.
    #[serde(default)]
    pub allow_delete_backup_data: bool,
    /// Restores running at once per vault before new ones are deferred. Default 2.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_restores_per_vault: usize,
    /// Name template for restored disks and VMs when the request gives none (see [`naming`]).
    #[serde(default)]
    pub naming: NamingTemplate,
    /// Tags put on every restored resource (they win over the request's tags).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Largest message accepted, in bytes. Default 65536.
    #[serde(default = "default_max_bytes")]
    pub max_message_bytes: usize,
    /// Alert rules (first match wins).
    #[serde(default)]
    pub alert_rules: Vec<AlertRule>,
    /// Where scheduled recovery drills may put what they restore. Empty lists: every drill plan is refused.
    #[serde(default, skip_serializing_if = "SandboxPolicy::is_empty")]
    pub sandbox: SandboxPolicy,
    /// Where the policy came from (for messages); not part of the document.
    #[serde(skip)]
    pub origin: PolicyOrigin,
}

/// The sandbox of recovery drills: explicit lists, no wildcards, because a drill restores a clone of production
/// (same host name, same data) on a schedule with nobody watching, and cleanup deletes what lies in these groups.
/// A drill plan must name a resource group, network and staging account from these lists (restore-drills checks
/// it); the restore requests a drill sends still pass [`Policy::check`] like any other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SandboxPolicy {
    /// Resource groups drills may restore into (and clean up in).
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroupId>,
    /// Virtual networks new-VM drills may attach restored VMs to.
    #[serde(default)]
    pub virtual_networks: Vec<VirtualNetworkId>,
    /// Staging storage accounts VM drills may use.
    #[serde(default)]
    pub staging_storage_accounts: Vec<StorageAccountId>,
}

impl SandboxPolicy {
    /// Whether no sandbox is configured (so it is left out when serialising).
    pub fn is_empty(&self) -> bool {
        self.resource_groups.is_empty() && self.virtual_networks.is_empty() && self.staging_storage_accounts.is_empty()
    }
}

/// Allowed target resource groups for one vault, or for every vault in one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetGroups {
    /// The vault these groups are for (give this or `subscription`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<ResourceId>,
    /// The subscription (GUID) whose vaults may use these groups (give this or `vault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// The allowed groups.
    pub resource_groups: Vec<ResourceGroupId>,
}

fn default_concurrency() -> usize {
    2
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_MESSAGE_BYTES
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_vaults: Vec::new(),
            allowed_target_resource_groups: Vec::new(),
            allowed_staging_storage_accounts: Vec::new(),
            allowed_kinds: None,
            allow_replace_disks: false,
            allow_delete_backup_data: false,
            max_concurrent_restores_per_vault: default_concurrency(),
            naming: NamingTemplate::default(),
            tags: BTreeMap::new(),
            max_message_bytes: default_max_bytes(),
            alert_rules: Vec::new(),
            sandbox: SandboxPolicy::default(),
            origin: PolicyOrigin::Absent,
        }
    }
}

impl Policy {
    /// The kinds this policy allows (the default set when `allowedKinds` is absent).
    pub fn effective_kinds(&self) -> Vec<OperationKind> {
        match &self.allowed_kinds {
            Some(k) => k.clone(),
            None => {
                let mut k = vec![OperationKind::DiskToNewDisk, OperationKind::VmRestoreDisks, OperationKind::VmNewVm];
                if self.allow_replace_disks {
                    k.push(OperationKind::VmReplaceDisks);
                }
                k
            }
        }
    }

    /// The tags for resources restored by `request`: the request's tags, then the policy's (which win).
    pub fn tags_for(&self, request: &crate::request::RestoreRequest) -> BTreeMap<String, String> {
        let mut tags = request.options.tags.clone();
        tags.extend(self.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        tags
    }
}
