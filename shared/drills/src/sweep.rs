//! The sweep: what is left in the sandbox after runs gave up on it (a delete that kept failing, a run whose
//! function stopped), found by the drill tag and deleted only through the same three-part guard as a run's own
//! cleanup ([`crate::cleanup::guard`]).
//!
//! A tagged resource is deleted only when its run has ended (or the run's expiry tag has passed) and the run
//! records it; a resource tagged like a drill resource whose run does not exist or does not record it is
//! reported and never deleted: a tag is easy to copy, a run record is not.
//!
//! [`survey`] is the whole sweep but the DELETEs: every sandbox group listed through [`SweepSeams`] (the drill
//! function and `restorectl drills sweep` each implement it over their ARM client and state store), each
//! resource judged against its stored run.

use std::collections::BTreeMap;

use async_trait::async_trait;
use restore_contract::Timestamp;
use restore_contract::policy::SandboxPolicy;
use serde_json::Value;
use time::OffsetDateTime;

use crate::cleanup::{TAG_EXPIRES, TAG_RUN, guard};
use crate::item::SeamError;
use crate::run::DrillRun;

/// The api-version of the listing (Resources - List By Resource Group: `GET {group}/resources`).
pub const LIST_API_VERSION: &str = "2021-04-01";

/// The listing's `$filter`: the resources carrying the run tag, whatever its value.
pub fn list_filter() -> String {
    format!("tagName eq '{TAG_RUN}'")
}

/// What the sweep reads: the sandbox groups' drill-tagged resources from Azure and the runs from the state store.
#[async_trait]
pub trait SweepSeams: Send + Sync {
    /// The resources of one sandbox group (its ARM id) carrying the run tag: `GET {group}/resources` with
    /// [`LIST_API_VERSION`] and `$filter` [`list_filter`], every page; each `{id, tags, …}`.
    async fn drill_tagged(&self, group: &str) -> Result<Vec<Value>, SeamError>;
    /// A run as stored under [`DrillRun::key`]; `None` when there is no document or it is not a run (a missed
    /// occurrence's marker).
    async fn run(&self, run_id: &str) -> Result<Option<DrillRun>, SeamError>;
}

/// One listed resource and the sweep's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// The resource's ARM id as listed.
    pub resource: String,
    /// The run its tag names, if any.
    pub run_id: Option<String>,
    /// What to do with it.
    pub verdict: Verdict,
}

/// A listed resource's tags (string values only; ARM tags are strings).
pub fn tags_of(resource: &Value) -> BTreeMap<String, String> {
    resource["tags"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// Lists every sandbox group of `sandbox` and judges each drill-tagged resource against its run (each run read
/// once). Deletes nothing: the caller sends the DELETE for [`Verdict::Delete`] only. A listed entry without an
/// id is skipped; a failed listing or store read fails the whole survey (nothing judged on half the facts).
pub async fn survey(
    seams: &dyn SweepSeams,
    sandbox: &SandboxPolicy,
    now: OffsetDateTime,
) -> Result<Vec<Judged>, SeamError> {
    let mut runs: BTreeMap<String, Option<DrillRun>> = BTreeMap::new();
    let mut out = Vec::new();
    for group in &sandbox.resource_groups {
        for listed in seams.drill_tagged(group.as_str()).await? {
            let Some(id) = listed["id"].as_str() else { continue };
            let tags = tags_of(&listed);
            let run_id = run_of(&tags).map(str::to_string);
            let run = match &run_id {
                Some(r) => match runs.get(r) {
                    Some(run) => run.clone(),
                    None => {
                        let run = seams.run(r).await?;
                        runs.insert(r.clone(), run.clone());
                        run
                    }
                },
                None => None,
            };
            let verdict = judge(id, &tags, run.as_ref(), sandbox, now);
            out.push(Judged { resource: id.to_string(), run_id, verdict });
        }
    }
    Ok(out)
}

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
