//! The committed schemas (schemas/*.json) must match the Rust types. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p restore-contract`.

use std::path::PathBuf;

use restore_contract::schema;

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
         UPDATE_SCHEMAS=1 cargo nextest run -p restore-contract\n\nand commit the result."
    );
}

#[test]
fn request_schema_is_current() {
    check("restore-request.v1.json", schema::request_schema());
}

#[test]
fn result_schema_is_current() {
    check("restore-result.v1.json", schema::result_schema());
}
