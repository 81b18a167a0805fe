//! What the applier delivers next: a pending snapshot first, then committed
//! commands in index order. A plain rule over [`RaftState`]; the applier
//! thread calls it under the lock and sends the result after unlocking.

use crate::state::RaftState;
use crate::ApplyMsg;

/// Most commands handed to the applier at once: a restarted peer that
/// learns a long log is committed delivers it in batches (each read back
/// from the persister when its turn comes), not as one copy of the log.
pub const MAX_APPLY_BATCH: u64 = 512;

impl RaftState {
    /// Is there anything for the applier to deliver?
    pub fn has_apply_work(&self) -> bool {
        self.pending_snapshot.is_some() || self.last_applied < self.commit_index
    }

    /// Takes the next messages to deliver (at most [`MAX_APPLY_BATCH`]
    /// commands) and advances `last_applied` past them. A pending snapshot
    /// goes first, alone; commands never at or below a delivered snapshot,
    /// and never a snapshot older than what was delivered (both guaranteed
    /// by the invariants checked here).
    pub fn next_apply(&mut self) -> Vec<ApplyMsg> {
        if let Some(s) = self.pending_snapshot.take() {
            assert!(
                s.index > self.last_applied,
                "S{}: snapshot {} would move the service back from {}",
                self.me,
                s.index,
                self.last_applied
            );
            self.last_applied = s.index;
            return vec![ApplyMsg::Snapshot { index: s.index, term: s.term, data: s.data.to_vec() }];
        }
        if self.last_applied >= self.commit_index {
            return Vec::new();
        }
        let (from, to) = (self.last_applied + 1, self.commit_index.min(self.last_applied + MAX_APPLY_BATCH));
        assert!(
            from > self.log().snapshot_index(),
            "S{}: command {from} is inside the snapshot through {} that was never delivered",
            self.me,
            self.log().snapshot_index()
        );
        let msgs = self
            .log()
            .entries(from, to)
            .into_iter()
            .zip(from..)
            .map(|(e, index)| ApplyMsg::Command { index, term: e.term, command: e.command })
            .collect();
        self.last_applied = to;
        msgs
    }
}
