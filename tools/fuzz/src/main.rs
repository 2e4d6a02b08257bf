//! `restore-fuzz [EXECUTIONS] [--target NAME]... [--seed N] [--time-limit-ms N] [--shared DIR] [--findings DIR] [--list]`
//!
//! Runs every fuzz target (or the named ones) for EXECUTIONS inputs each (default 10,000) and prints one line per
//! target: executions, time, executions per second, slowest input, the share of inputs that got past the decoder
//! (how deep the generated inputs reach), findings. Exits 1 if any input panicked or
//! ran over the time limit, 3 (from the watchdog) if one hung.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use restore_fuzz::{Options, run, seeds, targets};

fn main() -> ExitCode {
    let mut options = Options {
        executions: 10_000,
        seed: 0x5EED,
        time_limit: Duration::from_millis(1000),
        findings_dir: Some(PathBuf::from("target/fuzz-findings")),
    };
    let mut only: Vec<String> = Vec::new();
    let mut shared = seeds::default_shared_dir();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| match args.next() {
            Some(v) => Ok(v),
            None => Err(format!("{name} needs a value")),
        };
        let parsed: Result<(), String> = match arg.as_str() {
            "--target" => value("--target").map(|v| only.push(v)),
            "--seed" => {
                value("--seed").and_then(|v| v.parse().map(|s| options.seed = s).map_err(|e| format!("--seed: {e}")))
            }
            "--time-limit-ms" => value("--time-limit-ms").and_then(|v| {
                v.parse()
                    .map(|ms| options.time_limit = Duration::from_millis(ms))
                    .map_err(|e| format!("--time-limit-ms: {e}"))
            }),
            "--shared" => value("--shared").map(|v| shared = PathBuf::from(v)),
            "--findings" => value("--findings").map(|v| options.findings_dir = Some(PathBuf::from(v))),
            "--list" => {
                list = true;
                Ok(())
            }
            "-h" | "--help" => {
                println!(
                    "usage: restore-fuzz [EXECUTIONS] [--target NAME]... [--seed N] [--time-limit-ms N] [--shared DIR] [--findings DIR] [--list]"
                );
                return ExitCode::SUCCESS;
            }
            n => n
                .replace('_', "")
                .parse()
                .map(|n| options.executions = n)
                .map_err(|_| format!("unknown argument {n:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("error: {e} (see --help)");
            return ExitCode::from(2);
        }
    }
    let all = targets::all();
    if list {
        all.iter().for_each(|t| println!("{}", t.name));
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<_> = all.into_iter().filter(|t| only.is_empty() || only.iter().any(|o| o == t.name)).collect();
    if chosen.is_empty() {
        eprintln!("error: no target is named {only:?}; --list shows them");
        return ExitCode::from(2);
    }
    let corpora = seeds::load(&shared);
    if corpora.conformance_files == 0 {
        eprintln!(
            "warning: no response examples under {}: the Azure response targets start from a few built-in bodies only",
            shared.join("conformance").display()
        );
    }
    println!(
        "seeds: {} messages, {} envelopes, {} ARM ids, {} strings, {} responses ({} example files); seed {}, time limit {:?}",
        corpora.messages.len(),
        corpora.envelopes.len(),
        corpora.arm_ids.len(),
        corpora.strings.len(),
        corpora.responses.len(),
        corpora.conformance_files,
        options.seed,
        options.time_limit
    );
    println!(
        "{:<30} {:>12} {:>9} {:>10} {:>10} {:>9} {:>8}",
        "target", "executions", "seconds", "exec/s", "slowest", "decoded", "findings"
    );
    let mut failed = false;
    let mut total = 0u64;
    for target in &chosen {
        let report = run(target, corpora.for_corpus(target.corpus), &options);
        let secs = report.elapsed.as_secs_f64();
        println!(
            "{:<30} {:>12} {:>9.1} {:>10.0} {:>10} {:>8.1}% {:>8}",
            report.name,
            report.executions,
            secs,
            report.executions as f64 / secs.max(1e-9),
            format!("{:.1?}", report.slowest),
            100.0 * report.accepted as f64 / (report.executions.max(1)) as f64,
            report.findings.len()
        );
        total += report.executions;
        for f in report.findings.iter().take(5) {
            println!("    {} at execution {}: {} (saved: {:?})", f.kind, f.execution, f.message, f.saved);
        }
        failed |= !report.findings.is_empty();
    }
    println!(
        "total: {total} executions over {} targets; {}",
        chosen.len(),
        if failed { "FINDINGS (see above)" } else { "no panic, no hang" }
    );
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
