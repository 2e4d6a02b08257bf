//! ARM-shaped errors and the emulator's response type.
//!
//! Body kinds built with `json!` here (to be swapped for `restore_models::error` types once they exist):
//! [`ApiError::body`] (CloudError / ErrorResponse with the DPP `UserFacingError` in `additionalInfo`).

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
    /// The `error` object (without the outer wrapper), as operation statuses embed it.
    pub fn error_object(&self) -> Value {
        match self.dialect {
            Dialect::Arm => json!({
                "code": self.code, "message": self.message, "target": "", "details": [], "additionalInfo": []
            }),
            Dialect::Dpp => json!({
                "code": self.code,
                "message": self.message,
                "target": "",
                "details": [],
                "additionalInfo": [{
                    "type": "UserFacingError",
                    "info": {
                        "code": self.code,
                        "message": self.message,
                        "recommendedAction": [recommended_action(&self.code)],
                        "details": null,
                        "target": "",
                        "innerError": {
                            "code": self.code,
                            "additionalInfo": {"DetailedNonLocalisedMessage": self.message},
                            "embeddedInnerError": null
                        },
                        "isRetryable": self.retryable,
                        "isUserError": self.code.starts_with("UserError"),
                        "properties": {"ActivityId": crate::util::guid()}
                    }
                }]
            }),
        }
    }
    /// The full body `{ "error": … }`.
    pub fn body(&self) -> Value {
        json!({ "error": self.error_object() })
    }
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
