//! The evidence pack of one drill run: everything its report page shows, as JSON an auditor's tooling can read.

use restore_contract::Timestamp;
use restore_drills::ItemId;
use restore_drills::result::{DrillResult, ItemOutcome, ItemResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The evidence pack of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "EvidencePack",
    description = "Evidence of one recovery drill run, version 1. See docs/drills.md.",
    extend("additionalProperties" = false)
)]
pub struct EvidencePack {
    /// Pack version; the string "1".
    pub version: PackVersion,
    /// When the pack was written.
    pub generated_at: Timestamp,
    /// The run as its drill result message states it: outcome, items with timeline and RTO, signals.
    pub run: DrillResult,
    /// What was read and deleted for each item, in the order of `run.items`.
    pub items: Vec<ItemEvidence>,
    /// What was verified, in an auditor's words; one statement per item, derived from the figures above.
    pub attestation: Vec<String>,
}

/// The pack version. Only "1" exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PackVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

/// What the drill read and deleted for one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemEvidence {
    /// The item.
    pub item: ItemId,
    /// Restored size in GiB (sum of the restored disks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_gib: Option<u64>,
    /// Age of the recovery point at the scheduled time, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_age_seconds: Option<i64>,
    /// Each check, with what it read.
    #[serde(default)]
    pub checks: Vec<CheckEvidence>,
    /// Each resource the drill created for the item and what became of it.
    #[serde(default)]
    pub cleanup: Vec<CleanupEvidence>,
}

/// One check's result and evidence (defined with the checks, in `restore-drills`).
pub use restore_drills::checks::CheckResult as CheckEvidence;

/// A resource the drill created and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupEvidence {
    /// Its ARM id (or a staging file's URL).
    pub resource: String,
    /// Deleted, and a GET confirmed it gone (404).
    pub deleted: bool,
    /// When the GET confirmed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<Timestamp>,
    /// Why it is not deleted (yet), when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl EvidencePack {
    /// A pack for `run` and its items' evidence, with the attestation derived from both.
    pub fn new(generated_at: Timestamp, run: DrillResult, items: Vec<ItemEvidence>) -> EvidencePack {
        let attestation =
            run.items.iter().map(|r| attest(r, items.iter().find(|e| e.item == r.item))).collect::<Vec<_>>();
        EvidencePack { version: PackVersion::V1, generated_at, run, items, attestation }
    }

    /// The evidence of `item`, if the pack holds any.
    pub fn evidence(&self, item: &ItemId) -> Option<&ItemEvidence> {
        self.items.iter().find(|e| &e.item == item)
    }
}

/// Minutes, rounded to one decimal.
pub fn minutes(seconds: i64) -> String {
    let tenths = (seconds * 10 + 30) / 60;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A duration in the largest sensible unit (`3 h 20 min`, `2 d 4 h`).
pub fn human_age(seconds: i64) -> String {
    let (d, h, m) = (seconds / 86_400, (seconds % 86_400) / 3600, (seconds % 3600) / 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

fn date_of(t: &Timestamp) -> String {
    let text = t.to_string();
    text.get(..10).unwrap_or(&text).to_string()
}

/// One item's statement.
fn attest(r: &ItemResult, e: Option<&ItemEvidence>) -> String {
    let date = r.timeline.triggered.as_ref().or(r.timeline.scheduled.as_ref()).map(date_of).unwrap_or_default();
    let point = match &r.recovery_point {
        Some(p) => {
            let age = e
                .and_then(|e| e.recovery_point_age_seconds)
                .map(|a| format!(", {} old", human_age(a)))
                .unwrap_or_default();
            format!("from recovery point {} taken {}{age}", p.name, p.time)
        }
        None => "from a recovery point this pack does not name".into(),
    };
    let checks = e.map(|e| (e.checks.iter().filter(|c| c.passed).count(), e.checks.len())).unwrap_or((0, 0));
    let cleanup = e.map(|e| (e.cleanup.iter().filter(|c| c.deleted).count(), e.cleanup.len())).unwrap_or((0, 0));
    let cleaned = if cleanup.1 == 0 {
        "no test resources were recorded".to_string()
    } else if cleanup.1 == 1 && cleanup.0 == 1 {
        "the test resource was deleted and confirmed gone".to_string()
    } else if cleanup.0 == cleanup.1 {
        format!("all {} test resources were deleted, each confirmed gone", cleanup.1)
    } else {
        format!("{} of {} test resources were deleted; the rest are listed as leftovers", cleanup.0, cleanup.1)
    };
    match r.outcome {
        ItemOutcome::Passed => {
            let rto = match r.rto.measured_seconds {
                Some(s) => format!(
                    "was restored and usable in {} minutes against a target of {} minutes",
                    minutes(s),
                    minutes(r.rto.target_seconds)
                ),
                None => "was restored".into(),
            };
            format!(
                "On {date}, a restore test of {} was performed {point}; it {rto}; {} of {} checks passed; {cleaned}.",
                r.item.as_str(),
                checks.0,
                checks.1
            )
        }
        ItemOutcome::Failed => {
            let why = r.failure.as_ref().map(|f| f.message.as_str()).unwrap_or("no reason recorded");
            format!(
                "On {date}, a restore test of {} was performed {point}; it FAILED: {why}; {} of {} checks passed; {cleaned}.",
                r.item.as_str(),
                checks.0,
                checks.1
            )
        }
        ItemOutcome::Skipped => {
            format!("On {date}, {} was selected but not restored ({:?}).", r.item.as_str(), r.skipped)
        }
    }
}

/// The JSON Schema of the evidence pack.
pub fn schema() -> serde_json::Value {
    let mut value = schemars::schema_for!(EvidencePack).to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("$id".into(), serde_json::Value::String("urn:restore-drills:evidence-pack.schema.json".into()));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(minutes(754), "12.6");
        assert_eq!(minutes(3600), "60.0");
        assert_eq!(human_age(59 * 60), "59 min");
        assert_eq!(human_age(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(human_age(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }
}
