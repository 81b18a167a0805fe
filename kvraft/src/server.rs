//! The server: the thin shell around [`KvStore`]. RPC handlers hand
//! operations to Raft and wait for them to come back applied; one applier
//! thread feeds what Raft commits to the store, wakes the waiting handlers,
//! and snapshots when Raft's state nears `maxraftstate`.
//!
//! Lock order: the server's lock, then Raft's (a handler calls
//! `Raft::start` under the server's lock, so that its waiter is registered
//! before the applier can see the index; the applier calls
//! `Raft::snapshot` with no lock held). Raft never holds its lock while
//! delivering on the apply channel, so neither waits on the other.

use crate::common::{GetArgs, GetReply, KvErr, OpId, PutAppendArgs, PutAppendReply, PutOrAppend};
use crate::store::{self, Applied, KvStore, Op, OpKind, SnapshotError};
use crossbeam::channel::{self, Receiver, Sender};
use lablog::{dlog, Topic};
use labrpc::{ClientEnd, Service};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Messages Raft may deliver ahead of the applier.
const APPLY_BUFFER: usize = 1024;

/// How often a waiting handler checks that its leader still holds the term
/// it started the operation in.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(20);

/// A server that could not start.
#[derive(Debug)]
pub enum StartError {
    /// The persisted snapshot is not a key/value snapshot.
    Snapshot(SnapshotError),
    /// Raft could not restore its persisted state.
    Raft(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Snapshot(e) => write!(f, "kvraft: the persisted snapshot: {e}"),
            StartError::Raft(e) => write!(f, "kvraft: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// How a handler's operation ended.
enum Outcome {
    /// Applied at the index `start` returned.
    Applied(Applied),
    /// Another operation took that index, or a snapshot covered it: this
    /// server lost leadership before committing it.
    Lost,
}

struct Waiter {
    id: OpId,
    tx: Sender<Outcome>,
}

/// What the server's lock guards.
struct State {
    store: KvStore,
    /// The last log index applied to `store`.
    last_applied: u64,
    /// Handlers waiting for the operation they started, by log index.
    waiters: HashMap<u64, Waiter>,
    /// About how many bytes of Raft's log the entries applied since the
    /// last snapshot take.
    applied_bytes: usize,
    /// The size of the last snapshot taken or installed.
    snapshot_len: usize,
}

struct Inner {
    me: usize,
    rf: Raft,
    persister: Arc<Persister>,
    maxraftstate: Option<usize>,
    state: Mutex<State>,
    dead: AtomicBool,
    /// The last index handed to `Raft::snapshot` (or restored from one).
    snapshotted: AtomicU64,
    /// Dropped by `kill`, which stops the applier.
    kill_tx: Mutex<Option<Sender<()>>>,
    applier: Mutex<Option<JoinHandle<()>>>,
}

/// A key/value server (the course's `KVServer`). Cloning gives another
/// handle to the same server.
#[derive(Clone)]
pub struct KvServer {
    inner: Arc<Inner>,
}

impl KvServer {
    /// Starts server `me` of `servers.len()` (`StartKVServer`): restores
    /// the persisted snapshot, starts its Raft peer and its applier thread,
    /// and returns at once. `maxraftstate`: snapshot when Raft's persisted
    /// state reaches this many bytes; `None` (the course's -1) never.
    ///
    /// # Errors
    /// A persisted snapshot or Raft state that cannot be restored; the error
    /// names what is wrong.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> Result<KvServer, StartError> {
        let snapshot = persister.read_snapshot();
        let snapshot_len = snapshot.len();
        let (store, last_applied) = if snapshot.is_empty() {
            (KvStore::new(), 0)
        } else {
            KvStore::restore(&snapshot).map_err(StartError::Snapshot)?
        };
        // Buffered (the course's skeleton makes it unbuffered): Raft hands
        // over a run of commits without waiting for this server's applier
        // to take each one, two thread switches per entry that, on a
        // loaded machine, let followers fall thousands of entries behind
        // (and their unapplied logs past 8 x maxraftstate). The Lab 3
        // tester's unbuffered channel is what proves that this Raft never
        // sends while holding its lock.
        let (apply_tx, apply_rx) = channel::bounded(APPLY_BUFFER);
        let rf =
            Raft::make(servers, me, Arc::clone(&persister), apply_tx).map_err(|e| StartError::Raft(e.to_string()))?;
        let (kill_tx, kill_rx) = channel::bounded(0);
        let inner = Arc::new(Inner {
            me,
            rf,
            persister,
            maxraftstate,
            state: Mutex::new(State { store, last_applied, waiters: HashMap::new(), applied_bytes: 0, snapshot_len }),
            dead: AtomicBool::new(false),
            snapshotted: AtomicU64::new(last_applied),
            kill_tx: Mutex::new(Some(kill_tx)),
            applier: Mutex::new(None),
        });
        dlog!(Topic::Serv, me, 0, "started, state through {last_applied}");
        let a = Arc::clone(&inner);
        let h = thread::Builder::new()
            .name(format!("kvraft-{me}-applier"))
            .spawn(move || a.run_applier(&apply_rx, &kill_rx))
            .unwrap_or_else(|e| panic!("kvraft S{me}: cannot spawn the applier: {e}"));
        *inner.applier.lock().expect("kvraft applier handle") = Some(h);
        Ok(KvServer { inner })
    }

    /// This server's Raft peer (the tester registers its service beside
    /// this server's and asks it `get_state`).
    pub fn raft(&self) -> &Raft {
        &self.inner.rf
    }

    /// The labrpc service `"KVServer"`, methods `Get` and `PutAppend`.
    pub fn service(&self) -> Service {
        let (a, b) = (Arc::clone(&self.inner), Arc::clone(&self.inner));
        Service::new("KVServer")
            .method("Get", move |args: GetArgs| a.get(args))
            .method("PutAppend", move |args: PutAppendArgs| b.put_append(args))
    }

    /// Stops the server for good: its Raft peer and its applier thread
    /// (this waits for them); waiting handlers return `ErrWrongLeader`.
    /// Idempotent.
    pub fn kill(&self) {
        let inner = &self.inner;
        if inner.dead.swap(true, Ordering::SeqCst) {
            return;
        }
        inner.rf.kill();
        drop(inner.kill_tx.lock().expect("kvraft kill signal").take());
        if let Some(h) = inner.applier.lock().expect("kvraft applier handle").take() {
            if h.thread().id() != thread::current().id() {
                let _ = h.join();
            }
        }
        // Dropping the waiters' senders wakes their handlers.
        inner.lock().waiters.clear();
    }

    /// True once [`KvServer::kill`] was called.
    pub fn killed(&self) -> bool {
        self.inner.killed()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|_| panic!("kvraft S{}: state lock poisoned by an earlier panic", self.me))
    }

    fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    fn get(&self, args: GetArgs) -> GetReply {
        let op = Op { id: args.id, kind: OpKind::Get, key: args.key, value: String::new() };
        match self.submit(op) {
            Ok(Applied::Value(Some(value))) => GetReply { err: KvErr::Ok, value },
            Ok(Applied::Value(None)) => GetReply { err: KvErr::NoKey, value: String::new() },
            Ok(other) => unreachable!("a Get applied as {other:?}"),
            Err(err) => GetReply { err, value: String::new() },
        }
    }

    fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        let kind = match args.op {
            PutOrAppend::Put => OpKind::Put,
            PutOrAppend::Append => OpKind::Append,
        };
        let op = Op { id: args.id, kind, key: args.key, value: args.value };
        PutAppendReply { err: self.submit(op).err().unwrap_or(KvErr::Ok) }
    }

    /// Runs `op` through Raft and waits until it is applied. Replies only
    /// once applied; `ErrWrongLeader` if this server is not the leader, or
    /// stops being the leader of the term it started `op` in.
    fn submit(&self, op: Op) -> Result<Applied, KvErr> {
        if self.killed() {
            return Err(KvErr::WrongLeader);
        }
        let (tx, rx) = channel::bounded(1);
        let (index, term) = {
            let mut st = self.lock();
            if op.kind != OpKind::Get && st.store.is_duplicate(op.id) {
                // Applied, so committed: any server may say so.
                dlog!(Topic::Serv, self.me, 0, "{op}: already applied, duplicate ignored");
                return Ok(Applied::Duplicate);
            }
            let (index, term, is_leader) = self.rf.start(&op);
            if !is_leader {
                return Err(KvErr::WrongLeader);
            }
            if let Some(old) = st.waiters.insert(index, Waiter { id: op.id, tx }) {
                // Index reused by a later term: the old operation lost it.
                let _ = old.tx.send(Outcome::Lost);
            }
            (index, term)
        };
        dlog!(Topic::Serv, self.me, term, "submitted {op} at {index}");
        loop {
            channel::select! {
                recv(rx) -> r => {
                    return match r {
                        Ok(Outcome::Applied(a)) => Ok(a),
                        Ok(Outcome::Lost) | Err(_) => {
                            dlog!(Topic::Serv, self.me, term, "{op} at {index}: lost leadership");
                            Err(KvErr::WrongLeader)
                        }
                    };
                }
                default(LEADERSHIP_CHECK) => {
                    let (now_term, is_leader) = self.rf.get_state();
                    if self.killed() || now_term != term || !is_leader {
                        let mut st = self.lock();
                        if st.waiters.get(&index).is_some_and(|w| w.id == op.id) {
                            st.waiters.remove(&index);
                        }
                        drop(st);
                        if let Ok(Outcome::Applied(a)) = rx.try_recv() {
                            return Ok(a);
                        }
                        dlog!(Topic::Serv, self.me, term, "{op} at {index}: no longer leader (now T{now_term})");
                        return Err(KvErr::WrongLeader);
                    }
                }
            }
        }
    }

    /// The applier: applies what Raft delivers, in order, until killed,
    /// and snapshots when [`store::snapshot_due`] says so.
    fn run_applier(&self, apply_rx: &Receiver<ApplyMsg>, kill_rx: &Receiver<()>) {
        loop {
            let msg = channel::select! {
                recv(apply_rx) -> m => match m {
                    Ok(m) => m,
                    Err(_) => return, // Raft is gone
                },
                recv(kill_rx) -> _ => return,
            };
            match msg {
                ApplyMsg::Command { index, term, command } => {
                    self.apply_command(index, term, &command);
                    self.snapshot_if_due();
                }
                ApplyMsg::Snapshot { index, term, data } => self.install_snapshot(index, term, &data),
            }
        }
    }

    fn apply_command(&self, index: u64, term: u64, command: &[u8]) {
        let me = self.me;
        let op: Op = labgob::decode(command)
            .unwrap_or_else(|e| panic!("kvraft S{me}: the command Raft applied at index {index} is not an Op: {e}"));
        let mut st = self.lock();
        assert_eq!(
            index,
            st.last_applied + 1,
            "kvraft S{me}: Raft applied index {index} after {}: commands must come in order, once",
            st.last_applied
        );
        let result = st.store.apply(&op);
        st.last_applied = index;
        // What the entry costs in Raft's state, about: the command and
        // its term and length.
        st.applied_bytes += command.len() + 4;
        match &result {
            Applied::Duplicate => dlog!(Topic::Serv, me, term, "applied {index}: {op}, duplicate ignored"),
            _ => dlog!(Topic::Serv, me, term, "applied {index}: {op}"),
        }
        if let Some(w) = st.waiters.remove(&index) {
            let outcome = if w.id == op.id { Outcome::Applied(result) } else { Outcome::Lost };
            let _ = w.tx.send(outcome);
        }
    }

    /// Hands Raft a snapshot of everything applied when
    /// [`store::snapshot_due`] says it is worth it.
    fn snapshot_if_due(&self) {
        let Some(max) = self.maxraftstate else { return };
        let mut st = self.lock();
        let index = st.last_applied;
        let due = store::snapshot_due(self.persister.raft_state_size(), max, st.applied_bytes, st.snapshot_len);
        if !due || index <= self.snapshotted.load(Ordering::SeqCst) {
            return;
        }
        let bytes = st.store.snapshot(index);
        st.applied_bytes = 0;
        st.snapshot_len = bytes.len();
        drop(st);
        dlog!(Topic::Snap, self.me, 0, "snapshot through {index} ({} B)", bytes.len());
        self.snapshotted.store(index, Ordering::SeqCst);
        self.rf.snapshot(index, bytes);
    }

    fn install_snapshot(&self, index: u64, term: u64, data: &[u8]) {
        let me = self.me;
        let mut st = self.lock();
        if index <= st.last_applied {
            dlog!(Topic::Snap, me, term, "ignoring snapshot through {index}: state is through {}", st.last_applied);
            return;
        }
        let (store, through) = KvStore::restore(data)
            .unwrap_or_else(|e| panic!("kvraft S{me}: the snapshot Raft delivered through index {index}: {e}"));
        assert_eq!(
            through, index,
            "kvraft S{me}: Raft delivered a snapshot through {index} that says it ends at {through}"
        );
        st.store = store;
        st.last_applied = index;
        st.applied_bytes = 0;
        st.snapshot_len = data.len();
        self.snapshotted.fetch_max(index, Ordering::SeqCst);
        // Operations at or below the snapshot cannot be matched to their
        // handlers any more: they retry, and the duplicate table answers.
        st.waiters.retain(|&i, w| {
            if i <= index {
                let _ = w.tx.send(Outcome::Lost);
            }
            i > index
        });
        dlog!(Topic::Snap, me, term, "installed snapshot through {index}");
    }
}
