//! The ARM client built from app settings: the one constructor the function apps and the CLI use, so tests and
//! the local run configure the production code path (pointing it at the emulator) rather than a test double.
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `RESTORE_CLOUD` | `AzurePublic` | `AzurePublic`, `AzureUSGovernment`, `AzureChina` or `Custom` |
//! | `RESTORE_ARM_ENDPOINT`, `RESTORE_ARM_AUDIENCE` | – | required for `Custom` |
//! | `RESTORE_EXTRA_CA_FILES` | – | PEM files trusted besides the platform roots, separated like `PATH` |
//! | `RESTORE_CREDENTIAL`, `AZURE_CLIENT_ID`, … | `auto` | see [`crate::credential`] |
//! | `RESTORE_ARM_READ_BURST`, `RESTORE_ARM_READS_PER_SECOND` | 250, 25 | client-side read budget (ARM's published limits) |
//! | `RESTORE_ARM_WRITE_BURST`, `RESTORE_ARM_WRITES_PER_SECOND` | 200, 10 | client-side write budget |

use crate::client::ArmClient;
use crate::cloud::{Cloud, CloudError};
use crate::credential::{CredentialError, CredentialSource, from_env};
use crate::pipeline::{PipelineError, PipelineOptions};

/// Why the client could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Bad cloud settings.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// No usable credential.
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// Bad transport settings.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A budget setting that is not a positive number.
    #[error("{name}={value:?}: expected a number above 0")]
    Budget {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
    },
}

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Pipeline options from app settings.
pub fn pipeline_options_from_env() -> Result<PipelineOptions, ConfigError> {
    let cloud = Cloud::from_settings(
        setting("RESTORE_CLOUD").as_deref().unwrap_or("AzurePublic"),
        setting("RESTORE_ARM_ENDPOINT").as_deref(),
        setting("RESTORE_ARM_AUDIENCE").as_deref(),
    )?;
    let mut options = PipelineOptions::for_cloud(cloud);
    // The same settings the credential, the state store and the Service Bus sender read, so all of them share
    // one HTTP client (transport::transport is memoised per settings).
    options.transport = crate::transport::TransportOptions::from_env();
    // The client-side budget mirrors ARM's throttle. ARM's limits differ by principal and subscription (and
    // Microsoft changes them), so an operator whose limits differ, or a benchmark scaling the emulator's
    // throttle, sets them here instead of rebuilding.
    let budget = &mut options.budget;
    budget.reads.burst = rate("RESTORE_ARM_READ_BURST", budget.reads.burst)?;
    budget.reads.per_second = rate("RESTORE_ARM_READS_PER_SECOND", budget.reads.per_second)?;
    budget.writes.burst = rate("RESTORE_ARM_WRITE_BURST", budget.writes.burst)?;
    budget.writes.per_second = rate("RESTORE_ARM_WRITES_PER_SECOND", budget.writes.per_second)?;
    Ok(options)
}

fn rate(name: &'static str, default: f64) -> Result<f64, ConfigError> {
    match setting(name) {
        None => Ok(default),
        Some(value) => {
            value.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0).ok_or(ConfigError::Budget { name, value })
        }
    }
}

/// The ARM client from app settings, and the credential source it chose (to log at startup).
/// `allow_developer_tools`: true only for the CLI run by a person.
pub fn client_from_env(allow_developer_tools: bool) -> Result<(ArmClient, CredentialSource), ConfigError> {
    let options = pipeline_options_from_env()?;
    if let crate::cloud::Cloud::Custom { arm_endpoint, audience } = &options.cloud {
        // Loud, once per start: a mistyped endpoint here would receive this identity's ARM tokens.
        tracing::warn!(
            endpoint = %arm_endpoint,
            audience = %audience,
            "RESTORE_CLOUD=Custom: ARM bearer tokens (audience {audience}) are sent to {arm_endpoint}; \
             make sure that is your cloud's Resource Manager endpoint"
        );
    }
    let (source, credential) = from_env(allow_developer_tools)?;
    Ok((ArmClient::from_options(&options, credential)?, source))
}
