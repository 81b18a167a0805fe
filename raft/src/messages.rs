//! The RPCs of Figure 2 (RequestVote, AppendEntries) and §7
//! (InstallSnapshot), plus the fast-backup hints of the lab handout.

use crate::log::Entry;
use serde::{Deserialize, Serialize};
use std::fmt;

/// RequestVote arguments (§5.2, §5.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    pub term: u64,
    pub candidate_id: usize,
    pub last_log_index: u64,
    pub last_log_term: u64,
}

/// RequestVote reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    pub term: u64,
    pub vote_granted: bool,
}

/// AppendEntries arguments (§5.3). Empty `entries` is a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    pub term: u64,
    pub leader_id: usize,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub entries: Vec<Entry>,
    pub leader_commit: u64,
}

/// AppendEntries reply, with the handout's hints for backing up a whole
/// term at a time on rejection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    pub term: u64,
    pub success: bool,
    /// XTerm: the term of the follower's conflicting entry at
    /// `prev_log_index`, if it has one.
    pub conflict_term: Option<u64>,
    /// XIndex: the first index the follower holds with `conflict_term`.
    pub conflict_index: u64,
    /// XLen: the follower's log length, as the next index it lacks.
    pub log_len: u64,
}

/// InstallSnapshot arguments (§7), the whole snapshot in one RPC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    pub term: u64,
    pub leader_id: usize,
    pub last_included_index: u64,
    pub last_included_term: u64,
    #[serde(with = "labgob::bytes")]
    pub data: Vec<u8>,
}

/// InstallSnapshot reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    pub term: u64,
}

/// A message a rule decided to send. The node layer sends it after
/// releasing the lock, and routes the reply back to the matching rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    RequestVote {
        to: usize,
        args: RequestVoteArgs,
    },
    /// `sent_at` identifies the message; when it carries entries it is
    /// also the follower's in-flight token, cleared by its reply or failure.
    AppendEntries {
        to: usize,
        args: AppendEntriesArgs,
        sent_at: std::time::Instant,
    },
    InstallSnapshot {
        to: usize,
        args: InstallSnapshotArgs,
        sent_at: std::time::Instant,
    },
}

// One-line summaries for the RPC traces (`RAFT_LOG=trace`).

impl fmt::Display for RequestVoteArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, c, i, lt) = (self.term, self.candidate_id, self.last_log_index, self.last_log_term);
        write!(f, "RequestVote(T{t} candidate S{c} last log {i}/T{lt})")
    }
}

impl fmt::Display for RequestVoteReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.vote_granted { "granted" } else { "refused" };
        write!(f, "RequestVote reply(T{} {verdict})", self.term)
    }
}

impl fmt::Display for AppendEntriesArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, l, pi, pt, c) =
            (self.term, self.leader_id, self.prev_log_index, self.prev_log_term, self.leader_commit);
        write!(f, "AppendEntries(T{t} leader S{l} prev {pi}/T{pt} ")?;
        match self.entries.len() as u64 {
            0 => write!(f, "heartbeat")?,
            n => write!(f, "entries {}..={}", pi + 1, pi + n)?,
        }
        write!(f, " commit {c})")
    }
}

impl fmt::Display for AppendEntriesReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.success {
            return write!(f, "AppendEntries reply(T{} success)", self.term);
        }
        let xterm = self.conflict_term.map_or("-".to_string(), |t| format!("T{t}"));
        let (xi, xl) = (self.conflict_index, self.log_len);
        write!(f, "AppendEntries reply(T{} rejected, XTerm {xterm} XIndex {xi} XLen {xl})", self.term)
    }
}

impl fmt::Display for InstallSnapshotArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, l, i, lt) = (self.term, self.leader_id, self.last_included_index, self.last_included_term);
        write!(f, "InstallSnapshot(T{t} leader S{l} through {i}/T{lt}, {} B)", self.data.len())
    }
}

impl fmt::Display for InstallSnapshotReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstallSnapshot reply(T{})", self.term)
    }
}
