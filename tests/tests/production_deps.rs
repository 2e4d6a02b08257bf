//! The deployed binaries link no test code: neither the intake nor the tracker depends, however indirectly, on
//! the host simulator (restore-e2e), the Azure Backup emulator or the test-support crate (the bad-input
//! catalogue), and neither does `restorectl` built without its `local` feature. Read from `cargo tree` over normal
//! dependencies (what is linked into the binary; dev-dependencies are not).

use std::path::Path;
use std::process::Command;

const TEST_ONLY: &[&str] = &["restore-e2e", "backup-emulator", "restore-test-support"];

/// The package names in the normal-dependency tree `cargo tree <args>` prints.
fn linked_packages(args: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(args)
        .current_dir(&root)
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn test_only_in(args: &[&str]) -> Vec<String> {
    let mut found: Vec<String> =
        linked_packages(args).into_iter().filter(|p| TEST_ONLY.contains(&p.as_str())).collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_deployed_handlers_link_no_test_code() {
    for package in ["restore-intake", "restore-tracker"] {
        assert_eq!(test_only_in(&["-p", package]), Vec::<String>::new(), "{package} links test code");
    }
}

#[test]
fn restorectl_links_the_test_harness_only_with_its_local_feature() {
    assert_eq!(test_only_in(&["-p", "restorectl", "--no-default-features"]), Vec::<String>::new());
    // The default build does carry the harness: proves the check above sees it when it is there.
    assert_eq!(test_only_in(&["-p", "restorectl"]), ["backup-emulator", "restore-e2e"]);
}
