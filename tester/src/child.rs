//! Tests of the tester itself whose scenario must end the process (a hung
//! test, a panic off the test's thread): the test runs again as a child
//! process, its scenario runs there, and the parent checks the child's
//! output and exit status.
//!
//! ```no_run
//! #[test]
//! fn a_hung_test_is_reported() {
//!     if tester::child::is_child() {
//!         tester::run(|| loop { std::thread::park() });
//!         return;
//!     }
//!     let out = tester::child::rerun("a_hung_test_is_reported", &[("TESTER_TIME_LIMIT_SECS", "2")]);
//!     assert_eq!(out.code, Some(tester::EXIT_FATAL));
//!     assert!(out.stderr.contains("test took longer than 2 seconds"));
//! }
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child: the name of the test it runs.
pub const CHILD_VAR: &str = "TESTER_CHILD_OF";

/// Is this process a child started by [`rerun`]?
pub fn is_child() -> bool {
    std::env::var_os(CHILD_VAR).is_some()
}

/// What the child did.
#[derive(Debug)]
pub struct ChildRun {
    /// Exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Wall time of the child.
    pub elapsed: Duration,
}

/// Runs test `test` (its full libtest name) of this very test executable in
/// a child process, with `env` added, and returns its output.
///
/// # Panics
/// If the child cannot be started.
pub fn rerun(test: &str, env: &[(&str, &str)]) -> ChildRun {
    rerun_with(&["--exact", test, "--nocapture", "--test-threads=1"], env)
}

/// Runs this very test executable in a child process with libtest
/// arguments `args` (a filter, options) and `env` added.
///
/// # Panics
/// If the child cannot be started.
pub fn rerun_with(args: &[&str], env: &[(&str, &str)]) -> ChildRun {
    // The calling thread is a test's: a failed assertion on it is a libtest
    // failure, not a panic "off the test's thread".
    crate::fatal::mark_test_thread();
    let exe = std::env::current_exe().expect("the test executable's path");
    let t0 = Instant::now();
    let out = Command::new(&exe)
        .args(args)
        .env(CHILD_VAR, args.join(" "))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    ChildRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: t0.elapsed(),
    }
}

impl ChildRun {
    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit code {:?} after {:.1} s\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}
