//! The timer trigger (reference §1.5). `Data.<name>` is the host's `TimerInfo` object;
//! `ScheduleStatus` is `null` when `useMonitor` is off, on very frequent schedules and on the
//! first run. Dates carry no offset and are taken as UTC.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::FromInvocation;
use crate::decode::{decode_value, lenient_datetime, rfc3339_option};
use crate::envelope::{InvocationRequest, kind};
use crate::error::DecodeError;

/// The timer trigger value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerInfo {
    /// `Schedule`.
    #[serde(rename = "Schedule", default)]
    pub schedule: Option<Schedule>,
    /// `ScheduleStatus`; `None` when the host sent `null` or nothing.
    #[serde(rename = "ScheduleStatus", default)]
    pub schedule_status: Option<ScheduleStatus>,
    /// `IsPastDue`: the listener found a missed occurrence on start.
    #[serde(rename = "IsPastDue", default)]
    pub is_past_due: bool,
}

/// `TimerInfo.Schedule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// `AdjustForDST`.
    #[serde(rename = "AdjustForDST", default)]
    pub adjust_for_dst: bool,
}

/// `TimerInfo.ScheduleStatus`: the schedule monitor's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleStatus {
    /// `Last`: the last occurrence.
    #[serde(
        rename = "Last",
        default,
        deserialize_with = "lenient_datetime",
        serialize_with = "rfc3339_option::serialize"
    )]
    pub last: Option<OffsetDateTime>,
    /// `Next`: the next occurrence.
    #[serde(
        rename = "Next",
        default,
        deserialize_with = "lenient_datetime",
        serialize_with = "rfc3339_option::serialize"
    )]
    pub next: Option<OffsetDateTime>,
    /// `LastUpdated`.
    #[serde(
        rename = "LastUpdated",
        default,
        deserialize_with = "lenient_datetime",
        serialize_with = "rfc3339_option::serialize"
    )]
    pub last_updated: Option<OffsetDateTime>,
}

impl FromInvocation for TimerInfo {
    fn from_invocation(binding: &str, request: &InvocationRequest) -> Result<Self, DecodeError> {
        let value = decode_value(request.raw_trigger(binding)?.clone());
        if !value.is_object() {
            return Err(DecodeError::Trigger {
                binding: binding.to_string(),
                reason: format!("expected the TimerInfo object, got {}", kind(&value)),
            });
        }
        serde_json::from_value(value).map_err(|e| DecodeError::Trigger {
            binding: binding.to_string(),
            reason: format!("invalid TimerInfo: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn req(timer: serde_json::Value) -> InvocationRequest {
        let body = json!({"Data": {"t": timer}, "Metadata": {"sys": {}}});
        InvocationRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn null_schedule_status_is_none() {
        let t = TimerInfo::from_invocation(
            "t",
            &req(json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": false})),
        )
        .unwrap();
        assert_eq!(t.schedule, Some(Schedule { adjust_for_dst: true }));
        assert_eq!(t.schedule_status, None);
        assert!(!t.is_past_due);
    }

    #[test]
    fn schedule_status_dates_parse_as_utc() {
        let t = TimerInfo::from_invocation(
            "t",
            &req(json!({"ScheduleStatus": {"Last": "2024-01-15T11:00:00", "Next": "2024-01-15T12:00:00",
                         "LastUpdated": "2024-01-15T11:00:00.1234567"}, "IsPastDue": true, "Extra": 1})),
        )
        .unwrap();
        let s = t.schedule_status.unwrap();
        assert_eq!(s.last, Some(datetime!(2024-01-15 11:00:00 UTC)));
        assert_eq!(s.next, Some(datetime!(2024-01-15 12:00:00 UTC)));
        assert_eq!(s.last_updated, Some(datetime!(2024-01-15 11:00:00.1234567 UTC)));
        assert!(t.is_past_due);
        assert_eq!(t.schedule, None);
    }

    #[test]
    fn a_non_object_timer_is_an_error() {
        let e = TimerInfo::from_invocation("t", &req(json!("\"x\""))).unwrap_err();
        assert!(e.to_string().contains("TimerInfo"), "{e}");
    }
}
