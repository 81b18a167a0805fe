//! Lab 4 (kvraft): a port of the course's `kvraft/config.go` and the
//! helpers of its `test_test.go`. The 23 tests are in
//! `tests/kvraft_test.rs`, names ending in `_4a` / `_4b`.
//!
//! A [`KvConfig`] owns a labrpc network and `n` key/value servers, each
//! registered with its `"KVServer"` and `"Raft"` services; Clerks get fresh
//! shuffled ends that partitions never touch. Every history of the
//! generic tests is checked for linearizability by the `porcupine` crate.

mod config;
mod generic;
mod ops;

pub use config::{fail, KvConfig, KvHarness};
pub use generic::{check_linearizable, generic_test, generic_test_speed, Generic};
pub use ops::{
    append, check, check_clnt_appends, check_concurrent_appends, clnt_appends_error, get, partitioner, put,
    spawn_clients_and_wait, OpLog,
};

use std::time::Duration;

/// The election time budget the tests reason in (`electionTimeout`).
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// How long porcupine may take over a test's history.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// A Clerk with the names of its ends, so the harness can connect and
/// disconnect it.
pub struct TestClerk {
    /// The student's Clerk.
    pub ck: kvraft::Clerk,
    pub(crate) ends: ClerkEnds,
}

impl TestClerk {
    /// Its ends, for [`KvHarness::connect_client`] and
    /// [`KvHarness::disconnect_client`] (also while another thread uses the
    /// Clerk).
    pub fn ends(&self) -> &ClerkEnds {
        &self.ends
    }
}

/// The names of a Clerk's ends, by server.
#[derive(Clone, Debug)]
pub struct ClerkEnds(pub(crate) std::sync::Arc<Vec<String>>);
