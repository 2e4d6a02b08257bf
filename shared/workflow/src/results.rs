//! Restore results built from records, so the intake and the tracker answer the same way.

use restore_contract::reason::ReasonCode;
use restore_contract::request::OperationKind;
use restore_contract::result::{AzureOutcome, Reason, RestoreResult, ResultStatus, Timings};
use restore_contract::timestamp::Timestamp;
use restore_engine::error::AzureError;
use restore_store::{Record, State};

/// The result status a record's state answers with (`None` while it is still on its way: no result yet).
pub fn status_of(record: &Record) -> Option<ResultStatus> {
    Some(match record.state {
        State::Received | State::Planned | State::Triggering => return None,
        State::Accepted | State::Running => ResultStatus::Accepted,
        State::Succeeded => ResultStatus::Succeeded,
        State::Failed => ResultStatus::Failed,
        State::Rejected => ResultStatus::Rejected,
        State::TimedOut => ResultStatus::TimedOut,
        State::Cancelled => ResultStatus::Cancelled,
        State::NeedsAttention => ResultStatus::NeedsAttention,
    })
}

/// The reason a record stores for `code`: the store keeps codes as their string form (it knows no contract), so
/// every code is written through here from a [`ReasonCode`] and read back with [`ReasonCode::parse`].
pub fn stored_reason(code: &ReasonCode, message: &str) -> restore_store::Reason {
    restore_store::Reason { code: code.to_string(), message: message.to_string() }
}

/// The result for `record` in `status`, with its timings, job and reason.
pub fn result_for(record: &Record, status: ResultStatus) -> RestoreResult {
    let mut result = RestoreResult::new(record.request_id.clone(), status);
    result.source_reference = record.source_reference.clone();
    result.kind = OperationKind::from_name(&record.kind);
    result.reason = record.reason.as_ref().map(|r| Reason {
        code: ReasonCode::parse(&r.code),
        field: None,
        rule: None,
        message: r.message.clone(),
        fix: None,
    });
    let mut timings = Timings {
        received_at: Some(Timestamp(record.received_at)),
        triggered_at: record.triggered_at.map(Timestamp),
        ..Default::default()
    };
    match (record.job_started_at, record.job_ended_at) {
        (Some(start), Some(end)) => timings = timings.with_job(Timestamp(start), Timestamp(end)),
        (Some(start), None) => timings.job_started_at = Some(Timestamp(start)),
        _ => {}
    }
    result.timings = timings;
    if record.job_id.is_some() {
        result.azure = Some(AzureOutcome { job_id: record.job_id.clone(), ..Default::default() });
    }
    result
}

/// Adds Azure's error to a result.
pub fn with_azure_error(mut result: RestoreResult, error: &AzureError) -> RestoreResult {
    let mut azure = result.azure.take().unwrap_or_default();
    azure.error_code = Some(error.code.clone());
    azure.error_message = Some(error.message.clone());
    if !error.recommended_action.is_empty() {
        azure.recommended_action = Some(error.recommended_action.join(" "));
    }
    result.azure = Some(azure);
    result
}
