//! In-process tests of `Runtime::serve_with_shutdown`, plus a start-up check of the
//! `echo-handler` binary (which also makes `cargo test -p custom-handler` build it for the
//! host-simulator tests in the `restore-e2e` crate).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use custom_handler::{HandlerError, Invocation, Outputs, Runtime, ServiceBusMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (String, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_string(), serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn closures_with_shared_state_serve_until_the_shutdown_future() {
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&counter);
    let runtime = Runtime::new().service_bus("Count", "msg", move |m: ServiceBusMessage, ctx: Invocation| {
        let seen = Arc::clone(&seen);
        async move {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            tracing::info!(n, "counted");
            Ok::<_, HandlerError>(
                Outputs::new()
                    .service_bus("out", [m.body_str()?.to_string()])
                    .return_value(json!({"n": n, "fn": ctx.function_name})),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(runtime.serve_with_shutdown(listener, async move {
        let _ = stopped.await;
    }));

    let (head, body) = post(addr, "/Count", r#"{"Data":{"msg":"\"hi\""},"Metadata":{}}"#).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    assert_eq!(body["Outputs"]["out"], json!(["hi"]));
    assert_eq!(body["ReturnValue"], json!({"n": 1, "fn": "Count"}));
    assert_eq!(body["Logs"], json!([]), "no subscriber installed: no Logs, but still an array");
    assert_eq!(counter.load(Ordering::SeqCst), 1);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "stopped accepting");
}

#[test]
fn echo_handler_without_a_port_exits_non_zero_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_echo-handler"))
        .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
        .env_remove("FUNCTIONS_HTTPWORKER_PORT")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FUNCTIONS_CUSTOMHANDLER_PORT"), "{err}");
}
