//! Building invocation envelopes exactly as the host serialises them (reference §1.2–1.3).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

/// A .NET value as the host holds it before serialisation; [`HostValue::encode`] applies the
/// host's rules.
#[derive(Debug, Clone, PartialEq)]
pub enum HostValue {
    /// `null`: dropped from the envelope.
    Null,
    /// A string: JSON-encoded inside a string (`"\"hello\""`).
    String(String),
    /// An integer: a string holding its JSON (`"1"`).
    Int(i64),
    /// A boolean: `"true"`/`"false"`.
    Bool(bool),
    /// A `DateTime` (UTC): `"2024-01-15T12:00:00"` (no fraction, no `Z`).
    DateTime(OffsetDateTime),
    /// A `DateTimeOffset`: `"2024-01-15T12:00:00+00:00"` (no fraction).
    DateTimeOffset(OffsetDateTime),
    /// A `byte[]`: one base64 string.
    Bytes(Vec<u8>),
    /// A POCO or dictionary: a JSON object, as is.
    Object(Map<String, Value>),
    /// An array: a string holding its JSON (`"[\"a\",\"b\"]"`).
    Array(Vec<Value>),
}

impl HostValue {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        HostValue::String(s.into())
    }

    /// The value as the host writes it into `Data`/`Metadata`; `None` when it is dropped.
    pub fn encode(&self) -> Option<Value> {
        Some(match self {
            HostValue::Null => return None,
            HostValue::String(s) => Value::String(Value::String(s.clone()).to_string()),
            HostValue::Int(n) => Value::String(n.to_string()),
            HostValue::Bool(b) => Value::String(b.to_string()),
            HostValue::DateTime(t) => Value::String(format_datetime(*t)),
            HostValue::DateTimeOffset(t) => Value::String(format_datetime_offset(*t)),
            HostValue::Bytes(b) => Value::String(STANDARD.encode(b)),
            HostValue::Object(map) => Value::Object(map.clone()),
            HostValue::Array(items) => Value::String(Value::Array(items.clone()).to_string()),
        })
    }
}

/// `DateTime.Parse(value.ToString())` of a UTC value: `2024-01-15T12:00:00`.
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]")).unwrap_or_default()
}

/// `DateTimeOffset.Parse(value.ToString())`: `2024-01-15T12:00:00+00:00`.
pub fn format_datetime_offset(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    ))
    .unwrap_or_default()
}

/// How Newtonsoft writes a UTC `DateTime` inside an object: 7 fraction digits and `Z`.
pub fn format_datetime_7z(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"))
        .unwrap_or_default()
}

/// One invocation as the host would send it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostInvocation {
    /// The function (folder) name: the URL path.
    pub function: String,
    /// `X-Azure-Functions-InvocationId`.
    pub invocation_id: String,
    /// An optional W3C `traceparent` header.
    pub traceparent: Option<String>,
    /// `Data`, already encoded.
    pub data: Map<String, Value>,
    /// `Metadata` without `sys`, already encoded.
    pub metadata: Map<String, Value>,
    /// `sys.UtcNow`.
    pub utc_now: OffsetDateTime,
    /// `sys.RandGuid`.
    pub rand_guid: String,
}

impl HostInvocation {
    /// An invocation of `function` with a fresh invocation id, empty `Data` and `Metadata`.
    pub fn new(function: impl Into<String>) -> Self {
        Self {
            function: function.into(),
            invocation_id: uuid::Uuid::new_v4().to_string(),
            traceparent: None,
            data: Map::new(),
            metadata: Map::new(),
            utc_now: OffsetDateTime::now_utc(),
            rand_guid: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Set an input binding value (encoded; `Null` is dropped).
    pub fn data(mut self, binding: impl Into<String>, value: HostValue) -> Self {
        let binding = binding.into();
        match value.encode() {
            Some(v) => {
                self.data.insert(binding, v);
            }
            None => {
                self.data.remove(&binding);
            }
        }
        self
    }

    /// Set an input binding to an already-encoded JSON value (for malformed-input tests).
    pub fn data_raw(mut self, binding: impl Into<String>, value: Value) -> Self {
        self.data.insert(binding.into(), value);
        self
    }

    /// Set a metadata value (encoded). Keys ending in "trigger" (any case) and nulls are
    /// dropped, as the host does. An existing key matching case-insensitively is overwritten
    /// and keeps its casing (the binding data is a case-insensitive dictionary).
    pub fn metadata(mut self, key: impl Into<String>, value: HostValue) -> Self {
        let key = key.into();
        if key.to_ascii_lowercase().ends_with("trigger") {
            return self;
        }
        let existing = self.metadata.keys().find(|k| k.eq_ignore_ascii_case(&key)).cloned();
        match (value.encode(), existing) {
            (Some(v), Some(k)) => {
                self.metadata.insert(k, v);
            }
            (Some(v), None) => {
                self.metadata.insert(key, v);
            }
            (None, _) => {}
        }
        self
    }

    /// Add a `traceparent` header.
    pub fn traceparent(mut self, value: impl Into<String>) -> Self {
        self.traceparent = Some(value.into());
        self
    }

    /// The JSON body: `{"Data": {...}, "Metadata": {..., "sys": {...}}}`.
    pub fn body(&self) -> Value {
        let mut metadata = self.metadata.clone();
        metadata.insert(
            "sys".into(),
            json!({
                "MethodName": self.function,
                "UtcNow": format_datetime_7z(self.utc_now),
                "RandGuid": self.rand_guid,
            }),
        );
        json!({ "Data": self.data, "Metadata": metadata })
    }

    /// The JSON body as bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body().to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn values_are_encoded_like_the_host() {
        assert_eq!(HostValue::str("hello").encode(), Some(json!("\"hello\"")));
        assert_eq!(HostValue::Int(4).encode(), Some(json!("4")));
        assert_eq!(HostValue::Bool(true).encode(), Some(json!("true")));
        assert_eq!(HostValue::Array(vec![json!("a"), json!("b")]).encode(), Some(json!("[\"a\",\"b\"]")));
        let t = datetime!(2024-01-15 12:00:00.987 UTC);
        assert_eq!(HostValue::DateTime(t).encode(), Some(json!("2024-01-15T12:00:00")));
        assert_eq!(HostValue::DateTimeOffset(t).encode(), Some(json!("2024-01-15T12:00:00+00:00")));
        assert_eq!(HostValue::Bytes(b"{\"orderId\":42}".to_vec()).encode(), Some(json!("eyJvcmRlcklkIjo0Mn0=")));
        assert_eq!(HostValue::Null.encode(), None);
        assert_eq!(format_datetime_7z(t), "2024-01-15T12:00:00.9870000Z");
    }

    #[test]
    fn metadata_drops_trigger_keys_and_nulls_and_overwrites_case_insensitively() {
        let inv = HostInvocation::new("F")
            .metadata("TimerTrigger", HostValue::str("x"))
            .metadata("SessionId", HostValue::Null)
            .metadata("MessageId", HostValue::str("real"))
            .metadata("messageId", HostValue::str("body"));
        assert_eq!(inv.metadata.len(), 1);
        assert_eq!(inv.metadata["MessageId"], json!("\"body\""));
        let body = inv.body();
        assert_eq!(body["Metadata"]["sys"]["MethodName"], json!("F"));
    }
}
