//! Finding the workspace's binaries from a test.

use std::path::PathBuf;

use crate::SimError;

/// The path of workspace binary `name`, next to the running test executable:
/// `…/target/<profile>/deps/<test>` → `…/target/<profile>/<name>`.
///
/// Cargo builds a package's own binaries before its integration tests, but not other
/// packages' binaries; if it is missing the error says to run `cargo build --bins`.
pub fn workspace_bin(name: &str) -> Result<PathBuf, SimError> {
    let exe = std::env::current_exe()?;
    let mut dir = exe
        .parent()
        .ok_or_else(|| SimError::Binary(format!("{} has no parent directory", exe.display())))?
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(SimError::Binary(format!(
            "binary {name:?} not found at {}; build the workspace binaries first with \
             `cargo build --bins` (same profile as the tests)",
            path.display()
        )))
    }
}
