//! What a queue message is: a restore request, or an Azure Monitor alert in the common alert schema (recognised
//! by `"schemaId": "azureMonitorCommonAlertSchema"`), which the intake maps through the alert rules.

use serde_json::Value;

use crate::alert::{COMMON_ALERT_SCHEMA_ID, CommonAlert};
use crate::request::error::{RequestError, RequestErrorKind as K};
use crate::request::parse::{convert, parse_json, printable};
use crate::request::{DEFAULT_MAX_MESSAGE_BYTES, RestoreRequest, parse_request_value};

/// A classified queue message.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A restore request (contract v1), parsed and validated.
    Request(Box<RestoreRequest>),
    /// An Azure Monitor alert.
    Alert(Box<CommonAlert>),
}

/// Classifies a message body with the default size limit.
pub fn classify(bytes: &[u8]) -> Result<Incoming, RequestError> {
    classify_with_limit(bytes, DEFAULT_MAX_MESSAGE_BYTES)
}

/// Classifies a message body, refusing bodies over `max_bytes` (the policy's `maxMessageBytes`).
pub fn classify_with_limit(bytes: &[u8], max_bytes: usize) -> Result<Incoming, RequestError> {
    let value = parse_json(bytes, max_bytes)?;
    match value.get("schemaId") {
        Some(Value::String(s)) if s == COMMON_ALERT_SCHEMA_ID => {
            let alert: CommonAlert = serde_path_to_error::deserialize(&value).map_err(|e| {
                let mut err = convert("", e);
                err.kind = K::InvalidAlert;
                err.fix = "send the alert as Azure Monitor produces it (common alert schema, essentials with alertId, \
                           alertRule and monitorCondition)"
                    .into();
                err
            })?;
            Ok(Incoming::Alert(Box::new(alert)))
        }
        Some(other) => Err(RequestError::new(
            K::InvalidAlert,
            Some("schemaId"),
            format!("alert schema '{}' is not supported", printable(&other.to_string())),
            "enable the common alert schema on the action group (useCommonAlertSchema: true)",
        )),
        None => parse_request_value(&value).map(|r| Incoming::Request(Box::new(r))),
    }
}
