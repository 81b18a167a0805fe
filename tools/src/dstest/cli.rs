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
        dstest -n 50 figure8             every test whose name contains `figure8`\n  \
        dstest --seed 42 -n 1 -v basic_agree_3b    replay one run with logging\n  \
        dstest --list lab3               print the selected tests"
)]
pub struct Args {
    /// Tests to run: a part (`3A`, `3b`: every test ending in `_3a`), a lab
    /// (`lab3`: every test of parts 3x), `all`, an exact test name, or a
    /// substring of test names.
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

    /// Integration test target (file `tests/<NAME>.rs`) of the package.
    #[arg(long, value_name = "NAME", default_value = "raft_test")]
    pub test_target: String,

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
        if self.test_target != "raft_test" {
            out.push("--test-target".to_string());
            out.push(self.test_target.clone());
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
        assert_eq!(a.test_target, "raft_test");
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
            "3a",
            "3B",
        ])
        .unwrap();
        assert_eq!(a.iterations, 500);
        assert_eq!(a.workers, 3);
        assert_eq!(a.output, Some(PathBuf::from("out")));
        assert!(a.verbose);
        assert_eq!(a.seed, Some(42));
        assert_eq!(a.timeout, 20);
        assert_eq!(a.tests, vec!["3a", "3B"]);
        assert_eq!(a.target_args(), vec!["--package", "kv", "--test-target", "kv_test"]);
    }

    #[test]
    fn rejects_zero() {
        assert!(parse(&["-n", "0", "3A"]).is_err());
        assert!(parse(&["-p", "0", "3A"]).is_err());
        assert!(parse(&["--timeout", "0", "3A"]).is_err());
        assert!(parse(&["--seed", "-1", "3A"]).is_err());
    }
}
