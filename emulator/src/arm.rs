//! The ARM request pipeline: bearer check → route match → api-version check → log and count → throttle →
//! faults → handler → common headers. Handlers are synchronous functions over the locked [`World`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use hyper::{Request, Response};
use restore_models::wire::ResourceList;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::error::{ApiError, ApiResponse, Dialect, to_body};
use crate::faults::{FaultKind, Faults};
use crate::identity::validate_bearer;
use crate::router::{Params, Route, match_pattern, segments};
use crate::scenario::Scenario;
use crate::throttle::{Decision, OpKind, Throttler};
use crate::util::{fmt_time, query_encode, query_pairs};
use crate::world::World;

/// A route handler.
pub type Handler = fn(&mut Ctx<'_>) -> Result<ApiResponse, ApiError>;

/// One logged request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Sequence number.
    pub seq: u64,
    /// Route name (`unmatched` if none).
    pub route: String,
    /// Method.
    pub method: String,
    /// Path as received.
    pub path: String,
    /// Query string as received.
    pub query: String,
    /// Body (JSON if it parses, else a string; null if empty).
    pub body: Value,
    /// Response status (null while in flight or when the connection was reset).
    pub status: Option<u16>,
    /// Virtual time of arrival.
    pub time: String,
    /// The fault applied, if any.
    pub fault: Option<String>,
}

/// Request log and per-route counters.
#[derive(Debug, Default)]
pub struct RequestLog {
    /// Entries in arrival order.
    pub entries: Vec<LogEntry>,
    /// Counts by "route METHOD".
    pub counts: BTreeMap<String, u64>,
}

/// State shared by all servers.
pub struct Shared {
    /// The emulated Azure.
    pub world: Mutex<World>,
    /// The clock.
    pub clock: Clock,
    /// Token buckets.
    pub throttle: Mutex<Throttler>,
    /// Fault rules.
    pub faults: Mutex<Faults>,
    /// Request log.
    pub log: Mutex<RequestLog>,
    /// Routes.
    pub routes: Vec<Route>,
    /// The emulator's own https origin.
    pub origin: Mutex<String>,
    /// Origin written into header URLs (admin `PUT /header-host`), default the own origin.
    pub header_origin: Mutex<Option<String>>,
    /// Requests currently hung, oldest first, each with the sender that releases it.
    hung_queue: Mutex<HungQueue>,
    /// Number of requests currently hung (mirrors the queue's length; tests wait on it).
    pub hung: tokio::sync::watch::Sender<usize>,
    /// The scenario, to rebuild the world on reset.
    pub scenario: Scenario,
    /// Secret of the identity endpoint.
    pub identity_header: String,
    seq: AtomicU64,
}

/// Locks a mutex, recovering from poisoning: a handler panic must not take the emulator down for later tests.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Builds the shared state.
    pub fn new(scenario: Scenario, world: World, clock: Clock, identity_header: String) -> Self {
        let mut faults = Faults::default();
        for rule in &scenario.faults {
            // Validated with the scenario already.
            let _ = faults.add(rule.clone());
        }
        let limits = scenario.settings.throttle;
        Self {
            world: Mutex::new(world),
            clock,
            throttle: Mutex::new(Throttler::new(limits)),
            faults: Mutex::new(faults),
            log: Mutex::new(RequestLog::default()),
            routes: crate::router::routes(),
            origin: Mutex::new(String::new()),
            header_origin: Mutex::new(None),
            hung_queue: Mutex::new(HungQueue::default()),
            hung: tokio::sync::watch::channel(0).0,
            scenario,
            identity_header,
            seq: AtomicU64::new(0),
        }
    }

    fn header_origin(&self) -> String {
        lock(&self.header_origin).clone().unwrap_or_else(|| lock(&self.origin).clone())
    }

    fn log_start(&self, route: &str, method: &str, path: &str, query: &str, body: &[u8], now: OffsetDateTime) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        let body_value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        tracing::debug!(route, method, path, query, "ARM request");
        let mut log = lock(&self.log);
        *log.counts.entry(format!("{route} {method}")).or_default() += 1;
        log.entries.push(LogEntry {
            seq,
            route: route.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body: body_value,
            status: None,
            time: fmt_time(now),
            fault: None,
        });
        seq
    }

    fn log_finish(&self, seq: u64, status: Option<u16>, fault: Option<&FaultKind>) {
        let mut log = lock(&self.log);
        if let Some(e) = log.entries.iter_mut().rev().find(|e| e.seq == seq) {
            e.status = status;
            if let Some(f) = fault {
                e.fault = Some(
                    serde_json::to_value(f).ok().and_then(|v| v["kind"].as_str().map(String::from)).unwrap_or_default(),
                );
            }
        }
    }

    /// Holds the caller until [`Shared::release_hung`] picks it (oldest first) or `timeout_ms` real milliseconds
    /// pass.
    async fn hang(&self, timeout_ms: Option<u64>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = {
            let mut q = lock(&self.hung_queue);
            q.next_id += 1;
            let id = q.next_id;
            q.waiting.push_back((id, tx));
            self.hung.send_replace(q.waiting.len());
            id
        };
        let _ = tokio::time::timeout(std::time::Duration::from_millis(timeout_ms.unwrap_or(60_000)), rx).await;
        let mut q = lock(&self.hung_queue);
        q.waiting.retain(|(i, _)| *i != id);
        self.hung.send_replace(q.waiting.len());
    }

    /// Releases the `count` oldest hung requests (all of them for `None`); returns how many were released.
    pub fn release_hung(&self, count: Option<usize>) -> usize {
        let mut q = lock(&self.hung_queue);
        let mut released = 0;
        while count.is_none_or(|c| released < c) {
            let Some((_, tx)) = q.waiting.pop_front() else { break };
            // A closed receiver timed out on its own and is about to remove itself: not counted.
            if tx.send(()).is_ok() {
                released += 1;
            }
        }
        self.hung.send_replace(q.waiting.len());
        released
    }
}

/// Hung requests in arrival order.
#[derive(Default)]
struct HungQueue {
    next_id: u64,
    waiting: std::collections::VecDeque<(u64, tokio::sync::oneshot::Sender<()>)>,
}

/// What a handler sees.
pub struct Ctx<'a> {
    /// The state.
    pub world: &'a mut World,
    /// Path captures.
    pub params: &'a Params,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// Raw body.
    pub body: &'a [u8],
    /// Clock time.
    pub now: OffsetDateTime,
    /// Origin for header URLs and nextLinks.
    pub origin: &'a str,
    /// The request's api-version.
    pub api_version: &'a str,
    /// The request path as received.
    pub path: &'a str,
}

impl Ctx<'_> {
    /// A path capture.
    pub fn p(&self, name: &str) -> &str {
        self.params.get(name)
    }

    /// A query parameter (name compared case-insensitively).
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON; a missing or malformed body is a 400 naming the problem.
    pub fn json(&self, dialect: Dialect) -> Result<Value, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::bad_request(
                dialect,
                "InvalidRequestContent",
                "The request content was empty; a JSON body is required.",
            ));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::bad_request(
                dialect,
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: {e}."),
            )
        })
    }

    /// One page of `items` (a `ResourceList`) with a `nextLink` carrying `$skipToken` when more remain.
    pub fn page<T: Serialize + Clone>(&self, items: Vec<T>, dialect: Dialect) -> Result<Value, ApiError> {
        let size = self.world.settings.page_size.max(1);
        let skip = match self.q("$skipToken") {
            None => 0,
            Some(t) => parse_skip_token(t).ok_or_else(|| {
                ApiError::bad_request(
                    dialect,
                    "InvalidSkipToken",
                    format!("The $skipToken '{t}' is not one this service issued; follow nextLink verbatim."),
                )
            })?,
        };
        let end = (skip + size).min(items.len());
        let page: Vec<T> = items.get(skip..end).map(<[T]>::to_vec).unwrap_or_default();
        let next_link = (end < items.len()).then(|| {
            let mut q: Vec<String> = self
                .query
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("$skipToken"))
                .map(|(k, v)| format!("{}={}", query_encode(k), query_encode(v)))
                .collect();
            q.push(format!("$skipToken={}", query_encode(&skip_token(end))));
            format!("{}{}?{}", self.origin, self.path, q.join("&"))
        });
        to_body(&ResourceList { value: page, next_link })
    }

    /// The api-version to put in header URLs: an old one when the quirk is on, else the request's.
    pub fn header_api_version(&self, old: &str) -> String {
        if self.world.quirks().old_api_versions_in_headers { old.to_string() } else { self.api_version.to_string() }
    }
}

fn skip_token(offset: usize) -> String {
    crate::util::b64(format!("offset:{offset}").as_bytes())
}

fn parse_skip_token(t: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("offset:")?.parse().ok()
}

/// Parses an OData-ish `$filter` of `key eq 'value'` clauses joined by `and` into (lower-case key, value).
pub fn parse_filter(filter: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = vec![];
    let lower = filter.to_ascii_lowercase();
    let mut rest_start = 0;
    let mut clauses = vec![];
    // Split on " and " outside quotes.
    let bytes = filter.as_bytes();
    let mut in_quote = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            in_quote = !in_quote;
        } else if !in_quote && lower[i..].starts_with(" and ") {
            clauses.push(&filter[rest_start..i]);
            rest_start = i + 5;
            i += 5;
            continue;
        }
        i += 1;
    }
    clauses.push(&filter[rest_start..]);
    for c in clauses {
        let c = c.trim();
        let (k, v) = c
            .split_once(" eq ")
            .ok_or_else(|| format!("the $filter clause '{c}' is not of the form name eq 'value'"))?;
        let v = v.trim();
        let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
        out.push((k.trim().to_ascii_lowercase(), v.to_string()));
    }
    Ok(out)
}

fn status_code(status: u16) -> &'static str {
    match status {
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InjectedFault",
    }
}

/// A connection reset the server performs on purpose (hyper closes the connection on a service error).
#[derive(Debug)]
pub struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}
impl std::error::Error for ResetConnection {}

fn respond(r: ApiResponse, extra: &[(String, String)]) -> Response<Body> {
    let mut b = Response::builder().status(r.status);
    let request_id = crate::util::guid();
    b = b.header("x-ms-request-id", &request_id).header("x-ms-correlation-request-id", &request_id);
    for (k, v) in extra.iter().chain(r.headers.iter()) {
        b = b.header(k.as_str(), v.as_str());
    }
    let body = match r.body {
        Some(v) => {
            b = b.header("content-type", "application/json; charset=utf-8");
            Body::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        None => Body::empty(),
    };
    // Header names/values come from our own code and are valid; an invalid one would be a bug, so answer 500.
    b.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Body::from("invalid response header"));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn error_response(e: ApiError, extra: &[(String, String)]) -> Response<Body> {
    let mut r = ApiResponse { status: e.status, headers: e.headers.clone(), body: Some(e.body()) };
    if e.status == 401 {
        r.headers.push((
            "WWW-Authenticate".into(),
            "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\"".into(),
        ));
    }
    respond(r, extra)
}

/// Serves one ARM request. In accelerated real-time mode, waits Azure asks for (`Retry-After`) are expressed in
/// real time: a 10-second wait at speed 100 becomes `Retry-After: 1` plus `retry-after-ms: 100`, so a client that
/// honours the header (as it must) keeps pace with the emulator's clock instead of sleeping virtual seconds.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, ResetConnection> {
    let speed = match shared.clock.mode() {
        crate::clock::ClockMode::Realtime { speed } if speed > 1.0 => Some(speed),
        _ => None,
    };
    let mut response = handle_unscaled(shared, req).await?;
    if let Some(speed) = speed {
        scale_retry_after(&mut response, speed);
    }
    Ok(response)
}

/// The staging accounts' Blob data plane ([`crate::staging`]): counted and faultable like ARM routes, but
/// authenticated with storage tokens and outside ARM's throttling.
fn serve_staging(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    auth: Option<&str>,
    tenant: &str,
) -> Response<Body> {
    let route = crate::staging::route_name(method);
    let now = shared.clock.now();
    let seq = shared.log_start(route, method, path, query, &[], now);
    if let Some(FaultKind::Status { status, .. }) = lock(&shared.faults).pick(route, method) {
        shared.log_finish(seq, Some(status), None);
        let mut r = Response::new(Body::from(format!("Injected fault: HTTP {status} from the emulator.")));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        return r;
    }
    let response = {
        let mut world = lock(&shared.world);
        world.tick(now);
        crate::staging::serve(&mut world.staging, tenant, method, path, auth)
    };
    shared.log_finish(seq, Some(response.status().as_u16()), None);
    response
}

fn scale_retry_after(response: &mut Response<Body>, speed: f64) {
    let headers = response.headers_mut();
    let Some(seconds) =
        headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok())
    else {
        return;
    };
    let real_ms = (seconds * 1000.0 / speed).round().max(1.0) as u64;
    let whole = real_ms.div_ceil(1000).to_string();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&whole) {
        headers.insert("retry-after", v);
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(&real_ms.to_string()) {
        headers.insert("retry-after-ms", v);
    }
}

async fn handle_unscaled(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, ResetConnection> {
    let method = req.method().as_str().to_ascii_uppercase();
    let path = req.uri().path().to_string();
    let query_str = req.uri().query().unwrap_or("").to_string();
    let auth = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = match axum::body::to_bytes(Body::new(req.into_body()), 8 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(error_response(
                ApiError::arm(400, "InvalidRequestContent", "The request body could not be read."),
                &[],
            ));
        }
    };
    let tenant = lock(&shared.world).tenant_id.clone();
    if path.starts_with(crate::staging::PREFIX) {
        return Ok(serve_staging(&shared, &method, &path, &query_str, auth.as_deref(), &tenant));
    }
    let claims = match validate_bearer(auth.as_deref(), &tenant) {
        Ok(c) => c,
        Err(e) => return Ok(error_response(ApiError::arm(401, e.code(), e.message()), &[])),
    };
    let now = shared.clock.now();
    let query = query_pairs(&query_str);
    let segs = segments(&path);
    let candidates: Vec<(&Route, Params)> = shared
        .routes
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| match_pattern(r.pattern, &segs).map(|p| (r, p)))
        .collect();
    if candidates.is_empty() {
        let seq = shared.log_start("unmatched", &method, &path, &query_str, &body, now);
        shared.log_finish(seq, Some(404), None);
        return Ok(error_response(
            ApiError::arm(404, "NotFound", format!("No emulated operation matches {method} {path}.")),
            &[],
        ));
    }
    let api_version = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")).map(|(_, v)| v.clone());
    let Some(api_version) = api_version else {
        let seq = shared.log_start(candidates[0].0.name, &method, &path, &query_str, &body, now);
        shared.log_finish(seq, Some(400), None);
        return Ok(error_response(
            ApiError::arm(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            ),
            &[],
        ));
    };
    let Some((route, params)) = candidates.iter().find(|(r, _)| r.api.versions().contains(&api_version.as_str()))
    else {
        let route = candidates[0].0;
        let seq = shared.log_start(route.name, &method, &path, &query_str, &body, now);
        shared.log_finish(seq, Some(400), None);
        let supported: Vec<&str> = candidates.iter().flat_map(|(r, _)| r.api.versions().iter().copied()).collect();
        return Ok(error_response(
            ApiError::arm(
                400,
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{api_version}' is invalid. The supported versions are '{}'.",
                    supported.join(",")
                ),
            ),
            &[],
        ));
    };
    let seq = shared.log_start(route.name, &method, &path, &query_str, &body, now);

    let kind = match method.as_str() {
        "GET" | "HEAD" => OpKind::Read,
        "DELETE" => OpKind::Delete,
        _ => OpKind::Write,
    };
    let ratelimit_header = format!("x-ms-ratelimit-remaining-subscription-{}", kind.header_suffix());
    let decision = lock(&shared.throttle).take(&claims.oid, params.get("sub"), kind, now);
    let remaining = match decision {
        Decision::Allowed { remaining } => remaining,
        Decision::Throttled { retry_after } => {
            shared.log_finish(seq, Some(429), None);
            let mut e = ApiError::arm(
                429,
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{}' requests for subscription '{}' actor '{}' exceeded. Please try again after '{retry_after}' seconds after the current request.",
                    kind.header_suffix(),
                    params.get("sub"),
                    claims.oid
                ),
            );
            e.headers.push(("Retry-After".into(), retry_after.to_string()));
            return Ok(error_response(e, &[(ratelimit_header, "0".into())]));
        }
    };
    let extra = [(ratelimit_header, remaining.to_string())];

    let fault = lock(&shared.faults).pick(route.name, &method);
    let mut process_then_hang = None;
    match &fault {
        None | Some(FaultKind::Pass) => {}
        Some(FaultKind::Status { status, retry_after }) => {
            shared.log_finish(seq, Some(*status), fault.as_ref());
            let mut e = ApiError::arm(
                *status,
                status_code(*status),
                format!("Injected fault: HTTP {status} from the emulator."),
            );
            if let Some(s) = retry_after {
                e.headers.push(("Retry-After".into(), s.to_string()));
            }
            return Ok(error_response(e, &extra));
        }
        Some(FaultKind::Reset) => {
            shared.log_finish(seq, None, fault.as_ref());
            return Err(ResetConnection);
        }
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(std::time::Duration::from_millis(*ms)).await,
        Some(FaultKind::MalformedJson) => {
            shared.log_finish(seq, Some(200), fault.as_ref());
            let mut r = respond(ApiResponse::empty(200), &extra);
            r.headers_mut()
                .insert("content-type", hyper::header::HeaderValue::from_static("application/json; charset=utf-8"));
            *r.body_mut() = Body::from(r#"{"value": [{"id": "/subscriptions/"#);
            return Ok(r);
        }
        Some(FaultKind::EmptyBody) => {
            shared.log_finish(seq, Some(200), fault.as_ref());
            let mut r = respond(ApiResponse::empty(200), &extra);
            r.headers_mut()
                .insert("content-type", hyper::header::HeaderValue::from_static("application/json; charset=utf-8"));
            return Ok(r);
        }
        Some(FaultKind::Respond { status, headers, body }) => {
            shared.log_finish(seq, Some(*status), fault.as_ref());
            let mut r = respond(ApiResponse::empty(*status), &extra);
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    hyper::header::HeaderName::from_bytes(name.as_bytes()),
                    hyper::header::HeaderValue::from_str(value),
                ) {
                    r.headers_mut().insert(name, value);
                }
            }
            if let Some(body) = body {
                r.headers_mut()
                    .insert("content-type", hyper::header::HeaderValue::from_static("application/json; charset=utf-8"));
                *r.body_mut() = Body::from(body.to_string());
            }
            return Ok(r);
        }
        Some(FaultKind::Hang { timeout_ms }) => shared.hang(*timeout_ms).await,
        Some(FaultKind::ProcessThenHang { timeout_ms }) => process_then_hang = Some(*timeout_ms),
    }

    let origin = shared.header_origin();
    let result = {
        let now = shared.clock.now();
        let mut world = lock(&shared.world);
        world.tick(now);
        let mut ctx = Ctx {
            world: &mut world,
            params,
            query: &query,
            body: &body,
            now,
            origin: &origin,
            api_version: &api_version,
            path: &path,
        };
        (route.handler)(&mut ctx)
    };
    if let Some(timeout) = process_then_hang {
        shared.log_finish(seq, None, fault.as_ref());
        shared.hang(timeout).await;
        return Err(ResetConnection);
    }
    let response = match result {
        Ok(r) => {
            shared.log_finish(seq, Some(r.status), fault.as_ref());
            respond(r, &extra)
        }
        Err(e) => {
            shared.log_finish(seq, Some(e.status), fault.as_ref());
            error_response(e, &extra)
        }
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let f = parse_filter("startDate eq '2024-05-01 12:00:00 AM' and endDate eq '2024-05-31 11:59:59 PM'").unwrap();
        assert_eq!(f[0], ("startdate".into(), "2024-05-01 12:00:00 AM".into()));
        assert_eq!(f[1].1, "2024-05-31 11:59:59 PM");
        assert!(parse_filter("startDate gt 'x'").is_err());
        assert_eq!(parse_skip_token(&skip_token(20)), Some(20));
    }
}
