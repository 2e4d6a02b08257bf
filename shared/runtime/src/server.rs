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
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::Instrument as _;

use crate::envelope::{INVOCATION_ID_HEADER, Invocation, InvocationRequest, InvocationResponse};
use crate::error::{DecodeError, HandlerError, LEGACY_PORT_VAR, PORT_VAR, ServeError, StartupError};
use crate::events::FromInvocation;
use crate::events::http::HttpRequest;
use crate::events::service_bus::ServiceBusMessage;
use crate::events::timer::TimerInfo;
use crate::logs::{INVOCATION_SPAN, INVOCATION_TARGET, take_logs};
use crate::outputs::Outputs;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

enum Failure {
    BadRequest(DecodeError),
    Handler(HandlerError),
}

type Invoke = Arc<dyn Fn(InvocationRequest, Invocation) -> BoxFuture<Result<Outputs, Failure>> + Send + Sync>;

struct Function {
    binding: String,
    invoke: Invoke,
}

struct Shared {
    functions: HashMap<String, Function>,
    in_flight: AtomicUsize,
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
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.functions.iter().map(|(k, v)| format!("{k}({})", v.binding)).collect();
        names.sort();
        f.debug_struct("Runtime").field("functions", &names).finish()
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

    /// Bind `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT` (see [`bind_from_env`]).
    pub async fn bind_from_env() -> Result<TcpListener, StartupError> {
        bind_from_env().await
    }

    /// The axum router: `GET /` (readiness), `POST /{function}`, JSON 404/405 otherwise.
    pub fn into_router(self) -> Router {
        let shared = Arc::new(Shared { functions: self.functions, in_flight: AtomicUsize::new(0) });
        router(shared)
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
        let shared = Arc::new(Shared { functions: self.functions, in_flight: AtomicUsize::new(0) });
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
        // into failures and dead letters. The host is the only client (loopback), so no limit.
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

fn stderr_line(text: &str) {
    let _ = std::io::stderr().lock().write_all(format!("{text}\n").as_bytes());
}

async fn ready() -> Response {
    json_response(StatusCode::OK, json!({}))
}

async fn not_found(uri: Uri) -> Response {
    let message = format!("no function is registered at {}", uri.path());
    stderr_line(&format!("custom handler: 404: {message}"));
    error_response(StatusCode::NOT_FOUND, &message)
}

async fn method_not_allowed(uri: Uri) -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, &format!("{} accepts POST (invocations) only", uri.path()))
}

async fn invoke(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let name = uri.path().trim_start_matches('/').to_string();
    let invocation_id = headers.get(INVOCATION_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let id_text = invocation_id.as_deref().unwrap_or("-").to_string();
    let Some(function) = shared.functions.get(&name) else {
        return not_found(uri).await;
    };
    let bad_request = |e: &dyn std::fmt::Display| {
        let message = e.to_string();
        stderr_line(&format!("ERROR [{name} {id_text}] 400 bad request: {message}"));
        error_response(StatusCode::BAD_REQUEST, &message)
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => return bad_request(&format!("cannot read the request body: {e}")),
    };
    let request = match InvocationRequest::parse(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    let ctx = Invocation::new(name.clone(), invocation_id, &request);
    let span =
        tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = %name, invocation_id = %id_text);
    let future = (function.invoke)(request, ctx);

    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    // Run the handler in its own task: a panic becomes a JoinError instead of tearing down
    // the connection, and the process keeps serving.
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
        Ok(Err(Failure::BadRequest(e))) => bad_request(&e),
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

    #[test]
    #[should_panic(expected = "registered twice")]
    fn duplicate_function_names_are_rejected() {
        async fn h(_: TimerInfo, _: Invocation) -> Result<Outputs, HandlerError> {
            Ok(Outputs::new())
        }
        let _ = Runtime::new().timer("T", "t", h).timer("T", "t", h);
    }
}
