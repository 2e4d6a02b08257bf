//! [`PlanError`]: why a document is not an acceptable drill plan, naming the JSON path of the field, the rule,
//! what is wrong and how to fix it. Plan authors read these (in `restorectl drills validate` and in the drill
//! function's "plan no longer validates" signal), so the text is written for them.

use std::fmt;

use serde::Serialize;

/// What kind of problem a [`PlanError`] is. Stable names (`code()`) go into signals and tool output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanErrorKind {
    /// The document is larger than the limit.
    TooLarge,
    /// Not JSON (or not UTF-8).
    MalformedJson,
    /// The JSON is not an object.
    NotAnObject,
    /// An object has the same key twice (JSON parsers disagree on which wins, so we refuse to guess).
    DuplicateKey,
    /// `version` is not "1".
    UnsupportedVersion,
    /// A required field is missing.
    MissingField,
    /// A field the plan does not have (usually a typo).
    UnknownField,
    /// A field has the wrong JSON type.
    WrongType,
    /// A value has the right type but is not acceptable.
    InvalidValue,
    /// A field that must be an ARM id is not one, or names the wrong kind of resource.
    InvalidArmId,
    /// The fields are each fine but do not fit together (see `rule`).
    Inconsistent,
    /// Something a drill must never do (destructive restore modes, secrets written into the plan).
    Forbidden,
    /// The restore policy does not allow it.
    NotAllowedByPolicy,
}

impl PlanErrorKind {
    /// The stable code, e.g. `plan.missingField`.
    pub fn code(self) -> &'static str {
        match self {
            PlanErrorKind::TooLarge => "plan.tooLarge",
            PlanErrorKind::MalformedJson => "plan.malformedJson",
            PlanErrorKind::NotAnObject => "plan.notAnObject",
            PlanErrorKind::DuplicateKey => "plan.duplicateKey",
            PlanErrorKind::UnsupportedVersion => "plan.unsupportedVersion",
            PlanErrorKind::MissingField => "plan.missingField",
            PlanErrorKind::UnknownField => "plan.unknownField",
            PlanErrorKind::WrongType => "plan.wrongType",
            PlanErrorKind::InvalidValue => "plan.invalidValue",
            PlanErrorKind::InvalidArmId => "plan.invalidArmId",
            PlanErrorKind::Inconsistent => "plan.inconsistent",
            PlanErrorKind::Forbidden => "plan.forbidden",
            PlanErrorKind::NotAllowedByPolicy => "plan.notAllowedByPolicy",
        }
    }
}

/// Why a document is not an acceptable drill plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub struct PlanError {
    /// What kind of problem.
    pub kind: PlanErrorKind,
    /// JSON path of the offending field (`schedule.timeZone`, `selection.items[2]`); `None` for the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rule that refused it (listed in docs/drills.md), e.g. `startWindowLongerThanPeriod`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl PlanError {
    /// A new error.
    pub fn new(kind: PlanErrorKind, field: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        PlanError {
            kind,
            field: Some(field).filter(|f| !f.is_empty() && *f != ".").map(str::to_string),
            rule: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// Attaches the rule name.
    pub fn with_rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }

    /// The stable code, e.g. `plan.invalidValue`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The field path, or `""` for the whole document.
    pub fn field_path(&self) -> &str {
        self.field.as_deref().unwrap_or("")
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        if let Some(rule) = self.rule {
            write!(f, " (rule {rule})")?;
        }
        write!(f, ". Fix: {}", self.fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_field_rule_and_fix() {
        let e = PlanError::new(PlanErrorKind::InvalidValue, "keepFor", "is negative", "use PT0S or more")
            .with_rule("keepForNegative");
        assert_eq!(e.to_string(), "keepFor: is negative (rule keepForNegative). Fix: use PT0S or more");
        assert_eq!(e.code(), "plan.invalidValue");
        let whole = PlanError::new(PlanErrorKind::MalformedJson, ".", "not JSON", "send JSON");
        assert_eq!(whole.field_path(), "");
        assert_eq!(whole.to_string(), "not JSON. Fix: send JSON");
    }
}
