//! What one persist costs: encoding term, vote and a log of 1000 entries
//! with labgob and saving it in the persister, as Raft does on every change
//! of its persistent state (the lab's design re-encodes the whole state).
//!
//! `cargo bench -p raft --bench persist`.

use persister::Persister;
use raft::log::Entry;
use raft::state::{Persisted, RaftState};
use std::time::{Duration, Instant};

fn measure(entries: usize, command_bytes: usize) {
    let mut p = Persisted { current_term: 7, voted_for: Some(1), ..Default::default() };
    for i in 0..entries {
        p.log.append(Entry { term: 1 + (i / 300) as u64, command: vec![7u8; command_bytes] });
    }
    let st = RaftState::new(0, 5, p, 1, Instant::now());
    let persister = Persister::new();
    let bytes = raft::persist::encode(&st).len();
    let mut n = 0u32;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(1) {
        persister.save_raft_state(raft::persist::encode(&st));
        n += 1;
    }
    let per = t0.elapsed() / n;
    println!(
        "persist with {entries} entries of {command_bytes} B: {bytes} B encoded, {:.1} us per call ({:.0} MB/s)",
        per.as_secs_f64() * 1e6,
        bytes as f64 / per.as_secs_f64() / 1e6
    );
}

fn main() {
    measure(1000, 9); // the tester's commands: an encoded integer
    measure(1000, 100);
    measure(10, 9); // a 3D log between snapshots
}
