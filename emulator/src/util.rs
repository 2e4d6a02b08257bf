//! Small helpers: time formats Azure uses, base64, percent-decoding, random numbers.

use base64::Engine as _;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// RFC 3339 with 7 fraction digits and `Z`, the way Azure Backup writes times (`2021-08-30T10:02:11.6354913Z`).
pub fn fmt_time(t: OffsetDateTime) -> String {
    restore_models::wire::azure_time(t)
}

/// The `10/3/2019 1:35:19 AM` format of CRR access tokens.
pub fn fmt_us_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let (h12, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!("{}/{}/{} {}:{:02}:{:02} {}", u8::from(t.month()), t.day(), t.year(), h12, t.minute(), t.second(), ampm)
}

/// Parses an RFC 3339 time (any number of fraction digits).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// Parses the az CLI Recovery Services filter time `yyyy-MM-dd hh:mm:ss AM` (12-hour clock), also accepting the
/// 24-hour `yyyy-MM-dd HH:mm:ss` form without AM/PM and the `00:00:00 AM` oddity of the spec example.
pub fn parse_rsv_filter_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let (date_time, ampm) = match s.rsplit_once(' ') {
        Some((dt, suffix)) if suffix.eq_ignore_ascii_case("AM") || suffix.eq_ignore_ascii_case("PM") => {
            (dt, Some(suffix.eq_ignore_ascii_case("PM")))
        }
        _ => (s, None),
    };
    let (date, clock) = date_time.split_once(' ')?;
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    let mut c = clock.split(':');
    let mut hour: u8 = c.next()?.parse().ok()?;
    let minute: u8 = c.next()?.parse().ok()?;
    let second: u8 = c.next()?.parse().ok()?;
    if d.next().is_some() || c.next().is_some() {
        return None;
    }
    if let Some(pm) = ampm {
        if hour > 12 {
            return None;
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let tod = time::Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, tod).assume_utc())
}

/// Formats an ISO 8601 duration like `PT6M5.7409896S`.
pub fn fmt_duration(seconds: f64) -> String {
    let total = seconds.max(0.0);
    let h = (total / 3600.0).floor();
    let m = ((total - h * 3600.0) / 60.0).floor();
    let s = total - h * 3600.0 - m * 60.0;
    let mut out = String::from("PT");
    if h > 0.0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0.0 {
        out.push_str(&format!("{m}M"));
    }
    out.push_str(&format!("{}S", (s * 1000.0).round() / 1000.0));
    out
}

/// Standard base64 (with `=` padding), as DPP operation ids use.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// base64url without padding (JWT segments).
pub fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Decodes base64url with or without padding.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Percent-decodes a path segment or query component (`+` is kept as is in paths; see [`query_decode`]).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a query string into decoded pairs (`+` means space in queries).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (query_decode(k), query_decode(v))
        })
        .collect()
}

fn query_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Percent-encodes a query value.
pub fn query_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A uniformly distributed number in [0, 1), from the OS randomness behind UUID v4 (no extra dependency).
pub fn random_unit() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() >> 75; // 53 random bits
    bits as f64 / (1u64 << 53) as f64
}

/// A new random GUID string.
pub fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Lower-cases for case-insensitive map keys.
pub fn key(s: &str) -> String {
    s.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsv_filter_times() {
        let t = parse_rsv_filter_time("2024-05-31 11:59:59 PM").unwrap();
        assert_eq!(fmt_time(t), "2024-05-31T23:59:59.0000000Z");
        let t = parse_rsv_filter_time("2024-05-01 12:00:00 AM").unwrap();
        assert_eq!(fmt_time(t), "2024-05-01T00:00:00.0000000Z");
        assert!(parse_rsv_filter_time("2024-05-01T00:00:00Z").is_none());
        assert!(parse_rsv_filter_time("2024-05-01 13:00:00 PM").is_none());
    }

    #[test]
    fn percent() {
        assert_eq!(percent_decode("a%3Bb%3d"), "a;b=");
        assert_eq!(percent_decode("50%"), "50%");
    }

    #[test]
    fn us_time() {
        let t = parse_time("2019-10-03T01:35:19Z").unwrap();
        assert_eq!(fmt_us_time(t), "10/3/2019 1:35:19 AM");
    }
}
