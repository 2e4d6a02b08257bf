//! ARM-shaped errors and the emulator's response type.
//!
//! Error bodies are built from `restore_models::error`: [`CloudError`] / [`ErrorDetail`], with the Data
//! Protection [`UserFacingError`] in `additionalInfo[0].info` for the DPP dialect.

use std::collections::BTreeMap;

use restore_models::error::{AdditionalInfo, CloudError, ErrorDetail, UserFacingError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A response the pipeline turns into HTTP.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl ApiResponse {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self { status: 200, headers: vec![], body: Some(body) }
    }
    /// 200 with a body serialised from a wire model.
    pub fn model<T: Serialize>(body: &T) -> Result<Self, ApiError> {
        Ok(Self::ok(to_body(body)?))
    }
    /// A status without a body.
    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: None }
    }
    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Which error dialect to speak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dialect {
    /// Microsoft.DataProtection: `UserFacingError` inside `additionalInfo`.
    Dpp,
    /// Everything else: plain `{error:{code,message,target,details,additionalInfo}}`.
    Arm,
}

/// An ARM error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Error code, e.g. `UserErrorSameNameDiskAlreadyExists`.
    pub code: String,
    /// Message.
    pub message: String,
    /// Dialect.
    pub dialect: Dialect,
    /// DPP `isRetryable`.
    pub retryable: bool,
    /// Extra headers (e.g. Retry-After on 429).
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    /// A plain ARM error.
    pub fn arm(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            dialect: Dialect::Arm,
            retryable: false,
            headers: vec![],
        }
    }
    /// A Data Protection error (UserFacingError inside).
    pub fn dpp(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            dialect: Dialect::Dpp,
            retryable: false,
            headers: vec![],
        }
    }
    /// 400 in the given dialect.
    pub fn bad_request(dialect: Dialect, code: &str, message: impl Into<String>) -> Self {
        Self { dialect, ..Self::arm(400, code, message) }
    }
    /// 404 for a missing resource.
    pub fn not_found(dialect: Dialect, what: &str) -> Self {
        Self { dialect, ..Self::arm(404, "ResourceNotFound", format!("The resource '{what}' was not found.")) }
    }
    /// Marks the error retryable.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
    /// The DPP `UserFacingError` (also a failed job's `errorDetails[]` entry).
    pub fn user_facing(&self) -> UserFacingError {
        UserFacingError {
            code: Some(self.code.clone()),
            message: Some(self.message.clone()),
            recommended_action: vec![recommended_action(&self.code).to_string()],
            details: vec![],
            target: Some(String::new()),
            inner_error: Some(json!({
                "code": self.code,
                "additionalInfo": {"DetailedNonLocalisedMessage": self.message},
                "embeddedInnerError": null
            })),
            is_retryable: Some(self.retryable),
            is_user_error: Some(self.code.starts_with("UserError")),
            properties: Some(BTreeMap::from([("ActivityId".to_string(), json!(crate::util::guid()))])),
        }
    }

    /// The `error` object (without the outer wrapper), as operation statuses embed it.
    pub fn error_detail(&self) -> ErrorDetail {
        let additional_info = match self.dialect {
            Dialect::Arm => vec![],
            Dialect::Dpp => vec![AdditionalInfo {
                info_type: Some("UserFacingError".into()),
                info: Some(serde_json::to_value(self.user_facing()).unwrap_or(Value::Null)),
            }],
        };
        ErrorDetail {
            code: Some(self.code.clone()),
            message: Some(self.message.clone()),
            target: Some(String::new()),
            details: vec![],
            additional_info,
        }
    }

    /// The full body `{ "error": … }` (`CloudError`).
    pub fn body(&self) -> Value {
        serde_json::to_value(CloudError { error: self.error_detail() })
            .unwrap_or_else(|_| json!({"error": {"code": self.code, "message": self.message}}))
    }
}

/// Reads a request body (or part of one) with its wire model; a mismatch is a 400 `InvalidRequestContent`
/// naming `what` and serde's reason (field and type).
pub fn parse_model<T: DeserializeOwned>(value: &Value, what: &str, dialect: Dialect) -> Result<T, ApiError> {
    serde_json::from_value(value.clone()).map_err(|e| {
        ApiError::bad_request(
            dialect,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: {what}: {e}."),
        )
    })
}

/// Serialises a wire model into a response body; a failure (which the models cannot produce: their maps have
/// string keys) becomes a 500 rather than a panic.
pub fn to_body<T: Serialize>(body: &T) -> Result<Value, ApiError> {
    serde_json::to_value(body).map_err(|e| {
        ApiError::arm(500, "InternalServerError", format!("The emulator could not serialise its response: {e}."))
    })
}

fn recommended_action(code: &str) -> &'static str {
    match code {
        "UserErrorSameNameDiskAlreadyExists" => {
            "Choose a different name for the target disk, or delete the existing disk."
        }
        "UserErrorMissingRequiredPermissions" | "UserErrorDiskBackupRestoreRGOrMSIPermissionsNotPresent" => {
            "Grant the Backup vault's managed identity Disk Restore Operator on the target resource group and retry after the role has propagated."
        }
        "UserErrorMaxConcurrentOperationLimitReached" => "Wait for the running operations to finish, then retry.",
        "UserErrorDppDatasourceAlreadyProtected" | "UserErrorDppDatasourceAlreadyHasBackupInstance" => {
            "The disk is already protected; stop its existing protection first."
        }
        _ => "Correct the request and retry.",
    }
}
