//! `restorectl drills` on the real binary: every example plan validates with its next runs (human and JSON), a
//! bad plan is refused naming the field, rule and fix with exit 1, and `report` finds a run's page and prints
//! its evidence; `status`, `list` and `history` read a store filled as the drill function fills it; `sweep` runs
//! against the emulator.

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

/// A SQLite store filled as the drill function fills it, for the example nightly plan moved to run daily two
/// minutes before now and an hour before that: the earlier occurrence missed (or, with `first_open`, a run still
/// open), the later one ended Passed with an RTO of 540 s, folded into the plan's history.
struct Seeded {
    dir: tempfile::TempDir,
    db: std::path::PathBuf,
    /// The plan file.
    file: std::path::PathBuf,
    name: String,
    item: restore_drills::ItemId,
    first_id: String,
    ran_id: String,
}

impl Seeded {
    fn db(&self) -> &str {
        self.db.to_str().unwrap()
    }

    fn file(&self) -> &str {
        self.file.to_str().unwrap()
    }

    /// Writes `plan` (JSON) as a file in the scratch directory.
    fn write(&self, name: &str, plan: &serde_json::Value) -> std::path::PathBuf {
        let file = self.dir.path().join(name);
        std::fs::write(&file, plan.to_string()).unwrap();
        file
    }
}

fn put(key: String, body: serde_json::Value) -> restore_store::Document {
    restore_store::Document { key, version: String::new(), body }
}

async fn seeded(first_open: bool, edit: impl FnOnce(&mut serde_json::Value)) -> Seeded {
    use restore_store::{SqliteStore, StateStore};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let store = SqliteStore::open(&db).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let (first, second) = (now - time::Duration::minutes(62), now - time::Duration::minutes(2));
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(at("examples/drills/items-nightly-disk.json")).unwrap()).unwrap();
    plan["schedule"]["cron"] =
        json!(format!("0 {},{} {},{} * * *", first.minute(), second.minute(), first.hour(), second.hour()));
    plan["schedule"]["timeZone"] = json!("UTC");
    plan["schedule"]["startWindow"] = json!("PT30M");
    edit(&mut plan);
    let file = dir.path().join("plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let valid = restore_drills::parse_plan(plan.to_string().as_bytes(), &policy(), now).unwrap();
    let name = valid.plan().name.clone();
    let at_minute = |t: time::OffsetDateTime| t.replace_second(0).unwrap().replace_nanosecond(0).unwrap();
    let first_id = restore_drills::run_id(&name, at_minute(first));
    let ran_id = restore_drills::run_id(&name, at_minute(second));
    let item = valid.plan().selection.items[0].clone();
    let start = |id: &str, at: time::OffsetDateTime| {
        restore_drills::run::DrillRun::start(valid.plan(), id, at_minute(at), vec![(item.clone(), None)], now)
    };
    let first_doc =
        if first_open { serde_json::to_value(start(&first_id, first)).unwrap() } else { json!({"missed": true}) };
    store.put_document(&put(format!("drill-run:{first_id}"), first_doc)).await.unwrap();
    let mut drill = start(&ran_id, second);
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
    Seeded { dir, db, file, name, item, first_id, ran_id }
}

/// Rewrites the seeded plan's history document with `edit` applied.
async fn edit_history(s: &Seeded, edit: impl FnOnce(&mut restore_drills::history::PlanHistory)) {
    use restore_store::{SqliteStore, StateStore};
    let store = SqliteStore::open(&s.db).unwrap();
    let key = restore_drills::history::PlanHistory::key(&s.name);
    let doc = store.document(&key).await.unwrap().unwrap();
    let mut history: restore_drills::history::PlanHistory = serde_json::from_value(doc.body.clone()).unwrap();
    edit(&mut history);
    store
        .put_document(&restore_store::Document { body: serde_json::to_value(&history).unwrap(), ..doc })
        .await
        .unwrap();
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// `drills status` reads what the drill function wrote: an ended run with its outcome and signals, a missed one,
/// the next run, and each item's history.
#[tokio::test]
async fn status_shows_runs_next_run_and_history_from_the_store() {
    let s = seeded(false, |_| {}).await;
    let (missed_id, ran_id, item) = (&s.first_id, &s.ran_id, &s.item);
    let args = |json: bool| {
        let mut a = if json { vec!["--json"] } else { vec![] };
        a.extend(["drills", "status", "--policy", POLICY, "--sqlite", s.db(), s.file()]);
        strings(&a)
    };
    let human = run(&mut restorectl(args(false)));
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.contains(&format!("run {missed_id}  missed")), "{}", human.stdout);
    assert!(human.stdout.contains(&format!("run {ran_id}  Passed ended ")), "{}", human.stdout);
    assert!(human.stdout.contains("RTOs 540s"), "{}", human.stdout);
    let machine = run(&mut restorectl(args(true))).json();
    let p = &machine["plans"][0];
    assert_eq!(p["plan"], s.name.as_str());
    assert!(p["nextRun"].is_string(), "{p:#}");
    assert_eq!(p["items"][0]["item"], item.canonical().as_str(), "{p:#}");
    assert_eq!(p["items"][0]["rtoSeconds"], json!([540]), "{p:#}");
}

/// `drills list`: one line per plan from the same reads as `status`: the last run's outcome, open runs, coverage
/// as the share of the history's items passed inside the window (or no target), and a refused plan's code.
#[tokio::test]
async fn list_shows_one_line_per_plan_with_last_run_coverage_and_open_runs() {
    let s = seeded(true, |p| p["coverage"] = json!({"withinDays": 30})).await;
    // A second item whose last pass is older than the window: coverage 1 of 2.
    let stale = restore_drills::ItemId::parse(&s.item.as_str().replace("app-data-01-bi", "app-logs-01-bi")).unwrap();
    edit_history(&s, |h| {
        let old = time::OffsetDateTime::now_utc() - time::Duration::days(40);
        let entry = h.items.entry(stale.canonical()).or_default();
        (entry.last_drilled, entry.last_passed) = (Some(old.into()), Some(old.into()));
    })
    .await;
    // A plan without a coverage target and without runs, and one the drill function refuses.
    let mut other: serde_json::Value = serde_json::from_slice(&std::fs::read(&s.file).unwrap()).unwrap();
    other["name"] = json!("other-plan");
    other.as_object_mut().unwrap().remove("coverage");
    let other = s.write("other.json", &other);
    let mut bad = other_plan(&s);
    bad["name"] = json!("bad-plan");
    bad["schedule"]["cron"] = json!("0 30 25 * * *");
    let code = restore_drills::parse_plan(bad.to_string().as_bytes(), &policy(), time::OffsetDateTime::now_utc())
        .unwrap_err()
        .code();
    let bad = s.write("bad.json", &bad);
    let (other, bad) = (other.to_str().unwrap(), bad.to_str().unwrap());

    let human = run(&mut restorectl(["drills", "list", "--policy", POLICY, "--sqlite", s.db(), s.file(), other, bad]));
    assert_eq!(human.code, 1, "a refused plan makes the answer no: {human:?}");
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", human.stdout);
    let line = lines[0];
    assert!(line.starts_with(&format!("{}  valid  next 20", s.name)), "{line}");
    assert!(line.contains("  last Passed 20"), "{line}");
    assert!(line.contains("coverage 1/2 items within 30 days (50%)"), "{line}");
    assert!(line.ends_with("  1 open"), "{line}");
    assert!(lines[1].starts_with("other-plan  valid  next 20"), "{}", lines[1]);
    assert!(lines[1].contains("no run yet") && lines[1].contains("no coverage target"), "{}", lines[1]);
    assert!(lines[1].ends_with("  0 open"), "{}", lines[1]);
    assert_eq!(lines[2], format!("bad-plan  invalid ({code})  {bad}"));

    let machine =
        run(&mut restorectl(["--json", "drills", "list", "--policy", POLICY, "--sqlite", s.db(), s.file(), other]));
    assert_eq!(machine.code, 0, "{machine:?}");
    let p = &machine.json()["plans"][0];
    assert_eq!(p["lastRun"]["runId"], s.ran_id.as_str(), "{p:#}");
    assert_eq!(p["lastRun"]["outcome"], "Passed", "{p:#}");
    assert_eq!(p["openRuns"], 1, "{p:#}");
    assert_eq!(p["coverage"], json!({"withinDays": 30, "items": 2, "covered": 1}), "{p:#}");
}

fn other_plan(s: &Seeded) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(&s.file).unwrap()).unwrap()
}

/// `drills history ITEM`: the item's last drill, last pass, RTOs and their median in each plan given; a plan that
/// never drilled it says so; an id of another shape is refused naming the shapes; no drill anywhere is exit 1.
#[tokio::test]
async fn history_shows_an_items_rtos_and_median_per_plan() {
    let s = seeded(false, |_| {}).await;
    edit_history(&s, |h| h.items.get_mut(&s.item.canonical()).unwrap().rtos = vec![600, 900, 540]).await;
    let mut other = other_plan(&s);
    other["name"] = json!("other-plan");
    let other = s.write("other.json", &other);
    let other = other.to_str().unwrap();
    let item = s.item.as_str();

    let human =
        run(&mut restorectl(["drills", "history", item, "--plan", s.file(), "--plan", other, "--sqlite", s.db()]));
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.starts_with(&format!("item {item}\n  plan {}\n", s.name)), "{}", human.stdout);
    assert!(human.stdout.contains("RTOs 600s 900s 540s  median 600s"), "{}", human.stdout);
    assert!(human.stdout.contains("  plan other-plan  never drilled"), "{}", human.stdout);
    let machine = run(&mut restorectl(["--json", "drills", "history", item, "--plan", s.file(), "--sqlite", s.db()]));
    let p = &machine.json()["plans"][0];
    assert_eq!(p["medianRtoSeconds"], 600, "{p:#}");
    assert_eq!(p["rtoSeconds"], json!([600, 900, 540]), "{p:#}");
    assert!(p["lastPassed"].is_string() && p["lastDrilled"].is_string(), "{p:#}");

    // The plans from the drill function's folder when no --plan is given.
    let from_dir =
        run(restorectl(["drills", "history", item, "--sqlite", s.db()]).env("RESTORE_DRILL_PLANS_DIR", s.dir.path()));
    assert_eq!(from_dir.code, 0, "{from_dir:?}");
    assert!(from_dir.stdout.contains("median 600s"), "{}", from_dir.stdout);
    let no_plans = run(&mut restorectl(["drills", "history", item, "--sqlite", s.db()]));
    assert_eq!(no_plans.code, 2, "{no_plans:?}");
    assert!(
        no_plans.stderr.contains("--plan") && no_plans.stderr.contains("RESTORE_DRILL_PLANS_DIR"),
        "{}",
        no_plans.stderr
    );

    let group = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup";
    let wrong = run(&mut restorectl(["drills", "history", group, "--plan", s.file(), "--sqlite", s.db()]));
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(wrong.stderr.contains("ITEM") && wrong.stderr.contains("backupInstances"), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("protectedItems"), "{}", wrong.stderr);

    let never = item.replace("app-data-01-bi", "never-drilled-bi");
    let none = run(&mut restorectl(["drills", "history", &never, "--plan", s.file(), "--sqlite", s.db()]));
    assert_eq!(none.code, 1, "{none:?}");
    assert!(none.stderr.contains("no plan among 1 has drilled"), "{}", none.stderr);
}

/// `drills sweep` against the emulator: in the sandbox group, a disk recorded on an ended run and tagged for it
/// is judged deletable and a look-alike carrying the same tag but recorded on no run is refused with the reason.
/// The dry run deletes nothing; `--apply` deletes the recorded one only and prints Azure's status.
#[tokio::test(flavor = "multi_thread")]
async fn sweep_deletes_only_recorded_leftovers_of_ended_runs_and_only_with_apply() {
    use backup_emulator::scenario::Scenario;
    use backup_emulator::{Emulator, EmulatorConfig};
    use restore_drills::cleanup::TAG_RUN;
    use restore_store::{SqliteStore, StateStore};

    const SUB: &str = "/subscriptions/00000000-1111-2222-3333-444444444444";
    let now = time::OffsetDateTime::now_utc();
    let plan = restore_drills::parse_plan(
        &std::fs::read(at("examples/drills/items-nightly-disk.json")).unwrap(),
        &policy(),
        now,
    )
    .unwrap();
    let at = (now - time::Duration::days(1)).replace_second(0).unwrap().replace_nanosecond(0).unwrap();
    let run_id = restore_drills::run_id(&plan.plan().name, at);
    let disk = |name: &str| format!("{SUB}/resourceGroups/rg-drill-sandbox/providers/Microsoft.Compute/disks/{name}");
    let (left, look_alike) = (disk("app-data-01-drill"), disk("app-data-01-look-alike"));

    let scenario = json!({
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "principals": [{"clientId": "11111111-1111-1111-1111-111111111111", "objectId": "22222222-2222-2222-2222-222222222222"}],
        "subscriptions": [{
            "id": "00000000-1111-2222-3333-444444444444",
            "resourceGroups": [{
                "name": "rg-drill-sandbox", "location": "westeurope",
                "disks": [
                    {"name": "app-data-01-drill", "tags": {TAG_RUN: run_id}},
                    {"name": "app-data-01-look-alike", "tags": {TAG_RUN: run_id}},
                    {"name": "untagged-bystander"}
                ]
            }]
        }]
    });
    let emulator =
        Emulator::start(EmulatorConfig::new(Scenario::from_json(&scenario.to_string()).unwrap())).await.unwrap();

    // The run ended and recorded the first disk only (its delete kept failing, so the sweep is its last chance).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let store = SqliteStore::open(&db).unwrap();
    let item = plan.plan().selection.items[0].clone();
    let mut drill = restore_drills::run::DrillRun::start(plan.plan(), &run_id, at, vec![(item, None)], now);
    drill.items[0].phase = restore_drills::item::Phase::Done;
    drill.items[0].created = vec![restore_drills::item::Created {
        id: left.clone(),
        staging: false,
        tagged: true,
        delete_sent: true,
        gone_at: None,
        failed_deletes: 5,
        delete_sent_at: None,
        tag_failures: 0,
        problem: Some("DELETE answered 409 five times".into()),
        refused: false,
    }];
    drill.ended_at = Some((at + time::Duration::hours(1)).into());
    store.put_document(&put(format!("drill-run:{run_id}"), serde_json::to_value(&drill).unwrap())).await.unwrap();

    let sweep = |extra: &[&str]| {
        let mut args = strings(&["drills", "sweep", "--policy", POLICY, "--sqlite", db.to_str().unwrap()]);
        args.extend(strings(extra));
        let mut command = restorectl(args);
        command.envs(emulator.app_settings());
        async move { common::Run::from(tokio::process::Command::from(command).output().await.unwrap()) }
    };
    let disks = || -> Vec<String> {
        emulator.resources()["disks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    let deletes = || emulator.counts().iter().filter(|(k, _)| k.ends_with(" DELETE")).map(|(_, n)| n).sum::<u64>();

    let dry = sweep(&[]).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains(&format!("delete  {left}\n")), "{}", dry.stdout);
    assert!(dry.stdout.contains(&format!("refused  {look_alike}\n")), "{}", dry.stdout);
    assert!(
        dry.stdout.contains(&format!("{look_alike} is not recorded on run {run_id}: never deleted")),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("untagged-bystander"), "only drill-tagged resources are listed: {}", dry.stdout);
    assert!(
        dry.stdout.contains("dry run: nothing deleted; 1 resource(s) would be deleted with --apply"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("DELETE"), "{}", dry.stdout);
    assert_eq!(deletes(), 0, "{:?}", emulator.counts());
    for name in ["app-data-01-drill", "app-data-01-look-alike", "untagged-bystander"] {
        assert!(disks().iter().any(|d| d == name), "{name} kept by the dry run: {:?}", disks());
    }

    let machine = sweep(&["--json"]).await;
    let doc = machine.json();
    assert_eq!(doc["dryRun"], true, "{doc:#}");
    assert_eq!(doc["resources"].as_array().unwrap().len(), 2, "{doc:#}");

    let applied = sweep(&["--apply"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(applied.stdout.contains(&format!("delete  {left}\n")), "{}", applied.stdout);
    assert!(applied.stdout.contains("DELETE: Azure answered 202 (deletion accepted)"), "{}", applied.stdout);
    assert_eq!(applied.stdout.matches("DELETE:").count(), 1, "{}", applied.stdout);
    assert!(applied.stdout.contains(&format!("{look_alike} is not recorded")), "{}", applied.stdout);
    assert!(!applied.stdout.contains("dry run"), "{}", applied.stdout);
    assert_eq!(deletes(), 1, "{:?}", emulator.counts());
    let after = disks();
    assert!(!after.iter().any(|d| d == "app-data-01-drill"), "the recorded leftover is deleted: {after:?}");
    assert!(after.iter().any(|d| d == "app-data-01-look-alike"), "the look-alike is never deleted: {after:?}");
    assert!(after.iter().any(|d| d == "untagged-bystander"), "{after:?}");
}

/// A policy without sandbox groups has nothing to sweep: a configuration error naming the field and the flag.
#[test]
fn sweep_without_sandbox_groups_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy: serde_json::Value = serde_json::from_slice(&std::fs::read(at(POLICY)).unwrap()).unwrap();
    policy.as_object_mut().unwrap().remove("sandbox");
    let file = dir.path().join("policy.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let db = dir.path().join("state.db");
    restore_store::SqliteStore::open(&db).unwrap();
    let r = run(restorectl(["drills", "sweep", "--sqlite", db.to_str().unwrap()]).arg("--policy").arg(&file));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("sandbox.resourceGroups") && r.stderr.contains("--policy"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

fn policy() -> restore_contract::Policy {
    restore_contract::Policy::from_settings(Some(at(POLICY).to_str().unwrap()), None).unwrap()
}

/// `drills validate --online` against the emulator's example world: the explicit-item plan resolves to its disk
/// and passes; the tag plan (no source carries `tier=1` there) resolves to nothing and exits 1, saying so; nothing
/// is written to Azure either way.
#[tokio::test]
async fn validate_online_resolves_the_selection_and_cost_guard_against_azure() {
    use backup_emulator::scenario::Scenario;
    use backup_emulator::{Emulator, EmulatorConfig};
    let scenario = Scenario::load(&at("examples/scenario.json")).unwrap();
    let emulator = Emulator::start(EmulatorConfig::new(scenario)).await.unwrap();
    let validate = |plan: &str| {
        let mut command = restorectl(strings(&["--json", "drills", "validate", "--online", "--policy", POLICY]));
        command.arg(at(plan));
        command.envs(emulator.app_settings());
        async move { common::Run::from(tokio::process::Command::from(command).output().await.unwrap()) }
    };
    let items = validate("examples/drills/items-nightly-disk.json").await;
    assert_eq!(items.code, 0, "{items:?}");
    let online = &items.json()["plans"][0]["online"];
    assert_eq!(online["ok"], true, "{online:#}");
    let restoring: Vec<&str> =
        online["restoring"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    assert_eq!(restoring.len(), 1, "{online:#}");
    assert!(restoring[0].ends_with("/backupInstances/app-data-01-bi"), "{online:#}");
    assert!(online["costGuard"]["diskGiB"].as_u64().unwrap() > 0, "{online:#}");

    let tags = validate("examples/drills/tags-monthly-coverage.json").await;
    assert_eq!(tags.code, 1, "{tags:?}");
    let online = &tags.json()["plans"][0]["online"];
    assert_eq!(
        (online["ok"].as_bool(), online["restoring"].as_array().map(Vec::len)),
        (Some(false), Some(0)),
        "{online:#}"
    );
    assert!(online["candidates"].as_u64().unwrap() >= 2, "both allowed vaults listed: {online:#}");

    let writes: Vec<String> = emulator.counts().keys().filter(|k| !k.ends_with(" GET")).cloned().collect();
    assert!(writes.is_empty(), "no Azure write: {writes:?}");
}
