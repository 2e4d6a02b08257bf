//! The naming template for restored disks and VMs, used when a request names none.
//!
//! Variables: `{source}` (the source disk's backup instance name or the VM name), `{requestId}`, `{kind}`,
//! `{yyyyMMdd}`, `{yyyyMMddHHmm}`, `{yyyyMMddHHmmss}` (UTC, at the time the intake plans the restore). The result
//! is made a valid Azure name: other characters become `-`, it is cut to the resource type's limit and must not
//! end in `.` or `-`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// The template used when the policy sets none.
pub const DEFAULT_NAMING_TEMPLATE: &str = "{source}-restored-{yyyyMMddHHmm}";

/// The variables a template may use.
pub const NAMING_VARIABLES: [&str; 6] = ["source", "requestId", "kind", "yyyyMMdd", "yyyyMMddHHmm", "yyyyMMddHHmmss"];

/// A validated naming template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingTemplate(String);

impl Default for NamingTemplate {
    fn default() -> Self {
        NamingTemplate(DEFAULT_NAMING_TEMPLATE.to_string())
    }
}

impl NamingTemplate {
    /// Parses a template, checking that every `{variable}` is known and braces balance.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut rest = template;
        let mut has_source_or_time = false;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("has a '}' without a matching '{'".into());
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or("has a '{' without a matching '}'")?;
            let var = &after[..close];
            if !NAMING_VARIABLES.contains(&var) {
                return Err(format!("uses the unknown variable {{{var}}}; known: {}", NAMING_VARIABLES.join(", ")));
            }
            has_source_or_time |= var != "kind";
            rest = &after[close + 1..];
        }
        if !has_source_or_time {
            return Err("must use {source}, {requestId} or a time variable, or every restore gets the same name".into());
        }
        Ok(NamingTemplate(template.to_string()))
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Renders a name for a resource whose names are at most `max_len` characters.
    pub fn render(&self, source: &str, request_id: &str, kind: &str, at: OffsetDateTime, max_len: usize) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        let date = format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day());
        let minute = format!("{date}{:02}{:02}", at.hour(), at.minute());
        let second = format!("{minute}{:02}", at.second());
        let raw = self
            .0
            .replace("{source}", source)
            .replace("{requestId}", request_id)
            .replace("{kind}", kind)
            .replace("{yyyyMMddHHmmss}", &second)
            .replace("{yyyyMMddHHmm}", &minute)
            .replace("{yyyyMMdd}", &date);
        let mut name: String = raw
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
            .skip_while(|c| !c.is_ascii_alphanumeric())
            .take(max_len)
            .collect();
        while name.ends_with(['.', '-']) {
            name.pop();
        }
        if name.is_empty() { "restored".to_string() } else { name }
    }
}

impl fmt::Display for NamingTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for NamingTemplate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NamingTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(format!("the naming template '{s}' {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn renders_and_sanitises() {
        let t = NamingTemplate::default();
        let at = datetime!(2026-05-01 12:34:56 UTC);
        assert_eq!(t.render("app-data-01", "r1", "diskToNewDisk", at, 80), "app-data-01-restored-202605011234");
        let t = NamingTemplate::parse("{source} copy {requestId}.").unwrap();
        assert_eq!(t.render("vm", "ab/c", "k", at, 64), "vm-copy-ab-c");
        assert_eq!(t.render("vm", "r", "k", at, 4), "vm-c");
    }

    #[test]
    fn rejects_unknown_variables_and_constant_names() {
        assert!(NamingTemplate::parse("{disk}-x").unwrap_err().contains("unknown variable {disk}"));
        assert!(NamingTemplate::parse("{source").unwrap_err().contains("without a matching"));
        assert!(NamingTemplate::parse("restored").unwrap_err().contains("same name"));
        assert!(NamingTemplate::parse("{kind}-x").is_err());
    }
}
