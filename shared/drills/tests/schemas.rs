//! The committed schemas (schemas/drill-*.schema.json) must match the Rust types. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p restore-drills`.

use std::path::PathBuf;

use restore_drills::schema;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(file: &str, value: serde_json::Value) {
    let path = repo().join("schemas").join(file);
    let fresh = schema::render(&value);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schemas/{file} is stale (or missing): the Rust types changed. Regenerate it with\n\n    \
         UPDATE_SCHEMAS=1 cargo nextest run -p restore-drills\n\nand commit the result."
    );
}

#[test]
fn plan_schema_is_current() {
    check("drill-plan.schema.json", schema::plan_schema());
}

#[test]
fn result_schema_is_current() {
    check("drill-result.schema.json", schema::result_schema());
}
