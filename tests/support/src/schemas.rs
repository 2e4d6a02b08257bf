//! The one check that a committed JSON Schema (`schemas/<file>`) matches what the Rust types generate, used by
//! every crate that publishes a schema. `UPDATE_SCHEMAS=1` rewrites the file instead.

use std::path::Path;

/// Asserts `schemas/<file>` under the workspace `root` equals `schema` rendered as committed files are; with
/// `UPDATE_SCHEMAS` set, writes it. `package` names the crate whose tests regenerate it, for the message.
pub fn assert_current(root: &Path, file: &str, schema: &serde_json::Value, package: &str) {
    let path = root.join("schemas").join(file);
    let fresh = restore_contract::schema::render(schema);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schemas/{file} is stale (or missing): the Rust types changed. Regenerate it with\n\n    \
         UPDATE_SCHEMAS=1 cargo nextest run -p {package}\n\nand commit the result."
    );
}
