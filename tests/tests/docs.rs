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
