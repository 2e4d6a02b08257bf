//! The drill plan document (JSON, camelCase, unknown fields refused everywhere so a typo is reported with its path
//! instead of silently changing what a drill does). Read plans with [`crate::parse_plan`]: plain `Deserialize`
//! checks types and ARM ids but not the rules of [`crate::validate`], and gives no field paths.
//!
//! docs/drills.md explains every field with examples; the JSON Schema is `schemas/drill-plan.schema.json`.

use std::collections::BTreeMap;

use restore_contract::schema as cs;
use restore_models::arm_id::{ResourceGroupId, StorageAccountId, SubnetId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::IsoDuration;
use crate::ids::{ItemId, VaultId};

/// A scheduled recovery drill: what to restore, when, where, how to check it and what counts as good enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "DrillPlan",
    description = "Scheduled recovery drill plan, version 1. See docs/drills.md.",
    extend("additionalProperties" = false)
)]
pub struct DrillPlan {
    /// Editors' JSON Schema hint (ignored).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Plan format version; must be the string "1".
    pub version: PlanVersion,
    /// The plan's name: 1–50 of letters, digits, '-' and '_', starting with a letter or digit. It is part of every
    /// run id, request id and tag the drill writes, so it cannot change without starting a new history.
    pub name: String,
    /// Free text for people (at most 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When drills run.
    pub schedule: Schedule,
    /// How long after its scheduled time a run must have ended (restored and checked); later, it is signalled as
    /// late or stuck. Longer than the start window.
    pub completion_window: IsoDuration,
    /// Which protected items the plan covers.
    pub selection: Selection,
    /// Which of the selected items each run drills. Absent: `"all"`.
    #[serde(default)]
    pub sampling: Sampling,
    /// Coverage target: every selected item drilled at least once within this many days, else a coverage breach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Which recovery point to restore. Absent: the latest, any tier, primary region.
    #[serde(default)]
    pub recovery_point: RecoveryPointPlan,
    /// How each kind of item is restored. Absent: disks to a new disk, VMs as disks.
    #[serde(default)]
    pub restore: RestorePlan,
    /// Where restored resources go; every id must be in the policy's `sandbox` lists.
    pub sandbox: Sandbox,
    /// Restore-time targets.
    pub rto: RtoPlan,
    /// Checks beyond the built-in ones.
    #[serde(default)]
    pub checks: Checks,
    /// How long restored resources are kept after the checks before cleanup (`PT0S`: right away; at most `P7D`).
    pub keep_for: IsoDuration,
    /// Per-run limits on what a drill may restore.
    pub cost_guard: CostGuard,
    /// A drill restore starts in a vault only while fewer than this many restores of any kind run there, so the
    /// rest of the policy's `maxConcurrentRestoresPerVault` stays free for restores during an incident. 1 to that
    /// limit.
    pub vault_concurrency_share: u32,
}

/// The plan format version. Only "1" exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PlanVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

/// When drills run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schedule {
    /// NCRONTAB with six fields, seconds first, as Azure Functions timers: `{second} {minute} {hour} {day}
    /// {month} {day-of-week}`, Sunday = 0; numbers, names (JAN, MON), `*`, `,`, `-` and `/`. When both day
    /// fields are restricted a day must match both (NCRONTAB's rule, unlike Vixie cron's "either").
    pub cron: String,
    /// IANA time zone the cron is read in, e.g. `Europe/Berlin`, `America/New_York`, `UTC`.
    pub time_zone: String,
    /// How long after its scheduled time a run may still start; a run not started by then is missed. At most
    /// the shortest interval between two scheduled times.
    pub start_window: IsoDuration,
}

/// Which protected items a plan covers: the union of `items`, the items of `vaults` and the items whose source
/// carries all of `tags`, minus `excludeItems` and items carrying any of `excludeTags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selection {
    /// Explicit items: backup instance ids (disks) and protected item ids (VMs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemId>,
    /// Whole vaults: every backup instance of a Backup vault, every protected VM of a Recovery Services vault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vaults: Vec<VaultId>,
    /// Tags on the source disk or VM, all of which must match (names case-insensitive, values exact), over the
    /// items of every vault the policy allows. Items whose source no longer exists are kept and flagged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Items never drilled by this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_items: Vec<ItemId>,
    /// Items whose source carries any of these tags are never drilled by this plan.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exclude_tags: BTreeMap<String, String>,
}

/// Which selected items a run drills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Sampling {
    /// Every selected item: `"all"`.
    #[default]
    All,
    /// N items chosen at random, reproducibly from the run id: `{"random": 3}`.
    Random(u32),
    /// The N items drilled longest ago (never drilled first): `{"leastRecentlyDrilled": 3}`.
    LeastRecentlyDrilled(u32),
}

/// Coverage target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Coverage {
    /// Every selected item must have been drilled within this many days (1–365).
    pub within_days: u32,
}

/// Which recovery point to restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoveryPointPlan {
    /// `"latest"` or `{"randomWithinDays": N}` (a point taken in the last N days, chosen reproducibly from the
    /// run id). Absent: `"latest"`.
    #[serde(default)]
    pub pick: Pick,
    /// For VMs: the tier the point must be in, where Azure exposes it (`recoveryPointTierDetails`): `"any"`,
    /// `"snapshot"` (instant restore) or `"vault"`. Disk backups have the snapshot tier only. Absent: `"any"`.
    #[serde(default)]
    pub vm_tier: VmTier,
    /// For VMs in vaults with Cross Region Restore: restore from the `"primary"` region's copy or the
    /// `"secondary"` region's. Absent: `"primary"`.
    #[serde(default)]
    pub vm_region: Region,
}

/// Which point in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Pick {
    /// The newest point: `"latest"`.
    #[default]
    Latest,
    /// A point taken in the last N days (1–365): `{"randomWithinDays": 30}`.
    RandomWithinDays(u32),
}

/// Recovery point tier of a VM backup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum VmTier {
    /// Whatever the chosen point has.
    #[default]
    Any,
    /// The snapshot tier (instant restore, `InstantRP`).
    Snapshot,
    /// The vault tier (`HardenedRP`): the slower path a disaster may need once snapshots have expired.
    Vault,
}

/// Region of the copy restored from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Region {
    /// The vault's own region.
    #[default]
    Primary,
    /// The paired region, through Cross Region Restore.
    Secondary,
}

/// How each kind of item is restored. Only modes that create new resources: a drill never writes over a source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestorePlan {
    /// Disks: `"newDisk"` (the only mode). Absent: `"newDisk"`.
    #[serde(default)]
    pub disk: DiskMode,
    /// VMs: `"restoreDisks"` or `"newVm"`. Absent: `"restoreDisks"`.
    #[serde(default)]
    pub vm: VmMode,
    /// For `restoreDisks`: data disk LUNs to restore (0–63; the OS disk always is). Absent: every disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luns: Option<Vec<u32>>,
}

/// Disk restore mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DiskMode {
    /// A new managed disk in the sandbox resource group.
    #[default]
    NewDisk,
}

/// VM restore mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum VmMode {
    /// The VM's disks as managed disks in the sandbox resource group (through the staging account).
    #[default]
    RestoreDisks,
    /// A new VM in the sandbox resource group and subnet.
    NewVm,
}

/// Where restored resources go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sandbox {
    /// Resource group for restored disks and VMs (in the policy's `sandbox.resourceGroups`).
    #[schemars(with = "cs::ResourceGroupIdSchema")]
    pub resource_group_id: ResourceGroupId,
    /// Subnet for new VMs (its network in the policy's `sandbox.virtualNetworks`). Required when `restore.vm` is
    /// `newVm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<cs::SubnetIdSchema>")]
    pub subnet_id: Option<SubnetId>,
    /// Staging storage account of VM restores (in the policy's `sandbox.stagingStorageAccounts`). Required when
    /// the plan can select VMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<cs::StorageAccountIdSchema>")]
    pub staging_storage_account_id: Option<StorageAccountId>,
}

/// Restore-time targets: RTO is measured from the restore's trigger to the item being usable (job ended and
/// checks passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RtoPlan {
    /// Target for every item (more than zero, at most `P7D`).
    pub target: IsoDuration,
    /// Per-item targets that replace `target`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<RtoOverride>,
}

/// A per-item RTO target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RtoOverride {
    /// The item.
    pub item: ItemId,
    /// Its target.
    pub target: IsoDuration,
}

impl RtoPlan {
    /// The target for `item`: its override, or the plan's target.
    pub fn target_for(&self, item: &ItemId) -> IsoDuration {
        self.overrides.iter().find(|o| o.item == *item).map(|o| o.target).unwrap_or(self.target)
    }
}

/// Checks run after a restore succeeds, besides the built-in ones (disk: exists, provisioned, size, SKU and
/// encryption match; VM disks: every expected disk exists and matches; new VM: provisioned, running, agent ready,
/// boot diagnostics available).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checks {
    /// For new VMs: how long the VM agent may take to report ready (`PT1M`–`PT2H`). Absent: `PT20M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_agent_timeout: Option<IsoDuration>,
    /// A managed Run Command on each restored VM (`restore.vm` must be `newVm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_command: Option<RunCommandCheck>,
    /// An HTTPS webhook asked about each restored item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookCheck>,
}

/// A Run Command check. It runs as root / SYSTEM on a clone of production data: see docs/drills.md on who may
/// write plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunCommandCheck {
    /// The script (shell on Linux, PowerShell on Windows), 1–16384 characters.
    pub script: String,
    /// The exit code that means "passed". Absent: 0.
    #[serde(default)]
    pub expected_exit_code: i32,
    /// Text the output must contain (Azure returns the last 4 KB of output). Absent: output not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output: Option<String>,
    /// How long the command may run (`PT1M`–`PT90M`, Azure's limit). Absent: `PT10M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<IsoDuration>,
}

/// A webhook check: the drill POSTs the restored item's details, signed with HMAC-SHA256, and expects
/// `{"passed": bool, "detail": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookCheck {
    /// `https://` URL without credentials in it.
    pub url: String,
    /// Name of the app setting holding the signing secret (letters, digits and '_'). The secret itself is never
    /// written in a plan: plans are plain documents in a blob container, readable by whoever can list it.
    pub secret_setting: String,
    /// How long to wait for the answer (`PT1S`–`PT5M`). Absent: `PT30S`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<IsoDuration>,
}

/// Per-run limits, checked before anything is restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostGuard {
    /// Largest total size of the disks one run restores, in GiB (1–65536).
    #[serde(rename = "maxRestoredGiB")]
    pub max_restored_gib: u32,
    /// Largest total of vCPUs of the VMs one run creates (1–1024). Counts only `newVm` restores.
    pub max_vm_vcpus: u32,
}

impl DrillPlan {
    /// Whether the plan can select VMs (it names a Recovery Services item or vault, or selects by tag, which can
    /// match any kind).
    pub fn may_select_vms(&self) -> bool {
        let s = &self.selection;
        !s.tags.is_empty()
            || s.items.iter().any(|i| i.kind() == crate::ids::ItemKind::Vm)
            || s.vaults.iter().any(|v| v.item_kind() == crate::ids::ItemKind::Vm)
    }

    /// Whether the plan can select disks.
    pub fn may_select_disks(&self) -> bool {
        let s = &self.selection;
        !s.tags.is_empty()
            || s.items.iter().any(|i| i.kind() == crate::ids::ItemKind::Disk)
            || s.vaults.iter().any(|v| v.item_kind() == crate::ids::ItemKind::Disk)
    }
}
