//! JSON Schema support: schema stand-ins for the ARM id types of `restore-models` (used through
//! `#[schemars(with = …)]`, because the orphan rule keeps us from implementing `JsonSchema` for them here), and
//! the generators for the published schemas.
//!
//! The patterns only catch the obvious (empty segments, `%`, `?`, `#`, whitespace, quotes): the grammar and the
//! provider/type checks live in `restore_models::arm_id`, which the parser uses, and that is the authority. The
//! patterns stay portable (no look-around, no inline flags) so any JSON Schema validator can use them.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// Segments of an ARM id as a JSON Schema pattern: no empty segments, none of the characters the parser refuses.
pub const ARM_ID_PATTERN: &str = r#"^(/[^/%?#\\"'<>`\s]+)+$"#;

macro_rules! arm_schema {
    ($(#[$doc:meta])* $name:ident, $title:literal, $ty:path) => {
        $(#[$doc])*
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $title.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": ARM_ID_PATTERN,
                    "maxLength": restore_models::arm_id::MAX_ID_LEN,
                    "description": format!("ARM id of a {}: {}", <$ty>::KIND, <$ty>::SHAPE),
                })
            }
        }
    };
}

arm_schema!(
    /// Schema of [`restore_models::arm_id::BackupInstanceId`].
    BackupInstanceIdSchema, "BackupInstanceId", restore_models::arm_id::BackupInstanceId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::BackupVaultId`].
    BackupVaultIdSchema, "BackupVaultId", restore_models::arm_id::BackupVaultId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::ProtectedItemId`].
    ProtectedItemIdSchema, "ProtectedItemId", restore_models::arm_id::ProtectedItemId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::StorageAccountId`].
    StorageAccountIdSchema, "StorageAccountId", restore_models::arm_id::StorageAccountId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::DiskId`].
    DiskIdSchema, "DiskId", restore_models::arm_id::DiskId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::VirtualNetworkId`].
    VirtualNetworkIdSchema, "VirtualNetworkId", restore_models::arm_id::VirtualNetworkId
);
arm_schema!(
    /// Schema of [`restore_models::arm_id::SubnetId`].
    SubnetIdSchema, "SubnetId", restore_models::arm_id::SubnetId
);
arm_schema!(
    /// Schema of [`crate::request::BackupPolicyId`].
    BackupPolicyIdSchema, "BackupPolicyId", crate::request::BackupPolicyId
);

/// Schema of [`restore_models::arm_id::ResourceGroupId`].
pub struct ResourceGroupIdSchema;

impl JsonSchema for ResourceGroupIdSchema {
    fn schema_name() -> Cow<'static, str> {
        "ResourceGroupId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": ARM_ID_PATTERN,
            "maxLength": restore_models::arm_id::MAX_ID_LEN,
            "description": "ARM id of a resource group: /subscriptions/{s}/resourceGroups/{rg}",
        })
    }
}

/// Schema of any ARM resource id (restored resources in results).
pub struct ResourceIdSchema;

impl JsonSchema for ResourceIdSchema {
    fn schema_name() -> Cow<'static, str> {
        "ResourceId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": ARM_ID_PATTERN,
            "description": "ARM resource id.",
        })
    }
}

/// The JSON Schema of [`crate::request::RestoreRequest`] (published as `schemas/restore-request.v1.json`).
pub fn request_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(crate::request::RestoreRequest);
    with_id(schema, "restore-request.v1.json")
}

/// The JSON Schema of [`crate::result::RestoreResult`] (published as `schemas/restore-result.v1.json`).
pub fn result_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(crate::result::RestoreResult);
    with_id(schema, "restore-result.v1.json")
}

fn with_id(schema: Schema, file: &str) -> serde_json::Value {
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("$id".into(), serde_json::Value::String(format!("urn:restore-contract:{file}")));
    }
    value
}

/// The schema rendered as the committed file is written: pretty JSON with a trailing newline.
pub fn render(schema: &serde_json::Value) -> String {
    // Serialising a serde_json::Value cannot fail (no non-string map keys, no foreign Serialize impls).
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
