//! Raft, after the extended paper's Figure 2, for the 6.5840 lab: leader
//! election (3A), log replication (3B), persistence (3C) and log compaction
//! (3D).
//!
//! # The contract with the tester
//! The tester (`tester/src/config.rs`) uses a Raft through this API and
//! nothing else, so any crate named `raft` that provides it can be tested in
//! place of this one (the student skeleton in `skeleton/raft` is written
//! from it alone):
//! - `Raft: Clone + Send + Sync + 'static`: a handle; every clone is the
//!   same peer.
//! - `Raft::make(peers: Vec<labrpc::ClientEnd>, me: usize, persister:
//!   Arc<persister::Persister>, apply_ch: crossbeam::channel::Sender<ApplyMsg>)
//!   -> Result<Raft, E>` with `E: Display`: creates peer `me` (`peers[me]`
//!   is its own end), restoring what `persister` holds, and returns at once
//!   (long-running work goes on threads). An `Err` fails the test with its
//!   message. The tester makes `apply_ch` a rendezvous
//!   (`crossbeam::channel::bounded(0)`, like Go's unbuffered channel): a
//!   send waits until the tester's applier takes the message, and that
//!   applier may be inside a call of `snapshot()`. It is never closed.
//! - `start<C: Serialize + ?Sized>(&self, command: &C) -> (u64, u64, bool)`:
//!   index, term, is_leader; returns at once, even after `kill`.
//! - `get_state(&self) -> (u64, bool)`: term and is_leader.
//! - `snapshot(&self, index: u64, snapshot: Vec<u8>)`: the service's state
//!   through `index` (3D).
//! - `kill(&self)`: the peer is shut down; the tester calls it once per
//!   instance and does not rely on anything stopping with it.
//! - `service(&self) -> labrpc::Service`: the service `"Raft"` the tester
//!   registers on the network.
//! - `ApplyMsg`, exactly two variants: `Command { index: u64, term: u64,
//!   command: Vec<u8> }` (the labgob bytes of what was passed to `start`;
//!   log indexes start at 1) and `Snapshot { index: u64, term: u64, data:
//!   Vec<u8> }`.
//!
//! Beyond the API: a panic on any of the peer's threads (its own, its RPC
//! handlers, its reply callbacks) ends the test at once, and so does a bad
//! RPC; randomness drawn from [`labrpc::peer_rng`] is replayed by the seed a
//! failing test prints.
//!
//! # Layout
//! The protocol lives in plain rules over [`state::RaftState`], with no
//! locks and no I/O: [`election`], [`replication`], [`compaction`] and
//! [`apply`], each unit-tested without a network. `node` wraps them with one
//! mutex, a ticker thread, an applier thread, persistence and labrpc calls
//! (etcd's `raft.go` / `node.go` split). [`log::Log`] is the only place that
//! does index arithmetic.
//!
//! # Debugging
//! `RAFT_LOG=1` prints one line per event through the `lablog` crate
//! (leadership and terms at info, other events at debug, every RPC at
//! trace: `RAFT_LOG=trace`); the `dslogs` tool lays them out with one column
//! per peer.

pub mod apply;
pub mod compaction;
pub mod election;
pub mod log;
#[cfg(all(test, loom))]
mod loom_tests;
pub mod messages;
mod node;
pub mod persist;
pub mod replication;
pub mod state;

#[cfg(all(test, not(loom)))]
mod rule_tests;

use crossbeam::channel::Sender;
use lablog::Topic;
use labrpc::{ClientEnd, Service};
use node::Node;
use persister::Persister;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

pub use persist::PersistError;

/// Synchronization primitives: std's, or loom's when model checking.
pub(crate) mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
    #[cfg(loom)]
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
    #[cfg(loom)]
    pub(crate) use loom::thread;
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::thread;
}

/// What a peer delivers to its service, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command (the Go lab's `CommandValid`).
    Command {
        /// Its log index (>= 1).
        index: u64,
        /// The term in which it was proposed.
        term: u64,
        /// The labgob bytes of what was passed to [`Raft::start`].
        command: Vec<u8>,
    },
    /// A snapshot from the leader (the Go lab's `SnapshotValid`): the
    /// service replaces its state with it. Never older than what was
    /// already delivered.
    Snapshot {
        /// The last index it covers.
        index: u64,
        /// The term of that index.
        term: u64,
        /// The service's own bytes, as passed to [`Raft::snapshot`].
        data: Vec<u8>,
    },
}

impl ApplyMsg {
    /// Decodes a command as the service's type `C`. `None` for a snapshot.
    pub fn decode_command<C: DeserializeOwned>(&self) -> Option<Result<C, labgob::DecodeError>> {
        match self {
            ApplyMsg::Command { command, .. } => Some(labgob::decode(command)),
            ApplyMsg::Snapshot { .. } => None,
        }
    }
}

/// A Raft peer. Cloning gives another handle to the same peer.
#[derive(Clone)]
pub struct Raft {
    node: Arc<Node>,
}

impl Raft {
    /// Creates peer `me` of `peers.len()`, restoring whatever `persister`
    /// holds (the service has already loaded the snapshot, if any), and
    /// starts its ticker and applier threads.
    ///
    /// # Errors
    /// If the persisted state does not decode or is inconsistent; the error
    /// names what is wrong. A peer never starts silently empty.
    pub fn make(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_ch: Sender<ApplyMsg>,
    ) -> Result<Raft, PersistError> {
        lablog::init_or_panic();
        let raft = Raft::new_idle(peers, me, persister)?;
        raft.node.spawn("ticker", |n| n.run_ticker());
        raft.node.spawn("applier", move |n| {
            let node = Arc::clone(&n);
            n.run_applier(|m| node.deliver(&apply_ch, m))
        });
        Ok(raft)
    }

    /// A peer without threads (for model checking: the caller drives it).
    fn new_idle(peers: Vec<ClientEnd>, me: usize, persister: Arc<Persister>) -> Result<Raft, PersistError> {
        let n = peers.len();
        assert!(me < n, "raft: make: me = {me} but peers has {n} ends");
        let persisted = persist::restore(me, n, &persister)?;
        // The peer's own stream from LABRPC_SEED (replayable), salted with
        // the persisted term so that a restarted peer draws anew.
        let seed = rand::RngCore::next_u64(&mut labrpc::peer_rng(me, persisted.current_term));
        let st = state::RaftState::new(me, n, persisted, seed, Instant::now());
        Ok(Raft { node: Arc::new(Node::new(peers, me, persister, st)) })
    }

    /// Proposes `command`. Returns at once with the index it will have if
    /// it commits, the current term, and whether this peer is the leader
    /// (if not, nothing was proposed).
    pub fn start<C: Serialize + ?Sized>(&self, command: &C) -> (u64, u64, bool) {
        if self.node.killed() {
            return (0, self.get_state().0, false);
        }
        let bytes = labgob::encode(command);
        self.node.with_state(|st, now, out| match st.start_command(bytes, now, out) {
            Some((index, term)) => (index, term, true),
            None => (0, st.current_term(), false),
        })
    }

    /// The current term and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        let st = self.node.lock();
        (st.current_term(), st.is_leader())
    }

    /// The service has a snapshot of its state through `index`: Raft
    /// discards the log through it and saves the snapshot with its state.
    ///
    /// # Panics
    /// If `index` is beyond what was delivered on the apply channel.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        self.node.with_state(|st, _, _| st.take_snapshot(index, snapshot));
    }

    /// Shuts the peer down: its threads stop (this waits for them) and it
    /// sends nothing more. Idempotent.
    pub fn kill(&self) {
        self.node.kill();
    }

    /// True once [`Raft::kill`] was called.
    pub fn killed(&self) -> bool {
        self.node.killed()
    }

    /// The labrpc service `"Raft"` answering this peer's RPCs.
    pub fn service(&self) -> Service {
        let (a, b, c) = (Arc::clone(&self.node), Arc::clone(&self.node), Arc::clone(&self.node));
        Service::new("Raft")
            .method("RequestVote", move |args: messages::RequestVoteArgs| {
                a.handle(Topic::Vote, args.candidate_id, &args, |st, now| st.handle_request_vote(&args, now))
            })
            .method("AppendEntries", move |args: messages::AppendEntriesArgs| {
                b.handle(Topic::Log, args.leader_id, &args, |st, now| st.handle_append_entries(&args, now))
            })
            .method("InstallSnapshot", move |args: messages::InstallSnapshotArgs| {
                c.handle(Topic::Snap, args.leader_id, &args, |st, now| st.handle_install_snapshot(&args, now))
            })
    }
}
