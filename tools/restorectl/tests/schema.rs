//! `restorectl schema` prints exactly the committed schemas (which the contract crate's own test keeps equal to
//! the types), so a consumer can take them from the tool or the repository alike.

mod common;

use common::{at, restorectl, run};

fn committed(file: &str) -> String {
    std::fs::read_to_string(at(&format!("schemas/{file}"))).unwrap()
}

#[test]
fn each_schema_is_the_committed_file_byte_for_byte() {
    let out = run(&mut restorectl(["schema", "--which", "request"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, committed("restore-request.v1.json"));
    let out = run(&mut restorectl(["schema", "--which", "result"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, committed("restore-result.v1.json"));
}

#[test]
fn both_schemas_by_default_keyed_by_file_name() {
    let out = run(&mut restorectl(["schema"]));
    assert_eq!(out.code, 0, "{out:?}");
    let both = out.json();
    let object = both.as_object().unwrap();
    assert_eq!(object.len(), 2, "{both}");
    for file in ["restore-request.v1.json", "restore-result.v1.json"] {
        let expected: serde_json::Value = serde_json::from_str(&committed(file)).unwrap();
        assert_eq!(object[file], expected, "{file}");
    }
    // --json changes nothing: a schema is JSON already.
    assert_eq!(run(&mut restorectl(["--json", "schema"])).stdout, out.stdout);
}

#[test]
fn an_unknown_schema_is_a_usage_error() {
    let out = run(&mut restorectl(["schema", "--which", "policy"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("request") && out.stderr.contains("result"), "{}", out.stderr);
}
