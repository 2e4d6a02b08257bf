//! The smallest complete custom handler, and the runtime's test subject (driven by the host
//! simulator in the `restore-e2e` crate).
//!
//! Functions (folder name → trigger binding):
//! * `Echo` (Service Bus, `message`): sends the body unchanged to the Service Bus output
//!   `results` (when it is UTF-8) and returns the body (base64) and selected metadata as
//!   `ReturnValue`.
//! * `Fail` (Service Bus, `message`): returns an error, unless the JSON body has
//!   `"succeed_on_delivery": n` and this is delivery `n` or later.
//! * `Panic` (Service Bus, `message`): panics.
//! * `Slow` (Service Bus, `message`): sleeps `{"millis": n}` and returns when it started and
//!   finished (`{"tag", "started_ns", "finished_ns"}`, Unix nanoseconds).
//! * `Tick` (timer, `timer`): returns the `TimerInfo` it received.
//! * `Http` (HTTP, `req`, output `res`): answers 201 with the request it received.
//!
//! Every function logs through `tracing`, so the response `Logs` and stdout show it.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use custom_handler::{
    HandlerError, HttpRequest, HttpResponse, Invocation, Outputs, Runtime, ServiceBusMessage, TimerInfo,
};
use serde_json::{Value, json};

fn rfc3339(t: Option<time::OffsetDateTime>) -> Value {
    t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()).map_or(Value::Null, Value::String)
}

async fn echo(msg: ServiceBusMessage, ctx: Invocation) -> Result<Outputs, HandlerError> {
    let m = &msg.metadata;
    tracing::info!(
        message_id = m.message_id.as_deref().unwrap_or("-"),
        delivery_count = m.delivery_count.unwrap_or(0),
        bytes = msg.body.len(),
        "echo received"
    );
    if msg.is_ambiguous() {
        tracing::warn!(shadowed = ?msg.shadowed_keys, "body shadows message metadata");
    }
    let summary = json!({
        "body_base64": STANDARD.encode(&msg.body),
        "encoding": format!("{:?}", msg.encoding),
        "message_id": m.message_id,
        "delivery_count": m.delivery_count,
        "enqueued_time_utc": rfc3339(m.enqueued_time_utc),
        "expires_at_utc": rfc3339(m.expires_at_utc),
        "correlation_id": m.correlation_id,
        "content_type": m.content_type,
        "sequence_number": m.sequence_number,
        "lock_token": m.lock_token,
        "subject": m.subject,
        "application_properties": m.application_properties,
        "shadowed_keys": msg.shadowed_keys,
        "invocation_id": ctx.invocation_id,
        "function_name": ctx.function_name,
        "sys_method_name": ctx.sys.method_name,
        "sys_utc_now": rfc3339(ctx.sys.utc_now),
    });
    let mut outputs = Outputs::new();
    if let Ok(text) = msg.body_str() {
        outputs = outputs.service_bus("results", [text.to_string()]);
    }
    Ok(outputs.return_value(summary))
}

async fn fail(msg: ServiceBusMessage, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    let delivery = msg.metadata.delivery_count.unwrap_or(0);
    let succeed_on = msg.body_json::<Value>().ok().and_then(|v| v.get("succeed_on_delivery").and_then(Value::as_u64));
    tracing::info!(delivery, "fail called");
    if succeed_on.is_some_and(|n| u64::from(delivery) >= n) {
        return Ok(Outputs::new().service_bus("results", [format!("succeeded on delivery {delivery}")]));
    }
    Err(HandlerError::msg(format!("deliberate failure on delivery {delivery}")))
}

async fn panic_handler(_msg: ServiceBusMessage, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    tracing::info!("about to panic");
    panic!("deliberate panic in the Panic function");
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

async fn slow(msg: ServiceBusMessage, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    let body: Value = msg.body_json()?;
    let millis = body.get("millis").and_then(Value::as_u64).unwrap_or(100);
    let tag = body.get("tag").and_then(Value::as_str).unwrap_or("").to_string();
    let started_ns = unix_nanos();
    tracing::info!(tag = %tag, millis, "slow started");
    tokio::time::sleep(Duration::from_millis(millis)).await;
    let finished_ns = unix_nanos();
    tracing::info!(tag = %tag, "slow finished");
    Ok(Outputs::new().return_value(json!({
        "tag": tag,
        "started_ns": started_ns.to_string(),
        "finished_ns": finished_ns.to_string(),
    })))
}

async fn tick(timer: TimerInfo, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    tracing::info!(past_due = timer.is_past_due, has_status = timer.schedule_status.is_some(), "tick");
    Ok(Outputs::new().return_value(serde_json::to_value(&timer)?))
}

async fn http(req: HttpRequest, _ctx: Invocation) -> Result<Outputs, HandlerError> {
    tracing::info!(method = %req.method, url = %req.url, "http request");
    let echo = json!({
        "method": req.method,
        "url": req.url,
        "query": req.query,
        "headers": req.headers,
        "params": req.params,
        "body": req.body,
    });
    Ok(Outputs::new().http("res", HttpResponse::json(201, echo)))
}

#[tokio::main]
async fn main() -> ExitCode {
    custom_handler::init_tracing();
    // Bind before anything slow: the host probes `GET /` for at most 30 s.
    let listener = match custom_handler::bind_from_env().await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("echo-handler: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = Runtime::new()
        .service_bus("Echo", "message", echo)
        .service_bus("Fail", "message", fail)
        .service_bus("Panic", "message", panic_handler)
        .service_bus("Slow", "message", slow)
        .timer("Tick", "timer", tick)
        .http("Http", "req", http);
    tracing::info!(port = listener.local_addr().map(|a| a.port()).unwrap_or(0), "echo-handler listening");
    match runtime.serve(listener).await {
        Ok(shutdown) => shutdown.exit_code(),
        Err(e) => {
            eprintln!("echo-handler: {e}");
            ExitCode::FAILURE
        }
    }
}
