//! Protocol tests: the real `echo-handler` binary (shared/runtime/src/bin/echo-handler.rs)
//! driven through the host simulator. Each test names the checklist item of
//! reference/functions-custom-handler.md §7 (and §1–2) it covers.
//!
//! Needs the binary: `cargo test -p custom-handler -p restore-e2e` builds it (the runtime
//! crate's integration tests use it); otherwise run `cargo build --bins` first.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use restore_e2e::http::{Body, Request};
use restore_e2e::worker::probe;
use restore_e2e::{
    Failure, HostInvocation, HostValue, HttpTriggerRequest, OutputBinding, PortEnv, QueueConfig, SbMessage, SbTrigger,
    ServiceBusQueue, TimerPayload, Worker, workspace_bin,
};
use serde_json::{Value, json};
use time::macros::datetime;

const WAIT: Duration = Duration::from_secs(30);

fn exe() -> std::path::PathBuf {
    match workspace_bin("echo-handler") {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

async fn echo_worker() -> Worker {
    Worker::spawn(exe(), [("RUST_LOG", "info"), ("RUST_BACKTRACE", "0")]).await.expect("echo-handler becomes ready")
}

fn sb(function: &str, body: impl Into<Vec<u8>>) -> HostInvocation {
    SbMessage::new(body).invocation(function, &SbTrigger::new("message"))
}

fn slow(tag: &str, millis: u64) -> HostInvocation {
    sb("Slow", json!({"millis": millis, "tag": tag}).to_string())
}

fn assert_json_object_response(resp: &restore_e2e::http::Response, what: &str) {
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{what}: content-type {ct:?}");
    let body: Value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {:?}", resp.text()));
    assert!(body.is_object(), "{what}: body is not an object: {body}");
}

// §7.1: bind first; any HTTP answer to GET / (a 404 included) means ready; a socket error not.
#[tokio::test]
async fn readiness_is_a_socket_error_before_bind_and_any_answer_after() {
    // Before anything listens: not ready.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    assert!(probe(addr).await.is_err(), "nothing listens yet");

    // A server answering 404 to everything counts as ready.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr404 = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let resp = probe(addr404).await.expect("a 404 is an HTTP answer");
    assert_eq!(resp.status, 404);

    // The real handler: ready, and `GET /` answers 200 `{}`.
    let worker = echo_worker().await;
    assert!(worker.ready_after().is_some());
    let resp = probe(worker.addr()).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"{}");
    assert_json_object_response(&resp, "GET /");
}

// §3.2: missing/bad port variable → clear message naming the variable, non-zero exit.
#[tokio::test]
async fn missing_or_bad_port_variable_exits_non_zero_naming_the_variable() {
    let mut w = Worker::builder(exe()).port_env(PortEnv::None).start().unwrap();
    let status = w.wait_exit(WAIT).await.unwrap();
    assert!(!status.success(), "{status}");
    let err = w.stderr().wait_for("FUNCTIONS_CUSTOMHANDLER_PORT", WAIT).await.unwrap();
    assert!(err.contains("FUNCTIONS_HTTPWORKER_PORT"), "{err}");

    let mut w = Worker::builder(exe()).port_env(PortEnv::Value("not-a-port".into())).start().unwrap();
    let status = w.wait_exit(WAIT).await.unwrap();
    assert!(!status.success(), "{status}");
    let err = w.stderr().wait_for("\"not-a-port\"", WAIT).await.unwrap();
    assert!(err.contains("FUNCTIONS_CUSTOMHANDLER_PORT"), "{err}");

    // The legacy variable alone is enough.
    let w = Worker::builder(exe()).port_env(PortEnv::HttpWorkerOnly).spawn().await;
    assert!(w.is_ok(), "{w:?}");
}

// §7.2: one POST /{Function} per function; other methods and unknown paths get JSON errors.
#[tokio::test]
async fn each_function_has_its_post_route_and_unknown_ones_get_a_json_404() {
    let w = echo_worker().await;
    let echo = w.invoke(&sb("Echo", "x")).await.unwrap();
    assert!(echo.outcome.is_ok(), "{:?}", echo.raw);
    let tick = w.invoke(&TimerPayload::without_status().invocation("Tick", "timer")).await.unwrap();
    assert!(tick.outcome.is_ok(), "{:?}", tick.raw);

    let unknown = w.invoke(&sb("NoSuchFunction", "x")).await.unwrap();
    assert_eq!(unknown.outcome, Err(Failure::Status(404)));
    assert_json_object_response(&unknown.raw, "unknown function");
    assert!(unknown.json()["error"].as_str().unwrap_or_default().contains("NoSuchFunction"));

    let client = w.client();
    let get = client
        .send(&Request { method: "GET".into(), path: "/Echo".into(), headers: vec![], body: Body::Empty })
        .await
        .unwrap();
    assert_eq!(get.status, 405);
    assert_json_object_response(&get, "GET /Echo");
}

// §7.2 / §5: axum's 2 MB DefaultBodyLimit must not apply.
#[tokio::test]
async fn bodies_larger_than_two_megabytes_are_accepted() {
    let w = echo_worker().await;
    let body = "é\"x".repeat(1024 * 1024); // 4 MiB of text, more once double-encoded
    let inv = sb("Echo", body.clone());
    assert!(inv.body_bytes().len() > 4 * 1024 * 1024);
    let resp = w.invoke(&inv).await.unwrap();
    let ok = resp.success().unwrap();
    assert_eq!(ok.outputs["results"], json!([body]));
}

// §1.1 / §7.2: the host sends chunked bodies without Content-Length, `charset=utf-8`.
#[tokio::test]
async fn chunked_bodies_without_content_length_are_accepted() {
    let w = echo_worker().await;
    let mut client = w.client();
    client.chunk_size = 7;
    let inv = sb("Echo", "chunked body").traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let request = client.request(&inv);
    assert!(matches!(&request.body, Body::Chunked(chunks) if chunks.len() > 10));
    assert!(request.headers.iter().all(|(k, _)| !k.eq_ignore_ascii_case("content-length")));
    assert!(request.headers.iter().any(|(k, v)| k == "Content-Type" && v == "application/json; charset=utf-8"));
    let resp = client.send(&request).await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body["Outputs"]["results"], json!(["chunked body"]));
    assert_eq!(body["ReturnValue"]["invocation_id"], json!(inv.invocation_id));
}

// §1.4 / §7.3: double-encoded (default) and base64 (dataType binary) bodies give the same bytes,
// including a text body that happens to be valid base64.
#[tokio::test]
async fn double_encoded_and_binary_bodies_decode_to_the_same_bytes() {
    let w = echo_worker().await;
    for body in [r#"{"orderId":42}"#, "abcd", "\"quoted\" text\n", ""] {
        let msg = SbMessage::new(body);
        let a = w.invoke(&msg.invocation("Echo", &SbTrigger::new("message"))).await.unwrap();
        let b = w.invoke(&msg.invocation("Echo", &SbTrigger::new("message").binary())).await.unwrap();
        let (a, b) = (a.success().unwrap(), b.success().unwrap());
        let expected = json!(STANDARD.encode(body));
        assert_eq!(a.return_value["body_base64"], expected, "string binding, {body:?}");
        assert_eq!(b.return_value["body_base64"], expected, "binary binding, {body:?}");
        assert_eq!(a.return_value["encoding"], json!("DoubleEncoded"));
        assert_eq!(b.return_value["encoding"], json!("Base64"));
    }
}

// §1.4: with dataType binary, a non-UTF-8 body arrives byte-exact.
#[tokio::test]
async fn non_utf8_binary_bodies_survive() {
    let w = echo_worker().await;
    let bytes: Vec<u8> = vec![0xff, 0xfe, 0x00, b'"', 0x80, 0xc3, 0x28, b'{'];
    let inv = SbMessage::new(bytes.clone()).invocation("Echo", &SbTrigger::new("message").binary());
    let resp = w.invoke(&inv).await.unwrap();
    let ok = resp.success().unwrap();
    assert_eq!(ok.return_value["body_base64"], json!(STANDARD.encode(&bytes)));
    assert!(!ok.outputs.contains_key("results"), "not UTF-8: no text output");
}

// §1.3 / §7.3: metadata strings, numbers and dates decoded (DeliveryCount "3" → 3, no-Z dates).
#[tokio::test]
async fn metadata_strings_numbers_and_dates_are_decoded() {
    let w = echo_worker().await;
    let msg = SbMessage::new("hello")
        .message_id("m-42")
        .correlation_id("corr-1")
        .content_type("text/plain")
        .subject("restore")
        .property("tenant", json!("t1"))
        .property("n", json!(5))
        .enqueued_at(datetime!(2024-01-15 12:00:00.75 UTC))
        .delivery_count(3);
    let inv = msg.invocation("Echo", &SbTrigger::new("message"));
    assert_eq!(inv.metadata["DeliveryCount"], json!("3"));
    assert_eq!(inv.metadata["EnqueuedTimeUtc"], json!("2024-01-15T12:00:00"));
    let resp = w.invoke(&inv).await.unwrap();
    let rv = &resp.success().unwrap().return_value;
    assert_eq!(rv["delivery_count"], json!(3));
    assert_eq!(rv["message_id"], json!("m-42"));
    assert_eq!(rv["correlation_id"], json!("corr-1"));
    assert_eq!(rv["content_type"], json!("text/plain"));
    assert_eq!(rv["subject"], json!("restore"));
    assert_eq!(rv["sequence_number"], json!(1));
    assert_eq!(rv["lock_token"], json!(msg.lock_token));
    assert_eq!(rv["enqueued_time_utc"], json!("2024-01-15T12:00:00Z"));
    assert_eq!(rv["expires_at_utc"], json!("9999-12-31T23:59:59Z"));
    assert_eq!(rv["application_properties"], json!({"tenant": "t1", "n": 5}));
    assert_eq!(rv["shadowed_keys"], json!([]));
    assert_eq!(rv["function_name"], json!("Echo"));
    assert_eq!(rv["sys_method_name"], json!("Echo"));
    assert_eq!(rv["invocation_id"], json!(inv.invocation_id));
    assert!(rv["sys_utc_now"].is_string());
}

// §1.4 quirk: a body field `MessageId` replaces the real MessageId; the runtime reports it.
#[tokio::test]
async fn a_body_field_shadowing_message_id_is_reported() {
    let w = echo_worker().await;
    let inv = SbMessage::new(r#"{"MessageId":"evil","requestId":"r1"}"#)
        .message_id("real")
        .invocation("Echo", &SbTrigger::new("message"));
    assert_eq!(inv.metadata["MessageId"], json!("\"evil\""), "the simulator merges like the host");
    let resp = w.invoke(&inv).await.unwrap();
    let ok = resp.success().unwrap();
    assert_eq!(ok.return_value["message_id"], json!("evil"));
    assert_eq!(ok.return_value["shadowed_keys"], json!(["MessageId"]));
    assert!(ok.logs.iter().any(|l| l.starts_with("WARN") && l.contains("shadows")), "{:?}", ok.logs);

    // Body fields that name no host metadata key are not shadowing.
    let inv = SbMessage::new(r#"{"requestId":"r1"}"#).invocation("Echo", &SbTrigger::new("message"));
    let resp = w.invoke(&inv).await.unwrap();
    assert_eq!(resp.success().unwrap().return_value["shadowed_keys"], json!([]));

    // With dataType binary the host does not merge [derived]: the real id survives, and the
    // runtime still reports the colliding key (it cannot tell; it errs on the safe side).
    let inv = SbMessage::new(r#"{"MessageId":"evil"}"#)
        .message_id("real")
        .invocation("Echo", &SbTrigger::new("message").binary());
    let resp = w.invoke(&inv).await.unwrap();
    let rv = &resp.success().unwrap().return_value;
    assert_eq!(rv["message_id"], json!("real"));
    assert_eq!(rv["shadowed_keys"], json!(["MessageId"]));
}

// §1.5 / §7.3: ScheduleStatus null and present, IsPastDue.
#[tokio::test]
async fn timer_payloads_with_and_without_schedule_status() {
    let w = echo_worker().await;
    let resp = w.invoke(&TimerPayload::without_status().invocation("Tick", "timer")).await.unwrap();
    assert_eq!(
        resp.success().unwrap().return_value,
        json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": false})
    );
    let payload = TimerPayload {
        adjust_for_dst: false,
        status: Some((
            datetime!(2024-01-15 11:00:00 UTC),
            datetime!(2024-01-15 12:00:00 UTC),
            datetime!(2024-01-15 11:00:00.1234567 UTC),
        )),
        is_past_due: true,
    };
    let resp = w.invoke(&payload.invocation("Tick", "timer")).await.unwrap();
    assert_eq!(
        resp.success().unwrap().return_value,
        json!({"Schedule": {"AdjustForDST": false}, "ScheduleStatus": {
            "Last": "2024-01-15T11:00:00Z", "Next": "2024-01-15T12:00:00Z",
            "LastUpdated": "2024-01-15T11:00:00.1234567Z"}, "IsPastDue": true})
    );
}

// §1.6: HTTP trigger envelope in, `{statusCode, body, headers}` out under the output name.
#[tokio::test]
async fn http_trigger_is_echoed_with_a_201() {
    let w = echo_worker().await;
    let req = HttpTriggerRequest {
        method: "POST".into(),
        url: "http://localhost:7071/api/Http?x=1".into(),
        query: [("x".to_string(), "1".to_string())].into(),
        headers: [("Content-Type".to_string(), vec!["application/json".to_string()])].into(),
        params: [("id".to_string(), "7".to_string())].into(),
        body: r#"{"id":1005}"#.into(),
    };
    let resp = w.invoke(&req.invocation("Http", "req")).await.unwrap();
    let ok = resp.success().unwrap();
    let res = &ok.outputs["res"];
    assert_eq!(res["statusCode"], json!(201));
    assert_eq!(res["headers"]["Content-Type"], json!("application/json"));
    assert_eq!(
        res["body"],
        json!({"method": "POST", "url": "http://localhost:7071/api/Http?x=1", "query": {"x": "1"},
               "headers": {"Content-Type": ["application/json"]}, "params": {"id": "7"},
               "body": "{\"id\":1005}"})
    );
}

// §2.2 / §7.5: SB output is an array of strings and reaches the consumer byte-exact, including
// a body that is valid base64 ("abcd") and one that is a JSON object.
#[tokio::test]
async fn service_bus_output_reaches_the_consumer_byte_exact() {
    let w = echo_worker().await;
    let bodies = ["abcd", "2024", r#"{"a":1,"b":[true]}"#, "[1,2]", "plain text", "{not json"];
    let raw = w.invoke(&sb("Echo", "abcd")).await.unwrap();
    assert_eq!(raw.success().unwrap().outputs["results"], json!(["abcd"]), "an array of strings");

    let mut queue = ServiceBusQueue::new(
        QueueConfig::new("Echo", SbTrigger::new("message"))
            .max_concurrent_calls(1)
            .output(OutputBinding::service_bus("results")),
    );
    for body in bodies {
        queue.send(SbMessage::new(body));
    }
    queue.run(&w.client()).await;
    assert!(queue.dead_letters.is_empty(), "{:?}", queue.dead_letters);
    let sent: Vec<String> = queue.sent["results"].iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    assert_eq!(sent, bodies);
}

// §2.3 / §7.4: a handler error → non-2xx; the error is on stderr; the host discards Logs.
#[tokio::test]
async fn handler_errors_fail_the_invocation_with_the_error_on_stderr() {
    let w = echo_worker().await;
    let resp = w.invoke(&sb("Fail", "{}")).await.unwrap();
    assert_eq!(resp.outcome, Err(Failure::Status(500)));
    assert_json_object_response(&resp.raw, "handler error");
    assert_eq!(resp.json()["error"], json!("deliberate failure on delivery 1"));
    // The handler logged before failing: the lines are dropped by the host but on stdout.
    assert!(resp.json().get("Logs").is_none());
    w.stderr().wait_for("deliberate failure on delivery 1", WAIT).await.unwrap();
    w.stdout().wait_for("fail called delivery=1", WAIT).await.unwrap();
}

// Never panic on bad input; a handler panic becomes a 500 and the process keeps serving.
#[tokio::test]
async fn a_panicking_handler_gives_500_and_the_process_keeps_serving() {
    let mut w = echo_worker().await;
    let resp = w.invoke(&sb("Panic", "x")).await.unwrap();
    assert_eq!(resp.outcome, Err(Failure::Status(500)));
    assert_json_object_response(&resp.raw, "panic");
    assert!(resp.json()["error"].as_str().unwrap_or_default().contains("deliberate panic"));
    w.stderr().wait_for("handler panicked", WAIT).await.unwrap();
    assert!(w.try_exit().unwrap().is_none(), "still running");
    let again = w.invoke(&sb("Echo", "after the panic")).await.unwrap();
    assert_eq!(again.success().unwrap().outputs["results"], json!(["after the panic"]));
}

// §2.1 / §7.4: every response (success, errors, bad input) is a JSON object with application/json.
#[tokio::test]
async fn every_response_is_a_json_object_with_a_json_content_type() {
    let w = echo_worker().await;
    let client = w.client();
    let post = |path: &str, body: &[u8]| Request {
        method: "POST".into(),
        path: path.into(),
        headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
        body: Body::chunked(body, 1024),
    };
    let cases: Vec<(&str, Request, u16, &str)> = vec![
        ("not JSON", post("/Echo", b"{not json"), 400, "not valid JSON"),
        ("array envelope", post("/Echo", b"[1]"), 400, "an array"),
        ("no Data", post("/Echo", b"{\"Metadata\":{}}"), 400, "missing \"Data\""),
        ("wrong binding", post("/Echo", br#"{"Data":{"msg":"\"x\""}}"#), 400, "\"message\""),
        ("bad body", post("/Echo", br#"{"Data":{"message":"!!"}}"#), 400, "base64"),
        ("bad timer", post("/Tick", br#"{"Data":{"timer":"5"}}"#), 400, "TimerInfo"),
        ("empty body", post("/Echo", b""), 400, "JSON"),
        ("unknown", post("/Nope", b"{}"), 404, "/Nope"),
        ("unknown nested", post("/a/b", b"{}"), 404, "/a/b"),
    ];
    for (what, request, status, needle) in cases {
        let resp = client.send(&request).await.unwrap();
        assert_eq!(resp.status, status, "{what}: {}", resp.text());
        assert_json_object_response(&resp, what);
        assert!(
            resp.text().contains(&needle.replace('"', "\\\"")) || resp.text().contains(needle),
            "{what}: {}",
            resp.text()
        );
    }
    w.stderr().wait_for("400 bad request", WAIT).await.unwrap();
    // Successful answers too.
    for inv in [sb("Echo", "x"), TimerPayload::without_status().invocation("Tick", "timer")] {
        let resp = w.invoke(&inv).await.unwrap();
        assert_json_object_response(&resp.raw, &inv.function);
        assert!(resp.outcome.is_ok());
    }
}

// §2.1 / §2.5: Logs carry the handler's tracing events, and the same lines are on stdout.
#[tokio::test]
async fn logs_hold_the_handler_events_and_the_same_lines_reach_stdout() {
    let w = echo_worker().await;
    let inv = SbMessage::new("hi").message_id("log-me").invocation("Echo", &SbTrigger::new("message"));
    let resp = w.invoke(&inv).await.unwrap();
    let logs = &resp.success().unwrap().logs;
    assert_eq!(
        logs,
        &vec!["INFO echo_handler: echo received message_id=\"log-me\" delivery_count=1 bytes=2".to_string()]
    );
    let out = w.stdout().wait_for(&logs[0], WAIT).await.unwrap();
    let line = out.lines().find(|l| l.ends_with(&logs[0])).unwrap();
    assert!(line.contains(&format!("[Echo {}]", inv.invocation_id)), "{line}");
}

// §7.7: invocations are served concurrently (two Slow calls overlap in time).
#[tokio::test]
async fn concurrent_invocations_overlap() {
    let w = echo_worker().await;
    let client = w.client();
    let (sa, sb_) = (slow("a", 400), slow("b", 400));
    let (a, b) = tokio::join!(client.invoke(&sa), client.invoke(&sb_));
    fn span(r: restore_e2e::HostResponse) -> (u128, u128) {
        let rv = r.success().unwrap().return_value.clone();
        let n = |k: &str| rv[k].as_str().and_then(|s| s.parse::<u128>().ok()).unwrap();
        (n("started_ns"), n("finished_ns"))
    }
    let (a, b) = (span(a.unwrap()), span(b.unwrap()));
    assert!(a.0 < b.1 && b.0 < a.1, "the two invocations did not overlap: {a:?} {b:?}");
}

// §3.2 / §7.6: SIGTERM stops accepting, lets the in-flight invocation finish, exits non-zero (143).
#[tokio::test]
async fn sigterm_drains_in_flight_invocations_and_exits_143() {
    let mut w = echo_worker().await;
    let client = w.client();
    let in_flight = tokio::spawn(async move { client.invoke(&slow("drain", 1500)).await });
    w.stdout().wait_for("slow started", WAIT).await.unwrap();
    w.terminate().unwrap();
    w.stderr().wait_for("shutting down", WAIT).await.unwrap();
    // New connections are refused while the invocation is still running.
    let mut refused = false;
    for _ in 0..400 {
        if probe(w.addr()).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused, "the listener kept accepting after SIGTERM");
    let resp = in_flight.await.unwrap().unwrap();
    assert_eq!(resp.success().unwrap().return_value["tag"], json!("drain"));
    let status = w.wait_exit(WAIT).await.unwrap();
    assert_eq!(status.code(), Some(143), "{status}");
}

// §3.2: the host stops workers with SIGKILL; the simulator reports it.
#[tokio::test]
async fn sigkill_stops_the_worker() {
    let mut w = echo_worker().await;
    let status = w.kill().await.unwrap();
    assert!(!status.success());
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(probe(w.addr()).await.is_err());
}

// §2.3 / §7.4: failures are redelivered with DeliveryCount+1 and dead-lettered after
// MaxDeliveryCount (default 10); a later success completes the message.
#[tokio::test]
async fn failing_messages_are_retried_then_dead_lettered() {
    let w = echo_worker().await;
    let mut queue = ServiceBusQueue::new(
        QueueConfig::new("Fail", SbTrigger::new("message")).output(OutputBinding::service_bus("results")),
    );
    queue.send(SbMessage::new("{}").message_id("doomed"));
    queue.send(SbMessage::new(r#"{"succeed_on_delivery":3}"#).message_id("third-time"));
    queue.run(&w.client()).await;

    let counts = |id: &str| -> Vec<u32> {
        queue.deliveries.iter().filter(|d| d.message_id == id).map(|d| d.delivery_count).collect()
    };
    assert_eq!(counts("doomed"), (1..=10).collect::<Vec<_>>());
    assert_eq!(counts("third-time"), vec![1, 2, 3]);
    assert_eq!(queue.dead_letters.len(), 1);
    let dl = &queue.dead_letters[0];
    assert_eq!(dl.message.message_id, "doomed");
    assert_eq!(dl.reason, "MaxDeliveryCountExceeded");
    assert!(dl.description.contains("deliberate failure on delivery 10"), "{}", dl.description);
    assert_eq!(queue.completed.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>(), ["third-time"]);
    assert_eq!(queue.sent["results"], vec![b"succeeded on delivery 3".to_vec()]);

    // A configurable MaxDeliveryCount.
    let mut queue = ServiceBusQueue::new(QueueConfig::new("Fail", SbTrigger::new("message")).max_delivery_count(2));
    queue.send(SbMessage::new("{}"));
    queue.run(&w.client()).await;
    assert_eq!(queue.deliveries.len(), 2);
    assert_eq!(queue.dead_letters.len(), 1);
}

// maxConcurrentCalls: with 4, four Slow messages run at once; with 1, one after another.
#[tokio::test]
async fn queue_concurrency_follows_max_concurrent_calls() {
    let w = echo_worker().await;
    for (limit, expect_overlap) in [(4usize, true), (1, false)] {
        let mut queue =
            ServiceBusQueue::new(QueueConfig::new("Slow", SbTrigger::new("message")).max_concurrent_calls(limit));
        for tag in ["a", "b"] {
            queue.send(SbMessage::new(json!({"millis": 200, "tag": tag}).to_string()));
        }
        queue.run(&w.client()).await;
        assert_eq!(queue.completed.len(), 2);
        // Read the handler's own start/finish stamps from its stdout log lines order instead of
        // clocks: with one call at a time, "a" finishes before "b" starts.
        let out = w.stdout().text();
        let starts: Vec<usize> = ["tag=a millis=200", "tag=b millis=200"].iter().filter_map(|n| out.rfind(n)).collect();
        let finishes: Vec<usize> =
            ["slow finished tag=a", "slow finished tag=b"].iter().filter_map(|n| out.rfind(n)).collect();
        assert_eq!((starts.len(), finishes.len()), (2, 2), "{out}");
        let overlapped = starts.iter().max() < finishes.iter().min();
        assert_eq!(overlapped, expect_overlap, "limit {limit}:\n{out}");
    }
}

// The host's raw encoding reaches the handler unchanged for every HostValue kind.
#[tokio::test]
async fn host_value_encoding_round_trips_through_the_runtime() {
    let w = echo_worker().await;
    let inv = sb("Echo", "x")
        .metadata("CorrelationId", HostValue::Int(77))
        .metadata("ApplicationProperties", HostValue::Object(json!({"k": [1, "2"]}).as_object().cloned().unwrap()));
    let resp = w.invoke(&inv).await.unwrap();
    let rv = &resp.success().unwrap().return_value;
    assert_eq!(rv["correlation_id"], json!("77"), "a number where a string is expected is kept as text");
    assert_eq!(rv["application_properties"], json!({"k": [1, "2"]}));
}
