//! The log, possibly starting after a snapshot. This type is the only place
//! that turns a Raft index into a vector position.
//!
//! Indexes start at 1. The entries covered by the last snapshot are gone;
//! what remains of them is the index and term of the last one
//! (`snapshot_index`, `snapshot_term`, the paper's lastIncludedIndex and
//! lastIncludedTerm, §7), which act as a sentinel entry for the consistency
//! check. Without a snapshot the sentinel is index 0, term 0.

use serde::{Deserialize, Serialize};

/// One log entry: the term in which a leader received it, and the command,
/// opaque to Raft (labgob-encoded by the service).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The leader's term when the entry was created.
    pub term: u64,
    /// The service's command, as bytes.
    #[serde(with = "labgob::bytes")]
    pub command: Vec<u8>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "E(t{}, {}B)", self.term, self.command.len())
    }
}

/// The log tail after the snapshot.
///
/// invariant: `entries[i]` has index `snapshot_index + 1 + i`.
/// invariant: terms never decrease along the log, starting from
/// `snapshot_term`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct Log {
    snapshot_index: u64,
    snapshot_term: u64,
    entries: Vec<Entry>,
}

impl Log {
    /// An empty log with no snapshot.
    pub fn new() -> Log {
        Log::default()
    }

    /// A log after a snapshot through (`snapshot_index`, `snapshot_term`)
    /// holding `entries` (not checked: see [`Log::validate`]).
    pub fn from_parts(snapshot_index: u64, snapshot_term: u64, entries: Vec<Entry>) -> Log {
        Log { snapshot_index, snapshot_term, entries }
    }

    /// Index of the last entry covered by the snapshot (0 if none).
    pub fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    /// Term of the last entry covered by the snapshot (0 if none).
    pub fn snapshot_term(&self) -> u64 {
        self.snapshot_term
    }

    /// Index of the last entry (the snapshot's if the tail is empty).
    pub fn last_index(&self) -> u64 {
        self.snapshot_index + self.entries.len() as u64
    }

    /// Term of the last entry (the snapshot's if the tail is empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// Number of entries kept in memory (after the snapshot).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no entry follows the snapshot.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn pos(&self, index: u64) -> usize {
        debug_assert!(index > self.snapshot_index && index <= self.last_index());
        (index - self.snapshot_index - 1) as usize
    }

    /// The term at `index`, if known: the snapshot's sentinel or a kept
    /// entry. `None` below the snapshot or past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            Some(self.snapshot_term)
        } else if index > self.snapshot_index && index <= self.last_index() {
            Some(self.entries[self.pos(index)].term)
        } else {
            None
        }
    }

    /// The entry at `index`, if kept.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        (index > self.snapshot_index && index <= self.last_index()).then(|| &self.entries[self.pos(index)])
    }

    /// The kept entries from `from` to `to`, both inclusive.
    ///
    /// # Panics
    /// If the range reaches into the snapshot or past the end.
    pub fn slice(&self, from: u64, to: u64) -> &[Entry] {
        assert!(
            from > self.snapshot_index && to <= self.last_index() && from <= to + 1,
            "log slice {from}..={to} outside the kept range {}..={}",
            self.snapshot_index + 1,
            self.last_index()
        );
        &self.entries[(from - self.snapshot_index - 1) as usize..(to - self.snapshot_index) as usize]
    }

    /// Appends an entry and returns its index.
    pub fn append(&mut self, entry: Entry) -> u64 {
        debug_assert!(entry.term >= self.last_term(), "log terms must not decrease");
        self.entries.push(entry);
        self.last_index()
    }

    /// Drops every entry after `index` (keeps `index` itself).
    ///
    /// # Panics
    /// If `index` is inside the snapshot: committed entries are never
    /// removed.
    pub fn truncate_after(&mut self, index: u64) {
        assert!(
            index >= self.snapshot_index,
            "cannot truncate into the snapshot (index {index} < {})",
            self.snapshot_index
        );
        if index < self.last_index() {
            let keep = (index - self.snapshot_index) as usize;
            self.entries.truncate(keep);
        }
    }

    /// The first index in the run of entries with the same term as
    /// `index`, scanning back no further than the snapshot (the fast-backup
    /// hint XIndex).
    pub fn first_index_of_term_at(&self, index: u64) -> u64 {
        let term = self.term_at(index).expect("first_index_of_term_at: index not in the log");
        let mut i = index;
        while i > self.snapshot_index + 1 && self.term_at(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }

    /// The last kept index whose entry has term `term`, if any (the leader's
    /// side of the fast backup).
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        // Terms never decrease: binary search for the end of `term`'s run.
        let end = self.entries.partition_point(|e| e.term <= term);
        (end > 0 && self.entries[end - 1].term == term).then(|| self.snapshot_index + end as u64)
    }

    /// Discards every entry up to and including `index`, which becomes the
    /// snapshot sentinel. The discarded entries are freed (the vector is
    /// rebuilt, not just shifted, when it would keep much spare capacity).
    ///
    /// # Panics
    /// If `index` is past the end of the log.
    pub fn compact_through(&mut self, index: u64) {
        if index <= self.snapshot_index {
            return;
        }
        let term = self
            .term_at(index)
            .unwrap_or_else(|| panic!("cannot compact through {index}: log ends at {}", self.last_index()));
        let cut = self.pos(index) + 1;
        self.entries.drain(..cut);
        if self.entries.capacity() > 2 * self.entries.len() + 16 {
            self.entries.shrink_to_fit();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Replaces the whole log by a snapshot sentinel at (`index`, `term`),
    /// for a follower whose log does not contain the snapshot's last entry.
    pub fn reset_to_snapshot(&mut self, index: u64, term: u64) {
        self.entries = Vec::new();
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Checks the log's invariants, naming the first one broken.
    pub fn validate(&self) -> Result<(), String> {
        let mut prev = self.snapshot_term;
        for (i, e) in self.entries.iter().enumerate() {
            if e.term < prev {
                return Err(format!(
                    "entry {} has term {} after term {prev}",
                    self.snapshot_index + 1 + i as u64,
                    e.term
                ));
            }
            prev = e.term;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(snapshot: (u64, u64), terms: &[u64]) -> Log {
        let mut l = Log::new();
        l.snapshot_index = snapshot.0;
        l.snapshot_term = snapshot.1;
        for &t in terms {
            l.append(Entry { term: t, command: vec![t as u8] });
        }
        l
    }

    #[test]
    fn empty_log_has_sentinel_zero() {
        let l = Log::new();
        assert_eq!((l.last_index(), l.last_term()), (0, 0));
        assert_eq!(l.term_at(0), Some(0));
        assert_eq!(l.term_at(1), None);
        assert!(l.get(0).is_none());
    }

    #[test]
    fn indexes_start_at_one() {
        let l = log_of((0, 0), &[1, 1, 2]);
        assert_eq!(l.last_index(), 3);
        assert_eq!(l.term_at(1), Some(1));
        assert_eq!(l.term_at(3), Some(2));
        assert_eq!(l.get(3).unwrap().command, vec![2]);
        assert_eq!(l.slice(2, 3).len(), 2);
        assert_eq!(l.slice(4, 3).len(), 0, "an empty range just past the end is fine");
    }

    #[test]
    fn after_a_snapshot_indexes_are_offset() {
        let l = log_of((10, 3), &[3, 4, 4]);
        assert_eq!(l.last_index(), 13);
        assert_eq!(l.term_at(10), Some(3), "the sentinel");
        assert_eq!(l.term_at(9), None, "inside the snapshot");
        assert_eq!(l.term_at(12), Some(4));
        assert!(l.get(10).is_none());
        assert_eq!(l.get(11).unwrap().term, 3);
        assert_eq!(l.slice(11, 13).len(), 3);
    }

    #[test]
    #[should_panic(expected = "outside the kept range")]
    fn slicing_into_the_snapshot_panics() {
        log_of((10, 3), &[3]).slice(10, 11);
    }

    #[test]
    fn truncate_keeps_the_given_index() {
        let mut l = log_of((5, 1), &[1, 2, 2, 3]);
        l.truncate_after(7);
        assert_eq!(l.last_index(), 7);
        assert_eq!(l.last_term(), 2);
        l.truncate_after(9); // past the end: no-op
        assert_eq!(l.last_index(), 7);
        l.truncate_after(5);
        assert!(l.is_empty());
        assert_eq!(l.last_term(), 1);
    }

    #[test]
    #[should_panic(expected = "cannot truncate into the snapshot")]
    fn truncating_into_the_snapshot_panics() {
        log_of((5, 1), &[1]).truncate_after(4);
    }

    #[test]
    fn term_runs_for_fast_backup() {
        let l = log_of((0, 0), &[1, 1, 4, 4, 4, 6]);
        assert_eq!(l.first_index_of_term_at(5), 3);
        assert_eq!(l.first_index_of_term_at(2), 1);
        assert_eq!(l.last_index_of_term(4), Some(5));
        assert_eq!(l.last_index_of_term(1), Some(2));
        assert_eq!(l.last_index_of_term(5), None);
        assert_eq!(l.last_index_of_term(7), None);
        // The scan stops at the snapshot.
        let s = log_of((3, 4), &[4, 4, 6]);
        assert_eq!(s.first_index_of_term_at(5), 4);
        assert_eq!(s.last_index_of_term(4), Some(5));
    }

    #[test]
    fn compaction_moves_the_sentinel_and_frees_memory() {
        let mut l = log_of((0, 0), &vec![1; 1000]);
        l.append(Entry { term: 2, command: vec![] });
        l.compact_through(1000);
        assert_eq!((l.snapshot_index(), l.snapshot_term(), l.len()), (1000, 1, 1));
        assert!(l.entries.capacity() < 64, "capacity {}", l.entries.capacity());
        assert_eq!(l.term_at(1001), Some(2));
        l.compact_through(999); // older than the snapshot: ignored
        assert_eq!(l.snapshot_index(), 1000);
        l.compact_through(1001);
        assert!(l.is_empty());
        assert_eq!((l.last_index(), l.last_term()), (1001, 2));
    }

    #[test]
    #[should_panic(expected = "cannot compact through 5")]
    fn compacting_past_the_end_panics() {
        log_of((0, 0), &[1, 1]).compact_through(5);
    }

    #[test]
    fn reset_discards_everything() {
        let mut l = log_of((0, 0), &[1, 2, 3]);
        l.reset_to_snapshot(20, 5);
        assert_eq!((l.last_index(), l.last_term(), l.len()), (20, 5, 0));
    }

    #[test]
    fn validate_finds_decreasing_terms() {
        let mut l = log_of((0, 0), &[1, 2]);
        assert!(l.validate().is_ok());
        l.entries.push(Entry { term: 1, command: vec![] });
        assert!(l.validate().unwrap_err().contains("entry 3 has term 1 after term 2"));
    }
}
