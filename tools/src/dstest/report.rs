//! Saving the output of failed runs: file names, replay header, folder name.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// File name of the saved output of a failed run, e.g.
/// `figure8_3c-0007-seed12345.log`. Characters other than letters, digits,
/// `_` and `-` in the test name become `_`.
pub fn failure_file_name(test: &str, iteration: u32, seed: u64) -> String {
    let safe: String =
        test.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    format!("{safe}-{iteration:04}-seed{seed}.log")
}

/// Quotes `s` for a POSIX shell when needed.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A shell command line: `cd DIR && K=V ... PROG ARGS...`.
pub fn command_line(dir: &Path, env: &[(String, String)], prog: &Path, args: &[String]) -> String {
    let mut s = format!("cd {} &&", shell_quote(&dir.display().to_string()));
    for (k, v) in env {
        let _ = write!(s, " {k}={}", shell_quote(v));
    }
    let _ = write!(s, " {}", shell_quote(&prog.display().to_string()));
    for a in args {
        let _ = write!(s, " {}", shell_quote(a));
    }
    s
}

/// What a failed run was: for the header of its saved output.
pub struct FailureInfo<'a> {
    pub test: &'a str,
    pub iteration: u32,
    pub seed: u64,
    /// `FAILED`, `WEAK` (a linearizability check timed out) or `PASSED`
    /// (kept with `--archive`).
    pub verdict: &'a str,
    /// e.g. `exit status: 101` or `timed out after 150 s`.
    pub reason: &'a str,
    pub secs: f64,
    /// Exact command of the run (see [`command_line`]).
    pub command: &'a str,
    /// dstest arguments reaching the same test binary (`--package ...`).
    pub target_args: &'a [String],
}

/// Header lines (starting with `#`) of the saved output of a run.
pub fn failure_header(f: &FailureInfo) -> String {
    let mut dstest = format!("cargo run --release -p tools --bin dstest -- --seed {} -n 1", f.seed);
    for a in f.target_args {
        let _ = write!(dstest, " {}", shell_quote(a));
    }
    let _ = write!(dstest, " {}", shell_quote(f.test));
    format!(
        "# dstest: {} iteration {} LABRPC_SEED={} {} ({}) after {:.2} s\n\
         # replay: {}\n\
         # or:     {}   (add -v for RAFT_LOG=1)\n\
         # ---- stdout+stderr of the run ----\n",
        f.test, f.iteration, f.seed, f.verdict, f.reason, f.secs, f.command, dstest
    )
}

/// Default name of the failure folder: `YYYY-MM-DD_HH-MM-SS` (UTC) of `t`.
pub fn timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = crate::runner::civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}_{:02}-{:02}-{:02}", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    #[test]
    fn file_names() {
        assert_eq!(failure_file_name("figure8_unreliable_3c", 7, 12345), "figure8_unreliable_3c-0007-seed12345.log");
        assert_eq!(failure_file_name("kv::basic 4a", 12345, 0), "kv__basic_4a-12345-seed0.log");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc_3a"), "abc_3a");
        assert_eq!(shell_quote("--test-threads=1"), "--test-threads=1");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn command_and_header() {
        let env = vec![("LABRPC_SEED".to_string(), "42".to_string())];
        let args = vec!["--exact".to_string(), "x_3a".to_string()];
        let cmd = command_line(&PathBuf::from("/w"), &env, &PathBuf::from("/t/exe"), &args);
        assert_eq!(cmd, "cd /w && LABRPC_SEED=42 /t/exe --exact x_3a");
        let target = vec!["--package".to_string(), "kv".to_string()];
        let h = failure_header(&FailureInfo {
            test: "x_3a",
            iteration: 3,
            seed: 42,
            verdict: "FAILED",
            reason: "exit status: 101",
            secs: 1.5,
            command: &cmd,
            target_args: &target,
        });
        let lines: Vec<&str> = h.lines().collect();
        assert_eq!(lines[0], "# dstest: x_3a iteration 3 LABRPC_SEED=42 FAILED (exit status: 101) after 1.50 s");
        assert_eq!(lines[1], format!("# replay: {cmd}"));
        assert!(lines[2].contains("dstest -- --seed 42 -n 1 --package kv x_3a"));
        assert!(lines.iter().all(|l| l.starts_with('#')));
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01_00-00-00");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3600 + 61); // 2000-02-29
        assert_eq!(timestamp(t), "2000-02-29_01-01-01");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599); // 2025-12-31 23:59:59
        assert_eq!(timestamp(t), "2025-12-31_23-59-59");
    }
}
