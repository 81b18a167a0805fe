//! apply.rs: what the applier delivers, and in which order, when commits,
//! InstallSnapshots and the service's own snapshots interleave. The issue
//! guarded against: the applier must never deliver a command at or below
//! an installed snapshot's index, nor a snapshot older than what was
//! applied.

use super::{ae, cmd, ents, peer};
use crate::messages::InstallSnapshotArgs;
use crate::state::RaftState;
use crate::ApplyMsg;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn is(index: u64, term: u64, data: &[u8]) -> InstallSnapshotArgs {
    InstallSnapshotArgs {
        term: 2,
        leader_id: 0,
        last_included_index: index,
        last_included_term: term,
        data: data.to_vec(),
    }
}

fn command(index: u64, term: u64) -> ApplyMsg {
    ApplyMsg::Command { index, term, command: cmd(index) }
}

fn snapshot(index: u64, term: u64, data: &[u8]) -> ApplyMsg {
    ApplyMsg::Snapshot { index, term, data: data.to_vec() }
}

/// A follower in term 2 holding `n` entries of term 1, `commit` of them
/// committed and none applied yet.
fn follower(n: usize, commit: u64, now: Instant) -> RaftState {
    let mut f = peer(1, 3, 2, &[], now);
    let n64 = n as u64;
    assert!(f.handle_append_entries(&ae(2, 0, 0, ents(1, &vec![1; n]), commit.min(n64)), now).success);
    assert_eq!(f.commit_index, commit);
    f.check_invariants();
    f
}

/// Raises the leader's commit index on `f` to `commit`.
fn commit_to(f: &mut RaftState, commit: u64, now: Instant) {
    let (last, term) = (f.log().last_index(), f.log().last_term());
    assert!(f.handle_append_entries(&ae(2, last, term, vec![], commit), now).success);
    f.check_invariants();
}

/// Takes the next batch, checking the invariants after it.
fn take(f: &mut RaftState) -> Vec<ApplyMsg> {
    let msgs = f.next_apply();
    f.check_invariants();
    msgs
}

#[test]
fn a_long_commit_is_delivered_in_bounded_batches() {
    use crate::apply::MAX_APPLY_BATCH;
    let now = Instant::now();
    let n = 2 * MAX_APPLY_BATCH + 10;
    let mut f = follower(n as usize, n, now);
    let mut next = 1;
    for want in [MAX_APPLY_BATCH, MAX_APPLY_BATCH, 10] {
        let batch = take(&mut f);
        assert_eq!(batch.len() as u64, want);
        assert_eq!(batch[0], command(next, 1));
        next += want;
        assert_eq!(f.last_applied, next - 1);
    }
    assert!(!f.has_apply_work());
}

#[test]
fn commands_are_delivered_in_order_up_to_the_commit_index() {
    let now = Instant::now();
    let mut f = peer(1, 3, 2, &[], now);
    assert!(!f.has_apply_work());
    assert!(f.handle_append_entries(&ae(2, 0, 0, ents(1, &[1, 1, 2, 2]), 2), now).success);
    assert!(f.has_apply_work());
    assert_eq!(take(&mut f), vec![command(1, 1), command(2, 1)]);
    assert_eq!(f.last_applied, 2);
    assert!(!f.has_apply_work());
    assert!(take(&mut f).is_empty(), "nothing past the commit index");
    commit_to(&mut f, 4, now);
    assert_eq!(take(&mut f), vec![command(3, 2), command(4, 2)]);
    assert_eq!(f.last_applied, 4);
    assert!(!f.has_apply_work());
}

#[test]
fn a_pending_snapshot_is_delivered_first_and_alone() {
    let now = Instant::now();
    // Commands 1 and 2 are committed but not delivered when snapshot 4
    // arrives; it covers them.
    let mut f = follower(5, 2, now);
    f.handle_install_snapshot(&is(4, 1, b"S4"), now);
    commit_to(&mut f, 5, now);
    assert!(f.has_apply_work());
    assert_eq!(take(&mut f), vec![snapshot(4, 1, b"S4")], "alone");
    assert_eq!(f.last_applied, 4);
    assert_eq!(f.pending_snapshot, None);
    assert_eq!(take(&mut f), vec![command(5, 1)], "then what follows it");
    assert!(!f.has_apply_work());
}

#[test]
fn install_snapshot_at_or_below_commit_after_commands_were_taken_is_ignored() {
    let now = Instant::now();
    let mut f = follower(6, 3, now);
    assert_eq!(take(&mut f).len(), 3);
    commit_to(&mut f, 5, now);
    // Snapshots the service may already be past: never delivered.
    f.handle_install_snapshot(&is(2, 1, b"S2"), now);
    f.handle_install_snapshot(&is(3, 1, b"S3"), now);
    f.handle_install_snapshot(&is(5, 1, b"S5"), now);
    assert_eq!(f.pending_snapshot, None);
    assert_eq!(take(&mut f), vec![command(4, 1), command(5, 1)]);
    assert_eq!(f.last_applied, 5);
    assert!(!f.has_apply_work());
}

#[test]
fn install_snapshot_arriving_during_delivery_comes_next_then_commands_after_it() {
    let now = Instant::now();
    let mut f = follower(10, 4, now);
    // The applier took 1..4 and is delivering them, lock released.
    assert_eq!(take(&mut f).len(), 4);
    f.handle_install_snapshot(&is(7, 1, b"S7"), now);
    commit_to(&mut f, 10, now);
    assert_eq!(take(&mut f), vec![snapshot(7, 1, b"S7")]);
    assert_eq!(
        take(&mut f),
        vec![command(8, 1), command(9, 1), command(10, 1)],
        "nothing at or below 7 after the snapshot"
    );

    // Same with a snapshot that does not match our log (reset).
    let mut f = follower(6, 4, now);
    assert_eq!(take(&mut f).len(), 4);
    f.handle_install_snapshot(&is(8, 2, b"S8"), now);
    assert_eq!(f.log().last_index(), 8);
    assert!(f.handle_append_entries(&ae(2, 8, 2, ents(9, &[2]), 9), now).success);
    assert_eq!(take(&mut f), vec![snapshot(8, 2, b"S8")]);
    assert_eq!(take(&mut f), vec![command(9, 2)]);
}

#[test]
fn a_newer_install_snapshot_replaces_one_not_yet_delivered() {
    let now = Instant::now();
    let mut f = follower(10, 2, now);
    assert_eq!(take(&mut f).len(), 2);
    f.handle_install_snapshot(&is(5, 1, b"S5"), now);
    f.handle_install_snapshot(&is(8, 1, b"S8"), now);
    // And an older one arriving late changes nothing.
    f.handle_install_snapshot(&is(6, 1, b"S6"), now);
    assert_eq!(take(&mut f), vec![snapshot(8, 1, b"S8")], "only the newer");
    assert_eq!(f.last_applied, 8);
    assert!(!f.has_apply_work(), "5 is never delivered");
    commit_to(&mut f, 10, now);
    assert_eq!(take(&mut f), vec![command(9, 1), command(10, 1)]);
}

#[test]
fn a_service_snapshot_racing_with_a_pending_install_snapshot_is_ignored() {
    let now = Instant::now();
    let mut f = follower(8, 3, now);
    assert_eq!(take(&mut f).len(), 3);
    f.handle_install_snapshot(&is(6, 1, b"S6"), now);
    f.take_dirty();
    // The service, having applied 3, snapshots it before seeing S6.
    assert!(!f.take_snapshot(3, b"svc3".to_vec()));
    assert!(!f.take_snapshot(2, b"svc2".to_vec()));
    f.check_invariants();
    assert_eq!(f.log().snapshot_index(), 6);
    assert_eq!(**f.snapshot(), b"S6".to_vec(), "the leader's snapshot stays");
    assert!(!f.take_dirty().snapshot);
    assert_eq!(f.pending_snapshot.as_ref().map(|p| p.index), Some(6));
    assert_eq!(take(&mut f), vec![snapshot(6, 1, b"S6")]);
    // The service's snapshot of what it installed is stale too.
    assert!(!f.take_snapshot(6, b"svc6".to_vec()));
    commit_to(&mut f, 8, now);
    assert_eq!(take(&mut f), vec![command(7, 1), command(8, 1)]);
    assert!(f.take_snapshot(8, b"svc8".to_vec()));
    f.check_invariants();
}

/// The leader's log in the randomized test: 1..20 of term 1, 21..60 of term
/// 3. The follower starts with 1..20 and an uncommitted 21..25 of term 2.
fn leader_term(i: u64) -> u64 {
    if i <= 20 {
        1
    } else {
        3
    }
}

fn snap_data(index: u64) -> Vec<u8> {
    format!("state-through-{index}").into_bytes()
}

/// Random interleavings of AppendEntries (stale or not), InstallSnapshots,
/// applier batches, slow delivery to the service, and service snapshots.
/// The service must see commands contiguously, never at or below a
/// delivered snapshot, and snapshots only moving forward.
#[test]
fn random_interleavings_deliver_in_order_and_never_move_the_service_back() {
    const LAST: u64 = 60;
    let now = Instant::now();
    let mut snapshots = 0;
    for seed in 0..40 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut terms = vec![1; 20];
        terms.extend([2; 5]);
        let mut f = peer(1, 3, 2, &terms, now);
        let mut leader_commit = 20;
        let mut channel = std::collections::VecDeque::new();
        let mut applied = 0;
        for step in 0..400 {
            let ctx = format!("seed {seed} step {step}");
            match rng.gen_range(0..100) {
                0..=34 => {
                    let prev = rng.gen_range(0..=LAST);
                    let n = rng.gen_range(0..=(LAST - prev).min(8));
                    let terms: Vec<u64> = (prev + 1..=prev + n).map(leader_term).collect();
                    // Possibly an old message, with an older commit index.
                    let commit = rng.gen_range(0..=leader_commit);
                    let prev_term = if prev == 0 { 0 } else { leader_term(prev) };
                    let args = ae(3, prev, prev_term, ents(prev + 1, &terms), commit);
                    f.handle_append_entries(&args, now);
                }
                35..=44 => {
                    let index = rng.gen_range(1..=leader_commit);
                    let args = InstallSnapshotArgs {
                        term: 3,
                        leader_id: 0,
                        last_included_index: index,
                        last_included_term: leader_term(index),
                        data: snap_data(index),
                    };
                    f.handle_install_snapshot(&args, now);
                }
                45..=54 => leader_commit = (leader_commit + rng.gen_range(1..=5)).min(LAST),
                55..=69 => channel.extend(f.next_apply()),
                70..=89 => {
                    // The service applies one message.
                    match channel.pop_front() {
                        Some(ApplyMsg::Command { index, term, command }) => {
                            assert_eq!(index, applied + 1, "{ctx}: command out of order");
                            assert_eq!((term, command), (leader_term(index), cmd(index)), "{ctx}");
                            applied = index;
                        }
                        Some(ApplyMsg::Snapshot { index, term, data }) => {
                            assert!(index > applied, "{ctx}: snapshot {index} moves the service back from {applied}");
                            assert_eq!((term, data), (leader_term(index), snap_data(index)), "{ctx}");
                            applied = index;
                            snapshots += 1;
                        }
                        None => {}
                    }
                }
                _ => {
                    // The service snapshots what it has applied.
                    if applied > 0 {
                        f.take_snapshot(applied, snap_data(applied));
                    }
                }
            }
            f.check_invariants();
            // Everything the follower holds up to its commit index is the
            // leader's.
            let log = f.log();
            for i in log.snapshot_index() + 1..=f.commit_index {
                assert_eq!(log.term_at(i), Some(leader_term(i)), "{ctx}: committed entry {i} differs");
            }
        }
        // Drain: the leader commits everything and the service catches up.
        let args = ae(3, 0, 0, ents(1, &(1..=LAST).map(leader_term).collect::<Vec<_>>()), LAST);
        assert!(f.handle_append_entries(&args, now).success);
        while f.has_apply_work() {
            channel.extend(take(&mut f));
        }
        for m in channel {
            match m {
                ApplyMsg::Command { index, .. } => {
                    assert_eq!(index, applied + 1, "seed {seed}: drain out of order");
                    applied = index;
                }
                ApplyMsg::Snapshot { index, .. } => {
                    assert!(index > applied, "seed {seed}: drain snapshot moves back");
                    applied = index;
                }
            }
        }
        assert_eq!(applied, LAST, "seed {seed}: the service did not catch up");
    }
    assert!(snapshots > 40, "the interleavings rarely delivered an InstallSnapshot ({snapshots})");
}
