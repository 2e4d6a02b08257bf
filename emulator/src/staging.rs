//! The staging storage account's Blob data plane, as far as a Recovery Services "Recover disks" job uses it.
//!
//! Azure writes two files into the staging account the restore names: the backed-up VM's configuration
//! ("vmconfig.json") and an ARM template to create a VM from the restored disks. The job's
//! `extendedInfo.propertyBag` names them with the keys Azure documents ("Config Blob Container Name",
//! "Config Blob Name", "Config Blob Uri", "Template Blob Uri", "Target Storage Account Name",
//! "Target resource group"; azure-docs backup-azure-arm-userestapi-restoreazurevms.md and the `az backup job
//! show --query properties.extendedInfo.propertyBag` example in the CLI tutorial). The config file is
//! UTF-16LE text padded with NUL characters (the PowerShell article reads it with `Get-Content -Encoding
//! Unicode` and `TrimEnd([char]0x00)`), and its top-level keys are flattened ARM paths:
//! `properties.storageProfile` holds `osDisk.name` and `dataDisks[].name`/`lun`, the restored managed disks in
//! the restore's target resource group (the article updates them with `Update-AzDisk -ResourceGroupName
//! <target group> -DiskName $obj.'properties.storageProfile'.osDisk.name`).
//!
//! The emulator serves these files path-style under its ARM origin, `https://127.0.0.1:<port>/staging/<account>/
//! <container>/<blob>`, the way Azurite serves accounts, so the product's staging endpoint setting
//! (`RESTORE_STAGING_BLOB_ENDPOINT=https://127.0.0.1:<port>/staging/{account}`) is the only difference from
//! Azure. Requests need a bearer token for the storage audience (an ARM token is refused, as Storage does);
//! errors use Storage's XML shape and `x-ms-error-code`. Get Blob and Delete Blob only: that is all a restore's
//! consumer needs (read the config, delete both files when done).

use std::collections::BTreeMap;

use axum::body::Body;
use hyper::Response;
use time::OffsetDateTime;

use crate::identity::{STORAGE_AUDIENCE, validate_bearer_for};

/// The path prefix the staging data plane is served under.
pub const PREFIX: &str = "/staging/";

/// One file in a staging account.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// The bytes as Azure writes them.
    pub bytes: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// When it was written (`Last-Modified`).
    pub written: OffsetDateTime,
}

/// The files of every staging account, keyed `account/container/blob` (account lower-cased: account names are
/// lower case in Azure; container and blob names are kept as written).
#[derive(Debug, Clone, Default)]
pub struct StagingFiles {
    files: BTreeMap<String, StagedFile>,
}

fn file_key(account: &str, container: &str, blob: &str) -> String {
    format!("{}/{container}/{blob}", account.to_ascii_lowercase())
}

impl StagingFiles {
    /// Writes (or replaces) a file.
    pub fn put(&mut self, account: &str, container: &str, blob: &str, file: StagedFile) {
        self.files.insert(file_key(account, container, blob), file);
    }

    /// A file, if present.
    pub fn get(&self, account: &str, container: &str, blob: &str) -> Option<&StagedFile> {
        self.files.get(&file_key(account, container, blob))
    }

    /// Removes a file; whether it existed.
    pub fn delete(&mut self, account: &str, container: &str, blob: &str) -> bool {
        self.files.remove(&file_key(account, container, blob)).is_some()
    }

    /// Every file as `account/container/blob`, for tests and the admin view.
    pub fn names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }
}

/// What a "Recover disks" job writes, decided when the restore is accepted and written when the job completes.
#[derive(Debug, Clone, PartialEq)]
pub struct StagingPlan {
    /// Staging account name.
    pub account: String,
    /// Container (`<vm>-<32 hex>`, as in Azure's example).
    pub container: String,
    /// Config blob name (`config-<vm>-<job guid>.json`).
    pub config_blob: String,
    /// Template blob name (`azuredeploy<job guid>.json`).
    pub template_blob: String,
    /// VM size of the backed-up VM.
    pub vm_size: String,
    /// Region.
    pub location: String,
    /// Name of the restored OS disk.
    pub os_disk: String,
    /// Restored data disks: LUN and name.
    pub data_disks: Vec<(i32, String)>,
}

impl StagingPlan {
    /// Names for a restore of `vm_name` by job `job_guid` into `account`.
    pub fn new(account: &str, vm_name: &str, job_guid: &str) -> StagingPlan {
        let unique: String = crate::util::guid().chars().filter(char::is_ascii_hexdigit).collect();
        StagingPlan {
            account: account.to_string(),
            container: format!("{}-{unique}", vm_name.to_ascii_lowercase()),
            config_blob: format!("config-{vm_name}-{job_guid}.json"),
            template_blob: format!("azuredeploy{job_guid}.json"),
            vm_size: String::new(),
            location: String::new(),
            os_disk: String::new(),
            data_disks: Vec::new(),
        }
    }

    /// The blob URL under `origin` (the emulator's https origin).
    pub fn url(&self, origin: &str, blob: &str) -> String {
        format!("{origin}{PREFIX}{}/{}/{blob}", self.account, self.container)
    }

    /// The property-bag entries Azure documents for a "Recover disks" job.
    pub fn property_bag(&self, origin: &str) -> Vec<(String, String)> {
        vec![
            ("Config Blob Container Name".into(), self.container.clone()),
            ("Config Blob Name".into(), self.config_blob.clone()),
            ("Config Blob Uri".into(), self.url(origin, &self.config_blob)),
            ("Template Blob Uri".into(), self.url(origin, &self.template_blob)),
        ]
    }

    /// Writes both files.
    pub fn write(&self, files: &mut StagingFiles, now: OffsetDateTime) {
        let disk = |lun: Option<i32>, name: &str| {
            let mut d = serde_json::json!({
                "name": name,
                "createOption": "Attach",
                "caching": "ReadWrite",
                "managedDisk": { "storageAccountType": "Premium_LRS" },
            });
            if let Some(lun) = lun {
                d["lun"] = lun.into();
            }
            d
        };
        let mut os_disk = disk(None, &self.os_disk);
        os_disk["osType"] = "Linux".into();
        let config = serde_json::json!({
            "location": self.location,
            "properties.hardwareProfile": { "vmSize": self.vm_size },
            "properties.storageProfile": {
                "osDisk": os_disk,
                "dataDisks": self.data_disks.iter().map(|(lun, name)| disk(Some(*lun), name)).collect::<Vec<_>>(),
            },
        });
        files.put(
            &self.account,
            &self.container,
            &self.config_blob,
            StagedFile { bytes: utf16le_padded(&config.to_string()), content_type: "application/json", written: now },
        );
        let template = serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": { "VirtualMachineName": { "type": "String" } },
            "resources": [],
        });
        files.put(
            &self.account,
            &self.container,
            &self.template_blob,
            StagedFile { bytes: template.to_string().into_bytes(), content_type: "application/json", written: now },
        );
    }
}

/// UTF-16LE with the NUL padding Azure's config file carries.
fn utf16le_padded(text: &str) -> Vec<u8> {
    let mut out: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// The parts of a staging path: account, container, blob.
fn parse_path(path: &str) -> Option<(String, String, String)> {
    let rest = path.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '/');
    let decode = crate::util::percent_decode;
    let account = decode(parts.next()?);
    let container = decode(parts.next()?);
    let blob = decode(parts.next()?);
    (!account.is_empty() && !container.is_empty() && !blob.is_empty()).then_some((account, container, blob))
}

/// Storage's error shape.
fn storage_error(status: u16, code: &str, message: &str) -> Response<Body> {
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{}\nTime:{}</Message></Error>",
        crate::util::guid(),
        crate::util::fmt_time(OffsetDateTime::now_utc()),
    );
    build(
        status,
        &[("x-ms-error-code", code.to_string()), ("content-type", "application/xml".into())],
        Body::from(body),
    )
}

fn build(status: u16, headers: &[(&str, String)], body: Body) -> Response<Body> {
    let mut b = Response::builder()
        .status(status)
        .header("x-ms-request-id", crate::util::guid())
        .header("x-ms-version", "2025-11-05");
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    // Header values come from this module and are valid; an invalid one would be a bug, so answer 500.
    b.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Body::from("invalid response header"));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// RFC 7231 date (`Sun, 06 Nov 1994 08:49:37 GMT`), as Storage sends `Last-Modified`.
fn http_date(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC).format(FORMAT).unwrap_or_default()
}

/// The route name a staging request is counted under.
pub fn route_name(method: &str) -> &'static str {
    match method {
        "DELETE" => "staging.blob.delete",
        _ => "staging.blob.get",
    }
}

/// Serves one staging request against `files`.
pub fn serve(
    files: &mut StagingFiles,
    tenant: &str,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> Response<Body> {
    if let Err(e) = validate_bearer_for(authorization, tenant, &[STORAGE_AUDIENCE]) {
        return storage_error(401, "InvalidAuthenticationInfo", &e.message());
    }
    let Some((account, container, blob)) = parse_path(path) else {
        return storage_error(400, "InvalidUri", "The requested URI does not represent any resource on the server.");
    };
    match method {
        "GET" | "HEAD" => match files.get(&account, &container, &blob) {
            Some(f) => {
                let headers = [
                    ("content-type", f.content_type.to_string()),
                    ("content-length", f.bytes.len().to_string()),
                    ("x-ms-blob-type", "BlockBlob".to_string()),
                    ("etag", format!("\"0x{:X}\"", f.written.unix_timestamp_nanos() / 1000)),
                    ("last-modified", http_date(f.written)),
                ];
                let body = if method == "HEAD" { Body::empty() } else { Body::from(f.bytes.clone()) };
                build(200, &headers, body)
            }
            None => storage_error(404, "BlobNotFound", "The specified blob does not exist."),
        },
        "DELETE" => {
            if files.delete(&account, &container, &blob) {
                build(202, &[("x-ms-delete-type-permanent", "true".into())], Body::empty())
            } else {
                storage_error(404, "BlobNotFound", "The specified blob does not exist.")
            }
        }
        _ => storage_error(405, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_and_refuse_missing_parts() {
        assert_eq!(
            parse_path("/staging/acct/vm1-abc/config-vm1%2Dx.json"),
            Some(("acct".into(), "vm1-abc".into(), "config-vm1-x.json".into()))
        );
        assert_eq!(parse_path("/staging/acct/container"), None);
        assert_eq!(parse_path("/staging/acct//blob"), None);
    }

    #[test]
    fn the_config_file_is_padded_utf16le_with_flattened_keys() {
        let mut plan = StagingPlan::new("stage", "vm1", "job-1");
        plan.os_disk = "vm1-osdisk".into();
        plan.data_disks = vec![(0, "vm1-data0".into())];
        let mut files = StagingFiles::default();
        plan.write(&mut files, OffsetDateTime::UNIX_EPOCH);
        let bytes = &files.get("STAGE", &plan.container, &plan.config_blob).unwrap().bytes;
        assert_eq!(&bytes[bytes.len() - 4..], &[0, 0, 0, 0]);
        let units: Vec<u16> = bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let text = String::from_utf16(&units).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim_end_matches('\0')).unwrap();
        assert_eq!(value["properties.storageProfile"]["osDisk"]["name"], "vm1-osdisk");
        assert_eq!(value["properties.storageProfile"]["osDisk"]["osType"], "Linux");
        assert_eq!(value["properties.storageProfile"]["dataDisks"][0]["lun"], 0);
        assert_eq!(
            plan.property_bag("https://e")[2].1,
            format!("https://e/staging/stage/{}/config-vm1-job-1.json", plan.container)
        );
    }
}
