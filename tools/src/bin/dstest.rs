//! `dstest`: stress-run lab tests, each run in its own process with its own
//! `LABRPC_SEED`, several at a time; save the output of failed runs and
//! print a table of failures and times. See `dstest --help`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use rand::Rng;

use tools::dstest::build::{build_test_binary, list_tests};
use tools::dstest::cli::Args;
use tools::dstest::display::Display;
use tools::dstest::report::{command_line, failure_file_name, failure_header, timestamp, FailureInfo};
use tools::dstest::runner::{make_jobs, spawn_workers, Event, Job, Outcome, RunConfig};
use tools::dstest::select::select_tests;
use tools::dstest::stats::{format_table, TestStats};

/// Exit status for bad arguments, a failed build, or a run that could not start.
const EXIT_USAGE: u8 = 2;
/// Exit status after Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let mut args = Args::parse();
    // Absolute paths, so that the replay lines work from anywhere.
    for p in [&mut args.manifest_path, &mut args.exe].into_iter().flatten() {
        if let Ok(abs) = std::path::absolute(&*p) {
            *p = abs;
        }
    }
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dstest: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// A failed run, for the summary.
struct Failure {
    test: String,
    iteration: u32,
    seed: u64,
    reason: String,
    file: Option<PathBuf>,
}

/// State of a stress session while its events come in.
struct Session<'a> {
    args: &'a Args,
    cfg: &'a RunConfig,
    cwd: PathBuf,
    out_dir: PathBuf,
    stats: Vec<TestStats>,
    failures: Vec<Failure>,
    errors: usize,
    display: Display,
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let exe = match &args.exe {
        Some(exe) => exe.clone(),
        None => build_test_binary(args)?,
    };
    let available = list_tests(&exe)?;
    if args.list {
        let selected = if args.tests.is_empty() { available } else { select_tests(&available, &args.tests)? };
        for t in selected {
            println!("{t}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let tests = select_tests(&available, &args.tests)?;

    let scratch = std::env::temp_dir().join(format!("dstest-{}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let mut env = Vec::new();
    if args.verbose {
        env.push(("RAFT_LOG".to_string(), "1".to_string()));
    } else if let Ok(v) = std::env::var("RAFT_LOG") {
        env.push(("RAFT_LOG".to_string(), v)); // inherited: name it in replay lines
    }
    let cfg = Arc::new(RunConfig { exe, env, timeout: Duration::from_secs(args.timeout), scratch: scratch.clone() });
    let mut rng = rand::thread_rng();
    let jobs = make_jobs(&tests, args.iterations, || args.seed.unwrap_or_else(|| rng.gen_range(0..1_000_000_000_000)));

    // First Ctrl-C (or SIGTERM): stop; a second one: exit at once.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, i32::from(EXIT_INTERRUPTED), stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }

    eprintln!(
        "dstest: {} test(s) x {} run(s), {} worker(s), timeout {} s{}{}",
        tests.len(),
        args.iterations,
        args.workers,
        args.timeout,
        args.seed.map(|s| format!(", LABRPC_SEED={s}")).unwrap_or_default(),
        if args.verbose { ", RAFT_LOG=1" } else { "" },
    );
    let started = Instant::now();
    let mut session = Session {
        args,
        cfg: &cfg,
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        out_dir: args.output.clone().unwrap_or_else(|| Path::new("stress-failures").join(timestamp(SystemTime::now()))),
        stats: tests.iter().map(|t| TestStats::new(t)).collect(),
        failures: Vec::new(),
        errors: 0,
        display: Display::new(&tests, args.iterations),
    };
    let workers = usize::try_from(args.workers).unwrap_or(1);
    for event in spawn_workers(cfg.clone(), jobs, workers, stop.clone()) {
        if session.handle(event) {
            stop.store(true, Ordering::SeqCst);
        }
    }
    session.display.clear();
    let _ = fs::remove_dir_all(&scratch);
    let interrupted = stop.load(Ordering::SeqCst) && session.errors == 0;
    Ok(session.summary(interrupted, started.elapsed()))
}

impl Session<'_> {
    /// Takes one event; returns true if everything must stop.
    fn handle(&mut self, event: Event) -> bool {
        let (job, outcome, secs, log) = match event {
            Event::Started(job) => {
                self.display.started(&job.test);
                return false;
            }
            Event::Error(job, e) => {
                self.display.finished(&job.test, false, false);
                self.display.println(&format!("dstest: {}: {e}", job.test));
                self.errors += 1;
                return true;
            }
            Event::Finished { job, outcome, secs, log } => (job, outcome, secs, log),
        };
        // The run's output: its warnings count whether it passed or not, and
        // a failure is named by the tester's report or the panic's message
        // (a process ended mid-test prints no libtest result).
        let output = fs::read(&log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let reason = match &outcome {
            Outcome::Passed => None,
            Outcome::Failed(status) => Some(match tools::suite::failure_in(&output) {
                Some(why) => format!("{status}: {why}"),
                None => status.clone(),
            }),
            Outcome::TimedOut => Some(format!("timed out after {} s", self.args.timeout)),
            Outcome::Aborted => {
                self.display.finished(&job.test, false, false);
                let _ = fs::remove_file(&log);
                return false;
            }
        };
        let passed = reason.is_none();
        self.display.finished(&job.test, true, passed);
        let warnings = tools::suite::warnings_in(&output);
        if let Some(st) = self.stats.iter_mut().find(|s| s.name == job.test) {
            st.record(passed, secs);
            st.record_warnings(&warnings);
        }
        if passed && !warnings.is_empty() {
            self.display.println(&format!(
                "WARNING {} (iteration {}, LABRPC_SEED={}): {}",
                job.test,
                job.iteration,
                job.seed,
                warnings.join("; ")
            ));
        }
        if let Some(reason) = reason {
            let file = self.save(&job, &reason, secs, &log);
            let saved = match &file {
                Ok(p) => p.display().to_string(),
                Err(e) => format!("output not saved: {e}"),
            };
            self.display.println(&format!(
                "FAILED {} (iteration {}, LABRPC_SEED={}, {reason}, {secs:.1} s) -> {saved}",
                job.test, job.iteration, job.seed
            ));
            self.failures.push(Failure {
                test: job.test,
                iteration: job.iteration,
                seed: job.seed,
                reason,
                file: file.ok(),
            });
        }
        let _ = fs::remove_file(&log);
        false
    }

    /// Writes the replay header and the output of a failed run.
    fn save(&self, job: &Job, reason: &str, secs: f64, log: &Path) -> std::io::Result<PathBuf> {
        fs::create_dir_all(&self.out_dir)?;
        let path = self.out_dir.join(failure_file_name(&job.test, job.iteration, job.seed));
        let command = command_line(&self.cwd, &self.cfg.env_for(job), &self.cfg.exe, &RunConfig::test_args(&job.test));
        let header = failure_header(&FailureInfo {
            test: &job.test,
            iteration: job.iteration,
            seed: job.seed,
            reason,
            secs,
            command: &command,
            target_args: &self.args.target_args(),
        });
        let mut contents = header.into_bytes();
        contents.extend(fs::read(log)?);
        fs::write(&path, contents)?;
        Ok(path)
    }

    /// Prints the failures and the table; returns the exit status.
    fn summary(&self, interrupted: bool, elapsed: Duration) -> ExitCode {
        if interrupted {
            eprintln!("dstest: interrupted; counting finished runs only");
        }
        if !self.failures.is_empty() {
            println!("Failed runs:");
            let mut failures: Vec<&Failure> = self.failures.iter().collect();
            failures.sort_by(|a, b| (&a.test, a.iteration).cmp(&(&b.test, b.iteration)));
            for f in failures {
                let file = f.file.as_ref().map(|p| p.display().to_string());
                println!(
                    "  {} iteration {} LABRPC_SEED={} ({}) {}",
                    f.test,
                    f.iteration,
                    f.seed,
                    f.reason,
                    file.unwrap_or_else(|| "(output not saved)".into())
                );
            }
            println!();
        }
        print!("{}", format_table(&self.stats));
        let warned: Vec<&TestStats> = self.stats.iter().filter(|s| s.warning_count() > 0).collect();
        if !warned.is_empty() {
            println!("warnings (they do not fail a test, but deserve a look):");
            for s in warned {
                for (w, n) in &s.warnings {
                    println!("  {}: {n} x warning: {w}", s.name);
                }
            }
        }
        println!("elapsed {:.1} s with {} worker(s)", elapsed.as_secs_f64(), self.args.workers);
        if self.failures.iter().any(|f| f.file.is_some()) {
            println!("output of failed runs: {}", self.out_dir.display());
        }
        if self.errors > 0 {
            ExitCode::from(EXIT_USAGE)
        } else if interrupted {
            ExitCode::from(EXIT_INTERRUPTED)
        } else if self.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
