//! Your Raft. This is an outline of the API that Raft must expose to the
//! service (or the tester). See the comments below for each of these
//! functions for more details; `tester/src/config.rs` shows how they are
//! called.
//!
//! - `Raft::make(peers, me, persister, apply_ch)`: create a new Raft peer.
//! - `rf.start(&command) -> (index, term, is_leader)`: start agreement on a
//!   new log entry.
//! - `rf.get_state() -> (term, is_leader)`: ask a Raft for its current term,
//!   and whether it thinks it is the leader.
//! - `ApplyMsg`: each time a new entry is committed to the log, each Raft
//!   peer should send an `ApplyMsg` to the service (or tester) in the same
//!   server, on `apply_ch`.
//!
//! The full contract between the tester and a Raft is at the top of the
//! kit's `raft/src/lib.rs` and in the README.

use crossbeam::channel::Sender;
use labrpc::{ClientEnd, RpcError, Service};
use persister::Persister;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// As each Raft peer becomes aware that successive log entries are
/// committed, the peer should send an `ApplyMsg` to the service (or tester)
/// on the same server, via the `apply_ch` passed to [`Raft::make`].
///
/// A committed log entry is an `ApplyMsg::Command`. In part 3D you'll want
/// to send other kinds of messages (e.g., snapshots) on the apply channel:
/// those are `ApplyMsg::Snapshot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A newly committed command.
    Command {
        /// Its log index (log indexes start at 1).
        index: u64,
        /// The term of the entry.
        term: u64,
        /// The command, as labgob bytes: exactly what was passed to
        /// [`Raft::start`], encoded with `labgob::encode`.
        command: Vec<u8>,
    },
    /// A snapshot for the service to install (3D).
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of that entry.
        term: u64,
        /// The service's snapshot bytes.
        data: Vec<u8>,
    },
}

/// A single Raft peer. Cheap to clone: every clone is a handle to the same
/// peer, so that threads and RPC handlers can each hold one.
#[derive(Clone)]
pub struct Raft {
    peer: Arc<Peer>,
}

// The fields you will use as you go; the compiler would warn about each one
// until you do.
#[allow(dead_code)]
struct Peer {
    mu: Mutex<State>,           // Lock to protect shared access to this peer's state
    peers: Vec<ClientEnd>,      // RPC end points of all peers
    persister: Arc<Persister>,  // Object to hold this peer's persisted state
    me: usize,                  // this peer's index into peers[]
    dead: AtomicBool,           // set by kill()
    apply_ch: Sender<ApplyMsg>, // where committed entries go, in order
}

/// This peer's state, behind its lock.
#[derive(Default)]
struct State {
    // Your data here (3A, 3B, 3C).
    // Look at the paper's Figure 2 for a description of what
    // state a Raft server must maintain.
}

/// Why [`Raft::make`] could not start a peer: its persisted state is
/// unusable. Say what is wrong; the tester prints it.
#[derive(Debug)]
pub struct MakeError(pub String);

impl fmt::Display for MakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "raft: {}", self.0)
    }
}

impl std::error::Error for MakeError {}

impl Raft {
    /// Returns the current term and whether this server believes it is
    /// the leader.
    pub fn get_state(&self) -> (u64, bool) {
        let _state = self.peer.mu.lock().unwrap();
        let term = 0;
        let is_leader = false;
        // Your code here (3A).
        (term, is_leader)
    }

    /// Saves Raft's persistent state to stable storage, where it can later
    /// be retrieved after a crash and restart. See the paper's Figure 2 for
    /// a description of what should be persistent. Before you've
    /// implemented snapshots, you should pass `None` as the second argument
    /// to `persister.save()`. After you've implemented snapshots, pass the
    /// current snapshot (or `None` if there's not yet a snapshot).
    #[allow(dead_code)] // until you call it
    fn persist(&self, state: &State) {
        // Your code here (3C).
        // Example:
        // let raftstate = labgob::encode(&(state.xxx, &state.yyy));
        // self.peer.persister.save(raftstate, None);
        let _ = state;
    }

    /// Restores previously persisted state.
    fn read_persist(&self, data: &[u8]) {
        if data.is_empty() {
            // bootstrap without any state?
            return;
        }
        // Your code here (3C).
        // Example:
        // match labgob::decode::<(u64, Vec<u64>)>(data) {
        //     Ok((xxx, yyy)) => {
        //         let mut state = self.peer.mu.lock().unwrap();
        //         state.xxx = xxx;
        //         state.yyy = yyy;
        //     }
        //     Err(e) => { /* error... */ }
        // }
        // (Or return the error from `make`, so a peer never starts with
        // state it could not read.)
    }

    /// The service says it has created a snapshot that has all info up to
    /// and including `index`. This means the service no longer needs the
    /// log through (and including) that index. Raft should now trim its
    /// log as much as possible.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        // Your code here (3D).
        let _ = (index, snapshot);
    }

    /// The RequestVote RPC handler.
    fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        // Your code here (3A, 3B).
        let _ = args;
        RequestVoteReply::default()
    }

    /// An example of how to send a RequestVote RPC to a server.
    /// `server` is the index of the target server in `peers`. The reply
    /// comes back typed: labrpc decodes it as the type you ask for, so the
    /// argument and reply types must be the ones the handler (registered in
    /// [`Raft::service`]) takes and returns.
    ///
    /// labrpc simulates a lossy network, in which servers may be
    /// unreachable, and in which requests and replies may be lost. `call`
    /// sends a request and waits for a reply. If a reply arrives within a
    /// timeout interval, `call` returns `Ok(reply)`; otherwise it returns
    /// `Err(RpcError::Failed)`. Thus `call` may not return for a while. An
    /// `Err` return can be caused by a dead server, a live server that
    /// can't be reached, a lost request, or a lost reply.
    ///
    /// `call` is guaranteed to return (perhaps after a delay) *except* if
    /// the handler function on the server side does not return. Thus there
    /// is no need to implement your own timeouts around `call`.
    ///
    /// Since `call` blocks, send each RPC from a thread of its own (or use
    /// labrpc's non-blocking `call_with`, which runs a closure with the
    /// reply), and never hold the lock while you wait for one.
    ///
    /// `Err(RpcError::Bad(..))` is a programming error (a wrong method name,
    /// a type that does not decode): under the tester it ends the test.
    #[allow(dead_code)] // until you call it
    fn send_request_vote(&self, server: usize, args: &RequestVoteArgs) -> Result<RequestVoteReply, RpcError> {
        self.peer.peers[server].call("Raft.RequestVote", args)
    }

    /// The service using Raft (e.g. a k/v server) wants to start agreement
    /// on the next command to be appended to Raft's log. If this server
    /// isn't the leader, returns false. Otherwise start the agreement and
    /// return immediately. There is no guarantee that this command will
    /// ever be committed to the Raft log, since the leader may fail or lose
    /// an election. Even if the Raft instance has been killed, this function
    /// should return gracefully.
    ///
    /// The first return value is the index that the command will appear at
    /// if it's ever committed. The second return value is the current term.
    /// The third return value is true if this server believes it is the
    /// leader.
    pub fn start<C: Serialize + ?Sized>(&self, command: &C) -> (u64, u64, bool) {
        let index = 0;
        let term = 0;
        let is_leader = true;
        // Your code here (3B).
        let _ = labgob::encode(command);
        (index, term, is_leader)
    }

    /// The tester doesn't halt threads created by Raft after each test, but
    /// it does call `kill()`. Your code can use `killed()` to check whether
    /// `kill()` has been called. The use of an atomic avoids the need for a
    /// lock.
    ///
    /// The issue is that long-running threads use memory and may chew up
    /// CPU time, perhaps causing later tests to fail and generating
    /// confusing debug output. Any thread with a long-running loop should
    /// call `killed()` to check whether it should stop.
    pub fn kill(&self) {
        self.peer.dead.store(true, Ordering::SeqCst);
        // Your code here, if desired.
    }

    /// True once [`Raft::kill`] was called.
    pub fn killed(&self) -> bool {
        self.peer.dead.load(Ordering::SeqCst)
    }

    fn ticker(&self) {
        // Replayable randomness: this peer's own stream, derived from the
        // run's LABRPC_SEED, so that a failing seed replays your peers'
        // choices along with the network's.
        let mut rng = labrpc::peer_rng(self.peer.me, 0);
        while !self.killed() {
            // Your code here (3A)
            // Check if a leader election should be started.

            // pause for a random amount of time between 50 and 350
            // milliseconds.
            let ms = 50 + rng.gen_range(0..300);
            thread::sleep(Duration::from_millis(ms));
        }
    }

    /// The labrpc service `"Raft"` that answers this peer's RPCs: the
    /// tester registers it on the network. Add AppendEntries (3B) and
    /// InstallSnapshot (3D) here as you write them.
    pub fn service(&self) -> Service {
        let rf = self.clone();
        Service::new("Raft").method("RequestVote", move |args: RequestVoteArgs| rf.request_vote(args))
    }

    /// The service or tester wants to create a Raft server. The ports of
    /// all the Raft servers (including this one) are in `peers`. This
    /// server's port is `peers[me]`. All the servers' `peers` vectors have
    /// the same order. `persister` is a place for this server to save its
    /// persistent state, and also initially holds the most recent saved
    /// state, if any. `apply_ch` is a channel on which the tester or service
    /// expects Raft to send `ApplyMsg` messages. `make()` must return
    /// quickly, so it should start threads for any long-running work.
    ///
    /// # Errors
    /// If the persisted state cannot be used: say why.
    pub fn make(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_ch: Sender<ApplyMsg>,
    ) -> Result<Raft, MakeError> {
        if me >= peers.len() {
            return Err(MakeError(format!("me = {me}, but there are {} peers", peers.len())));
        }
        let state = persister.read_raft_state();
        let rf = Raft {
            peer: Arc::new(Peer {
                mu: Mutex::new(State::default()),
                peers,
                persister,
                me,
                dead: AtomicBool::new(false),
                apply_ch,
            }),
        };

        // Your initialization code here (3A, 3B, 3C).

        // initialize from state persisted before a crash
        rf.read_persist(&state);

        // start ticker thread to start elections
        let ticker = rf.clone();
        thread::Builder::new()
            .name(format!("raft-{me}-ticker"))
            .spawn(move || ticker.ticker())
            .map_err(|e| MakeError(format!("cannot start the ticker thread: {e}")))?;

        Ok(rf)
    }
}

/// Example RequestVote RPC arguments structure.
/// Field names and types are yours to choose.
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct RequestVoteArgs {
    // Your data here (3A, 3B).
}

/// Example RequestVote RPC reply structure.
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct RequestVoteReply {
    // Your data here (3A).
}
