//! The search for one partition: Wing and Gong's algorithm with Lowe's
//! memoization.
//!
//! A configuration is the set of operations linearized so far and the
//! state they lead to. Its candidates are the operations not yet
//! linearized that were called before the earliest return among those:
//! the calls ahead of the first return entry in the list. A depth-first
//! search takes a candidate whose step is legal and whose new
//! configuration is not in the cache (Lowe: reaching one again cannot lead
//! anywhere new), caches that configuration, lifts the operation's entries
//! out of the list and goes on from there. When a configuration has no
//! candidate left to try, the last choice was wrong: undo it and try that
//! configuration's next candidate. Nothing left to undo: no linearization
//! exists. An empty list: every operation is linearized.
//!
//! Choices of this implementation (none changes a verdict):
//! - Candidates are tried in order of their return ([`Order::ByReturn`];
//!   the course's porcupine tries them in order of their call,
//!   [`Order::ByCall`], which [`crate::check`] races against it on idle
//!   cores). An operation pending for long, as around a crash or a
//!   partition, is then placed as late as the reads that depend on it
//!   allow, instead of first at its call and then at every later point,
//!   each wrong placement costing the whole subtree until a read
//!   contradicts it.
//! - A legal read-only candidate ([`Model::is_read_only`]) is taken alone:
//!   if any completion exists, one takes it next (see [`Search::arrive`]).
//! - In return order, when the operation due first is illegal, the
//!   candidates after which it is legal are tried first.
//! - A step forced along a uniquely reachable path (each configuration so
//!   far had a single possible next operation) is committed: not cached,
//!   and the path below it forgotten (see [`Search::push`]).
//!
//! In verbose mode each dead end records the partial linearization on the
//! stack (see [`crate::record`]).

use crate::bitset::Bitset;
use crate::cache::Cache;
use crate::entries::{Entries, NONE};
use crate::hash::{mix64, op_key};
use crate::model::{Model, Operation};
use crate::record::Recorder;
use crate::states::States;
use crate::stop::{self, Stop, POLL_EVERY};

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
    /// Verbose only (else empty): per operation, its longest partial
    /// linearization.
    pub(crate) longest: Vec<Option<usize>>,
}

impl Outcome {
    /// A verdict without the verbose record.
    pub(crate) fn bare(verdict: Verdict) -> Self {
        Outcome { verdict, partials: Vec::new(), longest: Vec::new() }
    }
}

/// The order in which a configuration's candidates are tried. Neither
/// changes a verdict; each is much faster than the other on some histories
/// (see [`crate::check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Earliest return first: an operation pending for long goes as late as
    /// the reads that depend on it allow.
    ByReturn,
    /// Earliest call first (the course's porcupine).
    ByCall,
}

/// A candidate's next state not computed yet.
const UNTRIED: u32 = u32::MAX - 1;
/// A candidate whose step is illegal.
const ILLEGAL: u32 = u32::MAX;

/// After a committed step (see [`Search::push`]), the states met so far are
/// dropped once there are this many.
const COMPACT_STATES: usize = 4096;

/// How often (in loop iterations) the search looks at the stop flag and the
/// clock.
const STOP_CHECK_MASK: u32 = (1 << 10) - 1;

/// Decides whether `ops` (one partition) is linearizable (taken by value:
/// the search keeps them in its own order).
pub(crate) fn search<M: Model>(
    model: &M,
    ops: Vec<&Operation<M::Input, M::Output>>,
    verbose: bool,
    order_by: Order,
    stop: &Stop,
) -> Outcome {
    let n = ops.len();
    assert!(u32::try_from(n).is_ok_and(|n| n < NONE / 2), "porcupine: {n} operations in one partition");
    // Local ids in call order, so that the linearized set is close to a
    // prefix of the ids (see `bitset`).
    let mut by_call: Vec<(i64, u32)> = ops.iter().enumerate().map(|(i, o)| (o.call, i as u32)).collect();
    if !stop::sort(&mut by_call, stop) {
        return Outcome::bare(Verdict::Stopped);
    }
    let order: Vec<u32> = by_call.into_iter().map(|(_, i)| i).collect();
    let sorted = order.iter().map(|&i| ops[i as usize]).collect();
    drop(ops);
    let Some(mut s) = Search::new(model, sorted, verbose, order_by, stop) else {
        return Outcome::bare(Verdict::Stopped);
    };
    if s.list.is_empty() {
        return s.finish(Verdict::Ok, &order);
    }
    s.arrive();
    let mut ticks = 0u32;
    loop {
        ticks = ticks.wrapping_add(1);
        if ticks & STOP_CHECK_MASK == 0 && stop.now() {
            return Outcome::bare(Verdict::Stopped);
        }
        match s.next_candidate() {
            Some((node, known)) => {
                let next = match known {
                    UNTRIED => s.step(node),
                    ILLEGAL => None,
                    next => Some(next),
                };
                if let Some(next) = next {
                    if s.push(node, next) {
                        if s.list.is_empty() {
                            return s.finish(Verdict::Ok, &order);
                        }
                        s.arrive();
                    }
                }
            }
            None => {
                if !s.backtrack() {
                    return s.finish(Verdict::Illegal, &order);
                }
            }
        }
    }
}

/// One configuration on the search path: where its candidates are in
/// `Search::cands` and which one is next.
struct Level {
    start: u32,
    next: u32,
}

/// An operation linearized on the search path.
struct Frame {
    /// Its call entry.
    node: u32,
    /// The state before it.
    state: u32,
}

/// The search's state for one partition.
struct Search<'a, M: Model> {
    /// Operations by local id (call order).
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    list: Entries,
    /// Per operation: its rank in the order candidates are tried in.
    rank: Vec<u32>,
    /// Per operation: [`Model::is_read_only`].
    read_only: Vec<bool>,
    states: States<'a, M>,
    state: u32,
    set: Bitset,
    /// The XOR of `op_key` over the linearized set.
    set_hash: u64,
    cache: Cache,
    /// How many configurations from the root of the path are reachable by
    /// this path only (see [`Search::push`]).
    unique: usize,
    /// The linearization so far: frames (none for committed steps), and the
    /// operations alone (for the recorder).
    frames: Vec<Frame>,
    path: Vec<u32>,
    /// One level per configuration on the path, the current one last, each
    /// owning a stretch of `cands` (the current one its tail): call entries
    /// with their next state, if known.
    levels: Vec<Level>,
    cands: Vec<(u32, u32)>,
    order: Order,
    recorder: Option<Recorder>,
}

impl<'a, M: Model> Search<'a, M> {
    /// The search's setup, or `None` if stopped meanwhile.
    fn new(
        model: &'a M,
        ops: Vec<&'a Operation<M::Input, M::Output>>,
        verbose: bool,
        order: Order,
        stop: &Stop,
    ) -> Option<Self> {
        let n = ops.len();
        let times: Vec<(i64, i64)> = ops.iter().map(|o| (o.call, o.return_)).collect();
        let mut ranked: Vec<(i64, i64, u32)> = match order {
            Order::ByReturn => times.iter().enumerate().map(|(i, t)| (t.1, t.0, i as u32)).collect(),
            Order::ByCall => times.iter().enumerate().map(|(i, t)| (t.0, t.1, i as u32)).collect(),
        };
        if !stop::sort(&mut ranked, stop) {
            return None;
        }
        let mut rank = vec![0; n];
        for (r, &(_, _, i)) in ranked.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        drop(ranked);
        let mut read_only = Vec::with_capacity(n);
        for chunk in ops.chunks(POLL_EVERY) {
            if stop.now() {
                return None;
            }
            read_only.extend(chunk.iter().map(|o| model.is_read_only(&o.input, &o.output)));
        }
        let list = Entries::new(&times, stop)?;
        let mut states = States::new(model);
        let state = states.intern(model.init());
        Some(Search {
            read_only,
            ops,
            list,
            rank,
            states,
            state,
            set: Bitset::new(n),
            set_hash: 0,
            cache: Cache::new(),
            unique: 1,
            frames: Vec::new(),
            path: Vec::with_capacity(n),
            levels: Vec::new(),
            cands: Vec::new(),
            order,
            recorder: verbose.then(|| Recorder::new(n)),
        })
    }

    /// The state after the operation of call entry `node`, if legal now.
    #[inline]
    fn step(&mut self, node: u32) -> Option<u32> {
        let op = self.list.op(node) as usize;
        let o = self.ops[op];
        if self.read_only[op] {
            self.states.step_read_only(self.state, &o.input, &o.output)
        } else {
            self.states.step(self.state, &o.input, &o.output)
        }
    }

    /// Enters a new configuration: lists its candidates in the search's
    /// order.
    ///
    /// If one of them is read-only and legal now, it is the only one listed:
    /// if the configuration has a complete linearization at all, it has one
    /// that takes that operation next. (Move it to the front of any: it is
    /// legal now, it changes the state for none of those it now precedes,
    /// and none of them returned before its call.) So if it fails, the
    /// configuration fails.
    ///
    /// In return order, when the operation due first (the earliest return)
    /// is illegal now, the candidates after which it is legal go first:
    /// writes that do not help it wait for their own turn, instead of being
    /// linearized early and starving a read called later (found on a
    /// history where that cost 80 levels of dead ends).
    fn arrive(&mut self) {
        let start = self.cands.len();
        let mut node = self.list.first();
        while self.list.is_call(node) {
            let op = self.list.op(node) as usize;
            if self.read_only[op] && self.step(node).is_some() {
                self.cands.truncate(start);
                self.cands.push((node, self.state));
                self.levels.push(Level { start: start as u32, next: start as u32 });
                return;
            }
            self.cands.push((node, UNTRIED));
            node = self.list.next(node);
        }
        let (list, rank) = (&self.list, &self.rank);
        self.cands[start..].sort_unstable_by_key(|&(n, _)| rank[list.op(n) as usize]);
        if self.order == Order::ByReturn {
            self.help_the_due_operation(start, self.list.op(node) as usize);
        }
        self.levels.push(Level { start: start as u32, next: start as u32 });
    }

    /// Moves the candidates after which operation `due` is legal to the
    /// front of `cands[start..]`, if `due` is illegal now (their next states
    /// are kept, not computed again).
    fn help_the_due_operation(&mut self, start: usize, due: usize) {
        let d = self.ops[due];
        if self.states.legal(self.state, &d.input, &d.output) {
            return;
        }
        let mut helps = Vec::with_capacity(self.cands.len() - start);
        for k in start..self.cands.len() {
            let node = self.cands[k].0;
            let next = if self.list.op(node) as usize == due { None } else { self.step(node) };
            self.cands[k].1 = next.unwrap_or(ILLEGAL);
            helps.push(next.is_some_and(|n| self.states.legal(n, &d.input, &d.output)));
        }
        if helps.contains(&true) {
            let segment: Vec<(u32, u32)> = self.cands[start..].to_vec();
            let (first, rest): (Vec<_>, Vec<_>) = segment.into_iter().zip(helps).partition(|(_, h)| *h);
            for (k, (c, _)) in first.into_iter().chain(rest).enumerate() {
                self.cands[start + k] = c;
            }
        }
    }

    /// The current configuration's next untried candidate, with its next
    /// state if already computed ([`UNTRIED`] if not, [`ILLEGAL`]).
    #[inline]
    fn next_candidate(&mut self) -> Option<(u32, u32)> {
        let level = self.levels.last_mut().expect("a configuration is entered before the loop");
        let c = *self.cands.get(level.next as usize)?;
        level.next += 1;
        Some(c)
    }

    /// Linearizes the operation of call entry `node` next, leading to state
    /// `next`, unless that configuration was reached before (then false).
    ///
    /// A configuration reached only along configurations that each had one
    /// possible next operation (a single call entry ahead of the first
    /// return, as while one client works alone) is reached by no other
    /// path: its set has a single order that respects real time. Such a
    /// step is *committed*: the configuration is not cached (it could never
    /// be found there), and the path below it is forgotten, since
    /// backtracking into it could only end the search (each of its
    /// configurations had one candidate, already taken): the new
    /// configuration becomes the root, and the states met so far are
    /// dropped now and then. So a long sequential history is searched in
    /// memory that follows its window of concurrent operations. (Only the
    /// first stretch of a search can be committed: after a configuration
    /// with two candidates, every descendant may be reached another way.)
    #[inline]
    fn push(&mut self, node: u32, next: u32) -> bool {
        let op = self.list.op(node);
        let h = self.set_hash ^ op_key(op as usize);
        let forced = self.unique == self.levels.len() && !self.list.is_call(self.list.next(self.list.first()));
        self.set.set(op as usize);
        if forced {
            debug_assert!(self.frames.is_empty() && self.levels.len() == 1);
            self.levels.clear();
            self.cands.clear();
        } else if !self.cache.insert(h ^ state_key(next), next, &self.set) {
            self.set.clear(op as usize);
            return false;
        } else {
            self.frames.push(Frame { node, state: self.state });
        }
        self.path.push(op);
        if let Some(r) = self.recorder.as_mut() {
            r.push();
        }
        self.set_hash = h;
        self.state = next;
        self.list.lift(node);
        if forced && self.states.len() >= COMPACT_STATES {
            self.state = self.states.keep_only(self.state);
        }
        true
    }

    /// Leaves the current configuration, which has no candidate left, and
    /// undoes the choice that led to it; false if there was none.
    fn backtrack(&mut self) -> bool {
        if let Some(r) = self.recorder.as_mut() {
            r.record(&self.path);
        }
        let level = self.levels.pop().expect("the current configuration");
        self.unique = self.unique.min(self.levels.len());
        self.cands.truncate(level.start as usize);
        let Some(top) = self.frames.pop() else {
            return false;
        };
        // Committed operations are the bottom of the path, without frames.
        let op = self.path.pop().expect("one operation per frame");
        if let Some(r) = self.recorder.as_mut() {
            r.pop();
        }
        self.set.clear(op as usize);
        self.set_hash ^= op_key(op as usize);
        self.state = top.state;
        self.list.unlift(top.node);
        true
    }

    fn finish(mut self, verdict: Verdict, order: &[u32]) -> Outcome {
        match self.recorder.take() {
            Some(mut r) => {
                if verdict == Verdict::Ok {
                    r.record(&self.path);
                }
                r.finish(verdict, order)
            }
            None => Outcome::bare(verdict),
        }
    }
}

/// The state's part of a cache entry's hash.
#[inline]
fn state_key(state: u32) -> u64 {
    mix64(u64::from(state) ^ 0x2545_f491_4f6c_dd1d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::kv::{KvInput, KvModel, KvOp, KvOperation, KvOutput, Value};
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Every real-time-respecting order, cut short at an illegal step.
    fn brute_force(h: &[KvOperation], done: &mut Vec<bool>, state: &Value) -> bool {
        let Some(first_return) = (0..h.len()).filter(|&i| !done[i]).map(|i| h[i].return_).min() else {
            return true;
        };
        (0..h.len()).any(|i| {
            if done[i] || h[i].call > first_return {
                return false;
            }
            let Some(next) = KvModel.step(state, &h[i].input, &h[i].output) else { return false };
            done[i] = true;
            let ok = brute_force(h, done, &next);
            done[i] = false;
            ok
        })
    }

    #[test]
    fn both_orders_agree_with_brute_force() {
        let mut rng = StdRng::seed_from_u64(11);
        let flag = AtomicBool::new(false);
        let decided = AtomicBool::new(false);
        let stop = Stop { flag: &flag, decided: &decided, deadline: None };
        for case in 0..3_000 {
            let n = rng.gen_range(1..=7);
            let h: Vec<KvOperation> = (0..n)
                .map(|_| {
                    let call = rng.gen_range(0..20);
                    let value = ["1", "2"].choose(&mut rng).unwrap().to_string();
                    let input = match rng.gen_range(0..3) {
                        0 => KvInput::get("k"),
                        1 => KvInput::put("k", value),
                        _ => KvInput::append("k", value),
                    };
                    let output = if input.op == KvOp::Get {
                        KvOutput::new(*["", "1", "2", "12", "21", "11"].choose(&mut rng).unwrap())
                    } else {
                        KvOutput::none()
                    };
                    KvOperation { client_id: 0, input, output, call, return_: call + rng.gen_range(0..10) }
                })
                .collect();
            let refs: Vec<&KvOperation> = h.iter().collect();
            let expected =
                if brute_force(&h, &mut vec![false; n], &Value::default()) { Verdict::Ok } else { Verdict::Illegal };
            for order in [Order::ByReturn, Order::ByCall] {
                for verbose in [false, true] {
                    let got = search(&KvModel, refs.clone(), verbose, order, &stop).verdict;
                    assert_eq!(got, expected, "case {case}, {order:?}, verbose {verbose}: {h:?}");
                }
            }
        }
    }

    #[test]
    fn a_raised_flag_stops_the_search() {
        let flag = AtomicBool::new(true);
        let decided = AtomicBool::new(false);
        let stop = Stop { flag: &flag, decided: &decided, deadline: None };
        // Enough concurrent appends for the search to outlast one stop check.
        let h: Vec<KvOperation> = (0..40)
            .map(|i| KvOperation {
                client_id: i,
                input: KvInput::append("k", i.to_string()),
                output: KvOutput::none(),
                call: 0,
                return_: 100,
            })
            .chain([KvOperation {
                client_id: 99,
                input: KvInput::get("k"),
                output: KvOutput::new("never"),
                call: 50,
                return_: 100,
            }])
            .collect();
        let refs: Vec<&KvOperation> = h.iter().collect();
        assert_eq!(search(&KvModel, refs.clone(), false, Order::ByReturn, &stop).verdict, Verdict::Stopped);
        flag.store(false, Ordering::Relaxed);
        decided.store(true, Ordering::Relaxed);
        assert_eq!(search(&KvModel, refs, false, Order::ByCall, &stop).verdict, Verdict::Stopped);
    }
}
