//! `persister`: the lab's stand-in for stable storage.
//!
//! A [`Persister`] holds two byte strings, the Raft state and the service's
//! snapshot, which are always replaced together by [`Persister::save`], so a
//! reader never sees a Raft state from one save beside a snapshot from
//! another. The tester hands every (re)started peer a fresh [`Persister::copy`],
//! so a killed peer that is still running cannot overwrite what its successor
//! will read.
//!
//! Both byte strings are kept behind `Arc`s: `copy` is O(1), and saving the
//! Raft state alone ([`Persister::save_raft_state`]) does not copy the
//! snapshot.
//!
//! ```
//! use persister::Persister;
//! let p = Persister::new();
//! p.save(b"state".to_vec(), Some(b"snap".to_vec()));
//! let q = p.copy();
//! p.save(b"newer".to_vec(), None);
//! assert_eq!(q.read_raft_state(), b"state");
//! assert_eq!(q.read_snapshot(), b"snap");
//! assert_eq!(p.snapshot_size(), 0);
//! ```

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::{Arc, Mutex};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Arc, Mutex};
}

use sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Saved {
    raft_state: Arc<Vec<u8>>,
    snapshot: Arc<Vec<u8>>,
}

/// Stable storage for one Raft peer. Safe to share between threads.
#[derive(Default)]
pub struct Persister {
    saved: Mutex<Saved>,
}

impl Persister {
    /// An empty persister: no Raft state, no snapshot.
    pub fn new() -> Persister {
        Persister::default()
    }

    fn saved(&self) -> Saved {
        self.saved.lock().expect("persister lock poisoned").clone()
    }

    /// An independent persister holding the same contents. O(1).
    pub fn copy(&self) -> Persister {
        Persister { saved: Mutex::new(self.saved()) }
    }

    /// Atomically replaces both the Raft state and the snapshot. As in the
    /// Go lab, `None` stores an empty snapshot: pass the current snapshot
    /// again to keep it, or use [`Persister::save_raft_state`].
    pub fn save(&self, raft_state: Vec<u8>, snapshot: Option<Vec<u8>>) {
        let new = Saved { raft_state: Arc::new(raft_state), snapshot: Arc::new(snapshot.unwrap_or_default()) };
        *self.saved.lock().expect("persister lock poisoned") = new;
    }

    /// [`Persister::save`] of a snapshot the caller keeps as well: stored
    /// by reference, not copied, so that it is in memory once (the
    /// reference Raft holds its snapshot in an `Arc` and saves it this
    /// way). Snapshots are never changed in place, so sharing one is the
    /// same as copying it.
    pub fn save_shared(&self, raft_state: Vec<u8>, snapshot: std::sync::Arc<Vec<u8>>) {
        // (loom's `Arc` cannot take over a std one: a copy under loom.)
        #[cfg(loom)]
        let snapshot = Arc::new(snapshot.to_vec());
        let new = Saved { raft_state: Arc::new(raft_state), snapshot };
        *self.saved.lock().expect("persister lock poisoned") = new;
    }

    /// Replaces the Raft state and keeps the current snapshot (without
    /// copying it).
    pub fn save_raft_state(&self, raft_state: Vec<u8>) {
        self.saved.lock().expect("persister lock poisoned").raft_state = Arc::new(raft_state);
    }

    /// Atomically replaces the Raft state by its first `keep` bytes
    /// followed by `tail`, and keeps the snapshot. The same as
    /// `save_raft_state` of the spliced bytes, but it costs what changed,
    /// not the whole state: for a Raft whose encoding changes at its end
    /// (new entries, a new header), saving stays cheap however long the log
    /// grows. (It copies the state once after a [`Persister::copy`] shared
    /// it.)
    ///
    /// # Panics
    /// If `keep` is longer than the saved Raft state.
    pub fn splice_raft_state(&self, keep: usize, tail: &[u8]) {
        let mut saved = self.saved.lock().expect("persister lock poisoned");
        let len = saved.raft_state.len();
        assert!(keep <= len, "persister: splice keeps {keep} bytes of a Raft state of {len}");
        match Arc::get_mut(&mut saved.raft_state) {
            Some(state) => {
                state.truncate(keep);
                state.extend_from_slice(tail);
            }
            None => {
                let mut state = Vec::with_capacity(keep + tail.len());
                state.extend_from_slice(&saved.raft_state[..keep]);
                state.extend_from_slice(tail);
                saved.raft_state = Arc::new(state);
            }
        }
    }

    /// A copy of the last saved Raft state (empty if none was saved).
    pub fn read_raft_state(&self) -> Vec<u8> {
        self.saved().raft_state.to_vec()
    }

    /// A copy of the last saved snapshot (empty if none was saved).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.saved().snapshot.to_vec()
    }

    /// Runs `f` on the saved Raft state in place, without copying it: a
    /// read of part of the "disk" (the reference Raft reads its log's
    /// entries back this way instead of keeping a second copy in memory).
    /// `f` runs with the persister locked: it must not call back into it.
    pub fn with_raft_state<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let saved = self.saved.lock().expect("persister lock poisoned");
        f(&saved.raft_state)
    }

    /// Size in bytes of the saved Raft state.
    pub fn raft_state_size(&self) -> usize {
        self.saved.lock().expect("persister lock poisoned").raft_state.len()
    }

    /// Size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.saved.lock().expect("persister lock poisoned").snapshot.len()
    }
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.saved();
        f.debug_struct("Persister")
            .field("raft_state_size", &s.raft_state.len())
            .field("snapshot_size", &s.snapshot.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn starts_empty() {
        let p = Persister::new();
        assert!(p.read_raft_state().is_empty());
        assert!(p.read_snapshot().is_empty());
        assert_eq!((p.raft_state_size(), p.snapshot_size()), (0, 0));
    }

    #[test]
    fn save_replaces_both_and_none_clears_the_snapshot() {
        let p = Persister::new();
        p.save(vec![1, 2, 3], Some(vec![9; 10]));
        assert_eq!(p.read_raft_state(), vec![1, 2, 3]);
        assert_eq!(p.read_snapshot(), vec![9; 10]);
        assert_eq!((p.raft_state_size(), p.snapshot_size()), (3, 10));
        p.save(vec![4], None);
        assert_eq!(p.read_raft_state(), vec![4]);
        assert_eq!(p.snapshot_size(), 0);
    }

    #[test]
    fn save_shared_stores_the_callers_snapshot_without_a_copy() {
        let p = Persister::new();
        let snap = Arc::new(vec![5u8; 1000]);
        p.save_shared(vec![1, 2], Arc::clone(&snap));
        assert_eq!(Arc::strong_count(&snap), 2, "the persister holds the caller's snapshot itself");
        assert_eq!((p.read_raft_state(), p.read_snapshot()), (vec![1, 2], vec![5u8; 1000]));
        let q = p.copy();
        drop(snap);
        p.save(vec![3], None);
        assert_eq!(q.read_snapshot(), vec![5u8; 1000]);
        assert_eq!(p.snapshot_size(), 0);
    }

    #[test]
    fn save_raft_state_keeps_the_snapshot() {
        let p = Persister::new();
        p.save(vec![1], Some(vec![7, 7]));
        p.save_raft_state(vec![2, 2]);
        assert_eq!(p.read_raft_state(), vec![2, 2]);
        assert_eq!(p.read_snapshot(), vec![7, 7]);
    }

    #[test]
    fn splice_replaces_the_end_and_keeps_the_snapshot() {
        let p = Persister::new();
        p.save(vec![1, 2, 3, 4], Some(vec![7]));
        p.splice_raft_state(2, &[9, 9, 9]);
        assert_eq!((p.read_raft_state(), p.read_snapshot()), (vec![1, 2, 9, 9, 9], vec![7]));
        p.splice_raft_state(5, &[]);
        p.splice_raft_state(0, &[5]);
        assert_eq!(p.read_raft_state(), vec![5]);
        // After a copy the two do not share what is spliced.
        let q = p.copy();
        p.splice_raft_state(1, &[6]);
        assert_eq!((p.read_raft_state(), q.read_raft_state()), (vec![5, 6], vec![5]));
    }

    #[test]
    #[should_panic(expected = "splice keeps 3 bytes of a Raft state of 2")]
    fn splice_past_the_end_panics() {
        let p = Persister::new();
        p.save_raft_state(vec![1, 2]);
        p.splice_raft_state(3, &[]);
    }

    #[test]
    fn copy_is_independent_both_ways() {
        let p = Persister::new();
        p.save(vec![1], Some(vec![2]));
        let q = p.copy();
        p.save(vec![3], Some(vec![4]));
        assert_eq!((q.read_raft_state(), q.read_snapshot()), (vec![1], vec![2]));
        q.save(vec![5], None);
        assert_eq!((p.read_raft_state(), p.read_snapshot()), (vec![3], vec![4]));
    }

    #[test]
    fn concurrent_saves_are_atomic_pairs() {
        // Each writer saves (state, snapshot) with matching contents; a
        // reader must never see a state and a snapshot from different saves.
        // Miri checks each access for races, ~1000x slower: fewer rounds.
        let rounds = if cfg!(miri) { 200 } else { 2000 };
        let p = Arc::new(Persister::new());
        p.save(vec![0; 8], Some(vec![0; 8]));
        let writers: Vec<_> = (1..=4u8)
            .map(|w| {
                let p = Arc::clone(&p);
                thread::spawn(move || {
                    for _ in 0..rounds {
                        p.save(vec![w; 8], Some(vec![w; 8]));
                    }
                })
            })
            .collect();
        let reader = {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                for _ in 0..rounds {
                    let c = p.copy();
                    assert_eq!(c.read_raft_state(), c.read_snapshot());
                }
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        reader.join().unwrap();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// A save racing with a copy and a read: the copy holds either the old
    /// pair or the new pair, never a mix.
    #[test]
    fn save_races_with_copy() {
        loom::model(|| {
            let p = Arc::new(Persister::new());
            p.save(vec![1], Some(vec![1]));
            let writer = {
                let p = Arc::clone(&p);
                thread::spawn(move || p.save(vec![2], Some(vec![2])))
            };
            let c = p.copy();
            let (s, n) = (c.read_raft_state(), c.read_snapshot());
            assert_eq!(s, n);
            writer.join().unwrap();
            assert_eq!(p.read_raft_state(), vec![2]);
            assert_eq!(p.read_snapshot(), vec![2]);
        });
    }

    /// save_raft_state racing with save: the snapshot is always one that was
    /// saved, and the final state is one of the two writes.
    #[test]
    fn save_raft_state_races_with_save() {
        loom::model(|| {
            let p = Arc::new(Persister::new());
            let a = {
                let p = Arc::clone(&p);
                thread::spawn(move || p.save_raft_state(vec![3]))
            };
            p.save(vec![4], Some(vec![4]));
            a.join().unwrap();
            assert_eq!(p.read_snapshot(), vec![4]);
            let s = p.read_raft_state();
            assert!(s == vec![3] || s == vec![4]);
        });
    }
}
