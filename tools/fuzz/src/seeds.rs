//! Seed corpora, from what the product really receives: the bad-input catalogue and the example requests and
//! alerts (messages), those messages wrapped the way the Functions host wraps them (envelopes), and the Azure
//! REST API spec examples in `../shared/conformance` (responses, and the ARM ids and strings inside them).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::mutate::Seed;
use crate::targets::Corpus;

/// Every corpus.
#[derive(Debug, Clone, Default)]
pub struct Corpora {
    /// Message bodies.
    pub messages: Vec<Vec<u8>>,
    /// Host envelopes.
    pub envelopes: Vec<Vec<u8>>,
    /// ARM ids (strings starting with `/`).
    pub arm_ids: Vec<Vec<u8>>,
    /// Every short string (statuses, timestamps, job ids, names, ids).
    pub strings: Vec<Vec<u8>>,
    /// Azure response bodies.
    pub responses: Vec<Vec<u8>>,
    /// Response example files read (0 means the conformance folder was not found).
    pub conformance_files: usize,
}

impl Corpora {
    /// The seeds of one corpus.
    pub fn for_corpus(&self, corpus: Corpus) -> Vec<Seed> {
        let list = match corpus {
            Corpus::Messages => &self.messages,
            Corpus::Envelopes => &self.envelopes,
            Corpus::ArmIds => &self.arm_ids,
            Corpus::Strings => &self.strings,
            Corpus::Responses => &self.responses,
        };
        list.iter().cloned().map(Seed::new).collect()
    }
}

/// `../shared` beside the workspace, where the conformance corpus lives (as the models' tests expect it).
pub fn default_shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads every corpus; `shared` is the folder holding `conformance/`.
pub fn load(shared: &Path) -> Corpora {
    let mut c = Corpora::default();
    // Messages: the catalogue (every way a message can be refused) and the examples (every way it is accepted).
    c.messages.push(restore_test_support::catalogue::valid_disk_request().to_string().into_bytes());
    for bad in restore_test_support::catalogue::bad_inputs() {
        // The oversize entries are 70 KB of 'x': they test the limit, not the decoder, and would slow every run.
        if bad.body.len() <= 8 * 1024 {
            c.messages.push(bad.body);
        }
    }
    for path in files(&workspace_dir().join("examples/requests"), "json") {
        if let Ok(bytes) = std::fs::read(&path) {
            c.messages.push(bytes);
        }
    }
    // Envelopes: each message as a string- and a binary-typed Service Bus trigger, plus timer and HTTP triggers.
    for body in &c.messages {
        c.envelopes.push(service_bus_envelope(body, false));
        c.envelopes.push(service_bus_envelope(body, true));
    }
    c.envelopes.extend(other_envelopes());
    // Responses: every response body of the REST API spec examples, plus ARM's error shapes.
    for path in files(&shared.join("conformance"), "json") {
        let Ok(text) = std::fs::read(&path) else { continue };
        let Ok(example) = serde_json::from_slice::<Value>(&text) else { continue };
        c.conformance_files += 1;
        if let Some(Value::Object(responses)) = example.get("responses") {
            for response in responses.values() {
                if let Some(body) = response.get("body") {
                    c.responses.push(body.to_string().into_bytes());
                }
            }
        }
    }
    c.responses.extend(error_bodies());
    // Strings: every ARM id, status, timestamp and name in the messages and responses, raw and as JSON strings.
    let mut strings = Vec::new();
    for bytes in c.messages.iter().chain(&c.responses) {
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            collect_strings(&v, &mut strings);
        }
    }
    strings.sort();
    strings.dedup();
    for s in strings {
        if s.starts_with('/') {
            c.arm_ids.push(Value::String(s.clone()).to_string().into_bytes());
            c.arm_ids.push(s.clone().into_bytes());
        }
        c.strings.push(Value::String(s.clone()).to_string().into_bytes());
        c.strings.push(s.into_bytes());
    }
    c
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// What the host posts for a Service Bus message (reference §1.3–1.4): a string-typed body arrives as a JSON
/// string holding the JSON text of the string, a binary one as base64; metadata values are double-encoded too,
/// and a JSON body's top-level properties are merged into the metadata.
fn service_bus_envelope(body: &[u8], binary: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(body).into_owned();
    let data =
        if binary { Value::String(base64(body)) } else { Value::String(Value::String(text.clone()).to_string()) };
    let mut metadata = Map::new();
    let enc = |v: Value| Value::String(v.to_string());
    metadata.insert("DeliveryCount".into(), enc(json!(1)));
    metadata.insert("MessageId".into(), enc(json!("message-1")));
    metadata.insert("LockToken".into(), enc(json!("00000000-0000-0000-0000-000000000001")));
    metadata.insert("EnqueuedTimeUtc".into(), json!("2026-05-01T12:00:00"));
    metadata.insert("ExpiresAt".into(), json!("2026-05-15T12:00:00+00:00"));
    metadata.insert("SequenceNumber".into(), enc(json!(7)));
    metadata.insert("ContentType".into(), enc(json!("application/json")));
    metadata.insert("ApplicationProperties".into(), json!({"origin": "fuzz"}));
    metadata.insert("UserProperties".into(), json!({"origin": "fuzz"}));
    metadata.insert(
        "sys".into(),
        json!({"MethodName": "RestoreIntake", "UtcNow": "2026-05-01T12:00:01.1234567Z", "RandGuid": "6f3c7c2e-0000-4000-8000-000000000000"}),
    );
    if !binary && let Ok(Value::Object(props)) = serde_json::from_slice::<Value>(body) {
        for (k, v) in props {
            metadata.entry(k).or_insert_with(|| enc(v));
        }
    }
    json!({"Data": {"message": data}, "Metadata": metadata}).to_string().into_bytes()
}

fn other_envelopes() -> Vec<Vec<u8>> {
    let timer = json!({
        "Schedule": {"AdjustForDST": true},
        "ScheduleStatus": {"Last": "2026-05-01T12:00:00+00:00", "Next": "2026-05-01T12:05:00+00:00", "LastUpdated": "2026-05-01T12:00:00+00:00"},
        "IsPastDue": false
    });
    let http = json!({
        "Url": "http://localhost:7071/api/status?requestId=r1", "Method": "POST",
        "Query": {"requestId": "r1"}, "Headers": {"Content-Type": ["application/json"]},
        "Params": {}, "Identities": [], "Body": "{\"requestId\":\"r1\"}"
    });
    let sys = json!({"MethodName": "RestoreTracker", "UtcNow": "2026-05-01T12:00:00Z", "RandGuid": "x"});
    vec![
        json!({"Data": {"timer": timer}, "Metadata": {"timer": timer, "sys": sys}}),
        json!({"Data": {"timer": Value::String(timer.to_string())}, "Metadata": null}),
        json!({"Data": {"req": http}, "Metadata": {"Query": {"requestId": "r1"}, "Headers": {}, "sys": sys}}),
        json!({"data": {"MESSAGE": "\"\\\"x\\\"\""}, "metadata": {}}),
        json!({"Data": {}, "Metadata": {}}),
    ]
    .into_iter()
    .map(|v| v.to_string().into_bytes())
    .collect()
}

/// ARM's error bodies: the common shape, Data Protection's user-facing error, and the odd ones seen in the wild.
fn error_bodies() -> Vec<Vec<u8>> {
    [
        json!({"error": {"code": "BadRequest", "message": "m", "target": "t", "details": [{"code": "c", "message": "d"}],
                          "additionalInfo": [{"type": "UserFacingError", "info": {"code": "UserErrorX", "message": "m",
                          "isRetryable": true, "innerError": {"code": "i"}, "recommendedAction": ["a"]}}]}}),
        json!({"error": {"code": "UserErrorMaxConcurrentOperationLimitReached", "message": "limit"}}),
        json!({"code": "NotFound", "message": "bare"}),
        json!({"error": null}),
        json!({"status": "Failed", "error": {"code": "InternalError"}, "properties": {"jobId": "/subscriptions/s/providers/x/backupJobs/0000"}}),
        json!({"id": "x", "name": "y", "status": "Succeeded", "startTime": "2026-05-01T12:00:00Z", "endTime": "0001-01-01T00:00:00Z"}),
    ]
    .into_iter()
    .map(|v| v.to_string().into_bytes())
    .chain([b"".to_vec(), b"{}".to_vec(), b"null".to_vec(), b"{\"value\":[],\"nextLink\":null}".to_vec()])
    .collect()
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() <= 400 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Standard base64 (the harness avoids a dependency for these few seeds).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
