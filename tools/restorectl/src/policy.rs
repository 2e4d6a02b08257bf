//! Where `validate` and `submit` get the restore policy: `--policy FILE`, else the intake's own settings
//! (`RESTORE_POLICY_FILE` or `RESTORE_POLICY`), else the empty policy, exactly as the intake would run.

use std::path::PathBuf;

use clap::Args;
use restore_contract::Policy;

/// The policy flag.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The restore policy JSON file. Default: RESTORE_POLICY_FILE or RESTORE_POLICY, as the intake reads them;
    /// with neither, the empty policy, which refuses every vault (as the intake would).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

impl PolicyArgs {
    /// Loads the policy, with where it came from (for messages); the error names the flag or setting, the field
    /// and the fix.
    pub fn load(&self) -> Result<(Policy, String), String> {
        match &self.policy {
            Some(path) => {
                let text = path.to_str().ok_or_else(|| {
                    format!("--policy {}: the path is not valid UTF-8; rename the file or move it", path.display())
                })?;
                // The flag replaces both settings, so a RESTORE_POLICY left in the environment cannot conflict.
                let policy =
                    Policy::from_settings(Some(text), None).map_err(|e| format!("--policy {}: {e}", path.display()))?;
                Ok((policy, format!("--policy {}", path.display())))
            }
            None => {
                let policy = Policy::from_env().map_err(|e| e.to_string())?;
                let origin = policy.origin.to_string();
                Ok((policy, origin))
            }
        }
    }
}
