//! Documentation that matches the code: every app setting the Rust code reads is documented.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") && !path.ends_with("tests") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_setting_the_code_reads_is_in_the_configuration_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).expect("docs/configuration.md");
    let mut files = Vec::new();
    for dir in ["shared", "handlers"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut settings = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            if piece.starts_with("RESTORE_") && piece.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                settings.insert(piece.to_string());
            }
        }
    }
    assert!(settings.len() >= 20, "found only {settings:?}: is the scan broken?");
    let missing: Vec<_> = settings.iter().filter(|s| !doc.contains(&format!("`{s}`"))).collect();
    assert!(missing.is_empty(), "settings read by the code but not documented in docs/configuration.md: {missing:?}");
}

/// The README's claims table names, for each guarantee, the tests that prove it: every name must be a test
/// function in the tree (a renamed or deleted test would leave a claim unproven).
#[test]
fn every_test_the_claims_table_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let section = readme
        .split("## Guarantees and the tests that prove them")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a claims section");
    let mut files = Vec::new();
    for dir in ["shared", "handlers", "tests", "tools", "emulator"] {
        all_rust_files(&root.join(dir), &mut files);
    }
    let functions: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.split("fn ")
                .skip(1)
                .filter_map(|rest| rest.split(['(', '<']).next().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut named = 0;
    let mut missing = Vec::new();
    for row in section.lines().filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| guarantee"))
    {
        let proof = row.rsplit('|').nth(1).unwrap_or_default();
        for name in proof.split('`').skip(1).step_by(2) {
            if name.contains(' ') || !name.contains('_') {
                continue; // a command or a path, not a test name
            }
            let name = name.rsplit("::").next().unwrap_or(name);
            let (prefix, suffix) = match (name.strip_suffix('*'), name.strip_prefix('…')) {
                (Some(p), _) => (p, ""),
                (None, Some(s)) => ("", s),
                _ => (name, name),
            };
            named += 1;
            let found = functions
                .iter()
                .any(|f| if prefix == suffix { f == prefix } else { f.starts_with(prefix) && f.ends_with(suffix) });
            if !found {
                missing.push(name.to_string());
            }
        }
    }
    assert!(named >= 30, "only {named} test names found: is the table parsed?");
    assert!(missing.is_empty(), "the claims table names tests that do not exist: {missing:?}");
}

fn all_rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") {
            all_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
