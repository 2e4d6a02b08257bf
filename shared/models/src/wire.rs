//! Tolerant reading helpers shared by every Azure wire model.
//!
//! Azure Backup is loose about its wire formats: status strings change case
//! (`Inprogress` / `InProgress`), cancel is spelled `Canceled` and `Cancelled`, job ids come as
//! full ARM ids or bare GUIDs, timestamps carry 0–7 fractional digits (or a US-style
//! `10/3/2019 1:35:19 AM`), and numbers sometimes arrive as strings. This module holds the
//! shared rules; the models keep the original text and expose typed accessors on top.
//!
//! It also holds the generic ARM envelopes ([`ResourceList`], [`ArmResource`]), the
//! [`Extra`] bag that carries unmodelled request fields unchanged, and the
//! [`polymorphic!`](crate::polymorphic) macro for bodies chosen by a discriminator field.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

// ---------------------------------------------------------------------------------------------
// Status values
// ---------------------------------------------------------------------------------------------

/// State of an ARM async operation (`operationStatus` / `operationsStatus` bodies).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OperationState {
    /// Still running (`InProgress`, `Inprogress`, `Started`, …).
    InProgress,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled (`Canceled` or `Cancelled`).
    Canceled,
    /// Any other value, kept verbatim (treated as still running).
    Other(String),
}

impl OperationState {
    /// Classifies a wire status string, case-insensitively.
    pub fn from_wire(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "inprogress" | "in progress" | "started" | "running" | "notstarted" | "accepted" => Self::InProgress,
            "succeeded" | "success" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            _ => Self::Other(raw.to_owned()),
        }
    }

    /// True for Succeeded, Failed and Canceled.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }

    /// True only for Succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded)
    }
}

/// State of a backup/restore job (DPP `AzureBackupJob.status`, RSV `Job.status`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Running (`InProgress`, `Started`, `Paused`).
    InProgress,
    /// Finished successfully.
    Completed,
    /// Finished with warnings (counts as success).
    CompletedWithWarnings,
    /// Finished with an error.
    Failed,
    /// Cancelled (`Cancelled` or `Canceled`).
    Cancelled,
    /// Cancellation requested, not yet finished.
    Cancelling,
    /// Any other value, kept verbatim (treated as not terminal).
    Other(String),
}

impl JobState {
    /// Classifies a wire job status string, case-insensitively.
    pub fn from_wire(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "inprogress" | "in progress" | "started" | "paused" | "running" => Self::InProgress,
            "completed" | "succeeded" => Self::Completed,
            "completedwithwarnings" => Self::CompletedWithWarnings,
            "failed" => Self::Failed,
            "cancelled" | "canceled" => Self::Cancelled,
            "cancelling" | "canceling" => Self::Cancelling,
            _ => Self::Other(raw.to_owned()),
        }
    }

    /// True for Completed, CompletedWithWarnings, Failed and Cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::CompletedWithWarnings | Self::Failed | Self::Cancelled)
    }

    /// True for Completed and CompletedWithWarnings.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Completed | Self::CompletedWithWarnings)
    }
}

// ---------------------------------------------------------------------------------------------
// Job ids
// ---------------------------------------------------------------------------------------------

/// Normalises a job id: a full ARM id (`/subscriptions/…/backupJobs/<guid>`) or a bare GUID
/// becomes the last path segment (trailing `/` ignored).
pub fn job_guid(raw: &str) -> &str {
    let trimmed = raw.trim().trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(pos) => &trimmed[pos + 1..],
        None => trimmed,
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// A timestamp exactly as Azure sent it; serialises back byte-exact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

/// The parts of an operation-status body every provider shares: Data Protection's `OperationResource` and
/// `OperationJobExtendedInfo` (the final `Location` GET, job id at the top level), Recovery Services'
/// `OperationStatus` (job id in `properties.jobId`, or `jobIds` with one entry). The one reader of an
/// operation's status, error and job id; the typed models above describe the full shapes (and the emulator
/// writes them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatusBody {
    /// Free-form status (`Inprogress`, `Succeeded`, …); see [`Self::state`].
    #[serde(default)]
    pub status: Option<String>,
    /// Error of a failed operation.
    #[serde(default)]
    pub error: Option<crate::error::ErrorDetail>,
    #[serde(default)]
    properties: Option<StatusProperties>,
    #[serde(default)]
    job_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusProperties {
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    job_ids: Option<Vec<String>>,
}

impl OperationStatusBody {
    /// Typed status (a missing status counts as still running).
    pub fn state(&self) -> OperationState {
        OperationState::from_wire(self.status.as_deref().unwrap_or("InProgress"))
    }

    /// The job id as a GUID: `properties.jobId`, the single entry of `properties.jobIds` (several jobs name no
    /// one job), or a top-level `jobId`.
    pub fn job_id(&self) -> Option<String> {
        let from_properties = self.properties.as_ref().and_then(|p| {
            let single = match p.job_ids.as_deref() {
                Some([one]) => Some(one.as_str()),
                _ => None,
            };
            p.job_id.as_deref().or(single)
        });
        let guid = job_guid(from_properties.or(self.job_id.as_deref())?);
        (!guid.is_empty()).then(|| guid.to_string())
    }
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`: UTC with 7 fractional digits, the form Azure Backup writes times in and the
/// Data Protection `$filter` expects (`2021-08-30T10:02:11.6354913Z`). The one formatter of that form.
pub fn azure_time(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
    // Formatting a UTC time with this description cannot fail (all components exist, the year fits 4 digits
    // for any time the services report); an empty string would surface as a parse error at the reader.
    t.to_offset(UtcOffset::UTC).format(FORMAT).unwrap_or_default()
}

impl Timestamp {
    /// Wraps raw wire text.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Renders `YYYY-MM-DDTHH:MM:SS.fffffffZ` (7 fractional digits, UTC); see [`azure_time`].
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Self(azure_time(dt))
    }

    /// True for the `0001-01-01T00:00:00…` "not ended yet" sentinel.
    pub fn is_unset_sentinel(&self) -> bool {
        self.0.trim().starts_with("0001-01-01")
    }

    /// Parsed value; `None` for the `0001-01-01…` sentinel and for unparseable text.
    ///
    /// Accepts RFC 3339 with 0–9 fractional digits, the offset-less form (assumed UTC), a
    /// space instead of `T`, and the US form `M/D/YYYY h:mm:ss AM` (assumed UTC).
    pub fn datetime(&self) -> Option<OffsetDateTime> {
        if self.is_unset_sentinel() {
            return None;
        }
        let s = self.0.trim();
        parse_iso(s).or_else(|| parse_us(s))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(dt: OffsetDateTime) -> Self {
        Self::from_datetime(dt)
    }
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn build(year: i32, month: u8, day: u8, hms: (u8, u8, u8), nanos: u32, offset: UtcOffset) -> Option<OffsetDateTime> {
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms_nano(hms.0, hms.1, hms.2, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year: i32 = digits(s.get(0..4)?)?;
    let month: u8 = digits(s.get(5..7)?)?;
    let day: u8 = digits(s.get(8..10)?)?;
    let hour: u8 = digits(s.get(11..13)?)?;
    let minute: u8 = digits(s.get(14..16)?)?;
    let second: u8 = digits(s.get(17..19)?)?;
    let mut rest = s.get(19..)?;
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        let value: u32 = digits(&frac[..n])?;
        nanos = value * 10u32.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset = match rest {
        "" | "Z" | "z" => UtcOffset::UTC,
        _ => {
            let sign: i8 = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = &rest[1..];
            let (h, m) = match body.len() {
                5 if body.as_bytes()[2] == b':' => (&body[0..2], &body[3..5]),
                4 => (&body[0..2], &body[2..4]),
                2 => (body, "00"),
                _ => return None,
            };
            let h: i8 = digits(h)?;
            let m: i8 = digits(m)?;
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    build(year, month, day, (hour, minute, second), nanos, offset)
}

fn parse_us(s: &str) -> Option<OffsetDateTime> {
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let time = parts.next()?;
    let ampm = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let mut d = date.split('/');
    let month: u8 = digits(d.next()?)?;
    let day: u8 = digits(d.next()?)?;
    let year: i32 = digits(d.next()?)?;
    if d.next().is_some() {
        return None;
    }
    let mut t = time.split(':');
    let mut hour: u8 = digits(t.next()?)?;
    let minute: u8 = digits(t.next()?)?;
    let second: u8 = digits(t.next()?)?;
    if t.next().is_some() {
        return None;
    }
    match ampm.map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some("AM") => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            if hour == 12 {
                hour = 0;
            }
        }
        Some("PM") => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            if hour != 12 {
                hour += 12;
            }
        }
        Some(_) => return None,
    }
    build(year, month, day, (hour, minute, second), 0, UtcOffset::UTC)
}

// ---------------------------------------------------------------------------------------------
// Loose scalars
// ---------------------------------------------------------------------------------------------

/// A scalar Azure sends as a string in one place and a number in another (e.g. RSV
/// `recoveryPointTierDetails[].type` = `"HardenedRP"` or `2`, IaaS job `errorCode`).
/// Serialises back in the form it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StrOrNum {
    /// Text form.
    Str(String),
    /// Numeric form.
    Num(serde_json::Number),
    /// Boolean form (rare).
    Bool(bool),
}

impl StrOrNum {
    /// The value as text.
    pub fn as_text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Num(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    /// The value as an integer when it is one (or a numeric string).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Str(s) => s.trim().parse().ok(),
            Self::Num(n) => n.as_i64(),
            Self::Bool(_) => None,
        }
    }
}

impl fmt::Display for StrOrNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// `deserialize_with` helpers for fields Azure sometimes sends as strings.
pub mod de {
    use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error};
    use serde_json::Value;

    fn number_from(v: Value) -> Result<Option<Value>, String> {
        match v {
            Value::Null => Ok(None),
            Value::Number(_) | Value::Bool(_) => Ok(Some(v)),
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                if let Ok(b) = t.to_ascii_lowercase().parse::<bool>() {
                    return Ok(Some(Value::Bool(b)));
                }
                serde_json::from_str::<serde_json::Number>(t)
                    .map(|n| Some(Value::Number(n)))
                    .map_err(|_| format!("expected a number, got string {s:?}"))
            }
            other => Err(format!("expected a number or numeric string, got {other}")),
        }
    }

    fn lenient_opt<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
        let raw = Value::deserialize(d)?;
        match number_from(raw).map_err(D::Error::custom)? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(D::Error::custom),
        }
    }

    fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
        lenient_opt(d)?.ok_or_else(|| D::Error::custom("missing or null value"))
    }

    /// `u32` from a number or numeric string.
    pub fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        lenient(d)
    }
    /// `u64` from a number or numeric string.
    pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        lenient(d)
    }
    /// `i64` from a number or numeric string.
    pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        lenient(d)
    }
    /// `f64` from a number or numeric string.
    pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        lenient(d)
    }
    /// `bool` from a boolean or `"true"`/`"false"` (any case).
    pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        lenient(d)
    }
    /// Optional `u32`; null and `""` become `None`.
    pub fn lenient_opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        lenient_opt(d)
    }
    /// Optional `u64`; null and `""` become `None`.
    pub fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        lenient_opt(d)
    }
    /// Optional `i64`; null and `""` become `None`.
    pub fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        lenient_opt(d)
    }
    /// Optional `f64`; null and `""` become `None`.
    pub fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        lenient_opt(d)
    }
    /// Optional `bool`; null and `""` become `None`.
    pub fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        lenient_opt(d)
    }

    /// Reads `null` as the type's default (for lists Azure sends as `null`).
    pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------------
// Extra: unmodelled request fields
// ---------------------------------------------------------------------------------------------

thread_local! {
    static UNMODELLED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Fields of a request body this crate does not model; they round-trip unchanged.
///
/// Derefs to `serde_json::Map`. Used as `#[serde(flatten)] pub extra: Extra`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Extra(pub Map<String, Value>);

impl Extra {
    /// True when every field was modelled.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Extra {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.0.is_empty() {
            UNMODELLED.with(|cell| {
                if let Some(list) = cell.borrow_mut().as_mut() {
                    list.extend(self.0.keys().cloned());
                }
            });
        }
        self.0.serialize(s)
    }
}

/// Runs `f` and returns the names of all [`Extra`] fields serialised while it ran (on this
/// thread). Used by conformance tests to prove that request fields are really modelled.
pub fn collect_unmodelled<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let previous = UNMODELLED.with(|cell| cell.borrow_mut().replace(Vec::new()));
    let result = f();
    let found = UNMODELLED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let found = slot.take().unwrap_or_default();
        *slot = previous;
        found
    });
    (result, found)
}

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

/// A page of ARM resources (`value` + `nextLink`), shared by DPP and RSV list responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceList<T> {
    /// The items of this page.
    #[serde(
        default = "Vec::new",
        deserialize_with = "de::null_as_default",
        bound(deserialize = "T: Deserialize<'de>")
    )]
    pub value: Vec<T>,
    /// URL of the next page, followed verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> Default for ResourceList<T> {
    fn default() -> Self {
        Self { value: Vec::new(), next_link: None }
    }
}

/// A generic ARM resource envelope (`id`, `name`, `type`, `properties`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmResource<P> {
    /// ARM id of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Resource tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Optimistic-concurrency tag.
    #[serde(rename = "eTag", default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    /// Managed identity block (vaults), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    /// The resource-specific properties.
    pub properties: P,
    /// Other top-level fields (e.g. `systemData`), carried unchanged.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl<P> ArmResource<P> {
    /// Wraps properties in an otherwise empty envelope (the usual request shape).
    pub fn new(properties: P) -> Self {
        Self {
            id: None,
            name: None,
            resource_type: None,
            location: None,
            tags: None,
            e_tag: None,
            identity: None,
            properties,
            extra: Extra::default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discriminated unions
// ---------------------------------------------------------------------------------------------

/// Returns the discriminator value of a JSON object (key matched exactly, then
/// case-insensitively); `None` when absent or not a string.
pub fn discriminator_of<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    let obj = value.as_object()?;
    obj.get(field)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).map(|(_, v)| v))
        .and_then(Value::as_str)
}

/// Removes the discriminator key (exact or case-insensitive) from a JSON object.
pub fn strip_discriminator(value: &mut Value, field: &str) {
    if let Some(obj) = value.as_object_mut()
        && obj.remove(field).is_none()
        && let Some(key) = obj.keys().find(|k| k.eq_ignore_ascii_case(field)).cloned()
    {
        obj.remove(&key);
    }
}

/// Serialises `inner` as an object and adds `field: kind` (exact Azure spelling).
pub fn serialize_tagged<S: Serializer, T: Serialize>(
    s: S,
    field: &str,
    kind: &str,
    inner: &T,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mut v = serde_json::to_value(inner).map_err(S::Error::custom)?;
    match v.as_object_mut() {
        Some(obj) => {
            obj.insert(field.to_owned(), Value::String(kind.to_owned()));
        }
        None => return Err(S::Error::custom("polymorphic body must be a JSON object")),
    }
    v.serialize(s)
}

#[doc(hidden)]
pub use serde as __serde;
#[doc(hidden)]
pub use serde_json as __serde_json;

/// Reads a body and picks the variant whose discriminator matches (case-insensitively).
pub fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

/// Declares a discriminated union: known variants are typed; anything else becomes
/// `Unknown { kind, raw }` and serialises back to `raw`.
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// pub struct TypeA {
///     pub x: u32,
/// }
///
/// restore_models::polymorphic! {
///     /// Doc.
///     pub enum Example via "objectType" {
///         /// Doc.
///         A(TypeA) = "A",
///     }
/// }
///
/// let e: Example = serde_json::from_str(r#"{"objectType": "a", "x": 1}"#).unwrap();
/// assert_eq!(e, Example::A(TypeA { x: 1 }));
/// assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"objectType":"A","x":1}"#);
/// ```
#[macro_export]
macro_rules! polymorphic {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident via $disc:literal {
            $( $(#[$vmeta:meta])* $variant:ident ( $ty:ty ) = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        // Wire DTOs: variants are read once and matched on; boxing would only add noise.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
            /// A discriminator value this crate does not model; `raw` is the body as received.
            Unknown {
                /// The discriminator value as received (empty when absent).
                kind: String,
                /// The complete body as received.
                raw: $crate::wire::__serde_json::Value,
            },
        }

        impl $name {
            /// Name of the discriminator field.
            pub const DISCRIMINATOR: &'static str = $disc;

            /// The discriminator value (exact Azure spelling for known variants).
            pub fn kind(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )+
                    Self::Unknown { kind, .. } => kind,
                }
            }

            /// True when the body was not one of the modelled variants.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown { .. })
            }
        }

        impl $crate::wire::__serde::Serialize for $name {
            fn serialize<S: $crate::wire::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(inner) => $crate::wire::serialize_tagged(s, $disc, $wire, inner), )+
                    Self::Unknown { raw, .. } => $crate::wire::__serde::Serialize::serialize(raw, s),
                }
            }
        }

        impl<'de> $crate::wire::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::wire::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use $crate::wire::__serde::de::Error as _;
                let mut value = $crate::wire::deserialize_value(d)?;
                let kind = $crate::wire::discriminator_of(&value, $disc)
                    .unwrap_or_default()
                    .to_owned();
                $(
                    if kind.eq_ignore_ascii_case($wire) {
                        $crate::wire::strip_discriminator(&mut value, $disc);
                        return $crate::wire::__serde_json::from_value(value).map(Self::$variant).map_err(|e| {
                            D::Error::custom(format!("{} {:?}: {}", stringify!($name), $wire, e))
                        });
                    }
                )+
                Ok(Self::Unknown { kind, raw: value })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_status_casing() {
        assert_eq!(OperationState::from_wire("Inprogress"), OperationState::InProgress);
        assert_eq!(OperationState::from_wire("InProgress"), OperationState::InProgress);
        assert_eq!(OperationState::from_wire("succeeded"), OperationState::Succeeded);
        assert_eq!(OperationState::from_wire("FAILED"), OperationState::Failed);
        assert!(!OperationState::from_wire("Inprogress").is_terminal());
        assert_eq!(OperationState::from_wire("Invalid"), OperationState::Other("Invalid".into()));
        assert!(!OperationState::from_wire("Invalid").is_terminal());
    }

    #[test]
    fn canceled_and_cancelled_are_both_terminal() {
        for s in ["Canceled", "Cancelled", "cancelled"] {
            let st = OperationState::from_wire(s);
            assert_eq!(st, OperationState::Canceled, "{s}");
            assert!(st.is_terminal());
            assert!(!st.is_success());
            assert_eq!(JobState::from_wire(s), JobState::Cancelled, "{s}");
            assert!(JobState::from_wire(s).is_terminal());
        }
    }

    #[test]
    fn job_states() {
        assert_eq!(JobState::from_wire("Started"), JobState::InProgress);
        assert_eq!(JobState::from_wire("Paused"), JobState::InProgress);
        assert_eq!(JobState::from_wire("inprogress"), JobState::InProgress);
        assert_eq!(JobState::from_wire("CompletedWithWarnings"), JobState::CompletedWithWarnings);
        assert!(JobState::from_wire("completedwithwarnings").is_success());
        assert_eq!(JobState::from_wire("Cancelling"), JobState::Cancelling);
        assert!(!JobState::Cancelling.is_terminal());
        assert!(JobState::from_wire("Completed").is_terminal());
        assert!(!JobState::from_wire("Started").is_terminal());
    }

    #[test]
    fn job_id_forms() {
        let guid = "c4bd49a1-0645-4eec-b207-feb818962852";
        assert_eq!(job_guid(guid), guid);
        assert_eq!(
            job_guid(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/c4bd49a1-0645-4eec-b207-feb818962852"
            ),
            guid
        );
        assert_eq!(job_guid("/subscriptions/x/backupJobs/c4bd49a1-0645-4eec-b207-feb818962852/"), guid);
        assert_eq!(job_guid(" c4bd49a1-0645-4eec-b207-feb818962852 "), guid);
    }

    #[test]
    fn timestamps_parse_with_any_precision() {
        let cases = [
            ("2021-07-08T20:46:52.4110868Z", 411_086_800),
            ("2021-07-08T20:46:52Z", 0),
            ("2021-07-08T20:46:52.5Z", 500_000_000),
            ("2021-07-08T20:46:52.123456789Z", 123_456_789),
            ("2021-07-08T20:46:52", 0),
            ("2021-07-08 20:46:52.25", 250_000_000),
        ];
        for (raw, nanos) in cases {
            let dt = Timestamp::new(raw).datetime().unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(dt.nanosecond(), nanos, "{raw}");
            assert_eq!(dt.offset(), UtcOffset::UTC, "{raw}");
            assert_eq!((dt.hour(), dt.minute(), dt.second()), (20, 46, 52), "{raw}");
        }
        let off = Timestamp::new("2021-07-08T22:46:52+02:00").datetime().unwrap();
        assert_eq!(off.to_offset(UtcOffset::UTC).hour(), 20);
    }

    #[test]
    fn end_time_sentinel_is_none() {
        assert_eq!(Timestamp::new("0001-01-01T00:00:00.00000Z").datetime(), None);
        assert_eq!(Timestamp::new("0001-01-01T00:00:00").datetime(), None);
        assert!(Timestamp::new("0001-01-01T00:00:00Z").is_unset_sentinel());
        assert!(Timestamp::new("2019-11-20T09:49:46Z").datetime().is_some());
    }

    #[test]
    fn garbage_and_us_forms() {
        assert_eq!(Timestamp::new("not a time").datetime(), None);
        assert_eq!(Timestamp::new("2021-13-01T00:00:00Z").datetime(), None);
        assert_eq!(Timestamp::new("").datetime(), None);
        let us = Timestamp::new("10/3/2019 1:35:19 AM").datetime().unwrap();
        assert_eq!((us.year(), u8::from(us.month()), us.day()), (2019, 10, 3));
        assert_eq!((us.hour(), us.minute(), us.second()), (1, 35, 19));
        let pm = Timestamp::new("10/9/2019 6:05:54 PM").datetime().unwrap();
        assert_eq!(pm.hour(), 18);
        let noon = Timestamp::new("7/26/2021 12:35:36 PM").datetime().unwrap();
        assert_eq!(noon.hour(), 12);
        let midnight = Timestamp::new("7/26/2021 12:35:36 AM").datetime().unwrap();
        assert_eq!(midnight.hour(), 0);
    }

    #[test]
    fn timestamp_round_trips_text_and_renders_seven_digits() {
        let raw = "2019-11-20T09:49:44.0478496Z";
        let ts: Timestamp = serde_json::from_value(json!(raw)).unwrap();
        assert_eq!(serde_json::to_value(&ts).unwrap(), json!(raw));
        let dt = ts.datetime().unwrap();
        assert_eq!(Timestamp::from_datetime(dt).as_str(), raw);
        let whole = Timestamp::new("2021-08-30T10:02:11Z").datetime().unwrap();
        assert_eq!(Timestamp::from_datetime(whole).as_str(), "2021-08-30T10:02:11.0000000Z");
        let shifted = Timestamp::new("2021-08-30T12:02:11.5+02:00").datetime().unwrap();
        assert_eq!(Timestamp::from_datetime(shifted).as_str(), "2021-08-30T10:02:11.5000000Z");
    }

    #[derive(Debug, Deserialize)]
    struct Lenient {
        #[serde(deserialize_with = "de::lenient_u32")]
        a: u32,
        #[serde(deserialize_with = "de::lenient_u64")]
        b: u64,
        #[serde(deserialize_with = "de::lenient_i64")]
        c: i64,
        #[serde(deserialize_with = "de::lenient_f64")]
        d: f64,
        #[serde(deserialize_with = "de::lenient_bool")]
        e: bool,
        #[serde(default, deserialize_with = "de::lenient_opt_u32")]
        f: Option<u32>,
        #[serde(default, deserialize_with = "de::lenient_opt_bool")]
        g: Option<bool>,
        #[serde(default, deserialize_with = "de::lenient_opt_i64")]
        h: Option<i64>,
    }

    #[test]
    fn numbers_as_strings() {
        let from_strings: Lenient = serde_json::from_value(json!({
            "a": "7", "b": "18446744073709551615", "c": "-3", "d": "12.5", "e": "True",
            "f": "", "g": "false", "h": null
        }))
        .unwrap();
        assert_eq!(from_strings.a, 7);
        assert_eq!(from_strings.b, u64::MAX);
        assert_eq!(from_strings.c, -3);
        assert!((from_strings.d - 12.5).abs() < f64::EPSILON);
        assert!(from_strings.e);
        assert_eq!(from_strings.f, None);
        assert_eq!(from_strings.g, Some(false));
        assert_eq!(from_strings.h, None);
        let from_numbers: Lenient = serde_json::from_value(json!({
            "a": 7, "b": 8, "c": -3, "d": 1, "e": true, "f": 9, "h": 4
        }))
        .unwrap();
        assert_eq!((from_numbers.a, from_numbers.f, from_numbers.h), (7, Some(9), Some(4)));
        assert!(
            serde_json::from_value::<Lenient>(json!({
                "a": "seven", "b": 1, "c": 1, "d": 1, "e": true
            }))
            .is_err()
        );
        assert!(
            serde_json::from_value::<Lenient>(json!({
                "a": -1, "b": 1, "c": 1, "d": 1, "e": true
            }))
            .is_err()
        );
    }

    #[test]
    fn str_or_num_keeps_form() {
        let v: Vec<StrOrNum> = serde_json::from_value(json!(["HardenedRP", 2, "3"])).unwrap();
        assert_eq!(v[0].as_text(), "HardenedRP");
        assert_eq!(v[1].as_i64(), Some(2));
        assert_eq!(v[2].as_i64(), Some(3));
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(["HardenedRP", 2, "3"]));
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Cat {
        name: String,
        #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
        extra: Extra,
    }

    crate::polymorphic! {
        /// Test union.
        enum Animal via "objectType" {
            /// A cat.
            Cat(Cat) = "CatObject",
        }
    }

    #[test]
    fn polymorphic_known_is_case_insensitive_and_writes_exact_spelling() {
        let a: Animal = serde_json::from_value(json!({"objectType": "catobject", "name": "x"})).unwrap();
        assert!(matches!(&a, Animal::Cat(c) if c.name == "x" && c.extra.is_empty()));
        assert_eq!(a.kind(), "CatObject");
        assert_eq!(Animal::DISCRIMINATOR, "objectType");
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"objectType": "CatObject", "name": "x"}));
    }

    #[test]
    fn polymorphic_unknown_round_trips() {
        let raw = json!({"objectType": "Dog", "bark": [1, 2, {"x": null}]});
        let a: Animal = serde_json::from_value(raw.clone()).unwrap();
        assert!(a.is_unknown());
        assert_eq!(a.kind(), "Dog");
        assert_eq!(serde_json::to_value(&a).unwrap(), raw);
        let missing: Animal = serde_json::from_value(json!({"name": "x"})).unwrap();
        assert_eq!(missing.kind(), "");
    }

    #[test]
    fn extra_fields_round_trip_and_are_reported() {
        let raw = json!({"objectType": "CatObject", "name": "x", "whiskers": 12});
        let a: Animal = serde_json::from_value(raw.clone()).unwrap();
        let (out, unmodelled) = collect_unmodelled(|| serde_json::to_value(&a).unwrap());
        assert_eq!(out, raw);
        assert_eq!(unmodelled, vec!["whiskers".to_owned()]);
        // Outside a collection nothing is recorded.
        let (_, none) = collect_unmodelled(|| ());
        assert!(none.is_empty());
    }

    #[test]
    fn resource_list_reads_null_next_link_and_writes_no_null() {
        let l: ResourceList<Value> = serde_json::from_value(json!({"value": [1], "nextLink": null})).unwrap();
        assert_eq!(l.next_link, None);
        assert_eq!(serde_json::to_value(&l).unwrap(), json!({"value": [1]}));
    }
}
