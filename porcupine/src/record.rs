//! Verbose mode's record of each operation's longest partial
//! linearization.

use crate::entries::NONE;
use crate::search::{Outcome, Verdict};

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
pub(crate) struct Recorder {
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
    pub(crate) fn new(n: usize) -> Self {
        Recorder { marks: Vec::with_capacity(n), nodes: Vec::new(), best: vec![(0, NONE); n] }
    }

    pub(crate) fn push(&mut self) {
        self.marks.push(Mark { depth: 0, node: NONE });
    }

    pub(crate) fn pop(&mut self) {
        self.marks.pop();
    }

    /// Records the linearization `stack` (operations' local ids, in order).
    pub(crate) fn record(&mut self, stack: &[u32]) {
        let d = stack.len() as u32;
        let mut lowest = stack.len();
        let mut improves = false;
        while lowest > 0 && self.marks[lowest - 1].depth < d {
            lowest -= 1;
            self.marks[lowest].depth = d;
            improves |= self.best[stack[lowest] as usize].0 < d;
        }
        if !improves {
            return;
        }
        // Tree nodes exist for a prefix of the stack; add the rest.
        let mut first_missing = stack.len();
        while first_missing > 0 && self.marks[first_missing - 1].node == NONE {
            first_missing -= 1;
        }
        for (j, &op) in stack.iter().enumerate().skip(first_missing) {
            let parent = if j == 0 { NONE } else { self.marks[j - 1].node };
            self.marks[j].node = self.nodes.len() as u32;
            self.nodes.push((parent, op));
        }
        let top = self.marks[stack.len() - 1].node;
        for &op in &stack[lowest..] {
            let best = &mut self.best[op as usize];
            if best.0 < d {
                *best = (d, top);
            }
        }
    }

    /// The distinct bests, longest first, as indices into the caller's
    /// slice (`order` maps local ids to those).
    pub(crate) fn finish(self, verdict: Verdict, order: &[u32]) -> Outcome {
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
                *slot = order[op as usize] as usize;
                node = parent;
            }
            partials.push(seq);
        }
        let mut longest = vec![None; n];
        for (local, &(len, top)) in self.best.iter().enumerate() {
            if len > 0 {
                let k = tops.binary_search_by(|t| len.cmp(&t.0).then(t.1.cmp(&top))).expect("every best is listed");
                longest[order[local] as usize] = Some(k);
            }
        }
        if partials.is_empty() && verdict == Verdict::Illegal {
            // Not even one operation could go first.
            partials.push(Vec::new());
        }
        Outcome { verdict, partials, longest }
    }
}
