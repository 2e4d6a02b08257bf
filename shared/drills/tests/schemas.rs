//! The committed schemas (schemas/drill-*.schema.json) must match the Rust types. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p restore-drills`.

use std::path::PathBuf;

use restore_drills::schema;

fn check(file: &str, value: serde_json::Value) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    restore_test_support::schemas::assert_current(&root, file, &value, "restore-drills");
}

#[test]
fn plan_schema_is_current() {
    check("drill-plan.schema.json", schema::plan_schema());
}

#[test]
fn result_schema_is_current() {
    check("drill-result.schema.json", schema::result_schema());
}
