//! Starting a handler binary the way the Functions host does, and talking to it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::SimError;
use crate::http::{self, Body, Request};
use crate::invocation::HostInvocation;
use crate::response::HostResponse;

/// The host version the simulator claims (headers `X-Azure-Functions-HostVersion`, `User-Agent`).
pub const HOST_VERSION: &str = "4.1036.1.23224";
/// The host's readiness poll interval.
pub const READY_POLL: Duration = Duration::from_millis(25);
/// The host's default initialisation timeout.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which port variables the worker gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortEnv {
    /// Both `FUNCTIONS_CUSTOMHANDLER_PORT` and `FUNCTIONS_HTTPWORKER_PORT` (what the host does).
    Both,
    /// Only `FUNCTIONS_CUSTOMHANDLER_PORT`.
    CustomHandlerOnly,
    /// Only the legacy `FUNCTIONS_HTTPWORKER_PORT`.
    HttpWorkerOnly,
    /// Neither.
    None,
    /// `FUNCTIONS_CUSTOMHANDLER_PORT` set to this text (for bad-value tests); no legacy variable.
    Value(String),
}

/// A captured output stream (stdout or stderr), readable while the process runs.
#[derive(Clone)]
pub struct Captured {
    text: Arc<Mutex<String>>,
    changed: watch::Sender<u64>,
    /// Set when the stream reached its end (the process closed it, usually by exiting).
    ended: Arc<std::sync::atomic::AtomicBool>,
}

impl Captured {
    fn new() -> Self {
        Self {
            text: Arc::new(Mutex::new(String::new())),
            changed: watch::Sender::new(0),
            ended: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Everything the stream carried, once it has ended (an exited process's last lines may still be in the pipe
    /// when its exit is seen); what was captured so far if it does not end within `timeout`.
    pub async fn all(&self, timeout: Duration) -> String {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.ended.load(std::sync::atomic::Ordering::Acquire) {
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => break,
            }
        }
        self.text()
    }

    /// Wait until the captured text contains `needle` (woken by new output, no polling).
    pub async fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String, SimError> {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let text = self.text();
            if text.contains(needle) {
                return Ok(text);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    // All senders gone (cannot happen while `self` lives); one last look.
                    let text = self.text();
                    return if text.contains(needle) {
                        Ok(text)
                    } else {
                        Err(SimError::Timeout(format!("stream closed without {needle:?}; got:\n{text}")))
                    };
                }
                Err(_) => {
                    return Err(SimError::Timeout(format!(
                        "{needle:?} not seen within {timeout:?}; got:\n{}",
                        self.text()
                    )));
                }
            }
        }
    }

    fn pump(&self, stream: impl AsyncRead + Unpin + Send + 'static) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream);
            let mut line = Vec::new();
            loop {
                line.clear();
                match lines.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        this.text.lock().unwrap_or_else(|p| p.into_inner()).push_str(&text);
                        this.changed.send_modify(|n| *n += 1);
                    }
                }
            }
            // Wake waiters a last time at end of stream.
            this.ended.store(true, std::sync::atomic::Ordering::Release);
            this.changed.send_modify(|n| *n += 1);
        });
    }
}

/// Options for starting a worker.
#[derive(Debug, Clone)]
pub struct WorkerBuilder {
    exe: PathBuf,
    envs: Vec<(String, String)>,
    port_env: PortEnv,
    app_root: Option<PathBuf>,
    ready_timeout: Duration,
}

impl WorkerBuilder {
    /// Add an environment variable (app settings).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Choose the port variables (default [`PortEnv::Both`]).
    pub fn port_env(mut self, port_env: PortEnv) -> Self {
        self.port_env = port_env;
        self
    }

    /// `FUNCTIONS_APP_ROOT_PATH` and the working directory (default: the executable's folder).
    pub fn app_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.app_root = Some(dir.into());
        self
    }

    /// How long [`Worker::wait_ready`] waits (default 30 s, the host's).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Start the process without waiting for readiness.
    pub fn start(self) -> Result<Worker, SimError> {
        let port = free_port()?;
        let app_root = match self.app_root {
            Some(dir) => dir,
            None => self.exe.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
        };
        let worker_id = uuid::Uuid::new_v4().to_string();
        let mut cmd = Command::new(&self.exe);
        for var in [
            "FUNCTIONS_CUSTOMHANDLER_PORT",
            "FUNCTIONS_HTTPWORKER_PORT",
            "FUNCTIONS_CUSTOMHANDLER_WORKER_ID",
            "FUNCTIONS_HTTPWORKER_ID",
            "FUNCTIONS_APP_ROOT_PATH",
        ] {
            cmd.env_remove(var);
        }
        let port_text = port.to_string();
        match &self.port_env {
            PortEnv::Both => {
                cmd.env("FUNCTIONS_CUSTOMHANDLER_PORT", &port_text).env("FUNCTIONS_HTTPWORKER_PORT", &port_text);
            }
            PortEnv::CustomHandlerOnly => {
                cmd.env("FUNCTIONS_CUSTOMHANDLER_PORT", &port_text);
            }
            PortEnv::HttpWorkerOnly => {
                cmd.env("FUNCTIONS_HTTPWORKER_PORT", &port_text);
            }
            PortEnv::None => {}
            PortEnv::Value(v) => {
                cmd.env("FUNCTIONS_CUSTOMHANDLER_PORT", v);
            }
        }
        cmd.env("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", &worker_id)
            .env("FUNCTIONS_HTTPWORKER_ID", &worker_id)
            .env("FUNCTIONS_APP_ROOT_PATH", &app_root)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(&app_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child =
            cmd.spawn().map_err(|e| SimError::Binary(format!("cannot start {}: {e}", self.exe.display())))?;
        let stdout = Captured::new();
        let stderr = Captured::new();
        if let Some(out) = child.stdout.take() {
            stdout.pump(out);
        }
        if let Some(err) = child.stderr.take() {
            stderr.pump(err);
        }
        Ok(Worker {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            stdout,
            stderr,
            started,
            ready_after: None,
            ready_timeout: self.ready_timeout,
            exit: None,
        })
    }

    /// Start the process and wait until it answers `GET /`.
    pub async fn spawn(self) -> Result<Worker, SimError> {
        let mut worker = self.start()?;
        worker.wait_ready().await?;
        Ok(worker)
    }
}

fn free_port() -> Result<u16, SimError> {
    // What the host does (`GetUnusedTcpPort`): bind port 0, read the port, release it.
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// A running handler process.
pub struct Worker {
    child: Child,
    addr: SocketAddr,
    stdout: Captured,
    stderr: Captured,
    started: Instant,
    ready_after: Option<Duration>,
    ready_timeout: Duration,
    exit: Option<ExitStatus>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("addr", &self.addr)
            .field("pid", &self.child.id())
            .field("ready_after", &self.ready_after)
            .finish()
    }
}

impl Worker {
    /// Options for starting `exe`.
    pub fn builder(exe: impl Into<PathBuf>) -> WorkerBuilder {
        WorkerBuilder {
            exe: exe.into(),
            envs: Vec::new(),
            port_env: PortEnv::Both,
            app_root: None,
            ready_timeout: READY_TIMEOUT,
        }
    }

    /// Start `exe` with extra environment variables, as the host does, and wait for readiness.
    pub async fn spawn<K, V>(
        exe: impl Into<PathBuf>,
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Worker, SimError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut builder = Self::builder(exe);
        for (k, v) in envs {
            builder = builder.env(k, v);
        }
        builder.spawn().await
    }

    /// Probe `GET /` every 25 ms until any HTTP response arrives (socket errors mean "not yet"),
    /// the process exits, or the ready timeout passes.
    pub async fn wait_ready(&mut self) -> Result<Duration, SimError> {
        let deadline = self.started + self.ready_timeout;
        loop {
            if let Some(status) = self.try_exit()? {
                return Err(SimError::NotReady(format!(
                    "process exited with {status} before it was ready; stderr:\n{}",
                    self.stderr.text()
                )));
            }
            if probe(self.addr).await.is_ok() {
                let after = self.started.elapsed();
                self.ready_after = Some(after);
                return Ok(after);
            }
            if Instant::now() >= deadline {
                return Err(SimError::NotReady(format!(
                    "no answer to GET / within {:?}; stderr:\n{}",
                    self.ready_timeout,
                    self.stderr.text()
                )));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    /// The time from spawn to the first answer to `GET /`, once ready.
    pub fn ready_after(&self) -> Option<Duration> {
        self.ready_after
    }

    /// The loopback address the worker was told to listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// A client that sends invocations the way the host does.
    pub fn client(&self) -> HostClient {
        HostClient::new(self.addr)
    }

    /// Send one invocation (see [`HostClient::invoke`]).
    pub async fn invoke(&self, invocation: &HostInvocation) -> Result<HostResponse, SimError> {
        self.client().invoke(invocation).await
    }

    /// Captured stdout.
    pub fn stdout(&self) -> &Captured {
        &self.stdout
    }

    /// Captured stderr.
    pub fn stderr(&self) -> &Captured {
        &self.stderr
    }

    /// SIGKILL, as the host does on shutdown, restart or timeout.
    pub async fn kill(&mut self) -> Result<ExitStatus, SimError> {
        self.child.start_kill()?;
        self.wait_exit(Duration::from_secs(10)).await
    }

    /// SIGTERM (what a container runtime or `func` on Ctrl-C sends).
    pub fn terminate(&self) -> Result<(), SimError> {
        let pid = self.child.id().ok_or_else(|| SimError::Protocol("the process has already exited".into()))?;
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        if status.success() { Ok(()) } else { Err(SimError::Protocol(format!("kill -TERM {pid} failed: {status}"))) }
    }

    /// The exit status if the process has exited.
    pub fn try_exit(&mut self) -> Result<Option<ExitStatus>, SimError> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// Wait for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, SimError> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        let status = tokio::time::timeout(timeout, self.child.wait())
            .await
            .map_err(|_| SimError::Timeout(format!("process still running after {timeout:?}")))??;
        self.exit = Some(status);
        Ok(status)
    }
}

/// One readiness probe: `GET /`; any HTTP response counts.
pub async fn probe(addr: SocketAddr) -> Result<http::Response, SimError> {
    let request = Request {
        method: "GET".into(),
        path: "/".into(),
        headers: vec![("User-Agent".into(), format!("Azure-Functions-Host/{HOST_VERSION}"))],
        body: Body::Empty,
    };
    http::send(addr, &request, Duration::from_secs(2)).await
}

/// Sends invocations to a worker exactly as the host does. Cheap to clone; usable from many
/// tasks at once.
#[derive(Debug, Clone)]
pub struct HostClient {
    addr: SocketAddr,
    /// The per-invocation timeout (the host uses `functionTimeout + 1 min`).
    pub timeout: Duration,
    /// Size of the chunks the body is sent in.
    pub chunk_size: usize,
}

impl HostClient {
    /// A client for a worker at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, timeout: Duration::from_secs(120), chunk_size: 16 * 1024 }
    }

    /// The request the host would send for `invocation`.
    pub fn request(&self, invocation: &HostInvocation) -> Request {
        let body = invocation.body_bytes();
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json; charset=utf-8".to_string()),
            ("X-Azure-Functions-InvocationId".to_string(), invocation.invocation_id.clone()),
            ("X-Azure-Functions-HostVersion".to_string(), HOST_VERSION.to_string()),
            ("User-Agent".to_string(), format!("Azure-Functions-Host/{HOST_VERSION}")),
        ];
        if let Some(tp) = &invocation.traceparent {
            headers.push(("traceparent".to_string(), tp.clone()));
        }
        Request {
            method: "POST".into(),
            path: format!("/{}", invocation.function),
            headers,
            body: Body::chunked(&body, self.chunk_size),
        }
    }

    /// Send `invocation` and interpret the answer as the host does.
    pub async fn invoke(&self, invocation: &HostInvocation) -> Result<HostResponse, SimError> {
        let raw = self.send(&self.request(invocation)).await?;
        Ok(HostResponse::interpret(raw))
    }

    /// Send a raw request.
    pub async fn send(&self, request: &Request) -> Result<http::Response, SimError> {
        http::send(self.addr, request, self.timeout).await
    }
}
