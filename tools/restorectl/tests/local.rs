//! `restorectl local`, the README's run command, end to end: the real binaries, the emulator, the samples.

use std::process::Command;

#[test]
fn the_local_run_ends_with_every_example_as_expected() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_restorectl"))
        .args(["--json", "local", "--speed", "200", "--timeout", "240", "--root"])
        .arg(&root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("restorectl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints one JSON document");
    let rows = report["results"].as_array().expect("results");
    let examples = std::fs::read_dir(root.join("examples/requests")).unwrap().count();
    assert_eq!(rows.len(), examples, "one row per example");
    assert_eq!(report["mismatches"], 0);
    // Restores report their measured time: the scenario's job durations on the emulator's clock.
    let disk = rows.iter().find(|r| r["file"] == "disk-to-new-disk.json").unwrap();
    assert_eq!(disk["status"], "Succeeded");
    assert!(disk["restoreSeconds"].as_u64().is_some_and(|s| s >= 170), "{disk:#}");
    // Then one drill plan runs through the same intake and tracker and writes its report.
    assert_eq!(report["drill"]["result"]["outcome"], "Passed", "{:#}", report["drill"]);
    let page = report["drill"]["report"].as_str().expect("the report's path");
    assert!(std::path::Path::new(page).is_file(), "{page}");
}
