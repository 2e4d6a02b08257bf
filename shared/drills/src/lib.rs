//! Scheduled recovery drills: the core the drill function runs. No I/O and no clock of its own: every function
//! takes the time it reasons about, and the item state machine ([`item`]) reaches Azure and the restore path only
//! through its seam traits.
//!
//! * [`plan`] – the [`DrillPlan`] document; [`ids`] – item and vault ids; [`duration`] – ISO 8601 durations.
//! * [`parse`] – bytes → validated plan ([`parse_plan`]), refusing duplicate keys and unknown fields with paths.
//! * [`validate`] – the rules a plan must meet, against the restore policy; [`error`] – [`PlanError`].
//! * [`schedule`] – NCRONTAB in an IANA time zone: occurrences, run ids, due and missed runs, the DST rule.
//! * [`inventory`] – the candidate items, listed from the vaults a selection needs; [`history`] – what a plan
//!   remembers per item across runs (last drill, last pass, RTOs, source tags).
//! * [`select`] – selection, sampling and coverage over a list of candidate items.
//! * [`rto`] – measured RTO, targets, regressions and the run outcome.
//! * [`result`] – the drill result message; [`schema`] – the published JSON Schemas.
//! * [`events`] – the JSON event lines the alert rules query.
//! * [`cleanup`] – the three-part guard every deletion passes, and the deletion order.
//! * [`sweep`] – what is left in the sandbox after runs gave up, deleted only through the same guard.
//! * [`probes`] – the optional checks inside a restored item: a managed Run Command, a signed webhook.
//! * [`checks`] – what a drill checks on a restored disk or VM, with the evidence it read.
//! * [`item`] – one drilled item's state machine (request → restore → checks → cleanup) over its seams.
//! * [`start`] – a run's items from the inventory: selection, sampling, the cost guard, what is skipped and why.
//! * [`preflight`] – isolation, quota and policy, checked in Azure before a run's first write.
//! * [`adhoc`] – runs asked for outside the schedule (`restorectl drills run --now`).
//! * [`run`] – a run: the plan snapshot, each item's request, and the result once every item is done.
//!
//! Plans are described in docs/drills.md.

pub mod adhoc;
pub mod checks;
pub mod cleanup;
pub mod duration;
pub mod error;
pub mod events;
pub mod history;
pub mod ids;
pub mod inventory;
pub mod item;
pub mod parse;
pub mod plan;
pub mod point;
pub mod preflight;
pub mod probes;
pub mod result;
pub mod rng;
pub mod rto;
pub mod run;
pub mod schedule;
pub mod schema;
pub mod select;
pub mod start;
pub mod sweep;
pub mod validate;

pub use duration::IsoDuration;
pub use error::{PlanError, PlanErrorKind};
pub use ids::{ItemId, ItemKind, VaultId, drill_request_id};
pub use parse::{ValidPlan, parse_document, parse_plan};
pub use plan::DrillPlan;
pub use schedule::{Occurrence, PlanSchedule, run_id};
