//! Typed Azure errors and what to do about them.
//!
//! Classification (azure-backup-rest.md §6), in order:
//! 1. permission codes (the vault's identity or the caller lacks a role) → [`Retryability::AfterRoleAssignment`]:
//!    role assignments take up to ~15 minutes to propagate, so the same request can succeed later;
//! 2. codes Azure documents as "try later" (`UserErrorMaxConcurrentOperationLimitReached`,
//!    `RetryableErrorDueToAnotherOperation`, anything named `*Retryable*`) → [`Retryability::Later`];
//! 3. Data Protection's own `isRetryable`, when present, decides between transient and terminal;
//! 4. HTTP 408, 429 and 5xx → [`Retryability::Transient`];
//! 5. everything else (`UserError*`, `BMSUserError*`, other 4xx) → [`Retryability::Terminal`].

use restore_models::error::{CloudError, IaasJobErrorInfo, OperationStatusError, UserFacingError, ValidationError};

/// What a caller should do with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Retryability {
    /// A passing fault (throttling, 5xx, timeouts): retry with backoff.
    Transient,
    /// Azure is busy with other work on the same item: retry in minutes.
    Later,
    /// A missing role that may still be propagating: retry after the role is in place (up to ~15 min).
    AfterRoleAssignment,
    /// Retrying the same request will fail the same way: fix the request or the environment.
    Terminal,
}

/// An error reported by Azure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("Azure returned {code} (HTTP {status}): {message}{}", recommended_suffix(.recommended_action))]
#[serde(rename_all = "camelCase")]
pub struct AzureError {
    /// HTTP status of the response that carried the error (0 when it came inside a 200 body, e.g. a failed
    /// operation status or job).
    pub status: u16,
    /// Azure's error code, e.g. `UserErrorSameNameDiskAlreadyExists`.
    pub code: String,
    /// Azure's message.
    pub message: String,
    /// Azure's recommended actions, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommended_action: Vec<String>,
    /// The field or resource the error is about, if Azure says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What to do about it.
    pub retry: Retryability,
}

fn recommended_suffix(actions: &[String]) -> String {
    if actions.is_empty() { String::new() } else { format!(" — recommended action: {}", actions.join(" ")) }
}

const PERMISSION_MARKERS: &[&str] =
    &["permission", "authorizationfailed", "linkedauthorizationfailed", "msipermissions", "notenoughpermission"];
const LATER_CODES: &[&str] = &["usererrormaxconcurrentoperationlimitreached", "retryableerrorduetoanotheroperation"];

/// Classifies an error code, HTTP status and Data Protection's `isRetryable` flag.
pub fn classify(code: &str, status: u16, is_retryable: Option<bool>) -> Retryability {
    let lower = code.to_ascii_lowercase();
    if PERMISSION_MARKERS.iter().any(|m| lower.contains(m)) {
        return Retryability::AfterRoleAssignment;
    }
    if LATER_CODES.contains(&lower.as_str()) || lower.contains("retryable") && !lower.contains("nonretryable") {
        return Retryability::Later;
    }
    match is_retryable {
        Some(true) => return Retryability::Transient,
        Some(false) => return Retryability::Terminal,
        None => {}
    }
    if status == 408 || status == 429 || status >= 500 { Retryability::Transient } else { Retryability::Terminal }
}

impl AzureError {
    /// Builds the error from a non-success response's status and body. Bodies that are not ARM errors (empty,
    /// HTML from a proxy, malformed JSON) still give a typed error that names the status.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<CloudError>(body) {
            Ok(cloud) if cloud.error.code.is_some() || cloud.error.message.is_some() => {
                Self::from_cloud_error(status, &cloud)
            }
            _ => {
                let text = String::from_utf8_lossy(body);
                let snippet: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
                let message = if snippet.trim().is_empty() {
                    "the response had no error body".to_string()
                } else {
                    format!("the response was not an ARM error body: {snippet}")
                };
                AzureError {
                    status,
                    code: format!("Http{status}"),
                    message,
                    recommended_action: Vec::new(),
                    target: None,
                    retry: classify("", status, None),
                }
            }
        }
    }

    /// Builds the error from a parsed ARM `CloudError`, preferring Data Protection's richer `UserFacingError`.
    pub fn from_cloud_error(status: u16, cloud: &CloudError) -> Self {
        let detail = &cloud.error;
        let user_facing = detail.user_facing();
        let mut error = match &user_facing {
            Some(u) => Self::from_user_facing(status, u),
            None => AzureError {
                status,
                code: detail.code.clone().unwrap_or_else(|| format!("Http{status}")),
                message: detail.message.clone().unwrap_or_default(),
                recommended_action: Vec::new(),
                target: detail.target.clone(),
                retry: Retryability::Terminal,
            },
        };
        if error.code.is_empty() {
            error.code = detail.code.clone().unwrap_or_else(|| format!("Http{status}"));
        }
        if error.message.is_empty() {
            error.message = detail.message.clone().unwrap_or_default();
        }
        let flag = user_facing.as_ref().and_then(|u| u.is_retryable).or_else(|| detail.is_retryable());
        error.retry = classify(&error.code, status, flag);
        error
    }

    /// Builds the error from a Data Protection `UserFacingError` (operation status, job error details).
    pub fn from_user_facing(status: u16, u: &UserFacingError) -> Self {
        let code = u.code.clone().unwrap_or_default();
        AzureError {
            status,
            retry: classify(&code, status, u.is_retryable),
            code,
            message: u.message.clone().unwrap_or_default(),
            recommended_action: u.recommended_action.clone(),
            target: u.target.clone(),
        }
    }

    /// Builds the error from a Recovery Services operation status `error`.
    pub fn from_operation_status(e: &OperationStatusError) -> Self {
        let code = e.code.clone().unwrap_or_else(|| "OperationFailed".into());
        AzureError {
            status: 0,
            retry: classify(&code, 0, None),
            code,
            message: e.message.clone().unwrap_or_default(),
            recommended_action: Vec::new(),
            target: None,
        }
    }

    /// Builds the error from a Recovery Services `backupValidateOperation` result entry.
    pub fn from_validation_error(e: &ValidationError) -> Self {
        let code = e.code.clone().unwrap_or_else(|| "ValidationFailed".into());
        AzureError {
            status: 0,
            retry: classify(&code, 0, None),
            code,
            message: e.message.clone().unwrap_or_default(),
            recommended_action: e.recommendations.clone(),
            target: None,
        }
    }

    /// Builds the error from a Recovery Services IaaS VM job's `errorDetails` entry.
    pub fn from_iaas_job_error(e: &IaasJobErrorInfo) -> Self {
        let code = e
            .error_title
            .clone()
            .or_else(|| e.error_code.as_ref().map(|c| c.to_string()))
            .unwrap_or_else(|| "JobFailed".into());
        AzureError {
            status: 0,
            retry: classify(&code, 0, None),
            code,
            message: e.error_string.clone().unwrap_or_default(),
            recommended_action: e.recommendations.clone(),
            target: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_rules() {
        assert_eq!(classify("UserErrorSameNameDiskAlreadyExists", 400, None), Retryability::Terminal);
        assert_eq!(
            classify("UserErrorMissingRequiredPermissions", 400, Some(false)),
            Retryability::AfterRoleAssignment
        );
        assert_eq!(classify("AuthorizationFailed", 403, None), Retryability::AfterRoleAssignment);
        assert_eq!(classify("UserErrorMaxConcurrentOperationLimitReached", 400, None), Retryability::Later);
        assert_eq!(classify("CloudServiceRetryableError", 500, None), Retryability::Later);
        assert_eq!(classify("CloudInternalError", 500, Some(false)), Retryability::Terminal);
        assert_eq!(classify("Whatever", 400, Some(true)), Retryability::Transient);
        assert_eq!(classify("ServerBusy", 503, None), Retryability::Transient);
        assert_eq!(classify("TooManyRequests", 429, None), Retryability::Transient);
        assert_eq!(classify("BMSUserErrorInvalidInput", 400, None), Retryability::Terminal);
    }

    #[test]
    fn user_facing_error_wins() {
        let body = serde_json::json!({
            "error": {
                "code": "UserErrorDppDatasourceAlreadyProtected",
                "message": "outer",
                "additionalInfo": [{
                    "type": "UserFacingError",
                    "info": {
                        "code": "UserErrorDppDatasourceAlreadyProtected",
                        "message": "Datasource is already protected",
                        "recommendedAction": ["Delete the existing backup instance."],
                        "isRetryable": false,
                        "isUserError": true
                    }
                }]
            }
        });
        let e = AzureError::from_response(400, body.to_string().as_bytes());
        assert_eq!(e.code, "UserErrorDppDatasourceAlreadyProtected");
        assert_eq!(e.message, "Datasource is already protected");
        assert_eq!(e.recommended_action, vec!["Delete the existing backup instance.".to_string()]);
        assert_eq!(e.retry, Retryability::Terminal);
        assert!(e.to_string().contains("recommended action: Delete the existing backup instance."), "{e}");
    }

    #[test]
    fn non_arm_bodies_still_name_the_status() {
        let e = AzureError::from_response(502, b"<html>Bad gateway</html>");
        assert_eq!(e.code, "Http502");
        assert_eq!(e.retry, Retryability::Transient);
        assert!(e.message.contains("Bad gateway"));
        let e = AzureError::from_response(404, b"");
        assert_eq!(e.message, "the response had no error body");
        assert_eq!(e.retry, Retryability::Terminal);
    }
}
