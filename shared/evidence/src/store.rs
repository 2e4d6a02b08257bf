//! Stable names and the folder writer. Names are derived from the run id alone, so writing a run's evidence
//! again (a tick that runs twice) replaces the same files, and a report can be linked before it exists:
//! `runs/<run id>.html`, `runs/<run id>.json`, `index.html` (the overview), `index.json`.
//!
//! In Azure the drill function writes the same names ([`run_documents`]) to a Blob container with a time-based immutability policy
//! (infra), so evidence cannot be edited once written; locally it writes to a folder.

use std::path::{Path, PathBuf};

use crate::overview::{self, Overview};
use crate::pack::EvidencePack;
use crate::run_page;

/// Evidence could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A run id that cannot be a file name.
    #[error("run id '{0}' cannot name a file (letters, digits, '.', '-', '_' only)")]
    BadRunId(String),
    /// The file system refused.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The file stem of a run's evidence: the run id, which is plan name + UTC time (`[A-Za-z0-9._-]`).
pub fn stem(run_id: &str) -> Result<&str, WriteError> {
    let ok = !run_id.is_empty()
        && !run_id.starts_with('.')
        && run_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok { Ok(run_id) } else { Err(WriteError::BadRunId(run_id.to_string())) }
}

/// The relative names of a run's page and pack.
pub fn run_files(run_id: &str) -> Result<(String, String), WriteError> {
    let stem = stem(run_id)?;
    Ok((format!("runs/{stem}.html"), format!("runs/{stem}.json")))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    let io = |source| WriteError::Io { path: path.clone(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // Write then rename, so a reader never sees half a report.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}

/// A run's pack and page as named documents, in the order they are written: the pack first, so a page that
/// exists always has its pack (the folder writer and the drill function's Blob writer write these same bytes).
pub fn run_documents(pack: &EvidencePack) -> Result<[(String, Vec<u8>); 2], WriteError> {
    let (page, json) = run_files(&pack.run.run_id)?;
    // An EvidencePack is plain data with string keys: serialising it cannot fail.
    let body = serde_json::to_vec_pretty(pack).unwrap_or_default();
    Ok([(json, body), (page, run_page::render(pack).into_bytes())])
}

/// Writes a run's page and pack under `dir`; returns the page's path.
pub fn write_run(dir: &Path, pack: &EvidencePack) -> Result<PathBuf, WriteError> {
    let [(json, body), (page, html)] = run_documents(pack)?;
    write(dir, &json, &body)?;
    write(dir, &page, &html)
}

/// The overview's documents, named: its data `index.json` first, then the page `index.html` (what the folder and
/// the Blob writer both store).
pub fn overview_documents(overview: &Overview) -> [(&'static str, Vec<u8>); 2] {
    // An Overview is plain data with string keys: serialising it cannot fail.
    let body = serde_json::to_vec_pretty(overview).unwrap_or_default();
    [("index.json", body), ("index.html", overview::render(overview).into_bytes())]
}

/// Writes the overview page and its data under `dir`; returns the page's path.
pub fn write_overview(dir: &Path, overview: &Overview) -> Result<PathBuf, WriteError> {
    let mut page = PathBuf::new();
    for (name, bytes) in overview_documents(overview) {
        page = write(dir, name, &bytes)?;
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_run_id_and_refuse_paths() {
        assert_eq!(run_files("nightly.20261205T023000Z").unwrap().0, "runs/nightly.20261205T023000Z.html");
        for bad in ["../x", "a/b", "", ".hidden", "a b"] {
            assert!(stem(bad).is_err(), "{bad}");
        }
    }
}
