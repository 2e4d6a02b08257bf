//! [`IsoDuration`]: the plan's durations as ISO 8601 strings (`PT4H`, `P7D`, `PT30M`), stored as whole seconds.
//!
//! Only days, hours, minutes and seconds: years and months have no fixed length, and a start window of "one
//! month" would mean different things in February and March. A day is 24 hours here (a drill window is elapsed
//! time, not calendar days). A leading `-` is parsed, so that a negative duration is refused by the rule of the
//! field that holds it (with its name), not as an unreadable string.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A signed duration in whole seconds, written as ISO 8601 (`P1DT2H`, `PT90M`, `-PT1H`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IsoDuration(i64);

/// Upper bound on any duration in a plan (10 years): keeps arithmetic with instants far from overflow.
const MAX_SECONDS: i64 = 10 * 366 * 86_400;

impl IsoDuration {
    /// A duration of `seconds`.
    pub const fn from_secs(seconds: i64) -> Self {
        IsoDuration(seconds)
    }

    /// A duration of `hours`.
    pub const fn from_hours(hours: i64) -> Self {
        IsoDuration(hours * 3600)
    }

    /// The number of seconds (negative for a negative duration).
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// As a `time::Duration`, for arithmetic with instants.
    pub fn to_time(self) -> time::Duration {
        time::Duration::seconds(self.0)
    }

    /// Parses `P[nD][T[nH][nM][nS]]` with an optional leading `-`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{}' is not an ISO 8601 duration of days, hours, minutes and seconds (like PT4H, P7D or PT30M)",
                text.chars().filter(|c| !c.is_control()).take(40).collect::<String>()
            )
        };
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let rest = rest.strip_prefix('P').ok_or_else(bad)?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        if date.is_empty() && time.is_none() {
            return Err(bad());
        }
        let mut total: i64 = 0;
        let mut add = |part: &str, units: &[(char, i64)]| -> Result<(), String> {
            let mut number = String::new();
            let mut next_unit = 0;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                // Units must come in order, each at most once, each after a number.
                let position = units.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
                if position < next_unit || number.is_empty() || number.len() > 9 {
                    return Err(bad());
                }
                let n: i64 = number.parse().map_err(|_| bad())?;
                total = total.saturating_add(n.saturating_mul(units[position].1));
                number.clear();
                next_unit = position + 1;
            }
            if number.is_empty() { Ok(()) } else { Err(bad()) }
        };
        add(date, &[('D', 86_400)])?;
        if let Some(t) = time {
            add(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
        }
        if total > MAX_SECONDS {
            return Err(format!("'{text}' is longer than 10 years"));
        }
        Ok(IsoDuration(if negative { -total } else { total }))
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0.unsigned_abs();
        if self.0 < 0 {
            f.write_str("-")?;
        }
        f.write_str("P")?;
        let days = s / 86_400;
        s %= 86_400;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if s > 0 || days == 0 {
            f.write_str("T")?;
            let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
            if h > 0 {
                write!(f, "{h}H")?;
            }
            if m > 0 {
                write!(f, "{m}M")?;
            }
            if sec > 0 || (h == 0 && m == 0) {
                write!(f, "{sec}S")?;
            }
        }
        Ok(())
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for IsoDuration {
    fn schema_name() -> Cow<'static, str> {
        "IsoDuration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^-?P([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+S)?)?$",
            "description": "ISO 8601 duration in days (of 24 hours), hours, minutes and seconds, e.g. PT4H, P7D, PT30M.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let cases = [
            ("PT4H", 4 * 3600, "PT4H"),
            ("P7D", 7 * 86_400, "P7D"),
            ("P1DT2H30M", 86_400 + 2 * 3600 + 1800, "P1DT2H30M"),
            ("PT90M", 5400, "PT1H30M"),
            ("PT0S", 0, "PT0S"),
            ("PT45S", 45, "PT45S"),
            ("-PT1H", -3600, "-PT1H"),
        ];
        for (text, secs, rendered) in cases {
            let d = IsoDuration::parse(text).unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(d.to_string(), rendered, "{text}");
            assert_eq!(IsoDuration::parse(rendered).unwrap(), d, "{rendered} round-trips");
        }
    }

    #[test]
    fn refuses_what_is_not_a_fixed_length_duration() {
        for bad in ["", "P", "PT", "4h", "P1M", "P1Y", "PT1H1H", "PT1M1H", "PTH", "P1DT", "P99999999999D", "P4000D"] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
