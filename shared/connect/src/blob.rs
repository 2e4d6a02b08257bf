//! What every Blob Storage client of the product (the state store, the drill function's plans and evidence)
//! agrees on: which container URLs are acceptable, and how to read the service's error codes. Kept here, beside
//! the transport and credential they are used with, so the rules are the same for every setting that names a
//! container.

use azure_core::error::ErrorKind;
use azure_core::http::{StatusCode, Url};

/// A container URL setting is unusable. The message names the setting, what is wrong and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}='{url}' {problem}")]
pub struct ContainerUrlError {
    /// The setting that holds the URL.
    pub setting: &'static str,
    /// The URL as given.
    pub url: String,
    /// What is wrong and the fix.
    pub problem: String,
}

/// Checks the container URL held by `setting`: https (bearer tokens are only sent over TLS), a host, no query or
/// fragment (a SAS token would be a secret in configuration; clients authenticate with their identity), and
/// exactly the container in the path: `https://<account>.blob.core.windows.net/<container>`. On a loopback or IP
/// host (Azurite, the storage emulator) the account comes first, path-style: `https://127.0.0.1:10000/<account>/
/// <container>`. A trailing `/` is dropped (blob names are appended to the path). Returns the normalised URL.
pub fn parse_container_url(setting: &'static str, text: &str) -> Result<Url, ContainerUrlError> {
    const EXPECTED: &str = "expected https://<account>.blob.core.windows.net/<container>";
    let bad = |problem: String| ContainerUrlError { setting, url: text.to_string(), problem };
    let mut url = Url::parse(text.trim()).map_err(|e| bad(format!("is not a URL ({e}); {EXPECTED}")))?;
    if url.scheme() != "https" {
        return Err(bad("must use https: bearer tokens are only sent over TLS".into()));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()).map(str::to_string) else {
        return Err(bad(format!("names no host; {EXPECTED}")));
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must not carry a query or fragment: SAS tokens are not used, the app authenticates with its managed identity"
                .into(),
        ));
    }
    let path = url.path().strip_prefix('/').unwrap_or(url.path());
    let path = path.strip_suffix('/').unwrap_or(path).to_string();
    let segments: Vec<&str> = if path.is_empty() { Vec::new() } else { path.split('/').collect() };
    let path_style = host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[');
    let wanted = if path_style { 2 } else { 1 };
    if segments.is_empty() {
        return Err(bad(format!("names no container; {EXPECTED}")));
    }
    if segments.len() != wanted || segments.iter().any(|s| s.is_empty()) {
        let problem = if path_style {
            "must name the account and the container on a local emulator: https://127.0.0.1:<port>/<account>/<container>"
                .to_string()
        } else {
            format!("must name only the container in its path (blob names are added by the app); {EXPECTED}")
        };
        return Err(bad(problem));
    }
    url.set_path(&format!("/{path}"));
    Ok(url)
}

/// The storage error code of a service answer (`BlobAlreadyExists`, `ContainerNotFound`, …), if any.
pub fn error_code(e: &azure_core::Error) -> Option<&str> {
    match e.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.as_deref(),
        _ => None,
    }
}

/// The blob does not exist (but its container does).
pub fn is_blob_not_found(e: &azure_core::Error) -> bool {
    e.http_status() == Some(StatusCode::NotFound) && error_code(e) != Some("ContainerNotFound")
}

/// A lost write condition: 409 from `If-None-Match: *` on an existing blob (or an immutability policy refusing the
/// write), 412 from a stale `If-Match`.
pub fn is_condition_lost(e: &azure_core::Error) -> bool {
    matches!(e.http_status(), Some(StatusCode::Conflict | StatusCode::PreconditionFailed))
}

/// A hint for the usual configuration mistakes behind a failed call on the container `setting` names: the
/// container is missing, or the identity lacks `role` on it. Empty when the error is neither.
pub fn hint(e: &azure_core::Error, setting: &str, role: &str) -> String {
    match (e.http_status(), error_code(e)) {
        (_, Some("ContainerNotFound")) => format!(" (the container does not exist: create it or fix {setting})"),
        (Some(StatusCode::Unauthorized | StatusCode::Forbidden), _) => {
            format!(" (grant the managed identity '{role}' on the container)")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "SOME_CONTAINER_URL";

    fn problem(text: &str) -> String {
        let err = parse_container_url(S, text).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with(&format!("{S}='")), "{message}");
        message
    }

    #[test]
    fn accepts_a_container_and_the_emulators_path_style() {
        let ok = |t: &str| parse_container_url(S, t).unwrap().to_string();
        assert_eq!(ok("https://a.blob.core.windows.net/plans"), "https://a.blob.core.windows.net/plans");
        assert_eq!(ok(" https://a.blob.core.windows.net/plans/ "), "https://a.blob.core.windows.net/plans");
        assert_eq!(ok("https://127.0.0.1:10000/devstoreaccount1/p"), "https://127.0.0.1:10000/devstoreaccount1/p");
        assert_eq!(ok("https://localhost:10000/devstoreaccount1/p/"), "https://localhost:10000/devstoreaccount1/p");
    }

    #[test]
    fn refusals_name_the_setting_and_the_fix() {
        assert!(problem("not a url").contains("is not a URL"));
        assert!(problem("http://a.blob.core.windows.net/c").contains("https"));
        assert!(problem("https://a.blob.core.windows.net/c?sv=1&sig=x").contains("SAS"));
        assert!(problem("https://a.blob.core.windows.net").contains("names no container"));
        assert!(problem("https://a.blob.core.windows.net/").contains("names no container"));
        assert!(problem("https://a.blob.core.windows.net/c/runs").contains("only the container"));
        assert!(problem("https://a.blob.core.windows.net/c//").contains("only the container"));
        assert!(problem("https://127.0.0.1:10000/c").contains("<account>/<container>"));
        assert!(problem("https://127.0.0.1:10000/a/c/d").contains("<account>/<container>"));
    }
}
