//! The set of operations linearized so far, kept in a canonical short form
//! for the cache.
//!
//! Operations are numbered in call order and the search linearizes them
//! roughly in that order, so the set is nearly always "every operation below
//! some k" plus a few later ones. The cache stores only the number of
//! leading all-ones words and the words after them up to the last non-zero
//! one, so an entry's size follows the window of concurrent operations, not
//! the length of the history.

/// A fixed-size bitset that tracks its leading full words and its last
/// non-zero word as bits are set and cleared.
#[derive(Clone, Debug)]
pub(crate) struct Bitset {
    words: Vec<u64>,
    /// Number of leading words equal to `!0`.
    full: usize,
    /// One past the last non-zero word (0 when empty).
    end: usize,
}

impl Bitset {
    pub(crate) fn new(bits: usize) -> Self {
        Bitset { words: vec![0; bits.div_ceil(64)], full: 0, end: 0 }
    }

    #[inline]
    pub(crate) fn set(&mut self, i: usize) {
        let w = i / 64;
        self.words[w] |= 1 << (i % 64);
        if w == self.full {
            while self.full < self.words.len() && self.words[self.full] == !0 {
                self.full += 1;
            }
        }
        if w >= self.end {
            self.end = w + 1;
        }
    }

    #[inline]
    pub(crate) fn clear(&mut self, i: usize) {
        let w = i / 64;
        self.words[w] &= !(1 << (i % 64));
        if w < self.full {
            self.full = w;
        }
        if w + 1 == self.end {
            while self.end > 0 && self.words[self.end - 1] == 0 {
                self.end -= 1;
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// `(number of leading all-ones words, the words after them up to the
    /// last non-zero one)`: equal sets give equal pairs.
    #[inline]
    pub(crate) fn canonical(&self) -> (u32, &[u64]) {
        let tail = if self.end > self.full { &self.words[self.full..self.end] } else { &[] };
        (self.full as u32, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The canonical form rebuilt from scratch.
    fn canonical_from_scratch(words: &[u64]) -> (u32, Vec<u64>) {
        let full = words.iter().take_while(|w| **w == !0).count();
        let end = words.iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        (full as u32, if end > full { words[full..end].to_vec() } else { Vec::new() })
    }

    #[test]
    fn canonical_form_follows_random_sets_and_clears() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for bits in [1, 63, 64, 65, 200, 300] {
            let mut b = Bitset::new(bits);
            let mut model = vec![false; bits];
            for _ in 0..5_000 {
                // Mostly fill from the bottom, as the search does.
                let i = if rng.gen_bool(0.7) {
                    let upto = rng.gen_range(1..=bits);
                    rng.gen_range(0..upto)
                } else {
                    rng.gen_range(0..bits)
                };
                if rng.gen_bool(0.6) {
                    b.set(i);
                    model[i] = true;
                } else {
                    b.clear(i);
                    model[i] = false;
                }
                for (j, m) in model.iter().enumerate() {
                    assert_eq!(b.contains(j), *m);
                }
                let (full, tail) = b.canonical();
                assert_eq!((full, tail.to_vec()), canonical_from_scratch(&b.words));
            }
        }
    }

    #[test]
    fn full_prefix_and_tail() {
        let mut b = Bitset::new(200);
        for i in 0..130 {
            b.set(i);
        }
        b.set(150);
        let (full, tail) = b.canonical();
        assert_eq!(full, 2);
        assert_eq!(tail, &[0b11 | 1 << 22]);
        b.clear(5);
        let (full, tail) = b.canonical();
        assert_eq!(full, 0);
        assert_eq!(tail.len(), 3);
        for i in 0..200 {
            b.clear(i);
        }
        assert_eq!(b.canonical(), (0, &[][..]));
    }
}
