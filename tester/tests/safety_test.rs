//! The safety suite: scripted scenarios that force the situations in which
//! the classic Raft bugs break the paper's rules, run under the harness's
//! always-on monitors (`Config::safety`): at most one leader per term over
//! the whole test, each peer's applied sequence never going back or
//! repeating, and no two peers applying different commands at an index.
//! Names end in `_safety` (`make test-safety`); not part of the course's 28.
//!
//! Each scenario uses only the documented Raft API and the tester's own
//! controls (disconnect, crash, restart, cutting one link, holding the
//! messages of one link), and waits generously but boundedly, so that any
//! correct Raft within the lab's timing (heartbeats at most 10/s, a new
//! leader within a few seconds) passes. Where a Raft does not walk into the
//! situation (it did not campaign when expected, say), the scenario tries
//! again or prints a `warning:` line; it never fails a correct Raft for it.

use std::thread;
use std::time::{Duration, Instant};
use tester::{run, Cmd, Config, Release, SNAPSHOT_INTERVAL};

fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

/// The peers of `among` that claim leadership now: (peer, term).
fn leaders(cfg: &Config, among: &[usize]) -> Vec<(usize, u64)> {
    among
        .iter()
        .filter_map(|&i| cfg.raft(i).map(|rf| (i, rf.get_state())))
        .filter(|(_, (_, leader))| *leader)
        .map(|(i, (term, _))| (i, term))
        .collect()
}

/// The terms of the running peers of `among`.
fn terms(cfg: &Config, among: &[usize]) -> Vec<u64> {
    among.iter().filter_map(|&i| cfg.raft(i).map(|rf| rf.get_state().0)).collect()
}

/// Polls `cond` every 2 ms until it holds or `limit` passes.
fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        thread::sleep(ms(2));
    }
    cond()
}

// ------------------------------------------------------------ §5.4.2

/// The sequence of Figure 8 of the paper, with disconnections in place of
/// crashes. (a) S1 leads and its new entry X reaches S2 only; (b) S5 is
/// elected by S3, S4, S5 and puts Y at the same index, on itself only; (c)
/// S1 or S2 leads S1..S4 and replicates X to S3 and S4: X is on a majority
/// but of an older term, and must not count as committed (§5.4.2); (d) S5
/// comes back with S3 and S4 only: the one peer that can win (its last term
/// is newer, §5.4.1), it overwrites X with Y and commits it. A leader that
/// counts replicas for an old term's entry applied X in (c); the monitor
/// then sees Y applied at the same index.
#[test]
fn figure8_commit_rule_safety() {
    run(|| {
        let servers = 5;
        let cfg = Config::safety(servers, false, false);
        cfg.begin("Test (safety): Figure 8, an old term's entry is never committed by counting replicas (§5.4.2)");
        cfg.one(Cmd::Int(101), servers, true);
        // (a) S1 (any leader) appends X; only S2 is connected to it.
        let (s1, s2) = (0..10)
            .find_map(|_| {
                let s1 = cfg.check_one_leader();
                let s2 = (s1 + 1) % servers;
                for j in (0..servers).filter(|&j| j != s1 && j != s2) {
                    cfg.disconnect(j);
                }
                let (_, _, ok) = cfg.rf(s1).start(&Cmd::Int(102));
                if !ok {
                    (0..servers).for_each(|j| cfg.connect(j));
                }
                ok.then_some((s1, s2))
            })
            .expect("no leader accepted a command in 10 tries");
        thread::sleep(ms(300)); // a heartbeat or two carry X to S2
        cfg.disconnect(s1);
        cfg.disconnect(s2);
        // (b) S3, S4, S5 elect one of themselves (S5), which appends Y alone.
        let rest: Vec<usize> = (0..servers).filter(|&j| j != s1 && j != s2).collect();
        let (s5, s34) = (0..10)
            .find_map(|_| {
                rest.iter().for_each(|&j| cfg.connect(j));
                let s5 = cfg.check_one_leader();
                let s34: Vec<usize> = rest.iter().copied().filter(|&j| j != s5).collect();
                s34.iter().for_each(|&j| cfg.disconnect(j));
                let (_, _, ok) = cfg.rf(s5).start(&Cmd::Int(103));
                ok.then_some((s5, s34))
            })
            .expect("no leader among S3, S4, S5 accepted a command in 10 tries");
        thread::sleep(ms(100));
        cfg.disconnect(s5);
        // (c) S1..S4: only S1 or S2 can win (they hold X); the leader sends X
        // to S3 and S4. No command is started: nothing of the current term.
        for j in [s1, s2, s34[0], s34[1]] {
            cfg.connect(j);
        }
        cfg.check_one_leader();
        thread::sleep(ms(1000));
        // (d) S5 with S3 and S4: only S5 can win; Y replaces X and commits.
        cfg.disconnect(s1);
        cfg.disconnect(s2);
        cfg.connect(s5);
        cfg.one(Cmd::Int(104), 3, true);
        cfg.connect(s1);
        cfg.connect(s2);
        cfg.one(Cmd::Int(105), servers, true);
        cfg.end();
    })
}

// ------------------------------------------------------------ §5.4.1

/// The election restriction (§5.4.1): a voter refuses a candidate whose log
/// is less up-to-date than its own. S misses an entry X that the leader
/// and F commit and apply; the leader crashes. S, which campaigned alone
/// for a while, comes back with a newer term: its latest vote request,
/// held in the network meanwhile, reaches F at once, while F's own requests
/// to S are held for 2 s, so that S's are the only ones in play. A
/// voter without the restriction elects S, which puts its own entry where
/// X is and commits it: the monitor sees two commands applied at one index.
#[test]
fn election_restriction_safety() {
    run(|| {
        let servers = 3;
        let cfg = Config::safety(servers, false, false);
        cfg.begin("Test (safety): a candidate with a stale log is not elected (§5.4.1)");
        cfg.one(Cmd::Int(401), servers, true);
        let l = cfg.check_one_leader();
        let (f, s) = ((l + 1) % servers, (l + 2) % servers);
        // S is cut off; the vote requests it sends F meanwhile wait in the
        // network.
        cfg.hold(s, f, &["Raft.RequestVote"]);
        cfg.disconnect(s);
        cfg.one(Cmd::Int(402), 2, true);
        thread::sleep(ms(1000)); // S campaigns alone: its term grows past F's
        cfg.hold(f, s, &["Raft.RequestVote"]);
        cfg.crash1(l);
        cfg.connect(s);
        // S's latest request (its newest term) reaches F first; F's own
        // requests wait. A correct F refuses S and elects no one yet.
        cfg.release(s, f, Release::NewestFirst);
        thread::sleep(ms(2000));
        cfg.release(f, s, Release::OldestFirst);
        // F (or, with the bug, S) leads; the new command follows X.
        cfg.one(Cmd::Int(403), 2, true);
        cfg.start1(l);
        cfg.connect(l);
        cfg.one(Cmd::Int(404), servers, true);
        cfg.end();
    })
}

// ------------------------------------------------------------ §5.2

/// One vote per term survives a crash (§5.2; votedFor is persistent state,
/// Figure 2). Two peers, both in term t, elect one of themselves (L1) in
/// term t+1: the other (the voter) voted for L1. L1 is cut off and the
/// voter crashes. The third peer, which crashed in term t, restarts and
/// campaigns in term t+1; its vote request waits in the network until the
/// voter has restarted, and then reaches it at once. A voter that forgot
/// its vote grants it again: two leaders in term t+1, which the monitor
/// sees.
#[test]
fn persisted_vote_safety() {
    run(|| {
        let servers = 3;
        let all: Vec<usize> = (0..servers).collect();
        let cfg = Config::safety(servers, false, false);
        cfg.begin("Test (safety): a vote survives a crash, one vote per term (§5.2, Figure 2)");
        cfg.one(Cmd::Int(201), servers, true);
        let mut forced = 0;
        for attempt in 0..6u64 {
            if attempt > 0 {
                for i in 0..servers {
                    if cfg.raft(i).is_none() {
                        cfg.start1(i);
                    }
                    cfg.connect(i);
                }
                cfg.one(Cmd::Int(210 + attempt), servers, true);
            }
            let p = cfg.check_one_leader();
            let ts = terms(&cfg, &all);
            if ts.iter().any(|&x| x != ts[0]) {
                continue; // not settled in one term: try again
            }
            let t = ts[0];
            let (c2, q) = ((p + 1) % servers, (p + 2) % servers);
            // C2 goes down in term t; the leader restarts at once, so P and Q
            // are followers in term t, and elect one of themselves in t+1.
            cfg.crash1(c2);
            cfg.crash1(p);
            cfg.start1(p);
            cfg.connect(p);
            let l1 = cfg.check_one_leader();
            let voter = if l1 == p { q } else { p };
            if cfg.rf(l1).get_state().0 != t + 1 {
                continue; // a split vote: L1's term is not the one C2 will campaign in
            }
            // L1 won term t+1 with the voter's vote.
            cfg.disconnect(l1);
            cfg.crash1(voter);
            cfg.hold(c2, voter, &["Raft.RequestVote"]);
            cfg.start1(c2);
            cfg.connect(c2);
            // C2 (term t) times out and asks for votes in term t+1.
            if !wait_until(ms(5000), || !cfg.held(c2, voter).is_empty()) {
                cfg.release(c2, voter, Release::OldestFirst);
                continue;
            }
            // The voter restarts in term t+1 (having voted for L1) and gets
            // C2's request for term t+1 before its own timer can fire.
            cfg.start1(voter);
            cfg.connect(voter);
            cfg.release(c2, voter, Release::OldestFirst);
            thread::sleep(ms(1000));
            forced += 1;
            break;
        }
        if forced == 0 {
            println!("warning: the situation (a vote request for a term the restarted voter voted in) was not set up in 6 attempts");
        }
        for i in 0..servers {
            if cfg.raft(i).is_none() {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        cfg.one(Cmd::Int(299), servers, true);
        cfg.end();
    })
}

// ------------------------------------------------------------ Figure 2, §5.2, §5.4.1

/// Followers still time out while candidates that cannot win campaign
/// (Figure 2, Followers: only AppendEntries from the current leader or a
/// granted vote resets the election timer; §5.2; §5.4.1). Of 9 peers, 4
/// miss an entry the other 5 commit; then 4 of those 5 crash, leaving F,
/// the one peer that can win (the others' logs are stale, §5.4.1), with the
/// 4 stale peers, which cannot reach each other and keep campaigning.
/// Their requests are refused, and must not reset F's timer: F times out,
/// and wins. A Raft whose timer any RPC resets elects no one (or, by luck
/// of its random timeouts, late: three rounds).
#[test]
fn election_timer_safety() {
    run(|| {
        let servers = 9;
        let cfg = Config::safety(servers, false, false);
        cfg.begin(
            "Test (safety): followers time out while candidates that cannot win campaign (Figure 2, §5.2, §5.4.1)",
        );
        cfg.one(Cmd::Int(301), servers, true);
        // Each round's F may win by luck of the draws under the bug (the
        // stale requests leave it a long enough gap now and then), so three
        // rounds, each with other peers.
        for round in 0..3u64 {
            let l = cfg.check_one_leader();
            let f = (l + 1) % servers;
            let stale: Vec<usize> = (2..6).map(|k| (l + k) % servers).collect();
            let gone: Vec<usize> = [0, 6, 7, 8].iter().map(|k| (l + k) % servers).collect();
            for &s in &stale {
                cfg.disconnect(s);
            }
            cfg.one(Cmd::Int(310 + round), 5, true);
            for (k, &a) in stale.iter().enumerate() {
                for &b in &stale[k + 1..] {
                    cfg.cut(a, b);
                }
            }
            for &g in &gone {
                cfg.crash1(g);
            }
            for &s in &stale {
                cfg.connect(s);
            }
            let limit = Duration::from_secs(5);
            let t0 = Instant::now();
            let mut alive = stale.clone();
            alive.push(f);
            if !wait_until(limit, || !leaders(&cfg, &alive).is_empty()) {
                let (term, _) = cfg.rf(f).get_state();
                panic!(
                    "no leader {:.1} s after S{l} and the other up-to-date peers but S{f} crashed: S{f} (term \
                     {term}) holds the newest log of the live peers and is the only one that can win, while \
                     S{stale:?} campaign with stale logs. Figure 2 (Followers): a follower becomes a candidate \
                     when its election timeout elapses without AppendEntries from the current leader or granting \
                     a vote; a refused RequestVote (§5.4.1), or one of a newer term, must not reset the timer \
                     (§5.2)",
                    t0.elapsed().as_secs_f64(),
                );
            }
            for (k, &a) in stale.iter().enumerate() {
                for &b in &stale[k + 1..] {
                    cfg.heal(a, b);
                }
            }
            for &g in &gone {
                cfg.start1(g);
                cfg.connect(g);
            }
            cfg.one(Cmd::Int(320 + round), servers, true);
        }
        cfg.one(Cmd::Int(303), servers, true);
        cfg.end();
    })
}

// ------------------------------------------------------------ §7

/// An old InstallSnapshot delivered after a newer one is ignored (§7,
/// Figure 13: a snapshot that does not reach past what the follower has
/// must not move it back). F crashes and falls behind a snapshot of the
/// leader; F restarts, and what the leader sends it in InstallSnapshot
/// waits in the network while the leader snapshots again; then the held
/// messages are delivered, the newest alone first. A follower that
/// installs an old one hands its service a snapshot older than the state
/// it applied: the monitor sees the applied sequence move back. (Tried
/// again if the leadership moved meanwhile.)
#[test]
fn stale_install_snapshot_safety() {
    run(|| {
        let servers = 3;
        let cfg = Config::safety(servers, false, true);
        cfg.begin("Test (safety): an old InstallSnapshot delivered after a newer one is ignored (§7, Figure 13)");
        cfg.one(Cmd::Int(cfg.rand_u64()), servers, true);
        let mut set_up = false;
        for _attempt in 0..3 {
            let l = cfg.check_one_leader();
            let f = (l + 1) % servers;
            let others: Vec<usize> = (0..servers).filter(|&j| j != f).collect();
            cfg.crash1(f);
            for _ in 0..2 * SNAPSHOT_INTERVAL {
                cfg.one(Cmd::Int(cfg.rand_u64()), servers - 1, true);
            }
            for &j in &others {
                cfg.hold(j, f, &["Raft.InstallSnapshot"]);
            }
            cfg.start1(f);
            cfg.connect(f);
            let held = |cfg: &Config| others.iter().map(|&j| cfg.held(j, f).len()).sum::<usize>();
            let first = wait_until(ms(5000), || held(&cfg) > 0);
            // Who sent it, in which term.
            let sender = leaders(&cfg, &others).first().copied();
            // More commands: the leader snapshots again, past what it sent.
            for _ in 0..SNAPSHOT_INTERVAL + 1 {
                cfg.one(Cmd::Int(cfg.rand_u64()), servers - 1, true);
            }
            thread::sleep(ms(200)); // the leader's snapshot() call follows its apply
            let before = held(&cfg);
            let newer = first && wait_until(ms(5000), || held(&cfg) > before);
            // Set up if the same leader, in the same term, sent both: an old
            // term's message would be refused for its term alone.
            set_up = newer && sender.is_some_and(|(j, term)| leaders(&cfg, &[j]) == [(j, term)]);
            if set_up {
                // The newest first, alone: F installs it and hands it to its
                // service. Then the older ones, newest first.
                let (j, _) = sender.expect("set up");
                cfg.release_one(j, f, Release::NewestFirst);
                thread::sleep(ms(500));
            }
            for &j in &others {
                cfg.release(j, f, Release::NewestFirst);
            }
            thread::sleep(ms(1000));
            cfg.one(Cmd::Int(cfg.rand_u64()), servers, true);
            if set_up {
                break;
            }
        }
        if !set_up {
            println!(
                "warning: the situation (one leader sends InstallSnapshot, snapshots again and sends another, in \
                 one term) was not set up in 3 attempts"
            );
        }
        cfg.end();
    })
}

/// A restarted leader still has its snapshot for a lagging follower (§7:
/// the snapshot is persistent state, saved with the Raft state and read
/// back on restart). F crashes; the others commit past a snapshot, then both
/// restart, and one leads; F comes back and can catch up only through
/// InstallSnapshot from a peer whose snapshot comes from its persister. A
/// Raft that does not read its snapshot back sends an empty one.
#[test]
fn snapshot_after_restart_safety() {
    run(|| {
        let servers = 3;
        let cfg = Config::safety(servers, false, true);
        cfg.begin("Test (safety): a restarted peer sends the snapshot it saved to a lagging follower (§7)");
        cfg.one(Cmd::Int(cfg.rand_u64()), servers, true);
        let l = cfg.check_one_leader();
        let f = (l + 1) % servers;
        let others: Vec<usize> = (0..servers).filter(|&j| j != f).collect();
        cfg.crash1(f);
        for _ in 0..2 * SNAPSHOT_INTERVAL + 5 {
            cfg.one(Cmd::Int(cfg.rand_u64()), servers - 1, true);
        }
        for &j in &others {
            cfg.crash1(j);
        }
        for &j in &others {
            cfg.start1(j);
            cfg.connect(j);
        }
        cfg.one(Cmd::Int(cfg.rand_u64()), servers - 1, true);
        cfg.start1(f);
        cfg.connect(f);
        cfg.one(Cmd::Int(cfg.rand_u64()), servers, true);
        cfg.end();
    })
}
