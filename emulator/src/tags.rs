//! Microsoft.Resources tags on a resource scope: `GET`/`PATCH {resourceId}/providers/Microsoft.Resources/tags/default`
//! (Tags - Get At Scope / Update At Scope). Restores cannot carry tags, so clients tag what a job created
//! afterwards; this is the call they make. Disks, VMs and network interfaces (a restored VM's NIC) are taggable
//! here so far.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::util::key;

/// The tagged resource's id, or 404 as ARM answers for a scope that does not exist.
fn scope(ctx: &Ctx) -> Result<String, ApiError> {
    let (namespace, kind) = (ctx.p("namespace"), ctx.p("kind"));
    let id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/{namespace}/{kind}/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("name")
    );
    let is = |ns: &str, k: &str| namespace.eq_ignore_ascii_case(ns) && kind.eq_ignore_ascii_case(k);
    let exists = if is("Microsoft.Compute", "disks") {
        ctx.world.disks.contains_key(&key(&id))
    } else if is("Microsoft.Compute", "virtualMachines") {
        ctx.world.vms.contains_key(&key(&id))
    } else if is("Microsoft.Network", "networkInterfaces") {
        ctx.world.network.nics.contains_key(&key(&id))
    } else {
        false
    };
    if !exists {
        return Err(ApiError::not_found(Dialect::Arm, &format!("{namespace}/{kind}/{}", ctx.p("name"))));
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

/// The `$filter` forms ARM documents for tags on a resource-group resource list: `tagName eq 'k'` and
/// `tagName eq 'k' and tagValue eq 'v'`; anything else is a 400 rather than a silently wider list.
fn tag_filter(filter: &str) -> Result<(String, Option<String>), ApiError> {
    let quoted = |part: &str, field: &str| -> Option<String> {
        let rest = part.trim().strip_prefix(field)?.trim_start().strip_prefix("eq")?.trim();
        Some(rest.strip_prefix('\'')?.strip_suffix('\'')?.to_string())
    };
    let bad = || {
        ApiError::bad_request(
            Dialect::Arm,
            "InvalidFilterInQueryString",
            format!("The $filter '{filter}' is not supported here; use tagName eq 'k' [and tagValue eq 'v']."),
        )
    };
    let mut parts = filter.splitn(2, " and ");
    let name = parts.next().and_then(|p| quoted(p, "tagName")).ok_or_else(bad)?;
    let value = match parts.next() {
        None => None,
        Some(p) => Some(quoted(p, "tagValue").ok_or_else(bad)?),
    };
    Ok((name, value))
}

/// GET `/subscriptions/{s}/resourceGroups/{rg}/resources[?$filter=tagName eq 'k' and tagValue eq 'v']`:
/// the group's disks and VMs as generic resources `{id, name, type, location, tags}`. Tag names compare
/// case-insensitively, values exactly (as ARM does).
pub fn list_in_group(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let filter = ctx.q("$filter").map(tag_filter).transpose()?;
    let prefix = key(&format!("/subscriptions/{}/resourceGroups/{}/providers/", ctx.p("sub"), ctx.p("rg")));
    let world = &ctx.world;
    let disks = world.disks.values().map(|d| (&d.id, &d.name, "Microsoft.Compute/disks", &d.location));
    let vms = world.vms.values().map(|v| (&v.id, &v.name, "Microsoft.Compute/virtualMachines", &v.location));
    let items: Vec<Value> = disks
        .chain(vms)
        .filter(|(id, ..)| key(id).starts_with(&prefix))
        .filter_map(|(id, name, kind, location)| {
            let tags = world.tags_of(id);
            let keep = match &filter {
                None => true,
                Some((n, v)) => {
                    tags.iter().any(|(k, val)| k.eq_ignore_ascii_case(n) && v.as_ref().is_none_or(|v| v == val))
                }
            };
            keep.then(|| json!({"id": id, "name": name, "type": kind, "location": location, "tags": tags}))
        })
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
