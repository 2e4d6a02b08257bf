//! The production store: Azure Blob Storage, one JSON blob per request (see [`layout`] for names, metadata and the
//! due tag).
//!
//! * `create` is Put Blob with `If-None-Match: *`; `update` is Put Blob with `If-Match: <ETag>`. The ETag is the
//!   record's version. Storage evaluates the condition and the write atomically, so of several writers holding
//!   the same ETag exactly one succeeds (409/412 for the rest). Every record write also carries the metadata
//!   summary and, while the record can be due, the due index tag (`x-ms-tags`), atomically with the content.
//! * `get` is one Get Blob.
//! * `due` (the tracker's every tick) asks the blob index: one Find Blobs by Tags call (`"due" <= '<now>'`, 5,000
//!   names per page) returns the records due by their tag, sorted here on the tag's value (then request id)
//!   without downloading; only the first `limit` are downloaded, each checked again with [`Record::is_due`]. The
//!   index is eventually consistent in Azure (seconds behind a write): a record no longer due is dropped by that
//!   check (and the next candidate downloaded instead), one written due a moment ago is found on a later tick.
//!   Records without the tag are never due: hand-written blobs, and records written before the tag existed (the
//!   upgrade step is [`StateStore::reindex`], `restorectl reindex`, once).
//! * `list` and `count_active` still list every blob under `records/` *with metadata* and filter on the summary;
//!   only records that pass are downloaded (and re-checked, since they may have changed since the listing),
//!   blobs without our metadata are downloaded and judged on their document; `count_active` downloads nothing
//!   else. Operators' tools and the drill function call them; the tracker does not.
//! * Cost: `due` is one Find Blobs by Tags call per 5,000 records *due now* (whatever the number stored) plus one
//!   Get Blob per returned record (a few more only when the index lags); an idle `due` is one call. `list` and
//!   `count_active` are one List Blobs call per 5,000 records *ever stored* (terminal ones included) plus one Get
//!   Blob per returned record. The tracker calls only `due` (records a crashed intake left are due at their
//!   takeover time), so an idle tracker tick is 1 Find call whatever the number of records stored; `list` serves
//!   operator tools and the drills' vault-share check. Index tags cost per tag stored per month; a
//!   record holds at most one, and only while open.
//! * Authentication: an Entra token (`TokenCredential`, managed identity in Azure) with the storage scope; no
//!   account keys or connection strings. The identity needs on the container Storage Blob Data Contributor's data
//!   actions plus blob index tags (`blobs/tags/write` for every record write, `blobs/filter/action` for `due`):
//!   the templates' custom role ([`ROLE`]), or Storage Blob Data Owner. The transport is
//!   [`restore_connect::transport`], so extra CAs (the emulator's, a corporate proxy's) are trusted.

pub mod layout;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, RequestContent, StatusCode, Transport, Url};
use azure_storage_blob::models::{BlobClientUploadOptions, BlobContainerClientListBlobsOptions, ListBlobsIncludeItem};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use futures::TryStreamExt;
use time::OffsetDateTime;

use crate::error::{StoreError, check_request_id, display_id};
use crate::record::Record;
use crate::slots::check_document_key;
use crate::store::Document;
use crate::store::{ListFilter, StateStore};
use layout::{RECORD_PREFIX, Summary, blob_name, request_id_of, slots_blob_name};
use restore_connect::blob::{is_blob_not_found, is_condition_lost};

/// How many blobs `due`/`list` download at once.
const FETCH_CONCURRENCY: usize = 8;

/// The role the identity needs on the container, as error hints name it: the templates' custom role
/// (`Restore state records (<account>)`: Storage Blob Data Contributor's data actions plus blob index tags).
/// Storage Blob Data Owner holds the same rights and more.
pub const ROLE: &str = "Restore state records";

/// The Blob store could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum BlobConfigError {
    /// The container URL is unusable.
    #[error("RESTORE_BLOB_CONTAINER_URL='{url}' {problem}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong and the fix.
        problem: String,
    },
    /// The storage client refused the configuration.
    #[error("cannot create the Blob Storage client for '{url}': {message}")]
    Client {
        /// The container URL.
        url: String,
        /// azure_storage_blob's message.
        message: String,
    },
}

/// The Azure Blob Storage store.
pub struct BlobStore {
    container: BlobContainerClient,
    url: Url,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("container_url", &self.url.as_str()).finish()
    }
}

/// Checks a container URL with the rules every Blob client shares ([`restore_connect::blob::parse_container_url`]):
/// https, a host, the container alone in the path, and no query (no SAS: the store authenticates with its
/// identity).
pub fn parse_container_url(text: &str) -> Result<Url, BlobConfigError> {
    restore_connect::blob::parse_container_url("RESTORE_BLOB_CONTAINER_URL", text)
        .map_err(|e| BlobConfigError::BadUrl { url: e.url, problem: e.problem })
}

impl BlobStore {
    /// A store on the container at `container_url`, authenticating with `credential`. `transport` replaces the
    /// default HTTP client (pass [`restore_connect::transport::transport`] to trust extra CAs).
    pub fn new(
        container_url: &str,
        credential: Arc<dyn TokenCredential>,
        transport: Option<Transport>,
    ) -> Result<BlobStore, BlobConfigError> {
        let url = parse_container_url(container_url)?;
        let options = BlobContainerClientOptions {
            client_options: ClientOptions { transport, ..Default::default() },
            ..Default::default()
        };
        let container = BlobContainerClient::new(url.clone(), Some(credential), Some(options))
            .map_err(|e| BlobConfigError::Client { url: url.to_string(), message: e.to_string() })?;
        Ok(BlobStore { container, url })
    }

    /// Checks that the container exists and the identity may read it; the startup probe.
    pub async fn check(&self) -> Result<(), StoreError> {
        match self.container.exists().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(unavailable(format!(
                "the container {} does not exist: create it (the infra templates do) or fix RESTORE_BLOB_CONTAINER_URL",
                self.url
            ))),
            Err(e) => Err(storage_error(&e, "checking the container")),
        }
    }

    /// Creates the container when it does not exist (tests and local setups; in Azure the templates create it
    /// and the identity needs no right to create containers).
    pub async fn create_container_if_missing(&self) -> Result<(), StoreError> {
        match self.container.create(None).await {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::Conflict) => Ok(()),
            Err(e) => Err(storage_error(&e, "creating the container")),
        }
    }

    /// Downloads and parses one record blob. `None` when the blob does not exist.
    async fn read(&self, name: &str) -> Result<Option<Record>, StoreError> {
        let id = request_id_of(name).unwrap_or_else(|| name.to_string());
        let blob = self.container.blob_client(name);
        let downloaded = match blob.download(None).await {
            Ok(d) => d,
            Err(e) if is_blob_not_found(&e) => return Ok(None),
            Err(e) => return Err(storage_error(&e, &format!("reading request '{}'", display_id(&id)))),
        };
        let etag = downloaded.properties.etag.clone().map(|e| e.to_string()).ok_or_else(|| {
            unavailable(format!("reading request '{}': the response carried no ETag", display_id(&id)))
        })?;
        let body = downloaded
            .body
            .collect()
            .await
            .map_err(|e| storage_error(&e, &format!("reading request '{}'", display_id(&id))))?;
        let corrupt = |message: String| StoreError::Corrupt { request_id: id.clone(), message };
        let mut record: Record = serde_json::from_slice(&body).map_err(|e| corrupt(e.to_string()))?;
        if record.request_id != id {
            return Err(corrupt(format!("the document names request '{}'", display_id(&record.request_id))));
        }
        record.version = etag;
        Ok(Some(record))
    }

    /// Put Blob with a condition; returns the new ETag.
    async fn write(&self, record: &Record, condition: Condition<'_>) -> Result<String, azure_core::Error> {
        let mut doc = record.clone();
        doc.version.clear();
        // A Record always serialises (plain data, string keys); a failure here would be a serde bug.
        let body = serde_json::to_vec(&doc).map_err(|e| azure_core::Error::new(ErrorKind::DataConversion, e))?;
        let (if_none_match, if_match) = match condition {
            Condition::Absent => (Some("*".into()), None),
            Condition::Version(etag) => (None, Some(etag.into())),
        };
        let options = BlobClientUploadOptions {
            blob_content_type: Some("application/json".into()),
            metadata: Some(layout::metadata(record)),
            // Put Blob replaces the blob's tags: a record that can no longer be due leaves the index.
            blob_tags_string: layout::due_tags(record),
            if_none_match,
            if_match,
            ..Default::default()
        };
        let blob = self.container.blob_client(&blob_name(&record.request_id));
        let result = blob.upload(RequestContent::from(body), Some(options)).await?;
        result
            .etag
            .map(|e| e.to_string())
            .ok_or_else(|| azure_core::Error::with_message(ErrorKind::Other, "the upload response carried no ETag"))
    }

    /// Every record blob with its metadata summary (`None` when the metadata is missing or not ours).
    async fn summaries(&self) -> Result<Vec<(String, Option<Summary>)>, StoreError> {
        let options = BlobContainerClientListBlobsOptions {
            prefix: Some(RECORD_PREFIX.to_string()),
            include: Some(vec![ListBlobsIncludeItem::Metadata]),
            ..Default::default()
        };
        let mut pages =
            self.container.list_blobs(Some(options)).map_err(|e| storage_error(&e, "listing records"))?.into_pages();
        let mut out = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(|e| storage_error(&e, "listing records"))? {
            let page = page.into_model().map_err(|e| storage_error(&e, "listing records"))?;
            for item in page.blob_items {
                let Some(name) = item.name else { continue };
                if request_id_of(&name).is_none() {
                    tracing::warn!(blob = %name, "ignoring a blob under records/ whose name is not an encoded request id");
                    continue;
                }
                let summary =
                    item.metadata.and_then(|m| m.values).and_then(|m: HashMap<String, String>| layout::summary(&m));
                out.push((name, summary));
            }
        }
        Ok(out)
    }

    /// The record blobs due at `now` by the index, with their due tag values (unsorted: the service returns them
    /// in its own order).
    async fn indexed_due(&self, now: OffsetDateTime) -> Result<Vec<(String, String)>, StoreError> {
        let query = layout::due_query(now);
        let failed = |e: azure_core::Error| storage_error(&e, "finding due records by their index tag");
        let mut pages = self.container.find_blobs_by_tags(&query, None).map_err(failed)?.into_pages();
        let mut out = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(failed)? {
            for item in page.into_model().map_err(failed)?.blob_items {
                let Some(name) = item.name.filter(|n| request_id_of(n).is_some()) else { continue };
                // The service returns the tags the query named; a missing value sorts first and is re-checked.
                let value = item
                    .tags
                    .and_then(|t| t.blob_tag_set)
                    .and_then(|set| set.into_iter().find(|t| t.key.as_deref() == Some(layout::DUE_TAG)))
                    .and_then(|t| t.value)
                    .unwrap_or_default();
                out.push((value, name));
            }
        }
        Ok(out)
    }

    /// Downloads `names` in order, keeps the records that still pass `keep`, and stops once `limit` passed: at
    /// most [`FETCH_CONCURRENCY`] at a time and never more at once than are still wanted, so an accurate
    /// listing costs exactly `limit` downloads. Corrupt documents are logged and skipped so that one bad blob
    /// cannot stop the tracker.
    async fn fetch(
        &self,
        names: &[String],
        keep: impl Fn(&Record) -> bool,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let mut rest = names;
        while out.len() < limit && !rest.is_empty() {
            let (chunk, tail) = rest.split_at(rest.len().min(FETCH_CONCURRENCY).min(limit - out.len()));
            rest = tail;
            let results = futures::future::join_all(chunk.iter().map(|n| self.read(n))).await;
            for result in results {
                match result {
                    Ok(Some(record)) if keep(&record) => out.push(record),
                    Ok(_) => {}
                    Err(e @ StoreError::Corrupt { .. }) => {
                        tracing::error!(error = %e, "skipping a corrupt record in the Blob state store")
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }
}

impl BlobStore {
    /// The `limit` first records by `order` among those passing `keep`, using the listing to avoid downloads:
    /// summarised blobs are filtered by `wanted` and sorted by `key` (which mirrors `order`), then downloaded in
    /// that order until `limit` pass `keep`; unsummarised blobs are all downloaded and judged on their document.
    async fn select<K: Ord>(
        &self,
        wanted: impl Fn(&Summary) -> bool,
        key: impl Fn(&Summary, String) -> K,
        keep: impl Fn(&Record) -> bool,
        order: impl Fn(&Record, &Record) -> std::cmp::Ordering,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let mut candidates = Vec::new();
        let mut unsummarised = Vec::new();
        for (name, summary) in self.summaries().await? {
            match summary {
                Some(s) if wanted(&s) => candidates.push((key(&s, request_id_of(&name).unwrap_or_default()), name)),
                Some(_) => {}
                None => unsummarised.push(name),
            }
        }
        candidates.sort();
        let names: Vec<String> = candidates.into_iter().map(|(_, name)| name).collect();
        let mut records = self.fetch(&unsummarised, &keep, usize::MAX).await?;
        records.extend(self.fetch(&names, &keep, limit).await?);
        // Re-sorted on the documents: a record may have changed since the listing.
        records.sort_by(order);
        records.truncate(limit);
        Ok(records)
    }
}

enum Condition<'a> {
    Absent,
    Version(&'a str),
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable { backend: "blob", message }
}

fn storage_error(e: &azure_core::Error, doing: &str) -> StoreError {
    let hint = restore_connect::blob::hint(e, "RESTORE_BLOB_CONTAINER_URL", ROLE);
    unavailable(format!("{doing}: {e}{hint}"))
}

#[async_trait]
impl StateStore for BlobStore {
    async fn create(&self, record: &Record) -> Result<Record, StoreError> {
        check_request_id(&record.request_id)?;
        match self.write(record, Condition::Absent).await {
            Ok(etag) => Ok(Record { version: etag, ..record.clone() }),
            Err(e) if is_condition_lost(&e) => match self.read(&blob_name(&record.request_id)).await? {
                Some(existing) => Err(StoreError::AlreadyExists { existing: Box::new(existing) }),
                // Records are never deleted by the store; someone removed it by hand between the two calls.
                None => Err(unavailable(format!(
                    "creating request '{}': the blob existed but is gone now; retry",
                    display_id(&record.request_id)
                ))),
            },
            Err(e) => Err(storage_error(&e, &format!("creating request '{}'", display_id(&record.request_id)))),
        }
    }

    async fn get(&self, request_id: &str) -> Result<Option<Record>, StoreError> {
        check_request_id(request_id)?;
        self.read(&blob_name(request_id)).await
    }

    async fn update(&self, record: &Record) -> Result<Record, StoreError> {
        check_request_id(&record.request_id)?;
        let lost = |exists: bool| {
            let request_id = record.request_id.clone();
            if exists { StoreError::Conflict { request_id } } else { StoreError::NotFound { request_id } }
        };
        if record.version.is_empty() {
            // Never stored (or a caller bug): no ETag can match. Still tell NotFound from Conflict.
            return Err(lost(self.read(&blob_name(&record.request_id)).await?.is_some()));
        }
        match self.write(record, Condition::Version(&record.version)).await {
            Ok(etag) => Ok(Record { version: etag, ..record.clone() }),
            Err(e) if is_blob_not_found(&e) => Err(lost(false)),
            Err(e) if is_condition_lost(&e) => Err(lost(self.read(&blob_name(&record.request_id)).await?.is_some())),
            Err(e) => Err(storage_error(&e, &format!("updating request '{}'", display_id(&record.request_id)))),
        }
    }

    async fn due(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Record>, StoreError> {
        // Sorted on the index's values (zero-padded, so string order is time order), ties by request id as the
        // contract says; only the first `limit` that are still due are downloaded.
        let mut candidates: Vec<(String, String, String)> = self
            .indexed_due(now)
            .await?
            .into_iter()
            .map(|(value, name)| (value, request_id_of(&name).unwrap_or_default(), name))
            .collect();
        candidates.sort();
        let names: Vec<String> = candidates.into_iter().map(|(_, _, name)| name).collect();
        let mut records = self.fetch(&names, |r| r.is_due(now), limit).await?;
        // Re-sorted on the documents: the index may lag a write.
        records.sort_by(|a, b| (a.next_poll_at, &a.request_id).cmp(&(b.next_poll_at, &b.request_id)));
        Ok(records)
    }

    async fn list(&self, filter: &ListFilter, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.select(
            |s| {
                (filter.states.is_empty() || filter.states.contains(&s.state))
                    && filter.vault_id.as_ref().is_none_or(|v| *v == s.vault_id)
            },
            // Newest first by default: the key is reversed; oldest first keeps it as is.
            |s, id| {
                let at = s.received_at;
                (if filter.oldest_first { at } else { -at }, id)
            },
            |r| filter.matches(r),
            |a, b| {
                let by_time = if filter.oldest_first {
                    a.received_at.cmp(&b.received_at)
                } else {
                    b.received_at.cmp(&a.received_at)
                };
                by_time.then_with(|| a.request_id.cmp(&b.request_id))
            },
            limit,
        )
        .await
    }

    async fn count_active(&self, vault_id: &str) -> Result<usize, StoreError> {
        let mut count = 0;
        let mut unsummarised = Vec::new();
        for (name, summary) in self.summaries().await? {
            match summary {
                Some(s) => count += usize::from(s.vault_id == vault_id && s.state.is_active()),
                None => unsummarised.push(name),
            }
        }
        let active = |r: &Record| r.vault_id == vault_id && r.state.is_active();
        count += self.fetch(&unsummarised, active, usize::MAX).await?.len();
        Ok(count)
    }

    /// Re-saves (same document, `If-Match`) every record that can be due by its metadata, or has none, so that it
    /// carries the due tag: records written before the tag existed are otherwise never due. A record written
    /// meanwhile was written with its tag by the writer; a corrupt one is logged and left. Lists every record, so
    /// it is for the upgrade, not for a tick.
    async fn reindex(&self) -> Result<usize, StoreError> {
        let mut saved = 0;
        for (name, summary) in self.summaries().await? {
            if summary.is_some_and(|s| !s.can_be_due()) {
                continue;
            }
            let record = match self.read(&name).await {
                Ok(Some(record)) if layout::due_tags(&record).is_some() => record,
                Ok(_) => continue,
                Err(e @ StoreError::Corrupt { .. }) => {
                    tracing::error!(error = %e, "reindex: leaving a corrupt record as it is");
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.write(&record, Condition::Version(&record.version)).await {
                Ok(_) => saved += 1,
                Err(e) if is_condition_lost(&e) || is_blob_not_found(&e) => {}
                Err(e) => {
                    let what = format!("re-saving request '{}'", display_id(&record.request_id));
                    return Err(storage_error(&e, &what));
                }
            }
        }
        Ok(saved)
    }

    async fn document(&self, key: &str) -> Result<Option<Document>, StoreError> {
        let blob = self.container.blob_client(&slots_blob_name(key));
        let what = || format!("reading document '{}'", display_id(key));
        let downloaded = match blob.download(None).await {
            Ok(d) => d,
            Err(e) if is_blob_not_found(&e) => return Ok(None),
            Err(e) => return Err(storage_error(&e, &what())),
        };
        let etag = downloaded
            .properties
            .etag
            .clone()
            .map(|e| e.to_string())
            .ok_or_else(|| unavailable(format!("{}: the response carried no ETag", what())))?;
        let body = downloaded.body.collect().await.map_err(|e| storage_error(&e, &what()))?;
        let body = serde_json::from_slice(&body)
            .map_err(|e| StoreError::Corrupt { request_id: key.to_string(), message: e.to_string() })?;
        Ok(Some(Document { key: key.to_string(), version: etag, body }))
    }

    async fn put_document(&self, doc: &Document) -> Result<Document, StoreError> {
        check_document_key(&doc.key)?;
        let body = doc.body.to_string().into_bytes();
        let (if_none_match, if_match) =
            if doc.version.is_empty() { (Some("*".into()), None) } else { (None, Some(doc.version.clone().into())) };
        let options = BlobClientUploadOptions {
            blob_content_type: Some("application/json".into()),
            if_none_match,
            if_match,
            ..Default::default()
        };
        let blob = self.container.blob_client(&slots_blob_name(&doc.key));
        let what = || format!("writing document '{}'", display_id(&doc.key));
        match blob.upload(RequestContent::from(body), Some(options)).await {
            Ok(result) => {
                let etag = result
                    .etag
                    .map(|e| e.to_string())
                    .ok_or_else(|| unavailable(format!("{}: the response carried no ETag", what())))?;
                Ok(Document { version: etag, ..doc.clone() })
            }
            Err(e) if is_condition_lost(&e) || is_blob_not_found(&e) => {
                Err(StoreError::Conflict { request_id: doc.key.clone() })
            }
            Err(e) => Err(storage_error(&e, &what())),
        }
    }

    fn describe(&self) -> String {
        format!("blob {}", self.url)
    }
}
