//! A fast, non-cryptographic hasher for the checker's own tables (no
//! untrusted keys, so no need for SipHash's flood resistance), and the
//! random keys of the linearized-set hash.

use std::hash::{BuildHasherDefault, Hasher};

/// The finalizer of MurmurHash3: every input bit reaches every output bit.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The `i`-th key of a fixed pseudo-random sequence (SplitMix64): the hash of
/// a set of operations is the XOR of its members' keys, so adding or removing
/// one member updates it in O(1).
pub(crate) fn op_key(i: usize) -> u64 {
    mix64((i as u64).wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Word-at-a-time multiply-rotate hashing, mixed at the end.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher {
    h: u64,
}

/// `HashMap`/`HashSet` hasher built on [`FastHasher`].
pub(crate) type FastBuild = BuildHasherDefault<FastHasher>;

impl FastHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.h = (self.h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }

    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }

    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        mix64(self.h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(t: &T) -> u64 {
        FastBuild::default().hash_one(t)
    }

    #[test]
    fn strings_that_differ_hash_apart() {
        let words = ["", "a", "b", "ab", "ba", "abcdefgh", "abcdefgh\0", "abcdefghi", "x 1 2 y", "x 1 2 yx 1 3 y"];
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a:?} vs {b:?}");
            }
        }
        assert_eq!(hash(&"x 1 2 y".to_string()), hash(&"x 1 2 y"));
    }

    #[test]
    fn op_keys_are_distinct_and_spread() {
        let keys: Vec<u64> = (0..10_000).map(op_key).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len());
        // Each bit is set in about half of the keys.
        for bit in 0..64 {
            let ones = keys.iter().filter(|k| *k >> bit & 1 == 1).count();
            assert!((4_500..5_500).contains(&ones), "bit {bit}: {ones} of 10000");
        }
    }
}
