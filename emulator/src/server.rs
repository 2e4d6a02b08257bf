//! Listeners: the TLS accept loop for ARM (hyper-util auto builder over tokio-rustls) and plain HTTP for the
//! identity and admin routers.

use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::arm::{Shared, handle};

/// Serves ARM over TLS until `shutdown` flips to true.
pub async fn serve_arm(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => { tracing::debug!(error = %e, "accept failed"); continue; }
            },
            _ = shutdown.changed() => return,
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let svc = service_fn(move |req| handle(shared.clone(), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                r = conn => { if let Err(e) = r { tracing::debug!(error = %e, "connection ended"); } }
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}

/// Serves an axum router over plain HTTP until `shutdown` flips to true.
pub async fn serve_plain(listener: TcpListener, router: axum::Router, mut shutdown: watch::Receiver<bool>) {
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
}
