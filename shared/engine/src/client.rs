//! The ARM client: typed JSON calls over [`ArmPipeline`], paging, and the start of long-running operations.
//!
//! Provider-specific calls live in [`crate::dataprotection`], [`crate::recoveryservices`] and [`crate::crr`]; this
//! module holds what they share. Every path is built from typed, validated ARM ids (DESIGN invariant 5), and
//! every URL taken from a response (`nextLink`, `Azure-AsyncOperation`, `Location`) is checked against the
//! allowed origins before it is followed (invariant 4).

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::{Context, Method};
use restore_models::wire::ResourceList;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use url::Url;

use crate::error::AzureError;
use crate::lro::{Expect, PendingOperation, Provider};
use crate::origin::UnsafeUrl;
use crate::pipeline::{ArmPipeline, ArmResponse, CorrelationId, PipelineError, PipelineOptions, Retry, SendError};

/// Longest list the client will page through, as a guard against a `nextLink` loop.
const MAX_PAGES: usize = 200;

/// A call that did not produce what was asked for.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// No HTTP response (or a refused URL); see [`SendError::maybe_processed`].
    #[error(transparent)]
    Send(#[from] SendError),
    /// Azure answered with an error.
    #[error(transparent)]
    Azure(#[from] AzureError),
    /// A 2xx response whose body is not what the API promises.
    #[error("{what}: the response body could not be read: {message}")]
    Decode {
        /// Which call.
        what: String,
        /// The parser's message.
        message: String,
    },
    /// A URL in a response may not receive a token.
    #[error(transparent)]
    Unsafe(#[from] UnsafeUrl),
    /// The response was valid but did not have what the operation needs (e.g. no job id).
    #[error("{what}: {message}")]
    Unexpected {
        /// Which call.
        what: String,
        /// What was missing.
        message: String,
    },
}

impl CallError {
    /// Whether repeating the call later may succeed (transport failures, throttling, 5xx). A credential that
    /// cannot produce a token and a URL refused for its origin are not: they need a fix, not a retry.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Send(SendError::NotSent { .. } | SendError::NoResponse { .. }) => true,
            CallError::Send(SendError::Credential(_) | SendError::Unsafe(_)) => false,
            CallError::Azure(e) => matches!(e.retry, crate::error::Retryability::Transient),
            _ => false,
        }
    }
}

/// What starting a long-running operation gave back.
#[derive(Debug, Clone)]
pub enum Started {
    /// Azure accepted the work; follow it with [`crate::lro::step`].
    Pending(PendingOperation),
    /// Azure finished synchronously (200/201/204); the body, if any, is the final result.
    Done(Option<serde_json::Value>),
}

/// The ARM client.
#[derive(Debug, Clone)]
pub struct ArmClient {
    pipeline: Arc<ArmPipeline>,
}

impl ArmClient {
    /// A client over a configured pipeline.
    pub fn new(pipeline: ArmPipeline) -> Self {
        ArmClient { pipeline: Arc::new(pipeline) }
    }

    /// Builds the pipeline from options and a credential.
    pub fn from_options(
        options: &PipelineOptions,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<Self, PipelineError> {
        Ok(Self::new(ArmPipeline::new(options, credential)?))
    }

    /// The underlying pipeline (budget, endpoint, URL checks).
    pub fn pipeline(&self) -> &ArmPipeline {
        &self.pipeline
    }

    /// A context that sends `correlation` as `x-ms-correlation-request-id` on every call made with it.
    pub fn context(correlation: &str) -> Context<'static> {
        let mut ctx = Context::new();
        ctx.insert(CorrelationId(correlation.to_string()));
        ctx
    }

    /// Sends a request and turns a non-2xx answer into [`CallError::Azure`].
    pub async fn call(
        &self,
        ctx: &Context<'_>,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        retry: Retry,
    ) -> Result<ArmResponse, CallError> {
        let response = self.pipeline.send(ctx, method, url, body, retry).await?;
        if (200..300).contains(&response.status) {
            Ok(response)
        } else {
            Err(AzureError::from_response(response.status, &response.body).into())
        }
    }

    /// GET `path` and decode the body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        what: &str,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<T, CallError> {
        let url = self.pipeline.url(path, api_version, query);
        let response = self.call(ctx, Method::Get, url, None, Retry::Safe).await?;
        decode(what, &response.body)
    }

    /// POST `body` to `path` (a call that starts no work, e.g. a synchronous validation or a job read) and
    /// decode the answer.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        what: &str,
        path: &str,
        api_version: &str,
        body: &B,
    ) -> Result<T, CallError> {
        let url = self.pipeline.url(path, api_version, &[]);
        let response = self.call(ctx, Method::Post, url, Some(encode(what, body)?), Retry::Safe).await?;
        decode(what, &response.body)
    }

    /// Reads every page of a list, following `nextLink` verbatim after checking its origin. `first` is the
    /// URL of the first page; `post_body` makes every page request a POST with that body (Azure's POST lists).
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        what: &str,
        first: Url,
        post_body: Option<Vec<u8>>,
    ) -> Result<Vec<T>, CallError> {
        self.list_until(ctx, what, first, post_body, |_| false).await
    }

    /// [`Self::list_all`], stopping after the first page for which `enough` says the rest is not needed (a
    /// newest-first list whose page is entirely older than what the caller looks for).
    pub async fn list_until<T: DeserializeOwned>(
        &self,
        ctx: &Context<'_>,
        what: &str,
        first: Url,
        post_body: Option<Vec<u8>>,
        enough: impl Fn(&[T]) -> bool,
    ) -> Result<Vec<T>, CallError> {
        let mut items = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let (method, body) = match &post_body {
                Some(body) => (Method::Post, Some(body.clone())),
                None => (Method::Get, None),
            };
            let response = self.call(ctx, method, url, body, Retry::Safe).await?;
            let page: ResourceList<T> = decode(what, &response.body)?;
            let stop = enough(&page.value);
            items.extend(page.value);
            if stop {
                return Ok(items);
            }
            match page.next_link.filter(|link| !link.trim().is_empty()) {
                Some(link) => url = self.pipeline.check_url("nextLink", &link)?,
                None => return Ok(items),
            }
        }
        Err(CallError::Unexpected { what: what.into(), message: format!("more than {MAX_PAGES} pages; stopped") })
    }
}

/// Describes a call that starts a long-running operation: which call, where, through which pipeline, and what
/// its final result must hold. Built by the provider modules, run by [`ArmClient::begin`].
#[derive(Debug, Clone, Copy)]
pub struct Begin<'a> {
    /// Which call (named in errors).
    pub what: &'a str,
    /// HTTP method.
    pub method: Method,
    /// ARM path built from typed ids.
    pub path: &'a str,
    /// api-version.
    pub api_version: &'a str,
    /// [`Retry::Never`] for calls that start a restore.
    pub retry: Retry,
    /// API family.
    pub provider: Provider,
    /// What the final result must contain.
    pub expect: Expect,
}

impl ArmClient {
    /// Starts the operation `call` describes, sending `body` (JSON) if given, and reads the answer as ARM's
    /// async protocol: a 202 (or a 201 with a poll header) is pending, anything else is done with its body.
    pub async fn begin<B: Serialize>(
        &self,
        ctx: &Context<'_>,
        call: Begin<'_>,
        body: Option<&B>,
        now: OffsetDateTime,
    ) -> Result<Started, CallError> {
        let url = self.pipeline.url(call.path, call.api_version, &[]);
        let body = body.map(|b| encode(call.what, b)).transpose()?;
        let response = self.call(ctx, call.method, url, body, call.retry).await?;
        if response.status == 202 || (response.status == 201 && has_poll_header(&response)) {
            let op =
                PendingOperation::from_response(&self.pipeline, call.what, &response, call.provider, call.expect, now)?;
            return Ok(Started::Pending(op));
        }
        if response.body.is_empty() {
            return Ok(Started::Done(None));
        }
        Ok(Started::Done(Some(decode(call.what, &response.body)?)))
    }
}

fn has_poll_header(response: &ArmResponse) -> bool {
    response.header("azure-asyncoperation").is_some() || response.header("location").is_some()
}

/// Serialises a request body.
pub fn encode<B: Serialize>(what: &str, body: &B) -> Result<Vec<u8>, CallError> {
    serde_json::to_vec(body).map_err(|e| CallError::Decode { what: what.into(), message: e.to_string() })
}

/// Decodes a response body, naming the call in the error.
pub fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|e| CallError::Decode { what: what.into(), message: e.to_string() })
}
