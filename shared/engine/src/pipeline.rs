//! The azure_core pipeline every ARM call goes through.
//!
//! Policy order (azure_core runs per-call policies once, then the retry policy, then per-try policies each try):
//!
//! 1. per call: [`OriginGuardPolicy`] (no request leaves for a host outside [`AllowedOrigins`]), azure_core's
//!    `x-ms-client-request-id` and User-Agent policies, [`CorrelationPolicy`] (`x-ms-correlation-request-id`);
//! 2. azure_core's retry policy: 408/429/500/502/503/504 and connection failures, honouring `Retry-After` on
//!    429/503, exponential otherwise, bounded in count and total time;
//! 3. per try: [`BudgetPolicy`] (waits for a token of the client-side ARM budget and feeds it ARM's
//!    remaining-quota headers and 429s), then azure_core's `BearerTokenAuthorizationPolicy`;
//! 4. the transport (reqwest, extra CAs, no redirects).
//!
//! Two pipelines share everything but the retry policy: calls that start work on Azure (restore triggers) go
//! through one that never retries, because a retried POST after a lost response would start a second restore.
//! Their callers handle ambiguity with the write-ahead record instead (DESIGN invariant 1).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::Headers;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, HttpClient, Method, Pipeline, PipelineSendOptions, Request,
    RetryOptions, Transport, UserAgentOptions,
};
use url::Url;

use crate::budget::{ArmBudget, BudgetLimits, RequestKind};
use crate::cloud::Cloud;
use crate::origin::{AllowedOrigins, UnsafeUrl};
use crate::transport::{TransportError, TransportOptions, transport};

/// Retry bounds for idempotent calls.
#[derive(Debug, Clone, Copy)]
pub struct RetrySettings {
    /// Retries after the first try.
    pub max_retries: u32,
    /// Delay before the first retry (doubling after).
    pub initial_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first try.
    pub max_total: Duration,
}

impl Default for RetrySettings {
    /// azure_core's defaults: 8 retries from 200 ms, at most 30 s apart, 60 s in all.
    fn default() -> Self {
        RetrySettings {
            max_retries: 8,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(60),
        }
    }
}

/// Everything the pipeline is configured with.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The cloud (ARM endpoint and token scope).
    pub cloud: Cloud,
    /// Hosts besides the ARM endpoint (and its regional variants) that may receive a token.
    pub extra_allowed_hosts: Vec<String>,
    /// Transport settings (extra CAs, timeouts).
    pub transport: TransportOptions,
    /// The client-side ARM budget.
    pub budget: BudgetLimits,
    /// Retry bounds for idempotent calls.
    pub retry: RetrySettings,
    /// The HTTP client under the pipeline; `None` builds the reqwest transport from [`Self::transport`]. Set
    /// to an in-process client to script Azure's answers (the workflow's deterministic tests do): every
    /// policy above the transport still runs.
    pub http_client: Option<Arc<dyn HttpClient>>,
}

impl PipelineOptions {
    /// Defaults for a cloud.
    pub fn for_cloud(cloud: Cloud) -> Self {
        PipelineOptions {
            cloud,
            extra_allowed_hosts: Vec::new(),
            transport: TransportOptions::default(),
            budget: BudgetLimits::default(),
            retry: RetrySettings::default(),
            http_client: None,
        }
    }
}

/// Whether a call may be retried automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, PUTs, DELETEs, validations: repeating them is harmless.
    Safe,
    /// Calls that start work (restore triggers): never repeated by the pipeline.
    Never,
}

/// A correlation id sent as `x-ms-correlation-request-id`, so one restore's calls can be found together in
/// Azure's activity log and ours. Put it in the [`Context`] given to [`ArmPipeline::send`].
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

/// An ARM response: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Headers,
    /// Response body (possibly empty).
    pub body: Vec<u8>,
}

impl ArmResponse {
    /// A header value by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.as_str().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A call that produced no HTTP response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The URL may not receive a token.
    #[error(transparent)]
    Unsafe(#[from] UnsafeUrl),
    /// The connection could not be opened: the request was certainly not sent.
    #[error("cannot connect to {host}: {message}")]
    NotSent {
        /// Host tried.
        host: String,
        /// Transport message.
        message: String,
    },
    /// The request may have reached Azure but no response came back (reset, timeout).
    #[error("no response from {host} (the request may have been processed): {message}")]
    NoResponse {
        /// Host tried.
        host: String,
        /// Transport message.
        message: String,
    },
    /// No token could be obtained.
    #[error("cannot get an Azure token: {0}")]
    Credential(String),
}

impl SendError {
    /// Whether Azure may have processed the request.
    pub fn maybe_processed(&self) -> bool {
        matches!(self, SendError::NoResponse { .. })
    }
}

/// Could not build the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Bad transport settings.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// The configured pipelines, budget and origin rules.
#[derive(Debug, Clone)]
pub struct ArmPipeline {
    endpoint: Url,
    origins: AllowedOrigins,
    safe: Pipeline,
    once: Pipeline,
    budget: Arc<ArmBudget>,
}

impl ArmPipeline {
    /// Builds the pipelines for `options`, authenticating with `credential`.
    pub fn new(options: &PipelineOptions, credential: Arc<dyn TokenCredential>) -> Result<Self, PipelineError> {
        let endpoint = options.cloud.arm_endpoint();
        let origins = AllowedOrigins::for_endpoint(&endpoint, options.extra_allowed_hosts.iter().cloned());
        let budget = Arc::new(ArmBudget::new(options.budget));
        let transport = match &options.http_client {
            Some(client) => Transport::new(client.clone()),
            None => transport(&options.transport)?,
        };
        let scope = options.cloud.token_scope();
        // One bearer policy, hence one token cache, for both pipelines: the first call of the never-retry
        // pipeline (the restore trigger) reuses the token the retrying one already holds.
        let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope]));
        let build = |retry: RetryOptions| {
            let client_options = ClientOptions {
                retry,
                transport: Some(transport.clone()),
                user_agent: UserAgentOptions { application_id: Some("backup-restore-fn".into()) },
                ..Default::default()
            };
            let per_call: Vec<Arc<dyn Policy>> =
                vec![Arc::new(OriginGuardPolicy { origins: origins.clone() }), Arc::new(CorrelationPolicy)];
            let per_try: Vec<Arc<dyn Policy>> =
                vec![Arc::new(BudgetPolicy { budget: budget.clone() }), auth.clone(), Arc::new(SendWindowPolicy)];
            Pipeline::new(
                Some(env!("CARGO_PKG_NAME")),
                Some(env!("CARGO_PKG_VERSION")),
                client_options,
                per_call,
                per_try,
                None,
            )
        };
        let r = options.retry;
        let safe = build(RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::try_from(r.initial_delay).unwrap_or_default(),
            max_retries: r.max_retries,
            max_total_elapsed: azure_core::time::Duration::try_from(r.max_total).unwrap_or_default(),
            max_delay: azure_core::time::Duration::try_from(r.max_delay).unwrap_or_default(),
        }));
        let once = build(RetryOptions::none());
        Ok(ArmPipeline { endpoint, origins, safe, once, budget })
    }

    /// The ARM endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The shared client-side budget (the tracker asks it before spending).
    pub fn budget(&self) -> &Arc<ArmBudget> {
        &self.budget
    }

    /// The URL of `path` (built from typed ids, starting with `/subscriptions/`) with `api-version` and extra
    /// query pairs, on the configured endpoint.
    pub fn url(&self, path: &str, api_version: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.endpoint.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", api_version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// Checks a URL taken from a response (`source_name` says which header or field) before it is followed.
    pub fn check_url(&self, source_name: &str, text: &str) -> Result<Url, UnsafeUrl> {
        self.origins.check(source_name, text)
    }

    /// Sends one request and returns the response whatever its status (the caller interprets error bodies).
    pub async fn send(
        &self,
        ctx: &Context<'_>,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        retry: Retry,
    ) -> Result<ArmResponse, SendError> {
        // Checked here as well as in the pipeline's first policy, so the refusal is a typed error.
        self.origins.check("request", url.as_str())?;
        let host = url.host_str().unwrap_or_default().to_string();
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(body);
        }
        let pipeline = match retry {
            Retry::Safe => &self.safe,
            Retry::Never => &self.once,
        };
        let options = PipelineSendOptions { skip_checks: true, ..Default::default() };
        match pipeline.send(ctx, &mut request, Some(options)).await {
            Ok(raw) => {
                let (status, headers, body) = raw.deconstruct();
                Ok(ArmResponse { status: u16::from(status), headers, body: body.to_vec() })
            }
            Err(e) => Err(classify(&host, e)),
        }
    }
}

fn classify(host: &str, e: azure_core::Error) -> SendError {
    use azure_core::error::ErrorKind;
    let message = e.to_string();
    match e.kind() {
        ErrorKind::Connection => SendError::NotSent { host: host.into(), message },
        ErrorKind::Credential => SendError::Credential(message),
        _ if e.downcast_ref::<UnsafeUrl>().is_some() => SendError::NotSent { host: host.into(), message },
        _ => SendError::NoResponse { host: host.into(), message },
    }
}

/// Refuses to let a request leave for a host outside the allowed origins.
#[derive(Debug)]
struct OriginGuardPolicy {
    origins: AllowedOrigins,
}

#[async_trait]
impl Policy for OriginGuardPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        if let Err(e) = self.origins.check("request", request.url().as_str()) {
            // Carried as the typed error, so `classify` recognises it without reading the message.
            return Err(azure_core::Error::new(azure_core::error::ErrorKind::Other, e));
        }
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// Sets `x-ms-correlation-request-id` from the context's [`CorrelationId`].
#[derive(Debug)]
struct CorrelationPolicy;

#[async_trait]
impl Policy for CorrelationPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        if let Some(CorrelationId(id)) = ctx.value::<CorrelationId>() {
            request.insert_header("x-ms-correlation-request-id", id.clone());
        }
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// When a request may still leave, and how long its answer may take. Put it in the [`Context`] of a call that
/// starts work in Azure: the write-ahead's settle window is only sound if the POST cannot leave later than
/// `not_after`, nor land later than `not_after + timeout`.
#[derive(Debug, Clone, Copy)]
pub struct SendWindow {
    /// After this instant the request is not sent (the call fails with [`SendError::NotSent`]).
    pub not_after: tokio::time::Instant,
    /// Longest wait for the answer once sent (then [`SendError::NoResponse`]: it may have been processed).
    pub timeout: Duration,
}

/// Message of the error a closed send window produces (classified as not sent).
const WINDOW_CLOSED: &str = "send window closed before the request left";

/// Enforces the context's [`SendWindow`], last before the transport: budget waits and token acquisition come
/// before it, so whatever they cost, a request leaves only inside its window.
#[derive(Debug)]
struct SendWindowPolicy;

#[async_trait]
impl Policy for SendWindowPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let Some(window) = ctx.value::<SendWindow>().copied() else {
            return next[0].send(ctx, request, &next[1..]).await;
        };
        if tokio::time::Instant::now() > window.not_after {
            return Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Connection, WINDOW_CLOSED));
        }
        match tokio::time::timeout(window.timeout, next[0].send(ctx, request, &next[1..])).await {
            Ok(answer) => answer,
            Err(_) => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Io,
                format!("no answer within {:?}", window.timeout),
            )),
        }
    }
}

/// Spends a budget token per try and feeds back what ARM reports.
#[derive(Debug)]
struct BudgetPolicy {
    budget: Arc<ArmBudget>,
}

/// The subscription a URL's path addresses (`/subscriptions/{id}/…`), for budget accounting.
fn subscription_of(url: &Url) -> String {
    let mut segments = url.path_segments().into_iter().flatten();
    while let Some(s) = segments.next() {
        if s.eq_ignore_ascii_case("subscriptions") {
            return segments.next().unwrap_or_default().to_ascii_lowercase();
        }
    }
    String::new()
}

#[async_trait]
impl Policy for BudgetPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let kind = RequestKind::for_method(request.method().as_ref());
        let subscription = subscription_of(request.url());
        self.budget.take(&subscription, kind).await;
        let response = next[0].send(ctx, request, &next[1..]).await?;
        let headers = response.headers();
        let header = |name: &str| {
            headers.iter().find(|(k, _)| k.as_str().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str().to_string())
        };
        if let Some(remaining) = header(kind.remaining_header()).and_then(|v| v.trim().parse::<u32>().ok()) {
            self.budget.observe_remaining(&subscription, kind, remaining);
        }
        if u16::from(response.status()) == 429 {
            let wait = crate::lro::retry_after(headers).unwrap_or(Duration::from_secs(5));
            self.budget.observe_throttled(&subscription, kind, wait);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_is_read_from_the_path() {
        let url = Url::parse("https://h/Subscriptions/ABC/resourceGroups/x?api-version=1").unwrap();
        assert_eq!(subscription_of(&url), "abc");
        assert_eq!(subscription_of(&Url::parse("https://h/providers/x").unwrap()), "");
    }
}
