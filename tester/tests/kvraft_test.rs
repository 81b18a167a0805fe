//! The 23 Lab 4 tests of the course's `kvraft/test_test.go`, scenario for
//! scenario. Names end in their part, so `make test-4A` runs `_4a`. Run one
//! at a time (`--test-threads=1`): they are timing-sensitive.

use std::thread;
use std::time::Duration;
use tester::kv::{self, check, generic_test, generic_test_speed, get, put, Generic, KvConfig, ELECTION_TIMEOUT};
use tester::run;

/// A generic test of part 4A (no snapshots) or 4B (maxraftstate 1000).
#[allow(clippy::too_many_arguments)]
fn generic(
    part: &'static str,
    nclients: usize,
    nservers: usize,
    unreliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: Option<usize>,
    randomkeys: bool,
) {
    generic_test(Generic { part, nclients, nservers, unreliable, crash, partitions, maxraftstate, randomkeys })
}

// ---------------------------------------------------------------- 4A

#[test]
fn basic_4a() {
    run(|| generic("4A", 1, 5, false, false, false, None, false))
}

#[test]
fn speed_4a() {
    run(|| generic_test_speed("4A", None))
}

#[test]
fn concurrent_4a() {
    run(|| generic("4A", 5, 5, false, false, false, None, false))
}

#[test]
fn unreliable_4a() {
    run(|| generic("4A", 5, 5, true, false, false, None, false))
}

#[test]
fn unreliable_one_key_4a() {
    run(|| {
        let nservers = 3;
        let cfg = KvConfig::new(nservers, true, None);
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: concurrent append to same key, unreliable (4A)");
        put(&cfg, &mut ck, "k", "", None, 0);
        let nclient = 5;
        let upto = 10;
        kv::spawn_clients_and_wait(&cfg, nclient, |me, myck| {
            for n in 0..upto {
                kv::append(&cfg, myck, "k", &format!("x {me} {n} y"), None, 0);
            }
            Ok(())
        });
        let counts = vec![upto; nclient];
        let vx = get(&cfg, &mut ck, "k", None, 0);
        kv::check_concurrent_appends(&vx, &counts);
        cfg.end();
    })
}

/// Submit a request in the minority partition and check that the request
/// doesn't go through until the partition heals. The leader in the
/// original network ends up in the minority partition.
#[test]
fn one_partition_4a() {
    run(|| {
        let nservers = 5;
        let cfg = KvConfig::new(nservers, false, None);
        let mut ck = cfg.make_client(&cfg.all());
        put(&cfg, &mut ck, "1", "13", None, 0);

        cfg.begin("Test: progress in majority (4A)");
        let (p1, p2) = cfg.make_partition();
        cfg.partition(&p1, &p2);
        let mut ckp1 = cfg.make_client(&p1); // connect ckp1 to p1
        let mut ckp2a = cfg.make_client(&p2); // connect ckp2a to p2
        let mut ckp2b = cfg.make_client(&p2); // connect ckp2b to p2
        put(&cfg, &mut ckp1, "1", "14", None, 0);
        check(&cfg, &mut ckp1, "1", "14");
        cfg.end();

        cfg.begin("Test: no progress in minority (4A)");
        let (done0_tx, done0) = crossbeam::channel::bounded(1);
        let (done1_tx, done1) = crossbeam::channel::bounded(1);
        let ends = (ckp2a.ends().clone(), ckp2b.ends().clone());
        thread::scope(|s| {
            let cfg = &*cfg;
            s.spawn(move || {
                put(cfg, &mut ckp2a, "1", "15", None, 0);
                let _ = done0_tx.send(());
            });
            s.spawn(move || {
                get(cfg, &mut ckp2b, "1", None, 0); // different clerk in p2
                let _ = done1_tx.send(());
            });
            crossbeam::channel::select! {
                recv(done0) -> _ => kv::fail("Put in minority completed"),
                recv(done1) -> _ => kv::fail("Get in minority completed"),
                default(Duration::from_secs(1)) => tester::count_in_floor(Duration::from_secs(1)),
            }
            check(cfg, &mut ckp1, "1", "14");
            put(cfg, &mut ckp1, "1", "16", None, 0);
            check(cfg, &mut ckp1, "1", "16");
            cfg.end();

            cfg.begin("Test: completion after heal (4A)");
            cfg.connect_all();
            cfg.connect_client(&ends.0, &cfg.all());
            cfg.connect_client(&ends.1, &cfg.all());
            tester::sleep(ELECTION_TIMEOUT);
            if done0.recv_timeout(Duration::from_millis(30 * 100)).is_err() {
                kv::fail("Put did not complete");
            }
            // As in the course's test, the Get is polled once without
            // waiting, so "Get did not complete" never fires.
            let _ = done1.try_recv();
            check(cfg, &mut ck, "1", "15");
            cfg.end();
        });
    })
}

#[test]
fn many_partitions_one_client_4a() {
    run(|| generic("4A", 1, 5, false, false, true, None, false))
}

#[test]
fn many_partitions_many_clients_4a() {
    run(|| generic("4A", 5, 5, false, false, true, None, false))
}

#[test]
fn persist_one_client_4a() {
    run(|| generic("4A", 1, 5, false, true, false, None, false))
}

#[test]
fn persist_concurrent_4a() {
    run(|| generic("4A", 5, 5, false, true, false, None, false))
}

#[test]
fn persist_concurrent_unreliable_4a() {
    run(|| generic("4A", 5, 5, true, true, false, None, false))
}

#[test]
fn persist_partition_4a() {
    run(|| generic("4A", 5, 5, false, true, true, None, false))
}

#[test]
fn persist_partition_unreliable_4a() {
    run(|| generic("4A", 5, 5, true, true, true, None, false))
}

#[test]
fn persist_partition_unreliable_linearizable_4a() {
    run(|| generic("4A", 15, 7, true, true, true, None, true))
}

// ---------------------------------------------------------------- 4B

const MAXRAFTSTATE: usize = 1000;

/// Check that ops are committed fast enough, better than 1 per heartbeat
/// interval.
#[test]
fn speed_4b() {
    run(|| generic_test_speed("4B", Some(MAXRAFTSTATE)))
}

#[test]
fn snapshot_rpc_4b() {
    run(|| {
        let nservers = 3;
        let maxraftstate = MAXRAFTSTATE;
        let cfg = KvConfig::new(nservers, false, Some(maxraftstate));
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: InstallSnapshot RPC (4B)");
        put(&cfg, &mut ck, "a", "A", None, 0);
        check(&cfg, &mut ck, "a", "A");

        // a bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        {
            let mut ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                put(&cfg, &mut ck1, &i.to_string(), &i.to_string(), None, 0);
            }
            tester::sleep(ELECTION_TIMEOUT);
            put(&cfg, &mut ck1, "b", "B", None, 0);
        }

        // check that the majority partition has thrown away most of its
        // log entries.
        let sz = cfg.log_size();
        if sz > 8 * maxraftstate {
            kv::fail(format_args!("logs were not trimmed ({sz} > 8*{maxraftstate})"));
        }

        // now make group that requires participation of lagging server, so
        // that it has to catch up.
        cfg.partition(&[0, 2], &[1]);
        {
            let mut ck1 = cfg.make_client(&[0, 2]);
            put(&cfg, &mut ck1, "c", "C", None, 0);
            put(&cfg, &mut ck1, "d", "D", None, 0);
            check(&cfg, &mut ck1, "a", "A");
            check(&cfg, &mut ck1, "b", "B");
            check(&cfg, &mut ck1, "1", "1");
            check(&cfg, &mut ck1, "49", "49");
        }

        // now everybody
        cfg.partition(&[0, 1, 2], &[]);
        put(&cfg, &mut ck, "e", "E", None, 0);
        check(&cfg, &mut ck, "c", "C");
        check(&cfg, &mut ck, "e", "E");
        check(&cfg, &mut ck, "1", "1");
        cfg.end();
    })
}

/// Are the snapshots not too huge? 500 bytes is a generous bound for the
/// operations we're doing here.
#[test]
fn snapshot_size_4b() {
    run(|| {
        let nservers = 3;
        let maxraftstate = MAXRAFTSTATE;
        let maxsnapshotstate = 500;
        let cfg = KvConfig::new(nservers, false, Some(maxraftstate));
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: snapshot size is reasonable (4B)");
        for _ in 0..200 {
            put(&cfg, &mut ck, "x", "0", None, 0);
            check(&cfg, &mut ck, "x", "0");
            put(&cfg, &mut ck, "x", "1", None, 0);
            check(&cfg, &mut ck, "x", "1");
        }
        // check that servers have thrown away most of their log entries
        let sz = cfg.log_size();
        if sz > 8 * maxraftstate {
            kv::fail(format_args!("logs were not trimmed ({sz} > 8*{maxraftstate})"));
        }
        // check that the snapshots are not unreasonably large
        let ssz = cfg.snapshot_size();
        if ssz > maxsnapshotstate {
            kv::fail(format_args!("snapshot too large ({ssz} > {maxsnapshotstate})"));
        }
        cfg.end();
    })
}

#[test]
fn snapshot_recover_4b() {
    run(|| generic("4B", 1, 5, false, true, false, Some(MAXRAFTSTATE), false))
}

#[test]
fn snapshot_recover_many_clients_4b() {
    run(|| generic("4B", 20, 5, false, true, false, Some(MAXRAFTSTATE), false))
}

#[test]
fn snapshot_unreliable_4b() {
    run(|| generic("4B", 5, 5, true, false, false, Some(MAXRAFTSTATE), false))
}

#[test]
fn snapshot_unreliable_recover_4b() {
    run(|| generic("4B", 5, 5, true, true, false, Some(MAXRAFTSTATE), false))
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_4b() {
    run(|| generic("4B", 5, 5, true, true, true, Some(MAXRAFTSTATE), false))
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4b() {
    run(|| generic("4B", 15, 7, true, true, true, Some(MAXRAFTSTATE), true))
}
