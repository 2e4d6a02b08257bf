//! The report pages in a real browser: Debian's `chromium`, headless (scripts/test.sh installs it). For a passed
//! run, a failed run, a run with leftovers, a missed run and the overview: the page loads with no console
//! message (a CSP violation is one), fetches nothing but itself (Chromium's network log), every figure in the
//! DOM equals the pack's, and a screenshot is written for the test log.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use restore_evidence::pack::EvidencePack;
use restore_evidence::{overview, store};
use serde_json::Value;

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("RESTORE_CHROMIUM") {
        return PathBuf::from(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser"] {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!("chromium is not installed: `apt-get install chromium` (scripts/test.sh does), or set RESTORE_CHROMIUM");
}

/// Flags that keep Chromium's own background traffic (updates, sync, Google services) out of the network log.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--enable-logging=stderr",
    "--v=0",
];

/// Headless Chromium with its own throw-away profile.
fn headless(profile: &Path) -> Command {
    let mut command = Command::new(chromium());
    command.args(FLAGS).arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// What loading a page showed.
struct Loaded {
    dom: String,
    console: Vec<String>,
    fetched: Vec<String>,
}

fn load(page: &Path, scratch: &Path) -> Loaded {
    let net = scratch.join(format!("{}.netlog.json", page.file_stem().unwrap().to_string_lossy()));
    let profile = tempfile::tempdir().unwrap();
    let out = headless(profile.path())
        .arg(format!("--log-net-log={}", net.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    let log: Value = serde_json::from_slice(&std::fs::read(&net).expect("the network log")).expect("netlog JSON");
    // Requests made for the page carry its network isolation key (file://); Chromium's own do not.
    let fetched = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let p = &e["params"];
            let from_page = p["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://"));
            let url = p["url"].as_str()?;
            (from_page && !url.starts_with("file:")).then(|| url.to_string())
        })
        .collect();
    Loaded { dom: String::from_utf8_lossy(&out.stdout).into_owned(), console, fetched }
}

fn screenshot(page: &Path, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("evidence-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let profile = tempfile::tempdir().unwrap();
    let out = headless(profile.path())
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,1800")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success() && png.is_file(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    println!("screenshot: {}", png.display());
    png
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Every `<data data-pointer value>` figure in the DOM.
fn figures(dom: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find("<data ") {
        rest = &rest[i + 6..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        let attr = |name: &str| {
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            let end = tag[start..].find('"')? + start;
            Some(unescape(&tag[start..end]))
        };
        if let (Some(p), Some(v)) = (attr("data-pointer"), attr("value")) {
            out.push((p, v));
        }
    }
    out
}

/// The pack's (or overview's) value at `pointer`; `/length` is an array's length.
fn resolve(doc: &Value, pointer: &str, derived: impl Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(name) = pointer.strip_prefix("derived:") {
        return derived(name);
    }
    if let Some(parent) = pointer.strip_suffix("/length") {
        return doc.pointer(parent).and_then(Value::as_array).map(|a| a.len().to_string());
    }
    doc.pointer(pointer).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn check_figures(dom: &str, doc: &Value, derived: impl Fn(&str) -> Option<String>) -> usize {
    let figures = figures(dom);
    for (pointer, shown) in &figures {
        let expected = resolve(doc, pointer, &derived);
        assert_eq!(expected.as_deref(), Some(shown.as_str()), "figure {pointer}");
    }
    figures.len()
}

fn run_page_is_sound(name: &str, pack: &EvidencePack, min_figures: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let page = store::write_run(dir.path(), pack).unwrap();
    let loaded = load(&page, dir.path());
    assert!(loaded.console.is_empty(), "{name}: console messages: {:#?}", loaded.console);
    assert!(loaded.fetched.is_empty(), "{name}: the page fetched {:?}", loaded.fetched);
    let doc = serde_json::to_value(pack).unwrap();
    let gib: u64 = pack.items.iter().filter_map(|e| e.restored_gib).sum();
    let count = check_figures(&loaded.dom, &doc, |d| (d == "restoredGiB").then(|| gib.to_string()));
    assert!(count >= min_figures, "{name}: only {count} figures in the DOM");
    // The pack written beside the page is the same document.
    let (_, json) = store::run_files(&pack.run.run_id).unwrap();
    let written: EvidencePack = serde_json::from_slice(&std::fs::read(dir.path().join(json)).unwrap()).unwrap();
    assert_eq!(&written, pack);
    screenshot(&page, name);
    loaded.dom
}

#[test]
fn a_passed_run_reads_true_in_a_browser() {
    let pack = common::passed();
    let dom = run_page_is_sound("passed", &pack, 8);
    assert!(dom.contains("restored and usable in 12.1 minutes against a target of 60.0 minutes"), "{dom}");
}

#[test]
fn a_failed_run_shows_azures_error_as_text_not_markup() {
    let pack = common::failed();
    let dom = run_page_is_sound("failed", &pack, 2);
    assert!(dom.contains("UserErrorDiskQuotaLimitReached"));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "Azure's text is escaped");
    assert!(!dom.contains("<script>"));
}

#[test]
fn a_run_with_leftovers_lists_each_one_and_why() {
    let pack = common::leftovers();
    let dom = run_page_is_sound("leftovers", &pack, 3);
    assert!(dom.contains("vm-web-01-drill-nic") && dom.contains("DELETE answered 409 twice"));
    assert!(dom.contains("Cleanup incomplete") && dom.contains("RTO over target"));
}

#[test]
fn a_missed_run_says_so() {
    let pack = common::missed();
    let dom = run_page_is_sound("missed", &pack, 1);
    assert!(dom.contains("Missed run") && dom.contains("Not run"));
}

#[test]
fn the_overview_reads_true_in_a_browser() {
    let overview = common::overview();
    let dir = tempfile::tempdir().unwrap();
    let page = store::write_overview(dir.path(), &overview).unwrap();
    let loaded = load(&page, dir.path());
    assert!(loaded.console.is_empty(), "console messages: {:#?}", loaded.console);
    assert!(loaded.fetched.is_empty(), "the page fetched {:?}", loaded.fetched);
    let count = check_figures(&loaded.dom, &serde_json::to_value(&overview).unwrap(), |_| None);
    assert!(count >= 9, "only {count} figures");
    assert!(loaded.dom.contains("2 of 3") || loaded.dom.contains(">2</data> of <data"), "coverage shown");
    screenshot(&page, "overview");
}

/// The harness itself: a page that fetches something is caught, both by the CSP (a console message) and in
/// the network log when no CSP stops it; a figure that differs from the pack is caught.
#[test]
fn the_harness_catches_a_fetch_and_a_wrong_figure() {
    let dir = tempfile::tempdir().unwrap();
    let with_csp =
        overview::render(&common::overview()).replace("</main>", r#"<img src="https://example.invalid/x.png"></main>"#);
    let page = dir.path().join("csp.html");
    std::fs::write(&page, with_csp).unwrap();
    assert!(!load(&page, dir.path()).console.is_empty(), "the CSP reports the blocked fetch");
    let without = "<!DOCTYPE html><html><head><title>x</title></head><body><img src=\"https://example.invalid/x.png\"></body></html>";
    let page = dir.path().join("plain.html");
    std::fs::write(&page, without).unwrap();
    assert_eq!(load(&page, dir.path()).fetched, ["https://example.invalid/x.png"]);
    let doc = serde_json::json!({"a": 1});
    let wrong = r#"<data data-pointer="/a" value="2">2</data>"#;
    let caught = std::panic::catch_unwind(|| check_figures(wrong, &doc, |_| None));
    assert!(caught.is_err(), "a figure that differs from the pack fails the check");
}
