//! Command line of `dstest`.

use std::path::PathBuf;

use clap::Parser;

/// Stress-run lab tests: every run in its own process, with a fresh
/// `LABRPC_SEED` each, several runs in parallel.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "dstest",
    after_help = "Examples:\n  \
        dstest -n 500 -p 2 3A 3B         every 3A and 3B test, 500 times each\n  \
        dstest -n 50 4A                  every Lab 4 part A test (the kvraft_test executable)\n  \
        dstest -n 50 figure8             every test whose name contains `figure8`\n  \
        dstest -s -t -n 20 3C            3C's tests one after another, with their CPU time\n  \
        dstest -l -g 10 -n 10 3A         10, then 100, then 1000 runs ... until Ctrl-C\n  \
        dstest -r -n 100 3B              a race build (debug assertions, invariant checks; TSan on nightly)\n  \
        dstest --seed 42 -n 1 -v basic_agree_3b    replay one run with logging\n  \
        dstest --list lab3               print the selected tests"
)]
pub struct Args {
    /// Tests to run: a part (`3A`, `4b`: every test ending in `_3a`, `_4b`),
    /// a lab (`lab3`, `lab4`), `all` (both labs), an exact test name, or a
    /// substring of test names. Lab 3's tests are in the `raft_test`
    /// executable and Lab 4's in `kvraft_test`; the ones needed are built.
    pub tests: Vec<String>,

    /// Runs per selected test.
    #[arg(short = 'n', long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,

    /// Runs at the same time (default: number of CPUs).
    #[arg(short = 'p', long, default_value_t = default_workers(), value_parser = clap::value_parser!(u32).range(1..))]
    pub workers: u32,

    /// Folder for the output of failed runs (default: `stress-failures/<UTC timestamp>/`).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Turn on Raft debug logging in the runs (RAFT_LOG=1).
    #[arg(short, long)]
    pub verbose: bool,

    /// Keep every run's output in the output folder, passing runs too (by
    /// default only failed and weak runs are kept).
    #[arg(short, long)]
    pub archive: bool,

    /// Run one test's runs after another's (all runs of the first test,
    /// then of the second, ...) instead of every test once per round.
    #[arg(short, long)]
    pub sequential: bool,

    /// Keep going until interrupted: after N runs of each test, run
    /// N x GROWTH more, then N x GROWTH^2 more, ... printing the table
    /// after each round.
    #[arg(short, long = "loop")]
    pub r#loop: bool,

    /// Growth of the run count from one round to the next with --loop.
    #[arg(short, long, default_value_t = 10, value_name = "G", value_parser = clap::value_parser!(u32).range(2..))]
    pub growth: u32,

    /// Show user and system CPU time per run of each test in the table.
    #[arg(short, long)]
    pub timing: bool,

    /// Race build: the tests built with debug assertions and overflow
    /// checks (the kit's invariant checks run under them), separate from
    /// the release build; with ThreadSanitizer too where a nightly
    /// toolchain with rust-src is installed.
    #[arg(short, long)]
    pub race: bool,

    /// Use this LABRPC_SEED for every run (to replay a failure) instead of
    /// a fresh random seed per run.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Seconds a run may take; a run over it is killed and counted failed.
    #[arg(long, value_name = "SECS", default_value_t = 150, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Print the selected tests (all tests if none selected) and exit.
    #[arg(long)]
    pub list: bool,

    /// Cargo package holding the tests.
    #[arg(long, value_name = "PKG", default_value = "tester")]
    pub package: String,

    /// Integration test target (file `tests/<NAME>.rs`) of the package to
    /// use for every selected test (default: each lab's own: `raft_test`,
    /// `kvraft_test`).
    #[arg(long, value_name = "NAME")]
    pub test_target: Option<String>,

    /// Cargo.toml to build from (passed to cargo).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Use this already built test binary instead of building one.
    #[arg(long, value_name = "PATH")]
    pub exe: Option<PathBuf>,
}

/// Number of CPUs, or 1 if unknown.
pub fn default_workers() -> u32 {
    std::thread::available_parallelism().map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX)).unwrap_or(1)
}

impl Args {
    /// The dstest arguments that reach the same test binary as this
    /// invocation (for replay hints), e.g. `--package kvraft`.
    pub fn target_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(exe) = &self.exe {
            out.push("--exe".to_string());
            out.push(exe.display().to_string());
            return out;
        }
        if let Some(m) = &self.manifest_path {
            out.push("--manifest-path".to_string());
            out.push(m.display().to_string());
        }
        if self.package != "tester" {
            out.push("--package".to_string());
            out.push(self.package.clone());
        }
        if let Some(t) = &self.test_target {
            out.push("--test-target".to_string());
            out.push(t.clone());
        }
        if self.race {
            out.push("--race".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("dstest").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let a = parse(&["3A"]).unwrap();
        assert_eq!(a.tests, vec!["3A"]);
        assert_eq!(a.iterations, 10);
        assert!(a.workers >= 1);
        assert_eq!(a.timeout, 150);
        assert_eq!(a.seed, None);
        assert!(!a.verbose && !a.list);
        assert_eq!(a.package, "tester");
        assert_eq!(a.test_target, None);
        assert!(!a.archive && !a.sequential && !a.r#loop && !a.timing && !a.race);
        assert_eq!(a.growth, 10);
        assert!(a.target_args().is_empty());
    }

    #[test]
    fn all_flags() {
        let a = parse(&[
            "-n",
            "500",
            "-p",
            "3",
            "-o",
            "out",
            "-v",
            "--seed",
            "42",
            "--timeout",
            "20",
            "--package",
            "kv",
            "--test-target",
            "kv_test",
            "-a",
            "-s",
            "-l",
            "-g",
            "4",
            "-t",
            "-r",
            "3a",
            "3B",
        ])
        .unwrap();
        assert!(a.archive && a.sequential && a.r#loop && a.timing && a.race);
        assert_eq!(a.growth, 4);
        assert_eq!(a.iterations, 500);
        assert_eq!(a.workers, 3);
        assert_eq!(a.output, Some(PathBuf::from("out")));
        assert!(a.verbose);
        assert_eq!(a.seed, Some(42));
        assert_eq!(a.timeout, 20);
        assert_eq!(a.tests, vec!["3a", "3B"]);
        assert_eq!(a.target_args(), vec!["--package", "kv", "--test-target", "kv_test", "--race"]);
    }

    #[test]
    fn rejects_zero() {
        assert!(parse(&["-n", "0", "3A"]).is_err());
        assert!(parse(&["-p", "0", "3A"]).is_err());
        assert!(parse(&["--timeout", "0", "3A"]).is_err());
        assert!(parse(&["--seed", "-1", "3A"]).is_err());
        assert!(parse(&["-l", "-g", "1", "3A"]).is_err());
    }
}
