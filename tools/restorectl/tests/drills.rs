//! `restorectl drills` on the real binary: every example plan validates with its next runs (human and JSON), a
//! bad plan is refused naming the field, rule and fix with exit 1, and `report` finds a run's page and prints
//! its evidence.

mod common;

use common::{at, restorectl, run};
use serde_json::json;

const POLICY: &str = "examples/policy.json";

#[test]
fn every_example_plan_validates_and_shows_its_next_runs() {
    let mut plans: Vec<_> = std::fs::read_dir(at("examples/drills")).unwrap().map(|e| e.unwrap().path()).collect();
    plans.sort();
    assert!(plans.len() >= 3, "{plans:?}");
    let human = run(restorectl(["drills", "validate", "--policy", POLICY]).args(&plans));
    assert_eq!(human.code, 0, "{human:?}");
    assert_eq!(human.stdout.matches("valid: ").count(), plans.len(), "{}", human.stdout);
    assert!(human.stdout.contains("next run "), "{}", human.stdout);
    let machine = run(restorectl(["--json", "drills", "validate", "--next", "2", "--policy", POLICY]).args(&plans));
    assert_eq!(machine.code, 0, "{machine:?}");
    let doc = machine.json();
    for plan in doc["plans"].as_array().unwrap() {
        assert_eq!(plan["valid"], true, "{plan}");
        assert_eq!(plan["nextRuns"].as_array().unwrap().len(), 2, "{plan}");
        let run_id = plan["nextRuns"][0]["runId"].as_str().unwrap();
        assert!(run_id.starts_with(plan["plan"].as_str().unwrap()), "{run_id}");
    }
}

#[test]
fn a_bad_plan_is_refused_naming_field_rule_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(at("examples/drills/items-nightly-disk.json")).unwrap()).unwrap();
    plan["schedule"]["cron"] = json!("0 30 25 * * *");
    let file = dir.path().join("bad.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let human = run(restorectl(["drills", "validate", "--policy", POLICY]).arg(&file));
    assert_eq!(human.code, 1, "{human:?}");
    assert!(human.stdout.contains("field      schedule.cron"), "{}", human.stdout);
    assert!(human.stdout.contains("fix "), "{}", human.stdout);
    let machine = run(restorectl(["--json", "drills", "validate", "--policy", POLICY]).arg(&file));
    assert_eq!(machine.code, 1);
    assert_eq!(machine.json()["plans"][0]["error"]["field"], "schedule.cron");
    let missing = run(&mut restorectl(["drills", "validate", "--policy", POLICY, "no-such-plan.json"]));
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("no-such-plan.json"), "{}", missing.stderr);
}

#[test]
fn report_finds_a_runs_page_and_prints_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let overview: restore_evidence::Overview = serde_json::from_value(json!({
        "generatedAt": "2026-12-08T05:00:00Z",
        "plans": [{"plan": "nightly-app-data", "coverage": {"selected": 1, "drilled": 1}}]
    }))
    .unwrap();
    let page = restore_evidence::store::write_overview(dir.path(), &overview).unwrap();
    let d = dir.path().to_str().unwrap();
    let human = run(&mut restorectl(["drills", "report", "--overview", "--dir", d]));
    assert_eq!(human.code, 0, "{human:?}");
    assert_eq!(human.stdout.trim(), page.display().to_string());
    let machine = run(&mut restorectl(["--json", "drills", "report", "--overview", "--dir", d]));
    assert_eq!(machine.json()["plans"][0]["plan"], "nightly-app-data");
    let missing = run(&mut restorectl(["drills", "report", "nightly-app-data.20261205T023000Z", "--dir", d]));
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("no report at"), "{}", missing.stderr);
    let bad = run(&mut restorectl(["drills", "report", "../../etc/passwd", "--dir", d]));
    assert_ne!(bad.code, 0, "{bad:?}");
}
