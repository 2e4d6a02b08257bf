//! The drill function reading its plans from a Blob container and writing its evidence to another, as in Azure
//! (`drill-plans`, `drill-evidence`), on Azurite with the real drills, intake and tracker binaries: a plan put in
//! the container runs, an edit of the plan blob between ticks is picked up, the report page and evidence pack
//! are blobs afterwards, and writing the same evidence again never overwrites it.

mod common;

use common::{Backend, Stack, drills};
use restore_drills_app::evidence::{EvidenceError, EvidenceSink};
use restore_drills_app::plans::PlanSource;
use restore_evidence::EvidencePack;
use serde_json::{Value, json};

/// A disk plan due now.
fn plan() -> Value {
    drills::disk_plan("e2e-blob", 1)
}

fn signals(drills: &restore_e2e::Worker, plan: &str) -> Vec<Value> {
    drills
        .stdout()
        .text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "drill.signal" && v["kind"] == "planInvalid" && v["plan"] == plan)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_are_read_from_a_container_each_tick_and_evidence_is_written_once_to_another() {
    let mut stack = Stack::start_with(Backend::Blob).await;
    // The first version of the plan is refused (an RTO target of zero): nothing runs until the blob is edited.
    let mut refused = plan();
    refused["rto"]["target"] = json!("PT0S");
    let (plans_url, evidence_url) = drills::configure_blob(&mut stack, &[("e2e-blob", &refused)]).await;
    // Not a plan: ignored, like a non-JSON file in a plan folder.
    drills::put_blob(&stack, &plans_url, "README.md", b"plans are the *.json blobs").await;
    let drills = stack.worker("drills").await;
    let intake = stack.intake().await;
    let (_tracker, _ticking) = stack.ticking_tracker().await;

    let first = drills::tick(&drills).await;
    assert!(first.requests.is_empty() && first.results.is_empty(), "the refused plan starts nothing");
    let refusals = signals(&drills, "e2e-blob");
    assert_eq!(refusals.len(), 1, "{refusals:#?}\n{}", drills.stderr().text());
    assert_eq!(refusals[0]["field"], "rto.target", "{:#}", refusals[0]);

    // The operator fixes the plan blob; the next tick reads it (no restart, no redeploy) and the run goes through.
    let fixed = plan();
    drills::put_blob(&stack, &plans_url, "e2e-blob.json", fixed.to_string().as_bytes()).await;
    let (results, sent) = drills::run_until_results(&stack, &drills, &intake, 1).await;
    let result = &results[0];
    assert_eq!(sent.len(), 1, "one restore request for one item");
    assert_eq!(result["outcome"], "Passed", "{result:#}\n{}", drills.stderr().text());
    assert_eq!(signals(&drills, "e2e-blob").len(), 1, "the fixed plan is no longer refused");

    // The pack and the page are blobs named after the run, in the evidence container.
    let run_id = result["runId"].as_str().expect("run id");
    let (page_name, pack_name) = restore_evidence::store::run_files(run_id).expect("names");
    let (pack_bytes, pack_etag) =
        drills::get_blob(&stack, &evidence_url, &pack_name).await.unwrap_or_else(|| panic!("{pack_name} written"));
    let (page_bytes, page_etag) =
        drills::get_blob(&stack, &evidence_url, &page_name).await.unwrap_or_else(|| panic!("{page_name} written"));
    let pack: EvidencePack = serde_json::from_slice(&pack_bytes).expect("the pack parses");
    assert_eq!(pack.run.run_id, run_id);
    assert!(String::from_utf8_lossy(&page_bytes).contains(run_id), "the page names the run");

    // The overview across plans is in its own container (replaced as runs change), naming this run.
    let overview_url = drills::setting(&stack, "RESTORE_DRILL_OVERVIEW_CONTAINER_URL").expect("an overview container");
    let (overview, _) = drills::get_blob(&stack, &overview_url, "index.json").await.expect("index.json written");
    let overview: serde_json::Value = serde_json::from_slice(&overview).expect("overview JSON");
    assert_eq!(overview["plans"][0]["lastRun"]["runId"], run_id, "{overview:#}");
    assert!(drills::get_blob(&stack, &overview_url, "index.html").await.is_some(), "the page too");
    assert!(drills::get_blob(&stack, &evidence_url, "index.html").await.is_none(), "never in the evidence container");

    // Writing the same evidence again, through the function's own sink and settings: counted as written,
    // nothing replaced.
    let (credential, transport) = drills::identity(&stack);
    let sink = EvidenceSink::container(&evidence_url, credential, transport).await.expect("evidence sink");
    let again = sink.write_run(&pack).await.expect("the same bytes again are fine");
    assert_eq!(again.already_there, 2, "{again:?}");
    // Other evidence under the same run id (a later time of writing) is refused, and the first kept.
    let mut other = pack.clone();
    other.generated_at = restore_contract::Timestamp::from(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    let refused = sink.write_run(&other).await.expect_err("evidence is never overwritten");
    assert!(matches!(&refused, EvidenceError::Differs { blob, .. } if *blob == pack_name), "{refused}");
    assert!(refused.to_string().contains("RESTORE_DRILL_EVIDENCE_CONTAINER_URL"), "{refused}");
    assert_eq!(drills::get_blob(&stack, &evidence_url, &pack_name).await, Some((pack_bytes, pack_etag)));
    assert_eq!(drills::get_blob(&stack, &evidence_url, &page_name).await, Some((page_bytes, page_etag)));

    // Another tick starts nothing new for the same occurrence.
    let later = drills::tick(&drills).await;
    assert!(later.requests.is_empty() && later.results.is_empty());

    // Every listing page is read: with one name per page, both plans (and only plans) come back, the edited one
    // with its new bytes.
    drills::put_blob(&stack, &plans_url, "zz-later.json", b"{}").await;
    let (credential, transport) = drills::identity(&stack);
    let source = PlanSource::container(&plans_url, credential, transport).await.expect("plan source").with_page_size(1);
    let listed = source.read().await.expect("plans listed");
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["e2e-blob", "zz-later"]);
    assert_eq!(listed[0].bytes.as_deref().expect("readable"), fixed.to_string().as_bytes());
}
