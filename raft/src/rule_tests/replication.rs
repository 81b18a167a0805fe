//! replication.rs: the AppendEntries receiver, the leader's handling of
//! replies (with the fast backup), the commit rule and `replicate`.

use super::{
    ae, appends_to, cmd, count_to, elect, ents, fresh_deadline, log_of, ok, peer, peer_with, rejected, terms_of,
};
use crate::messages::Outgoing;
use crate::replication::{backup_next_index, AppendSent, Why};
use crate::state::{
    Dirty, RaftState, Role, ELECTION_TIMEOUT_MS, HEARTBEAT, INFLIGHT_TIMEOUT, QUICK_FAILURE, QUORUM_TIMEOUT,
};
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------
// AppendEntries receiver
// ---------------------------------------------------------------------

#[test]
fn ae_of_an_old_term_is_rejected_with_our_term_and_changes_nothing() {
    let now = Instant::now();
    let mut f = peer(1, 3, 5, &[1, 1], now);
    let deadline = f.election_deadline;
    let r = f.handle_append_entries(&ae(4, 2, 1, ents(3, &[4]), 3), now + ms(10_000));
    assert!(!r.success);
    assert_eq!(r.term, 5, "the reply tells the stale leader our term");
    assert_eq!(f.current_term(), 5);
    assert_eq!(terms_of(f.log()), vec![1, 1], "nothing appended");
    assert_eq!(f.commit_index, 0, "nothing committed");
    assert_eq!(f.election_deadline, deadline, "a stale leader does not reset the timer");
    assert_eq!(f.take_dirty(), Dirty::default(), "nothing to persist");
    f.check_invariants();
}

#[test]
fn ae_of_a_newer_term_makes_us_follower_and_persists_the_term() {
    let now = Instant::now();
    // A follower that voted in term 1.
    let mut f = peer(1, 3, 1, &[1], now);
    f.set_voted_for(Some(2));
    f.take_dirty();
    let r = f.handle_append_entries(&ae(3, 1, 1, vec![], 0), now);
    assert!(r.success);
    assert_eq!(r.term, 3);
    assert_eq!(f.current_term(), 3);
    assert_eq!(f.voted_for(), None, "a new term forgets the vote");
    assert_eq!(f.role, Role::Follower);
    assert!(f.take_dirty().state, "the new term must be saved before replying");

    // Even when the consistency check then fails, the term is adopted.
    let mut f = peer(1, 3, 1, &[1], now);
    let r = f.handle_append_entries(&ae(4, 9, 4, vec![], 0), now);
    assert!(!r.success);
    assert_eq!((r.term, f.current_term()), (4, 4));
    assert!(f.take_dirty().state);

    // A leader of an older term steps down.
    let mut l = peer(1, 3, 1, &[1], now);
    elect(&mut l, now);
    assert_eq!(l.current_term(), 2);
    let r = l.handle_append_entries(&ae(3, 1, 1, vec![], 0), now);
    assert!(r.success);
    assert_eq!(l.role, Role::Follower);
    assert!(l.progress.is_empty(), "leader bookkeeping is dropped");
    assert!(l.take_dirty().state);
    l.check_invariants();
}

#[test]
fn ae_of_the_same_term_makes_a_candidate_step_down() {
    let now = Instant::now();
    let mut c = peer(1, 3, 1, &[], now);
    c.start_election(now, &mut Vec::new());
    assert!(matches!(c.role, Role::Candidate { .. }));
    assert_eq!(c.current_term(), 2);
    let r = c.handle_append_entries(&ae(2, 0, 0, vec![], 0), now);
    assert!(r.success);
    assert_eq!(c.role, Role::Follower, "another peer won term 2");
    assert_eq!(c.current_term(), 2, "same term");
    assert_eq!(c.voted_for(), Some(1), "the vote of term 2 is kept (one vote per term)");
    c.check_invariants();
}

#[test]
fn ae_with_prev_past_our_log_is_rejected_with_our_length() {
    let now = Instant::now();
    let mut f = peer(1, 3, 1, &[1, 1], now);
    let r = f.handle_append_entries(&ae(1, 5, 1, ents(6, &[1]), 6), now);
    assert!(!r.success);
    assert_eq!(r.term, 1);
    assert_eq!(r.conflict_term, None, "no entry at prev: no XTerm");
    assert_eq!(r.log_len, 3, "XLen is last index + 1");
    assert_eq!(terms_of(f.log()), vec![1, 1]);
    assert_eq!(f.commit_index, 0);
    f.check_invariants();
}

#[test]
fn ae_with_a_term_mismatch_at_prev_reports_the_first_index_of_that_term() {
    let now = Instant::now();
    let mut f = peer(1, 3, 3, &[1, 2, 2, 2], now);
    let r = f.handle_append_entries(&ae(3, 4, 3, ents(5, &[3]), 5), now);
    assert!(!r.success);
    assert_eq!(r.conflict_term, Some(2), "XTerm: our term at prev");
    assert_eq!(r.conflict_index, 2, "XIndex: first index of term 2");
    assert_eq!(r.log_len, 5);
    assert_eq!(terms_of(f.log()), vec![1, 2, 2, 2], "a rejection truncates nothing");
    assert_eq!(f.commit_index, 0);

    // The mismatch at the first index of a term.
    let r = f.handle_append_entries(&ae(3, 2, 3, vec![], 0), now);
    assert_eq!((r.conflict_term, r.conflict_index), (Some(2), 2));

    // After a snapshot, the scan for XIndex stops just after it.
    let mut s = peer_with(1, 3, 3, log_of((3, 2), &[2, 2]), b"s".to_vec(), now);
    let r = s.handle_append_entries(&ae(3, 5, 3, vec![], 5), now);
    assert!(!r.success);
    assert_eq!((r.conflict_term, r.conflict_index, r.log_len), (Some(2), 4, 6));
    s.check_invariants();
}

#[test]
fn ae_matching_prev_appends_the_entries() {
    let now = Instant::now();
    let mut f = peer(1, 3, 1, &[1, 1], now);
    f.take_dirty();
    let r = f.handle_append_entries(&ae(2, 2, 1, ents(3, &[2, 2]), 0), now);
    assert!(r.success);
    assert_eq!(r.term, 2);
    assert_eq!(terms_of(f.log()), vec![1, 1, 2, 2]);
    assert_eq!(f.log().get(3).unwrap().command, cmd(3));
    assert_eq!(f.log().get(4).unwrap().command, cmd(4));
    assert!(f.take_dirty().state, "new entries must be persisted");
    assert_eq!(f.commit_index, 0, "leader_commit 0 commits nothing");
    f.check_invariants();
}

#[test]
fn ae_conflicting_entry_truncates_the_suffix_then_appends() {
    let now = Instant::now();
    // Indexes 3..5 of term 2 were never committed.
    let mut f = peer(1, 3, 2, &[1, 1, 2, 2, 2], now);
    let r = f.handle_append_entries(&ae(3, 2, 1, ents(3, &[3]), 0), now);
    assert!(r.success);
    assert_eq!(terms_of(f.log()), vec![1, 1, 3], "entries 4 and 5 followed the conflict and are gone");
    f.check_invariants();

    // The conflict in the middle of the batch: the matching head is kept.
    let mut f = peer(1, 3, 2, &[1, 1, 2, 2, 2], now);
    let mut batch = ents(2, &[1, 2, 3, 3]);
    batch[1].command = b"leader's".to_vec(); // same term: must not be replaced
    let r = f.handle_append_entries(&ae(3, 1, 1, batch, 0), now);
    assert!(r.success);
    assert_eq!(terms_of(f.log()), vec![1, 1, 2, 3, 3]);
    assert_eq!(
        f.log().get(3).unwrap().command,
        cmd(3),
        "an entry with the same index and term is the same entry: kept"
    );
    f.check_invariants();
}

#[test]
fn stale_shorter_ae_does_not_truncate_later_entries() {
    let now = Instant::now();
    let mut f = peer(1, 3, 1, &[], now);
    let long = ae(1, 0, 0, ents(1, &[1, 1, 1]), 0);
    let short = ae(1, 0, 0, ents(1, &[1]), 1);
    assert!(f.handle_append_entries(&long, now).success);
    f.take_dirty();
    // The shorter message, sent earlier, arrives last.
    let r = f.handle_append_entries(&short, now);
    assert!(r.success);
    assert_eq!(terms_of(f.log()), vec![1, 1, 1], "entries 2 and 3 must stay");
    assert!(!f.take_dirty().state, "nothing new: nothing to persist");
    assert_eq!(f.commit_index, 1);
    // And a stale heartbeat neither.
    assert!(f.handle_append_entries(&ae(1, 1, 1, vec![], 1), now).success);
    assert_eq!(f.log().last_index(), 3);
    f.check_invariants();
}

#[test]
fn ae_commit_is_min_of_leader_commit_and_last_new_entry_and_never_decreases() {
    let now = Instant::now();
    // Entries 4 and 5 may be stale: they are not vouched for by the leader.
    let mut f = peer(1, 3, 2, &[1, 1, 1, 1, 1], now);
    assert!(f.handle_append_entries(&ae(2, 2, 1, ents(3, &[1]), 10), now).success);
    assert_eq!(f.commit_index, 3, "min(10, 2 + 1)");
    assert!(f.handle_append_entries(&ae(2, 1, 1, vec![], 1), now).success);
    assert_eq!(f.commit_index, 3, "an older leader_commit never lowers it");
    assert!(f.handle_append_entries(&ae(2, 5, 1, vec![], 4), now).success);
    assert_eq!(f.commit_index, 4, "min(4, 5)");
    assert!(f.handle_append_entries(&ae(2, 5, 1, vec![], 9), now).success);
    assert_eq!(f.commit_index, 5, "min(9, 5)");
    f.check_invariants();
}

#[test]
fn ae_with_prev_inside_our_snapshot_skips_the_covered_entries() {
    let now = Instant::now();
    let mut f = peer_with(1, 3, 1, log_of((5, 1), &[1]), b"s5".to_vec(), now);
    assert_eq!((f.commit_index, f.log().last_index()), (5, 6));
    // Entries 4..7; 4 and 5 are in our snapshot, 6 matches, 7 is new.
    let r = f.handle_append_entries(&ae(2, 3, 1, ents(4, &[1, 1, 1, 2]), 6), now);
    assert!(r.success);
    assert_eq!(f.log().snapshot_index(), 5);
    assert_eq!(terms_of(f.log()), vec![1, 2], "6 kept, 7 appended");
    assert_eq!(f.log().get(7).unwrap().command, cmd(7));
    assert_eq!(f.commit_index, 6, "min(6, 7)");
    f.check_invariants();

    // Everything covered by the snapshot: success, nothing changes.
    f.take_dirty();
    let r = f.handle_append_entries(&ae(2, 1, 1, ents(2, &[1, 1]), 7), now);
    assert!(r.success);
    assert_eq!(terms_of(f.log()), vec![1, 2]);
    assert_eq!(f.commit_index, 6, "commit stays: no entry past the snapshot was vouched for");
    assert!(!f.take_dirty().state);
    f.check_invariants();
}

#[test]
fn ae_from_the_leader_resets_the_election_deadline() {
    let now = Instant::now();
    let mut f = peer(1, 3, 1, &[1], now);
    let later = now + ms(10_000);
    assert!(f.election_deadline < later);
    assert!(f.handle_append_entries(&ae(1, 1, 1, vec![], 0), later).success);
    assert!(fresh_deadline(f.election_deadline, later));
    // Also when the consistency check fails: the leader is legitimate.
    let even_later = later + ms(10_000);
    assert!(!f.handle_append_entries(&ae(1, 7, 1, vec![], 0), even_later).success);
    assert!(fresh_deadline(f.election_deadline, even_later));
}

// ---------------------------------------------------------------------
// Leader side: replies and fast backup
// ---------------------------------------------------------------------

#[test]
fn backup_next_index_follows_the_three_handout_cases() {
    let leader = log_of((0, 0), &[1, 1, 4, 4, 4, 6]);
    // Follower's log too short: XLen.
    assert_eq!(backup_next_index(&leader, &rejected(6, None, 0, 3)), 3);
    // Leader has XTerm 4 (ending at 5): just after its last entry.
    assert_eq!(backup_next_index(&leader, &rejected(6, Some(4), 3, 9)), 6);
    // Leader has XTerm 1 (ending at 2).
    assert_eq!(backup_next_index(&leader, &rejected(6, Some(1), 1, 9)), 3);
    // Leader lacks XTerm 5: XIndex.
    assert_eq!(backup_next_index(&leader, &rejected(6, Some(5), 4, 9)), 4);
    // Leader lacks XTerm 2 because it compacted it away: XIndex.
    let compacted = log_of((4, 2), &[3, 3]);
    assert_eq!(backup_next_index(&compacted, &rejected(6, Some(2), 2, 9)), 2);
}

/// A 3-peer leader of term 2 whose log has `n` entries of term 1.
fn leader_with(n: usize, now: Instant) -> (RaftState, Vec<crate::messages::Outgoing>) {
    let mut l = peer(0, 3, 1, &vec![1; n], now);
    let out = elect(&mut l, now);
    assert_eq!(l.current_term(), 2);
    (l, out)
}

#[test]
fn success_advances_match_and_next_and_a_stale_success_never_moves_them_back() {
    let t0 = Instant::now();
    let (mut l, hb) = leader_with(4, t0);
    assert_eq!((l.progress[1].next_index, l.progress[1].match_index), (5, 0));
    // The follower has only entry 1: back up to 2, and send 2..4.
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    let mut out = Vec::new();
    l.handle_append_reply(1, &hb1, &rejected(2, None, 0, 2), t0 + ms(1), &mut out);
    assert_eq!(l.progress[1].next_index, 2);
    let (args, sent) = appends_to(&out, 1).remove(0);
    assert_eq!((args.prev_log_index, args.entries.len()), (1, 3));

    out.clear();
    l.handle_append_reply(1, &sent, &ok(2), t0 + ms(2), &mut out);
    assert_eq!((l.progress[1].match_index, l.progress[1].next_index), (4, 5));
    assert!(out.is_empty(), "nothing left to send");

    // An older, shorter success arriving late.
    let older = AppendSent { term: 2, prev_log_index: 0, entries: 2, sent_at: t0 };
    l.handle_append_reply(1, &older, &ok(2), t0 + ms(3), &mut out);
    assert_eq!((l.progress[1].match_index, l.progress[1].next_index), (4, 5), "match_index only grows");
    l.check_invariants();
}

#[test]
fn a_rejection_backs_up_only_if_next_index_is_still_where_the_probe_left_it() {
    let t0 = Instant::now();
    let (mut l, hb) = leader_with(5, t0);
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    assert_eq!(hb1.prev_log_index, 5);
    let mut out = Vec::new();
    let t1 = t0 + ms(1);
    l.handle_append_reply(1, &hb1, &rejected(2, None, 0, 3), t1, &mut out);
    assert_eq!(l.progress[1].next_index, 3, "XLen");
    let (args, sent) = appends_to(&out, 1).remove(0);
    assert_eq!((args.prev_log_index, args.entries.len()), (2, 3), "probes again at once");
    assert_eq!(l.progress[1].inflight_since, Some(t1));

    // A duplicate heartbeat rejection (sent at t0, before the probe) is stale.
    out.clear();
    l.handle_append_reply(1, &hb1, &rejected(2, None, 0, 1), t0 + ms(2), &mut out);
    assert_eq!(l.progress[1].next_index, 3, "stale rejection ignored");
    assert_eq!(l.progress[1].inflight_since, Some(t1), "the probe is still in flight");
    assert!(out.is_empty(), "nothing resent while the probe is in flight");

    // The probe's own rejection backs up again.
    l.handle_append_reply(1, &sent, &rejected(2, None, 0, 2), t0 + ms(3), &mut out);
    assert_eq!(l.progress[1].next_index, 2);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert_eq!((args.prev_log_index, args.entries.len()), (1, 4));
    l.check_invariants();
}

#[test]
fn a_reply_with_a_higher_term_makes_the_leader_a_follower() {
    let t0 = Instant::now();
    let (mut l, hb) = leader_with(1, t0);
    let (_, sent) = appends_to(&hb, 1).remove(0);
    let mut out = Vec::new();
    let t1 = t0 + ms(5_000);
    l.handle_append_reply(1, &sent, &rejected(7, None, 0, 1), t1, &mut out);
    assert_eq!(l.role, Role::Follower);
    assert_eq!((l.current_term(), l.voted_for()), (7, None));
    assert!(l.take_dirty().state, "the new term is persisted");
    assert!(out.is_empty());
    assert!(fresh_deadline(l.election_deadline, t1));
    // Later replies of the old term are ignored.
    l.handle_append_reply(2, &sent, &ok(2), t1, &mut out);
    assert!(out.is_empty() && !l.is_leader());
    l.check_invariants();
}

/// Runs the exchange between leader `l` and follower `f` (peer 1) until
/// the leader has nothing more for it. Returns (AppendEntries sent,
/// rejections).
fn converge(l: &mut RaftState, f: &mut RaftState, first: Vec<Outgoing>, t: Instant) -> (usize, usize) {
    let (mut sent_n, mut rejections) = (0, 0);
    let mut pending = appends_to(&first, 1);
    while let Some((args, sent)) = pending.pop() {
        sent_n += 1;
        assert!(sent_n < 20, "no convergence");
        let reply = f.handle_append_entries(&args, t);
        f.check_invariants();
        if !reply.success {
            rejections += 1;
        }
        let mut out = Vec::new();
        l.handle_append_reply(1, &sent, &reply, t, &mut out);
        l.check_invariants();
        assert!(out.iter().all(|o| !matches!(o, Outgoing::InstallSnapshot { .. })), "no snapshot involved");
        pending.extend(appends_to(&out, 1));
    }
    (sent_n, rejections)
}

#[test]
fn fast_backup_skips_a_whole_diverging_term_per_round_trip() {
    let t = Instant::now();
    // The follower holds two terms (2 and 3) the leader never had.
    let mut l = peer(0, 3, 6, &[1, 1, 1, 5, 5, 5, 6], t);
    let mut f = peer(1, 3, 3, &[1, 1, 1, 2, 2, 2, 3, 3, 3], t);
    let hb = elect(&mut l, t);
    let (sent, rejections) = converge(&mut l, &mut f, hb, t);
    assert_eq!(rejections, 2, "one rejection per diverging term (one at a time would take 4)");
    assert_eq!(sent, 3);
    assert_eq!(terms_of(f.log()), terms_of(l.log()));
    assert_eq!(f.log().get(4).unwrap(), l.log().get(4).unwrap());
    assert_eq!((l.progress[1].match_index, l.progress[1].next_index), (7, 8));
}

#[test]
fn fast_backup_when_the_leader_has_the_conflicting_term() {
    let t = Instant::now();
    // Term 2's leader gave the follower 3..6 but the new leader only 3..4.
    let mut l = peer(0, 3, 4, &[1, 1, 2, 2, 4, 4], t);
    let mut f = peer(1, 3, 2, &[1, 1, 2, 2, 2, 2], t);
    let hb = elect(&mut l, t);
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    let mut out = Vec::new();
    let reply = f.handle_append_entries(&appends_to(&hb, 1)[0].0, t);
    assert_eq!((reply.conflict_term, reply.conflict_index), (Some(2), 3));
    l.handle_append_reply(1, &hb1, &reply, t, &mut out);
    assert_eq!(l.progress[1].next_index, 5, "just after the leader's last entry of term 2, not XIndex 3");
    let (sent, rejections) = converge(&mut l, &mut f, out, t);
    assert_eq!((sent, rejections), (1, 0));
    assert_eq!(terms_of(f.log()), vec![1, 1, 2, 2, 4, 4]);
}

// ---------------------------------------------------------------------
// Commit rule (§5.4.2)
// ---------------------------------------------------------------------

#[test]
fn an_entry_of_the_current_term_on_a_majority_commits() {
    let t = Instant::now();
    let mut l = peer(0, 5, 0, &[], t);
    elect(&mut l, t);
    let mut out = Vec::new();
    assert_eq!(l.start_command(cmd(1), t, &mut out), Some((1, 1)));
    assert_eq!(out.len(), 4, "one AppendEntries per follower");
    let sends: Vec<_> = (1..5).map(|p| appends_to(&out, p).remove(0)).collect();
    out.clear();
    l.handle_append_reply(1, &sends[0].1, &ok(1), t, &mut out);
    assert_eq!(l.commit_index, 0, "2 of 5");
    l.handle_append_reply(2, &sends[1].1, &ok(1), t, &mut out);
    assert_eq!(l.commit_index, 1, "3 of 5");
    // No message goes at once: S1 and S2 hear of the commit within
    // COMMIT_NOTICE, by a heartbeat pulled forward, unless something else
    // carries it first; S3 and S4, whose entries are in flight, when they
    // reply.
    assert!(out.is_empty(), "{out:?}");
    let due = t + crate::state::COMMIT_NOTICE;
    assert!([1, 2].iter().all(|&p| l.progress[p].heartbeat_due <= due));
    assert!(
        [3, 4].iter().all(|&p| l.progress[p].heartbeat_due > due),
        "no notice per commit to a follower busy (or gone)"
    );
    assert_eq!(l.next_wakeup(t), due, "the ticker wakes for the notice");
    l.tick(due, &mut out);
    for p in [1, 2] {
        let a = appends_to(&out, p);
        assert!(a.len() == 1 && a[0].0.leader_commit == 1 && a[0].0.entries.is_empty(), "S{p} told once: {a:?}");
    }
    assert_eq!(count_to(&out, 3) + count_to(&out, 4), 0);
    // S3's reply to its entries: nothing more to send, so its notice is due.
    out.clear();
    let t3 = due + ms(1);
    l.handle_append_reply(3, &sends[2].1, &ok(1), t3, &mut out);
    assert!(out.is_empty());
    l.tick(t3 + crate::state::COMMIT_NOTICE, &mut out);
    let a = appends_to(&out, 3);
    assert!(a.len() == 1 && a[0].0.leader_commit == 1, "S3 told after its reply: {a:?}");
    l.check_invariants();
}

#[test]
fn a_run_of_commits_costs_one_notice_and_new_entries_carry_it() {
    let t = Instant::now();
    let mut l = peer(0, 3, 0, &[], t);
    elect(&mut l, t);
    let term = l.current_term();
    let mut out = Vec::new();
    // Two commits a millisecond apart: one notice per follower.
    for (i, at) in [(1u64, t), (2, t + ms(1))] {
        l.start_command(cmd(i), at, &mut out);
        for p in [1, 2] {
            let (_, sent) = appends_to(&out, p).remove(0);
            let mut more = Vec::new();
            l.handle_append_reply(p, &sent, &ok(term), at, &mut more);
        }
        assert_eq!(l.commit_index, i);
        out.clear();
    }
    l.tick(t + ms(1) + crate::state::COMMIT_NOTICE, &mut out);
    assert_eq!(out.len(), 2, "one notice each: {out:?}");
    assert!(appends_to(&out, 1)[0].0.leader_commit == 2);
    // A command started before the notice is due carries the commit itself.
    let t2 = t + ms(200);
    out.clear();
    l.start_command(cmd(3), t2, &mut out);
    for p in [1, 2] {
        let (_, sent) = appends_to(&out, p).remove(0);
        let mut more = Vec::new();
        l.handle_append_reply(p, &sent, &ok(term), t2, &mut more);
    }
    out.clear();
    l.start_command(cmd(4), t2 + ms(1), &mut out);
    assert!(appends_to(&out, 1)[0].0.leader_commit == 3, "the next entries carry commit 3");
    out.clear();
    l.tick(t2 + crate::state::COMMIT_NOTICE + ms(1), &mut out);
    assert!(out.is_empty(), "no notice left to send: {out:?}");
    l.check_invariants();
}

#[test]
fn figure_8_an_older_term_entry_commits_only_below_a_current_term_entry() {
    let t = Instant::now();
    // Index 2 is of term 2, the leader is elected in term 3.
    let mut l = peer(0, 5, 2, &[1, 2], t);
    let hb = elect(&mut l, t);
    assert_eq!(l.current_term(), 3);
    let mut out = Vec::new();
    for p in 1..5 {
        let (args, sent) = appends_to(&hb, p).remove(0);
        assert_eq!(args.prev_log_index, 2);
        l.handle_append_reply(p, &sent, &ok(3), t, &mut out);
        assert_eq!(l.progress[p].match_index, 2);
        assert_eq!(l.commit_index, 0, "index 2 (term 2) on {} peers must not commit by counting", p + 1);
    }
    out.clear();
    assert_eq!(l.start_command(cmd(3), t, &mut out), Some((3, 3)));
    let s1 = appends_to(&out, 1).remove(0).1;
    let s2 = appends_to(&out, 2).remove(0).1;
    l.handle_append_reply(1, &s1, &ok(3), t, &mut out);
    assert_eq!(l.commit_index, 0, "index 3 on 2 of 5 only");
    l.handle_append_reply(2, &s2, &ok(3), t, &mut out);
    assert_eq!(l.commit_index, 3, "index 3 of term 3 on a majority commits 2 with it");
    l.check_invariants();
}

#[test]
fn a_single_peer_cluster_commits_on_start() {
    let t = Instant::now();
    let mut s = peer(0, 1, 0, &[], t);
    assert!(elect(&mut s, t).is_empty());
    let mut out = Vec::new();
    assert_eq!(s.start_command(cmd(1), t, &mut out), Some((1, 1)));
    assert_eq!(s.commit_index, 1);
    assert!(s.has_apply_work());
    assert!(out.is_empty());
    s.check_invariants();
}

#[test]
fn only_a_leader_starts_commands() {
    let t = Instant::now();
    let mut f = peer(1, 3, 1, &[1], t);
    let mut out = Vec::new();
    assert_eq!(f.start_command(cmd(2), t, &mut out), None);
    assert_eq!(f.log().last_index(), 1);
    assert!(out.is_empty());
    assert!(!f.take_dirty().state);
}

// ---------------------------------------------------------------------
// replicate()
// ---------------------------------------------------------------------

#[test]
fn a_burst_of_starts_sends_one_message_per_follower_then_one_batch() {
    let t0 = Instant::now();
    let mut l = peer(0, 3, 0, &[], t0);
    elect(&mut l, t0);
    let mut out = Vec::new();
    for i in 1..=3 {
        l.start_command(cmd(i), t0, &mut out);
    }
    assert_eq!(out.len(), 2, "one AppendEntries per follower: {out:?}");
    for p in [1, 2] {
        let (args, _) = appends_to(&out, p).remove(0);
        assert_eq!((args.prev_log_index, args.entries.len()), (0, 1));
        assert_eq!(l.progress[p].inflight_since, Some(t0));
    }
    let (_, s1) = appends_to(&out, 1).remove(0);
    out.clear();
    let t1 = t0 + ms(10);
    l.handle_append_reply(1, &s1, &ok(1), t1, &mut out);
    assert_eq!(l.commit_index, 1);
    assert_eq!(count_to(&out, 2), 0, "S2 still has its message in flight");
    let a = appends_to(&out, 1);
    assert_eq!(a.len(), 1);
    let (args, _) = &a[0];
    assert_eq!(args.prev_log_index, 1);
    assert_eq!(args.entries, ents(2, &[1, 1]), "the batch holds everything from next_index");
    assert_eq!(args.leader_commit, 1);
    assert_eq!(l.progress[1].inflight_since, Some(t1));
    l.check_invariants();
}

#[test]
fn an_unanswered_message_is_resent_after_the_inflight_timeout() {
    let t0 = Instant::now();
    let mut l = peer(0, 3, 0, &[], t0);
    let hb = elect(&mut l, t0);
    let mut out = Vec::new();
    l.start_command(cmd(1), t0, &mut out);
    out.clear();
    l.replicate(1, t0 + INFLIGHT_TIMEOUT - ms(1), Why::Progress, &mut out);
    assert!(out.is_empty(), "still in flight");
    let t1 = t0 + INFLIGHT_TIMEOUT;
    l.replicate(1, t1, Why::Progress, &mut out);
    let (args, sent) = appends_to(&out, 1).remove(0);
    assert_eq!(args.entries, ents(1, &[1]));
    assert_eq!(sent.sent_at, t1);
    assert_eq!(l.progress[1].inflight_since, Some(t1), "a new token");
    // The heartbeat path retries too (follower 2's answer keeps us leader).
    let late = t1 + INFLIGHT_TIMEOUT;
    l.handle_append_reply(2, &appends_to(&hb, 2)[0].1, &ok(1), late - ms(1), &mut out);
    out.clear();
    l.tick(late, &mut out);
    assert_eq!(appends_to(&out, 1)[0].0.entries.len(), 1);
}

#[test]
fn a_heartbeat_always_sends_something() {
    let t0 = Instant::now();
    let mut l = peer(0, 3, 0, &[], t0);
    elect(&mut l, t0);
    let mut out = Vec::new();
    // Up to date follower.
    let t1 = t0 + HEARTBEAT;
    l.replicate(1, t1, Why::Heartbeat, &mut out);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert!(args.entries.is_empty());
    assert_eq!(l.progress[1].heartbeat_due, t1 + HEARTBEAT);
    assert_eq!(l.progress[1].inflight_since, None, "a heartbeat is no token");
    // Follower with entries in flight: an empty heartbeat, token untouched.
    l.start_command(cmd(1), t1, &mut out);
    out.clear();
    let t2 = t1 + ms(20);
    l.replicate(1, t2, Why::Heartbeat, &mut out);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert!(args.entries.is_empty());
    assert_eq!(args.prev_log_index, 0, "probes at next_index - 1");
    assert_eq!(l.progress[1].inflight_since, Some(t1));
    assert_eq!(l.progress[1].heartbeat_due, t2 + HEARTBEAT);
    l.check_invariants();
}

#[test]
fn commit_sends_an_empty_append_only_if_nothing_is_in_flight() {
    let t0 = Instant::now();
    let mut l = peer(0, 3, 0, &[], t0);
    elect(&mut l, t0);
    let mut out = Vec::new();
    // Up to date, nothing in flight: Progress sends nothing, Commit does.
    l.replicate(1, t0, Why::Progress, &mut out);
    assert!(out.is_empty());
    l.replicate(1, t0, Why::Commit, &mut out);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert!(args.entries.is_empty());
    // In flight: nothing.
    l.start_command(cmd(1), t0, &mut out);
    out.clear();
    l.replicate(2, t0 + ms(1), Why::Commit, &mut out);
    assert!(out.is_empty(), "the message in flight will carry the commit");
}

#[test]
fn a_follower_behind_the_snapshot_gets_install_snapshot() {
    let t0 = Instant::now();
    let mut l = peer_with(0, 3, 1, log_of((3, 1), &[1, 1]), b"leader-snap".to_vec(), t0);
    let hb = elect(&mut l, t0);
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    let mut out = Vec::new();
    let t1 = t0 + ms(1);
    // The follower is empty: next_index falls to 1, inside the snapshot.
    l.handle_append_reply(1, &hb1, &rejected(2, None, 0, 1), t1, &mut out);
    assert_eq!(l.progress[1].next_index, 1);
    assert_eq!(out.len(), 1);
    match &out[0] {
        Outgoing::InstallSnapshot { to, args, sent_at } => {
            assert_eq!(*to, 1);
            assert_eq!(*sent_at, t1);
            assert_eq!((args.term, args.leader_id), (2, 0));
            assert_eq!((args.last_included_index, args.last_included_term), (3, 1));
            assert_eq!(args.data, b"leader-snap".to_vec());
        }
        o => panic!("expected InstallSnapshot, got {o:?}"),
    }
    assert_eq!(l.progress[1].inflight_since, Some(t1));
    // A heartbeat meanwhile probes at the snapshot, not inside it.
    out.clear();
    l.replicate(1, t1 + ms(1), Why::Heartbeat, &mut out);
    let (args, _) = appends_to(&out, 1).remove(0);
    assert_eq!((args.prev_log_index, args.prev_log_term), (3, 1));
    assert!(args.entries.is_empty());
    l.check_invariants();
}

/// A leader of three that sent entry 1 at the returned time (it holds both
/// followers' in-flight slots), with the heartbeats of its election.
fn leader_sending_one_entry(t0: Instant) -> (RaftState, Vec<Outgoing>, Instant) {
    let mut l = peer(0, 3, 0, &[], t0);
    let heartbeats = elect(&mut l, t0);
    let t1 = t0 + ms(1);
    l.start_command(cmd(1), t1, &mut Vec::new());
    (l, heartbeats, t1)
}

#[test]
fn a_reply_to_a_later_message_frees_the_inflight_slot_but_an_earlier_one_does_not() {
    let (mut l, hb, t1) = leader_sending_one_entry(Instant::now());
    let mut out = Vec::new();
    assert_eq!(l.progress[1].inflight_since, Some(t1));
    // The reply to the initial heartbeat, sent before the entries.
    let (_, hb1) = appends_to(&hb, 1).remove(0);
    l.handle_append_reply(1, &hb1, &ok(1), t1 + ms(1), &mut out);
    assert_eq!(l.progress[1].inflight_since, Some(t1), "earlier: slot kept");
    assert!(out.is_empty());
    // A heartbeat sent after the entries is answered first.
    let t3 = t1 + ms(2);
    l.replicate(1, t3, Why::Heartbeat, &mut out);
    let (_, later) = appends_to(&out, 1).remove(0);
    out.clear();
    let t4 = t3 + ms(1);
    l.handle_append_reply(1, &later, &ok(1), t4, &mut out);
    let a = appends_to(&out, 1);
    assert_eq!(a.len(), 1, "the entries are presumed lost and resent");
    assert_eq!(a[0].0.entries, ents(1, &[1]));
    assert_eq!(l.progress[1].inflight_since, Some(t4));
    l.check_invariants();
}

#[test]
fn a_slow_send_failure_clears_only_the_matching_token_and_does_not_resend() {
    let t0 = Instant::now();
    let (mut l, _, t1) = leader_sending_one_entry(t0);
    let mut out = Vec::new();
    // Failures that took as long as a partition's do.
    let late = t1 + QUICK_FAILURE;
    l.handle_send_failure(1, 1, t0, true, late, &mut out);
    assert_eq!(l.progress[1].inflight_since, Some(t1), "another message");
    l.handle_send_failure(1, 1, t1, false, late, &mut out);
    assert_eq!(l.progress[1].inflight_since, Some(t1), "a heartbeat");
    l.handle_send_failure(1, 0, t1, true, late, &mut out);
    assert_eq!(l.progress[1].inflight_since, Some(t1), "another term");
    l.handle_send_failure(1, 1, t1, true, late, &mut out);
    assert_eq!(l.progress[1].inflight_since, None);
    assert_eq!(l.progress[2].inflight_since, Some(t1), "other followers untouched");
    assert!(out.is_empty(), "no immediate resend: {out:?}");
    // No retry before the heartbeat is due...
    l.tick(late + ms(1), &mut out);
    assert!(out.is_empty(), "no resend before the heartbeat: {out:?}");
    // ...and then the entries go again.
    l.tick(t1 + HEARTBEAT, &mut out);
    let a = appends_to(&out, 1);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0.entries, ents(1, &[1]));
    l.check_invariants();
}

#[test]
fn a_quick_send_failure_is_a_drop_and_is_resent_at_once() {
    let (mut l, _, t1) = leader_sending_one_entry(Instant::now());
    let mut out = Vec::new();
    let t2 = t1 + QUICK_FAILURE - ms(1);
    l.handle_send_failure(1, 1, t1, true, t2, &mut out);
    let a = appends_to(&out, 1);
    assert_eq!(a.len(), 1, "the dropped entries go again now: {out:?}");
    assert_eq!(a[0].0.entries, ents(1, &[1]));
    assert_eq!(l.progress[1].inflight_since, Some(t2));
    assert!(appends_to(&out, 2).is_empty(), "only to the follower that missed them");
    out.clear();
    // A dropped heartbeat is resent too, unless entries are in flight
    // (their reply will tell the follower as much).
    l.handle_send_failure(1, 1, t2, false, t2 + ms(1), &mut out);
    assert!(out.is_empty(), "entries in flight: {out:?}");
    l.handle_append_reply(1, &a[0].1, &ok(1), t2 + ms(2), &mut out);
    out.clear();
    let t3 = t2 + ms(3);
    l.handle_send_failure(1, 1, t3, false, t3 + ms(1), &mut out);
    let hb = appends_to(&out, 1);
    assert_eq!(hb.len(), 1, "a dropped heartbeat is resent: {out:?}");
    assert!(hb[0].0.entries.is_empty());
    out.clear();
    // Not by a peer that is no longer leader of that term.
    l.handle_send_failure(1, 0, t3, false, t3 + ms(1), &mut out);
    assert!(out.is_empty(), "an old term's message: {out:?}");
    l.check_invariants();
}

#[test]
fn a_leader_without_replies_from_a_majority_steps_down() {
    let t0 = Instant::now();
    let mut l = peer(0, 5, 0, &[], t0);
    let hb = elect(&mut l, t0);
    assert_eq!(l.next_wakeup(t0), t0 + HEARTBEAT.min(QUORUM_TIMEOUT));
    let mut out = Vec::new();
    // One follower answers now and then: not a majority of five.
    let mut t = t0;
    while t < t0 + QUORUM_TIMEOUT - ms(1) {
        t += ms(50);
        let (_, sent) = appends_to(&hb, 1).remove(0);
        l.handle_append_reply(1, &sent, &ok(1), t, &mut out);
    }
    l.tick(t0 + QUORUM_TIMEOUT - ms(1), &mut out);
    assert!(l.is_leader());
    assert_eq!(l.quorum_deadline(), Some(t0 + QUORUM_TIMEOUT));
    l.tick(t0 + QUORUM_TIMEOUT, &mut out);
    assert!(!l.is_leader(), "cut off from the majority: steps down");
    assert_eq!(l.current_term(), 1, "without starting an election");
    assert!(l.next_wakeup(t0 + QUORUM_TIMEOUT) >= t0 + QUORUM_TIMEOUT + ms(ELECTION_TIMEOUT_MS.start));
    l.check_invariants();
}

#[test]
fn replies_from_a_majority_keep_the_leader_and_move_its_deadline() {
    let t0 = Instant::now();
    let mut l = peer(0, 5, 0, &[], t0);
    let hb = elect(&mut l, t0);
    let mut out = Vec::new();
    let t1 = t0 + ms(250);
    for p in [2, 4] {
        let (_, sent) = appends_to(&hb, p).remove(0);
        l.handle_append_reply(p, &sent, &ok(1), t1 + ms(p as u64), &mut out);
    }
    // The second most recent reply sets the deadline.
    assert_eq!(l.quorum_deadline(), Some(t1 + ms(2) + QUORUM_TIMEOUT));
    l.tick(t0 + QUORUM_TIMEOUT + ms(1), &mut out);
    assert!(l.is_leader());
    // A stale reply, to another term's message, does not count.
    let mut old = appends_to(&hb, 3).remove(0).1;
    old.term = 0;
    l.handle_append_reply(3, &old, &ok(1), t1 + ms(10), &mut out);
    assert_eq!(l.quorum_deadline(), Some(t1 + ms(2) + QUORUM_TIMEOUT));
    l.tick(t1 + ms(2) + QUORUM_TIMEOUT, &mut out);
    assert!(!l.is_leader());
}

#[test]
fn a_single_peer_leader_never_steps_down() {
    let t0 = Instant::now();
    let mut l = peer(0, 1, 0, &[], t0);
    let mut out = Vec::new();
    let elected = t0 + ms(ELECTION_TIMEOUT_MS.end);
    l.tick(elected, &mut out);
    assert!(l.is_leader());
    assert_eq!(l.quorum_deadline(), None);
    l.tick(elected + QUORUM_TIMEOUT * 100, &mut out);
    assert!(l.is_leader());
}
