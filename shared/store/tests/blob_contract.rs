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

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, RequestContent, Url};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use backup_emulator::scenario::Scenario;
use backup_emulator::tls::CertAuthority;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use common::Backend;
use restore_connect::credential::{self, CredentialSource};
use restore_connect::transport::{self, TransportOptions};
use restore_e2e::azurite::Azurite;
use restore_store::blob::layout::blob_name;
use restore_store::{BlobStore, StateStore, StoreError};

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
        // An unconditional upload without our metadata, as a person or another tool might write it: through a
        // container client of the test's own, so the store needs no test-only accessor to its client.
        let options = BlobContainerClientOptions {
            client_options: ClientOptions { transport: Some(transport_for(&self.ca_file)), ..Default::default() },
            ..Default::default()
        };
        let url = Url::parse(&self.container_url).unwrap();
        BlobContainerClient::new(url, Some(self.credential.clone()), Some(options))
            .unwrap()
            .blob_client(&blob_name(request_id))
            .upload(RequestContent::from(bytes.to_vec()), None)
            .await
            .unwrap();
    }
}

contract_tests!(setup);

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
    assert!(err.to_string().contains("Storage Blob Data Contributor"), "{err}");
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
