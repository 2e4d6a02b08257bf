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

/// `drills status` reads what the drill function wrote: an ended run with its outcome and signals, a missed one,
/// the next run, and each item's history.
#[tokio::test]
async fn status_shows_runs_next_run_and_history_from_the_store() {
    use restore_store::{Document, SqliteStore, StateStore};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let store = SqliteStore::open(&db).unwrap();
    // The example nightly plan, moved to run daily two minutes before now and an hour before that.
    let now = time::OffsetDateTime::now_utc();
    let (first, second) = (now - time::Duration::minutes(62), now - time::Duration::minutes(2));
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(at("examples/drills/items-nightly-disk.json")).unwrap()).unwrap();
    plan["schedule"]["cron"] =
        json!(format!("0 {},{} {},{} * * *", first.minute(), second.minute(), first.hour(), second.hour()));
    plan["schedule"]["timeZone"] = json!("UTC");
    plan["schedule"]["startWindow"] = json!("PT30M");
    let file = dir.path().join("plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let valid = restore_drills::parse_plan(plan.to_string().as_bytes(), &policy(), now).unwrap();
    let name = valid.plan().name.clone();
    let at_minute = |t: time::OffsetDateTime| t.replace_second(0).unwrap().replace_nanosecond(0).unwrap();
    // The earlier occurrence was missed; the later one ran and ended Passed.
    let missed_id = restore_drills::run_id(&name, at_minute(first));
    let ran_id = restore_drills::run_id(&name, at_minute(second));
    let put = |key: String, body: serde_json::Value| Document { key, version: String::new(), body };
    store.put_document(&put(format!("drill-run:{missed_id}"), json!({"missed": true}))).await.unwrap();
    let item = valid.plan().selection.items[0].clone();
    let mut drill =
        restore_drills::run::DrillRun::start(valid.plan(), &ran_id, at_minute(second), vec![(item.clone(), None)], now);
    drill.items[0].phase = restore_drills::item::Phase::Done;
    drill.items[0].timeline.triggered = Some(now.into());
    drill.items[0].timeline.checks_passed = Some((now + time::Duration::minutes(9)).into());
    drill.ended_at = Some((now + time::Duration::minutes(10)).into());
    store.put_document(&put(format!("drill-run:{ran_id}"), serde_json::to_value(&drill).unwrap())).await.unwrap();
    let mut history = restore_drills::history::PlanHistory::default();
    history.record(&drill.result(|_| Vec::new()));
    store
        .put_document(&put(restore_drills::history::PlanHistory::key(&name), serde_json::to_value(&history).unwrap()))
        .await
        .unwrap();

    let args = |json: bool| {
        let mut a = if json { vec!["--json"] } else { vec![] };
        a.extend(["drills", "status", "--policy", POLICY, "--sqlite", db.to_str().unwrap(), file.to_str().unwrap()]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let human = run(&mut restorectl(args(false)));
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.contains(&format!("run {missed_id}  missed")), "{}", human.stdout);
    assert!(human.stdout.contains(&format!("run {ran_id}  Passed ended ")), "{}", human.stdout);
    assert!(human.stdout.contains("RTOs 540s"), "{}", human.stdout);
    let machine = run(&mut restorectl(args(true))).json();
    let p = &machine["plans"][0];
    assert_eq!(p["plan"], name.as_str());
    assert!(p["nextRun"].is_string(), "{p:#}");
    assert_eq!(p["items"][0]["item"], item.canonical().as_str(), "{p:#}");
    assert_eq!(p["items"][0]["rtoSeconds"], json!([540]), "{p:#}");
}

fn policy() -> restore_contract::Policy {
    restore_contract::Policy::from_settings(Some(at(POLICY).to_str().unwrap()), None).unwrap()
}
