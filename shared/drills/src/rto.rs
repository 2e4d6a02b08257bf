//! Measured RTO, its comparison with the target, regression detection, the run outcome and the signals derived
//! from them. RTO is trigger → usable: from the intake accepting the drill's restore request to every check
//! having passed (the restore job's end plus the checks), because a restored disk nobody has checked is not yet
//! a recovery.

use time::OffsetDateTime;

use crate::duration::IsoDuration;
use crate::result::{ItemOutcome, ItemResult, RtoResult, RunOutcome, Signal, Timeline};
use restore_contract::Timestamp;

/// How many previous drills the regression median looks at.
pub const HISTORY: usize = 5;

/// Trigger → usable, or `None` when the item never became usable (or the timeline is inconsistent).
pub fn measure(t: &Timeline) -> Option<time::Duration> {
    let (from, to) = (t.triggered?.get(), t.checks_passed?.get());
    (to >= from).then_some(to - from)
}

/// The median of the last [`HISTORY`] values of `history` (oldest first), whole seconds rounded down; `None` if
/// empty. An even count averages the two middle values.
pub fn median_of_last_five(history: &[i64]) -> Option<i64> {
    let mut last: Vec<i64> = history.iter().rev().take(HISTORY).copied().collect();
    if last.is_empty() {
        return None;
    }
    last.sort_unstable();
    let n = last.len();
    Some(if n % 2 == 1 { last[n / 2] } else { (last[n / 2 - 1] + last[n / 2]).div_euclid(2) })
}

/// Compares a measured RTO with its target and the item's history (previous measured RTOs in seconds, oldest
/// first, this run excluded). Regression: over target, or more than 1.5 × the median of the last five (with
/// fewer than five previous drills, the median of those there are; with none, only the target applies).
pub fn assess(measured: Option<time::Duration>, target: IsoDuration, history: &[i64]) -> RtoResult {
    let median = median_of_last_five(history);
    let measured_seconds = measured.map(|d| d.whole_seconds());
    let over_target = measured_seconds.is_some_and(|m| m > target.as_secs());
    // m > 1.5 × median  ⇔  2m > 3 × median, in integers.
    let slower = matches!((measured_seconds, median), (Some(m), Some(med)) if 2 * m > 3 * med);
    RtoResult {
        measured_seconds,
        target_seconds: target.as_secs(),
        over_target,
        median_last_five_seconds: median,
        regression: over_target || slower,
    }
}

/// The run outcome from its items: all passed → `Passed`; none passed (or no items) → `Failed`; else `Partial`.
pub fn run_outcome(items: &[ItemOutcome]) -> RunOutcome {
    let passed = items.iter().filter(|o| **o == ItemOutcome::Passed).count();
    match passed {
        0 => RunOutcome::Failed,
        n if n == items.len() => RunOutcome::Passed,
        _ => RunOutcome::Partial,
    }
}

/// The RTO signals of a run's items: `rtoOverTarget` per item over its target, and `rtoRegression` per item
/// slower than 1.5 × its median (an item over target that is not slower than usual gets only the first).
pub fn rto_signals(items: &[ItemResult]) -> Vec<Signal> {
    let mut out = Vec::new();
    for i in items {
        let Some(m) = i.rto.measured_seconds else { continue };
        if i.rto.over_target {
            out.push(Signal::RtoOverTarget {
                item: i.item.clone(),
                measured_seconds: m,
                target_seconds: i.rto.target_seconds,
            });
        }
        if let Some(med) = i.rto.median_last_five_seconds
            && 2 * m > 3 * med
        {
            out.push(Signal::RtoRegression {
                item: i.item.clone(),
                measured_seconds: m,
                median_last_five_seconds: med,
            });
        }
    }
    out
}

/// The lateness signal of a run scheduled at `scheduled`: `lateRun` if it ended after `scheduled +
/// completion_window`, `stuckRun` if it has not ended and that moment has passed at `now`, else none.
pub fn lateness(
    scheduled: OffsetDateTime,
    completion_window: IsoDuration,
    ended: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<Signal> {
    let deadline = scheduled + completion_window.to_time();
    match ended {
        Some(e) if e > deadline => Some(Signal::LateRun { deadline: deadline.into(), ended_at: e.into() }),
        Some(_) => None,
        None if now > deadline => Some(Signal::StuckRun { deadline: Timestamp::from(deadline) }),
        None => None,
    }
}

/// The missed-run signal for an occurrence whose start window closed without a run.
pub fn missed_signal(scheduled: OffsetDateTime, start_window: IsoDuration) -> Signal {
    Signal::MissedRun { window_closed_at: (scheduled + start_window.to_time()).into() }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::tests::bi;
    use crate::ids::{ItemId, ItemKind};

    fn ts(t: OffsetDateTime) -> Option<Timestamp> {
        Some(t.into())
    }

    #[test]
    fn rto_is_trigger_to_checks_passed() {
        let mut t = Timeline {
            scheduled: ts(datetime!(2026-12-05 06:00 UTC)),
            triggered: ts(datetime!(2026-12-05 06:02 UTC)),
            job_started: ts(datetime!(2026-12-05 06:03 UTC)),
            job_ended: ts(datetime!(2026-12-05 06:40 UTC)),
            checks_passed: ts(datetime!(2026-12-05 06:52 UTC)),
            cleaned_up: None,
        };
        assert_eq!(measure(&t), Some(time::Duration::minutes(50)), "not from the schedule, not to the job's end");
        t.checks_passed = None;
        assert_eq!(measure(&t), None, "never usable: no RTO");
        t.checks_passed = ts(datetime!(2026-12-05 06:00 UTC));
        assert_eq!(measure(&t), None, "inconsistent timeline");
    }

    #[test]
    fn median_uses_the_last_five_only() {
        assert_eq!(median_of_last_five(&[]), None);
        assert_eq!(median_of_last_five(&[7]), Some(7));
        assert_eq!(median_of_last_five(&[10, 20]), Some(15));
        // The 1000 is the sixth most recent: ignored.
        assert_eq!(median_of_last_five(&[1000, 5, 1, 4, 2, 3]), Some(3));
    }

    #[test]
    fn regression_is_over_target_or_half_again_slower_than_usual() {
        let target = IsoDuration::from_secs(3600);
        let m = |s| Some(time::Duration::seconds(s));
        let history = [600, 600, 700, 600, 600];
        let ok = assess(m(900), target, &history);
        assert_eq!((ok.over_target, ok.regression, ok.median_last_five_seconds), (false, false, Some(600)));
        assert!(!assess(m(900), target, &history).regression, "exactly 1.5 × is not a regression");
        assert!(assess(m(901), target, &history).regression, "just over 1.5 ×");
        let over = assess(m(3601), target, &[3000; 5]);
        assert!(over.over_target && over.regression, "over target is a regression even if usual");
        let first = assess(m(3000), target, &[]);
        assert!(!first.regression && first.median_last_five_seconds.is_none(), "no history: target only");
        let failed = assess(None, target, &history);
        assert!(!failed.over_target && !failed.regression && failed.measured_seconds.is_none());
    }

    #[test]
    fn run_outcome_from_items() {
        use ItemOutcome::*;
        assert_eq!(run_outcome(&[Passed, Passed]), RunOutcome::Passed);
        assert_eq!(run_outcome(&[Passed, Failed]), RunOutcome::Partial);
        assert_eq!(run_outcome(&[Passed, Skipped]), RunOutcome::Partial);
        assert_eq!(run_outcome(&[Failed, Skipped]), RunOutcome::Failed);
        assert_eq!(run_outcome(&[]), RunOutcome::Failed, "a run that verified nothing is not green");
    }

    fn item(rto: RtoResult) -> ItemResult {
        ItemResult {
            item: ItemId::parse(&bi("d1")).unwrap(),
            kind: ItemKind::Disk,
            source_missing: false,
            outcome: ItemOutcome::Passed,
            recovery_point: None,
            timeline: Timeline::default(),
            rto,
            failure: None,
            skipped: None,
        }
    }

    #[test]
    fn rto_signals_per_item() {
        let target = IsoDuration::from_secs(1000);
        let slow_and_over = item(assess(Some(time::Duration::seconds(2000)), target, &[500; 5]));
        let over_as_usual = item(assess(Some(time::Duration::seconds(1100)), target, &[1050; 5]));
        let fine = item(assess(Some(time::Duration::seconds(100)), target, &[100; 5]));
        let failed = item(assess(None, target, &[100; 5]));
        let kinds: Vec<String> = rto_signals(&[slow_and_over, over_as_usual, fine, failed])
            .iter()
            .map(|s| serde_json::to_value(s).unwrap()["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kinds, ["rtoOverTarget", "rtoRegression", "rtoOverTarget"]);
    }

    #[test]
    fn late_stuck_and_missed() {
        let at = datetime!(2026-12-05 06:00 UTC);
        let window = IsoDuration::from_hours(12);
        assert_eq!(lateness(at, window, Some(datetime!(2026-12-05 17:00 UTC)), datetime!(2026-12-06 00:00 UTC)), None);
        assert!(matches!(
            lateness(at, window, Some(datetime!(2026-12-05 18:00:01 UTC)), datetime!(2026-12-06 00:00 UTC)),
            Some(Signal::LateRun { .. })
        ));
        assert_eq!(lateness(at, window, None, datetime!(2026-12-05 18:00 UTC)), None, "deadline not passed yet");
        assert!(matches!(
            lateness(at, window, None, datetime!(2026-12-05 18:00:01 UTC)),
            Some(Signal::StuckRun { .. })
        ));
        let Signal::MissedRun { window_closed_at } = missed_signal(at, IsoDuration::from_hours(4)) else { panic!() };
        assert_eq!(window_closed_at.to_string(), "2026-12-05T10:00:00Z");
    }
}
