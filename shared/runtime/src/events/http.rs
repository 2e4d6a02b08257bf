//! The HTTP trigger in the default (non-forwarding) mode (reference §1.6), and the HTTP output.
//!
//! `Data.<name>` is `{Url, Method, Query, Headers, Params, Identities, Body}` with header values
//! as arrays and `Body` as raw text. The reply goes into `Outputs.<http output name>` as
//! `{"statusCode", "body", "headers"}` ([`HttpResponse`], placed with
//! [`crate::Outputs::http`]).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::FromInvocation;
use crate::decode::decode_value;
use crate::envelope::{InvocationRequest, kind};
use crate::error::DecodeError;

/// An HTTP trigger request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HttpRequest {
    /// `Url`: the original URL.
    #[serde(rename = "Url", default)]
    pub url: String,
    /// `Method`.
    #[serde(rename = "Method", default)]
    pub method: String,
    /// `Query`: parameter → value (also accepts the string `"{}"` some docs show).
    #[serde(rename = "Query", default, deserialize_with = "string_map")]
    pub query: BTreeMap<String, String>,
    /// `Headers`: name → values (the host sends arrays; a lone string is accepted too).
    #[serde(rename = "Headers", default, deserialize_with = "multi_map")]
    pub headers: BTreeMap<String, Vec<String>>,
    /// `Params`: route parameters.
    #[serde(rename = "Params", default, deserialize_with = "string_map")]
    pub params: BTreeMap<String, String>,
    /// `Identities`, as sent.
    #[serde(rename = "Identities", default)]
    pub identities: Value,
    /// `Body`: the raw text (base64 for octet-stream/multipart); empty when absent.
    #[serde(rename = "Body", default, deserialize_with = "body_text")]
    pub body: String,
}

impl HttpRequest {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.first()).map(String::as_str)
    }

    /// The body parsed as JSON into `T`.
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn object_of(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        Value::String(s) => match serde_json::from_str(&s) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let value = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    Ok(object_of(value).into_iter().map(|(k, v)| (k, scalar_text(&v))).collect())
}

fn multi_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let value = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    Ok(object_of(value)
        .into_iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Array(items) => items.iter().map(scalar_text).collect(),
                other => vec![scalar_text(&other)],
            };
            (k, values)
        })
        .collect())
}

fn body_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    Ok(scalar_text(&value))
}

impl FromInvocation for HttpRequest {
    fn from_invocation(binding: &str, request: &InvocationRequest) -> Result<Self, DecodeError> {
        let value = decode_value(request.raw_trigger(binding)?.clone());
        if !value.is_object() {
            return Err(DecodeError::Trigger {
                binding: binding.to_string(),
                reason: format!("expected the HTTP request object, got {}", kind(&value)),
            });
        }
        serde_json::from_value(value).map_err(|e| DecodeError::Trigger {
            binding: binding.to_string(),
            reason: format!("invalid HTTP request: {e}"),
        })
    }
}

/// The HTTP output value: `{"statusCode": 201, "body": ..., "headers": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpResponse {
    /// The status code.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The body: a string is sent as is, other JSON as JSON.
    pub body: Value,
    /// Response headers.
    pub headers: BTreeMap<String, String>,
}

impl HttpResponse {
    /// A response with a status and no body.
    pub fn new(status_code: u16) -> Self {
        Self { status_code, body: Value::Null, headers: BTreeMap::new() }
    }

    /// A JSON body, with `Content-Type: application/json`.
    pub fn json(status_code: u16, body: Value) -> Self {
        Self::new(status_code).with_body(body).with_header("Content-Type", "application/json")
    }

    /// Set the body.
    pub fn with_body(mut self, body: impl Into<Value>) -> Self {
        self.body = body.into();
        self
    }

    /// Add a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> InvocationRequest {
        InvocationRequest::parse(json!({"Data": {"req": v}}).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn parses_the_host_request_object() {
        let r = HttpRequest::from_invocation(
            "req",
            &req(json!({"Url": "http://localhost:7071/api/order?x=1", "Method": "POST",
                "Query": {"x": "1"}, "Headers": {"Content-Type": ["application/json"], "X-N": "one"},
                "Params": {"id": 7}, "Identities": [], "Body": "{\"id\":1005}"})),
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.query["x"], "1");
        assert_eq!(r.params["id"], "7");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.headers["X-N"], vec!["one".to_string()]);
        assert_eq!(r.body_json::<Value>().unwrap(), json!({"id": 1005}));
    }

    #[test]
    fn tolerates_the_documented_string_query_and_missing_fields() {
        let r = HttpRequest::from_invocation("req", &req(json!({"Query": "{}", "Method": "GET"}))).unwrap();
        assert!(r.query.is_empty());
        assert_eq!(r.body, "");
    }

    #[test]
    fn response_serialises_as_the_host_expects() {
        let r = HttpResponse::json(201, json!({"ok": true}));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"statusCode": 201, "body": {"ok": true}, "headers": {"Content-Type": "application/json"}})
        );
    }
}
