//! The emulator's own certificate authority and the server certificates it issues.
//!
//! Production code talks HTTPS to ARM, so the emulator must too; tests trust the CA PEM the emulator writes.
//! A CA can be loaded back from PEM files (`ca.pem` + `ca-key.pem`) so a test script can pre-create certificates
//! for another server (Azurite) with `backup-emulator certs` and then start the emulator on the same CA. The
//! CA's distinguished name is fixed: a reloaded CA signs with the same subject name and key, which is all a
//! verifier needs to chain a leaf to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The CA's common name. Fixed, so a CA reloaded from its PEM files issues leaves that chain to it.
pub const CA_COMMON_NAME: &str = "Azure Backup Emulator Local CA";

/// Errors while creating, loading or writing certificates.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused the parameters or key.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
    /// Reading or writing a PEM file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A certificate authority able to issue server certificates.
pub struct CertAuthority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
    issuer_params: CertificateParams,
}

/// A server certificate (leaf) with its private key.
pub struct IssuedCert {
    /// The leaf certificate, PEM.
    pub cert_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, "backup-emulator");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // Valid from yesterday for ten years: clock skew between processes must not make a fresh CA "not yet valid".
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

impl CertAuthority {
    /// Generates a fresh CA.
    pub fn generate() -> Result<Self, TlsError> {
        let key = KeyPair::generate()?;
        let params = ca_params();
        let cert = params.self_signed(&key)?;
        Ok(Self { cert_pem: cert.pem(), cert_der: cert.der().clone(), key, issuer_params: params })
    }

    /// Loads a CA written by [`CertAuthority::write`] (or `backup-emulator certs`): `ca.pem` and `ca-key.pem`.
    pub fn load(dir: &Path) -> Result<Self, TlsError> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca-key.pem");
        let cert_pem = read(&cert_path)?;
        let key_pem = read(&key_path)?;
        let key = KeyPair::from_pem(&key_pem)?;
        let der = pem_to_der(&cert_pem).ok_or_else(|| TlsError::Io {
            path: cert_path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no CERTIFICATE block in the PEM file"),
        })?;
        Ok(Self { cert_pem, cert_der: CertificateDer::from(der), key, issuer_params: ca_params() })
    }

    /// Loads the CA from `dir` when both files exist there, otherwise generates one and writes it to `dir`.
    pub fn load_or_generate(dir: &Path) -> Result<Self, TlsError> {
        if dir.join("ca.pem").is_file() && dir.join("ca-key.pem").is_file() {
            Self::load(dir)
        } else {
            let ca = Self::generate()?;
            ca.write(dir)?;
            Ok(ca)
        }
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Writes `ca.pem` and `ca-key.pem` into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<(), TlsError> {
        std::fs::create_dir_all(dir).map_err(|source| TlsError::Io { path: dir.to_path_buf(), source })?;
        write(&dir.join("ca.pem"), &self.cert_pem)?;
        write(&dir.join("ca-key.pem"), &self.key.serialize_pem())
    }

    /// Issues a server certificate for the given DNS names / IP addresses.
    pub fn issue(&self, sans: &[String]) -> Result<IssuedCert, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(sans.to_vec())?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, sans.first().map(String::as_str).unwrap_or("localhost"));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let issuer = Issuer::from_params(&self.issuer_params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// Writes the CA plus a server certificate for `sans` (`server.pem`, `server-key.pem`) into `dir`, e.g. for
    /// Azurite, so that one CA file trusts both servers.
    pub fn write_certs(&self, dir: &Path, sans: &[String]) -> Result<(), TlsError> {
        self.write(dir)?;
        let leaf = self.issue(sans)?;
        write(&dir.join("server.pem"), &leaf.cert_pem)?;
        write(&dir.join("server-key.pem"), &leaf.key_pem)
    }

    /// A rustls server configuration presenting a fresh leaf for `sans`, chained to this CA.
    pub fn server_config(&self, sans: &[String]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let leaf = self.issue(sans)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.cert_der.clone(), self.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
            )?;
        // HTTP/1.1 only: the ARM clients under test use it, and it keeps connection-reset faults simple.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The default subject alternative names for loopback servers.
pub fn default_sans() -> Vec<String> {
    vec!["127.0.0.1".to_string(), "localhost".to_string()]
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    std::fs::write(path, text).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
}

/// Decodes the first `CERTIFICATE` block of a PEM text.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = pem[start..].find("-----END CERTIFICATE-----")? + start;
    let b64: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Serves `router` over HTTPS on `listener` with a certificate from `ca` (for the loopback stand-ins tests put
/// beside the emulator, e.g. a Service Bus endpoint, so one CA file trusts them all). Runs until the process
/// ends; a connection that fails its handshake is dropped.
pub fn serve_router(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    ca: &CertAuthority,
) -> Result<(), TlsError> {
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config(&default_sans())?);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(())
}
