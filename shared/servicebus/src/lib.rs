//! Sending to a Service Bus queue or topic through its REST API (`POST https://{namespace}/{entity}/messages`),
//! with an Entra token, through an azure_core pipeline: one message (`restorectl submit`) or a batch (the
//! tracker's results, each with a MessageId derived from its content, so that Service Bus duplicate detection
//! drops a batch sent again after an answer was lost).
//!
//! There is no maintained Rust Service Bus crate with Entra authentication (README), and one send needs no AMQP
//! session. The pipeline is azure_core's: `BearerTokenAuthorizationPolicy` for the Service Bus scope (which also
//! refuses to put a token on a non-https URL) and azure_core's exponential retry of 408/429/5xx and connection
//! failures. Retrying a send is safe: a duplicate message has the same MessageId and request id, and the intake
//! starts at most one restore per request id. The transport is `restore_engine::transport` (extra CAs from
//! `RESTORE_EXTRA_CA_FILES`, redirects off, https only).

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, RetryOptions, Transport,
};
use url::Url;

/// The token scope of Service Bus data-plane calls (the same in every cloud).
pub const SCOPE: &str = "https://servicebus.azure.net/.default";

/// Checks a namespace: a fully qualified host name only (no scheme, port or path), e.g.
/// `mybus.servicebus.windows.net`. Returns it in lower case.
pub fn check_namespace(text: &str) -> Result<String, String> {
    let host = text.trim();
    let fail = |why: &str| Err(format!("--namespace / RESTORE_SERVICEBUS_NAMESPACE '{host}' {why}"));
    if host.to_ascii_lowercase().starts_with("http://") {
        return fail(
            "uses plain http: the bearer token is only sent over TLS. Fix: give the host name alone, e.g. mybus.servicebus.windows.net",
        );
    }
    if host.contains("://") {
        return fail(
            "has a scheme. Fix: give the host name alone, e.g. mybus.servicebus.windows.net (or a full https URL with --endpoint)",
        );
    }
    if host.contains(['/', '?', '#', '@', ':']) {
        return fail(
            "is not a host name (it has a path, port, query or user). Fix: give the host name alone, e.g. mybus.servicebus.windows.net",
        );
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !labels.iter().all(label_ok) {
        return fail(
            "is not a valid host name. Fix: use letters, digits and hyphens, e.g. mybus.servicebus.windows.net",
        );
    }
    if labels.len() < 2 {
        return fail(
            "is not fully qualified. Fix: add your cloud's Service Bus suffix, e.g. mybus.servicebus.windows.net",
        );
    }
    Ok(host.to_ascii_lowercase())
}

/// Checks an endpoint override: `https://host[:port]` with no path, query or credentials.
pub fn check_endpoint(text: &str) -> Result<Url, String> {
    check_endpoint_named(text, "--endpoint")
}

/// [`check_endpoint`], naming `setting` in the error.
pub fn check_endpoint_named(text: &str, setting: &str) -> Result<Url, String> {
    let fail = |why: &str| Err(format!("{setting} '{}' {why}", text.trim()));
    let url = match Url::parse(text.trim()) {
        Ok(url) => url,
        Err(e) => return fail(&format!("is not a URL ({e}). Fix: give https://host[:port]")),
    };
    if url.scheme() != "https" {
        return fail("is not https: the bearer token is only sent over TLS. Fix: use https://host[:port]");
    }
    if url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
        return fail("needs a host and no user name. Fix: use https://host[:port]");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return fail(
            "has a path, query or fragment. Fix: use https://host[:port]; the queue or topic has its own setting (--queue, RESTORE_RESULTS_TOPIC)",
        );
    }
    Ok(url)
}

/// Checks a queue name: 1–260 of letters, digits, `.`, `_`, `-`, and `/` between non-empty segments, starting
/// and ending with a letter or digit (Service Bus's rules), so it is safe as a URL path.
pub fn check_queue(text: &str) -> Result<String, String> {
    check_entity(text, "--queue / RESTORE_REQUESTS_QUEUE", "restore-requests")
}

/// [`check_queue`] for any queue or topic, naming `setting` and an `example` in the error.
pub fn check_entity(text: &str, setting: &str, example: &str) -> Result<String, String> {
    let queue = text.trim();
    let ok_chars = queue.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    let ends_ok =
        queue.starts_with(|c: char| c.is_ascii_alphanumeric()) && queue.ends_with(|c: char| c.is_ascii_alphanumeric());
    let segments_ok = queue.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    if queue.len() > 260 || !ok_chars || !ends_ok || !segments_ok {
        return Err(format!(
            "{setting} '{queue}' is not a queue or topic name. Fix: use letters, digits, '.', '_', '-' \
             (and '/' between parts), starting and ending with a letter or digit, e.g. {example}"
        ));
    }
    Ok(queue.to_string())
}

/// The send URL on `base` (`https://host[:port]`).
pub fn messages_url(base: &Url, queue: &str) -> Url {
    let mut url = base.clone();
    // `queue` passed check_queue: only unreserved characters and '/', so it needs no encoding.
    url.set_path(&format!("/{queue}/messages"));
    url
}

/// The content type of a batch send.
pub const BATCH_CONTENT_TYPE: &str = "application/vnd.microsoft.servicebus.json";

/// The most messages the tracker puts in one batch (Service Bus allows up to 256 KB per batch on Standard).
pub const MAX_BATCH: usize = 50;

/// One message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The body, as text.
    pub body: String,
    /// Its MessageId (at most 128 characters).
    pub message_id: String,
}

/// A MessageId derived from `parts` (e.g. a request id and a result status): the same parts give the same id,
/// so a message sent again is a duplicate Service Bus can drop. 128 bits of two FNV-1a hashes, in hex: within
/// Service Bus's 128-character limit whatever the parts' length.
pub fn derived_message_id(prefix: &str, parts: &[&str]) -> String {
    let hash = |seed: u64| {
        parts
            .iter()
            .flat_map(|p| p.bytes().chain(std::iter::once(0)))
            .fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    };
    format!("{prefix}-{:016x}{:016x}", hash(0xcbf2_9ce4_8422_2325), hash(0x6c62_272e_07bb_0142))
}

/// Sends messages through one pipeline.
#[derive(Debug)]
pub struct Sender {
    pipeline: Pipeline,
}

impl Sender {
    /// A sender authenticating with `credential` over `transport`, with azure_core's default retry
    /// (8 retries from 200 ms, 60 s in all): right for a person waiting at a terminal.
    pub fn new(credential: Arc<dyn TokenCredential>, transport: Transport) -> Self {
        Self::with_retry(credential, transport, RetryOptions::default())
    }

    /// A sender with its own retry bounds (the tracker keeps them short: its next tick sends again).
    pub fn with_retry(credential: Arc<dyn TokenCredential>, transport: Transport, retry: RetryOptions) -> Self {
        let options = ClientOptions { transport: Some(transport), retry, ..Default::default() };
        let per_try: Vec<Arc<dyn Policy>> = vec![Arc::new(BearerTokenAuthorizationPolicy::new(credential, [SCOPE]))];
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            vec![],
            per_try,
            None,
        );
        Sender { pipeline }
    }

    /// Sends `body` to `url` with this MessageId. The error explains what to do.
    pub async fn send(&self, url: &Url, body: Vec<u8>, message_id: &str) -> Result<(), String> {
        let mut request = Request::new(url.clone(), Method::Post);
        request.insert_header("content-type", "application/json");
        request.insert_header("brokerproperties", serde_json::json!({ "MessageId": message_id }).to_string());
        request.set_body(body);
        self.post(url, request).await
    }

    /// Sends `messages` (text bodies with their MessageIds) to `url` in one batch request (Service Bus's
    /// `application/vnd.microsoft.servicebus.json`: all or nothing). An error means nothing may be assumed
    /// delivered; sending the same batch again is safe, since duplicate detection drops repeated MessageIds.
    pub async fn send_batch(&self, url: &Url, messages: &[Message]) -> Result<(), String> {
        if messages.is_empty() {
            return Ok(());
        }
        let batch: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({ "Body": m.body, "BrokerProperties": { "MessageId": m.message_id } }))
            .collect();
        let body = serde_json::to_vec(&batch).map_err(|e| format!("cannot encode the batch: {e}"))?;
        let mut request = Request::new(url.clone(), Method::Post);
        request.insert_header("content-type", BATCH_CONTENT_TYPE);
        request.set_body(body);
        self.post(url, request).await
    }

    async fn post(&self, url: &Url, mut request: Request) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default().to_string();
        // The status is interpreted below, with advice, instead of azure_core's generic error.
        let options = PipelineSendOptions { skip_checks: true, ..Default::default() };
        let response = self.pipeline.send(&Context::new(), &mut request, Some(options)).await.map_err(|e| {
            use azure_core::error::ErrorKind;
            match e.kind() {
                ErrorKind::Credential => format!(
                    "cannot get a token for {SCOPE}: {e}. Fix: `az login` (or azd auth login), or set RESTORE_CREDENTIAL \
                     and its settings (docs/restorectl.md)"
                ),
                ErrorKind::Connection => format!(
                    "cannot connect to {host}: {e}. Fix: check the namespace and the network; behind a TLS-inspecting \
                     proxy, add its CA with RESTORE_EXTRA_CA_FILES"
                ),
                _ => format!(
                    "no usable response from {host}: {e}. The message may have been enqueued; sending the same file \
                     again is safe when it has a requestId (the intake starts one restore per requestId)"
                ),
            }
        })?;
        let (status, _headers, body) = response.deconstruct();
        let status = u16::from(status);
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&body);
        let detail: String = text.chars().filter(|c| !c.is_control()).take(500).collect();
        let advice = match status {
            401 => {
                "Fix: sign in to the namespace's tenant (az login --tenant …), or check RESTORE_CREDENTIAL / AZURE_CLIENT_ID"
            }
            403 => "Fix: grant the identity the 'Azure Service Bus Data Sender' role on the queue or the namespace",
            404 => {
                "Fix: check the queue or topic name (--queue / RESTORE_REQUESTS_QUEUE, RESTORE_RESULTS_TOPIC) and the namespace (RESTORE_SERVICEBUS_NAMESPACE)"
            }
            413 => "Fix: the message is larger than the queue accepts; shorten it",
            _ => "Fix: retry later; if it persists, check the namespace's health in the Azure portal",
        };
        Err(format!("Service Bus at {host} answered {status}: {detail}. {advice}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_must_be_plain_host_names() {
        assert_eq!(check_namespace(" MyBus.servicebus.windows.net ").unwrap(), "mybus.servicebus.windows.net");
        let err = check_namespace("http://mybus.servicebus.windows.net").unwrap_err();
        assert!(err.contains("plain http") && err.contains("RESTORE_SERVICEBUS_NAMESPACE"), "{err}");
        assert!(check_namespace("https://mybus.servicebus.windows.net").unwrap_err().contains("scheme"));
        for bad in ["mybus.servicebus.windows.net/q", "mybus.servicebus.windows.net:443", "a@b.c", "-a.b", "a..b", ""] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
        assert!(check_namespace("mybus").unwrap_err().contains("fully qualified"));
    }

    #[test]
    fn endpoints_must_be_https_origins() {
        assert_eq!(check_endpoint("https://127.0.0.1:8443").unwrap().as_str(), "https://127.0.0.1:8443/");
        assert!(check_endpoint("http://127.0.0.1:8443").unwrap_err().contains("not https"));
        assert!(check_endpoint("https://h/q/messages").unwrap_err().contains("path"));
        assert!(check_endpoint("https://u:p@h").unwrap_err().contains("user"));
        assert!(check_endpoint("https://h/?x=1").unwrap_err().contains("query"));
    }

    #[test]
    fn derived_message_ids_are_stable_short_and_distinct() {
        let a = derived_message_id("result", &["req-1", "Succeeded"]);
        assert_eq!(a, derived_message_id("result", &["req-1", "Succeeded"]));
        assert_ne!(a, derived_message_id("result", &["req-1", "Failed"]));
        assert_ne!(a, derived_message_id("result", &["req-1S", "ucceeded"]), "parts are delimited");
        let long = "x".repeat(512);
        assert!(derived_message_id("result", &[&long, "Succeeded"]).len() <= 128);
    }

    #[test]
    fn queue_names_are_path_safe() {
        assert_eq!(check_queue("restore-requests").unwrap(), "restore-requests");
        assert_eq!(check_queue("team/restore.requests_1").unwrap(), "team/restore.requests_1");
        for bad in ["", "/q", "q/", "a//b", "a/../b", "q?x", "q%2f", "q messages", "-q"] {
            assert!(check_queue(bad).is_err(), "{bad}");
        }
        let url = messages_url(&check_endpoint("https://h:1").unwrap(), "restore-requests");
        assert_eq!(url.as_str(), "https://h:1/restore-requests/messages");
    }
}
