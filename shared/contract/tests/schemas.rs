//! The committed schemas (schemas/*.json) must match the Rust types. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p restore-contract`.

use std::path::PathBuf;

use restore_contract::schema;

fn check(file: &str, value: serde_json::Value) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    restore_test_support::schemas::assert_current(&root, file, &value, "restore-contract");
}

#[test]
fn request_schema_is_current() {
    check("restore-request.v1.json", schema::request_schema());
}

#[test]
fn result_schema_is_current() {
    check("restore-result.v1.json", schema::result_schema());
}
