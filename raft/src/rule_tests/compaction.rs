//! compaction.rs: the service's snapshots, the InstallSnapshot receiver and
//! the leader's handling of its reply.

use super::{ae, appends_to, cmd, elect, ents, fresh_deadline, log_of, peer, peer_with, rejected, terms_of};
use crate::compaction::SnapshotSent;
use crate::messages::{InstallSnapshotArgs, InstallSnapshotReply, Outgoing};
use crate::state::{Dirty, PendingSnapshot, RaftState, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn is(term: u64, index: u64, last_term: u64, data: &[u8]) -> InstallSnapshotArgs {
    InstallSnapshotArgs {
        term,
        leader_id: 0,
        last_included_index: index,
        last_included_term: last_term,
        data: data.to_vec(),
    }
}

/// A follower in term 2 whose log has the given terms, with `commit`
/// committed and everything committed already handed to the service.
fn applied_follower(terms: &[u64], commit: u64, now: Instant) -> RaftState {
    let mut f = peer(1, 3, 2, terms, now);
    let last = f.log().last_index();
    let last_term = f.log().last_term();
    assert!(f.handle_append_entries(&ae(2, last, last_term, vec![], commit), now).success);
    assert_eq!(f.commit_index, commit);
    assert_eq!(f.next_apply().len() as u64, commit);
    assert_eq!(f.last_applied, commit);
    f.take_dirty();
    f
}

// ---------------------------------------------------------------------
// The service's snapshot
// ---------------------------------------------------------------------

#[test]
fn take_snapshot_trims_the_log_and_marks_both_dirty_flags() {
    let now = Instant::now();
    let mut f = applied_follower(&[1, 1, 2, 2, 2], 5, now);
    assert!(f.take_snapshot(3, b"s3".to_vec()));
    assert_eq!((f.log().snapshot_index(), f.log().snapshot_term()), (3, 2));
    assert_eq!(terms_of(f.log()), vec![2, 2], "entries 4 and 5 are kept");
    assert_eq!(f.log().get(4).unwrap().command, cmd(4));
    assert_eq!(f.log().last_index(), 5);
    assert_eq!(**f.snapshot(), b"s3".to_vec());
    assert_eq!(f.take_dirty(), Dirty { state: true, snapshot: true }, "log and snapshot are saved together");
    assert_eq!((f.commit_index, f.last_applied), (5, 5), "unchanged");
    f.check_invariants();
}

#[test]
fn take_snapshot_at_or_below_the_current_snapshot_is_ignored() {
    let now = Instant::now();
    let mut f = applied_follower(&[1, 1, 2, 2, 2], 5, now);
    assert!(f.take_snapshot(3, b"s3".to_vec()));
    f.take_dirty();
    assert!(!f.take_snapshot(3, b"again".to_vec()));
    assert!(!f.take_snapshot(2, b"older".to_vec()));
    assert_eq!(f.log().snapshot_index(), 3);
    assert_eq!(**f.snapshot(), b"s3".to_vec(), "the snapshot is not replaced");
    assert_eq!(f.take_dirty(), Dirty::default(), "nothing to save");
    // A newer one is taken.
    assert!(f.take_snapshot(5, b"s5".to_vec()));
    assert!(f.log().is_empty());
    assert_eq!((f.log().last_index(), f.log().last_term()), (5, 2));
    f.check_invariants();
}

#[test]
#[should_panic(expected = "past the last index delivered to the service")]
fn take_snapshot_past_last_applied_panics() {
    let now = Instant::now();
    let mut f = applied_follower(&[1, 1, 1, 1, 1], 2, now);
    // Entries 3..5 are committed but not yet handed to the service.
    assert!(f.handle_append_entries(&ae(2, 5, 1, vec![], 5), now).success);
    assert_eq!((f.commit_index, f.last_applied), (5, 2));
    f.take_snapshot(3, b"s3".to_vec());
}

// ---------------------------------------------------------------------
// InstallSnapshot receiver
// ---------------------------------------------------------------------

#[test]
fn install_snapshot_of_an_old_term_is_rejected() {
    let now = Instant::now();
    let mut f = peer(1, 3, 5, &[1], now);
    let deadline = f.election_deadline;
    let r = f.handle_install_snapshot(&is(4, 10, 4, b"old"), now + Duration::from_secs(10));
    assert_eq!(r, InstallSnapshotReply { term: 5 });
    assert_eq!(f.pending_snapshot, None);
    assert_eq!((f.log().snapshot_index(), f.log().last_index()), (0, 1));
    assert_eq!(f.commit_index, 0);
    assert!(f.snapshot().is_empty());
    assert_eq!(f.election_deadline, deadline);
    assert_eq!(f.take_dirty(), Dirty::default());
    f.check_invariants();
}

#[test]
fn install_snapshot_not_past_our_commit_index_is_ignored() {
    let now = Instant::now();
    let mut f = applied_follower(&[1, 1, 1, 1, 1], 3, now);
    for index in [2, 3] {
        let r = f.handle_install_snapshot(&is(2, index, 1, b"stale"), now);
        assert_eq!(r.term, 2);
        assert_eq!(f.pending_snapshot, None, "snapshot {index} brings nothing");
        assert_eq!((f.log().snapshot_index(), f.log().last_index()), (0, 5));
        assert_eq!(f.commit_index, 3);
        assert!(f.snapshot().is_empty());
        assert!(!f.take_dirty().snapshot);
    }
    // A newer term is still adopted, and the leader still resets the timer.
    let later = now + Duration::from_secs(10);
    let r = f.handle_install_snapshot(&is(3, 3, 1, b"stale"), later);
    assert_eq!((r.term, f.current_term()), (3, 3));
    assert_eq!(f.pending_snapshot, None);
    assert!(fresh_deadline(f.election_deadline, later));
    assert_eq!(f.take_dirty(), Dirty { state: true, snapshot: false });
    f.check_invariants();
}

#[test]
fn install_snapshot_matching_our_log_keeps_the_suffix() {
    let now = Instant::now();
    let mut f = applied_follower(&[1, 1, 1, 2, 2], 2, now);
    let r = f.handle_install_snapshot(&is(2, 3, 1, b"S3"), now);
    assert_eq!(r.term, 2);
    assert_eq!((f.log().snapshot_index(), f.log().snapshot_term()), (3, 1));
    assert_eq!(terms_of(f.log()), vec![2, 2], "4 and 5 are kept");
    assert_eq!(f.log().get(5).unwrap().command, cmd(5));
    assert_eq!(f.commit_index, 3);
    assert_eq!(f.last_applied, 2, "the applier has not delivered it yet");
    assert_eq!(f.pending_snapshot, Some(PendingSnapshot { index: 3, term: 1, data: Arc::new(b"S3".to_vec()) }));
    assert_eq!(**f.snapshot(), b"S3".to_vec());
    assert_eq!(f.take_dirty(), Dirty { state: true, snapshot: true });
    f.check_invariants();
}

#[test]
fn install_snapshot_not_matching_our_log_resets_it() {
    let now = Instant::now();
    // Our entry 3 has term 2, the snapshot's has term 3.
    let mut f = applied_follower(&[1, 1, 2, 2], 1, now);
    let r = f.handle_install_snapshot(&is(3, 3, 3, b"S3"), now);
    assert_eq!((r.term, f.current_term()), (3, 3));
    assert!(f.log().is_empty(), "our entry 4 followed a conflicting entry");
    assert_eq!((f.log().last_index(), f.log().last_term()), (3, 3));
    assert_eq!(f.commit_index, 3);
    assert_eq!(f.pending_snapshot.as_ref().map(|p| (p.index, p.term)), Some((3, 3)));
    f.check_invariants();

    // Our log ends before the snapshot.
    let mut f = peer(1, 3, 1, &[1], now);
    f.handle_install_snapshot(&is(2, 10, 2, b"S10"), now);
    assert_eq!((f.log().snapshot_index(), f.log().last_index(), f.log().last_term()), (10, 10, 2));
    assert_eq!(f.commit_index, 10);
    assert_eq!(f.pending_snapshot.as_ref().unwrap().data.as_slice(), b"S10");
    f.check_invariants();
}

#[test]
fn install_snapshot_makes_a_candidate_of_that_term_step_down() {
    let now = Instant::now();
    let mut c = peer(1, 3, 1, &[1], now);
    c.start_election(now, &mut Vec::new());
    let later = now + Duration::from_secs(10);
    c.handle_install_snapshot(&is(2, 4, 2, b"S4"), later);
    assert_eq!(c.role, Role::Follower);
    assert_eq!((c.current_term(), c.voted_for()), (2, Some(1)));
    assert!(fresh_deadline(c.election_deadline, later));
    assert_eq!(c.log().snapshot_index(), 4);
    c.check_invariants();
}

// ---------------------------------------------------------------------
// Leader side
// ---------------------------------------------------------------------

/// A 3-peer leader of term 2 with a snapshot through 3 and entries 4, 5,
/// that just sent follower 1 an InstallSnapshot at `t1`.
fn leader_sending_snapshot(t0: Instant, t1: Instant) -> (RaftState, SnapshotSent) {
    let mut l = peer_with(0, 3, 1, log_of((3, 1), &[1, 1]), b"L3".to_vec(), t0);
    let hb = elect(&mut l, t0);
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    let mut out = Vec::new();
    l.handle_append_reply(1, &hb1, &rejected(2, None, 0, 1), t1, &mut out);
    let Some(Outgoing::InstallSnapshot { args, sent_at, .. }) = out.pop() else { panic!("no InstallSnapshot sent") };
    let sent = SnapshotSent { term: args.term, last_included_index: args.last_included_index, sent_at };
    (l, sent)
}

#[test]
fn snapshot_reply_sets_match_and_next_and_sends_the_rest() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_millis(1);
    let (mut l, sent) = leader_sending_snapshot(t0, t1);
    assert_eq!(sent.last_included_index, 3);
    assert_eq!(l.progress[1].inflight_since, Some(t1));
    let mut out = Vec::new();
    let t2 = t1 + Duration::from_millis(1);
    l.handle_snapshot_reply(1, &sent, &InstallSnapshotReply { term: 2 }, t2, &mut out);
    assert_eq!((l.progress[1].match_index, l.progress[1].next_index), (3, 4));
    let (args, _) = appends_to(&out, 1).remove(0);
    assert_eq!((args.prev_log_index, args.prev_log_term), (3, 1));
    assert_eq!(args.entries, ents(4, &[1, 1]), "then the entries after it");
    assert_eq!(l.progress[1].inflight_since, Some(t2));
    l.check_invariants();

    // A duplicate reply never moves match back nor resends.
    out.clear();
    let older = SnapshotSent { last_included_index: 2, ..sent };
    l.handle_snapshot_reply(1, &older, &InstallSnapshotReply { term: 2 }, t2, &mut out);
    assert_eq!((l.progress[1].match_index, l.progress[1].next_index), (3, 4));
    assert_eq!(l.progress[1].inflight_since, Some(t2));
    assert!(out.is_empty());
    l.check_invariants();
}

#[test]
fn snapshot_reply_of_a_newer_term_deposes_and_of_an_older_term_is_ignored() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_millis(1);
    let (mut l, sent) = leader_sending_snapshot(t0, t1);
    let mut out = Vec::new();
    let stale = SnapshotSent { term: 1, ..sent };
    l.handle_snapshot_reply(1, &stale, &InstallSnapshotReply { term: 2 }, t1, &mut out);
    assert_eq!(l.progress[1].match_index, 0, "a reply to another term's message");
    assert!(out.is_empty());

    l.handle_snapshot_reply(1, &sent, &InstallSnapshotReply { term: 4 }, t1, &mut out);
    assert_eq!(l.role, Role::Follower);
    assert_eq!(l.current_term(), 4);
    assert!(out.is_empty());
    l.check_invariants();
}

#[test]
fn snapshot_round_trip_brings_an_empty_follower_up_to_date() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_millis(1);
    let (mut l, sent) = leader_sending_snapshot(t0, t1);
    let mut f = peer(1, 3, 0, &[], t0);
    let r = f.handle_install_snapshot(&is(2, 3, 1, b"L3"), t1);
    assert_eq!(f.pending_snapshot.as_ref().unwrap().index, 3);
    let mut out = Vec::new();
    l.handle_snapshot_reply(1, &sent, &r, t1, &mut out);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert!(f.handle_append_entries(&args, t1).success);
    assert_eq!(f.log().snapshot_index(), 3);
    assert_eq!(terms_of(f.log()), terms_of(l.log()));
    assert_eq!(**f.snapshot(), **l.snapshot());
    f.check_invariants();
}
