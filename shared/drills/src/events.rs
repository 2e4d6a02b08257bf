//! The drill function's events: one JSON object per stdout line, which the Functions host passes to Application
//! Insights as `traces` message text (no custom dimensions). The alert rules in infra/modules/drill-alerts.bicep
//! parse these lines; docs/drills.md ("Events and alerts") lists them. Every line starts with `{"event":"drill.`
//! so a query can select them cheaply before parsing.

use serde_json::{Map, Value, json};

use crate::result::{RunOutcome, Signal};

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// A tick began (the heartbeat).
    Tick,
    /// A run became due.
    RunDue {
        /// Plan name.
        plan: &'a str,
        /// Run id.
        run_id: &'a str,
        /// Scheduled time (RFC 3339).
        scheduled_at: &'a str,
        /// When its start window closes (RFC 3339).
        window_closes_at: &'a str,
    },
    /// A run started.
    RunStarted {
        /// Plan name.
        plan: &'a str,
        /// Run id.
        run_id: &'a str,
        /// Items selected.
        items: usize,
    },
    /// A run ended.
    RunEnded {
        /// Plan name.
        plan: &'a str,
        /// Run id.
        run_id: &'a str,
        /// Its outcome.
        outcome: RunOutcome,
    },
    /// A signal was raised.
    Signal {
        /// Plan name.
        plan: &'a str,
        /// Run id.
        run_id: &'a str,
        /// The signal (its `kind` and fields go on the line).
        signal: &'a Signal,
    },
}

impl Event<'_> {
    /// The line to write: `{"event":"drill.…",…}`, no newline inside.
    pub fn line(&self) -> String {
        let (name, mut fields) = match self {
            Event::Tick => ("drill.tick", Map::new()),
            Event::RunDue { plan, run_id, scheduled_at, window_closes_at } => (
                "drill.runDue",
                object(
                    json!({"plan": plan, "runId": run_id, "scheduledAt": scheduled_at, "windowClosesAt": window_closes_at}),
                ),
            ),
            Event::RunStarted { plan, run_id, items } => {
                ("drill.runStarted", object(json!({"plan": plan, "runId": run_id, "items": items})))
            }
            Event::RunEnded { plan, run_id, outcome } => {
                ("drill.runEnded", object(json!({"plan": plan, "runId": run_id, "outcome": outcome})))
            }
            Event::Signal { plan, run_id, signal } => {
                let mut f = object(serde_json::to_value(signal).unwrap_or(Value::Null));
                f.insert("plan".into(), json!(plan));
                f.insert("runId".into(), json!(run_id));
                ("drill.signal", f)
            }
        };
        // `event` first, so every line starts with the prefix the queries filter on (serde_json's map sorts
        // its keys, and a signal's `deadline` would sort before `event`).
        fields.remove("event");
        let rest = Value::Object(fields).to_string();
        match rest.strip_prefix('{').filter(|r| *r != "}") {
            Some(rest) => format!(r#"{{"event":"{name}",{rest}"#),
            None => format!(r#"{{"event":"{name}"}}"#),
        }
    }

    /// Writes the line to stdout.
    pub fn emit(&self) {
        println!("{}", self.line());
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_with_the_prefix_the_alert_queries_filter_on() {
        let signal: Signal = serde_json::from_value(
            json!({"kind": "cleanupIncomplete", "resources": [{"resource": "/x", "reason": "409"}]}),
        )
        .unwrap();
        let late: Signal = serde_json::from_value(
            json!({"kind": "lateRun", "deadline": "2026-12-05T08:30:00Z", "endedAt": "2026-12-05T09:00:00Z"}),
        )
        .unwrap();
        let lines = [
            Event::Tick.line(),
            Event::RunDue { plan: "p", run_id: "p.1", scheduled_at: "t", window_closes_at: "u" }.line(),
            Event::RunStarted { plan: "p", run_id: "p.1", items: 2 }.line(),
            Event::RunEnded { plan: "p", run_id: "p.1", outcome: RunOutcome::Partial }.line(),
            Event::Signal { plan: "p", run_id: "p.1", signal: &signal }.line(),
            Event::Signal { plan: "p", run_id: "p.1", signal: &late }.line(),
        ];
        for line in &lines {
            assert!(line.starts_with(r#"{"event":"drill."#), "{line}");
            assert!(!line.contains('\n'));
        }
        let ended: Value = serde_json::from_str(&lines[3]).unwrap();
        assert_eq!(ended["outcome"], "Partial");
        let s: Value = serde_json::from_str(&lines[4]).unwrap();
        assert_eq!(
            (s["event"].as_str(), s["kind"].as_str(), s["runId"].as_str()),
            (Some("drill.signal"), Some("cleanupIncomplete"), Some("p.1"))
        );
    }
}
