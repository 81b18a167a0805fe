//! Log compaction (§7): the service's snapshots, and InstallSnapshot for
//! followers that need entries the leader has discarded. Plain rules over
//! [`RaftState`].

use crate::messages::{InstallSnapshotArgs, InstallSnapshotReply, Outgoing};
use crate::replication::Why;
use crate::state::{PendingSnapshot, RaftState};
use lablog::{dlog, Topic};
use std::sync::Arc;
use std::time::Instant;

/// What the leader remembers of an InstallSnapshot while waiting for its
/// reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSent {
    pub term: u64,
    pub last_included_index: u64,
    pub sent_at: Instant,
}

impl RaftState {
    /// The service's `snapshot(index, data)`: its state through `index` is
    /// in `data`, so the log through `index` can go. An index at or below
    /// the current snapshot is stale (a newer snapshot was installed
    /// meanwhile) and ignored. Returns true if the snapshot was taken.
    ///
    /// # Panics
    /// If `index` is past what was handed to the service: a service can
    /// only snapshot what it has applied.
    pub fn take_snapshot(&mut self, index: u64, data: Vec<u8>) -> bool {
        if index <= self.log().snapshot_index() {
            dlog!(Topic::Snap, self.me, self.current_term(), "ignoring stale snapshot at {index}");
            return false;
        }
        assert!(
            index <= self.last_applied,
            "raft: snapshot({index}) is past the last index delivered to the service ({}); \
             a service may only snapshot commands it has applied",
            self.last_applied
        );
        self.log_mut().compact_through(index);
        self.set_snapshot(Arc::new(data));
        dlog!(Topic::Snap, self.me, self.current_term(), "snapshot through {index}, {} entries kept", self.log().len());
        self.debug_check();
        true
    }

    /// The InstallSnapshot receiver (§7, Figure 13 without chunks). A
    /// snapshot that does not reach past our commit index brings nothing
    /// new and is ignored; otherwise the log is cut (keeping a matching
    /// suffix), and the snapshot waits for the applier.
    pub fn handle_install_snapshot(&mut self, args: &InstallSnapshotArgs, now: Instant) -> InstallSnapshotReply {
        if args.term < self.current_term() {
            return InstallSnapshotReply { term: self.current_term() };
        }
        self.observe_term(args.term, now);
        assert!(!self.is_leader(), "S{}: two leaders in term {} (election safety, §5.2)", self.me, args.term);
        self.become_follower();
        self.reset_election_timer(now);

        let (index, term) = (args.last_included_index, args.last_included_term);
        if index <= self.commit_index {
            dlog!(
                Topic::Snap,
                self.me,
                self.current_term(),
                "snapshot through {index} from S{} is not news (commit {})",
                args.leader_id,
                self.commit_index
            );
            return InstallSnapshotReply { term: self.current_term() };
        }
        if self.log().term_at(index) == Some(term) {
            self.log_mut().compact_through(index); // keep the matching suffix
        } else {
            self.log_mut().reset_to_snapshot(index, term);
        }
        let data = Arc::new(args.data.clone());
        self.set_snapshot(Arc::clone(&data));
        self.commit_index = index;
        self.pending_snapshot = Some(PendingSnapshot { index, term, data });
        dlog!(
            Topic::Snap,
            self.me,
            self.current_term(),
            "installed snapshot through {index} (term {term}) from S{}",
            args.leader_id
        );
        self.debug_check();
        InstallSnapshotReply { term: self.current_term() }
    }

    /// An InstallSnapshot reply: the follower now holds everything through
    /// the snapshot.
    pub fn handle_snapshot_reply(
        &mut self,
        from: usize,
        sent: &SnapshotSent,
        reply: &InstallSnapshotReply,
        now: Instant,
        out: &mut Vec<Outgoing>,
    ) {
        if self.observe_term(reply.term, now) || !self.is_leader() || self.current_term() != sent.term {
            return;
        }
        let p = &mut self.progress[from];
        p.heard(sent.sent_at, now);
        p.match_index = p.match_index.max(sent.last_included_index);
        p.next_index = p.next_index.max(p.match_index + 1);
        if self.advance_commit() {
            return self.notify_commit(now, out);
        }
        self.replicate(from, now, Why::Progress, out);
        self.debug_check();
    }
}
