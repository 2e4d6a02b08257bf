//! Azure Policy assignments at a resource group's scope:
//! `GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments`
//! (Policy Assignments - List For Resource Group). A drill's preflight looks for a Deny assignment that would
//! refuse its restores or tags. Seeded from `resourceGroups[].policyAssignments`; the assignments are listed,
//! not enforced (no request is refused because of them). `$filter` (`atScope()`, `atExactScope()`, …) is
//! accepted and ignored: only the group's own assignments exist here.
//!
//! No conformance example exists; the shape follows the public REST reference (`PolicyAssignment`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::scenario::{PolicyAssignmentSpec, Scenario};
use crate::world::rg_key;

/// Assignments by resource group key.
pub type Assignments = BTreeMap<String, Vec<PolicyAssignmentSpec>>;

/// The built-in "Not allowed resource types" definition, a Deny policy.
const NOT_ALLOWED_RESOURCE_TYPES: &str =
    "/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749";

/// Collects the scenario's assignments.
pub fn seed(s: &Scenario) -> Assignments {
    let mut out = Assignments::new();
    for sub in &s.subscriptions {
        for rg in &sub.resource_groups {
            if !rg.policy_assignments.is_empty() {
                out.insert(rg_key(&sub.id, &rg.name), rg.policy_assignments.clone());
            }
        }
    }
    out
}

/// GET policy assignments of a resource group (an empty list for a group without any, 404 for an unknown group).
pub fn list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let (sub, rg) = (ctx.p("sub"), ctx.p("rg"));
    let group = ctx.world.resource_groups.get(&rg_key(sub, rg)).ok_or_else(|| {
        ApiError::arm(404, "ResourceGroupNotFound", format!("Resource group '{rg}' could not be found."))
    })?;
    let scope = format!("/subscriptions/{}/resourceGroups/{}", group.subscription, group.name);
    let items: Vec<Value> = ctx
        .world
        .policy_assignments
        .get(&rg_key(sub, rg))
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let mut parameters = a.parameters.clone().unwrap_or_default();
            if let Some(effect) = &a.effect {
                parameters.insert("effect".into(), json!({"value": effect}));
            }
            json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/policyAssignments/{}", a.name),
                "name": a.name,
                "type": "Microsoft.Authorization/policyAssignments",
                "properties": {
                    "displayName": a.display_name.clone().unwrap_or_else(|| a.name.clone()),
                    "policyDefinitionId": a.policy_definition_id.as_deref().unwrap_or(NOT_ALLOWED_RESOURCE_TYPES),
                    "scope": scope,
                    "notScopes": [],
                    "parameters": parameters,
                    "enforcementMode": a.enforcement_mode.as_deref().unwrap_or("Default")
                }
            })
        })
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}
