//! The RPCs of Figure 2 (RequestVote, AppendEntries) and §7
//! (InstallSnapshot), plus the fast-backup hints of the lab handout.

use crate::log::Entry;
use serde::{Deserialize, Serialize};

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
