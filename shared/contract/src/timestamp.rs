//! RFC 3339 timestamps for the message contract.
//!
//! A newtype instead of `time::OffsetDateTime` with `#[serde(with)]`, so the JSON Schema says
//! `"format": "date-time"` and a bad value gets one clear message that shows the expected form.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant written as RFC 3339 (`2026-05-01T12:00:00Z`, any offset accepted, rendered as given in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Parses an RFC 3339 timestamp.
    pub fn parse(text: &str) -> Result<Self, String> {
        OffsetDateTime::parse(text, &Rfc3339).map(Self).map_err(|e| {
            format!("'{}' is not an RFC 3339 timestamp ({e}); write it like 2026-05-01T12:00:00Z", shorten(text))
        })
    }

    /// The instant.
    pub fn get(&self) -> OffsetDateTime {
        self.0
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(64).filter(|c| !c.is_control()).collect()
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Self(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Formatting an OffsetDateTime as RFC 3339 only fails for years outside 0..=9999 or sub-minute offsets,
        // which parsing RFC 3339 cannot produce; fall back to the debug form rather than panic.
        match self.0.to_offset(time::UtcOffset::UTC).format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 timestamp, e.g. 2026-05-01T12:00:00Z."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_utc() {
        let t = Timestamp::parse("2026-05-01T14:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-05-01T12:00:00Z");
        assert!(Timestamp::parse("yesterday").unwrap_err().contains("2026-05-01T12:00:00Z"));
    }
}
