//! Log replication (§5.3) and the commit rule (§5.4.2), plus the lab's
//! fast backup over conflicting logs. Plain rules over [`RaftState`].

use crate::log::{Entry, Log};
use crate::messages::{AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, Outgoing};
use crate::state::{
    RaftState, Role, COMMIT_NOTICE, HEARTBEAT, INFLIGHT_TIMEOUT, MAX_ENTRIES_PER_APPEND, QUICK_FAILURE,
};
use lablog::{dlog, Topic};
use std::time::Instant;

/// Why the leader considers sending to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The heartbeat is due: always send something.
    Heartbeat,
    /// New entries, or the follower's reply left it behind: send only if
    /// there is something to send and nothing is in flight.
    Progress,
    /// The commit index advanced: tell followers now unless a message that
    /// will tell them is already in flight.
    Commit,
}

/// What the leader remembers of an AppendEntries while waiting for its
/// reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendSent {
    pub term: u64,
    pub prev_log_index: u64,
    pub entries: u64,
    pub sent_at: Instant,
}

impl AppendSent {
    pub fn of(args: &AppendEntriesArgs, sent_at: Instant) -> AppendSent {
        AppendSent { term: args.term, prev_log_index: args.prev_log_index, entries: args.entries.len() as u64, sent_at }
    }

    /// True if this message carried entries, and so took the follower's
    /// in-flight slot.
    pub fn held_slot(&self) -> bool {
        self.entries > 0
    }
}

/// The leader's side of the fast backup (lab handout): where to probe next
/// after a rejection.
/// - the follower has no entry at prev (XTerm absent): its log length XLen;
/// - the leader has entries of XTerm: just after its last one;
/// - the leader has none of XTerm: the follower's first XTerm index XIndex.
pub fn backup_next_index(log: &Log, reply: &AppendEntriesReply) -> u64 {
    match reply.conflict_term {
        None => reply.log_len,
        Some(t) => log.last_index_of_term(t).map_or(reply.conflict_index, |i| i + 1),
    }
}

impl RaftState {
    /// `start`: a leader appends the command to its own log and sends it.
    /// Returns (index, term), or `None` if not the leader.
    pub fn start_command(&mut self, command: Vec<u8>, now: Instant, out: &mut Vec<Outgoing>) -> Option<(u64, u64)> {
        if !self.is_leader() {
            return None;
        }
        let term = self.current_term();
        let index = self.log_mut().append(Entry { term, command });
        dlog!(Topic::Log, self.me, term, "start: appended index {index}");
        if !self.advance_commit() {
            for p in self.followers() {
                self.replicate(p, now, Why::Progress, out);
            }
        }
        self.debug_check();
        Some((index, term))
    }

    /// The AppendEntries receiver (Figure 2, §5.3), with conflict hints on
    /// rejection and tolerance for a `prev_log_index` inside our snapshot.
    pub fn handle_append_entries(&mut self, args: &AppendEntriesArgs, now: Instant) -> AppendEntriesReply {
        let reject = |st: &RaftState, conflict_term, conflict_index| AppendEntriesReply {
            term: st.current_term(),
            success: false,
            conflict_term,
            conflict_index,
            log_len: st.log().last_index() + 1,
        };
        if args.term < self.current_term() {
            dlog!(Topic::Drop, self.me, self.current_term(), "AE from S{} of old term {}", args.leader_id, args.term);
            return reject(self, None, 0);
        }
        self.observe_term(args.term, now);
        assert!(!self.is_leader(), "S{}: two leaders in term {} (election safety, §5.2)", self.me, args.term);
        self.become_follower();
        self.reset_election_timer(now);

        let snap = self.log().snapshot_index();
        let (prev, entries) = if args.prev_log_index < snap {
            // Entries up to our snapshot are committed, hence identical to
            // the leader's: skip them.
            let skip = (snap - args.prev_log_index) as usize;
            (snap, args.entries.get(skip..).unwrap_or(&[]))
        } else {
            match self.log().term_at(args.prev_log_index) {
                None => {
                    dlog!(
                        Topic::Log,
                        self.me,
                        self.current_term(),
                        "reject: no entry at {} (log ends {})",
                        args.prev_log_index,
                        self.log().last_index()
                    );
                    return reject(self, None, 0);
                }
                Some(t) if t != args.prev_log_term => {
                    let first = self.log().first_index_of_term_at(args.prev_log_index);
                    dlog!(
                        Topic::Log,
                        self.me,
                        self.current_term(),
                        "reject: term {t} at {} != {}, term starts at {first}",
                        args.prev_log_index,
                        args.prev_log_term
                    );
                    return reject(self, Some(t), first);
                }
                Some(_) => (args.prev_log_index, &args.entries[..]),
            }
        };

        // Append, truncating only at a real conflict: a stale, shorter
        // AppendEntries must not cut entries a later one added (§5.3).
        for (i, e) in entries.iter().enumerate() {
            let index = prev + 1 + i as u64;
            match self.log().term_at(index) {
                Some(t) if t == e.term => continue,
                Some(_) => {
                    assert!(index > self.commit_index, "S{}: conflict at committed index {index}", self.me);
                    dlog!(Topic::Log, self.me, self.current_term(), "conflict at {index}: truncating");
                    self.log_mut().truncate_after(index - 1);
                }
                None => {}
            }
            let log = self.log_mut();
            for e in &entries[i..] {
                log.append(e.clone());
            }
            dlog!(
                Topic::Log,
                self.me,
                self.current_term(),
                "appended {}..={} from S{}",
                index,
                self.log().last_index(),
                args.leader_id
            );
            break;
        }

        // Commit what the leader committed, as far as it is known to match.
        let last_new = prev + entries.len() as u64;
        let commit = args.leader_commit.min(last_new);
        if commit > self.commit_index {
            dlog!(Topic::Cmit, self.me, self.current_term(), "commit {} -> {commit}", self.commit_index);
            self.commit_index = commit;
        }
        self.debug_check();
        AppendEntriesReply {
            term: self.current_term(),
            success: true,
            conflict_term: None,
            conflict_index: 0,
            log_len: 0,
        }
    }

    /// An AppendEntries reply. Stale replies (another term, or no longer
    /// leader) are ignored; `match_index` only grows.
    pub fn handle_append_reply(
        &mut self,
        from: usize,
        sent: &AppendSent,
        reply: &AppendEntriesReply,
        now: Instant,
        out: &mut Vec<Outgoing>,
    ) {
        if self.observe_term(reply.term, now) {
            return;
        }
        if !self.is_leader() || self.current_term() != sent.term {
            dlog!(Topic::Drop, self.me, self.current_term(), "stale AE reply from S{from}");
            return;
        }
        let last = self.log().last_index();
        let hint = if reply.success { 0 } else { backup_next_index(self.log(), reply) };
        let (me, term) = (self.me, self.current_term());
        let p = &mut self.progress[from];
        p.heard(sent.sent_at, now);
        if reply.success {
            let matched = sent.prev_log_index + sent.entries;
            if matched > p.match_index {
                p.match_index = matched;
            }
            p.next_index = p.next_index.max(p.match_index + 1);
            if self.advance_commit() {
                return self.notify_commit(now, out);
            }
        } else if p.next_index == sent.prev_log_index + 1 {
            // Still where this probe left it: back up, a term at a time.
            let next = hint.min(sent.prev_log_index).max(p.match_index + 1).min(last + 1);
            dlog!(Topic::Log, me, term, "S{from} rejected at {}: next {} -> {next}", sent.prev_log_index, p.next_index);
            p.next_index = next;
            p.inflight_since = None;
        }
        self.replicate(from, now, Why::Progress, out);
        self.commit_notice(from, now);
        self.debug_check();
    }

    /// An AppendEntries or InstallSnapshot of `sent_term`, sent at
    /// `sent_at`, got no reply. If it `held_slot` (it carried entries or a
    /// snapshot) and still does, the follower's in-flight slot is freed. A
    /// quick failure is a message the network dropped: send again now. A
    /// slow one (a partition, a crashed peer) waits for the next heartbeat,
    /// so an unreachable peer is not hammered.
    pub fn handle_send_failure(
        &mut self,
        to: usize,
        sent_term: u64,
        sent_at: Instant,
        held_slot: bool,
        now: Instant,
        out: &mut Vec<Outgoing>,
    ) {
        if !self.is_leader() || self.current_term() != sent_term {
            return;
        }
        let p = &mut self.progress[to];
        if held_slot && p.inflight_since == Some(sent_at) {
            p.inflight_since = None;
        }
        if now.saturating_duration_since(sent_at) < QUICK_FAILURE {
            dlog!(Topic::Drop, self.me, sent_term, "message to S{to} dropped: sending again");
            self.replicate(to, now, Why::Commit, out);
        }
    }

    /// The leader's commit rule (§5.4.2, Figure 2): the highest N with a
    /// majority of matchIndex >= N and `log[N].term` == currentTerm. Entries of
    /// earlier terms are committed only indirectly, by a current-term entry
    /// above them. Returns true if the commit index moved.
    pub fn advance_commit(&mut self) -> bool {
        if !self.is_leader() {
            return false;
        }
        let majority = self.peers / 2 + 1;
        let mut n = self.log().last_index();
        while n > self.commit_index {
            let t = self.log().term_at(n).expect("index between commit and last is in the log");
            if t < self.current_term() {
                break; // terms only decrease going back
            }
            let replicas = 1 + self.followers().filter(|&p| self.progress[p].match_index >= n).count();
            if replicas >= majority {
                dlog!(Topic::Cmit, self.me, self.current_term(), "commit {} -> {n}", self.commit_index);
                self.commit_index = n;
                return true;
            }
            n -= 1;
        }
        false
    }

    /// After the commit index moved: followers with entries to receive get
    /// them now (the message carries the new commit index); the others
    /// learn it within [`COMMIT_NOTICE`] (see [`RaftState::commit_notice`]).
    pub(crate) fn notify_commit(&mut self, now: Instant, out: &mut Vec<Outgoing>) {
        for p in self.followers() {
            self.replicate(p, now, Why::Progress, out);
            self.commit_notice(p, now);
        }
        self.debug_check();
    }

    /// Follower `p` has not been sent the commit index and nothing is in
    /// flight to it: its heartbeat is pulled forward to [`COMMIT_NOTICE`]
    /// from now, unless a message sent in the meantime (the next command's
    /// entries) carries the commit first. Commits that follow each other
    /// closely cost one notice, not one each. With a message in flight, the
    /// reply comes first (and brings the follower here again); an
    /// unreachable follower is not sent a notice per commit.
    fn commit_notice(&mut self, p: usize, now: Instant) {
        let commit = self.commit_index;
        let pr = &mut self.progress[p];
        let in_flight = pr.inflight_since.is_some_and(|t| now.saturating_duration_since(t) < INFLIGHT_TIMEOUT);
        if pr.commit_sent < commit && !in_flight {
            pr.heartbeat_due = pr.heartbeat_due.min(now + COMMIT_NOTICE);
        }
    }

    /// Decides what, if anything, to send follower `to` now: the entries it
    /// lacks (one batch in flight at a time), a snapshot if the leader has
    /// discarded them (§7), or an empty heartbeat.
    pub fn replicate(&mut self, to: usize, now: Instant, why: Why, out: &mut Vec<Outgoing>) {
        debug_assert!(self.role == Role::Leader && to != self.me);
        let term = self.current_term();
        let log = self.log();
        let (snap, last) = (log.snapshot_index(), log.last_index());
        let p = &self.progress[to];
        let in_flight = p.inflight_since.is_some_and(|t| now.saturating_duration_since(t) < INFLIGHT_TIMEOUT);
        let behind = p.next_index <= last;
        // The entries after `prev` through `through` (none for a heartbeat:
        // `through == prev`).
        let append = |prev: u64, through: u64| AppendEntriesArgs {
            term,
            leader_id: self.me,
            prev_log_index: prev,
            prev_log_term: log.term_at(prev).expect("prev is at or after the snapshot"),
            entries: log.entries(prev + 1, through),
            leader_commit: self.commit_index,
        };
        let msg = if behind && !in_flight {
            if p.next_index <= snap {
                dlog!(Topic::Snap, self.me, term, "S{to} needs {}: sending snapshot through {snap}", p.next_index);
                let args = InstallSnapshotArgs {
                    term,
                    leader_id: self.me,
                    last_included_index: snap,
                    last_included_term: log.snapshot_term(),
                    data: self.snapshot().to_vec(),
                };
                Outgoing::InstallSnapshot { to, args, sent_at: now }
            } else {
                let prev = p.next_index - 1;
                let args = append(prev, last.min(prev + MAX_ENTRIES_PER_APPEND));
                Outgoing::AppendEntries { to, args, sent_at: now }
            }
        } else if why == Why::Heartbeat || (why == Why::Commit && !in_flight) {
            let prev = (p.next_index - 1).max(snap);
            Outgoing::AppendEntries { to, args: append(prev, prev), sent_at: now }
        } else {
            return;
        };
        let p = &mut self.progress[to];
        if !matches!(&msg, Outgoing::AppendEntries { args, .. } if args.entries.is_empty()) {
            p.inflight_since = Some(now);
        }
        if let Outgoing::AppendEntries { args, .. } = &msg {
            p.commit_sent = args.leader_commit;
        }
        p.heartbeat_due = now + HEARTBEAT;
        out.push(msg);
    }
}
