//! The production side of the drill library's seams: Azure through the ARM client (and staging files through
//! the staging reader), the restore path through the state store (records) and the `requests` output binding.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::http::Method;
use restore_drills::VaultId;
use restore_drills::cleanup::api_version;
use restore_drills::inventory::VaultInventory;
use restore_drills::item::{DrillAzure, RestoreView, Restores, SeamError, VaultLoad};
use restore_drills::preflight::PreflightAzure;
use restore_drills::probes::WebhookClient;
use restore_engine::client::{ArmClient, CallError};
use restore_engine::pipeline::Retry;
use restore_models::arm_id::ResourceId;
use restore_store::{ListFilter, State, StateStore};
use restore_workflow::staging::StagingReader;
use serde_json::Value;

fn seam(e: impl std::fmt::Display) -> SeamError {
    SeamError(e.to_string())
}

/// Azure as the drill function sees it.
pub struct ArmDrillAzure {
    /// The ARM client (origin-checked, budgeted, retrying reads).
    pub client: ArmClient,
    /// Staging files, when the endpoint is configured.
    pub staging: Option<StagingReader>,
}

impl ArmDrillAzure {
    fn ctx() -> azure_core::http::Context<'static> {
        ArmClient::context("drills")
    }
}

#[async_trait]
impl DrillAzure for ArmDrillAzure {
    async fn get(&self, id: &str) -> Result<Option<Value>, SeamError> {
        let id = ResourceId::parse(id).map_err(seam)?;
        match self.client.get_json::<Value>(&Self::ctx(), "resource", id.as_str(), api_version(id.as_str()), &[]).await
        {
            Ok(v) => Ok(Some(v)),
            Err(CallError::Azure(e)) if e.status == 404 => Ok(None),
            Err(e) => Err(seam(e)),
        }
    }

    async fn instance_view(&self, vm: &str) -> Result<Value, SeamError> {
        let vm = ResourceId::parse(vm).map_err(seam)?;
        let path = format!("{}/instanceView", vm.as_str());
        self.client.get_json(&Self::ctx(), "VM instance view", &path, api_version(vm.as_str()), &[]).await.map_err(seam)
    }

    async fn merge_tags(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), SeamError> {
        let id = ResourceId::parse(id).map_err(seam)?;
        self.client.merge_tags(&Self::ctx(), &id, tags).await.map_err(seam)
    }

    async fn delete(&self, id: &str) -> Result<u16, SeamError> {
        let id = ResourceId::parse(id).map_err(seam)?;
        let url = self.client.pipeline().url(id.as_str(), api_version(id.as_str()), &[]);
        match self.client.call(&Self::ctx(), Method::Delete, url, None, Retry::Safe).await {
            Ok(response) => Ok(response.status),
            Err(CallError::Azure(e)) => Ok(e.status),
            Err(e) => Err(seam(e)),
        }
    }

    async fn delete_staging(&self, url: &str) -> Result<(), SeamError> {
        let reader =
            self.staging.as_ref().ok_or_else(|| SeamError("RESTORE_STAGING_BLOB_ENDPOINT is not configured".into()))?;
        reader.delete_url(url).await.map_err(seam)
    }

    async fn put(&self, id: &str, body: &Value) -> Result<(), SeamError> {
        let id = ResourceId::parse(id).map_err(seam)?;
        let url = self.client.pipeline().url(id.as_str(), api_version(id.as_str()), &[]);
        let bytes = serde_json::to_vec(body).map_err(seam)?;
        // A PUT of the same body is idempotent: retried like a read.
        self.client.call(&Self::ctx(), Method::Put, url, Some(bytes), Retry::Safe).await.map(|_| ()).map_err(seam)
    }

    async fn run_command(&self, id: &str) -> Result<Option<Value>, SeamError> {
        let id = ResourceId::parse(id).map_err(seam)?;
        let query = [("$expand", "instanceView")];
        match self
            .client
            .get_json::<Value>(&Self::ctx(), "run command", id.as_str(), api_version(id.as_str()), &query)
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(CallError::Azure(e)) if e.status == 404 => Ok(None),
            Err(e) => Err(seam(e)),
        }
    }
}

/// The webhook check's sender: HTTPS only, the shared client (extra CAs trusted as everywhere else), no bearer
/// token, the signing secret read from the app setting the plan names.
#[derive(Debug)]
pub struct HttpWebhook {
    /// The HTTP client.
    pub client: reqwest::Client,
}

#[async_trait]
impl WebhookClient for HttpWebhook {
    fn secret(&self, name: &str) -> Option<Vec<u8>> {
        std::env::var(name).ok().filter(|v| !v.is_empty()).map(String::into_bytes)
    }

    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        timeout: time::Duration,
    ) -> Result<(u16, Vec<u8>), SeamError> {
        // Plans are validated to https already; checked again here, where the request leaves.
        let parsed = url::Url::parse(url).map_err(seam)?;
        if parsed.scheme() != "https" {
            return Err(SeamError(format!("{url} is not https: not sent")));
        }
        let timeout = std::time::Duration::try_from(timeout).map_err(seam)?;
        let mut request = self.client.post(parsed).timeout(timeout).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(seam)?;
        let status = response.status().as_u16();
        // The answer is a small JSON object; more than 64 KiB is not one.
        let bytes = response.bytes().await.map_err(seam)?;
        Ok((status, bytes.iter().take(64 * 1024).copied().collect()))
    }
}

/// The restore path: records from the state store; requests collected for the `requests` output binding.
pub struct StoreRestores {
    /// The state store the intake and tracker write.
    pub store: Arc<dyn StateStore>,
    /// Requests to send with this tick's answer.
    pub outbox: Mutex<Vec<String>>,
}

#[async_trait]
impl Restores for StoreRestores {
    async fn restore(&self, request_id: &str) -> Result<Option<RestoreView>, SeamError> {
        let Some(record) = self.store.get(request_id).await.map_err(seam)? else { return Ok(None) };
        let result = record.result.clone().unwrap_or(Value::Null);
        let strings = |key: &str| -> Vec<String> {
            result[key].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
        };
        // Terminal with its result built (the tracker builds it from the job on its tick; the intake on a refusal).
        let done = record.state.is_terminal() && result.get("requestId").is_some();
        Ok(Some(RestoreView {
            done,
            succeeded: record.state == State::Succeeded,
            triggered_at: record.triggered_at,
            job_started_at: record.job_started_at,
            job_ended_at: result["timings"]["jobEndedAt"]
                .as_str()
                .and_then(|t| restore_contract::Timestamp::parse(t).ok())
                .map(|t| t.get()),
            restored: strings("restoredResourceIds"),
            staging_files: strings("stagingFiles"),
            recovery_point_id: record.recovery_point_id.clone(),
            error: (done && record.state != State::Succeeded).then(|| {
                let reason = record.reason.clone();
                (
                    reason.as_ref().map_or_else(|| format!("{:?}", record.state), |r| r.code.clone()),
                    reason.map_or_else(|| "the restore did not succeed".into(), |r| r.message),
                )
            }),
        }))
    }

    async fn vault_load(&self, vault: &VaultId) -> Result<VaultLoad, SeamError> {
        // Every record not ended yet, compared case-insensitively (ARM ids ignore case; a request may spell the
        // vault differently from the plan). Bounded: more active restores than this in all vaults is an incident
        // anyway, and counts as a full vault.
        const MAX_ACTIVE: usize = 1000;
        let active = State::ALL.into_iter().filter(|s| !s.is_terminal());
        let records = self.store.list(&ListFilter::states(active), MAX_ACTIVE).await.map_err(seam)?;
        if records.len() >= MAX_ACTIVE {
            return Ok(VaultLoad { drills: 0, others: usize::MAX / 2 });
        }
        let mut load = VaultLoad::default();
        for r in records.iter().filter(|r| r.vault_id.eq_ignore_ascii_case(vault.as_str())) {
            if r.request["source"]["kind"].as_str() == Some("drill") {
                load.drills += 1;
            } else {
                load.others += 1;
            }
        }
        Ok(load)
    }

    async fn send(&self, request: &Value) -> Result<(), SeamError> {
        self.outbox.lock().map_err(|_| SeamError("outbox poisoned".into()))?.push(request.to_string());
        Ok(())
    }
}

#[async_trait]
impl VaultInventory for ArmDrillAzure {
    async fn protected_items(&self, vault: &VaultId) -> Result<Vec<Value>, SeamError> {
        let (path, api, query) = match vault {
            VaultId::Backup(v) => {
                (format!("{}/backupInstances", v.as_str()), restore_models::dataprotection::API_VERSION, Vec::new())
            }
            // Azure VMs only: the vault may also protect SQL databases or file shares, which drills do not restore.
            VaultId::RecoveryServices(v) => (
                format!("{}/backupProtectedItems", v.as_str()),
                restore_models::recoveryservices::API_VERSION,
                vec![("$filter", "backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'")],
            ),
        };
        let url = self.client.pipeline().url(&path, api, &query);
        self.client.list_all(&Self::ctx(), "list protected items", url, None).await.map_err(seam)
    }
}

#[async_trait]
impl PreflightAzure for ArmDrillAzure {
    async fn usages(&self, subscription: &str, location: &str) -> Result<Vec<Value>, SeamError> {
        // Both come from ARM ids and answers; held to Azure's spelling so they cannot change the path.
        let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !plain(subscription) || !plain(location) {
            return Err(SeamError(format!("not a subscription and region: '{subscription}', '{location}'")));
        }
        let path = format!("/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}/usages");
        let url = self.client.pipeline().url(&path, "2024-07-01", &[]);
        self.client.list_all(&Self::ctx(), "list compute usages", url, None).await.map_err(seam)
    }

    async fn policy_assignments(&self, resource_group: &str) -> Result<Vec<Value>, SeamError> {
        let group = ResourceId::parse(resource_group).map_err(seam)?;
        let path = format!("{}/providers/Microsoft.Authorization/policyAssignments", group.as_str());
        let url = self.client.pipeline().url(&path, "2023-04-01", &[("$filter", "atScope()")]);
        self.client.list_all(&Self::ctx(), "list policy assignments", url, None).await.map_err(seam)
    }
}

/// The sweep's view: drill-tagged resources listed through the ARM client, runs read from the state store.
pub struct SweepView<'a> {
    /// Azure.
    pub azure: &'a ArmDrillAzure,
    /// The state store the runs are in.
    pub store: &'a dyn StateStore,
}

#[async_trait]
impl restore_drills::sweep::SweepSeams for SweepView<'_> {
    async fn drill_tagged(&self, group: &str) -> Result<Vec<Value>, SeamError> {
        use restore_drills::sweep::{LIST_API_VERSION, list_filter};
        let group = ResourceId::parse(group).map_err(seam)?;
        let filter = list_filter();
        let url = self.azure.client.pipeline().url(
            &format!("{}/resources", group.as_str()),
            LIST_API_VERSION,
            &[("$filter", &filter)],
        );
        self.azure.client.list_all(&ArmDrillAzure::ctx(), "list drill-tagged resources", url, None).await.map_err(seam)
    }

    async fn run(&self, run_id: &str) -> Result<Option<restore_drills::run::DrillRun>, SeamError> {
        let doc = self.store.document(&restore_drills::run::DrillRun::key(run_id)).await.map_err(seam)?;
        Ok(doc.and_then(|d| serde_json::from_value(d.body).ok()))
    }
}

#[async_trait]
impl restore_drills::start::PointSource for ArmDrillAzure {
    async fn recovery_points(&self, item: &restore_drills::ItemId, secondary: bool) -> Result<Vec<Value>, SeamError> {
        // The secondary region's copy is read through the Cross Region Restore passive stamp's api-version.
        let api = match item {
            restore_drills::ItemId::Disk(_) => restore_models::dataprotection::API_VERSION,
            restore_drills::ItemId::Vm(_) if secondary => restore_models::crr::API_VERSION,
            restore_drills::ItemId::Vm(_) => restore_models::recoveryservices::API_VERSION,
        };
        let url = self.client.pipeline().url(&format!("{}/recoveryPoints", item.as_str()), api, &[]);
        self.client.list_all(&Self::ctx(), "list recovery points", url, None).await.map_err(seam)
    }
}
