//! The key/value server: one per Raft peer.

use crate::common::{GetArgs, GetReply, KvErr, PutAppendArgs, PutAppendReply};
use crossbeam::channel::{self, Receiver};
use lablog::{dlog, Topic};
use labrpc::{ClientEnd, Service};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What goes into the Raft log: `Raft::start(&op)` encodes it, and it comes
/// back on the apply channel as the bytes of `ApplyMsg::Command`
/// (`labgob::decode::<Op>(&command)`).
#[allow(dead_code)] // until you use it
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Op {
    // Your definitions here.
}

/// Why a server could not start, for the tester to print.
#[derive(Debug)]
pub enum StartError {
    /// Raft could not start (its persisted state is unusable).
    Raft(String),
    /// The persisted snapshot is unusable (4B).
    Snapshot(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Raft(why) => write!(f, "kvraft: Raft could not start: {why}"),
            StartError::Snapshot(why) => write!(f, "kvraft: unusable snapshot: {why}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A key/value server. Cheap to clone: every clone is a handle to the same
/// server, so that threads and RPC handlers can each hold one.
#[derive(Clone)]
pub struct KvServer {
    inner: Arc<Inner>,
}

// The fields you will use as you go; the compiler would warn about each one
// until you do.
#[allow(dead_code)]
struct Inner {
    mu: Mutex<State>,
    me: usize,
    rf: Raft,
    apply_ch: Receiver<ApplyMsg>,
    persister: Arc<Persister>,
    dead: AtomicBool, // set by kill()

    maxraftstate: Option<usize>, // snapshot if Raft's state grows this big
}

/// The server's state, behind its lock.
#[derive(Default)]
struct State {
    // Your definitions here.
}

impl KvServer {
    /// The `KVServer.Get` handler.
    fn get(&self, args: GetArgs) -> GetReply {
        // Your code here.
        let _ = args;
        GetReply { err: KvErr::WrongLeader, value: String::new() }
    }

    /// The `KVServer.PutAppend` handler.
    fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        // Your code here.
        let _ = args;
        PutAppendReply { err: KvErr::WrongLeader }
    }

    /// The tester calls `kill()` when a server instance won't be needed
    /// again. For your convenience, we supply code to set `dead` (without
    /// needing a lock) and to kill Raft; `killed()` tells long-running
    /// threads to stop. You may also want to add code here.
    pub fn kill(&self) {
        self.inner.dead.store(true, Ordering::SeqCst);
        self.inner.rf.kill();
        // Your code here, if desired.
    }

    /// True once [`KvServer::kill`] was called.
    pub fn killed(&self) -> bool {
        self.inner.dead.load(Ordering::SeqCst)
    }

    /// This server's Raft peer: the tester registers its service beside
    /// this server's and asks it `get_state`.
    pub fn raft(&self) -> &Raft {
        &self.inner.rf
    }

    /// The labrpc service `"KVServer"` that answers the Clerks: the tester
    /// registers it on the network.
    pub fn service(&self) -> Service {
        let (kv1, kv2) = (self.clone(), self.clone());
        Service::new("KVServer")
            .method("Get", move |a: GetArgs| kv1.get(a))
            .method("PutAppend", move |a: PutAppendArgs| kv2.put_append(a))
    }

    /// `servers` holds the ends of the set of servers that will cooperate
    /// via Raft to form the fault-tolerant key/value service; `me` is the
    /// index of the current server in `servers`. The k/v server should
    /// store snapshots through the underlying Raft implementation, which
    /// should save them with `persister.save()` atomically with Raft's
    /// state. The k/v server should snapshot when Raft's saved state
    /// exceeds `maxraftstate` bytes, in order to allow Raft to discard its
    /// log; `None` means you don't need to snapshot (the course's -1).
    /// `start()` must return quickly, so it should start threads for any
    /// long-running work.
    ///
    /// # Errors
    /// If Raft or the persisted snapshot cannot be restored: say why.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> Result<KvServer, StartError> {
        // An unbuffered channel (a rendezvous), as Go's: Raft's send waits
        // until this server takes the message.
        let (tx, rx) = channel::bounded(0);
        let rf = match Raft::make(servers, me, persister.clone(), tx) {
            Ok(rf) => rf,
            Err(why) => return Err(StartError::Raft(why.to_string())),
        };
        dlog!(Topic::Serv, me, 0, "started, maxraftstate {maxraftstate:?}");
        let kv = KvServer {
            inner: Arc::new(Inner {
                mu: Mutex::new(State::default()),
                me,
                rf,
                apply_ch: rx,
                persister,
                dead: AtomicBool::new(false),
                maxraftstate,
            }),
        };

        // You may need initialization code here.

        Ok(kv)
    }
}
