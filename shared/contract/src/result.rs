//! The restore result, contract v1: what the requester gets back.
//!
//! A result may be published more than once (the tracker publishes, then crashes before recording that it did;
//! Service Bus redelivers): consumers dedupe on `requestId` + `status`. An `Accepted` result may precede the
//! terminal one; exactly one terminal status is reached per request.

use crate::reason::ReasonCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::request::{ContractVersion, OperationKind, RequestError};
use crate::schema;
use crate::timestamp::Timestamp;

/// A restore result: the body of a result message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "RestoreResult", description = "Restore result, message contract v1. See docs/contract.md.")]
pub struct RestoreResult {
    /// Contract version; "1".
    pub version: ContractVersion,
    /// The request's idempotency key; consumers dedupe on it (a result may be published more than once).
    pub request_id: String,
    /// The request's `source.reference`, for correlation (absent when the message could not be parsed that far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_reference: Option<String>,
    /// The operation kind, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<OperationKind>,
    /// Where the request stands.
    pub status: ResultStatus,
    /// Why, for `Rejected` and `NeedsAttention` (and for `Failed` when the failure is ours, not Azure's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What Azure said: the job and, on failure, its error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureOutcome>,
    /// ARM ids of what the restore created or changed (new disks, the new VM, the backup instance).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<schema::ResourceIdSchema>")]
    pub restored_resource_ids: Vec<String>,
    /// Files the restore left in the staging storage account (a Recovery Services restore-disks job's VM
    /// config and template), as Azure named them. They carry no tags and are not deleted by the product
    /// outside drills: delete them when the disks are no longer needed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staging_files: Vec<String>,
    /// When things happened.
    #[serde(default)]
    pub timings: Timings,
    /// The outcome of validation (policy and Azure's own validate call), for `Validated` answers and rejections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// The tags put on what the restore created (the request's `options.tags` with the policy's tags winning),
    /// applied after the job ended: Azure's restore requests take no tags. A failed tag write is reported here
    /// and does not fail the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagging: Option<Tagging>,
}

/// Tags applied to restored resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tagging {
    /// The tags (merged into each resource's existing tags).
    pub tags: std::collections::BTreeMap<String, String>,
    /// Resources now carrying them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tagged: Vec<String>,
    /// Resources that could not be tagged, with Azure's error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<TagFailure>,
}

/// A resource that could not be tagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagFailure {
    /// The resource.
    pub resource_id: String,
    /// Why (Azure's error, or why the id was not used).
    pub error: String,
}

/// Where a request stands.
///
/// `Validated` answers a `validateOnly` request that passed: it is terminal and distinct from `Succeeded` so a
/// consumer can never mistake a dry run for a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ResultStatus {
    /// Triggered in Azure; a terminal result follows. Not terminal.
    Accepted,
    /// The Azure job completed (including CompletedWithWarnings; see `azure.jobStatus`).
    Succeeded,
    /// The Azure job or operation failed; see `azure`.
    Failed,
    /// Refused before any Azure write (validation or policy); see `reason`.
    Rejected,
    /// The request's deadline passed before the operation ended.
    TimedOut,
    /// The Azure job was cancelled.
    Cancelled,
    /// The outcome cannot be decided safely (e.g. a crash between write-ahead and trigger that could not be
    /// reconciled); an operator must look. Never retried automatically.
    NeedsAttention,
    /// A `validateOnly` request passed every check; nothing was triggered.
    Validated,
}

impl ResultStatus {
    /// Whether no further result follows.
    pub fn is_terminal(self) -> bool {
        !matches!(self, ResultStatus::Accepted)
    }
}

/// Why a request was rejected or needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reason {
    /// Stable code: `request.*` (contract), `policy.*` (policy), one of the product's own, or Azure's.
    pub code: ReasonCode,
    /// JSON path of the offending request field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The contract or policy rule that refused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl From<&RequestError> for Reason {
    fn from(e: &RequestError) -> Self {
        Reason {
            code: ReasonCode::Request(e.code().to_string()),
            field: e.field.clone(),
            rule: e.rule.map(str::to_string),
            message: e.message.clone(),
            fix: Some(e.fix.clone()),
        }
    }
}

/// What Azure said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureOutcome {
    /// The backup job id (ARM id or GUID, as Azure gave it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The job status as Azure spelled it (`Completed`, `CompletedWithWarnings`, `Failed`, `Cancelled`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    /// Azure's error code (e.g. `UserErrorSameNameDiskAlreadyExists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Azure's error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Azure's recommended action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_action: Option<String>,
}

/// When things happened. `restoreSeconds` = jobEndedAt − jobStartedAt (the measured restore time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timings {
    /// The intake received the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// The restore was triggered in Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<Timestamp>,
    /// The Azure job started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_started_at: Option<Timestamp>,
    /// The Azure job ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ended_at: Option<Timestamp>,
    /// Job duration in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_seconds: Option<u64>,
}

impl Timings {
    /// Sets the job times and derives `restoreSeconds` (never negative).
    pub fn with_job(mut self, started: Timestamp, ended: Timestamp) -> Self {
        let secs = (ended.get() - started.get()).whole_seconds().max(0);
        self.job_started_at = Some(started);
        self.job_ended_at = Some(ended);
        self.restore_seconds = u64::try_from(secs).ok();
        self
    }
}

/// The outcome of validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Validation {
    /// Policy allowed the request.
    pub policy_passed: bool,
    /// Azure's validate call passed (`None`: not run, e.g. rejected before it or no such call for the kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_passed: Option<bool>,
    /// The recovery point that was (or would be) used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// Messages from the validation (Azure's validation results, warnings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}

impl RestoreResult {
    /// A result with nothing but the identity and status filled in.
    pub fn new(request_id: impl Into<String>, status: ResultStatus) -> Self {
        RestoreResult {
            version: ContractVersion::V1,
            request_id: request_id.into(),
            source_reference: None,
            kind: None,
            status,
            reason: None,
            azure: None,
            restored_resource_ids: Vec::new(),
            staging_files: Vec::new(),
            timings: Timings::default(),
            validation: None,
            tagging: None,
        }
    }

    /// The `Rejected` result for a request that failed to parse or validate.
    pub fn rejected(request_id: impl Into<String>, error: &RequestError) -> Self {
        RestoreResult { reason: Some(Reason::from(error)), ..Self::new(request_id, ResultStatus::Rejected) }
    }
}
