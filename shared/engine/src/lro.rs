//! Long-running operations as data.
//!
//! Starting an operation gives a serialisable [`PendingOperation`]; [`step`] polls it once and says what
//! happened. The intake stores the pending operation in its record and the tracker calls `step` on its next
//! tick, so no process waits on Azure. [`await_done`] loops `step` for in-process use (the CLI, drills).
//!
//! Protocol decisions (azure-backup-rest.md §5):
//! * `Azure-AsyncOperation` is preferred over `Location` (as azure-core's ARM polling does); the `Location` URL
//!   is kept for the final GET Data Protection needs to learn the job id (`operationResults` → `jobId`).
//! * Statuses are compared case-insensitively; `Canceled` and `Cancelled` are both failures; anything that is
//!   not terminal (including `Inprogress`) is still running.
//! * 200/201/202/204 are accepted on polls; with `Location` polling, 202 means running and anything else done.
//! * **Header URLs keep their api-version** (Python's behaviour, and az CLI's). Recovery Services answers with
//!   old api-versions (2016-12-01, 2019-05-13) in its own headers; those are the versions its status endpoints
//!   were written for, and re-pinning (.NET's behaviour) buys nothing but risk. Only a URL with no
//!   `api-version` at all gets the provider's current one, because ARM rejects such a request.
//! * Delay: `Retry-After` (seconds or HTTP-date, also `retry-after-ms`) when Azure sends it, clamped to
//!   [100 ms, 10 min] (100 ms, not 1 s: the emulator's accelerated clock sends sub-second `retry-after-ms`, and
//!   Azure never sends less than a second); otherwise 2, 4, 8, 16, then every 30 s. The SDKs wait a flat 30 s without a header; a
//!   restore's operation usually resolves to a job within seconds, so starting short gets the job id to the
//!   record sooner while the cap keeps a slow operation at the SDKs' rate.

use std::time::Duration;

use azure_core::http::Method;
use azure_core::http::headers::{HeaderName, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use restore_models::wire::{OperationState, OperationStatusBody};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::client::{ArmClient, CallError, decode};
use crate::error::AzureError;
use crate::pipeline::{ArmPipeline, ArmResponse, Retry};

/// Which API family the operation belongs to (decides the api-version added to a bare header URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Provider {
    /// Microsoft.DataProtection (Backup vaults).
    DataProtection,
    /// Microsoft.RecoveryServices (Recovery Services vaults).
    RecoveryServices,
    /// The Recovery Services Cross Region Restore passive stamp.
    RecoveryServicesCrr,
}

impl Provider {
    fn api_version(self) -> &'static str {
        match self {
            Provider::DataProtection => restore_models::dataprotection::API_VERSION,
            Provider::RecoveryServices => restore_models::recoveryservices::API_VERSION,
            Provider::RecoveryServicesCrr => restore_models::crr::API_VERSION,
        }
    }
}

/// Which response header the poll URL came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PollHeader {
    /// `Azure-AsyncOperation`: a status resource with `status`.
    AzureAsyncOperation,
    /// `Location`: 202 while running, then the result.
    Location,
}

/// What the final result must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Expect {
    /// A job id (restore triggers): success without one is an error.
    JobId,
    /// Completion only (validations, protection changes).
    Completion,
}

/// A long-running operation Azure accepted, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingOperation {
    /// API family.
    pub provider: Provider,
    /// The header [`Self::poll_url`] came from.
    pub header: PollHeader,
    /// The URL polled next (already checked against the allowed origins).
    pub poll_url: String,
    /// The `Location` URL, for the final GET after an `Azure-AsyncOperation` success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_url: Option<String>,
    /// What the final result must contain.
    pub expect: Expect,
    /// When Azure accepted the operation.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When to poll next.
    #[serde(with = "time::serde::rfc3339")]
    pub next_poll_at: OffsetDateTime,
    /// Polls made so far.
    pub polls: u32,
    /// The last status Azure reported, for progress display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
}

/// The outcome of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Still running; poll again at this time.
    Pending {
        /// When to poll next.
        next_poll_at: OffsetDateTime,
    },
    /// Done. `job_id` is the job GUID (normalised from a full ARM id or a bare GUID) when Azure reported one.
    Succeeded {
        /// The job GUID.
        job_id: Option<String>,
    },
    /// Azure reports the operation failed or was cancelled.
    Failed(AzureError),
}

impl PendingOperation {
    /// Reads a 201/202 answer. Fails when there is no poll header or a header URL points outside the allowed
    /// origins (the operation was accepted, so the caller must record that it cannot follow it).
    pub fn from_response(
        pipeline: &ArmPipeline,
        what: &str,
        response: &ArmResponse,
        provider: Provider,
        expect: Expect,
        now: OffsetDateTime,
    ) -> Result<Self, CallError> {
        let checked = |name: &str| -> Result<Option<String>, CallError> {
            match response.header(name) {
                Some(text) => Ok(Some(with_api_version(pipeline.check_url(name, text)?, provider).into())),
                None => Ok(None),
            }
        };
        let async_operation = checked("Azure-AsyncOperation")?;
        let location = checked("Location")?;
        let (header, poll_url) = match (&async_operation, &location) {
            (Some(url), _) => (PollHeader::AzureAsyncOperation, url.clone()),
            (None, Some(url)) => (PollHeader::Location, url.clone()),
            (None, None) => {
                return Err(CallError::Unexpected {
                    what: what.into(),
                    message: format!(
                        "Azure accepted the request (HTTP {}) but sent neither Azure-AsyncOperation nor Location",
                        response.status
                    ),
                });
            }
        };
        Ok(PendingOperation {
            provider,
            header,
            poll_url,
            location_url: location,
            expect,
            started_at: now,
            next_poll_at: now + delay(response, 0),
            polls: 0,
            last_status: None,
        })
    }
}

/// Adds the provider's api-version to a header URL that has none (see the module notes).
fn with_api_version(mut url: Url, provider: Provider) -> Url {
    if !url.query_pairs().any(|(k, _)| k.eq_ignore_ascii_case("api-version")) {
        url.query_pairs_mut().append_pair("api-version", provider.api_version());
    }
    url
}

/// The job id in an operation's body (`properties.jobId`, `properties.jobIds[0]` or a top-level `jobId`), as a
/// GUID: the one reader of it, for operation statuses, final results and synchronous trigger answers.
pub fn job_id_in(body: &serde_json::Value) -> Option<String> {
    OperationStatusBody::deserialize(body).ok()?.job_id()
}

/// Azure's `Retry-After` in `headers` (`x-ms-retry-after-ms`, `retry-after-ms`, or `Retry-After` in seconds or
/// as an HTTP-date), read by azure_core's parser: the one reader for the LROs and the ARM budget.
pub fn retry_after(headers: &azure_core::http::headers::Headers) -> Option<Duration> {
    let names: [HeaderName; 3] = [X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER];
    azure_core::http::policies::get_retry_after(headers, OffsetDateTime::now_utc, &names)
        .and_then(|d| u64::try_from(d.whole_milliseconds()).ok())
        .map(Duration::from_millis)
}

/// The delay before the next poll: Azure's `Retry-After` if given, else the backoff schedule.
fn delay(response: &ArmResponse, polls: u32) -> Duration {
    match retry_after(&response.headers) {
        Some(d) => d.clamp(Duration::from_millis(100), Duration::from_secs(600)),
        None => backoff(polls),
    }
}

/// 2, 4, 8, 16, then 30 s.
pub fn backoff(polls: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(polls.saturating_add(1)).min(30))
}

/// Polls `op` once. On [`Step::Pending`] the operation's `next_poll_at`, `polls` and `last_status` are updated
/// for the caller to store.
pub async fn step(client: &ArmClient, op: &mut PendingOperation, now: OffsetDateTime) -> Result<Step, CallError> {
    let ctx = azure_core::http::Context::new();
    let url = client.pipeline().check_url("poll URL", &op.poll_url)?;
    let response = client.call(&ctx, Method::Get, url, None, Retry::Safe).await?;
    op.polls = op.polls.saturating_add(1);
    match op.header {
        PollHeader::AzureAsyncOperation => {
            let body: OperationStatusBody = decode("operation status", &response.body)?;
            op.last_status = body.status.clone();
            match body.state() {
                OperationState::Succeeded => {
                    let job_id = body.job_id();
                    match (&job_id, op.expect, op.location_url.clone()) {
                        // Data Protection reports the job id only on the final GET of `Location`.
                        (None, Expect::JobId, Some(location)) => {
                            op.header = PollHeader::Location;
                            op.poll_url = location;
                            Box::pin(step(client, op, now)).await
                        }
                        _ => finish(op, job_id),
                    }
                }
                OperationState::Failed | OperationState::Canceled => Ok(Step::Failed(operation_error(&body))),
                _ => Ok(pending(op, &response, now)),
            }
        }
        PollHeader::Location => {
            if response.status == 202 {
                op.last_status = Some("InProgress".into());
                return Ok(pending(op, &response, now));
            }
            let body: OperationStatusBody = if response.body.is_empty() {
                OperationStatusBody::default()
            } else {
                decode("operation result", &response.body)?
            };
            finish(op, body.job_id())
        }
    }
}

fn finish(op: &PendingOperation, job_id: Option<String>) -> Result<Step, CallError> {
    if job_id.is_none() && op.expect == Expect::JobId {
        return Err(CallError::Unexpected {
            what: "operation result".into(),
            message: format!("the operation at {} succeeded without reporting a job id", redact(&op.poll_url)),
        });
    }
    Ok(Step::Succeeded { job_id })
}

fn pending(op: &mut PendingOperation, response: &ArmResponse, now: OffsetDateTime) -> Step {
    op.next_poll_at = now + delay(response, op.polls);
    Step::Pending { next_poll_at: op.next_poll_at }
}

fn operation_error(body: &OperationStatusBody) -> AzureError {
    let detail = body.error.clone().unwrap_or_default();
    let mut error = AzureError::from_cloud_error(0, &restore_models::error::CloudError { error: detail });
    if error.code.is_empty() || error.code == "Http0" {
        error.code = format!("Operation{}", body.status.as_deref().unwrap_or("Failed"));
    }
    error
}

/// A URL without its query, for messages.
fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Why [`await_done`] stopped without an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwaitError {
    /// A poll failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The deadline passed first.
    #[error("the operation was still running after {0:?}")]
    TimedOut(Duration),
}

/// Loops [`step`] until the operation ends or `deadline` passes, sleeping as Azure asks. `progress` is called
/// after every poll that is still pending (for a progress display).
pub async fn await_done(
    client: &ArmClient,
    mut op: PendingOperation,
    deadline: Duration,
    mut progress: impl FnMut(&PendingOperation),
) -> Result<Step, AwaitError> {
    let started = tokio::time::Instant::now();
    loop {
        let now = OffsetDateTime::now_utc();
        if op.next_poll_at > now {
            let wait = Duration::try_from(op.next_poll_at - now).unwrap_or_default();
            if started.elapsed() + wait > deadline {
                return Err(AwaitError::TimedOut(deadline));
            }
            tokio::time::sleep(wait).await;
        }
        match step(client, &mut op, OffsetDateTime::now_utc()).await? {
            Step::Pending { .. } => progress(&op),
            done => return Ok(done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        let secs: Vec<u64> = (0..7).map(|p| backoff(p).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX).as_secs(), 30);
    }

    #[test]
    fn header_urls_keep_their_api_version_and_bare_ones_get_the_providers() {
        let old = Url::parse("https://h/x/operationsStatus/1?api-version=2019-05-13").unwrap();
        assert_eq!(with_api_version(old.clone(), Provider::RecoveryServices), old);
        let bare = Url::parse("https://h/x/operationStatus/1").unwrap();
        let pinned = with_api_version(bare, Provider::DataProtection);
        assert_eq!(
            pinned.query(),
            Some(format!("api-version={}", restore_models::dataprotection::API_VERSION).as_str())
        );
    }

    #[test]
    fn job_ids_are_normalised_from_arm_ids_guids_and_lists() {
        let read = |json: &str| serde_json::from_str::<OperationStatusBody>(json).unwrap().job_id();
        let guid = "c4bd49a1-0000-4000-8000-000000000001";
        let full = format!(
            r#"{{"properties":{{"jobId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/{guid}"}}}}"#
        );
        assert_eq!(read(&full).as_deref(), Some(guid));
        assert_eq!(read(&format!(r#"{{"properties":{{"jobId":"{guid}"}}}}"#)).as_deref(), Some(guid));
        assert_eq!(read(&format!(r#"{{"properties":{{"jobIds":["{guid}"]}}}}"#)).as_deref(), Some(guid));
        assert_eq!(read(r#"{"properties":{"jobId":""}}"#), None);
        assert_eq!(read(r#"{"status":"Succeeded"}"#), None);
        // Data Protection's final Location GET: OperationJobExtendedInfo with the job id at the top level.
        let top = format!(r#"{{"objectType":"OperationJobExtendedInfo","jobId":"{guid}"}}"#);
        assert_eq!(read(&top).as_deref(), Some(guid));
    }

    #[test]
    fn failed_operations_keep_azures_code_or_name_the_status() {
        let body: OperationStatusBody =
            serde_json::from_str(r#"{"status":"Failed","error":{"code":"UserErrorDiskAlreadyExists","message":"m"}}"#)
                .unwrap();
        assert_eq!(operation_error(&body).code, "UserErrorDiskAlreadyExists");
        let bare: OperationStatusBody = serde_json::from_str(r#"{"status":"Canceled"}"#).unwrap();
        assert_eq!(operation_error(&bare).code, "OperationCanceled");
    }
}
