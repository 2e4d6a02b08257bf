//! Which items a run drills, as pure functions over a list of candidates the caller gathered (the protected items
//! of the policy's vaults, each with its source's tags, whether the source still exists, and when it was last
//! drilled): selection with exclusions, sampling, the coverage check and the cost guard.
//!
//! Nothing here drops an item silently: an explicit item that is no longer protected, and an item whose source is
//! gone and whose tags are unknown (so a tag selection cannot be decided), are returned in lists of their own.

use std::collections::{BTreeMap, HashSet};

use restore_models::arm_id::ResourceId;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ids::ItemId;
use crate::plan::{CostGuard, Sampling, Selection};
use crate::rng::SplitMix64;

/// A protected item that a plan might drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The item (its kind and vault follow from the id).
    pub id: ItemId,
    /// The source disk or VM, when known.
    pub source_id: Option<ResourceId>,
    /// The source's tags: live ones, or the last ones recorded when the source is gone; `None` when unknown.
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the source disk or VM still exists.
    pub source_exists: bool,
    /// When the item was last drilled (by this plan), if ever.
    pub last_drilled: Option<OffsetDateTime>,
    /// When a drill of the item (by this plan) last passed, if ever: what the coverage target counts.
    pub last_passed: Option<OffsetDateTime>,
}

/// Why an item is selected (the first reason that applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SelectedBy {
    /// Listed in `selection.items`.
    Item,
    /// Its vault is in `selection.vaults`.
    Vault,
    /// Its source carries `selection.tags`.
    Tags,
}

/// A selected item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedItem {
    /// The candidate.
    pub candidate: Candidate,
    /// Why it is selected.
    pub by: SelectedBy,
    /// Its source no longer exists: exactly the item a real disaster would need, so it is drilled and flagged.
    pub source_missing: bool,
}

impl SelectedItem {
    /// The item id.
    pub fn id(&self) -> &ItemId {
        &self.candidate.id
    }
}

/// The outcome of [`select`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionOutcome {
    /// The selected items, ordered by id (case-insensitively).
    pub selected: Vec<SelectedItem>,
    /// Items listed in `selection.items` that are not among the candidates (no longer protected, or a vault the
    /// caller did not list): reported, since the plan expects them.
    pub explicit_not_found: Vec<ItemId>,
    /// Items whose source is gone and whose tags are unknown, so the tag selection cannot tell whether they belong:
    /// reported rather than guessed either way.
    pub tags_unknown: Vec<ItemId>,
}

fn tag_matches(tags: &BTreeMap<String, String>, name: &str, value: &str) -> bool {
    // Azure tag names ignore case; values do not.
    tags.iter().any(|(k, v)| k.eq_ignore_ascii_case(name) && v == value)
}

/// Applies a plan's selection to `candidates`.
pub fn select(selection: &Selection, candidates: &[Candidate]) -> SelectionOutcome {
    let canon = |ids: &[ItemId]| ids.iter().map(ItemId::canonical).collect::<HashSet<_>>();
    let listed = canon(&selection.items);
    let excluded = canon(&selection.exclude_items);
    let mut out = SelectionOutcome::default();
    let mut seen = HashSet::new();
    for c in candidates {
        let key = c.id.canonical();
        // A caller listing an item twice must not drill it twice.
        if !seen.insert(key.clone()) || excluded.contains(&key) {
            continue;
        }
        if let Some(tags) = &c.tags
            && selection.exclude_tags.iter().any(|(k, v)| tag_matches(tags, k, v))
        {
            continue;
        }
        let by = if listed.contains(&key) {
            Some(SelectedBy::Item)
        } else if selection.vaults.contains(&c.id.vault()) {
            Some(SelectedBy::Vault)
        } else if !selection.tags.is_empty() {
            match &c.tags {
                Some(tags) => selection.tags.iter().all(|(k, v)| tag_matches(tags, k, v)).then_some(SelectedBy::Tags),
                None => {
                    if !c.source_exists {
                        out.tags_unknown.push(c.id.clone());
                    }
                    None
                }
            }
        } else {
            None
        };
        if let Some(by) = by {
            out.selected.push(SelectedItem { candidate: c.clone(), by, source_missing: !c.source_exists });
        }
    }
    out.explicit_not_found = selection.items.iter().filter(|i| !seen.contains(&i.canonical())).cloned().collect();
    out.selected.sort_by_key(|s| s.id().canonical());
    out.tags_unknown.sort_by_key(ItemId::canonical);
    out
}

/// Chooses the items a run drills from `selected` (as [`select`] returns them).
///
/// * Items whose source is missing are always drilled, on top of the sample: their recovery points are the only
///   copy left, and a sample could skip them for months.
/// * `all`: every item.
/// * `random N`: N items drawn uniformly without replacement (partial Fisher–Yates) with a [`SplitMix64`] seeded by
///   the run id, over the items in id order: the same run id always gives the same items, whatever order the
///   candidates arrived in, so a re-run or a resumed run drills the same set.
/// * `leastRecentlyDrilled N`: never-drilled items first, then oldest last drill; ties by id.
///
/// The result is in id order.
pub fn sample(selected: &[SelectedItem], sampling: Sampling, run_id: &str) -> Vec<SelectedItem> {
    let (mut chosen, mut rest): (Vec<SelectedItem>, Vec<SelectedItem>) =
        selected.iter().cloned().partition(|s| s.source_missing);
    rest.sort_by_key(|s| s.id().canonical());
    match sampling {
        Sampling::All => chosen.extend(rest),
        Sampling::Random(n) => {
            let n = (n as usize).min(rest.len());
            let mut rng = SplitMix64::from_text(run_id);
            for i in 0..n {
                let j = i + rng.below((rest.len() - i) as u64) as usize;
                rest.swap(i, j);
            }
            rest.truncate(n);
            chosen.extend(rest);
        }
        Sampling::LeastRecentlyDrilled(n) => {
            // None (never drilled) sorts before Some(_).
            rest.sort_by(|a, b| {
                a.candidate
                    .last_drilled
                    .cmp(&b.candidate.last_drilled)
                    .then_with(|| a.id().canonical().cmp(&b.id().canonical()))
            });
            rest.truncate(n as usize);
            chosen.extend(rest);
        }
    }
    chosen.sort_by_key(|s| s.id().canonical());
    chosen
}

/// A selected item outside the coverage window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageGap {
    /// The item.
    pub item: ItemId,
    /// Its last drill that passed, if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_passed: Option<OffsetDateTime>,
}

/// The selected items without a passing drill within `within_days` days before `as_of` (none ever passed, or the
/// last passed before `as_of - within_days`; a drill exactly `within_days` ago still counts). In id order.
pub fn coverage_gaps(selected: &[SelectedItem], within_days: u32, as_of: OffsetDateTime) -> Vec<CoverageGap> {
    let since = as_of - time::Duration::days(i64::from(within_days));
    let mut gaps: Vec<CoverageGap> = selected
        .iter()
        .filter(|s| s.candidate.last_passed.is_none_or(|t| t < since))
        .map(|s| CoverageGap { item: s.id().clone(), last_passed: s.candidate.last_passed })
        .collect();
    gaps.sort_by_key(|g| g.item.canonical());
    gaps
}

/// What restoring one item costs, as the preflight estimates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCost {
    /// The item.
    pub item: ItemId,
    /// Total size of the disks restored, in GiB.
    pub gib: u64,
    /// vCPUs of the VM created (0 unless the restore creates a VM).
    pub vcpus: u32,
}

/// The cost guard's decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CostDecision {
    /// Items the run may restore.
    pub admitted: Vec<ItemId>,
    /// Items left out because they would exceed the guard (reported in the run result, never silently).
    pub over_budget: Vec<ItemId>,
}

/// Admits items in the order given (the caller's priority: source-missing and least recently drilled first) while
/// the run's totals stay within `guard`; an item that does not fit is left out and later, smaller ones may still
/// fit.
pub fn apply_cost_guard(items: &[ItemCost], guard: CostGuard) -> CostDecision {
    let (mut gib, mut vcpus) = (0u64, 0u64);
    let mut out = CostDecision::default();
    for c in items {
        let (g, v) = (gib + c.gib, vcpus + u64::from(c.vcpus));
        if g <= u64::from(guard.max_restored_gib) && v <= u64::from(guard.max_vm_vcpus) {
            (gib, vcpus) = (g, v);
            out.admitted.push(c.item.clone());
        } else {
            out.over_budget.push(c.item.clone());
        }
    }
    out
}

/// How many more drill restores may start in a vault now. Drills hold at most `share` of the vault's `limit`
/// concurrent restores (the policy's `maxConcurrentRestoresPerVault`), and a drill starts only if `limit - share`
/// slots stay free afterwards, whatever else is running: with `drills_running` drill restores and `others_running`
/// other restores, that is `share - drills_running - others_running` (never below 0). So the next incident restore
/// always finds a slot a drill did not take; the drill waits instead.
pub fn drill_slots(share: u32, limit: usize, drills_running: usize, others_running: usize) -> usize {
    // A share above the limit (a policy lowered after the plan was validated) counts as the limit.
    let share = (share as usize).min(limit);
    share.saturating_sub(drills_running + others_running)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::tests::{SUB, bi, pi};

    fn cand(id: &str, tags: Option<&[(&str, &str)]>, exists: bool, last: Option<OffsetDateTime>) -> Candidate {
        Candidate {
            id: ItemId::parse(id).unwrap(),
            source_id: None,
            tags: tags.map(|t| t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            source_exists: exists,
            last_drilled: last,
            last_passed: last,
        }
    }

    fn ids(items: &[SelectedItem]) -> Vec<String> {
        items.iter().map(|s| s.id().as_str().rsplit('/').next().unwrap_or_default().to_string()).collect()
    }

    fn sel(json: serde_json::Value) -> Selection {
        serde_json::from_value(json).unwrap()
    }

    fn world() -> Vec<Candidate> {
        vec![
            cand(&bi("d1"), Some(&[("tier", "1")]), true, None),
            cand(&bi("d2"), Some(&[("Tier", "1"), ("drill", "never")]), true, None),
            cand(&bi("d3"), Some(&[("tier", "2")]), true, None),
            cand(&pi("vm1"), Some(&[("tier", "1")]), false, None), // source deleted, last tags known
            cand(&pi("vm2"), None, false, None),                   // source deleted, tags unknown
            cand(&pi("vm3"), None, true, None),
        ]
    }

    #[test]
    fn explicit_items_vaults_and_tags_with_exclusions() {
        let w = world();
        let by_items = select(&sel(serde_json::json!({"items": [bi("d3"), bi("gone")]})), &w);
        assert_eq!(ids(&by_items.selected), ["d3"]);
        assert_eq!(by_items.selected[0].by, SelectedBy::Item);
        assert_eq!(by_items.explicit_not_found.len(), 1, "a listed item that is not protected is reported");

        let bv = format!("{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks");
        let by_vault = select(&sel(serde_json::json!({"vaults": [bv], "excludeItems": [bi("d1")]})), &w);
        assert_eq!(ids(&by_vault.selected), ["d2", "d3"]);
        assert!(by_vault.selected.iter().all(|s| s.by == SelectedBy::Vault));

        let by_tags = select(&sel(serde_json::json!({"tags": {"tier": "1"}, "excludeTags": {"DRILL": "never"}})), &w);
        // d2 matches tier=1 (names ignore case) but is excluded by drill=never; vm1's source is gone but its last
        // tags match: kept and flagged. vm2 cannot be decided: reported.
        assert_eq!(ids(&by_tags.selected), ["d1", "VM;iaasvmcontainerv2;rg-app;vm1"]);
        assert!(by_tags.selected[1].source_missing && !by_tags.selected[0].source_missing);
        assert_eq!(by_tags.tags_unknown, vec![ItemId::parse(&pi("vm2")).unwrap()]);
        // Values are exact.
        assert!(select(&sel(serde_json::json!({"tags": {"tier": "1 "}})), &w).selected.is_empty());
    }

    #[test]
    fn duplicates_in_the_input_are_drilled_once() {
        let mut w = world();
        w.push(cand(&bi("D1").replace("backupInstances/D1", "backupInstances/d1").to_uppercase(), None, true, None));
        let s = select(&sel(serde_json::json!({"tags": {"tier": "1"}})), &w);
        assert_eq!(s.selected.iter().filter(|x| x.id().canonical().ends_with("/d1")).count(), 1);
    }

    fn many(n: usize) -> Vec<SelectedItem> {
        (0..n)
            .map(|i| SelectedItem {
                candidate: cand(&bi(&format!("d{i:02}")), None, true, None),
                by: SelectedBy::Vault,
                source_missing: false,
            })
            .collect()
    }

    #[test]
    fn random_sampling_is_reproducible_from_the_run_id_and_order_independent() {
        let items = many(20);
        let a = sample(&items, Sampling::Random(3), "weekly.20261205T060000Z");
        assert_eq!(a.len(), 3);
        assert_eq!(a, sample(&items, Sampling::Random(3), "weekly.20261205T060000Z"));
        let mut reversed = items.clone();
        reversed.reverse();
        assert_eq!(a, sample(&reversed, Sampling::Random(3), "weekly.20261205T060000Z"));
        // Pinned: a change of generator or algorithm would silently change which items old run ids drilled.
        assert_eq!(ids(&a), ["d01", "d16", "d19"]);
        // Another run draws differently (over a few runs, not all equal).
        let other: Vec<_> =
            (0..5).map(|d| ids(&sample(&items, Sampling::Random(3), &format!("weekly.2026120{d}")))).collect();
        assert!(other.iter().any(|o| *o != ids(&a)));
        // More than there are: everything.
        assert_eq!(sample(&items, Sampling::Random(50), "r").len(), 20);
    }

    #[test]
    fn least_recently_drilled_takes_never_drilled_first_then_oldest() {
        let mut items = many(4);
        items[0].candidate.last_drilled = Some(datetime!(2026-11-01 00:00 UTC));
        items[1].candidate.last_drilled = Some(datetime!(2026-10-01 00:00 UTC));
        items[2].candidate.last_drilled = None;
        items[3].candidate.last_drilled = Some(datetime!(2026-12-01 00:00 UTC));
        assert_eq!(ids(&sample(&items, Sampling::LeastRecentlyDrilled(2), "r")), ["d01", "d02"]);
        assert_eq!(ids(&sample(&items, Sampling::All, "r")), ["d00", "d01", "d02", "d03"]);
    }

    #[test]
    fn missing_sources_are_always_drilled_on_top_of_the_sample() {
        let mut items = many(10);
        items[7].source_missing = true;
        for s in [Sampling::Random(1), Sampling::LeastRecentlyDrilled(1)] {
            let got = sample(&items, s, "r");
            assert_eq!(got.len(), 2, "{s:?}");
            assert!(got.iter().any(|x| x.source_missing), "{s:?}");
        }
    }

    #[test]
    fn coverage_gaps_are_items_outside_the_window() {
        let mut items = many(3);
        let as_of = datetime!(2026-12-05 00:00 UTC);
        items[0].candidate.last_passed = Some(as_of - time::Duration::days(30)); // exactly at the edge: covered
        items[1].candidate.last_passed = Some(as_of - time::Duration::days(30) - time::Duration::seconds(1));
        let gaps = coverage_gaps(&items, 30, as_of);
        assert_eq!(
            gaps.iter().map(|g| g.item.as_str().rsplit('/').next().unwrap()).collect::<Vec<_>>(),
            ["d01", "d02"]
        );
        assert_eq!(gaps[1].last_passed, None);
    }

    #[test]
    fn drills_keep_their_share_and_leave_the_reserve_free() {
        // Limit 3, share 1: one drill at a time, two slots always left for incidents.
        assert_eq!(drill_slots(1, 3, 0, 0), 1);
        assert_eq!(drill_slots(1, 3, 1, 0), 0, "share used");
        assert_eq!(drill_slots(1, 3, 0, 2), 0, "only the reserve is left");
        assert_eq!(drill_slots(1, 3, 0, 1), 0, "a drill now would leave 1 free, less than the reserve of 2");
        // Limit 3, share 2.
        assert_eq!(drill_slots(2, 3, 0, 0), 2);
        assert_eq!(drill_slots(2, 3, 1, 1), 0);
        assert_eq!(drill_slots(2, 3, 1, 0), 1);
        // Share above the limit (a policy lowered after validation) counts as the limit.
        assert_eq!(drill_slots(5, 2, 0, 0), 2);
        assert_eq!(drill_slots(1, 2, 0, 5), 0, "over-full vault");
    }

    #[test]
    fn cost_guard_admits_in_order_while_totals_fit() {
        let item = |n: &str, gib, vcpus| ItemCost { item: ItemId::parse(&bi(n)).unwrap(), gib, vcpus };
        let guard = CostGuard { max_restored_gib: 100, max_vm_vcpus: 4 };
        let d = apply_cost_guard(&[item("a", 60, 2), item("b", 50, 0), item("c", 40, 2), item("d", 0, 1)], guard);
        let names =
            |v: &[ItemId]| v.iter().map(|i| i.as_str().rsplit('/').next().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&d.admitted), ["a", "c"]);
        assert_eq!(names(&d.over_budget), ["b", "d"]);
    }
}
