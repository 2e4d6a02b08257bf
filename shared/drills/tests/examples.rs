//! Every plan under examples/drills/ matches the published schema, parses, validates against examples/policy.json
//! and round-trips; together they show every selection mode. A result message built with the library matches the
//! result schema and round-trips.

use std::path::PathBuf;

use restore_contract::Policy;
use restore_drills::point::PointTier;
use restore_drills::result::{
    CoverageGapEntry, DrillResult, Failure, FailureStage, ItemOutcome, ItemResult, Leftover, RecoveryPointUsed,
    ResultVersion, Signal, Timeline,
};
use restore_drills::{IsoDuration, ItemId, ItemKind, parse_plan, plan::Region, rto, schema};
use time::macros::datetime;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy() -> Policy {
    Policy::from_settings(Some(repo().join("examples/policy.json").to_str().unwrap()), None).unwrap()
}

#[test]
fn example_plans_match_the_schema_validate_and_round_trip() {
    let validator = jsonschema::validator_for(&schema::plan_schema()).expect("the plan schema compiles");
    let policy = policy();
    let now = datetime!(2026-12-05 12:00 UTC);
    let mut modes = std::collections::BTreeSet::new();
    let mut count = 0;
    let mut paths: Vec<_> = std::fs::read_dir(repo().join("examples/drills"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{name} does not match the schema: {errors:?}");
        let valid = parse_plan(&bytes, &policy, now).unwrap_or_else(|e| panic!("{name}: {e}"));
        let plan = valid.plan();
        let again = parse_plan(&serde_json::to_vec(plan).unwrap(), &policy, now).unwrap();
        assert_eq!(again.plan(), plan, "{name} does not round-trip");
        assert!(valid.schedule().next_after(now).is_some(), "{name} never runs");
        if !plan.selection.items.is_empty() {
            modes.insert("items");
        }
        if !plan.selection.vaults.is_empty() {
            modes.insert("vaults");
        }
        if !plan.selection.tags.is_empty() {
            modes.insert("tags");
        }
        count += 1;
    }
    assert!(count >= 3, "only {count} example plans");
    assert_eq!(modes.into_iter().collect::<Vec<_>>(), ["items", "tags", "vaults"]);
}

#[test]
fn the_schema_refuses_what_the_parser_refuses_by_shape() {
    let validator = jsonschema::validator_for(&schema::plan_schema()).unwrap();
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("examples/drills/vaults-weekly-vms.json")).unwrap()).unwrap();
    plan["checks"]["webhook"]["secret"] = serde_json::json!("inline");
    assert!(!validator.is_valid(&plan), "additionalProperties: false");
    plan["checks"]["webhook"].as_object_mut().unwrap().remove("secret");
    plan["restore"]["vm"] = serde_json::json!("replaceDisks");
    assert!(!validator.is_valid(&plan), "destructive modes are not in the enum");
}

#[test]
fn a_result_message_matches_its_schema_and_round_trips() {
    let item = ItemId::parse(
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi",
    )
    .unwrap();
    let timeline = Timeline {
        scheduled: Some(datetime!(2026-12-05 06:00 UTC).into()),
        triggered: Some(datetime!(2026-12-05 06:01 UTC).into()),
        job_started: Some(datetime!(2026-12-05 06:02 UTC).into()),
        job_ended: Some(datetime!(2026-12-05 06:30 UTC).into()),
        checks_passed: Some(datetime!(2026-12-05 06:41 UTC).into()),
        cleaned_up: None,
    };
    let rto = rto::assess(rto::measure(&timeline), IsoDuration::from_secs(1800), &[1500, 1600]);
    let passed = ItemResult {
        item: item.clone(),
        kind: ItemKind::Disk,
        source_missing: true,
        outcome: ItemOutcome::Passed,
        recovery_point: Some(RecoveryPointUsed {
            name: "a3d02fc3ab8a4c3a8cc26688c26d3356".into(),
            time: datetime!(2026-12-04 22:00 UTC).into(),
            tier: Some(PointTier::Snapshot),
            region: Region::Primary,
        }),
        timeline,
        rto,
        failure: None,
        skipped: None,
    };
    let mut failed = passed.clone();
    failed.outcome = ItemOutcome::Failed;
    failed.failure = Some(Failure {
        stage: FailureStage::Check,
        check: Some("diskMatchesSource".into()),
        code: None,
        message: "SKU Premium_LRS, source Standard_LRS".into(),
    });
    let items = vec![passed, failed];
    let mut signals = rto::rto_signals(&items);
    signals.push(Signal::CoverageBreach {
        within_days: 30,
        items: vec![CoverageGapEntry { item: item.clone(), last_passed: None }],
    });
    signals.push(Signal::CleanupIncomplete {
        resources: vec![Leftover {
            resource: "/subscriptions/s/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/disks/x".into(),
            reason: "delete pending".into(),
        }],
    });
    signals.push(rto::missed_signal(datetime!(2026-12-04 06:00 UTC), IsoDuration::from_hours(4)));
    let outcome = rto::run_outcome(&items.iter().map(|i| i.outcome).collect::<Vec<_>>());
    let msg = DrillResult {
        version: ResultVersion::V1,
        plan: "nightly".into(),
        run_id: restore_drills::run_id("nightly", datetime!(2026-12-05 06:00 UTC)),
        scheduled_at: datetime!(2026-12-05 06:00 UTC).into(),
        started_at: Some(datetime!(2026-12-05 06:00:30 UTC).into()),
        ended_at: Some(datetime!(2026-12-05 07:00 UTC).into()),
        outcome: Some(outcome),
        items,
        signals,
    };
    let value = serde_json::to_value(&msg).unwrap();
    let validator = jsonschema::validator_for(&schema::result_schema()).expect("the result schema compiles");
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}\n{value:#}");
    assert_eq!(value["outcome"], "Partial");
    assert_eq!(value["runId"], "nightly.20261205T060000Z");
    assert_eq!(value["items"][0]["rto"]["measuredSeconds"], 2400);
    assert_eq!(value["items"][0]["rto"]["overTarget"], true);
    assert_eq!(value["signals"][0]["kind"], "rtoOverTarget");
    let back: DrillResult = serde_json::from_value(value).unwrap();
    assert_eq!(back, msg);
}
