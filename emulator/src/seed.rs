//! Building the emulated world from a scenario file ([`World::from_scenario`]): subscriptions, resource groups,
//! vaults, recovery points, protected items, and what the scenario's switches set.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::{Duration, OffsetDateTime};

use crate::identity::Principal;
use crate::scenario::Scenario;
use crate::util::{guid, key};
use crate::world::*;

/// A vault of either kind from its spec (Backup vaults' and Recovery Services vaults' specs share these fields).
macro_rules! vault {
    ($vid:expr, $sub:expr, $v:expr) => {
        Vault {
            id: $vid.clone(),
            subscription: $sub.id.clone(),
            resource_group: $v.resource_group.clone(),
            name: $v.name.clone(),
            location: $v.location.clone(),
            crr: $v.cross_region_restore,
            secondary_region: $v.secondary_region.clone(),
            max_concurrent_restores: $v.max_concurrent_restores,
            principal_id: guid(),
        }
    };
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
                    let id = disk_id(&sub.id, &rg.name, &d.name);
                    if !d.tags.is_empty() {
                        w.tags.insert(key(&id), d.tags.clone());
                    }
                    w.add_disk(id, &rg.location, d.size_gb.unwrap_or(128), created, None);
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
                    if !vm.tags.is_empty() {
                        w.tags.insert(key(&id), vm.tags.clone());
                    }
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
                w.backup_vaults.insert(key(&vid), vault!(vid, sub, v));
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
                w.rsv_vaults.insert(key(&vid), vault!(vid, sub, v));
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

    pub(crate) fn add_disk(
        &mut self,
        id: String,
        location: &str,
        size_gb: u32,
        created: OffsetDateTime,
        job: Option<String>,
    ) {
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
}
