//! When to give up, and the setup work that looks at it: every phase of a
//! check (the searches, their setup, the race's bookkeeping, the verbose
//! info) polls a [`Stop`] at least every few thousand items of work, so a
//! check returns soon after its time limit however large the history.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Items of work (elements sorted, operations copied or prepared) between
/// two looks at the clock.
pub(crate) const POLL_EVERY: usize = 1 << 14;

/// When to give up: another partition's verdict, this partition decided
/// by another search, or the time limit.
pub(crate) struct Stop<'a> {
    /// Raised for every search.
    pub(crate) flag: &'a AtomicBool,
    /// Raised when this partition is decided.
    pub(crate) decided: &'a AtomicBool,
    pub(crate) deadline: Option<Instant>,
}

impl Stop<'_> {
    /// True once a flag is up or the deadline has passed (which raises the
    /// flag for everyone).
    pub(crate) fn now(&self) -> bool {
        if self.flag.load(Ordering::Relaxed) || self.decided.load(Ordering::Relaxed) {
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.flag.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// Sorts `v`, looking at `stop` every [`POLL_EVERY`] elements; false
/// (and `v` in some order) if stopped. A bottom-up merge sort of runs
/// sorted by the standard library: O(n log n), stable.
pub(crate) fn sort<T: Copy + Ord>(v: &mut [T], stop: &Stop) -> bool {
    const RUN: usize = 1 << 12;
    for (k, run) in v.chunks_mut(RUN).enumerate() {
        run.sort();
        if k.is_multiple_of(POLL_EVERY / RUN) && stop.now() {
            return false;
        }
    }
    // Histories come nearly sorted; runs already in order need no merging
    // (and no buffer).
    if v.chunks(RUN).zip(v.chunks(RUN).skip(1)).all(|(a, b)| a[a.len() - 1] <= b[0]) {
        return true;
    }
    let mut buf: Vec<T> = v.to_vec();
    let mut width = RUN;
    // Each pass merges pairs of sorted runs of `width` from `src` to `dst`.
    let mut in_v = true;
    let mut done = 0usize;
    while width < v.len() {
        let (src, dst): (&[T], &mut [T]) = if in_v { (v, &mut buf) } else { (&buf, v) };
        let mut start = 0;
        while start < src.len() {
            let mid = (start + width).min(src.len());
            let end = (start + 2 * width).min(src.len());
            let (mut i, mut j) = (start, mid);
            for slot in &mut dst[start..end] {
                if j >= end || (i < mid && src[i] <= src[j]) {
                    *slot = src[i];
                    i += 1;
                } else {
                    *slot = src[j];
                    j += 1;
                }
                done += 1;
                if done.is_multiple_of(POLL_EVERY) && stop.now() {
                    return false;
                }
            }
            start = end;
        }
        in_v = !in_v;
        width *= 2;
    }
    if !in_v {
        v.copy_from_slice(&buf);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn never() -> (AtomicBool, AtomicBool) {
        (AtomicBool::new(false), AtomicBool::new(false))
    }

    #[test]
    fn sorts_like_the_standard_library() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (flag, decided) = never();
        let stop = Stop { flag: &flag, decided: &decided, deadline: None };
        for n in [0, 1, 2, 100, 4095, 4096, 4097, 10_000, 70_000, 300_001] {
            let mut v: Vec<(i64, u32)> = (0..n).map(|i| (rng.gen_range(0..1000), i as u32)).collect();
            let mut expected = v.clone();
            expected.sort();
            assert!(sort(&mut v, &stop));
            assert_eq!(v, expected, "n = {n}");
            // Nearly sorted: in order but for a few swaps across runs.
            let mut v: Vec<u32> = (0..n as u32).collect();
            for k in (0..n).step_by(5_000).skip(1) {
                v.swap(k - 1, k + 1.min(n - 1 - k));
            }
            let mut expected = v.clone();
            expected.sort();
            assert!(sort(&mut v, &stop));
            assert_eq!(v, expected, "n = {n}, nearly sorted");
        }
    }

    #[test]
    fn a_raised_flag_stops_a_sort() {
        let (flag, decided) = never();
        flag.store(true, Ordering::Relaxed);
        let stop = Stop { flag: &flag, decided: &decided, deadline: None };
        let mut v: Vec<u64> = (0..100_000).rev().collect();
        assert!(!sort(&mut v, &stop));
        // A past deadline raises the flag for everyone.
        let (flag, decided) = never();
        let stop = Stop { flag: &flag, decided: &decided, deadline: Some(Instant::now()) };
        assert!(!sort(&mut v, &stop));
        assert!(flag.load(Ordering::Relaxed));
    }
}
