//! The safety suite's monitors (`Config::safety`), always on in its tests
//! and off in the course's: they check the paper's safety properties over
//! the whole test, not only when a test asks.
//!
//! - [`LeaderLog`]: at most one leader per term (Election Safety, §5.2,
//!   Figure 3). A thread of the harness samples every running peer's
//!   `get_state()` every [`LEADER_SAMPLE`] and remembers, per term, the
//!   peer seen leading it.
//! - [`ApplyLog`]: each peer's applied sequence goes up one index at a time,
//!   never back and never again, within a run of a peer (a restart starts
//!   again after the snapshot the peer restarts from); a snapshot never
//!   moves a peer's service back (§7, Figure 13); and no peer ever applies,
//!   or holds in a snapshot, a command that differs from what another peer
//!   applied at that index, across snapshots and restarts (State Machine
//!   Safety, §5.4.3, Figure 3).
//!
//! A violation ends the test at once, naming the rule, the peers, the terms
//! and the indexes.

use crate::Cmd;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How often the leader monitor samples every peer's `get_state()`.
pub const LEADER_SAMPLE: Duration = Duration::from_millis(5);

/// Which peer was seen leading each term, and when (into the test).
#[derive(Debug, Default)]
pub(crate) struct LeaderLog {
    by_term: BTreeMap<u64, (usize, Duration)>,
}

impl LeaderLog {
    /// Peer `peer` claims leadership in `term`, `at` into the test. An
    /// error if another peer was seen leading that term.
    pub(crate) fn observe(&mut self, peer: usize, term: u64, at: Duration) -> Result<(), String> {
        match self.by_term.get(&term) {
            None => {
                self.by_term.insert(term, (peer, at));
                Ok(())
            }
            Some(&(p, _)) if p == peer => Ok(()),
            Some(&(p, first)) => Err(format!(
                "safety: two leaders in term {term}: S{p} (seen leading at {:.3} s) and S{peer} (at {:.3} s). \
                 Election Safety (§5.2, Figure 3): at most one leader can be elected in a given term. Each peer \
                 grants at most one vote per term, and votedFor is persistent state (Figure 2): it must be \
                 saved before the vote is granted, so that a peer that restarts cannot vote again in that term.",
                first.as_secs_f64(),
                at.as_secs_f64()
            )),
        }
    }
}

/// What every peer applied, for the apply monitor.
#[derive(Debug)]
pub(crate) struct ApplyLog {
    /// Per index: the first command applied there (or held in a snapshot),
    /// its entry's term if known, and the peer. Never forgotten.
    committed: HashMap<u64, (Cmd, Option<u64>, usize)>,
    /// Per peer: the last index applied by its current run (a snapshot's
    /// counts), or the snapshot it restarted from.
    last: Vec<u64>,
}

fn term_of(t: Option<u64>) -> String {
    t.map_or_else(|| "in a snapshot".to_string(), |t| format!("term {t}"))
}

impl ApplyLog {
    pub(crate) fn new(n: usize) -> ApplyLog {
        ApplyLog { committed: HashMap::new(), last: vec![0; n] }
    }

    /// Peer `i` (re)starts from the snapshot through `from` (0: none).
    pub(crate) fn restart(&mut self, i: usize, from: u64) {
        self.last[i] = from;
    }

    /// Records that peer `i` applied (or holds) `cmd` at `index`; an error
    /// if another peer applied something else there.
    fn agree(&mut self, i: usize, index: u64, cmd: &Cmd, term: Option<u64>, how: &str) -> Result<(), String> {
        match self.committed.get(&index) {
            None => {
                self.committed.insert(index, (cmd.clone(), term, i));
                Ok(())
            }
            Some((c, _, _)) if c == cmd => Ok(()),
            Some((c, t, j)) => Err(format!(
                "safety: State Machine Safety (§5.4.3, Figure 3) broken at index {index}: S{i} {how} {cmd} ({}), \
                 but S{j} applied {c} ({}) there. Once an entry is applied at an index, no peer may apply another \
                 there. Look at the commit rule (§5.4.2, Figure 8: a leader counts replicas only for entries of \
                 its current term) and the election restriction (§5.4.1).",
                term_of(term),
                term_of(*t)
            )),
        }
    }

    /// Peer `i` applied command `cmd` at `index` (an entry of `term`).
    pub(crate) fn command(&mut self, i: usize, index: u64, term: u64, cmd: &Cmd) -> Result<(), String> {
        let last = self.last[i];
        if index <= last {
            return Err(format!(
                "safety: S{i} applied index {index} after it had applied through {last} (since its last \
                 restart): a peer's applied entries go up one index at a time, never back and never again \
                 (Figure 2: lastApplied; §7: after a snapshot, the next command is the one after it)."
            ));
        }
        if index != last + 1 {
            return Err(format!(
                "safety: S{i} applied index {index} right after index {last}: it skipped {}..={}. Figure 2: \
                 a peer applies log[lastApplied+1], in log order.",
                last + 1,
                index - 1
            ));
        }
        self.agree(i, index, cmd, Some(term), "applied")?;
        self.last[i] = index;
        Ok(())
    }

    /// Peer `i` delivered a snapshot through `index`; `contents`, when the
    /// tester made the snapshot and it decoded, are the commands it holds by
    /// index.
    pub(crate) fn snapshot(&mut self, i: usize, index: u64, contents: Option<&[Option<Cmd>]>) -> Result<(), String> {
        let last = self.last[i];
        if index < last {
            return Err(format!(
                "safety: S{i} delivered a snapshot through index {index} after it had applied through {last}: \
                 the snapshot moves its service back. §7 and Figure 13: a follower ignores an InstallSnapshot \
                 that does not reach past what it has (an old InstallSnapshot may arrive after a newer one), \
                 and never hands its service a snapshot older than what it applied."
            ));
        }
        for (j, c) in contents.unwrap_or(&[]).iter().enumerate() {
            if let Some(c) = c {
                self.agree(i, j as u64, c, None, &format!("holds, in its snapshot through {index},"))?;
            }
        }
        self.last[i] = index;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn one_leader_per_term_over_the_whole_test() {
        let mut l = LeaderLog::default();
        l.observe(1, 3, ms(10)).unwrap();
        l.observe(1, 3, ms(20)).unwrap();
        l.observe(2, 4, ms(30)).unwrap();
        l.observe(1, 3, ms(40)).unwrap(); // a stale leader of term 3 is still the same one
        let e = l.observe(0, 3, ms(1500)).unwrap_err();
        assert!(e.contains("two leaders in term 3: S1 (seen leading at 0.010 s) and S0 (at 1.500 s)"), "{e}");
        assert!(e.contains("§5.2"), "{e}");
    }

    #[test]
    fn applied_sequences_go_up_by_one_and_restart_after_the_snapshot() {
        let mut a = ApplyLog::new(2);
        a.command(0, 1, 1, &Cmd::Int(10)).unwrap();
        a.command(0, 2, 1, &Cmd::Int(20)).unwrap();
        let e = a.command(0, 2, 1, &Cmd::Int(20)).unwrap_err();
        assert!(e.contains("S0 applied index 2 after it had applied through 2"), "{e}");
        let e = a.command(0, 4, 1, &Cmd::Int(40)).unwrap_err();
        assert!(e.contains("skipped 3..=3"), "{e}");
        // A restart from no snapshot applies from 1 again: allowed.
        a.restart(0, 0);
        a.command(0, 1, 1, &Cmd::Int(10)).unwrap();
        // A snapshot forward, then commands after it.
        a.snapshot(0, 9, Some(&[None, Some(Cmd::Int(10)), Some(Cmd::Int(20))])).unwrap();
        a.command(0, 10, 2, &Cmd::Int(100)).unwrap();
        let e = a.snapshot(0, 5, None).unwrap_err();
        assert!(e.contains("snapshot through index 5 after it had applied through 10"), "{e}");
        assert!(e.contains("§7"), "{e}");
        a.snapshot(0, 10, None).unwrap(); // the same point: not back
    }

    #[test]
    fn no_two_peers_apply_different_commands_at_an_index_even_across_snapshots() {
        let mut a = ApplyLog::new(3);
        a.command(0, 1, 2, &Cmd::Int(7)).unwrap();
        let e = a.command(1, 1, 3, &Cmd::Int(8)).unwrap_err();
        assert!(e.contains("broken at index 1: S1 applied 8 (term 3), but S0 applied 7 (term 2)"), "{e}");
        assert!(e.contains("§5.4.2"), "{e}");
        let e = a.snapshot(2, 1, Some(&[None, Some(Cmd::Int(9))])).unwrap_err();
        assert!(e.contains("S2 holds, in its snapshot through 1, 9 (in a snapshot), but S0 applied 7"), "{e}");
    }
}
