//! Where drill plans come from, read afresh every tick (a plan changes without a redeploy):
//!
//! * `RESTORE_DRILL_PLANS_CONTAINER_URL`: a Blob container (in Azure, `drill-plans`), every blob named
//!   `*.json`, all listing pages; the plan's name in signals is the blob name without `.json`. The drill identity
//!   only needs Storage Blob Data Reader there: whoever may write plans may run commands on clones of production
//!   VMs, so the function cannot.
//! * `RESTORE_DRILL_PLANS_DIR`: a local folder, every `*.json` file in it (development, `run-local.sh`).
//!
//! Exactly one is set. A plan that is listed but cannot be read is returned as such (never dropped), so the tick
//! raises a `planInvalid` signal for it (code `plan.unreadable`) like a plan that no longer validates: a plan
//! that silently stopped running would look like a plan with nothing due. A listing that fails fails the tick.

use std::path::{Path, PathBuf};

use azure_storage_blob::models::BlobContainerClientListBlobsOptions;
use futures::TryStreamExt;
use restore_drills::result::Signal;

use crate::container::{Container, ContainerError};

/// The folder setting.
pub const DIR_SETTING: &str = "RESTORE_DRILL_PLANS_DIR";
/// The container setting.
pub const CONTAINER_SETTING: &str = "RESTORE_DRILL_PLANS_CONTAINER_URL";
/// The signal code of a plan that is listed but cannot be read.
pub const UNREADABLE: &str = "plan.unreadable";

/// The plan source could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum PlanConfigError {
    /// Neither setting.
    #[error(
        "no drill plans configured: set {CONTAINER_SETTING} (a Blob container, e.g. https://<account>.blob.core.windows.net/drill-plans; what infra sets) or {DIR_SETTING} (a local folder of JSON files)"
    )]
    Neither,
    /// Both settings.
    #[error("{DIR_SETTING} and {CONTAINER_SETTING} are both set: plans come from one place; remove one of them")]
    Both,
    /// The container could not be opened.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// The plans could not be listed (the tick fails and the next one tries again).
#[derive(Debug, thiserror::Error)]
pub enum PlanListError {
    /// The folder could not be read.
    #[error("{DIR_SETTING} '{dir}' cannot be read: {source}; check the folder exists and the function may read it")]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The container could not be listed.
    #[error("{CONTAINER_SETTING}: listing the plans in {url} failed: {message}")]
    Container {
        /// The container URL.
        url: String,
        /// Storage's answer and the likely fix.
        message: String,
    },
}

/// One listed plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanReadError {
    /// A file.
    #[error("the plan file '{path}' cannot be read: {source}; fix its permissions or remove it from {DIR_SETTING}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A blob.
    #[error("the plan blob '{blob}' in {url} cannot be read: {message}")]
    Blob {
        /// The blob name.
        blob: String,
        /// The container URL.
        url: String,
        /// Storage's answer and the likely fix.
        message: String,
    },
}

impl PlanReadError {
    /// The signal the tick raises for the plan: `planInvalid` with code [`UNREADABLE`], like a plan that no
    /// longer validates, so the same alert sees it.
    pub fn signal(&self) -> Signal {
        Signal::PlanInvalid { code: UNREADABLE.to_string(), field: None, rule: None, message: self.to_string() }
    }
}

/// A listed plan: its name (file or blob name without `.json`) and its bytes, or why they could not be read.
#[derive(Debug)]
pub struct PlanDocument {
    /// The plan's name in signals.
    pub name: String,
    /// The document.
    pub bytes: Result<Vec<u8>, PlanReadError>,
}

/// Where plans are read from.
#[derive(Debug)]
pub enum PlanSource {
    /// A local folder.
    Folder(PathBuf),
    /// A Blob container.
    Container {
        /// The container (boxed: a client is large beside a path).
        container: Box<Container>,
        /// Names per List Blobs call (`None`: the service's default, 5,000).
        page_size: Option<i32>,
    },
}

impl PlanSource {
    /// The source the process environment selects.
    pub async fn from_env() -> Result<PlanSource, PlanConfigError> {
        Self::from_settings(|k| std::env::var(k).ok()).await
    }

    /// The source `get` (a settings lookup) selects; a container is probed.
    pub async fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<PlanSource, PlanConfigError> {
        let set = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match (set(DIR_SETTING), set(CONTAINER_SETTING)) {
            (Some(dir), None) => Ok(PlanSource::Folder(PathBuf::from(dir))),
            (None, Some(url)) => {
                let container = Container::open(CONTAINER_SETTING, "Storage Blob Data Reader", &url, &get).await?;
                Ok(PlanSource::Container { container: Box::new(container), page_size: None })
            }
            (None, None) => Err(PlanConfigError::Neither),
            (Some(_), Some(_)) => Err(PlanConfigError::Both),
        }
    }

    /// Lists at most `n` names per List Blobs call (tests: proves every page is read). No effect on a folder.
    pub fn with_page_size(mut self, n: i32) -> PlanSource {
        if let PlanSource::Container { page_size, .. } = &mut self {
            *page_size = Some(n);
        }
        self
    }

    /// The plan container at `url` with this credential and transport (what [`PlanSource::from_settings`] builds
    /// from the settings).
    pub async fn container(
        url: &str,
        credential: std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
        transport: azure_core::http::Transport,
    ) -> Result<PlanSource, PlanConfigError> {
        let container =
            Container::at(CONTAINER_SETTING, "Storage Blob Data Reader", url, credential, transport).await?;
        Ok(PlanSource::Container { container: Box::new(container), page_size: None })
    }

    /// Every plan, in name order.
    pub async fn read(&self) -> Result<Vec<PlanDocument>, PlanListError> {
        match self {
            PlanSource::Folder(dir) => read_folder(dir),
            PlanSource::Container { container, page_size } => read_container(container, *page_size).await,
        }
    }
}

/// The plan name of a listed name: `*.json` only, without the extension (and never empty).
pub fn plan_name(listed: &str) -> Option<&str> {
    listed.strip_suffix(".json").filter(|n| !n.is_empty() && !n.ends_with('/'))
}

fn read_folder(dir: &Path) -> Result<Vec<PlanDocument>, PlanListError> {
    let folder = |source| PlanListError::Folder { dir: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder)? {
        let path = entry.map_err(folder)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(plan_name).map(str::to_string) else {
            continue;
        };
        files.push((name, path));
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|(name, path)| {
            let bytes = std::fs::read(&path).map_err(|source| {
                let e = PlanReadError::File { path, source };
                tracing::error!(plan = %name, error = %e, "a drill plan cannot be read");
                e
            });
            PlanDocument { name, bytes }
        })
        .collect())
}

async fn read_container(container: &Container, page_size: Option<i32>) -> Result<Vec<PlanDocument>, PlanListError> {
    let failed = |e: &azure_core::Error| PlanListError::Container {
        url: container.url.to_string(),
        message: container.explain(e),
    };
    let options = BlobContainerClientListBlobsOptions { maxresults: page_size, ..Default::default() };
    let mut pages = container.client.list_blobs(Some(options)).map_err(|e| failed(&e))?.into_pages();
    let mut names = Vec::new();
    while let Some(page) = pages.try_next().await.map_err(|e| failed(&e))? {
        let page = page.into_model().map_err(|e| failed(&e))?;
        names.extend(page.blob_items.into_iter().filter_map(|item| item.name));
    }
    names.sort();
    let mut plans = Vec::new();
    for blob in names {
        let Some(name) = plan_name(&blob).map(str::to_string) else { continue };
        let bytes = read_blob(container, &blob).await.map_err(|e| {
            let e = PlanReadError::Blob { blob: blob.clone(), url: container.url.to_string(), message: e };
            tracing::error!(plan = %name, error = %e, "a drill plan cannot be read");
            e
        });
        plans.push(PlanDocument { name, bytes });
    }
    Ok(plans)
}

async fn read_blob(container: &Container, blob: &str) -> Result<Vec<u8>, String> {
    let downloaded = container.client.blob_client(blob).download(None).await.map_err(|e| container.explain(&e))?;
    let body = downloaded.body.collect().await.map_err(|e| container.explain(&e))?;
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    async fn source(vars: &[(&str, &str)]) -> Result<PlanSource, PlanConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        PlanSource::from_settings(|k| map.get(k).cloned()).await
    }

    #[test]
    fn only_json_names_are_plans() {
        assert_eq!(plan_name("nightly.json"), Some("nightly"));
        assert_eq!(plan_name("team-a/nightly.json"), Some("team-a/nightly"));
        for not in ["README.md", "nightly.json.bak", ".json", "dir/.json", "nightly"] {
            assert_eq!(plan_name(not), None, "{not}");
        }
    }

    #[tokio::test]
    async fn exactly_one_source_and_errors_name_the_settings() {
        let neither = source(&[]).await.unwrap_err().to_string();
        assert!(neither.contains(DIR_SETTING) && neither.contains(CONTAINER_SETTING), "{neither}");
        let both = source(&[(DIR_SETTING, "/p"), (CONTAINER_SETTING, "https://a.blob.core.windows.net/p")])
            .await
            .unwrap_err()
            .to_string();
        assert!(both.contains(DIR_SETTING) && both.contains(CONTAINER_SETTING), "{both}");
        let bad = source(&[(CONTAINER_SETTING, "http://a.blob.core.windows.net/p")]).await.unwrap_err().to_string();
        assert!(bad.starts_with(CONTAINER_SETTING) && bad.contains("https"), "{bad}");
        let no_identity =
            source(&[(CONTAINER_SETTING, "https://a.blob.core.windows.net/p")]).await.unwrap_err().to_string();
        assert!(no_identity.contains(CONTAINER_SETTING) && no_identity.contains("credential"), "{no_identity}");
        assert!(
            matches!(source(&[(DIR_SETTING, " /plans ")]).await, Ok(PlanSource::Folder(d)) if d == Path::new("/plans"))
        );
    }

    #[tokio::test]
    async fn an_unreadable_file_is_returned_with_its_signal_never_dropped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        // A directory named like a plan: listed, and reading it fails.
        std::fs::create_dir(dir.path().join("a.json")).unwrap();
        let plans = PlanSource::Folder(dir.path().to_path_buf()).read().await.unwrap();
        let names: Vec<_> = plans.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let err = plans[0].bytes.as_ref().unwrap_err();
        let Signal::PlanInvalid { code, message, .. } = err.signal() else { panic!("{err}") };
        assert_eq!(code, UNREADABLE);
        assert!(message.contains("a.json") && message.contains(DIR_SETTING), "{message}");
        assert_eq!(plans[1].bytes.as_deref().unwrap(), b"{}");
        let missing = PlanSource::Folder(dir.path().join("nope")).read().await.unwrap_err().to_string();
        assert!(missing.starts_with(DIR_SETTING) && missing.contains("nope"), "{missing}");
    }
}
