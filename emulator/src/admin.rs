//! The admin API (plain HTTP, its own port, no auth) and the identity endpoint (plain HTTP, its own port).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::{Shared, lock};
use crate::clock::ClockMode;
use crate::faults::FaultRule;
use crate::identity::mint;
use crate::scenario::{DeleteRule, Quirks, VmRule};
use crate::throttle::ThrottleLimits;
use crate::util::{fmt_time, parse_time};
use crate::world::World;

type S = State<Arc<Shared>>;

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg.into()}))).into_response()
}

/// The admin router.
pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/counts", get(counts))
        .route("/log", get(log))
        .route("/clock", get(clock))
        .route("/clock/advance", post(clock_advance))
        .route("/clock/set", post(clock_set))
        .route("/clock/realtime", post(clock_realtime))
        .route("/clock/virtual", post(clock_virtual))
        .route("/faults", get(faults_list).post(faults_add).delete(faults_clear))
        .route("/release", post(release))
        .route("/hung", get(hung))
        .route("/reset", post(reset))
        .route("/resources", get(resources))
        .route("/quirks", get(quirks_get).put(quirks_put))
        .route("/throttle", get(throttle_get).put(throttle_put))
        .route("/header-host", put(header_host))
        .route("/rules/vms", get(vm_rules_get).put(vm_rules_put))
        .route("/rules/deletes", get(delete_rules_get).put(delete_rules_put))
        .with_state(shared)
}

async fn counts(State(s): S) -> Json<Value> {
    let log = lock(&s.log);
    Json(json!(log.counts))
}

async fn log(State(s): S) -> Json<Value> {
    let log = lock(&s.log);
    Json(json!(log.entries))
}

fn clock_json(s: &Shared) -> Json<Value> {
    Json(json!({"now": fmt_time(s.clock.now()), "start": fmt_time(s.clock.start()), "mode": s.clock.mode()}))
}

async fn clock(State(s): S) -> Json<Value> {
    clock_json(&s)
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn clock_advance(State(s): S, Json(a): Json<Advance>) -> Response {
    if !(a.seconds.is_finite() && a.seconds >= 0.0) {
        return bad("'seconds' must be a non-negative number; use POST /clock/set to go back in time");
    }
    s.clock.advance(a.seconds);
    clock_json(&s).into_response()
}

#[derive(Deserialize)]
struct SetTime {
    time: String,
}

async fn clock_set(State(s): S, Json(t): Json<SetTime>) -> Response {
    match parse_time(&t.time) {
        Some(time) => {
            s.clock.set(time);
            clock_json(&s).into_response()
        }
        None => bad(format!("'time' '{}' is not an RFC 3339 time like 2026-01-31T10:00:00Z", t.time)),
    }
}

#[derive(Deserialize)]
struct Speed {
    #[serde(default = "one")]
    speed: f64,
}

fn one() -> f64 {
    1.0
}

async fn clock_realtime(State(s): S, Json(sp): Json<Speed>) -> Response {
    if !(sp.speed.is_finite() && sp.speed > 0.0) {
        return bad("'speed' must be a positive number (1.0 = real time)");
    }
    s.clock.set_mode(ClockMode::Realtime { speed: sp.speed });
    clock_json(&s).into_response()
}

async fn clock_virtual(State(s): S) -> Json<Value> {
    s.clock.set_mode(ClockMode::Virtual);
    clock_json(&s)
}

async fn faults_list(State(s): S) -> Json<Value> {
    Json(lock(&s.faults).list())
}

async fn faults_add(State(s): S, body: axum::body::Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("fault rule JSON: {e}")),
    };
    match lock(&s.faults).add(rule) {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => bad(e),
    }
}

async fn faults_clear(State(s): S) -> StatusCode {
    lock(&s.faults).clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
    count: Option<usize>,
}

/// `POST /release` releases every hung request; `{"count": n}` releases only the `n` oldest.
async fn release(State(s): S, body: axum::body::Bytes) -> Response {
    let count = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Release>(&body) {
            Ok(r) => r.count,
            Err(e) => return bad(format!("release body must be empty or {{\"count\": n}}: {e}")),
        }
    };
    let released = s.release_hung(count);
    Json(json!({"released": released, "stillHung": *s.hung.borrow()})).into_response()
}

async fn hung(State(s): S) -> Json<Value> {
    Json(json!({"count": *s.hung.borrow()}))
}

#[derive(Deserialize)]
struct ResetQuery {
    #[serde(default)]
    world: bool,
}

async fn reset(State(s): S, Query(q): Query<ResetQuery>) -> Response {
    {
        let mut log = lock(&s.log);
        log.entries.clear();
        log.counts.clear();
    }
    lock(&s.throttle).reset();
    if q.world {
        match World::from_scenario(&s.scenario, s.clock.start()) {
            Ok(w) => *lock(&s.world) = w,
            Err(e) => return bad(e),
        }
        s.clock.set(s.clock.start());
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn resources(State(s): S) -> Json<Value> {
    let now = s.clock.now();
    let mut w = lock(&s.world);
    w.tick(now);
    Json(w.resources(now))
}

async fn quirks_get(State(s): S) -> Json<Value> {
    Json(json!(lock(&s.world).settings.quirks))
}

async fn quirks_put(State(s): S, body: axum::body::Bytes) -> Response {
    // Partial update: fields not given keep their value.
    let mut current = json!(lock(&s.world).settings.quirks);
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("quirks JSON: {e}")),
    };
    let Some(obj) = patch.as_object() else {
        return bad("quirks body must be an object like {\"inprogressCasing\": false}");
    };
    for (k, v) in obj {
        current[k] = v.clone();
    }
    match serde_json::from_value::<Quirks>(current) {
        Ok(q) => {
            lock(&s.world).settings.quirks = q.clone();
            Json(json!(q)).into_response()
        }
        Err(e) => bad(format!("quirks: {e}")),
    }
}

async fn throttle_get(State(s): S) -> Json<Value> {
    Json(json!(lock(&s.throttle).limits))
}

async fn throttle_put(State(s): S, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<ThrottleLimits>(&body) {
        Ok(l) => {
            let mut t = lock(&s.throttle);
            t.limits = l;
            t.reset();
            Json(json!(l)).into_response()
        }
        Err(e) => bad(format!("throttle limits JSON: {e}")),
    }
}

async fn vm_rules_get(State(s): S) -> Json<Value> {
    Json(json!(lock(&s.world).rules.vms))
}

/// Replaces `rules.vms` (the whole list). Read at every request, so a VM's provisioning/agent state changes at
/// once; a Run Command already created keeps the result it was given.
async fn vm_rules_put(State(s): S, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Vec<VmRule>>(&body) {
        Ok(rules) => {
            lock(&s.world).rules.vms = rules.clone();
            Json(json!(rules)).into_response()
        }
        Err(e) => bad(format!("rules.vms JSON (a list like [{{\"name\": \"vm-*\", \"agentNotReady\": true}}]): {e}")),
    }
}

async fn delete_rules_get(State(s): S) -> Json<Value> {
    Json(json!(lock(&s.world).rules.deletes))
}

/// Replaces `rules.deletes` (the whole list) and restarts the failure counts.
async fn delete_rules_put(State(s): S, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Vec<DeleteRule>>(&body) {
        Ok(rules) => {
            let mut w = lock(&s.world);
            w.rules.deletes = rules.clone();
            w.delete_failures.clear();
            Json(json!(rules)).into_response()
        }
        Err(e) => bad(format!("rules.deletes JSON (a list like [{{\"name\": \"vm-*\", \"failTimes\": 2}}]): {e}")),
    }
}

#[derive(Deserialize)]
struct HeaderHost {
    origin: Option<String>,
}

async fn header_host(State(s): S, Json(h): Json<HeaderHost>) -> Response {
    if let Some(o) = &h.origin
        && !(o.starts_with("https://") || o.starts_with("http://"))
    {
        return bad("'origin' must look like https://host:port (or null to restore the emulator's own)");
    }
    *lock(&s.header_origin) = h.origin.map(|o| o.trim_end_matches('/').to_string());
    StatusCode::NO_CONTENT.into_response()
}

/// The identity router: App Service managed identity protocol (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).
pub fn identity_router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().route("/msi/token", get(token)).with_state(shared)
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
    resource: Option<String>,
    client_id: Option<String>,
    principal_id: Option<String>,
}

async fn token(State(s): S, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let header = headers.get("x-identity-header").and_then(|v| v.to_str().ok());
    if header != Some(s.identity_header.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or wrong."})),
        )
            .into_response();
    }
    if q.api_version.as_deref() != Some("2019-08-01") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"statusCode": 400, "message": "api-version must be 2019-08-01."})),
        )
            .into_response();
    }
    let Some(resource) = q.resource.filter(|r| !r.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"statusCode": 400, "message": "The 'resource' query parameter is required."})),
        )
            .into_response();
    };
    let (tenant, principal, lifetime) = {
        let w = lock(&s.world);
        let p = w.principal(q.client_id.as_deref().or(q.principal_id.as_deref())).cloned();
        (w.tenant_id.clone(), p, w.settings.token_lifetime_seconds)
    };
    let Some(principal) = principal else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"statusCode": 400, "message": "No managed identity with that client_id is assigned."})),
        )
            .into_response();
    };
    let (token, exp) = mint(&tenant, &principal, &resource, lifetime);
    Json(json!({
        "access_token": token,
        "expires_on": exp.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": principal.client_id,
    }))
    .into_response()
}
