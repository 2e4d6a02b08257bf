//! Which recovery point a run restores for an item: the plan's `recoveryPoint` applied to the points Azure lists.
//!
//! The tier matters for VMs only, and Azure does not let a restore request choose it: a point that still has its
//! snapshot (`InstantRP`) is restored from the snapshot. So `vmTier: "vault"` means points that are in the vault
//! tier **only** (`HardenedRP` without `InstantRP`), the slower path a disaster meets once snapshots have expired;
//! `"snapshot"` means points with `InstantRP`. Archive-only points need rehydration first and are never chosen.
//! Disk backups have the snapshot tier only, so the tier is ignored for disks.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ItemId, ItemKind};
use crate::plan::{Pick, RecoveryPointPlan, VmTier};
use crate::rng::SplitMix64;

/// A recovery point tier as `recoveryPointTierDetails` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PointTier {
    /// `InstantRP`: the snapshot.
    Snapshot,
    /// `HardenedRP`: the vault copy.
    Vault,
    /// `ArchivedRP`.
    Archive,
}

/// A recovery point Azure lists for an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointCandidate {
    /// The recovery point name.
    pub name: String,
    /// When it was taken.
    pub time: OffsetDateTime,
    /// Its tiers (empty when Azure does not say, as for disks).
    pub tiers: Vec<PointTier>,
}

/// Why no point could be chosen (the item is then skipped with this reason, not failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NoPoint {
    /// No point at or before the scheduled time.
    NoPoints,
    /// Points exist, none in the required tier.
    NoneInTier,
    /// Points exist, none within the random window.
    NoneInWindow,
}

fn tier_ok(p: &PointCandidate, kind: ItemKind, tier: VmTier) -> bool {
    let has = |t| p.tiers.contains(&t);
    let restorable = p.tiers.is_empty() || has(PointTier::Snapshot) || has(PointTier::Vault);
    if !restorable {
        return false;
    }
    match (kind, tier) {
        (ItemKind::Disk, _) | (ItemKind::Vm, VmTier::Any) => true,
        (ItemKind::Vm, VmTier::Snapshot) => has(PointTier::Snapshot),
        (ItemKind::Vm, VmTier::Vault) => has(PointTier::Vault) && !has(PointTier::Snapshot),
    }
}

/// Chooses the point for `item` in the run `run_id` scheduled at `scheduled`. Points taken after the scheduled
/// time are ignored, so resuming a run later chooses the same point. A random pick is seeded by the run id and the
/// item: reproducible, and different items of one run do not all get the same position.
pub fn choose_point<'a>(
    points: &'a [PointCandidate],
    plan: &RecoveryPointPlan,
    item: &ItemId,
    scheduled: OffsetDateTime,
    run_id: &str,
) -> Result<&'a PointCandidate, NoPoint> {
    let mut eligible: Vec<&PointCandidate> = points.iter().filter(|p| p.time <= scheduled).collect();
    if eligible.is_empty() {
        return Err(NoPoint::NoPoints);
    }
    eligible.retain(|p| tier_ok(p, item.kind(), plan.vm_tier));
    if eligible.is_empty() {
        return Err(NoPoint::NoneInTier);
    }
    eligible.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.name.cmp(&b.name)));
    match plan.pick {
        Pick::Latest => eligible.last().copied().ok_or(NoPoint::NoneInTier),
        Pick::RandomWithinDays(days) => {
            let since = scheduled - time::Duration::days(i64::from(days));
            eligible.retain(|p| p.time >= since);
            if eligible.is_empty() {
                return Err(NoPoint::NoneInWindow);
            }
            let mut rng = SplitMix64::from_text(&format!("{run_id}\n{}", item.canonical()));
            let i = rng.below(eligible.len() as u64) as usize;
            eligible.get(i).copied().ok_or(NoPoint::NoneInWindow)
        }
    }
}

/// Whether the plan's choice needs the item's points listed: `latest` in any tier (or any disk) is what the
/// intake's own `latestAtOrBefore` picks, so nothing is listed and no ARM read is spent.
pub fn needs_listing(plan: &RecoveryPointPlan, kind: ItemKind) -> bool {
    !(plan.pick == Pick::Latest && (kind == ItemKind::Disk || plan.vm_tier == VmTier::Any))
}

/// The tier a `recoveryPointTierDetails` entry names (`type` as a name or Azure's older number), if it is valid
/// (`status` `Valid` or 1). An archived point that was rehydrated (`ArchivedRP`, status `Rehydrated`) is
/// restorable from its rehydrated vault copy until it expires again: it counts as the vault tier.
fn tier_of(detail: &serde_json::Value) -> Option<PointTier> {
    let status = &detail["status"];
    let rehydrated = status.as_str().is_some_and(|s| s.eq_ignore_ascii_case("Rehydrated"))
        && detail["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("ArchivedRP"));
    if rehydrated {
        return Some(PointTier::Vault);
    }
    let valid = match status {
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("Valid"),
        serde_json::Value::Number(n) => n.as_u64() == Some(1),
        _ => false,
    };
    if !valid {
        return None;
    }
    match &detail["type"] {
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("InstantRP") => Some(PointTier::Snapshot),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("HardenedRP") => Some(PointTier::Vault),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("ArchivedRP") => Some(PointTier::Archive),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(1) => Some(PointTier::Snapshot),
            Some(2) => Some(PointTier::Vault),
            Some(3) => Some(PointTier::Archive),
            _ => None,
        },
        _ => None,
    }
}

/// The candidates in a recovery-point listing (Backup vault or Recovery Services shapes): name, time
/// (`properties.recoveryPointTime`) and, for VMs, the valid tiers. A point without a parseable time is left out:
/// it cannot be placed before or after the scheduled time.
pub fn candidates_from(listed: &[serde_json::Value]) -> Vec<PointCandidate> {
    listed
        .iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_string();
            let time = restore_contract::Timestamp::parse(p["properties"]["recoveryPointTime"].as_str()?).ok()?.get();
            let tiers = p["properties"]["recoveryPointTierDetails"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(tier_of)
                .collect();
            Some(PointCandidate { name, time, tiers })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::tests::{bi, pi};
    use crate::plan::Region;

    const AT: OffsetDateTime = datetime!(2026-12-05 06:00 UTC);

    fn p(name: &str, days_ago: i64, tiers: &[PointTier]) -> PointCandidate {
        PointCandidate { name: name.into(), time: AT - time::Duration::days(days_ago), tiers: tiers.to_vec() }
    }

    fn plan(pick: Pick, vm_tier: VmTier) -> RecoveryPointPlan {
        RecoveryPointPlan { pick, vm_tier, vm_region: Region::Primary }
    }

    #[test]
    fn latest_respects_tier_for_vms_and_ignores_it_for_disks() {
        use PointTier::*;
        let points = vec![
            p("old-vault", 20, &[Vault]),
            p("recent-both", 2, &[Snapshot, Vault]),
            p("archived", 200, &[Archive]),
            p("future", -1, &[Snapshot, Vault]),
        ];
        let vm = ItemId::parse(&pi("vm1")).unwrap();
        let disk = ItemId::parse(&bi("d1")).unwrap();
        let pick = |item: &ItemId, tier| {
            choose_point(&points, &plan(Pick::Latest, tier), item, AT, "r").map(|p| p.name.as_str())
        };
        assert_eq!(pick(&vm, VmTier::Any), Ok("recent-both"), "points after the scheduled time are ignored");
        assert_eq!(pick(&vm, VmTier::Snapshot), Ok("recent-both"));
        assert_eq!(pick(&vm, VmTier::Vault), Ok("old-vault"), "a point with a snapshot would restore from it");
        assert_eq!(pick(&disk, VmTier::Vault), Ok("recent-both"));
        let only_archive = vec![p("archived", 200, &[Archive])];
        assert_eq!(
            choose_point(&only_archive, &plan(Pick::Latest, VmTier::Any), &vm, AT, "r"),
            Err(NoPoint::NoneInTier)
        );
        assert_eq!(choose_point(&[], &plan(Pick::Latest, VmTier::Any), &vm, AT, "r"), Err(NoPoint::NoPoints));
    }

    #[test]
    fn random_within_days_is_reproducible_and_inside_the_window() {
        let points: Vec<_> = (0..40).map(|d| p(&format!("p{d:02}"), d, &[])).collect();
        let item = ItemId::parse(&bi("d1")).unwrap();
        let rp = plan(Pick::RandomWithinDays(10), VmTier::Any);
        let a = choose_point(&points, &rp, &item, AT, "plan.20261205T060000Z").unwrap();
        assert_eq!(a, choose_point(&points, &rp, &item, AT, "plan.20261205T060000Z").unwrap());
        assert!(a.time >= AT - time::Duration::days(10), "{a:?}");
        let picks: std::collections::HashSet<_> =
            (0..20).map(|i| choose_point(&points, &rp, &item, AT, &format!("run{i}")).unwrap().name.clone()).collect();
        assert!(picks.len() > 3, "different runs pick different points: {picks:?}");
        let stale = vec![p("old", 30, &[])];
        assert_eq!(choose_point(&stale, &rp, &item, AT, "r"), Err(NoPoint::NoneInWindow));
    }
}
