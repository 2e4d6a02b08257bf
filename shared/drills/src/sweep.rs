//! The sweep: what is left in the sandbox after runs gave up on it (a delete that kept failing, a run whose
//! function stopped), found by the drill tag and deleted only through the same three-part guard as a run's own
//! cleanup ([`crate::cleanup::guard`]).
//!
//! A tagged resource is deleted only when its run has ended (or the run's expiry tag has passed) and the run
//! records it; a resource tagged like a drill resource whose run does not exist or does not record it is
//! reported and never deleted: a tag is easy to copy, a run record is not.

use std::collections::BTreeMap;

use restore_contract::Timestamp;
use restore_contract::policy::SandboxPolicy;
use time::OffsetDateTime;

use crate::cleanup::{TAG_EXPIRES, TAG_RUN, guard};
use crate::run::DrillRun;

/// What the sweep does with one tagged resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delete it (every condition holds).
    Delete,
    /// Leave it: its run is still open and cleans up after itself.
    RunOpen,
    /// Never delete it; the reason is reported.
    Refused(String),
}

fn tag<'a>(tags: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The run id a resource's drill tag names, if any.
pub fn run_of(tags: &BTreeMap<String, String>) -> Option<&str> {
    tag(tags, TAG_RUN)
}

/// Judges one resource listed in a sandbox group with its tags, given its run (as stored, if it exists).
pub fn judge(
    resource: &str,
    tags: &BTreeMap<String, String>,
    run: Option<&DrillRun>,
    sandbox: &SandboxPolicy,
    now: OffsetDateTime,
) -> Verdict {
    let Some(run_id) = run_of(tags) else {
        return Verdict::Refused(format!("{resource} carries no {TAG_RUN} tag: never deleted"));
    };
    let Some(run) = run else {
        return Verdict::Refused(format!(
            "{resource} is tagged for run '{run_id}', which does not exist: never deleted"
        ));
    };
    let recorded: Vec<String> = run.items.iter().flat_map(|i| i.created.iter().map(|c| c.id.clone())).collect();
    if let Err(refusal) = guard(resource, sandbox, &recorded, tags, &run.run_id) {
        return Verdict::Refused(refusal.to_string());
    }
    let expired = tag(tags, TAG_EXPIRES).and_then(|t| Timestamp::parse(t).ok()).is_some_and(|t| t.get() <= now);
    if run.ended() || expired { Verdict::Delete } else { Verdict::RunOpen }
}
