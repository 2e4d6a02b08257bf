//! When the tracker reads a running job next (issue 15, "results promptly"): near the job's expected end rather
//! than on a blind doubling backoff, in few reads.
//!
//! What is known about the end, best first:
//!
//! 1. Azure's own estimate: Recovery Services VM jobs carry `extendedInfo.estimatedRemainingDuration`;
//! 2. progress: `extendedInfo.progressPercentage` with the time elapsed so far gives a linear estimate;
//! 3. history: how long restores of the same item (else of the same kind) took, kept in the store, on our clock
//!    from the trigger: three quarters of the way from the last read that found the job running to the read
//!    that found it ended (erring late costs at most a tick; erring early costs a read and an overrun wait) (Azure's own start and end times are on Azure's clock, which need not run at ours: the benchmark's
//!    emulator runs 100× faster);
//! 4. nothing: the first read comes no sooner than [`Pace::first_blind`] after the trigger (restores rarely end
//!    within their first minute), then each when the elapsed time has grown by [`GROWTH`], so the reads stay few
//!    (three for a 3-minute job, four for a 5-minute one) and the result comes at most that fraction of the
//!    elapsed time after the end.
//!
//! With an estimate, the next read is at the estimated end (never sooner than [`Pace::floor`], so a wrong
//! "almost done" cannot make the tracker spin); once the estimate has passed with the job still running, reads
//! come at [`OVERRUN_GROWTH`] of the elapsed time, the estimate having been close.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Without any estimate, the next read comes when the elapsed time has grown by this fraction.
pub const GROWTH: f64 = 0.65;

/// After an estimated end has passed, the next read comes when the elapsed time has grown by this fraction.
pub const OVERRUN_GROWTH: f64 = 0.15;

/// The bounds of a wait.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// No read sooner than this after the last (a third of the first job poll interval by default: 10 s).
    pub floor: Duration,
    /// Without an estimate, no read sooner than this after the trigger (2.5 first job poll intervals, 75 s).
    pub first_blind: Duration,
    /// No wait longer than this (the longest job poll interval, 300 s).
    pub max: Duration,
}

/// What is known about a running job when deciding the next read.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobProgress {
    /// Time since the restore was triggered, on our clock.
    pub elapsed: Duration,
    /// Azure's estimate of the remaining time.
    pub remaining: Option<Duration>,
    /// Azure's progress, in percent.
    pub percent: Option<f64>,
    /// How long similar restores took (trigger to end), from [`History`].
    pub typical: Option<Duration>,
}

/// The wait before the next read of a running job.
pub fn next_read(job: JobProgress, pace: Pace) -> Duration {
    let clamp = |wait: Duration, floor: Duration| wait.max(floor).min(pace.max);
    let scaled = |factor: f64| Duration::from_secs_f64(job.elapsed.as_secs_f64() * factor);
    if let Some(remaining) = job.remaining.filter(|r| !r.is_zero()) {
        return clamp(remaining, pace.floor);
    }
    if let Some(percent) = job.percent.filter(|p| *p > 0.0 && *p < 100.0) {
        let total = job.elapsed.as_secs_f64() * 100.0 / percent;
        let remaining = Duration::from_secs_f64((total - job.elapsed.as_secs_f64()).max(0.0));
        return clamp(remaining, pace.floor);
    }
    if let Some(typical) = job.typical {
        return match typical.checked_sub(job.elapsed).filter(|r| !r.is_zero()) {
            Some(remaining) => clamp(remaining, pace.floor),
            None => clamp(scaled(OVERRUN_GROWTH), pace.floor),
        };
    }
    let next = (job.elapsed + scaled(GROWTH)).max(pace.first_blind);
    clamp(next.saturating_sub(job.elapsed), pace.floor)
}

/// Parses Recovery Services' `estimatedRemainingDuration`: a .NET TimeSpan (`[d.]hh:mm:ss[.fffffff]`) or an
/// ISO 8601 duration (`PT1H2M3.5S`). `None` for anything else: an unreadable estimate is no estimate.
pub fn parse_remaining(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(iso) = text.strip_prefix("PT").or_else(|| text.strip_prefix("pt")) {
        let (mut total, mut number) = (0f64, String::new());
        for c in iso.chars() {
            match c.to_ascii_uppercase() {
                '0'..='9' | '.' => number.push(c),
                unit @ ('H' | 'M' | 'S') => {
                    let value: f64 = number.parse().ok()?;
                    number.clear();
                    total += value
                        * match unit {
                            'H' => 3600.0,
                            'M' => 60.0,
                            _ => 1.0,
                        };
                }
                _ => return None,
            }
        }
        return (number.is_empty() && total.is_finite()).then(|| Duration::from_secs_f64(total));
    }
    let (days, clock) = match text.split_once('.') {
        Some((d, rest)) if !d.contains(':') => (d.parse::<u64>().ok()?, rest),
        _ => (0, text),
    };
    let mut parts = clock.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    let s: f64 = s.parse().ok()?;
    if m >= 60 || !(0.0..60.0).contains(&s) {
        return None;
    }
    Some(Duration::from_secs(days * 86_400 + h * 3600 + m * 60) + Duration::from_secs_f64(s))
}

/// How long recent restores took, by item and by kind (trigger to the read that saw the end, on the tracker's
/// clock). Kept in memory and in the store (document [`STORED_KEY`]): a tracker instance reads the stored
/// durations once, before it paces its first job, so a cold instance starts with what earlier ones learned, and
/// it writes back what it learned at the end of each tick that learned something.
#[derive(Debug, Default)]
pub struct History {
    inner: Mutex<Durations>,
    /// Set once the stored durations were read (or found missing) in this process.
    loaded: tokio::sync::OnceCell<()>,
}

#[derive(Debug, Default)]
struct Durations {
    /// Duration and when it was learned (a counter: which items are the most recent).
    by_key: HashMap<String, (Duration, u64)>,
    learned: u64,
    /// Learned since the last save.
    dirty: bool,
    /// The stored document's version (compare-and-swap), empty before the first save or read.
    version: String,
}

/// The store document holding the durations.
pub const STORED_KEY: &str = "tracker-pace";

/// Keys kept at most (items and kinds); beyond it the history starts over, which only costs promptness.
const MAX_KEYS: usize = 10_000;

/// Items written to the store at most (the most recently learned; every kind is written): keeps the document,
/// written once per tick that ended a restore, small (about 200 bytes an item).
const MAX_STORED_ITEMS: usize = 200;

impl History {
    /// Runs `read` (which takes in the stored durations with [`Self::absorb`]) the first time it is called in this
    /// process; later calls wait for that one and return.
    pub async fn load_once<F: std::future::Future<Output = ()>>(&self, read: impl FnOnce() -> F) {
        self.loaded.get_or_init(read).await;
    }

    /// The duration to expect for `item` of `kind`: the item's last, else the kind's last.
    pub fn typical(&self, kind: &str, item: &str) -> Option<Duration> {
        let d = self.lock();
        d.by_key.get(&item_key(kind, item)).or_else(|| d.by_key.get(kind)).map(|(t, _)| *t)
    }

    /// Learns from a restore of `item` of `kind` that ended between `running` (time from the trigger to the
    /// last read that found it running, if a read did) and `ended` (to the read that found it ended). Without
    /// a read of the job running, `ended` is only an upper bound, so it never lengthens what was known.
    pub fn learn(&self, kind: &str, item: &str, running: Option<Duration>, ended: Duration) {
        let mut d = self.lock();
        let known = d.by_key.get(&item_key(kind, item)).or_else(|| d.by_key.get(kind)).map(|(t, _)| *t);
        let estimate = match running.filter(|r| *r < ended) {
            Some(running) => running + (ended - running).mul_f64(0.75),
            None => known.map_or(ended, |k| k.min(ended)),
        };
        if d.by_key.len() >= MAX_KEYS {
            d.by_key.clear();
        }
        d.learned += 1;
        let at = d.learned;
        d.by_key.insert(item_key(kind, item), (estimate, at));
        d.by_key.insert(kind.to_string(), (estimate, at));
        d.dirty = true;
    }

    /// Takes in the stored document (its version and durations): keys this process has not learned itself are
    /// added, its own stay (they are at least as recent). Unreadable entries are skipped.
    pub fn absorb(&self, version: &str, body: &serde_json::Value) {
        let mut d = self.lock();
        d.version = version.to_string();
        let Some(stored) = body.get("seconds").and_then(serde_json::Value::as_object) else { return };
        for (key, secs) in stored {
            let Some(secs) = secs.as_f64().filter(|s| s.is_finite() && *s >= 0.0) else { continue };
            if d.by_key.len() < MAX_KEYS && !d.by_key.contains_key(key) {
                d.by_key.insert(key.clone(), (Duration::from_secs_f64(secs), 0));
            }
        }
    }

    /// What to store if something was learned since the last save: the stored version to replace and the
    /// document (every kind, the most recently learned items). Clears the mark; [`Self::unsaved`] sets it again.
    pub fn to_save(&self) -> Option<(String, serde_json::Value)> {
        let mut d = self.lock();
        if !d.dirty {
            return None;
        }
        d.dirty = false;
        let mut items: Vec<(&String, &(Duration, u64))> = d.by_key.iter().filter(|(k, _)| is_item(k)).collect();
        items.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
        let kinds = d.by_key.iter().filter(|(k, _)| !is_item(k));
        let seconds: serde_json::Map<String, serde_json::Value> = kinds
            .chain(items.into_iter().take(MAX_STORED_ITEMS))
            .map(|(k, (t, _))| (k.clone(), serde_json::json!(t.as_secs_f64())))
            .collect();
        Some((d.version.clone(), serde_json::json!({ "seconds": seconds })))
    }

    /// The save failed: keep the mark so the next tick tries again.
    pub fn unsaved(&self) {
        self.lock().dirty = true;
    }

    /// The save landed as `version`.
    pub fn saved(&self, version: &str) {
        self.lock().version = version.to_string();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Durations> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn item_key(kind: &str, item: &str) -> String {
    format!("{kind}\n{item}")
}

/// Whether a key is an item's ([`item_key`]) rather than a kind's.
fn is_item(key: &str) -> bool {
    key.contains('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: Pace =
        Pace { floor: Duration::from_secs(10), first_blind: Duration::from_secs(75), max: Duration::from_secs(300) };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn azures_estimate_comes_first() {
        let job = JobProgress {
            elapsed: secs(60),
            remaining: Some(secs(125)),
            percent: Some(10.0),
            typical: Some(secs(1000)),
        };
        assert_eq!(next_read(job, PACE), secs(125));
        // Never sooner than the floor, never later than the maximum.
        assert_eq!(next_read(JobProgress { remaining: Some(secs(2)), ..job }, PACE), secs(10));
        assert_eq!(next_read(JobProgress { remaining: Some(secs(4000)), ..job }, PACE), secs(300));
        // A zero estimate says nothing: the next source decides.
        assert_eq!(next_read(JobProgress { remaining: Some(Duration::ZERO), ..job }, PACE), secs(300));
    }

    #[test]
    fn progress_extrapolates_linearly() {
        let job = JobProgress { elapsed: secs(100), percent: Some(40.0), ..Default::default() };
        assert_eq!(next_read(job, PACE), secs(150));
        // 0 % and 100 % say nothing about the rate: elapsed time decides.
        let blind = next_read(JobProgress { percent: Some(0.0), ..job }, PACE);
        assert_eq!(blind, secs(65));
        assert_eq!(next_read(JobProgress { percent: Some(100.0), ..job }, PACE), blind);
    }

    #[test]
    fn history_aims_at_the_expected_end_then_reads_closely() {
        let job = JobProgress { elapsed: secs(40), typical: Some(secs(200)), ..Default::default() };
        assert_eq!(next_read(job, PACE), secs(160));
        // Past the expected end: 15 % of the elapsed time, at least the floor.
        assert_eq!(next_read(JobProgress { elapsed: secs(240), ..job }, PACE), secs(36));
        assert_eq!(next_read(JobProgress { elapsed: secs(200), ..job }, PACE), secs(30));
        assert_eq!(next_read(JobProgress { elapsed: secs(50), typical: Some(secs(40)), ..job }, PACE), secs(10));
        assert_eq!(next_read(JobProgress { elapsed: secs(20), typical: Some(secs(22)), ..job }, PACE), secs(10));
    }

    #[test]
    fn without_estimates_reads_grow_with_the_elapsed_time() {
        let mut elapsed = secs(30);
        let mut reads = Vec::new();
        while elapsed < secs(3600) {
            elapsed += next_read(JobProgress { elapsed, ..Default::default() }, PACE);
            reads.push(elapsed.as_secs());
        }
        assert_eq!(reads[..4], [75, 123, 204, 336]);
        // Then capped at the maximum interval.
        assert!(reads.windows(2).all(|w| w[1] - w[0] <= 300), "{reads:?}");
        assert_eq!(next_read(JobProgress { elapsed: secs(1), ..Default::default() }, PACE), secs(74));
        // Past the first read, never sooner than the floor.
        assert_eq!(
            next_read(JobProgress { elapsed: secs(74), ..Default::default() }, PACE),
            Duration::from_millis(48_100)
        );
    }

    #[test]
    fn remaining_durations_parse_in_both_notations() {
        assert_eq!(parse_remaining("00:05:30"), Some(secs(330)));
        assert_eq!(parse_remaining("1.02:00:00"), Some(secs(93_600)));
        assert_eq!(parse_remaining("00:00:01.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_remaining("PT1H2M3S"), Some(secs(3723)));
        assert_eq!(parse_remaining("PT0.5S"), Some(Duration::from_millis(500)));
        for bad in ["", "soon", "00:61:00", "00:00:60", "1:2", "PT5", "PTxS", "1:2:3:4", "-1:00:00"] {
            assert_eq!(parse_remaining(bad), None, "{bad}");
        }
    }

    #[test]
    fn history_prefers_the_item_then_the_kind() {
        let history = History::default();
        assert_eq!(history.typical("dpp", "disk-a"), None);
        history.learn("dpp", "disk-a", Some(secs(150)), secs(230));
        history.learn("dpp", "disk-b", None, secs(100));
        assert_eq!(history.typical("dpp", "disk-a"), Some(secs(210)));
        assert_eq!(history.typical("dpp", "disk-c"), Some(secs(100)));
        assert_eq!(history.typical("rsv", "vm-a"), None);
        // An end seen on the first read is an upper bound: it shortens what is known, never lengthens it.
        history.learn("dpp", "disk-a", None, secs(300));
        assert_eq!(history.typical("dpp", "disk-a"), Some(secs(210)));
        history.learn("dpp", "disk-a", None, secs(180));
        assert_eq!(history.typical("dpp", "disk-a"), Some(secs(180)));
        // A longer job, seen running past the estimate, moves it up.
        history.learn("dpp", "disk-a", Some(secs(300)), secs(340));
        assert_eq!(history.typical("dpp", "disk-a"), Some(secs(330)));
    }

    #[test]
    fn the_stored_document_keeps_every_kind_and_the_most_recent_items_and_local_learning_wins() {
        let history = History::default();
        assert!(history.to_save().is_none(), "nothing learned, nothing to write");
        for i in 0..(MAX_STORED_ITEMS + 5) {
            history.learn("dpp", &format!("disk-{i:03}"), None, secs(100));
        }
        history.learn("rsv", "vm-a", None, secs(300));
        let (version, body) = history.to_save().expect("learned: something to write");
        assert_eq!(version, "");
        let stored = body["seconds"].as_object().unwrap();
        assert!(stored.contains_key("dpp") && stored.contains_key("rsv"), "every kind");
        let items: Vec<&String> = stored.keys().filter(|k| is_item(k)).collect();
        assert_eq!(items.len(), MAX_STORED_ITEMS);
        assert!(stored.contains_key(&item_key("rsv", "vm-a")), "the most recent item");
        assert!(!stored.contains_key(&item_key("dpp", "disk-000")), "the oldest item left out");
        assert!(history.to_save().is_none(), "written: nothing new until the next learning or a failed save");
        history.unsaved();
        assert!(history.to_save().is_some(), "a failed save is tried again");

        // Another instance's document: what this one knows stays, what it does not know is taken in.
        let theirs = serde_json::json!({ "seconds": { "rsv": 999.0, "kind-b": 50.0, "bad": "x" } });
        history.absorb("v2", &theirs);
        assert_eq!(history.typical("rsv", "vm-z"), Some(secs(300)));
        assert_eq!(history.typical("kind-b", "any"), Some(secs(50)));
        assert_eq!(history.typical("bad", "any"), None);
        history.learn("kind-b", "one", None, secs(40));
        assert_eq!(history.to_save().expect("learned").0, "v2", "replaces the version it read");
    }
}
