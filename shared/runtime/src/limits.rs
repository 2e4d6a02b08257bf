//! The request body limit: how large an invocation the runtime reads before it parses the host's envelope.
//!
//! The Functions host wraps a Service Bus message in an envelope that grows it (reference §1.3). A string-typed
//! body is treated as text and written as a JSON string holding the JSON text of that string, so each `"` or `\`
//! of the body becomes 4 bytes on the wire (a raw control byte, not valid JSON, 7: `\\u0001`); a binary body is
//! base64 (4/3). For a JSON body the host also copies each top-level property into `Metadata`, as a string holding
//! the property's JSON text: up to 2 bytes per body byte more. Application properties (up to 64 KB on the standard
//! tier) appear twice (`ApplicationProperties`, `UserProperties`), and the fixed metadata (ids, times, the client
//! block, `sys`) is a few KB. So the worst case is 7× the body (6× for a JSON body) plus about 130 KB. We allow 8×
//! plus 144 KiB: the encoding rules come from the host's source, not a specification, and a margin costs only a
//! little memory. A message within the policy's `maxMessageBytes` therefore never produces an envelope over
//! [`envelope_limit_for`]`(maxMessageBytes)`, and anything larger cannot carry an acceptable message: it is refused
//! before it is buffered or parsed (Premium-tier messages reach 100 MB).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Growth allowed per body byte in the envelope (worst case seen: 7, see the module doc).
pub const ENVELOPE_GROWTH: usize = 8;

/// The envelope's fixed overhead: application properties twice (2 × 64 KiB) and the fixed metadata (16 KiB).
pub const ENVELOPE_OVERHEAD_BYTES: usize = 2 * 64 * 1024 + 16 * 1024;

/// The largest envelope a message of `max_message_bytes` can arrive in.
pub const fn envelope_limit_for(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(ENVELOPE_GROWTH).saturating_add(ENVELOPE_OVERHEAD_BYTES)
}

/// A body limit shared between the runtime and the app: the app knows `maxMessageBytes` only once its policy is
/// loaded, which happens after the runtime starts serving (see [`crate::app::main`]), so the value can be set
/// later through any clone.
#[derive(Debug, Clone)]
pub struct BodyLimit {
    max_message_bytes: Arc<AtomicUsize>,
}

impl BodyLimit {
    /// A limit for messages of at most `max_message_bytes` (the policy's `maxMessageBytes`).
    pub fn for_message_bytes(max_message_bytes: usize) -> Self {
        BodyLimit { max_message_bytes: Arc::new(AtomicUsize::new(max_message_bytes)) }
    }

    /// Changes the message size the limit is derived from (every clone sees it).
    pub fn set_message_bytes(&self, max_message_bytes: usize) {
        self.max_message_bytes.store(max_message_bytes, Ordering::Relaxed);
    }

    /// The message size the limit is derived from.
    pub fn message_bytes(&self) -> usize {
        self.max_message_bytes.load(Ordering::Relaxed)
    }

    /// The body limit in bytes: [`envelope_limit_for`] the message size.
    pub fn envelope_bytes(&self) -> usize {
        envelope_limit_for(self.message_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{Value, json};

    /// The envelope as the host writes it (module doc): the body as a string of its own JSON text, and for a
    /// JSON body each top-level property as a string of its JSON text in Metadata, plus both property bags full.
    fn host_envelope(body: &str) -> String {
        let mut metadata = serde_json::Map::new();
        if let Ok(Value::Object(props)) = serde_json::from_str::<Value>(body) {
            for (k, v) in props {
                metadata.insert(k, Value::String(v.to_string()));
            }
        }
        let props = json!({"p": "p".repeat(64 * 1024 - 8)});
        metadata.insert("ApplicationProperties".into(), props.clone());
        metadata.insert("UserProperties".into(), props);
        let data = Value::String(Value::String(body.to_string()).to_string());
        json!({"Data": {"message": data}, "Metadata": metadata}).to_string()
    }

    #[test]
    fn the_limit_covers_the_worst_case_envelopes_of_a_message_at_the_limit() {
        let max = 64 * 1024;
        // A JSON body of escaped backslashes (each 4× in Data, 2× more in Metadata), and a body of raw control
        // bytes (7× in Data; not JSON, so not copied into Metadata).
        let json_body = format!("{{\"a\":\"{}\"}}", "\\\\".repeat((max - 10) / 2));
        let control_body = "\u{1}".repeat(max);
        for (what, body) in [("JSON", json_body), ("control bytes", control_body)] {
            assert!(body.len() <= max, "{what}: the test body is within maxMessageBytes");
            let envelope = host_envelope(&body);
            let limit = envelope_limit_for(max);
            assert!(envelope.len() <= limit, "{what}: {} > {limit}", envelope.len());
            assert!(envelope.len() > limit * 3 / 4, "{what}: the limit is not loose ({} vs {limit})", envelope.len());
        }
    }

    #[test]
    fn clones_share_the_value_and_nothing_overflows() {
        let limit = BodyLimit::for_message_bytes(1024);
        let clone = limit.clone();
        clone.set_message_bytes(2048);
        assert_eq!(limit.envelope_bytes(), envelope_limit_for(2048));
        assert_eq!(envelope_limit_for(usize::MAX), usize::MAX);
    }
}
