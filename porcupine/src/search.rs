//! The search for one partition: Wing and Gong's algorithm with Lowe's
//! memoization.
//!
//! Walk the entry list from the head. At a call whose operation the model
//! accepts from the current state, and whose (linearized set + it, new
//! state) pair is not in the cache: cache the pair, push the operation,
//! lift its two entries and start again at the head. Any other call: move
//! on. At a return: the operation returning there cannot come later, so the
//! last choice was wrong; pop it, put its entries back and continue after
//! its call. A return with nothing to pop: no linearization exists. An
//! empty list: every operation is linearized.
//!
//! In verbose mode each backtrack records the partial linearization on the
//! stack for every operation in it whose longest one so far was shorter
//! (see [`Recorder`]).

use crate::bitset::Bitset;
use crate::cache::Cache;
use crate::entries::{Entries, NONE};
use crate::hash::{mix64, op_key};
use crate::model::{Model, Operation};
use crate::states::States;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// When to give up: another partition's verdict or the time limit.
pub(crate) struct Stop<'a> {
    pub(crate) flag: &'a AtomicBool,
    pub(crate) deadline: Option<Instant>,
}

impl Stop<'_> {
    /// True once the flag is up or the deadline has passed (which raises
    /// the flag for everyone).
    pub(crate) fn now(&self) -> bool {
        if self.flag.load(Ordering::Relaxed) {
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.flag.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ok,
    Illegal,
    Stopped,
}

/// A partition's result. Indices are into the slice of operations given to
/// [`search`].
pub(crate) struct Outcome {
    pub(crate) verdict: Verdict,
    /// Verbose only: distinct partial linearizations, longest first (for
    /// `Ok`, the one complete linearization; for `Illegal`, never empty).
    pub(crate) partials: Vec<Vec<usize>>,
    /// Verbose only: per operation, its longest partial linearization.
    pub(crate) longest: Vec<Option<usize>>,
}

impl Outcome {
    fn bare(verdict: Verdict, n: usize) -> Self {
        Outcome { verdict, partials: Vec::new(), longest: vec![None; n] }
    }
}

#[derive(Clone, Copy)]
struct Frame {
    /// The call entry of the operation linearized here.
    node: u32,
    op: u32,
    /// The state before it.
    state: u32,
}

/// How often (in loop iterations) the search looks at the stop flag and the
/// clock.
const STOP_CHECK_MASK: u32 = (1 << 10) - 1;

/// Decides whether `ops` (one partition) is linearizable.
pub(crate) fn search<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    verbose: bool,
    stop: &Stop,
) -> Outcome {
    let n = ops.len();
    // Local ids in call order, so that the linearized set is close to a
    // prefix of the ids (see `bitset`).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (ops[i].call, i));
    let local: Vec<&Operation<M::Input, M::Output>> = order.iter().map(|&i| ops[i]).collect();
    let times: Vec<(i64, i64)> = local.iter().map(|o| (o.call, o.return_)).collect();
    let mut list = Entries::new(&times);
    let keys: Vec<u64> = (0..n).map(op_key).collect();

    let mut states = States::new(model);
    let mut state = states.intern(model.init());
    let mut set = Bitset::new(n);
    let mut set_hash = 0u64;
    let mut cache = Cache::new();
    let mut stack: Vec<Frame> = Vec::with_capacity(n);
    let mut recorder = verbose.then(|| Recorder::new(n));

    let mut node = list.first();
    let mut ticks = 0u32;
    while !list.is_empty() {
        ticks = ticks.wrapping_add(1);
        if ticks & STOP_CHECK_MASK == 0 && stop.now() {
            return Outcome::bare(Verdict::Stopped, n);
        }
        if list.is_call(node) {
            let op = list.op(node);
            let o = local[op as usize];
            if let Some(next) = states.step(state, op, &o.input, &o.output) {
                set.set(op as usize);
                let h = set_hash ^ keys[op as usize];
                if cache.insert(h ^ state_key(next), next, &set) {
                    stack.push(Frame { node, op, state });
                    if let Some(r) = recorder.as_mut() {
                        r.push();
                    }
                    set_hash = h;
                    state = next;
                    list.lift(node);
                    node = list.first();
                    continue;
                }
                set.clear(op as usize);
            }
            node = list.next(node);
        } else {
            if let Some(r) = recorder.as_mut() {
                r.record(&stack);
            }
            let Some(top) = stack.pop() else {
                return match recorder {
                    Some(r) => r.finish(Verdict::Illegal, &order),
                    None => Outcome::bare(Verdict::Illegal, n),
                };
            };
            if let Some(r) = recorder.as_mut() {
                r.pop();
            }
            set.clear(top.op as usize);
            set_hash ^= keys[top.op as usize];
            state = top.state;
            list.unlift(top.node);
            node = list.next(top.node);
        }
    }
    match recorder {
        Some(mut r) => {
            r.record(&stack);
            r.finish(Verdict::Ok, &order)
        }
        None => Outcome::bare(Verdict::Ok, n),
    }
}

/// The state's part of a cache entry's hash.
#[inline]
fn state_key(state: u32) -> u64 {
    mix64(u64::from(state) ^ 0x2545_f491_4f6c_dd1d)
}

/// Verbose mode's record of each operation's longest partial linearization.
///
/// At a backtrack with `d` operations on the stack, every operation on the
/// stack whose best so far is shorter than `d` gets the stack as its new
/// best. Two things keep this cheap:
/// - `marks[i].depth`: the longest record made since stack slot `i` was
///   pushed. It never increases going up the stack, so a scan from the top
///   stops at the first slot already recorded at depth `d`: a backtrack
///   right after a push looks at one slot.
/// - Linearizations are paths in a tree of `(parent, op)` nodes, made only
///   when recorded and shared by every record through that stack prefix, so
///   a record costs O(new slots), not O(d).
struct Recorder {
    marks: Vec<Mark>,
    nodes: Vec<(u32, u32)>,
    /// Per operation (local id): (length, tree node) of its best.
    best: Vec<(u32, u32)>,
}

#[derive(Clone, Copy)]
struct Mark {
    depth: u32,
    node: u32,
}

impl Recorder {
    fn new(n: usize) -> Self {
        Recorder { marks: Vec::with_capacity(n), nodes: Vec::new(), best: vec![(0, NONE); n] }
    }

    fn push(&mut self) {
        self.marks.push(Mark { depth: 0, node: NONE });
    }

    fn pop(&mut self) {
        self.marks.pop();
    }

    fn record(&mut self, stack: &[Frame]) {
        let d = stack.len() as u32;
        let mut lowest = stack.len();
        let mut improves = false;
        while lowest > 0 && self.marks[lowest - 1].depth < d {
            lowest -= 1;
            self.marks[lowest].depth = d;
            improves |= self.best[stack[lowest].op as usize].0 < d;
        }
        if !improves {
            return;
        }
        // Tree nodes exist for a prefix of the stack; add the rest.
        let mut first_missing = stack.len();
        while first_missing > 0 && self.marks[first_missing - 1].node == NONE {
            first_missing -= 1;
        }
        for j in first_missing..stack.len() {
            let parent = if j == 0 { NONE } else { self.marks[j - 1].node };
            self.marks[j].node = self.nodes.len() as u32;
            self.nodes.push((parent, stack[j].op));
        }
        let top = self.marks[stack.len() - 1].node;
        for f in &stack[lowest..] {
            let best = &mut self.best[f.op as usize];
            if best.0 < d {
                *best = (d, top);
            }
        }
    }

    /// The distinct bests, longest first, as indices into the caller's
    /// slice (`order` maps local ids to those).
    fn finish(self, verdict: Verdict, order: &[usize]) -> Outcome {
        let n = order.len();
        let mut tops: Vec<(u32, u32)> = self.best.iter().copied().filter(|b| b.0 > 0).collect();
        tops.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        tops.dedup();
        let mut partials = Vec::with_capacity(tops.len() + 1);
        for &(len, top) in &tops {
            let mut seq = vec![0; len as usize];
            let mut node = top;
            for slot in seq.iter_mut().rev() {
                let (parent, op) = self.nodes[node as usize];
                *slot = order[op as usize];
                node = parent;
            }
            partials.push(seq);
        }
        let mut longest = vec![None; n];
        for (local, &(len, top)) in self.best.iter().enumerate() {
            if len > 0 {
                let k = tops.binary_search_by(|t| len.cmp(&t.0).then(t.1.cmp(&top))).expect("every best is listed");
                longest[order[local]] = Some(k);
            }
        }
        if partials.is_empty() && verdict == Verdict::Illegal {
            // Not even one operation could go first.
            partials.push(Vec::new());
        }
        Outcome { verdict, partials, longest }
    }
}
