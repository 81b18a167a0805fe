//! `plant`: how many runs of a test suite a planted bug survives.
//!
//! For each plant file, builds a scratch copy of the kit with the bug
//! planted (`tools::scratch`, release profile, a target directory of its
//! own), then runs a whole integration test binary of the tester N times
//! (each run one process, tests one at a time, as `make test-lab3` runs the
//! course's 28), P runs at once, and prints per run whether the bug was
//! caught (the run failed) and by what. The kit itself is never changed.
//!
//! ```text
//! cargo run --release -p tools --bin plant -- tools/plants/safety/*.plant --suite raft_test -n 3 -p 2
//! cargo run --release -p tools --bin plant -- tools/plants/safety/unpersisted-vote.plant --suite safety_test -n 5
//! ```
//!
//! Each run's whole output is kept in `target/scratch/plant-logs/`.

use clap::Parser;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tools::scratch::{kit_root, run_exe, shared_target_dir, Kit, Plant, TestRun};

#[derive(Parser, Debug)]
#[command(about = "Plant a bug in a scratch copy of the kit and count the suite runs that catch it")]
struct Args {
    /// Plant files (e.g. tools/plants/safety/*.plant).
    #[arg(required = true)]
    plants: Vec<PathBuf>,
    /// The tester's integration test binary to run: raft_test (the
    /// course's 28) or safety_test.
    #[arg(long, default_value = "raft_test")]
    suite: String,
    /// Runs of the whole suite per plant.
    #[arg(short = 'n', default_value_t = 3)]
    runs: usize,
    /// Runs at once.
    #[arg(short = 'p', default_value_t = 1)]
    parallel: usize,
    /// Only the tests whose names contain this (libtest's filter).
    #[arg(long)]
    filter: Option<String>,
    /// Start no further run once one has caught the bug.
    #[arg(long)]
    until_caught: bool,
    /// Seconds after which a run is killed (and counted as caught: hung).
    #[arg(long, default_value_t = 1800)]
    limit: u64,
}

/// The first lines that say why a run failed.
fn why_failed(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("tester: FAIL:") || l.contains("panicked at") {
            let mut s = l.trim().to_string();
            if let Some(next) = lines.get(i + 1) {
                s.push_str(" | ");
                s.push_str(next.trim());
            }
            return s;
        }
    }
    lines.iter().rev().find(|l| !l.trim().is_empty()).map_or_else(String::new, |l| l.trim().to_string())
}

/// libtest's names of the tests that failed in a run.
fn failed_tests(out: &str) -> Vec<String> {
    // libtest's closing list: "failures:" then the names, indented.
    let mut v: Vec<String> = match out.rfind("\nfailures:\n") {
        Some(at) => out[at + "\nfailures:\n".len()..]
            .lines()
            .take_while(|l| l.starts_with("    "))
            .map(|l| l.trim().to_string())
            .collect(),
        None => Vec::new(),
    };
    if v.is_empty() {
        // A process ended by the tester names its test in the report.
        v.extend(out.lines().filter_map(|l| l.strip_prefix("tester: test: ")).map(str::to_string).take(1));
    }
    v
}

fn describe(run: &TestRun) -> String {
    let secs = run.elapsed.as_secs_f64();
    if run.code == Some(0) {
        return format!("not caught (passed, {secs:.0} s)");
    }
    let how = if run.timed_out { "killed at the time limit".to_string() } else { format!("exit {:?}", run.code) };
    format!("CAUGHT ({how}, {secs:.0} s) by {}: {}", failed_tests(&run.output).join(", "), why_failed(&run.output))
}

fn run_plant(args: &Args, path: &Path) -> Result<(usize, usize), String> {
    let plant = Plant::load(path)?;
    let label = format!("plant-{}", plant.name);
    eprintln!("plant {}: {}", plant.name, plant.description);
    let kit = Kit::copy_of(&kit_root(), &label)?;
    kit.plant(&plant)?;
    let target = shared_target_dir().join(&label);
    eprintln!("plant {}: building {} (release) in {}", plant.name, args.suite, kit.root().display());
    let build = kit.build_tests_in("tester", &args.suite, &target, true)?;
    let logs = shared_target_dir().join("plant-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut targs = vec!["--test-threads=1", "--nocapture"];
    if let Some(f) = &args.filter {
        targs.push(f);
    }
    let next = AtomicUsize::new(0);
    let caught = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error = Mutex::new(None::<String>);
    std::thread::scope(|s| {
        for _ in 0..args.parallel.max(1) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                if k >= args.runs || stop.load(Ordering::SeqCst) {
                    return;
                }
                match run_exe(&build.exe, &targs, &[], Duration::from_secs(args.limit)) {
                    Ok(run) => {
                        let log = logs.join(format!("{}-{}-run{}.log", plant.name, args.suite, k + 1));
                        let _ = std::fs::write(&log, &run.output);
                        if run.code != Some(0) {
                            caught.fetch_add(1, Ordering::SeqCst);
                            if args.until_caught {
                                stop.store(true, Ordering::SeqCst);
                            }
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                        println!("plant {} {} run {}: {}", plant.name, args.suite, k + 1, describe(&run));
                    }
                    Err(e) => {
                        first_error.lock().unwrap().get_or_insert(e);
                        stop.store(true, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap() {
        return Err(e);
    }
    Ok((caught.into_inner(), done.into_inner()))
}

fn main() {
    let args = Args::parse();
    let mut summary = Vec::new();
    for p in &args.plants {
        match run_plant(&args, p) {
            Ok((caught, runs)) => summary.push(format!("{}: caught in {caught} of {runs} runs", p.display())),
            Err(e) => {
                eprintln!("plant: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("\n{} summary:", args.suite);
    for s in summary {
        println!("  {s}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_test_and_why_come_from_libtests_list_and_the_first_panic() {
        let out = "running 2 tests\ntest a_safety ... Test (safety): a ...\nthread 'test-body' panicked at t.rs:3:5:\n\
                   no leader 5.0 s after ...\nFAILED\n\nfailures:\n\n---- a_safety stdout ----\n\nfailures:\n    \
                   a_safety\n\ntest result: FAILED. 1 passed; 1 failed\n";
        assert_eq!(failed_tests(out), ["a_safety"]);
        assert_eq!(why_failed(out), "thread 'test-body' panicked at t.rs:3:5: | no leader 5.0 s after ...");
    }

    #[test]
    fn a_process_ended_by_the_tester_names_its_test_in_the_report() {
        let out = "test b_safety ... Test (safety): b ...\n\ntester: FAIL: safety: two leaders in term 2: ...\n\
                   tester: test: b_safety\ntester: ending the process (exit status 2)\n";
        assert_eq!(failed_tests(out), ["b_safety"]);
        assert!(why_failed(out).starts_with("tester: FAIL: safety: two leaders in term 2"), "{}", why_failed(out));
    }
}
