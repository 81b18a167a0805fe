//! A test's floor: the time its scenario spends in waits that no Raft (or
//! key/value service) can shorten. Measured as the test runs: the fixed
//! sleeps of the test and of the harness (`check_one_leader`'s 450–550 ms
//! before it looks, Figure 8's pauses, Lab 4's 5 s of client work), and the
//! first interval of each polling loop (`one()` looks 20 ms after its
//! `start`, however fast the commit), and, where `one()` finds no leader
//! to take its command, up to [`ELECTION`] of waiting for one (a perfect
//! Raft still needs an election timeout). Later polls, and the retries a test
//! makes when an attempt failed, are waits a faster implementation would
//! avoid: they are not counted.
//!
//! Set `TESTER_FLOOR=1` and each Passed line is followed by
//! `  ... floor --  <seconds>`, the floor since `begin` (and a Speed test
//! prints `  ... timed --  <seconds>`, its 1000 operations); `make bench-lab3`
//! and `make bench-lab4` report it beside the measured time. Without the
//! variable the tests print exactly the course's lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable that prints each test's floor.
pub const FLOOR_VAR: &str = "TESTER_FLOOR";

/// What a perfect Raft needs for an election: the top of the paper's
/// 150–300 ms timeouts, which the lab's handout tells students to exceed
/// (heartbeats are at most ten a second).
pub const ELECTION: Duration = Duration::from_millis(300);

/// Nanoseconds of fixed waits since the last `begin`.
static FLOOR_NS: AtomicU64 = AtomicU64::new(0);

/// A test's `begin`: the floor starts again from zero.
pub(crate) fn reset() {
    FLOOR_NS.store(0, Ordering::Relaxed);
}

/// Counts `d` of waiting in the floor, if the calling thread is the test's
/// own (a helper thread's waits overlap the test's): for a fixed wait the
/// test made other than by [`sleep`] (a `select!` whose timeout is the
/// expected outcome, a join of a thread that ends its pause, an election
/// the scenario needs).
pub fn count(d: Duration) {
    if crate::fatal::is_test_thread() {
        FLOOR_NS.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// A fixed pause of the test's scenario (`time.Sleep` in the course's
/// tests): sleeps `d` and counts the time slept in the test's floor.
pub fn sleep(d: Duration) {
    let t0 = Instant::now();
    thread::sleep(d);
    count(t0.elapsed());
}

/// The floor since the last `begin`.
pub fn floor() -> Duration {
    Duration::from_nanos(FLOOR_NS.load(Ordering::Relaxed))
}

/// Whether `TESTER_FLOOR` asks for the floor lines.
fn wanted() -> bool {
    std::env::var_os(FLOOR_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// After a Passed line: the floor line, when `TESTER_FLOOR` asks for it.
pub(crate) fn report() {
    if wanted() {
        println!("  ... floor --  {:4.1}", floor().as_secs_f64());
    }
}

/// The timed part of a Speed test (its 1000 operations), as
/// `  ... timed --  <seconds>` when `TESTER_FLOOR` asks for it.
pub(crate) fn report_timed(d: Duration) {
    if wanted() {
        println!("  ... timed --  {:.3}", d.as_secs_f64());
    }
}
