//! Runs asked for outside a plan's schedule (`restorectl drills run PLAN --now`). The CLI only records the
//! request in the plan's document `drill-adhoc:<plan>`; the drill function starts each requested run on its next
//! tick through the same path as a scheduled one (run id = plan + requested time, created under
//! compare-and-swap), so the exactly-once rules are the same, and follows it like any other run.

use restore_contract::Timestamp;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::schedule::{Occurrence, Placement, run_id};

/// The runs requested for one plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdhocRuns {
    /// Oldest first.
    #[serde(default)]
    pub runs: Vec<AdhocRun>,
}

/// One requested run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdhocRun {
    /// Plan name + requested time.
    pub run_id: String,
    /// The requested time: the run's scheduled time.
    pub at: Timestamp,
    /// Who asked (the CLI's user, as it knows it).
    pub requested_by: String,
}

impl AdhocRuns {
    /// The store key of a plan's requested runs.
    pub fn key(plan: &str) -> String {
        format!("drill-adhoc:{plan}")
    }

    /// Records a run of `plan` at `at` (whole seconds); returns its run id. Asking twice for the same second is
    /// one run. Requests older than `forget_before` are dropped: runs are followed only within the function's
    /// horizon.
    pub fn request(&mut self, plan: &str, at: OffsetDateTime, by: &str, forget_before: OffsetDateTime) -> String {
        let at = at.replace_nanosecond(0).unwrap_or(at);
        let id = run_id(plan, at);
        self.runs.retain(|r| r.at.get() >= forget_before);
        if !self.runs.iter().any(|r| r.run_id == id) {
            self.runs.push(AdhocRun { run_id: id.clone(), at: at.into(), requested_by: by.to_string() });
        }
        id
    }

    /// The requested runs scheduled at or after `since`.
    pub fn since(&self, since: OffsetDateTime) -> impl Iterator<Item = &AdhocRun> {
        self.runs.iter().filter(move |r| r.at.get() >= since)
    }

    /// The requested runs at or after `since` as occurrences, beside the schedule's own.
    pub fn occurrences(&self, since: OffsetDateTime) -> Vec<Occurrence> {
        self.since(since)
            .map(|r| Occurrence {
                run_id: r.run_id.clone(),
                at: r.at.get(),
                local: r.at.to_string(),
                placement: Placement::Normal,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_request_is_one_run_per_second_and_old_ones_are_forgotten() {
        let mut runs = AdhocRuns::default();
        let t = datetime!(2026-12-05 18:00:07.5 UTC);
        let id = runs.request("nightly", t, "alice", t - time::Duration::days(3));
        assert_eq!(id, "nightly.20261205T180007Z");
        assert_eq!(runs.request("nightly", t, "bob", t - time::Duration::days(3)), id, "the same second: one run");
        assert_eq!(runs.runs.len(), 1);
        let later = t + time::Duration::days(5);
        runs.request("nightly", later, "alice", later - time::Duration::days(3));
        assert_eq!(runs.runs.len(), 1, "the old request is forgotten");
        assert_eq!(runs.since(later - time::Duration::seconds(1)).count(), 1);
    }
}
