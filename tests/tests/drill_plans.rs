//! Every bad plan of the library's catalogue (`shared/drills/tests/bad_plans`), put in the drill function's plan
//! folder at once: each is refused with its named rule in a `planInvalid` signal, and the tick makes no Azure
//! write and sends no restore request.

mod common;

#[path = "../../shared/drills/tests/bad_plans/mod.rs"]
mod bad_plans;

use bad_plans::Want;
use common::{Stack, drills};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_plan_is_refused_by_name_with_no_azure_write() {
    let mut stack = Stack::start().await;
    let (plans, _) = drills::configure(&mut stack, &[]);
    // Cases that need a policy other than the example's cannot run against the function's one policy.
    let cases: Vec<_> = bad_plans::cases().into_iter().filter(|c| c.policy.is_none()).collect();
    assert!(cases.len() >= 20, "only {} cases run against the example policy", cases.len());
    for c in &cases {
        std::fs::write(plans.join(format!("{}.json", c.name)), &c.body).unwrap();
    }
    let drills = stack.worker("drills").await;
    let tick = drills::tick(&drills).await;
    assert!(tick.requests.is_empty(), "no restore request");
    let signals: Vec<Value> = drills
        .stdout()
        .text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "drill.signal" && v["kind"] == "planInvalid")
        .collect();
    for c in &cases {
        let signal = signals.iter().find(|s| s["plan"] == c.name);
        let signal = signal.unwrap_or_else(|| panic!("{}: no planInvalid signal; got {signals:#?}", c.name));
        assert_eq!(signal["field"].as_str().unwrap_or_default(), c.field, "{}: {signal:#}", c.name);
        if let Want::Rule(rule) = c.want {
            assert_eq!(signal["rule"], rule, "{}: {signal:#}", c.name);
        }
        assert!(signal["message"].as_str().is_some_and(|m| !m.is_empty()), "{}: {signal:#}", c.name);
    }
    assert_eq!(stack.azure_writes().await, Vec::<Value>::new(), "no Azure write");
}
