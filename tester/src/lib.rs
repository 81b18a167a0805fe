//! The Lab 3 test harness, a port of the course's `config.go`, and the
//! helpers the 28 tests in `tests/raft_test.rs` (the course's
//! `test_test.go`) use.
//!
//! A [`Config`] owns a labrpc network and `n` Raft peers, each with its own
//! persister and an applier thread that checks every committed command
//! against the other peers. It dereferences to [`Harness`], whose methods
//! mirror `config.go` one for one: [`Harness::begin`], [`Harness::end`],
//! [`Harness::one`], [`Harness::check_one_leader`], [`Harness::crash1`],
//! [`Harness::start1`], [`Harness::connect`], [`Harness::disconnect`] and
//! the rest.
//!
//! Failures panic in the test's thread with the course's messages, and
//! print the network seed; `LABRPC_SEED=<seed>` replays the network's and
//! the tester's random choices. [`run`] enforces the 120-second limit even
//! on a test that hangs.

mod appliers;
mod config;

pub use config::{Config, Harness};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{mpsc, Mutex, Weak};
use std::thread;
use std::time::Duration;

/// The election time budget the tests reason in (`RaftElectionTimeout`).
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// The snapshotting applier snapshots after every this many commands.
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// The 3D bound on persisted Raft state (`MAXLOGSIZE`).
pub const MAX_LOG_SIZE: usize = 2000;
/// The real-time limit of one test.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// A command the tests agree on: the Go tests use ints and strings.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmd {
    Int(u64),
    Str(String),
}

impl From<u64> for Cmd {
    fn from(x: u64) -> Cmd {
        Cmd::Int(x)
    }
}

impl From<String> for Cmd {
    fn from(s: String) -> Cmd {
        Cmd::Str(s)
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Int(x) => write!(f, "{x}"),
            Cmd::Str(s) if s.len() <= 24 => write!(f, "{s:?}"),
            Cmd::Str(s) => write!(f, "{:?}...({} chars)", &s[..16], s.len()),
        }
    }
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The config of the test running now, so that [`run`] can shut it down if
/// the test hangs.
static CURRENT: Mutex<Option<Weak<config::Harness>>> = Mutex::new(None);

/// Runs one test body on its own thread and waits at most the 120-second
/// limit (plus a grace period for the test's own check to fire). A hung test
/// fails with "test took longer than 120 seconds": its peers are killed and
/// its network cleaned up, so it leaves nothing running into the next test.
pub fn run(body: fn()) {
    run_with_limit(TEST_TIME_LIMIT + Duration::from_secs(15), body)
}

fn run_with_limit(limit: Duration, body: fn()) {
    let (tx, rx) = mpsc::channel();
    let h = thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(body);
            let _ = tx.send(r);
        })
        .expect("cannot spawn the test thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(())) => {
            let _ = h.join();
        }
        Ok(Err(panic)) => {
            let _ = h.join();
            std::panic::resume_unwind(panic)
        }
        Err(_) => {
            let hung = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).take().and_then(|w| w.upgrade());
            if let Some(inner) = hung {
                eprintln!("tester: network seed was {0}; set LABRPC_SEED={0} to replay", inner.seed());
                inner.cleanup();
            }
            panic!("test took longer than 120 seconds (it hung; its peers were killed)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of the kit: peers (`raft-...`), network (`labrpc-...`) and
    /// the tester's appliers. Other tests' threads are not counted.
    fn kit_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|n| n.starts_with("raft-") || n.starts_with("labrpc-") || n.starts_with("tester-applier"))
            .count()
    }

    /// A test whose body hangs (here: in a wait that never ends) fails at
    /// the limit instead of hanging the run, and its peers are shut down.
    #[test]
    fn a_hung_test_fails_and_its_peers_are_killed() {
        let before = kit_threads();
        let r = std::panic::catch_unwind(|| {
            run_with_limit(Duration::from_secs(2), || {
                let cfg = Config::new(3, false, false);
                cfg.check_one_leader();
                // Hang: wait for something that never comes.
                let (_tx, rx) = mpsc::channel::<()>();
                let _ = rx.recv();
                drop(cfg);
            })
        });
        let msg = r.expect_err("the hung test must fail");
        let msg = msg
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| msg.downcast_ref::<String>().cloned())
            .unwrap();
        assert!(msg.contains("test took longer than 120 seconds"), "{msg}");
        // The peers' ticker and applier threads, the tester's appliers and
        // the network's threads are gone (the hung body thread itself stays
        // blocked; it is not the kit's). Joined threads may linger in /proc
        // for a moment.
        let t0 = std::time::Instant::now();
        while kit_threads() > before && t0.elapsed() < Duration::from_secs(1) {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(kit_threads(), before, "kit threads left after the hung test was stopped");
    }

    #[test]
    fn a_failing_test_fails_with_its_own_message() {
        let r = std::panic::catch_unwind(|| run_with_limit(Duration::from_secs(5), || panic!("boom 42")));
        let msg = r.expect_err("must fail");
        assert_eq!(msg.downcast_ref::<&str>().copied(), Some("boom 42"));
    }

    #[test]
    fn commands_display_like_the_go_tests() {
        assert_eq!(Cmd::Int(104).to_string(), "104");
        assert_eq!(Cmd::Str("abc".into()).to_string(), "\"abc\"");
        assert!(Cmd::Str("x".repeat(5000)).to_string().ends_with("...(5000 chars)"));
    }
}
