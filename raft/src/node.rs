//! The thin layer around the rules: one lock over [`RaftState`], a ticker
//! thread, an applier thread, persistence and RPC sending. No protocol
//! decisions are made here.
//!
//! Discipline: every rule runs under the lock; whatever it changed is
//! persisted before the lock is released (so before any reply or message
//! leaves); messages are sent after the lock is released; replies come back
//! through the same path, where the rules re-check term and role.

use crate::compaction::SnapshotSent;
use crate::messages::{AppendEntriesReply, InstallSnapshotReply, Outgoing, RequestVoteReply};
use crate::replication::AppendSent;
use crate::state::RaftState;
use crate::sync::{thread, AtomicBool, Condvar, Mutex, MutexGuard, Ordering};
use crate::{persist, ApplyMsg};
use crossbeam::channel::{Receiver, Sender};
use lablog::{dlog, dtrace, Topic};
use labrpc::{ClientEnd, RpcError};
use persister::Persister;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Node {
    pub(crate) me: usize,
    peers: Vec<ClientEnd>,
    persister: Arc<Persister>,
    state: Mutex<RaftState>,
    /// The ticker waits here for its next deadline; woken when that
    /// deadline moves earlier, and by `kill`.
    ticker_cv: Condvar,
    /// The applier waits here for commits and snapshots; woken by `kill`.
    apply_cv: Condvar,
    killed: AtomicBool,
    /// Dropped by `kill`, which makes `kill_rx` ready: an applier blocked
    /// in a rendezvous send to a service that no longer reads gives up.
    kill_tx: std::sync::Mutex<Option<Sender<()>>>,
    kill_rx: Receiver<()>,
    threads: std::sync::Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Node {
    pub(crate) fn new(peers: Vec<ClientEnd>, me: usize, persister: Arc<Persister>, st: RaftState) -> Node {
        let (kill_tx, kill_rx) = crossbeam::channel::bounded(0);
        Node {
            kill_tx: std::sync::Mutex::new(Some(kill_tx)),
            kill_rx,
            me,
            peers,
            persister,
            state: Mutex::new(st),
            ticker_cv: Condvar::new(),
            apply_cv: Condvar::new(),
            killed: AtomicBool::new(false),
            threads: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, RaftState> {
        self.state.lock().unwrap_or_else(|_| panic!("raft S{}: state lock poisoned by an earlier panic", self.me))
    }

    pub(crate) fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Runs a rule under the lock, persists what it changed, wakes the
    /// applier and the ticker if needed, then sends what it produced.
    pub(crate) fn with_state<T>(
        self: &Arc<Self>,
        rule: impl FnOnce(&mut RaftState, Instant, &mut Vec<Outgoing>) -> T,
    ) -> T {
        let mut out = Vec::new();
        let result = {
            let mut st = self.lock();
            let now = Instant::now();
            let wake_before = st.next_wakeup(now);
            let result = rule(&mut st, now, &mut out);
            self.persist(&mut st);
            if st.has_apply_work() {
                self.apply_cv.notify_one();
            }
            if st.next_wakeup(now) < wake_before {
                self.ticker_cv.notify_one();
            }
            result
        };
        self.send(out);
        result
    }

    /// Handles an RPC from peer `from` with `rule`, tracing the request and
    /// the reply under `topic`.
    pub(crate) fn handle<A: std::fmt::Display, R: std::fmt::Display>(
        self: &Arc<Self>,
        topic: Topic,
        from: usize,
        args: &A,
        rule: impl FnOnce(&mut RaftState, Instant) -> R,
    ) -> R {
        self.with_state(|st, now, _| {
            dtrace!(topic, self.me, st.current_term(), "<- S{from} {args}");
            let reply = rule(st, now);
            dtrace!(topic, self.me, st.current_term(), "-> S{from} {reply}");
            reply
        })
    }

    /// Saves what the last rule changed: the state alone (only the bytes
    /// that changed, see [`persist::stage`]), or the state and the
    /// snapshot together. Called with the state locked.
    fn persist(&self, st: &mut RaftState) {
        let dirty = st.take_dirty();
        if !dirty.state && !dirty.snapshot {
            return;
        }
        match persist::stage(st, dirty.snapshot) {
            persist::Save::Full(bytes) if dirty.snapshot => {
                let (n, snap) = (bytes.len(), st.snapshot().len());
                dlog!(Topic::Pers, self.me, st.current_term(), "saved state ({n} B) and snapshot ({snap} B)");
                self.persister.save_shared(bytes, Arc::clone(st.snapshot()));
            }
            persist::Save::Full(bytes) => self.persister.save_raft_state(bytes),
            persist::Save::Splice { keep, tail } => self.persister.splice_raft_state(keep, &tail),
        }
        if !dirty.snapshot {
            let (log, n) = (st.log(), self.persister.raft_state_size());
            let (first, last) = (log.snapshot_index(), log.last_index());
            dlog!(Topic::Pers, self.me, st.current_term(), "saved state ({n} B, log {first}..={last})");
        }
        #[cfg(debug_assertions)]
        self.check_saved(st);
    }

    /// Debug builds: now and then, the saved bytes are exactly the full
    /// encoding of the state (the incremental saves lost nothing).
    #[cfg(debug_assertions)]
    fn check_saved(&self, st: &RaftState) {
        use std::sync::atomic::AtomicU32;
        static SAVES: AtomicU32 = AtomicU32::new(0);
        if SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(16) {
            assert!(
                self.persister.read_raft_state() == persist::encode(st),
                "raft S{}: the saved state differs from the state's encoding",
                self.me
            );
        }
    }

    /// Sends each message without blocking; its reply (or failure) comes
    /// back through `with_state` to the rule that handles it.
    fn send(self: &Arc<Self>, out: Vec<Outgoing>) {
        for msg in out {
            let node = Arc::clone(self);
            match msg {
                Outgoing::RequestVote { to, args } => {
                    let term = args.term;
                    dtrace!(Topic::Vote, self.me, term, "-> S{to} {args}");
                    self.peers[to].call_with(
                        "Raft.RequestVote",
                        &args,
                        move |r: Result<RequestVoteReply, RpcError>| {
                            if let Some(reply) = node.reply(to, term, Topic::Vote, r) {
                                node.with_state(|st, now, out| st.handle_vote_reply(to, term, &reply, now, out));
                            }
                        },
                    );
                }
                Outgoing::AppendEntries { to, args, sent_at } => {
                    let sent = AppendSent::of(&args, sent_at);
                    dtrace!(Topic::Log, self.me, args.term, "-> S{to} {args}");
                    self.peers[to].call_with(
                        "Raft.AppendEntries",
                        &args,
                        move |r: Result<AppendEntriesReply, RpcError>| match node.reply(to, sent.term, Topic::Log, r) {
                            Some(reply) => {
                                node.with_state(|st, now, out| st.handle_append_reply(to, &sent, &reply, now, out))
                            }
                            None if !node.killed() => node.with_state(|st, now, out| {
                                st.handle_send_failure(to, sent.term, sent.sent_at, sent.held_slot(), now, out)
                            }),
                            None => {}
                        },
                    );
                }
                Outgoing::InstallSnapshot { to, args, sent_at } => {
                    let sent = SnapshotSent { term: args.term, last_included_index: args.last_included_index, sent_at };
                    dtrace!(Topic::Snap, self.me, args.term, "-> S{to} {args}");
                    self.peers[to].call_with(
                        "Raft.InstallSnapshot",
                        &args,
                        move |r: Result<InstallSnapshotReply, RpcError>| match node.reply(to, sent.term, Topic::Snap, r)
                        {
                            Some(reply) => {
                                node.with_state(|st, now, out| st.handle_snapshot_reply(to, &sent, &reply, now, out))
                            }
                            None if !node.killed() => node.with_state(|st, now, out| {
                                st.handle_send_failure(to, sent.term, sent.sent_at, true, now, out)
                            }),
                            None => {}
                        },
                    );
                }
            }
        }
    }

    /// A reply worth handling: `None` for a lost message or a killed peer.
    /// A malformed call is a bug in this crate and panics. `term` is the
    /// term the message was sent in (for the trace).
    fn reply<R: std::fmt::Display>(&self, from: usize, term: u64, topic: Topic, r: Result<R, RpcError>) -> Option<R> {
        match &r {
            Ok(reply) => dtrace!(topic, self.me, term, "<- S{from} {reply}"),
            Err(e) => dtrace!(topic, self.me, term, "<- S{from} {e}"),
        }
        match r {
            Ok(reply) if !self.killed() => Some(reply),
            Ok(_) | Err(RpcError::Failed) => None,
            Err(RpcError::Bad(msg)) => panic!("raft S{}: malformed RPC: {msg}", self.me),
        }
    }

    /// The ticker: runs the timer rules at each deadline (a sleep loop that
    /// `kill` can cut short).
    pub(crate) fn run_ticker(self: &Arc<Self>) {
        let mut st = self.lock();
        while !self.killed() {
            let mut out = Vec::new();
            st.tick(Instant::now(), &mut out);
            self.persist(&mut st);
            if !out.is_empty() {
                drop(st);
                self.send(out);
                st = self.lock();
                continue;
            }
            let now = Instant::now();
            let wait = st.next_wakeup(now).saturating_duration_since(now);
            if !wait.is_zero() {
                st = self.ticker_cv.wait_timeout(st, wait).expect("raft ticker wait").0;
            }
        }
    }

    /// The applier: delivers what `next_apply` hands it, in order, never
    /// holding the lock while delivering. `deliver` returns false when the
    /// service is gone (or the peer was killed while it waited).
    pub(crate) fn run_applier(self: &Arc<Self>, mut deliver: impl FnMut(ApplyMsg) -> bool) {
        let mut st = self.lock();
        loop {
            while !self.killed() && !st.has_apply_work() {
                st = self.apply_cv.wait(st).expect("raft applier wait");
            }
            if self.killed() {
                return;
            }
            let msgs = st.next_apply();
            let term = st.current_term();
            drop(st);
            for m in msgs {
                match &m {
                    ApplyMsg::Command { index, .. } => dlog!(Topic::Aply, self.me, term, "apply {index}"),
                    ApplyMsg::Snapshot { index, .. } => {
                        dlog!(Topic::Aply, self.me, term, "apply snapshot through {index}")
                    }
                }
                if !deliver(m) {
                    return;
                }
            }
            st = self.lock();
        }
    }

    /// Sends `m` on the service's apply channel, a rendezvous: blocks until
    /// the service takes it, or until the peer is killed. False if the
    /// message was not delivered.
    pub(crate) fn deliver(&self, apply_ch: &Sender<ApplyMsg>, m: ApplyMsg) -> bool {
        crossbeam::channel::select! {
            send(apply_ch, m) -> r => r.is_ok(),
            recv(self.kill_rx) -> _ => false,
        }
    }

    pub(crate) fn spawn(self: &Arc<Self>, name: &str, f: impl FnOnce(Arc<Node>) + Send + 'static) {
        let node = Arc::clone(self);
        let h = thread::Builder::new()
            .name(format!("raft-{}-{name}", self.me))
            .spawn(move || f(node))
            .unwrap_or_else(|e| panic!("raft: cannot spawn the {name} thread: {e}"));
        self.threads.lock().expect("raft thread list").push(h);
    }

    /// Stops the background threads and waits for them. Idempotent.
    pub(crate) fn kill(&self) {
        if self.killed.swap(true, Ordering::SeqCst) {
            return;
        }
        drop(self.kill_tx.lock().expect("raft kill signal").take());
        {
            // Under the lock, so no thread is between its check and its wait.
            let _st = self.lock();
            self.ticker_cv.notify_all();
            self.apply_cv.notify_all();
        }
        let handles = std::mem::take(&mut *self.threads.lock().expect("raft thread list"));
        let current = thread::current().id();
        for h in handles {
            if h.thread().id() != current {
                let _ = h.join();
            }
        }
    }
}
