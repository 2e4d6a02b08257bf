//! Where a bearer token may go (DESIGN invariant 4).
//!
//! Operation URLs come from response headers (`Azure-AsyncOperation`, `Location`, `nextLink`), so they are data
//! from the network. Before the engine follows one with a token, the URL must be https, carry no user info, and
//! point at the configured ARM host and port — or at a host in the configured allow-list. By default the list
//! holds the regional variants of the ARM host (`<region>.management.azure.com`), which real responses carry.
//! For an IP-address endpoint (the emulator) there are no regional variants: only the exact origin passes.

use url::{Host, Url};

/// The set of origins a token may be sent to.
#[derive(Debug, Clone)]
pub struct AllowedOrigins {
    host: String,
    port: u16,
    /// Extra hosts: exact names, or `*.suffix` patterns matching exactly one more DNS label.
    extra: Vec<String>,
}

/// A URL the engine refuses to send a token to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to follow {source_name} URL '{url}': {reason} (allowed: {allowed})")]
pub struct UnsafeUrl {
    /// Where the URL came from, e.g. `Azure-AsyncOperation header`.
    pub source_name: String,
    /// The URL as received (query removed, so no signature or token leaks into logs).
    pub url: String,
    /// Why it was refused.
    pub reason: String,
    /// The allowed origins, for the operator.
    pub allowed: String,
}

impl AllowedOrigins {
    /// The ARM endpoint's origin, plus its regional variants when it is a DNS name, plus `extra` hosts.
    pub fn for_endpoint(arm_endpoint: &Url, extra: impl IntoIterator<Item = String>) -> Self {
        let host = arm_endpoint.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = arm_endpoint.port_or_known_default().unwrap_or(443);
        let mut list: Vec<String> = extra.into_iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        if matches!(arm_endpoint.host(), Some(Host::Domain(_))) {
            list.push(format!("*.{host}"));
        }
        list.retain(|h| !h.is_empty());
        AllowedOrigins { host, port, extra: list }
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("https://{}:{}", self.host, self.port)];
        parts.extend(self.extra.iter().map(|h| format!("https://{h}:{}", self.port)));
        parts.join(", ")
    }

    fn host_allowed(&self, host: &str) -> bool {
        if host == self.host {
            return true;
        }
        self.extra.iter().any(|pattern| match pattern.strip_prefix("*.") {
            Some(suffix) => host
                .strip_suffix(suffix)
                .and_then(|p| p.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')),
            None => host == pattern,
        })
    }

    /// Parses `text` (from `source_name`) and checks it may receive a token.
    pub fn check(&self, source_name: &str, text: &str) -> Result<Url, UnsafeUrl> {
        let shown = text.split('?').next().unwrap_or_default().chars().take(300).collect::<String>();
        let refuse = |reason: String| UnsafeUrl {
            source_name: source_name.to_string(),
            url: shown.clone(),
            reason,
            allowed: self.describe(),
        };
        let url = Url::parse(text.trim()).map_err(|e| refuse(format!("it is not an absolute URL ({e})")))?;
        if url.scheme() != "https" {
            return Err(refuse(format!("scheme '{}' is not https", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it carries user information".into()));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if !self.host_allowed(&host) {
            return Err(refuse(format!("host '{host}' is not the ARM endpoint")));
        }
        if url.port_or_known_default() != Some(self.port) {
            return Err(refuse(format!("port {:?} is not the ARM endpoint's port", url.port_or_known_default())));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> AllowedOrigins {
        AllowedOrigins::for_endpoint(&Url::parse("https://management.azure.com").unwrap(), [])
    }

    #[test]
    fn accepts_arm_and_regional_hosts() {
        let o = public();
        o.check("Location header", "https://management.azure.com/subscriptions/x/operationResults/y?api-version=1")
            .unwrap();
        o.check("Location header", "https://centraluseuap.management.azure.com/subscriptions/x").unwrap();
        o.check("Location header", "https://MANAGEMENT.azure.com:443/x").unwrap();
    }

    #[test]
    fn refuses_everything_else() {
        let o = public();
        for bad in [
            "http://management.azure.com/x",
            "https://evil.example/x",
            "https://management.azure.com.evil.example/x",
            "https://a.b.management.azure.com/x",
            "https://evilmanagement.azure.com/x",
            "https://management.azure.com@evil.example/x",
            "https://user:pw@management.azure.com/x",
            "https://management.azure.com:8443/x",
            "/subscriptions/relative",
            "azure-asyncoperation: https://management.azure.com/x",
        ] {
            let err = o.check("Azure-AsyncOperation header", bad).unwrap_err();
            assert!(err.to_string().contains("refusing to follow Azure-AsyncOperation header"), "{err}");
        }
    }

    #[test]
    fn ip_endpoint_allows_only_its_exact_origin() {
        let o = AllowedOrigins::for_endpoint(&Url::parse("https://127.0.0.1:8443").unwrap(), []);
        o.check("x", "https://127.0.0.1:8443/subscriptions/s").unwrap();
        assert!(o.check("x", "https://127.0.0.1:8444/subscriptions/s").is_err());
        assert!(o.check("x", "https://127.0.0.2:8443/subscriptions/s").is_err());
        assert!(o.check("x", "https://localhost:8443/subscriptions/s").is_err());
        let o = AllowedOrigins::for_endpoint(&Url::parse("https://127.0.0.1:8443").unwrap(), ["localhost".to_string()]);
        o.check("x", "https://localhost:8443/subscriptions/s").unwrap();
    }

    #[test]
    fn error_hides_query_strings() {
        let err = public().check("nextLink", "https://evil.example/x?sig=secret").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
