//! The overview page across plans: per plan the last run, the next one, coverage, RTO per item against its
//! target with its trend over the last runs, missed and late runs, and leftover resources.

use std::fmt::Write as _;

use restore_contract::Timestamp;
use restore_drills::ItemId;
use restore_drills::result::{CoverageGapEntry, Leftover, RunOutcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::html::{badge, data, esc, page};
use crate::pack::minutes;
use crate::run_page::short;
use crate::svg::{Bar, rto_bars, trend};

/// What the overview shows (built by the drill function from its run records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Overview {
    /// When it was written.
    pub generated_at: Timestamp,
    /// One entry per plan.
    pub plans: Vec<PlanOverview>,
}

/// One plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanOverview {
    /// The plan's name.
    pub plan: String,
    /// Its last run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
    /// Its next scheduled run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<Timestamp>,
    /// Coverage of its selection.
    pub coverage: Coverage,
    /// RTO per item.
    #[serde(default)]
    pub items: Vec<ItemTrend>,
    /// Runs that were due and never started (their scheduled times).
    #[serde(default)]
    pub missed_runs: Vec<Timestamp>,
    /// Runs that ended after their completion window, or have not ended past it (run ids).
    #[serde(default)]
    pub late_runs: Vec<String>,
    /// Resources drills created that are not confirmed deleted.
    #[serde(default)]
    pub leftovers: Vec<Leftover>,
}

/// A run in one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// Its outcome; absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}

/// Coverage of a plan's selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Coverage {
    /// The plan's coverage window in days; absent when the plan sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    /// Selected items.
    pub selected: u32,
    /// Of those, drilled within the window.
    pub drilled: u32,
    /// The items outside it.
    #[serde(default)]
    pub outside: Vec<CoverageGapEntry>,
}

/// An item's RTO history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemTrend {
    /// The item.
    pub item: ItemId,
    /// Its target, seconds.
    pub target_seconds: i64,
    /// Measured RTOs of its last runs, oldest first (the last is the latest).
    #[serde(default)]
    pub history_seconds: Vec<i64>,
}

fn outcome(o: Option<&RunSummary>) -> &'static str {
    match o.and_then(|r| r.outcome) {
        Some(RunOutcome::Passed) => "Passed",
        Some(RunOutcome::Failed) => "Failed",
        Some(RunOutcome::Partial) => "Partial",
        None if o.is_some() => "Running",
        None => "Never run",
    }
}

/// The overview page.
pub fn render(overview: &Overview) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h1>Recovery drills</h1><p class="muted">Written {}</p>
<table><caption>Plans</caption><tr><th scope="col">Plan</th><th scope="col">Last run</th><th scope="col">Next run (UTC)</th><th scope="col" class="num">Coverage</th><th scope="col" class="num">Missed</th><th scope="col" class="num">Late</th><th scope="col" class="num">Leftovers</th></tr>"#,
        esc(&overview.generated_at.to_string())
    );
    for (p_index, p) in overview.plans.iter().enumerate() {
        let c = &p.coverage;
        let share = (c.drilled * 100).checked_div(c.selected).unwrap_or(0);
        let _ = write!(
            b,
            r##"<tr><th scope="row"><a href="#plan-{p_index}">{}</a></th><td>{} {}</td><td>{}</td><td class="num">{} of {} ({share} %)</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"##,
            esc(&p.plan),
            badge(outcome(p.last_run.as_ref())),
            p.last_run.as_ref().map(|r| format!("<code>{}</code>", esc(&r.run_id))).unwrap_or_default(),
            p.next_run_at.as_ref().map(|t| esc(&t.to_string())).unwrap_or_else(|| "—".into()),
            data(&format!("/plans/{p_index}/coverage/drilled"), c.drilled, &c.drilled.to_string()),
            data(&format!("/plans/{p_index}/coverage/selected"), c.selected, &c.selected.to_string()),
            data(&format!("/plans/{p_index}/missedRuns/length"), p.missed_runs.len(), &p.missed_runs.len().to_string()),
            data(&format!("/plans/{p_index}/lateRuns/length"), p.late_runs.len(), &p.late_runs.len().to_string()),
            data(&format!("/plans/{p_index}/leftovers/length"), p.leftovers.len(), &p.leftovers.len().to_string()),
        );
    }
    b.push_str("</table>");

    for (p_index, p) in overview.plans.iter().enumerate() {
        let _ = write!(b, r#"<h2 id="plan-{p_index}">{}</h2>"#, esc(&p.plan));
        if let Some(days) = p.coverage.within_days {
            let _ = write!(b, "<p>Coverage target: every selected item drilled within {days} days.</p>");
        }
        if !p.coverage.outside.is_empty() {
            b.push_str(r#"<table><caption>Items outside the coverage window</caption><tr><th scope="col">Item</th><th scope="col">Last drilled</th></tr>"#);
            for g in &p.coverage.outside {
                let _ = write!(
                    b,
                    r#"<tr><td class="id">{}</td><td>{}</td></tr>"#,
                    esc(g.item.as_str()),
                    g.last_passed.as_ref().map(|t| esc(&t.to_string())).unwrap_or_else(|| "never".into())
                );
            }
            b.push_str("</table>");
        }
        if !p.items.is_empty() {
            let bars: Vec<Bar> = p
                .items
                .iter()
                .map(|i| Bar {
                    label: short(i.item.as_str()),
                    value: i.history_seconds.last().copied(),
                    target: i.target_seconds,
                })
                .collect();
            b.push_str(&rto_bars(&format!("Latest RTO per item of {}", p.plan), &bars));
            b.push_str(r#"<table><caption>RTO per item over the last runs</caption><tr><th scope="col">Item</th><th scope="col" class="num">Latest (min)</th><th scope="col" class="num">Target (min)</th><th scope="col">Trend (oldest → latest)</th></tr>"#);
            for (i_index, i) in p.items.iter().enumerate() {
                let latest = match i.history_seconds.last() {
                    Some(s) => data(
                        &format!("/plans/{p_index}/items/{i_index}/historySeconds/{}", i.history_seconds.len() - 1),
                        s,
                        &minutes(*s),
                    ),
                    None => "—".into(),
                };
                let _ = write!(
                    b,
                    r#"<tr><th scope="row" class="id">{}</th><td class="num">{latest}</td><td class="num">{}</td><td>{}</td></tr>"#,
                    esc(&short(i.item.as_str())),
                    data(
                        &format!("/plans/{p_index}/items/{i_index}/targetSeconds"),
                        i.target_seconds,
                        &minutes(i.target_seconds)
                    ),
                    trend(&format!("RTO trend of {}", short(i.item.as_str())), &i.history_seconds, i.target_seconds),
                );
            }
            b.push_str("</table>");
        }
        if !p.missed_runs.is_empty() || !p.late_runs.is_empty() {
            b.push_str("<h3>Missed and late runs</h3><ul>");
            for m in &p.missed_runs {
                let _ = write!(b, "<li>{} run scheduled {} never started</li>", badge("missed"), esc(&m.to_string()));
            }
            for l in &p.late_runs {
                let _ = write!(b, "<li>{} <code>{}</code></li>", badge("late"), esc(l));
            }
            b.push_str("</ul>");
        }
        if !p.leftovers.is_empty() {
            b.push_str(r#"<table><caption>Leftover resources</caption><tr><th scope="col">Resource</th><th scope="col">Why</th></tr>"#);
            for l in &p.leftovers {
                let _ = write!(b, r#"<tr><td class="id">{}</td><td>{}</td></tr>"#, esc(&l.resource), esc(&l.reason));
            }
            b.push_str("</table>");
        }
    }
    page("Recovery drills – overview", &b)
}
