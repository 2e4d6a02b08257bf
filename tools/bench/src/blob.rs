//! The Blob state store for the benchmark: a real Azurite (Blob service), started as the end-to-end tests start
//! it (`tests/src/azurite.rs`: HTTPS with a certificate from the emulator's CA, `--oauth basic`, in memory), and
//! a count of every request it serves.
//!
//! It is started with `restore_e2e::azurite::Azurite::launch`, its access log kept. Store requests are counted
//! from that access log (one line per
//! request: method, URL, status), not from a proxy or from the handlers: what Azurite answered is what the
//! store asked, whatever the binaries do, and the counts carry to Azure (Azurite on 2 cores bounds raw
//! throughput, the number of requests does not depend on it).
//!
//! A phase's requests are the lines between two *markers*: before and after a phase the benchmark reads a record
//! that does not exist (`bench-marker-N`), and waits until that request's line is in the log. Azurite writes a
//! line when the response is finished, so every request of the phase (all answered before the marker was sent)
//! is logged before the marker's line.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backup_emulator::EmulatorHandle;
use backup_emulator::tls::CertAuthority;
use restore_e2e::azurite::Azurite;
use restore_store::{BlobStore, StateStore};
use serde_json::{Value, json};

use crate::R;

/// How long a marker may take to appear in the access log.
const MARKER_DEADLINE: Duration = Duration::from_secs(30);
/// The container the handlers use.
const CONTAINER: &str = "restore-state";

/// A running Azurite with its access log, and a store client of the benchmark's own (container creation,
/// markers, in-process measurements). The process is killed on drop.
pub struct BlobBackend {
    azurite: Azurite,
    /// `https://127.0.0.1:<port>/devstoreaccount1/restore-state`.
    pub container_url: String,
    /// The benchmark's own client of the container (the emulator's identity endpoint, its CA trusted).
    pub store: Arc<BlobStore>,
    pub log: RequestLog,
}

impl BlobBackend {
    /// Starts Azurite in `workdir` with a server certificate from `emu`'s CA, creates the container and returns
    /// once a marker round trip works (Azurite listening, tokens accepted, access log written).
    pub async fn start(emu: &EmulatorHandle, workdir: &Path) -> R<BlobBackend> {
        let certs = workdir.join("azurite-certs");
        let ca_dir = emu.ca_file.parent().ok_or("the emulator's CA file has no directory")?;
        CertAuthority::load(ca_dir)
            .and_then(|ca| ca.write_certs(&certs, &backup_emulator::tls::default_sans()))
            .map_err(|e| format!("server certificate for Azurite: {e}"))?;
        let access_log = workdir.join("azurite-access.log");
        let azurite = {
            let (cert, key, dir, log) =
                (certs.join("server.pem"), certs.join("server-key.pem"), workdir.to_path_buf(), access_log.clone());
            tokio::task::spawn_blocking(move || Azurite::launch(&cert, &key, &dir, Some(&log)))
                .await
                .map_err(|e| format!("starting Azurite: {e}"))?
                .map_err(|e| format!("{e} (or pass --store sqlite)"))?
        };
        let container_url = format!("{}/devstoreaccount1/{CONTAINER}", azurite.origin);
        // The handlers use the real managed-identity credential (IDENTITY_* in their settings); this process asks
        // the same endpoint explicitly, so it never sets variables in its own environment.
        let credential = restore_e2e::identity::EndpointIdentity::new(&emu.identity_url, &emu.identity_header);
        let transport = restore_connect::transport::transport(&restore_connect::transport::TransportOptions {
            extra_ca_files: vec![emu.ca_file.clone()],
            ..Default::default()
        })
        .map_err(|e| format!("transport for the Blob store: {e}"))?;
        let store = BlobStore::new(&container_url, credential, Some(transport)).map_err(|e| e.to_string())?;
        let mut backend = BlobBackend {
            azurite,
            container_url,
            store: Arc::new(store),
            log: RequestLog { path: access_log, store: None, next: AtomicUsize::new(0), last: AtomicU64::new(0) },
        };
        backend.store.create_container_if_missing().await.map_err(|e| format!("creating the container: {e}"))?;
        backend.log.store = Some(backend.store.clone());
        backend.log.mark().await?;
        Ok(backend)
    }

    /// The app settings that point the handlers at this container (their credential and extra CA files are the
    /// emulator's, already in the base settings).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![("RESTORE_STORE", "blob".into()), ("RESTORE_BLOB_CONTAINER_URL", self.container_url.clone())]
    }

    /// Azurite's process id (its CPU time is reported next to the handlers').
    pub fn pid(&self) -> u32 {
        self.azurite.pid()
    }
}

/// Azurite's access log, read between markers.
pub struct RequestLog {
    path: PathBuf,
    /// The client that sends the markers (set once the container exists).
    store: Option<Arc<BlobStore>>,
    next: AtomicUsize,
    /// The previous mark's position: a new marker's line can only come after it.
    last: AtomicU64,
}

/// A position in the access log: just after a marker's line.
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

impl RequestLog {
    /// Sends a marker request and returns the log position after its line.
    pub async fn mark(&self) -> R<Mark> {
        let store = self.store.as_ref().ok_or("no store client for the markers")?;
        let id = format!("bench-marker-{}", self.next.fetch_add(1, Ordering::Relaxed));
        // The file part of the blob name: the client may send the '/' after `records` escaped.
        let blob = restore_store::blob::layout::blob_name(&id);
        let name = blob.rsplit('/').next().unwrap_or(&blob).to_string();
        match store.get(&id).await {
            Ok(None) => {}
            other => return Err(format!("marker {id}: expected no such record, got {other:?}")),
        }
        let deadline = Instant::now() + MARKER_DEADLINE;
        let from = self.last.load(Ordering::Relaxed);
        loop {
            let text = self.read(from, None)?;
            let mut offset = from;
            for line in text.split_inclusive(|b| *b == b'\n') {
                offset += line.len() as u64;
                if line.ends_with(b"\n") && String::from_utf8_lossy(line).contains(&name) {
                    self.last.store(offset, Ordering::Relaxed);
                    return Ok(Mark(offset));
                }
            }
            if Instant::now() > deadline {
                let text = String::from_utf8_lossy(&text);
                return Err(format!(
                    "marker {id} ({blob}) not in Azurite's access log after {MARKER_DEADLINE:?}; its end:\n{}",
                    crate::tail(&text)
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The log's bytes from `from` to `to` (or its end).
    fn read(&self, from: u64, to: Option<u64>) -> R<Vec<u8>> {
        let fail = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut file = std::fs::File::open(&self.path).map_err(fail)?;
        file.seek(SeekFrom::Start(from)).map_err(fail)?;
        let mut bytes = Vec::new();
        match to {
            Some(to) => {
                bytes.resize(to.saturating_sub(from) as usize, 0);
                file.read_exact(&mut bytes).map_err(fail)?;
            }
            None => {
                file.read_to_end(&mut bytes).map_err(fail)?;
            }
        }
        Ok(bytes)
    }

    /// The store requests logged between two marks (the second mark's own line excluded).
    pub fn between(&self, from: Mark, to: Mark) -> R<Requests> {
        let bytes = self.read(from.0, Some(to.0))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines: Vec<&str> = text.lines().collect();
        // The closing marker's own request.
        lines.pop();
        let mut requests = Requests::default();
        for line in lines {
            match parse_access_line(line) {
                Some((method, url, status)) => requests.add(&operation(method, url), status),
                // Counted all the same, so a format change shows up in the figures instead of shrinking them.
                None => requests.add("(unparsed access-log line)", 0),
            }
        }
        Ok(requests)
    }
}

/// `127.0.0.1 - - [05/Dec/2026:20:12:53 +0000] "GET /devstoreaccount1/c/x?comp=tags HTTP/1.1" 200 -`
/// (morgan's "common" format) → method, URL, status.
fn parse_access_line(line: &str) -> Option<(&str, &str, u16)> {
    let (_, rest) = line.split_once('"')?;
    let (request, after) = rest.split_once('"')?;
    let mut parts = request.split_whitespace();
    let (method, url) = (parts.next()?, parts.next()?);
    let status = after.split_whitespace().next()?.parse().ok()?;
    Some((method, url, status))
}

/// The Blob REST operation a request is (names as in the Blob service REST reference), from its method, path
/// and `restype`/`comp` parameters; record and slot blobs are told apart by their prefix.
fn operation(method: &str, url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let param = |key: &str| query.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='));
    let (restype, comp) = (param("restype"), param("comp"));
    // /account/container/blob…; the client may escape the blob name's '/'.
    let path = path.replace("%2F", "/").replace("%2f", "/");
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(3, '/').collect();
    let op = match (segments.len(), restype, comp, method) {
        (_, _, Some("blobs"), "GET") => "Find Blobs by Tags",
        (1, _, Some("list"), "GET") => "List Containers",
        (2, Some("container"), Some("list"), "GET") => "List Blobs",
        (2, Some("container"), None, "PUT") => "Create Container",
        (2, Some("container"), None, "GET" | "HEAD") => "Get Container Properties",
        (2, Some("container"), None, "DELETE") => "Delete Container",
        (3, _, Some("tags"), "GET") => "Get Blob Tags",
        (3, _, Some("tags"), "PUT") => "Set Blob Tags",
        (3, _, Some("metadata"), "PUT") => "Set Blob Metadata",
        (3, _, Some("metadata"), "GET" | "HEAD") => "Get Blob Metadata",
        (3, _, Some("lease"), _) => "Lease Blob",
        (3, _, Some("block"), "PUT") => "Put Block",
        (3, _, Some("blocklist"), "PUT") => "Put Block List",
        (3, _, None, "GET") => "Get Blob",
        (3, _, None, "HEAD") => "Get Blob Properties",
        (3, _, None, "PUT") => "Put Blob",
        (3, _, None, "DELETE") => "Delete Blob",
        _ => {
            return format!(
                "{method} {}{}",
                segments.get(..2).unwrap_or(&[]).join("/"),
                comp.map(|c| format!(" comp={c}")).unwrap_or_default()
            );
        }
    };
    match segments.get(2) {
        Some(blob) if blob.starts_with("slots/") => format!("{op} (slot)"),
        _ => op.to_string(),
    }
}

/// Store requests of one window, by operation and by operation and status.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    pub total: usize,
    pub by_operation: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
}

impl Requests {
    fn add(&mut self, operation: &str, status: u16) {
        self.total += 1;
        *self.by_operation.entry(operation.to_string()).or_default() += 1;
        *self.by_status.entry(format!("{operation} {status}")).or_default() += 1;
    }

    /// "2.00 (Get Blob 1.00, Put Blob 1.00)": requests per unit, with the operations.
    pub fn per(&self, units: usize) -> String {
        let n = units.max(1) as f64;
        let ops: Vec<String> =
            self.by_operation.iter().map(|(op, c)| format!("{op} {}", per_unit(*c as f64 / n))).collect();
        format!("{} ({})", per_unit(self.total as f64 / n), ops.join(", "))
    }

    /// Requests per unit, by operation and by status, for `--json`.
    pub fn json(&self, units: usize) -> Value {
        json!({
            "units": units,
            "total": self.total,
            "perUnit": self.total as f64 / units.max(1) as f64,
            "byOperation": self.by_operation,
            "byOperationAndStatus": self.by_status,
        })
    }
}

/// Two decimals below 10, one above (a request count per message reads 2.00; per tick 37.5).
fn per_unit(v: f64) -> String {
    if v < 10.0 { format!("{v:.2}") } else { format!("{v:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_are_classified() {
        let line = r#"127.0.0.1 - - [05/Dec/2026:20:12:53 +0000] "GET /devstoreaccount1/restore-state?restype=container&comp=list&include=metadata HTTP/1.1" 200 -"#;
        let (method, url, status) = parse_access_line(line).expect("a common-format line");
        assert_eq!((method, status), ("GET", 200));
        assert_eq!(operation(method, url), "List Blobs");
        assert_eq!(operation("GET", "/devstoreaccount1/restore-state/records%2FYQ.json"), "Get Blob");
        assert_eq!(operation("PUT", "/devstoreaccount1/restore-state/slots/aXQ.json"), "Put Blob (slot)");
        assert_eq!(
            operation("GET", "/devstoreaccount1/restore-state?restype=container&comp=blobs&where=x"),
            "Find Blobs by Tags"
        );
        assert_eq!(operation("GET", "/devstoreaccount1/restore-state?restype=container"), "Get Container Properties");
        assert_eq!(operation("PUT", "/devstoreaccount1/restore-state/records/YQ.json?comp=tags"), "Set Blob Tags");
    }
}
