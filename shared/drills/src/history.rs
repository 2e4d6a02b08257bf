//! What a plan remembers across runs, per item: when it was last drilled and last passed, its last measured
//! RTOs (the regression rule's median), and its source's tags as last seen (so a tag selection still finds an
//! item whose source has since been deleted). One document per plan, updated under compare-and-swap when a run
//! ends; a run that ends twice (a retried store write) is folded in once, by its run id.

use std::collections::BTreeMap;

use restore_contract::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::ItemId;
use crate::result::{DrillResult, ItemOutcome};

/// RTOs kept per item: the regression rule looks at the last five.
pub const RTOS_KEPT: usize = 5;

/// Run ids remembered as folded in (a run ends once; this bounds the re-fold check).
const RUNS_KEPT: usize = 32;

/// A plan's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanHistory {
    /// By canonical (lower-case) item id.
    #[serde(default)]
    pub items: BTreeMap<String, ItemHistory>,
    /// The last runs folded in, newest last.
    #[serde(default)]
    pub runs: Vec<String>,
    /// When the drill function first read the plan: occurrences before it are not missed runs (the plan did not
    /// exist yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
}

/// One item's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemHistory {
    /// The scheduled time of the last run that attempted it (what `leastRecentlyDrilled` orders by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drilled: Option<Timestamp>,
    /// The scheduled time of the last run in which it passed (what the coverage target counts: a drill that
    /// failed verified nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_passed: Option<Timestamp>,
    /// Its last measured RTOs in seconds, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rtos: Vec<i64>,
    /// Its source's tags when last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_tags: Option<BTreeMap<String, String>>,
}

impl PlanHistory {
    /// The store key of a plan's history.
    pub fn key(plan: &str) -> String {
        format!("drill-history:{plan}")
    }

    /// An item's history, if any.
    pub fn item(&self, id: &ItemId) -> Option<&ItemHistory> {
        self.items.get(&id.canonical())
    }

    /// An item's previous RTOs, oldest first (for [`crate::run::DrillRun::result`]).
    pub fn rtos(&self, id: &ItemId) -> Vec<i64> {
        self.item(id).map(|h| h.rtos.clone()).unwrap_or_default()
    }

    /// Records the source tags seen when a run started.
    pub fn remember_tags(&mut self, id: &ItemId, tags: BTreeMap<String, String>) {
        self.items.entry(id.canonical()).or_default().source_tags = Some(tags);
    }

    /// Folds an ended run's result in; returns false (and changes nothing) when it was already folded in.
    pub fn record(&mut self, result: &DrillResult) -> bool {
        if self.runs.iter().any(|r| r == &result.run_id) {
            return false;
        }
        for item in &result.items {
            if item.outcome == ItemOutcome::Skipped {
                continue;
            }
            let h = self.items.entry(item.item.canonical()).or_default();
            h.last_drilled = h.last_drilled.max(Some(result.scheduled_at));
            if item.outcome == ItemOutcome::Passed {
                h.last_passed = h.last_passed.max(Some(result.scheduled_at));
                if let Some(rto) = item.rto.measured_seconds {
                    h.rtos.push(rto);
                    let excess = h.rtos.len().saturating_sub(RTOS_KEPT);
                    h.rtos.drain(..excess);
                }
            }
        }
        self.runs.push(result.run_id.clone());
        let excess = self.runs.len().saturating_sub(RUNS_KEPT);
        self.runs.drain(..excess);
        true
    }
}
