//! Reading numeric and boolean app settings with errors that name the setting and the fix.

use std::time::Duration;

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app setting {name}={value:?} is not valid: {expected}")]
pub struct SettingError {
    /// The setting.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What it must be.
    pub expected: &'static str,
}

/// The trimmed, non-empty value of a setting.
pub fn text(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A whole number of seconds.
pub fn seconds(name: &'static str, default: Duration) -> Result<Duration, SettingError> {
    match text(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
            .map(Duration::from_secs_f64)
            .ok_or(SettingError { name, value: v, expected: "a number of seconds between 0 and 86400" }),
    }
}

/// A positive count.
pub fn count(name: &'static str, default: u32) -> Result<u32, SettingError> {
    match text(name) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or(SettingError {
            name,
            value: v,
            expected: "a whole number above 0",
        }),
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`).
pub fn flag(name: &'static str, default: bool) -> Result<bool, SettingError> {
    match text(name) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(SettingError { name, value: v, expected: "true or false" }),
        },
    }
}
