//! The rules a parsed plan must meet beyond its types, in document order; the first failure is returned. Each
//! names the field (JSON path), the rule (listed in docs/drills.md) and the fix. Policy rules compare the plan
//! with the restore policy the drill's own restore requests will meet at the intake, so a plan that validates does
//! not fail later on something knowable now.

use std::collections::{BTreeMap, HashSet};

use restore_contract::Policy;
use restore_models::arm_id::{ResourceGroupId, ResourceId};
use time::OffsetDateTime;

use crate::duration::IsoDuration;
use crate::error::{PlanError, PlanErrorKind as K};
use crate::ids::{ItemId, VaultId};
use crate::plan::{DrillPlan, Pick, Region, Sampling, VmMode, VmTier};
use crate::schedule::PlanSchedule;
use restore_contract::request::printable;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Schedules firing more often than this are refused: a drill restores real data and takes tens of minutes.
pub const MIN_PERIOD_SECONDS: i64 = HOUR;
/// The shortest start window: the drill function ticks every few minutes, and a window shorter than a couple of
/// ticks would turn one slow tick into a missed run.
pub const MIN_START_WINDOW_SECONDS: i64 = 15 * MINUTE;
/// Longest start window, completion window and keep-for (AWS allows 168 h for the first and the last).
pub const MAX_WINDOW_SECONDS: i64 = 7 * DAY;
/// Largest sample per run.
pub const MAX_SAMPLE: u32 = 1000;
/// Largest cost guard values (a sanity bound, not a recommendation).
pub const MAX_GIB: u32 = 65_536;
/// Largest vCPU guard.
pub const MAX_VCPUS: u32 = 1024;

fn err(kind: K, field: &str, rule: &'static str, message: impl Into<String>, fix: impl Into<String>) -> PlanError {
    PlanError::new(kind, field, message, fix).with_rule(rule)
}

/// Checks every rule; returns the compiled schedule when the plan is valid.
pub fn validate(plan: &DrillPlan, policy: &Policy, now: OffsetDateTime) -> Result<PlanSchedule, PlanError> {
    check_name(&plan.name)?;
    if let Some(d) = &plan.description
        && d.chars().count() > 1024
    {
        return Err(err(
            K::InvalidValue,
            "description",
            "descriptionLength",
            "is longer than 1024 characters",
            "shorten it",
        ));
    }
    let schedule = check_schedule(plan, now)?;
    check_selection(plan, policy)?;
    check_sampling(plan)?;
    check_coverage(plan, &schedule, now)?;
    check_recovery_point(plan)?;
    check_restore(plan)?;
    check_sandbox(plan, policy)?;
    check_rto(plan)?;
    check_checks(plan)?;
    check_keep_for(plan.keep_for)?;
    check_cost_guard(plan)?;
    check_share(plan, policy)?;
    Ok(schedule)
}

fn check_name(name: &str) -> Result<(), PlanError> {
    let len = name.chars().count();
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let start_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !(1..=50).contains(&len) || !chars_ok || !start_ok {
        return Err(err(
            K::InvalidValue,
            "name",
            "planNameFormat",
            format!("'{}' is not a plan name", printable(name)),
            "use 1–50 of letters, digits, '-' and '_', starting with a letter or digit (it becomes part of run ids, \
             request ids and tags)",
        ));
    }
    Ok(())
}

fn check_schedule(plan: &DrillPlan, now: OffsetDateTime) -> Result<PlanSchedule, PlanError> {
    let schedule = PlanSchedule::compile(&plan.name, &plan.schedule)?;
    // Plans are validated on every tick; settle a far too frequent cron from its next few runs instead of scanning
    // three years of them.
    let first = schedule.occurrences(now, now + time::Duration::days(2), 3);
    let early = first.windows(2).map(|w| w[1].at - w[0].at).min();
    let shortest = match early {
        Some(gap) if gap.whole_seconds() < MIN_PERIOD_SECONDS => Some(gap),
        _ => schedule.shortest_interval(now),
    };
    let Some(period) = shortest else {
        return Err(err(
            K::InvalidValue,
            "schedule.cron",
            "scheduleNeverFires",
            format!("'{}' fires fewer than twice in the next three years", printable(&plan.schedule.cron)),
            "check the day and month fields (e.g. '30 2' is a day that never comes); drills need a repeating schedule",
        ));
    };
    let period_s = period.whole_seconds();
    if period_s < MIN_PERIOD_SECONDS {
        return Err(err(
            K::InvalidValue,
            "schedule.cron",
            "scheduleTooFrequent",
            format!("runs can be only {} apart", IsoDuration::from_secs(period_s)),
            "schedule drills at most hourly; a drill restores real data and takes tens of minutes",
        ));
    }
    let window = plan.schedule.start_window.as_secs();
    if !(MIN_START_WINDOW_SECONDS..=MAX_WINDOW_SECONDS).contains(&window) {
        return Err(err(
            K::InvalidValue,
            "schedule.startWindow",
            "startWindowRange",
            format!("{} is outside PT15M–P7D", plan.schedule.start_window),
            "give at least PT15M (the drill function ticks every few minutes) and at most P7D",
        ));
    }
    if window > period_s {
        return Err(err(
            K::Inconsistent,
            "schedule.startWindow",
            "startWindowLongerThanPeriod",
            format!(
                "the start window {} is longer than the shortest interval between two runs, {} (daylight-saving \
                 changes included), so two runs could be due at once",
                plan.schedule.start_window,
                IsoDuration::from_secs(period_s)
            ),
            format!("shorten the start window to {} or less", IsoDuration::from_secs(period_s)),
        ));
    }
    let completion = plan.completion_window.as_secs();
    if completion <= window {
        return Err(err(
            K::Inconsistent,
            "completionWindow",
            "completionWindowNotAfterStartWindow",
            format!(
                "the completion window {} is not longer than the start window {}",
                plan.completion_window, plan.schedule.start_window
            ),
            "give a completion window (measured from the scheduled time) longer than the start window, with room \
             for the restore and the checks",
        ));
    }
    if completion > MAX_WINDOW_SECONDS {
        return Err(err(
            K::InvalidValue,
            "completionWindow",
            "completionWindowRange",
            format!("{} is longer than P7D", plan.completion_window),
            "give at most P7D",
        ));
    }
    Ok(schedule)
}

fn vault_allowed(policy: &Policy, vault: &VaultId) -> bool {
    policy.allowed_vaults.contains(vault.resource_id())
}

fn not_allowed_vault(policy: &Policy, field: &str, vault: &VaultId) -> PlanError {
    let message = if policy.allowed_vaults.is_empty() {
        format!("the policy lists no vaults ({}), so vault {vault} is refused", policy.origin)
    } else {
        format!("vault {vault} is not in the policy's allowedVaults")
    };
    err(
        K::NotAllowedByPolicy,
        field,
        "vaultNotAllowed",
        message,
        "add the vault to allowedVaults in the policy, or select items of an allowed vault",
    )
}

fn check_selection(plan: &DrillPlan, policy: &Policy) -> Result<(), PlanError> {
    let s = &plan.selection;
    if s.items.is_empty() && s.vaults.is_empty() && s.tags.is_empty() {
        return Err(err(
            K::InvalidValue,
            "selection",
            "emptySelection",
            "the plan selects nothing: items, vaults and tags are all empty",
            "list items, vaults or tags to drill",
        ));
    }
    unique_items("selection.items", &s.items)?;
    for (i, item) in s.items.iter().enumerate() {
        if !vault_allowed(policy, &item.vault()) {
            return Err(not_allowed_vault(policy, &format!("selection.items[{i}]"), &item.vault()));
        }
    }
    let mut seen = HashSet::new();
    for (i, v) in s.vaults.iter().enumerate() {
        let field = format!("selection.vaults[{i}]");
        if !seen.insert(v.as_str().to_ascii_lowercase()) {
            return Err(err(
                K::InvalidValue,
                &field,
                "duplicateVault",
                format!("vault {v} is listed twice"),
                "list each vault once",
            ));
        }
        if !vault_allowed(policy, v) {
            return Err(not_allowed_vault(policy, &field, v));
        }
    }
    check_tags("selection.tags", &s.tags)?;
    if !s.tags.is_empty() && policy.allowed_vaults.is_empty() {
        return Err(err(
            K::NotAllowedByPolicy,
            "selection.tags",
            "vaultNotAllowed",
            format!(
                "tags select among the items of the policy's vaults, and the policy lists none ({})",
                policy.origin
            ),
            "add the vaults to allowedVaults in the policy",
        ));
    }
    unique_items("selection.excludeItems", &s.exclude_items)?;
    for (i, x) in s.exclude_items.iter().enumerate() {
        if s.items.contains(x) {
            return Err(err(
                K::Inconsistent,
                &format!("selection.excludeItems[{i}]"),
                "itemSelectedAndExcluded",
                format!("{x} is both listed in items and excluded"),
                "remove it from one of the two lists",
            ));
        }
    }
    check_tags("selection.excludeTags", &s.exclude_tags)?;
    for (k, v) in &s.exclude_tags {
        if s.tags.iter().any(|(ik, iv)| ik.eq_ignore_ascii_case(k) && iv == v) {
            return Err(err(
                K::Inconsistent,
                &format!("selection.excludeTags.{k}"),
                "tagSelectedAndExcluded",
                format!("the tag {k}={v} both selects and excludes, so the tag selection would be empty"),
                "remove it from tags or from excludeTags",
            ));
        }
    }
    Ok(())
}

fn unique_items(field: &str, items: &[ItemId]) -> Result<(), PlanError> {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item.canonical()) {
            return Err(err(
                K::InvalidValue,
                &format!("{field}[{i}]"),
                "duplicateItem",
                format!("{item} is listed twice (ARM ids compare without regard to case)"),
                "list each item once",
            ));
        }
    }
    Ok(())
}

/// Azure's tag rules: at most 50, names 1–512 characters without `< > % & \ ? /`, values up to 256; names compare
/// without regard to case, so two spellings of one name are a duplicate.
fn check_tags(field: &str, tags: &BTreeMap<String, String>) -> Result<(), PlanError> {
    if tags.len() > 50 {
        return Err(err(
            K::InvalidValue,
            field,
            "tagFormat",
            format!("{} tags; Azure allows 50", tags.len()),
            "use at most 50",
        ));
    }
    let mut seen = HashSet::new();
    for (k, v) in tags {
        let f = format!("{field}.{k}");
        let key_ok = (1..=512).contains(&k.chars().count())
            && !k.chars().any(|c| matches!(c, '<' | '>' | '%' | '&' | '\\' | '?' | '/') || c.is_control());
        if !key_ok || v.chars().count() > 256 || v.chars().any(char::is_control) {
            return Err(err(
                K::InvalidValue,
                &f,
                "tagFormat",
                format!("'{}' = '{}' is not a valid Azure tag", printable(k), printable(v)),
                "tag names are 1–512 characters without < > % & \\ ? /; values up to 256 printable characters",
            ));
        }
        if !seen.insert(k.to_ascii_lowercase()) {
            return Err(err(
                K::InvalidValue,
                &f,
                "duplicateTag",
                format!("tag name '{}' is given twice in different cases; Azure tag names ignore case", printable(k)),
                "give each tag name once",
            ));
        }
    }
    Ok(())
}

fn check_sampling(plan: &DrillPlan) -> Result<(), PlanError> {
    let (field, n) = match plan.sampling {
        Sampling::All => return Ok(()),
        Sampling::Random(n) => ("sampling.random", n),
        Sampling::LeastRecentlyDrilled(n) => ("sampling.leastRecentlyDrilled", n),
    };
    if n == 0 {
        return Err(err(
            K::InvalidValue,
            field,
            "zeroSample",
            "a sample of 0 drills nothing",
            "sample 1 or more items, or use \"all\"",
        ));
    }
    if n > MAX_SAMPLE {
        return Err(err(
            K::InvalidValue,
            field,
            "sampleTooLarge",
            format!("{n} is more than {MAX_SAMPLE}"),
            format!("sample at most {MAX_SAMPLE}, or use \"all\""),
        ));
    }
    Ok(())
}

fn check_coverage(plan: &DrillPlan, schedule: &PlanSchedule, now: OffsetDateTime) -> Result<(), PlanError> {
    let Some(c) = plan.coverage else { return Ok(()) };
    if !(1..=365).contains(&c.within_days) {
        return Err(err(
            K::InvalidValue,
            "coverage.withinDays",
            "coverageRange",
            format!("{} is outside 1–365", c.within_days),
            "give 1 to 365 days",
        ));
    }
    // An item drilled in one run can next be drilled in the following run; if runs can be further apart than the
    // coverage window, the target is unreachable by construction.
    if let Some(gap) = schedule.longest_interval(now)
        && i64::from(c.within_days) * DAY < gap.whole_seconds()
    {
        return Err(err(
            K::Inconsistent,
            "coverage.withinDays",
            "coverageShorterThanPeriod",
            format!(
                "runs can be {} apart, so no item can be drilled every {} days",
                IsoDuration::from_secs(gap.whole_seconds()),
                c.within_days
            ),
            "make the coverage window at least as long as the longest interval between runs, or run more often",
        ));
    }
    Ok(())
}

fn check_recovery_point(plan: &DrillPlan) -> Result<(), PlanError> {
    let rp = plan.recovery_point;
    if let Pick::RandomWithinDays(n) = rp.pick
        && !(1..=365).contains(&n)
    {
        return Err(err(
            K::InvalidValue,
            "recoveryPoint.pick.randomWithinDays",
            "randomWindowRange",
            format!("{n} is outside 1–365"),
            "give 1 to 365 days",
        ));
    }
    if rp.vm_tier == VmTier::Snapshot && rp.vm_region == Region::Secondary {
        return Err(err(
            K::Inconsistent,
            "recoveryPoint.vmTier",
            "snapshotTierNotInSecondaryRegion",
            "snapshots stay in the primary region; Cross Region Restore restores vault-tier points only",
            "use \"vmTier\": \"vault\" (or \"any\") with the secondary region, or the primary region for the snapshot tier",
        ));
    }
    Ok(())
}

fn check_restore(plan: &DrillPlan) -> Result<(), PlanError> {
    let Some(luns) = &plan.restore.luns else { return Ok(()) };
    if plan.restore.vm != VmMode::RestoreDisks {
        return Err(err(
            K::Inconsistent,
            "restore.luns",
            "lunsOnlyForRestoreDisks",
            "LUNs select disks for restoreDisks; a new VM gets every disk",
            "remove luns, or use \"vm\": \"restoreDisks\"",
        ));
    }
    for (i, lun) in luns.iter().enumerate() {
        let field = format!("restore.luns[{i}]");
        if *lun > 63 {
            return Err(err(
                K::InvalidValue,
                &field,
                "lunRange",
                format!("LUN {lun} is out of range"),
                "Azure data disk LUNs are 0–63",
            ));
        }
        if luns[..i].contains(lun) {
            return Err(err(
                K::InvalidValue,
                &field,
                "lunUnique",
                format!("LUN {lun} is listed twice"),
                "list each LUN once",
            ));
        }
    }
    Ok(())
}

/// Whether the policy lets restores from `vault` target `rg` (the intake's targetResourceGroupNotAllowed rule).
fn target_allowed(policy: &Policy, vault: &ResourceId, rg: &ResourceGroupId) -> bool {
    policy.allowed_target_resource_groups.iter().any(|t| {
        let applies = match (&t.vault, &t.subscription) {
            (Some(v), _) => v == vault,
            (None, Some(s)) => s.eq_ignore_ascii_case(vault.subscription()),
            (None, None) => false,
        };
        applies && t.resource_groups.contains(rg)
    })
}

fn check_sandbox(plan: &DrillPlan, policy: &Policy) -> Result<(), PlanError> {
    let sb = &plan.sandbox;
    let rg = &sb.resource_group_id;
    if !policy.sandbox.resource_groups.contains(rg) {
        return Err(err(
            K::NotAllowedByPolicy,
            "sandbox.resourceGroupId",
            "sandboxResourceGroupNotAllowed",
            if policy.sandbox.resource_groups.is_empty() {
                format!("the policy lists no sandbox resource groups ({}), so no drill can run", policy.origin)
            } else {
                format!("{rg} is not in the policy's sandbox.resourceGroups")
            },
            "use a sandbox group the policy lists, or add this one to sandbox.resourceGroups (docs/policy.md)",
        ));
    }
    // The vaults the plan names; tag selections are checked again per request by the intake.
    let vaults: Vec<VaultId> =
        plan.selection.items.iter().map(ItemId::vault).chain(plan.selection.vaults.iter().cloned()).collect();
    for v in &vaults {
        let crr = v.item_kind() == crate::ids::ItemKind::Vm && plan.recovery_point.vm_region == Region::Secondary;
        if !crr && !rg.subscription().eq_ignore_ascii_case(v.subscription()) {
            return Err(err(
                K::Inconsistent,
                "sandbox.resourceGroupId",
                "sandboxSubscription",
                format!("the sandbox is in subscription {}, vault {v} in {}", rg.subscription(), v.subscription()),
                "use a sandbox group in the vault's subscription (restores stay in the vault's subscription unless they \
                 use Cross Region Restore)",
            ));
        }
        if !target_allowed(policy, v.resource_id(), rg) {
            return Err(err(
                K::NotAllowedByPolicy,
                "sandbox.resourceGroupId",
                "sandboxNotRestoreTarget",
                format!(
                    "the intake would refuse restores from {v} into {rg}: it is not in allowedTargetResourceGroups for that vault"
                ),
                "add the sandbox group to allowedTargetResourceGroups for the vault or its subscription",
            ));
        }
    }
    if plan.may_select_vms() {
        let Some(sa) = &sb.staging_storage_account_id else {
            return Err(err(
                K::MissingField,
                "sandbox.stagingStorageAccountId",
                "stagingAccountRequired",
                "the plan can select VMs, and VM restores need a staging storage account",
                "add a staging account from the policy's sandbox.stagingStorageAccounts",
            ));
        };
        if !policy.sandbox.staging_storage_accounts.contains(sa) {
            return Err(err(
                K::NotAllowedByPolicy,
                "sandbox.stagingStorageAccountId",
                "sandboxStagingAccountNotAllowed",
                format!("{sa} is not in the policy's sandbox.stagingStorageAccounts"),
                "use a listed staging account, or add it to sandbox.stagingStorageAccounts (docs/policy.md)",
            ));
        }
        if !policy.allowed_staging_storage_accounts.contains(sa) {
            return Err(err(
                K::NotAllowedByPolicy,
                "sandbox.stagingStorageAccountId",
                "stagingNotAllowedForRestores",
                format!("the intake would refuse {sa}: it is not in allowedStagingStorageAccounts"),
                "add it to allowedStagingStorageAccounts too",
            ));
        }
    }
    if plan.restore.vm == VmMode::NewVm && plan.may_select_vms() {
        let Some(subnet) = &sb.subnet_id else {
            return Err(err(
                K::MissingField,
                "sandbox.subnetId",
                "subnetRequired",
                "new-VM drills need a subnet for the restored VM",
                "add a subnet of a network in the policy's sandbox.virtualNetworks",
            ));
        };
        if !policy.sandbox.virtual_networks.contains(&subnet.virtual_network()) {
            return Err(err(
                K::NotAllowedByPolicy,
                "sandbox.subnetId",
                "sandboxNetworkNotAllowed",
                format!(
                    "the subnet's network {} is not in the policy's sandbox.virtualNetworks",
                    subnet.virtual_network()
                ),
                "use a subnet of an isolated sandbox network the policy lists (a restored VM is a clone of production)",
            ));
        }
    }
    Ok(())
}

fn check_rto(plan: &DrillPlan) -> Result<(), PlanError> {
    let in_range = |d: IsoDuration| d.as_secs() > 0 && d.as_secs() <= MAX_WINDOW_SECONDS;
    if !in_range(plan.rto.target) {
        return Err(err(
            K::InvalidValue,
            "rto.target",
            "rtoTargetRange",
            format!("{} is outside PT1S–P7D", plan.rto.target),
            "give a target such as PT4H",
        ));
    }
    let mut seen = HashSet::new();
    for (i, o) in plan.rto.overrides.iter().enumerate() {
        if !seen.insert(o.item.canonical()) {
            return Err(err(
                K::InvalidValue,
                &format!("rto.overrides[{i}].item"),
                "duplicateRtoOverride",
                format!("{} has two overrides", o.item),
                "give each item one override",
            ));
        }
        if !in_range(o.target) {
            return Err(err(
                K::InvalidValue,
                &format!("rto.overrides[{i}].target"),
                "rtoTargetRange",
                format!("{} is outside PT1S–P7D", o.target),
                "give a target such as PT2H",
            ));
        }
    }
    Ok(())
}

fn check_checks(plan: &DrillPlan) -> Result<(), PlanError> {
    let c = &plan.checks;
    if let Some(t) = c.vm_agent_timeout
        && !(MINUTE..=2 * HOUR).contains(&t.as_secs())
    {
        return Err(err(
            K::InvalidValue,
            "checks.vmAgentTimeout",
            "vmAgentTimeoutRange",
            format!("{t} is outside PT1M–PT2H"),
            "give PT1M to PT2H",
        ));
    }
    if let Some(rc) = &c.run_command {
        if plan.restore.vm != VmMode::NewVm {
            return Err(err(
                K::Inconsistent,
                "checks.runCommand",
                "runCommandNeedsNewVm",
                "Run Command runs inside a VM, and this plan restores VMs as disks only",
                "set \"restore\": {\"vm\": \"newVm\"}, or remove runCommand",
            ));
        }
        if !(1..=16_384).contains(&rc.script.chars().count()) {
            return Err(err(
                K::InvalidValue,
                "checks.runCommand.script",
                "scriptLength",
                "the script must be 1–16384 characters",
                "shorten it, or have it fetch a longer script",
            ));
        }
        if rc.expected_output.as_ref().is_some_and(|o| o.is_empty() || o.len() > 4096) {
            return Err(err(
                K::InvalidValue,
                "checks.runCommand.expectedOutput",
                "expectedOutputLength",
                "expected output must be 1–4096 bytes (Azure returns the last 4 KB of output)",
                "expect a short marker the script prints at its end",
            ));
        }
        if let Some(t) = rc.timeout
            && !(MINUTE..=90 * MINUTE).contains(&t.as_secs())
        {
            return Err(err(
                K::InvalidValue,
                "checks.runCommand.timeout",
                "runCommandTimeoutRange",
                format!("{t} is outside PT1M–PT90M"),
                "give PT1M to PT90M (Azure stops commands at 90 minutes)",
            ));
        }
    }
    if let Some(w) = &c.webhook {
        let url = url::Url::parse(&w.url).map_err(|e| {
            err(
                K::InvalidValue,
                "checks.webhook.url",
                "webhookUrlInvalid",
                format!("'{}' is not a URL: {e}", printable(&w.url)),
                "give an absolute https:// URL",
            )
        })?;
        if url.scheme() != "https" {
            return Err(err(
                K::Forbidden,
                "checks.webhook.url",
                "webhookNotHttps",
                format!("the URL uses {}; the payload and its signature would travel in clear text", url.scheme()),
                "use an https:// URL",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err(
                K::Forbidden,
                "checks.webhook.url",
                "inlineSecret",
                "the URL carries credentials (user:password@)",
                "remove them; the webhook authenticates the drill by the HMAC signature made with secretSetting's value",
            ));
        }
        if let Some((name, _)) = url.query_pairs().find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            ["code", "sig", "key", "token", "secret", "password"].iter().any(|s| k == *s || k.ends_with(s))
        }) {
            return Err(err(
                K::Forbidden,
                "checks.webhook.url",
                "inlineSecret",
                format!(
                    "the URL's query parameter '{}' looks like a key, and plans are plain documents",
                    printable(&name)
                ),
                "drop it from the URL; have the webhook check the HMAC signature made with the secret in secretSetting",
            ));
        }
        let name_ok = (1..=128).contains(&w.secret_setting.len())
            && w.secret_setting.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && w.secret_setting.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return Err(err(
                K::InvalidValue,
                "checks.webhook.secretSetting",
                "secretSettingFormat",
                format!("'{}' is not an app setting name", printable(&w.secret_setting)),
                "give the name (not the value) of an app setting: letters, digits and '_', e.g. DRILL_WEBHOOK_SECRET",
            ));
        }
        if let Some(t) = w.timeout
            && !(1..=5 * MINUTE).contains(&t.as_secs())
        {
            return Err(err(
                K::InvalidValue,
                "checks.webhook.timeout",
                "webhookTimeoutRange",
                format!("{t} is outside PT1S–PT5M"),
                "give PT1S to PT5M",
            ));
        }
    }
    Ok(())
}

fn check_keep_for(keep: IsoDuration) -> Result<(), PlanError> {
    if keep.as_secs() < 0 {
        return Err(err(
            K::InvalidValue,
            "keepFor",
            "keepForNegative",
            format!("{keep} is negative"),
            "give PT0S (clean up right after the checks) or more",
        ));
    }
    if keep.as_secs() > MAX_WINDOW_SECONDS {
        return Err(err(
            K::InvalidValue,
            "keepFor",
            "keepForTooLong",
            format!("{keep} is longer than P7D"),
            "keep restored clones at most P7D: they cost money and hold production data",
        ));
    }
    Ok(())
}

fn check_cost_guard(plan: &DrillPlan) -> Result<(), PlanError> {
    let g = plan.cost_guard;
    if g.max_restored_gib == 0 || g.max_restored_gib > MAX_GIB {
        return Err(err(
            K::InvalidValue,
            "costGuard.maxRestoredGiB",
            "costGuardRange",
            format!("{} is outside 1–{MAX_GIB}", g.max_restored_gib),
            "give the most GiB one run may restore, e.g. 1024",
        ));
    }
    if g.max_vm_vcpus == 0 || g.max_vm_vcpus > MAX_VCPUS {
        return Err(err(
            K::InvalidValue,
            "costGuard.maxVmVcpus",
            "costGuardRange",
            format!("{} is outside 1–{MAX_VCPUS}", g.max_vm_vcpus),
            "give the most vCPUs one run's new VMs may use, e.g. 16",
        ));
    }
    Ok(())
}

fn check_share(plan: &DrillPlan, policy: &Policy) -> Result<(), PlanError> {
    let share = plan.vault_concurrency_share;
    let limit = policy.max_concurrent_restores_per_vault;
    if share == 0 {
        return Err(err(
            K::InvalidValue,
            "vaultConcurrencyShare",
            "shareZero",
            "a share of 0 would never start a restore",
            "give 1 or more",
        ));
    }
    if share as usize > limit {
        return Err(err(
            K::NotAllowedByPolicy,
            "vaultConcurrencyShare",
            "shareAboveVaultLimit",
            format!("{share} is more than the policy's maxConcurrentRestoresPerVault, {limit}"),
            format!("give 1 to {limit}; less than {limit} keeps a slot free for restores during an incident"),
        ));
    }
    Ok(())
}
