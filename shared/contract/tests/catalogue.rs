//! Every entry of the bad-input catalogue produces exactly the refusal it names: kind, field path and rule for
//! contract errors; the rule for policy refusals. Each error also says how to fix it.

use std::collections::HashSet;

use restore_contract::policy::PolicyOrigin;
use restore_contract::{Incoming, Policy, classify_with_limit};
use restore_test_support::catalogue::{EXAMPLE_POLICY, Expected, bad_inputs};

#[test]
fn catalogue_is_large_and_names_are_unique() {
    let all = bad_inputs();
    assert!(all.len() >= 40, "only {} bad inputs", all.len());
    let mut names = HashSet::new();
    for b in &all {
        assert!(names.insert(b.name), "duplicate catalogue name {}", b.name);
    }
}

#[test]
fn every_bad_input_is_refused_as_catalogued() {
    let mut failures = Vec::new();
    for b in bad_inputs() {
        let policy = Policy::from_json(b.policy.as_deref().unwrap_or(EXAMPLE_POLICY), PolicyOrigin::Inline)
            .unwrap_or_else(|e| panic!("{}: policy does not load: {e}", b.name));
        let outcome = classify_with_limit(&b.body, policy.max_message_bytes);
        match (&b.expect, outcome) {
            (Expected::Request { kind, field, rule }, Err(e)) => {
                if e.kind != *kind || e.field_path() != *field || e.rule != *rule {
                    failures.push(format!(
                        "{}: expected {kind:?} at '{field}' rule {rule:?}, got {:?} at '{}' rule {:?}: {e}",
                        b.name,
                        e.kind,
                        e.field_path(),
                        e.rule
                    ));
                }
                assert!(!e.fix.is_empty() && !e.message.is_empty(), "{}: {e}", b.name);
            }
            (Expected::Request { .. }, Ok(_)) => failures.push(format!("{}: was accepted", b.name)),
            (Expected::Policy { rule }, Ok(Incoming::Request(r))) => match policy.check(&r, b.active_restores) {
                Err(refusal) if refusal.rule == *rule => {
                    assert!(
                        !refusal.fix.is_empty() && !refusal.value.is_empty() || refusal.field.is_none(),
                        "{}",
                        b.name
                    );
                }
                Err(refusal) => failures.push(format!("{}: expected {rule:?}, got {refusal}", b.name)),
                Ok(()) => failures.push(format!("{}: policy allowed it", b.name)),
            },
            (Expected::Policy { .. }, other) => {
                failures.push(format!("{}: did not parse as a request: {other:?}", b.name))
            }
        }
    }
    assert!(failures.is_empty(), "{} catalogue entries misbehave:\n{}", failures.len(), failures.join("\n"));
}
