//! Lab 4's `config.go`: the network, the key/value servers, the clerks,
//! partitions, and the counters of the `Passed` line.

use crate::kv::{ClerkEnds, TestClerk};
use crate::{fatal, floor, watchdog};
use kvraft::{Clerk, KvServer};
use lablog::tlog;
use labrpc::{Network, Server};
use persister::Persister;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Servers and their persisters, under one lock (`cfg.mu`).
struct Servers {
    kvservers: Vec<Option<KvServer>>,
    saved: Vec<Option<Arc<Persister>>>,
    /// Per server, the names of its outgoing ends (to server j).
    endnames: Vec<Vec<String>>,
}

struct Mark {
    t0: Instant,
    rpcs0: u64,
}

/// The harness behind a [`KvConfig`]: the methods of Lab 4's `config.go`.
pub struct KvHarness {
    n: usize,
    net: Network,
    maxraftstate: Option<usize>,
    rng: Mutex<StdRng>,
    start: Instant,
    servers: Mutex<Servers>,
    mark: Mutex<Mark>,
    /// Clerk operations counted by the wrappers (`cfg.ops`).
    ops: AtomicU64,
    /// Whether any counted Clerk operation has completed on these servers:
    /// until one has, an operation waits for an election (the test's floor
    /// counts one, see [`floor::ELECTION`]).
    served: AtomicBool,
    /// The first failure of a client thread: the test fails with it (a
    /// client cannot fail the test from its own thread).
    client_failure: Mutex<Option<String>>,
}

/// The Lab 4 test harness for one test (`make_config`). Dropping it cleans
/// up, like the Go tests' `defer cfg.cleanup()`.
pub struct KvConfig {
    inner: Arc<KvHarness>,
}

impl Deref for KvConfig {
    type Target = KvHarness;
    fn deref(&self) -> &KvHarness {
        &self.inner
    }
}

/// Fails the test with `msg` (a Go test's `t.Fatalf`), pointing at the
/// caller's line.
#[track_caller]
pub fn fail(msg: impl std::fmt::Display) -> ! {
    tlog!("FAIL {msg}");
    panic!("{msg}")
}

/// Logs a harness event and records it as the step in progress.
fn event(what: String) {
    tlog!("{what}");
    fatal::step(what);
}

impl KvConfig {
    /// `make_config(n, unreliable, maxraftstate)`: `n` servers, all
    /// connected; the network reliable unless `unreliable`. Long delays are
    /// never on in Lab 4. `maxraftstate`: `None` is the course's -1.
    ///
    /// Failures off the test's thread end the process with a report, as in
    /// Lab 3 (see the crate docs).
    pub fn new(n: usize, unreliable: bool, maxraftstate: Option<usize>) -> KvConfig {
        lablog::init_or_panic();
        fatal::install();
        if !fatal::is_test_thread() {
            fatal::mark_test_thread();
            fatal::begin_test(thread::current().name().map(str::to_string));
        }
        if thread::available_parallelism().map_or(1, |p| p.get()) < 2 {
            println!("warning: only one CPU, which may conceal locking bugs");
        }
        let net = Network::new();
        let seed = net.seed();
        fatal::set_seed(seed);
        net.on_error(|msg| fatal::die(&format!("bad RPC: {msg}"), false));
        let inner = Arc::new(KvHarness {
            n,
            net,
            maxraftstate,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x4b56_7e57)),
            start: Instant::now(),
            servers: Mutex::new(Servers {
                kvservers: vec![None; n],
                saved: vec![None; n],
                endnames: vec![Vec::new(); n],
            }),
            mark: Mutex::new(Mark { t0: Instant::now(), rpcs0: 0 }),
            ops: AtomicU64::new(0),
            served: AtomicBool::new(false),
            client_failure: Mutex::new(None),
        });
        let cfg = KvConfig { inner };
        for i in 0..n {
            cfg.start_server(i);
        }
        cfg.connect_all();
        cfg.net.reliable(!unreliable);
        cfg
    }
}

impl Drop for KvConfig {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("tester: network seed was {0}; set LABRPC_SEED={0} to replay", self.seed());
        }
        watchdog::teardown_started("the test's body ended");
        self.cleanup();
        if !thread::panicking() {
            self.check_timeout();
        }
    }
}

impl KvHarness {
    fn lock(&self) -> MutexGuard<'_, Servers> {
        self.servers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Every server: `0..n` (`cfg.All()`).
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// The network's seed (replay with `LABRPC_SEED`).
    pub fn seed(&self) -> u64 {
        self.net.seed()
    }

    /// A random number in `0..n` from the tester's seeded stream.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).gen_range(0..n)
    }

    fn rand_string(&self, n: usize) -> String {
        crate::rand_string(&mut *self.rng.lock().unwrap_or_else(|e| e.into_inner()), n)
    }

    /// Kills every server and shuts the network down (`cleanup`).
    pub fn cleanup(&self) {
        self.kill_servers("teardown");
        fatal::step("teardown: cleaning up the network".into());
        self.net.cleanup();
        fatal::step("teardown: done".into());
    }

    /// Kills every server (those running) and returns when each `kill()`
    /// has; `step` names the phase for a hang report.
    fn kill_servers(&self, step: &str) {
        let servers: Vec<(usize, KvServer)> =
            self.lock().kvservers.iter_mut().enumerate().filter_map(|(i, k)| Some((i, k.take()?))).collect();
        for (i, kv) in servers {
            fatal::step(format!("{step}: waiting for S{i}'s kill() to return"));
            kv.kill();
        }
    }

    /// Once a test needs its servers no more (after its last checks of
    /// them, before the linearizability check of its history): kills every
    /// server, removes them from the network and forgets their persisted
    /// state, so that the servers' memory (in part 4A, every server's whole
    /// log) is not held beside the check's. The RPC count of the Passed
    /// line stays; no server may be used after this.
    ///
    /// Waits (up to 1 s) until nothing else holds a server's persister, that
    /// is until each Raft's threads have exited and dropped their state;
    /// a Raft still holding it then is logged, not failed (the course asks
    /// no more of `Kill()` than that `killed()` turns true).
    pub fn retire_servers(&self) {
        event("retire every server".into());
        let persisters: Vec<(usize, Arc<Persister>)> = {
            let mut s = self.lock();
            for i in 0..self.n {
                self.net.delete_server(&i.to_string());
            }
            s.saved.iter_mut().enumerate().filter_map(|(i, p)| Some((i, p.take()?))).collect()
        };
        self.kill_servers("retire");
        let deadline = Instant::now() + Duration::from_secs(1);
        for (i, p) in persisters {
            while Arc::strong_count(&p) > 1 && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            if Arc::strong_count(&p) > 1 {
                tlog!("S{i}: its persister is still held 1 s after kill() (Raft threads still running?)");
            }
        }
    }

    fn check_timeout(&self) {
        let limit = watchdog::time_limit();
        if self.start.elapsed() > limit {
            fail(format_args!("test took longer than {} seconds", limit.as_secs()));
        }
    }

    /// Enables (or disables) the ends between server `i` and the servers
    /// `to`, both ways.
    fn set_links(&self, s: &Servers, i: usize, to: &[usize], enabled: bool) {
        for &j in to {
            for (from, dest) in [(i, j), (j, i)] {
                if let Some(name) = s.endnames[from].get(dest) {
                    self.net.enable(name, enabled);
                }
            }
        }
    }

    /// Connects server `i` to the servers `to` (`connect`).
    pub fn connect(&self, i: usize, to: &[usize]) {
        let s = self.lock();
        self.set_links(&s, i, to, true);
    }

    /// Disconnects server `i` from the servers `from` (`disconnect`).
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        let s = self.lock();
        self.set_links(&s, i, from, false);
    }

    /// Connects every server to every other (`ConnectAll`).
    pub fn connect_all(&self) {
        event("connect all".into());
        let all = self.all();
        let s = self.lock();
        for i in 0..self.n {
            self.set_links(&s, i, &all, true);
        }
    }

    /// Cuts `p1` from `p2` and connects each group internally (either may
    /// be empty). Clerks' ends are left alone.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        event(format!("partition {p1:?} | {p2:?}"));
        let s = self.lock();
        for (mine, other) in [(p1, p2), (p2, p1)] {
            for &i in mine {
                self.set_links(&s, i, other, false);
                self.set_links(&s, i, mine, true);
            }
        }
    }

    /// A Clerk with fresh ends to every server, shuffled, enabled only for
    /// the servers in `to` (`makeClient`).
    pub fn make_client(&self, to: &[usize]) -> TestClerk {
        let names: Vec<String> = (0..self.n).map(|_| self.rand_string(20)).collect();
        let mut ends = crate::ends_to_servers(&self.net, &names);
        ends.shuffle(&mut *self.rng.lock().unwrap_or_else(|e| e.into_inner()));
        let ck = TestClerk { ck: Clerk::new(ends), ends: ClerkEnds(Arc::new(names)) };
        self.connect_client(ck.ends(), to);
        ck
    }

    /// Enables the clerk's ends to the servers `to` (`ConnectClient`).
    pub fn connect_client(&self, ck: &ClerkEnds, to: &[usize]) {
        for &j in to {
            self.net.enable(&ck.0[j], true);
        }
    }

    /// Disables the clerk's ends to the servers `from` (`DisconnectClient`).
    pub fn disconnect_client(&self, ck: &ClerkEnds, from: &[usize]) {
        for &j in from {
            self.net.enable(&ck.0[j], false);
        }
    }

    /// `ShutdownServer(i)`: cut it off, delete it from the network (so a
    /// write saved to the old persister is never acknowledged), give its
    /// successor a copy of its persister, kill it.
    pub fn shutdown_server(&self, i: usize) {
        event(format!("shutdown S{i}"));
        let kv = {
            let mut s = self.lock();
            let all = self.all();
            self.set_links(&s, i, &all, false);
            self.net.delete_server(&i.to_string());
            if let Some(p) = &s.saved[i] {
                s.saved[i] = Some(Arc::new(p.copy()));
            }
            s.kvservers[i].take()
        };
        if let Some(kv) = kv {
            fatal::step(format!("shutdown S{i}: waiting for its kill() to return"));
            kv.kill();
        }
    }

    /// `StartServer(i)`: fresh ends (disabled: callers connect), a fresh
    /// persister holding a copy of its last state, and the server
    /// registered with both its services, `"KVServer"` and `"Raft"`.
    pub fn start_server(&self, i: usize) {
        event(format!("start S{i}"));
        let names: Vec<String> = (0..self.n).map(|_| self.rand_string(20)).collect();
        let ends = crate::ends_to_servers(&self.net, &names);
        let persister = {
            let mut s = self.lock();
            s.endnames[i] = names;
            let p = Arc::new(s.saved[i].as_ref().map_or_else(Persister::new, |p| p.copy()));
            s.saved[i] = Some(Arc::clone(&p));
            p
        };
        fatal::step(format!("start S{i}: KvServer::start"));
        let kv = KvServer::start(ends, i, persister, self.maxraftstate).unwrap_or_else(|e| fail(e));
        let mut server = Server::new();
        server.add_service(kv.service());
        server.add_service(kv.raft().service());
        self.lock().kvservers[i] = Some(kv);
        self.net.add_server(&i.to_string(), server);
    }

    /// The first server whose Raft says it leads (`Leader`).
    pub fn leader(&self) -> Option<usize> {
        let servers: Vec<(usize, KvServer)> =
            self.lock().kvservers.iter().enumerate().filter_map(|(i, k)| Some((i, k.clone()?))).collect();
        servers.into_iter().find(|(_, kv)| kv.raft().get_state().1).map(|(i, _)| i)
    }

    /// `make_partition`: `p1` holds the first `n/2 + 1` non-leaders, `p2`
    /// the rest with the leader last.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let l = self.leader().unwrap_or(0);
        let others: Vec<usize> = (0..self.n).filter(|&i| i != l).collect();
        let (p1, rest) = others.split_at(self.n / 2 + 1);
        let mut p2 = rest.to_vec();
        p2.push(l);
        (p1.to_vec(), p2)
    }

    /// The largest persisted Raft state among the servers (`LogSize`).
    pub fn log_size(&self) -> usize {
        self.lock().saved.iter().flatten().map(|p| p.raft_state_size()).max().unwrap_or(0)
    }

    /// The largest snapshot among the servers (`SnapshotSize`).
    pub fn snapshot_size(&self) -> usize {
        self.lock().saved.iter().flatten().map(|p| p.snapshot_size()).max().unwrap_or(0)
    }

    /// Every RPC sent.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_count()
    }

    /// Counts one Clerk operation (`cfg.op()`).
    pub fn op(&self) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
    }

    /// Before the test's own operation: until the servers have served one,
    /// it waits for their first election, which the floor counts (a client
    /// thread's wait overlaps the test's own sleeps and is not counted).
    pub(crate) fn count_first_election(&self) {
        if !self.served.load(Ordering::Relaxed) {
            floor::count(floor::ELECTION);
        }
    }

    /// Starts a test: prints its title, marks the time and the RPC count,
    /// zeroes the operation count and the floor.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        event(description.to_string());
        *self.mark.lock().unwrap_or_else(|e| e.into_inner()) = Mark { t0: Instant::now(), rpcs0: self.rpc_total() };
        self.ops.store(0, Ordering::Relaxed);
        floor::reset();
    }

    /// Ends a test that got here without failing: prints the Passed line
    /// (seconds, servers, RPCs, Clerk operations).
    #[track_caller]
    pub fn end(&self) {
        self.check_timeout();
        self.check_clients();
        fatal::step("end: passed".into());
        let m = self.mark.lock().unwrap_or_else(|e| e.into_inner());
        let t = m.t0.elapsed().as_secs_f64();
        let nrpc = self.rpc_total() - m.rpcs0;
        let ops = self.ops.load(Ordering::Relaxed);
        println!("  ... Passed --  {t:4.1}  {} {nrpc:5} {ops:4}", self.n);
        floor::report();
    }

    /// Records a client thread's failure (a Go client's `t.Fatalf`): the
    /// client stops, and the test fails at its next check.
    pub fn client_failed(&self, msg: String) {
        eprintln!("{msg}");
        tlog!("FAIL (client) {msg}");
        self.client_failure.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(msg);
    }

    /// Fails the test if a client thread failed.
    #[track_caller]
    pub fn check_clients(&self) {
        let failure = self.client_failure.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(msg) = failure {
            fail(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Weak;

    #[test]
    fn retired_servers_are_killed_and_their_persisted_state_freed() {
        let cfg = KvConfig::new(3, false, None);
        cfg.begin("Test: retire (4A)");
        let mut ck = cfg.make_client(&cfg.all());
        crate::kv::put(&cfg, &mut ck, "k", "v", None, 0);
        let persisters: Vec<Weak<Persister>> = cfg.lock().saved.iter().flatten().map(Arc::downgrade).collect();
        assert_eq!(persisters.len(), 3);
        assert!(cfg.log_size() > 0);
        cfg.retire_servers();
        assert!(persisters.iter().all(|p| p.upgrade().is_none()), "each Raft dropped its persister");
        assert!(cfg.lock().kvservers.iter().all(Option::is_none));
        assert_eq!(cfg.log_size(), 0);
        // The test can still end: its Passed line counts the RPCs made.
        cfg.end();
    }
}
