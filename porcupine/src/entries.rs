//! The history as Wing and Gong's list of call and return entries: a doubly
//! linked list over indices into vectors (no allocation per entry), from
//! which a linearized operation's two entries are lifted and, on backtrack,
//! put back in place (dancing links: lifts and unlifts come in stack order).

use crate::stop::Stop;

/// No node.
pub(crate) const NONE: u32 = u32::MAX;
/// The sentinel before the first entry.
pub(crate) const HEAD: u32 = 0;

pub(crate) struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation (local id) of each entry.
    op: Vec<u32>,
    /// For a call entry, its return entry; `NONE` for a return entry.
    ret: Vec<u32>,
    /// The sentinel after the last entry.
    tail: u32,
}

impl Entries {
    /// The entries of `times.len()` operations, where `times[id]` is the
    /// call and return time of operation `id`: in time order, a call before
    /// a return at the same time (they overlap).
    /// `None` if `stop` says so while sorting.
    pub(crate) fn new(times: &[(i64, i64)], stop: &Stop) -> Option<Self> {
        let n = times.len();
        let mut events: Vec<(i64, bool, u32)> = Vec::with_capacity(2 * n);
        for (id, &(call, ret)) in times.iter().enumerate() {
            events.push((call, false, id as u32));
            events.push((ret, true, id as u32));
        }
        if !crate::stop::sort(&mut events, stop) {
            return None;
        }
        let nodes = 2 * n + 2;
        let tail = (nodes - 1) as u32;
        let mut e = Entries {
            next: (1..=nodes as u32).collect(),
            prev: (0..nodes as u32).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![NONE; nodes],
            ret: vec![NONE; nodes],
            tail,
        };
        e.next[tail as usize] = NONE;
        e.prev[HEAD as usize] = NONE;
        let mut call_node = vec![NONE; n];
        for (pos, &(_, is_return, id)) in events.iter().enumerate() {
            let node = pos as u32 + 1;
            e.op[node as usize] = id;
            if is_return {
                e.ret[call_node[id as usize] as usize] = node;
            } else {
                call_node[id as usize] = node;
            }
        }
        Some(e)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.next[HEAD as usize] == self.tail
    }

    #[inline]
    pub(crate) fn first(&self) -> u32 {
        self.next[HEAD as usize]
    }

    #[inline]
    pub(crate) fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    #[inline]
    pub(crate) fn op(&self, node: u32) -> u32 {
        self.op[node as usize]
    }

    /// Whether `node` is a call entry (else a return entry).
    #[inline]
    pub(crate) fn is_call(&self, node: u32) -> bool {
        self.ret[node as usize] != NONE
    }

    /// Takes a call entry and its return entry out of the list.
    #[inline]
    pub(crate) fn lift(&mut self, call: u32) {
        let ret = self.ret[call as usize];
        self.unlink(call);
        self.unlink(ret);
    }

    /// Puts back the entries of the last [`Entries::lift`] still out.
    #[inline]
    pub(crate) fn unlift(&mut self, call: u32) {
        let ret = self.ret[call as usize];
        self.relink(ret);
        self.relink(call);
    }

    #[inline]
    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    #[inline]
    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        self.prev[n as usize] = node;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn new(times: &[(i64, i64)]) -> Entries {
        let (flag, decided) = (AtomicBool::new(false), AtomicBool::new(false));
        Entries::new(times, &Stop { flag: &flag, decided: &decided, deadline: None }).unwrap()
    }

    /// (op, is_call) of every entry, head to tail.
    fn walk(e: &Entries) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        let mut node = e.first();
        while node != e.tail {
            out.push((e.op(node), e.is_call(node)));
            node = e.next(node);
        }
        out
    }

    #[test]
    fn time_order_with_calls_before_returns_on_ties() {
        // op 0: [0, 10], op 1: [10, 20], op 2: [5, 5]
        let e = new(&[(0, 10), (10, 20), (5, 5)]);
        assert_eq!(walk(&e), vec![(0, true), (2, true), (2, false), (1, true), (0, false), (1, false)]);
    }

    #[test]
    fn lift_and_unlift_in_stack_order_restore_the_list() {
        let e0 = new(&[(0, 10), (1, 2), (3, 12), (4, 5)]);
        let before = walk(&e0);
        let mut e = new(&[(0, 10), (1, 2), (3, 12), (4, 5)]);
        let call_of = |e: &Entries, op: u32| {
            let mut node = e.first();
            while !(e.op(node) == op && e.is_call(node)) {
                node = e.next(node);
            }
            node
        };
        let c1 = call_of(&e, 1);
        e.lift(c1);
        assert_eq!(walk(&e), vec![(0, true), (2, true), (3, true), (3, false), (0, false), (2, false)]);
        let c3 = call_of(&e, 3);
        e.lift(c3);
        let c0 = call_of(&e, 0);
        e.lift(c0);
        assert_eq!(walk(&e), vec![(2, true), (2, false)]);
        let c2 = call_of(&e, 2);
        e.lift(c2);
        assert!(e.is_empty());
        for c in [c2, c0, c3, c1] {
            e.unlift(c);
        }
        assert_eq!(walk(&e), before);
    }

    #[test]
    fn no_operations() {
        let e = new(&[]);
        assert!(e.is_empty());
    }
}
