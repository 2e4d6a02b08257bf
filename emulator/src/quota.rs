//! Compute usages (regional vCPU quota): `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/usages`
//! (Usage - List). A drill checks that the VMs it is about to restore fit in the region's quota.
//!
//! The conformance corpus has no Compute examples; the shape follows the public REST reference:
//! `{value: [{unit: "Count", currentValue, limit, name: {value, localizedValue}}]}`. `cores` and
//! `virtualMachines` count the emulated VMs in the region on top of the seeded `currentValue`, so a restore
//! raises them; other lines (VM families) are as seeded. Unseeded regions answer Azure-like defaults
//! (350 regional vCPUs, 25 000 VMs). A restore is not refused when the quota is exhausted: that is the
//! client's preflight to judge.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::arm::Ctx;
use crate::error::{ApiError, ApiResponse};
use crate::scenario::{Scenario, UsageSpec};
use crate::util::key;
use crate::world::World;

/// Seeded usages by lower-case `sub/location`.
pub type Usages = BTreeMap<String, Vec<UsageSpec>>;

/// Collects the scenario's usages.
pub fn seed(s: &Scenario) -> Usages {
    let mut out = Usages::new();
    for sub in &s.subscriptions {
        for u in &sub.usages {
            out.entry(key(&format!("{}/{}", sub.id, u.location))).or_default().push(u.clone());
        }
    }
    out
}

/// vCPUs of a VM size, read from its name as Azure spells sizes (`Standard_D2s_v3` → 2, `Standard_E4s_v5` → 4;
/// 2 when the name has no number).
pub fn vcpus(size: &str) -> u64 {
    let tail = size.split_once('_').map(|(_, t)| t).unwrap_or(size);
    let digits: String = tail.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(2)
}

fn in_region(world: &World, sub: &str, location: &str) -> (u64, u64) {
    let prefix = key(&format!("/subscriptions/{sub}/"));
    world
        .vms
        .iter()
        .filter(|(k, v)| k.starts_with(&prefix) && v.location.eq_ignore_ascii_case(location))
        .fold((0, 0), |(cores, n), (_, v)| (cores + vcpus(&v.size), n + 1))
}

fn line(name: &str, localized: &str, current: u64, limit: u64) -> Value {
    json!({"unit": "Count", "currentValue": current, "limit": limit, "name": {"value": name, "localizedValue": localized}})
}

/// GET usages in a region.
pub fn list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let (sub, loc) = (ctx.p("sub").to_string(), ctx.p("loc").to_string());
    let (cores, vms) = in_region(ctx.world, &sub, &loc);
    let seeded = ctx.world.usages.get(&key(&format!("{sub}/{loc}"))).cloned().unwrap_or_default();
    let mut value = vec![];
    for (name, localized, live, limit) in
        [("cores", "Total Regional vCPUs", cores, 350), ("virtualMachines", "Virtual Machines", vms, 25000)]
    {
        match seeded.iter().find(|u| u.name.eq_ignore_ascii_case(name)) {
            Some(u) => value.push(line(
                &u.name,
                u.localized_name.as_deref().unwrap_or(localized),
                u.current_value + live,
                u.limit,
            )),
            None => value.push(line(name, localized, live, limit)),
        }
    }
    for u in seeded.iter().filter(|u| !["cores", "virtualMachines"].iter().any(|n| u.name.eq_ignore_ascii_case(n))) {
        value.push(line(&u.name, u.localized_name.as_deref().unwrap_or(&u.name), u.current_value, u.limit));
    }
    Ok(ApiResponse::ok(json!({"value": value})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn vcpus_from_size_names() {
        assert_eq!(super::vcpus("Standard_D2s_v3"), 2);
        assert_eq!(super::vcpus("Standard_E16ds_v5"), 16);
        assert_eq!(super::vcpus("weird"), 2);
    }
}
