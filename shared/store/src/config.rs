//! Choosing and opening the store from settings (environment variables / Functions app settings).
//!
//! * `RESTORE_STORE` = `sqlite` (default) or `blob`.
//! * `RESTORE_SQLITE_PATH`: the SQLite file (default `./restore-state.db`); its directory must exist.
//! * `RESTORE_BLOB_CONTAINER_URL`: `https://<account>.blob.core.windows.net/<container>` (required for `blob`).
//!   Authentication is the process's Azure credential (`RESTORE_CREDENTIAL`, managed identity in Azure; see
//!   `restore_connect::credential`); extra trusted CAs come from `RESTORE_EXTRA_CA_FILES` (PEM files separated
//!   like `PATH`). The container is probed at startup so a wrong URL or a missing role fails the start, not the
//!   first request.

use std::path::PathBuf;
use std::sync::Arc;

use restore_connect::credential::{self, CredentialError};
use restore_connect::transport::{self, TransportError, TransportOptions};

use crate::blob::{BlobConfigError, BlobStore};
use crate::error::StoreError;
use crate::sqlite::{SqliteOpenError, SqliteStore};
use crate::store::StateStore;

/// The default SQLite file.
pub const DEFAULT_SQLITE_PATH: &str = "./restore-state.db";

/// The store could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `RESTORE_STORE` names no store.
    #[error("RESTORE_STORE='{0}' is not a state store; use sqlite (the default) or blob")]
    UnknownStore(String),
    /// `RESTORE_STORE=blob` without a container URL.
    #[error(
        "RESTORE_STORE=blob needs RESTORE_BLOB_CONTAINER_URL, e.g. https://<account>.blob.core.windows.net/restore-state"
    )]
    MissingContainerUrl,
    /// The SQLite file's directory does not exist.
    #[error("RESTORE_SQLITE_PATH='{path}': the directory '{dir}' does not exist; create it or choose another path")]
    SqliteDirectory {
        /// The configured path.
        path: PathBuf,
        /// Its parent directory.
        dir: PathBuf,
    },
    /// The SQLite file could not be opened.
    #[error("RESTORE_SQLITE_PATH: {0}")]
    Sqlite(#[from] SqliteOpenError),
    /// The container URL or client is unusable.
    #[error(transparent)]
    Blob(#[from] BlobConfigError),
    /// No Azure credential for the Blob store.
    #[error("RESTORE_STORE=blob needs an Azure credential: {0}")]
    Credential(#[from] CredentialError),
    /// The HTTPS transport could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The startup probe of the container failed.
    #[error("RESTORE_BLOB_CONTAINER_URL: the startup check failed: {0}")]
    Probe(StoreError),
    /// The blocking open task failed.
    #[error("opening the state store: {0}")]
    Task(String),
}

/// Opens the store the process environment selects.
pub async fn from_env() -> Result<Arc<dyn StateStore>, ConfigError> {
    from_settings(|key| std::env::var(key).ok()).await
}

/// Opens the store `get` (a settings lookup) selects.
pub async fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<Arc<dyn StateStore>, ConfigError> {
    let set = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let kind = set("RESTORE_STORE").unwrap_or_else(|| "sqlite".into());
    let store: Arc<dyn StateStore> = match kind.to_ascii_lowercase().as_str() {
        "sqlite" => {
            let path = PathBuf::from(set("RESTORE_SQLITE_PATH").unwrap_or_else(|| DEFAULT_SQLITE_PATH.into()));
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !dir.is_dir() {
                return Err(ConfigError::SqliteDirectory { path, dir });
            }
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| ConfigError::Task(e.to_string()))??;
            Arc::new(store)
        }
        "blob" => {
            let url = set("RESTORE_BLOB_CONTAINER_URL").ok_or(ConfigError::MissingContainerUrl)?;
            // The URL first: a typo there is the likelier mistake, and needs no credential to report.
            crate::blob::parse_container_url(&url)?;
            let extra_ca_files = set("RESTORE_EXTRA_CA_FILES")
                .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
                .unwrap_or_default();
            let transport = transport::transport(&TransportOptions { extra_ca_files, ..Default::default() })?;
            // A Functions app has no person at a terminal: developer-tools credentials only when asked for.
            let source = credential::choose_source(&get, false)?;
            let credential = credential::build(&source)?;
            let store = BlobStore::new(&url, credential, Some(transport))?;
            store.check().await.map_err(ConfigError::Probe)?;
            Arc::new(store)
        }
        _ => return Err(ConfigError::UnknownStore(kind)),
    };
    tracing::info!(store = %store.describe(), "state store opened");
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    async fn open(vars: &[(&str, &str)]) -> Result<Arc<dyn StateStore>, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_settings(|k| map.get(k).cloned()).await
    }

    #[tokio::test]
    async fn errors_name_the_setting() {
        let err = open(&[("RESTORE_STORE", "postgres")]).await.unwrap_err().to_string();
        assert!(err.contains("RESTORE_STORE='postgres'") && err.contains("sqlite"), "{err}");
        let err = open(&[("RESTORE_STORE", "blob")]).await.unwrap_err().to_string();
        assert!(err.contains("RESTORE_BLOB_CONTAINER_URL"), "{err}");
        let err =
            open(&[("RESTORE_STORE", "blob"), ("RESTORE_BLOB_CONTAINER_URL", "http://a.blob.core.windows.net/c")])
                .await
                .unwrap_err()
                .to_string();
        assert!(err.contains("RESTORE_BLOB_CONTAINER_URL") && err.contains("https"), "{err}");
        let err = open(&[
            ("RESTORE_STORE", "blob"),
            ("RESTORE_BLOB_CONTAINER_URL", "https://a.blob.core.windows.net/c?sv=1&sig=x"),
        ])
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("SAS"), "{err}");
        let err =
            open(&[("RESTORE_STORE", "blob"), ("RESTORE_BLOB_CONTAINER_URL", "https://a.blob.core.windows.net/c")])
                .await
                .unwrap_err()
                .to_string();
        assert!(err.contains("RESTORE_STORE=blob needs an Azure credential"), "{err}");
        let err = open(&[("RESTORE_SQLITE_PATH", "/nonexistent-dir/x.db")]).await.unwrap_err().to_string();
        assert!(err.contains("RESTORE_SQLITE_PATH") && err.contains("/nonexistent-dir"), "{err}");
    }

    #[tokio::test]
    async fn sqlite_is_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = open(&[("RESTORE_SQLITE_PATH", path.to_str().unwrap())]).await.unwrap();
        assert_eq!(store.describe(), format!("sqlite {}", path.display()));
        assert!(path.exists());
    }
}
