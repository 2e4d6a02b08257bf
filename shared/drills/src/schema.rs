//! The published JSON Schemas: `schemas/drill-plan.schema.json` ([`DrillPlan`](crate::DrillPlan)) and
//! `schemas/drill-result.schema.json` ([`DrillResult`](crate::result::DrillResult)), generated from the Rust types
//! and checked current by a test, like the restore contract's.

/// The JSON Schema of a drill plan.
pub fn plan_schema() -> serde_json::Value {
    with_id(schemars::schema_for!(crate::plan::DrillPlan), "drill-plan.schema.json")
}

/// The JSON Schema of the drill result message.
pub fn result_schema() -> serde_json::Value {
    with_id(schemars::schema_for!(crate::result::DrillResult), "drill-result.schema.json")
}

fn with_id(schema: schemars::Schema, file: &str) -> serde_json::Value {
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("$id".into(), serde_json::Value::String(format!("urn:restore-drills:{file}")));
    }
    value
}

/// The schema rendered as the committed file is written (the contract's rendering: pretty JSON, final newline).
pub fn render(schema: &serde_json::Value) -> String {
    restore_contract::schema::render(schema)
}
