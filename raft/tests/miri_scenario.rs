//! One short multi-peer scenario, small enough to run under Miri (and run
//! by the ordinary test suite too): three peers on a labrpc network elect a
//! leader, replicate three commands, and shut down without leaking a thread
//! or an allocation.
//!
//! Under Miri's isolation the clock is virtual and advances with the code
//! executed, so a round trip costs a sizeable fraction of an election
//! timeout: the scenario therefore tolerates a leader change between
//! `start`s (it re-proposes what did not commit, as the tester's `one`
//! does) and only then checks that every peer delivered the same commands,
//! in order, each once.

mod common;

use crossbeam::channel::Receiver;
use labrpc::Network;
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const N: usize = 3;
/// Generous: under Miri every RPC costs virtual time.
const DEADLINE: Duration = Duration::from_secs(120);

struct Peer {
    raft: Raft,
    rx: Receiver<ApplyMsg>,
    /// Commands delivered so far, by index (1-based): `applied[i - 1]`.
    applied: Vec<u64>,
}

impl Peer {
    /// Takes what the peer delivered since the last call, checking order.
    fn drain(&mut self, me: usize) {
        while let Ok(m) = self.rx.try_recv() {
            let ApplyMsg::Command { index, .. } = &m else { panic!("S{me}: unexpected snapshot {m:?}") };
            assert_eq!(*index, self.applied.len() as u64 + 1, "S{me}: out of order or repeated: {m:?}");
            self.applied.push(m.decode_command::<u64>().expect("a command").expect("decodes as u64"));
        }
    }
}

fn cluster(net: &Network) -> Vec<Peer> {
    let persisters: Vec<_> = (0..N).map(|_| Arc::new(Persister::new())).collect();
    common::cluster(net, &persisters).into_iter().map(|(raft, rx)| Peer { raft, rx, applied: Vec::new() }).collect()
}

/// The one peer that believes it leads in the highest term, once there is one.
fn leader(peers: &[Peer], t0: Instant) -> usize {
    loop {
        let states: Vec<(u64, bool)> = peers.iter().map(|p| p.raft.get_state()).collect();
        let top = states.iter().filter(|s| s.1).map(|s| s.0).max();
        if let Some(term) = top {
            let leaders: Vec<usize> = (0..N).filter(|&i| states[i] == (term, true)).collect();
            assert_eq!(leaders.len(), 1, "two leaders in term {term}");
            return leaders[0];
        }
        assert!(t0.elapsed() < DEADLINE, "no leader within {DEADLINE:?}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Takes what every peer delivered; true once all have delivered `index`.
fn all_applied(peers: &mut [Peer], index: u64) -> bool {
    for (i, p) in peers.iter_mut().enumerate() {
        p.drain(i);
    }
    peers.iter().all(|p| p.applied.len() as u64 >= index)
}

#[test]
fn three_peers_elect_replicate_and_shut_down() {
    let net = Network::with_seed(6824);
    let mut peers = cluster(&net);
    let t0 = Instant::now();
    let mut next = 101u64;
    while next <= 103 {
        let l = leader(&peers, t0);
        let (index, _, ok) = peers[l].raft.start(&next);
        if !ok {
            continue;
        }
        // Wait until every peer delivered `index`, or the leader stepped
        // down (then propose again: the tester's `one` does the same).
        while !all_applied(&mut peers, index) && peers[l].raft.get_state().1 {
            assert!(t0.elapsed() < DEADLINE, "index {index} not delivered everywhere within {DEADLINE:?}");
            thread::sleep(Duration::from_millis(50));
        }
        if all_applied(&mut peers, index) && peers[0].applied[index as usize - 1] == next {
            next += 1;
        }
    }
    // Every peer delivered the same commands, each index once, in order
    // (checked by `drain`); 101, 102 and 103 committed in that order. A
    // re-proposal may have committed twice after a leader change.
    let first = peers[0].applied.clone();
    for (i, p) in peers.iter().enumerate() {
        let n = first.len().min(p.applied.len());
        assert_eq!(p.applied[..n], first[..n], "S{i} delivered different commands");
    }
    let at = |c: u64| first.iter().position(|&x| x == c).expect("each command committed");
    assert!(at(101) < at(102) && at(102) < at(103), "commands out of order: {first:?}");

    for p in &peers {
        p.raft.kill();
    }
    net.cleanup();
    eprintln!("miri scenario: {first:?} delivered on {N} peers after {:?} of clock time", t0.elapsed());
}
