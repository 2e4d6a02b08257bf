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
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("AZURITE_BLOB") {
        return PathBuf::from(p);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = workspace.join(".tools/azurite/node_modules/.bin/azurite-blob");
    assert!(
        bin.exists(),
        "Azurite is not installed at {}: run `bash scripts/test.sh` (it installs the pinned azurite npm package into \
         .tools/azurite), or set AZURITE_BLOB to an azurite-blob binary",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl Azurite {
    /// Starts Azurite serving HTTPS with `cert`/`key` and waits until it accepts connections. `workdir` holds its
    /// log (and would hold data, but persistence is in memory).
    pub fn start(cert: &Path, key: &Path, workdir: &Path) -> Azurite {
        let bin = binary();
        // The port is chosen here and handed to Azurite, so another process can take it in between; then Azurite
        // exits at once (EADDRINUSE) and we try another port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log = workdir.join(format!("azurite-{port}.log"));
            let log_file = std::fs::File::create(&log).expect("create the Azurite log file");
            let mut child = Command::new(&bin)
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
                .arg("--silent")
                // (--location cannot be combined with --inMemoryPersistence; the working directory catches any
                // stray file instead.)
                .current_dir(workdir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file.try_clone().expect("clone the log handle"))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + START_DEADLINE;
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Azurite { child, origin: format!("https://127.0.0.1:{port}") };
                }
                if let Some(status) = child.try_wait().expect("poll the Azurite process") {
                    last_log = std::fs::read_to_string(&log).unwrap_or_default();
                    if last_log.contains("EADDRINUSE") {
                        break;
                    }
                    panic!("Azurite exited with {status} before listening:\n{last_log}");
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "Azurite did not listen on {addr} within {START_DEADLINE:?}:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                // Poll the condition again shortly (a bounded wait for readiness, not a timing assumption).
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("Azurite could not find a free port in 3 tries:\n{last_log}");
    }
}
