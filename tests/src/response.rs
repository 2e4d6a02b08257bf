//! Interpreting the handler's answer like the host (reference §2.1–2.3) and converting output
//! values like the Service Bus and Blob bindings (§2.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::http::Response;

/// Why the host considers an invocation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A non-2xx status (`EnsureSuccessStatusCode`).
    Status(u16),
    /// A 2xx without a JSON content type (`UnsupportedMediaTypeException`).
    MediaType(Option<String>),
    /// A 2xx whose body is empty or `null`: the real host would wait until `functionTimeout`
    /// and then restart the worker.
    WouldHang,
    /// A 2xx whose body is JSON but not an object, or not JSON.
    InvalidBody(String),
}

/// A successful invocation's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Success {
    /// `Outputs`.
    pub outputs: Map<String, Value>,
    /// `Logs`.
    pub logs: Vec<String>,
    /// `ReturnValue`.
    pub return_value: Value,
}

/// The host's reading of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct HostResponse {
    /// The raw response.
    pub raw: Response,
    /// Success (outputs written, logs logged) or failure (both discarded).
    pub outcome: Result<Success, Failure>,
}

impl HostResponse {
    /// Interpret a raw response.
    pub fn interpret(raw: Response) -> Self {
        let outcome = interpret(&raw);
        Self { raw, outcome }
    }

    /// The success, or a panic-free error text describing the failure and the body.
    pub fn success(&self) -> Result<&Success, String> {
        self.outcome
            .as_ref()
            .map_err(|f| format!("invocation failed: {f:?}; status {}; body {}", self.raw.status, self.raw.text()))
    }

    /// The response body parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw.body).unwrap_or(Value::Null)
    }
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn interpret(raw: &Response) -> Result<Success, Failure> {
    if !(200..300).contains(&raw.status) {
        return Err(Failure::Status(raw.status));
    }
    let content_type = raw.header("content-type").map(str::to_string);
    let media = content_type.as_deref().and_then(|ct| ct.split(';').next()).map(|m| m.trim().to_ascii_lowercase());
    if !matches!(media.as_deref(), Some("application/json") | Some("text/json")) {
        return Err(Failure::MediaType(content_type));
    }
    if raw.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::WouldHang);
    }
    let value: Value = serde_json::from_slice(&raw.body).map_err(|e| Failure::InvalidBody(format!("not JSON: {e}")))?;
    let obj = match value {
        Value::Null => return Err(Failure::WouldHang),
        Value::Object(obj) => obj,
        other => return Err(Failure::InvalidBody(format!("not an object: {other}"))),
    };
    let outputs = match get_ci(&obj, "Outputs") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => return Err(Failure::InvalidBody(format!("Outputs is not an object: {other}"))),
    };
    let logs = match get_ci(&obj, "Logs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(net_to_string).collect(),
        Some(other) => return Err(Failure::InvalidBody(format!("Logs is not an array: {other}"))),
    };
    Ok(Success { outputs, logs, return_value: get_ci(&obj, "ReturnValue").cloned().unwrap_or(Value::Null) })
}

/// Newtonsoft's `JToken.ToString()`: strings raw, objects/arrays indented, `True`/`False`.
pub fn net_to_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Number(n) => n.to_string(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Step A: does the host take this string for base64? [derived] Non-empty, length a multiple
/// of 4, only `[A-Za-z0-9+/=]`, and decodable.
pub fn looks_like_base64(s: &str) -> bool {
    !s.is_empty()
        && s.len().is_multiple_of(4)
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        && STANDARD.decode(s).is_ok()
}

/// An output value the binding cannot write (the invocation fails).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("output binding {binding:?}: {reason}")]
pub struct OutputError {
    /// The binding name.
    pub binding: String,
    /// Why.
    pub reason: String,
}

/// The Service Bus messages (bodies) a consumer receives from output value `value` of binding
/// `binding`; `binary` is the output binding's `"dataType": "binary"`.
pub fn service_bus_messages(binding: &str, value: &Value, binary: bool) -> Result<Vec<Vec<u8>>, OutputError> {
    let err = |reason: String| OutputError { binding: binding.to_string(), reason };
    match value {
        Value::Null => Ok(Vec::new()),
        // Arrays are exempt from step A; each element's ToString() is one message.
        Value::Array(items) => Ok(items.iter().map(|v| net_to_string(v).into_bytes()).collect()),
        Value::Object(_) => Ok(vec![net_to_string(value).into_bytes()]),
        Value::String(s) => {
            if !binary && looks_like_base64(s) {
                // byte[] → IAsyncCollector<string> → byte[].ToString().
                return Ok(vec![b"System.Byte[]".to_vec()]);
            }
            let t = s.trim();
            let json_like = (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
            if json_like {
                let parsed: Value = serde_json::from_str(t)
                    .map_err(|e| err(format!("string looks like JSON but JToken.Parse fails: {e}")))?;
                return service_bus_messages(binding, &parsed, true);
            }
            Ok(vec![s.clone().into_bytes()])
        }
        other => Ok(vec![net_to_string(other).into_bytes()]),
    }
}

/// The bytes a blob output binding writes for `value` (`binary` = `"dataType": "binary"`).
/// `None` when nothing is written.
pub fn blob_bytes(binding: &str, value: &Value, binary: bool) -> Result<Option<Vec<u8>>, OutputError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if !binary && looks_like_base64(s) => Ok(STANDARD.decode(s).ok()),
        Value::String(s) => Ok(Some(s.clone().into_bytes())),
        Value::Object(_) | Value::Array(_) => Ok(Some(value.to_string().into_bytes())),
        other => Err(OutputError {
            binding: binding.to_string(),
            reason: format!("{other} would be written as BitConverter bytes; send a string or object"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, ct: Option<&str>, body: &str) -> Response {
        Response {
            status,
            headers: ct.map(|c| ("content-type".to_string(), c.to_string())).into_iter().collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn only_2xx_json_objects_succeed() {
        let ok = interpret(&resp(
            200,
            Some("application/json; charset=utf-8"),
            r#"{"Outputs":{"a":[1]},"Logs":["l"],"ReturnValue":5}"#,
        ))
        .unwrap();
        assert_eq!(ok.logs, vec!["l"]);
        assert_eq!(ok.return_value, json!(5));
        assert_eq!(interpret(&resp(200, Some("application/json"), "{}")).unwrap(), Success::default());
        assert_eq!(interpret(&resp(500, Some("application/json"), r#"{"Logs":["x"]}"#)), Err(Failure::Status(500)));
        assert!(matches!(interpret(&resp(200, Some("text/plain"), "{}")), Err(Failure::MediaType(_))));
        assert!(matches!(interpret(&resp(200, None, "{}")), Err(Failure::MediaType(None))));
        assert_eq!(interpret(&resp(200, Some("application/json"), "")), Err(Failure::WouldHang));
        assert_eq!(interpret(&resp(200, Some("application/json"), "null")), Err(Failure::WouldHang));
        assert!(matches!(interpret(&resp(200, Some("application/json"), "\"Hello\"")), Err(Failure::InvalidBody(_))));
    }

    #[test]
    fn service_bus_conversion_follows_the_binding() {
        let m = |v: Value| service_bus_messages("r", &v, false).unwrap();
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        assert_eq!(m(json!(["abcd", "{\"a\":1}"])), vec![b"abcd".to_vec(), b"{\"a\":1}".to_vec()]);
        assert_eq!(m(json!("abcd")), vec![b"System.Byte[]".to_vec()]);
        assert_eq!(m(json!("2024")), vec![b"System.Byte[]".to_vec()]);
        assert_eq!(service_bus_messages("r", &json!("abcd"), true).unwrap(), vec![b"abcd".to_vec()]);
        assert_eq!(s(&m(json!("{\"a\":1}"))[0]), "{\n  \"a\": 1\n}");
        assert_eq!(m(json!("[\"x\",\"y\"]")), vec![b"x".to_vec(), b"y".to_vec()]);
        assert_eq!(s(&m(json!([{"a": 1}]))[0]), "{\n  \"a\": 1\n}");
        assert_eq!(m(json!("hello world")), vec![b"hello world".to_vec()]);
        assert!(service_bus_messages("r", &json!("{not json}"), false).is_err());
        assert!(m(Value::Null).is_empty());
    }

    #[test]
    fn blob_conversion_decodes_base64_only_without_binary() {
        assert_eq!(blob_bytes("b", &json!("/wAB"), false).unwrap(), Some(vec![0xff, 0, 1]));
        assert_eq!(blob_bytes("b", &json!("/wAB"), true).unwrap(), Some(b"/wAB".to_vec()));
        assert_eq!(blob_bytes("b", &json!({"a": 1}), false).unwrap(), Some(b"{\"a\":1}".to_vec()));
        assert!(blob_bytes("b", &json!(5), false).is_err());
    }
}
