//! The HTTP transport under the azure_core pipeline: reqwest with rustls, redirects off, and extra trusted CAs.
//!
//! azure_core's own reqwest client cannot be given extra root certificates, and two places need them: the
//! emulator's CA in tests and local runs, and corporate TLS inspection in the field. So we build the reqwest
//! client ourselves with the same settings azure_core uses (connect timeout 20 s, read timeout 60 s, no redirects:
//! a 3xx must never carry a token anywhere) plus the configured CAs, and hand it to the pipeline as its
//! [`Transport`].
//!
//! Start-up cost (issue 15, measured in the README's benchmark section) decided three things here:
//!
//! * **One client per process** ([`transport`] is memoised per settings): the ARM pipelines, the credential,
//!   the Blob store and the Service Bus sender share one connection pool and one TLS configuration. Each reqwest
//!   client used to load and parse the platform's roots again (reqwest's default verifier reads every file under
//!   `/etc/ssl/certs`).
//! * **Compiled-in roots**: the trust anchors are Mozilla's (`webpki-roots`, the set Debian's ca-certificates,
//!   hence the Functions Linux images, ship), already in anchor form, so nothing is read or parsed at start-up.
//!   Azure's TLS chains end at DigiCert and Microsoft roots, all in that set. Extra CAs (the emulator's, a
//!   corporate TLS inspection proxy's) come from `RESTORE_EXTRA_CA_FILES`, parsed once.
//! * **`ring` as the crypto provider**, installed as the process default so a client built elsewhere (azure_core
//!   builds one when given no transport) uses it too. AWS-LC, reqwest's default, seeds its random generator with
//!   a CPU-jitter entropy collector on first use: ≈ 20 ms of CPU per process, half of a first restore's CPU.
//!   ring reads the kernel's getrandom instead, and builds in less time with no C toolchain quirks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use azure_core::http::Transport;

/// Transport settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// PEM files whose certificates are trusted in addition to Mozilla's roots (compiled in).
    pub extra_ca_files: Vec<PathBuf>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
    /// Refuse plain-HTTP URLs. True for everything that carries a bearer token; false only for the credential's
    /// own token requests, whose managed-identity endpoint is plain HTTP on the host (`http://localhost:…/msi`).
    pub https_only: bool,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            extra_ca_files: Vec::new(),
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
            https_only: true,
        }
    }
}

impl TransportOptions {
    /// Defaults plus the extra CAs of `RESTORE_EXTRA_CA_FILES` (separated like `PATH`), the setting every
    /// client of the process (ARM, credential, Blob store, Service Bus) reads, so they share one transport.
    pub fn from_env() -> Self {
        TransportOptions {
            extra_ca_files: std::env::var_os("RESTORE_EXTRA_CA_FILES")
                .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
                .unwrap_or_default(),
            ..Default::default()
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

fn load_pem(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, TransportError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |reason: String| TransportError::BadCa { path: path.to_path_buf(), reason };
    let pem = std::fs::read(path).map_err(|source| TransportError::ReadCa { path: path.to_path_buf(), source })?;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The crypto provider of every TLS connection the process opens (see the module documentation for why ring).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            // Fails only when something installed a default first; our clients use ring all the same.
            let _ = rustls::crypto::ring::default_provider().install_default();
            Arc::new(rustls::crypto::ring::default_provider())
        })
        .clone()
}

/// The TLS client configuration: Mozilla's roots (compiled in) plus the configured extra CAs, read and parsed
/// once per process and set of files (the credential's client and the others share it).
fn tls_config(options: &TransportOptions) -> Result<rustls::ClientConfig, TransportError> {
    type ByCaFiles = Vec<(Vec<PathBuf>, rustls::ClientConfig)>;
    static CONFIGS: OnceLock<Mutex<ByCaFiles>> = OnceLock::new();
    let mut configs = CONFIGS.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, config)) = configs.iter().find(|(files, _)| *files == options.extra_ca_files) {
        return Ok(config.clone());
    }
    let config = new_tls_config(options)?;
    configs.push((options.extra_ca_files.clone(), config.clone()));
    Ok(config)
}

fn new_tls_config(options: &TransportOptions) -> Result<rustls::ClientConfig, TransportError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for path in &options.extra_ca_files {
        for cert in load_pem(path)? {
            roots.add(cert).map_err(|e| TransportError::BadCa { path: path.clone(), reason: e.to_string() })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Build(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Clients built so far (a test checks that [`transport`] shares them).
static CLIENTS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// Builds a new reqwest client described by `options` (prefer [`transport`], which shares one per process).
pub fn http_client(options: &TransportOptions) -> Result<reqwest::Client, TransportError> {
    CLIENTS_BUILT.fetch_add(1, Ordering::Relaxed);
    reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(options.https_only)
        .tls_backend_preconfigured(tls_config(options)?)
        .build()
        .map_err(|e| TransportError::Build(e.to_string()))
}

/// The azure_core transport described by `options`: built on first use, then the same client (and connection
/// pool) for every caller in the process asking with the same settings.
pub fn transport(options: &TransportOptions) -> Result<Transport, TransportError> {
    static SHARED: OnceLock<Mutex<Vec<(TransportOptions, Transport)>>> = OnceLock::new();
    let mut shared = SHARED.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, transport)) = shared.iter().find(|(o, _)| o == options) {
        return Ok(transport.clone());
    }
    let transport = Transport::new(Arc::new(http_client(options)?));
    shared.push((options.clone(), transport.clone()));
    Ok(transport)
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

    #[test]
    fn one_client_per_settings() {
        // Settings no other test uses, so tests running in the same process cannot disturb the count.
        let options = TransportOptions { read_timeout: Duration::from_secs(7777), ..Default::default() };
        let before = CLIENTS_BUILT.load(Ordering::Relaxed);
        transport(&options).unwrap();
        transport(&options).unwrap();
        assert_eq!(CLIENTS_BUILT.load(Ordering::Relaxed) - before, 1);
        let other = TransportOptions { read_timeout: Duration::from_secs(7778), ..Default::default() };
        transport(&other).unwrap();
        assert_eq!(CLIENTS_BUILT.load(Ordering::Relaxed) - before, 2);
    }

    #[test]
    fn the_process_default_provider_is_ring() {
        crypto_provider();
        let installed = rustls::crypto::CryptoProvider::get_default().expect("a default provider");
        let ring = rustls::crypto::ring::default_provider();
        let names = |p: &rustls::crypto::CryptoProvider| -> Vec<String> {
            p.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect()
        };
        assert_eq!(names(installed), names(&ring));
    }
}
