//! The staging files of a Recovery Services "Recover disks" job, and the restored disks they name.
//!
//! Azure's job names the files with documented property-bag keys ([`StagingFiles`]) but lists no restored
//! resource ids. The disks are named in the VM configuration file Azure writes next to the template: UTF-16LE
//! text padded with NULs whose top-level keys are flattened ARM paths, `properties.storageProfile.osDisk.name`
//! and `dataDisks[].name` being the restored managed disks in the restore's target resource group (how the
//! azure-docs PowerShell article "Back up and restore Azure VMs with PowerShell" reads it: `Get-Content
//! -Encoding Unicode`, `TrimEnd([char]0x00)`, `Update-AzDisk -ResourceGroupName <target group> -DiskName
//! $obj.'properties.storageProfile'.osDisk.name`).
//!
//! Safety: a storage token goes only to the staging account the request itself named. The URL is built from
//! the configured endpoint template and that account's name, never taken from the job's "Config Blob Uri";
//! the job's account name must equal the request's, and the container and blob names are single path
//! segments (percent-encoded), so no value Azure returns can move the request to another host.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, StatusCode, Transport, Url};
use azure_storage_blob::{BlobClient, BlobClientOptions};
use restore_engine::cloud::Cloud;
use restore_engine::jobs::StagingFiles;
use restore_models::arm_id::ResourceGroupId;
use serde_json::Value;

/// The setting that overrides the staging account's Blob endpoint (a template with `{account}`).
pub const ENDPOINT_SETTING: &str = "RESTORE_STAGING_BLOB_ENDPOINT";

/// Why the staging files could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StagingError {
    /// The endpoint template is unusable.
    #[error(
        "{ENDPOINT_SETTING}='{0}' must be an https URL containing {{account}}, e.g. https://{{account}}.blob.core.windows.net"
    )]
    BadEndpoint(String),
    /// A custom cloud without the endpoint setting.
    #[error(
        "RESTORE_CLOUD=Custom has no default Blob endpoint: set {ENDPOINT_SETTING} (e.g. https://{{account}}.blob.<storage suffix>)"
    )]
    NoEndpoint,
    /// The job names a staging account other than the request's.
    #[error("the job names staging account '{job}' but the request named '{request}'; its files are not read")]
    OtherAccount {
        /// What the job said.
        job: String,
        /// What the request named.
        request: String,
    },
    /// An account, container or blob name that cannot be one.
    #[error("'{0}' is not a valid {1} name")]
    BadName(String, &'static str),
    /// A staging file URL that is not at the configured endpoint (so no token is sent there).
    #[error(
        "the staging file URL '{0}' is not at {ENDPOINT_SETTING}; it is not touched (check the setting or the URL)"
    )]
    ForeignUrl(String),
    /// Storage refused or failed the read.
    #[error("reading {blob} from the staging account failed: {message}")]
    Read {
        /// The blob URL.
        blob: String,
        /// Storage's error.
        message: String,
    },
    /// The config file is not what Azure writes.
    #[error("the staging config {0}")]
    BadConfig(String),
}

/// Where staging accounts' Blob endpoints are: `https://{account}.blob.core.windows.net` in the public cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingEndpoint {
    template: String,
}

impl StagingEndpoint {
    /// A template with `{account}` (https only: a bearer token goes with every request).
    pub fn parse(template: &str) -> Result<StagingEndpoint, StagingError> {
        let bad = || StagingError::BadEndpoint(template.to_string());
        let template = template.trim().trim_end_matches('/');
        if !template.contains("{account}") {
            return Err(bad());
        }
        let sample = Url::parse(&template.replace("{account}", "account")).map_err(|_| bad())?;
        if sample.scheme() != "https" || sample.query().is_some() || sample.fragment().is_some() {
            return Err(bad());
        }
        Ok(StagingEndpoint { template: template.to_string() })
    }

    /// The cloud's default (a custom cloud has none).
    pub fn for_cloud(cloud: &Cloud) -> Result<StagingEndpoint, StagingError> {
        let suffix = match cloud {
            Cloud::AzurePublic => "core.windows.net",
            Cloud::AzureUsGovernment => "core.usgovcloudapi.net",
            Cloud::AzureChina => "core.chinacloudapi.cn",
            Cloud::Custom { .. } => return Err(StagingError::NoEndpoint),
        };
        StagingEndpoint::parse(&format!("https://{{account}}.blob.{suffix}"))
    }

    /// From [`ENDPOINT_SETTING`], else the cloud's default.
    pub fn from_env(cloud: &Cloud) -> Result<StagingEndpoint, StagingError> {
        match crate::settings::text(ENDPOINT_SETTING) {
            Some(t) => StagingEndpoint::parse(&t),
            None => StagingEndpoint::for_cloud(cloud),
        }
    }

    /// The URL of one blob. Account names are 3–24 lower-case letters and digits (Azure's rule), so they cannot
    /// change the host; container and blob are each one encoded path segment.
    pub fn blob_url(&self, account: &str, container: &str, blob: &str) -> Result<Url, StagingError> {
        let valid_account =
            (3..=24).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid_account {
            return Err(StagingError::BadName(account.to_string(), "storage account"));
        }
        for (name, what) in [(container, "container"), (blob, "blob")] {
            if name.is_empty() || name.len() > 1024 || name.chars().any(char::is_control) || name == "." || name == ".."
            {
                return Err(StagingError::BadName(name.to_string(), what));
            }
        }
        let mut url = Url::parse(&self.template.replace("{account}", account))
            .map_err(|_| StagingError::BadEndpoint(self.template.clone()))?;
        url.path_segments_mut()
            .map_err(|_| StagingError::BadEndpoint(self.template.clone()))?
            .pop_if_empty()
            .push(container)
            .push(blob);
        Ok(url)
    }
}

impl StagingEndpoint {
    /// The account, container and blob of a staging file URL, only if rebuilding the URL from them at this
    /// endpoint gives the same URL (so a URL on another host, or any other shape, is refused).
    pub fn split_blob_url(&self, url: &str) -> Result<(String, String, String), StagingError> {
        let refused = || StagingError::ForeignUrl(url.to_string());
        let (prefix, suffix) = self.template.split_once("{account}").ok_or_else(refused)?;
        let rest = url.strip_prefix(prefix).ok_or_else(refused)?;
        let (account, path) = if suffix.is_empty() {
            rest.split_once('/').ok_or_else(refused)?
        } else {
            let at = rest.find(suffix).ok_or_else(refused)?;
            (&rest[..at], rest[at + suffix.len()..].strip_prefix('/').ok_or_else(refused)?)
        };
        let (container, blob) = path.split_once('/').ok_or_else(refused)?;
        let rebuilt = self.blob_url(account, container, blob)?;
        if rebuilt.as_str() != url {
            return Err(refused());
        }
        Ok((account.to_string(), container.to_string(), blob.to_string()))
    }
}

/// Reads (and deletes) staging files with the app's identity (`Storage Blob Data Reader` on the staging
/// accounts; drills that clean up need `Contributor`).
#[derive(Clone)]
pub struct StagingReader {
    endpoint: StagingEndpoint,
    credential: Arc<dyn TokenCredential>,
    transport: Option<Transport>,
}

impl std::fmt::Debug for StagingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagingReader").field("endpoint", &self.endpoint).finish()
    }
}

impl StagingReader {
    /// A reader over `endpoint`; `transport` replaces the default HTTP client (extra CAs, tests).
    pub fn new(endpoint: StagingEndpoint, credential: Arc<dyn TokenCredential>, transport: Option<Transport>) -> Self {
        StagingReader { endpoint, credential, transport }
    }

    fn client(&self, url: &Url) -> Result<BlobClient, StagingError> {
        let options = BlobClientOptions {
            client_options: ClientOptions { transport: self.transport.clone(), ..Default::default() },
            ..Default::default()
        };
        BlobClient::new(url.clone(), Some(self.credential.clone()), Some(options))
            .map_err(|e| StagingError::Read { blob: url.to_string(), message: e.to_string() })
    }

    /// The config file's bytes. `request_account` is the staging account the request named.
    pub async fn read_config(&self, files: &StagingFiles, request_account: &str) -> Result<Vec<u8>, StagingError> {
        if !files.account.eq_ignore_ascii_case(request_account) {
            return Err(StagingError::OtherAccount {
                job: files.account.clone(),
                request: request_account.to_string(),
            });
        }
        let url =
            self.endpoint.blob_url(&request_account.to_ascii_lowercase(), &files.container, &files.config_blob)?;
        if files.config_uri.as_deref().is_some_and(|u| u != url.as_str()) {
            tracing::debug!(reported = ?files.config_uri, used = %url, "the job's Config Blob Uri differs from the endpoint setting; using the setting");
        }
        let read_error = |message: String| StagingError::Read { blob: url.to_string(), message };
        let downloaded = self.client(&url)?.download(None).await.map_err(|e| read_error(e.to_string()))?;
        let body = downloaded.body.collect().await.map_err(|e| read_error(e.to_string()))?;
        Ok(body.to_vec())
    }

    /// Deletes the staging file at `url` (which must lie at the configured endpoint); gone counts as deleted.
    pub async fn delete_url(&self, url: &str) -> Result<(), StagingError> {
        let (account, container, blob) = self.endpoint.split_blob_url(url)?;
        self.delete(&account, &container, &blob).await
    }

    /// Deletes one staging file; a file already gone counts as deleted.
    pub async fn delete(&self, account: &str, container: &str, blob: &str) -> Result<(), StagingError> {
        let url = self.endpoint.blob_url(account, container, blob)?;
        match self.client(&url)?.delete(None).await {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(()),
            Err(e) => Err(StagingError::Read { blob: url.to_string(), message: e.to_string() }),
        }
    }
}

/// The config file's JSON: UTF-16LE (with or without a byte-order mark) padded with NULs, as Azure writes it;
/// UTF-8 is accepted too.
pub fn decode_config(bytes: &[u8]) -> Result<Value, StagingError> {
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || (bytes.len() >= 2 && bytes[1] == 0 && bytes[0] != 0);
    let text = if utf16 {
        let body = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes);
        if !body.len().is_multiple_of(2) {
            return Err(StagingError::BadConfig("has an odd number of bytes for UTF-16".into()));
        }
        let units: Vec<u16> = body.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|e| StagingError::BadConfig(format!("is not UTF-16LE: {e}")))?
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|e| StagingError::BadConfig(format!("is not UTF-8: {e}")))?
    };
    let text = text.trim_start_matches('\u{feff}').trim_end_matches(['\0', ' ', '\n', '\r', '\t']);
    serde_json::from_str(text).map_err(|e| StagingError::BadConfig(format!("is not JSON: {e}")))
}

/// The restored managed disks a config names, as ids in `target_group`. Keys are matched case-insensitively
/// (the article writes both `properties.storageProfile` and `properties.StorageProfile`); a nested
/// `properties.storageProfile` is accepted too.
pub fn restored_disks(config: &Value, target_group: &ResourceGroupId) -> Result<Vec<String>, StagingError> {
    let profile = field(config, "properties.storageProfile")
        .or_else(|| field(config, "properties").and_then(|p| field(p, "storageProfile")))
        .ok_or_else(|| StagingError::BadConfig("has no properties.storageProfile".into()))?;
    let mut disks: Vec<&Value> = field(profile, "osDisk").into_iter().collect();
    if let Some(data) = field(profile, "dataDisks").and_then(Value::as_array) {
        disks.extend(data);
    }
    let mut ids = Vec::new();
    for disk in disks {
        let name = field(disk, "name")
            .and_then(Value::as_str)
            .ok_or_else(|| StagingError::BadConfig("names a disk without a name".into()))?;
        let valid = !name.is_empty()
            && name.len() <= 80
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return Err(StagingError::BadName(name.to_string(), "disk"));
        }
        ids.push(format!("{target_group}/providers/Microsoft.Compute/disks/{name}"));
    }
    if ids.is_empty() {
        return Err(StagingError::BadConfig("names no disks".into()));
    }
    Ok(ids)
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out.extend([0, 0, 0, 0]);
        out
    }

    fn group() -> ResourceGroupId {
        ResourceGroupId::parse("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-restore").unwrap()
    }

    #[test]
    fn the_config_azure_writes_names_the_restored_disks() {
        let text = r#"{"properties.hardwareProfile":{"vmSize":"Standard_D2s_v3"},"properties.StorageProfile":{"osDisk":{"name":"vm1-osdisk-1","osType":"Linux"},"dataDisks":[{"lun":0,"name":"vm1-datadisk-0-1"}]}}"#;
        for bytes in [utf16(text, false), utf16(text, true), text.as_bytes().to_vec()] {
            let config = decode_config(&bytes).unwrap();
            let ids = restored_disks(&config, &group()).unwrap();
            assert_eq!(
                ids,
                [
                    format!("{}/providers/Microsoft.Compute/disks/vm1-osdisk-1", group()),
                    format!("{}/providers/Microsoft.Compute/disks/vm1-datadisk-0-1", group()),
                ]
            );
        }
    }

    #[test]
    fn bad_configs_are_named() {
        assert!(matches!(decode_config(&[0x41, 0, 0x42]), Err(StagingError::BadConfig(_))));
        assert!(matches!(decode_config(b"not json"), Err(StagingError::BadConfig(_))));
        let no_profile = serde_json::json!({"location": "x"});
        assert!(matches!(restored_disks(&no_profile, &group()), Err(StagingError::BadConfig(_))));
        let sneaky = serde_json::json!({"properties.storageProfile": {"osDisk": {"name": "../../other/x"}}});
        assert!(matches!(restored_disks(&sneaky, &group()), Err(StagingError::BadName(_, "disk"))));
    }

    #[test]
    fn urls_stay_on_the_named_account() {
        let e = StagingEndpoint::parse("https://{account}.blob.core.windows.net").unwrap();
        assert_eq!(
            e.blob_url("stage01", "vm1-abc", "config-vm1-j.json").unwrap().as_str(),
            "https://stage01.blob.core.windows.net/vm1-abc/config-vm1-j.json"
        );
        assert_eq!(
            e.blob_url("stage01", "c", "a/b?x#y").unwrap().as_str(),
            "https://stage01.blob.core.windows.net/c/a%2Fb%3Fx%23y"
        );
        assert!(e.blob_url("evil.example.com#", "c", "b").is_err());
        assert!(e.blob_url("stage01", "..", "b").is_err());
        let local = StagingEndpoint::parse("https://127.0.0.1:8443/staging/{account}/").unwrap();
        assert_eq!(local.blob_url("stage01", "c", "b").unwrap().as_str(), "https://127.0.0.1:8443/staging/stage01/c/b");
        assert!(StagingEndpoint::parse("http://{account}.blob.core.windows.net").is_err());
        let split = e.split_blob_url("https://stage01.blob.core.windows.net/vm-abc/config-vm.json").unwrap();
        assert_eq!(split, ("stage01".into(), "vm-abc".into(), "config-vm.json".into()));
        assert_eq!(local.split_blob_url("https://127.0.0.1:8443/staging/stage01/c/b").unwrap().0, "stage01");
        for other in [
            "https://evil.example/stage01/c/b",
            "https://stage01.blob.core.windows.net.evil/c/b",
            "https://stage01.blob.core.windows.net/c",
        ] {
            assert!(e.split_blob_url(other).is_err(), "{other}");
        }
        assert!(StagingEndpoint::parse("https://blob.core.windows.net").is_err());
        assert_eq!(
            StagingEndpoint::for_cloud(&Cloud::AzureChina).unwrap().template,
            "https://{account}.blob.core.chinacloudapi.cn"
        );
    }
}
