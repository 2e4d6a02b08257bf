//! A local Azure Backup ARM emulator: Microsoft.DataProtection, Microsoft.RecoveryServices (with the CRR passive
//! stamp) and the Microsoft.Compute resources restores produce, served over HTTPS with a CA it generates, plus an
//! App Service-style managed-identity endpoint, ARM token-bucket throttling, fault injection, a virtual clock and
//! an admin API. Start it in-process with [`Emulator::start`], or run the `backup-emulator` binary.

pub mod admin;
pub mod arm;
pub mod bodies;
pub mod clock;
pub mod compute;
pub mod dpp;
pub mod error;
pub mod faults;
pub mod identity;
pub mod network;
pub mod policy;
pub mod quota;
pub mod router;
pub mod rsv;
pub mod runcommand;
pub mod scenario;
pub mod seed;
pub mod server;
pub mod staging;
pub mod tags;
pub mod throttle;
pub mod tls;
pub mod util;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::arm::{Shared, lock};
use crate::clock::{Clock, ClockMode};
use crate::scenario::Scenario;
use crate::tls::CertAuthority;
use crate::world::World;

/// Errors while starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The scenario is invalid.
    #[error("scenario: {0}")]
    Scenario(String),
    /// Certificates could not be created or loaded.
    #[error("tls: {0}")]
    Tls(#[from] tls::TlsError),
    /// A port could not be bound.
    #[error("binding {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The scenario.
    pub scenario: Scenario,
    /// Directory to load the CA from (`ca.pem` + `ca-key.pem`) or write a new one to. None: a fresh temporary
    /// CA written into a private temporary directory (its path is [`EmulatorHandle::ca_file`]).
    pub ca_dir: Option<PathBuf>,
    /// Extra subject alternative names for the ARM server certificate (127.0.0.1 and localhost always).
    pub extra_sans: Vec<String>,
    /// Clock mode (virtual by default: tests advance it).
    pub clock: ClockMode,
    /// ARM port (0 = ephemeral).
    pub arm_port: u16,
    /// Identity endpoint port (0 = ephemeral).
    pub identity_port: u16,
    /// Admin port (0 = ephemeral).
    pub admin_port: u16,
    /// The identity header secret (random if None).
    pub identity_header: Option<String>,
}

impl EmulatorConfig {
    /// Defaults: virtual clock, ephemeral ports, temporary CA.
    pub fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            ca_dir: None,
            extra_sans: vec![],
            clock: ClockMode::Virtual,
            arm_port: 0,
            identity_port: 0,
            admin_port: 0,
            identity_header: None,
        }
    }
}

/// A running emulator.
pub struct EmulatorHandle {
    /// `https://127.0.0.1:PORT`
    pub arm_url: String,
    /// Identity endpoint URL (`IDENTITY_ENDPOINT`).
    pub identity_url: String,
    /// `IDENTITY_HEADER` value.
    pub identity_header: String,
    /// `http://127.0.0.1:PORT` of the admin API.
    pub admin_url: String,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// Where the CA PEM was written.
    pub ca_file: PathBuf,
    /// Direct access to the state for in-process tests.
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _temp: Option<TempDir>,
}

/// A private temporary directory removed on drop (no extra dependency for one directory).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The emulator.
pub struct Emulator;

async fn bind(what: &'static str, port: u16) -> Result<TcpListener, StartError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { what, addr, source })
}

impl Emulator {
    /// Starts the three listeners and returns once they accept connections.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, StartError> {
        config.scenario.validate().map_err(StartError::Scenario)?;
        let start = match &config.scenario.clock_start {
            Some(t) => {
                util::parse_time(t).ok_or_else(|| StartError::Scenario(format!("clockStart '{t}' is not RFC 3339")))?
            }
            None => time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
        };
        let world = World::from_scenario(&config.scenario, start).map_err(StartError::Scenario)?;
        let (ca_dir, temp) = match &config.ca_dir {
            Some(d) => (d.clone(), None),
            None => {
                let d = std::env::temp_dir().join(format!("backup-emulator-{}", util::guid()));
                (d.clone(), Some(TempDir(d)))
            }
        };
        let ca = CertAuthority::load_or_generate(&ca_dir)?;
        let mut sans = tls::default_sans();
        sans.extend(config.extra_sans.iter().cloned());
        let tls_config = ca.server_config(&sans)?;

        let identity_header = config.identity_header.clone().unwrap_or_else(util::guid);
        let shared = Arc::new(Shared::new(
            config.scenario.clone(),
            world,
            Clock::new(start, config.clock),
            identity_header.clone(),
        ));
        let arm = bind("ARM", config.arm_port).await?;
        let identity = bind("identity", config.identity_port).await?;
        let admin = bind("admin", config.admin_port).await?;
        let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or_default();
        let arm_url = format!("https://127.0.0.1:{}", port(&arm));
        *lock(&shared.origin) = arm_url.clone();
        let identity_url = format!("http://127.0.0.1:{}/msi/token", port(&identity));
        let admin_url = format!("http://127.0.0.1:{}", port(&admin));

        let (tx, rx) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(server::serve_arm(arm, tls_config, shared.clone(), rx.clone())),
            tokio::spawn(server::serve_plain(identity, admin::identity_router(shared.clone()), rx.clone())),
            tokio::spawn(server::serve_plain(admin, admin::router(shared.clone()), rx)),
        ];
        Ok(EmulatorHandle {
            arm_url,
            identity_url,
            identity_header,
            admin_url,
            ca_pem: ca.cert_pem().to_string(),
            ca_file: ca_dir.join("ca.pem"),
            shared,
            shutdown: tx,
            tasks,
            _temp: temp,
        })
    }
}

impl EmulatorHandle {
    /// The ready line the binary prints.
    pub fn ready_line(&self) -> serde_json::Value {
        serde_json::json!({
            "arm": self.arm_url,
            "identity": self.identity_url,
            "identityHeader": self.identity_header,
            "caFile": self.ca_file.display().to_string(),
            "admin": self.admin_url,
        })
    }

    /// The function apps' settings that point them at this emulator: its managed-identity endpoint (read by
    /// azure_identity), a custom cloud with its ARM endpoint, its CA as an extra trusted root, and its staging
    /// accounts' Blob endpoint. Tests, the
    /// local run and the benchmark add their store and policy settings to these.
    pub fn app_settings(&self) -> Vec<(String, String)> {
        [
            ("IDENTITY_ENDPOINT", self.identity_url.clone()),
            ("IDENTITY_HEADER", self.identity_header.clone()),
            ("RESTORE_CLOUD", "Custom".to_string()),
            ("RESTORE_ARM_ENDPOINT", self.arm_url.clone()),
            ("RESTORE_ARM_AUDIENCE", "https://management.azure.com/".to_string()),
            ("RESTORE_EXTRA_CA_FILES", self.ca_file.display().to_string()),
            ("RESTORE_STAGING_BLOB_ENDPOINT", format!("{}{}{{account}}", self.arm_url, staging::PREFIX)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Advances the virtual clock.
    pub fn advance(&self, seconds: f64) {
        self.shared.clock.advance(seconds);
    }

    /// A snapshot of the resources (disks, VMs, jobs, …) as the admin API returns them.
    pub fn resources(&self) -> serde_json::Value {
        let now = self.shared.clock.now();
        let mut w = lock(&self.shared.world);
        w.tick(now);
        w.resources(now)
    }

    /// Counts of calls by "route METHOD".
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        lock(&self.shared.log).counts.clone()
    }

    /// Waits until at least `n` requests are hung by a hang fault.
    pub async fn wait_hung(&self, n: usize) {
        let mut rx = self.shared.hung.subscribe();
        let _ = rx.wait_for(|c| *c >= n).await;
    }

    /// Stops the listeners.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        self.shared.release_hung(None);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}
