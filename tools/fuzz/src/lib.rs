//! A fuzz harness that runs on the stable toolchain: [`targets`] lists every decoder a queue message or an Azure
//! response reaches; [`mutate`] makes inputs from real seeds ([`seeds`]); [`run`] drives one target for a number of
//! executions, catching panics (`catch_unwind`) and hangs (a watchdog thread with a per-input time limit).
//!
//! Why not `cargo fuzz`: it needs a nightly toolchain and a sanitizer build on every machine that runs the test
//! command, and the test command must run on stable. This harness is not coverage-guided; it makes up for that
//! with structure-aware mutations of the inputs Azure and our callers really send, so most inputs reach the
//! typed decoders instead of dying in the JSON parser.

pub mod mutate;
pub mod seeds;
pub mod targets;

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub use mutate::{Mutator, Rng, Seed};
pub use targets::{Corpus, Target};

/// One input that panicked or ran over the time limit.
#[derive(Debug, Clone)]
pub struct Finding {
    /// `panic` or `slow`.
    pub kind: &'static str,
    /// Execution number (with the run's seed, enough to reproduce it).
    pub execution: u64,
    /// The panic message, or how long it took.
    pub message: String,
    /// Where the input was saved, if a findings directory was given.
    pub saved: Option<PathBuf>,
}

/// The outcome of running one target.
#[derive(Debug, Clone)]
pub struct Report {
    /// Target name.
    pub name: &'static str,
    /// Inputs run.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The slowest input.
    pub slowest: Duration,
    /// Inputs that got past the decoder (see [`Target::run`]).
    pub accepted: u64,
    /// Panics and slow inputs.
    pub findings: Vec<Finding>,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Inputs per target (seeds included).
    pub executions: u64,
    /// Seed of the input generator.
    pub seed: u64,
    /// An input running longer than this is a hang: reported if it finishes, and the process exits with the
    /// input saved if it does not finish within twice this.
    pub time_limit: Duration,
    /// Where to save inputs that panicked or hung.
    pub findings_dir: Option<PathBuf>,
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Replaces the panic hook once: a panic inside a target is recorded for the report instead of printed (a
/// million inputs would otherwise flood the terminal); panics elsewhere still print.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_TARGET.with(|t| t.get()) {
                let text = format!("{info}");
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
            } else {
                default(info);
            }
        }));
    });
}

thread_local! {
    static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What the watchdog sees of the running input.
struct Watch {
    /// Nanoseconds since `epoch` when the current input started; 0 when idle.
    started: AtomicU64,
    execution: AtomicU64,
    input: Mutex<Vec<u8>>,
    done: AtomicBool,
}

/// Runs `target` for `options.executions` inputs: each seed once, then mutations.
pub fn run(target: &Target, seeds: Vec<Seed>, options: &Options) -> Report {
    install_panic_hook();
    let mut mutator = Mutator::new(options.seed ^ fnv(target.name), seeds);
    let epoch = Instant::now();
    let watch = Arc::new(Watch {
        started: AtomicU64::new(0),
        execution: AtomicU64::new(0),
        input: Mutex::new(Vec::new()),
        done: AtomicBool::new(false),
    });
    let watchdog = spawn_watchdog(target.name, Arc::clone(&watch), epoch, options.clone());

    let mut findings = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut accepted = 0u64;
    let mut input = Vec::with_capacity(4096);
    let seed_count = mutator.seeds().len() as u64;
    for execution in 0..options.executions {
        if execution < seed_count {
            input.clear();
            input.extend_from_slice(&mutator.seeds()[execution as usize].bytes);
        } else {
            mutator.next_input(&mut input);
        }
        watch.input.lock().unwrap_or_else(|p| p.into_inner()).clone_from(&input);
        watch.execution.store(execution, Ordering::Relaxed);
        let start = Instant::now();
        watch.started.store((start - epoch).as_nanos().max(1) as u64, Ordering::Release);
        IN_TARGET.with(|t| t.set(true));
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        IN_TARGET.with(|t| t.set(false));
        let took = start.elapsed();
        watch.started.store(0, Ordering::Release);
        slowest = slowest.max(took);
        if let Ok(true) = outcome {
            accepted += 1;
        }
        if outcome.is_err() {
            let message = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panic".into());
            let saved = save(options.findings_dir.as_deref(), target.name, "panic", execution, &input);
            findings.push(Finding { kind: "panic", execution, message, saved });
        } else if took > options.time_limit {
            let saved = save(options.findings_dir.as_deref(), target.name, "slow", execution, &input);
            findings.push(Finding { kind: "slow", execution, message: format!("took {took:?}"), saved });
        }
    }
    let elapsed = epoch.elapsed();
    watch.done.store(true, Ordering::Release);
    watchdog.thread().unpark();
    let _ = watchdog.join();
    Report { name: target.name, executions: options.executions, elapsed, slowest, accepted, findings }
}

/// A thread that ends the process if one input runs past twice the time limit (a hang cannot be caught from
/// the thread that hangs). It polls; nothing is timed by the
/// wait itself (it only bounds how late a hang is noticed).
fn spawn_watchdog(
    name: &'static str,
    watch: Arc<Watch>,
    epoch: Instant,
    options: Options,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let tick = (options.time_limit / 4).max(Duration::from_millis(10));
        while !watch.done.load(Ordering::Acquire) {
            // Woken early when the run ends, so a short run does not wait out a tick.
            std::thread::park_timeout(tick);
            let started = watch.started.load(Ordering::Acquire);
            if started == 0 {
                continue;
            }
            let running = epoch.elapsed().saturating_sub(Duration::from_nanos(started));
            if running > options.time_limit * 2 {
                let input = watch.input.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let execution = watch.execution.load(Ordering::Relaxed);
                let saved = save(options.findings_dir.as_deref(), name, "hang", execution, &input);
                let _ = writeln!(
                    std::io::stderr(),
                    "HANG: target {name}, execution {execution} (seed {}), running for {running:?}; input saved to {saved:?}",
                    options.seed
                );
                std::process::exit(3);
            }
        }
    })
}

fn save(dir: Option<&Path>, name: &str, kind: &str, execution: u64, input: &[u8]) -> Option<PathBuf> {
    let dir = dir?;
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{name}-{kind}-{execution}.bin"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// FNV-1a of a name: each target gets its own input stream from one seed.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(executions: u64) -> Options {
        Options { executions, seed: 1, time_limit: Duration::from_secs(5), findings_dir: None }
    }

    #[test]
    fn a_panicking_decoder_is_reported_with_its_message() {
        fn boom(bytes: &[u8]) {
            if bytes.contains(&b'!') {
                panic!("bang at {}", bytes.len());
            }
        }
        fn boom_target(bytes: &[u8]) -> bool {
            boom(bytes);
            true
        }
        let target = Target { name: "boom", corpus: Corpus::Messages, run: boom_target };
        let report = run(&target, vec![Seed::new(b"{\"a\":\"x\"}".to_vec()), Seed::new(b"!".to_vec())], &options(50));
        assert_eq!(report.executions, 50);
        assert!(report.findings.iter().any(|f| f.kind == "panic" && f.message.contains("bang")), "{report:?}");
    }

    #[test]
    fn a_quiet_decoder_has_no_findings_and_runs_every_execution() {
        let target = Target { name: "quiet", corpus: Corpus::Messages, run: |_| true };
        let report = run(&target, vec![Seed::new(b"{}".to_vec())], &options(1000));
        assert_eq!((report.executions, report.findings.len()), (1000, 0));
    }

    #[test]
    fn every_target_survives_its_seeds_and_a_few_mutations() {
        let corpora = seeds::load(&seeds::default_shared_dir());
        for target in targets::all() {
            let seeds = corpora.for_corpus(target.corpus);
            assert!(!seeds.is_empty(), "{}: no seeds", target.name);
            let report = run(&target, seeds, &options(300));
            assert!(report.findings.is_empty(), "{}: {:?}", target.name, report.findings);
        }
    }

    #[test]
    fn mutations_are_deterministic_per_seed() {
        let make = || {
            let mut m = Mutator::new(7, vec![Seed::new(br#"{"a":[1,{"b":"c"}]}"#.to_vec())]);
            let mut out = Vec::new();
            (0..50)
                .map(|_| {
                    m.next_input(&mut out);
                    out.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(make(), make());
    }
}
