//! How records are laid out in the container: the blob name of a request id, and the metadata summary written
//! with every blob so that listings can filter without downloading.
//!
//! **Name rule:** `records/` + base64url (RFC 4648 §5, no padding) of the request id's UTF-8 bytes + `.json`.
//! Request ids come from outside (Service Bus message ids, tickets, alerts) and may hold `/`, spaces, `%`,
//! unicode or `.`; a blob name must not. Base64url's alphabet (`A-Z a-z 0-9 - _`) needs no URL escaping, holds
//! no `/` (so no virtual directories), never ends in `.`, is case-preserving like blob names, and grows the id by
//! 4/3 only: the 512-byte id limit gives at most 683 + 13 characters, under Azure's 1,024. The rule is
//! reversible, so a corrupt blob is still reported under its request id.
//!
//! **Metadata** (ASCII only, as HTTP headers require; keys lower case because Azure treats them
//! case-insensitively): `schema` = `1`, `state`, `vault` (base64url of the vault id, which may hold non-ASCII
//! resource-group names), `receivedat` and `nextpollat` (unix nanoseconds; `nextpollat` absent when unset),
//! `published` (`true`/`false`). Put Blob writes content and metadata in one atomic operation, so the summary
//! always describes the document it is stored with.
//!
//! **Due tag** (a blob index tag, [`DUE_TAG`]): present only while the record can be due — open (not terminal with
//! its result published) and scheduled (`next_poll_at` set) — with `next_poll_at` as its value: unix nanoseconds,
//! zero-padded to [`DUE_DIGITS`] digits so that the index's string comparison orders them as times. Put Blob sets
//! it atomically with the content (`x-ms-tags`) and replaces the blob's tags, so a write that closes a record
//! drops it. `due` asks the index for `"due" <= '<now>'` ([`due_query`]) instead of listing every record.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use crate::record::{Record, State};

/// Every record blob's name starts with this.
pub const RECORD_PREFIX: &str = "records/";
const SUFFIX: &str = ".json";
const SCHEMA: &str = "1";

/// The blob name for a request id.
pub fn blob_name(request_id: &str) -> String {
    format!("{RECORD_PREFIX}{}{SUFFIX}", URL_SAFE_NO_PAD.encode(request_id.as_bytes()))
}

/// Slot documents live under their own prefix, so record listings never see them.
pub const SLOTS_PREFIX: &str = "slots/";

/// The blob name for a slot key (base64url, like records).
pub fn slots_blob_name(key: &str) -> String {
    format!("{SLOTS_PREFIX}{}{SUFFIX}", URL_SAFE_NO_PAD.encode(key.as_bytes()))
}

/// The request id a blob name encodes; `None` for names that do not follow the rule.
pub fn request_id_of(blob_name: &str) -> Option<String> {
    let encoded = blob_name.strip_prefix(RECORD_PREFIX)?.strip_suffix(SUFFIX)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    String::from_utf8(bytes).ok()
}

/// What a listing tells about a record without downloading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The state.
    pub state: State,
    /// The vault id.
    pub vault_id: String,
    /// `received_at`, unix nanoseconds.
    pub received_at: i128,
    /// `next_poll_at`, unix nanoseconds.
    pub next_poll_at: Option<i128>,
    /// `result_published`.
    pub published: bool,
}

impl Summary {
    /// Whether the summarised record can be due at some time: the rule of the due tag.
    pub fn can_be_due(&self) -> bool {
        !(self.state.is_terminal() && self.published) && self.next_poll_at.is_some()
    }
}

/// The blob index tag of records that can be due (see the module doc).
pub const DUE_TAG: &str = "due";
/// Digits of a due tag value: 9999-12-31, the last time [`OffsetDateTime`] holds by default, is 2.5·10²⁰ ns.
pub const DUE_DIGITS: usize = 21;

/// A time as a due tag value. Times before 1970 clamp to zero and times past the digits to all nines: a negative
/// number would not sort as a time, and such records are re-checked on their document anyway.
pub fn due_value(at: OffsetDateTime) -> String {
    const MAX: i128 = 10i128.pow(DUE_DIGITS as u32) - 1;
    format!("{:0width$}", at.unix_timestamp_nanos().clamp(0, MAX), width = DUE_DIGITS)
}

/// The `x-ms-tags` header written with `record`: the due tag while it can be due ([`Record::needs_tracking`] and
/// `next_poll_at` set), else none. Digits and a letter key need no percent-encoding.
pub fn due_tags(record: &Record) -> Option<String> {
    let at = record.next_poll_at.filter(|_| record.needs_tracking())?;
    Some(format!("{DUE_TAG}={}", due_value(at)))
}

/// The Find Blobs by Tags expression for records due at `now` by the index.
pub fn due_query(now: OffsetDateTime) -> String {
    format!("\"{DUE_TAG}\" <= '{}'", due_value(now))
}

/// The metadata written with `record`.
pub fn metadata(record: &Record) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("schema".into(), SCHEMA.into());
    m.insert("state".into(), record.state.as_str().into());
    m.insert("vault".into(), URL_SAFE_NO_PAD.encode(record.vault_id.as_bytes()));
    m.insert("receivedat".into(), record.received_at.unix_timestamp_nanos().to_string());
    if let Some(t) = record.next_poll_at {
        m.insert("nextpollat".into(), t.unix_timestamp_nanos().to_string());
    }
    m.insert("published".into(), record.result_published.to_string());
    m
}

/// Reads a summary back; `None` when any part is missing or malformed (e.g. a blob written by hand or by
/// another tool), in which case callers download the blob instead of trusting the listing.
pub fn summary(metadata: &HashMap<String, String>) -> Option<Summary> {
    // Lookups ignore key case: Azure may return metadata names in a different case than written.
    let get = |key: &str| metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str());
    if get("schema")? != SCHEMA {
        return None;
    }
    let vault = URL_SAFE_NO_PAD.decode(get("vault")?).ok()?;
    Some(Summary {
        state: State::parse(get("state")?)?,
        vault_id: String::from_utf8(vault).ok()?,
        received_at: get("receivedat")?.parse().ok()?,
        next_poll_at: match get("nextpollat") {
            Some(v) => Some(v.parse().ok()?),
            None => None,
        },
        published: get("published")?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn names_round_trip_and_stay_safe() {
        let long = "é/".repeat(100);
        for id in ["simple", "a/b c", "ünï/cødé ✓", "100%..", long.as_str()] {
            let name = blob_name(id);
            let encoded = &name[RECORD_PREFIX.len()..name.len() - SUFFIX.len()];
            assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{name}");
            assert_eq!(request_id_of(&name).as_deref(), Some(id));
        }
        assert!(blob_name(&"\u{10FFFF}".repeat(128)).len() <= 1024);
        assert_eq!(request_id_of("records/not base64.json"), None);
        assert_eq!(request_id_of("other/YQ.json"), None);
    }

    #[test]
    fn metadata_round_trip() {
        let now = datetime!(2026-03-04 05:06:07.123456789 UTC);
        let mut r =
            Record::received("r", "disk", "/subscriptions/s/resourceGroups/rg-ü/v", "/i", serde_json::Value::Null, now);
        r.state = State::Running;
        r.next_poll_at = Some(now);
        let s = summary(&metadata(&r)).unwrap();
        assert_eq!(s.vault_id, r.vault_id);
        assert_eq!(s.state, State::Running);
        assert!(s.can_be_due());
        assert!(metadata(&r).values().all(|v| v.is_ascii()));
        let mut upper: HashMap<String, String> = metadata(&r).into_iter().map(|(k, v)| (k.to_uppercase(), v)).collect();
        assert_eq!(summary(&upper), Some(s));
        upper.remove("STATE");
        assert_eq!(summary(&upper), None);
    }

    #[test]
    fn the_due_tag_is_there_only_while_the_record_can_be_due() {
        let now = datetime!(2026-03-04 05:06:07.123456789 UTC);
        let mut r = Record::received("r", "disk", "/v", "/i", serde_json::Value::Null, now);
        assert_eq!(due_tags(&r), None, "unscheduled: the intake owns it");
        r.next_poll_at = Some(now);
        assert_eq!(due_tags(&r).as_deref(), Some("due=001772600767123456789"));
        r.state = State::Succeeded;
        assert!(due_tags(&r).is_some(), "terminal with its result unpublished: still due");
        r.result_published = true;
        assert_eq!(due_tags(&r), None, "terminal and published: never due again");
        assert_eq!(due_query(now), "\"due\" <= '001772600767123456789'");
    }

    #[test]
    fn due_values_sort_as_the_times_they_stand_for() {
        let times = [
            datetime!(1900-01-01 00:00 UTC),
            datetime!(1969-12-31 23:59:59.999999999 UTC),
            datetime!(1970-01-01 00:00 UTC),
            datetime!(1970-01-01 00:00:00.000000001 UTC),
            datetime!(2001-09-09 01:46:39.999999999 UTC),
            datetime!(2001-09-09 01:46:40 UTC), // 10^18 ns: one digit more than the time before
            datetime!(2026-05-01 10:00:00.123456789 UTC),
            datetime!(9999-12-31 23:59:59.999999999 UTC),
        ];
        let values: Vec<String> = times.iter().map(|t| due_value(*t)).collect();
        assert!(values.iter().all(|v| v.len() == DUE_DIGITS && v.bytes().all(|b| b.is_ascii_digit())), "{values:?}");
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert_eq!(values[0], values[2], "times before 1970 clamp to zero");
        assert!(values[2] < values[3] && values[4] < values[5]);
    }
}
