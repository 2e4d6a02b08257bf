//! The HTTP transport under the azure_core pipeline: reqwest with rustls, redirects off, and extra trusted CAs.
//!
//! azure_core's own reqwest client cannot be given extra root certificates, and two places need them: the
//! emulator's CA in tests and local runs, and corporate TLS inspection in the field. So we build the reqwest
//! client ourselves with the same settings azure_core uses (connect timeout 20 s, read timeout 60 s, no redirects:
//! a 3xx must never carry a token anywhere) plus the configured CAs, and hand it to the pipeline as its
//! [`Transport`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use azure_core::http::Transport;

/// Transport settings.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// PEM files whose certificates are trusted in addition to the platform's roots.
    pub extra_ca_files: Vec<PathBuf>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            extra_ca_files: Vec::new(),
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// The transport could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A CA file could not be read.
    #[error("cannot read the CA certificate file '{path}' (RESTORE_EXTRA_CA_FILES): {source}")]
    ReadCa {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A CA file held no usable PEM certificate.
    #[error("the CA certificate file '{path}' (RESTORE_EXTRA_CA_FILES) holds no PEM certificate: {reason}")]
    BadCa {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// reqwest refused the configuration.
    #[error("cannot build the HTTPS client: {0}")]
    Build(String),
}

fn load_pem(path: &Path) -> Result<Vec<reqwest::Certificate>, TransportError> {
    let pem = std::fs::read(path).map_err(|source| TransportError::ReadCa { path: path.to_path_buf(), source })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| TransportError::BadCa { path: path.to_path_buf(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TransportError::BadCa { path: path.to_path_buf(), reason: "no CERTIFICATE block".into() });
    }
    Ok(certs)
}

/// Builds the reqwest client described by `options`.
pub fn http_client(options: &TransportOptions) -> Result<reqwest::Client, TransportError> {
    let mut roots = Vec::new();
    for path in &options.extra_ca_files {
        roots.extend(load_pem(path)?);
    }
    reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .tls_certs_merge(roots)
        .build()
        .map_err(|e| TransportError::Build(e.to_string()))
}

/// Builds the azure_core transport described by `options`.
pub fn transport(options: &TransportOptions) -> Result<Transport, TransportError> {
    Ok(Transport::new(Arc::new(http_client(options)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_ca_files_are_named() {
        let missing = TransportOptions { extra_ca_files: vec!["/nonexistent/ca.pem".into()], ..Default::default() };
        let err = http_client(&missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem") && err.contains("RESTORE_EXTRA_CA_FILES"), "{err}");

        let dir = std::env::temp_dir().join(format!("restore-engine-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let err = http_client(&TransportOptions { extra_ca_files: vec![empty], ..Default::default() })
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }

    #[test]
    fn builds_without_extra_roots() {
        http_client(&TransportOptions::default()).unwrap();
    }
}
