//! `GenericTest` and `GenericTestSpeed` of Lab 4's `test_test.go`, and the
//! linearizability check of a test's history.

use crate::floor;
use crate::kv::config::{fail, KvConfig};
use crate::kv::ops::{self, OpLog};
use crate::kv::{ELECTION_TIMEOUT, LINEARIZABILITY_CHECK_TIMEOUT};
use crossbeam::channel;
use porcupine::models::kv::KvModel;
use porcupine::CheckResult;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// What a [`generic_test`] runs.
#[derive(Clone, Copy, Debug)]
pub struct Generic {
    /// `"4A"` or `"4B"`.
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    pub unreliable: bool,
    /// Shut down and restart every server once per iteration.
    pub crash: bool,
    /// Repartition the servers every second or so.
    pub partitions: bool,
    /// `None` is the course's -1: no snapshots.
    pub maxraftstate: Option<usize>,
    /// Clients write random keys (and Put as well as Append).
    pub randomkeys: bool,
}

impl Generic {
    /// The test's title, as the course builds it.
    pub fn title(&self) -> String {
        let mut t = String::from("Test: ");
        for (on, s) in [
            (self.unreliable, "unreliable net, "),
            (self.crash, "restarts, "),
            (self.partitions, "partitions, "),
            (self.maxraftstate.is_some(), "snapshots, "),
            (self.randomkeys, "random keys, "),
        ] {
            if on {
                t.push_str(s);
            }
        }
        t.push_str(if self.nclients > 1 { "many clients" } else { "one client" });
        t.push_str(&format!(" ({})", self.part));
        t
    }
}

/// `GenericTest`: three rounds of clients appending and reading for 5 s
/// under the chosen faults, each round ending with every client's appends
/// checked and the log and snapshot sizes bounded; then the whole history
/// must be linearizable.
#[track_caller]
pub fn generic_test(g: Generic) {
    let cfg = KvConfig::new(g.nservers, g.unreliable, g.maxraftstate);
    cfg.begin(&g.title());
    let log = OpLog::new();
    let mut ck = cfg.make_client(&cfg.all());
    for iteration in 0..3 {
        lablog::tlog!("iteration {iteration}");
        let done_clients = AtomicBool::new(false);
        let done_partitioner = AtomicBool::new(false);
        let (js_tx, js_rx) = channel::unbounded::<(usize, u64)>();
        thread::scope(|s| {
            let (cfg, log, done_clients) = (&*cfg, &log, &done_clients);
            for cli in 0..g.nclients {
                let js_tx = js_tx.clone();
                thread::Builder::new()
                    .name(format!("tester-client-{cli}"))
                    .spawn_scoped(s, move || {
                        let mut myck = cfg.make_client(&cfg.all());
                        let mut j = 0u64;
                        let r = client_loop(cfg, &mut myck, cli, &g, log, done_clients, &mut j);
                        let _ = js_tx.send((cli, j));
                        if let Err(e) = r {
                            cfg.client_failed(e);
                        }
                    })
                    .expect("cannot spawn a client thread");
            }
            drop(js_tx);
            let partitioner = g.partitions.then(|| {
                // Let the clients work without interruption for a while.
                floor::sleep(Duration::from_secs(1));
                let done = &done_partitioner;
                thread::Builder::new()
                    .name("tester-partitioner".into())
                    .spawn_scoped(s, move || ops::partitioner(cfg, done))
                    .expect("cannot spawn the partitioner")
            });
            floor::sleep(Duration::from_secs(5));
            done_clients.store(true, Ordering::SeqCst);
            done_partitioner.store(true, Ordering::SeqCst);
            if let Some(p) = partitioner {
                // The partitioner ends its current pause: a fixed wait.
                let t0 = Instant::now();
                p.join().expect("the partitioner panicked");
                floor::count(t0.elapsed());
                // A request made in a minority returns only once that
                // server sees a new term.
                cfg.connect_all();
                floor::sleep(ELECTION_TIMEOUT);
            }
            if g.crash {
                for i in 0..g.nservers {
                    cfg.shutdown_server(i);
                }
                // Shutdown is not instantaneous.
                floor::sleep(ELECTION_TIMEOUT);
                for i in 0..g.nservers {
                    cfg.start_server(i);
                }
                cfg.connect_all();
                // The restarted servers serve after an election.
                floor::count(floor::ELECTION);
            }
            let mut js = vec![0; g.nclients];
            for (cli, j) in js_rx.iter() {
                js[cli] = j;
            }
            lablog::tlog!("clients stopped after {} writes", js.iter().sum::<u64>());
            cfg.check_clients();
            for (i, &j) in js.iter().enumerate() {
                let v = ops::get(cfg, &mut ck, &i.to_string(), Some(log), 0);
                if !g.randomkeys {
                    ops::check_clnt_appends(i, &v, j);
                }
            }
        });
        match g.maxraftstate {
            Some(max) => {
                // After the servers processed every request and had time to
                // snapshot.
                let sz = cfg.log_size();
                if sz > 8 * max {
                    fail(format_args!("logs were not trimmed ({sz} > 8*{max})"));
                }
            }
            None => {
                let ssz = cfg.snapshot_size();
                if ssz > 0 {
                    fail(format_args!("snapshot too large ({ssz}), should not be used when maxraftstate = -1"));
                }
            }
        }
    }
    cfg.retire_servers();
    check_linearizable(log);
    cfg.end();
}

/// One client of [`generic_test`]: until told to stop, appends (half the
/// time), puts (5%, random keys only) or gets; without random keys each
/// Get must return what this client appended so far. `j` counts writes.
fn client_loop(
    cfg: &crate::kv::KvHarness,
    ck: &mut crate::kv::TestClerk,
    cli: usize,
    g: &Generic,
    log: &OpLog,
    done: &AtomicBool,
    j: &mut u64,
) -> Result<(), String> {
    let mut last = String::new();
    if !g.randomkeys {
        ops::put(cfg, ck, &cli.to_string(), &last, Some(log), cli);
    }
    while !done.load(Ordering::SeqCst) {
        let key = if g.randomkeys { cfg.rand_below(g.nclients as u64).to_string() } else { cli.to_string() };
        let nv = format!("x {cli} {j} y");
        if cfg.rand_below(1000) < 500 {
            ops::append(cfg, ck, &key, &nv, Some(log), cli);
            if !g.randomkeys {
                last.push_str(&nv);
            }
            *j += 1;
        } else if g.randomkeys && cfg.rand_below(1000) < 100 {
            // Only with random keys: it would break the Get check below.
            ops::put(cfg, ck, &key, &nv, Some(log), cli);
            *j += 1;
        } else {
            let v = ops::get(cfg, ck, &key, Some(log), cli);
            if !g.randomkeys && v != last {
                return Err(format!("get wrong value, key {key}, wanted:\n{last}\n, got\n{v}\n"));
            }
        }
    }
    Ok(())
}

/// `GenericTestSpeed`: 1000 sequential Appends by one client must average
/// under a third of a heartbeat interval each, so commits cannot wait for
/// heartbeats.
#[track_caller]
pub fn generic_test_speed(part: &str, maxraftstate: Option<usize>) {
    const NSERVERS: usize = 3;
    const NUM_OPS: u32 = 1000;
    let cfg = KvConfig::new(NSERVERS, false, maxraftstate);
    let mut ck = cfg.make_client(&cfg.all());
    cfg.begin(&format!("Test: ops complete fast enough ({part})"));
    // A first op completes once a leader is elected and the servers serve.
    cfg.count_first_election();
    ck.ck.get("x");
    let start = Instant::now();
    for i in 0..NUM_OPS {
        ck.ck.append("x", &format!("x 0 {i} y"));
    }
    let dur = start.elapsed();
    lablog::tlog!("{NUM_OPS} appends took {} ms", dur.as_millis());
    floor::report_timed(dur);
    let v = ck.ck.get("x");
    ops::check_clnt_appends(0, &v, u64::from(NUM_OPS));
    // Heartbeats are ~100 ms apart: require at least 3 ops per interval.
    let time_per_op = Duration::from_millis(100) / 3;
    if dur > time_per_op * NUM_OPS {
        fail(format_args!("Operations completed too slowly {:?}/op > {time_per_op:?}/op", dur / NUM_OPS));
    }
    cfg.end();
}

/// Checks the whole history with porcupine within the course's 1 s. Not
/// linearizable: writes the visual timeline, prints its path, and fails.
/// Timed out: prints the course's notice and passes (a weak pass, which
/// the stress runner and the grader count).
///
/// The verdict comes from the plain check, which keeps nothing per
/// operation beyond its search and stops at the first illegal key; only
/// an illegal history is checked again in verbose mode, for the timeline
/// (whose info copies every operation and its longest linearization: ~90
/// bytes per operation that a passing test never needs). The re-check has
/// its own 1 s; if it runs out, the timeline shows what it reached.
#[track_caller]
pub fn check_linearizable(log: OpLog) {
    if let Err(e) = linearizability(log) {
        fail(e);
    }
}

/// [`check_linearizable`]'s work: `Err` (once the timeline is written) for
/// a history that is not linearizable.
pub(crate) fn linearizability(log: OpLog) -> Result<(), &'static str> {
    // The clients have stopped (and the servers are gone).
    let read_kib = log.stored_bytes() / 1024;
    let history = log.into_operations();
    let t0 = Instant::now();
    let res = porcupine::check_operations(&KvModel, &history, Some(LINEARIZABILITY_CHECK_TIMEOUT));
    let ms = t0.elapsed().as_millis();
    lablog::tlog!(
        "linearizability of {} operations: {res:?} in {ms} ms ({read_kib} KiB of values read)",
        history.len()
    );
    match res {
        CheckResult::Ok => {}
        CheckResult::Illegal => {
            let (again, info) =
                porcupine::check_operations_verbose(&KvModel, &history, Some(LINEARIZABILITY_CHECK_TIMEOUT));
            lablog::tlog!("verbose re-check for the timeline: {again:?}");
            match porcupine::visualize_to_temp_file(&KvModel, &info) {
                Ok(path) => println!("info: wrote history visualization to {}", path.display()),
                Err(porcupine::VisualizeError::CreateTempFile(_)) => {
                    println!("info: failed to create temp file for visualization")
                }
                Err(porcupine::VisualizeError::Write { path, .. }) => {
                    println!("info: failed to write history visualization to {}", path.display())
                }
            }
            return Err("history is not linearizable");
        }
        CheckResult::Unknown => println!("info: linearizability check timed out, assuming history is ok"),
    }
    Ok(())
}
