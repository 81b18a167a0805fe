//! Unit tests of the pure rules, without a network.

mod apply;
mod compaction;
mod replication;

use crate::log::{Entry, Log};
use crate::messages::{AppendEntriesArgs, AppendEntriesReply, Outgoing, RequestVoteReply};
use crate::replication::AppendSent;
use crate::state::{Persisted, RaftState, ELECTION_TIMEOUT_MS};
use std::time::{Duration, Instant};

/// The command stored at `index` in every test log, so that a delivered
/// command can be traced back to its index.
pub(super) fn cmd(index: u64) -> Vec<u8> {
    format!("c{index}").into_bytes()
}

/// Entries with the given terms, the first at index `first`.
pub(super) fn ents(first: u64, terms: &[u64]) -> Vec<Entry> {
    terms.iter().zip(first..).map(|(&term, i)| Entry { term, command: cmd(i) }).collect()
}

/// A log whose snapshot covers `snapshot.0` entries (the last of term
/// `snapshot.1`), followed by entries of the given terms.
pub(super) fn log_of(snapshot: (u64, u64), terms: &[u64]) -> Log {
    let mut log = Log::new();
    for e in ents(1, &vec![snapshot.1; snapshot.0 as usize]) {
        log.append(e);
    }
    log.compact_through(snapshot.0);
    for e in ents(snapshot.0 + 1, terms) {
        log.append(e);
    }
    log
}

/// The terms of the kept entries, in index order.
pub(super) fn terms_of(log: &Log) -> Vec<u64> {
    (log.snapshot_index() + 1..=log.last_index()).map(|i| log.term_at(i).unwrap()).collect()
}

/// A peer restarted from the given persisted parts.
pub(super) fn peer_with(me: usize, n: usize, term: u64, log: Log, snapshot: Vec<u8>, now: Instant) -> RaftState {
    let persisted = Persisted { current_term: term, voted_for: None, log, snapshot };
    let st = RaftState::new(me, n, persisted, 42 + me as u64, now);
    st.check_invariants();
    st
}

/// A peer in `term` with a log of the given terms and no snapshot.
pub(super) fn peer(me: usize, n: usize, term: u64, terms: &[u64], now: Instant) -> RaftState {
    peer_with(me, n, term, log_of((0, 0), terms), Vec::new(), now)
}

/// Makes `st` the leader of the next term through `start_election` and
/// just enough granted votes. Returns the initial heartbeats; the dirty
/// flags are left clear.
pub(super) fn elect(st: &mut RaftState, now: Instant) -> Vec<Outgoing> {
    let mut out = Vec::new();
    st.start_election(now, &mut out);
    out.clear();
    let term = st.current_term();
    let voters: Vec<usize> = st.followers().collect();
    for v in voters {
        if st.is_leader() {
            break;
        }
        let yes = RequestVoteReply { term, vote_granted: true };
        st.handle_vote_reply(v, term, &yes, now, &mut out);
    }
    assert!(st.is_leader(), "the test leader was not elected");
    st.take_dirty();
    st.check_invariants();
    out
}

/// An AppendEntries from leader 0.
pub(super) fn ae(term: u64, prev: u64, prev_term: u64, entries: Vec<Entry>, leader_commit: u64) -> AppendEntriesArgs {
    AppendEntriesArgs { term, leader_id: 0, prev_log_index: prev, prev_log_term: prev_term, entries, leader_commit }
}

/// A successful AppendEntries reply.
pub(super) fn ok(term: u64) -> AppendEntriesReply {
    AppendEntriesReply { term, success: true, conflict_term: None, conflict_index: 0, log_len: 0 }
}

/// A rejection with the given fast-backup hints.
pub(super) fn rejected(term: u64, conflict_term: Option<u64>, conflict_index: u64, log_len: u64) -> AppendEntriesReply {
    AppendEntriesReply { term, success: false, conflict_term, conflict_index, log_len }
}

/// The AppendEntries in `out` addressed to `to`, with what the leader
/// remembers of each.
pub(super) fn appends_to(out: &[Outgoing], to: usize) -> Vec<(AppendEntriesArgs, AppendSent)> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::AppendEntries { to: t, args, sent_at } if *t == to => {
                Some((args.clone(), AppendSent::of(args, *sent_at)))
            }
            _ => None,
        })
        .collect()
}

/// Number of messages in `out` addressed to `to`.
pub(super) fn count_to(out: &[Outgoing], to: usize) -> usize {
    out.iter()
        .filter(|o| match o {
            Outgoing::RequestVote { to: t, .. }
            | Outgoing::AppendEntries { to: t, .. }
            | Outgoing::InstallSnapshot { to: t, .. } => *t == to,
        })
        .count()
}

/// True if `deadline` is a fresh election deadline drawn at `at`.
pub(super) fn fresh_deadline(deadline: Instant, at: Instant) -> bool {
    deadline >= at + Duration::from_millis(ELECTION_TIMEOUT_MS.start)
        && deadline < at + Duration::from_millis(ELECTION_TIMEOUT_MS.end)
}
