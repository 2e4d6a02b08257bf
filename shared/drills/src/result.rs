//! The drill result message (JSON Schema `schemas/drill-result.schema.json`), published on the drills' own output
//! so consumers of restore results never receive it: the run outcome, each item's result with its timeline and
//! RTO, and the signals (missed run, late or stuck run, coverage breach, RTO over target or regressed, cleanup
//! incomplete, plan no longer valid), which are separate from the outcome so alerts can key on them.

use restore_contract::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, ItemKind};
use crate::plan::Region;
use crate::point::PointTier;

/// A drill result message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "DrillResult",
    description = "Scheduled recovery drill result, version 1. See docs/drills.md.",
    extend("additionalProperties" = false)
)]
pub struct DrillResult {
    /// Message version; the string "1".
    pub version: ResultVersion,
    /// The plan's name.
    pub plan: String,
    /// The run id (plan name + scheduled UTC time); for a missed run, the id the run would have had.
    pub run_id: String,
    /// The scheduled time.
    pub scheduled_at: Timestamp,
    /// When the run started; absent for a missed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// When the run ended; absent while it runs (a stuck-run message) and for a missed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// The outcome, from the items' outcomes; absent when there was no run (missed) or it has not ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    /// One entry per item the run drilled or skipped.
    #[serde(default)]
    pub items: Vec<ItemResult>,
    /// Signals raised by this run (or by its absence).
    #[serde(default)]
    pub signals: Vec<Signal>,
}

impl DrillResult {
    /// A result that carries only a signal about an occurrence, such as a missed or stuck run: no outcome, no
    /// items (the run did not start, or has not ended).
    pub fn signal_only(plan: &str, run_id: &str, scheduled_at: Timestamp, signal: Signal) -> DrillResult {
        DrillResult {
            version: ResultVersion::V1,
            plan: plan.to_string(),
            run_id: run_id.to_string(),
            scheduled_at,
            started_at: None,
            ended_at: None,
            outcome: None,
            items: Vec::new(),
            signals: vec![signal],
        }
    }
}

/// The result version. Only "1" exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ResultVersion {
    /// Version 1.
    #[serde(rename = "1")]
    V1,
}

/// A run's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RunOutcome {
    /// Every item was restored and passed its checks.
    Passed,
    /// No item passed (including a run that selected nothing: a drill that verified nothing is not green).
    Failed,
    /// Some items passed, others failed or were skipped.
    Partial,
}

/// An item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ItemOutcome {
    /// Restored and every check passed.
    Passed,
    /// The restore or a check failed (see `failure`).
    Failed,
    /// Not attempted (see `skipped`).
    Skipped,
}

/// One item's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemResult {
    /// The item.
    pub item: ItemId,
    /// Disk or VM.
    pub kind: ItemKind,
    /// The item's source disk or VM no longer exists (the drill shows whether it could be brought back).
    #[serde(default, skip_serializing_if = "is_false")]
    pub source_missing: bool,
    /// The outcome.
    pub outcome: ItemOutcome,
    /// The recovery point restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<RecoveryPointUsed>,
    /// What happened when.
    pub timeline: Timeline,
    /// Measured RTO against the target.
    pub rto: RtoResult,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The recovery point a run restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoveryPointUsed {
    /// Its name.
    pub name: String,
    /// When it was taken.
    pub time: Timestamp,
    /// The tier restored from, when Azure says (disks: always the snapshot tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<PointTier>,
    /// The region restored from.
    pub region: Region,
}

/// An item's timeline. RTO runs from `triggered` to `checksPassed`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timeline {
    /// The run's scheduled time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<Timestamp>,
    /// The restore request was accepted by the intake (the trigger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered: Option<Timestamp>,
    /// Azure's restore job started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_started: Option<Timestamp>,
    /// Azure's restore job ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ended: Option<Timestamp>,
    /// Every check passed: the restored item is usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks_passed: Option<Timestamp>,
    /// Every resource the drill created for the item is confirmed deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaned_up: Option<Timestamp>,
}

/// Measured RTO against the target, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RtoResult {
    /// Trigger → usable; absent when the item never became usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<i64>,
    /// The item's target.
    pub target_seconds: i64,
    /// `measuredSeconds` > `targetSeconds`.
    pub over_target: bool,
    /// Median of the item's previous (up to five) measured RTOs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_last_five_seconds: Option<i64>,
    /// Over target, or more than 1.5 × `medianLastFiveSeconds`.
    pub regression: bool,
}

/// Why an item failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Failure {
    /// Where it failed.
    pub stage: FailureStage,
    /// The check that failed (e.g. `vmAgentReady`, `runCommand`, `webhook`), for `stage: check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Azure's error code or ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Azure's message or ours.
    pub message: String,
}

/// Where an item failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FailureStage {
    /// The run's preflight refused it before any write (isolation, quota, policy).
    Preflight,
    /// The restore request was refused, or validation before it failed.
    Request,
    /// Azure's restore job failed or timed out.
    Restore,
    /// A check failed.
    Check,
}

/// Why an item was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// It would have exceeded the plan's cost guard.
    CostGuard,
    /// No recovery point at or before the scheduled time.
    NoRecoveryPoint,
    /// No recovery point in the required tier.
    NoRecoveryPointInTier,
    /// No recovery point in the random window.
    NoRecoveryPointInWindow,
    /// Its source is gone and its tags were never recorded, so the tag selection cannot tell whether it belongs.
    SourceTagsUnknown,
}

/// A signal: something operators are alerted on, separate from the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Signal {
    /// The run was due and did not start within its start window.
    MissedRun {
        /// When the start window closed.
        window_closed_at: Timestamp,
    },
    /// The run ended after its completion window.
    LateRun {
        /// The end of the completion window.
        deadline: Timestamp,
        /// When it ended.
        ended_at: Timestamp,
    },
    /// The run has not ended and its completion window has passed.
    StuckRun {
        /// The end of the completion window.
        deadline: Timestamp,
    },
    /// Selected items not drilled within the coverage window.
    CoverageBreach {
        /// The plan's coverage window, in days.
        within_days: u32,
        /// The items outside it, with their last drill.
        items: Vec<CoverageGapEntry>,
    },
    /// An item's RTO exceeded its target.
    RtoOverTarget {
        /// The item.
        item: ItemId,
        /// Measured RTO, seconds.
        measured_seconds: i64,
        /// Target, seconds.
        target_seconds: i64,
    },
    /// An item's RTO exceeded 1.5 × the median of its last five drills.
    RtoRegression {
        /// The item.
        item: ItemId,
        /// Measured RTO, seconds.
        measured_seconds: i64,
        /// Median of its previous (up to five) RTOs, seconds.
        median_last_five_seconds: i64,
    },
    /// Resources the drill created are not (yet) confirmed deleted.
    CleanupIncomplete {
        /// Their ARM ids (or staging blob URLs) and why.
        resources: Vec<Leftover>,
    },
    /// The plan no longer validates; it is not run until fixed.
    PlanInvalid {
        /// The stable error code, e.g. `plan.notAllowedByPolicy`.
        code: String,
        /// The field (JSON path).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// The rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// An item outside the coverage window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoverageGapEntry {
    /// The item.
    pub item: ItemId,
    /// The scheduled time of its last drill that passed; absent if none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_passed: Option<Timestamp>,
}

/// A resource not confirmed deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Leftover {
    /// Its ARM id or blob URL.
    pub resource: String,
    /// Why it is still there (the delete's error, "delete pending", "outside the sandbox: never deleted", …).
    pub reason: String,
}

impl From<&crate::error::PlanError> for Signal {
    fn from(e: &crate::error::PlanError) -> Self {
        Signal::PlanInvalid {
            code: e.code().to_string(),
            field: e.field.clone(),
            rule: e.rule.map(str::to_string),
            message: e.to_string(),
        }
    }
}

impl From<&crate::select::CoverageGap> for CoverageGapEntry {
    fn from(g: &crate::select::CoverageGap) -> Self {
        CoverageGapEntry { item: g.item.clone(), last_passed: g.last_passed.map(Timestamp::from) }
    }
}
