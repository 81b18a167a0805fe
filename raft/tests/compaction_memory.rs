//! Discarded log entries are really freed: a single-peer cluster commits
//! 60 000 commands of 200 bytes while its service snapshots every 10, and
//! the process's resident memory stays flat after warm-up (without
//! compaction the log alone would hold 12 MB).

use crossbeam::channel as mpsc;
use labrpc::ClientEnd;
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap()))
        .unwrap()
}

#[test]
fn memory_stays_flat_over_many_snapshots() {
    let persister = Arc::new(Persister::new());
    let (tx, rx) = mpsc::bounded(0);
    let rf = Raft::make(vec![ClientEnd::detached("solo")], 0, Arc::clone(&persister), tx).unwrap();
    let t0 = Instant::now();
    while !rf.get_state().1 {
        assert!(t0.elapsed() < Duration::from_secs(3), "a single peer elects itself");
        thread::sleep(Duration::from_millis(5));
    }
    let applied_so_far = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let service = {
        let rf = rf.clone();
        let applied_so_far = Arc::clone(&applied_so_far);
        thread::spawn(move || {
            // The service: applies in order and snapshots every 10 commands.
            let mut last = 0;
            for m in rx {
                if let ApplyMsg::Command { index, .. } = m {
                    assert_eq!(index, last + 1, "in order");
                    last = index;
                    applied_so_far.store(index, std::sync::atomic::Ordering::SeqCst);
                    if index % 10 == 0 {
                        rf.snapshot(index, index.to_le_bytes().to_vec());
                    }
                }
            }
            last
        })
    };
    let payload = "x".repeat(200);
    // Unoptimized builds re-encode ~100x slower: a shorter run there; the
    // full one runs in release (`make unit` runs both).
    let (warm, total) = if cfg!(debug_assertions) { (2_000u64, 8_000u64) } else { (10_000, 60_000) };
    let mut rss_warm = 0;
    for i in 1..=total {
        // Pace the producer to the applier so the channel stays short.
        let (index, _, ok) = rf.start(&payload);
        assert!(ok && index == i);
        if i % 1000 == 0 {
            while persister.raft_state_size() > 64 * 1024 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        if i == warm {
            thread::sleep(Duration::from_millis(50));
            rss_warm = rss_kb();
        }
    }
    // Everything applied (however loaded the machine), then a moment for
    // the last snapshot's save.
    let t1 = Instant::now();
    while applied_so_far.load(std::sync::atomic::Ordering::SeqCst) < total {
        assert!(t1.elapsed() < Duration::from_secs(60), "the service did not apply all {total} commands");
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(200));
    let rss_end = rss_kb();
    let state = persister.raft_state_size();
    rf.kill();
    let applied = service.join().unwrap();
    assert_eq!(applied, total);
    assert!(state < 64 * 1024, "persisted Raft state should stay small, is {state} B");
    assert!(
        rss_end < rss_warm + 4 * 1024,
        "resident memory grew from {rss_warm} kB to {rss_end} kB over {} compacted commands",
        total - warm
    );
    println!("RSS after {warm} commands: {rss_warm} kB; after {total}: {rss_end} kB; Raft state {state} B");
}
