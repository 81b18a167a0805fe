//! A server under a long run keeps its memory flat: 100,000 operations
//! with maxraftstate 1000 (snapshots all along), from ten Clerks at once.
//! The values stay small (each Clerk's key is Put back to "" every 100
//! operations),
//! so anything that grows with the number of operations (the log, the
//! duplicate table, leftover waiters, snapshots kept) shows up as resident
//! memory growing.

mod common;

use common::{clerk, cluster};
use labrpc::Network;
use persister::Persister;
use std::sync::{Arc, Barrier};
use std::thread;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap()))
        .unwrap()
}

#[test]
fn memory_stays_flat_over_a_long_run() {
    const MAXRAFTSTATE: usize = 1000;
    // Unoptimized builds are ~20x slower: a shorter run there; the full one
    // runs in release (`make unit` runs both).
    let (clerks, per_clerk) = if cfg!(debug_assertions) { (4, 1_000) } else { (10, 10_000) };
    let warm = per_clerk / 10;
    let net = Network::with_seed(5);
    let persisters: Vec<_> = (0..3).map(|_| Arc::new(Persister::new())).collect();
    let servers = cluster(&net, &persisters, Some(MAXRAFTSTATE), "m");
    // The Clerks run at once, each on its own key; all stop after their
    // first tenth, while the warm resident size is read.
    let barrier = Barrier::new(clerks + 1);
    let rss_warm = thread::scope(|s| {
        for c in 0..clerks {
            let (net, barrier) = (&net, &barrier);
            s.spawn(move || {
                let mut ck = clerk(net, 3, &format!("m{c}-"));
                let key = format!("k{c}");
                for i in 0..per_clerk {
                    if i == warm {
                        barrier.wait();
                        barrier.wait();
                    }
                    if i % 100 == 0 {
                        ck.put(&key, "");
                    } else {
                        ck.append(&key, "0123456789");
                    }
                }
                assert!(ck.get(&key).len() < 100 * 10, "values stay small");
            });
        }
        barrier.wait();
        let rss = rss_kb();
        barrier.wait();
        rss
    });
    let rss_end = rss_kb();
    let (state, snap) =
        persisters.iter().fold((0, 0), |(s, n), p| (s.max(p.raft_state_size()), n.max(p.snapshot_size())));
    for kv in &servers {
        kv.kill();
    }
    net.cleanup();
    let ops = clerks * per_clerk;
    println!(
        "RSS after {} operations: {rss_warm} kB; after {ops}: {rss_end} kB; Raft state {state} B, snapshot {snap} B",
        clerks * warm
    );
    assert!(state <= 8 * MAXRAFTSTATE, "Raft state of {state} B after {ops} operations");
    // A key of under 1 kB and one entry in the duplicate table per Clerk.
    assert!(snap < 12 * 1024, "snapshot of {snap} B: something grows with the operations");
    assert!(
        rss_end < rss_warm + 4 * 1024,
        "resident memory grew from {rss_warm} kB to {rss_end} kB over {} operations",
        ops - clerks * warm
    );
}
