//! The emulated Azure: resources, recovery points, jobs and async operations, driven by the clock.
//!
//! Nothing moves by itself: every request (and every admin read) calls [`World::tick`] with the clock's time,
//! which finishes operations and materialises the effects of completed jobs (restored disks, new VMs, swapped
//! disks). Status reads compute their state from the time they are asked at, so advancing the clock is all a
//! test has to do.
//!
//! Split by concern: this module holds the resources and the clock's effects; [`crate::seed`] builds the world
//! from a scenario; [`crate::bodies`] renders jobs, operation statuses, disks and VMs; [`crate::compute`],
//! [`crate::network`], [`crate::runcommand`], [`crate::quota`], [`crate::policy`] and [`crate::staging`] hold
//! the resource families added for drills.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use time::OffsetDateTime;

use restore_models::dataprotection as dp;

use crate::error::ApiError;
use crate::identity::Principal;
use crate::scenario::{Quirks, Rules, Settings};
use crate::util::{fmt_time, key};

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

pub(crate) fn disk_id(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}")
}

impl World {
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
