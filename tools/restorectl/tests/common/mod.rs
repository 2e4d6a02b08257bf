//! Running the real `restorectl` binary in a clean environment: only PATH is inherited, so a developer's
//! RESTORE_* or AZURE_* variables cannot change what a test sees; each test adds the settings it means.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (examples/, schemas/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A path under the workspace root.
pub fn at(relative: &str) -> PathBuf {
    root().join(relative)
}

/// `restorectl` with `args`, in the workspace root, with a clean environment.
pub fn restorectl<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_restorectl"));
    command.args(args).current_dir(root()).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

impl From<std::process::Output> for Run {
    fn from(o: std::process::Output) -> Self {
        Run {
            code: o.status.code().expect("restorectl exited normally"),
            stdout: String::from_utf8(o.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(o.stderr).expect("utf-8 stderr"),
        }
    }
}

/// Runs a command to completion.
pub fn run(command: &mut Command) -> Run {
    Run::from(command.output().expect("restorectl runs"))
}
