//! The log, possibly starting after a snapshot. This type is the only place
//! that turns a Raft index into a position, and the only one that knows
//! where an entry's command is kept.
//!
//! Indexes start at 1. The entries covered by the last snapshot are gone;
//! what remains of them is the index and term of the last one
//! (`snapshot_index`, `snapshot_term`, the paper's lastIncludedIndex and
//! lastIncludedTerm, §7), which act as a sentinel entry for the consistency
//! check. Without a snapshot the sentinel is index 0, term 0.
//!
//! **Entries are kept once.** The terms are held in memory as runs (one
//! pair per term, however many entries it has). A command is held in
//! memory only until the entry is saved; after that the log remembers
//! where the entry's bytes start in the saved Raft state and reads it back
//! from the persister when it sends or applies it (etcd's raftLog keeps an
//! unstable tail over its Storage the same way). So a peer holds about the
//! size of its saved entries plus 4 bytes per entry, not a decoded copy
//! beside the saved one. Only this peer writes its persister (the tester
//! hands each restart a fresh copy); an entry read back that is not what
//! the log expects there is a panic naming the index, never a wrong command.

use persister::Persister;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

/// A run of entries of one term, starting at index `first`; it ends where
/// the next run starts (or at the end of the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    first: u64,
    term: u64,
}

/// Where the saved entries' bytes are.
#[derive(Default)]
struct Saved {
    /// The persister the entries are saved in; `None` until
    /// [`Log::attach`] (a log that is never saved keeps every command in
    /// memory).
    store: Option<Arc<Persister>>,
    /// Per saved entry (the first `offsets.len()` entries after the
    /// snapshot): where its bytes start in the saved Raft state.
    /// invariant: increasing, each entry's bytes end where the next start.
    offsets: Vec<u32>,
    /// Where the last saved entry's bytes end.
    end: usize,
    /// The saved bytes do not start with the first kept entry (entries were
    /// compacted away, or this log was never saved): the next save
    /// rewrites the whole state.
    full_save_needed: bool,
}

/// What a save writes for the saved entries to be the log's.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StagedEntries {
    /// Saved bytes to keep: `None` rewrites the whole state.
    pub keep: Option<usize>,
    /// The entries' bytes that follow (then the header).
    pub bytes: Vec<u8>,
}

/// The log tail after the snapshot.
///
/// invariant: `runs` cover `snapshot_index + 1 ..= last_index` (empty if no
/// entry is kept), their first indexes and their terms strictly increase,
/// and the first term is at least `snapshot_term`: terms never decrease
/// along the log.
/// invariant: entry `snapshot_index + 1 + i` is saved for `i <
/// saved.offsets.len()`, and is `unsaved[i - saved.offsets.len()]` after.
#[derive(Default)]
pub struct Log {
    snapshot_index: u64,
    snapshot_term: u64,
    last_index: u64,
    runs: Vec<Run>,
    saved: Saved,
    /// The entries after the saved ones, not written yet.
    unsaved: Vec<Entry>,
}

impl Log {
    /// An empty log with no snapshot.
    pub fn new() -> Log {
        Log::default()
    }

    /// A log after a snapshot through (`snapshot_index`, `snapshot_term`)
    /// holding `entries` in memory (not checked: see [`Log::validate`]).
    pub fn from_parts(snapshot_index: u64, snapshot_term: u64, entries: Vec<Entry>) -> Log {
        let mut log = Log { snapshot_index, snapshot_term, last_index: snapshot_index, ..Log::new() };
        for e in entries {
            log.push_term(e.term);
            log.unsaved.push(e);
        }
        log
    }

    /// A log whose entries are saved in `store` (entry `snapshot_index + 1
    /// + i` has term `entries[i].0` and starts at byte `entries[i].1`),
    /// ending at byte `end` (not checked: see [`Log::validate`]).
    pub(crate) fn from_saved(
        snapshot_index: u64,
        snapshot_term: u64,
        entries: impl IntoIterator<Item = (u64, usize)>,
        end: usize,
        store: Arc<Persister>,
    ) -> Log {
        let mut log = Log { snapshot_index, snapshot_term, last_index: snapshot_index, ..Log::default() };
        for (term, at) in entries {
            log.push_term(term);
            log.saved.offsets.push(offset(at));
        }
        log.saved.end = end;
        log.saved.store = Some(store);
        log
    }

    /// From now on, entries are saved in (and read back from) `store`,
    /// starting with a full save.
    pub(crate) fn attach(&mut self, store: Arc<Persister>) {
        if self.saved.store.is_none() {
            self.saved.store = Some(store);
            self.saved.full_save_needed = true;
        }
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
        self.last_index
    }

    /// Term of the last entry (the snapshot's if the tail is empty).
    pub fn last_term(&self) -> u64 {
        self.runs.last().map_or(self.snapshot_term, |r| r.term)
    }

    /// Number of entries kept (after the snapshot).
    pub fn len(&self) -> usize {
        (self.last_index - self.snapshot_index) as usize
    }

    /// True if no entry follows the snapshot.
    pub fn is_empty(&self) -> bool {
        self.last_index == self.snapshot_index
    }

    fn kept(&self, index: u64) -> bool {
        index > self.snapshot_index && index <= self.last_index
    }

    /// The run that holds kept entry `index`.
    fn run_of(&self, index: u64) -> usize {
        debug_assert!(self.kept(index));
        self.runs.partition_point(|r| r.first <= index) - 1
    }

    /// Adds a term at the end of the runs, for a new last entry.
    fn push_term(&mut self, term: u64) {
        self.last_index += 1;
        if self.runs.last().is_none_or(|r| r.term != term) {
            self.runs.push(Run { first: self.last_index, term });
        }
    }

    /// The term at `index`, if known: the snapshot's sentinel or a kept
    /// entry. `None` below the snapshot or past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            Some(self.snapshot_term)
        } else if self.kept(index) {
            Some(self.runs[self.run_of(index)].term)
        } else {
            None
        }
    }

    /// The entry at `index`, if kept.
    pub fn get(&self, index: u64) -> Option<Entry> {
        self.kept(index).then(|| self.entries(index, index).pop().expect("one entry"))
    }

    /// The kept entries from `from` to `to`, both inclusive (saved ones
    /// read back from the persister).
    ///
    /// # Panics
    /// If the range reaches into the snapshot or past the end, or a saved
    /// entry does not read back as the entry the log has there.
    pub fn entries(&self, from: u64, to: u64) -> Vec<Entry> {
        assert!(
            from > self.snapshot_index && to <= self.last_index && from <= to + 1,
            "log entries {from}..={to} outside the kept range {}..={}",
            self.snapshot_index + 1,
            self.last_index
        );
        let mut out = Vec::with_capacity((to + 1 - from) as usize);
        let nsaved = self.saved.offsets.len() as u64;
        let saved_to = to.min(self.snapshot_index + nsaved);
        if from <= saved_to {
            self.read_saved(from, saved_to, &mut out);
        }
        let first_unsaved = from.max(saved_to + 1);
        if first_unsaved <= to {
            let pos = |i: u64| (i - self.snapshot_index - 1 - nsaved) as usize;
            out.extend_from_slice(&self.unsaved[pos(first_unsaved)..=pos(to)]);
        }
        out
    }

    /// Reads saved entries `from..=to` back from the persister, checking
    /// each against the log's term and byte range for it.
    fn read_saved(&self, from: u64, to: u64, out: &mut Vec<Entry>) {
        let store = self.saved.store.as_ref().expect("saved entries have a store");
        let pos = |i: u64| (i - self.snapshot_index - 1) as usize;
        let bound = |i: u64| self.saved.offsets.get(pos(i) + 1).map_or(self.saved.end, |&o| o as usize);
        store.with_raft_state(|bytes| {
            let mut run = self.run_of(from);
            for index in from..=to {
                while run + 1 < self.runs.len() && self.runs[run + 1].first <= index {
                    run += 1;
                }
                let (at, end) = (self.saved.offsets[pos(index)] as usize, bound(index));
                let e = bytes
                    .get(at..end)
                    .ok_or_else(|| format!("bytes {at}..{end} are past the end ({})", bytes.len()))
                    .and_then(|b| labgob::decode::<Entry>(b).map_err(|e| e.to_string()))
                    .and_then(|e| match e.term == self.runs[run].term {
                        true => Ok(e),
                        false => Err(format!("it has term {}, the log has {}", e.term, self.runs[run].term)),
                    })
                    .unwrap_or_else(|why| {
                        panic!(
                            "raft: log entry {index} does not read back from the persister ({why}): was the \
                             persister written by something other than this peer?"
                        )
                    });
                out.push(e);
            }
        });
    }

    /// Appends an entry and returns its index.
    pub fn append(&mut self, entry: Entry) -> u64 {
        debug_assert!(entry.term >= self.last_term(), "log terms must not decrease");
        self.push_term(entry.term);
        self.unsaved.push(entry);
        self.last_index
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
        if index >= self.last_index {
            return;
        }
        self.last_index = index;
        self.runs.truncate(self.runs.partition_point(|r| r.first <= index));
        let keep = (index - self.snapshot_index) as usize;
        let nsaved = self.saved.offsets.len();
        if keep < nsaved {
            self.saved.end = self.saved.offsets[keep] as usize;
            self.saved.offsets.truncate(keep);
            self.unsaved.clear();
        } else {
            self.unsaved.truncate(keep - nsaved);
        }
    }

    /// The first index in the run of entries with the same term as
    /// `index`, scanning back no further than the snapshot (the fast-backup
    /// hint XIndex).
    pub fn first_index_of_term_at(&self, index: u64) -> u64 {
        self.term_at(index).expect("first_index_of_term_at: index not in the log");
        if index == self.snapshot_index {
            return index;
        }
        self.runs[self.run_of(index)].first
    }

    /// The last kept index whose entry has term `term`, if any (the leader's
    /// side of the fast backup).
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        // Terms increase along the runs: binary search for `term`'s run.
        let i = self.runs.partition_point(|r| r.term < term);
        self.runs.get(i).filter(|r| r.term == term)?;
        Some(self.runs.get(i + 1).map_or(self.last_index, |next| next.first - 1))
    }

    /// Discards every entry up to and including `index`, which becomes the
    /// snapshot sentinel. The discarded entries are freed (the next save
    /// rewrites the saved state without them).
    ///
    /// # Panics
    /// If `index` is past the end of the log.
    pub fn compact_through(&mut self, index: u64) {
        if index <= self.snapshot_index {
            return;
        }
        let term = self
            .term_at(index)
            .unwrap_or_else(|| panic!("cannot compact through {index}: log ends at {}", self.last_index));
        let cut = (index - self.snapshot_index) as usize;
        let nsaved = self.saved.offsets.len();
        if cut <= nsaved {
            self.saved.offsets.drain(..cut);
        } else {
            self.saved.offsets.clear();
            self.unsaved.drain(..cut - nsaved);
        }
        shrink(&mut self.saved.offsets);
        shrink(&mut self.unsaved);
        let run = self.run_of(index);
        self.runs.drain(..run);
        if index < self.last_index && self.runs.get(1).is_none_or(|next| next.first > index + 1) {
            self.runs[0].first = index + 1;
        } else {
            self.runs.remove(0);
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
        self.saved.full_save_needed = true;
    }

    /// Replaces the whole log by a snapshot sentinel at (`index`, `term`),
    /// for a follower whose log does not contain the snapshot's last entry.
    pub fn reset_to_snapshot(&mut self, index: u64, term: u64) {
        self.runs = Vec::new();
        self.unsaved = Vec::new();
        self.saved.offsets = Vec::new();
        self.saved.full_save_needed = true;
        self.snapshot_index = index;
        self.snapshot_term = term;
        self.last_index = index;
    }

    /// Marks the unsaved entries saved and returns what to write for it:
    /// their bytes after the saved ones, or (when `full`, after a
    /// compaction, or on the first save) the bytes of every kept entry, the
    /// saved ones copied from the persister.
    ///
    /// # Panics
    /// If the log was never [`Log::attach`]ed to a persister.
    pub(crate) fn stage_save(&mut self, full: bool) -> StagedEntries {
        let s = &mut self.saved;
        let store = s.store.as_ref().expect("raft: a log saved before it was attached to a persister");
        s.full_save_needed |= full;
        let (keep, mut bytes) = if s.full_save_needed {
            // The kept saved entries' bytes (none if every one was dropped).
            let (lo, hi) = s.offsets.first().map_or((0, 0), |&o| (o as usize, s.end));
            let old = store.with_raft_state(|b| {
                b.get(lo..hi).map(<[u8]>::to_vec).unwrap_or_else(|| {
                    panic!("raft: the saved entries' bytes {lo}..{hi} are past the saved state's end ({})", b.len())
                })
            });
            for o in &mut s.offsets {
                *o -= lo as u32;
            }
            s.full_save_needed = false;
            (None, old)
        } else {
            (Some(s.end), Vec::new())
        };
        let base = keep.unwrap_or(0);
        for e in self.unsaved.drain(..) {
            s.offsets.push(offset(base + bytes.len()));
            labgob::encode_into(&mut bytes, &e);
        }
        shrink(&mut self.unsaved);
        s.end = base + bytes.len();
        StagedEntries { keep, bytes }
    }

    /// Where the saved entries' bytes end (the header starts).
    pub(crate) fn saved_end(&self) -> usize {
        self.saved.end
    }

    /// Checks the log's invariants, naming the first one broken.
    pub fn validate(&self) -> Result<(), String> {
        let mut prev = self.snapshot_term;
        for r in &self.runs {
            if r.term < prev {
                return Err(format!("entry {} has term {} after term {prev}", r.first, r.term));
            }
            prev = r.term;
        }
        for (i, e) in self.unsaved.iter().enumerate() {
            let index = self.snapshot_index + (self.saved.offsets.len() + i) as u64 + 1;
            if self.term_at(index) != Some(e.term) {
                return Err(format!("entry {index} has term {} but its run says {:?}", e.term, self.term_at(index)));
            }
        }
        Ok(())
    }
}

/// A byte offset into the saved state, as stored (4 bytes per entry).
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or_else(|_| panic!("raft: a saved Raft state over 4 GiB (an entry at byte {at})"))
}

/// Frees a vector's spare room once it holds much less than it could.
fn shrink<T>(v: &mut Vec<T>) {
    if v.capacity() > 2 * v.len() + 16 {
        v.shrink_to_fit();
    }
}

/// Two logs are equal when they hold the same entries after the same
/// snapshot sentinel (wherever the commands are kept).
impl PartialEq for Log {
    fn eq(&self, other: &Log) -> bool {
        (self.snapshot_index, self.snapshot_term, self.last_index, &self.runs)
            == (other.snapshot_index, other.snapshot_term, other.last_index, &other.runs)
            && self.entries(self.snapshot_index + 1, self.last_index)
                == other.entries(other.snapshot_index + 1, other.last_index)
    }
}

impl Eq for Log {}

/// A copy holds every command in memory, detached from the persister (a
/// copy must not read bytes the original goes on rewriting).
impl Clone for Log {
    fn clone(&self) -> Log {
        let entries = self.entries(self.snapshot_index + 1, self.last_index);
        Log::from_parts(self.snapshot_index, self.snapshot_term, entries)
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("snapshot", &(self.snapshot_index, self.snapshot_term))
            .field("last_index", &self.last_index)
            .field("runs", &self.runs.iter().map(|r| (r.first, r.term)).collect::<Vec<_>>())
            .field("saved", &self.saved.offsets.len())
            .field("unsaved", &self.unsaved)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(snapshot: (u64, u64), terms: &[u64]) -> Log {
        let entries = terms.iter().map(|&t| Entry { term: t, command: vec![t as u8] }).collect();
        Log::from_parts(snapshot.0, snapshot.1, entries)
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
        assert_eq!(l.entries(2, 3).len(), 2);
        assert_eq!(l.entries(4, 3).len(), 0, "an empty range just past the end is fine");
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
        assert_eq!(l.entries(11, 13).len(), 3);
    }

    #[test]
    #[should_panic(expected = "outside the kept range")]
    fn reading_into_the_snapshot_panics() {
        log_of((10, 3), &[3]).entries(10, 11);
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
        assert!(l.unsaved.capacity() < 64, "capacity {}", l.unsaved.capacity());
        assert_eq!(l.runs, vec![Run { first: 1001, term: 2 }]);
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
        let l = log_of((0, 0), &[1, 2]);
        assert!(l.validate().is_ok());
        let l = log_of((0, 0), &[1, 2, 1]);
        assert!(l.validate().unwrap_err().contains("entry 3 has term 1 after term 2"));
        let l = log_of((4, 3), &[2]);
        assert!(l.validate().unwrap_err().contains("entry 5 has term 2 after term 3"));
    }

    #[test]
    fn terms_are_kept_as_runs() {
        let mut l = log_of((2, 1), &[1, 1, 3, 3, 3, 5]);
        assert_eq!(l.runs.len(), 3);
        let terms: Vec<_> = (2..=9).map(|i| l.term_at(i)).collect();
        assert_eq!(terms, [Some(1), Some(1), Some(1), Some(3), Some(3), Some(3), Some(5), None]);
        l.truncate_after(6);
        assert_eq!((l.runs.len(), l.last_term()), (2, 3));
        l.compact_through(5);
        assert_eq!(l.runs, vec![Run { first: 6, term: 3 }]);
        l.compact_through(6);
        assert!(l.runs.is_empty() && l.is_empty());
        assert_eq!((l.last_index(), l.last_term()), (6, 3));
    }

    /// A log attached to a persister: what it saves there, and reads back.
    fn saved_log(store: &Arc<Persister>, terms: &[u64]) -> Log {
        let mut l = Log::new();
        l.attach(Arc::clone(store));
        for (i, &t) in terms.iter().enumerate() {
            l.append(Entry { term: t, command: vec![i as u8; i % 5] });
        }
        save(&mut l, store, false);
        l
    }

    /// Writes what `stage_save` asks for (no header: the log's part only).
    fn save(l: &mut Log, store: &Persister, full: bool) -> StagedEntries {
        let staged = l.stage_save(full);
        match staged.keep {
            None => store.save_raft_state(staged.bytes.clone()),
            Some(keep) => store.splice_raft_state(keep, &staged.bytes),
        }
        staged
    }

    fn command(i: u64) -> Vec<u8> {
        vec![(i - 1) as u8; (i as usize - 1) % 5]
    }

    #[test]
    fn saved_entries_are_read_back_from_the_persister() {
        let store = Arc::new(Persister::new());
        let mut l = saved_log(&store, &[1, 1, 2, 2, 2, 3]);
        assert!(l.unsaved.is_empty());
        assert_eq!(l.saved.offsets.len(), 6);
        assert_eq!(store.raft_state_size(), l.saved_end());
        for i in 1..=6 {
            assert_eq!(l.get(i).unwrap().command, command(i), "entry {i}");
        }
        // New entries stay in memory until saved; reads span both.
        l.append(Entry { term: 3, command: vec![7; 3] });
        assert_eq!(l.entries(5, 7).iter().map(|e| e.term).collect::<Vec<_>>(), [2, 3, 3]);
        let staged = save(&mut l, &store, false);
        assert_eq!(staged.keep, Some(l.saved.offsets[6] as usize), "only the new entry is written");
        assert_eq!(l.get(7).unwrap().command, vec![7; 3]);
    }

    #[test]
    fn truncating_saved_entries_writes_from_the_cut() {
        let store = Arc::new(Persister::new());
        let mut l = saved_log(&store, &[1, 1, 2, 2]);
        let cut = l.saved.offsets[2] as usize;
        l.truncate_after(2);
        l.append(Entry { term: 4, command: vec![9] });
        let staged = save(&mut l, &store, false);
        assert_eq!(staged.keep, Some(cut));
        assert_eq!(l.entries(1, 3).iter().map(|e| e.term).collect::<Vec<_>>(), [1, 1, 4]);
        assert_eq!(store.raft_state_size(), l.saved_end());
    }

    #[test]
    fn a_save_after_compaction_rewrites_only_the_kept_entries() {
        let store = Arc::new(Persister::new());
        let mut l = saved_log(&store, &[1, 1, 2, 2, 2, 3]);
        let before = store.raft_state_size();
        l.compact_through(4);
        l.append(Entry { term: 3, command: vec![5; 2] });
        let staged = save(&mut l, &store, false);
        assert_eq!(staged.keep, None, "a full save");
        assert!(store.raft_state_size() < before);
        assert_eq!(l.saved.offsets[0], 0);
        for i in 5..=6 {
            assert_eq!(l.get(i).unwrap().command, command(i), "entry {i}");
        }
        assert_eq!(l.get(7).unwrap().command, vec![5; 2]);
        // Everything compacted, then a reset: an empty full save.
        l.compact_through(7);
        assert_eq!(save(&mut l, &store, false).bytes, Vec::<u8>::new());
        l.reset_to_snapshot(20, 5);
        assert_eq!(save(&mut l, &store, false).keep, None);
        assert_eq!(store.raft_state_size(), 0);
    }

    #[test]
    fn a_copy_is_detached_from_the_persister() {
        let store = Arc::new(Persister::new());
        let mut l = saved_log(&store, &[1, 2]);
        let copy = l.clone();
        l.truncate_after(0);
        l.append(Entry { term: 3, command: vec![1, 2, 3, 4] });
        save(&mut l, &store, false);
        assert_eq!(copy.get(2).unwrap(), Entry { term: 2, command: command(2) });
        assert_ne!(copy, l);
    }

    #[test]
    #[should_panic(expected = "log entry 2 does not read back from the persister")]
    fn a_persister_written_behind_the_logs_back_is_a_panic() {
        let store = Arc::new(Persister::new());
        let l = saved_log(&store, &[1, 2, 2]);
        let mut bytes = store.read_raft_state();
        let at = l.saved.offsets[1] as usize;
        bytes[at] = 7; // entry 2's term
        store.save_raft_state(bytes);
        l.get(2);
    }
}
