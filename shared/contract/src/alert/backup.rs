//! The `alertContext` of Azure Backup's built-in (Azure Monitor based) alerts, e.g. "Backup Failure" and
//! "Restore Failure" (users-and-anchors.md §5.3): the vault is in `alertTargetIDs`; the item is here, as
//! `protectedItemId` (a Recovery Services protected item or a Backup vault backup instance) and `linkedResourceId`
//! (the workload: the VM or disk), with the failed job in `extendedInfo.jobId`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The parts of a built-in Backup alert's context the rules use. Everything else stays in the raw context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupAlertContext {
    /// `Jobs` or `Security`.
    #[serde(default)]
    pub category: Option<String>,
    /// ARM path of the backed-up item as the Backup service names it.
    #[serde(default)]
    pub source_id: Option<String>,
    /// E.g. `VM`, `SQLDataBase`, `AzureDisk`.
    #[serde(default)]
    pub source_type: Option<String>,
    /// Full id of the protected item (vault → fabric → container → protectedItem) or backup instance.
    #[serde(default)]
    pub protected_item_id: Option<String>,
    /// The workload (VM or disk) ARM id.
    #[serde(default)]
    pub linked_resource_id: Option<String>,
    /// The workload's name.
    #[serde(default)]
    pub linked_resource_name: Option<String>,
    /// Job details.
    #[serde(default)]
    pub extended_info: Option<BackupAlertExtendedInfo>,
}

/// `alertContext.extendedInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupAlertExtendedInfo {
    /// The failed job's id.
    #[serde(default)]
    pub job_id: Option<String>,
}

impl BackupAlertContext {
    /// Reads the context tolerantly; a context that is not an object (or has odd types) yields the default.
    pub fn from_context(context: &Value) -> Self {
        serde_json::from_value(context.clone()).unwrap_or_default()
    }
}
