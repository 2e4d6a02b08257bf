//! The two things a drill selects by id: an item (a Backup vault backup instance, i.e. a protected disk, or a
//! Recovery Services protected VM) and a vault (a Backup vault or a Recovery Services vault). Both are parsed with
//! `restore_models::arm_id`, so an id in a plan is held to the same grammar as an id in a restore request.

use std::borrow::Cow;
use std::fmt;

use restore_models::arm_id::{BackupInstanceId, BackupVaultId, ProtectedItemId, RecoveryServicesVaultId, ResourceId};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What kind of source an item protects; decides the restore mode and the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    /// A managed disk in a Backup vault (restored to a new disk).
    Disk,
    /// A VM in a Recovery Services vault (restored as disks or as a new VM).
    Vm,
}

/// A protected item: a disk's backup instance or a VM's protected item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemId {
    /// A backup instance (Backup vault, managed disk).
    Disk(BackupInstanceId),
    /// A protected item (Recovery Services vault, VM).
    Vm(ProtectedItemId),
}

impl ItemId {
    /// Parses a backup instance id or a protected item id.
    pub fn parse(text: &str) -> Result<Self, String> {
        let id = ResourceId::parse(text).map_err(|e| e.to_string())?;
        if let Ok(bi) = BackupInstanceId::try_from(id.clone()) {
            return Ok(ItemId::Disk(bi));
        }
        if let Ok(pi) = ProtectedItemId::try_from(id) {
            return Ok(ItemId::Vm(pi));
        }
        Err(format!(
            "the ARM id '{}' is neither a {} ({}) nor a {} ({})",
            printable(text),
            BackupInstanceId::KIND,
            BackupInstanceId::SHAPE,
            ProtectedItemId::KIND,
            ProtectedItemId::SHAPE
        ))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        match self {
            ItemId::Disk(b) => b.as_str(),
            ItemId::Vm(p) => p.as_str(),
        }
    }

    /// The kind of source.
    pub fn kind(&self) -> ItemKind {
        match self {
            ItemId::Disk(_) => ItemKind::Disk,
            ItemId::Vm(_) => ItemKind::Vm,
        }
    }

    /// The vault holding the item.
    pub fn vault(&self) -> VaultId {
        match self {
            ItemId::Disk(b) => VaultId::Backup(b.vault()),
            ItemId::Vm(p) => VaultId::RecoveryServices(p.vault()),
        }
    }

    /// The id in lower case: ARM ids compare case-insensitively, so this is the key for sorting and seeding,
    /// which must not depend on how a caller happened to spell an id.
    pub fn canonical(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

/// A vault: a Backup vault (disks) or a Recovery Services vault (VMs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VaultId {
    /// `Microsoft.DataProtection/backupVaults`.
    Backup(BackupVaultId),
    /// `Microsoft.RecoveryServices/vaults`.
    RecoveryServices(RecoveryServicesVaultId),
}

impl VaultId {
    /// Parses a Backup vault id or a Recovery Services vault id.
    pub fn parse(text: &str) -> Result<Self, String> {
        let id = ResourceId::parse(text).map_err(|e| e.to_string())?;
        if let Ok(v) = BackupVaultId::try_from(id.clone()) {
            return Ok(VaultId::Backup(v));
        }
        if let Ok(v) = RecoveryServicesVaultId::try_from(id) {
            return Ok(VaultId::RecoveryServices(v));
        }
        Err(format!(
            "the ARM id '{}' is neither a {} ({}) nor a {} ({})",
            printable(text),
            BackupVaultId::KIND,
            BackupVaultId::SHAPE,
            RecoveryServicesVaultId::KIND,
            RecoveryServicesVaultId::SHAPE
        ))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        match self {
            VaultId::Backup(v) => v.as_str(),
            VaultId::RecoveryServices(v) => v.as_str(),
        }
    }

    /// The untyped id (what the policy lists).
    pub fn resource_id(&self) -> &ResourceId {
        match self {
            VaultId::Backup(v) => v.resource_id(),
            VaultId::RecoveryServices(v) => v.resource_id(),
        }
    }

    /// The kind of items the vault holds.
    pub fn item_kind(&self) -> ItemKind {
        match self {
            VaultId::Backup(_) => ItemKind::Disk,
            VaultId::RecoveryServices(_) => ItemKind::Vm,
        }
    }

    /// The subscription of the vault.
    pub fn subscription(&self) -> &str {
        self.resource_id().subscription()
    }
}

/// The restore request id of `item` in the run `run_id`: `{runId}.{16 hex digits}`, the digits being the FNV-1a 64
/// hash of the item id in lower case. Deterministic, so a resent request is deduplicated by the intake's
/// exactly-once core; within the contract's request-id alphabet and length (at most 50 + 17 + 17 = 84 characters).
/// A hash rather than the item's name: names carry `;` and may be long, and one run drills few items, so a 64-bit
/// collision is not a practical concern.
pub fn drill_request_id(run_id: &str, item: &ItemId) -> String {
    format!("{run_id}.{:016x}", crate::rng::fnv1a64(&item.canonical()))
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

macro_rules! string_id_serde {
    ($ty:ident, $name:literal, $description:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": restore_contract::schema::ARM_ID_PATTERN,
                    "maxLength": restore_models::arm_id::MAX_ID_LEN,
                    "description": $description,
                })
            }
        }
    };
}

string_id_serde!(
    ItemId,
    "ItemId",
    "ARM id of a Backup vault backup instance (a protected disk: …/Microsoft.DataProtection/backupVaults/{vault}/backupInstances/{instance}) or of a Recovery Services protected item (a VM: …/Microsoft.RecoveryServices/vaults/{vault}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item})."
);
string_id_serde!(
    VaultId,
    "VaultId",
    "ARM id of a Backup vault (…/Microsoft.DataProtection/backupVaults/{vault}) or a Recovery Services vault (…/Microsoft.RecoveryServices/vaults/{vault})."
);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";

    pub fn bi(name: &str) -> String {
        format!(
            "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/{name}"
        )
    }

    pub fn pi(vm: &str) -> String {
        let n = format!("iaasvmcontainerv2;rg-app;{vm}");
        format!(
            "{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms/backupFabrics/Azure/protectionContainers/IaasVMContainer;{n}/protectedItems/VM;{n}"
        )
    }

    #[test]
    fn items_and_vaults_parse_by_kind() {
        let d = ItemId::parse(&bi("app-data-01-bi")).unwrap();
        assert_eq!(d.kind(), ItemKind::Disk);
        assert!(d.vault().as_str().ends_with("/backupVaults/bv-disks"));
        assert_eq!(d.vault().item_kind(), ItemKind::Disk);
        let v = ItemId::parse(&pi("vm-web-01")).unwrap();
        assert_eq!(v.kind(), ItemKind::Vm);
        assert!(v.vault().as_str().ends_with("/vaults/rsv-vms"));
        assert_eq!(v.canonical(), pi("vm-web-01").to_ascii_lowercase());
        let disk = format!("{SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks/d");
        assert!(ItemId::parse(&disk).unwrap_err().contains("neither"));
        assert!(ItemId::parse("/subscriptions/x/../y").is_err());
        let rsv =
            VaultId::parse(&format!("{SUB}/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v")).unwrap();
        assert_eq!(rsv.item_kind(), ItemKind::Vm);
        assert!(VaultId::parse(&disk).unwrap_err().contains("neither"));
    }

    #[test]
    fn drill_request_ids_are_deterministic_valid_and_distinct() {
        let run = format!("{}.20261205T060000Z", "p".repeat(50));
        let a = ItemId::parse(&bi("d1")).unwrap();
        let upper = ItemId::parse(&bi("d1").replace("rg-backup", "RG-BACKUP")).unwrap();
        let b = ItemId::parse(&pi("vm1")).unwrap();
        let id = drill_request_id(&run, &a);
        assert_eq!(id, drill_request_id(&run, &upper), "ARM ids ignore case, so must the request id");
        assert_ne!(id, drill_request_id(&run, &b));
        assert_ne!(id, drill_request_id("p.20261206T060000Z", &a));
        restore_contract::request::validate::check_request_id(&id).unwrap();
        assert!(id.starts_with(&run) && id.len() == run.len() + 17, "{id}");
    }
}
