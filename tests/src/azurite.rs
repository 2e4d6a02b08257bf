//! A real Azurite (Blob service only) started by the test as a child process: HTTPS with a certificate from the
//! emulator's CA, `--oauth basic` (bearer tokens checked for issuer, audience and lifetime), in-memory, on a free
//! loopback port, killed when dropped.
//!
//! Azurite is installed by `bash scripts/test.sh` into `<workspace>/.tools/azurite` (pinned npm version);
//! `AZURITE_BLOB` overrides the binary. A missing binary fails the test: a skipped Blob suite would hide that the
//! production store is untested.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Azurite may take to listen (node start-up on a busy 2-core machine).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A running Azurite; the process is killed on drop.
pub struct Azurite {
    child: Child,
    /// `https://127.0.0.1:<port>`.
    pub origin: String,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The azurite-blob binary: `AZURITE_BLOB`, else the workspace's `.tools` install.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("AZURITE_BLOB") {
        return Ok(PathBuf::from(p));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = workspace.join(".tools/azurite/node_modules/.bin/azurite-blob");
    if !bin.exists() {
        return Err(format!(
            "Azurite is not installed at {}: run `bash scripts/test.sh` (it installs the pinned azurite npm package \
             into .tools/azurite), or set AZURITE_BLOB to an azurite-blob binary",
            bin.display()
        ));
    }
    Ok(bin)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind an ephemeral port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| format!("local address: {e}"))?.port())
}

impl Azurite {
    /// Starts Azurite serving HTTPS with `cert`/`key` and waits until it accepts connections. `workdir` holds its
    /// log (and would hold data, but persistence is in memory). Panics when it cannot: a test needs it.
    pub fn start(cert: &Path, key: &Path, workdir: &Path) -> Azurite {
        Azurite::launch(cert, key, workdir, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Azurite::start`], returning what went wrong instead of panicking, and with `access_log` set, Azurite's
    /// access log (one line per request: method, URL, status) written there instead of silenced (the benchmark
    /// counts store requests from it).
    pub fn launch(cert: &Path, key: &Path, workdir: &Path, access_log: Option<&Path>) -> Result<Azurite, String> {
        let bin = binary()?;
        let create = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        // The port is chosen here and handed to Azurite, so another process can take it in between; then Azurite
        // exits at once (EADDRINUSE) and we try another port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let log = workdir.join(format!("azurite-{port}.log"));
            let mut command = Command::new(&bin);
            command
                .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key)
                .args(["--oauth", "basic"])
                // Nothing written to disk; each test gets an empty account.
                .arg("--inMemoryPersistence")
                // The account is the first path segment (https://127.0.0.1:port/devstoreaccount1/container).
                .arg("--disableProductStyleUrl")
                // Azurite phones home by default; tests send traffic to loopback only.
                .arg("--disableTelemetry")
                // (--location cannot be combined with --inMemoryPersistence; the working directory catches any
                // stray file instead.)
                .current_dir(workdir)
                .stdin(Stdio::null())
                .stderr(create(&log)?);
            match access_log {
                // The access log goes to stdout.
                Some(path) => command.stdout(create(path)?),
                None => command.arg("--silent").stdout(Stdio::null()),
            };
            let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + START_DEADLINE;
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok(Azurite { child, origin: format!("https://127.0.0.1:{port}") });
                }
                if let Some(status) = child.try_wait().map_err(|e| format!("poll the Azurite process: {e}"))? {
                    last_log = std::fs::read_to_string(&log).unwrap_or_default();
                    if last_log.contains("EADDRINUSE") {
                        break;
                    }
                    return Err(format!("Azurite exited with {status} before listening:\n{last_log}"));
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "Azurite did not listen on {addr} within {START_DEADLINE:?}:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    ));
                }
                // Poll the condition again shortly (a bounded wait for readiness, not a timing assumption).
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(format!("Azurite could not find a free port in 3 tries:\n{last_log}"))
    }

    /// The process id (the benchmark reports Azurite's CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}
