//! The command line as a whole: the subcommands exist, and `package` runs scripts/package.sh from the workspace
//! root with its output and exit code passed through.

mod common;

use common::{restorectl, run};

#[test]
fn every_subcommand_is_listed() {
    let out = run(&mut restorectl(["--help"]));
    assert_eq!(out.code, 0, "{out:?}");
    for command in ["local", "submit", "status", "list", "validate", "schema", "package"] {
        assert!(out.stdout.contains(&format!("\n  {command} ")), "{command} missing:\n{}", out.stdout);
    }
}

/// A workspace stand-in whose package script reports its arguments and working directory and exits with 7.
fn fake_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::create_dir_all(dir.path().join("deep/inside")).unwrap();
    std::fs::write(
        dir.path().join("scripts/package.sh"),
        "echo \"packaging [$*] in $(pwd)\"\necho 'to stderr' >&2\nexit 7\n",
    )
    .unwrap();
    dir
}

#[test]
fn package_runs_the_script_and_returns_its_exit_code() {
    let ws = fake_workspace();
    let root = ws.path().canonicalize().unwrap();
    let out = run(restorectl(["package", "--root"]).arg(&root).arg("intake"));
    assert_eq!(out.code, 7, "{out:?}");
    assert_eq!(out.stdout, format!("packaging [intake] in {}\n", root.display()));
    assert_eq!(out.stderr, "to stderr\n");

    // Found from a folder inside the workspace, with no --root.
    let out = run(restorectl(["package"]).current_dir(root.join("deep/inside")));
    assert_eq!(out.code, 7, "{out:?}");
    assert_eq!(out.stdout, format!("packaging [] in {}\n", root.display()));
}

#[test]
fn package_without_a_script_is_a_usage_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = run(restorectl(["package", "--root"]).arg(empty.path()));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("scripts/package.sh") && out.stderr.contains("--root"), "{}", out.stderr);
    let out = run(restorectl(["package"]).current_dir(empty.path()));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--root"), "{}", out.stderr);
}
