//! The deterministic workflow world: the real intake and tracker over
//! * **scripted Azure**: an in-process [`HttpClient`] under the real ARM pipeline (origin guard, budget, bearer
//!   auth, send window, retries all run), answering like Data Protection does, with per-test overrides;
//! * **a real SQLite store** wrapped by [`FaultyStore`], which injects the faults the Blob store shows in
//!   production: a conditional write that lands but answers `Conflict`, and writes that fail;
//! * **a virtual clock**: tests run on a paused tokio runtime, so every wait (the workflow's, the engine's LRO
//!   polls, Retry-After, the ARM budget) advances one virtual time instantly and in order.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::headers::Headers;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, StatusCode};
use restore_contract::Policy;
use restore_contract::policy::PolicyOrigin;
use restore_engine::client::ArmClient;
use restore_engine::cloud::Cloud;
use restore_engine::pipeline::{PipelineOptions, RetrySettings};
use restore_store::{ListFilter, Record, SqliteStore, StateStore, StoreError};
use restore_workflow::clock::{Clock, TokioClock};
use restore_workflow::intake::{Delivery, Intake, IntakeSettings, Outcome};
use restore_workflow::tracker::{Tracker, TrackerSettings};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const ARM: &str = "https://arm.scripted.invalid";
pub const SUB: &str = "00000000-1111-2222-3333-444444444444";
pub const VAULT: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks";
pub const INSTANCE: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks/backupInstances/app-data-01-bi";
pub const START: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
pub const TOKEN: &str = "scripted-token";

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The disk request from examples/, with `requestId` set.
pub fn disk_request(request_id: &str) -> Vec<u8> {
    disk_request_for(request_id, "app-data-01-bi")
}

/// The disk request for another backup instance of the same vault.
pub fn disk_request_for(request_id: &str, instance: &str) -> Vec<u8> {
    let path = workspace().join("examples/requests/disk-to-new-disk.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).expect("example request")).expect("json");
    v["requestId"] = json!(request_id);
    v["operation"]["backupInstanceId"] = json!(format!("{VAULT}/backupInstances/{instance}"));
    v["operation"]["diskName"] = json!(format!("{instance}-restored"));
    serde_json::to_vec(&v).expect("serialises")
}

/// The item's id as Azure renders it (`{VAULT}/backupInstances/{instance}`).
pub fn instance_id(instance: &str) -> String {
    format!("{VAULT}/backupInstances/{instance}")
}

/// One request Azure received.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub body: Option<Value>,
    pub authorization: Option<String>,
    pub at: OffsetDateTime,
}

impl Sent {
    pub fn is(&self, method: &str, path_end: &str) -> bool {
        let path = self.url.split('?').next().unwrap_or_default();
        self.method == method && path.to_ascii_lowercase().ends_with(&path_end.to_ascii_lowercase())
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, headers and JSON body.
    Json(u16, Value, Vec<(String, String)>),
    /// This status and raw body (empty, cut-off JSON).
    Raw(u16, Vec<u8>, Vec<(String, String)>),
    /// The connection was refused: nothing was sent.
    Refused,
    /// Do what Azure does, then lose the answer (connection reset).
    LandThenReset,
    /// The connection reset before Azure did anything.
    Reset,
    /// Wait on the virtual clock, then answer as Azure does.
    Delay(Duration),
    /// Wait until the test releases it, then answer as Azure does.
    Gate(Arc<tokio::sync::Notify>),
}

#[derive(Debug)]
struct Rule {
    method: &'static str,
    path_end: String,
    times: usize,
    reply: Reply,
}

/// A restore job Azure knows.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub instance: String,
    pub recovery_point: String,
    pub started: OffsetDateTime,
    pub duration: Duration,
    pub status: &'static str,
}

#[derive(Debug, Default)]
struct World {
    log: Vec<Sent>,
    rules: Vec<Rule>,
    jobs: Vec<Job>,
    next_id: u32,
}

/// Scripted Azure (Data Protection), shared by every pipeline of the test.
#[derive(Debug, Clone)]
pub struct Azure {
    world: Arc<Mutex<World>>,
    clock: TokioClock,
    /// How long a restore job runs.
    pub job_duration: Duration,
}

impl Azure {
    pub fn new(clock: TokioClock) -> Self {
        Azure { world: Arc::new(Mutex::new(World::default())), clock, job_duration: Duration::from_secs(180) }
    }

    /// The next `times` requests `method … path_end` get `reply`.
    pub fn script(&self, method: &'static str, path_end: &str, times: usize, reply: Reply) {
        self.world.lock().unwrap().rules.push(Rule { method, path_end: path_end.into(), times, reply });
    }

    pub fn log(&self) -> Vec<Sent> {
        self.world.lock().unwrap().log.clone()
    }

    pub fn count(&self, method: &str, path_end: &str) -> usize {
        self.log().iter().filter(|s| s.is(method, path_end)).count()
    }

    /// Write calls (POST/PUT/PATCH/DELETE) Azure received.
    pub fn writes(&self) -> Vec<Sent> {
        self.log().into_iter().filter(|s| s.method != "GET").collect()
    }

    pub fn jobs(&self) -> Vec<Job> {
        self.world.lock().unwrap().jobs.clone()
    }

    /// A restore job that some other party started on `instance` at `started`.
    pub fn add_job(&self, instance: &str, recovery_point: &str, started: OffsetDateTime) -> String {
        let mut w = self.world.lock().unwrap();
        w.next_id += 1;
        let id = format!("00000000-0000-0000-0000-{:012}", w.next_id);
        w.jobs.push(Job {
            id: id.clone(),
            instance: instance.into(),
            recovery_point: recovery_point.into(),
            started,
            duration: self.job_duration,
            status: "InProgress",
        });
        id
    }

    fn take_rule(&self, method: &str, path: &str) -> Option<Reply> {
        let mut w = self.world.lock().unwrap();
        let lower = path.to_ascii_lowercase();
        let i = w
            .rules
            .iter()
            .position(|r| r.method == method && r.times > 0 && lower.ends_with(&r.path_end.to_ascii_lowercase()))?;
        w.rules[i].times -= 1;
        Some(w.rules[i].reply.clone())
    }

    fn op_headers(&self, op: &str) -> Vec<(String, String)> {
        vec![
            (
                "azure-asyncoperation".into(),
                format!(
                    "{ARM}/subscriptions/{SUB}/providers/Microsoft.DataProtection/locations/westeurope/operationStatus/{op}?api-version=2025-07-01"
                ),
            ),
            (
                "location".into(),
                format!(
                    "{ARM}/subscriptions/{SUB}/providers/Microsoft.DataProtection/locations/westeurope/operationResults/{op}?api-version=2025-07-01"
                ),
            ),
            ("retry-after".into(), "10".into()),
        ]
    }

    fn job_json(&self, job: &Job) -> Value {
        let now = self.clock.now();
        let done = now >= job.started + job.duration;
        let status = if job.status != "InProgress" {
            job.status
        } else if done {
            "Completed"
        } else {
            "InProgress"
        };
        let mut props = json!({
            "objectType": "AzureBackupJob",
            "activityID": job.id,
            "backupInstanceFriendlyName": "app-data-01",
            "backupInstanceId": job.instance,
            "dataSourceId": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01",
            "dataSourceLocation": "westeurope",
            "dataSourceName": "app-data-01",
            "dataSourceType": "Microsoft.Compute/disks",
            "isUserTriggered": true,
            "operation": "Restore",
            "operationCategory": "Restore",
            "progressEnabled": false,
            "sourceResourceGroup": "rg-app",
            "sourceSubscriptionID": SUB,
            "startTime": job.started.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "status": status,
            "subscriptionId": SUB,
            "supportedActions": [],
            "vaultName": "bv-disks",
            "extendedInfo": { "sourceRecoverPoint": { "recoveryPointID": job.recovery_point } }
        });
        if status != "InProgress" {
            let end = (job.started + job.duration).format(&time::format_description::well_known::Rfc3339).unwrap();
            props["endTime"] = json!(end);
        }
        json!({ "id": format!("{VAULT}/backupJobs/{}", job.id), "name": job.id, "type": "Microsoft.DataProtection/backupVaults/backupJobs", "properties": props })
    }

    /// What Data Protection answers, and what it does.
    fn azure(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let p = path.to_ascii_lowercase();
        let now = self.clock.now();
        let ok = |v: Value| Reply::Json(200, v, Vec::new());
        if method == "GET" && p.contains("/backupinstances/") && !p.contains("/recoverypoints") {
            let name = path.rsplit('/').next().unwrap_or_default();
            return ok(json!({
                "id": path, "name": name, "type": "Microsoft.DataProtection/backupVaults/backupInstances",
                "properties": {
                    "objectType": "BackupInstance", "friendlyName": "app-data-01",
                    "dataSourceInfo": {
                        "objectType": "Datasource", "datasourceType": "Microsoft.Compute/disks",
                        "resourceID": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-app/providers/Microsoft.Compute/disks/app-data-01",
                        "resourceLocation": "westeurope", "resourceName": "app-data-01", "resourceType": "Microsoft.Compute/disks"
                    },
                    "policyInfo": { "policyId": format!("{VAULT}/backupPolicies/disk-daily") },
                    "protectionStatus": { "status": "ProtectionConfigured" },
                    "provisioningState": "Succeeded"
                }
            }));
        }
        if method == "GET" && p.ends_with("/recoverypoints") {
            let time =
                (START - time::Duration::hours(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
            let instance = path.trim_end_matches("/recoveryPoints").trim_end_matches("/recoverypoints");
            return ok(json!({ "value": [{
                "id": format!("{instance}/recoveryPoints/rp-1"), "name": "rp-1",
                "type": "Microsoft.DataProtection/backupVaults/backupInstances/recoveryPoints",
                "properties": {
                    "objectType": "AzureBackupDiscreteRecoveryPoint", "recoveryPointId": "rp-1",
                    "recoveryPointTime": time, "recoveryPointType": "Full", "recoveryPointState": "Completed",
                    "recoveryPointDataStoresDetails": [{ "type": "OperationalStore", "visible": true }]
                }
            }]}));
        }
        if method == "POST" && p.ends_with("/validaterestore") {
            let op = self.new_id("val");
            return Reply::Json(202, Value::Null, self.op_headers(&op));
        }
        if method == "POST" && p.ends_with("/restore") {
            let point =
                body.and_then(|b| b.get("recoveryPointId")).and_then(Value::as_str).unwrap_or_default().to_string();
            let instance = path.trim_end_matches("/restore");
            let job = self.add_job(instance, &point, now);
            return Reply::Json(202, Value::Null, self.op_headers(&format!("job-{job}")));
        }
        if method == "GET" && p.contains("/operationstatus/") {
            return ok(
                json!({ "id": path, "name": "op", "status": "Succeeded", "startTime": "2026-12-01T12:00:00Z", "endTime": "2026-12-01T12:00:10Z" }),
            );
        }
        if method == "GET" && p.contains("/operationresults/") {
            let op = path.rsplit('/').next().unwrap_or_default();
            let job = op.strip_prefix("job-").unwrap_or(op);
            return ok(json!({ "objectType": "OperationJobExtendedInfo", "jobId": job }));
        }
        if method == "GET" && p.ends_with("/backupjobs") {
            let jobs: Vec<Value> = self.jobs().iter().map(|j| self.job_json(j)).collect();
            return ok(json!({ "value": jobs }));
        }
        if method == "GET" && p.contains("/backupjobs/") {
            let id = path.rsplit('/').next().unwrap_or_default();
            return match self.jobs().into_iter().find(|j| j.id.eq_ignore_ascii_case(id)) {
                Some(job) => ok(self.job_json(&job)),
                None => {
                    Reply::Json(404, json!({"error": {"code": "ResourceNotFound", "message": "no such job"}}), vec![])
                }
            };
        }
        if method == "PATCH" && p.ends_with("/providers/microsoft.resources/tags/default") {
            let tags = body.and_then(|b| b.pointer("/properties/tags")).cloned().unwrap_or(Value::Null);
            return ok(json!({ "id": path, "name": "default", "properties": { "tags": tags } }));
        }
        Reply::Json(404, json!({"error": {"code": "NotScripted", "message": format!("{method} {path}")}}), vec![])
    }

    fn new_id(&self, prefix: &str) -> String {
        let mut w = self.world.lock().unwrap();
        w.next_id += 1;
        format!("{prefix}-{}", w.next_id)
    }
}

fn response(reply: Reply) -> azure_core::Result<AsyncRawResponse> {
    let (status, body, headers_in) = match reply {
        Reply::Json(status, Value::Null, h) => (status, Vec::new(), h),
        Reply::Json(status, v, h) => (status, serde_json::to_vec(&v).unwrap(), h),
        Reply::Raw(status, b, h) => (status, b, h),
        Reply::Refused => {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Connection,
                "connection refused",
            ));
        }
        _ => return Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Io, "connection reset")),
    };
    let mut headers = Headers::new();
    headers.insert("content-type", "application/json");
    for (k, v) in headers_in {
        headers.insert(k, v);
    }
    Ok(AsyncRawResponse::from_bytes(StatusCode::from(status), headers, body))
}

#[async_trait]
impl HttpClient for Azure {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let url = request.url().to_string();
        let path = request.url().path().to_string();
        let method = request.method().to_string().to_ascii_uppercase();
        let body: Option<Value> = match request.body() {
            azure_core::http::Body::Bytes(b) if !b.is_empty() => serde_json::from_slice(b).ok(),
            _ => None,
        };
        let authorization = request
            .headers()
            .iter()
            .find(|(k, _)| k.as_str().eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str().to_string());
        self.world.lock().unwrap().log.push(Sent {
            method: method.clone(),
            url: url.clone(),
            body: body.clone(),
            authorization,
            at: self.clock.now(),
        });
        let reply = match self.take_rule(&method, &path) {
            Some(Reply::Delay(d)) => {
                tokio::time::sleep(d).await;
                self.azure(&method, &path, body.as_ref())
            }
            Some(Reply::Gate(gate)) => {
                gate.notified().await;
                self.azure(&method, &path, body.as_ref())
            }
            Some(Reply::LandThenReset) => {
                self.azure(&method, &path, body.as_ref());
                Reply::Reset
            }
            Some(other) => other,
            None => self.azure(&method, &path, body.as_ref()),
        };
        response(reply)
    }
}

/// A credential with a fixed token (the real credentials are tested against the emulator).
#[derive(Debug)]
pub struct StaticCredential;

#[async_trait]
impl TokenCredential for StaticCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(Secret::new(TOKEN), OffsetDateTime::now_utc() + time::Duration::hours(1)))
    }
}

/// A fault the store wrapper injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFault {
    /// The write lands, but its answer is lost and the retry reports `Conflict` (Blob's retried If-Match Put).
    LandThenConflict,
    /// The write fails as unavailable and does not land.
    Unavailable,
}

/// The real SQLite store with faults injected on chosen writes.
#[derive(Debug)]
pub struct FaultyStore {
    inner: SqliteStore,
    faults: Mutex<VecDeque<(usize, StoreFault)>>,
    updates: Mutex<usize>,
    reads: Mutex<Vec<&'static str>>,
    writes: Mutex<Vec<&'static str>>,
}

impl FaultyStore {
    /// Injects `fault` on the `n`th update from now (1 = the next one).
    pub fn fail_update(&self, n: usize, fault: StoreFault) {
        let done = *self.updates.lock().unwrap();
        self.faults.lock().unwrap().push_back((done + n, fault));
    }

    pub fn updates(&self) -> usize {
        *self.updates.lock().unwrap()
    }

    /// The reads made since the last call (`get`, `due`, `list`, `count_active`, `document`), in order.
    pub fn take_reads(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.reads.lock().unwrap())
    }

    /// The writes made since the last call (`create`, the state an update writes, `put_document`), in order.
    pub fn take_writes(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.writes.lock().unwrap())
    }

    fn read(&self, what: &'static str) {
        self.reads.lock().unwrap().push(what);
    }
}

#[async_trait]
impl StateStore for FaultyStore {
    async fn create(&self, record: &Record) -> Result<Record, StoreError> {
        self.writes.lock().unwrap().push("create");
        self.inner.create(record).await
    }
    async fn get(&self, request_id: &str) -> Result<Option<Record>, StoreError> {
        self.read("get");
        self.inner.get(request_id).await
    }
    async fn update(&self, record: &Record) -> Result<Record, StoreError> {
        self.writes.lock().unwrap().push(record.state.as_str());
        let n = {
            let mut u = self.updates.lock().unwrap();
            *u += 1;
            *u
        };
        let fault = {
            let mut f = self.faults.lock().unwrap();
            match f.iter().position(|(at, _)| *at == n) {
                Some(i) => f.remove(i).map(|(_, fault)| fault),
                None => None,
            }
        };
        match fault {
            Some(StoreFault::LandThenConflict) => {
                self.inner.update(record).await?;
                Err(StoreError::Conflict { request_id: record.request_id.clone() })
            }
            Some(StoreFault::Unavailable) => {
                Err(StoreError::Unavailable { backend: "sqlite", message: "injected fault".into() })
            }
            None => self.inner.update(record).await,
        }
    }
    async fn due(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.read("due");
        self.inner.due(now, limit).await
    }
    async fn list(&self, filter: &ListFilter, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.read("list");
        self.inner.list(filter, limit).await
    }
    async fn count_active(&self, vault_id: &str) -> Result<usize, StoreError> {
        self.read("count_active");
        self.inner.count_active(vault_id).await
    }
    async fn document(&self, key: &str) -> Result<Option<restore_store::Document>, StoreError> {
        self.read("document");
        self.inner.document(key).await
    }
    async fn put_document(&self, doc: &restore_store::Document) -> Result<restore_store::Document, StoreError> {
        self.writes.lock().unwrap().push("put_document");
        self.inner.put_document(doc).await
    }
    fn describe(&self) -> String {
        format!("faulty {}", self.inner.describe())
    }
}

/// Settings at Azure's real pace (the clock is virtual, so minutes cost nothing).
pub fn intake_settings() -> IntakeSettings {
    IntakeSettings::default()
}

pub struct Harness {
    pub clock: TokioClock,
    pub azure: Azure,
    pub store: Arc<FaultyStore>,
    pub policy: Arc<Policy>,
    pub intake: Intake,
    pub tracker: Tracker,
    pub settings: IntakeSettings,
    _dir: tempfile::TempDir,
}

pub fn client(azure: &Azure) -> ArmClient {
    client_with(azure, restore_engine::budget::BudgetLimits::default())
}

pub fn client_with(azure: &Azure, budget: restore_engine::budget::BudgetLimits) -> ArmClient {
    let mut options = PipelineOptions::for_cloud(Cloud::Custom {
        arm_endpoint: url::Url::parse(ARM).unwrap(),
        audience: "https://management.core.windows.net/".into(),
    });
    options.http_client = Some(Arc::new(azure.clone()));
    options.budget = budget;
    options.retry = RetrySettings {
        max_retries: 3,
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        max_total: Duration::from_secs(10),
    };
    ArmClient::from_options(&options, Arc::new(StaticCredential)).expect("pipeline builds")
}

impl Harness {
    pub fn new() -> Harness {
        Self::with(intake_settings(), TrackerSettings::default())
    }

    /// The default settings with the example policy changed by `edit`.
    pub fn with_policy(edit: impl FnOnce(&mut Value)) -> Harness {
        Self::build(intake_settings(), TrackerSettings::default(), edit)
    }

    pub fn with(settings: IntakeSettings, tracker_settings: TrackerSettings) -> Harness {
        Self::build(settings, tracker_settings, |_| {})
    }

    fn build(settings: IntakeSettings, tracker_settings: TrackerSettings, edit: impl FnOnce(&mut Value)) -> Harness {
        let clock = TokioClock::starting_at(START);
        let azure = Azure::new(clock);
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FaultyStore {
            inner: SqliteStore::open(dir.path().join("state.db")).unwrap(),
            faults: Mutex::new(VecDeque::new()),
            updates: Mutex::new(0),
            reads: Mutex::new(Vec::new()),
            writes: Mutex::new(Vec::new()),
        });
        let text = std::fs::read_to_string(workspace().join("examples/policy.json")).unwrap();
        let mut json: Value = serde_json::from_str(&text).unwrap();
        edit(&mut json);
        let policy = Arc::new(Policy::from_json(&json.to_string(), PolicyOrigin::Inline).unwrap());
        let intake =
            Intake::new(client(&azure), store.clone(), policy.clone(), settings.clone()).with_clock(Arc::new(clock));
        let tracker = Tracker::new(client(&azure), store.clone(), tracker_settings).with_clock(Arc::new(clock));
        Harness { clock, azure, store, policy, intake, tracker, settings, _dir: dir }
    }

    /// An intake on another host whose clock reads `skew` off.
    pub fn intake_skewed(&self, skew: time::Duration) -> Intake {
        Intake::new(client(&self.azure), self.store.clone(), self.policy.clone(), self.settings.clone())
            .with_clock(Arc::new(self.clock.skewed(skew)))
    }

    /// An intake whose ARM client has these budget limits.
    pub fn intake_with_budget(&self, budget: restore_engine::budget::BudgetLimits) -> Intake {
        Intake::new(client_with(&self.azure, budget), self.store.clone(), self.policy.clone(), self.settings.clone())
            .with_clock(Arc::new(self.clock))
    }

    pub async fn deliver(&self, body: &[u8], count: u32) -> Outcome {
        self.intake.handle(Delivery { body, message_id: Some("msg-1"), delivery_count: count }).await
    }

    pub async fn record(&self, id: &str) -> Record {
        self.store.get(id).await.unwrap().expect("record exists")
    }

    /// Ticks the tracker every 10 virtual seconds until `id` is terminal and its result published (at most
    /// `max` ticks); returns every result published.
    pub async fn track(&self, id: &str, max: usize) -> Vec<restore_contract::result::RestoreResult> {
        let mut published = Vec::new();
        let mut pending: Vec<String> = Vec::new();
        for _ in 0..max {
            self.tracker.mark_published(&pending).await;
            let report = self.tracker.tick(self.clock.now()).await.unwrap();
            published.extend(report.results.clone());
            pending = report.published;
            let r = self.record(id).await;
            if r.state.is_terminal() && r.result_published {
                break;
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        self.tracker.mark_published(&pending).await;
        published
    }
}

pub fn statuses(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Complete(results) => results.iter().map(|r| format!("{:?}", r.status)).collect(),
        Outcome::Retry(why) => vec![format!("Retry: {why}")],
    }
}
