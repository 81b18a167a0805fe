//! Lowe's memoization: the set of (linearized operations, state) pairs the
//! search has already reached. Reaching one again cannot lead anywhere new.
//!
//! The pairs are kept densely, in insertion order, each as its hash, the
//! state's id and the linearized set in its canonical form (see
//! [`crate::bitset`]: the number of leading all-ones words and the few
//! words after them, whose size follows the window of concurrent
//! operations, not the history's length); the sets' words live in one
//! arena. An open-addressing index with linear probing finds them: 8 bytes
//! per slot, holding part of the hash (so that a probe rarely reads a
//! pair) and the pair's position. A pair costs about 38 bytes plus its
//! words, and an insertion allocates nothing but amortized growth.

use crate::bitset::Bitset;

/// A pair: 24 bytes.
struct Entry {
    hash: u64,
    state: u32,
    /// Leading all-ones words of the set.
    full: u32,
    /// The rest of the set: `words[start..start + len]`.
    start: u32,
    len: u32,
}

pub(crate) struct Cache {
    /// 0: empty; else the hash's high 32 bits, then the entry's position
    /// plus one.
    index: Vec<u64>,
    entries: Vec<Entry>,
    words: Vec<u64>,
}

impl Cache {
    pub(crate) fn new() -> Self {
        Cache { index: vec![0; 1 << 10], entries: Vec::new(), words: Vec::new() }
    }

    /// Number of pairs stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Words stored for the pairs' sets, over all pairs.
    #[cfg(test)]
    pub(crate) fn words(&self) -> usize {
        self.words.len()
    }

    /// Adds `(set, state)` whose combined hash is `hash`; false if it was
    /// already there.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, state: u32, set: &Bitset) -> bool {
        if (self.entries.len() + 1) * 4 > self.index.len() * 3 {
            self.grow();
        }
        let (full, tail) = set.canonical();
        let tag = hash >> 32;
        let mask = self.index.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.index[i];
            if slot == 0 {
                break;
            }
            if slot >> 32 == tag {
                let e = &self.entries[(slot as u32 - 1) as usize];
                if e.hash == hash
                    && e.state == state
                    && e.full == full
                    && &self.words[e.start as usize..(e.start + e.len) as usize] == tail
                {
                    return false;
                }
            }
            i = (i + 1) & mask;
        }
        let start = u32::try_from(self.words.len() + tail.len())
            .map(|end| end - tail.len() as u32)
            .expect("porcupine: the cache's sets outgrew 2^32 words (32 GiB)");
        let position = u32::try_from(self.entries.len() + 1)
            .ok()
            .filter(|&p| p != u32::MAX)
            .expect("porcupine: more than 2^32 - 2 configurations in one search");
        self.words.extend_from_slice(tail);
        self.entries.push(Entry { hash, state, full, start, len: tail.len() as u32 });
        self.index[i] = tag << 32 | u64::from(position);
        true
    }

    fn grow(&mut self) {
        self.index = vec![0; self.index.len() * 2];
        let mask = self.index.len() - 1;
        for (k, e) in self.entries.iter().enumerate() {
            let mut i = e.hash as usize & mask;
            while self.index[i] != 0 {
                i = (i + 1) & mask;
            }
            self.index[i] = (e.hash >> 32) << 32 | (k as u64 + 1);
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
    fn a_long_sequential_search_stores_a_word_or_two_per_pair() {
        // Linearizing 100,000 operations in order, with a window of 3 out of
        // order, as a long mostly sequential history does: each pair's set
        // is "all below k" plus a word or so, not 100,000 bits.
        let n = 100_000;
        let mut cache = Cache::new();
        let mut set = Bitset::new(n);
        let mut h = 0u64;
        for i in 0..n {
            let op = if i % 4 == 0 && i + 2 < n {
                i + 2
            } else if i % 4 == 2 {
                i - 2
            } else {
                i
            };
            set.set(op);
            h ^= crate::hash::op_key(op);
            assert!(cache.insert(h, (i % 7) as u32, &set));
        }
        assert_eq!(cache.len(), n);
        assert!(cache.words() <= n + n / 32, "{} words for {n} pairs", cache.words());
        // The same pairs again are all found.
        let mut set = Bitset::new(n);
        let mut h = 0u64;
        for i in 0..n {
            let op = if i % 4 == 0 && i + 2 < n {
                i + 2
            } else if i % 4 == 2 {
                i - 2
            } else {
                i
            };
            set.set(op);
            h ^= crate::hash::op_key(op);
            assert!(!cache.insert(h, (i % 7) as u32, &set), "pair {i}");
        }
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
