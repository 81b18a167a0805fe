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
//! # How a test fails
//! - A check that fails (`one`, `check_one_leader`, ... with the course's
//!   messages) panics on the test's thread: an ordinary libtest failure,
//!   located at the test's line (the checks are `#[track_caller]`), with the
//!   network seed printed; `LABRPC_SEED=<seed>` replays the network's, the
//!   tester's and (through [`labrpc::peer_rng`]) the peers' random choices.
//! - Anything that goes wrong off the test's thread ends the process at
//!   once with exit status [`EXIT_FATAL`], as it would end a Go test binary:
//!   a panic on any other thread (a peer's own threads, an RPC handler, a
//!   reply callback, an applier, a helper thread of the test), an apply
//!   error (a command that differs from another peer's at the same index,
//!   an out-of-order apply, a bad snapshot; Go's `log.Fatalf` in the
//!   applier), and a bad RPC (an unknown service or method, arguments or a
//!   reply that do not decode). The report names the thread, the message and
//!   its location, the test, the step of the test in progress and the seed.
//!   Errors during teardown end it the same way.
//! - A test that takes longer than 120 seconds, or whose teardown is stuck
//!   for [`TEARDOWN_LIMIT`] after it failed, is ended by [`run`]'s watchdog,
//!   which prints every thread's stack (with `eu-stack` from Debian's
//!   `elfutils`, else `gdb`) and never waits on a peer.
//!
//! Tests serialize themselves in [`run`], so plain `cargo test` (which runs
//! tests in parallel) works; their 120 s count from when a test's turn
//! comes.
//!
//! # The safety suite
//! [`Config::safety`] makes the harness of the safety suite
//! (`tests/safety_test.rs`, names ending `_safety`): the same harness with
//! monitors that are always on (at most one leader per term over the whole
//! test, sampled every [`LEADER_SAMPLE`]; each peer's applied sequence never
//! going back or repeating, across snapshots and restarts; no two peers
//! applying different commands at an index), and controls of single links
//! ([`Harness::cut`], [`Harness::heal`], [`Harness::hold`],
//! [`Harness::release`], [`Harness::release_one`]). The course's tests never
//! use them.
//!
//! # The Raft the tester drives
//! The tester uses only the Raft API documented at the top of the `raft`
//! crate ("The contract with the tester"), so any Raft that follows it can
//! be tested in place of the kit's.

mod appliers;
pub mod child;
mod config;
mod fatal;
mod floor;
pub mod kv;
mod safety;
mod stacks;
mod watchdog;

pub use config::{Config, Harness};
pub use fatal::EXIT_FATAL;
pub use floor::{count as count_in_floor, floor, sleep, FLOOR_VAR};
pub use labrpc::Release;
pub use safety::LEADER_SAMPLE;
pub use watchdog::{run, time_limit, TEARDOWN_LIMIT, TEST_TIME_LIMIT, TIME_LIMIT_VAR};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// The election time budget the tests reason in (`RaftElectionTimeout`).
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// The snapshotting applier snapshots after every this many commands.
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// The 3D bound on persisted Raft state (`MAXLOGSIZE`).
pub const MAX_LOG_SIZE: usize = 2000;

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

/// A random string of `n` characters (`randstring`), for end names and the
/// tests' commands.
pub(crate) fn rand_string(rng: &mut impl rand::Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

/// One end per server, end `j` named `names[j]` and connected to server
/// `j` (ends start disabled: the harness enables them).
pub(crate) fn ends_to_servers(net: &labrpc::Network, names: &[String]) -> Vec<labrpc::ClientEnd> {
    names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let e = net.make_end(name);
            net.connect(name, &j.to_string());
            e
        })
        .collect()
}

/// The config of the test running now (for its appliers' threads).
static CURRENT: Mutex<Option<Weak<config::Harness>>> = Mutex::new(None);

#[cfg(test)]
mod tests;
