//! Loading the policy from the app settings, with errors that name the setting, the field and the fix.

use std::collections::HashSet;
use std::fmt;

use restore_models::arm_id::{BackupVaultId, RecoveryServicesVaultId};

use super::Policy;
use crate::request::parse::printable;

/// App setting naming a JSON policy file.
pub const POLICY_FILE_SETTING: &str = "RESTORE_POLICY_FILE";
/// App setting holding the policy JSON inline.
pub const POLICY_INLINE_SETTING: &str = "RESTORE_POLICY";

/// Where a policy came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PolicyOrigin {
    /// Neither setting was set: the empty, refuse-everything policy.
    #[default]
    Absent,
    /// `RESTORE_POLICY_FILE` = this path.
    File(String),
    /// `RESTORE_POLICY`.
    Inline,
}

impl fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyOrigin::Absent => {
                write!(f, "no policy ({POLICY_FILE_SETTING} and {POLICY_INLINE_SETTING} are unset)")
            }
            PolicyOrigin::File(p) => write!(f, "{POLICY_FILE_SETTING}={p}"),
            PolicyOrigin::Inline => f.write_str(POLICY_INLINE_SETTING),
        }
    }
}

/// Why the policy cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy from {origin}: {}{message}. Fix: {fix}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct PolicyError {
    /// The setting (and file) the policy came from.
    pub origin: PolicyOrigin,
    /// JSON path of the offending field.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl Policy {
    /// Loads the policy from the process environment (`RESTORE_POLICY_FILE` or `RESTORE_POLICY`).
    pub fn from_env() -> Result<Policy, PolicyError> {
        let file = std::env::var(POLICY_FILE_SETTING).ok();
        let inline = std::env::var(POLICY_INLINE_SETTING).ok();
        Self::from_settings(file.as_deref(), inline.as_deref())
    }

    /// Loads the policy from the values of the two settings (empty values count as unset). Setting both is an
    /// error: silently preferring one would hide a mistake. Setting neither gives the empty policy, which refuses
    /// every vault.
    pub fn from_settings(file: Option<&str>, inline: Option<&str>) -> Result<Policy, PolicyError> {
        let file = file.map(str::trim).filter(|s| !s.is_empty());
        let inline = inline.filter(|s| !s.trim().is_empty());
        match (file, inline) {
            (Some(_), Some(_)) => Err(PolicyError {
                origin: PolicyOrigin::Inline,
                field: None,
                message: format!("both {POLICY_FILE_SETTING} and {POLICY_INLINE_SETTING} are set"),
                fix: format!("set only one of {POLICY_FILE_SETTING} (a path) or {POLICY_INLINE_SETTING} (JSON)"),
            }),
            (Some(path), None) => {
                let origin = PolicyOrigin::File(path.to_string());
                let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
                    origin: origin.clone(),
                    field: None,
                    message: format!("cannot read the policy file: {e}"),
                    fix: format!("point {POLICY_FILE_SETTING} at a readable JSON file (see examples/policy.json)"),
                })?;
                Self::from_json(&text, origin)
            }
            (None, Some(text)) => Self::from_json(text, PolicyOrigin::Inline),
            (None, None) => Ok(Policy::default()),
        }
    }

    /// Parses and checks a policy document.
    pub fn from_json(text: &str, origin: PolicyOrigin) -> Result<Policy, PolicyError> {
        let err = |field: Option<String>, message: String, fix: &str| PolicyError {
            origin: origin.clone(),
            field,
            message,
            fix: fix.to_string(),
        };
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut policy: Policy = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let syntax = e.inner().is_syntax() || e.inner().is_eof();
            let field = (path != "." && path != "?" && !syntax).then_some(path);
            let fix = if syntax {
                "fix the JSON syntax near the line and column given"
            } else {
                "correct the field as docs/policy.md describes"
            };
            err(field, e.inner().to_string(), fix)
        })?;
        policy.origin = origin.clone();
        policy.verify().map_err(|(field, message, fix)| err(Some(field), message, fix))?;
        Ok(policy)
    }

    /// Checks what types cannot: vault kinds, target group entries, limits, alert rules.
    fn verify(&self) -> Result<(), (String, String, &'static str)> {
        for (i, v) in self.allowed_vaults.iter().enumerate() {
            let ok = BackupVaultId::try_from(v.clone()).is_ok() || RecoveryServicesVaultId::try_from(v.clone()).is_ok();
            if !ok {
                return Err((
                    format!("allowedVaults[{i}]"),
                    format!("'{v}' is not a Backup vault or Recovery Services vault id"),
                    "list vault ids: …/providers/Microsoft.DataProtection/backupVaults/{v} or …/providers/Microsoft.RecoveryServices/vaults/{v}",
                ));
            }
        }
        for (i, t) in self.allowed_target_resource_groups.iter().enumerate() {
            let field = format!("allowedTargetResourceGroups[{i}]");
            match (&t.vault, &t.subscription) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err((
                        field,
                        "give exactly one of 'vault' or 'subscription'".into(),
                        "split the entry in two, or add the missing key",
                    ));
                }
                (Some(v), None) => {
                    if !self.allowed_vaults.contains(v) {
                        return Err((
                            format!("{field}.vault"),
                            format!("'{v}' is not in allowedVaults"),
                            "add the vault to allowedVaults too (or fix the id)",
                        ));
                    }
                }
                (None, Some(s)) => {
                    if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        return Err((
                            format!("{field}.subscription"),
                            format!("'{}' is not a subscription id", printable(s)),
                            "give the subscription GUID",
                        ));
                    }
                }
            }
        }
        if self.max_concurrent_restores_per_vault == 0 {
            return Err((
                "maxConcurrentRestoresPerVault".into(),
                "0 would defer every restore forever".into(),
                "use 1 or more (Azure itself limits concurrent restores per vault)",
            ));
        }
        if !(1024..=1024 * 1024).contains(&self.max_message_bytes) {
            return Err((
                "maxMessageBytes".into(),
                format!("{} is outside 1024–1048576", self.max_message_bytes),
                "use a value between 1 KiB and 1 MiB (Azure alert payloads are at most 256 KB)",
            ));
        }
        let mut names = HashSet::new();
        for (i, r) in self.alert_rules.iter().enumerate() {
            if r.name.trim().is_empty() || !names.insert(r.name.to_ascii_lowercase()) {
                return Err((
                    format!("alertRules[{i}].name"),
                    format!("the rule name '{}' is empty or used twice", printable(&r.name)),
                    "give every rule a unique name",
                ));
            }
            if !r.when.is_specific() {
                return Err((
                    format!("alertRules[{i}].match"),
                    "the rule would match every alert".into(),
                    "add at least one of alertRule, targetResourceType or targetIdPrefix",
                ));
            }
        }
        Ok(())
    }
}
