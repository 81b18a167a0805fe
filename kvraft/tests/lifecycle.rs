//! The service's life cycle outside the tester: start, serve, kill (no
//! thread left), restart from what was persisted, and refuse a corrupt
//! snapshot with a clear error.

mod common;

use common::{clerk, cluster};
use kvraft::KvServer;
use labrpc::{ClientEnd, Network};
use persister::Persister;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Threads of the kit in this process: servers' appliers, Raft peers'
/// threads, the network's.
fn kit_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|n| n.starts_with("kvraft-") || n.starts_with("raft-") || n.starts_with("labrpc-"))
        .count()
}

#[test]
fn serve_kill_restart() {
    let baseline = kit_threads();
    let persisters: Vec<_> = (0..3).map(|_| Arc::new(Persister::new())).collect();
    {
        let net = Network::with_seed(1);
        let servers = cluster(&net, &persisters, Some(300), "a");
        let mut ck = clerk(&net, 3, "a");
        assert_eq!(ck.get("missing"), "");
        ck.put("k", "v");
        for i in 0..100 {
            ck.append("k", &format!(",{i}"));
        }
        assert!(ck.get("k").ends_with(",98,99"));
        let t0 = Instant::now();
        for kv in &servers {
            kv.kill();
            assert!(kv.killed());
        }
        assert!(t0.elapsed() < Duration::from_millis(500), "kill is prompt: {:?}", t0.elapsed());
        net.cleanup();
    }
    let t0 = Instant::now();
    while kit_threads() > baseline && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(kit_threads(), baseline, "threads left after kill and cleanup");
    assert!(persisters.iter().all(|p| p.snapshot_size() > 0), "maxraftstate 300 made every server snapshot");

    // Restarted from copies of what they saved, they still hold it.
    let copies: Vec<_> = persisters.iter().map(|p| Arc::new(p.copy())).collect();
    let net = Network::with_seed(2);
    let servers = cluster(&net, &copies, Some(300), "b");
    let mut ck = clerk(&net, 3, "b");
    let v = ck.get("k");
    assert!(v.starts_with("v,0,1,2,") && v.ends_with(",98,99"), "{v}");
    for kv in &servers {
        kv.kill();
    }
}

#[test]
fn a_corrupt_snapshot_is_refused_by_name() {
    let p = Arc::new(Persister::new());
    p.save(vec![1, 2, 3], Some(b"not a key/value snapshot".to_vec()));
    let err = KvServer::start(vec![ClientEnd::detached("solo")], 0, p, Some(1000)).err().expect("must fail");
    let msg = err.to_string();
    assert!(msg.contains("the persisted snapshot") && msg.contains("does not decode as a key/value snapshot"), "{msg}");
}
