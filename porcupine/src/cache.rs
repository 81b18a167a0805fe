//! Lowe's memoization: the set of (linearized operations, state) pairs the
//! search has already reached. Reaching one again cannot lead anywhere new.
//!
//! An open-addressing table with linear probing. Each slot holds the pair's
//! hash, the state's id and the linearized set in its canonical form (see
//! [`crate::bitset`]); the sets' words live in one arena, so an insertion
//! allocates nothing but amortized growth.

use crate::bitset::Bitset;

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Never 0 in a used slot; 0 marks an empty one.
    hash: u64,
    state: u32,
    /// Leading all-ones words of the set.
    full: u32,
    /// The rest of the set: `words[start..start + len]`.
    start: u32,
    len: u32,
}

pub(crate) struct Cache {
    slots: Vec<Slot>,
    len: usize,
    words: Vec<u64>,
}

impl Cache {
    pub(crate) fn new() -> Self {
        Cache { slots: vec![Slot::default(); 1 << 10], len: 0, words: Vec::new() }
    }

    /// Number of pairs stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `(set, state)` whose combined hash is `hash`; false if it was
    /// already there.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, state: u32, set: &Bitset) -> bool {
        if (self.len + 1) * 8 > self.slots.len() * 5 {
            self.grow();
        }
        let hash = hash | 1;
        let (full, tail) = set.canonical();
        let mask = self.slots.len() - 1;
        let mut i = (hash >> 7) as usize & mask;
        loop {
            let s = self.slots[i];
            if s.hash == 0 {
                break;
            }
            if s.hash == hash
                && s.state == state
                && s.full == full
                && &self.words[s.start as usize..(s.start + s.len) as usize] == tail
            {
                return false;
            }
            i = (i + 1) & mask;
        }
        let start = u32::try_from(self.words.len() + tail.len())
            .map(|end| end - tail.len() as u32)
            .expect("porcupine: the cache's sets outgrew 2^32 words (32 GiB)");
        self.words.extend_from_slice(tail);
        self.slots[i] = Slot { hash, state, full, start, len: tail.len() as u32 };
        self.len += 1;
        true
    }

    fn grow(&mut self) {
        let bigger = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.hash != 0) {
            let mut i = (s.hash >> 7) as usize & mask;
            while self.slots[i].hash != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn remembers_exactly_the_pairs_inserted() {
        let mut cache = Cache::new();
        let mut seen = HashSet::new();
        let mut set = Bitset::new(300);
        // Every hash is the same: equality alone must tell pairs apart.
        for round in 0..3 {
            for i in 0..300 {
                if i % 3 == 0 {
                    set.set(i);
                } else {
                    set.clear(i);
                }
                for state in 0..4u32 {
                    let key = (set.canonical().0, set.canonical().1.to_vec(), state);
                    let new = seen.insert(key);
                    assert_eq!(cache.insert(42, state, &set), new, "round {round}, bit {i}, state {state}");
                }
            }
        }
        assert_eq!(cache.len(), seen.len());
    }

    #[test]
    fn grows_past_its_first_size() {
        let mut cache = Cache::new();
        let mut set = Bitset::new(64);
        for n in 0..5_000u32 {
            assert!(cache.insert(crate::hash::mix64(u64::from(n)), n, &set));
            set.set((n % 64) as usize);
            set.clear((n % 64) as usize);
        }
        for n in 0..5_000u32 {
            assert!(!cache.insert(crate::hash::mix64(u64::from(n)), n, &set));
        }
        assert_eq!(cache.len(), 5_000);
    }
}
