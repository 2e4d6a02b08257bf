//! The host's invocation envelope: the request `{"Data": {...}, "Metadata": {...}}` and the
//! response `{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}` (reference §1.2, §2.1).

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::decode::{datetime_of, decode_map, get_ci, string_of};
use crate::error::DecodeError;

/// The header carrying the host's invocation id.
pub const INVOCATION_ID_HEADER: &str = "x-azure-functions-invocationid";

/// A parsed and decoded invocation request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvocationRequest {
    /// `Data` with every value decoded ([`crate::decode::decode_value`]) except the values that are
    /// kept raw in [`InvocationRequest::raw_data`] for the trigger decoders.
    pub data: Map<String, Value>,
    /// `Data` exactly as received.
    pub raw_data: Map<String, Value>,
    /// `Metadata` with every value decoded.
    pub metadata: Map<String, Value>,
}

impl InvocationRequest {
    /// Parse the request body. `Data` must be an object; `Metadata` may be absent (treated as
    /// empty) but, when present, must be an object.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let Value::Object(mut root) = value else {
            return Err(DecodeError::Envelope(format!(
                "expected a JSON object with \"Data\" and \"Metadata\", got {}",
                kind(&value)
            )));
        };
        let raw_data = match take_ci(&mut root, "Data") {
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(DecodeError::Envelope(format!("\"Data\" must be an object, got {}", kind(&other))));
            }
            None => {
                return Err(DecodeError::Envelope(
                    "missing \"Data\" (the host always sends the trigger value there)".into(),
                ));
            }
        };
        let metadata = match take_ci(&mut root, "Metadata") {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => Map::new(),
            Some(other) => {
                return Err(DecodeError::Envelope(format!("\"Metadata\" must be an object, got {}", kind(&other))));
            }
        };
        Ok(Self { data: decode_map(raw_data.clone()), raw_data, metadata: decode_map(metadata) })
    }

    /// The raw (undecoded) trigger value, or [`DecodeError::MissingBinding`].
    pub fn raw_trigger(&self, binding: &str) -> Result<&Value, DecodeError> {
        get_ci(&self.raw_data, binding).ok_or_else(|| DecodeError::MissingBinding {
            binding: binding.to_string(),
            present: self.raw_data.keys().cloned().collect(),
        })
    }
}

fn take_ci(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    if let Some(v) = map.remove(key) {
        return Some(v);
    }
    let found = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
    map.remove(&found)
}

/// A short name for a JSON value's type, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `sys` block of `Metadata`: `{MethodName, UtcNow, RandGuid}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sys {
    /// The function name (`MethodName`).
    pub method_name: Option<String>,
    /// The host's clock when it built the invocation (`UtcNow`).
    pub utc_now: Option<OffsetDateTime>,
    /// A random GUID from the host (`RandGuid`), usable in output paths.
    pub rand_guid: Option<String>,
}

impl Sys {
    fn from_metadata(metadata: &Map<String, Value>) -> Self {
        let Some(Value::Object(sys)) = get_ci(metadata, "sys") else {
            return Self::default();
        };
        Self {
            method_name: get_ci(sys, "MethodName").and_then(string_of),
            utc_now: get_ci(sys, "UtcNow").and_then(datetime_of),
            rand_guid: get_ci(sys, "RandGuid").and_then(string_of),
        }
    }
}

/// The context of one invocation, passed to every handler next to its typed event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    /// The `X-Azure-Functions-InvocationId` header, when the host sent one.
    pub invocation_id: Option<String>,
    /// The function (folder) name the invocation was posted to.
    pub function_name: String,
    /// The `sys` block of the metadata.
    pub sys: Sys,
    /// The whole decoded `Metadata` (including `sys`, `RetryContext` and, for Service Bus, the
    /// body's merged top-level properties).
    pub metadata: Map<String, Value>,
    /// The whole decoded `Data` (the trigger and any input bindings).
    pub data: Map<String, Value>,
}

impl Invocation {
    /// Build the context from the request parts.
    pub fn new(function_name: impl Into<String>, invocation_id: Option<String>, request: &InvocationRequest) -> Self {
        Self {
            invocation_id,
            function_name: function_name.into(),
            sys: Sys::from_metadata(&request.metadata),
            metadata: request.metadata.clone(),
            data: request.data.clone(),
        }
    }

    /// A decoded input-binding value by binding name.
    pub fn input(&self, binding: &str) -> Option<&Value> {
        get_ci(&self.data, binding)
    }
}

/// The response body the host reads (`HttpScriptInvocationResult`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InvocationResponse {
    /// Output binding name → value.
    #[serde(rename = "Outputs")]
    pub outputs: Map<String, Value>,
    /// Lines the host logs on the invocation's logger (only when the status is 2xx).
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
    /// The `$return` binding's value.
    #[serde(rename = "ReturnValue")]
    pub return_value: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_decodes_the_envelope() {
        let body = br#"{"Data":{"msg":"\"{\\\"a\\\":1}\""},"Metadata":{"DeliveryCount":"2","sys":{"MethodName":"F","UtcNow":"2024-01-15T12:00:01.5Z","RandGuid":"g"}}}"#;
        let req = InvocationRequest::parse(body).unwrap();
        assert_eq!(req.raw_data["msg"], json!("\"{\\\"a\\\":1}\""));
        assert_eq!(req.data["msg"], json!("{\"a\":1}"));
        assert_eq!(req.metadata["DeliveryCount"], json!(2));
        let inv = Invocation::new("F", Some("id".into()), &req);
        assert_eq!(inv.sys.method_name.as_deref(), Some("F"));
        assert_eq!(inv.sys.rand_guid.as_deref(), Some("g"));
        assert!(inv.sys.utc_now.is_some());
    }

    #[test]
    fn malformed_envelopes_are_named() {
        assert!(matches!(InvocationRequest::parse(b"not json"), Err(DecodeError::NotJson(_))));
        let e = InvocationRequest::parse(b"[1]").unwrap_err().to_string();
        assert!(e.contains("an array"), "{e}");
        let e = InvocationRequest::parse(b"{}").unwrap_err().to_string();
        assert!(e.contains("missing \"Data\""), "{e}");
        let e = InvocationRequest::parse(br#"{"Data":"x"}"#).unwrap_err().to_string();
        assert!(e.contains("\"Data\" must be an object"), "{e}");
        let e = InvocationRequest::parse(br#"{"Data":{},"Metadata":3}"#).unwrap_err().to_string();
        assert!(e.contains("\"Metadata\" must be an object"), "{e}");
        assert!(InvocationRequest::parse(br#"{"Data":{}}"#).is_ok());
    }

    #[test]
    fn missing_trigger_binding_names_the_binding_and_the_keys() {
        let req = InvocationRequest::parse(br#"{"Data":{"other":"1"}}"#).unwrap();
        let e = req.raw_trigger("msg").unwrap_err().to_string();
        assert!(e.contains("\"msg\"") && e.contains("other"), "{e}");
    }

    #[test]
    fn response_serialises_with_host_field_names() {
        let resp = InvocationResponse::default();
        assert_eq!(serde_json::to_value(&resp).unwrap(), json!({"Outputs": {}, "Logs": [], "ReturnValue": null}));
    }
}
