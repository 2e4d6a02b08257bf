//! Message body → [`RestoreRequest`], with every failure turned into a [`RequestError`] that names the field.
//!
//! Paths come from `serde_path_to_error`. serde buffers the contents of internally tagged enums (`operation`,
//! `recoveryPoint`) before deserialising a variant, which loses the path below them; when an error lands on one of
//! those, we deserialise the chosen variant again on its own to find the exact field.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{RequestError, RequestErrorKind as K};
use super::types::{
    ConfigureDiskProtection, DiskToNewDisk, OperationKind, RestoreRequest, StopDiskProtection, VmNewVm, VmReplaceDisks,
    VmRestoreDisks,
};
use crate::timestamp::Timestamp;

/// The size limit when the policy sets none (64 KiB): a request is a few hundred bytes, and Service Bus standard
/// tier caps messages at 256 KB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Parses and validates a request body with the default size limit ([`DEFAULT_MAX_MESSAGE_BYTES`]).
pub fn parse_request(bytes: &[u8]) -> Result<RestoreRequest, RequestError> {
    parse_request_with_limit(bytes, DEFAULT_MAX_MESSAGE_BYTES)
}

/// Parses and validates a request body, refusing bodies over `max_bytes` (the policy's `maxMessageBytes`).
pub fn parse_request_with_limit(bytes: &[u8], max_bytes: usize) -> Result<RestoreRequest, RequestError> {
    let value = parse_json(bytes, max_bytes)?;
    parse_request_value(&value)
}

/// Checks the size and parses JSON, reporting syntax errors with line and column.
pub(crate) fn parse_json(bytes: &[u8], max_bytes: usize) -> Result<Value, RequestError> {
    if bytes.len() > max_bytes {
        return Err(RequestError::new(
            K::TooLarge,
            None,
            format!("the message is {} bytes; the limit is {max_bytes}", bytes.len()),
            "send a smaller message (a request is normally under 2 KB), or raise maxMessageBytes in the policy",
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::new(
            K::MalformedJson,
            None,
            "the message body is empty",
            "send a JSON object with \"version\": \"1\" (see docs/contract.md)",
        ));
    }
    let value = serde_json::from_slice(bytes).map_err(|e| {
        RequestError::new(
            K::MalformedJson,
            None,
            format!("the message body is not valid JSON: {e}"),
            "send UTF-8 JSON; check quotes, commas and brackets near the position given",
        )
    })?;
    // `value` kept the last of any repeated key; refuse before any field of it is read (see `duplicates`).
    // The scan runs on text the parse above accepted, so an error from it cannot be a syntax error we missed;
    // it is still answered (as malformed) rather than assumed away.
    match super::duplicates::find_duplicate_key(bytes) {
        Ok(None) => Ok(value),
        Ok(Some(dup)) => Err(RequestError::new(
            K::DuplicateKey,
            Some(&dup.path),
            format!(
                "the key '{}' appears more than once in the same object; JSON parsers disagree on which value \
                 wins (this intake would take the last, many validators the first), so the message has no single \
                 meaning",
                dup.key
            ),
            format!("send '{}' once, with the value you mean, and remove the other copies", dup.path),
        )),
        Err(e) => Err(RequestError::new(
            K::MalformedJson,
            None,
            format!("the message body is not valid JSON: {e}"),
            "send UTF-8 JSON; check quotes, commas and brackets near the position given",
        )),
    }
}

/// Parses and validates an already-decoded JSON value.
pub fn parse_request_value(value: &Value) -> Result<RestoreRequest, RequestError> {
    let Some(obj) = value.as_object() else {
        return Err(RequestError::new(
            K::NotAnObject,
            None,
            format!("the message is a JSON {}, not an object", json_type(value)),
            "send a JSON object with \"version\": \"1\", \"source\" and \"operation\"",
        ));
    };
    // The version first: a message of another version gets a version error, not a list of unknown fields.
    match obj.get("version") {
        None => {
            return Err(RequestError::new(
                K::MissingField,
                Some("version"),
                "the contract version is missing",
                "add \"version\": \"1\"",
            ));
        }
        Some(Value::String(v)) if v == "1" => {}
        Some(Value::String(v)) => {
            return Err(RequestError::new(
                K::UnsupportedVersion,
                Some("version"),
                format!("contract version '{}' is not supported; this intake speaks version 1", printable(v)),
                "send \"version\": \"1\" (see schemas/restore-request.v1.json)",
            ));
        }
        Some(other) => {
            return Err(RequestError::new(
                K::WrongType,
                Some("version"),
                format!("the version must be the string \"1\", not a JSON {}", json_type(other)),
                "write \"version\": \"1\" with quotes",
            ));
        }
    }
    let request: RestoreRequest = match serde_path_to_error::deserialize(value) {
        Ok(r) => r,
        Err(e) => {
            let path = e.path().to_string();
            return Err(match path.as_str() {
                "operation" => refine_operation(value.get("operation")).unwrap_or_else(|| convert("", e)),
                "recoveryPoint" => refine_recovery_point(value.get("recoveryPoint")).unwrap_or_else(|| convert("", e)),
                _ => convert("", e),
            });
        }
    };
    // serde ignores extra fields next to a unit variant's tag (`{"choice":"latest","id":"x"}`), despite
    // deny_unknown_fields; the refinement pass catches them.
    if let Some(err) = refine_recovery_point(value.get("recoveryPoint")) {
        return Err(err);
    }
    super::validate::validate(&request)?;
    Ok(request)
}

/// Converts a path-tracked serde error into a [`RequestError`], prefixing the path with `prefix`.
pub(crate) fn convert(prefix: &str, e: serde_path_to_error::Error<serde_json::Error>) -> RequestError {
    let raw = e.path().to_string();
    let path = join(prefix, if raw == "." { "" } else { &raw });
    let msg = e.inner().to_string();
    from_message(&path, &msg)
}

/// Classifies a serde message (`missing field`, `unknown field`, `invalid type`, …) at `path`.
pub(crate) fn from_message(path: &str, msg: &str) -> RequestError {
    if let Some(name) = backticked_after(msg, "missing field `") {
        let field = join(path, &name);
        return RequestError::new(K::MissingField, Some(&field), format!("the required field '{name}' is missing"), {
            format!("add '{name}' (see schemas/restore-request.v1.json for its type)")
        });
    }
    if let Some(name) = backticked_after(msg, "unknown field `") {
        // serde_path_to_error has usually recorded the unknown key as the last segment already.
        let field =
            if path == name || path.ends_with(&format!(".{name}")) { path.to_string() } else { join(path, &name) };
        let expected = msg.split_once(", expected ").map(|(_, e)| e.to_string()).unwrap_or_default();
        let fix = if expected.is_empty() {
            "remove it; this object takes no fields".to_string()
        } else {
            format!("remove it or correct the spelling; allowed here: {expected}")
        };
        return RequestError::new(
            K::UnknownField,
            Some(&field),
            format!("'{name}' is not a field of this object"),
            fix,
        );
    }
    if msg.starts_with("invalid type: ") {
        return RequestError::new(
            K::WrongType,
            Some(path),
            msg.trim_start_matches("invalid type: ").to_string(),
            "give the field the JSON type the schema says (schemas/restore-request.v1.json)",
        );
    }
    if let Some(name) = backticked_after(msg, "unknown variant `") {
        let expected = msg.split_once(", expected ").map(|(_, e)| e.to_string()).unwrap_or_default();
        // An unknown tag of a tagged union is a kind we do not have, not just a bad value.
        let kind = if path.ends_with("operation.kind") || path == "recoveryPoint.choice" {
            K::UnknownKind
        } else {
            K::InvalidValue
        };
        return RequestError::new(
            kind,
            Some(path),
            format!("'{}' is not an allowed value", printable(&name)),
            format!("use {expected}"),
        );
    }
    if msg.starts_with("the ARM id") {
        return RequestError::new(
            K::InvalidArmId,
            Some(path),
            msg.to_string(),
            "give the full ARM id, unencoded, exactly as Azure shows it (e.g. az resource show --query id)",
        );
    }
    if msg.contains("RFC 3339") {
        return RequestError::new(K::InvalidValue, Some(path), msg.to_string(), "write it like 2026-05-01T12:00:00Z");
    }
    if msg.starts_with("invalid value: ") || msg.starts_with("invalid length") {
        return RequestError::new(
            K::InvalidValue,
            Some(path),
            msg.trim_start_matches("invalid value: ").to_string(),
            "give a value in range (see schemas/restore-request.v1.json)",
        );
    }
    RequestError::new(K::InvalidValue, Some(path), msg.to_string(), "see docs/contract.md for this field")
}

/// Finds the exact field of an error inside `operation`.
fn refine_operation(op: Option<&Value>) -> Option<RequestError> {
    let op = op?;
    let Some(obj) = op.as_object() else {
        return Some(RequestError::new(
            K::WrongType,
            Some("operation"),
            format!("the operation must be an object, not a JSON {}", json_type(op)),
            "write \"operation\": {\"kind\": \"diskToNewDisk\", …}",
        ));
    };
    let kinds = OperationKind::ALL.map(|k| k.as_str()).join(", ");
    let kind = match obj.get("kind") {
        None => {
            return Some(RequestError::new(
                K::MissingField,
                Some("operation.kind"),
                "the operation has no 'kind'",
                format!("add \"kind\" with one of: {kinds}"),
            ));
        }
        Some(Value::String(k)) => k,
        Some(other) => {
            return Some(RequestError::new(
                K::WrongType,
                Some("operation.kind"),
                format!("'kind' must be a string, not a JSON {}", json_type(other)),
                format!("use one of: {kinds}"),
            ));
        }
    };
    let Some(kind) = OperationKind::from_name(kind) else {
        return Some(RequestError::new(
            K::UnknownKind,
            Some("operation.kind"),
            format!("'{}' is not an operation kind", printable(kind)),
            format!("use one of (case matters): {kinds}"),
        ));
    };
    let mut body = obj.clone();
    body.remove("kind");
    if kind == OperationKind::VmReplaceDisks && body.contains_key("secondaryRegion") {
        return Some(
            RequestError::new(
                K::Inconsistent,
                Some("operation.secondaryRegion"),
                "vmReplaceDisks cannot use Cross Region Restore: replace-disks writes back to the original VM in the \
                 primary region, while Cross Region Restore restores from the secondary region's copy into the \
                 secondary region",
                "remove secondaryRegion, or use vmRestoreDisks / vmNewVm with \"secondaryRegion\": true to restore in \
                 the secondary region",
            )
            .with_rule("noCrossRegionReplace"),
        );
    }
    let body = Value::Object(body);
    let result = match kind {
        OperationKind::DiskToNewDisk => check::<DiskToNewDisk>(&body),
        OperationKind::VmRestoreDisks => check::<VmRestoreDisks>(&body),
        OperationKind::VmReplaceDisks => check::<VmReplaceDisks>(&body),
        OperationKind::VmNewVm => check::<VmNewVm>(&body),
        OperationKind::ConfigureDiskProtection => check::<ConfigureDiskProtection>(&body),
        OperationKind::StopDiskProtection => check::<StopDiskProtection>(&body),
    };
    result.err().map(|e| convert("operation", e))
}

fn check<T: DeserializeOwned>(v: &Value) -> Result<(), serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize::<_, T>(v).map(drop)
}

/// Finds the exact field of an error inside `recoveryPoint`.
fn refine_recovery_point(rp: Option<&Value>) -> Option<RequestError> {
    let rp = rp?;
    let fix = "write {\"choice\":\"latest\"}, {\"choice\":\"id\",\"id\":\"…\"} or \
               {\"choice\":\"latestAtOrBefore\",\"time\":\"2026-05-01T12:00:00Z\"}";
    let Some(obj) = rp.as_object() else {
        return Some(RequestError::new(
            K::WrongType,
            Some("recoveryPoint"),
            format!("the recovery point must be an object, not a JSON {}", json_type(rp)),
            fix,
        ));
    };
    let allowed: &[&str] = match obj.get("choice") {
        None => {
            return Some(RequestError::new(
                K::MissingField,
                Some("recoveryPoint.choice"),
                "the recovery point has no 'choice'",
                fix,
            ));
        }
        Some(Value::String(c)) if c == "latest" => &["choice"],
        Some(Value::String(c)) if c == "id" => &["choice", "id"],
        Some(Value::String(c)) if c == "latestAtOrBefore" => &["choice", "time"],
        Some(other) => {
            return Some(RequestError::new(
                K::UnknownKind,
                Some("recoveryPoint.choice"),
                format!("'{}' is not a recovery point choice", printable(&other.to_string())),
                fix,
            ));
        }
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Some(RequestError::new(
            K::UnknownField,
            Some(&format!("recoveryPoint.{extra}")),
            format!("'{}' is not a field of this recovery point choice", printable(extra)),
            format!("remove it; this choice takes: {}", allowed.join(", ")),
        ));
    }
    if let Some(&name) = allowed.get(1) {
        let field = format!("recoveryPoint.{name}");
        match obj.get(name) {
            None => {
                return Some(RequestError::new(
                    K::MissingField,
                    Some(&field),
                    format!("the required field '{name}' is missing"),
                    fix,
                ));
            }
            Some(Value::String(s)) if name == "time" => {
                if let Err(msg) = Timestamp::parse(s) {
                    return Some(RequestError::new(
                        K::InvalidValue,
                        Some(&field),
                        msg,
                        "write it like 2026-05-01T12:00:00Z",
                    ));
                }
            }
            Some(Value::String(_)) => {}
            Some(other) => {
                return Some(RequestError::new(
                    K::WrongType,
                    Some(&field),
                    format!("'{name}' must be a string, not a JSON {}", json_type(other)),
                    fix,
                ));
            }
        }
    }
    None
}

fn join(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if rest.starts_with('[') => format!("{prefix}{rest}"),
        (false, false) => format!("{prefix}.{rest}"),
    }
}

fn backticked_after(msg: &str, marker: &str) -> Option<String> {
    let rest = msg.split_once(marker)?.1;
    Some(rest.split_once('`').map(|(name, _)| name).unwrap_or(rest).to_string())
}

/// The JSON type name of a value, for messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Makes untrusted text safe to echo: no control characters, at most 100 characters.
pub fn printable(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(100).collect();
    if s.chars().count() > 100 {
        out.push('…');
    }
    out
}
