//! The model's states, each stored once and named by a small id, and the
//! model's transitions, each computed once.
//!
//! The search tries the same operation from the same state many times (with
//! different sets of operations linearized before it). Memoizing
//! `(state id, operation) -> next state id` means the model's `step`, the
//! cloning of a state and the hashing of a state happen once per distinct
//! transition; everything else works on ids.

use crate::entries::NONE;
use crate::hash::FastBuild;
use crate::model::Model;
use std::collections::HashMap;
use std::hash::BuildHasher;

pub(crate) struct States<'m, M: Model> {
    model: &'m M,
    states: Vec<M::State>,
    /// Hash of a state -> the last id with that hash.
    by_hash: HashMap<u64, u32, FastBuild>,
    /// Per id: the previous id with the same hash, or `NONE`.
    same_hash: Vec<u32>,
    /// `state << 32 | op` -> next state id, or `NONE` if illegal.
    memo: HashMap<u64, u32, FastBuild>,
}

impl<'m, M: Model> States<'m, M> {
    pub(crate) fn new(model: &'m M) -> Self {
        States {
            model,
            states: Vec::new(),
            by_hash: HashMap::default(),
            same_hash: Vec::new(),
            memo: HashMap::default(),
        }
    }

    /// The id of `state`, new or known.
    pub(crate) fn intern(&mut self, state: M::State) -> u32 {
        let h = FastBuild::default().hash_one(&state);
        let mut id = self.by_hash.get(&h).copied().unwrap_or(NONE);
        let last = id;
        while id != NONE {
            if self.states[id as usize] == state {
                return id;
            }
            id = self.same_hash[id as usize];
        }
        let new = u32::try_from(self.states.len())
            .ok()
            .filter(|&n| n != NONE)
            .unwrap_or_else(|| panic!("porcupine: more than {} distinct model states in one partition", u32::MAX - 1));
        self.states.push(state);
        self.same_hash.push(last);
        self.by_hash.insert(h, new);
        new
    }

    /// The state after operation `op` (`input`, `output`) from state
    /// `state`, or `None` if the model says the output is illegal there.
    #[inline]
    pub(crate) fn step(&mut self, state: u32, op: u32, input: &M::Input, output: &M::Output) -> Option<u32> {
        let key = u64::from(state) << 32 | u64::from(op);
        if let Some(&next) = self.memo.get(&key) {
            return (next != NONE).then_some(next);
        }
        let next = self.model.step(&self.states[state as usize], input, output).map(|s| self.intern(s));
        self.memo.insert(key, next.unwrap_or(NONE));
        next
    }

    /// Number of distinct states met.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{Hash, Hasher};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A counter modulo 5 whose states all hash alike, counting its steps.
    struct Mod5 {
        steps: AtomicUsize,
    }
    #[derive(Clone, PartialEq, Eq)]
    struct S(u8);
    impl Hash for S {
        fn hash<H: Hasher>(&self, h: &mut H) {
            h.write_u8(0);
        }
    }
    impl Model for Mod5 {
        type Input = u8;
        type Output = bool;
        type State = S;
        fn init(&self) -> S {
            S(0)
        }
        fn step(&self, s: &S, add: &u8, ok: &bool) -> Option<S> {
            self.steps.fetch_add(1, Ordering::Relaxed);
            ok.then(|| S((s.0 + add) % 5))
        }
        fn describe_operation(&self, add: &u8, _: &bool) -> String {
            format!("+{add}")
        }
        fn describe_state(&self, s: &S) -> String {
            s.0.to_string()
        }
    }

    #[test]
    fn equal_states_share_an_id_even_when_all_hashes_collide() {
        let m = Mod5 { steps: Default::default() };
        let mut st = States::new(&m);
        let s0 = st.intern(m.init());
        let mut s = s0;
        let mut ids = vec![s0];
        for _ in 0..12 {
            s = st.step(s, 0, &1, &true).unwrap();
            ids.push(s);
        }
        assert_eq!(st.len(), 5);
        assert_eq!(ids[5], s0);
        assert_eq!(ids[7], ids[2]);
        assert_ne!(ids[1], ids[2]);
    }

    #[test]
    fn each_transition_is_computed_once() {
        let m = Mod5 { steps: Default::default() };
        let mut st = States::new(&m);
        let s0 = st.intern(m.init());
        for _ in 0..10 {
            assert!(st.step(s0, 3, &2, &true).is_some());
            assert!(st.step(s0, 4, &2, &false).is_none());
        }
        assert_eq!(m.steps.load(Ordering::Relaxed), 2);
    }
}
