//! The state of one Raft peer, grouped as in Figure 2, with its invariants.
//! No locks and no I/O here: the protocol rules (in `election`,
//! `replication`, `compaction` and `apply`) are plain methods over this
//! state, and the `node` layer wraps them with threads and RPCs.

use crate::log::Log;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Under miri, whose virtual clock advances with every interpreted step (a
/// labrpc call costs ~100 ms of it), all timers run 10 times slower so that
/// elections still settle. Normal builds use the lab's timings.
const TIME_SCALE: u64 = if cfg!(miri) { 10 } else { 1 };
/// Heartbeat period. The tester allows at most ~10 per second per peer.
pub const HEARTBEAT: Duration = Duration::from_millis(100 * TIME_SCALE);
/// Election timeouts are drawn uniformly from this range (ms). Several
/// heartbeats fit in the shortest, and the longest leaves time for a few
/// split votes within the tester's 5 s budget.
pub const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 350 * TIME_SCALE..650 * TIME_SCALE;
/// An AppendEntries carrying entries (or an InstallSnapshot) with no answer
/// after this long is presumed lost, and the entries are sent again.
pub const INFLIGHT_TIMEOUT: Duration = Duration::from_millis(500 * TIME_SCALE);
/// A leader that has heard no reply from a majority for this long steps
/// down (§6.2 of Ongaro's dissertation, etcd's CheckQuorum). It is shorter
/// than the shortest election timeout, so a leader cut off from the
/// majority stops accepting commands before the majority can elect another:
/// clients are not left waiting on a stale leader.
pub const QUORUM_TIMEOUT: Duration = Duration::from_millis(300 * TIME_SCALE);
const _: () = assert!(QUORUM_TIMEOUT.as_millis() < ELECTION_TIMEOUT_MS.start as u128);
/// A send that fails this soon was dropped by the network, not lost to a
/// partition or a crash (whose failures take up to seconds under the lab's
/// long delays): the leader sends again at once instead of waiting for the
/// next heartbeat.
pub const QUICK_FAILURE: Duration = Duration::from_millis(50 * TIME_SCALE);
/// After the commit index moves, followers that have nothing else coming
/// learn it within this long (a heartbeat pulled forward), so that a run of
/// commits costs one notice per follower instead of one per commit.
pub const COMMIT_NOTICE: Duration = Duration::from_millis(5 * TIME_SCALE);
const _: () = assert!(COMMIT_NOTICE.as_millis() < HEARTBEAT.as_millis());
/// Most entries sent in one AppendEntries.
pub const MAX_ENTRIES_PER_APPEND: u64 = 512;

/// A peer's role (§5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    /// `votes[i]`: peer i granted its vote in this election.
    Candidate {
        votes: Vec<bool>,
    },
    Leader,
}

/// A snapshot received by InstallSnapshot, waiting to go to the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSnapshot {
    pub index: u64,
    pub term: u64,
    pub data: Arc<Vec<u8>>,
}

/// Leader-only bookkeeping for one follower.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Figure 2's nextIndex: the next entry to send.
    /// invariant: match_index < next_index <= last_log_index + 1
    pub next_index: u64,
    /// Figure 2's matchIndex: highest entry known replicated there.
    pub match_index: u64,
    /// When the last entry-carrying AppendEntries or InstallSnapshot that is
    /// still unanswered was sent. One such message at a time per follower:
    /// a burst of `start`s travels in one RPC, not one each.
    pub inflight_since: Option<Instant>,
    /// When this follower is next due a heartbeat.
    pub heartbeat_due: Instant,
    /// When a reply from this follower, in this term, last arrived (the
    /// election's time before the first).
    pub last_reply: Instant,
    /// The commit index carried by the last AppendEntries sent to it.
    pub commit_sent: u64,
}

impl Progress {
    /// A fresh leader's view of a follower: nothing known to match.
    pub fn new(next_index: u64, now: Instant) -> Progress {
        Progress {
            next_index,
            match_index: 0,
            inflight_since: None,
            heartbeat_due: now,
            last_reply: now,
            commit_sent: 0,
        }
    }

    /// A reply, at `now`, to a message of this term sent at `sent_at`. It
    /// frees the in-flight slot if it answers the message in flight, or
    /// one sent after it: the one in flight is then presumed lost (its
    /// failure may take seconds to surface).
    pub fn heard(&mut self, sent_at: Instant, now: Instant) {
        if self.inflight_since.is_some_and(|t| t <= sent_at) {
            self.inflight_since = None;
        }
        self.last_reply = self.last_reply.max(now);
    }
}

/// One peer's state.
pub struct RaftState {
    /// This peer's index in `peers`.
    pub me: usize,
    /// Cluster size.
    pub peers: usize,

    // ---- Persistent state on all servers (Figure 2), saved before answering
    // ---- an RPC or acting on a change. Changed only through the setters
    // ---- below, which mark the state dirty.
    current_term: u64,
    voted_for: Option<usize>,
    log: Log,
    /// The service's latest snapshot, covering the log through
    /// `log.snapshot_index()`; saved with the state when it changes (§7).
    snapshot: Arc<Vec<u8>>,

    // ---- Volatile state on all servers.
    /// invariant: log.snapshot_index() <= commit_index <= log.last_index()
    pub commit_index: u64,
    /// Highest index handed to the applier for delivery.
    /// invariant: last_applied <= commit_index
    pub last_applied: u64,
    pub role: Role,
    /// When this follower or candidate starts an election.
    pub election_deadline: Instant,
    /// A snapshot to deliver before any further command.
    /// invariant: if set, its index > last_applied
    pub pending_snapshot: Option<PendingSnapshot>,

    // ---- Volatile state on leaders, reinitialized after election.
    /// One entry per peer (our own is unused).
    pub progress: Vec<Progress>,

    /// What must be written before the next reply or action.
    pub dirty: Dirty,
    rng: StdRng,
}

/// Unsaved changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dirty {
    /// Term, vote or log changed.
    pub state: bool,
    /// The snapshot changed (saved together with the state).
    pub snapshot: bool,
}

impl RaftState {
    /// A fresh follower, or a restarted one from its persisted parts.
    /// The snapshot, if any, has already been handed to the service, so
    /// everything it covers counts as applied.
    pub fn new(me: usize, peers: usize, persisted: Persisted, seed: u64, now: Instant) -> RaftState {
        assert!(me < peers, "raft: me = {me} but there are only {peers} peers");
        let base = persisted.log.snapshot_index();
        let mut st = RaftState {
            me,
            peers,
            current_term: persisted.current_term,
            voted_for: persisted.voted_for,
            log: persisted.log,
            snapshot: Arc::new(persisted.snapshot),
            commit_index: base,
            last_applied: base,
            role: Role::Follower,
            election_deadline: now,
            pending_snapshot: None,
            progress: Vec::new(),
            dirty: Dirty::default(),
            rng: StdRng::seed_from_u64(seed),
        };
        st.reset_election_timer(now);
        st.check_invariants();
        st
    }

    pub fn current_term(&self) -> u64 {
        self.current_term
    }
    pub fn voted_for(&self) -> Option<usize> {
        self.voted_for
    }
    pub fn log(&self) -> &Log {
        &self.log
    }
    pub fn snapshot(&self) -> &Arc<Vec<u8>> {
        &self.snapshot
    }
    /// Every peer but this one.
    pub fn followers(&self) -> impl Iterator<Item = usize> {
        let me = self.me;
        (0..self.peers).filter(move |&p| p != me)
    }
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// The log, for saving it: not a change, so the state stays clean.
    pub(crate) fn log_to_save(&mut self) -> &mut Log {
        &mut self.log
    }

    /// Mutable access to the log; marks the state dirty.
    pub fn log_mut(&mut self) -> &mut Log {
        self.dirty.state = true;
        &mut self.log
    }

    /// Moves to a newer term, forgetting the vote (Figure 2, "All Servers").
    pub fn set_term(&mut self, term: u64) {
        assert!(term > self.current_term, "terms only grow: {} -> {term}", self.current_term);
        self.current_term = term;
        self.voted_for = None;
        self.dirty.state = true;
    }

    pub fn set_voted_for(&mut self, peer: Option<usize>) {
        self.voted_for = peer;
        self.dirty.state = true;
    }

    /// Replaces the snapshot (the log must already be compacted to match).
    pub fn set_snapshot(&mut self, data: Arc<Vec<u8>>) {
        self.snapshot = data;
        self.dirty.snapshot = true;
        self.dirty.state = true;
    }

    /// Takes the dirty flags, leaving them clear.
    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }

    /// Picks a new random election deadline (§5.2).
    pub fn reset_election_timer(&mut self, now: Instant) {
        let ms = self.rng.gen_range(ELECTION_TIMEOUT_MS);
        self.election_deadline = now + Duration::from_millis(ms);
    }

    /// The persisted parts, for encoding.
    pub fn persisted_view(&self) -> (u64, Option<usize>, &Log) {
        (self.current_term, self.voted_for, &self.log)
    }

    /// Panics if an invariant is broken. Cheap; debug builds call it after
    /// every rule.
    pub fn check_invariants(&self) {
        let l = &self.log;
        assert!(
            l.snapshot_index() <= self.commit_index && self.commit_index <= l.last_index(),
            "S{}: invariant snapshot_index {} <= commit_index {} <= last_index {} broken",
            self.me,
            l.snapshot_index(),
            self.commit_index,
            l.last_index()
        );
        assert!(
            self.last_applied <= self.commit_index,
            "S{}: invariant last_applied {} <= commit_index {} broken",
            self.me,
            self.last_applied,
            self.commit_index
        );
        if let Some(p) = &self.pending_snapshot {
            assert!(
                p.index > self.last_applied,
                "S{}: pending snapshot {} not ahead of last_applied {}",
                self.me,
                p.index,
                self.last_applied
            );
        }
        assert!(self.voted_for.is_none_or(|v| v < self.peers), "S{}: voted for unknown peer", self.me);
        if self.role == Role::Leader {
            for (i, p) in self.progress.iter().enumerate().filter(|(i, _)| *i != self.me) {
                assert!(
                    p.match_index < p.next_index && p.next_index <= l.last_index() + 1,
                    "S{}: invariant match {} < next {} <= last+1 {} broken for S{i}",
                    self.me,
                    p.match_index,
                    p.next_index,
                    l.last_index() + 1
                );
            }
        }
    }

    #[inline]
    pub(crate) fn debug_check(&self) {
        if cfg!(debug_assertions) {
            self.check_invariants();
        }
    }
}

/// What a peer keeps across a crash: Figure 2's persistent state plus the
/// snapshot (§7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    pub current_term: u64,
    pub voted_for: Option<usize>,
    pub log: Log,
    pub snapshot: Vec<u8>,
}
