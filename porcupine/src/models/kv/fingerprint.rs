//! The fingerprint of a key/value value: two polynomial hashes of its bytes
//! modulo the Mersenne prime p = 2^61 − 1, with bases drawn at random once
//! per process.
//!
//! `H_B(s) = s_0·B^(n−1) + s_1·B^(n−2) + … + s_(n−1)  (mod p)`
//!
//! **Why polynomial hashes.** They compose: `H(a‖b) = H(a)·B^|b| + H(b)`,
//! so with `B^|a|` kept beside the hash, a concatenation's fingerprint is
//! O(1) from its parts' (an append in the model), and extending a string
//! costs only the new bytes (a read that extends an earlier one, in the
//! store).
//!
//! **Why a false match is negligible.** Values are compared by length and
//! fingerprint. Two different strings `s ≠ t` of the same length `n` have
//! `H_B(s) = H_B(t)` iff `B` is a root of the non-zero polynomial
//! `Σ (s_i − t_i)·X^(n−1−i)` of degree below `n`, which has fewer than `n`
//! roots in the field Z/p. `B` is uniform over about 2^61 values chosen
//! independently of the history (from the process's random hasher keys), so
//! the chance is below `n / 2^61`; the two bases are independent, so both
//! match with chance below `(n / 2^61)²`: about 2^-122 for 1 KB values,
//! 2^-88 for 100 KB, 2^-82 for 1 MB, per comparison. A search making 10^9
//! comparisons of 100 KB values errs with chance below 2^-58. (A 64-bit
//! hash alone would give 2^-44 per comparison, too weak for billions.)
//! Values of different lengths never match. Hashes of different processes
//! are not comparable, and nothing relies on a fingerprint's value beyond
//! equality (a timeline shows a few hex digits of one).

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

/// 2^61 − 1, a Mersenne prime.
const P: u64 = (1 << 61) - 1;

/// Bytes hashed per step of the unrolled loop.
const BLOCK: usize = 8;

/// The two bases and their powers up to `BLOCK`.
struct Bases {
    /// `pow[i][k]` = `B_i^k`.
    pow: [[u64; BLOCK + 1]; 2],
}

fn bases() -> &'static Bases {
    static BASES: OnceLock<Bases> = OnceLock::new();
    BASES.get_or_init(|| {
        // The standard library's hasher keys come from the OS's random
        // source; hashing two distinct words gives two independent draws.
        let keys = RandomState::new();
        let draw = |i: u64| (1 << 20) + keys.hash_one(i) % (P - (1 << 21));
        let (b0, mut b1) = (draw(0), draw(1));
        let mut i = 2;
        while b1 == b0 {
            b1 = draw(i);
            i += 1;
        }
        Bases { pow: [b0, b1].map(powers) }
    })
}

fn powers(b: u64) -> [u64; BLOCK + 1] {
    let mut p = [1; BLOCK + 1];
    for k in 1..=BLOCK {
        p[k] = mul(p[k - 1], b);
    }
    p
}

/// `x mod p` for `x < 2^124`.
#[inline]
fn reduce(x: u128) -> u64 {
    let s = (x as u64 & P) + (x >> 61) as u64;
    let s = (s & P) + (s >> 61);
    if s >= P {
        s - P
    } else {
        s
    }
}

#[inline]
fn mul(a: u64, b: u64) -> u64 {
    reduce(u128::from(a) * u128::from(b))
}

#[inline]
fn add(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P {
        s - P
    } else {
        s
    }
}

/// The two hashes of a byte string and the two bases raised to its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub(crate) h: [u64; 2],
    pub(crate) pow: [u64; 2],
}

impl Fingerprint {
    /// The empty string's.
    pub(crate) const EMPTY: Fingerprint = Fingerprint { h: [0, 0], pow: [1, 1] };

    /// The fingerprint of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint::EMPTY.extend(bytes)
    }

    /// The fingerprint of this string followed by `bytes`, in O(|bytes|).
    pub(crate) fn extend(self, bytes: &[u8]) -> Fingerprint {
        let b = bases();
        let mut out = self;
        for i in 0..2 {
            let pw = &b.pow[i];
            let (mut h, mut pow) = (out.h[i], out.pow[i]);
            let mut blocks = bytes.chunks_exact(BLOCK);
            for block in &mut blocks {
                // h·B^8 + Σ block_j·B^(7−j): every term below 2^69, the sum
                // below 2^123.
                let mut acc = u128::from(h) * u128::from(pw[BLOCK]);
                for (j, &byte) in block.iter().enumerate() {
                    acc += u128::from(byte) * u128::from(pw[BLOCK - 1 - j]);
                }
                h = reduce(acc);
                pow = mul(pow, pw[BLOCK]);
            }
            for &byte in blocks.remainder() {
                h = add(mul(h, pw[1]), u64::from(byte));
                pow = mul(pow, pw[1]);
            }
            out.h[i] = h;
            out.pow[i] = pow;
        }
        out
    }

    /// The fingerprint of a string of `len` bytes whose hashes are `h`:
    /// the bases raised to `len` by squaring, O(log len).
    pub(crate) fn with_len(h: [u64; 2], len: usize) -> Fingerprint {
        let b = bases();
        let pow = [0, 1].map(|i| {
            let (mut base, mut e, mut acc) = (b.pow[i][1], len, 1);
            while e > 0 {
                if e & 1 == 1 {
                    acc = mul(acc, base);
                }
                base = mul(base, base);
                e >>= 1;
            }
            acc
        });
        Fingerprint { h, pow }
    }

    /// The fingerprint of this string followed by the one of `next`, in
    /// O(1).
    #[inline]
    pub(crate) fn concat(self, next: Fingerprint) -> Fingerprint {
        let f = |i: usize| add(mul(self.h[i], next.pow[i]), next.h[i]);
        let g = |i: usize| mul(self.pow[i], next.pow[i]);
        Fingerprint { h: [f(0), f(1)], pow: [g(0), g(1)] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one byte at a time.
    fn naive(bytes: &[u8]) -> Fingerprint {
        let b = bases();
        let mut f = Fingerprint::EMPTY;
        for &byte in bytes {
            for i in 0..2 {
                f.h[i] = ((u128::from(f.h[i]) * u128::from(b.pow[i][1]) + u128::from(byte)) % u128::from(P)) as u64;
                f.pow[i] = ((u128::from(f.pow[i]) * u128::from(b.pow[i][1])) % u128::from(P)) as u64;
            }
        }
        f
    }

    #[test]
    fn powers_from_the_length_agree_with_hashing() {
        let text: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
        for n in [0, 1, 2, 3, 7, 8, 64, 1000, 4095, 4096, 5000] {
            let f = Fingerprint::of(&text[..n]);
            assert_eq!(Fingerprint::with_len(f.h, n), f, "n = {n}");
        }
    }

    #[test]
    fn unrolled_extend_and_concat_agree_with_the_definition() {
        let text: Vec<u8> = (0..200u32).map(|i| (i * 37 % 256) as u8).collect();
        for n in [0, 1, 7, 8, 9, 16, 63, 64, 65, 200] {
            let s = &text[..n];
            assert_eq!(Fingerprint::of(s), naive(s), "n = {n}");
            for cut in 0..=n {
                let (a, b) = s.split_at(cut);
                assert_eq!(Fingerprint::of(a).concat(Fingerprint::of(b)), naive(s), "n = {n}, cut {cut}");
                assert_eq!(Fingerprint::of(a).extend(b), naive(s), "n = {n}, cut {cut}");
            }
        }
    }

    #[test]
    fn reduction_is_exact_at_the_edges() {
        let max = u128::from(P - 1);
        for x in [0, 1, u128::from(P), u128::from(P) + 1, max * max, max * max + (1 << 72), (1 << 123) + 12345] {
            assert_eq!(u128::from(reduce(x)), x % u128::from(P), "{x}");
        }
        assert_eq!(add(P - 1, 1), 0);
        assert_eq!(mul(P - 1, P - 1), 1);
    }

    #[test]
    fn small_changes_change_both_hashes() {
        let base = b"x 0 0 yx 0 1 yx 0 2 y".to_vec();
        let f = Fingerprint::of(&base);
        for i in 0..base.len() {
            for delta in [1u8, 128, 255] {
                let mut t = base.clone();
                t[i] = t[i].wrapping_add(delta);
                let g = Fingerprint::of(&t);
                assert!(g.h[0] != f.h[0] && g.h[1] != f.h[1], "byte {i} + {delta}");
            }
        }
        // Swapped neighbours, and a zero byte in front (equal lengths are
        // compared by the caller; here the hash alone differs too).
        assert_ne!(Fingerprint::of(b"ab").h, Fingerprint::of(b"ba").h);
        assert_ne!(Fingerprint::of(b"\0a").pow, Fingerprint::of(b"a").pow);
    }
}
