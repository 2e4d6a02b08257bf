//! Error bodies.
//!
//! Mirrors the Data Protection `CloudError` / `Error` / `ErrorAdditionalInfo` definitions, the
//! common-types `ErrorResponse` / `ErrorDetail` (same wire shape, used by Recovery Services), the
//! Data Protection `UserFacingError` carried in `additionalInfo[].info`, and the small Recovery
//! Services error shapes (operation-status `error`, validate results, IaaS job `errorDetails`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::{StrOrNum, de};

/// `{ "error": { … } }` — DPP `CloudError` and common-types `ErrorResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudError {
    /// The error.
    #[serde(default)]
    pub error: ErrorDetail,
}

/// ARM error detail (`code`, `message`, `target`, nested `details`, `additionalInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Error code, e.g. `UserErrorMissingRequiredPermissions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Target of the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Nested errors.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// Typed extra information (DPP puts `UserFacingError` here).
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<AdditionalInfo>,
}

impl ErrorDetail {
    /// The first `additionalInfo[].info` whose `type` is `UserFacingError` (case-insensitive).
    pub fn user_facing(&self) -> Option<UserFacingError> {
        self.additional_info
            .iter()
            .filter(|a| a.info_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("UserFacingError")))
            .find_map(|a| a.info.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok()))
    }

    /// `isRetryable` from the user-facing error, when Azure stated it.
    pub fn is_retryable(&self) -> Option<bool> {
        self.user_facing().and_then(|u| u.is_retryable)
    }
}

/// One `additionalInfo` entry (`type` + raw `info`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdditionalInfo {
    /// Kind of information, e.g. `UserFacingError`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub info_type: Option<String>,
    /// The information, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
}

/// DPP `UserFacingError` (in `additionalInfo[].info`, job `errorDetails[]`, protection status).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFacingError {
    /// Error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Suggested actions.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub recommended_action: Vec<String>,
    /// Nested user-facing errors.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<UserFacingError>,
    /// Target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Inner error (`code`, `additionalInfo`, `embeddedInnerError`), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<Value>,
    /// Whether a retry can succeed.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_retryable: Option<bool>,
    /// Whether the user caused the error.
    #[serde(default, deserialize_with = "de::lenient_opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_user_error: Option<bool>,
    /// Extra properties such as `ActivityId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, Value>>,
}

impl UserFacingError {
    /// `innerError.additionalInfo.DetailedNonLocalisedMessage`, when present.
    pub fn detailed_message(&self) -> Option<&str> {
        self.inner_error.as_ref()?.get("additionalInfo")?.get("DetailedNonLocalisedMessage")?.as_str()
    }
}

/// RSV operation-status `error` (`{code, message}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationStatusError {
    /// Error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// RSV validate result entry (`{code, message, recommendations[]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Error code, e.g. `UserErrorCoreCountSubscriptionQuotaReached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Suggested actions.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<String>,
}

/// RSV IaaS job `errorDetails[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IaasJobErrorInfo {
    /// Error code; an int in the spec, sometimes a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<StrOrNum>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_title: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_string: Option<String>,
    /// Suggested actions.
    #[serde(default, deserialize_with = "de::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "error": {
                "additionalInfo": [
                    {"type": "Other", "info": {"x": 1}},
                    {"type": "userfacingerror", "info": {
                        "message": "Appropriate permissions to perform the operation is missing.",
                        "recommendedAction": ["Grant permissions"],
                        "details": null,
                        "code": "UserErrorMissingRequiredPermissions",
                        "target": "",
                        "innerError": {"code": "X", "additionalInfo": {"DetailedNonLocalisedMessage": "deep"}},
                        "isRetryable": "false",
                        "isUserError": false,
                        "properties": {"ActivityId": "a"}
                    }}
                ],
                "code": "UserErrorMissingRequiredPermissions",
                "message": "m",
                "target": null,
                "details": null
            }
        })
    }

    #[test]
    fn user_facing_error_is_found_case_insensitively() {
        let e: CloudError = serde_json::from_value(sample()).unwrap();
        let u = e.error.user_facing().unwrap();
        assert_eq!(u.code.as_deref(), Some("UserErrorMissingRequiredPermissions"));
        assert_eq!(u.recommended_action, vec!["Grant permissions".to_owned()]);
        assert_eq!(u.is_retryable, Some(false));
        assert_eq!(u.is_user_error, Some(false));
        assert_eq!(u.detailed_message(), Some("deep"));
        assert_eq!(e.error.is_retryable(), Some(false));
    }

    #[test]
    fn no_user_facing_error() {
        let e: CloudError = serde_json::from_value(json!({"error": {"code": "Conflict", "message": "m"}})).unwrap();
        assert!(e.error.user_facing().is_none());
        assert_eq!(e.error.is_retryable(), None);
    }

    #[test]
    fn writes_no_nulls_or_empty_lists() {
        let e: CloudError = serde_json::from_value(sample()).unwrap();
        let out = serde_json::to_value(&e).unwrap();
        assert!(out["error"].get("target").is_none());
        assert!(out["error"].get("details").is_none());
        assert!(out["error"].as_object().unwrap().values().all(|v| !v.is_null()));
        // The typed user-facing error drops the nulls the raw `info` still carries.
        let typed = serde_json::to_string(&e.error.user_facing().unwrap()).unwrap();
        assert!(!typed.contains("null"), "{typed}");
    }

    #[test]
    fn iaas_error_code_int_or_string() {
        let v: Vec<IaasJobErrorInfo> = serde_json::from_value(json!([
            {"errorCode": 400001, "errorTitle": "t", "errorString": "s", "recommendations": ["r"]},
            {"errorCode": "UserErrorX"}
        ]))
        .unwrap();
        assert_eq!(v[0].error_code.as_ref().and_then(StrOrNum::as_i64), Some(400_001));
        assert_eq!(v[1].error_code.as_ref().map(StrOrNum::as_text).as_deref(), Some("UserErrorX"));
        assert_eq!(serde_json::to_value(&v[1]).unwrap(), json!({"errorCode": "UserErrorX"}));
    }
}
