//! Where a finished run's report page and evidence pack go (names from [`restore_evidence::store::run_files`]:
//! `runs/<run id>.json` then `runs/<run id>.html`):
//!
//! * `RESTORE_DRILL_EVIDENCE_CONTAINER_URL`: a Blob container (in Azure, `drill-evidence`, under a time-based
//!   immutability policy). Each blob is created with `If-None-Match: *`, never overwritten: evidence is what was
//!   observed when the run ended, and an auditor must be able to trust that it was not edited since. A blob that
//!   already exists with the same bytes counts as written (a repeated write); one with other bytes is kept and the
//!   write reported as an error. The identity needs Storage Blob Data Contributor there (the narrowest built-in
//!   role that can create blobs; the immutability policy, not the role, is what refuses changes).
//! * `RESTORE_DRILL_EVIDENCE_DIR` (default `out/drills`): a local folder, files replaced on a repeated write.

use std::path::PathBuf;

use azure_core::http::RequestContent;
use azure_storage_blob::models::BlobClientUploadOptions;
use restore_connect::blob::is_condition_lost;
use restore_drills::result::DrillResult;
use restore_drills::run::DrillRun;
use restore_evidence::EvidencePack;
use restore_evidence::store::WriteError;
use time::OffsetDateTime;

use crate::container::{Container, ContainerError};

/// The folder setting.
pub const DIR_SETTING: &str = "RESTORE_DRILL_EVIDENCE_DIR";
/// The container setting.
pub const CONTAINER_SETTING: &str = "RESTORE_DRILL_EVIDENCE_CONTAINER_URL";
/// The folder when neither setting is set.
pub const DEFAULT_DIR: &str = "out/drills";
/// The container the overview page across plans is written to (replaced as runs change; beside the immutable
/// evidence container, never in it).
pub const OVERVIEW_SETTING: &str = "RESTORE_DRILL_OVERVIEW_CONTAINER_URL";

/// The evidence sink could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceConfigError {
    /// Both settings.
    #[error("{DIR_SETTING} and {CONTAINER_SETTING} are both set: evidence goes to one place; remove one of them")]
    Both,
    /// The container could not be opened.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// A run's evidence could not be (fully) written.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The folder writer failed, or the run id cannot name a file.
    #[error("{DIR_SETTING}: {0}")]
    Folder(WriteError),
    /// The run id cannot name a blob.
    #[error("{CONTAINER_SETTING}: {0}")]
    Name(WriteError),
    /// Storage refused or failed the write.
    #[error("{CONTAINER_SETTING}: writing the evidence blob '{blob}' to {url} failed: {message}")]
    Storage {
        /// The blob name.
        blob: String,
        /// The container URL.
        url: String,
        /// Storage's answer and the likely fix.
        message: String,
    },
    /// The blob exists with other content: it is kept (evidence is immutable).
    #[error(
        "{CONTAINER_SETTING}: the evidence blob '{blob}' in {url} already exists with different content; the first one is kept (evidence is never overwritten) and this copy is not stored"
    )]
    Differs {
        /// The blob name.
        blob: String,
        /// The container URL.
        url: String,
    },
}

/// Where the page went and whether anything was already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The page's path or URL.
    pub page: String,
    /// How many of the documents already existed with the same bytes (a repeated write).
    pub already_there: usize,
}

/// Where evidence is written.
#[derive(Debug)]
pub enum EvidenceSink {
    /// A local folder.
    Folder(PathBuf),
    /// A Blob container for run evidence (boxed: a client is large beside a path), and the container the
    /// overview goes to, when configured.
    Container(Box<Container>, Option<Box<Container>>),
}

impl EvidenceSink {
    /// The sink the process environment selects.
    pub async fn from_env() -> Result<EvidenceSink, EvidenceConfigError> {
        Self::from_settings(|k| std::env::var(k).ok()).await
    }

    /// The sink `get` (a settings lookup) selects; a container is probed.
    pub async fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<EvidenceSink, EvidenceConfigError> {
        let set = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match (set(DIR_SETTING), set(CONTAINER_SETTING)) {
            (Some(_), Some(_)) => Err(EvidenceConfigError::Both),
            (None, Some(url)) => {
                let evidence = Container::open(CONTAINER_SETTING, "Storage Blob Data Contributor", &url, &get).await?;
                let overview = match set(OVERVIEW_SETTING) {
                    Some(url) => Some(Box::new(
                        Container::open(OVERVIEW_SETTING, "Storage Blob Data Contributor", &url, &get).await?,
                    )),
                    None => {
                        tracing::warn!("{OVERVIEW_SETTING} is not set: the overview page is not written");
                        None
                    }
                };
                Ok(EvidenceSink::Container(Box::new(evidence), overview))
            }
            (dir, None) => Ok(EvidenceSink::Folder(PathBuf::from(dir.unwrap_or_else(|| DEFAULT_DIR.into())))),
        }
    }

    /// Writes the evidence of an ended run; a failure is logged, not returned: the drill result message still
    /// goes out, and the result (in the state store and on the queue) is the record of the run.
    pub async fn write(&self, run: &DrillRun, result: &DrillResult) -> bool {
        match self.write_run(&pack(run, result)).await {
            Ok(w) => {
                tracing::info!(run_id = %run.run_id, page = %w.page, already_there = w.already_there, "drill report written");
                true
            }
            Err(e) => {
                tracing::error!(run_id = %run.run_id, error = %e, "drill report not written; tried again next tick");
                false
            }
        }
    }

    /// The evidence container at `url` with this credential and transport (what [`EvidenceSink::from_settings`]
    /// builds from the settings).
    pub async fn container(
        url: &str,
        credential: std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
        transport: azure_core::http::Transport,
    ) -> Result<EvidenceSink, EvidenceConfigError> {
        let container =
            Container::at(CONTAINER_SETTING, "Storage Blob Data Contributor", url, credential, transport).await?;
        Ok(EvidenceSink::Container(Box::new(container), None))
    }

    /// Whether the overview page has never been written here (a folder without `index.html`).
    pub fn overview_missing(&self) -> bool {
        match self {
            EvidenceSink::Folder(dir) => !dir.join("index.html").is_file(),
            EvidenceSink::Container(..) => false,
        }
    }

    /// Writes the overview page across plans (`index.html` and its data `index.json`); a failure is logged. The
    /// overview changes with every run, so on Blob it goes to its own container, replaced each time, never to the
    /// immutable evidence container.
    pub async fn write_overview(&self, overview: &restore_evidence::overview::Overview) {
        match self {
            EvidenceSink::Folder(dir) => match restore_evidence::store::write_overview(dir, overview) {
                Ok(page) => tracing::info!(page = %page.display(), "drill overview written"),
                Err(e) => tracing::error!(error = %e, "drill overview not written"),
            },
            EvidenceSink::Container(_, Some(container)) => {
                for (name, bytes) in restore_evidence::store::overview_documents(overview) {
                    let options = BlobClientUploadOptions {
                        blob_content_type: Some(content_type(name).into()),
                        ..Default::default()
                    };
                    let blob = container.client.blob_client(name);
                    if let Err(e) = blob.upload(RequestContent::from(bytes), Some(options)).await {
                        tracing::error!(blob = name, error = %container.explain(&e), "drill overview not written");
                        return;
                    }
                }
                tracing::info!(container = %container.url, "drill overview written");
            }
            EvidenceSink::Container(_, None) => {}
        }
    }

    /// Writes a pack and its page; returns where the page is.
    pub async fn write_run(&self, pack: &EvidencePack) -> Result<Written, EvidenceError> {
        match self {
            EvidenceSink::Folder(dir) => restore_evidence::store::write_run(dir, pack)
                .map(|page| Written { page: page.display().to_string(), already_there: 0 })
                .map_err(EvidenceError::Folder),
            EvidenceSink::Container(container, _) => {
                let documents = restore_evidence::store::run_documents(pack).map_err(EvidenceError::Name)?;
                let mut already_there = 0;
                let mut page = String::new();
                for (name, bytes) in documents {
                    already_there += usize::from(create(container, &name, bytes).await?);
                    page = container.client.blob_client(&name).url().to_string();
                }
                Ok(Written { page, already_there })
            }
        }
    }
}

/// The content type a browser needs to show a document by its name.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".html") { "text/html; charset=utf-8" } else { "application/json" }
}

/// Creates `name` unless it exists; `true` when it already held exactly `bytes`.
async fn create(container: &Container, name: &str, bytes: Vec<u8>) -> Result<bool, EvidenceError> {
    let storage =
        |message: String| EvidenceError::Storage { blob: name.to_string(), url: container.url.to_string(), message };
    let blob = container.client.blob_client(name);
    let options = BlobClientUploadOptions {
        blob_content_type: Some(content_type(name).into()),
        // The condition and the write are one atomic step at the service: of two writers, one creates the blob
        // and the other is told it exists (409), whatever the immutability policy says.
        if_none_match: Some("*".into()),
        ..Default::default()
    };
    match blob.upload(RequestContent::from(bytes.clone()), Some(options)).await {
        Ok(_) => Ok(false),
        Err(e) if is_condition_lost(&e) => {
            let existing = blob.download(None).await.map_err(|e| storage(container.explain(&e)))?;
            let existing = existing.body.collect().await.map_err(|e| storage(container.explain(&e)))?;
            if existing.as_ref() == bytes.as_slice() {
                Ok(true)
            } else {
                Err(EvidenceError::Differs { blob: name.to_string(), url: container.url.to_string() })
            }
        }
        Err(e) => Err(storage(container.explain(&e))),
    }
}

/// A run's evidence pack: the result plus, per item, what was read (the recovery point's age, the checks) and
/// deleted (each created resource and whether its deletion was confirmed).
pub fn pack(run: &DrillRun, result: &DrillResult) -> EvidencePack {
    let items = run
        .items
        .iter()
        .map(|i| restore_evidence::ItemEvidence {
            item: i.item.clone(),
            restored_gib: i.restored_gib,
            recovery_point_age_seconds: i
                .recovery_point
                .as_ref()
                .and_then(|p| p.time)
                .map(|t| (run.scheduled_at.get() - t.get()).whole_seconds()),
            checks: i.checks.clone(),
            cleanup: i
                .created
                .iter()
                .map(|c| restore_evidence::pack::CleanupEvidence {
                    resource: c.id.clone(),
                    deleted: c.gone_at.is_some(),
                    confirmed_at: c.gone_at,
                    detail: c.problem.clone(),
                })
                .collect(),
        })
        .collect();
    // Dated by the run's end, not by the write: a write tried again produces the same bytes, which the immutable
    // container accepts as already written.
    let generated_at = run.ended_at.unwrap_or_else(|| restore_contract::Timestamp::from(OffsetDateTime::now_utc()));
    EvidencePack::new(generated_at, result.clone(), items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    async fn sink(vars: &[(&str, &str)]) -> Result<EvidenceSink, EvidenceConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        EvidenceSink::from_settings(|k| map.get(k).cloned()).await
    }

    #[tokio::test]
    async fn one_place_a_folder_by_default_and_errors_name_the_settings() {
        assert!(matches!(sink(&[]).await, Ok(EvidenceSink::Folder(d)) if d == std::path::Path::new(DEFAULT_DIR)));
        let both = sink(&[(DIR_SETTING, "/e"), (CONTAINER_SETTING, "https://a.blob.core.windows.net/e")])
            .await
            .unwrap_err()
            .to_string();
        assert!(both.contains(DIR_SETTING) && both.contains(CONTAINER_SETTING), "{both}");
        let bad = sink(&[(CONTAINER_SETTING, "https://a.blob.core.windows.net/e/runs")]).await.unwrap_err().to_string();
        assert!(bad.starts_with(CONTAINER_SETTING) && bad.contains("only the container"), "{bad}");
    }

    #[test]
    fn pages_are_served_as_html_and_packs_as_json() {
        assert_eq!(content_type("runs/p.20261205T023000Z.json"), "application/json");
        assert_eq!(content_type("runs/p.20261205T023000Z.html"), "text/html; charset=utf-8");
    }
}
