//! The emulated Azure: resources, recovery points, jobs and async operations, driven by the clock.
//!
//! Nothing moves by itself: every request (and every admin read) calls [`World::tick`] with the clock's time,
//! which finishes operations and materialises the effects of completed jobs (restored disks, new VMs, swapped
//! disks). Status reads compute their state from the time they are asked at, so advancing the clock is all a
//! test has to do.
//!
//! Jobs and operation statuses are built from the `restore_models` wire types
//! ([`World::dpp_job_body`], [`World::rsv_job_body`], [`World::dpp_operation_status`],
//! [`World::rsv_operation_status`]). Disk and VM resources ([`World::disk_body`], [`World::vm_body`]) stay
//! `json!`: restore-models has no Microsoft.Compute types.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use restore_models::dataprotection as dp;
use restore_models::error::{IaasJobErrorInfo, OperationStatusError};
use restore_models::recoveryservices as rs;
use restore_models::wire::{ArmResource, StrOrNum, Timestamp};

use crate::error::ApiError;
use crate::identity::Principal;
use crate::scenario::{Quirks, Rules, Scenario, Settings};
use crate::util::{fmt_duration, fmt_time, guid, key};

/// A resource group.
#[derive(Debug, Clone)]
pub struct ResourceGroup {
    /// Subscription id.
    pub subscription: String,
    /// Name as declared.
    pub name: String,
    /// Region.
    pub location: String,
    /// When Backup vault identities get Disk Restore Operator here (None: always had it).
    pub disk_restore_operator_from: Option<OffsetDateTime>,
    /// They never get it.
    pub disk_restore_operator_missing: bool,
}

impl ResourceGroup {
    /// Whether the vault identities hold Disk Restore Operator here at `now`.
    pub fn has_disk_restore_operator(&self, now: OffsetDateTime) -> bool {
        !self.disk_restore_operator_missing && self.disk_restore_operator_from.is_none_or(|t| now >= t)
    }
}

/// A managed disk.
#[derive(Debug, Clone)]
pub struct Disk {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Size.
    pub size_gb: u32,
    /// Creation time.
    pub created: OffsetDateTime,
    /// The restore job that created it.
    pub created_by_job: Option<String>,
    /// The recovery point it was restored from.
    pub source_recovery_point: Option<String>,
}

/// A virtual machine.
#[derive(Debug, Clone, Default)]
pub struct Vm {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Size.
    pub size: String,
    /// OS disk id.
    pub os_disk: String,
    /// Data disks (LUN, disk id).
    pub data_disks: Vec<(i32, String)>,
    /// The restore job that created it.
    pub created_by_job: Option<String>,
    /// Network interface ids (restored VMs get one in the requested subnet).
    pub nics: Vec<String>,
    /// `deleteOption: Delete` by lower-case disk / NIC id; absent means `Detach`, Azure's default.
    pub delete_on_vm_delete: BTreeSet<String>,
    /// A DELETE was accepted but never finishes (`rules.deletes[].hang`): `provisioningState: Deleting`.
    pub deleting: bool,
}

/// A Backup vault or Recovery Services vault.
#[derive(Debug, Clone)]
pub struct Vault {
    /// ARM id.
    pub id: String,
    /// Subscription.
    pub subscription: String,
    /// Resource group.
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// Region.
    pub location: String,
    /// CRR enabled.
    pub crr: bool,
    /// Paired region.
    pub secondary_region: Option<String>,
    /// Concurrent restore limit.
    pub max_concurrent_restores: Option<usize>,
    /// The vault identity's object id.
    pub principal_id: String,
}

/// A DPP recovery point.
#[derive(Debug, Clone)]
pub struct DppRecoveryPoint {
    /// Id.
    pub id: String,
    /// Time.
    pub time: OffsetDateTime,
    /// Type.
    pub kind: String,
    /// Expiry.
    pub expiry: OffsetDateTime,
    /// Completed or Partial.
    pub state: String,
    /// Snapshot deleted.
    pub snapshot_deleted: bool,
    /// Visible in the secondary region.
    pub replicated: bool,
}

/// Protection state of a backup instance.
#[derive(Debug, Clone, PartialEq)]
pub enum InstanceState {
    /// PUT accepted, operation running.
    Configuring,
    /// Protected.
    Configured,
    /// DELETE accepted, operation running.
    Deleting,
    /// `stopProtection` done: no new backups, recovery points kept.
    Stopped,
}

/// A DPP backup instance.
#[derive(Debug, Clone)]
pub struct BackupInstance {
    /// ARM id.
    pub id: String,
    /// Vault key.
    pub vault: String,
    /// Name.
    pub name: String,
    /// Protected disk id.
    pub disk_id: String,
    /// The disk's region (the vault's: Azure Backup protects disks in its own region).
    pub location: String,
    /// Policy name.
    pub policy_name: String,
    /// Snapshot resource group id.
    pub snapshot_rg_id: String,
    /// Recovery points, newest first.
    pub recovery_points: Vec<DppRecoveryPoint>,
    /// State.
    pub state: InstanceState,
    /// The PUT body's properties (echoed back).
    pub put_properties: Option<dp::BackupInstance>,
}

/// A tier of a VM recovery point.
#[derive(Debug, Clone)]
pub struct Tier {
    /// InstantRP, HardenedRP, ArchivedRP.
    pub kind: String,
    /// Valid, Deleted, …
    pub status: String,
}

/// An RSV recovery point.
#[derive(Debug, Clone)]
pub struct RsvRecoveryPoint {
    /// Id.
    pub id: String,
    /// Time.
    pub time: OffsetDateTime,
    /// Consistency type.
    pub kind: String,
    /// Tiers.
    pub tiers: Vec<Tier>,
    /// Expiry.
    pub expiry: OffsetDateTime,
    /// In the secondary region.
    pub replicated: bool,
}

impl RsvRecoveryPoint {
    /// Whether any tier can be restored from.
    pub fn usable(&self) -> bool {
        self.tiers.iter().any(|t| t.status.eq_ignore_ascii_case("Valid") || t.status.eq_ignore_ascii_case("Rehydrated"))
    }
}

/// An RSV protected item (a VM).
#[derive(Debug, Clone)]
pub struct ProtectedItem {
    /// ARM id (with the service's `IaasVMContainer;…` / `VM;…` casing).
    pub id: String,
    /// Vault key.
    pub vault: String,
    /// Container name as in the id.
    pub container_name: String,
    /// Item name as in the id.
    pub item_name: String,
    /// VM id.
    pub vm_id: String,
    /// VM name.
    pub vm_name: String,
    /// Policy.
    pub policy_name: String,
    /// Recovery points, newest first.
    pub recovery_points: Vec<RsvRecoveryPoint>,
}

/// Which API a job belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum JobApi {
    /// Backup vault job (vault key).
    Dpp,
    /// Backup vault cross-region restore job (fetched through fetchCrossRegionRestoreJob).
    DppCrr,
    /// Recovery Services job.
    Rsv,
    /// Recovery Services CRR job (passive stamp, in `region`).
    RsvCrr {
        /// Secondary region.
        region: String,
    },
}

/// How a job ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Completed.
    Completed,
    /// CompletedWithWarnings.
    CompletedWithWarnings,
    /// Failed with code and message.
    Failed {
        /// Error code.
        code: String,
        /// Message.
        message: String,
    },
    /// Cancelled.
    Cancelled,
}

/// What a completed job changes.
#[derive(Debug, Clone)]
pub enum Effect {
    /// A disk appears.
    CreateDisk {
        /// Disk id.
        id: String,
        /// Region.
        location: String,
        /// Size.
        size_gb: u32,
    },
    /// A VM appears (its disks come from CreateDisk effects before it).
    CreateVm {
        /// VM id.
        id: String,
        /// Region.
        location: String,
        /// Size.
        size: String,
        /// OS disk id.
        os_disk: String,
        /// Data disks.
        data_disks: Vec<(i32, String)>,
        /// The restore request's subnet id: the VM's new network interface goes there.
        subnet: String,
    },
    /// A "Recover disks" job writes the VM's config and a template to the staging account.
    StageFiles(crate::staging::StagingPlan),
    /// The VM's disks are swapped for restored ones.
    ReplaceDisks {
        /// VM id.
        vm: String,
        /// New OS disk id.
        os_disk: String,
        /// New data disks.
        data_disks: Vec<(i32, String)>,
    },
}

/// A job.
#[derive(Debug, Clone)]
pub struct Job {
    /// GUID.
    pub guid: String,
    /// Vault key.
    pub vault: String,
    /// API.
    pub api: JobApi,
    /// `Restore`, `CrossRegionRestore`, …
    pub operation: String,
    /// Start.
    pub start: OffsetDateTime,
    /// End.
    pub end: OffsetDateTime,
    /// Outcome once ended.
    pub outcome: Outcome,
    /// Effects on completion.
    pub effects: Vec<Effect>,
    /// Effects applied.
    pub applied: bool,
    /// Backup instance or protected item id.
    pub source_id: String,
    /// Protected resource (disk or VM) id.
    pub datasource_id: String,
    /// Protected resource name.
    pub datasource_name: String,
    /// Recovery point.
    pub recovery_point: Option<(String, OffsetDateTime)>,
    /// Restore destination (disk id / target RG / VM id).
    pub destination: Option<String>,
    /// RSV property bag details.
    pub details: BTreeMap<String, String>,
    /// Resource ids the restore produced (filled on completion).
    pub restored: Vec<String>,
}

impl Job {
    /// Status string at `now`.
    pub fn status(&self, now: OffsetDateTime) -> &'static str {
        if now < self.end {
            return "InProgress";
        }
        match self.outcome {
            Outcome::Completed => "Completed",
            Outcome::CompletedWithWarnings => "CompletedWithWarnings",
            Outcome::Failed { .. } => "Failed",
            Outcome::Cancelled => "Cancelled",
        }
    }
}

/// Where an async operation lives (its status URL scope).
#[derive(Debug, Clone, PartialEq)]
pub enum OpScope {
    /// DPP location scope.
    DppLocation,
    /// RSV protected item scope (item key).
    RsvItem(String),
    /// RSV CRR location scope.
    RsvCrr,
}

/// What finishing an operation changes.
#[derive(Debug, Clone)]
pub enum OpEffect {
    /// Backup instance becomes protected.
    InstanceConfigured(String),
    /// Backup instance disappears.
    InstanceDeleted(String),
    /// Backup instance stops protecting (data kept).
    InstanceStopped(String),
}

/// An async operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Id as sent (DPP: base64 with padding).
    pub id: String,
    /// Scope.
    pub scope: OpScope,
    /// Subscription.
    pub subscription: String,
    /// Region (DPP location scope / CRR).
    pub location: String,
    /// Start.
    pub start: OffsetDateTime,
    /// Finish.
    pub done_at: OffsetDateTime,
    /// Resulting job (GUID, full id).
    pub job: Option<(String, String)>,
    /// Failure.
    pub error: Option<ApiError>,
    /// Effect on completion.
    pub effect: Option<OpEffect>,
    /// Applied.
    pub applied: bool,
}

impl Operation {
    /// Whether finished at `now`.
    pub fn done(&self, now: OffsetDateTime) -> bool {
        now >= self.done_at
    }
}

/// The whole state.
#[derive(Debug)]
pub struct World {
    /// Tenant.
    pub tenant_id: String,
    /// Principals (first is the default).
    pub principals: Vec<Principal>,
    /// Settings (quirks and throttle limits may be changed by the admin API).
    pub settings: Settings,
    /// Rules.
    pub rules: Rules,
    /// Resource groups by key `sub/rg`.
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    /// Disks by lower-case id.
    pub disks: BTreeMap<String, Disk>,
    /// VMs by lower-case id.
    pub vms: BTreeMap<String, Vm>,
    /// Storage account ids (lower case).
    pub storage_accounts: BTreeSet<String>,
    /// Files restore jobs wrote to staging accounts (served by [`crate::staging`]).
    pub staging: crate::staging::StagingFiles,
    /// ARM tags set through `Microsoft.Resources/tags`, by lower-case resource id (kept apart from the
    /// resource structs so tagging works the same for every resource kind).
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Microsoft.Compute async operations (deletes) by lower-case operation id: their start time. A delete
    /// takes effect at once; the operation exists so clients can follow the Location/Azure-AsyncOperation
    /// headers Azure sends.
    pub compute_operations: BTreeMap<String, crate::compute::ComputeOperation>,
    /// DELETEs refused so far by `rules.deletes`, by lower-case resource id.
    pub delete_failures: BTreeMap<String, u32>,
    /// Microsoft.Network resources (virtual networks, security groups, network interfaces).
    pub network: crate::network::Network,
    /// Managed Run Commands by lower-case id.
    pub run_commands: crate::runcommand::RunCommands,
    /// Seeded Compute usages by lower-case `sub/location`.
    pub usages: crate::quota::Usages,
    /// Policy assignments by resource group key (`rg_key`).
    pub policy_assignments: crate::policy::Assignments,
    /// Virtual network ids (lower case).
    pub vnets: BTreeSet<String>,
    /// Subnet ids (lower case).
    pub subnets: BTreeSet<String>,
    /// Backup vaults by lower-case id.
    pub backup_vaults: BTreeMap<String, Vault>,
    /// Backup instances by lower-case id.
    pub instances: BTreeMap<String, BackupInstance>,
    /// Recovery Services vaults by lower-case id.
    pub rsv_vaults: BTreeMap<String, Vault>,
    /// Protected items by lower-case id.
    pub items: BTreeMap<String, ProtectedItem>,
    /// Jobs in creation order.
    pub jobs: Vec<Job>,
    /// Operations by lower-case id.
    pub operations: HashMap<String, Operation>,
}

/// The lower-case key of a resource group.
pub fn rg_key(sub: &str, rg: &str) -> String {
    key(&format!("{sub}/{rg}"))
}

fn disk_id(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}")
}

impl World {
    /// Builds the world from a validated scenario, relative times resolved against `start`.
    pub fn from_scenario(s: &Scenario, start: OffsetDateTime) -> Result<Self, String> {
        let mut w = World {
            tenant_id: s.tenant_id.clone(),
            principals: if s.principals.is_empty() {
                vec![Principal {
                    client_id: "00000000-0000-0000-0000-0000000000c1".into(),
                    object_id: "00000000-0000-0000-0000-0000000000a1".into(),
                }]
            } else {
                s.principals.clone()
            },
            settings: s.settings.clone(),
            rules: s.rules.clone(),
            resource_groups: BTreeMap::new(),
            disks: BTreeMap::new(),
            vms: BTreeMap::new(),
            storage_accounts: BTreeSet::new(),
            staging: Default::default(),
            tags: BTreeMap::new(),
            compute_operations: BTreeMap::new(),
            delete_failures: BTreeMap::new(),
            network: crate::network::Network::default(),
            run_commands: BTreeMap::new(),
            usages: crate::quota::seed(s),
            policy_assignments: crate::policy::seed(s),
            vnets: BTreeSet::new(),
            subnets: BTreeSet::new(),
            backup_vaults: BTreeMap::new(),
            instances: BTreeMap::new(),
            rsv_vaults: BTreeMap::new(),
            items: BTreeMap::new(),
            jobs: vec![],
            operations: HashMap::new(),
        };
        let created = start - Duration::days(30);
        for (si, sub) in s.subscriptions.iter().enumerate() {
            for (ri, rg) in sub.resource_groups.iter().enumerate() {
                let at = format!("subscriptions[{si}].resourceGroups[{ri}]");
                let from = match &rg.disk_restore_operator_from {
                    Some(t) => t.resolve(start, &format!("{at}.diskRestoreOperatorFrom"))?,
                    None => None,
                };
                w.resource_groups.insert(
                    rg_key(&sub.id, &rg.name),
                    ResourceGroup {
                        subscription: sub.id.clone(),
                        name: rg.name.clone(),
                        location: rg.location.clone(),
                        disk_restore_operator_from: from,
                        disk_restore_operator_missing: rg.disk_restore_operator_missing,
                    },
                );
                let base = format!("/subscriptions/{}/resourceGroups/{}", sub.id, rg.name);
                for d in &rg.disks {
                    w.add_disk(
                        disk_id(&sub.id, &rg.name, &d.name),
                        &rg.location,
                        d.size_gb.unwrap_or(128),
                        created,
                        None,
                    );
                }
                for sa in &rg.storage_accounts {
                    w.storage_accounts.insert(key(&format!("{base}/providers/Microsoft.Storage/storageAccounts/{sa}")));
                }
                for vnet in &rg.virtual_networks {
                    let vid = format!("{base}/providers/Microsoft.Network/virtualNetworks/{}", vnet.name);
                    for sn in &vnet.subnets {
                        w.subnets.insert(key(&format!("{vid}/subnets/{}", sn.name())));
                    }
                    w.vnets.insert(key(&vid));
                }
                w.network.seed_group(&sub.id, rg).map_err(|e| format!("{at}: {e}"))?;
                for vm in &rg.vms {
                    let os = disk_id(&sub.id, &rg.name, &vm.os_disk);
                    w.add_disk(os.clone(), &rg.location, 128, created, None);
                    let mut data = vec![];
                    for dd in &vm.data_disks {
                        let id = disk_id(&sub.id, &rg.name, &dd.name);
                        w.add_disk(id.clone(), &rg.location, 256, created, None);
                        data.push((dd.lun, id));
                    }
                    let id = format!("{base}/providers/Microsoft.Compute/virtualMachines/{}", vm.name);
                    w.vms.insert(
                        key(&id),
                        Vm {
                            id,
                            name: vm.name.clone(),
                            location: rg.location.clone(),
                            size: vm.size.clone().unwrap_or_else(|| "Standard_D2s_v3".into()),
                            os_disk: os,
                            data_disks: data,
                            created_by_job: None,
                            ..Default::default()
                        },
                    );
                }
            }
            for (vi, v) in sub.backup_vaults.iter().enumerate() {
                let at = format!("subscriptions[{si}].backupVaults[{vi}]");
                let vid = format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DataProtection/backupVaults/{}",
                    sub.id, v.resource_group, v.name
                );
                w.backup_vaults.insert(
                    key(&vid),
                    Vault {
                        id: vid.clone(),
                        subscription: sub.id.clone(),
                        resource_group: v.resource_group.clone(),
                        name: v.name.clone(),
                        location: v.location.clone(),
                        crr: v.cross_region_restore,
                        secondary_region: v.secondary_region.clone(),
                        max_concurrent_restores: v.max_concurrent_restores,
                        principal_id: guid(),
                    },
                );
                for (bi, b) in v.backup_instances.iter().enumerate() {
                    if !w.disks.contains_key(&key(&b.disk)) {
                        w.add_disk(b.disk.clone(), &v.location, 128, created, None);
                    }
                    let mut rps = vec![];
                    for (ri, rp) in b.recovery_points.iter().enumerate() {
                        let f = format!("{at}.backupInstances[{bi}].recoveryPoints[{ri}]");
                        let time =
                            rp.at.resolve(start, &f)?.ok_or_else(|| format!("{f}: give 'time' or 'ageHours'"))?;
                        rps.push(DppRecoveryPoint {
                            id: rp.id.clone(),
                            time,
                            kind: rp.r#type.clone().unwrap_or_else(|| "Incremental".into()),
                            expiry: time + Duration::seconds_f64(rp.retention_days.unwrap_or(7.0) * 86400.0),
                            state: rp.state.clone().unwrap_or_else(|| "Completed".into()),
                            snapshot_deleted: rp.snapshot_deleted,
                            replicated: rp.replicated.unwrap_or(true),
                        });
                    }
                    rps.sort_by_key(|r| std::cmp::Reverse(r.time));
                    let id = format!("{vid}/backupInstances/{}", b.name);
                    let snap = b.snapshot_resource_group.clone().unwrap_or_else(|| v.resource_group.clone());
                    w.instances.insert(
                        key(&id),
                        BackupInstance {
                            id,
                            vault: key(&vid),
                            name: b.name.clone(),
                            disk_id: b.disk.clone(),
                            location: v.location.clone(),
                            policy_name: b.policy_name.clone().unwrap_or_else(|| "DiskBackupPolicy".into()),
                            snapshot_rg_id: format!("/subscriptions/{}/resourceGroups/{snap}", sub.id),
                            recovery_points: rps,
                            state: InstanceState::Configured,
                            put_properties: None,
                        },
                    );
                }
            }
            for (vi, v) in sub.recovery_services_vaults.iter().enumerate() {
                let at = format!("subscriptions[{si}].recoveryServicesVaults[{vi}]");
                let vid = format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.RecoveryServices/vaults/{}",
                    sub.id, v.resource_group, v.name
                );
                w.rsv_vaults.insert(
                    key(&vid),
                    Vault {
                        id: vid.clone(),
                        subscription: sub.id.clone(),
                        resource_group: v.resource_group.clone(),
                        name: v.name.clone(),
                        location: v.location.clone(),
                        crr: v.cross_region_restore,
                        secondary_region: v.secondary_region.clone(),
                        max_concurrent_restores: v.max_concurrent_restores,
                        principal_id: guid(),
                    },
                );
                for (pi, p) in v.protected_items.iter().enumerate() {
                    let vm = w
                        .vms
                        .get(&key(&p.vm))
                        .ok_or_else(|| format!("{at}.protectedItems[{pi}].vm '{}' is not declared", p.vm))?;
                    let vm_rg = vm.id.split('/').nth(4).unwrap_or_default().to_ascii_lowercase();
                    let native = format!("iaasvmcontainerv2;{vm_rg};{}", vm.name.to_ascii_lowercase());
                    let container = format!("IaasVMContainer;{native}");
                    let item = format!("VM;{native}");
                    let mut rps = vec![];
                    for (ri, rp) in p.recovery_points.iter().enumerate() {
                        let f = format!("{at}.protectedItems[{pi}].recoveryPoints[{ri}]");
                        let time =
                            rp.at.resolve(start, &f)?.ok_or_else(|| format!("{f}: give 'time' or 'ageHours'"))?;
                        let tiers = match &rp.tiers {
                            Some(t) => t
                                .iter()
                                .map(|t| Tier {
                                    kind: t.r#type.clone(),
                                    status: t.status.clone().unwrap_or_else(|| "Valid".into()),
                                })
                                .collect(),
                            None => vec![
                                Tier { kind: "InstantRP".into(), status: "Valid".into() },
                                Tier { kind: "HardenedRP".into(), status: "Valid".into() },
                            ],
                        };
                        rps.push(RsvRecoveryPoint {
                            id: rp.id.clone(),
                            time,
                            kind: rp.r#type.clone().unwrap_or_else(|| "AppConsistent".into()),
                            tiers,
                            expiry: time + Duration::seconds_f64(rp.retention_days.unwrap_or(30.0) * 86400.0),
                            replicated: rp.replicated.unwrap_or(true),
                        });
                    }
                    rps.sort_by_key(|r| std::cmp::Reverse(r.time));
                    let id =
                        format!("{vid}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}");
                    let (vm_id, vm_name) = (vm.id.clone(), vm.name.clone());
                    w.items.insert(
                        key(&id),
                        ProtectedItem {
                            id,
                            vault: key(&vid),
                            container_name: container,
                            item_name: item,
                            vm_id,
                            vm_name,
                            policy_name: p.policy_name.clone().unwrap_or_else(|| "DefaultPolicy".into()),
                            recovery_points: rps,
                        },
                    );
                }
            }
        }
        Ok(w)
    }

    fn add_disk(&mut self, id: String, location: &str, size_gb: u32, created: OffsetDateTime, job: Option<String>) {
        let name = id.rsplit('/').next().unwrap_or_default().to_string();
        self.disks.insert(
            key(&id),
            Disk {
                id,
                name,
                location: location.to_string(),
                size_gb,
                created,
                created_by_job: job,
                source_recovery_point: None,
            },
        );
    }

    /// The quirks in force.
    pub fn quirks(&self) -> &Quirks {
        &self.settings.quirks
    }

    /// The principal for a `client_id` (None: the default).
    pub fn principal(&self, client_id: Option<&str>) -> Option<&Principal> {
        match client_id {
            None => self.principals.first(),
            Some(c) => self
                .principals
                .iter()
                .find(|p| p.client_id.eq_ignore_ascii_case(c) || p.object_id.eq_ignore_ascii_case(c)),
        }
    }

    /// Finishes operations and applies the effects of jobs that ended by `now`.
    pub fn tick(&mut self, now: OffsetDateTime) {
        let mut op_effects = vec![];
        for op in self.operations.values_mut() {
            if !op.applied && op.done(now) {
                op.applied = true;
                if op.error.is_none()
                    && let Some(e) = op.effect.clone()
                {
                    op_effects.push(e);
                }
            }
        }
        for e in op_effects {
            match e {
                OpEffect::InstanceConfigured(k) => {
                    if let Some(bi) = self.instances.get_mut(&k) {
                        bi.state = InstanceState::Configured;
                    }
                }
                OpEffect::InstanceDeleted(k) => {
                    self.instances.remove(&k);
                }
                OpEffect::InstanceStopped(k) => {
                    if let Some(bi) = self.instances.get_mut(&k) {
                        bi.state = InstanceState::Stopped;
                    }
                }
            }
        }
        let mut i = 0;
        while i < self.jobs.len() {
            let job = &self.jobs[i];
            if !job.applied && now >= job.end {
                let mut job = self.jobs[i].clone();
                job.applied = true;
                if matches!(job.outcome, Outcome::Completed | Outcome::CompletedWithWarnings) {
                    self.apply_effects(&mut job, now);
                }
                self.jobs[i] = job;
            }
            i += 1;
        }
    }

    fn apply_effects(&mut self, job: &mut Job, _now: OffsetDateTime) {
        // A disk created meanwhile under the same name makes the job fail the way FailIfExists does.
        for e in &job.effects {
            if let Effect::CreateDisk { id, .. } = e
                && self.disks.contains_key(&key(id))
            {
                job.outcome = Outcome::Failed {
                    code: "UserErrorSameNameDiskAlreadyExists".into(),
                    message: format!("A disk with the name of the target disk '{id}' already exists."),
                };
                return;
            }
        }
        for e in job.effects.clone() {
            match e {
                Effect::CreateDisk { id, location, size_gb } => {
                    let mut disk_time = job.end;
                    disk_time = disk_time.replace_nanosecond(0).unwrap_or(disk_time);
                    self.add_disk(id.clone(), &location, size_gb, disk_time, Some(job.guid.clone()));
                    if let Some(d) = self.disks.get_mut(&key(&id)) {
                        d.source_recovery_point = job.recovery_point.as_ref().map(|r| r.0.clone());
                    }
                    job.restored.push(id);
                }
                Effect::CreateVm { id, location, size, os_disk, data_disks, subnet } => {
                    let name = id.rsplit('/').next().unwrap_or_default().to_string();
                    let nic = self.network.create_vm_nic(&id, &location, &subnet);
                    self.vms.insert(
                        key(&id),
                        Vm {
                            id: id.clone(),
                            name,
                            location,
                            size,
                            os_disk,
                            data_disks,
                            created_by_job: Some(job.guid.clone()),
                            nics: vec![nic],
                            ..Default::default()
                        },
                    );
                    job.restored.push(id);
                }
                Effect::StageFiles(plan) => plan.write(&mut self.staging, job.end),
                Effect::ReplaceDisks { vm, os_disk, data_disks } => {
                    if let Some(v) = self.vms.get_mut(&key(&vm)) {
                        v.os_disk = os_disk;
                        for (lun, d) in data_disks {
                            match v.data_disks.iter_mut().find(|(l, _)| *l == lun) {
                                Some(slot) => slot.1 = d,
                                None => v.data_disks.push((lun, d)),
                            }
                        }
                        job.restored.push(vm);
                    }
                }
            }
        }
    }

    /// Restore jobs still running in a vault at `now`.
    pub fn running_restores(&self, vault: &str, now: OffsetDateTime) -> usize {
        self.jobs.iter().filter(|j| j.vault == vault && j.operation.contains("Restore") && now < j.end).count()
    }

    /// The outcome the scenario's rules give a restore job.
    pub fn rule_outcome(&self, rp: &str, target_name: &str) -> Outcome {
        for r in &self.rules.job_outcomes {
            let rp_ok = r.recovery_point_id.as_deref().is_none_or(|x| x == rp);
            let name_ok = r.target_name.as_deref().is_none_or(|x| x.eq_ignore_ascii_case(target_name));
            if rp_ok && name_ok && (r.recovery_point_id.is_some() || r.target_name.is_some()) {
                return match r.status.as_str() {
                    "CompletedWithWarnings" => Outcome::CompletedWithWarnings,
                    "Cancelled" => Outcome::Cancelled,
                    _ => Outcome::Failed {
                        code: r.error_code.clone().unwrap_or_else(|| "UserErrorRestoreFailed".into()),
                        message: r.error_message.clone().unwrap_or_else(|| "The restore failed.".into()),
                    },
                };
            }
        }
        Outcome::Completed
    }

    /// Registers an operation and returns its id.
    pub fn add_operation(&mut self, op: Operation) -> String {
        let id = op.id.clone();
        self.operations.insert(key(&id), op);
        id
    }

    /// Looks an operation up by id (case-insensitively) within a subscription.
    pub fn operation(&self, sub: &str, id: &str) -> Option<&Operation> {
        self.operations.get(&key(id)).filter(|o| o.subscription.eq_ignore_ascii_case(sub))
    }

    /// Finds a job by GUID.
    pub fn job(&self, guid: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.guid.eq_ignore_ascii_case(guid))
    }

    /// The full ARM id of a job.
    pub fn job_full_id(&self, job: &Job) -> String {
        let vault = self.backup_vaults.get(&job.vault).or_else(|| self.rsv_vaults.get(&job.vault));
        let vid = vault.map(|v| v.id.clone()).unwrap_or_default();
        match &job.api {
            JobApi::RsvCrr { region } => format!(
                "/subscriptions/{}/providers/microsoft.recoveryservices/locations/{}/backupJobs/{}",
                vault.map(|v| v.subscription.as_str()).unwrap_or_default(),
                region,
                job.guid
            ),
            _ => format!("{vid}/backupJobs/{}", job.guid),
        }
    }

    /// The job id an operation status reports, per the `dppFullJobId` / `rsvGuidJobId` quirks.
    fn op_job_id(&self, op: &Operation) -> Option<String> {
        let q = self.quirks();
        let (guid, full) = op.job.as_ref()?;
        let full_id = match op.scope {
            OpScope::DppLocation => q.dpp_full_job_id,
            _ => !q.rsv_guid_job_id,
        };
        Some(if full_id { full.clone() } else { guid.clone() })
    }

    /// DPP `OperationResource` at `now` (`Inprogress` and the `0001-01-01T00:00:00` end time while running,
    /// per the quirks).
    pub fn dpp_operation_status(&self, op: &Operation, status_id: &str, now: OffsetDateTime) -> dp::OperationResource {
        let q = self.quirks();
        let mut body = dp::OperationResource {
            id: Some(status_id.to_string()),
            name: Some(op.id.clone()),
            start_time: Some(Timestamp::new(fmt_time(op.start))),
            ..Default::default()
        };
        if !op.done(now) {
            body.status = Some(if q.inprogress_casing { "Inprogress" } else { "InProgress" }.into());
            body.end_time = q.zero_end_time.then(|| Timestamp::new("0001-01-01T00:00:00"));
            return body;
        }
        body.end_time = Some(Timestamp::new(fmt_time(op.done_at)));
        if let Some(err) = &op.error {
            body.status = Some("Failed".into());
            body.error = Some(err.error_detail());
            return body;
        }
        body.status = Some("Succeeded".into());
        body.properties = self.op_job_id(op).map(|job_id| {
            dp::OperationExtendedInfo::OperationJobExtendedInfo(dp::OperationJobExtendedInfo { job_id: Some(job_id) })
        });
        body
    }

    /// RSV `OperationStatus` at `now` (`InProgress`, end time `0001-01-01T00:00:00.00000Z` while running, the
    /// job id a bare GUID per the quirks).
    pub fn rsv_operation_status(&self, op: &Operation, status_id: &str, now: OffsetDateTime) -> rs::OperationStatus {
        let q = self.quirks();
        let mut body = rs::OperationStatus {
            id: Some(status_id.to_string()),
            name: Some(op.id.clone()),
            start_time: Some(Timestamp::new(fmt_time(op.start))),
            ..Default::default()
        };
        if !op.done(now) {
            body.status = Some("InProgress".into());
            body.end_time = q.zero_end_time.then(|| Timestamp::new("0001-01-01T00:00:00.00000Z"));
            return body;
        }
        body.end_time = Some(Timestamp::new(fmt_time(op.done_at)));
        if let Some(err) = &op.error {
            body.status = Some("Failed".into());
            body.error =
                Some(OperationStatusError { code: Some(err.code.clone()), message: Some(err.message.clone()) });
            return body;
        }
        body.status = Some("Succeeded".into());
        body.properties = self.op_job_id(op).map(|job_id| {
            rs::OperationStatusExtendedInfo::Job(rs::OperationStatusJobExtendedInfo { job_id: Some(job_id) })
        });
        body
    }

    /// `AzureBackupJobResource` at `now`.
    pub fn dpp_job_body(&self, job: &Job, now: OffsetDateTime) -> dp::AzureBackupJobResource {
        let vault = self.backup_vaults.get(&job.vault);
        let status = job.status(now);
        let done = now >= job.end;
        let elapsed = if done { job.end - job.start } else { now - job.start };
        let bi = self.instances.get(&key(&job.source_id));
        let ds_rg = job.datasource_id.split('/').nth(4).unwrap_or_default().to_string();
        let sub = vault.map(|v| v.subscription.clone()).unwrap_or_default();
        let policy_name = bi.map(|b| b.policy_name.clone()).unwrap_or_else(|| "DiskBackupPolicy".into());
        let error_details = match (&job.outcome, done) {
            (Outcome::Failed { code, message }, true) => vec![ApiError::dpp(400, code, message.clone()).user_facing()],
            _ => vec![],
        };
        let props = dp::AzureBackupJob {
            activity_id: Some(format!("{}-Ibz", job.guid)),
            backup_instance_friendly_name: Some(job.datasource_name.clone()),
            backup_instance_id: Some(job.source_id.clone()),
            data_source_id: Some(job.datasource_id.clone()),
            data_source_location: Some(vault.map(|v| v.location.clone()).unwrap_or_default()),
            data_source_name: Some(job.datasource_name.clone()),
            data_source_type: Some("Microsoft.Compute/disks".into()),
            duration: Some(fmt_duration(elapsed.as_seconds_f64())),
            end_time: done.then(|| Timestamp::new(fmt_time(job.end))),
            error_details,
            extended_info: Some(dp::JobExtendedInfo {
                recovery_destination: job.destination.clone(),
                source_recover_point: job.recovery_point.as_ref().map(|(id, t)| dp::RestoreJobRecoveryPointDetails {
                    recovery_point_id: Some(id.clone()),
                    recovery_point_time: Some(Timestamp::new(fmt_time(*t))),
                }),
                sub_tasks: vec![dp::JobSubTask {
                    task_id: Some(1),
                    task_name: Some("Trigger Restore".into()),
                    task_status: Some(status.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            is_user_triggered: Some(true),
            operation: Some(job.operation.clone()),
            operation_category: Some(if job.operation.contains("Restore") { "Restore" } else { "Backup" }.into()),
            policy_id: Some(format!(
                "{}/backupPolicies/{policy_name}",
                vault.map(|v| v.id.clone()).unwrap_or_default()
            )),
            policy_name: Some(policy_name),
            progress_enabled: Some(false),
            source_resource_group: Some(ds_rg),
            source_subscription_id: Some(sub.clone()),
            start_time: Some(Timestamp::new(fmt_time(job.start))),
            status: Some(status.into()),
            subscription_id: Some(sub),
            supported_actions: vec![String::new()],
            vault_name: Some(vault.map(|v| v.name.clone()).unwrap_or_default()),
            ..Default::default()
        };
        ArmResource {
            id: Some(self.job_full_id(job)),
            name: Some(job.guid.clone()),
            resource_type: Some("Microsoft.DataProtection/backupVaults/backupJobs".into()),
            ..ArmResource::new(props)
        }
    }

    /// RSV `JobResource` (AzureIaaSVMJob) at `now`.
    pub fn rsv_job_body(&self, job: &Job, now: OffsetDateTime) -> rs::JobResource {
        let status = job.status(now);
        let done = now >= job.end;
        let elapsed = if done { job.end - job.start } else { now - job.start };
        let total = (job.end - job.start).as_seconds_f64().max(1.0);
        let progress = ((elapsed.as_seconds_f64() / total) * 100.0).clamp(0.0, 100.0).floor();
        let mut bag: BTreeMap<String, String> = job.details.clone();
        // Only keys Azure documents (see crate::staging); "Recovery point time " carries the trailing space
        // Azure's own output shows.
        if let Some((_, t)) = &job.recovery_point {
            bag.insert("Recovery point time ".into(), crate::util::fmt_us_time(*t));
        }
        let error_details = match (&job.outcome, done) {
            (Outcome::Failed { code, message }, true) => vec![IaasJobErrorInfo {
                error_code: Some(StrOrNum::Num(serde_json::Number::from(400_000 + code.len() as i64))),
                error_title: Some(code.clone()),
                error_string: Some(message.clone()),
                recommendations: vec!["Correct the request and retry the restore.".into()],
            }],
            _ => vec![],
        };
        let props = rs::AzureIaaSVMJob {
            entity_friendly_name: Some(job.datasource_name.clone()),
            backup_management_type: Some("AzureIaasVM".into()),
            operation: Some(job.operation.clone()),
            status: Some(status.into()),
            start_time: Some(Timestamp::new(fmt_time(job.start))),
            end_time: done.then(|| Timestamp::new(fmt_time(job.end))),
            activity_id: Some(format!("{}-{}-Ibz", job.guid, fmt_time(job.start))),
            duration: Some(fmt_duration(elapsed.as_seconds_f64())),
            actions_info: Some(if done { vec![] } else { vec!["Cancellable".into()] }),
            error_details,
            extended_info: Some(rs::AzureIaaSVMJobExtendedInfo {
                tasks_list: vec![rs::AzureIaaSVMJobTaskDetails {
                    task_id: Some("Transfer data".into()),
                    status: Some(status.into()),
                    duration: Some(fmt_duration(elapsed.as_seconds_f64())),
                    ..Default::default()
                }],
                property_bag: Some(bag),
                progress_percentage: Some(progress),
                ..Default::default()
            }),
            virtual_machine_version: Some("Compute".into()),
            ..Default::default()
        };
        ArmResource {
            id: Some(self.job_full_id(job)),
            name: Some(job.guid.clone()),
            resource_type: Some("Microsoft.RecoveryServices/vaults/backupJobs".into()),
            ..ArmResource::new(rs::Job::AzureIaaSVMJob(props))
        }
    }

    /// A disk resource body.
    pub fn disk_body(&self, d: &Disk) -> Value {
        let attached = self.vms.values().any(|v| {
            v.os_disk.eq_ignore_ascii_case(&d.id) || v.data_disks.iter().any(|(_, x)| x.eq_ignore_ascii_case(&d.id))
        });
        let mut tags: serde_json::Map<String, Value> =
            self.tags_of(&d.id).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        if let Some(j) = &d.created_by_job {
            tags.insert("RSVJobId".into(), json!(j));
        }
        json!({
            "id": d.id,
            "name": d.name,
            "type": "Microsoft.Compute/disks",
            "location": d.location,
            "tags": tags,
            "sku": {"name": "Premium_LRS", "tier": "Premium"},
            "properties": {
                "creationData": if d.created_by_job.is_some() {
                    json!({"createOption": "Restore", "sourceResourceId": d.source_recovery_point})
                } else {
                    json!({"createOption": "Empty"})
                },
                "diskSizeGB": d.size_gb,
                "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                "timeCreated": fmt_time(d.created),
                "provisioningState": "Succeeded",
                "diskState": if attached { "Attached" } else { "Unattached" }
            }
        })
    }

    /// The tags set on a resource through the tags API (empty when none).
    pub fn tags_of(&self, id: &str) -> BTreeMap<String, String> {
        self.tags.get(&key(id)).cloned().unwrap_or_default()
    }

    /// A VM resource body (built by [`crate::compute::vm_body`], which owns the Compute shapes).
    pub fn vm_body(&self, v: &Vm) -> Value {
        crate::compute::vm_body(self, v)
    }

    /// Everything, for the admin API.
    pub fn resources(&self, now: OffsetDateTime) -> Value {
        json!({
            "now": fmt_time(now),
            "disks": self.disks.values().map(|d| {
                let mut b = self.disk_body(d);
                b["createdByJob"] = json!(d.created_by_job);
                b
            }).collect::<Vec<_>>(),
            "vms": self.vms.values().map(|v| {
                let mut b = self.vm_body(v);
                b["createdByJob"] = json!(v.created_by_job);
                b
            }).collect::<Vec<_>>(),
            "stagingFiles": self.staging.names(),
            "jobs": self.jobs.iter().map(|j| json!({
                "id": self.job_full_id(j),
                "jobId": j.guid,
                "api": format!("{:?}", j.api),
                "operation": j.operation,
                "status": j.status(now),
                "startTime": fmt_time(j.start),
                "endTime": fmt_time(j.end),
                "sourceId": j.source_id,
                "recoveryPointId": j.recovery_point.as_ref().map(|r| r.0.clone()),
                "destination": j.destination,
                "restoredResourceIds": j.restored,
                "error": match &j.outcome { Outcome::Failed { code, .. } => json!(code), _ => Value::Null },
            })).collect::<Vec<_>>(),
            "backupInstances": self.instances.values().map(|b| json!({
                "id": b.id, "disk": b.disk_id, "state": format!("{:?}", b.state)
            })).collect::<Vec<_>>(),
            "protectedItems": self.items.values().map(|p| json!({"id": p.id, "vm": p.vm_id})).collect::<Vec<_>>(),
            "networkInterfaces": self.network.nics.values().map(|n| self.network.nic_body(n, &self.tags_of(&n.id))).collect::<Vec<_>>(),
            "runCommands": self.run_commands.values().map(|r| r.body(now, true)).collect::<Vec<_>>(),
            "operations": self.operations.values().map(|o| json!({
                "id": o.id,
                "status": if !o.done(now) { "InProgress" } else if o.error.is_some() { "Failed" } else { "Succeeded" },
                "jobId": o.job.as_ref().map(|j| j.0.clone()),
                "error": o.error.as_ref().map(|e| e.code.clone()),
            })).collect::<Vec<_>>(),
        })
    }
}
