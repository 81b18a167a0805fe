//! How a test fails when the failure is not on the test's own thread, as a
//! Go test binary does: a panic on any other thread (a peer's, an RPC
//! handler's, a reply callback's, an applier's), an apply error, a bad RPC
//! and a hung test end the process at once, with a report naming the test,
//! the step it was at, and the seed that replays it.
//!
//! A panic on the test's body thread (the thread [`crate::run`] runs the
//! test on, or the thread that made the [`crate::Config`]) stays an
//! ordinary libtest failure.
//!
//! Reports go straight to the process's stderr, past libtest's output
//! capture, which would otherwise lose them when the process exits.

use std::cell::Cell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once, PoisonError};
use std::time::Instant;

/// Exit status of a process ended by the tester (Go's for a panic or a
/// test timeout); libtest's own failures exit with 101.
pub const EXIT_FATAL: i32 = 2;

/// What the tester knows of the test in progress, for the report.
struct Status {
    test: Option<String>,
    /// When the test got the tester (see [`crate::run`]).
    started: Option<Instant>,
    seed: Option<u64>,
    /// The latest harness event and when it happened.
    step: Option<(String, Instant)>,
}

static STATUS: Mutex<Status> = Mutex::new(Status { test: None, started: None, seed: None, step: None });

thread_local! {
    /// Set on the test's own thread(s): their panics are libtest failures.
    static TEST_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn status() -> std::sync::MutexGuard<'static, Status> {
    // Never held across anything that can block or panic.
    STATUS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new test begins (named `test`): forget the last one's step and seed.
pub(crate) fn begin_test(test: Option<String>) {
    let mut s = status();
    *s = Status { test, started: Some(Instant::now()), seed: None, step: None };
}

/// Records the network seed of the test in progress.
pub(crate) fn set_seed(seed: u64) {
    status().seed = Some(seed);
}

/// Records the latest harness event (`begin`'s title, `one(cmd)` waiting on
/// an index, a crash...), which a report names as the step in progress.
pub(crate) fn step(what: String) {
    status().step = Some((what, Instant::now()));
}

/// Marks the calling thread as the test's own: its panics fail the test the
/// usual libtest way.
pub(crate) fn mark_test_thread() {
    TEST_THREAD.with(|t| t.set(true));
}

pub(crate) fn is_test_thread() -> bool {
    TEST_THREAD.with(Cell::get)
}

/// Installs the process-wide panic hook (once). A panic on a thread that is
/// not the test's own prints a report and ends the process; one on the
/// test's thread goes to the previous hook (libtest's message) and starts
/// the watchdog's teardown clock.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if is_test_thread() {
                previous(info);
                crate::watchdog::teardown_started("the test failed (above)");
            } else {
                let bt = std::backtrace::Backtrace::capture();
                let bt = match bt.status() {
                    std::backtrace::BacktraceStatus::Captured => format!("{bt}"),
                    _ => "note: run with RUST_BACKTRACE=1 for this thread's backtrace".into(),
                };
                die_with(&describe_panic(info), &bt, false);
            }
        }));
    });
}

/// `thread 'name' panicked at file:line:col: message`, as Rust prints it.
fn describe_panic(info: &PanicHookInfo<'_>) -> String {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    match info.location() {
        Some(l) => format!("thread '{name}' panicked at {}:{}:{}:\n{msg}", l.file(), l.line(), l.column()),
        None => format!("thread '{name}' panicked:\n{msg}"),
    }
}

/// The report's lines about the test: its name, the step in progress and
/// the seed.
pub(crate) fn context() -> String {
    let s = status();
    let mut out = String::new();
    let test = s.test.as_deref().unwrap_or("(no test running)");
    let _ = writeln!(out, "tester: test: {test}");
    match (&s.step, s.started) {
        (Some((step, at)), Some(t0)) => {
            let _ = writeln!(
                out,
                "tester: step in progress: {step} (since {:.1} s into the test, {:.1} s ago)",
                at.duration_since(t0).as_secs_f64(),
                at.elapsed().as_secs_f64()
            );
        }
        (Some((step, _)), None) => {
            let _ = writeln!(out, "tester: step in progress: {step}");
        }
        (None, _) => {
            let _ = writeln!(out, "tester: step in progress: none recorded yet");
        }
    }
    if let Some(t0) = s.started {
        let _ = writeln!(out, "tester: the test has run {:.1} s", t0.elapsed().as_secs_f64());
    }
    match s.seed {
        Some(seed) => {
            let _ = writeln!(out, "tester: network seed was {seed}; set LABRPC_SEED={seed} to replay");
        }
        None => {
            let _ = writeln!(out, "tester: no network was made yet (no seed to replay)");
        }
    }
    out
}

/// Writes to the process's stderr, past libtest's capture.
pub(crate) fn write_stderr(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

/// Reports a failure that is not the test thread's own and ends the
/// process with [`EXIT_FATAL`], as Go's `log.Fatal` or an unrecovered
/// panic would. With `stacks`, every thread's stack is printed too.
pub(crate) fn die(what: &str, stacks: bool) -> ! {
    die_with(what, "", stacks)
}

/// [`die`], with `detail` (a backtrace) after the test's context.
fn die_with(what: &str, detail: &str, stacks: bool) -> ! {
    let mut report = format!("\ntester: FAIL: {}\n{}", what.trim_end(), context());
    if !detail.is_empty() {
        report.push_str(detail.trim_end());
        report.push('\n');
    }
    // The failure first: the stacks take a moment.
    write_stderr(&report);
    if stacks {
        write_stderr(&crate::stacks::all_threads());
    }
    write_stderr(&format!("tester: ending the process (exit status {EXIT_FATAL})\n"));
    std::process::exit(EXIT_FATAL)
}
