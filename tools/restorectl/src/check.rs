//! The checks the intake makes on a message before it calls Azure, in the intake's order
//! (`restore_workflow::intake`): size limit and classification (`classify_with_limit` with the policy's
//! `maxMessageBytes`), alert mapping through the policy's alert rules, the request id, the time checks, and
//! `Policy::check` with no restore running in the vault. The reasons are the ones the intake puts in its
//! `Rejected` result, so what `validate` says is what the sender would get back.
//!
//! Not checked offline: anything that needs Azure or the store (recovery points, Azure's own validation, a
//! duplicate request id, the vault's concurrency slots).

use restore_contract::ReasonCode;
use restore_contract::alert::rules::alert_request_id;
use restore_contract::result::Reason;
use restore_contract::{
    AlertOutcome, Incoming, Policy, RequestErrorKind, RestoreRequest, classify_with_limit, map_alert,
};
use time::OffsetDateTime;

/// What the intake would do with a message, as far as can be known offline.
#[derive(Debug)]
pub enum Verdict {
    /// It passes every offline check: the intake would go on to plan and validate it with Azure.
    Passes {
        /// The request (for an alert, the one its rule builds).
        request: Box<RestoreRequest>,
        /// Whether it came from an alert.
        from_alert: bool,
    },
    /// A resolved alert: the intake answers it and starts nothing. Not an error.
    NothingToDo {
        /// The request id the intake records it under.
        request_id: String,
        /// Why nothing happens.
        message: String,
    },
    /// The intake would answer `Rejected` with this reason.
    Rejected(Reason),
}

/// Checks a message body against the contract and `policy` at `now`.
pub fn check(body: &[u8], policy: &Policy, now: OffsetDateTime) -> Verdict {
    let (request, from_alert) = match classify_with_limit(body, policy.max_message_bytes) {
        Ok(Incoming::Request(request)) => (request, false),
        Ok(Incoming::Alert(alert)) => match map_alert(&alert, &policy.alert_rules) {
            AlertOutcome::Restore(request) => (request, true),
            AlertOutcome::Resolved { alert_id } => {
                return Verdict::NothingToDo {
                    request_id: format!("{}-resolved", alert_request_id(&alert_id)),
                    message: format!("alert {alert_id} resolved; nothing to restore"),
                };
            }
            AlertOutcome::Unmatched { why } => {
                return Verdict::Rejected(reason(ReasonCode::AlertUnmatched, format!("no alert rule matched: {why}")));
            }
            AlertOutcome::RuleFailed { rule, why } => {
                return Verdict::Rejected(reason(
                    ReasonCode::AlertRuleFailed,
                    format!("alert rule '{rule}' matched but cannot build a restore: {why}"),
                ));
            }
        },
        Err(error) => return Verdict::Rejected(Reason::from(&error)),
    };
    if let Some(id) = &request.request_id
        && let Some(problem) = restore_store::record::request_id_problem(id)
    {
        let error = restore_contract::RequestError::new(
            RequestErrorKind::InvalidValue,
            Some("requestId"),
            problem,
            "set requestId (or the Service Bus MessageId) to a short identifier",
        );
        return Verdict::Rejected(Reason::from(&error));
    }
    if let Some(refusal) = restore_workflow::intake::time_problem(&request, now) {
        return Verdict::Rejected(refusal);
    }
    // No restore is counted as running: offline there is no store to ask, and the concurrency limit only defers.
    if let Err(refusal) = policy.check(&request, 0) {
        return Verdict::Rejected(Reason::from(&refusal));
    }
    Verdict::Passes { request, from_alert }
}

fn reason(code: ReasonCode, message: String) -> Reason {
    Reason { code, field: None, rule: None, message, fix: None }
}
