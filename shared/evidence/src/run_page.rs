//! The report page of one run: outcome and signals, the attestation, RTO per item against its target, then per
//! item its timeline, recovery point, checks with evidence, cleanup confirmations and Azure's error.

use std::fmt::Write as _;

use restore_contract::Timestamp;
use restore_drills::result::{ItemOutcome, RunOutcome, Signal};

use crate::html::{badge, data, esc, page};
use crate::pack::{EvidencePack, human_age, minutes};
use crate::svg::{Bar, rto_bars};

fn ts(t: Option<&Timestamp>) -> String {
    t.map(|t| esc(&t.to_string())).unwrap_or_else(|| r#"<span class="muted">—</span>"#.into())
}

fn outcome_text(o: Option<RunOutcome>) -> &'static str {
    match o {
        Some(RunOutcome::Passed) => "Passed",
        Some(RunOutcome::Failed) => "Failed",
        Some(RunOutcome::Partial) => "Partial",
        None => "Not run",
    }
}

fn item_outcome(o: ItemOutcome) -> &'static str {
    match o {
        ItemOutcome::Passed => "Passed",
        ItemOutcome::Failed => "Failed",
        ItemOutcome::Skipped => "Skipped",
    }
}

/// A short label for an item: its last id segment, and for a Recovery Services item (`VM;iaasvmcontainerv2;
/// rg;vm`) the VM's name.
pub fn short(item: &str) -> String {
    let last = item.rsplit('/').next().unwrap_or(item);
    last.rsplit(';').next().unwrap_or(last).to_string()
}

fn signal_text(s: &Signal) -> String {
    match s {
        Signal::MissedRun { window_closed_at } => {
            format!("Missed run: not started before its start window closed at {}", window_closed_at)
        }
        Signal::LateRun { deadline, ended_at } => {
            format!("Late run: ended {} after its completion window closed at {}", ended_at, deadline)
        }
        Signal::StuckRun { deadline } => {
            format!("Stuck run: not ended, completion window closed at {}", deadline)
        }
        Signal::CoverageBreach { within_days, items } => {
            format!("Coverage breach: {} item(s) not drilled within {within_days} days", items.len())
        }
        Signal::RtoOverTarget { item, measured_seconds, target_seconds } => format!(
            "RTO over target: {} took {} min against {} min",
            short(item.as_str()),
            minutes(*measured_seconds),
            minutes(*target_seconds)
        ),
        Signal::RtoRegression { item, measured_seconds, median_last_five_seconds } => format!(
            "RTO regression: {} took {} min, more than 1.5 × its median of {} min",
            short(item.as_str()),
            minutes(*measured_seconds),
            minutes(*median_last_five_seconds)
        ),
        Signal::CleanupIncomplete { resources } => format!("Cleanup incomplete: {} resource(s) left", resources.len()),
        Signal::PlanInvalid { code, message, .. } => format!("Plan invalid ({code}): {message}"),
    }
}

/// The page of one run.
pub fn render(pack: &EvidencePack) -> String {
    let run = &pack.run;
    let outcome = outcome_text(run.outcome);
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h1>Recovery drill {}</h1>
<p class="muted">Plan <strong>{}</strong> · run <code>{}</code> · report written {}</p>
<table><caption>Run</caption>
<tr><th scope="row">Outcome</th><td>{}</td></tr>
<tr><th scope="row">Scheduled</th><td>{}</td></tr>
<tr><th scope="row">Started</th><td>{}</td></tr>
<tr><th scope="row">Ended</th><td>{}</td></tr>
<tr><th scope="row">Items</th><td class="num">{}</td></tr>
<tr><th scope="row">Restored</th><td class="num">{} GiB</td></tr>
</table>"#,
        esc(outcome),
        esc(&run.plan),
        esc(&run.run_id),
        esc(&pack.generated_at.to_string()),
        badge(outcome),
        esc(&run.scheduled_at.to_string()),
        ts(run.started_at.as_ref()),
        ts(run.ended_at.as_ref()),
        data("/run/items/length", run.items.len(), &run.items.len().to_string()),
        {
            let gib: u64 = pack.items.iter().filter_map(|e| e.restored_gib).sum();
            data("derived:restoredGiB", gib, &gib.to_string())
        },
    );

    b.push_str("<h2>Signals</h2>");
    if run.signals.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<ul>");
        for s in &run.signals {
            let _ = write!(b, "<li>{}</li>", esc(&signal_text(s)));
        }
        b.push_str("</ul>");
        let leftovers: Vec<_> = run
            .signals
            .iter()
            .filter_map(|s| match s {
                Signal::CleanupIncomplete { resources } => Some(resources),
                _ => None,
            })
            .flatten()
            .collect();
        if !leftovers.is_empty() {
            b.push_str(r#"<table><caption>Leftover resources</caption><tr><th scope="col">Resource</th><th scope="col">Why</th></tr>"#);
            for l in leftovers {
                let _ = write!(b, r#"<tr><td class="id">{}</td><td>{}</td></tr>"#, esc(&l.resource), esc(&l.reason));
            }
            b.push_str("</table>");
        }
    }

    b.push_str("<h2>What was verified</h2>");
    for (i, statement) in pack.attestation.iter().enumerate() {
        let _ = write!(b, r#"<blockquote data-pointer="/attestation/{i}">{}</blockquote>"#, esc(statement));
    }
    if pack.attestation.is_empty() {
        b.push_str("<p>No item was drilled in this run.</p>");
    }

    if !run.items.is_empty() {
        b.push_str("<h2>Restore time against target</h2>");
        let bars: Vec<Bar> = run
            .items
            .iter()
            .map(|r| Bar { label: short(r.item.as_str()), value: r.rto.measured_seconds, target: r.rto.target_seconds })
            .collect();
        b.push_str(&rto_bars("Measured RTO per item against its target", &bars));
        b.push_str(
            r#"<table><caption>RTO per item</caption><tr><th scope="col">Item</th><th scope="col">Outcome</th><th scope="col" class="num">RTO (min)</th><th scope="col" class="num">Target (min)</th><th scope="col">Verdict</th></tr>"#,
        );
        for (i, r) in run.items.iter().enumerate() {
            let measured = match r.rto.measured_seconds {
                Some(s) => data(&format!("/run/items/{i}/rto/measuredSeconds"), s, &minutes(s)),
                None => "—".into(),
            };
            let verdict = match (r.rto.measured_seconds, r.rto.over_target, r.rto.regression) {
                (None, _, _) => "not usable",
                (_, true, _) => "over target",
                (_, _, true) => "regression",
                _ => "met",
            };
            let _ = write!(
                b,
                r#"<tr><th scope="row" class="id">{}</th><td>{}</td><td class="num">{measured}</td><td class="num">{}</td><td>{}</td></tr>"#,
                esc(&short(r.item.as_str())),
                badge(item_outcome(r.outcome)),
                data(
                    &format!("/run/items/{i}/rto/targetSeconds"),
                    r.rto.target_seconds,
                    &minutes(r.rto.target_seconds)
                ),
                badge(verdict),
            );
        }
        b.push_str("</table>");
    }

    for (i, r) in run.items.iter().enumerate() {
        let evidence = pack.evidence(&r.item);
        let _ = write!(
            b,
            r#"<h2>{} {}</h2><p class="id">{}</p>"#,
            esc(&short(r.item.as_str())),
            badge(item_outcome(r.outcome)),
            esc(r.item.as_str())
        );
        if r.source_missing {
            b.push_str(r#"<p><strong>The source disk or VM no longer exists:</strong> this drill shows whether it can be brought back.</p>"#);
        }
        if let Some(p) = &r.recovery_point {
            let age = evidence
                .and_then(|e| e.recovery_point_age_seconds)
                .map(|a| format!(", {} old at the scheduled time", human_age(a)))
                .unwrap_or_default();
            let _ = write!(
                b,
                "<p>Recovery point <code>{}</code> taken {}{}{}.</p>",
                esc(&p.name),
                esc(&p.time.to_string()),
                esc(&age),
                p.tier.map(|t| format!(", tier {t:?}")).map(|t| esc(&t)).unwrap_or_default()
            );
        }
        let t = &r.timeline;
        let _ = write!(
            b,
            r#"<table><caption>Timeline</caption><tr><th scope="col">Step</th><th scope="col">When (UTC)</th></tr>
<tr><th scope="row">Scheduled</th><td>{}</td></tr><tr><th scope="row">Restore accepted</th><td>{}</td></tr>
<tr><th scope="row">Azure job started</th><td>{}</td></tr><tr><th scope="row">Azure job ended</th><td>{}</td></tr>
<tr><th scope="row">Checks passed</th><td>{}</td></tr><tr><th scope="row">Cleaned up</th><td>{}</td></tr></table>"#,
            ts(t.scheduled.as_ref()),
            ts(t.triggered.as_ref()),
            ts(t.job_started.as_ref()),
            ts(t.job_ended.as_ref()),
            ts(t.checks_passed.as_ref()),
            ts(t.cleaned_up.as_ref()),
        );
        if let Some(f) = &r.failure {
            let _ = write!(
                b,
                r#"<p><strong>Failed at {:?}{}:</strong> {}{}</p>"#,
                f.stage,
                f.check.as_deref().map(|c| format!(" ({})", esc(c))).unwrap_or_default(),
                f.code.as_deref().map(|c| format!("<code>{}</code> ", esc(c))).unwrap_or_default(),
                esc(&f.message)
            );
        }
        if let Some(e) = evidence {
            let e_index = pack.items.iter().position(|x| x.item == e.item).unwrap_or(i);
            if !e.checks.is_empty() {
                b.push_str(r#"<table><caption>Checks</caption><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col" class="num">Took (ms)</th><th scope="col">Evidence (what was read)</th></tr>"#);
                for (c_index, c) in e.checks.iter().enumerate() {
                    let _ = write!(
                        b,
                        r#"<tr><th scope="row">{}</th><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                        esc(&c.name),
                        badge(if c.passed { "passed" } else { "failed" }),
                        data(
                            &format!("/items/{e_index}/checks/{c_index}/durationMs"),
                            c.duration_ms,
                            &c.duration_ms.to_string()
                        ),
                        esc(&c.evidence)
                    );
                }
                b.push_str("</table>");
            }
            if !e.cleanup.is_empty() {
                b.push_str(r#"<table><caption>Cleanup</caption><tr><th scope="col">Resource</th><th scope="col">State</th><th scope="col">Confirmed gone (UTC)</th></tr>"#);
                for c in &e.cleanup {
                    let state = if c.deleted {
                        "deleted".to_string()
                    } else {
                        c.detail.clone().unwrap_or_else(|| "pending".into())
                    };
                    let _ = write!(
                        b,
                        r#"<tr><td class="id">{}</td><td>{}</td><td>{}</td></tr>"#,
                        esc(&c.resource),
                        if c.deleted { badge("deleted") } else { format!("{} {}", badge("pending"), esc(&state)) },
                        ts(c.confirmed_at.as_ref())
                    );
                }
                b.push_str("</table>");
            }
        }
    }
    page(&format!("Drill {} – {outcome}", run.run_id), &b)
}
