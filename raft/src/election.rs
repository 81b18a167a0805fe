//! Leader election (§5.2) with the election restriction (§5.4.1), and the
//! timers that drive it. Plain rules over [`RaftState`].

use crate::messages::{Outgoing, RequestVoteArgs, RequestVoteReply};
use crate::replication::Why;
use crate::state::{Progress, RaftState, Role, QUORUM_TIMEOUT};
use lablog::{dlog, Topic};
use std::time::Instant;

impl RaftState {
    /// Figure 2, "All Servers": on seeing a newer term, adopt it and become
    /// a follower. Returns true if the term moved.
    pub fn observe_term(&mut self, term: u64, now: Instant) -> bool {
        if term <= self.current_term() {
            return false;
        }
        dlog!(Topic::Term, self.me, self.current_term(), "saw term {term}, following");
        let was_leader = self.is_leader();
        self.set_term(term);
        self.become_follower();
        if was_leader {
            // A deposed leader's timer went stale while it led.
            self.reset_election_timer(now);
        }
        true
    }

    pub(crate) fn become_follower(&mut self) {
        if self.role != Role::Follower {
            if self.is_leader() {
                dlog!(Topic::Lead, self.me, self.current_term(), "stepping down");
            }
            self.role = Role::Follower;
            self.progress.clear();
        }
    }

    /// Timer work due at `now`: an election for a follower or candidate
    /// whose deadline passed; for a leader, heartbeats, or stepping down if
    /// it lost touch with the majority.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Outgoing>) {
        if self.is_leader() {
            if self.quorum_deadline().is_some_and(|d| d <= now) {
                dlog!(Topic::Lead, self.me, self.current_term(), "no reply from a majority for {QUORUM_TIMEOUT:?}");
                self.become_follower();
                self.reset_election_timer(now);
                return self.debug_check();
            }
            for p in self.followers() {
                if self.progress[p].heartbeat_due <= now {
                    self.replicate(p, now, Why::Heartbeat, out);
                }
            }
        } else if now >= self.election_deadline {
            dlog!(Topic::Timr, self.me, self.current_term(), "election timeout");
            self.start_election(now, out);
        }
        self.debug_check();
    }

    /// When the ticker must next run `tick`. A leader with no followers (a
    /// single-peer cluster) has nothing timed to do and wakes once a
    /// heartbeat period.
    pub fn next_wakeup(&self, now: Instant) -> Instant {
        if self.is_leader() {
            let heartbeat = self.followers().map(|p| self.progress[p].heartbeat_due).min();
            heartbeat.into_iter().chain(self.quorum_deadline()).min().unwrap_or(now + crate::state::HEARTBEAT)
        } else {
            self.election_deadline
        }
    }

    /// When this leader steps down unless it hears from more followers: a
    /// majority (itself included) must have replied within
    /// [`QUORUM_TIMEOUT`]. `None` in a single-peer cluster.
    pub fn quorum_deadline(&self) -> Option<Instant> {
        let mut heard: Vec<Instant> = self.followers().map(|p| self.progress[p].last_reply).collect();
        heard.sort_unstable_by(|a, b| b.cmp(a));
        // The leader plus the `peers / 2` most recent repliers form a majority.
        let nth = (self.peers / 2).checked_sub(1)?;
        Some(heard[nth] + QUORUM_TIMEOUT)
    }

    /// Figure 2, "Candidates": new term, vote for self, reset the timer,
    /// ask everyone else for votes.
    pub fn start_election(&mut self, now: Instant, out: &mut Vec<Outgoing>) {
        self.set_term(self.current_term() + 1);
        self.set_voted_for(Some(self.me));
        let mut votes = vec![false; self.peers];
        votes[self.me] = true;
        self.role = Role::Candidate { votes };
        self.progress.clear();
        self.reset_election_timer(now);
        dlog!(Topic::Vote, self.me, self.current_term(), "starting election");
        if self.peers == 1 {
            return self.become_leader(now, out);
        }
        let args = RequestVoteArgs {
            term: self.current_term(),
            candidate_id: self.me,
            last_log_index: self.log().last_index(),
            last_log_term: self.log().last_term(),
        };
        for to in self.followers() {
            out.push(Outgoing::RequestVote { to, args: args.clone() });
        }
    }

    /// The RequestVote receiver (Figure 2): grant at most one vote per term,
    /// and only to a candidate whose log is at least as up-to-date (§5.4.1).
    pub fn handle_request_vote(&mut self, args: &RequestVoteArgs, now: Instant) -> RequestVoteReply {
        self.observe_term(args.term, now);
        let log = self.log();
        let up_to_date = args.last_log_term > log.last_term()
            || (args.last_log_term == log.last_term() && args.last_log_index >= log.last_index());
        let free = self.voted_for().is_none_or(|v| v == args.candidate_id);
        let grant = args.term == self.current_term() && free && up_to_date;
        if grant {
            if self.voted_for() != Some(args.candidate_id) {
                self.set_voted_for(Some(args.candidate_id));
            }
            // Granting a vote resets the election timer (Figure 2, Followers).
            self.reset_election_timer(now);
            dlog!(Topic::Vote, self.me, self.current_term(), "granted vote to S{}", args.candidate_id);
        } else {
            dlog!(
                Topic::Vote,
                self.me,
                self.current_term(),
                "refused S{} (term {}, voted {:?}, up-to-date {up_to_date})",
                args.candidate_id,
                args.term,
                self.voted_for()
            );
        }
        self.debug_check();
        RequestVoteReply { term: self.current_term(), vote_granted: grant }
    }

    /// A RequestVote reply. Ignored unless we are still the candidate of the
    /// term the request was sent in.
    pub fn handle_vote_reply(
        &mut self,
        from: usize,
        sent_term: u64,
        reply: &RequestVoteReply,
        now: Instant,
        out: &mut Vec<Outgoing>,
    ) {
        if self.observe_term(reply.term, now) || self.current_term() != sent_term || !reply.vote_granted {
            return;
        }
        let Role::Candidate { votes } = &mut self.role else { return };
        votes[from] = true;
        let granted = votes.iter().filter(|&&v| v).count();
        if granted > self.peers / 2 {
            self.become_leader(now, out);
        }
        self.debug_check();
    }

    /// Figure 2, "Leaders": reinitialize nextIndex and matchIndex, then send
    /// initial empty AppendEntries at once.
    fn become_leader(&mut self, now: Instant, out: &mut Vec<Outgoing>) {
        dlog!(Topic::Lead, self.me, self.current_term(), "won election, log ends at {}", self.log().last_index());
        self.role = Role::Leader;
        let next_index = self.log().last_index() + 1;
        self.progress = vec![Progress::new(next_index, now); self.peers];
        self.advance_commit(); // a single-peer cluster commits alone
        for p in self.followers() {
            self.replicate(p, now, Why::Heartbeat, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::log::Entry;
    use crate::messages::{Outgoing, RequestVoteArgs, RequestVoteReply};
    use crate::state::{Persisted, RaftState, Role};
    use std::time::{Duration, Instant};

    fn peer(me: usize, n: usize, log_terms: &[u64], term: u64) -> RaftState {
        let mut p = Persisted { current_term: term, ..Default::default() };
        for &t in log_terms {
            p.log.append(Entry { term: t, command: vec![] });
        }
        RaftState::new(me, n, p, me as u64, Instant::now())
    }

    fn rv(term: u64, cand: usize, last_index: u64, last_term: u64) -> RequestVoteArgs {
        RequestVoteArgs { term, candidate_id: cand, last_log_index: last_index, last_log_term: last_term }
    }

    #[test]
    fn grants_one_vote_per_term() {
        let mut s = peer(0, 3, &[], 1);
        let now = Instant::now();
        assert!(s.handle_request_vote(&rv(2, 1, 0, 0), now).vote_granted);
        assert_eq!(s.current_term(), 2);
        assert_eq!(s.voted_for(), Some(1));
        assert!(s.take_dirty().state, "term and vote must be persisted before replying");
        assert!(!s.handle_request_vote(&rv(2, 2, 0, 0), now).vote_granted, "already voted in term 2");
        assert!(s.handle_request_vote(&rv(2, 1, 0, 0), now).vote_granted, "a repeated request gets the same answer");
        assert!(s.handle_request_vote(&rv(3, 2, 0, 0), now).vote_granted, "a new term frees the vote");
    }

    #[test]
    fn refuses_stale_terms() {
        let mut s = peer(0, 3, &[], 5);
        let r = s.handle_request_vote(&rv(4, 1, 9, 9), Instant::now());
        assert_eq!(r, RequestVoteReply { term: 5, vote_granted: false });
    }

    #[test]
    fn election_restriction_compares_last_term_then_length() {
        let now = Instant::now();
        // Voter's log: terms [1, 2, 2] (last term 2, last index 3).
        let mut s = peer(0, 3, &[1, 2, 2], 2);
        assert!(!s.handle_request_vote(&rv(3, 1, 10, 1), now).vote_granted, "older last term loses even if longer");
        let mut s = peer(0, 3, &[1, 2, 2], 2);
        assert!(!s.handle_request_vote(&rv(3, 1, 2, 2), now).vote_granted, "same term, shorter log loses");
        let mut s = peer(0, 3, &[1, 2, 2], 2);
        assert!(s.handle_request_vote(&rv(3, 1, 3, 2), now).vote_granted, "same term, same length wins");
        let mut s = peer(0, 3, &[1, 2, 2], 2);
        assert!(s.handle_request_vote(&rv(3, 1, 1, 3), now).vote_granted, "newer last term wins even if shorter");
        assert_eq!(s.current_term(), 3);
    }

    #[test]
    fn refusing_a_vote_does_not_reset_the_timer_but_granting_does() {
        let now = Instant::now();
        let mut s = peer(0, 3, &[1, 1], 1);
        let before = s.election_deadline;
        let later = now + Duration::from_secs(10);
        s.handle_request_vote(&rv(2, 1, 0, 0), later);
        assert_eq!(s.election_deadline, before);
        s.handle_request_vote(&rv(3, 2, 2, 1), later);
        assert!(s.election_deadline > later);
    }

    #[test]
    fn timeout_starts_an_election_and_a_majority_makes_a_leader() {
        let now = Instant::now();
        let mut s = peer(1, 5, &[1], 1);
        let mut out = Vec::new();
        s.tick(now, &mut out);
        assert!(out.is_empty(), "not yet timed out");
        let t = s.election_deadline;
        s.tick(t, &mut out);
        assert_eq!(s.current_term(), 2);
        assert_eq!(s.voted_for(), Some(1));
        assert!(matches!(s.role, Role::Candidate { .. }));
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|o| matches!(o, Outgoing::RequestVote { args, .. } if args.term == 2 && args.last_log_index == 1 && args.last_log_term == 1)));
        out.clear();
        let yes = RequestVoteReply { term: 2, vote_granted: true };
        s.handle_vote_reply(0, 2, &yes, t, &mut out);
        assert!(!s.is_leader(), "2 of 5 is no majority");
        s.handle_vote_reply(0, 2, &yes, t, &mut out);
        assert!(!s.is_leader(), "the same voter counts once");
        s.handle_vote_reply(3, 2, &yes, t, &mut out);
        assert!(s.is_leader());
        // Initial heartbeats go out at once.
        assert_eq!(
            out.iter().filter(|o| matches!(o, Outgoing::AppendEntries { args, .. } if args.entries.is_empty())).count(),
            4
        );
    }

    #[test]
    fn stale_and_newer_vote_replies() {
        let now = Instant::now();
        let mut s = peer(0, 3, &[], 1);
        let mut out = Vec::new();
        s.start_election(now, &mut out);
        assert_eq!(s.current_term(), 2);
        // A grant from an older election is ignored.
        s.handle_vote_reply(1, 1, &RequestVoteReply { term: 1, vote_granted: true }, now, &mut out);
        assert!(!s.is_leader());
        // A reply with a newer term turns the candidate into a follower.
        s.handle_vote_reply(2, 2, &RequestVoteReply { term: 7, vote_granted: false }, now, &mut out);
        assert_eq!(s.role, Role::Follower);
        assert_eq!(s.current_term(), 7);
        assert_eq!(s.voted_for(), None);
    }

    #[test]
    fn single_peer_elects_itself() {
        let mut s = peer(0, 1, &[], 0);
        let mut out = Vec::new();
        let t = s.election_deadline;
        s.tick(t, &mut out);
        assert!(s.is_leader());
        assert!(out.is_empty());
        assert!(s.next_wakeup(t) > t, "a lone leader's ticker must not spin");
    }

    #[test]
    fn leader_heartbeats_at_most_every_period() {
        let now = Instant::now();
        let mut s = peer(0, 3, &[], 0);
        let mut out = Vec::new();
        s.start_election(now, &mut out);
        s.handle_vote_reply(1, 1, &RequestVoteReply { term: 1, vote_granted: true }, now, &mut out);
        assert!(s.is_leader());
        out.clear();
        s.tick(now + Duration::from_millis(50), &mut out);
        assert!(out.is_empty(), "no heartbeat before the period");
        assert_eq!(s.next_wakeup(now), now + crate::state::HEARTBEAT);
        s.tick(now + crate::state::HEARTBEAT, &mut out);
        assert_eq!(out.len(), 2);
    }
}
