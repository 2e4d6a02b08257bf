//! Microsoft.Resources tags on a resource scope: `GET`/`PATCH {resourceId}/providers/Microsoft.Resources/tags/default`
//! (Tags - Get At Scope / Update At Scope). Restores cannot carry tags, so clients tag what a job created
//! afterwards; this is the call they make. Only disks and VMs are taggable here so far.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::key;

/// The tagged resource's id, or 404 as ARM answers for a scope that does not exist.
fn scope(ctx: &Ctx) -> Result<String, ApiError> {
    let kind = ctx.p("kind");
    let id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{kind}/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("name")
    );
    let exists = if kind.eq_ignore_ascii_case("disks") {
        ctx.world.disks.contains_key(&key(&id))
    } else if kind.eq_ignore_ascii_case("virtualMachines") {
        ctx.world.vms.contains_key(&key(&id))
    } else {
        false
    };
    if !exists {
        return Err(ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/{kind}/{}", ctx.p("name"))));
    }
    Ok(id)
}

/// The `TagsResource` body Azure answers with.
fn body(id: &str, tags: &BTreeMap<String, String>) -> Value {
    json!({
        "id": format!("{id}/providers/Microsoft.Resources/tags/default"),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": {"tags": tags}
    })
}

/// GET tags at scope.
pub fn get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = scope(ctx)?;
    Ok(ApiResponse::ok(body(&id, &ctx.world.tags_of(&id))))
}

/// PATCH tags at scope: `{"operation": "Merge"|"Replace"|"Delete", "properties": {"tags": {…}}}`.
/// Merge adds or overwrites the given tags; Replace makes them the whole set; Delete removes the given names
/// (when a value is given, only if it matches, as the docs' "names or name/value pairs" say).
pub fn patch(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let id = scope(ctx)?;
    let req = ctx.json(Dialect::Arm)?;
    let bad = |m: &str| ApiError::bad_request(Dialect::Arm, "InvalidRequestContent", m.to_string());
    let op = req
        .get("operation")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("The request body needs 'operation': one of Merge, Replace, Delete."))?;
    let given = req
        .get("properties")
        .and_then(|p| p.get("tags"))
        .and_then(Value::as_object)
        .ok_or_else(|| bad("The request body needs 'properties.tags' as an object of string values."))?;
    let mut given_tags = BTreeMap::new();
    for (k, v) in given {
        let v = v.as_str().ok_or_else(|| bad(&format!("Tag '{k}' must have a string value.")))?;
        given_tags.insert(k.clone(), v.to_string());
    }
    let mut tags = ctx.world.tags_of(&id);
    if op.eq_ignore_ascii_case("Merge") {
        tags.extend(given_tags);
    } else if op.eq_ignore_ascii_case("Replace") {
        tags = given_tags;
    } else if op.eq_ignore_ascii_case("Delete") {
        for (k, v) in &given_tags {
            if v.is_empty() || tags.get(k) == Some(v) {
                tags.remove(k);
            }
        }
    } else {
        return Err(bad(&format!("'operation' is '{op}'; use one of Merge, Replace, Delete.")));
    }
    ctx.world.tags.insert(key(&id), tags.clone());
    Ok(ApiResponse::ok(body(&id, &tags)))
}
