//! The committed schema (schemas/evidence-pack.schema.json) matches the Rust types, and the packs the report
//! tests use validate against it. Regenerate with `UPDATE_SCHEMAS=1 cargo nextest run -p restore-evidence`.

mod common;

use std::path::PathBuf;

#[test]
fn the_evidence_pack_schema_is_current_and_packs_validate() {
    let schema = restore_evidence::pack::schema();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    restore_test_support::schemas::assert_current(&root, "evidence-pack.schema.json", &schema, "restore-evidence");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    for pack in [common::passed(), common::failed(), common::leftovers(), common::missed()] {
        let value = serde_json::to_value(&pack).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", pack.run.run_id);
    }
    let mut broken = serde_json::to_value(common::passed()).unwrap();
    broken["items"][0]["checks"][0]["passed"] = serde_json::json!("yes");
    assert!(!validator.is_valid(&broken), "a wrong type is refused");
}
