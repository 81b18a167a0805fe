//! `config.go`: the network, the peers, and the checks the tests call.

use crate::appliers::{self, Applied, Stop};
use crate::floor;
use crate::safety::{ApplyLog, LeaderLog, LEADER_SAMPLE};
use crate::{fatal, watchdog, Cmd, CURRENT};
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use lablog::tlog;
use labrpc::{Network, Release, Server};
use persister::Persister;
use raft::Raft;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

// The traits the tester needs of a Raft (the contract at the top of the
// raft crate): a handle that threads and the network can share.
const _: () = {
    fn contract<T: Clone + Send + Sync + 'static>() {}
    let _ = contract::<Raft>;
};

/// Peers and what their appliers recorded, under one lock (`cfg.mu`).
pub(crate) struct Peers {
    pub(crate) rafts: Vec<Option<Raft>>,
    pub(crate) connected: Vec<bool>,
    pub(crate) saved: Vec<Option<Arc<Persister>>>,
    pub(crate) endnames: Vec<Option<Vec<String>>>,
    pub(crate) applied: Applied,
    appliers: Vec<Option<(Stop, JoinHandle<()>)>>,
    /// The safety suite's apply monitor (`Config::safety`); `None` in the
    /// course's tests.
    pub(crate) monitor: Option<ApplyLog>,
}

/// The safety suite's controls of single links between peers.
#[derive(Default)]
struct Links {
    /// Cut links (smaller peer first): `connect` does not enable them.
    cuts: HashSet<(usize, usize)>,
    /// Held links (from, to), with the methods held (all if empty); kept
    /// for the ends a restart of `from` makes.
    holds: HashMap<(usize, usize), Vec<String>>,
}

struct Mark {
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
    max_index0: u64,
}

/// The harness behind a [`Config`]: the network, the peers, and the checks
/// of `config.go`. Shared with the appliers' threads.
pub struct Harness {
    n: usize,
    pub(crate) net: Network,
    snapshot: bool,
    rng: Mutex<StdRng>,
    start: Instant,
    finished: AtomicBool,
    pub(crate) mu: Mutex<Peers>,
    mark: Mutex<Mark>,
    links: Mutex<Links>,
    /// The leader monitor's stop signal and its exit notice (`Config::safety`).
    leader_monitor: Mutex<Option<(Sender<()>, Receiver<()>)>>,
    /// Per peer: the Raft method its applier is calling (`snapshot()`) and
    /// since when, for the agreement failures' diagnosis.
    pub(crate) applier_calls: Mutex<Vec<Option<(&'static str, Instant)>>>,
}

/// The test harness for one test (`make_config`). Dropping it cleans up,
/// like the Go tests' `defer cfg.cleanup()`.
pub struct Config {
    pub(crate) inner: Arc<Harness>,
}

impl Deref for Config {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.inner
    }
}

/// Fails the test with `msg`, located at the caller's caller (the checks
/// are `#[track_caller]`, so a failure points at the test's line).
#[track_caller]
fn fatal(msg: String) -> ! {
    tlog!("FAIL {msg}");
    panic!("{msg}")
}

/// Records a harness event as the step in progress (see [`fatal::step`]).
fn step(what: String) {
    fatal::step(what);
}

impl Config {
    /// `make_config(n, unreliable, snapshot)`: a network (long delays on),
    /// `n` peers started with the plain applier, or the snapshotting one
    /// when `snapshot`, all connected.
    ///
    /// Outside [`crate::run`], the calling thread counts as the test's own:
    /// its panics are ordinary failures, while a panic on any other thread
    /// still ends the process with a report.
    pub fn new(n: usize, unreliable: bool, snapshot: bool) -> Config {
        Config::make(n, unreliable, snapshot, false)
    }

    /// [`Config::new`] for the safety suite, with its monitors always on
    /// (see the `safety` module): at most one leader per term over the whole
    /// test, sampled every 5 ms; each peer's applied sequence never going
    /// back or repeating; no peer applying a command that differs from what
    /// another applied at that index. A violation ends the test at once,
    /// naming the rule.
    pub fn safety(n: usize, unreliable: bool, snapshot: bool) -> Config {
        Config::make(n, unreliable, snapshot, true)
    }

    fn make(n: usize, unreliable: bool, snapshot: bool, monitors: bool) -> Config {
        lablog::init_or_panic();
        fatal::install();
        if !fatal::is_test_thread() {
            fatal::mark_test_thread();
            fatal::begin_test(thread::current().name().map(str::to_string));
        }
        let net = Network::new();
        let seed = net.seed();
        fatal::set_seed(seed);
        // A bad RPC (unknown service or method, undecodable arguments or
        // reply, a panicking handler or callback) fails the test at once.
        net.on_error(|msg| fatal::die(&format!("bad RPC: {msg}"), false));
        let inner = Arc::new(Harness {
            n,
            net,
            snapshot,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x7e57_7e57)),
            start: Instant::now(),
            finished: AtomicBool::new(false),
            mu: Mutex::new(Peers {
                rafts: vec![None; n],
                connected: vec![false; n],
                saved: vec![None; n],
                endnames: vec![None; n],
                applied: Applied::new(n),
                appliers: (0..n).map(|_| None).collect(),
                monitor: monitors.then(|| ApplyLog::new(n)),
            }),
            mark: Mutex::new(Mark { t0: Instant::now(), rpcs0: 0, bytes0: 0, max_index0: 0 }),
            links: Mutex::new(Links::default()),
            leader_monitor: Mutex::new(None),
            applier_calls: Mutex::new(vec![None; n]),
        });
        *CURRENT.lock().unwrap() = Some(Arc::downgrade(&inner));
        let cfg = Config { inner };
        cfg.set_unreliable(unreliable);
        cfg.net.long_delays(true);
        for i in 0..n {
            cfg.start1(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        if monitors {
            cfg.start_leader_monitor();
        }
        cfg
    }

    /// Samples every running peer's `get_state()` every [`LEADER_SAMPLE`]
    /// until cleanup; two peers leading one term end the test.
    fn start_leader_monitor(&self) {
        let (stop_tx, stop_rx) = crossbeam::channel::bounded::<()>(0);
        let (done_tx, done_rx) = crossbeam::channel::bounded::<()>(0);
        let h = Arc::clone(&self.inner);
        thread::Builder::new()
            .name("tester-leaders".into())
            .spawn(move || {
                let _done = done_tx;
                let mut log = LeaderLog::default();
                while let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(LEADER_SAMPLE) {
                    let peers: Vec<(usize, Raft)> = {
                        let p = h.lock();
                        p.rafts.iter().enumerate().filter_map(|(i, r)| r.clone().map(|r| (i, r))).collect()
                    };
                    for (i, rf) in peers {
                        let (term, leader) = rf.get_state();
                        if leader {
                            if let Err(e) = log.observe(i, term, h.start.elapsed()) {
                                if !h.finished.load(Ordering::SeqCst) {
                                    tlog!("FAIL {e}");
                                    fatal::die(&e, false);
                                }
                            }
                        }
                    }
                }
            })
            .expect("cannot spawn the leader monitor");
        *self.leader_monitor.lock().unwrap() = Some((stop_tx, done_rx));
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("tester: network seed was {0}; set LABRPC_SEED={0} to replay", self.seed());
        }
        watchdog::teardown_started("the test's body ended");
        self.cleanup();
        let mut cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        if cur.as_ref().is_some_and(|w| w.ptr_eq(&Arc::downgrade(&self.inner))) {
            *cur = None;
        }
        drop(cur);
        if !thread::panicking() {
            self.check_timeout();
        }
    }
}

impl Harness {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Peers> {
        self.mu.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of peers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The network's seed (replay with `LABRPC_SEED`).
    pub fn seed(&self) -> u64 {
        self.net.seed()
    }

    /// A random number from the tester's seeded stream (`rand.Int()`).
    pub fn rand_u64(&self) -> u64 {
        self.rng.lock().unwrap().gen::<u64>() >> 2
    }

    /// A random number in `0..n`.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.rng.lock().unwrap().gen_range(0..n)
    }

    /// A random string of `n` characters (`randstring`).
    pub fn rand_string(&self, n: usize) -> String {
        crate::rand_string(&mut *self.rng.lock().unwrap(), n)
    }

    /// Peer `i`'s Raft, if it is running.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.lock().rafts[i].clone()
    }

    /// Peer `i`'s Raft, which must be running.
    #[track_caller]
    pub fn rf(&self, i: usize) -> Raft {
        match self.raft(i) {
            Some(rf) => rf,
            None => fatal(format!("peer {i} is not running")),
        }
    }

    /// Is peer `i` connected?
    pub fn connected(&self, i: usize) -> bool {
        self.lock().connected[i]
    }

    /// `crash1(i)`: disconnect, delete from the network, give its successor
    /// a copy of the persister (so the killed instance cannot change what the
    /// next one reads), kill it.
    pub fn crash1(&self, i: usize) {
        tlog!("crash S{i}");
        step(format!("crash S{i}"));
        self.disconnect(i);
        self.net.delete_server(&i.to_string());
        let (rf, applier) = {
            let mut p = self.lock();
            if let Some(s) = &p.saved[i] {
                p.saved[i] = Some(Arc::new(s.copy()));
            }
            (p.rafts[i].take(), p.appliers[i].take())
        };
        if let Some(rf) = rf {
            step(format!("crash S{i}: waiting for its kill() to return"));
            rf.kill();
        }
        // The killed peer's applier stops with it; wait so that it records
        // nothing about the next instance.
        if let Some((stop, h)) = applier {
            drop(stop);
            step(format!("crash S{i}: waiting for the tester's applier to stop"));
            let _ = h.join();
        }
        step(format!("crash S{i}: done"));
    }

    /// `start1(i)`: (re)start peer i with fresh ends and a copy of its last
    /// persisted state, ingesting its snapshot as a service would.
    #[track_caller]
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        tlog!("start S{i}");
        step(format!("start S{i}"));
        let names: Vec<String> = (0..self.n).map(|_| self.rand_string(20)).collect();
        for ((from, to), methods) in &self.links.lock().unwrap().holds {
            if *from == i {
                self.net.hold(&names[*to], &methods.iter().map(String::as_str).collect::<Vec<_>>());
            }
        }
        let ends = crate::ends_to_servers(&self.net, &names);
        let persister = {
            let mut p = self.lock();
            p.endnames[i] = Some(names);
            p.applied.last_applied[i] = 0;
            let persister = Arc::new(p.saved[i].as_ref().map_or_else(Persister::new, |s| s.copy()));
            let snapshot = persister.read_snapshot();
            if !snapshot.is_empty() {
                if let Err(e) = p.applied.ingest_snap(i, &snapshot, None) {
                    drop(p);
                    fatal(e);
                }
            }
            let from = p.applied.last_applied[i];
            if let Some(m) = p.monitor.as_mut() {
                m.restart(i, from);
            }
            p.saved[i] = Some(Arc::clone(&persister));
            persister
        };
        // Unbuffered, as the Go kit's `chan ApplyMsg`: a Raft that sends
        // while holding its lock deadlocks against `snapshot()` here.
        let (tx, rx) = crossbeam::channel::bounded(0);
        step(format!("start S{i}: Raft::make"));
        let rf = match Raft::make(ends, i, persister, tx) {
            Ok(rf) => rf,
            Err(e) => fatal(format!("Raft::make of S{i} failed: {e}")),
        };
        let inner = self.self_arc();
        let (snapshot, rf2) = (self.snapshot, rf.clone());
        let (stop, stop_rx) = appliers::stop_signal();
        let applier = thread::Builder::new()
            .name(format!("tester-apply-{i}")) // at most 15 bytes: the kernel's thread name
            .spawn(move || appliers::run(&inner, i, &rf2, rx, stop_rx, snapshot))
            .expect("cannot spawn an applier");
        {
            let mut p = self.lock();
            p.rafts[i] = Some(rf.clone());
            p.appliers[i] = Some((stop, applier));
        }
        let mut server = Server::new();
        server.add_service(rf.service());
        self.net.add_server(&i.to_string(), server);
    }

    fn self_arc(&self) -> Arc<Harness> {
        CURRENT
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|w| w.upgrade())
            .filter(|a| std::ptr::eq(Arc::as_ptr(a), self))
            .expect("tester: one Config at a time")
    }

    /// Stops everything: appliers' waits, all peers, the network.
    pub fn cleanup(&self) {
        self.finished.store(true, Ordering::SeqCst);
        let monitor = self.leader_monitor.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((stop, done)) = monitor {
            drop(stop);
            // It may be inside a peer's get_state(): never wait on a peer
            // for long (the watchdog reports a stuck teardown).
            step("teardown: stopping the leader monitor".into());
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
        let (rafts, appliers): (Vec<_>, Vec<_>) = {
            let mut p = self.lock();
            (p.rafts.iter_mut().map(|r| r.take()).collect(), p.appliers.iter_mut().map(|a| a.take()).collect())
        };
        for (i, rf) in rafts.into_iter().enumerate() {
            if let Some(rf) = rf {
                step(format!("teardown: waiting for S{i}'s kill() to return"));
                rf.kill();
            }
        }
        step("teardown: cleaning up the network".into());
        self.net.cleanup();
        for (i, a) in appliers.into_iter().enumerate() {
            if let Some((stop, h)) = a {
                drop(stop);
                step(format!("teardown: waiting for the tester's applier of S{i} to stop"));
                let _ = h.join();
            }
        }
        step("teardown: done".into());
    }

    #[track_caller]
    fn check_timeout(&self) {
        let limit = watchdog::time_limit();
        if self.start.elapsed() > limit {
            fatal(format!("test took longer than {} seconds", limit.as_secs()));
        }
    }

    fn set_enabled(&self, i: usize, enabled: bool) {
        let cuts = self.links.lock().unwrap().cuts.clone();
        let p = self.lock();
        for j in 0..self.n {
            // Outgoing ends; incoming ends.
            let pairs = [(i, j), (j, i)];
            for (from, to) in pairs {
                if enabled && (!p.connected[j] || cuts.contains(&(i.min(j), i.max(j)))) {
                    continue;
                }
                if let Some(names) = &p.endnames[from] {
                    self.net.enable(&names[to], enabled);
                }
            }
        }
    }

    /// Attaches peer i to the network (ends to and from connected peers).
    pub fn connect(&self, i: usize) {
        tlog!("connect S{i}");
        step(format!("connect S{i}"));
        self.lock().connected[i] = true;
        self.set_enabled(i, true);
    }

    /// Detaches peer i (every end to and from it).
    pub fn disconnect(&self, i: usize) {
        tlog!("disconnect S{i}");
        step(format!("disconnect S{i}"));
        self.lock().connected[i] = false;
        self.set_enabled(i, false);
    }

    /// Cuts the link between peers `i` and `j`, both ways (a partial
    /// partition): [`Harness::connect`] leaves it cut until
    /// [`Harness::heal`]. For the safety suite.
    pub fn cut(&self, i: usize, j: usize) {
        tlog!("cut S{i} <-> S{j}");
        step(format!("cut S{i} <-> S{j}"));
        self.links.lock().unwrap().cuts.insert((i.min(j), i.max(j)));
        let p = self.lock();
        for (from, to) in [(i, j), (j, i)] {
            if let Some(names) = &p.endnames[from] {
                self.net.enable(&names[to], false);
            }
        }
    }

    /// Restores a link cut by [`Harness::cut`] (if both peers are connected).
    pub fn heal(&self, i: usize, j: usize) {
        tlog!("heal S{i} <-> S{j}");
        step(format!("heal S{i} <-> S{j}"));
        self.links.lock().unwrap().cuts.remove(&(i.min(j), i.max(j)));
        let p = self.lock();
        if p.connected[i] && p.connected[j] {
            for (from, to) in [(i, j), (j, i)] {
                if let Some(names) = &p.endnames[from] {
                    self.net.enable(&names[to], true);
                }
            }
        }
    }

    /// Holds back the requests peer `from` sends to peer `to` whose method
    /// is one of `methods` (e.g. `"Raft.InstallSnapshot"`; all if empty):
    /// they wait in the network until [`Harness::release`], also those sent
    /// after `from` restarts. For the safety suite.
    pub fn hold(&self, from: usize, to: usize, methods: &[&str]) {
        tlog!("hold S{from} -> S{to} {methods:?}");
        step(format!("hold S{from} -> S{to} {methods:?}"));
        self.links.lock().unwrap().holds.insert((from, to), methods.iter().map(|m| m.to_string()).collect());
        if let Some(names) = &self.lock().endnames[from] {
            self.net.hold(&names[to], methods);
        }
    }

    /// The methods of the requests held from `from` to `to`, oldest first.
    pub fn held(&self, from: usize, to: usize) -> Vec<String> {
        self.lock().endnames[from].as_ref().map_or_else(Vec::new, |names| self.net.held(&names[to]))
    }

    /// Stops holding from `from` to `to` and delivers what was held, one
    /// message after another, in `order`. Returns how many.
    pub fn release(&self, from: usize, to: usize, order: Release) -> usize {
        self.links.lock().unwrap().holds.remove(&(from, to));
        let name = self.lock().endnames[from].as_ref().map(|names| names[to].clone());
        let n = name.map_or(0, |name| self.net.release(&name, order));
        tlog!("release S{from} -> S{to}: {n} messages, {order:?}");
        step(format!("release S{from} -> S{to}: {n} messages, {order:?}"));
        n
    }

    /// Delivers one message held from `from` to `to`, the oldest or the
    /// newest, and keeps holding. False if none was held.
    pub fn release_one(&self, from: usize, to: usize, which: Release) -> bool {
        let name = self.lock().endnames[from].as_ref().map(|names| names[to].clone());
        let done = name.is_some_and(|name| self.net.release_one(&name, which));
        tlog!("release one S{from} -> S{to} ({which:?}): {done}");
        step(format!("release one S{from} -> S{to} ({which:?})"));
        done
    }

    /// RPCs received by peer `server`.
    pub fn rpc_count(&self, server: usize) -> u64 {
        self.net.count(&server.to_string())
    }
    /// Every RPC sent.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_count()
    }
    /// Every byte sent.
    pub fn bytes_total(&self) -> u64 {
        self.net.total_bytes()
    }
    pub fn set_unreliable(&self, unreliable: bool) {
        self.net.reliable(!unreliable);
    }
    pub fn set_long_reordering(&self, yes: bool) {
        self.net.long_reordering(yes);
    }

    /// The largest persisted Raft state among the peers.
    pub fn log_size(&self) -> usize {
        let p = self.lock();
        p.saved.iter().flatten().map(|s| s.raft_state_size()).max().unwrap_or(0)
    }

    /// The connected, running peers' states.
    fn states(&self, caller: &str) -> Vec<(usize, u64, bool)> {
        let peers: Vec<(usize, Raft)> = {
            let p = self.lock();
            (0..self.n).filter(|&i| p.connected[i]).filter_map(|i| p.rafts[i].clone().map(|r| (i, r))).collect()
        };
        peers
            .into_iter()
            .map(|(i, r)| {
                step(format!("{caller}: calling S{i}'s get_state()"));
                let (t, l) = r.get_state();
                (i, t, l)
            })
            .collect()
    }

    /// One connected peer claims leadership and no other in its term does;
    /// retries for re-elections. Returns the leader of the highest term.
    #[track_caller]
    pub fn check_one_leader(&self) -> usize {
        for attempt in 0..10 {
            let ms = 450 + self.rand_below(100);
            step("check_one_leader: sleeping before it looks".into());
            // The first look's wait is the test's; the next ones wait for an
            // election that has not happened yet.
            if attempt == 0 {
                floor::sleep(Duration::from_millis(ms));
            } else {
                thread::sleep(Duration::from_millis(ms));
            }
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for (i, term, leader) in self.states("check_one_leader") {
                if leader {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ls) in &leaders {
                if ls.len() > 1 {
                    fatal(format!("term {term} has {} (>1) leaders", ls.len()));
                }
            }
            if let Some((term, ls)) = leaders.last_key_value() {
                step(format!("check_one_leader: returned S{} (term {term})", ls[0]));
                return ls[0];
            }
        }
        fatal("expected one leader, got none".into())
    }

    /// All connected peers agree on the term; returns it.
    #[track_caller]
    pub fn check_terms(&self) -> u64 {
        let mut term = None;
        for (_, t, _) in self.states("check_terms") {
            match term {
                None => term = Some(t),
                Some(x) if x != t => fatal("servers disagree on term".into()),
                _ => {}
            }
        }
        step("check_terms: returned".into());
        term.unwrap_or(0)
    }

    /// No connected peer claims leadership.
    #[track_caller]
    pub fn check_no_leader(&self) {
        for (i, _, leader) in self.states("check_no_leader") {
            if leader {
                fatal(format!("expected no leader among connected servers, but {i} claims to be leader"));
            }
        }
        step("check_no_leader: returned".into());
    }

    /// How many peers have applied `index`, and what. Fails if two peers
    /// applied different commands. (An applier's own errors end the test
    /// when they happen.)
    #[track_caller]
    pub fn n_committed(&self, index: u64) -> (usize, Option<Cmd>) {
        let p = self.lock();
        let mut count = 0;
        let mut cmd: Option<&Cmd> = None;
        for i in 0..self.n {
            if let Some(c) = p.applied.logs[i].get(&index) {
                if let Some(prev) = cmd {
                    if prev != c {
                        let (a, b) = (prev.clone(), c.clone());
                        drop(p);
                        fatal(format!("committed values do not match: index {index}, {a}, {b}"));
                    }
                }
                count += 1;
                cmd = Some(c);
            }
        }
        (count, cmd.cloned())
    }

    /// Waits for at least `n` peers to commit `index`, polling with backoff.
    /// Returns `None` if `start_term` is given and some peer moved past it.
    #[track_caller]
    pub fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Cmd> {
        step(format!("wait: for index {index} on {n} peers"));
        let mut to = Duration::from_millis(10);
        for poll in 0..30 {
            let (nd, _) = self.n_committed(index);
            if nd >= n {
                break;
            }
            if poll == 0 {
                floor::sleep(to);
            } else {
                thread::sleep(to);
            }
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(st) = start_term {
                let rafts: Vec<Raft> = self.lock().rafts.iter().flatten().cloned().collect();
                step(format!("wait: for index {index} on {n} peers: calling the peers' get_state()"));
                if rafts.iter().any(|r| r.get_state().0 > st) {
                    return None;
                }
                step(format!("wait: for index {index} on {n} peers"));
            }
        }
        let (nd, cmd) = self.n_committed(index);
        if nd < n {
            self.agreement_failure(format!("only {nd} decided for index {index}; wanted {n}"), Some(index));
        }
        step(format!("wait: index {index} committed on {nd} peers"));
        cmd
    }

    /// Fails an agreement check (`one`, `wait`) with `msg`, and what the
    /// tester knows of why: which peers applied `index`, and any applier
    /// stuck in a call into its peer (then with every thread's stack, as a
    /// hang report has: a peer that holds its lock while it sends on the
    /// apply channel deadlocks against `snapshot()` and stops answering).
    #[track_caller]
    fn agreement_failure(&self, msg: String, index: Option<u64>) -> ! {
        let mut msg = msg;
        if let Some(index) = index {
            let p = self.lock();
            let (have, lack): (Vec<usize>, Vec<usize>) =
                (0..self.n).partition(|&i| p.applied.logs[i].contains_key(&index));
            let names = |v: &[usize]| v.iter().map(|i| format!("S{i}")).collect::<Vec<_>>().join(" ");
            msg += &format!(" (index {index} applied by [{}], not by [{}])", names(&have), names(&lack));
        }
        let stuck: Vec<String> = {
            let calls = self.applier_calls.lock().unwrap_or_else(PoisonError::into_inner);
            calls
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.filter(|(_, at)| at.elapsed() >= Duration::from_secs(1)).map(|c| (i, c)))
                .map(|(i, (call, at))| {
                    format!(
                        "the tester's applier of S{i} has been waiting {:.1} s in S{i}'s {call}: does S{i} keep \
                         its lock while it sends on the apply channel? ({call} needs that lock, and the applier \
                         cannot take the next message until it returns)",
                        at.elapsed().as_secs_f64()
                    )
                })
                .collect()
        };
        for s in &stuck {
            msg += "\n";
            msg += s;
        }
        if !stuck.is_empty() {
            fatal::write_stderr(&format!("tester: {msg}\n{}", crate::stacks::all_threads()));
        }
        fatal(msg)
    }

    /// A complete agreement on `cmd` by at least `expected_servers` peers,
    /// within about 10 s. Without `retry`, one failed 2-second wait fails the
    /// test. Returns the index.
    #[track_caller]
    pub fn one(&self, cmd: impl Into<Cmd>, expected_servers: usize, retry: bool) -> u64 {
        let cmd = cmd.into();
        let t0 = Instant::now();
        let mut starts = 0;
        // Time spent with no peer accepting the command: an election under
        // way. A perfect Raft still needs one (see floor::ELECTION).
        let mut leaderless = Duration::ZERO;
        // The index of the latest start() that took the command.
        let mut last_index = None;
        while t0.elapsed() < Duration::from_secs(10) && !self.finished.load(Ordering::SeqCst) {
            let mut index = None;
            for _ in 0..self.n {
                starts = (starts + 1) % self.n;
                let rf = {
                    let p = self.lock();
                    if p.connected[starts] {
                        p.rafts[starts].clone()
                    } else {
                        None
                    }
                };
                if let Some(rf) = rf {
                    step(format!("one({cmd}): calling S{starts}'s start()"));
                    let (i, _, ok) = rf.start(&cmd);
                    if ok {
                        index = Some(i);
                        break;
                    }
                }
            }
            match index {
                Some(index) => {
                    last_index = Some(index);
                    step(format!("one({cmd}): S{starts} took it at index {index}; waiting for {expected_servers} peers to commit it"));
                    let t1 = Instant::now();
                    let mut first_poll = true;
                    while t1.elapsed() < Duration::from_secs(2) {
                        let (nd, cmd1) = self.n_committed(index);
                        if nd > 0 && nd >= expected_servers && cmd1.as_ref() == Some(&cmd) {
                            let ms = t0.elapsed().as_millis();
                            tlog!("one: index {index} on {nd} in {ms} ms");
                            step(format!("one({cmd}): returned index {index}"));
                            floor::count(leaderless.min(floor::ELECTION));
                            return index;
                        }
                        // However fast the commit, one() first looks 20 ms
                        // after its start.
                        if std::mem::take(&mut first_poll) {
                            floor::sleep(Duration::from_millis(20));
                        } else {
                            thread::sleep(Duration::from_millis(20));
                        }
                    }
                    if !retry {
                        self.agreement_failure(format!("one({cmd}) failed to reach agreement"), Some(index));
                    }
                }
                None => {
                    thread::sleep(Duration::from_millis(50));
                    leaderless += Duration::from_millis(50);
                }
            }
        }
        if !self.finished.load(Ordering::SeqCst) {
            self.agreement_failure(format!("one({cmd}) failed to reach agreement"), last_index);
        }
        0
    }

    /// Starts a test: prints its description and marks the counters.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        tlog!("{description}");
        step(format!("begin: {description}"));
        floor::reset();
        let max_index0 = self.lock().applied.max_index;
        *self.mark.lock().unwrap() =
            Mark { t0: Instant::now(), rpcs0: self.rpc_total(), bytes0: self.bytes_total(), max_index0 };
    }

    /// Ends a test that got here without failing: prints the Passed line
    /// (seconds, peers, RPCs, bytes, commands agreed).
    #[track_caller]
    pub fn end(&self) {
        step("end".into());
        self.check_timeout();
        let m = self.mark.lock().unwrap();
        let t = m.t0.elapsed().as_secs_f64();
        let nrpc = self.rpc_total() - m.rpcs0;
        let nbytes = self.bytes_total() - m.bytes0;
        let ncmds = self.lock().applied.max_index - m.max_index0;
        println!("  ... Passed --  {t:4.1}  {} {nrpc:4} {nbytes:7} {ncmds:4}", self.n);
        floor::report();
    }
}
