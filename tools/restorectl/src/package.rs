//! `restorectl package [APP]...`: builds the deployable function app zips by running `scripts/package.sh` (the
//! one packaging implementation; docs/deploy.md) from the workspace root, with its output passed through and its
//! exit code returned.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::exit;

const SCRIPT: &str = "scripts/package.sh";

/// Flags of `restorectl package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The workspace root (holding scripts/package.sh). Default: the current directory or the nearest parent
    /// that holds it.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Apps to package (each handlers/<app>/ with a host.app.json: intake, tracker); default every one. Passed to
    /// the script as they are.
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
}

/// Runs `package`. `--json` does not apply: the script's output is passed through unchanged.
pub async fn run(args: PackageArgs) -> Result<ExitCode, String> {
    let root = match &args.root {
        Some(root) if root.join(SCRIPT).is_file() => root.clone(),
        Some(root) => {
            return Err(format!("--root {}: there is no {SCRIPT} there; give the workspace root", root.display()));
        }
        None => {
            let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
            find_root(&here).ok_or_else(|| {
                format!(
                    "no {SCRIPT} in {} or its parents; run from inside the workspace or give --root",
                    here.display()
                )
            })?
        }
    };
    // stdin/stdout/stderr are inherited: the build's progress streams as it happens.
    let status = tokio::process::Command::new("bash")
        .arg(SCRIPT)
        .args(&args.apps)
        .current_dir(&root)
        .status()
        .await
        .map_err(|e| format!("cannot run bash {SCRIPT} in {}: {e}; is bash installed?", root.display()))?;
    Ok(ExitCode::from(exit_code(status)))
}

fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(SCRIPT).is_file()).map(Path::to_path_buf)
}

/// The script's exit code; killed by a signal: 128 + the signal, as shells report it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code).unwrap_or(exit::SERVICE);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(exit::SERVICE);
        }
    }
    exit::SERVICE
}
