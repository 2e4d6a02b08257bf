//! Shared test helpers: start the emulator with the example scenario, a reqwest client trusting its CA, and a
//! token from its identity endpoint.
#![allow(dead_code)]

use std::path::PathBuf;

use backup_emulator::scenario::Scenario;
use backup_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use serde_json::Value;

pub const SUB: &str = "00000000-1111-2222-3333-444444444444";
pub const DPP: &str = "2026-06-01";
pub const RSV: &str = "2026-10-01";
pub const CRR: &str = "2026-07-15";

pub fn example_scenario() -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/scenario.json");
    Scenario::load(&path).expect("examples/scenario.json must load")
}

pub struct Env {
    pub emu: EmulatorHandle,
    pub http: reqwest::Client,
    pub token: String,
}

pub async fn start() -> Env {
    start_with(example_scenario()).await
}

pub async fn start_with(scenario: Scenario) -> Env {
    let emu = Emulator::start(EmulatorConfig::new(scenario)).await.expect("emulator starts");
    let cert = reqwest::Certificate::from_pem(emu.ca_pem.as_bytes()).expect("CA PEM parses");
    let http = reqwest::Client::builder()
        .tls_certs_only([cert])
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client builds");
    let token = token_for(&http, &emu, "https://management.azure.com/").await;
    Env { emu, http, token }
}

pub async fn token_for(http: &reqwest::Client, emu: &EmulatorHandle, resource: &str) -> String {
    let r = http
        .get(format!("{}?api-version=2019-08-01&resource={resource}", emu.identity_url))
        .header("X-IDENTITY-HEADER", &emu.identity_header)
        .send()
        .await
        .expect("identity endpoint answers");
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.expect("token body")).expect("token JSON");
    v["access_token"].as_str().expect("access_token").to_string()
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
}

impl Env {
    pub fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("https://") {
            path_and_query.to_string()
        } else {
            format!("{}{}", self.emu.arm_url, path_and_query)
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, self.url(path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.expect("request completes");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body reads");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    pub fn advance(&self, seconds: f64) {
        self.emu.advance(seconds);
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, format!("{}{}", self.emu.admin_url, path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.expect("admin answers");
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        let text = r.text().await.unwrap_or_default();
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("admin JSON") }
    }
}

pub fn bv() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks")
}

pub fn bi(name: &str) -> String {
    format!("{}/backupInstances/{name}", bv())
}

pub fn rsv() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms")
}

pub fn pi(vm: &str) -> String {
    format!(
        "{}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;{vm}/protectedItems/VM;iaasvmcontainerv2;rg-app;{vm}",
        rsv()
    )
}

pub fn vm_id(vm: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/{vm}")
}

pub fn disk_id(rg: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}")
}

pub fn rg_id(rg: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}")
}

pub fn sa_id() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/stagingsa01")
}

pub fn disk_restore_body(rp: &str, rg: &str, disk: &str) -> Value {
    serde_json::json!({
        "objectType": "AzureBackupRecoveryPointBasedRestoreRequest",
        "recoveryPointId": rp,
        "sourceDataStoreType": "OperationalStore",
        "restoreTargetInfo": {
            "objectType": "RestoreTargetInfo",
            "recoveryOption": "FailIfExists",
            "restoreLocation": "westus",
            "datasourceInfo": {
                "objectType": "Datasource",
                "datasourceType": "Microsoft.Compute/disks",
                "resourceType": "Microsoft.Compute/disks",
                "resourceName": disk,
                "resourceID": disk_id(rg, disk),
                "resourceLocation": "westus"
            }
        }
    })
}

pub fn vm_restore_body(vm: &str, rp: &str, recovery_type: &str) -> Value {
    let mut p = serde_json::json!({
        "objectType": "IaasVMRestoreRequest",
        "recoveryPointId": rp,
        "recoveryType": recovery_type,
        "sourceResourceId": vm_id(vm),
        "storageAccountId": sa_id(),
        "targetResourceGroupId": rg_id("rg-restore"),
        "region": "westus",
        "createNewCloudService": false,
        "originalStorageAccountOption": false,
        "encryptionDetails": {"encryptionEnabled": false}
    });
    if recovery_type == "AlternateLocation" {
        p["targetVirtualMachineId"] = serde_json::json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg-restore/providers/Microsoft.Compute/virtualMachines/{vm}-restored"
        ));
        p["virtualNetworkId"] = serde_json::json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app"
        ));
        p["subnetId"] = serde_json::json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/default"
        ));
    }
    serde_json::json!({"properties": p})
}
