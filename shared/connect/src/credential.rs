//! The explicit choice of credential.
//!
//! azure_identity 1.0 has no `DefaultAzureCredential`, and a silent chain would hide which identity a restore ran
//! under, so the engine chooses one source, logs which (never the token), and fails at startup with a message
//! that lists the options when none applies.
//!
//! `RESTORE_CREDENTIAL` selects: `managed-identity` (App Service / Functions endpoint when `IDENTITY_ENDPOINT` and
//! `IDENTITY_HEADER` are set, IMDS otherwise; a user-assigned identity through `AZURE_CLIENT_ID`),
//! `workload-identity` (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`), `developer-tools`
//! (`az login` / `azd auth login`), or `auto` (the default): the Functions managed identity when its variables are
//! present, else workload identity when its token file is configured, else developer tools when the caller is a
//! person at a terminal (the CLI), else an error.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_identity::{
    ClientAssertionCredentialOptions, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

/// Where tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The App Service / Functions managed-identity endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).
    AppServiceManagedIdentity {
        /// Client id of a user-assigned identity, if one is selected.
        client_id: Option<String>,
    },
    /// The Azure Instance Metadata Service managed identity (VMs, container hosts).
    ImdsManagedIdentity {
        /// Client id of a user-assigned identity, if one is selected.
        client_id: Option<String>,
    },
    /// Kubernetes / federated workload identity.
    WorkloadIdentity,
    /// `az` or `azd` login of a person at a terminal.
    DeveloperTools,
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uami =
            |id: &Option<String>| id.as_ref().map(|c| format!(", user-assigned client id {c}")).unwrap_or_default();
        match self {
            CredentialSource::AppServiceManagedIdentity { client_id } => {
                write!(f, "managed identity via the Functions/App Service endpoint{}", uami(client_id))
            }
            CredentialSource::ImdsManagedIdentity { client_id } => {
                write!(f, "managed identity via IMDS{}", uami(client_id))
            }
            CredentialSource::WorkloadIdentity => f.write_str("workload identity (federated token file)"),
            CredentialSource::DeveloperTools => f.write_str("developer tools (az / azd login)"),
        }
    }
}

/// No credential could be chosen or built.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The setting names an unknown source.
    #[error(
        "RESTORE_CREDENTIAL='{0}' is not a credential source; use auto, managed-identity, workload-identity or developer-tools"
    )]
    UnknownSource(String),
    /// `auto` found nothing to use.
    #[error(
        "no Azure credential is configured: in Azure Functions enable a managed identity (IDENTITY_ENDPOINT and IDENTITY_HEADER are then set); on Kubernetes set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE; on a VM set RESTORE_CREDENTIAL=managed-identity; at a terminal run `az login` and set RESTORE_CREDENTIAL=developer-tools"
    )]
    NoneApplies,
    /// Workload identity was asked for without its settings.
    #[error("RESTORE_CREDENTIAL=workload-identity needs {0}")]
    MissingWorkloadSetting(&'static str),
    /// The HTTPS transport for token requests could not be built (a bad `RESTORE_EXTRA_CA_FILES`).
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    /// azure_identity refused to build the credential.
    #[error("cannot create the {source_name} credential: {message}")]
    Build {
        /// The chosen source.
        source_name: String,
        /// azure_identity's message.
        message: String,
    },
}

/// Decides the source from settings (`get` reads a setting, e.g. an environment variable).
pub fn choose_source(
    get: impl Fn(&str) -> Option<String>,
    allow_developer_tools: bool,
) -> Result<CredentialSource, CredentialError> {
    let set = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let client_id = set("AZURE_CLIENT_ID");
    let app_service = set("IDENTITY_ENDPOINT").is_some() && set("IDENTITY_HEADER").is_some();
    let managed = |client_id: Option<String>| {
        if app_service {
            CredentialSource::AppServiceManagedIdentity { client_id }
        } else {
            CredentialSource::ImdsManagedIdentity { client_id }
        }
    };
    let choice = set("RESTORE_CREDENTIAL").unwrap_or_else(|| "auto".into());
    match choice.to_ascii_lowercase().replace('_', "-").as_str() {
        "managed-identity" | "managedidentity" | "msi" => Ok(managed(client_id)),
        "workload-identity" | "workloadidentity" => {
            for key in ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] {
                if set(key).is_none() {
                    return Err(CredentialError::MissingWorkloadSetting(key));
                }
            }
            Ok(CredentialSource::WorkloadIdentity)
        }
        "developer-tools" | "developertools" | "cli" => Ok(CredentialSource::DeveloperTools),
        "auto" => {
            if app_service {
                Ok(managed(client_id))
            } else if set("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                Ok(CredentialSource::WorkloadIdentity)
            } else if allow_developer_tools {
                Ok(CredentialSource::DeveloperTools)
            } else {
                Err(CredentialError::NoneApplies)
            }
        }
        other => Err(CredentialError::UnknownSource(other.to_string())),
    }
}

/// Builds the credential for `source`. Its token requests go through a transport of
/// [`crate::transport::transport`] (shared by every credential of the process, and built on the same TLS
/// configuration as the ARM one): left to itself azure_identity builds one more HTTP client per credential, each
/// loading the platform's roots and initialising its own crypto provider.
pub fn build(source: &CredentialSource) -> Result<Arc<dyn TokenCredential>, CredentialError> {
    let fail =
        |e: azure_core::Error| CredentialError::Build { source_name: source.to_string(), message: e.to_string() };
    let client_options = || -> Result<ClientOptions, CredentialError> {
        // Plain HTTP allowed: the Functions and IMDS identity endpoints are local HTTP services.
        let options =
            crate::transport::TransportOptions { https_only: false, ..crate::transport::TransportOptions::from_env() };
        let transport = crate::transport::transport(&options)?;
        Ok(ClientOptions { transport: Some(transport), ..Default::default() })
    };
    let credential: Arc<dyn TokenCredential> = match source {
        CredentialSource::AppServiceManagedIdentity { client_id }
        | CredentialSource::ImdsManagedIdentity { client_id } => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options: client_options()?,
            };
            ManagedIdentityCredential::new(Some(options)).map_err(fail)?
        }
        CredentialSource::WorkloadIdentity => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options: client_options()? },
                ..Default::default()
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(fail)?
        }
        CredentialSource::DeveloperTools => DeveloperToolsCredential::new(None).map_err(fail)?,
    };
    tracing::info!(credential = %source, "using Azure credential");
    Ok(credential)
}

/// Chooses from the process environment and builds the credential.
pub fn from_env(allow_developer_tools: bool) -> Result<(CredentialSource, Arc<dyn TokenCredential>), CredentialError> {
    let source = choose_source(|k| std::env::var(k).ok(), allow_developer_tools)?;
    let credential = build(&source)?;
    Ok((source, credential))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn choose(vars: &[(&str, &str)], dev: bool) -> Result<CredentialSource, CredentialError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        choose_source(|k| map.get(k).cloned(), dev)
    }

    #[test]
    fn auto_prefers_the_functions_managed_identity() {
        let vars =
            [("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"), ("IDENTITY_HEADER", "h"), ("AZURE_CLIENT_ID", "c")];
        assert_eq!(
            choose(&vars, true).unwrap(),
            CredentialSource::AppServiceManagedIdentity { client_id: Some("c".into()) }
        );
        assert_eq!(choose(&[("AZURE_FEDERATED_TOKEN_FILE", "/t")], false).unwrap(), CredentialSource::WorkloadIdentity);
        assert_eq!(choose(&[], true).unwrap(), CredentialSource::DeveloperTools);
    }

    #[test]
    fn auto_without_a_source_explains_the_options() {
        let err = choose(&[("IDENTITY_ENDPOINT", "x")], false).unwrap_err().to_string();
        assert!(err.contains("IDENTITY_HEADER") && err.contains("RESTORE_CREDENTIAL=developer-tools"), "{err}");
    }

    #[test]
    fn explicit_choices() {
        assert_eq!(
            choose(&[("RESTORE_CREDENTIAL", "managed-identity")], false).unwrap(),
            CredentialSource::ImdsManagedIdentity { client_id: None }
        );
        let err = choose(&[("RESTORE_CREDENTIAL", "workload-identity"), ("AZURE_CLIENT_ID", "c")], false).unwrap_err();
        assert!(err.to_string().contains("AZURE_TENANT_ID"), "{err}");
        assert!(matches!(choose(&[("RESTORE_CREDENTIAL", "magic")], true), Err(CredentialError::UnknownSource(_))));
    }

    #[test]
    fn display_never_holds_secrets() {
        let s = CredentialSource::AppServiceManagedIdentity { client_id: Some("cid".into()) }.to_string();
        assert_eq!(s, "managed identity via the Functions/App Service endpoint, user-assigned client id cid");
    }
}
