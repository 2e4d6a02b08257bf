//! Opening the state store for `status` and `list`: `--sqlite PATH` or `--blob-container-url URL`, else the
//! function apps' own settings (`RESTORE_STORE`, `RESTORE_SQLITE_PATH`, `RESTORE_BLOB_CONTAINER_URL`), through
//! `restore_store::from_settings` so the CLI reads exactly what the apps write.
//!
//! Two differences from the apps, both because a person runs this: a SQLite file that does not exist is an
//! error instead of being created empty (a typo must not look like "no records"), and the Blob store may use the
//! person's `az`/`azd` login when no managed or workload identity applies.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use restore_store::StateStore;
use restore_store::config::DEFAULT_SQLITE_PATH;

/// Store flags.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The SQLite state file (as RESTORE_SQLITE_PATH). Must exist.
    #[arg(long, value_name = "PATH", conflicts_with = "blob_container_url")]
    pub sqlite: Option<PathBuf>,
    /// The Blob state container, https://<account>.blob.core.windows.net/<container> (as RESTORE_BLOB_CONTAINER_URL).
    #[arg(long, value_name = "URL")]
    pub blob_container_url: Option<String>,
}

/// A settings lookup: flags first, then the process environment.
struct Settings {
    overrides: Vec<(&'static str, String)>,
}

impl Settings {
    fn get(&self, key: &str) -> Option<String> {
        match self.overrides.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(v.clone()),
            None => std::env::var(key).ok().filter(|v| !v.trim().is_empty()),
        }
    }
}

impl StoreArgs {
    /// Which flag or setting chose the store (for error messages).
    fn chosen_by(&self) -> &'static str {
        if self.sqlite.is_some() {
            "--sqlite"
        } else if self.blob_container_url.is_some() {
            "--blob-container-url"
        } else {
            "RESTORE_STORE / RESTORE_SQLITE_PATH / RESTORE_BLOB_CONTAINER_URL"
        }
    }

    fn settings(&self) -> Result<Settings, String> {
        let mut overrides = Vec::new();
        if let Some(path) = &self.sqlite {
            let text = path
                .to_str()
                .ok_or_else(|| format!("--sqlite {}: the path is not valid UTF-8", path.display()))?
                .to_string();
            overrides.push(("RESTORE_STORE", "sqlite".to_string()));
            overrides.push(("RESTORE_SQLITE_PATH", text));
        }
        if let Some(url) = &self.blob_container_url {
            overrides.push(("RESTORE_STORE", "blob".to_string()));
            overrides.push(("RESTORE_BLOB_CONTAINER_URL", url.clone()));
        }
        // `auto` with developer tools allowed, as for every CLI credential: when nothing else applies, pick the
        // az/azd login explicitly, because the store's own lookup never chooses it by itself.
        let env = |k: &str| std::env::var(k).ok();
        if env("RESTORE_CREDENTIAL").is_none_or(|v| v.trim().is_empty())
            && matches!(
                restore_engine::credential::choose_source(env, true),
                Ok(restore_engine::credential::CredentialSource::DeveloperTools)
            )
        {
            overrides.push(("RESTORE_CREDENTIAL", "developer-tools".to_string()));
        }
        Ok(Settings { overrides })
    }

    /// Opens the store. Errors name the flag or setting and the fix.
    pub async fn open(&self) -> Result<Arc<dyn StateStore>, String> {
        let settings = self.settings()?;
        let kind = settings.get("RESTORE_STORE").unwrap_or_else(|| "sqlite".into());
        if kind.trim().eq_ignore_ascii_case("sqlite") {
            let path = settings.get("RESTORE_SQLITE_PATH").unwrap_or_else(|| DEFAULT_SQLITE_PATH.into());
            if !Path::new(path.trim()).is_file() {
                return Err(format!(
                    "no state store at '{}' ({}): the function apps create it when they start; give the path of an \
                     existing file with --sqlite or RESTORE_SQLITE_PATH, or --blob-container-url for the Blob store",
                    path.trim(),
                    self.chosen_by()
                ));
            }
        }
        restore_store::config::from_settings(|k| settings.get(k))
            .await
            .map_err(|e| format!("opening the state store ({}): {e}", self.chosen_by()))
    }
}
