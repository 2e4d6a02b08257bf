//! The candidates a run selects from, gathered from Azure: the protected items of every vault the selection
//! needs (the explicit items' vaults, `selection.vaults`, and for a tag selection every vault the policy allows),
//! each with its source disk or VM as it is now, and that source's tags.
//!
//! A source that no longer exists is exactly the item a real disaster hits, so it stays a candidate: its tags are
//! the ones last recorded for it ([`crate::history`]); with none recorded, [`crate::select::select`] reports it
//! rather than guessing. Items of other kinds a vault protects (blobs, SQL, file shares) are not drilled and are
//! left out here on their datasource type; an item whose id does not parse is reported, never dropped silently.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use restore_models::arm_id::ResourceId;
use serde_json::Value;

use crate::history::PlanHistory;
use crate::ids::{ItemId, VaultId};
use crate::item::{DrillAzure, SeamError};
use crate::plan::Selection;
use crate::select::Candidate;

/// Listing a vault's protected items.
#[async_trait]
pub trait VaultInventory: Send + Sync {
    /// The vault's protected items as Azure lists them (every page): a Backup vault's backup instances, a Recovery
    /// Services vault's protected Azure VMs.
    async fn protected_items(&self, vault: &VaultId) -> Result<Vec<Value>, SeamError>;
}

/// What [`gather`] found.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Every drillable item of the vaults listed, with its source; each once.
    pub candidates: Vec<Candidate>,
    /// The source GET body of each candidate whose source exists, by canonical item id (what the checks compare
    /// against; read once here so a run does not read it twice).
    pub sources: BTreeMap<String, Value>,
    /// Items a vault listed whose id is not a disk backup instance or VM protected item id: `(id, why)`.
    pub unreadable: Vec<(String, String)>,
}

/// The vaults a selection needs listed: explicit items' vaults, `selection.vaults`, and for a tag selection every
/// vault in `allowed` (the policy's). Each once, in that order.
pub fn vaults_to_list(selection: &Selection, allowed: &[ResourceId]) -> Vec<VaultId> {
    let mut out: Vec<VaultId> = Vec::new();
    let explicit = selection.items.iter().map(ItemId::vault);
    let tagged: Vec<VaultId> = if selection.tags.is_empty() {
        Vec::new()
    } else {
        allowed.iter().filter_map(|id| VaultId::parse(id.as_str()).ok()).collect()
    };
    for v in explicit.chain(selection.vaults.iter().cloned()).chain(tagged) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The item's source: `properties.dataSourceInfo.resourceID` of a backup instance, `properties.sourceResourceId`
/// of a protected item.
pub fn source_id(item: &Value) -> Option<&str> {
    let p = &item["properties"];
    p["dataSourceInfo"]["resourceID"].as_str().or(p["sourceResourceId"].as_str())
}

/// Whether a listed item is one a drill restores: a backup instance of a managed disk, or an Azure VM.
fn drillable(item: &Value) -> bool {
    let p = &item["properties"];
    match p["dataSourceInfo"]["datasourceType"].as_str() {
        Some(t) => t.eq_ignore_ascii_case("Microsoft.Compute/disks"),
        None => p["protectedItemType"].as_str().or(p["workloadType"].as_str()).is_none_or(|t| {
            t.eq_ignore_ascii_case("Microsoft.Compute/virtualMachines") || t.eq_ignore_ascii_case("VM")
        }),
    }
}

/// The source's tags from its GET body (`tags`, absent meaning none).
fn tags_of(body: &Value) -> BTreeMap<String, String> {
    body["tags"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// Lists `vaults` and reads each item's source. A seam error fails the gathering (the run starts on a later
/// tick, within its start window), so a run never starts on half an inventory.
pub async fn gather(
    vaults: &[VaultId],
    inventory: &dyn VaultInventory,
    azure: &dyn DrillAzure,
    history: &PlanHistory,
) -> Result<Inventory, SeamError> {
    let mut out = Inventory::default();
    let mut seen = HashSet::new();
    for vault in vaults {
        for body in inventory.protected_items(vault).await? {
            if !drillable(&body) {
                continue;
            }
            let Some(text) = body["id"].as_str() else {
                out.unreadable.push((String::new(), "a listed item has no id".into()));
                continue;
            };
            let id = match ItemId::parse(text) {
                Ok(id) => id,
                Err(e) => {
                    out.unreadable.push((text.to_string(), e));
                    continue;
                }
            };
            if !seen.insert(id.canonical()) {
                continue;
            }
            let source_id = source_id(&body).and_then(|s| ResourceId::parse(s).ok());
            let source = match &source_id {
                Some(s) => azure.get(s.as_str()).await?,
                None => None,
            };
            let recorded = history.item(&id);
            let tags = match &source {
                Some(body) => Some(tags_of(body)),
                None => recorded.and_then(|h| h.source_tags.clone()),
            };
            if let Some(body) = source {
                out.sources.insert(id.canonical(), body);
            }
            out.candidates.push(Candidate {
                source_exists: out.sources.contains_key(&id.canonical()),
                last_drilled: recorded.and_then(|h| h.last_drilled).map(|t| t.get()),
                last_passed: recorded.and_then(|h| h.last_passed).map(|t| t.get()),
                id,
                source_id,
                tags,
            });
        }
    }
    Ok(out)
}
