//! [`RequestError`]: why a message is not an acceptable request, naming the JSON path of the field, what is wrong
//! and how to fix it. The intake answers these as `Rejected` results (DESIGN invariant 3), so the text is written
//! for the person who sent the message.

use std::fmt;

use serde::Serialize;

/// What kind of problem a [`RequestError`] is. Stable names (`code()`) go into results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RequestErrorKind {
    /// The message is larger than the limit.
    TooLarge,
    /// The body is not JSON (or not UTF-8).
    MalformedJson,
    /// The JSON is not an object.
    NotAnObject,
    /// A key appears twice in one object (anywhere in the message): parsers disagree on which value wins, so the
    /// message has no single meaning.
    DuplicateKey,
    /// `version` is not "1".
    UnsupportedVersion,
    /// A required field is missing.
    MissingField,
    /// A field the contract does not have (usually a typo).
    UnknownField,
    /// A field has the wrong JSON type.
    WrongType,
    /// `operation.kind` (or `recoveryPoint.choice`) names nothing we know.
    UnknownKind,
    /// A value has the right type but is not acceptable (bad enum value, bad name, bad timestamp…).
    InvalidValue,
    /// A field that must be an ARM id is not one, or names the wrong kind of resource.
    InvalidArmId,
    /// The fields are each fine but do not fit together (see `rule`).
    Inconsistent,
    /// An alert payload that is not in the common alert schema, or lacks what is needed.
    InvalidAlert,
}

impl RequestErrorKind {
    /// The stable code used in results, e.g. `request.missingField`.
    pub fn code(self) -> &'static str {
        match self {
            RequestErrorKind::TooLarge => "request.tooLarge",
            RequestErrorKind::MalformedJson => "request.malformedJson",
            RequestErrorKind::NotAnObject => "request.notAnObject",
            RequestErrorKind::DuplicateKey => "request.duplicateKey",
            RequestErrorKind::UnsupportedVersion => "request.unsupportedVersion",
            RequestErrorKind::MissingField => "request.missingField",
            RequestErrorKind::UnknownField => "request.unknownField",
            RequestErrorKind::WrongType => "request.wrongType",
            RequestErrorKind::UnknownKind => "request.unknownKind",
            RequestErrorKind::InvalidValue => "request.invalidValue",
            RequestErrorKind::InvalidArmId => "request.invalidArmId",
            RequestErrorKind::Inconsistent => "request.inconsistent",
            RequestErrorKind::InvalidAlert => "request.invalidAlert",
        }
    }
}

/// Why a message is not an acceptable request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub struct RequestError {
    /// What kind of problem.
    pub kind: RequestErrorKind,
    /// JSON path of the offending field (`operation.targetResourceGroupId`, `operation.luns[2]`); `None` for the
    /// message as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For [`RequestErrorKind::Inconsistent`] (and some value checks): the name of the rule, e.g. `sameSubscription`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl RequestError {
    /// A new error.
    pub fn new(
        kind: RequestErrorKind,
        field: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        RequestError {
            kind,
            field: field.filter(|f| !f.is_empty() && *f != ".").map(str::to_string),
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

    /// The stable code, e.g. `request.invalidArmId`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The field path, or `""` for the whole message.
    pub fn field_path(&self) -> &str {
        self.field.as_deref().unwrap_or("")
    }
}

impl fmt::Display for RequestError {
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
