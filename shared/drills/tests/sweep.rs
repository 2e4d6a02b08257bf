//! The sweep's verdict on each drill-tagged resource: deleted only when its run ended (or expired) and records
//! it inside the sandbox; a stranger tagged like a drill resource, a resource of a run that does not exist and a
//! recorded resource outside the sandbox groups are never deleted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use restore_contract::Policy;
use restore_drills::ItemId;
use restore_drills::cleanup::{TAG_EXPIRES, TAG_RUN};
use restore_drills::item::Created;
use restore_drills::run::DrillRun;
use restore_drills::sweep::{Verdict, judge};
use time::OffsetDateTime;
use time::macros::datetime;

const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
const AT: OffsetDateTime = datetime!(2026-12-05 02:30 UTC);
const RUN: &str = "nightly-disks.20261205T023000Z";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy() -> Policy {
    Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap()
}

fn disk(rg: &str, name: &str) -> String {
    format!("{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}")
}

/// A run that recorded `created`, ended or not.
fn run(created: &[&str], ended: bool) -> DrillRun {
    let plan = restore_drills::parse_plan(
        &std::fs::read(repo().join("examples/drills/items-nightly-disk.json")).unwrap(),
        &policy(),
        AT,
    )
    .unwrap()
    .into_plan();
    let item = ItemId::parse(&format!(
        "{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi"
    ))
    .unwrap();
    let mut run = DrillRun::start(&plan, RUN, AT, vec![(item, None)], AT);
    run.items[0].created = created
        .iter()
        .map(|id| Created {
            id: id.to_string(),
            staging: false,
            tagged: true,
            delete_sent: false,
            gone_at: None,
            failed_deletes: 5,
            delete_sent_at: None,
            tag_failures: 0,
            problem: Some("delete refused 5 times".into()),
            refused: false,
        })
        .collect();
    if ended {
        run.ended_at = Some((AT + time::Duration::hours(1)).into());
    }
    run
}

fn tags(run: &str, expires: Option<OffsetDateTime>) -> BTreeMap<String, String> {
    let mut t = BTreeMap::from([(TAG_RUN.to_string(), run.to_string())]);
    if let Some(e) = expires {
        t.insert(TAG_EXPIRES.into(), restore_contract::Timestamp::from(e).to_string());
    }
    t
}

#[test]
fn a_recorded_leftover_of_an_ended_run_is_deleted() {
    let left = disk("rg-drill-sandbox", "left-behind");
    let verdict = judge(&left, &tags(RUN, None), Some(&run(&[left.as_str()], true)), &policy().sandbox, AT);
    assert_eq!(verdict, Verdict::Delete);
}

#[test]
fn an_open_run_cleans_up_after_itself_until_it_expires() {
    let mine = disk("rg-drill-sandbox", "in-use");
    let open = run(&[mine.as_str()], false);
    let now = AT + time::Duration::hours(2);
    assert_eq!(
        judge(&mine, &tags(RUN, Some(now + time::Duration::hours(1))), Some(&open), &policy().sandbox, now),
        Verdict::RunOpen
    );
    assert_eq!(judge(&mine, &tags(RUN, Some(now)), Some(&open), &policy().sandbox, now), Verdict::Delete, "expired");
}

#[test]
fn strangers_are_never_deleted_whatever_their_tags_say() {
    let sandbox = policy().sandbox;
    let recorded = disk("rg-drill-sandbox", "recorded");
    let ended = run(&[recorded.as_str()], true);
    // Tagged with the run's id but not recorded on it.
    let stranger = disk("rg-drill-sandbox", "look-alike");
    let v = judge(&stranger, &tags(RUN, Some(AT)), Some(&ended), &sandbox, AT + time::Duration::days(9));
    assert!(matches!(&v, Verdict::Refused(why) if why.contains("not recorded")), "{v:?}");
    // Tagged for a run that does not exist.
    let v = judge(&stranger, &tags("made-up.20261205T023000Z", Some(AT)), None, &sandbox, AT + time::Duration::days(9));
    assert!(matches!(&v, Verdict::Refused(why) if why.contains("does not exist")), "{v:?}");
    // Recorded on the run and tagged, but outside every sandbox group.
    let outside = disk("rg-app", "app-data-01");
    let v = judge(&outside, &tags(RUN, None), Some(&run(&[outside.as_str()], true)), &sandbox, AT);
    assert!(matches!(&v, Verdict::Refused(why) if why.contains("outside")), "{v:?}");
    // Recorded, in the sandbox, but its tag names another run.
    let v = judge(&recorded, &tags("other.20261205T023000Z", None), Some(&ended), &sandbox, AT);
    assert!(matches!(&v, Verdict::Refused(_)), "{v:?}");
}

/// The survey lists every sandbox group, reads each named run once, and judges each listed resource; an entry
/// without an id is skipped.
#[tokio::test]
async fn the_survey_judges_every_listed_resource_reading_each_run_once() {
    use restore_drills::item::SeamError;
    use restore_drills::sweep::{Judged, SweepSeams, survey};
    use serde_json::{Value, json};
    use std::sync::Mutex;

    struct Fake {
        listed: Vec<Value>,
        run: DrillRun,
        groups: Mutex<Vec<String>>,
        reads: Mutex<Vec<String>>,
    }
    #[async_trait::async_trait]
    impl SweepSeams for Fake {
        async fn drill_tagged(&self, group: &str) -> Result<Vec<Value>, SeamError> {
            self.groups.lock().unwrap().push(group.to_string());
            Ok(self.listed.clone())
        }
        async fn run(&self, run_id: &str) -> Result<Option<DrillRun>, SeamError> {
            self.reads.lock().unwrap().push(run_id.to_string());
            Ok((run_id == RUN).then(|| self.run.clone()))
        }
    }
    let left = disk("rg-drill-sandbox", "left-behind");
    let stranger = disk("rg-drill-sandbox", "look-alike");
    let fake = Fake {
        listed: vec![
            json!({"id": left, "tags": {TAG_RUN: RUN}}),
            json!({"id": stranger, "tags": {TAG_RUN: RUN}}),
            json!({"tags": {TAG_RUN: RUN}}),
        ],
        run: run(&[left.as_str()], true),
        groups: Mutex::default(),
        reads: Mutex::default(),
    };
    let sandbox = policy().sandbox;
    let judged = survey(&fake, &sandbox, AT + time::Duration::days(1)).await.unwrap();
    assert_eq!(
        *fake.groups.lock().unwrap(),
        sandbox.resource_groups.iter().map(|g| g.as_str().to_string()).collect::<Vec<_>>()
    );
    assert_eq!(*fake.reads.lock().unwrap(), vec![RUN.to_string()], "one read per run");
    assert_eq!(judged.len(), 2 * sandbox.resource_groups.len(), "{judged:?}");
    assert_eq!(judged[0], Judged { resource: left.clone(), run_id: Some(RUN.into()), verdict: Verdict::Delete });
    assert!(matches!(&judged[1].verdict, Verdict::Refused(why) if why.contains("not recorded")), "{judged:?}");
}
