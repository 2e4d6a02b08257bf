//! The outputs builder: the `Outputs` and `ReturnValue` of the response (reference §2.2).
//!
//! * Service Bus: always written as a JSON **array of strings**, one message per element, each
//!   message body exactly the element's text. A lone string would be unsafe: the host decodes a
//!   lone string that looks like base64 (`"abcd"`, `"2024"`) to bytes and sends the literal
//!   `System.Byte[]`, and re-serialises a lone `{…}` string as indented JSON.
//! * Blob: written as base64 text. **The blob output binding in function.json must NOT set
//!   `"dataType": "binary"`**: without it the host decodes the base64 back to the exact bytes;
//!   with it the blob would contain the base64 text itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::events::http::HttpResponse;

/// What a handler returns on success: output binding values and the `$return` value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    outputs: Map<String, Value>,
    return_value: Option<Value>,
}

impl Outputs {
    /// No outputs (the response is still a JSON object).
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages for the Service Bus output binding `name`, one per item, each sent with exactly
    /// the item's text as its body. Calling it again for the same name appends.
    pub fn service_bus<I, S>(mut self, name: impl Into<String>, messages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let entry = self.outputs.entry(name.into()).or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(items) = entry {
            items.extend(messages.into_iter().map(|m| Value::String(m.into())));
        }
        self
    }

    /// Bytes for the blob output binding `name`, written as base64 text. The binding must not
    /// set `"dataType": "binary"` (see the module docs), or the blob holds the base64 text.
    pub fn blob(mut self, name: impl Into<String>, bytes: impl AsRef<[u8]>) -> Self {
        self.outputs.insert(name.into(), Value::String(STANDARD.encode(bytes.as_ref())));
        self
    }

    /// The response of an HTTP output binding `name` (usually `res`).
    pub fn http(mut self, name: impl Into<String>, response: HttpResponse) -> Self {
        let value = serde_json::to_value(&response).unwrap_or_else(|e| {
            // Unreachable: HttpResponse holds only strings, numbers and JSON values.
            serde_json::json!({"statusCode": 500, "body": format!("cannot serialise response: {e}")})
        });
        self.outputs.insert(name.into(), value);
        self
    }

    /// A raw JSON value for binding `name`, sent as is (subject to the host's conversions).
    pub fn raw(mut self, name: impl Into<String>, value: Value) -> Self {
        self.outputs.insert(name.into(), value);
        self
    }

    /// The value of the `$return` output binding.
    pub fn return_value(mut self, value: Value) -> Self {
        self.return_value = Some(value);
        self
    }

    /// The output map.
    pub fn outputs(&self) -> &Map<String, Value> {
        &self.outputs
    }

    /// The `$return` value, if set.
    pub fn get_return_value(&self) -> Option<&Value> {
        self.return_value.as_ref()
    }

    /// Split into the output map and the return value.
    pub fn into_parts(self) -> (Map<String, Value>, Option<Value>) {
        (self.outputs, self.return_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_bus_is_always_an_array_of_strings() {
        let o = Outputs::new().service_bus("results", ["abcd"]);
        assert_eq!(o.outputs()["results"], json!(["abcd"]));
        let o = o.service_bus("results", vec![String::from("{\"a\":1}")]);
        assert_eq!(o.outputs()["results"], json!(["abcd", "{\"a\":1}"]));
        let o = Outputs::new().service_bus("empty", Vec::<String>::new());
        assert_eq!(o.outputs()["empty"], json!([]));
    }

    #[test]
    fn blob_is_base64_and_return_value_is_kept() {
        let o = Outputs::new().blob("archive", [0xffu8, 0, 1]).return_value(json!({"x": 1}));
        assert_eq!(o.outputs()["archive"], json!("/wAB"));
        assert_eq!(o.get_return_value(), Some(&json!({"x": 1})));
    }

    #[test]
    fn http_output_is_an_object() {
        let o = Outputs::new().http("res", HttpResponse::new(204));
        assert_eq!(o.outputs()["res"], json!({"statusCode": 204, "body": null, "headers": {}}));
    }
}
