//! Trigger payloads: Service Bus (§1.4), timer (§1.5), HTTP (§1.6).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::invocation::{HostInvocation, HostValue, format_datetime};

/// The trigger's `dataType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataType {
    /// No `dataType` (the string binding): the body is double-encoded.
    #[default]
    String,
    /// `"dataType": "binary"`: the body is one base64 string.
    Binary,
}

/// A Service Bus trigger binding from function.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbTrigger {
    /// The binding `name`.
    pub binding: String,
    /// Its `dataType`.
    pub data_type: DataType,
}

impl SbTrigger {
    /// A trigger named `binding` with the default (string) data type.
    pub fn new(binding: impl Into<String>) -> Self {
        Self { binding: binding.into(), data_type: DataType::String }
    }

    /// With `"dataType": "binary"`.
    pub fn binary(mut self) -> Self {
        self.data_type = DataType::Binary;
        self
    }
}

/// A Service Bus message as the broker holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SbMessage {
    /// `MessageId`.
    pub message_id: String,
    /// The body bytes.
    pub body: Vec<u8>,
    /// `CorrelationId`.
    pub correlation_id: Option<String>,
    /// `ContentType`.
    pub content_type: Option<String>,
    /// `Subject` (also sent as `Label`).
    pub subject: Option<String>,
    /// `ReplyTo`.
    pub reply_to: Option<String>,
    /// `SessionId`.
    pub session_id: Option<String>,
    /// `ApplicationProperties` (also sent as `UserProperties`).
    pub application_properties: Map<String, Value>,
    /// `EnqueuedTime`.
    pub enqueued_time: OffsetDateTime,
    /// `ExpiresAt`.
    pub expires_at: OffsetDateTime,
    /// `SequenceNumber`.
    pub sequence_number: i64,
    /// `LockToken` of the current delivery.
    pub lock_token: String,
    /// `DeliveryCount` of the current delivery (1 on the first).
    pub delivery_count: u32,
}

impl SbMessage {
    /// A message with this body, a random MessageId, enqueued now, never expiring.
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            message_id: uuid::Uuid::new_v4().simple().to_string(),
            body: body.into(),
            correlation_id: None,
            content_type: None,
            subject: None,
            reply_to: None,
            session_id: None,
            application_properties: Map::new(),
            enqueued_time: OffsetDateTime::now_utc(),
            expires_at: datetime!(9999-12-31 23:59:59 UTC),
            sequence_number: 1,
            lock_token: uuid::Uuid::new_v4().to_string(),
            delivery_count: 1,
        }
    }

    /// Set `MessageId`.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = id.into();
        self
    }

    /// Set `CorrelationId`.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Set `ContentType`.
    pub fn content_type(mut self, ct: impl Into<String>) -> Self {
        self.content_type = Some(ct.into());
        self
    }

    /// Set `Subject`.
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = Some(s.into());
        self
    }

    /// Add an application property.
    pub fn property(mut self, key: impl Into<String>, value: Value) -> Self {
        self.application_properties.insert(key.into(), value);
        self
    }

    /// Set `EnqueuedTime`.
    pub fn enqueued_at(mut self, t: OffsetDateTime) -> Self {
        self.enqueued_time = t;
        self
    }

    /// Set `DeliveryCount`.
    pub fn delivery_count(mut self, n: u32) -> Self {
        self.delivery_count = n;
        self
    }

    /// The invocation the host sends for this delivery to `function` (reference §1.4).
    pub fn invocation(&self, function: impl Into<String>, trigger: &SbTrigger) -> HostInvocation {
        let body = match trigger.data_type {
            DataType::Binary => HostValue::Bytes(self.body.clone()),
            // MessageToStringConverter: strict UTF-8, then (approximately) a lossy fallback.
            DataType::String => HostValue::String(String::from_utf8_lossy(&self.body).into_owned()),
        };
        let props = HostValue::Object(self.application_properties.clone());
        let opt = |v: &Option<String>| v.clone().map_or(HostValue::Null, HostValue::String);
        let mut inv = HostInvocation::new(function)
            .data(trigger.binding.clone(), body)
            .metadata("DeliveryCount", HostValue::Int(i64::from(self.delivery_count)))
            .metadata("LockToken", HostValue::str(self.lock_token.clone()))
            .metadata("ExpiresAtUtc", HostValue::DateTime(self.expires_at))
            .metadata("ExpiresAt", HostValue::DateTimeOffset(self.expires_at))
            .metadata("EnqueuedTimeUtc", HostValue::DateTime(self.enqueued_time))
            .metadata("EnqueuedTime", HostValue::DateTimeOffset(self.enqueued_time))
            .metadata("MessageId", HostValue::str(self.message_id.clone()))
            .metadata("ContentType", opt(&self.content_type))
            .metadata("ReplyTo", opt(&self.reply_to))
            .metadata("SequenceNumber", HostValue::Int(self.sequence_number))
            .metadata("Subject", opt(&self.subject))
            .metadata("Label", opt(&self.subject))
            .metadata("CorrelationId", opt(&self.correlation_id))
            .metadata("ApplicationProperties", props.clone())
            .metadata("UserProperties", props)
            .metadata("SessionId", opt(&self.session_id))
            .metadata(
                "Client",
                HostValue::Object(object(json!({
                    "FullyQualifiedNamespace": "simulator.servicebus.windows.net",
                    "IsClosed": false,
                    "TransportType": 0,
                    "Identifier": "simulator-client"
                }))),
            )
            .metadata("MessageActions", HostValue::Object(Map::new()))
            .metadata("ReceiveActions", HostValue::Object(Map::new()));
        if trigger.data_type == DataType::String {
            inv = merge_body_properties(inv, &self.body);
        }
        inv
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The host's `ApplyBindingData`: a string body that is a JSON object has its top-level
/// properties copied into the binding data (case-insensitive overwrite keeping the existing
/// key's casing): objects as objects, scalars as their text (then double-encoded), arrays and
/// nulls skipped. [derived: only for string-bound bodies]
pub fn merge_body_properties(mut inv: HostInvocation, body: &[u8]) -> HostInvocation {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return inv;
    };
    for (key, value) in fields {
        let host_value = match value {
            Value::Array(_) | Value::Null => continue,
            Value::Object(map) => HostValue::Object(map),
            Value::String(s) => HostValue::String(s),
            Value::Bool(b) => HostValue::String(if b { "True" } else { "False" }.into()),
            Value::Number(n) => HostValue::String(n.to_string()),
        };
        inv = inv.metadata(key, host_value);
    }
    inv
}

/// A timer trigger payload (reference §1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct TimerPayload {
    /// `Schedule.AdjustForDST`.
    pub adjust_for_dst: bool,
    /// `ScheduleStatus` (`None` → `null`): last, next, last updated.
    pub status: Option<(OffsetDateTime, OffsetDateTime, OffsetDateTime)>,
    /// `IsPastDue`.
    pub is_past_due: bool,
}

impl TimerPayload {
    /// `ScheduleStatus: null`, not past due.
    pub fn without_status() -> Self {
        Self { adjust_for_dst: true, status: None, is_past_due: false }
    }

    /// The invocation for `function` with trigger binding `binding`. The binding data key
    /// `TimerTrigger` is dropped by the "ends with trigger" rule, so Metadata holds only `sys`.
    pub fn invocation(&self, function: impl Into<String>, binding: impl Into<String>) -> HostInvocation {
        let status = match self.status {
            None => Value::Null,
            Some((last, next, updated)) => json!({
                "Last": format_datetime(last),
                "Next": format_datetime(next),
                // LastUpdated keeps its fraction (a DateTime inside an object).
                "LastUpdated": updated
                    .to_offset(time::UtcOffset::UTC)
                    .format(time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
                    ))
                    .unwrap_or_default(),
            }),
        };
        let info = object(json!({
            "Schedule": {"AdjustForDST": self.adjust_for_dst},
            "ScheduleStatus": status,
            "IsPastDue": self.is_past_due,
        }));
        HostInvocation::new(function)
            .data(binding, HostValue::Object(info))
            .metadata("TimerTrigger", HostValue::str("ignored"))
    }
}

/// An HTTP trigger request (default, non-forwarding mode; reference §1.6).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpTriggerRequest {
    /// `Method`.
    pub method: String,
    /// `Url`.
    pub url: String,
    /// `Query`.
    pub query: BTreeMap<String, String>,
    /// `Headers` (values are arrays).
    pub headers: BTreeMap<String, Vec<String>>,
    /// `Params` (route parameters).
    pub params: BTreeMap<String, String>,
    /// `Body` (raw text).
    pub body: String,
}

impl HttpTriggerRequest {
    /// The invocation for `function` with trigger binding `binding`.
    pub fn invocation(&self, function: impl Into<String>, binding: impl Into<String>) -> HostInvocation {
        let req = object(json!({
            "Url": self.url,
            "Method": self.method,
            "Query": self.query,
            "Headers": self.headers,
            "Params": self.params,
            "Identities": [],
            "Body": self.body,
        }));
        let mut inv = HostInvocation::new(function)
            .data(binding, HostValue::Object(req))
            .metadata("Query", HostValue::Object(object(json!(self.query))))
            .metadata("Headers", HostValue::Object(object(json!(self.headers))));
        for (k, v) in &self.params {
            inv = inv.metadata(k.clone(), HostValue::str(v.clone()));
        }
        merge_body_properties(inv, self.body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_bodies_are_double_encoded_and_binary_bodies_base64() {
        let msg = SbMessage::new(r#"{"orderId":42}"#).message_id("m1");
        let inv = msg.invocation("F", &SbTrigger::new("msg"));
        assert_eq!(inv.data["msg"], json!("\"{\\\"orderId\\\":42}\""));
        assert_eq!(inv.metadata["MessageId"], json!("\"m1\""));
        assert_eq!(inv.metadata["DeliveryCount"], json!("1"));
        assert_eq!(inv.metadata["orderId"], json!("\"42\""), "body merged into metadata");
        assert!(!inv.metadata.contains_key("SessionId"), "nulls dropped");
        let inv = msg.invocation("F", &SbTrigger::new("msg").binary());
        assert_eq!(inv.data["msg"], json!("eyJvcmRlcklkIjo0Mn0="));
        assert!(!inv.metadata.contains_key("orderId"));
    }

    #[test]
    fn a_body_message_id_overwrites_the_real_one_keeping_casing() {
        let msg = SbMessage::new(r#"{"messageid":"evil","tags":["a"],"nested":{"x":1}}"#).message_id("real");
        let inv = msg.invocation("F", &SbTrigger::new("msg"));
        assert_eq!(inv.metadata["MessageId"], json!("\"evil\""));
        assert!(!inv.metadata.contains_key("messageid"));
        assert!(!inv.metadata.contains_key("tags"));
        assert_eq!(inv.metadata["nested"], json!({"x": 1}));
    }

    #[test]
    fn timer_metadata_has_only_sys() {
        let inv = TimerPayload::without_status().invocation("T", "timer");
        assert!(inv.metadata.is_empty());
        assert_eq!(inv.data["timer"]["ScheduleStatus"], Value::Null);
        assert_eq!(inv.body()["Metadata"].as_object().map(|m| m.len()), Some(1));
    }
}
