//! The overview entry is built from the stored runs and history and says what they say: the last run and its
//! outcome, missed and late runs, leftovers of ended runs, coverage of the latest selection against the window,
//! and each item's RTOs.

use std::path::PathBuf;

use restore_contract::Policy;
use restore_drills::history::PlanHistory;
use restore_drills::item::{Created, Phase};
use restore_drills::run::{CoverageEntry, DrillRun};
use restore_drills::{DrillPlan, ItemId};
use restore_evidence::summary::{Occurrence, plan_overview};
use time::OffsetDateTime;
use time::macros::datetime;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const NOW: OffsetDateTime = datetime!(2026-12-05 12:00 UTC);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plan() -> DrillPlan {
    let policy = Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap();
    let bytes = std::fs::read(repo().join("examples/drills/tags-monthly-coverage.json")).unwrap();
    restore_drills::parse_plan(&bytes, &policy, NOW).unwrap().into_plan()
}

fn item(name: &str) -> ItemId {
    ItemId::parse(&format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/{name}"
    ))
    .unwrap()
}

/// A run of one item that ended at `ended` (passed, RTO 10 minutes), with an optional leftover.
fn ended_run(plan: &DrillPlan, at: OffsetDateTime, ended: OffsetDateTime, leftover: Option<&str>) -> DrillRun {
    let mut run = DrillRun::start(plan, &restore_drills::run_id(&plan.name, at), at, vec![(item("a-bi"), None)], at);
    let i = &mut run.items[0];
    i.phase = Phase::Done;
    i.timeline.triggered = Some(at.into());
    i.timeline.checks_passed = Some((at + time::Duration::minutes(10)).into());
    if let Some(id) = leftover {
        i.created.push(Created {
            id: id.into(),
            staging: false,
            tagged: true,
            delete_sent: false,
            delete_sent_at: None,
            gone_at: None,
            failed_deletes: 5,
            tag_failures: 0,
            problem: Some("DELETE answered 409".into()),
            refused: false,
        });
    }
    run.ended_at = Some(ended.into());
    run.coverage = vec![
        CoverageEntry { item: item("a-bi"), last_passed: None },
        CoverageEntry { item: item("b-bi"), last_passed: None },
    ];
    run
}

#[test]
fn the_entry_says_what_the_records_say() {
    let plan = plan(); // completion window P2D, coverage 62 days
    let early = datetime!(2026-12-01 03:00 UTC);
    let late_end = early + time::Duration::days(3); // past its completion window
    let leftover = format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/disks/left");
    let first = ended_run(&plan, early, late_end, Some(&leftover));
    let missed_at = datetime!(2026-12-03 03:00 UTC);
    let last_at = datetime!(2026-12-04 03:00 UTC);
    let last = ended_run(&plan, last_at, last_at + time::Duration::hours(1), None);
    let mut history = PlanHistory::default();
    history.record(&first.result(|_| Vec::new()));
    history.record(&last.result(|_| Vec::new()));
    let occurrences =
        vec![Occurrence::Run(Box::new(first)), Occurrence::Missed(missed_at), Occurrence::Run(Box::new(last))];
    let next = datetime!(2027-01-01 03:00 UTC);
    let entry = plan_overview(&plan, Some(next), &occurrences, &history, NOW);

    let last_run = entry.last_run.as_ref().unwrap();
    assert_eq!(last_run.run_id, restore_drills::run_id(&plan.name, last_at));
    assert_eq!(last_run.outcome, Some(restore_drills::result::RunOutcome::Passed));
    assert_eq!(entry.next_run_at.unwrap().get(), next);
    assert_eq!(entry.missed_runs.iter().map(|t| t.get()).collect::<Vec<_>>(), [missed_at]);
    assert_eq!(entry.late_runs, [restore_drills::run_id(&plan.name, early)]);
    assert_eq!(entry.leftovers.iter().map(|l| l.resource.as_str()).collect::<Vec<_>>(), [leftover.as_str()]);
    // Coverage: a-bi passed in the window; b-bi (selected, never drilled) is outside.
    assert_eq!((entry.coverage.within_days, entry.coverage.selected, entry.coverage.drilled), (Some(62), 2, 1));
    assert_eq!(entry.coverage.outside.iter().map(|g| g.item.clone()).collect::<Vec<_>>(), [item("b-bi")]);
    // a-bi's two RTOs, against the plan's target.
    assert_eq!(entry.items.len(), 1);
    assert_eq!((entry.items[0].history_seconds.clone(), entry.items[0].target_seconds), (vec![600, 600], 3 * 3600));
}
