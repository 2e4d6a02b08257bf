//! The product stack for end-to-end tests: the Azure Backup emulator (in-process, TLS, accelerated clock), a
//! SQLite state store in a temp dir, the example policy, and the real `intake` / `tracker` binaries started as
//! the Functions host starts them, configured only through app settings.
#![allow(dead_code)]

pub mod drills;
pub mod servicebus;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backup_emulator::clock::ClockMode;
use backup_emulator::scenario::Scenario;
use backup_emulator::tls::CertAuthority;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use restore_e2e::azurite::Azurite;
use restore_e2e::{
    HostInvocation, HostResponse, OutputBinding, QueueConfig, SbMessage, SbTrigger, ServiceBusQueue, Worker,
    workspace_bin,
};
use restore_store::{BlobStore, SqliteStore, StateStore};
use serde_json::{Value, json};

pub const SUB: &str = "00000000-1111-2222-3333-444444444444";
/// Virtual seconds per real second: a 180 s disk restore job takes 0.9 s.
pub const SPEED: f64 = 200.0;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn example(path: &str) -> Vec<u8> {
    std::fs::read(workspace().join("examples").join(path)).unwrap_or_else(|e| panic!("examples/{path}: {e}"))
}

pub fn example_json(path: &str) -> Value {
    serde_json::from_slice(&example(path)).unwrap_or_else(|e| panic!("examples/{path}: {e}"))
}

/// Stops a background tracker when dropped.
pub struct TickingGuard(tokio::task::JoinHandle<()>);

impl Drop for TickingGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Which state store the functions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// Azure Blob Storage, on a real Azurite over HTTPS with `--oauth basic` and tokens from the emulator's
    /// identity endpoint.
    Blob,
}

pub struct Stack {
    pub emu: EmulatorHandle,
    pub db: PathBuf,
    pub settings: Vec<(String, String)>,
    store: Arc<dyn StateStore>,
    admin: reqwest::Client,
    // Dropped last: Azurite (if any) is killed before the certificates it reads are removed.
    _azurite: Option<Azurite>,
    pub dir: tempfile::TempDir,
}

impl Stack {
    /// The example scenario, clock accelerated by [`SPEED`], example policy, SQLite store.
    pub async fn start() -> Stack {
        Self::start_with(Backend::Sqlite).await
    }

    /// As [`Self::start`], with the chosen store.
    pub async fn start_with(backend: Backend) -> Stack {
        Self::start_custom(backend, |_| {}).await
    }

    /// As [`Self::start_with`], with the example scenario changed by `edit` first.
    pub async fn start_custom(backend: Backend, edit: impl FnOnce(&mut Value)) -> Stack {
        let mut json = example_json("scenario.json");
        edit(&mut json);
        let scenario = Scenario::from_json(&json.to_string()).expect("scenario loads");
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = dir.path().join("certs");
        let mut config = EmulatorConfig::new(scenario);
        config.clock = ClockMode::Realtime { speed: SPEED };
        config.ca_dir = Some(certs.clone());
        let emu = Emulator::start(config).await.expect("emulator starts");
        let db = dir.path().join("restore-state.db");
        let mut settings = emu.app_settings();
        settings.extend(
            [
                ("RESTORE_STORE", "sqlite".into()),
                ("RESTORE_SQLITE_PATH", db.display().to_string()),
                ("RESTORE_POLICY_FILE", workspace().join("examples/policy.json").display().to_string()),
                // Azure's pace divided by the clock speed, with floors for process scheduling on 2 cores.
                ("RESTORE_TRIGGER_SETTLE_SECONDS", "2".into()),
                ("RESTORE_CRR_TRIGGER_SETTLE_SECONDS", "2".into()),
                ("RESTORE_TRIGGER_SEND_WINDOW_SECONDS", "0.5".into()),
                ("RESTORE_TRIGGER_TIMEOUT_SECONDS", "1".into()),
                ("RESTORE_LEASE_SECONDS", "3".into()),
                ("RESTORE_DUPLICATE_WAIT_SECONDS", "5".into()),
                ("RESTORE_TRANSIENT_RETRY_SECONDS", "2".into()),
                // A request waits this long for its item's or vault's slot before handing its message back.
                ("RESTORE_CONCURRENCY_WAIT_SECONDS", "20".into()),
                ("RESTORE_MAX_DELIVERY_COUNT", "5".into()),
                ("RUST_LOG", "info".into()),
            ]
            .into_iter()
            .map(|(k, v): (&str, String)| (k.to_string(), v)),
        );
        let (store, azurite): (Arc<dyn StateStore>, _) = match backend {
            Backend::Sqlite => (Arc::new(SqliteStore::open(&db).expect("SQLite store opens")), None),
            Backend::Blob => {
                // Azurite gets a certificate from the emulator's CA, so the functions trust both the same way.
                CertAuthority::load(&certs)
                    .and_then(|ca| ca.write_certs(&certs, &backup_emulator::tls::default_sans()))
                    .expect("server certificate for Azurite");
                let (cert, key, work) =
                    (certs.join("server.pem"), certs.join("server-key.pem"), dir.path().to_path_buf());
                let azurite = tokio::task::spawn_blocking(move || Azurite::start(&cert, &key, &work))
                    .await
                    .expect("Azurite starts");
                let container = format!("{}/devstoreaccount1/restore-state", azurite.origin);
                // The functions use the real managed-identity credential (IDENTITY_* on their command); this process
                // asks the same endpoint explicitly, so it never sets variables in its own environment.
                let credential = restore_e2e::identity::EndpointIdentity::new(&emu.identity_url, &emu.identity_header);
                let transport = restore_engine::transport::transport(&restore_engine::transport::TransportOptions {
                    extra_ca_files: vec![emu.ca_file.clone()],
                    ..Default::default()
                })
                .expect("transport");
                let store = BlobStore::new(&container, credential, Some(transport)).expect("Blob store");
                store.create_container_if_missing().await.expect("container created");
                settings.retain(|(k, _)| k != "RESTORE_STORE");
                settings.push(("RESTORE_STORE".into(), "blob".into()));
                settings.push(("RESTORE_BLOB_CONTAINER_URL".into(), container));
                (Arc::new(store) as Arc<dyn StateStore>, Some(azurite))
            }
        };
        Stack { emu, db, settings, store, admin: reqwest::Client::new(), _azurite: azurite, dir }
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.into(), value.into()));
    }

    pub async fn worker(&self, bin: &str) -> Worker {
        let exe = workspace_bin(bin).unwrap_or_else(|e| panic!("{bin} binary: {e}"));
        Worker::spawn(exe, self.settings.clone()).await.unwrap_or_else(|e| panic!("{bin} starts: {e}"))
    }

    pub async fn intake(&self) -> Worker {
        self.worker("intake").await
    }

    /// The tracker, ticking in the background every 100 ms as its timer does in production (every 30 s there),
    /// until the returned guard is dropped. Its results are discarded: tests that need them tick themselves.
    pub async fn ticking_tracker(&self) -> (Worker, TickingGuard) {
        let tracker = self.worker("tracker").await;
        let client = tracker.client();
        let task = tokio::spawn(async move {
            loop {
                let invocation = restore_e2e::TimerPayload::without_status().invocation("RestoreTracker", "timer");
                let _ = client.invoke(&invocation).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        (tracker, TickingGuard(task))
    }

    /// The store the functions use (SQLite file or Blob container).
    pub fn store(&self) -> Arc<dyn StateStore> {
        self.store.clone()
    }

    pub async fn record(&self, request_id: &str) -> restore_store::Record {
        self.store().get(request_id).await.expect("store reads").unwrap_or_else(|| panic!("no record for {request_id}"))
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.admin.request(method, format!("{}{path}", self.emu.admin_url));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let text = req.send().await.expect("admin API answers").text().await.expect("admin body");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn fault(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "/faults", Some(rule)).await;
    }

    /// The emulator's request log.
    pub async fn log(&self) -> Vec<Value> {
        self.admin(reqwest::Method::GET, "/log", None).await.as_array().cloned().unwrap_or_default()
    }

    /// Requests that change something in Azure (any POST/PUT/DELETE other than read-only POSTs and validations).
    pub async fn azure_writes(&self) -> Vec<Value> {
        const READ_ONLY_POSTS: &[&str] = &[
            "dpp.validateRestore",
            "dpp.validateForBackup",
            "dpp.findRestorableTimeRanges",
            "dpp.crr.fetchSecondaryRecoveryPoints",
            "dpp.crr.validateCrossRegionRestore",
            "dpp.crr.fetchCrossRegionRestoreJob",
            "dpp.crr.fetchCrossRegionRestoreJobs",
            "rsv.validateOperation",
            "crr.accessToken",
            "crr.job",
            "crr.jobs",
        ];
        self.log()
            .await
            .into_iter()
            .filter(|e| e["method"] != "GET" && !READ_ONLY_POSTS.contains(&e["route"].as_str().unwrap_or_default()))
            .collect()
    }

    /// Restore jobs the emulator holds.
    pub async fn jobs(&self) -> Vec<Value> {
        self.emu.resources()["jobs"].as_array().cloned().unwrap_or_default()
    }
}

/// An ARM client for the test process itself, pointed at the emulator explicitly (its endpoint, CA and identity
/// endpoint), with `writes` as its write budget.
pub fn arm_client(stack: &Stack, writes: restore_engine::budget::BucketLimits) -> restore_engine::client::ArmClient {
    let cloud = restore_engine::cloud::Cloud::Custom {
        arm_endpoint: restore_engine::cloud::parse_endpoint(&stack.emu.arm_url).expect("the emulator's ARM URL"),
        audience: "https://management.azure.com/".into(),
    };
    let mut options = restore_engine::pipeline::PipelineOptions::for_cloud(cloud);
    options.transport.extra_ca_files = vec![stack.emu.ca_file.clone()];
    options.budget.writes = writes;
    let credential = restore_e2e::identity::EndpointIdentity::new(&stack.emu.identity_url, &stack.emu.identity_header);
    restore_engine::client::ArmClient::from_options(&options, credential).expect("ARM client")
}

pub fn trigger() -> SbTrigger {
    SbTrigger::new("message").binary()
}

pub fn queue() -> ServiceBusQueue {
    ServiceBusQueue::new(
        QueueConfig::new("RestoreIntake", trigger())
            .max_delivery_count(5)
            .output(OutputBinding::service_bus("results")),
    )
}

/// The results a queue run collected, parsed.
pub fn results(queue: &ServiceBusQueue) -> Vec<Value> {
    queue
        .sent
        .get("results")
        .map(|all| all.iter().map(|b| serde_json::from_slice(b).expect("results are JSON")).collect())
        .unwrap_or_default()
}

pub fn result_for<'a>(results: &'a [Value], request_id: &str) -> Vec<&'a Value> {
    results.iter().filter(|r| r["requestId"] == request_id).collect()
}

/// One delivery of `message` (DeliveryCount `n`) straight to a worker.
pub async fn deliver(worker: &Worker, message: &SbMessage, n: u32) -> HostResponse {
    let message = message.clone().delivery_count(n);
    let invocation: HostInvocation = message.invocation("RestoreIntake", &trigger());
    worker.invoke(&invocation).await.expect("the worker answers")
}

/// The `results` output of a successful invocation, parsed.
pub fn outputs(response: &HostResponse) -> Vec<Value> {
    let success = response.success().unwrap_or_else(|e| panic!("invocation failed: {e}"));
    let Some((_, value)) = success.outputs.iter().find(|(k, _)| k.eq_ignore_ascii_case("results")) else {
        return Vec::new();
    };
    restore_e2e::service_bus_messages("results", value, false)
        .expect("results output is well-formed")
        .iter()
        .map(|b| serde_json::from_slice(b).expect("result JSON"))
        .collect()
}

pub fn request(path: &str, request_id: &str) -> SbMessage {
    let mut body = example_json(path);
    body["requestId"] = json!(request_id);
    SbMessage::new(body.to_string().into_bytes()).message_id(format!("msg-{request_id}"))
}

pub const WAIT: Duration = Duration::from_secs(60);
