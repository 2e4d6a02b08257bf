//! One plan's line of the overview, built from what the drill function stores: the runs of the plan's recent
//! occurrences (started, missed, or not there) and the plan's history. Pure, so the page shows exactly what the
//! records say.

use restore_contract::Timestamp;
use restore_drills::history::PlanHistory;
use restore_drills::result::{CoverageGapEntry, Leftover, Signal};
use restore_drills::run::DrillRun;
use restore_drills::{DrillPlan, ItemId};
use time::OffsetDateTime;

use crate::overview::{Coverage, ItemTrend, PlanOverview, RunSummary};

/// What the store holds for one occurrence of a plan.
#[derive(Debug, Clone)]
pub enum Occurrence {
    /// A run was started.
    Run(Box<DrillRun>),
    /// The occurrence was missed (its start window closed without a run).
    Missed(OffsetDateTime),
}

/// The plan's overview entry as of `now`. `occurrences` are its recent ones, oldest first.
pub fn plan_overview(
    plan: &DrillPlan,
    next_run_at: Option<OffsetDateTime>,
    occurrences: &[Occurrence],
    history: &PlanHistory,
    now: OffsetDateTime,
) -> PlanOverview {
    let runs: Vec<&DrillRun> = occurrences
        .iter()
        .filter_map(|o| match o {
            Occurrence::Run(r) => Some(r.as_ref()),
            Occurrence::Missed(_) => None,
        })
        .collect();
    let last = runs.last().copied();
    let last_run = last.map(|r| RunSummary {
        run_id: r.run_id.clone(),
        outcome: r.result(|i| history.rtos(i)).outcome,
        ended_at: r.ended_at,
    });
    let missed_runs = occurrences
        .iter()
        .filter_map(|o| match o {
            Occurrence::Missed(at) => Some(Timestamp::from(*at)),
            Occurrence::Run(_) => None,
        })
        .collect();
    let deadline = |r: &DrillRun| r.scheduled_at.get() + plan.completion_window.to_time();
    let late_runs = runs
        .iter()
        .filter(|r| match r.ended_at {
            Some(end) => end.get() > deadline(r),
            None => now > deadline(r),
        })
        .map(|r| r.run_id.clone())
        .collect();
    let leftovers: Vec<Leftover> = runs
        .iter()
        .filter(|r| r.ended())
        .flat_map(|r| r.result(|_| Vec::new()).signals)
        .flat_map(|s| match s {
            Signal::CleanupIncomplete { resources } => resources,
            _ => Vec::new(),
        })
        .collect();
    PlanOverview {
        plan: plan.name.clone(),
        last_run,
        next_run_at: next_run_at.map(Timestamp::from),
        coverage: coverage(plan, last, history, now),
        items: trends(plan, history),
        missed_runs,
        late_runs,
        leftovers,
    }
}

/// Coverage of the latest run's selection (every selected item, sampled or not) against the plan's window, with
/// each item's last passing drill from the history (which includes that run once it ended).
fn coverage(plan: &DrillPlan, last: Option<&DrillRun>, history: &PlanHistory, now: OffsetDateTime) -> Coverage {
    let within_days = plan.coverage.map(|c| c.within_days);
    let selected: Vec<&ItemId> = last.map(|r| r.coverage.iter().map(|c| &c.item).collect()).unwrap_or_default();
    let since = within_days.map(|d| now - time::Duration::days(i64::from(d)));
    let mut outside = Vec::new();
    for item in &selected {
        let last_passed = history.item(item).and_then(|h| h.last_passed);
        let covered = match since {
            Some(since) => last_passed.is_some_and(|t| t.get() >= since),
            None => last_passed.is_some(),
        };
        if !covered {
            outside.push(CoverageGapEntry { item: (*item).clone(), last_passed });
        }
    }
    let selected_count = u32::try_from(selected.len()).unwrap_or(u32::MAX);
    let outside_count = u32::try_from(outside.len()).unwrap_or(u32::MAX);
    Coverage { within_days, selected: selected_count, drilled: selected_count - outside_count, outside }
}

/// RTO per item with its last measured RTOs, for every item the history knows (in id order).
fn trends(plan: &DrillPlan, history: &PlanHistory) -> Vec<ItemTrend> {
    history
        .items
        .iter()
        .filter(|(_, h)| !h.rtos.is_empty())
        .filter_map(|(id, h)| {
            let item = ItemId::parse(id).ok()?;
            Some(ItemTrend {
                target_seconds: plan.rto.target_for(&item).as_secs(),
                history_seconds: h.rtos.clone(),
                item,
            })
        })
        .collect()
}
