//! When drills run: a plan's NCRONTAB schedule read in its IANA time zone, the occurrences in an interval, run
//! ids, and which occurrences are due or missed. Every function takes the time it reasons about as a parameter.
//!
//! # Daylight saving time: the rule
//!
//! The cron matches **local wall-clock times** in the plan's time zone; each matched wall-clock time is one
//! occurrence, placed on the UTC time line like this:
//!
//! * **Skipped local time** (spring forward: 02:30 on the last Sunday of March in Europe/Berlin, on the second
//!   Sunday of March in America/New_York): the occurrence runs at the **first instant after the gap**, i.e. 03:00
//!   local (01:00Z in Berlin, 07:00Z in New York). The drill is moved, never dropped, as Vixie cron and croner do
//!   for fixed-time jobs. Several skipped times (a pattern matching 02:00 and 02:30), or a skipped time and 03:00
//!   itself, all land on that instant and make **one** occurrence.
//! * **Repeated local time** (fall back: 02:30 on the last Sunday of October in Berlin, 01:30 on the first Sunday
//!   of November in New York): the occurrence runs **exactly once, at the first pass** (the daylight-time offset,
//!   +02:00 / -04:00). The second pass of the same wall-clock time is not an occurrence, whatever the pattern;
//!   this holds for interval patterns (`0 */30 * * * *`) too, where croner on its own would run both passes.
//!
//! So a run id (plan name + scheduled UTC time) is unique per matched wall-clock time, and the mapping from
//! wall-clock to UTC never goes backwards: occurrences come out in both orders at once.
//!
//! The matching itself is croner's on civil times (no time zone), so croner's own DST handling is not involved;
//! the placement above is done here with jiff and its bundled tz database.

use std::fmt;

use croner::parser::{CronParser, Seconds};
use croner::{Cron, Direction};
use jiff::civil::DateTime as Civil;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use time::OffsetDateTime;

use crate::duration::IsoDuration;
use crate::error::{PlanError, PlanErrorKind as K};
use crate::plan::Schedule;

/// The most occurrences any one call returns: bounds the work of a tick that looks back over a long outage.
pub const MAX_OCCURRENCES: usize = 1000;

/// The most occurrences the interval checks look at (a sanity bound on validation work).
const MAX_SCANNED: usize = 50_000;

/// How far back from `from` (in local time) the search starts, so that the first pass of a repeated hour whose
/// wall-clock time lies after `from`'s is still seen. Larger than any DST shift in the tz database (2 h).
const LOOKBACK: SignedDuration = SignedDuration::from_hours(3);

/// A compiled schedule: the cron, the time zone and the start window, for one plan.
#[derive(Debug, Clone)]
pub struct PlanSchedule {
    plan: String,
    cron: Cron,
    cron_text: String,
    tz: TimeZone,
    tz_name: String,
    start_window: IsoDuration,
}

/// How a wall-clock time was placed on the UTC time line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Placement {
    /// The local time exists once.
    Normal,
    /// The local time was skipped by a DST change; the occurrence runs at the first instant after the gap.
    MovedOutOfGap,
    /// The local time happens twice; the occurrence runs at the first pass only.
    FirstOfRepeated,
}

/// One scheduled drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Occurrence {
    /// The run id: plan name + scheduled UTC time (see [`run_id`]).
    pub run_id: String,
    /// The scheduled instant (UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The wall-clock time the cron matched, in the plan's zone (`2026-03-29T02:30:00`).
    pub local: String,
    /// How it was placed (DST).
    pub placement: Placement,
}

/// The run id of `plan`'s occurrence at `at`: `{plan}.{yyyyMMdd}T{HHmmss}Z`, e.g.
/// `nightly-disks.20260329T010000Z`. Stable (UTC, no separators a file system or an ARM tag value dislikes), and
/// unambiguous because plan names cannot contain '.'.
pub fn run_id(plan: &str, at: OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{plan}.{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Cron field names NCRONTAB accepts, per field (months and weekdays only).
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const FIELD_NAMES: [&str; 6] = ["second", "minute", "hour", "day", "month", "day-of-week"];

impl PlanSchedule {
    /// Compiles `schedule` for the plan named `plan`. Errors name `schedule.cron` or `schedule.timeZone`.
    pub fn compile(plan: &str, schedule: &Schedule) -> Result<Self, PlanError> {
        let cron = compile_cron(&schedule.cron)?;
        let tz = TimeZone::get(&schedule.time_zone).map_err(|_| {
            PlanError::new(
                K::InvalidValue,
                "schedule.timeZone",
                format!("'{}' is not an IANA time zone name", printable(&schedule.time_zone)),
                "use a name from the IANA tz database such as UTC, Europe/Berlin or America/New_York (Windows names \
                 like 'W. Europe Standard Time' and offsets like +01:00 are not accepted)",
            )
            .with_rule("unknownTimeZone")
        })?;
        Ok(PlanSchedule {
            plan: plan.to_string(),
            cron,
            cron_text: schedule.cron.clone(),
            tz,
            tz_name: schedule.time_zone.clone(),
            start_window: schedule.start_window,
        })
    }

    /// The cron as written.
    pub fn cron(&self) -> &str {
        &self.cron_text
    }

    /// The time zone name as written.
    pub fn time_zone(&self) -> &str {
        &self.tz_name
    }

    /// The start window.
    pub fn start_window(&self) -> IsoDuration {
        self.start_window
    }

    /// The occurrences scheduled in `[from, to)`, in order, at most `limit` (and at most [`MAX_OCCURRENCES`]).
    pub fn occurrences(&self, from: OffsetDateTime, to: OffsetDateTime, limit: usize) -> Vec<Occurrence> {
        let limit = limit.min(MAX_OCCURRENCES);
        let (from, to) = (to_jiff(from), to_jiff(to));
        let mut out: Vec<Occurrence> = Vec::new();
        if from >= to || limit == 0 {
            return out;
        }
        let start = from.to_zoned(self.tz.clone()).datetime().saturating_sub(LOOKBACK);
        let mut last: Option<Timestamp> = None;
        for civil in self.cron.iter_from(start, Direction::Forward) {
            let Some((at, placement)) = self.place(civil) else { continue };
            if at >= to {
                break;
            }
            // Placement never goes backwards, so equal instants are adjacent: that is where gap times collapse
            // onto the first instant after the gap.
            if at < from || last == Some(at) {
                continue;
            }
            last = Some(at);
            let at = from_jiff(at);
            out.push(Occurrence { run_id: run_id(&self.plan, at), at, local: civil.to_string(), placement });
            if out.len() >= limit {
                break;
            }
        }
        out
    }

    /// The first occurrence strictly after `t` (within ten years).
    pub fn next_after(&self, t: OffsetDateTime) -> Option<Occurrence> {
        let from = t + time::Duration::nanoseconds(1);
        self.occurrences(from, from + time::Duration::days(3660), 1).into_iter().next()
    }

    /// The shortest interval between two consecutive occurrences in the three years from `from`, or `None` when
    /// the schedule fires fewer than twice in that time. DST changes count: a daily 01:00 in Berlin is 23 hours
    /// apart across the spring change.
    pub fn shortest_interval(&self, from: OffsetDateTime) -> Option<time::Duration> {
        self.interval_bounds(from).map(|(min, _)| min)
    }

    /// The longest interval between two consecutive occurrences in the three years from `from` (what a coverage
    /// window has to bridge), or `None` when the schedule fires fewer than twice in that time.
    pub fn longest_interval(&self, from: OffsetDateTime) -> Option<time::Duration> {
        self.interval_bounds(from).map(|(_, max)| max)
    }

    /// (shortest, longest) interval over three years, paging through the occurrences: a count limit alone would
    /// cover only weeks of an hourly schedule and could miss the DST change that makes its shortest interval.
    /// Bounded at [`MAX_SCANNED`] occurrences (an hourly schedule over three years is about 26,000).
    fn interval_bounds(&self, from: OffsetDateTime) -> Option<(time::Duration, time::Duration)> {
        let to = from + time::Duration::days(3 * 366);
        let (mut cursor, mut prev, mut scanned) = (from, None::<OffsetDateTime>, 0usize);
        let mut bounds: Option<(time::Duration, time::Duration)> = None;
        while scanned < MAX_SCANNED {
            let page = self.occurrences(cursor, to, MAX_OCCURRENCES);
            for o in &page {
                if let Some(p) = prev {
                    let gap = o.at - p;
                    bounds = Some(match bounds {
                        None => (gap, gap),
                        Some((lo, hi)) => (lo.min(gap), hi.max(gap)),
                    });
                }
                prev = Some(o.at);
            }
            scanned += page.len();
            match page.last() {
                Some(last) if page.len() == MAX_OCCURRENCES => cursor = last.at + time::Duration::seconds(1),
                _ => break,
            }
        }
        bounds
    }

    /// The occurrences due at `now`: started no later than `now`, with their start window (`[at, at + window)`)
    /// still open, and no run yet (`has_run(run_id)` false). Oldest first.
    pub fn due(&self, now: OffsetDateTime, has_run: impl Fn(&str) -> bool) -> Vec<Occurrence> {
        let window = self.start_window.to_time();
        let to = now + time::Duration::nanoseconds(1);
        self.occurrences(now - window, to, MAX_OCCURRENCES)
            .into_iter()
            .filter(|o| o.at <= now && now < o.at + window && !has_run(&o.run_id))
            .collect()
    }

    /// The occurrences missed by `now`: scheduled at or after `since`, start window closed (`at + window <= now`),
    /// and no run (`has_run(run_id)` false). Oldest first, at most [`MAX_OCCURRENCES`].
    pub fn missed(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
        has_run: impl Fn(&str) -> bool,
    ) -> Vec<Occurrence> {
        let window = self.start_window.to_time();
        // `at + window <= now` ⇔ `at < now - window + 1ns`.
        let to = now - window + time::Duration::nanoseconds(1);
        self.occurrences(since, to, MAX_OCCURRENCES).into_iter().filter(|o| !has_run(&o.run_id)).collect()
    }

    /// Places a matched wall-clock time on the UTC time line (the rule in the module docs). `None` only for a
    /// civil time jiff cannot represent as an instant (outside years -9999..=9999).
    fn place(&self, civil: Civil) -> Option<(Timestamp, Placement)> {
        let ambiguous = self.tz.to_ambiguous_timestamp(civil);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible().ok().map(|t| (t, Placement::Normal)),
            AmbiguousOffset::Fold { .. } => ambiguous.earlier().ok().map(|t| (t, Placement::FirstOfRepeated)),
            AmbiguousOffset::Gap { before, after } => {
                // The transition instant t satisfies civil - after < t <= civil - before; find it by bisection
                // on the zone's offset (at most a few hours, so ~14 steps).
                let mut lo = before.to_timestamp(civil).ok()?.checked_sub(after.duration_since(before)).ok()?;
                let mut hi = before.to_timestamp(civil).ok()?;
                while hi.as_second() - lo.as_second() > 1 {
                    let mid = Timestamp::from_second((lo.as_second() + hi.as_second()) / 2).ok()?;
                    if self.tz.to_offset(mid) == after {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                Some((hi, Placement::MovedOutOfGap))
            }
        }
    }
}

impl fmt::Display for PlanSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' in {}", self.cron_text, self.tz_name)
    }
}

fn compile_cron(text: &str) -> Result<Cron, PlanError> {
    let field = "schedule.cron";
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(PlanError::new(
            K::InvalidValue,
            field,
            format!("'{}' has {} fields; NCRONTAB as Azure Functions reads it has six", printable(text), fields.len()),
            "write {second} {minute} {hour} {day} {month} {day-of-week}, e.g. '0 0 2 * * 6' for Saturdays at 02:00 \
             (a five-field cron needs a leading '0 ' for the seconds)",
        )
        .with_rule("cronSixFields"));
    }
    for (i, f) in fields.iter().enumerate() {
        for token in f.split([',', '-', '/']) {
            let upper = token.to_ascii_uppercase();
            let ok = token == "*"
                || (!token.is_empty() && token.chars().all(|c| c.is_ascii_digit()))
                || (i == 4 && MONTHS.contains(&upper.as_str()))
                || (i == 5 && WEEKDAYS.contains(&upper.as_str()));
            if !ok {
                return Err(PlanError::new(
                    K::InvalidValue,
                    field,
                    format!(
                        "the {} field '{}' uses '{}', which NCRONTAB does not accept",
                        FIELD_NAMES[i],
                        printable(f),
                        printable(token)
                    ),
                    "use numbers, '*', ',', '-' and '/' (and JAN–DEC, SUN–SAT names); Quartz extensions such as ?, L, \
                     W and # are not NCRONTAB",
                )
                .with_rule("cronNotNcrontab"));
            }
        }
    }
    // NCRONTAB requires a day to match both day fields when both are restricted (it checks the day of week after
    // choosing the day of month); croner's default is Vixie cron's "either".
    let parser = CronParser::builder().seconds(Seconds::Required).dom_and_dow(true).build();
    parser.parse(text).map_err(|e| {
        PlanError::new(
            K::InvalidValue,
            field,
            format!("'{}' is not a valid schedule: {e}", printable(text)),
            "check each field's range: second and minute 0–59, hour 0–23, day 1–31, month 1–12, day-of-week 0–6 \
             (Sunday = 0)",
        )
        .with_rule("cronInvalid")
    })
}

fn to_jiff(t: OffsetDateTime) -> Timestamp {
    // OffsetDateTime's range (±9999 years) lies inside Timestamp's; clamp rather than panic on the edges.
    Timestamp::new(t.unix_timestamp(), t.nanosecond() as i32).unwrap_or(if t.unix_timestamp() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn from_jiff(t: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn sched(cron: &str, tz: &str, window: &str) -> PlanSchedule {
        let s = Schedule { cron: cron.into(), time_zone: tz.into(), start_window: IsoDuration::parse(window).unwrap() };
        PlanSchedule::compile("p", &s).unwrap()
    }

    fn ats(occ: &[Occurrence]) -> Vec<OffsetDateTime> {
        occ.iter().map(|o| o.at).collect()
    }

    #[test]
    fn ncrontab_weekdays_count_from_sunday() {
        let s = sched("0 30 9 * * 1-5", "UTC", "PT1H");
        let o = s.occurrences(datetime!(2026-11-20 08:59 UTC), datetime!(2026-11-24 00:00 UTC), 10);
        // Friday 09:30, then Monday 09:30: 1-5 is Monday to Friday.
        assert_eq!(ats(&o), vec![datetime!(2026-11-20 09:30 UTC), datetime!(2026-11-23 09:30 UTC)]);
        let sunday = sched("0 0 9 * * 0", "UTC", "PT1H").next_after(datetime!(2026-11-20 08:59 UTC)).unwrap();
        assert_eq!(sunday.at, datetime!(2026-11-22 09:00 UTC));
        assert_eq!(sunday.run_id, "p.20261122T090000Z");
    }

    #[test]
    fn both_day_fields_must_match_as_in_ncrontab() {
        // Friday the 13th only, not every Friday plus every 13th (Vixie cron).
        let s = sched("0 0 12 13 * 5", "UTC", "PT1H");
        let o = s.occurrences(datetime!(2026-01-01 00:00 UTC), datetime!(2027-01-01 00:00 UTC), 10);
        assert_eq!(
            ats(&o),
            vec![datetime!(2026-02-13 12:00 UTC), datetime!(2026-03-13 12:00 UTC), datetime!(2026-11-13 12:00 UTC)]
        );
    }

    #[test]
    fn skipped_local_time_runs_at_the_end_of_the_gap_berlin() {
        let s = sched("0 30 2 * * *", "Europe/Berlin", "PT1H");
        let o = s.occurrences(datetime!(2026-03-28 00:00 UTC), datetime!(2026-03-31 00:00 UTC), 10);
        assert_eq!(
            ats(&o),
            vec![
                datetime!(2026-03-28 01:30 UTC), // 02:30 CET
                datetime!(2026-03-29 01:00 UTC), // 02:30 does not exist; 03:00 CEST
                datetime!(2026-03-30 00:30 UTC), // 02:30 CEST
            ]
        );
        assert_eq!(o[1].placement, Placement::MovedOutOfGap);
        assert_eq!(o[1].local, "2026-03-29T02:30:00");
        assert_eq!(o[0].placement, Placement::Normal);
    }

    #[test]
    fn skipped_local_time_runs_at_the_end_of_the_gap_new_york() {
        let s = sched("0 30 2 * * *", "America/New_York", "PT1H");
        let o = s.occurrences(datetime!(2026-03-08 00:00 UTC), datetime!(2026-03-09 00:00 UTC), 10);
        assert_eq!(ats(&o), vec![datetime!(2026-03-08 07:00 UTC)]); // 03:00 EDT
        assert_eq!(o[0].placement, Placement::MovedOutOfGap);
    }

    #[test]
    fn gap_times_and_the_end_of_the_gap_make_one_occurrence() {
        let s = sched("0 0,30 2,3 * * *", "Europe/Berlin", "PT1H");
        let o = s.occurrences(datetime!(2026-03-29 00:00 UTC), datetime!(2026-03-29 12:00 UTC), 10);
        // 02:00, 02:30 (skipped) and 03:00 all run at 01:00Z, once; then 03:30 CEST.
        assert_eq!(ats(&o), vec![datetime!(2026-03-29 01:00 UTC), datetime!(2026-03-29 01:30 UTC)]);
        let ids: std::collections::HashSet<_> = o.iter().map(|x| x.run_id.clone()).collect();
        assert_eq!(ids.len(), o.len(), "run ids are unique");
    }

    #[test]
    fn repeated_local_time_runs_once_at_the_first_pass_berlin() {
        let s = sched("0 30 2 * * *", "Europe/Berlin", "PT1H");
        let o = s.occurrences(datetime!(2026-10-24 00:00 UTC), datetime!(2026-10-27 00:00 UTC), 10);
        assert_eq!(
            ats(&o),
            vec![
                datetime!(2026-10-24 00:30 UTC), // 02:30 CEST
                datetime!(2026-10-25 00:30 UTC), // 02:30 CEST, first of two
                datetime!(2026-10-26 01:30 UTC), // 02:30 CET
            ]
        );
        assert_eq!(o[1].placement, Placement::FirstOfRepeated);
    }

    #[test]
    fn interval_patterns_also_run_once_in_a_repeated_hour_new_york() {
        let s = sched("0 */30 * * * *", "America/New_York", "PT10M");
        let o = s.occurrences(datetime!(2026-11-01 04:00 UTC), datetime!(2026-11-01 07:30 UTC), 20);
        // 00:00 EDT, 00:30 EDT, 01:00 EDT, 01:30 EDT, (01:00 and 01:30 EST are the same wall-clock times: skipped),
        // 02:00 EST.
        assert_eq!(
            ats(&o),
            vec![
                datetime!(2026-11-01 04:00 UTC),
                datetime!(2026-11-01 04:30 UTC),
                datetime!(2026-11-01 05:00 UTC),
                datetime!(2026-11-01 05:30 UTC),
                datetime!(2026-11-01 07:00 UTC),
            ]
        );
    }

    #[test]
    fn a_search_starting_in_the_second_pass_does_not_repeat_the_first() {
        let s = sched("0 45 1 * * *", "America/New_York", "PT1H");
        // 06:15Z is 01:15 EST, the second pass; 01:45's first pass (05:45Z) is already behind.
        let next = s.next_after(datetime!(2026-11-01 06:15 UTC)).unwrap();
        assert_eq!(next.at, datetime!(2026-11-02 06:45 UTC));
        // Starting just before the first pass finds it.
        assert_eq!(s.next_after(datetime!(2026-11-01 05:00 UTC)).unwrap().at, datetime!(2026-11-01 05:45 UTC));
    }

    #[test]
    fn occurrences_respect_bounds_and_limit() {
        let s = sched("0 0 2 * * *", "UTC", "PT4H");
        let from = datetime!(2026-05-01 02:00 UTC);
        let o = s.occurrences(from, datetime!(2026-05-04 02:00 UTC), 10);
        assert_eq!(o.len(), 3, "from is inclusive, to exclusive");
        assert_eq!(s.occurrences(from, datetime!(2026-06-01 00:00 UTC), 2).len(), 2);
        assert!(s.occurrences(from, from, 10).is_empty());
        assert!(s.occurrences(from, datetime!(2026-06-01 00:00 UTC), 0).is_empty());
    }

    #[test]
    fn due_and_missed_follow_the_start_window() {
        let s = sched("0 0 2 * * *", "UTC", "PT4H");
        let none = |_: &str| false;
        let at = datetime!(2026-05-01 02:00 UTC);
        let id = run_id("p", at);
        assert_eq!(id, "p.20260501T020000Z");
        assert!(s.due(datetime!(2026-05-01 01:59:59 UTC), none).is_empty(), "not yet");
        assert_eq!(ats(&s.due(at, none)), vec![at], "due at its scheduled second");
        assert_eq!(ats(&s.due(datetime!(2026-05-01 05:59:59 UTC), none)), vec![at]);
        assert!(s.due(datetime!(2026-05-01 03:00 UTC), |r| r == id).is_empty(), "a run exists: not due again");
        assert!(s.due(datetime!(2026-05-01 06:00 UTC), none).is_empty(), "window closed");
        // Missed: window closed without a run.
        let since = datetime!(2026-05-01 00:00 UTC);
        assert!(s.missed(since, datetime!(2026-05-01 05:59:59 UTC), none).is_empty(), "still open");
        assert_eq!(ats(&s.missed(since, datetime!(2026-05-01 06:00 UTC), none)), vec![at]);
        assert!(s.missed(since, datetime!(2026-05-01 06:00 UTC), |r| r == id).is_empty(), "it ran");
        assert_eq!(s.missed(since, datetime!(2026-05-04 07:00 UTC), none).len(), 4);
        assert!(s.missed(datetime!(2026-05-01 02:00:01 UTC), datetime!(2026-05-01 07:00 UTC), none).is_empty());
    }

    #[test]
    fn shortest_interval_counts_dst() {
        let daily = sched("0 0 1 * * *", "Europe/Berlin", "PT1H");
        assert_eq!(daily.shortest_interval(datetime!(2026-01-01 00:00 UTC)), Some(time::Duration::hours(23)));
        assert_eq!(daily.longest_interval(datetime!(2026-01-01 00:00 UTC)), Some(time::Duration::hours(25)));
        let weekly = sched("0 0 2 * * 6", "UTC", "PT1H");
        assert_eq!(weekly.shortest_interval(datetime!(2026-01-01 00:00 UTC)), Some(time::Duration::days(7)));
        // 1st and 20th of each month: 19 days one way, 9 to 12 the other.
        let twice = sched("0 0 2 1,20 * *", "UTC", "PT1H");
        assert_eq!(twice.longest_interval(datetime!(2026-01-01 00:00 UTC)), Some(time::Duration::days(19)));
        assert_eq!(twice.shortest_interval(datetime!(2026-01-01 00:00 UTC)), Some(time::Duration::days(9)));
        let never = sched("0 0 0 30 2 *", "UTC", "PT1H");
        assert_eq!(never.shortest_interval(datetime!(2026-01-01 00:00 UTC)), None);
        assert_eq!(never.longest_interval(datetime!(2026-01-01 00:00 UTC)), None);
        // Every six hours from April: the spring change that makes a 5-hour interval is eleven months (about 1,400
        // occurrences) away, past one page of occurrences.
        let six = sched("0 0 */6 * * *", "Europe/Berlin", "PT1H");
        assert_eq!(six.shortest_interval(datetime!(2026-04-01 00:00 UTC)), Some(time::Duration::hours(5)));
        assert_eq!(six.longest_interval(datetime!(2026-04-01 00:00 UTC)), Some(time::Duration::hours(7)));
    }

    #[test]
    fn compile_errors_name_the_field_and_rule() {
        let cases = [
            ("0 2 * * *", "UTC", "schedule.cron", "cronSixFields"),
            ("0 0 2 ? * *", "UTC", "schedule.cron", "cronNotNcrontab"),
            ("0 0 2 L * *", "UTC", "schedule.cron", "cronNotNcrontab"),
            ("0 0 2 * * 1#2", "UTC", "schedule.cron", "cronNotNcrontab"),
            ("0 0 25 * * *", "UTC", "schedule.cron", "cronInvalid"),
            ("0 0 2 * * *", "Mars/Olympus_Mons", "schedule.timeZone", "unknownTimeZone"),
            ("0 0 2 * * *", "+01:00", "schedule.timeZone", "unknownTimeZone"),
        ];
        for (cron, tz, field, rule) in cases {
            let s = Schedule { cron: cron.into(), time_zone: tz.into(), start_window: IsoDuration::from_hours(1) };
            let e = PlanSchedule::compile("p", &s).unwrap_err();
            assert_eq!((e.field_path(), e.rule), (field, Some(rule)), "{cron} {tz}: {e}");
        }
        // Names are NCRONTAB too.
        sched("0 0 2 * JAN-MAR MON,fri", "UTC", "PT1H");
    }
}
