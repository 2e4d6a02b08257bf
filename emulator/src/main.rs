//! `backup-emulator serve …` runs the emulator and prints one JSON ready line; `backup-emulator certs …`
//! writes a CA and a server certificate (e.g. for Azurite) and exits.

use std::io::Write as _;
use std::path::PathBuf;

use backup_emulator::clock::ClockMode;
use backup_emulator::scenario::Scenario;
use backup_emulator::tls::CertAuthority;
use backup_emulator::{Emulator, EmulatorConfig};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "backup-emulator", about = "Local Azure Backup ARM emulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockArg {
    Virtual,
    Realtime,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the emulator until killed.
    Serve {
        /// Scenario file (JSON).
        #[arg(long)]
        scenario: PathBuf,
        /// Load the CA from (or write a new one to) this directory.
        #[arg(long)]
        ca_dir: Option<PathBuf>,
        /// Clock mode.
        #[arg(long, value_enum, default_value = "realtime")]
        clock: ClockArg,
        /// Real-time speed factor.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// ARM port (0 = any).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Admin port (0 = any).
        #[arg(long, default_value_t = 0)]
        admin_port: u16,
        /// Identity port (0 = any).
        #[arg(long, default_value_t = 0)]
        identity_port: u16,
        /// Extra SANs for the ARM certificate.
        #[arg(long)]
        san: Vec<String>,
    },
    /// Write ca.pem, ca-key.pem, server.pem, server-key.pem and exit.
    Certs {
        /// Output directory (an existing CA there is reused).
        #[arg(long)]
        out: PathBuf,
        /// Subject alternative names of the server certificate.
        #[arg(long, default_values_t = ["127.0.0.1".to_string(), "localhost".to_string()])]
        san: Vec<String>,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Certs { out, san } => {
            match CertAuthority::load_or_generate(&out).and_then(|ca| ca.write_certs(&out, &san)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("backup-emulator certs: {e}");
                    1
                }
            }
        }
        Command::Serve { scenario, ca_dir, clock, speed, port, admin_port, identity_port, san } => {
            serve(scenario, ca_dir, clock, speed, port, admin_port, identity_port, san).await
        }
    };
    std::process::exit(code);
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    scenario: PathBuf,
    ca_dir: Option<PathBuf>,
    clock: ClockArg,
    speed: f64,
    port: u16,
    admin_port: u16,
    identity_port: u16,
    san: Vec<String>,
) -> i32 {
    let scenario = match Scenario::load(&scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("backup-emulator: {e}");
            return 2;
        }
    };
    let mut config = EmulatorConfig::new(scenario);
    // Keep the CA next to nothing temporary when the caller wants to reuse it; otherwise a per-run directory.
    config.ca_dir =
        Some(ca_dir.unwrap_or_else(|| std::env::temp_dir().join(format!("backup-emulator-ca-{}", std::process::id()))));
    config.clock = match clock {
        ClockArg::Virtual => ClockMode::Virtual,
        ClockArg::Realtime => ClockMode::Realtime { speed },
    };
    config.arm_port = port;
    config.admin_port = admin_port;
    config.identity_port = identity_port;
    config.extra_sans = san;
    let handle = match Emulator::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("backup-emulator: {e}");
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", handle.ready_line());
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    0
}
