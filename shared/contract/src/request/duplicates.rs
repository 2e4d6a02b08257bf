//! Duplicate JSON keys: one message, one meaning.
//!
//! JSON (RFC 8259 §4) only says keys "SHOULD be unique"; parsers disagree on what a repeated key means.
//! serde_json (and so `serde_json::Value` and every `Deserialize` we run) keeps the **last** value, while many
//! validators, gateways and reviewers' tools keep the **first**. A request with two `targetResourceGroupId`s could
//! be approved for one group and restored into another, so a repeated key anywhere refuses the whole message.
//!
//! The check has to read the raw text: by the time a `Value` or a typed struct exists the earlier value is gone.
//! It is a small [`serde::de::Visitor`] over the same serde_json parser (so it accepts exactly the JSON the
//! decoder accepts, with the same nesting limit), which keeps a set of the keys of each object and stops at the
//! first repeat, remembering its JSON path. Keys are compared after unescaping (`"requestI\u0064"` is
//! `requestId`), as the decoder would see them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::parse::printable;

/// The first repeated key found: its JSON path (`operation.targetResourceGroupId`, `""`-rooted) and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Path of the repeated key, in the style of [`super::RequestError::field`] (`a.b[2].c`).
    pub path: String,
    /// The key itself (made printable).
    pub key: String,
}

/// The marker error that stops the scan at the first duplicate (the path is in the scan's state).
const FOUND: &str = "duplicate key found";

/// Finds the first repeated object key anywhere in `bytes`. `Ok(None)` when every object's keys are unique;
/// `Err` when the bytes are not JSON (the caller reports syntax errors from its own parse).
pub fn find_duplicate_key(bytes: &[u8]) -> Result<Option<DuplicateKey>, serde_json::Error> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let outcome = Node { path: String::new(), found: &found }.deserialize(&mut de).and_then(|()| de.end());
    match (outcome, found.into_inner()) {
        (_, Some(dup)) => Ok(Some(dup)),
        (Ok(()), None) => Ok(None),
        (Err(e), None) => Err(e),
    }
}

/// One JSON value at `path`.
struct Node<'a> {
    path: String,
    found: &'a RefCell<Option<DuplicateKey>>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let child = Node { path: format!("{}[{index}]", self.path), found: self.found };
            if seq.next_element_seed(child)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let shown = printable(&key);
            let path = if self.path.is_empty() { shown.clone() } else { format!("{}.{shown}", self.path) };
            if seen.contains(&key) {
                *self.found.borrow_mut() = Some(DuplicateKey { path, key: shown });
                return Err(de::Error::custom(FOUND));
            }
            map.next_value_seed(Node { path, found: self.found })?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(text: &str) -> Option<String> {
        find_duplicate_key(text.as_bytes()).expect("valid JSON").map(|d| d.path)
    }

    #[test]
    fn unique_keys_pass() {
        assert_eq!(dup(r#"{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]}}"#), None);
        assert_eq!(dup("[]"), None);
        assert_eq!(dup(r#""x""#), None);
    }

    #[test]
    fn the_first_repeat_is_named_by_its_path() {
        assert_eq!(dup(r#"{"requestId":"a","requestId":"b"}"#).as_deref(), Some("requestId"));
        assert_eq!(dup(r#"{"operation":{"kind":"x","kind":"y"}}"#).as_deref(), Some("operation.kind"));
        assert_eq!(dup(r#"{"a":[1,{"b":1,"b":2}]}"#).as_deref(), Some("a[1].b"));
        assert_eq!(dup(r#"[{"x":1},{"y":1,"y":1}]"#).as_deref(), Some("[1].y"));
    }

    #[test]
    fn escaped_keys_are_compared_as_the_decoder_sees_them() {
        assert_eq!(dup(r#"{"requestId":"a","requestI\u0064":"b"}"#).as_deref(), Some("requestId"));
    }

    #[test]
    fn invalid_json_is_an_error_not_a_verdict() {
        assert!(find_duplicate_key(b"{\"a\":").is_err());
        assert!(find_duplicate_key(b"{} {}").is_err());
    }
}
