//! The Service Bus queue/topic trigger (extension v5; reference §1.4).
//!
//! # Body
//! Without `dataType` on the trigger the host binds the body to a string and double-encodes it:
//! `Data.<name>` is a JSON string holding the JSON encoding of the body text. With
//! `"dataType": "binary"` it is one base64 string (binary-safe; recommended). The two are told
//! apart exactly: after one JSON decode, the double-encoded form always starts with `"`, which
//! is not a base64 character.
//!
//! # Metadata and the body-merge quirk
//! The host copies the top-level properties of a JSON-object body into `Metadata`,
//! overwriting same-named keys case-insensitively: a body field `MessageId` *replaces* the
//! real message id, `DeliveryCount` the real delivery count, and so on. The typed fields of
//! [`ServiceBusMetadata`] then hold the body's values. [`ServiceBusMessage::shadowed_keys`]
//! lists the host metadata keys the body overwrote, so an application can refuse such
//! ambiguous messages (see [`ServiceBusMessage::is_ambiguous`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::FromInvocation;
use crate::decode::{datetime_of, get_ci, i64_of, string_of, u64_of};
use crate::envelope::{InvocationRequest, kind};
use crate::error::DecodeError;

/// The binding-data keys the Service Bus extension (v5) adds for a single message, plus the
/// host's `sys`. A body property with one of these names (case-insensitively) shadows it.
pub const METADATA_KEYS: &[&str] = &[
    "DeliveryCount",
    "DeadLetterSource",
    "LockToken",
    "ExpiresAtUtc",
    "ExpiresAt",
    "EnqueuedTimeUtc",
    "EnqueuedTime",
    "MessageId",
    "ContentType",
    "ReplyTo",
    "SequenceNumber",
    "To",
    "Subject",
    "Label",
    "CorrelationId",
    "ApplicationProperties",
    "UserProperties",
    "SessionId",
    "ReplyToSessionId",
    "PartitionKey",
    "TransactionPartitionKey",
    "MessageReceiver",
    "MessageSession",
    "MessageActions",
    "SessionActions",
    "ReceiveActions",
    "Client",
    "sys",
];

/// How the body arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `"dataType": "binary"`: one base64 string.
    Base64,
    /// The default string binding: a JSON string holding the JSON-encoded body text.
    DoubleEncoded,
}

/// A Service Bus message as delivered to the handler.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceBusMessage {
    /// The body bytes, exactly as sent (for the string binding: the UTF-8 body text).
    pub body: Vec<u8>,
    /// How the body was encoded on the wire.
    pub encoding: BodyEncoding,
    /// The typed metadata (see the module docs for the body-merge quirk).
    pub metadata: ServiceBusMetadata,
    /// Host metadata keys (from [`METADATA_KEYS`], with the metadata's casing) that the body's
    /// top-level properties overwrote. Empty for ordinary messages.
    pub shadowed_keys: Vec<String>,
}

impl ServiceBusMessage {
    /// The body as UTF-8 text.
    pub fn body_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// The body parsed as JSON into `T`.
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// True when the body overwrote host metadata (see [`ServiceBusMessage::shadowed_keys`]);
    /// the typed metadata can then not be trusted.
    pub fn is_ambiguous(&self) -> bool {
        !self.shadowed_keys.is_empty()
    }

    /// Decode the trigger value and metadata. `raw` is `Data.<binding>` as received.
    pub fn decode(binding: &str, raw: &Value, metadata: &Map<String, Value>) -> Result<Self, DecodeError> {
        let err = |reason: String| DecodeError::Trigger { binding: binding.to_string(), reason };
        let Value::String(text) = raw else {
            return Err(err(format!(
                "expected the message body as a string (base64 or JSON-encoded text), got {}",
                kind(raw)
            )));
        };
        let (body, encoding) = if text.starts_with('"') {
            let inner: String = serde_json::from_str(text)
                .map_err(|e| err(format!("body starts with '\"' but is not a JSON-encoded string: {e}")))?;
            (inner.into_bytes(), BodyEncoding::DoubleEncoded)
        } else {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|e| err(format!("body is neither base64 (dataType binary) nor a JSON-encoded string: {e}")))?;
            (bytes, BodyEncoding::Base64)
        };
        let shadowed_keys = shadowed_keys(&body, metadata);
        Ok(Self { body, encoding, metadata: ServiceBusMetadata::from_map(metadata), shadowed_keys })
    }
}

/// The metadata keys (with the metadata's casing) a JSON-object body overwrote: body top-level
/// properties whose value is not an array (the host skips arrays) and whose name matches one of
/// [`METADATA_KEYS`] case-insensitively.
pub fn shadowed_keys(body: &[u8], metadata: &Map<String, Value>) -> Vec<String> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = fields
        .iter()
        .filter(|(_, v)| !v.is_array())
        .filter_map(|(name, _)| {
            let known = METADATA_KEYS.iter().find(|k| k.eq_ignore_ascii_case(name))?;
            Some(
                metadata.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| (*known).to_string()),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

impl FromInvocation for ServiceBusMessage {
    fn from_invocation(binding: &str, request: &InvocationRequest) -> Result<Self, DecodeError> {
        Self::decode(binding, request.raw_trigger(binding)?, &request.metadata)
    }
}

/// The Service Bus metadata, typed. Every field is `None` when the key is absent (the host
/// drops null properties, e.g. `SessionId` on a queue without sessions) or unparseable; the
/// decoded values are all in [`ServiceBusMetadata::raw`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceBusMetadata {
    /// `MessageId`.
    pub message_id: Option<String>,
    /// `DeliveryCount` (1 on the first delivery; arrives as the string `"1"`).
    pub delivery_count: Option<u32>,
    /// `EnqueuedTimeUtc` (arrives with second precision and no `Z`; taken as UTC).
    pub enqueued_time_utc: Option<OffsetDateTime>,
    /// `ExpiresAtUtc`.
    pub expires_at_utc: Option<OffsetDateTime>,
    /// `CorrelationId`.
    pub correlation_id: Option<String>,
    /// `ContentType`.
    pub content_type: Option<String>,
    /// `SequenceNumber`.
    pub sequence_number: Option<i64>,
    /// `LockToken`.
    pub lock_token: Option<String>,
    /// `Subject`, or the older `Label`.
    pub subject: Option<String>,
    /// `ReplyTo`.
    pub reply_to: Option<String>,
    /// `SessionId`.
    pub session_id: Option<String>,
    /// `ApplicationProperties` (or the older `UserProperties`); empty when absent.
    pub application_properties: Map<String, Value>,
    /// All decoded metadata, including `sys` and the body's merged properties.
    pub raw: Map<String, Value>,
}

impl ServiceBusMetadata {
    /// Type the decoded metadata map.
    pub fn from_map(metadata: &Map<String, Value>) -> Self {
        let s = |key: &str| get_ci(metadata, key).and_then(string_of);
        let props = get_ci(metadata, "ApplicationProperties")
            .or_else(|| get_ci(metadata, "UserProperties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Self {
            message_id: s("MessageId"),
            delivery_count: get_ci(metadata, "DeliveryCount").and_then(u64_of).and_then(|n| u32::try_from(n).ok()),
            enqueued_time_utc: get_ci(metadata, "EnqueuedTimeUtc").and_then(datetime_of),
            expires_at_utc: get_ci(metadata, "ExpiresAtUtc").and_then(datetime_of),
            correlation_id: s("CorrelationId"),
            content_type: s("ContentType"),
            sequence_number: get_ci(metadata, "SequenceNumber").and_then(i64_of),
            lock_token: s("LockToken"),
            subject: s("Subject").or_else(|| s("Label")),
            reply_to: s("ReplyTo"),
            session_id: s("SessionId"),
            application_properties: props,
            raw: metadata.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_map;
    use serde_json::json;
    use time::macros::datetime;

    fn meta(v: Value) -> Map<String, Value> {
        decode_map(v.as_object().cloned().unwrap())
    }

    #[test]
    fn double_encoded_and_base64_bodies_give_the_same_bytes() {
        let body = r#"{"orderId":42}"#;
        let double = Value::String(serde_json::to_string(body).unwrap());
        let b64 = Value::String(STANDARD.encode(body));
        let m = Map::new();
        let a = ServiceBusMessage::decode("msg", &double, &m).unwrap();
        let b = ServiceBusMessage::decode("msg", &b64, &m).unwrap();
        assert_eq!(a.body, body.as_bytes());
        assert_eq!(b.body, body.as_bytes());
        assert_eq!(a.encoding, BodyEncoding::DoubleEncoded);
        assert_eq!(b.encoding, BodyEncoding::Base64);
        #[derive(serde::Deserialize)]
        #[allow(non_snake_case)]
        struct Order {
            orderId: u32,
        }
        assert_eq!(a.body_json::<Order>().unwrap().orderId, 42);
    }

    #[test]
    fn a_text_body_that_is_valid_base64_is_not_mistaken_for_base64() {
        // "abcd" is valid base64, but the string binding double-encodes it.
        let raw = Value::String("\"abcd\"".into());
        let m = ServiceBusMessage::decode("msg", &raw, &Map::new()).unwrap();
        assert_eq!(m.body_str().unwrap(), "abcd");
        assert_eq!(m.encoding, BodyEncoding::DoubleEncoded);
    }

    #[test]
    fn binary_bodies_survive() {
        let bytes = vec![0xff, 0x00, 0xfe, b'"', 0x80];
        let raw = Value::String(STANDARD.encode(&bytes));
        let m = ServiceBusMessage::decode("msg", &raw, &Map::new()).unwrap();
        assert_eq!(m.body, bytes);
        assert!(m.body_str().is_err());
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        for raw in [json!("!!notbase64"), json!(5), json!({"a": 1}), json!("\"unterminated")] {
            let e = ServiceBusMessage::decode("msg", &raw, &Map::new()).unwrap_err();
            assert!(e.to_string().contains("\"msg\""), "{e}");
        }
    }

    #[test]
    fn metadata_is_typed_from_the_host_encoding() {
        let m = ServiceBusMetadata::from_map(&meta(json!({
            "DeliveryCount": "3", "SequenceNumber": "42",
            "MessageId": "\"m-1\"", "LockToken": "\"lt\"", "CorrelationId": "\"c\"",
            "ContentType": "\"application/json\"", "Label": "\"lbl\"", "ReplyTo": "\"r\"",
            "EnqueuedTimeUtc": "2024-01-15T12:00:00", "ExpiresAtUtc": "9999-12-31T23:59:59",
            "UserProperties": {"tenant": "t1", "n": 5}
        })));
        assert_eq!(m.delivery_count, Some(3));
        assert_eq!(m.sequence_number, Some(42));
        assert_eq!(m.message_id.as_deref(), Some("m-1"));
        assert_eq!(m.lock_token.as_deref(), Some("lt"));
        assert_eq!(m.correlation_id.as_deref(), Some("c"));
        assert_eq!(m.content_type.as_deref(), Some("application/json"));
        assert_eq!(m.subject.as_deref(), Some("lbl"));
        assert_eq!(m.reply_to.as_deref(), Some("r"));
        assert_eq!(m.session_id, None);
        assert_eq!(m.enqueued_time_utc, Some(datetime!(2024-01-15 12:00:00 UTC)));
        assert_eq!(m.expires_at_utc, Some(datetime!(9999-12-31 23:59:59 UTC)));
        assert_eq!(m.application_properties["n"], json!(5));
    }

    #[test]
    fn shadowing_body_fields_are_reported_with_metadata_casing() {
        let body = br#"{"messageId":"evil","requestId":"r1","Label":["arrays","skip"],"sys":{}}"#;
        let metadata = meta(json!({"MessageId": "\"evil\"", "requestId": "\"r1\"", "sys": {}}));
        assert_eq!(shadowed_keys(body, &metadata), vec!["MessageId", "sys"]);
        assert!(shadowed_keys(br#"{"requestId":"r1"}"#, &metadata).is_empty());
        assert!(shadowed_keys(b"not json", &metadata).is_empty());
        assert!(shadowed_keys(b"[1,2]", &metadata).is_empty());
    }
}
