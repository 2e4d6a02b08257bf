//! When the tracker reads a running job (issue 15, "results promptly"), on a virtual clock with scripted Azure.
//! The estimate and progress branches are pure arithmetic, tested in `restore_workflow::pace`; here the two
//! branches the scripted Data Protection API exercises (its jobs carry no estimate): a first restore paced on
//! elapsed time, and the next restore of the same item read at the end the first one taught.

mod common;

use std::time::Duration;

use common::*;
use restore_store::{State, StateStore};
use restore_workflow::clock::Clock;
use restore_workflow::intake::Outcome;
use restore_workflow::tracker::{Tracker, TrackerSettings};
use serde_json::Value;
use time::OffsetDateTime;

const INSTANCE: &str = "app-data-01-bi";

/// What following one restore to its end took.
struct Followed {
    /// Reads of the restore's job.
    job_reads: usize,
    /// Virtual time from the job's end in Azure to the tick that published the result.
    after_end: Duration,
}

/// Delivers a restore of [`INSTANCE`] named `id`, then ticks the tracker every 10 virtual seconds until it ended.
async fn follow(h: &Harness, id: &str, disk_name: &str) -> Followed {
    follow_with(h, &h.tracker, id, disk_name).await
}

/// [`follow`] with another tracker (another process) on the same store.
async fn follow_with(h: &Harness, tracker: &Tracker, id: &str, disk_name: &str) -> Followed {
    let mut body: Value = serde_json::from_slice(&disk_request_for(id, INSTANCE)).unwrap();
    body["operation"]["diskName"] = disk_name.into();
    let outcome = h.deliver(&serde_json::to_vec(&body).unwrap(), 1).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let job = h.azure.jobs().last().cloned().expect("the restore started a job");
    let mut ended_seen: Option<OffsetDateTime> = None;
    for _ in 0..200 {
        tracker.tick(h.clock.now()).await.unwrap();
        let record = h.record(id).await;
        if record.state.is_terminal() {
            assert_eq!(record.state, State::Succeeded);
            ended_seen = Some(h.clock.now());
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let seen = ended_seen.expect("the restore ended within 200 ticks");
    let job_end = job.started + job.duration;
    Followed {
        job_reads: h.azure.count("GET", &format!("/backupJobs/{}", job.id)),
        after_end: Duration::try_from(seen - job_end).expect("the result came after the job ended"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_first_restore_is_read_as_its_elapsed_time_grows() {
    let h = Harness::new();
    let first = follow(&h, "req-1", "restored-1").await;
    // 180 s job, nothing known about it: reads from 75 s after the trigger, each when the elapsed time grew by
    // 65 %, so three reads, and the result at most 65 % of the elapsed time after the end (plus a tick).
    assert!(first.job_reads <= 3, "{} job reads", first.job_reads);
    assert!(first.after_end <= Duration::from_secs(60), "{:?} after the job's end", first.after_end);
}

#[tokio::test(start_paused = true)]
async fn the_next_restore_of_the_item_is_read_once_at_the_end_the_first_took() {
    let h = Harness::new();
    let first = follow(&h, "req-1", "restored-1").await;
    let second = follow(&h, "req-2", "restored-2").await;
    // The first restore's duration (trigger to the read that saw its end) is an upper bound of the second's
    // (same job length): one read, and the result within the read's spread (a tenth of the wait) and one tick.
    assert_eq!(second.job_reads, 1, "first restore: {} reads", first.job_reads);
    assert!(second.after_end <= first.after_end, "{:?} then {:?}", first.after_end, second.after_end);
    assert!(second.after_end <= Duration::from_secs(40), "{:?} after the job's end", second.after_end);
}

#[tokio::test(start_paused = true)]
async fn a_cold_tracker_paces_by_the_durations_an_earlier_one_stored() {
    let h = Harness::new();
    let first = follow(&h, "req-1", "restored-1").await;
    // A new tracker process on the same store: it reads the stored durations before pacing its first job.
    let cold = Tracker::new(client(&h.azure), h.store.clone(), TrackerSettings::default())
        .with_clock(std::sync::Arc::new(h.clock));
    let second = follow_with(&h, &cold, "req-2", "restored-2").await;
    assert_eq!(second.job_reads, 1, "paced by the stored duration (first restore: {} reads)", first.job_reads);
    assert!(second.after_end <= Duration::from_secs(40), "{:?} after the job's end", second.after_end);
    let stored = h.store.document(restore_workflow::pace::STORED_KEY).await.unwrap().expect("durations stored");
    assert!(stored.body["seconds"]["dpp-restore"].as_f64().is_some_and(|s| s > 0.0), "{}", stored.body);
}
