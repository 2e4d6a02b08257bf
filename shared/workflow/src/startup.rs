//! Why a function app could not start: one typed error for every handler's `build()`, each variant carrying the
//! error of the part that refused (they name the setting and the fix), so the runtime prints one message and the
//! host retries the worker.

/// A function app's start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The ARM client's settings (cloud, endpoint, credential, budget).
    #[error(transparent)]
    Arm(#[from] restore_engine::config::ConfigError),
    /// The credential.
    #[error(transparent)]
    Credential(#[from] restore_engine::credential::CredentialError),
    /// The HTTP transport (extra CAs).
    #[error(transparent)]
    Transport(#[from] restore_engine::transport::TransportError),
    /// The state store.
    #[error(transparent)]
    Store(#[from] restore_store::ConfigError),
    /// The restore policy.
    #[error(transparent)]
    Policy(#[from] restore_contract::policy::PolicyError),
    /// A numeric or boolean app setting.
    #[error(transparent)]
    Setting(#[from] crate::settings::SettingError),
    /// The staging accounts' endpoint.
    #[error(transparent)]
    Staging(#[from] crate::staging::StagingError),
    /// Another app setting, with the message naming it and the fix.
    #[error("{0}")]
    Invalid(String),
}

/// The Service Bus setting checks (`restore_servicebus::check_*`) and the apps' own setting checks explain
/// themselves in text.
impl From<String> for StartupError {
    fn from(message: String) -> Self {
        StartupError::Invalid(message)
    }
}

impl From<&str> for StartupError {
    fn from(message: &str) -> Self {
        StartupError::Invalid(message.to_string())
    }
}
