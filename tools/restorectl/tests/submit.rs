//! `restorectl submit` against a local stand-in for the Service Bus REST endpoint: HTTPS with a certificate from
//! the emulator's CA (trusted through RESTORE_EXTRA_CA_FILES, as in production with a corporate CA), and tokens
//! from the real azure_identity `ManagedIdentityCredential` in the child process talking to the emulator's
//! App Service identity endpoint. The stand-in records what arrives and answers with scripted statuses.
//!
//! The identity variables are given to the child process only; this process's environment is not changed.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use backup_emulator::scenario::Scenario;
use backup_emulator::tls::CertAuthority;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use base64::Engine;
use common::{Run, at, restorectl};
use serde_json::Value;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SCENARIO: &str = r#"{
    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "principals": [{"clientId": "11111111-1111-1111-1111-111111111111", "objectId": "22222222-2222-2222-2222-222222222222"}],
    "subscriptions": []
}"#;
const POLICY: &str = "examples/policy.json";

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Received {
    queue: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Fake {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer with, in order; 201 Created (Service Bus's success) once they run out.
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

async fn messages(State(fake): State<Fake>, Path(queue): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    fake.received.lock().unwrap().push(Received { queue, headers, body });
    let status = fake.statuses.lock().unwrap().pop_front().unwrap_or(201);
    StatusCode::from_u16(status).unwrap()
}

struct Setup {
    emulator: EmulatorHandle,
    fake: Fake,
    /// `https://127.0.0.1:PORT`
    endpoint: String,
    _certs: tempfile::TempDir,
}

async fn setup(statuses: &[u16]) -> Setup {
    let certs = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(EmulatorConfig {
        ca_dir: Some(certs.path().to_path_buf()),
        ..EmulatorConfig::new(Scenario::from_json(SCENARIO).unwrap())
    })
    .await
    .unwrap();
    // The stand-in's certificate comes from the emulator's CA, so the one CA file trusts it.
    let ca = CertAuthority::load(certs.path()).unwrap();
    let fake = Fake { statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())), ..Default::default() };
    let router = Router::new().route("/{queue}/messages", post(messages)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    backup_emulator::tls::serve_router(listener, router, &ca).unwrap();
    Setup { emulator, fake, endpoint, _certs: certs }
}

impl Setup {
    /// `restorectl` with the identity endpoint and the CA configured, as a Functions host or a developer would.
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = restorectl(args);
        command
            .env("IDENTITY_ENDPOINT", &self.emulator.identity_url)
            .env("IDENTITY_HEADER", &self.emulator.identity_header)
            .env("RESTORE_EXTRA_CA_FILES", &self.emulator.ca_file);
        tokio::process::Command::from(command)
    }

    fn received(&self) -> Vec<Received> {
        self.fake.received.lock().unwrap().clone()
    }
}

async fn run(mut command: tokio::process::Command) -> Run {
    Run::from(command.output().await.unwrap())
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers)).to_str().unwrap()
}

fn message_id(r: &Received) -> String {
    let props: Value = serde_json::from_str(header(r, "brokerproperties")).unwrap();
    props["MessageId"].as_str().unwrap().to_string()
}

/// The claims of the bearer token (the emulator's tokens are JWTs; the signature is not the point here).
fn token_claims(r: &Received) -> Value {
    let token = header(r, "authorization").strip_prefix("Bearer ").expect("a bearer token");
    let claims = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sends_the_request_with_a_service_bus_token_and_its_request_id_as_message_id() {
    let s = setup(&[]).await;
    let file = at("examples/requests/disk-to-new-disk.json");
    let args = ["submit", file.to_str().unwrap(), "--policy", POLICY, "--queue", "restore-requests"];
    let mut command = s.command(&args);
    command.args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("sent: message ticket-INC0012345"), "{}", out.stdout);
    assert!(out.stdout.contains("restorectl status ticket-INC0012345"), "{}", out.stdout);

    let received = s.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let r = &received[0];
    assert_eq!(r.queue, "restore-requests");
    assert_eq!(r.body, std::fs::read(&file).unwrap(), "the body is the file, unchanged");
    assert_eq!(header(r, "content-type"), "application/json");
    assert_eq!(message_id(r), "ticket-INC0012345");
    let claims = token_claims(r);
    assert_eq!(claims["aud"], "https://servicebus.azure.net", "{claims}");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"), "{claims}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_request_id_gets_a_new_message_id_printed_for_following_it() {
    let s = setup(&[]).await;
    let file = at("examples/requests/disk-point-in-time.json");
    let mut command = s.command(&["--json", "submit", file.to_str().unwrap(), "--policy", POLICY]);
    // Queue from the intake's own setting.
    command.env("RESTORE_REQUESTS_QUEUE", "restore-requests").args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 0, "{out:?}");
    let printed = out.json();
    let received = s.received();
    assert_eq!(received.len(), 1);
    let id = message_id(&received[0]);
    assert_eq!(printed["messageId"], id.as_str());
    assert!(uuid_like(&id), "{id}");
    assert_eq!(printed["url"], format!("{}/restore-requests/messages", s.endpoint));
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_namespace_is_retried_by_the_pipeline_with_the_same_message() {
    let s = setup(&[503]).await;
    let file = at("examples/requests/vm-restore-disks.json");
    let mut command = s.command(&["submit", file.to_str().unwrap(), "--policy", POLICY, "--queue", "q1"]);
    command.args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 0, "{out:?}");
    let received = s.received();
    assert_eq!(received.len(), 2, "one 503, then the retry");
    assert_eq!(message_id(&received[0]), message_id(&received[1]));
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_exits_3_with_the_fix() {
    let s = setup(&[403]).await;
    let file = at("examples/requests/vm-restore-disks.json");
    let mut command = s.command(&["submit", file.to_str().unwrap(), "--policy", POLICY, "--queue", "q1"]);
    command.args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("403") && out.stderr.contains("Azure Service Bus Data Sender"), "{}", out.stderr);
    assert_eq!(s.received().len(), 1, "a 403 is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_request_is_not_sent() {
    let s = setup(&[]).await;
    let file = at("examples/requests/invalid-typo-field.json");
    let mut command = s.command(&["submit", file.to_str().unwrap(), "--policy", POLICY, "--queue", "q1"]);
    command.args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("operation.targetResourceGroupID"), "{}", out.stdout);
    assert!(out.stderr.contains("not sent"), "{}", out.stderr);
    assert!(s.received().is_empty());

    // The policy is checked too: with no policy every vault is refused, as the intake would.
    let file = at("examples/requests/disk-to-new-disk.json");
    let mut command = s.command(&["submit", file.to_str().unwrap(), "--queue", "q1"]);
    command.args(["--endpoint", &s.endpoint]);
    let out = run(command).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("policy.vaultNotAllowed"), "{}", out.stdout);
    assert!(s.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_never_go_over_plain_http_or_to_a_malformed_destination() {
    let s = setup(&[]).await;
    let file = at("examples/requests/disk-to-new-disk.json");
    let plain = s.endpoint.replace("https://", "http://");
    let cases: [(&[&str], &str); 5] = [
        (&["--queue", "q1", "--endpoint", &plain], "not https"),
        (&["--queue", "q1", "--namespace", "http://bus.servicebus.windows.net"], "plain http"),
        (&["--queue", "q1", "--namespace", "https://bus.servicebus.windows.net"], "scheme"),
        (&["--queue", "q1/../other", "--namespace", "bus.servicebus.windows.net"], "is not a queue or topic name"),
        (&["--namespace", "bus.servicebus.windows.net"], "RESTORE_REQUESTS_QUEUE"),
    ];
    for (flags, expected) in cases {
        let mut command = s.command(&["submit", file.to_str().unwrap(), "--policy", POLICY]);
        command.args(flags);
        let out = run(command).await;
        assert_eq!(out.code, 2, "{flags:?}: {out:?}");
        assert!(out.stderr.contains(expected), "{flags:?}: {}", out.stderr);
    }
    // Namespace from its setting, validated the same way.
    let mut command = s.command(&["submit", file.to_str().unwrap(), "--policy", POLICY, "--queue", "q1"]);
    command.env("RESTORE_SERVICEBUS_NAMESPACE", "mybus");
    let out = run(command).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("RESTORE_SERVICEBUS_NAMESPACE") && out.stderr.contains("fully qualified"), "{out:?}");
    assert!(s.received().is_empty());
}
