//! Opening a Blob container named by a setting, the way the state store does (`restore_store::config`): the URL
//! rules of [`restore_connect::blob`], the process's shared transport (extra CAs from `RESTORE_EXTRA_CA_FILES`)
//! and its one explicit credential (`RESTORE_CREDENTIAL`, managed identity in Azure), then a probe so a wrong URL
//! or a missing role fails the start, not the first tick.

use azure_core::http::{ClientOptions, Url};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use restore_connect::blob::{ContainerUrlError, parse_container_url};
use restore_connect::credential::{self, CredentialError};
use restore_connect::transport::{self, TransportError, TransportOptions};

/// A container setting could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The URL breaks the container URL rules.
    #[error(transparent)]
    Url(#[from] ContainerUrlError),
    /// No credential applies.
    #[error("{setting} needs an Azure credential: {source}")]
    Credential {
        /// The setting naming the container.
        setting: &'static str,
        /// Why no credential could be chosen or built.
        source: CredentialError,
    },
    /// The HTTPS transport could not be built.
    #[error("{setting}: {source}")]
    Transport {
        /// The setting naming the container.
        setting: &'static str,
        /// Why (a CA file in `RESTORE_EXTRA_CA_FILES`, usually).
        source: TransportError,
    },
    /// The storage client refused the URL.
    #[error("{setting}: cannot create the Blob Storage client for '{url}': {message}")]
    Client {
        /// The setting naming the container.
        setting: &'static str,
        /// The container URL.
        url: String,
        /// azure_storage_blob's message.
        message: String,
    },
    /// The startup probe failed.
    #[error("{setting}: the startup check of {url} failed: {message}")]
    Probe {
        /// The setting naming the container.
        setting: &'static str,
        /// The container URL.
        url: String,
        /// What failed and the fix.
        message: String,
    },
}

/// A container the drill function reads or writes, with the setting that named it (for messages) and the role
/// its identity needs there (for the hint when storage says 403).
pub struct Container {
    pub(crate) client: BlobContainerClient,
    pub(crate) url: Url,
    pub(crate) setting: &'static str,
    pub(crate) role: &'static str,
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container").field("setting", &self.setting).field("url", &self.url.as_str()).finish()
    }
}

impl Container {
    /// Opens and probes the container at `text` (the value of `setting`), with the transport and credential
    /// `get` (a settings lookup) selects.
    pub(crate) async fn open(
        setting: &'static str,
        role: &'static str,
        text: &str,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Container, ContainerError> {
        // The URL first: a typo there is the likelier mistake, and needs no credential to report.
        let url = parse_container_url(setting, text)?;
        let extra_ca_files = get("RESTORE_EXTRA_CA_FILES")
            .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        let transport = transport::transport(&TransportOptions { extra_ca_files, ..Default::default() })
            .map_err(|source| ContainerError::Transport { setting, source })?;
        // A Functions app has no person at a terminal: developer-tools credentials only when asked for.
        let credential = credential::choose_source(get, false)
            .and_then(|source| credential::build(&source))
            .map_err(|source| ContainerError::Credential { setting, source })?;
        Self::open_with(setting, role, url, credential, transport).await
    }

    /// Parses `text` (the value of `setting`) and opens and probes the container there with this credential and
    /// transport.
    pub(crate) async fn at(
        setting: &'static str,
        role: &'static str,
        text: &str,
        credential: std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
        transport: azure_core::http::Transport,
    ) -> Result<Container, ContainerError> {
        let url = parse_container_url(setting, text)?;
        Self::open_with(setting, role, url, credential, transport).await
    }

    /// Opens and probes the container at `url` with this credential and transport (the settings-driven
    /// [`Container::open`] ends here; a process that already holds a credential starts here).
    pub(crate) async fn open_with(
        setting: &'static str,
        role: &'static str,
        url: Url,
        credential: std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
        transport: azure_core::http::Transport,
    ) -> Result<Container, ContainerError> {
        let options = BlobContainerClientOptions {
            client_options: ClientOptions { transport: Some(transport), ..Default::default() },
            ..Default::default()
        };
        let client = BlobContainerClient::new(url.clone(), Some(credential), Some(options))
            .map_err(|e| ContainerError::Client { setting, url: url.to_string(), message: e.to_string() })?;
        let container = Container { client, url, setting, role };
        container.check().await?;
        tracing::info!(setting, container = %container.url, "Blob container ready");
        Ok(container)
    }

    /// Checks that the container exists and the identity may read it.
    async fn check(&self) -> Result<(), ContainerError> {
        let probe =
            |message: String| ContainerError::Probe { setting: self.setting, url: self.url.to_string(), message };
        match self.client.exists().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(probe(format!(
                "the container does not exist: create it (the infra templates do) or fix {}",
                self.setting
            ))),
            Err(e) => Err(probe(self.explain(&e))),
        }
    }

    /// The storage error with the likely fix (missing container, missing role).
    pub(crate) fn explain(&self, e: &azure_core::Error) -> String {
        format!("{e}{}", restore_connect::blob::hint(e, self.setting, self.role))
    }
}
