//! The HTTP server the Functions host talks to: binding, routes, invocation dispatch and
//! graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::Instrument as _;

use crate::envelope::{INVOCATION_ID_HEADER, Invocation, InvocationRequest, InvocationResponse};
use crate::error::{DecodeError, HandlerError, LEGACY_PORT_VAR, Oversize, PORT_VAR, ServeError, StartupError};
use crate::events::FromInvocation;
use crate::events::http::HttpRequest;
use crate::events::service_bus::ServiceBusMessage;
use crate::events::timer::TimerInfo;
use crate::limits::BodyLimit;
use crate::logs::{INVOCATION_SPAN, INVOCATION_TARGET, escape_control, take_logs};
use crate::outputs::Outputs;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

enum Failure {
    BadRequest(DecodeError),
    Handler(HandlerError),
}

type Invoke = Arc<dyn Fn(InvocationRequest, Invocation) -> BoxFuture<Result<Outputs, Failure>> + Send + Sync>;
type OnOversize = Arc<dyn Fn(Oversize, Invocation) -> BoxFuture<Result<Outputs, HandlerError>> + Send + Sync>;

/// A body is read to its end even when it is not used (a 404, an oversized message), so the client can finish
/// sending and read the answer: answering and closing while the client is still writing resets the connection,
/// and the client sees a broken pipe instead of the answer. Past this many bytes the runtime stops reading and
/// lets the connection close (only a client that is not the Functions host sends that much to a wrong path).
const DRAIN_LIMIT_BYTES: u64 = 256 * 1024 * 1024;

struct Function {
    binding: String,
    invoke: Invoke,
}

struct Shared {
    functions: HashMap<String, Function>,
    in_flight: AtomicUsize,
    body_limit: Option<BodyLimit>,
    on_oversize: Option<OnOversize>,
}

/// The custom-handler runtime: a set of functions, each registered by its function (folder)
/// name and the name of its trigger binding in function.json.
///
/// ```no_run
/// use custom_handler::{HandlerError, Invocation, Outputs, Runtime, ServiceBusMessage};
///
/// async fn handle(msg: ServiceBusMessage, _ctx: Invocation) -> Result<Outputs, HandlerError> {
///     Ok(Outputs::new().service_bus("results", [msg.body_str()?.to_string()]))
/// }
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     custom_handler::init_tracing();
///     // Bind first: the host gives up after 30 s without an answer to `GET /`.
///     let listener = match custom_handler::bind_from_env().await {
///         Ok(listener) => listener,
///         Err(e) => {
///             eprintln!("error: {e}");
///             return std::process::ExitCode::FAILURE;
///         }
///     };
///     // ... slow initialisation here ...
///     let runtime = Runtime::new().service_bus("RestoreIntake", "message", handle);
///     match runtime.serve(listener).await {
///         Ok(shutdown) => shutdown.exit_code(),
///         Err(e) => {
///             eprintln!("error: {e}");
///             std::process::ExitCode::FAILURE
///         }
///     }
/// }
/// ```
#[derive(Default)]
pub struct Runtime {
    functions: HashMap<String, Function>,
    body_limit: Option<BodyLimit>,
    on_oversize: Option<OnOversize>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.functions.iter().map(|(k, v)| format!("{k}({})", v.binding)).collect();
        names.sort();
        f.debug_struct("Runtime")
            .field("functions", &names)
            .field("body_limit", &self.body_limit.as_ref().map(BodyLimit::envelope_bytes))
            .field("on_oversize", &self.on_oversize.is_some())
            .finish()
    }
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGTERM.
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

impl Shutdown {
    /// The process exit code: 143 for SIGTERM, 130 for SIGINT. Never 0: the host does not
    /// restart a handler that exited with 0.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The numeric exit code (see [`Shutdown::exit_code`]).
    pub fn code(self) -> u8 {
        match self {
            Shutdown::Terminate => 143,
            Shutdown::Interrupt => 130,
        }
    }
}

impl Runtime {
    /// A runtime with no functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a function whose trigger decodes to `E` (any [`FromInvocation`] type).
    /// `name` is the function folder name (the URL path the host posts to), `binding` the
    /// trigger's `name` in function.json.
    ///
    /// # Panics
    /// If a function with the same name is already registered (a programming error).
    pub fn function<E, H, Fut>(mut self, name: impl Into<String>, binding: impl Into<String>, handler: H) -> Self
    where
        E: FromInvocation,
        H: Fn(E, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outputs, HandlerError>> + Send + 'static,
    {
        let name = name.into();
        let binding = binding.into();
        let handler = Arc::new(handler);
        let trigger = binding.clone();
        let invoke: Invoke = Arc::new(move |request, ctx| {
            let handler = Arc::clone(&handler);
            let trigger = trigger.clone();
            Box::pin(async move {
                let event = E::from_invocation(&trigger, &request).map_err(Failure::BadRequest)?;
                handler(event, ctx).await.map_err(Failure::Handler)
            })
        });
        let previous = self.functions.insert(name.clone(), Function { binding, invoke });
        assert!(previous.is_none(), "function {name:?} is registered twice with the custom-handler runtime");
        self
    }

    /// Register a Service Bus-triggered function (see [`Runtime::function`]).
    pub fn service_bus<H, Fut>(self, name: impl Into<String>, binding: impl Into<String>, handler: H) -> Self
    where
        H: Fn(ServiceBusMessage, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outputs, HandlerError>> + Send + 'static,
    {
        self.function(name, binding, handler)
    }

    /// Register a timer-triggered function (see [`Runtime::function`]).
    pub fn timer<H, Fut>(self, name: impl Into<String>, binding: impl Into<String>, handler: H) -> Self
    where
        H: Fn(TimerInfo, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outputs, HandlerError>> + Send + 'static,
    {
        self.function(name, binding, handler)
    }

    /// Register an HTTP-triggered function (see [`Runtime::function`]); put the reply in the
    /// outputs with [`Outputs::http`] under the http output binding's name.
    pub fn http<H, Fut>(self, name: impl Into<String>, binding: impl Into<String>, handler: H) -> Self
    where
        H: Fn(HttpRequest, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outputs, HandlerError>> + Send + 'static,
    {
        self.function(name, binding, handler)
    }

    /// Refuse invocation bodies over `limit` ([`BodyLimit::envelope_bytes`]: the policy's `maxMessageBytes` plus
    /// the host envelope's overhead) before parsing them; the body is still read to its end (and dropped) so the
    /// host gets an answer. Without a limit the runtime buffers any body (the default: HTTP triggers may be
    /// large). Oversized invocations go to [`Runtime::on_oversize`], or get a `413` naming the limit.
    pub fn body_limit(mut self, limit: BodyLimit) -> Self {
        self.body_limit = Some(limit);
        self
    }

    /// Answer invocations over the [`Runtime::body_limit`] with `handler` instead of a `413`. Its outputs are
    /// sent like any function's (a `200`), so a Service Bus message is settled rather than redelivered ten
    /// times and dead-lettered: the intake answers with a `Rejected` result naming the limit
    /// ([`Oversize`]'s text says what and how to fix it). The [`Invocation`] has the function name and the
    /// invocation id; there is no metadata, since the envelope is not parsed.
    pub fn on_oversize<H, Fut>(mut self, handler: H) -> Self
    where
        H: Fn(Oversize, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outputs, HandlerError>> + Send + 'static,
    {
        self.on_oversize = Some(Arc::new(move |oversize, ctx| Box::pin(handler(oversize, ctx))));
        self
    }

    /// Bind `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT` (see [`bind_from_env`]).
    pub async fn bind_from_env() -> Result<TcpListener, StartupError> {
        bind_from_env().await
    }

    /// The axum router: `GET /` (readiness), `POST /{function}`, JSON 404/405 otherwise.
    pub fn into_router(self) -> Router {
        router(self.into_shared())
    }

    fn into_shared(self) -> Arc<Shared> {
        Arc::new(Shared {
            functions: self.functions,
            in_flight: AtomicUsize::new(0),
            body_limit: self.body_limit,
            on_oversize: self.on_oversize,
        })
    }

    /// Serve until SIGTERM or SIGINT, then stop accepting, let in-flight invocations finish and
    /// return which signal stopped it (its [`Shutdown::exit_code`] is the process's exit code).
    pub async fn serve(self, listener: TcpListener) -> Result<Shutdown, ServeError> {
        let signals = Signals::register()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.serve_with_shutdown(listener, async move {
            let shutdown = signals.wait().await;
            let _ = tx.send(shutdown);
        })
        .await?;
        // The signal future completed (that is the only way serving ends without an error).
        Ok(rx.await.unwrap_or(Shutdown::Terminate))
    }

    /// Serve until `shutdown` completes, then stop accepting and let in-flight invocations
    /// finish. For tests and embedding.
    pub async fn serve_with_shutdown<F>(self, listener: TcpListener, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let shared = self.into_shared();
        let app = router(Arc::clone(&shared));
        let announce = async move {
            shutdown.await;
            stderr_line(&format!(
                "custom handler shutting down: no longer accepting connections; waiting for {} in-flight invocation(s)",
                shared.in_flight.load(Ordering::SeqCst)
            ));
        };
        axum::serve(listener, app).with_graceful_shutdown(announce).await?;
        Ok(())
    }

    /// Bind from the environment and serve until a signal; returns the process exit code
    /// (errors are printed to stderr). For binaries without slow initialisation.
    pub async fn run(self) -> ExitCode {
        let listener = match bind_from_env().await {
            Ok(listener) => listener,
            Err(e) => {
                stderr_line(&format!("error: {e}"));
                return ExitCode::FAILURE;
            }
        };
        match self.serve(listener).await {
            Ok(shutdown) => shutdown.exit_code(),
            Err(e) => {
                stderr_line(&format!("error: {e}"));
                ExitCode::FAILURE
            }
        }
    }
}

struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
    }

    #[cfg(not(unix))]
    fn register() -> std::io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn wait(mut self) -> Shutdown {
        tokio::select! {
            _ = self.term.recv() => Shutdown::Terminate,
            _ = self.int.recv() => Shutdown::Interrupt,
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) -> Shutdown {
        let _ = tokio::signal::ctrl_c().await;
        Shutdown::Interrupt
    }
}

/// Read the port from `FUNCTIONS_CUSTOMHANDLER_PORT`, falling back to
/// `FUNCTIONS_HTTPWORKER_PORT`, through `lookup` (an empty value counts as unset).
pub fn port_from(lookup: impl Fn(&str) -> Option<String>) -> Result<(u16, &'static str), StartupError> {
    for var in [PORT_VAR, LEGACY_PORT_VAR] {
        let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        return match value.trim().parse::<u16>() {
            Ok(port) if port != 0 => Ok((port, var)),
            _ => Err(StartupError::InvalidPort { var, value }),
        };
    }
    Err(StartupError::MissingPort)
}

/// Bind `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT` (or `$FUNCTIONS_HTTPWORKER_PORT`). Call it
/// first, before any slow initialisation: the host probes `GET /` for at most 30 s.
pub async fn bind_from_env() -> Result<TcpListener, StartupError> {
    let (port, var) = port_from(|name| std::env::var(name).ok())?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr: addr.to_string(), var, source })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(ready))
        .route("/{function}", post(invoke))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // axum limits `Bytes` bodies to 2 MB by default. The host's envelope grows every Service
        // Bus body (double encoding escapes quotes; base64 adds a third), Premium messages reach
        // 100 MB and HTTP triggers 100 MB, so a limit here would turn large but valid messages
        // into failures and dead letters. The limit that matters is the app's message limit, applied by `invoke`
        // while it reads the body ([`Runtime::body_limit`]), so axum's is off.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    // `Json` sets `Content-Type: application/json`; every body here is a JSON object.
    (status, axum::Json(body)).into_response()
}

fn error_response(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({ "error": message }))
}

/// One line on stderr; the text often holds what a client sent (paths, decode errors naming keys), so control
/// characters are escaped and the line stays one line.
fn stderr_line(text: &str) {
    let _ = std::io::stderr().lock().write_all(format!("{}\n", escape_control(text)).as_bytes());
}

/// What reading a body found.
enum BodyRead {
    /// The whole body, within the limit.
    Complete(Bytes),
    /// Over the limit: `received` bytes were read (and dropped); `truncated` when reading stopped early.
    Oversize { received: u64, truncated: bool },
}

/// Reads `body` to its end, keeping it only while it stays within `limit` (no limit: keep all). Past the limit
/// the bytes are counted and dropped, up to [`DRAIN_LIMIT_BYTES`].
async fn read_body(mut body: Body, limit: Option<usize>) -> Result<BodyRead, axum::Error> {
    let mut kept: Vec<u8> = Vec::new();
    let mut received: u64 = 0;
    let mut over = false;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        received = received.saturating_add(data.len() as u64);
        if !over && limit.is_some_and(|limit| received > limit as u64) {
            over = true;
            kept = Vec::new();
        }
        if over {
            if received > DRAIN_LIMIT_BYTES {
                return Ok(BodyRead::Oversize { received, truncated: true });
            }
        } else {
            kept.extend_from_slice(&data);
        }
    }
    Ok(if over { BodyRead::Oversize { received, truncated: false } } else { BodyRead::Complete(Bytes::from(kept)) })
}

/// Reads and drops a body that will not be used (see [`DRAIN_LIMIT_BYTES`]).
async fn drain(body: Body) {
    let _ = read_body(body, Some(0)).await;
}

async fn ready() -> Response {
    json_response(StatusCode::OK, json!({}))
}

async fn not_found(uri: Uri, body: Body) -> Response {
    drain(body).await;
    not_found_answer(&uri)
}

fn not_found_answer(uri: &Uri) -> Response {
    let message = format!("no function is registered at {}", uri.path());
    stderr_line(&format!("custom handler: 404: {message}"));
    error_response(StatusCode::NOT_FOUND, &message)
}

async fn method_not_allowed(uri: Uri, body: Body) -> Response {
    drain(body).await;
    error_response(StatusCode::METHOD_NOT_ALLOWED, &format!("{} accepts POST (invocations) only", uri.path()))
}

async fn invoke(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let name = uri.path().trim_start_matches('/').to_string();
    let invocation_id = headers.get(INVOCATION_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let id_text = invocation_id.as_deref().unwrap_or("-").to_string();
    let Some(function) = shared.functions.get(&name) else {
        drain(body).await;
        return not_found_answer(&uri);
    };
    let bad_request = |e: &dyn std::fmt::Display| {
        let message = e.to_string();
        stderr_line(&format!("ERROR [{name} {id_text}] 400 bad request: {message}"));
        error_response(StatusCode::BAD_REQUEST, &message)
    };
    let limit = shared.body_limit.as_ref();
    let body = match read_body(body, limit.map(BodyLimit::envelope_bytes)).await {
        Ok(BodyRead::Complete(body)) => body,
        Ok(BodyRead::Oversize { received, truncated }) => {
            let oversize = Oversize {
                function: name.clone(),
                limit: limit.map_or(usize::MAX, BodyLimit::envelope_bytes),
                max_message_bytes: limit.map_or(usize::MAX, BodyLimit::message_bytes),
                received,
                truncated,
            };
            return answer_oversize(&shared, oversize, invocation_id).await;
        }
        Err(e) => return bad_request(&format!("cannot read the request body: {e}")),
    };
    let request = match InvocationRequest::parse(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    let ctx = Invocation::new(name.clone(), invocation_id, &request);
    let future = (function.invoke)(request, ctx);
    run_invocation(&shared, &name, &id_text, future).await
}

/// An invocation over the body limit: the app's [`Runtime::on_oversize`] answer, or a `413` naming the limit.
async fn answer_oversize(shared: &Arc<Shared>, oversize: Oversize, invocation_id: Option<String>) -> Response {
    let name = oversize.function.clone();
    let id_text = invocation_id.as_deref().unwrap_or("-").to_string();
    stderr_line(&format!("WARN [{name} {id_text}] refused before parsing: {oversize}"));
    let Some(hook) = shared.on_oversize.clone() else {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, &oversize.to_string());
    };
    let ctx = Invocation::new(name.clone(), invocation_id, &InvocationRequest::default());
    let future: BoxFuture<Result<Outputs, Failure>> =
        Box::pin(async move { hook(oversize, ctx).await.map_err(Failure::Handler) });
    run_invocation(shared, &name, &id_text, future).await
}

/// Runs one invocation in its own task (a panic becomes a JoinError instead of tearing down the connection, and
/// the process keeps serving) inside the invocation span, and turns the outcome into the host's answer.
async fn run_invocation(
    shared: &Arc<Shared>,
    name: &str,
    id_text: &str,
    future: BoxFuture<Result<Outputs, Failure>>,
) -> Response {
    let span =
        tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = %name, invocation_id = %id_text);
    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let joined = tokio::spawn(future.instrument(span.clone())).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);

    match joined {
        Ok(Ok(outputs)) => {
            let logs = take_logs(&span);
            let (outputs, return_value) = outputs.into_parts();
            let response = InvocationResponse { outputs, logs, return_value: return_value.unwrap_or(Value::Null) };
            match serde_json::to_value(&response) {
                Ok(value) => json_response(StatusCode::OK, value),
                Err(e) => {
                    let message = format!("cannot serialise the response: {e}");
                    stderr_line(&format!("ERROR [{name} {id_text}] {message}"));
                    error_response(StatusCode::INTERNAL_SERVER_ERROR, &message)
                }
            }
        }
        Ok(Err(Failure::BadRequest(e))) => {
            let message = e.to_string();
            stderr_line(&format!("ERROR [{name} {id_text}] 400 bad request: {message}"));
            error_response(StatusCode::BAD_REQUEST, &message)
        }
        Ok(Err(Failure::Handler(e))) => {
            // The host drops `Logs` on a non-2xx answer: stderr is where this is seen.
            let message = e.to_string();
            stderr_line(&format!("ERROR [{name} {id_text}] function failed: {message}"));
            error_response(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
        Err(join_error) => {
            let message = if join_error.is_panic() {
                let payload = join_error.into_panic();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                format!("handler panicked: {text}")
            } else {
                "handler task was cancelled".to_string()
            };
            stderr_line(&format!("ERROR [{name} {id_text}] {message}"));
            error_response(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn port_prefers_the_custom_handler_variable() {
        let (port, var) = port_from(lookup(&[(PORT_VAR, "7072"), (LEGACY_PORT_VAR, "1")])).unwrap();
        assert_eq!((port, var), (7072, PORT_VAR));
        let (port, var) = port_from(lookup(&[(LEGACY_PORT_VAR, "7073")])).unwrap();
        assert_eq!((port, var), (7073, LEGACY_PORT_VAR));
        let (port, _) = port_from(lookup(&[(PORT_VAR, ""), (LEGACY_PORT_VAR, "7074")])).unwrap();
        assert_eq!(port, 7074);
    }

    #[test]
    fn bad_or_missing_ports_are_typed_errors() {
        assert!(matches!(port_from(lookup(&[])), Err(StartupError::MissingPort)));
        for bad in ["abc", "70000", "0", "-1", "80a"] {
            match port_from(lookup(&[(PORT_VAR, bad), (LEGACY_PORT_VAR, "7074")])) {
                Err(StartupError::InvalidPort { var, value }) => {
                    assert_eq!(var, PORT_VAR);
                    assert_eq!(value, bad);
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn shutdown_codes_are_never_zero() {
        assert_eq!(Shutdown::Terminate.code(), 143);
        assert_eq!(Shutdown::Interrupt.code(), 130);
    }

    mod bodies {
        use std::sync::atomic::AtomicBool;

        use axum::http::Request;
        use futures::StreamExt as _;
        use tower::ServiceExt as _;

        use super::*;
        use crate::limits::envelope_limit_for;

        /// A body sent in `chunks` that records when it has been read to its end.
        fn tracked_body(chunks: Vec<Vec<u8>>) -> (Body, Arc<AtomicBool>) {
            let finished = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&finished);
            let end = futures::stream::once(async move {
                flag.store(true, Ordering::SeqCst);
                Ok::<_, std::io::Error>(Bytes::new())
            });
            let stream =
                futures::stream::iter(chunks.into_iter().map(|c| Ok::<_, std::io::Error>(Bytes::from(c)))).chain(end);
            (Body::from_stream(stream), finished)
        }

        async fn echo(m: ServiceBusMessage, _: Invocation) -> Result<Outputs, HandlerError> {
            Ok(Outputs::new().service_bus("out", [m.body_str()?.to_string()]))
        }

        fn envelope(body_text: &str) -> Vec<u8> {
            json!({"Data": {"message": Value::String(body_text.to_string()).to_string()}, "Metadata": {}})
                .to_string()
                .into_bytes()
        }

        async fn send(router: Router, path: &str, chunks: Vec<Vec<u8>>) -> (StatusCode, Value, bool) {
            let (body, finished) = tracked_body(chunks);
            let request = Request::post(path).body(body).expect("a valid test request");
            let response = router.oneshot(request).await.expect("the router is infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a readable answer");
            let value = serde_json::from_slice(&bytes).expect("every answer is JSON");
            (status, value, finished.load(Ordering::SeqCst))
        }

        // The intermittent failure of runtime_protocol's `every_response_is_a_json_object_with_a_json_content_type`:
        // the 404 for an unrouted path (`/a/b`) was answered without reading the chunked body, and the connection
        // closed; a client still writing its body (slowed by load) got a broken pipe instead of the answer.
        #[tokio::test]
        async fn answers_without_a_function_still_read_the_body_to_its_end() {
            for (method_ok, path) in [(true, "/a/b"), (true, "/Nope"), (false, "/Echo")] {
                let router = Runtime::new().service_bus("Echo", "message", echo).into_router();
                let (body, finished) = tracked_body(vec![b"{".to_vec(), b"}".to_vec()]);
                let request = if method_ok { Request::post(path).body(body) } else { Request::put(path).body(body) }
                    .expect("a valid test request");
                let response = router.oneshot(request).await.expect("the router is infallible");
                assert!(response.status().is_client_error(), "{path}: {}", response.status());
                assert!(finished.load(Ordering::SeqCst), "{path}: answered before the body was read");
            }
        }

        #[tokio::test]
        async fn a_body_over_the_limit_goes_to_the_oversize_hook_and_is_never_parsed() {
            let limit = BodyLimit::for_message_bytes(1024);
            let seen = Arc::new(std::sync::Mutex::new(None));
            let record = Arc::clone(&seen);
            let router = Runtime::new()
                .service_bus("Echo", "message", echo)
                .body_limit(limit.clone())
                .on_oversize(move |o: Oversize, ctx: Invocation| {
                    let record = Arc::clone(&record);
                    async move {
                        let text = o.to_string();
                        *record.lock().unwrap_or_else(|p| p.into_inner()) = Some((o, ctx.function_name));
                        Ok(Outputs::new().service_bus("out", [text]))
                    }
                })
                .into_router();
            // Not even JSON: proves the envelope is not parsed. Sent in pieces, as the host streams it.
            let size = envelope_limit_for(1024) + 10;
            let chunks: Vec<Vec<u8>> = b"x".repeat(size).chunks(4096).map(<[u8]>::to_vec).collect();
            let (status, value, finished) = send(router.clone(), "/Echo", chunks).await;
            assert_eq!(status, StatusCode::OK, "{value}");
            assert!(finished, "the body is read to its end before answering");
            let recorded = seen.lock().unwrap_or_else(|p| p.into_inner()).take();
            let (oversize, function) = recorded.expect("the hook ran");
            assert_eq!(function, "Echo");
            assert_eq!((oversize.limit, oversize.max_message_bytes), (envelope_limit_for(1024), 1024));
            assert_eq!((oversize.received, oversize.truncated), (size as u64, false));
            let text = value["Outputs"]["out"][0].as_str().unwrap_or_default().to_string();
            assert!(text.contains(&format!("limit of {} bytes", envelope_limit_for(1024))), "{text}");
            assert!(text.contains("maxMessageBytes"), "{text}");

            // Within the limit: the function runs as usual.
            let (status, value, _) = send(router, "/Echo", vec![envelope("hello")]).await;
            assert_eq!(status, StatusCode::OK, "{value}");
            assert_eq!(value["Outputs"]["out"][0], "hello");
        }

        #[tokio::test]
        async fn without_a_hook_an_oversized_body_is_a_413_naming_the_limit() {
            let router = Runtime::new()
                .service_bus("Echo", "message", echo)
                .body_limit(BodyLimit::for_message_bytes(1))
                .into_router();
            let body = envelope(&"y".repeat(envelope_limit_for(1) + 1));
            let (status, value, finished) = send(router, "/Echo", vec![body]).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
            assert!(finished);
            let error = value["error"].as_str().unwrap_or_default();
            assert!(error.contains(&format!("limit of {} bytes", envelope_limit_for(1))), "{error}");
        }

        #[tokio::test]
        async fn the_limit_follows_the_policy_set_after_start() {
            let limit = BodyLimit::for_message_bytes(64 * 1024);
            let router = Runtime::new().service_bus("Echo", "message", echo).body_limit(limit.clone()).into_router();
            // Within 64 KiB's envelope limit, over 1 KiB's.
            let big = envelope(&"z".repeat(200_000));
            assert!(big.len() < envelope_limit_for(64 * 1024) && big.len() > envelope_limit_for(1024));
            let (status, _, _) = send(router.clone(), "/Echo", vec![big.clone()]).await;
            assert_eq!(status, StatusCode::OK);
            limit.set_message_bytes(1024);
            let (status, _, _) = send(router, "/Echo", vec![big]).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn duplicate_function_names_are_rejected() {
        async fn h(_: TimerInfo, _: Invocation) -> Result<Outputs, HandlerError> {
            Ok(Outputs::new())
        }
        let _ = Runtime::new().timer("T", "t", h).timer("T", "t", h);
    }
}
