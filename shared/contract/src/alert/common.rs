//! The Azure Monitor common alert schema (alerts-common-schema.md), read tolerantly: Azure adds essentials fields
//! over time (`targetResourceType`, `alertRuleID`, `investigationLink`…), so unknown fields are kept, not refused;
//! `alertContext` varies by monitoring service and stays raw JSON. Target ids stay strings: for log alerts they can
//! be a workspace, and one odd id must not make the whole alert unreadable; rules parse them when they match.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `schemaId` of the common alert schema.
pub const COMMON_ALERT_SCHEMA_ID: &str = "azureMonitorCommonAlertSchema";

/// A common-alert-schema payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonAlert {
    /// Always [`COMMON_ALERT_SCHEMA_ID`].
    pub schema_id: String,
    /// The alert.
    pub data: AlertData,
}

/// `data` of a common alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertData {
    /// The fields every alert has.
    pub essentials: Essentials,
    /// Service-specific context (raw).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub alert_context: Value,
    /// Custom properties set on the action (raw: values are usually strings but Azure does not promise it).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub custom_properties: Value,
}

/// The essentials section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Essentials {
    /// `/subscriptions/{s}/providers/Microsoft.AlertsManagement/alerts/{guid}`: one per fired alert.
    pub alert_id: String,
    /// The alert rule's name (`Backup Failure`, `Restore Failure`, or a user rule's name).
    pub alert_rule: String,
    /// `Sev0` … `Sev4`.
    #[serde(default)]
    pub severity: String,
    /// `Metric`, `Log`, `Activity Log`.
    #[serde(default)]
    pub signal_type: String,
    /// Fired or Resolved.
    pub monitor_condition: MonitorCondition,
    /// `Platform`, `Log Analytics`, `Azure Backup`, …
    #[serde(default)]
    pub monitoring_service: String,
    /// The affected resources. Azure Backup's built-in alerts name the *vault* here, not the item.
    #[serde(default, rename = "alertTargetIDs")]
    pub alert_target_ids: Vec<String>,
    /// Names of the affected resources.
    #[serde(default)]
    pub configuration_items: Vec<String>,
    /// The original alert id (deduplication across re-fires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_alert_id: Option<String>,
    /// When it fired (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_date_time: Option<String>,
    /// When it resolved (metric alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_date_time: Option<String>,
    /// Description (the error text for Backup alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Newer payloads: type of the target, e.g. `microsoft.recoveryservices/vaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_type: Option<String>,
    /// Newer payloads: resource group of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource_group: Option<String>,
    /// Every other field, kept.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `monitorCondition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MonitorCondition {
    /// The condition is met.
    Fired,
    /// The condition cleared.
    Resolved,
}

impl CommonAlert {
    /// The essentials.
    pub fn essentials(&self) -> &Essentials {
        &self.data.essentials
    }

    /// The type of the (first) target, lower-cased: `targetResourceType` when present, otherwise derived from the
    /// first target id (`microsoft.compute/disks`).
    pub fn target_type(&self) -> Option<String> {
        if let Some(t) = &self.data.essentials.target_resource_type {
            return Some(t.to_ascii_lowercase());
        }
        let first = self.data.essentials.alert_target_ids.first()?;
        let id = restore_models::arm_id::ResourceId::parse(first).ok()?;
        let ns = id.namespace()?;
        let kinds: Vec<&str> = id.chain().iter().map(|t| t.kind.as_str()).collect();
        Some(format!("{ns}/{}", kinds.join("/")).to_ascii_lowercase())
    }
}
