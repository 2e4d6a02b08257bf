//! Authentication, api-version checks, throttling, every fault kind, paging and filters, quirk toggles,
//! identity tokens, the admin API and the binary's ready line.

mod common;

use std::io::{BufRead, BufReader};

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

fn rp_list() -> String {
    format!("{}/recoveryPoints?api-version={DPP}", bi("app-data-01-bi"))
}

#[tokio::test]
async fn bearer_and_api_version_checks() {
    let env = start().await;
    let url = env.url(&rp_list());
    let r = env.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let r = env.http.get(&url).bearer_auth("not-a-jwt").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    // A storage token is not an ARM token.
    let storage = token_for(&env.http, &env.emu, "https://storage.azure.com/.default").await;
    assert_eq!(env.http.get(&url).bearer_auth(&storage).send().await.unwrap().status(), 401);
    // api-version missing / unknown.
    let r = env.get(&format!("{}/recoveryPoints", bi("app-data-01-bi"))).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("MissingApiVersionParameter")));
    let r = env.get(&format!("{}/recoveryPoints?api-version=1999-01-01", bi("app-data-01-bi"))).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("InvalidApiVersionParameter")));
    // Mixed-case literal segments and encoded names still route.
    let mixed = format!(
        "/Subscriptions/{SUB}/resourcegroups/rg-backup/providers/microsoft.dataprotection/Backupvaults/bv-disks/backupInstances/app-data-01-bi/recoveryPoints?api-version={DPP}"
    );
    assert_eq!(env.get(&mixed).await.status, 200);
    let encoded = format!("{}/recoveryPoints?api-version={RSV}", pi("vm-web-01")).replace(';', "%3B");
    assert_eq!(env.get(&encoded).await.status, 200);
}

#[tokio::test]
async fn identity_tokens_fit_azurite_and_check_the_header() {
    let env = start().await;
    let r = env
        .http
        .get(format!("{}?api-version=2019-08-01&resource=https://storage.azure.com", env.emu.identity_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the x-identity-header is required");
    let r = env
        .http
        .get(format!("{}?api-version=2019-08-01&resource=https://storage.azure.com/&client_id=22222222-2222-2222-2222-222222222222", env.emu.identity_url))
        .header("X-IDENTITY-HEADER", &env.emu.identity_header)
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(v["expires_on"].is_string());
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["resource"], "https://storage.azure.com/");
    let tok = v["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tok.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://storage.azure.com");
    assert_eq!(claims["iss"], "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert_eq!(claims["oid"], "aaaaaaaa-0000-0000-0000-000000000002");
    assert!(
        claims["nbf"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap()
            && claims["iat"].as_i64() < claims["exp"].as_i64()
    );
}

#[tokio::test]
async fn throttling_drains_and_refills() {
    let env = start().await;
    env.admin(
        "PUT",
        "/throttle",
        Some(json!({
            "enabled": true,
            "reads": {"capacity": 5, "refillPerSecond": 1},
            "writes": {"capacity": 200, "refillPerSecond": 10},
            "deletes": {"capacity": 200, "refillPerSecond": 10}
        })),
    )
    .await;
    let mut remaining = vec![];
    for _ in 0..5 {
        let r = env.get(&rp_list()).await;
        assert_eq!(r.status, 200);
        remaining.push(r.header("x-ms-ratelimit-remaining-subscription-reads").parse::<u64>().unwrap());
    }
    assert_eq!(remaining, vec![4, 3, 2, 1, 0]);
    let r = env.get(&rp_list()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    // Writes have their own bucket.
    let w = env.post(&format!("{}/validateRestore?api-version={DPP}", bi("app-data-01-bi")), json!({})).await;
    assert_eq!(w.status, 400);
    assert_eq!(w.header("x-ms-ratelimit-remaining-subscription-writes"), "199");
    env.advance(2.0);
    let r = env.get(&rp_list()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-ratelimit-remaining-subscription-reads"), "1");
}

async fn with_fault(env: &Env, rule: Value) {
    env.admin("DELETE", "/faults", None).await;
    env.admin("POST", "/faults", Some(rule)).await;
}

#[tokio::test]
async fn status_faults() {
    let env = start().await;
    for status in [429u16, 500, 503, 504] {
        with_fault(
            &env,
            json!({"route": "dpp.recoveryPoints.list", "fault": {"kind": "status", "status": status, "retryAfter": 7}}),
        )
        .await;
        let r = env.get(&rp_list()).await;
        assert_eq!(r.status, status);
        assert_eq!(r.header("retry-after"), "7");
        assert!(r.body["error"]["code"].is_string());
    }
    // Sequence: first call fails, second passes, then the rule is spent.
    with_fault(&env, json!({"route": "dpp.recoveryPoints.list", "method": "GET", "sequence": [{"kind": "status", "status": 503}, {"kind": "pass"}]})).await;
    assert_eq!(env.get(&rp_list()).await.status, 503);
    assert_eq!(env.get(&rp_list()).await.status, 200);
    assert_eq!(env.get(&rp_list()).await.status, 200);
    // Probability 0 never fires, other routes are unaffected.
    with_fault(
        &env,
        json!({"route": "dpp.recoveryPoints.list", "probability": 0.0, "fault": {"kind": "status", "status": 500}}),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(env.get(&rp_list()).await.status, 200);
    }
    let log = env.admin("GET", "/log", None).await;
    assert!(log.as_array().unwrap().iter().any(|e| e["status"] == 503 && e["fault"] == "status"));
}

#[tokio::test]
async fn body_faults_and_reset() {
    let env = start().await;
    with_fault(&env, json!({"route": "dpp.recoveryPoints.list", "sequence": [{"kind": "malformedJson"}, {"kind": "emptyBody"}, {"kind": "reset"}]})).await;
    let r = env.http.get(env.url(&rp_list())).bearer_auth(&env.token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err(), "malformed JSON");
    let r = env.http.get(env.url(&rp_list())).bearer_auth(&env.token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().is_empty(), "empty body");
    let r = env.http.get(env.url(&rp_list())).bearer_auth(&env.token).send().await;
    assert!(r.is_err(), "connection reset: {r:?}");
    assert_eq!(env.get(&rp_list()).await.status, 200);
}

#[tokio::test]
async fn delay_passes_a_client_timeout() {
    let env = start().await;
    with_fault(&env, json!({"route": "dpp.recoveryPoints.list", "sequence": [{"kind": "delay", "ms": 3000}]})).await;
    let r = env
        .http
        .get(env.url(&rp_list()))
        .bearer_auth(&env.token)
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(r.as_ref().is_err_and(|e| e.is_timeout()), "{r:?}");
}

#[tokio::test]
async fn hang_and_process_then_hang() {
    let env = start().await;
    with_fault(&env, json!({"route": "dpp.recoveryPoints.list", "sequence": [{"kind": "hang"}]})).await;
    let req = env.http.get(env.url(&rp_list())).bearer_auth(&env.token).send();
    let pending = tokio::spawn(req);
    env.emu.wait_hung(1).await;
    env.admin("POST", "/release", None).await;
    assert_eq!(pending.await.unwrap().unwrap().status(), 200);

    // The restore is processed (a job exists) but the client never gets the answer.
    with_fault(&env, json!({"route": "dpp.restore", "sequence": [{"kind": "processThenHang"}]})).await;
    let req = env
        .http
        .post(env.url(&format!("{}/restore?api-version={DPP}", bi("app-data-01-bi"))))
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body(disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "pth-disk").to_string())
        .send();
    let pending = tokio::spawn(req);
    env.emu.wait_hung(1).await;
    assert_eq!(env.emu.resources()["jobs"].as_array().unwrap().len(), 1, "processed before hanging");
    env.admin("POST", "/release", None).await;
    assert!(pending.await.unwrap().is_err(), "the response is withheld and the connection closed");
}

#[tokio::test]
async fn paging_and_filters() {
    let env = start().await;
    let r = env.get(&rp_list()).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 3);
    let next = r.body["nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("$skipToken="));
    let r2 = env.get(&next).await;
    assert_eq!(r2.body["value"].as_array().unwrap().len(), 2);
    assert!(r2.body["nextLink"].is_null());
    // DPP filter: 7-digit RFC 3339 times; only the points inside the window.
    let now = env.admin("GET", "/clock", None).await["now"].as_str().unwrap().to_string();
    let start = time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339).unwrap()
        - time::Duration::hours(30);
    let f = format!("startDate eq '{}' and endDate eq '{now}'", backup_emulator::util::fmt_time(start));
    let r = env
        .get(&format!(
            "{}/recoveryPoints?api-version={DPP}&$filter={}",
            bi("app-data-01-bi"),
            backup_emulator::util::query_encode(&f)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 3);
    let r = env
        .get(&format!("{}/recoveryPoints?api-version={DPP}&$filter=startDate%20eq%20'yesterday'", bi("app-data-01-bi")))
        .await;
    assert_eq!(r.status, 400);
    // RSV filter: az CLI 12-hour format.
    let t = |d: time::OffsetDateTime| {
        let (h, ap) = match d.hour() {
            0 => (12, "AM"),
            h @ 1..=11 => (h, "AM"),
            12 => (12, "PM"),
            h => (h - 12, "PM"),
        };
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {ap}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            h,
            d.minute(),
            d.second()
        )
    };
    let end = start + time::Duration::hours(30);
    let f = format!("endDate eq '{}' and startDate eq '{}'", t(end), t(start));
    let r = env
        .get(&format!(
            "{}/recoveryPoints?api-version={RSV}&$filter={}",
            pi("vm-web-01"),
            backup_emulator::util::query_encode(&f)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = env
        .get(&format!(
            "{}/recoveryPoints?api-version={RSV}&$filter=startDate%20eq%20'2024-05-01T00:00:00Z'",
            pi("vm-web-01")
        ))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn quirk_toggles_and_header_host() {
    let env = start().await;
    let t = env
        .post(
            &format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")),
            disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "q1"),
        )
        .await;
    let aao = t.header("azure-asyncoperation");
    assert!(aao.ends_with("?api-version=2021-01-01"));
    let path = &aao[env.emu.arm_url.len()..];
    assert_eq!(env.get(path).await.body["status"], "Inprogress");
    env.admin("PUT", "/quirks", Some(json!({"inprogressCasing": false, "zeroEndTime": false, "dppFullJobId": false, "oldApiVersionsInHeaders": false}))).await;
    let s = env.get(path).await;
    assert_eq!(s.body["status"], "InProgress");
    assert!(s.body.get("endTime").is_none());
    env.advance(20.0);
    let job = env.get(path).await.body["properties"]["jobId"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&job).is_ok(), "GUID job id with the quirk off: {job}");
    let t = env
        .post(
            &format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")),
            disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "q2"),
        )
        .await;
    assert!(t.header("azure-asyncoperation").ends_with(&format!("?api-version={DPP}")));
    // Header URLs can be made to point elsewhere (clients must refuse to follow them).
    env.admin("PUT", "/header-host", Some(json!({"origin": "https://evil.example"}))).await;
    let t = env
        .post(
            &format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")),
            disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "q3"),
        )
        .await;
    assert!(t.header("location").starts_with("https://evil.example/subscriptions/"));
}

#[tokio::test]
async fn admin_counts_log_and_reset() {
    let env = start().await;
    env.get(&rp_list()).await;
    env.get(&rp_list()).await;
    let counts = env.admin("GET", "/counts", None).await;
    assert_eq!(counts["dpp.recoveryPoints.list GET"], 2);
    let log = env.admin("GET", "/log", None).await;
    assert_eq!(log[0]["path"], bi("app-data-01-bi") + "/recoveryPoints");
    assert_eq!(log[0]["query"], format!("api-version={DPP}"));
    env.post(
        &format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")),
        disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "r1"),
    )
    .await;
    let clock = env.admin("POST", "/clock/advance", Some(json!({"seconds": 500}))).await;
    assert_ne!(clock["now"], clock["start"]);
    let res = env.admin("GET", "/resources", None).await;
    assert!(res["disks"].as_array().unwrap().iter().any(|d| d["name"] == "r1"));
    env.admin("POST", "/reset?world=true", None).await;
    assert_eq!(env.admin("GET", "/counts", None).await, json!({}));
    let res = env.admin("GET", "/resources", None).await;
    assert!(!res["disks"].as_array().unwrap().iter().any(|d| d["name"] == "r1"));
    assert_eq!(res["jobs"], json!([]));
}

#[test]
fn binary_prints_ready_line() {
    let scenario = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/scenario.json");
    let ca = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backup-emulator"))
        .args(["serve", "--scenario"])
        .arg(&scenario)
        .arg("--ca-dir")
        .arg(ca.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let ready: Value = serde_json::from_str(&line).expect("one JSON ready line");
    assert!(ready["arm"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    assert!(ready["identity"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(ready["admin"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(!ready["identityHeader"].as_str().unwrap().is_empty());
    assert!(std::path::Path::new(ready["caFile"].as_str().unwrap()).is_file());
}

#[test]
fn certs_command_writes_a_ca_and_server_cert_the_emulator_reuses() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_backup-emulator"))
        .args(["certs", "--out"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    for f in ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let ca = backup_emulator::tls::CertAuthority::load(dir.path()).unwrap();
    assert_eq!(ca.cert_pem(), std::fs::read_to_string(dir.path().join("ca.pem")).unwrap());
}

#[tokio::test]
async fn emulator_on_a_preexisting_ca_is_trusted_by_that_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = backup_emulator::tls::CertAuthority::generate().unwrap();
    ca.write_certs(dir.path(), &["127.0.0.1".into()]).unwrap();
    let mut config = backup_emulator::EmulatorConfig::new(example_scenario());
    config.ca_dir = Some(dir.path().to_path_buf());
    let emu = backup_emulator::Emulator::start(config).await.unwrap();
    let cert = reqwest::Certificate::from_pem(std::fs::read(dir.path().join("ca.pem")).unwrap().as_slice()).unwrap();
    let http = reqwest::Client::builder().tls_certs_only([cert]).build().unwrap();
    // The TLS handshake succeeds (401 because no token was sent).
    assert_eq!(http.get(format!("{}{}", emu.arm_url, rp_list())).send().await.unwrap().status(), 401);
    emu.shutdown().await;
}

#[tokio::test]
async fn accelerated_clock_expresses_retry_after_in_real_time() {
    let env = start().await;
    env.admin("POST", "/clock/realtime", Some(json!({"speed": 100.0}))).await;
    let body = disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "fast-clock-disk");
    let r = env.post(&format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")), body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(r.header("retry-after-ms"), "300");
    env.admin("POST", "/clock/virtual", None).await;
    let body = disk_restore_body("a3d02fc3ab8a4c3a8cc26688c26d3356", "rg-restore", "slow-clock-disk");
    let r = env.post(&format!("{}/restore?api-version={DPP}", bi("app-data-01-bi")), body).await;
    assert_eq!(r.header("retry-after"), "30");
    assert_eq!(r.header("retry-after-ms"), "");
}

#[tokio::test]
async fn vaults_report_their_region_and_cross_region_restore() {
    let env = start().await;
    let bv = env.get(&format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks?api-version={DPP}")).await;
    assert_eq!(bv.status, 200, "{}", bv.body);
    assert_eq!(bv.body["location"], "westus");
    assert_eq!(bv.body["properties"]["featureSettings"]["crossRegionRestoreSettings"]["state"], "Enabled");
    let rsv = env.get(&format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms?api-version=2025-08-01")).await;
    assert_eq!(rsv.status, 200, "{}", rsv.body);
    assert_eq!(rsv.body["properties"]["redundancySettings"]["crossRegionRestore"], "Enabled");
    let missing = env.get(&format!("/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/nope?api-version=2025-08-01")).await;
    assert_eq!(missing.status, 404);
}
