//! Loom models of the hand-off between the rules and the applier thread:
//! commits and installed snapshots woken through `apply_cv`, and `kill`.
//! The ticker waits with a timeout, which loom does not model, so no model
//! runs it; every peer here is built by `Raft::new_idle` and driven by the
//! model's threads. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release -p raft --lib loom`.

use crate::log::Entry;
use crate::messages::{AppendEntriesArgs, InstallSnapshotArgs};
use crate::state::RaftState;
use crate::{ApplyMsg, Raft};
use labrpc::ClientEnd;
use loom::thread;
use persister::Persister;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A peer of `n` with no threads; its ends are detached, so it never sends.
fn idle_peer(n: usize) -> Raft {
    let peers = (0..n).map(|i| ClientEnd::detached(&format!("end-{i}"))).collect();
    Raft::new_idle(peers, 0, Arc::new(Persister::new())).expect("a fresh persister decodes")
}

/// Runs `rule` through `with_state`, then pins the election deadline an
/// hour ahead. `with_state` notifies the ticker when the deadline moved
/// earlier, which depends on the clock and the random timeout; loom needs
/// the same operations in every execution, so the deadline never moves
/// earlier here (and there is no ticker to notify).
fn run<T>(raft: &Raft, rule: impl FnOnce(&mut RaftState, Instant) -> T) -> T {
    raft.node.with_state(|st, now, out| {
        let r = rule(st, now);
        assert!(out.is_empty(), "a model's peer sends nothing");
        st.election_deadline = now + Duration::from_secs(3600);
        r
    })
}

/// The leader of a single-peer cluster: commits on `start`.
fn single_leader() -> Raft {
    let raft = idle_peer(1);
    run(&raft, |st, now| st.start_election(now, &mut Vec::new()));
    assert!(raft.get_state().1, "a single peer elects itself");
    raft
}

/// Starts the applier on a loom thread, delivering to the returned channel.
fn spawn_applier(raft: &Raft) -> (thread::JoinHandle<()>, Receiver<ApplyMsg>) {
    let (tx, rx) = mpsc::channel();
    let node = Arc::clone(&raft.node);
    // Unbounded and std's (loom does not model crossbeam): the hand-off
    // under test is the lock and `apply_cv`, not the channel.
    (thread::spawn(move || node.run_applier(|m| tx.send(m).is_ok())), rx)
}

/// (index, command) of a delivered command.
fn command(m: &ApplyMsg) -> (u64, u64) {
    match m {
        ApplyMsg::Command { index, .. } => (*index, m.decode_command::<u64>().unwrap().unwrap()),
        ApplyMsg::Snapshot { index, .. } => panic!("unexpected snapshot through {index}"),
    }
}

/// Waits (loom-fairly) until the applier has taken everything through `index`.
fn wait_applied(raft: &Raft, index: u64) {
    while raft.node.lock().last_applied < index {
        thread::yield_now();
    }
}

/// Two commits racing with the applier's wait: both are delivered, in
/// order, exactly once (a lost wake-up would leave the applier asleep and
/// this model spinning forever), and the applier exits after `kill`.
#[test]
fn loom_commits_are_applied_once_in_order() {
    loom::model(|| {
        let raft = single_leader();
        let (applier, rx) = spawn_applier(&raft);
        assert_eq!(raft.start(&10u64), (1, 1, true));
        assert_eq!(raft.start(&20u64), (2, 1, true));
        wait_applied(&raft, 2);
        raft.kill();
        applier.join().unwrap();
        let got: Vec<_> = rx.try_iter().map(|m| command(&m)).collect();
        assert_eq!(got, vec![(1, 10), (2, 20)]);
    });
}

/// `kill` right after two commits, racing with the applier: no deadlock,
/// the applier exits, and what it delivered is a prefix of the log, in
/// order, each command once, exactly what it took (`last_applied`).
#[test]
fn loom_kill_races_with_pending_commits() {
    loom::model(|| {
        let raft = single_leader();
        let (applier, rx) = spawn_applier(&raft);
        raft.start(&10u64);
        raft.start(&20u64);
        raft.kill();
        applier.join().unwrap();
        let got: Vec<_> = rx.try_iter().map(|m| command(&m)).collect();
        assert_eq!(got[..], [(1, 10), (2, 20)][..got.len()]);
        assert_eq!(got.len() as u64, raft.node.lock().last_applied);
        assert!(!raft.start(&30u64).2, "a killed peer proposes nothing");
    });
}

/// A proposer thread's two `start`s racing with `kill` on another thread,
/// and the applier: no deadlock, every thread exits, each accepted command
/// took the next index, and the applier delivered a prefix of the accepted
/// ones, in order, each once.
#[test]
fn loom_kill_races_with_start_from_another_thread() {
    loom::model(|| {
        let raft = single_leader();
        let (applier, rx) = spawn_applier(&raft);
        let proposer = {
            let raft = raft.clone();
            thread::spawn(move || [10u64, 20].map(|c| raft.start(&c)))
        };
        raft.kill();
        let accepted: Vec<u64> = proposer.join().unwrap().iter().filter(|r| r.2).map(|r| r.0).collect();
        applier.join().unwrap();
        assert_eq!(accepted[..], [1, 2][..accepted.len()]);
        let got: Vec<_> = rx.try_iter().map(|m| command(&m)).collect();
        assert!(got.len() <= accepted.len());
        assert_eq!(got[..], [(1, 10), (2, 20)][..got.len()]);
    });
}

/// An applier waiting for work, killed from another thread while the main
/// thread kills too: both `kill`s return, the applier wakes and exits, and
/// nothing is delivered.
#[test]
fn loom_kill_wakes_a_waiting_applier() {
    loom::model(|| {
        let raft = single_leader();
        let (applier, rx) = spawn_applier(&raft);
        let killer = {
            let raft = raft.clone();
            thread::spawn(move || raft.kill())
        };
        raft.kill();
        killer.join().unwrap();
        applier.join().unwrap();
        assert!(raft.killed());
        assert!(rx.try_recv().is_err());
    });
}

/// A follower commits entry 1, installs a snapshot through 3 (set as
/// pending under the lock by `handle_install_snapshot`) and commits entry 4,
/// while the applier runs. The snapshot is delivered exactly once, after
/// nothing at or above its index and before every later command; commands
/// are delivered in index order, each once.
#[test]
fn loom_pending_snapshot_races_with_applier() {
    loom::model(|| {
        let raft = idle_peer(2);
        let (applier, rx) = spawn_applier(&raft);
        let entry = |c: u64| Entry { term: 1, command: labgob::encode(&c) };
        let append = |prev_log_index, entries, leader_commit| AppendEntriesArgs {
            term: 1,
            leader_id: 1,
            prev_log_index,
            prev_log_term: if prev_log_index == 0 { 0 } else { 1 },
            entries,
            leader_commit,
        };
        let r = run(&raft, |st, now| st.handle_append_entries(&append(0, vec![entry(1), entry(2)], 1), now));
        assert!(r.success);
        let snap =
            InstallSnapshotArgs { term: 1, leader_id: 1, last_included_index: 3, last_included_term: 1, data: vec![3] };
        run(&raft, |st, now| st.handle_install_snapshot(&snap, now));
        let r = run(&raft, |st, now| st.handle_append_entries(&append(3, vec![entry(4)], 4), now));
        assert!(r.success);
        wait_applied(&raft, 4);
        raft.kill();
        applier.join().unwrap();

        let got: Vec<ApplyMsg> = rx.try_iter().collect();
        let snaps: Vec<usize> = (0..got.len()).filter(|&i| matches!(got[i], ApplyMsg::Snapshot { .. })).collect();
        assert_eq!(snaps.len(), 1, "the snapshot is delivered exactly once: {got:?}");
        assert_eq!(got[snaps[0]], ApplyMsg::Snapshot { index: 3, term: 1, data: vec![3] });
        let (before, after) = got.split_at(snaps[0]);
        let before: Vec<_> = before.iter().map(command).collect();
        let after: Vec<_> = after[1..].iter().map(command).collect();
        // Entry 1 may or may not have been applied before the snapshot came.
        assert!(before.is_empty() || before == [(1, 1)], "before the snapshot: {before:?}");
        assert_eq!(after, [(4, 4)], "after the snapshot");
    });
}
