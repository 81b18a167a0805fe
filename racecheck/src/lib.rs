//! A small scenario for race checkers, run on whatever crate is `raft`:
//! three peers on a labrpc network elect a leader and agree on a few
//! commands; then the leader crashes, the other two agree without it, and
//! it restarts from what it persisted and catches up. `make miri` runs it
//! under Miri and `make tsan` under ThreadSanitizer, so that data races and
//! undefined behaviour in a Raft show up; natively it is a quick smoke
//! test of the whole life cycle (`cargo test -p racecheck`).
//!
//! It uses only the tester's contract (`Raft::make`, `start`, `get_state`,
//! `kill`, `service`, `ApplyMsg`). Safety is always checked and fails the
//! run: at most one leader per term; every peer delivers, index by index,
//! the same command as every other, in order and once; no RPC goes wrong
//! (labrpc's error hook). Progress is checked natively. Under Miri the
//! clock is virtual and advances with the code executed, so that an RPC can
//! cost more than a Raft's election timeout: there, a step that makes no
//! progress within its budget is reported, not failed, and the scenario
//! goes on to the crash and the restart (the code paths are what Miri
//! checks). After `kill()`, a peer's threads have [`GRACE`] to end: Miri
//! reports one still running when the test ends.

use crossbeam::channel::{self, Receiver};
use labrpc::{ClientEnd, Network, Server};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Peers in the scenario.
pub const N: usize = 3;

/// How long each step may take, and whether a step without progress fails.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// For a leader to be elected.
    pub election: Duration,
    /// For one command to be delivered everywhere it must be.
    pub agreement: Duration,
    /// Progress is required (natively) or only reported (under Miri).
    pub strict: bool,
}

impl Budget {
    /// Native: seconds, strict. Under Miri: minutes of its virtual clock,
    /// lenient.
    pub fn for_this_build() -> Budget {
        if cfg!(miri) {
            Budget { election: Duration::from_secs(60), agreement: Duration::from_secs(60), strict: false }
        } else {
            Budget { election: Duration::from_secs(10), agreement: Duration::from_secs(10), strict: true }
        }
    }
}

struct Peer {
    raft: Option<Raft>,
    rx: Receiver<ApplyMsg>,
    persister: Arc<Persister>,
    /// Commands delivered by this incarnation, by index (from 1).
    delivered: Vec<u64>,
    /// Ends of this incarnation (to cut it off at a crash).
    ends: Vec<String>,
}

/// The cluster, and everything delivered so far.
struct Cluster {
    net: Network,
    peers: Vec<Peer>,
    /// The command committed at each index, as the first peer to deliver
    /// it said.
    committed: BTreeMap<u64, u64>,
    /// The leader seen in each term.
    leaders: BTreeMap<u64, usize>,
    errors: Arc<Mutex<Vec<String>>>,
    generation: usize,
    notes: String,
}

impl Cluster {
    fn new() -> Cluster {
        let net = Network::with_seed(6824);
        let errors = Arc::new(Mutex::new(Vec::new()));
        let e = Arc::clone(&errors);
        net.on_error(move |msg| e.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(msg.to_string()));
        let mut c = Cluster {
            net,
            peers: Vec::new(),
            committed: BTreeMap::new(),
            leaders: BTreeMap::new(),
            errors,
            generation: 0,
            notes: String::new(),
        };
        for i in 0..N {
            let peer = c.make_peer(i, Arc::new(Persister::new()));
            c.peers.push(peer);
        }
        c
    }

    /// Starts peer `i` on `persister`, with fresh ends, connected to every
    /// live peer.
    fn make_peer(&mut self, i: usize, persister: Arc<Persister>) -> Peer {
        self.generation += 1;
        let names: Vec<String> = (0..N).map(|j| format!("g{}-{i}->{j}", self.generation)).collect();
        let ends: Vec<ClientEnd> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let e = self.net.make_end(name);
                self.net.connect(name, &j.to_string());
                self.net.enable(name, true);
                e
            })
            .collect();
        let (tx, rx) = channel::bounded(0);
        let raft = match Raft::make(ends, i, Arc::clone(&persister), tx) {
            Ok(r) => r,
            Err(e) => panic!("S{i}: Raft::make failed: {e}"),
        };
        let mut server = Server::new();
        server.add_service(raft.service());
        self.net.add_server(&i.to_string(), server);
        Peer { raft: Some(raft), rx, persister, delivered: Vec::new(), ends: names }
    }

    fn check_errors(&self) {
        let errors = self.errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(errors.is_empty(), "an RPC went wrong: {errors:?}");
    }

    /// Takes what every live peer delivered, checking each message.
    fn drain(&mut self) {
        for (i, p) in self.peers.iter_mut().enumerate() {
            while let Ok(m) = p.rx.try_recv() {
                match m {
                    ApplyMsg::Command { index, command, .. } => {
                        let expected = p.delivered.len() as u64 + 1;
                        assert_eq!(
                            index, expected,
                            "S{i} delivered index {index}, expected {expected}: out of order or repeated"
                        );
                        let cmd: u64 = match labgob::decode(&command) {
                            Ok(c) => c,
                            Err(e) => {
                                panic!("S{i}: the command at index {index} does not decode as the u64 started: {e}")
                            }
                        };
                        let first = *self.committed.entry(index).or_insert(cmd);
                        assert_eq!(cmd, first, "S{i} delivered {cmd} at index {index}, another peer {first}");
                        p.delivered.push(cmd);
                    }
                    ApplyMsg::Snapshot { index, .. } => {
                        panic!("S{i} delivered a snapshot (index {index}) though nobody called snapshot()")
                    }
                }
            }
        }
        self.check_errors();
    }

    /// The leader of the highest term among the live peers, checking that
    /// no term has two.
    fn leader(&mut self) -> Option<usize> {
        let mut best: Option<(u64, usize)> = None;
        for (i, p) in self.peers.iter().enumerate() {
            let Some(rf) = &p.raft else { continue };
            let (term, is_leader) = rf.get_state();
            if is_leader {
                let seen = *self.leaders.entry(term).or_insert(i);
                assert_eq!(seen, i, "two leaders in term {term}: S{seen} and S{i}");
                if best.is_none_or(|(t, _)| term > t) {
                    best = Some((term, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// Waits for a leader; `None` after the budget.
    fn wait_leader(&mut self, budget: Duration) -> Option<usize> {
        let t0 = Instant::now();
        while t0.elapsed() < budget {
            self.drain();
            if let Some(l) = self.leader() {
                return Some(l);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Agrees on `cmd` (as the tester's `one()`): proposes it to a leader
    /// until the live peers all delivered it at one index. Returns the
    /// index, or `None` after the budget.
    fn one(&mut self, cmd: u64, budget: Duration) -> Option<u64> {
        let t0 = Instant::now();
        while t0.elapsed() < budget {
            let Some(l) = self.wait_leader(budget.saturating_sub(t0.elapsed())) else { break };
            let (index, _, ok) = self.peers[l].raft.as_ref().expect("live").start(&cmd);
            if !ok {
                continue;
            }
            let t1 = Instant::now();
            while t1.elapsed() < Duration::from_secs(2).max(budget / 5) && t0.elapsed() < budget {
                self.drain();
                let live = self.peers.iter().filter(|p| p.raft.is_some());
                if live.clone().all(|p| p.delivered.len() as u64 >= index) {
                    if self.committed.get(&index) == Some(&cmd) {
                        return Some(index);
                    }
                    break; // another command took the index: propose again
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        None
    }

    /// Crashes peer `i`: cut off, its server deleted, killed; what it
    /// persisted is kept (a copy, as the tester keeps).
    fn crash(&mut self, i: usize) {
        for name in &self.peers[i].ends {
            self.net.enable(name, false);
        }
        for p in &self.peers {
            for name in p.ends.iter().filter(|n| n.ends_with(&format!("->{i}"))) {
                self.net.enable(name, false);
            }
        }
        self.net.delete_server(&i.to_string());
        if let Some(rf) = self.peers[i].raft.take() {
            rf.kill();
        }
        self.peers[i].persister = Arc::new(self.peers[i].persister.copy());
    }

    /// Restarts peer `i` from what it persisted, reconnected to everyone.
    fn restart(&mut self, i: usize) {
        let persister = Arc::new(self.peers[i].persister.copy());
        let peer = self.make_peer(i, persister);
        self.peers[i] = peer;
        for p in &self.peers {
            for name in p.ends.iter().filter(|n| n.ends_with(&format!("->{i}"))) {
                self.net.enable(name, true);
            }
        }
    }

    /// Notes a step that made no progress: fails when strict.
    fn no_progress(&mut self, what: &str, budget: &Budget) {
        assert!(!budget.strict, "{what}");
        let _ = writeln!(self.notes, "note: {what} (not checked under Miri: its virtual clock runs slow)");
    }
}

/// Runs the scenario; panics on a safety violation (and, when strict, on a
/// step without progress). Returns what happened.
pub fn run(budget: Budget) -> String {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    let mut agreed = Vec::new();
    let leader = c.wait_leader(budget.election);
    match leader {
        None => c.no_progress(&format!("no leader within {:?}", budget.election), &budget),
        Some(_) => {
            for cmd in [101, 102, 103] {
                match c.one(cmd, budget.agreement) {
                    Some(i) => agreed.push((i, cmd)),
                    None => {
                        c.no_progress(&format!("no agreement on {cmd} within {:?}", budget.agreement), &budget);
                        break;
                    }
                }
            }
        }
    }
    // The leader (or peer 0) crashes; the other two go on without it.
    let crashed = c.leader().or(leader).unwrap_or(0);
    c.crash(crashed);
    if agreed.len() == 3 {
        match c.one(104, budget.agreement + budget.election) {
            Some(i) => agreed.push((i, 104)),
            None => c.no_progress(&format!("no agreement on 104 without S{crashed}"), &budget),
        }
    }
    // It restarts from what it persisted, and catches up.
    c.restart(crashed);
    if agreed.len() == 4 {
        match c.one(105, budget.agreement + budget.election) {
            Some(i) => agreed.push((i, 105)),
            None => c.no_progress(&format!("no agreement on 105 after S{crashed} restarted"), &budget),
        }
        let last = agreed.last().map_or(0, |a| a.0);
        let restarted = &c.peers[crashed].delivered;
        assert!(restarted.len() as u64 >= last, "S{crashed} restarted and delivered {restarted:?}, not through {last}");
    }
    c.drain();
    for (index, cmd) in &agreed {
        assert_eq!(c.committed.get(index), Some(cmd), "index {index}");
    }
    for p in &c.peers {
        if let Some(rf) = &p.raft {
            rf.kill();
        }
    }
    c.net.cleanup();
    c.check_errors();
    let mut report = c.notes.clone();
    let _ = write!(
        report,
        "racecheck: agreed {:?} (index, command); S{crashed} crashed and restarted; {:.1?} of clock time",
        agreed,
        t0.elapsed()
    );
    // The apply channels' receivers go (a send blocked on one fails), and
    // the peers' threads get a grace period to notice `kill()`: Miri
    // reports a thread still running when the test ends as a leak.
    drop(c);
    if cfg!(miri) {
        thread::sleep(GRACE);
    }
    report
}

/// How long, under Miri, a killed peer's threads have to end.
pub const GRACE: Duration = Duration::from_secs(2);
