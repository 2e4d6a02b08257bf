//! Percentiles and the printed table.

use std::time::Duration;

use serde_json::{Value, json};

/// Percentiles of a set of durations (nearest rank).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub n: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        let rank = |p: f64| {
            let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i]
        };
        let total: Duration = sorted.iter().sum();
        Stats {
            n: sorted.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            mean: total / sorted.len() as u32,
        }
    }

    pub fn json_ms(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        json!({"n": self.n, "p50": ms(self.p50), "p90": ms(self.p90), "p99": ms(self.p99), "max": ms(self.max), "mean": ms(self.mean)})
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub measured: String,
    pub target: String,
    /// `None`: informational, no target applies.
    pub met: Option<bool>,
}

impl Row {
    pub fn new(what: String, measured: String, target: &str, met: Option<bool>) -> Row {
        Row { what, measured, target: target.to_string(), met }
    }

    fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "–",
        }
    }

    pub fn json(&self) -> Value {
        json!({"what": self.what, "measured": self.measured, "target": self.target, "met": self.met})
    }
}

/// A Markdown table (readable in a terminal, pasteable into the README).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| figure | measured | target (DESIGN §7) | |\n|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!("| {} | {} | {} | {} |\n", r.what, r.measured, r.target, r.verdict()));
    }
    out
}
