//! Alert input: the Azure Monitor common alert schema ([`common`]), the alertContext of Azure Backup's built-in
//! alerts ([`backup`]), and the alert rules that turn an alert into a restore request ([`rules`]).

pub mod backup;
pub mod common;
pub mod rules;

pub use backup::BackupAlertContext;
pub use common::{COMMON_ALERT_SCHEMA_ID, CommonAlert, Essentials, MonitorCondition};
pub use rules::{AlertAction, AlertMatch, AlertOutcome, AlertRule, map_alert};
