//! Faults on demand: rules matched by route name and/or method that fire by probability or as a scripted
//! sequence. Faults apply before the request is processed, except `processThenHang`, which processes the
//! request (e.g. creates the job) and then withholds the response.

use serde::{Deserialize, Serialize};

use crate::util::random_unit;

/// One fault to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub enum FaultKind {
    /// No fault (a placeholder inside sequences).
    Pass,
    /// An HTTP error status (429, 500, 503, 504, …) with an ARM error body.
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After` seconds to send (none if absent).
        #[serde(default, rename = "retryAfter", skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// Close the TCP connection without a response.
    Reset,
    /// Wait this many real milliseconds, then process normally (to pass a client timeout).
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer 200 with a truncated JSON body, without processing.
    MalformedJson,
    /// Answer 200 with an empty body, without processing.
    EmptyBody,
    /// Hold the request unprocessed until released through the admin API (or `timeoutMs` passes), then process it.
    Hang {
        /// Real milliseconds after which the request proceeds anyway (default 60 000).
        #[serde(default, rename = "timeoutMs", skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Answer with exactly this status, these headers and this JSON body, without processing: for clients'
    /// handling of answers Azure should never give (an operation URL on another host, a `nextLink` elsewhere,
    /// a redirect).
    Respond {
        /// The status.
        status: u16,
        /// Response headers.
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        /// The JSON body (none: empty).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
    },
    /// Process the request, then withhold the response until released (or `timeoutMs`), then close the
    /// connection without answering: the client cannot know whether its write happened.
    ProcessThenHang {
        /// Real milliseconds to wait before giving up on a release (default 60 000).
        #[serde(default, rename = "timeoutMs", skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
}

/// A rule: which requests it matches and which faults it produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Route name (e.g. `dpp.restore`); `*` or absent matches every route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// HTTP method; absent matches every method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// With `fault`: the chance (0..=1) that a matching request gets it. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The fault for probability mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    /// A scripted sequence: the n-th matching request gets the n-th entry; the rule is spent afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Vec<FaultKind>>,
    /// How many times a probability rule may fire before it is spent (unlimited if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

impl FaultRule {
    /// Checks the rule is usable; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        match (&self.fault, &self.sequence) {
            (Some(_), Some(_)) => return Err("a fault rule has both 'fault' and 'sequence'; give one of them".into()),
            (None, None) => return Err("a fault rule needs 'fault' (with optional 'probability') or 'sequence'".into()),
            (None, Some(seq)) if seq.is_empty() => return Err("'sequence' is empty; list at least one fault".into()),
            _ => {}
        }
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("'probability' is {p}; it must be between 0 and 1"));
        }
        for k in self.fault.iter().chain(self.sequence.iter().flatten()) {
            if let FaultKind::Status { status, .. } = k
                && !(400..=599).contains(status)
            {
                return Err(format!("fault 'status' {status} is not an error status; use 400..=599"));
            }
        }
        Ok(())
    }

    fn matches(&self, route: &str, method: &str) -> bool {
        self.route.as_deref().is_none_or(|r| r == "*" || r.eq_ignore_ascii_case(route))
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

#[derive(Debug, Clone, Serialize)]
struct ActiveRule {
    #[serde(flatten)]
    rule: FaultRule,
    /// Matching requests seen so far.
    fired: u64,
}

/// The rule set.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<ActiveRule>,
}

impl Faults {
    /// Adds a rule after validating it.
    pub fn add(&mut self, rule: FaultRule) -> Result<(), String> {
        rule.validate()?;
        self.rules.push(ActiveRule { rule, fired: 0 });
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules with their counters, for the admin API.
    pub fn list(&self) -> serde_json::Value {
        serde_json::to_value(&self.rules).unwrap_or_default()
    }

    /// Picks the fault for a request, advancing sequences. The first matching live rule decides.
    pub fn pick(&mut self, route: &str, method: &str) -> Option<FaultKind> {
        for active in self.rules.iter_mut() {
            if !active.rule.matches(route, method) {
                continue;
            }
            if let Some(seq) = &active.rule.sequence {
                let idx = active.fired as usize;
                if idx >= seq.len() {
                    continue; // spent
                }
                active.fired += 1;
                return Some(seq[idx].clone()).filter(|k| *k != FaultKind::Pass);
            }
            if active.rule.times.is_some_and(|t| active.fired >= t) {
                continue;
            }
            let p = active.rule.probability.unwrap_or(1.0);
            if p >= 1.0 || random_unit() < p {
                active.fired += 1;
                return active.rule.fault.clone().filter(|k| *k != FaultKind::Pass);
            }
            return None;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_then_spent() {
        let mut f = Faults::default();
        f.add(FaultRule {
            route: Some("dpp.restore".into()),
            method: None,
            probability: None,
            fault: None,
            sequence: Some(vec![FaultKind::Reset, FaultKind::Pass, FaultKind::EmptyBody]),
            times: None,
        })
        .unwrap();
        assert_eq!(f.pick("dpp.jobs.get", "GET"), None);
        assert_eq!(f.pick("dpp.restore", "POST"), Some(FaultKind::Reset));
        assert_eq!(f.pick("dpp.restore", "POST"), None);
        assert_eq!(f.pick("dpp.restore", "POST"), Some(FaultKind::EmptyBody));
        assert_eq!(f.pick("dpp.restore", "POST"), None);
    }

    #[test]
    fn probability_zero_never_fires_and_validation() {
        let mut f = Faults::default();
        let rule = FaultRule {
            route: None,
            method: Some("GET".into()),
            probability: Some(0.0),
            fault: Some(FaultKind::Status { status: 500, retry_after: None }),
            sequence: None,
            times: None,
        };
        f.add(rule.clone()).unwrap();
        for _ in 0..50 {
            assert_eq!(f.pick("x", "GET"), None);
        }
        let bad = FaultRule { probability: Some(2.0), ..rule.clone() };
        assert!(bad.validate().unwrap_err().contains("probability"));
        let bad = FaultRule { fault: Some(FaultKind::Status { status: 200, retry_after: None }), ..rule };
        assert!(bad.validate().unwrap_err().contains("status"));
    }
}
