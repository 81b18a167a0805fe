//! The model's states, each stored once and named by a small id: the cache
//! and the search work on ids, so a state is hashed once, when first met,
//! and never cloned by the search.
//!
//! (A memo of transitions, `(state, operation) -> next state`, was tried and
//! dropped: in the key/value searches measured, few transitions repeat, and
//! the memo's table cost more time and memory than the steps it saved.)

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
}

impl<'m, M: Model> States<'m, M> {
    pub(crate) fn new(model: &'m M) -> Self {
        States { model, states: Vec::new(), by_hash: HashMap::default(), same_hash: Vec::new() }
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

    /// The state after `input`/`output` from state `state`, or `None` if
    /// the model says the output is illegal there.
    #[inline]
    pub(crate) fn step(&mut self, state: u32, input: &M::Input, output: &M::Output) -> Option<u32> {
        let next = self.model.step(&self.states[state as usize], input, output)?;
        Some(self.intern(next))
    }

    /// Whether `input`/`output` is legal in state `state` (nothing kept).
    #[inline]
    pub(crate) fn legal(&self, state: u32, input: &M::Input, output: &M::Output) -> bool {
        self.model.step(&self.states[state as usize], input, output).is_some()
    }

    /// [`Self::step`] for an operation the model says is read-only: the
    /// state stays (checked), so it is not interned again.
    ///
    /// # Panics
    /// If the step changed the state after all.
    #[inline]
    pub(crate) fn step_read_only(&mut self, state: u32, input: &M::Input, output: &M::Output) -> Option<u32> {
        let current = &self.states[state as usize];
        let next = self.model.step(current, input, output)?;
        assert!(
            next == *current,
            "porcupine: Model::is_read_only is true for {} but its step changed the state",
            self.model.describe_operation(input, output)
        );
        Some(state)
    }

    /// Number of distinct states held.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Forgets every state but `id`'s, which gets a new id (returned): for
    /// a search that will never refer to the others again.
    pub(crate) fn keep_only(&mut self, id: u32) -> u32 {
        let state = self.states.swap_remove(id as usize);
        self.states.clear();
        self.same_hash.clear();
        self.by_hash.clear();
        self.intern(state)
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
            s = st.step(s, &1, &true).unwrap();
            ids.push(s);
        }
        assert_eq!(st.len(), 5);
        assert_eq!(ids[5], s0);
        assert_eq!(ids[7], ids[2]);
        assert_ne!(ids[1], ids[2]);
    }

    #[test]
    fn keep_only_forgets_the_others() {
        let m = Mod5 { steps: Default::default() };
        let mut st = States::new(&m);
        let s0 = st.intern(m.init());
        let s1 = st.step(s0, &1, &true).unwrap();
        let s2 = st.step(s1, &1, &true).unwrap();
        assert_eq!(st.len(), 3);
        let kept = st.keep_only(s2);
        assert_eq!((kept, st.len()), (0, 1));
        // The same state is found again; others are new.
        assert_eq!(st.intern(S(2)), kept);
        assert_eq!(st.intern(S(0)), 1);
        assert_eq!(st.step(kept, &3, &true), Some(1));
    }

    #[test]
    fn a_read_only_step_keeps_the_id() {
        let m = Mod5 { steps: Default::default() };
        let mut st = States::new(&m);
        let s0 = st.intern(m.init());
        assert_eq!(st.step_read_only(s0, &0, &true), Some(s0));
        assert_eq!(st.step_read_only(s0, &0, &false), None);
        assert_eq!(st.len(), 1);
    }

    #[test]
    #[should_panic(expected = "porcupine: Model::is_read_only is true for +2 but its step changed the state")]
    fn a_read_only_step_that_changes_the_state() {
        let m = Mod5 { steps: Default::default() };
        let mut st = States::new(&m);
        let s0 = st.intern(m.init());
        let _ = st.step_read_only(s0, &2, &true);
    }
}
