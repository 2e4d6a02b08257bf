//! Plan document → [`ValidPlan`]: size limit, JSON syntax, duplicate keys, the version, the types (with the JSON
//! path of every failure, from `serde_path_to_error`), then the rules of [`crate::validate`].
//!
//! Duplicate keys are refused because JSON parsers disagree on which copy wins (serde_json keeps the last, others
//! the first): a plan reviewed in one tool could drill something else in another. The document is therefore read
//! once through a walker that records the path of the first repeated key, before the typed pass.

use restore_contract::Policy;
use restore_contract::request::{json_type, printable};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{PlanError, PlanErrorKind as K};
use crate::plan::DrillPlan;
use crate::schedule::PlanSchedule;

/// The largest plan document accepted (256 KiB): plans are a few KB; the bound keeps hostile input cheap.
pub const MAX_PLAN_BYTES: usize = 256 * 1024;

/// A plan that passed every check, with its compiled schedule.
#[derive(Debug, Clone)]
pub struct ValidPlan {
    plan: DrillPlan,
    schedule: PlanSchedule,
}

impl ValidPlan {
    /// The plan.
    pub fn plan(&self) -> &DrillPlan {
        &self.plan
    }

    /// Its schedule.
    pub fn schedule(&self) -> &PlanSchedule {
        &self.schedule
    }

    /// The plan, giving up the schedule.
    pub fn into_plan(self) -> DrillPlan {
        self.plan
    }
}

/// Parses a plan document and validates it against `policy`. `now` anchors the schedule checks (the shortest
/// interval between runs is measured over the three years from `now`).
pub fn parse_plan(bytes: &[u8], policy: &Policy, now: OffsetDateTime) -> Result<ValidPlan, PlanError> {
    let plan = parse_document(bytes)?;
    let schedule = crate::validate::validate(&plan, policy, now)?;
    Ok(ValidPlan { plan, schedule })
}

/// Parses a plan document: shape and types only, no policy or cross-field rules (for tools that show a plan).
pub fn parse_document(bytes: &[u8]) -> Result<DrillPlan, PlanError> {
    if bytes.len() > MAX_PLAN_BYTES {
        return Err(PlanError::new(
            K::TooLarge,
            "",
            format!("the plan is {} bytes; the limit is {MAX_PLAN_BYTES}", bytes.len()),
            "split it into several plans (a plan is normally a few KB)",
        ));
    }
    let value = read_json(bytes)?;
    let Some(obj) = value.as_object() else {
        return Err(PlanError::new(
            K::NotAnObject,
            "",
            format!("the plan is a JSON {}, not an object", json_type(&value)),
            "write a JSON object with \"version\": \"1\" (see docs/drills.md)",
        ));
    };
    match obj.get("version") {
        None => {
            return Err(PlanError::new(
                K::MissingField,
                "version",
                "the plan version is missing",
                "add \"version\": \"1\"",
            ));
        }
        Some(Value::String(v)) if v == "1" => {}
        Some(other) => {
            return Err(PlanError::new(
                K::UnsupportedVersion,
                "version",
                format!(
                    "plan version {} is not supported; this build reads version \"1\"",
                    printable(&other.to_string())
                ),
                "write \"version\": \"1\" (see schemas/drill-plan.schema.json)",
            ));
        }
    }
    serde_path_to_error::deserialize::<_, DrillPlan>(&value).map_err(|e| {
        let path = e.path().to_string();
        convert(if path == "." { "" } else { &path }, &e.inner().to_string())
    })
}

/// Reads JSON, refusing syntax errors (with line and column) and duplicate keys (with their path), with the
/// contract's own duplicate-key scan (`restore_contract::request::duplicates`), so plans and requests answer
/// a repeated key the same way.
fn read_json(bytes: &[u8]) -> Result<Value, PlanError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        PlanError::new(
            K::MalformedJson,
            "",
            format!("the plan is not valid JSON: {e}"),
            "write UTF-8 JSON; check quotes, commas and brackets near the position given",
        )
    })?;
    if let Ok(Some(duplicate)) = restore_contract::request::duplicates::find_duplicate_key(bytes) {
        return Err(PlanError::new(
            K::DuplicateKey,
            &duplicate.path,
            "this key appears twice in the same object",
            "keep one of them: JSON tools disagree on which copy wins, so the plan would be ambiguous",
        )
        .with_rule("duplicateKey"));
    }
    Ok(value)
}

/// Key names that mean someone is about to write a secret into the plan.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["secret", "password", "token", "apikey", "hmackey", "sharedkey"].iter().any(|s| n.contains(s))
}

/// Restore modes that write over the source: refused by name, not as an unknown value.
fn looks_destructive(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    ["replace", "original", "overwrite", "inplace"].iter().any(|s| v.contains(s))
}

/// Classifies a serde message at `path`.
fn convert(path: &str, msg: &str) -> PlanError {
    let join = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
    if let Some(name) = backticked_after(msg, "missing field `") {
        return PlanError::new(
            K::MissingField,
            &join(&name),
            format!("the required field '{name}' is missing"),
            format!("add '{name}' (see docs/drills.md and schemas/drill-plan.schema.json)"),
        );
    }
    if let Some(name) = backticked_after(msg, "unknown field `") {
        let field = if path == name || path.ends_with(&format!(".{name}")) { path.to_string() } else { join(&name) };
        if looks_secret(&name) {
            return PlanError::new(
                K::Forbidden,
                &field,
                format!("'{}' would put a secret into the plan, and plans are plain documents", printable(&name)),
                "store the secret in an app setting (or Key Vault reference) and name the setting in \
                 checks.webhook.secretSetting",
            )
            .with_rule("inlineSecret");
        }
        let expected = msg.split_once(", expected ").map(|(_, e)| e.to_string()).unwrap_or_default();
        return PlanError::new(
            K::UnknownField,
            &field,
            format!("'{}' is not a field of this object", printable(&name)),
            if expected.is_empty() {
                "remove it".to_string()
            } else {
                format!("remove it or correct the spelling; allowed here: {expected}")
            },
        );
    }
    if let Some(value) = backticked_after(msg, "unknown variant `") {
        let expected = msg.split_once(", expected ").map(|(_, e)| e.to_string()).unwrap_or_default();
        if path.starts_with("restore.") && looks_destructive(&value) {
            return PlanError::new(
                K::Forbidden,
                path,
                format!("'{}' restores over the source; a drill never touches production", printable(&value)),
                "use \"newDisk\" for disks and \"restoreDisks\" or \"newVm\" for VMs: they restore next to production \
                 into the sandbox",
            )
            .with_rule("destructiveMode");
        }
        return PlanError::new(
            K::InvalidValue,
            path,
            format!("'{}' is not an allowed value", printable(&value)),
            format!("use {expected}"),
        );
    }
    if msg.starts_with("invalid type: ") {
        return PlanError::new(
            K::WrongType,
            path,
            msg.trim_start_matches("invalid type: ").to_string(),
            "give the field the JSON type schemas/drill-plan.schema.json says",
        );
    }
    if msg.starts_with("the ARM id") {
        return PlanError::new(
            K::InvalidArmId,
            path,
            msg.to_string(),
            "give the full ARM id, unencoded, exactly as Azure shows it (e.g. az resource show --query id)",
        );
    }
    if msg.contains("ISO 8601 duration") || msg.contains("longer than 10 years") {
        return PlanError::new(K::InvalidValue, path, msg.to_string(), "write durations like PT30M, PT4H or P7D")
            .with_rule("durationFormat");
    }
    if msg.starts_with("invalid value: ") {
        return PlanError::new(
            K::InvalidValue,
            path,
            msg.trim_start_matches("invalid value: ").to_string(),
            "give a whole number in the range the field allows (see docs/drills.md)",
        );
    }
    PlanError::new(K::InvalidValue, path, msg.to_string(), "see docs/drills.md for this field")
}

fn backticked_after(msg: &str, marker: &str) -> Option<String> {
    let rest = msg.split_once(marker)?.1;
    Some(rest.split_once('`').map(|(name, _)| name).unwrap_or(rest).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walker_finds_duplicates_at_any_depth_and_keeps_values() {
        let dup = |text: &str| read_json(text.as_bytes()).unwrap_err();
        let e = dup(r#"{"a": [{"b": 1}, {"c": {"d": true, "d": false}}]}"#);
        assert_eq!((e.field_path(), e.kind, e.rule), ("a[1].c.d", K::DuplicateKey, Some("duplicateKey")));
        assert_eq!(dup(r#"{"x": 1, "x": 1}"#).field_path(), "x", "even with equal values");
        let v =
            read_json(br#"{"n": -1, "u": 18446744073709551615, "f": 1.5, "s": "t", "b": false, "z": null, "l": []}"#)
                .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"n": -1, "u": 18446744073709551615u64, "f": 1.5, "s": "t", "b": false, "z": null, "l": []})
        );
        assert_eq!(read_json(b"{} {}").unwrap_err().kind, K::MalformedJson, "trailing data");
        assert_eq!(read_json(b"{\"a\":").unwrap_err().kind, K::MalformedJson);
    }

    #[test]
    fn serde_messages_map_to_kinds_and_rules() {
        let c = convert("restore.vm", "unknown variant `inPlace`, expected `restoreDisks` or `newVm`");
        assert_eq!((c.kind, c.rule), (K::Forbidden, Some("destructiveMode")));
        let c = convert("sampling", "unknown variant `some`, expected one of `all`, `random`");
        assert_eq!((c.kind, c.rule), (K::InvalidValue, None));
        assert!(c.fix.contains("`all`"), "{c}");
        let c = convert("checks.webhook", "unknown field `hmacKey`, expected one of `url`");
        assert_eq!((c.field_path(), c.rule), ("checks.webhook.hmacKey", Some("inlineSecret")));
        let c = convert("", "unknown field `nmae`, expected one of `name`");
        assert_eq!((c.field_path(), c.kind), ("nmae", K::UnknownField));
        let c = convert("checks", "missing field `url`");
        assert_eq!((c.field_path(), c.kind), ("checks.url", K::MissingField));
        let c = convert("keepFor", "invalid type: integer `3`, expected a string");
        assert_eq!(c.kind, K::WrongType);
        let c = convert("x", "something else entirely");
        assert_eq!((c.kind, c.field_path()), (K::InvalidValue, "x"));
        assert_eq!(printable(&"é".repeat(150)).chars().count(), 101);
    }
}
