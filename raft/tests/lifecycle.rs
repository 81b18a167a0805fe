//! Peer lifecycle through the public API: threads end with `kill`, and
//! unusable persisted state is refused at `make` with a clear error.

mod common;

use crossbeam::channel::{self as mpsc, Receiver};
use labrpc::{ClientEnd, Network};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Tests here count the process's threads: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Threads of this kit alive in the process: the peers' (`raft-<me>-...`)
/// and the network's (`labrpc-...`). Counting by name keeps the test
/// harness's own threads (libtest starts one per test) out of the count.
fn kit_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("raft-") || name.starts_with("labrpc-"))
        .count()
}

fn cluster(net: &Network, n: usize, persisters: &[Arc<Persister>]) -> Vec<(Raft, Receiver<ApplyMsg>)> {
    assert_eq!(n, persisters.len());
    common::cluster(net, persisters)
}

fn wait_for_leader(peers: &[(Raft, Receiver<ApplyMsg>)]) -> usize {
    let t0 = Instant::now();
    loop {
        if let Some(i) = peers.iter().position(|(r, _)| r.get_state().1) {
            return i;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "no leader within 5 s");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_stops_every_thread() {
    let _serial = SERIAL.lock().unwrap();
    let baseline = kit_threads();
    for round in 0..3 {
        let net = Network::with_seed(round);
        let persisters: Vec<_> = (0..3).map(|_| Arc::new(Persister::new())).collect();
        let peers = cluster(&net, 3, &persisters);
        let leader = wait_for_leader(&peers);
        let (index, _, ok) = peers[leader].0.start(&"hello".to_string());
        assert!(ok);
        for (_, rx) in &peers {
            let m = rx.recv_timeout(Duration::from_secs(2)).expect("committed");
            assert_eq!(m.decode_command::<String>().unwrap().unwrap(), "hello");
            assert!(matches!(m, ApplyMsg::Command { index: i, .. } if i == index));
        }
        assert!(kit_threads() >= baseline + 6, "two threads per peer while running");
        let t0 = Instant::now();
        for (rf, _) in &peers {
            rf.kill();
            assert!(rf.killed());
            assert!(!rf.start(&1u8).2, "a killed peer accepts nothing");
        }
        assert!(t0.elapsed() < Duration::from_millis(200), "kill is prompt: {:?}", t0.elapsed());
        net.cleanup();
        // The killed peers' apply channels close: their applier threads are gone.
        for (_, rx) in &peers {
            while rx.recv_timeout(Duration::from_secs(1)).is_ok() {}
        }
        // A joined thread can stay listed in /proc for a moment after
        // join returns (the kernel reaps it just after waking the joiner).
        let t1 = Instant::now();
        while kit_threads() != baseline && t1.elapsed() < Duration::from_secs(1) {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(kit_threads(), baseline, "threads left behind after round {round}");
    }
}

#[test]
fn restart_recovers_term_vote_and_log() {
    let _serial = SERIAL.lock().unwrap();
    let net = Network::with_seed(9);
    let persisters: Vec<_> = (0..3).map(|_| Arc::new(Persister::new())).collect();
    let peers = cluster(&net, 3, &persisters);
    let leader = wait_for_leader(&peers);
    for x in 0..5u64 {
        peers[leader].0.start(&x);
    }
    for (_, rx) in &peers {
        for _ in 0..5 {
            rx.recv_timeout(Duration::from_secs(2)).expect("committed");
        }
    }
    let term = peers[leader].0.get_state().0;
    for (rf, _) in &peers {
        rf.kill();
    }
    net.cleanup();
    // A peer restarted from its persister remembers its term and log; it
    // re-applies nothing until it learns the commit index again.
    let (tx, _rx) = mpsc::bounded(0);
    let copy = Arc::new(persisters[leader].copy());
    let rf = Raft::make(
        vec![ClientEnd::detached("a"), ClientEnd::detached("b"), ClientEnd::detached("c")],
        leader,
        copy,
        tx,
    )
    .unwrap();
    assert_eq!(rf.get_state(), (term, false));
    rf.kill();
}

#[test]
fn corrupt_persisted_state_is_refused_with_a_clear_error() {
    let _serial = SERIAL.lock().unwrap();
    let ends = || vec![ClientEnd::detached("x"), ClientEnd::detached("y"), ClientEnd::detached("z")];
    // Save a real state, then damage it.
    let p = Arc::new(Persister::new());
    {
        let (tx, _rx) = mpsc::bounded(0);
        let rf = Raft::make(vec![ClientEnd::detached("solo")], 0, Arc::clone(&p), tx).unwrap();
        let t0 = Instant::now();
        while !rf.get_state().1 {
            assert!(t0.elapsed() < Duration::from_secs(3));
            thread::sleep(Duration::from_millis(10));
        }
        rf.start(&"entry".to_string());
        rf.kill();
    }
    let good = p.read_raft_state();
    assert!(!good.is_empty());
    let check = |state: Vec<u8>, snapshot: Option<Vec<u8>>, expect: &str| {
        let q = Arc::new(Persister::new());
        q.save(state, snapshot);
        let (tx, _rx) = mpsc::bounded(0);
        match Raft::make(ends(), 0, q, tx) {
            Ok(_) => panic!("make accepted unusable state (expected: {expect})"),
            Err(e) => assert!(e.to_string().contains(expect), "error {e:?} does not mention {expect:?}"),
        }
    };
    check(good[..good.len() - 1].to_vec(), None, "persisted state of peer 0 is unusable: Raft state: ");
    check(vec![0xff; 12], None, "Raft state: the header is said to be");
    let mut bad_header = good.clone();
    let n = bad_header.len();
    bad_header[n - 5] ^= 0x5a;
    check(bad_header, None, "Raft state: ");
    check(Vec::new(), Some(vec![1, 2, 3]), "no Raft state");
    check(good.clone(), Some(vec![1]), "says none was taken");
    // The intact state still loads.
    let q = Arc::new(Persister::new());
    q.save(good, None);
    let (tx, _rx) = mpsc::bounded(0);
    let rf = Raft::make(vec![ClientEnd::detached("solo")], 0, q, tx).unwrap();
    assert!(rf.get_state().0 >= 1);
    rf.kill();
}
