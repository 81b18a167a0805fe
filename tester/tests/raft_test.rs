//! The 28 Lab 3 tests of the course's `test_test.go`, scenario for
//! scenario. Names end in their part, so `make test-3B` runs `_3b`.
//! Run one at a time (`--test-threads=1`): they are timing-sensitive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use tester::{run, Cmd, Config, MAX_LOG_SIZE, RAFT_ELECTION_TIMEOUT, SNAPSHOT_INTERVAL};

fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

// ---------------------------------------------------------------- 3A

#[test]
fn initial_election_3a() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3A): initial election");
        // is a leader elected?
        cfg.check_one_leader();
        // sleep a bit to avoid racing with followers learning of the
        // election, then check that all peers agree on the term.
        tester::sleep(ms(50));
        let term1 = cfg.check_terms();
        assert!(term1 >= 1, "term is {term1}, but should be at least 1");
        // does the leader+term stay the same if there is no network failure?
        tester::sleep(2 * RAFT_ELECTION_TIMEOUT);
        let term2 = cfg.check_terms();
        if term1 != term2 {
            println!("warning: term changed even though there were no failures");
        }
        // there should still be a leader.
        cfg.check_one_leader();
        cfg.end();
    })
}

#[test]
fn re_election_3a() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3A): election after network failure");
        let leader1 = cfg.check_one_leader();
        // if the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1);
        cfg.check_one_leader();
        // if the old leader rejoins, that shouldn't disturb the new leader.
        // and the old leader should switch to follower.
        cfg.connect(leader1);
        let leader2 = cfg.check_one_leader();
        // if there's no quorum, no new leader should be elected.
        cfg.disconnect(leader2);
        cfg.disconnect((leader2 + 1) % servers);
        tester::sleep(2 * RAFT_ELECTION_TIMEOUT);
        // check that the one connected server does not think it is the leader.
        cfg.check_no_leader();
        // if a quorum arises, it should elect a leader.
        cfg.connect((leader2 + 1) % servers);
        cfg.check_one_leader();
        // re-join of last node shouldn't prevent leader from existing.
        cfg.connect(leader2);
        cfg.check_one_leader();
        cfg.end();
    })
}

#[test]
fn many_elections_3a() {
    run(|| {
        let servers = 7;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3A): multiple elections");
        cfg.check_one_leader();
        let iters = 10;
        // As in test_test.go: rounds ii = 1..iters-1.
        for _ in 1..iters {
            // disconnect three nodes
            let i1 = cfg.rand_below(servers as u64) as usize;
            let i2 = cfg.rand_below(servers as u64) as usize;
            let i3 = cfg.rand_below(servers as u64) as usize;
            cfg.disconnect(i1);
            cfg.disconnect(i2);
            cfg.disconnect(i3);
            // either the current leader should still be alive,
            // or the remaining four should elect a new one.
            cfg.check_one_leader();
            cfg.connect(i1);
            cfg.connect(i2);
            cfg.connect(i3);
        }
        cfg.check_one_leader();
        cfg.end();
    })
}

// ---------------------------------------------------------------- 3B

#[test]
fn basic_agree_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): basic agreement");
        let iters = 3;
        for index in 1..=iters {
            let (nd, _) = cfg.n_committed(index);
            assert!(nd == 0, "some have committed before Start()");
            let xindex = cfg.one(index * 100, servers, false);
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
        }
        cfg.end();
    })
}

#[test]
fn rpc_bytes_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): RPC byte count");
        cfg.one(99, servers, false);
        let bytes0 = cfg.bytes_total();
        let iters = 10;
        let mut sent = 0u64;
        for index in 2..iters + 2 {
            let cmd = cfg.rand_string(5000);
            sent += cmd.len() as u64;
            let xindex = cfg.one(cmd, servers, false);
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
        }
        let got = cfg.bytes_total() - bytes0;
        let expected = servers as u64 * sent;
        assert!(got <= expected + 50000, "too many RPC bytes; got {got}, expected {expected}");
        cfg.end();
    })
}

#[test]
fn follower_failure_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): test progressive failure of followers");
        cfg.one(101, servers, false);
        // disconnect one follower from the network.
        let leader1 = cfg.check_one_leader();
        cfg.disconnect((leader1 + 1) % servers);
        // the leader and remaining follower should be
        // able to agree despite the disconnected follower.
        cfg.one(102, servers - 1, false);
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        cfg.one(103, servers - 1, false);
        // disconnect the remaining follower
        let leader2 = cfg.check_one_leader();
        cfg.disconnect((leader2 + 1) % servers);
        cfg.disconnect((leader2 + 2) % servers);
        // submit a command.
        let (index, _, ok) = cfg.rf(leader2).start(&Cmd::Int(104));
        assert!(ok, "leader rejected Start()");
        assert_eq!(index, 4, "expected index 4, got {index}");
        tester::sleep(2 * RAFT_ELECTION_TIMEOUT);
        // check that command 104 did not commit.
        let (n, _) = cfg.n_committed(index);
        assert!(n == 0, "{n} committed but no majority");
        cfg.end();
    })
}

#[test]
fn leader_failure_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): test failure of leaders");
        cfg.one(101, servers, false);
        // disconnect the first leader.
        let leader1 = cfg.check_one_leader();
        cfg.disconnect(leader1);
        // the remaining followers should elect a new leader.
        cfg.one(102, servers - 1, false);
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        cfg.one(103, servers - 1, false);
        // disconnect the new leader.
        let leader2 = cfg.check_one_leader();
        cfg.disconnect(leader2);
        // submit a command to each server.
        for i in 0..servers {
            cfg.rf(i).start(&Cmd::Int(104));
        }
        tester::sleep(2 * RAFT_ELECTION_TIMEOUT);
        // check that command 104 did not commit.
        let (n, _) = cfg.n_committed(4);
        assert!(n == 0, "{n} committed but no majority");
        cfg.end();
    })
}

#[test]
fn fail_agree_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): agreement after follower reconnects");
        cfg.one(101, servers, false);
        // disconnect one follower from the network.
        let leader = cfg.check_one_leader();
        cfg.disconnect((leader + 1) % servers);
        // the leader and remaining follower should be
        // able to agree despite the disconnected follower.
        cfg.one(102, servers - 1, false);
        cfg.one(103, servers - 1, false);
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        cfg.one(104, servers - 1, false);
        cfg.one(105, servers - 1, false);
        // re-connect
        cfg.connect((leader + 1) % servers);
        // the full set of servers should preserve previous
        // agreements, and be able to agree on new commands.
        cfg.one(106, servers, true);
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        cfg.one(107, servers, true);
        cfg.end();
    })
}

#[test]
fn fail_no_agree_3b() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): no agreement if too many followers disconnect");
        cfg.one(10, servers, false);
        // 3 of 5 followers disconnect
        let leader = cfg.check_one_leader();
        cfg.disconnect((leader + 1) % servers);
        cfg.disconnect((leader + 2) % servers);
        cfg.disconnect((leader + 3) % servers);
        let (index, _, ok) = cfg.rf(leader).start(&Cmd::Int(20));
        assert!(ok, "leader rejected Start()");
        assert_eq!(index, 2, "expected index 2, got {index}");
        tester::sleep(2 * RAFT_ELECTION_TIMEOUT);
        let (n, _) = cfg.n_committed(index);
        assert!(n == 0, "{n} committed but no majority");
        // repair
        cfg.connect((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.connect((leader + 3) % servers);
        // the disconnected majority may have chosen a leader from
        // among their own ranks, forgetting index 2.
        let leader2 = cfg.check_one_leader();
        let (index2, _, ok2) = cfg.rf(leader2).start(&Cmd::Int(30));
        assert!(ok2, "leader2 rejected Start()");
        assert!((2..=3).contains(&index2), "unexpected index {index2}");
        cfg.one(1000, servers, true);
        cfg.end();
    })
}

#[test]
fn concurrent_starts_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): concurrent Start()s");
        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // give solution some time to settle
                thread::sleep(Duration::from_secs(3));
            }
            let leader = cfg.check_one_leader();
            let rf = cfg.rf(leader);
            let (_, term, ok) = rf.start(&Cmd::Int(1));
            if !ok {
                // leader moved on really quickly
                continue;
            }
            let iters = 5u64;
            let (tx, rx) = mpsc::channel();
            thread::scope(|s| {
                for ii in 0..iters {
                    let (rf, tx) = (rf.clone(), tx.clone());
                    s.spawn(move || {
                        let (i, term1, ok) = rf.start(&Cmd::Int(100 + ii));
                        if term1 == term && ok {
                            tx.send(i).unwrap();
                        }
                    });
                }
            });
            drop(tx);
            for j in 0..servers {
                if cfg.rf(j).get_state().0 != term {
                    // term changed -- can't expect low RPC counts
                    continue 'tries;
                }
            }
            let mut cmds = Vec::new();
            for index in rx {
                match cfg.wait(index, servers, Some(term)) {
                    // peers have moved on to later terms, so we can't
                    // expect all Start()s to have succeeded
                    None => continue 'tries,
                    Some(Cmd::Int(x)) => cmds.push(x),
                    Some(other) => panic!("value {other} is not an int"),
                }
            }
            for ii in 0..iters {
                let x = 100 + ii;
                assert!(cmds.contains(&x), "cmd {x} missing in {cmds:?}");
            }
            success = true;
            break;
        }
        assert!(success, "term changed too often");
        cfg.end();
    })
}

#[test]
fn rejoin_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): rejoin of partitioned leader");
        cfg.one(101, servers, true);
        // leader network failure
        let leader1 = cfg.check_one_leader();
        cfg.disconnect(leader1);
        // make old leader try to agree on some entries
        let rf1 = cfg.rf(leader1);
        rf1.start(&Cmd::Int(102));
        rf1.start(&Cmd::Int(103));
        rf1.start(&Cmd::Int(104));
        // new leader commits, also for index=2
        cfg.one(103, 2, true);
        // new leader network failure
        let leader2 = cfg.check_one_leader();
        cfg.disconnect(leader2);
        // old leader connected again
        cfg.connect(leader1);
        cfg.one(104, 2, true);
        // all together now
        cfg.connect(leader2);
        cfg.one(105, servers, true);
        cfg.end();
    })
}

#[test]
fn backup_3b() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): leader backs up quickly over incorrect follower logs");
        cfg.one(cfg.rand_u64(), servers, true);
        // put leader and one follower in a partition
        let leader1 = cfg.check_one_leader();
        cfg.disconnect((leader1 + 2) % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);
        // submit lots of commands that won't commit
        let rf1 = cfg.rf(leader1);
        for _ in 0..50 {
            rf1.start(&Cmd::Int(cfg.rand_u64()));
        }
        tester::sleep(RAFT_ELECTION_TIMEOUT / 2);
        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 1) % servers);
        // allow other partition to recover
        cfg.connect((leader1 + 2) % servers);
        cfg.connect((leader1 + 3) % servers);
        cfg.connect((leader1 + 4) % servers);
        // lots of successful commands to new group.
        for _ in 0..50 {
            cfg.one(cfg.rand_u64(), 3, true);
        }
        // now another partitioned leader and one follower
        let leader2 = cfg.check_one_leader();
        let mut other = (leader1 + 2) % servers;
        if leader2 == other {
            other = (leader2 + 1) % servers;
        }
        cfg.disconnect(other);
        // lots more commands that won't commit
        let rf2 = cfg.rf(leader2);
        for _ in 0..50 {
            rf2.start(&Cmd::Int(cfg.rand_u64()));
        }
        tester::sleep(RAFT_ELECTION_TIMEOUT / 2);
        // bring original leader back to life,
        for i in 0..servers {
            cfg.disconnect(i);
        }
        cfg.connect(leader1 % servers);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect(other);
        // lots of successful commands to new group.
        for _ in 0..50 {
            cfg.one(cfg.rand_u64(), 3, true);
        }
        // now everyone
        for i in 0..servers {
            cfg.connect(i);
        }
        cfg.one(cfg.rand_u64(), servers, true);
        cfg.end();
    })
}

#[test]
fn count_3b() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3B): RPC counts aren't too high");
        let rpcs = || (0..servers).map(|j| cfg.rpc_count(j)).sum::<u64>();
        let mut leader = cfg.check_one_leader();
        let total1 = rpcs();
        assert!((1..=30).contains(&total1), "too many or few RPCs ({total1}) to elect initial leader");
        let mut total2 = 0;
        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // give solution some time to settle
                thread::sleep(Duration::from_secs(3));
            }
            leader = cfg.check_one_leader();
            let total1 = rpcs();
            let iters = 10;
            let rf = cfg.rf(leader);
            let (starti, term, ok) = rf.start(&Cmd::Int(1));
            if !ok {
                // leader moved on really quickly
                continue;
            }
            let mut cmds = Vec::new();
            for i in 1..iters + 2 {
                let x = cfg.rand_u64() >> 31;
                cmds.push(x);
                let (index1, term1, ok) = rf.start(&Cmd::Int(x));
                if term1 != term || !ok {
                    // Term changed while starting; no longer the leader
                    continue 'tries;
                }
                assert_eq!(starti + i, index1, "Start() failed");
            }
            for i in 1..iters + 1 {
                match cfg.wait(starti + i, servers, Some(term)) {
                    None => continue 'tries, // term changed -- try again
                    Some(cmd) if cmd == Cmd::Int(cmds[i as usize - 1]) => {}
                    Some(cmd) => panic!("wrong value {cmd} committed for index {}; expected {cmds:?}", starti + i),
                }
            }
            let mut failed = false;
            total2 = 0;
            for j in 0..servers {
                if cfg.rf(j).get_state().0 != term {
                    // term changed -- can't expect low RPC counts;
                    // need to keep going to update total2
                    failed = true;
                }
                total2 += cfg.rpc_count(j);
            }
            if failed {
                continue 'tries;
            }
            assert!(total2 - total1 <= (iters + 1 + 3) * 3, "too many RPCs ({}) for {iters} entries", total2 - total1);
            success = true;
            break;
        }
        assert!(success, "term changed too often");
        let _ = leader;
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        let total3 = rpcs();
        assert!(total3 - total2 <= 3 * 20, "too many RPCs ({}) for 1 second of idleness", total3 - total2);
        cfg.end();
    })
}

// ---------------------------------------------------------------- 3C

#[test]
fn persist1_3c() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3C): basic persistence");
        cfg.one(11, servers, true);
        // crash and re-start all
        for i in 0..servers {
            cfg.start1(i);
        }
        for i in 0..servers {
            cfg.disconnect(i);
            cfg.connect(i);
        }
        cfg.one(12, servers, true);
        let leader1 = cfg.check_one_leader();
        cfg.disconnect(leader1);
        cfg.start1(leader1);
        cfg.connect(leader1);
        cfg.one(13, servers, true);
        let leader2 = cfg.check_one_leader();
        cfg.disconnect(leader2);
        cfg.one(14, servers - 1, true);
        cfg.start1(leader2);
        cfg.connect(leader2);
        cfg.wait(4, servers, None); // wait for leader2 to join before killing i3
        let i3 = (cfg.check_one_leader() + 1) % servers;
        cfg.disconnect(i3);
        cfg.one(15, servers - 1, true);
        cfg.start1(i3);
        cfg.connect(i3);
        cfg.one(16, servers, true);
        cfg.end();
    })
}

#[test]
fn persist2_3c() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3C): more persistence");
        let mut index = 1;
        for _ in 0..5 {
            cfg.one(10 + index, servers, true);
            index += 1;
            let leader1 = cfg.check_one_leader();
            cfg.disconnect((leader1 + 1) % servers);
            cfg.disconnect((leader1 + 2) % servers);
            cfg.one(10 + index, servers - 2, true);
            index += 1;
            cfg.disconnect(leader1 % servers);
            cfg.disconnect((leader1 + 3) % servers);
            cfg.disconnect((leader1 + 4) % servers);
            cfg.start1((leader1 + 1) % servers);
            cfg.start1((leader1 + 2) % servers);
            cfg.connect((leader1 + 1) % servers);
            cfg.connect((leader1 + 2) % servers);
            tester::sleep(RAFT_ELECTION_TIMEOUT);
            cfg.start1((leader1 + 3) % servers);
            cfg.connect((leader1 + 3) % servers);
            cfg.one(10 + index, servers - 2, true);
            index += 1;
            cfg.connect((leader1 + 4) % servers);
            cfg.connect(leader1 % servers);
        }
        cfg.one(1000, servers, true);
        cfg.end();
    })
}

#[test]
fn persist3_3c() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3C): partitioned leader and one follower crash, leader restarts");
        cfg.one(101, 3, true);
        let leader = cfg.check_one_leader();
        cfg.disconnect((leader + 2) % servers);
        cfg.one(102, 2, true);
        cfg.crash1(leader % servers);
        cfg.crash1((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.start1(leader % servers);
        cfg.connect(leader % servers);
        cfg.one(103, 2, true);
        cfg.start1((leader + 1) % servers);
        cfg.connect((leader + 1) % servers);
        cfg.one(104, servers, true);
        cfg.end();
    })
}

/// Test the scenarios described in Figure 8 of the extended Raft paper.
/// Each iteration asks a leader, if there is one, to insert a command in
/// the Raft log. If there is a leader, that leader will fail quickly with a
/// high probability (perhaps without committing the command), or crash
/// after a while with low probability (most likey committing the command).
/// If the number of alive servers isn't enough to form a majority, perhaps
/// start a new server. The leader in a new term may try to finish
/// replicating log entries that haven't been committed yet.
#[test]
fn figure8_3c() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, false, false);
        cfg.begin("Test (3C): Figure 8");
        cfg.one(cfg.rand_u64(), 1, true);
        let mut nup = servers;
        for _ in 0..1000 {
            let mut leader = None;
            for i in 0..servers {
                if let Some(rf) = cfg.raft(i) {
                    let (_, _, ok) = rf.start(&Cmd::Int(cfg.rand_u64()));
                    if ok {
                        leader = Some(i);
                    }
                }
            }
            if cfg.rand_below(1000) < 100 {
                let half = RAFT_ELECTION_TIMEOUT.as_millis() as u64 / 2;
                tester::sleep(ms(cfg.rand_below(half)));
            } else {
                tester::sleep(ms(cfg.rand_below(13)));
            }
            if let Some(l) = leader {
                cfg.crash1(l);
                nup -= 1;
            }
            if nup < 3 {
                let s = cfg.rand_below(servers as u64) as usize;
                if cfg.raft(s).is_none() {
                    cfg.start1(s);
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }
        for i in 0..servers {
            if cfg.raft(i).is_none() {
                cfg.start1(i);
                cfg.connect(i);
            }
        }
        cfg.one(cfg.rand_u64(), servers, true);
        cfg.end();
    })
}

#[test]
fn unreliable_agree_3c() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, true, false);
        cfg.begin("Test (3C): unreliable agreement");
        thread::scope(|s| {
            for iters in 1..50u64 {
                for j in 0..4u64 {
                    let cfg = &cfg;
                    s.spawn(move || {
                        cfg.one(100 * iters + j, 1, true);
                    });
                }
                cfg.one(iters, 1, true);
            }
            cfg.set_unreliable(false);
        });
        cfg.one(100, servers, true);
        cfg.end();
    })
}

#[test]
fn figure8_unreliable_3c() {
    run(|| {
        let servers = 5;
        let cfg = Config::new(servers, true, false);
        cfg.begin("Test (3C): Figure 8 (unreliable)");
        cfg.one(cfg.rand_below(10000), 1, true);
        let mut nup = servers;
        let half = RAFT_ELECTION_TIMEOUT.as_millis() as u64 / 2;
        for iters in 0..1000 {
            if iters == 200 {
                cfg.set_long_reordering(true);
            }
            let mut leader = None;
            for i in 0..servers {
                let (_, _, ok) = cfg.rf(i).start(&Cmd::Int(cfg.rand_below(10000)));
                if ok && cfg.connected(i) {
                    leader = Some(i);
                }
            }
            if cfg.rand_below(1000) < 100 {
                tester::sleep(ms(cfg.rand_below(half)));
            } else {
                tester::sleep(ms(cfg.rand_below(13)));
            }
            if let Some(l) = leader {
                if cfg.rand_below(1000) < half {
                    cfg.disconnect(l);
                    nup -= 1;
                }
            }
            if nup < 3 {
                let s = cfg.rand_below(servers as u64) as usize;
                if !cfg.connected(s) {
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }
        for i in 0..servers {
            if !cfg.connected(i) {
                cfg.connect(i);
            }
        }
        cfg.one(cfg.rand_below(10000), servers, true);
        cfg.end();
    })
}

fn internal_churn(unreliable: bool) {
    let servers = 5;
    let cfg = Config::new(servers, unreliable, false);
    cfg.begin(if unreliable { "Test (3C): unreliable churn" } else { "Test (3C): churn" });
    let stop = AtomicBool::new(false);
    // create concurrent clients
    let client = |me: u64| -> Vec<u64> {
        let mut values = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let x = cfg.rand_u64();
            let mut index = None;
            for i in 0..servers {
                // try them all, maybe one of them is a leader
                if let Some(rf) = cfg.raft(i) {
                    let (index1, _, ok1) = rf.start(&Cmd::Int(x));
                    if ok1 {
                        index = Some(index1);
                    }
                }
            }
            match index {
                Some(index) => {
                    // maybe leader will commit our value, maybe not.
                    // but don't wait forever.
                    for to in [10, 20, 50, 100, 200] {
                        let (nd, cmd) = cfg.n_committed(index);
                        if nd > 0 {
                            match cmd {
                                Some(Cmd::Int(xx)) if xx == x => values.push(x),
                                Some(Cmd::Int(_)) => {}
                                _ => panic!("wrong command type"),
                            }
                            break;
                        }
                        thread::sleep(ms(to));
                    }
                }
                None => thread::sleep(ms(79 + me * 17)),
            }
        }
        values
    };
    let values: Vec<u64> = thread::scope(|s| {
        let ncli = 3;
        let clients: Vec<_> = (0..ncli).map(|i| s.spawn(move || client(i))).collect();
        for _ in 0..20 {
            if cfg.rand_below(1000) < 200 {
                let i = cfg.rand_below(servers as u64) as usize;
                cfg.disconnect(i);
            }
            if cfg.rand_below(1000) < 500 {
                let i = cfg.rand_below(servers as u64) as usize;
                if cfg.raft(i).is_none() {
                    cfg.start1(i);
                }
                cfg.connect(i);
            }
            if cfg.rand_below(1000) < 200 {
                let i = cfg.rand_below(servers as u64) as usize;
                if cfg.raft(i).is_some() {
                    cfg.crash1(i);
                }
            }
            // Make crash/restart infrequent enough that the peers can often
            // keep up, but not so infrequent that everything has settled
            // down from one change to the next. Pick a value smaller than
            // the election timeout, but not hugely smaller.
            tester::sleep(RAFT_ELECTION_TIMEOUT * 7 / 10);
        }
        tester::sleep(RAFT_ELECTION_TIMEOUT);
        cfg.set_unreliable(false);
        for i in 0..servers {
            if cfg.raft(i).is_none() {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        stop.store(true, Ordering::SeqCst);
        clients.into_iter().flat_map(|c| c.join().expect("client failed")).collect()
    });
    tester::sleep(RAFT_ELECTION_TIMEOUT);
    let last_index = cfg.one(cfg.rand_u64(), servers, true);
    let mut really = Vec::new();
    for index in 1..=last_index {
        match cfg.wait(index, servers, None) {
            Some(Cmd::Int(v)) => really.push(v),
            _ => panic!("not an int"),
        }
    }
    for v1 in values {
        assert!(really.contains(&v1), "didn't find a value");
    }
    cfg.end();
}

#[test]
fn reliable_churn_3c() {
    run(|| internal_churn(false))
}

#[test]
fn unreliable_churn_3c() {
    run(|| internal_churn(true))
}

// ---------------------------------------------------------------- 3D

fn snapcommon(name: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let cfg = Config::new(servers, !reliable, true);
    cfg.begin(name);
    cfg.one(cfg.rand_u64(), servers, true);
    let mut leader1 = cfg.check_one_leader();
    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }
        if disconnect {
            cfg.disconnect(victim);
            cfg.one(cfg.rand_u64(), servers - 1, true);
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(cfg.rand_u64(), servers - 1, true);
        }
        // perhaps send enough to get a snapshot
        let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand_below(SNAPSHOT_INTERVAL);
        let rf = cfg.rf(sender);
        for _ in 0..nn {
            rf.start(&Cmd::Int(cfg.rand_u64()));
        }
        // let applier threads catch up with the Start()'s
        if !disconnect && !crash {
            // make sure all followers have caught up, so that
            // an InstallSnapshot RPC isn't required for
            // snapshot_basic_3d().
            cfg.one(cfg.rand_u64(), servers, true);
        } else {
            cfg.one(cfg.rand_u64(), servers - 1, true);
        }
        assert!(cfg.log_size() < MAX_LOG_SIZE, "Log size too large");
        if disconnect {
            // reconnect a follower, who maybe behind and
            // needs to rceive a snapshot to catch up.
            cfg.connect(victim);
            cfg.one(cfg.rand_u64(), servers, true);
            leader1 = cfg.check_one_leader();
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(cfg.rand_u64(), servers, true);
            leader1 = cfg.check_one_leader();
        }
    }
    cfg.end();
}

#[test]
fn snapshot_basic_3d() {
    run(|| snapcommon("Test (3D): snapshots basic", false, true, false))
}

#[test]
fn snapshot_install_3d() {
    run(|| snapcommon("Test (3D): install snapshots (disconnect)", true, true, false))
}

#[test]
fn snapshot_install_unreliable_3d() {
    run(|| snapcommon("Test (3D): install snapshots (disconnect+unreliable)", true, false, false))
}

#[test]
fn snapshot_install_crash_3d() {
    run(|| snapcommon("Test (3D): install snapshots (crash)", false, true, true))
}

#[test]
fn snapshot_install_uncrash_3d() {
    run(|| snapcommon("Test (3D): install snapshots (unreliable+crash)", false, false, true))
}

/// Do the servers persist the snapshots, and restart using snapshot along
/// with the tail of the log?
#[test]
fn snapshot_all_crash_3d() {
    run(|| {
        let servers = 3;
        let iters = 5;
        let cfg = Config::new(servers, false, true);
        cfg.begin("Test (3D): crash and restart all servers");
        cfg.one(cfg.rand_u64(), servers, true);
        for _ in 0..iters {
            // perhaps enough to get a snapshot
            let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand_below(SNAPSHOT_INTERVAL);
            for _ in 0..nn {
                cfg.one(cfg.rand_u64(), servers, true);
            }
            let index1 = cfg.one(cfg.rand_u64(), servers, true);
            // crash all
            for i in 0..servers {
                cfg.crash1(i);
            }
            // revive all
            for i in 0..servers {
                cfg.start1(i);
                cfg.connect(i);
            }
            let index2 = cfg.one(cfg.rand_u64(), servers, true);
            assert!(index2 > index1, "index decreased from {index1} to {index2}");
        }
        cfg.end();
    })
}

/// Do servers correctly initialize their in-memory copy of the snapshot,
/// making sure that future writes to persistent state don't lose state?
#[test]
fn snapshot_init_3d() {
    run(|| {
        let servers = 3;
        let cfg = Config::new(servers, false, true);
        cfg.begin("Test (3D): snapshot initialization after crash");
        cfg.one(cfg.rand_u64(), servers, true);
        // enough ops to make a snapshot
        let nn = SNAPSHOT_INTERVAL + 1;
        for _ in 0..nn {
            cfg.one(cfg.rand_u64(), servers, true);
        }
        // crash all
        for i in 0..servers {
            cfg.crash1(i);
        }
        // revive all
        for i in 0..servers {
            cfg.start1(i);
            cfg.connect(i);
        }
        // a single op, to get something to be written back to persistent storage.
        cfg.one(cfg.rand_u64(), servers, true);
        // crash all
        for i in 0..servers {
            cfg.crash1(i);
        }
        // revive all
        for i in 0..servers {
            cfg.start1(i);
            cfg.connect(i);
        }
        // do another op to trigger potential bug
        cfg.one(cfg.rand_u64(), servers, true);
        cfg.end();
    })
}
