//! `restorectl`: the operator's command line (docs/restorectl.md).
//!
//! Human output by default; `--json` prints machine-readable JSON on stdout for scripts. Exit codes are shared by
//! every command ([`exit`]). Each subcommand lives in its own module; the intake's offline checks are in [`check`]
//! so `validate` and `submit` cannot drift apart.

mod check;
mod drills;
mod exit;
mod list;
// The local run links the host simulator and the emulator: only with the `local` feature (default).
#[cfg(feature = "local")]
mod local;
mod package;
mod policy;
mod reindex;
mod render;
mod schema;
mod status;
mod store;
mod submit;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Operate the Azure Backup restore automation: submit, follow and check restore requests.
#[derive(Debug, Parser)]
#[command(name = "restorectl", version, about, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON on stdout instead of text (errors still go to stderr).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the product locally in one command: emulator, store, intake and tracker on loopback.
    #[cfg(feature = "local")]
    Local(local::LocalArgs),
    /// Check a request offline, then send it to the requests queue (Service Bus REST, Entra token).
    Submit(submit::SubmitArgs),
    /// Show one request's record from the state store.
    Status(status::StatusArgs),
    /// List records from the state store, newest first.
    List(list::ListArgs),
    /// Tag every record of the Blob state store that can be due (once, after upgrading to the due index).
    Reindex(reindex::ReindexArgs),
    /// Check a request (or alert) offline exactly as the intake does before it calls Azure.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schemas of the request and result messages.
    Schema(schema::SchemaArgs),
    /// Recovery drills: validate plans, show their runs and history, find a run's report, sweep the sandbox.
    Drills(drills::DrillsArgs),
    /// Build the deployable function app packages (runs scripts/package.sh).
    Package(package::PackageArgs),
}

/// Worker threads get 8 MiB stacks, as the function apps do: `local` runs the intake and tracker, whose futures
/// nest the azure_core pipeline deeply in unoptimised builds.
const STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(STACK_BYTES).build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("restorectl: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("restorectl: {message}");
            ExitCode::from(exit::CONFIG)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let json = cli.json;
    match cli.command {
        #[cfg(feature = "local")]
        Command::Local(args) => local::run(args, json).await,
        Command::Submit(args) => submit::run(args, json).await,
        Command::Status(args) => status::run(args, json).await,
        Command::List(args) => list::run(args, json).await,
        Command::Reindex(args) => reindex::run(args, json).await,
        Command::Validate(args) => validate::run(args, json),
        Command::Schema(args) => schema::run(args),
        Command::Drills(args) => drills::run(args, json).await,
        Command::Package(args) => package::run(args).await,
    }
}

/// Logs go to stderr so they never mix with the answer on stdout. `RUST_LOG` selects; the default shows
/// warnings and errors only (e.g. the store skipping a corrupt record during `list`).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
