//! The host's value-encoding rules, undone (reference §1.3).
//!
//! The Functions host serialises every `Data`/`Metadata` value on its own:
//! * objects (POCOs, dictionaries) arrive as JSON objects;
//! * strings, numbers, booleans and arrays arrive as **a JSON string holding JSON text**: the
//!   string `hello` arrives as `"\"hello\""`, the number `1` as `"1"`, `["a"]` as `"[\"a\"]"`;
//! * `DateTime` arrives as `"2024-01-15T12:00:00"` (no fraction, no `Z`, meaning UTC) and
//!   `DateTimeOffset` as `"2024-01-15T12:00:00+00:00"`; these are *not* JSON text.
//!
//! The robust rule, applied by [`decode_value`]: a string value is tried with
//! `serde_json::from_str`; if that parses, the parsed value is used, otherwise the raw string is
//! kept (the dates). Objects and arrays are used as they are.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Undo the host's double encoding of one top-level `Data`/`Metadata` value.
pub fn decode_value(value: Value) -> Value {
    match value {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }
}

/// [`decode_value`] applied to every value of a map (not recursively: nested values were
/// serialised by the host as part of their parent object and need no decoding).
pub fn decode_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter().map(|(k, v)| (k, decode_value(v))).collect()
}

/// Look a key up exactly, then case-insensitively (the host's binding data is a
/// case-insensitive dictionary).
pub fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

const LOCAL: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");

/// Parse a date as the host sends it. Accepts RFC 3339 (`…Z`, `…+00:00`, with or without a
/// fraction) and the offset-less `DateTime` form `2024-01-15T12:00:00[.fffffff]`, which the host
/// produces from UTC values and is therefore taken as UTC.
pub fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(text, LOCAL) {
        return Some(t.assume_utc());
    }
    // `…+00:00` with a fraction longer than RFC 3339 parsers like, or a space separator.
    let offset_form: &[FormatItem<'static>] = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]][offset_hour]:[offset_minute]"
    );
    OffsetDateTime::parse(text, offset_form).ok()
}

/// A date inside a decoded value: a string parsed with [`parse_datetime`].
pub fn datetime_of(value: &Value) -> Option<OffsetDateTime> {
    value.as_str().and_then(parse_datetime)
}

/// An integer inside a decoded value: a JSON number, or a string holding one (tolerates values
/// that were not double-encoded).
pub fn u64_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A signed integer inside a decoded value (see [`u64_of`]).
pub fn i64_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string inside a decoded value. Scalars other than strings are rendered as JSON text
/// (a body field `"MessageId": 7` shadowing the real one still yields `"7"`).
pub fn string_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Serde helper: an optional date in any form [`parse_datetime`] accepts; `null`, absent or
/// unparseable → `None`.
pub fn lenient_datetime<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value.as_ref().and_then(datetime_of))
}

/// Serde helper for serialising an optional date as RFC 3339 (`2024-01-15T12:00:00Z`).
pub mod rfc3339_option {
    use serde::Serializer;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Serialise `Some(t)` as RFC 3339 text and `None` as `null`.
    pub fn serialize<S: Serializer>(value: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => {
                let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
                serializer.serialize_some(&text)
            }
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn strings_holding_json_text_are_decoded() {
        assert_eq!(decode_value(json!("\"hello\"")), json!("hello"));
        assert_eq!(decode_value(json!("1")), json!(1));
        assert_eq!(decode_value(json!("true")), json!(true));
        assert_eq!(decode_value(json!("[\"a\",\"b\"]")), json!(["a", "b"]));
        assert_eq!(decode_value(json!("{\"x\":1}")), json!({"x": 1}));
    }

    #[test]
    fn strings_that_are_not_json_are_kept_raw() {
        assert_eq!(decode_value(json!("2024-01-15T12:00:00")), json!("2024-01-15T12:00:00"));
        assert_eq!(decode_value(json!("2024-01-15T12:00:00+00:00")), json!("2024-01-15T12:00:00+00:00"));
        assert_eq!(decode_value(json!("plain")), json!("plain"));
    }

    #[test]
    fn objects_and_arrays_are_used_as_they_are() {
        // A nested string holding JSON text is NOT decoded again.
        let obj = json!({"a": "\"quoted\"", "n": 5});
        assert_eq!(decode_value(obj.clone()), obj);
        assert_eq!(decode_value(json!([1, "2"])), json!([1, "2"]));
        assert_eq!(decode_value(Value::Null), Value::Null);
    }

    #[test]
    fn host_dates_parse_as_utc() {
        assert_eq!(parse_datetime("2024-01-15T12:00:00"), Some(datetime!(2024-01-15 12:00:00 UTC)));
        assert_eq!(parse_datetime("2024-01-15T12:00:00+00:00"), Some(datetime!(2024-01-15 12:00:00 UTC)));
        assert_eq!(parse_datetime("2024-01-15T12:00:01.1234567Z"), Some(datetime!(2024-01-15 12:00:01.1234567 UTC)));
        assert_eq!(parse_datetime("2024-01-15T11:00:00.1234567"), Some(datetime!(2024-01-15 11:00:00.1234567 UTC)));
        assert_eq!(parse_datetime("2024-01-15T14:00:00+02:00"), Some(datetime!(2024-01-15 12:00:00 UTC)));
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2024-13-45T12:00:00"), None);
    }

    #[test]
    fn numbers_tolerate_both_encodings() {
        assert_eq!(u64_of(&json!(3)), Some(3));
        assert_eq!(u64_of(&json!("3")), Some(3));
        assert_eq!(u64_of(&json!("x")), None);
        assert_eq!(i64_of(&json!(-4)), Some(-4));
    }

    #[test]
    fn case_insensitive_lookup_prefers_exact() {
        let map = json!({"MessageId": "a", "messageid": "b", "Other": 1});
        let map = map.as_object().cloned().unwrap_or_default();
        assert_eq!(get_ci(&map, "messageid"), Some(&json!("b")));
        assert_eq!(get_ci(&map, "other"), Some(&json!(1)));
        assert_eq!(get_ci(&map, "none"), None);
    }
}
