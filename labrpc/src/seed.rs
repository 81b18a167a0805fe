//! The run's seed, from `LABRPC_SEED`, and the per-peer random streams
//! derived from it.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// The environment variable holding the seed of a run.
pub const SEED_VAR: &str = "LABRPC_SEED";

/// The seed in `LABRPC_SEED`, if set.
///
/// # Panics
/// If the variable is set but is not an unsigned 64-bit integer: a typo must
/// not silently give a fresh random run instead of the replay asked for.
pub fn env_seed() -> Option<u64> {
    let s = std::env::var(SEED_VAR).ok()?;
    Some(
        s.trim().parse().unwrap_or_else(|_| panic!("labrpc: {SEED_VAR} must be an unsigned 64-bit integer, got {s:?}")),
    )
}

/// SplitMix64's finalizer: spreads nearby inputs (peer 0, 1, 2...) over
/// unrelated seeds.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random stream of peer `me`'s own, for its election timeouts and any
/// other random choice it makes.
///
/// With `LABRPC_SEED` set (as the tools set it for every run, and as a
/// failing test prints it), the stream is a function of the seed, `me` and
/// `salt`, so that replaying a failing seed replays the peers' choices along
/// with the network's and the tester's. Unset, the stream is seeded at
/// random. `salt` tells apart streams of the same peer: a peer restarted
/// from persisted state can pass its term, a second stream another constant.
///
/// ```
/// use rand::Rng;
/// let mut rng = labrpc::peer_rng(2, 0);
/// let timeout_ms = rng.gen_range(350..650);
/// assert!((350..650).contains(&timeout_ms));
/// ```
///
/// # Panics
/// If `LABRPC_SEED` is set to something other than an unsigned integer.
pub fn peer_rng(me: usize, salt: u64) -> StdRng {
    match env_seed() {
        Some(seed) => peer_rng_with(seed, me, salt),
        None => StdRng::from_entropy(),
    }
}

/// The stream [`peer_rng`] gives for `seed`.
fn peer_rng_with(seed: u64, me: usize, salt: u64) -> StdRng {
    StdRng::seed_from_u64(mix(seed ^ mix(me as u64 + 1) ^ mix(salt).rotate_left(17)))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(mut r: StdRng) -> Vec<u64> {
        (0..8).map(|_| r.gen()).collect()
    }

    #[test]
    fn streams_differ_by_peer_and_salt_and_repeat_for_the_same_inputs() {
        let a = draws(peer_rng_with(42, 0, 0));
        assert_eq!(a, draws(peer_rng_with(42, 0, 0)));
        assert_ne!(a, draws(peer_rng_with(42, 1, 0)));
        assert_ne!(a, draws(peer_rng_with(42, 0, 1)));
        assert_ne!(a, draws(peer_rng_with(43, 0, 0)));
    }
}
