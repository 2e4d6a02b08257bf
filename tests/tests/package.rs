//! The deployment package and its wiring to infra/: runs `scripts/package.sh` once (release build of both
//! handlers, static), unpacks each `out/package/<app>.zip` and checks what the Functions host and Flex
//! Consumption rely on:
//!
//! * the zip holds exactly `host.json`, the handler binary and one `<Function>/function.json` per function;
//! * the binary is at host.json's `customHandler.description.defaultExecutablePath`, is a static x86-64 ELF,
//!   carries the execute bit in the zip's external attributes, and starts from the unpacked folder;
//! * host.json is exactly what the host expects of that app ([`expected_host_json`]): the packaging writes it
//!   from the top-level host.json (shared settings) and `handlers/<app>/host.app.json` (the app's own);
//! * every binding's `connection` and `%SETTING%` names a setting that infra/ sets for that app, identity-based
//!   (no connection strings), and every app setting infra/ sets is documented in docs/configuration.md;
//! * binary sizes (printed; target ≤ 10 MB, limit 25 MB).
//!
//! One test, so the packaging runs once. Needs python3 (the packaging script uses it to zip and to merge host.json).
//! The fast tests below check the host.json merge alone, without the release build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use restore_e2e::Worker;
use serde_json::{Value, json};

const TARGET_BYTES: u64 = 10 * 1024 * 1024;
const LIMIT_BYTES: u64 = 25 * 1024 * 1024;

struct App {
    name: &'static str,
    /// Function folder → trigger type and trigger binding name (what the binary registers).
    functions: &'static [(&'static str, &'static str, &'static str)],
    /// The Bicep variable holding this app's own settings (main.bicep).
    settings_var: &'static str,
}

const APPS: &[App] = &[
    App {
        name: "intake",
        functions: &[("RestoreIntake", "serviceBusTrigger", "message")],
        settings_var: "intakeAppSettings",
    },
    App {
        name: "tracker",
        functions: &[("RestoreTracker", "timerTrigger", "timer")],
        settings_var: "trackerAppSettings",
    },
    App { name: "drills", functions: &[("RestoreDrills", "timerTrigger", "timer")], settings_var: "drillsAppSettings" },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

#[tokio::test(flavor = "multi_thread")]
async fn package_layout_settings_and_sizes() {
    let root = root();
    let status = Command::new("bash")
        .arg(root.join("scripts/package.sh"))
        .current_dir(&root)
        .status()
        .expect("run scripts/package.sh");
    assert!(status.success(), "scripts/package.sh failed: {status}");

    let infra = InfraSettings::read(&root);
    let docs = std::fs::read_to_string(root.join("docs/configuration.md")).expect("docs/configuration.md");
    let mut problems = Vec::new();
    let mut sizes = Vec::new();

    for app in APPS {
        let zip_path = root.join(format!("out/package/{}.zip", app.name));
        let zip = std::fs::read(&zip_path).unwrap_or_else(|e| panic!("{}: {e}", zip_path.display()));
        let entries = match central_directory(&zip) {
            Ok(entries) => entries,
            Err(e) => panic!("{}: not a readable zip: {e}", zip_path.display()),
        };
        let unpacked = unpack(&root, app.name, &zip_path);
        let mut p = |msg: String| problems.push(format!("{}: {msg}", app.name));

        // host.json
        let host: Value = read_json(&unpacked.join("host.json"));
        let exe = host.pointer("/customHandler/description/defaultExecutablePath").and_then(Value::as_str);
        let Some(exe) = exe else {
            p("host.json has no customHandler.description.defaultExecutablePath".into());
            continue;
        };
        if exe != app.name {
            p(format!("defaultExecutablePath is {exe:?}, expected the binary name {:?}", app.name));
        }
        let expected = expected_host_json(app.name);
        if host != expected {
            p(format!("packaged host.json differs from what the host expects:\n{host:#}\nexpected:\n{expected:#}"));
        }
        check_host_json(&host, app, &mut p);

        // Layout: exactly host.json, the binary and the function folders.
        let mut expected: BTreeSet<String> = ["host.json".to_string(), exe.to_string()].into();
        for (function, _, _) in app.functions {
            expected.insert(format!("{function}/function.json"));
        }
        let names: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
        if names != expected {
            p(format!("zip entries {names:?}, expected {expected:?}"));
        }

        // The binary: execute bit in the zip, static ELF, size.
        match entries.iter().find(|e| e.name == exe) {
            None => p(format!("defaultExecutablePath {exe:?} is not in the zip")),
            Some(entry) => {
                let mode = entry.unix_mode();
                if entry.made_by_os != 3 || mode & 0o111 == 0 {
                    p(format!("{exe} has no execute bit in the zip (made by os {}, mode {mode:o})", entry.made_by_os));
                }
                sizes.push((app.name, entry.uncompressed_size, zip.len()));
                if entry.uncompressed_size > LIMIT_BYTES {
                    p(format!("{exe} is {} bytes, over the {LIMIT_BYTES}-byte limit", entry.uncompressed_size));
                }
            }
        }
        let binary = unpacked.join(exe);
        check_static_elf(&binary, &mut p);

        // Bindings against the app settings infra/ sets for this app.
        let settings = infra.for_app(app, &mut p);
        for (function, trigger_type, trigger_name) in app.functions {
            let function_json: Value = read_json(&unpacked.join(function).join("function.json"));
            check_bindings(&function_json, function, trigger_type, trigger_name, &settings, &mut p);
        }
        check_host_storage(&settings, &mut p);

        // The binary starts from the unpacked package (exec permission, static linking, no missing files): it
        // answers the host's readiness probe, or exits naming what configuration it lacks. Either way it ran.
        smoke_start(&binary, &unpacked, &mut p).await;

        for setting in &settings {
            if !docs.contains(setting.as_str()) {
                p(format!("setting {setting} (set by infra/) is not documented in docs/configuration.md"));
            }
        }
    }

    println!("package sizes:");
    for (app, binary, zip) in &sizes {
        let note = if *binary > TARGET_BYTES { " (over the 10 MB target)" } else { "" };
        println!(
            "  {app}: binary {binary} bytes ({:.2} MB){note}, zip {zip} bytes ({:.2} MB)",
            *binary as f64 / 1_048_576.0,
            *zip as f64 / 1_048_576.0
        );
    }
    assert!(problems.is_empty(), "package problems:\n  {}", problems.join("\n  "));
}

/// The host.json each app must be deployed with, stated in full and independently of the two files it is merged
/// from, so a change to either that alters an app's settings fails here (docs/deploy.md explains each value).
fn expected_host_json(app: &str) -> Value {
    let (timeout, service_bus) = match app {
        "intake" => (
            "00:10:00",
            json!({
                "prefetchCount": 0,
                "autoCompleteMessages": true,
                "maxConcurrentCalls": 8,
                "maxAutoLockRenewalDuration": "00:15:00",
            }),
        ),
        "tracker" | "drills" => ("00:05:00", json!({})),
        other => panic!("no expected host.json for app {other:?}: add it to expected_host_json and APPS"),
    };
    let mut service_bus = service_bus;
    service_bus["clientRetryOptions"] = json!({
        "mode": "exponential",
        "tryTimeout": "00:01:00",
        "delay": "00:00:00.80",
        "maxDelay": "00:01:00",
        "maxRetries": 3,
    });
    json!({
        "version": "2.0",
        "functionTimeout": timeout,
        "extensionBundle": { "id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)" },
        "customHandler": {
            "description": { "defaultExecutablePath": app, "workingDirectory": "", "arguments": [] },
            "enableForwardingHttpRequest": false,
        },
        "extensions": { "serviceBus": service_bus },
        "logging": {
            "logLevel": {
                "default": "Warning",
                "Host.Function.Console": "Information",
                "Function": "Information",
                "Host.Results": "Information",
                "Host.Aggregator": "Information",
            },
            "applicationInsights": { "samplingSettings": { "isEnabled": false } },
        },
    })
}

/// Runs the packaging's merge (scripts/hostjson.py) of `base` and `overlay` into a file in `dir`.
fn merge_host_json(root: &Path, base: &Path, overlay: &Path, dir: &Path) -> Result<Value, String> {
    let out = dir.join("host.json");
    let run = Command::new("python3")
        .arg(root.join("scripts/hostjson.py"))
        .args([base, overlay, &out])
        .output()
        .expect("run python3 scripts/hostjson.py");
    if !run.status.success() {
        return Err(String::from_utf8_lossy(&run.stderr).into_owned());
    }
    Ok(read_json(&out))
}

/// The apps the packaging will build: every handlers/<app>/ with a host.app.json.
fn overlay_apps(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root.join("handlers"))
        .expect("read handlers/")
        .map(|entry| entry.expect("handlers/ entry").path())
        .filter(|dir| dir.join("host.app.json").is_file())
        .map(|dir| dir.file_name().expect("folder name").to_string_lossy().into_owned())
        .collect()
}

#[test]
fn each_apps_host_json_is_the_shared_one_plus_its_overlay_and_what_the_host_expects() {
    let root = root();
    let apps = overlay_apps(&root);
    let known: BTreeSet<String> = APPS.iter().map(|a| a.name.to_string()).collect();
    assert_eq!(apps, known, "handlers/*/host.app.json and this test's APPS name different apps");
    let dir = tempfile::tempdir().unwrap();
    for app in APPS {
        // A per-app copy next to the function folders would be a second source (and the packaging refuses it).
        let stale = root.join("handlers").join(app.name).join("app/host.json");
        assert!(!stale.exists(), "{} exists: host.json is generated, delete it", stale.display());
        let overlay = root.join("handlers").join(app.name).join("host.app.json");
        let host = merge_host_json(&root, &root.join("host.json"), &overlay, dir.path())
            .unwrap_or_else(|e| panic!("{}: merge failed: {e}", app.name));
        assert_eq!(host, expected_host_json(app.name), "{}: merged host.json", app.name);
        let mut problems = Vec::new();
        check_host_json(&host, app, &mut |m| problems.push(m));
        assert!(problems.is_empty(), "{}: {problems:?}", app.name);
    }
}

#[test]
fn an_overlay_that_restates_a_shared_setting_or_omits_its_own_is_refused() {
    let root = root();
    let dir = tempfile::tempdir().unwrap();
    let base = root.join("host.json");
    let overlay = dir.path().join("host.app.json");
    let write = |value: Value| std::fs::write(&overlay, value.to_string()).unwrap();

    // Restating a shared setting, even with the same value, would let the apps drift apart unnoticed.
    write(json!({
        "functionTimeout": "00:05:00",
        "customHandler": { "description": { "defaultExecutablePath": "x" } },
        "logging": { "logLevel": { "default": "Warning" } },
    }));
    let err = merge_host_json(&root, &base, &overlay, dir.path()).unwrap_err();
    assert!(err.contains("logging.logLevel.default") && err.contains("state it in one place"), "{err}");

    // Every app names its own executable.
    write(json!({ "functionTimeout": "00:05:00" }));
    let err = merge_host_json(&root, &base, &overlay, dir.path()).unwrap_err();
    assert!(err.contains("customHandler.description.defaultExecutablePath"), "{err}");

    // The minimal overlay merges.
    write(json!({
        "functionTimeout": "00:05:00",
        "customHandler": { "description": { "defaultExecutablePath": "x" } },
    }));
    let host = merge_host_json(&root, &base, &overlay, dir.path()).unwrap();
    assert_eq!(host["customHandler"]["description"]["defaultExecutablePath"], "x");
    assert_eq!(host["customHandler"]["enableForwardingHttpRequest"], false);
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()))
}

/// Unpacks with Python's zipfile (independent of the Rust reader below) into out/package-check/<app>.
fn unpack(root: &Path, app: &str, zip: &Path) -> PathBuf {
    let dest = root.join("out/package-check").join(app);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).expect("clear out/package-check");
    }
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(zip)
        .arg(&dest)
        .status()
        .expect("python3 -m zipfile -e");
    assert!(status.success(), "unpacking {} failed", zip.display());
    // Python does not restore permissions; apply the zip's modes as the Functions host's unpacker does.
    let bytes = std::fs::read(zip).expect("read zip");
    for entry in central_directory(&bytes).expect("zip") {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = entry.unix_mode();
        if mode != 0 {
            std::fs::set_permissions(dest.join(&entry.name), std::fs::Permissions::from_mode(mode))
                .expect("set permissions");
        }
    }
    dest
}

fn check_host_json(host: &Value, app: &App, p: &mut impl FnMut(String)) {
    let get = |ptr: &str| host.pointer(ptr).cloned().unwrap_or(Value::Null);
    if get("/version") != "2.0" {
        p("host.json version is not 2.0".into());
    }
    if get("/extensionBundle/id") != "Microsoft.Azure.Functions.ExtensionBundle"
        || get("/extensionBundle/version") != "[4.*, 5.0.0)"
    {
        p(format!(
            "extension bundle is {}, expected Microsoft.Azure.Functions.ExtensionBundle [4.*, 5.0.0)",
            get("/extensionBundle")
        ));
    }
    if get("/customHandler/enableForwardingHttpRequest") != false {
        p("customHandler.enableForwardingHttpRequest must be false".into());
    }
    if !get("/functionTimeout").is_string() {
        p("host.json sets no functionTimeout".into());
    }
    let console = get("/logging/logLevel/Host.Function.Console");
    if !matches!(console.as_str(), Some("Information" | "Debug" | "Trace")) {
        p(format!(
            "logging.logLevel.Host.Function.Console is {console}: the handler's console output would be dropped"
        ));
    }
    if app.functions.iter().any(|(_, t, _)| *t == "serviceBusTrigger") {
        let sb = get("/extensions/serviceBus");
        for key in ["maxConcurrentCalls", "autoCompleteMessages", "maxAutoLockRenewalDuration", "prefetchCount"] {
            if sb.get(key).is_none() {
                p(format!("host.json extensions.serviceBus.{key} is not set"));
            }
        }
        // A custom handler cannot settle messages itself: autoComplete must stay on.
        if sb.get("autoCompleteMessages") != Some(&Value::Bool(true)) {
            p("extensions.serviceBus.autoCompleteMessages must be true for a custom handler".into());
        }
    }
    let text = host.to_string().to_ascii_lowercase();
    for secret in ["accountkey=", "sharedaccesskey", "connectionstring"] {
        if text.contains(secret) {
            p(format!("host.json contains {secret:?}"));
        }
    }
}

fn check_bindings(
    function_json: &Value,
    function: &str,
    trigger_type: &str,
    trigger_name: &str,
    settings: &BTreeSet<String>,
    p: &mut impl FnMut(String),
) {
    let Some(bindings) = function_json.get("bindings").and_then(Value::as_array) else {
        p(format!("{function}/function.json has no bindings array"));
        return;
    };
    let triggers: Vec<&Value> = bindings.iter().filter(|b| b["direction"] == "in").collect();
    match triggers.as_slice() {
        [t] if t["type"] == trigger_type && t["name"] == trigger_name => {}
        _ => p(format!("{function}: expected one {trigger_type} input named {trigger_name:?}, found {triggers:?}")),
    }
    if trigger_type == "serviceBusTrigger" && triggers.first().is_some_and(|t| t["dataType"] != "binary") {
        p(format!("{function}: the Service Bus trigger must set dataType binary"));
    }
    for binding in bindings {
        let name = binding["name"].as_str().unwrap_or("?");
        if let Some(connection) = binding.get("connection").and_then(Value::as_str) {
            // Identity-based: <connection>__fullyQualifiedNamespace (+ credential, clientId), never a
            // connection-string setting of that exact name (which would win over the prefix).
            for suffix in ["__fullyQualifiedNamespace", "__credential", "__clientId"] {
                if !settings.contains(&format!("{connection}{suffix}")) {
                    p(format!(
                        "{function}.{name}: connection {connection:?} needs setting {connection}{suffix} in infra/"
                    ));
                }
            }
            if settings.contains(connection) {
                p(format!("{function}.{name}: infra/ sets {connection} itself (a connection string)"));
            }
        }
        let Some(object) = binding.as_object() else { continue };
        for (key, value) in object {
            let Some(text) = value.as_str() else { continue };
            for setting in percent_settings(text) {
                if !settings.contains(&setting) {
                    p(format!(
                        "{function}.{name}.{key} uses %{setting}% but infra/ does not set {setting} for this app"
                    ));
                }
            }
        }
    }
}

fn check_host_storage(settings: &BTreeSet<String>, p: &mut impl FnMut(String)) {
    if settings.contains("AzureWebJobsStorage") {
        p("infra/ sets AzureWebJobsStorage (a connection string); use the identity-based settings".into());
    }
    let has_location = ["AzureWebJobsStorage__accountName", "AzureWebJobsStorage__blobServiceUri"]
        .iter()
        .any(|s| settings.contains(*s));
    if !has_location || !settings.contains("AzureWebJobsStorage__credential") {
        p("infra/ does not set identity-based AzureWebJobsStorage__* (accountName or blobServiceUri, credential)"
            .into());
    }
    if !settings.contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") {
        p("infra/ does not set APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Entra-authenticated telemetry)".into());
    }
}

/// `%NAME%` references in a binding value.
fn percent_settings(text: &str) -> Vec<String> {
    let parts: Vec<&str> = text.split('%').collect();
    // "a%B%c%D%e" splits into [a, B, c, D, e]: the odd positions are names.
    parts.iter().enumerate().filter(|(i, _)| i % 2 == 1 && *i + 1 < parts.len()).map(|(_, s)| s.to_string()).collect()
}

fn check_static_elf(binary: &Path, p: &mut impl FnMut(String)) {
    let bytes = match std::fs::read(binary) {
        Ok(bytes) => bytes,
        Err(e) => return p(format!("{}: {e}", binary.display())),
    };
    // ELF, 64-bit, little-endian, x86-64 (e_machine 62).
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 || bytes[18] != 62 {
        return p(format!("{} is not an x86-64 ELF executable", binary.display()));
    }
    // Static: no PT_INTERP program header (a dynamic executable names its loader there).
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap_or_default()) as usize;
    let phentsize = u16::from_le_bytes([bytes[54], bytes[55]]) as usize;
    let phnum = u16::from_le_bytes([bytes[56], bytes[57]]) as usize;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let Some(header) = bytes.get(at..at + 4) else {
            return p(format!("{}: truncated program headers", binary.display()));
        };
        if u32::from_le_bytes(header.try_into().unwrap_or_default()) == 3 {
            p(format!("{} is dynamically linked (PT_INTERP): it would depend on the image's glibc", binary.display()));
        }
    }
}

async fn smoke_start(binary: &Path, app_root: &Path, p: &mut impl FnMut(String)) {
    let mut worker = match Worker::builder(binary)
        .app_root(app_root)
        .env("RUST_LOG", "info")
        .ready_timeout(Duration::from_secs(20))
        .start()
    {
        Ok(worker) => worker,
        Err(e) => return p(format!("the packaged binary does not start: {e}")),
    };
    match worker.wait_ready().await {
        Ok(after) => println!("{}: ready after {after:?}", binary.display()),
        Err(e) => {
            // Exiting on missing configuration is acceptable here (this test gives it none); a hang is not.
            // Its last words may still be in the pipe when the exit is seen: read stderr to its end.
            let exited = worker.try_exit();
            let stderr = worker.stderr().all(Duration::from_secs(5)).await;
            match exited {
                Ok(Some(status)) if !stderr.trim().is_empty() => {
                    println!("{}: exited {status} without configuration: {}", binary.display(), stderr.trim())
                }
                _ => p(format!("the packaged binary neither became ready nor exited with an error: {e}")),
            }
        }
    }
    let _ = worker.kill().await;
}

// ---- app settings from infra/ ------------------------------------------------------------------------------------

/// The app settings infra/ sets, read from the Bicep text: main.bicep's `sharedAppSettings`, each app's
/// `<app>AppSettings`, and the platform settings of modules/functionapp.bicep (`platformAppSettings`).
struct InfraSettings {
    main: String,
    shared: BTreeSet<String>,
    platform: BTreeSet<String>,
    per_app: BTreeMap<String, BTreeSet<String>>,
}

impl InfraSettings {
    fn read(root: &Path) -> Self {
        let main = std::fs::read_to_string(root.join("infra/main.bicep")).expect("infra/main.bicep");
        let module = std::fs::read_to_string(root.join("infra/modules/functionapp.bicep"))
            .expect("infra/modules/functionapp.bicep");
        let shared = bicep_object_keys(&main, "sharedAppSettings");
        let platform = bicep_object_keys(&module, "platformAppSettings");
        let per_app = APPS.iter().map(|a| (a.name.to_string(), bicep_object_keys(&main, a.settings_var))).collect();
        assert!(!shared.is_empty() && !platform.is_empty(), "no app settings found in infra/");
        Self { main, shared, platform, per_app }
    }

    fn for_app(&self, app: &App, p: &mut impl FnMut(String)) -> BTreeSet<String> {
        // The module call for this app must pass exactly these variables.
        let call = format!("union(sharedAppSettings, customCloudSettings, {})", app.settings_var);
        let module_block = self.main.split(&format!("module {}App ", app.name)).nth(1).unwrap_or("");
        let module_block = module_block.split("\nmodule ").next().unwrap_or("");
        if !module_block.contains(&format!("appSettings: {call}")) {
            p(format!("infra/main.bicep: module {}App does not pass appSettings: {call}", app.name));
        }
        let mut all = self.shared.clone();
        all.extend(self.platform.iter().cloned());
        all.extend(self.per_app.get(app.name).cloned().unwrap_or_default());
        all
    }
}

/// Top-level keys of `var <name> = { ... }` in Bicep text (comments and quoted strings skipped).
fn bicep_object_keys(text: &str, var: &str) -> BTreeSet<String> {
    let header = format!("var {var} = {{");
    let Some(start) = text.find(&header) else {
        panic!("Bicep variable {var} not found");
    };
    let body = &text[start + header.len()..];
    let mut keys = BTreeSet::new();
    let mut depth = 1usize;
    for line in body.lines() {
        if depth == 1 {
            let trimmed = line.trim_start();
            let key_end = trimmed.find(':');
            if let Some(end) = key_end {
                let key = trimmed[..end].trim().trim_matches('\'');
                if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
                {
                    keys.insert(key.to_string());
                }
            }
        }
        let mut chars = line.chars().peekable();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_string => {
                    chars.next();
                }
                '\'' => in_string = !in_string,
                '/' if !in_string && chars.peek() == Some(&'/') => break,
                '{' | '[' | '(' if !in_string => depth += 1,
                '}' | ']' | ')' if !in_string => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 {
            return keys;
        }
    }
    panic!("Bicep variable {var} is not closed");
}

// ---- zip central directory ---------------------------------------------------------------------------------------

struct Entry {
    name: String,
    made_by_os: u8,
    external_attr: u32,
    uncompressed_size: u64,
}

impl Entry {
    fn unix_mode(&self) -> u32 {
        if self.made_by_os == 3 { (self.external_attr >> 16) & 0o7777 } else { 0 }
    }
}

/// The entries of a zip's central directory (no zip64: our packages are far below 4 GB).
fn central_directory(zip: &[u8]) -> Result<Vec<Entry>, String> {
    let u16_at = |at: usize| zip.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| zip.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(i) == Some(0x0605_4b50))
        .ok_or("no end-of-central-directory record")?;
    let count = u16_at(eocd + 10).ok_or("truncated")? as usize;
    let mut at = u32_at(eocd + 16).ok_or("truncated")? as usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(at) != Some(0x0201_4b50) {
            return Err(format!("bad central directory entry at {at}"));
        }
        let made_by = u16_at(at + 4).ok_or("truncated")?;
        let uncompressed = u32_at(at + 24).ok_or("truncated")?;
        let name_len = u16_at(at + 28).ok_or("truncated")? as usize;
        let extra_len = u16_at(at + 30).ok_or("truncated")? as usize;
        let comment_len = u16_at(at + 32).ok_or("truncated")? as usize;
        let external = u32_at(at + 38).ok_or("truncated")?;
        let name = zip.get(at + 46..at + 46 + name_len).ok_or("truncated name")?;
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            made_by_os: (made_by >> 8) as u8,
            external_attr: external,
            uncompressed_size: u64::from(uncompressed),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}
