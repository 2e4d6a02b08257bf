//! A stand-in for the Service Bus REST endpoint the tracker sends its results to: HTTPS with a certificate from
//! the emulator's CA (trusted through RESTORE_EXTRA_CA_FILES, as a corporate CA would be), scripted failures,
//! and duplicate detection on MessageId as Service Bus does it (a message whose MessageId was accepted before
//! is dropped), so a test can see both every attempt and what a consumer would receive.
#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use backup_emulator::tls::CertAuthority;
use serde_json::Value;

/// One message a consumer would receive.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub entity: String,
    pub message_id: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    /// Every send attempt: (entity, authorization header present, messages in it).
    attempts: Vec<(String, bool, usize)>,
    delivered: Vec<Delivered>,
    seen: BTreeSet<String>,
    /// Statuses to answer with, in order; 201 once they run out.
    statuses: VecDeque<u16>,
}

#[derive(Clone, Default)]
pub struct FakeServiceBus {
    inner: Arc<Mutex<Inner>>,
    /// `https://127.0.0.1:PORT`
    pub endpoint: String,
}

async fn messages(
    State(fake): State<FakeServiceBus>,
    UrlPath(entity): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let authorized = headers.get("authorization").is_some_and(|v| v.to_str().is_ok_and(|t| t.starts_with("Bearer ")));
    let batch: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
    let mut inner = fake.inner.lock().unwrap();
    inner.attempts.push((entity.clone(), authorized, batch.len()));
    let status = inner.statuses.pop_front().unwrap_or(201);
    if !authorized {
        return StatusCode::UNAUTHORIZED;
    }
    if status == 201 {
        for message in batch {
            let message_id = message["BrokerProperties"]["MessageId"].as_str().unwrap_or_default().to_string();
            if inner.seen.insert(message_id.clone()) {
                let body = serde_json::from_str(message["Body"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
                inner.delivered.push(Delivered { entity: entity.clone(), message_id, body });
            }
        }
    }
    StatusCode::from_u16(status).unwrap()
}

impl FakeServiceBus {
    /// Starts the stand-in with a server certificate from the CA in `ca_dir`.
    pub async fn start(ca_dir: &Path) -> FakeServiceBus {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeServiceBus {
            endpoint: format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port()),
            ..Default::default()
        };
        let router = Router::new().route("/{entity}/messages", post(messages)).with_state(fake.clone());
        serve_tls(listener, router, ca_dir);
        fake
    }

    /// The next `n` sends are answered `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inner.lock().unwrap().statuses.extend(std::iter::repeat_n(status, n));
    }

    /// Every attempt: (entity, carried a bearer token, messages in it).
    pub fn attempts(&self) -> Vec<(String, bool, usize)> {
        self.inner.lock().unwrap().attempts.clone()
    }

    /// What consumers receive (after duplicate detection).
    pub fn delivered(&self) -> Vec<Delivered> {
        self.inner.lock().unwrap().delivered.clone()
    }
}

/// Serves `router` over HTTPS with a certificate from the emulator's CA in `ca_dir` (which the functions trust
/// through RESTORE_EXTRA_CA_FILES).
pub fn serve_tls(listener: tokio::net::TcpListener, router: Router, ca_dir: &Path) {
    let ca = CertAuthority::load(ca_dir).expect("the emulator's CA");
    backup_emulator::tls::serve_router(listener, router, &ca).expect("a server certificate from the CA");
}

/// A host that is not ARM, on loopback, over TLS the functions trust: it answers anything and records every
/// request it gets with its `Authorization` header, so a test can prove no bearer token ever reached it.
/// Requests a trap received: (URI, Authorization header).
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[derive(Clone, Default)]
pub struct TokenTrap {
    requests: Seen,
    /// `https://127.0.0.1:PORT`
    pub endpoint: String,
}

impl TokenTrap {
    pub async fn start(ca_dir: &Path) -> TokenTrap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let trap = TokenTrap {
            endpoint: format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port()),
            ..Default::default()
        };
        let recorder = trap.requests.clone();
        let router = Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
            let recorder = recorder.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                recorder.lock().unwrap().push((uri.to_string(), auth));
                (StatusCode::OK, "{}")
            }
        });
        serve_tls(listener, router, ca_dir);
        trap
    }

    /// Every request received: (URI, Authorization header).
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }
}
