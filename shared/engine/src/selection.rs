//! Recovery-point selection: latest, a given id, or the latest at or before a time, skipping points that
//! cannot be restored (expired, not committed, only in a tier that needs rehydration first), with a typed error
//! that says what was found and why nothing qualified.

use std::fmt;

use restore_models::dataprotection::{AzureBackupRecoveryPoint, AzureBackupRecoveryPointResource};
use restore_models::recoveryservices::{RecoveryPoint, RecoveryPointResource};
use restore_models::wire::{StrOrNum, Timestamp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which recovery point to restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PointChoice {
    /// The newest usable point.
    Latest,
    /// Exactly this point (its id as Azure lists it).
    Id(String),
    /// The newest usable point taken at or before this time.
    LatestAtOrBefore(#[serde(with = "time::serde::rfc3339")] OffsetDateTime),
}

impl fmt::Display for PointChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointChoice::Latest => f.write_str("the latest recovery point"),
            PointChoice::Id(id) => write!(f, "recovery point {id}"),
            PointChoice::LatestAtOrBefore(t) => {
                write!(f, "the latest recovery point at or before {}", t.format(&Rfc3339).unwrap_or_default())
            }
        }
    }
}

/// Why a point cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Unusable {
    /// Its retention ended.
    Expired,
    /// Azure has not finished (or failed) committing it (`Partial`).
    NotCommitted,
    /// Only in the archive tier (or no valid tier): rehydrate it first.
    NotInUsableTier,
    /// Soft-deleted.
    SoftDeleted,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unusable::Expired => "expired",
            Unusable::NotCommitted => "not committed",
            Unusable::NotInUsableTier => "not in a restorable tier (archive only: rehydrate it first)",
            Unusable::SoftDeleted => "soft-deleted",
        })
    }
}

/// A recovery point reduced to what selection needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The id to restore from.
    pub id: String,
    /// When it was taken.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// Why it cannot be used, if it cannot.
    pub unusable: Option<Unusable>,
}

/// Nothing qualified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[error("no usable recovery point for {choice}: {summary}")]
pub struct NoUsableRecoveryPoint {
    /// What was asked for, in words.
    pub choice: String,
    /// What was found, in words (counts by reason).
    pub summary: String,
    /// Points found in the searched range.
    pub found: usize,
}

/// Picks the point for `choice` among `candidates`.
pub fn select(choice: &PointChoice, candidates: &[Candidate]) -> Result<Candidate, NoUsableRecoveryPoint> {
    let in_range: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| match choice {
            PointChoice::Latest => true,
            PointChoice::Id(id) => c.id.eq_ignore_ascii_case(id),
            PointChoice::LatestAtOrBefore(t) => c.time.is_some_and(|ct| ct <= *t),
        })
        .collect();
    let best = in_range.iter().filter(|c| c.unusable.is_none()).max_by_key(|c| c.time).map(|c| (*c).clone());
    best.ok_or_else(|| NoUsableRecoveryPoint {
        choice: choice.to_string(),
        summary: summarise(candidates.len(), &in_range),
        found: in_range.len(),
    })
}

fn summarise(listed: usize, in_range: &[&Candidate]) -> String {
    if in_range.is_empty() {
        return if listed == 0 {
            "Azure lists no recovery points for this item".into()
        } else {
            format!("none of the {listed} recovery points Azure lists matches")
        };
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for c in in_range {
        if let Some(reason) = &c.unusable {
            let key = reason.to_string();
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("found {} matching, {}", in_range.len(), parts.join(", "))
}

fn time_of(t: Option<&Timestamp>) -> Option<OffsetDateTime> {
    t.and_then(Timestamp::datetime)
}

/// Data Protection points as candidates.
pub fn dpp_candidates(points: &[AzureBackupRecoveryPointResource], now: OffsetDateTime) -> Vec<Candidate> {
    points
        .iter()
        .filter_map(|r| {
            let AzureBackupRecoveryPoint::Discrete(p) = &r.properties else { return None };
            let id = p.recovery_point_id.clone().or_else(|| r.name.clone())?;
            let committed = p.recovery_point_state.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("Completed"));
            let any_store = p.recovery_point_data_stores_details.is_empty()
                || p.recovery_point_data_stores_details.iter().any(|d| d.visible != Some(false));
            let unusable = if p.is_expired_at(now) {
                Some(Unusable::Expired)
            } else if !committed {
                Some(Unusable::NotCommitted)
            } else if !any_store {
                Some(Unusable::NotInUsableTier)
            } else {
                None
            };
            Some(Candidate { id, time: p.recovery_point_time.datetime(), unusable })
        })
        .collect()
}

/// Recovery Services (IaaS VM) points as candidates.
pub fn rsv_candidates(points: &[RecoveryPointResource], now: OffsetDateTime) -> Vec<Candidate> {
    points
        .iter()
        .filter_map(|r| {
            let id = r.name.clone()?;
            let RecoveryPoint::IaasVM(p) = &r.properties else {
                return Some(Candidate { id, time: None, unusable: Some(Unusable::NotInUsableTier) });
            };
            let props = p.recovery_point_properties.as_ref();
            let expired = time_of(props.and_then(|x| x.expiry_time.as_ref())).is_some_and(|e| e <= now);
            let soft_deleted = props.and_then(|x| x.is_soft_deleted).unwrap_or(false);
            // Instant (snapshot) and vault-standard tiers restore directly; the archive tier needs rehydration.
            let usable_tier = p.recovery_point_tier_details.is_empty()
                || p.recovery_point_tier_details.iter().any(|t| t.is_valid() && !is_archive(t.tier_type.as_ref()));
            let unusable = if expired {
                Some(Unusable::Expired)
            } else if soft_deleted {
                Some(Unusable::SoftDeleted)
            } else if !usable_tier {
                Some(Unusable::NotInUsableTier)
            } else {
                None
            };
            Some(Candidate { id, time: time_of(p.recovery_point_time.as_ref()), unusable })
        })
        .collect()
}

fn is_archive(tier: Option<&StrOrNum>) -> bool {
    match tier {
        Some(StrOrNum::Str(s)) => s.eq_ignore_ascii_case("ArchivedRP"),
        Some(n @ StrOrNum::Num(_)) => n.as_i64() == Some(3),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn c(id: &str, t: OffsetDateTime, unusable: Option<Unusable>) -> Candidate {
        Candidate { id: id.into(), time: Some(t), unusable }
    }

    #[test]
    fn latest_skips_unusable_points_and_at_or_before_respects_the_bound() {
        let points = [
            c("a", datetime!(2024-01-01 0:00 UTC), None),
            c("b", datetime!(2024-01-02 0:00 UTC), None),
            c("c", datetime!(2024-01-03 0:00 UTC), Some(Unusable::NotCommitted)),
        ];
        assert_eq!(select(&PointChoice::Latest, &points).unwrap().id, "b");
        let before = PointChoice::LatestAtOrBefore(datetime!(2024-01-01 12:00 UTC));
        assert_eq!(select(&before, &points).unwrap().id, "a");
        let exact = PointChoice::LatestAtOrBefore(datetime!(2024-01-02 0:00 UTC));
        assert_eq!(select(&exact, &points).unwrap().id, "b");
        assert_eq!(select(&PointChoice::Id("A".into()), &points).unwrap().id, "a");
    }

    #[test]
    fn the_error_says_what_was_found() {
        let points = [
            c("a", datetime!(2024-01-01 0:00 UTC), Some(Unusable::Expired)),
            c("b", datetime!(2024-01-02 0:00 UTC), Some(Unusable::Expired)),
            c("c", datetime!(2024-01-03 0:00 UTC), Some(Unusable::NotInUsableTier)),
        ];
        let err = select(&PointChoice::Latest, &points).unwrap_err();
        assert_eq!(err.found, 3);
        assert!(
            err.to_string().contains("2 expired") && err.to_string().contains("1 not in a restorable tier"),
            "{err}"
        );
        let err = select(&PointChoice::Id("zz".into()), &points).unwrap_err();
        assert!(err.to_string().contains("none of the 3"), "{err}");
        let err = select(&PointChoice::Latest, &[]).unwrap_err();
        assert!(err.to_string().contains("no recovery points"), "{err}");
    }

    #[test]
    fn rsv_points_in_the_archive_tier_only_are_not_usable() {
        let now = datetime!(2024-06-01 0:00 UTC);
        let points: Vec<RecoveryPointResource> = serde_json::from_value(serde_json::json!([
            {"name": "1", "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointTime": "2024-05-01T00:00:00Z",
             "recoveryPointTierDetails": [{"type": "ArchivedRP", "status": "Valid"}, {"type": "HardenedRP", "status": "Deleted"}]}},
            {"name": "2", "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointTime": "2024-04-01T00:00:00Z",
             "recoveryPointTierDetails": [{"type": 1, "status": 1}]}},
            {"name": "3", "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointTime": "2024-05-20T00:00:00Z",
             "recoveryPointProperties": {"expiryTime": "2024-05-30T00:00:00Z"}}}
        ]))
        .unwrap();
        let candidates = rsv_candidates(&points, now);
        assert_eq!(candidates[0].unusable, Some(Unusable::NotInUsableTier));
        assert_eq!(candidates[1].unusable, None);
        assert_eq!(candidates[2].unusable, Some(Unusable::Expired));
        assert_eq!(select(&PointChoice::Latest, &candidates).unwrap().id, "2");
    }
}
