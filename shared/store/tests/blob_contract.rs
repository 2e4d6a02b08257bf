//! The contract suite against the Blob store on a real Azurite, reached the way production reaches Azure
//! Storage: HTTPS (the emulator's CA trusted through `restore_connect::transport`), a bearer token from the
//! emulator's App Service-style identity endpoint, and Azurite's `--oauth basic` checking the token's issuer,
//! audience and lifetime.
//!
//! azure_identity's `ManagedIdentityCredential` reads its endpoint only from the process environment, which a
//! running test must not change; the test asks the same endpoint through `restore_e2e::identity` instead, and
//! checks that those settings choose the App Service managed identity, as they do in the function apps (which use
//! the real credential, and run in the end-to-end tests).

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Method, Request, RequestContent, Transport, Url};
use azure_storage_blob::models::BlobClientUploadOptions;
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use backup_emulator::scenario::Scenario;
use backup_emulator::tls::CertAuthority;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use common::Backend;
use restore_connect::credential::{self, CredentialSource};
use restore_connect::transport::{self, TransportOptions};
use restore_e2e::azurite::Azurite;
use restore_store::blob::layout::{self, blob_name};
use restore_store::{BlobStore, Record, State, StateStore, StoreError};
use time::Duration;

struct Blob {
    store: Arc<BlobStore>,
    container_url: String,
    credential: Arc<dyn TokenCredential>,
    ca_file: std::path::PathBuf,
    // Dropped in declaration order: the store first, then Azurite (killed), the emulator, the certificates.
    _azurite: Azurite,
    _emulator: EmulatorHandle,
    _dir: tempfile::TempDir,
}

const SCENARIO: &str = r#"{
    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "principals": [{"clientId": "11111111-1111-1111-1111-111111111111", "objectId": "22222222-2222-2222-2222-222222222222"}],
    "subscriptions": []
}"#;

fn transport_for(ca_file: &std::path::Path) -> azure_core::http::Transport {
    transport::transport(&TransportOptions { extra_ca_files: vec![ca_file.to_path_buf()], ..Default::default() })
        .unwrap()
}

async fn setup() -> Blob {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().to_path_buf();
    // One CA for the emulator and Azurite: the emulator creates it in `certs`, then issues Azurite's certificate.
    let emulator = Emulator::start(EmulatorConfig {
        ca_dir: Some(certs.clone()),
        ..EmulatorConfig::new(Scenario::from_json(SCENARIO).unwrap())
    })
    .await
    .unwrap();
    CertAuthority::load(&certs).unwrap().write_certs(&certs, &backup_emulator::tls::default_sans()).unwrap();

    // The functions choose the App Service managed identity from these settings; this process asks the same
    // endpoint explicitly (setting variables in a running test process is unsound).
    let settings =
        [("IDENTITY_ENDPOINT", emulator.identity_url.clone()), ("IDENTITY_HEADER", emulator.identity_header.clone())];
    let lookup = |k: &str| settings.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let source = credential::choose_source(lookup, false).unwrap();
    assert_eq!(source, CredentialSource::AppServiceManagedIdentity { client_id: None });
    let credential: std::sync::Arc<dyn azure_core::credentials::TokenCredential> =
        restore_e2e::identity::EndpointIdentity::new(&emulator.identity_url, &emulator.identity_header);

    let (cert, key, workdir) = (certs.join("server.pem"), certs.join("server-key.pem"), certs.clone());
    let azurite = tokio::task::spawn_blocking(move || Azurite::start(&cert, &key, &workdir)).await.unwrap();
    let container_url = format!("{}/devstoreaccount1/restore-state", azurite.origin);
    let store = BlobStore::new(&container_url, credential.clone(), Some(transport_for(&emulator.ca_file))).unwrap();
    store.create_container_if_missing().await.unwrap();
    store.check().await.unwrap();
    Blob {
        store: Arc::new(store),
        container_url,
        credential,
        ca_file: emulator.ca_file.clone(),
        _azurite: azurite,
        _emulator: emulator,
        _dir: dir,
    }
}

#[async_trait]
impl Backend for Blob {
    fn store(&self) -> Arc<dyn StateStore> {
        self.store.clone()
    }

    async fn another(&self) -> Arc<dyn StateStore> {
        Arc::new(
            BlobStore::new(&self.container_url, self.credential.clone(), Some(transport_for(&self.ca_file))).unwrap(),
        )
    }

    async fn plant(&self, request_id: &str, bytes: &[u8]) {
        // An unconditional upload without our metadata or tags, as a person or another tool might write it.
        self.container()
            .blob_client(&blob_name(request_id))
            .upload(RequestContent::from(bytes.to_vec()), None)
            .await
            .unwrap();
    }
}

impl Blob {
    /// A container client of the test's own, so the store needs no test-only accessor to its client.
    fn container(&self) -> BlobContainerClient {
        let options = BlobContainerClientOptions {
            client_options: ClientOptions { transport: Some(transport_for(&self.ca_file)), ..Default::default() },
            ..Default::default()
        };
        BlobContainerClient::new(Url::parse(&self.container_url).unwrap(), Some(self.credential.clone()), Some(options))
            .unwrap()
    }

    /// A second store on the same container whose every HTTP request is recorded.
    fn counted(&self) -> (BlobStore, Arc<Counting>) {
        let options = TransportOptions { extra_ca_files: vec![self.ca_file.clone()], ..Default::default() };
        let counting =
            Arc::new(Counting { inner: Arc::new(transport::http_client(&options).unwrap()), seen: Mutex::default() });
        let store =
            BlobStore::new(&self.container_url, self.credential.clone(), Some(Transport::new(counting.clone())))
                .unwrap();
        (store, counting)
    }
}

/// An HTTP client that records each request as `GET find` (Find Blobs by Tags), `GET list` (List Blobs),
/// `GET <blob name>` (a download) or `other <blob name>`, and hands it to the real one.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn HttpClient>,
    seen: Mutex<Vec<String>>,
}

impl Counting {
    /// The requests recorded since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

#[async_trait]
impl HttpClient for Counting {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let url = request.url();
        let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let what = if query.iter().any(|(k, _)| k == "where") {
            "find".to_string()
        } else if query.iter().any(|(k, v)| k == "comp" && v == "list") {
            "list".to_string()
        } else {
            // The blob name after the container (base64url: only the `/` after `records` comes encoded).
            let path = url.path().replace("%2F", "/");
            path.split_once("/restore-state/").map_or(path.clone(), |(_, blob)| blob.to_string())
        };
        let method = if request.method() == Method::Get { "GET" } else { "other" };
        self.seen.lock().unwrap().push(format!("{method} {what}"));
        self.inner.execute_request(request).await
    }
}

/// A record in `state`, scheduled at `at`.
fn scheduled(id: &str, state: State, published: bool, at: time::OffsetDateTime) -> Record {
    let mut r = common::record(id, "/v/a", common::T0);
    r.state = state;
    r.result_published = published;
    r.next_poll_at = Some(at);
    r
}

contract_tests!(setup);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn due_asks_the_index_once_and_downloads_only_due_records_however_many_are_stored() {
    // An idle tick must cost the same with 0 or 60 finished records stored: one Find Blobs by Tags call and one
    // download per due record, never a listing of records/ and never a finished record's blob.
    let backend = setup().await;
    let store = backend.store();
    let (counted, requests) = backend.counted();
    let now = common::T0 + Duration::hours(1);
    let due_ids = ["due-a", "due-b", "due-c"];
    for (i, id) in due_ids.iter().enumerate() {
        store.create(&scheduled(id, State::Running, false, now - Duration::minutes(3 - i as i64))).await.unwrap();
    }
    store.create(&scheduled("later", State::Running, false, now + Duration::seconds(1))).await.unwrap();
    let mut expected: Vec<String> =
        ["GET find".to_string()].into_iter().chain(due_ids.iter().map(|id| format!("GET {}", blob_name(id)))).collect();
    expected.sort();

    let mut measured = Vec::new();
    for finished in [0, 60] {
        for i in 0..finished {
            // Finished and published, scheduled in the past: due by every rule but the one that matters.
            let mut r = scheduled(&format!("done-{finished}-{i}"), State::Succeeded, true, now - Duration::hours(1));
            r.result = Some(serde_json::json!({"status": "Succeeded"}));
            store.create(&r).await.unwrap();
        }
        // Idle: at T0 nothing is due (the finished records' poll time is T0, but they are finished).
        requests.take();
        assert!(counted.due(common::T0, 100).await.unwrap().is_empty());
        let idle = requests.take();
        assert_eq!(idle, ["GET find"], "idle, with {finished} finished records stored");

        let due = counted.due(now, 100).await.unwrap();
        let ids: Vec<&str> = due.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, due_ids);
        // Downloads run concurrently: compare sorted ("GET find" sorts before "GET records/…").
        let mut busy = requests.take();
        busy.sort();
        assert_eq!(busy, expected, "three due, with {finished} finished records stored");
        measured.push((finished, idle.len(), busy.len()));
    }
    assert_eq!(measured, [(0, 1, 4), (60, 1, 4)], "(finished records stored, requests idle, requests with 3 due)");

    // With a limit only the first `limit` by the index are downloaded.
    let due = counted.due(now, 2).await.unwrap();
    assert_eq!(due.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["due-a", "due-b"]);
    assert_eq!(requests.take().len(), 3, "one Find call and two downloads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_leave_the_index_when_they_end_and_move_in_it_when_rescheduled() {
    let backend = setup().await;
    let store = backend.store();
    let (counted, requests) = backend.counted();
    let now = common::T0 + Duration::hours(1);
    let ending = store.create(&scheduled("ending", State::Running, false, now - Duration::minutes(2))).await.unwrap();
    let moving = store.create(&scheduled("moving", State::Running, false, now - Duration::minutes(1))).await.unwrap();
    assert_eq!(counted.due(now, 10).await.unwrap().len(), 2);

    // Ended and published: gone from the index itself, so not even downloaded.
    let ended = Record { state: State::Succeeded, result_published: true, ..ending };
    store.update(&ended).await.unwrap();
    // Rescheduled later than now: the index holds the new time, so it is not downloaded before then either.
    let later = now + Duration::minutes(5);
    store.update(&Record { next_poll_at: Some(later), ..moving }).await.unwrap();
    requests.take();
    assert!(counted.due(now, 10).await.unwrap().is_empty());
    assert_eq!(requests.take(), ["GET find"]);
    assert!(counted.due(later - Duration::nanoseconds(1), 10).await.unwrap().is_empty());
    assert_eq!(requests.take(), ["GET find"], "one nanosecond before its time");

    let due = counted.due(later, 10).await.unwrap();
    assert_eq!(due.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["moving"]);
    assert_eq!(requests.take(), ["GET find".to_string(), format!("GET {}", blob_name("moving"))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_written_before_the_due_tag_are_due_after_reindex() {
    // A record stored by an earlier build has our metadata but no index tag: never due until re-saved.
    let backend = setup().await;
    let store = backend.store();
    let now = common::T0 + Duration::hours(1);
    let mut stored = Vec::new();
    for r in [
        scheduled("old-running", State::Running, false, now - Duration::minutes(1)),
        scheduled("old-unpublished", State::Failed, false, now - Duration::minutes(2)),
        scheduled("old-done", State::Succeeded, true, now - Duration::minutes(3)),
        Record { next_poll_at: None, ..scheduled("old-unscheduled", State::Received, false, now) },
    ] {
        let created = store.create(&r).await.unwrap();
        let document = serde_json::to_vec(&Record { version: String::new(), ..created.clone() }).unwrap();
        let options = BlobClientUploadOptions { metadata: Some(layout::metadata(&created)), ..Default::default() };
        backend
            .container()
            .blob_client(&blob_name(&r.request_id))
            .upload(RequestContent::from(document), Some(options))
            .await
            .unwrap();
        stored.push(r.request_id);
    }
    assert!(store.due(now, 10).await.unwrap().is_empty(), "untagged records are not due");

    assert_eq!(store.reindex().await.unwrap(), 2, "only the records that can be due are re-saved");
    let due = store.due(now, 10).await.unwrap();
    assert_eq!(due.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["old-unpublished", "old-running"]);
    assert_eq!(store.reindex().await.unwrap(), 2, "safe to repeat");
    for id in stored {
        assert!(store.get(&id).await.unwrap().is_some(), "{id} is still there");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_container_fails_the_startup_check_with_the_setting_named() {
    let backend = setup().await;
    let url = backend.container_url.replace("restore-state", "missing");
    let store = BlobStore::new(&url, backend.credential.clone(), Some(transport_for(&backend.ca_file))).unwrap();
    let err = store.check().await.unwrap_err();
    assert!(err.to_string().contains("RESTORE_BLOB_CONTAINER_URL"), "{err}");
    // Operations on it are transient failures (the intake fails the invocation; Service Bus redelivers).
    let err = store.get("x").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("RESTORE_BLOB_CONTAINER_URL"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn azurite_refuses_requests_without_a_valid_token() {
    // Proves the suite really runs with OAuth: a store whose tokens have the wrong audience is refused.
    #[derive(Debug)]
    struct WrongAudience(Arc<dyn TokenCredential>);
    #[async_trait]
    impl TokenCredential for WrongAudience {
        async fn get_token(
            &self,
            _scopes: &[&str],
            options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            self.0.get_token(&["https://management.azure.com/.default"], options).await
        }
    }
    let backend = setup().await;
    let wrong = Arc::new(WrongAudience(backend.credential.clone()));
    let store = BlobStore::new(&backend.container_url, wrong, Some(transport_for(&backend.ca_file))).unwrap();
    let err = store.get("x").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains(restore_store::blob::ROLE), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blobs_without_our_metadata_are_judged_on_their_document() {
    // Listings trust the metadata summary written with each blob; a blob written by another tool (valid JSON,
    // no metadata) must still be counted and listed from its document.
    let backend = setup().await;
    let store = backend.store();
    let mut r = common::record("meta", "/v/a", common::T0);
    r.state = restore_store::State::Accepted;
    let created = store.create(&r).await.unwrap();
    let document = serde_json::to_vec(&restore_store::Record { version: String::new(), ..created }).unwrap();
    backend.plant("meta", &document).await;
    assert_eq!(store.count_active("/v/a").await.unwrap(), 1);
    let listed = store.list(&restore_store::ListFilter::states([restore_store::State::Accepted]), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].request_id, "meta");
}
