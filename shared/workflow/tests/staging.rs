//! Reading a restore-disks job's staging config: the storage token goes only to the account the request named,
//! at the configured endpoint, whatever the job's property bag says.

mod common;

use std::sync::Arc;

use azure_core::http::Transport;
use common::{Azure, Reply, StaticCredential};
use restore_engine::jobs::StagingFiles;
use restore_workflow::clock::TokioClock;
use restore_workflow::staging::{StagingEndpoint, StagingError, StagingReader, decode_config, restored_disks};

const CONFIG: &str =
    r#"{"properties.storageProfile":{"osDisk":{"name":"vm1-osdisk"},"dataDisks":[{"lun":1,"name":"vm1-data1"}]}}"#;

fn setup() -> (Azure, StagingReader) {
    let azure = Azure::new(TokioClock::starting_at(common::START));
    let endpoint = StagingEndpoint::parse("https://{account}.blob.staging.invalid").unwrap();
    let transport = Transport::new(Arc::new(azure.clone()));
    (azure.clone(), StagingReader::new(endpoint, Arc::new(StaticCredential), Some(transport)))
}

fn files(config_uri: &str) -> StagingFiles {
    StagingFiles {
        account: "stage01".into(),
        container: "vm1-0123456789abcdef".into(),
        config_blob: "config-vm1-job.json".into(),
        config_uri: Some(config_uri.into()),
        template_uri: None,
        target_resource_group: Some("rg-restore".into()),
    }
}

fn utf16_padded(text: &str) -> Vec<u8> {
    let mut out: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    out.extend([0, 0, 0, 0]);
    out
}

#[tokio::test(start_paused = true)]
async fn the_config_is_read_from_the_configured_endpoint_never_from_the_uri_azure_reported() {
    let (azure, reader) = setup();
    azure.script("GET", "/config-vm1-job.json", 1, Reply::Raw(200, utf16_padded(CONFIG), vec![]));
    let bytes = reader.read_config(&files("https://evil.invalid/steal/config-vm1-job.json"), "stage01").await.unwrap();
    let log = azure.log();
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].url, "https://stage01.blob.staging.invalid/vm1-0123456789abcdef/config-vm1-job.json");
    assert!(log[0].authorization.is_some(), "the read is authenticated");
    let group = restore_models::arm_id::ResourceGroupId::parse(
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-restore",
    )
    .unwrap();
    let disks = restored_disks(&decode_config(&bytes).unwrap(), &group).unwrap();
    assert_eq!(disks.len(), 2);
    assert!(disks[1].ends_with("/resourceGroups/rg-restore/providers/Microsoft.Compute/disks/vm1-data1"));
}

#[tokio::test(start_paused = true)]
async fn a_job_naming_another_account_gets_no_request_and_no_token() {
    let (azure, reader) = setup();
    let error = reader.read_config(&files("https://stage01.blob.staging.invalid/x/y"), "requested01").await;
    assert!(matches!(error, Err(StagingError::OtherAccount { .. })), "{error:?}");
    assert!(azure.log().is_empty(), "{:#?}", azure.log());
}

#[tokio::test(start_paused = true)]
async fn a_missing_config_is_a_read_error_naming_the_blob() {
    let (azure, reader) = setup();
    let missing = Reply::Raw(404, b"<Error><Code>BlobNotFound</Code></Error>".to_vec(), vec![]);
    azure.script("GET", "/config-vm1-job.json", 5, missing);
    let error = reader.read_config(&files("unused"), "stage01").await.unwrap_err();
    assert!(matches!(&error, StagingError::Read { blob, .. } if blob.ends_with("/config-vm1-job.json")), "{error}");
}
