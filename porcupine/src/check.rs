//! The entry points: validate the history, partition it, search the
//! partitions in parallel, and combine their verdicts.

use crate::model::{events_to_operations, Event, Model, Operation};
use crate::search::{search, Order, Outcome, Verdict};
use crate::stop::{self, Stop, POLL_EVERY};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The verdict on a history.
///
/// There is deliberately no `is_ok()`: a caller must say what `Unknown`
/// means to it (the Lab 4 tester passes it with a note; a unit test may
/// fail on it).
#[must_use = "a linearizability verdict must be looked at (including Unknown)"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckResult {
    /// Linearizable: every partition has a linearization.
    Ok,
    /// Not linearizable: some partition has no linearization.
    Illegal,
    /// The time limit passed before a verdict (no partition was found
    /// illegal in time).
    Unknown,
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckResult::Ok => "linearizable",
            CheckResult::Illegal => "not linearizable",
            CheckResult::Unknown => "unknown (timed out)",
        })
    }
}

/// What the visualization needs, from the verbose checks: per partition,
/// its operations, its verdict, its longest partial linearizations and each
/// operation's longest one.
#[derive(Clone, Debug)]
pub struct LinearizationInfo<I, O> {
    partitions: Vec<PartitionInfo<I, O>>,
}

impl<I, O> LinearizationInfo<I, O> {
    /// The partitions, in the order the model's `partition` returned them.
    pub fn partitions(&self) -> &[PartitionInfo<I, O>] {
        &self.partitions
    }
}

/// One partition of a [`LinearizationInfo`].
#[derive(Clone, Debug)]
pub struct PartitionInfo<I, O> {
    operations: Vec<Operation<I, O>>,
    history_indices: Vec<usize>,
    result: CheckResult,
    partial_linearizations: Vec<Vec<usize>>,
    longest: Vec<Option<usize>>,
}

impl<I, O> PartitionInfo<I, O> {
    /// This partition's operations (copies), in the model's order; none
    /// for an undecided partition once the time limit has passed (copying
    /// them would overrun it), though [`Self::history_indices`] still lists
    /// them.
    pub fn operations(&self) -> &[Operation<I, O>] {
        &self.operations
    }

    /// For each of [`Self::operations`], its index in the checked history.
    pub fn history_indices(&self) -> &[usize] {
        &self.history_indices
    }

    /// This partition's own verdict: `Unknown` if its search was stopped
    /// (time limit, or another partition found illegal first) or never
    /// started.
    pub fn result(&self) -> CheckResult {
        self.result
    }

    /// The distinct partial linearizations recorded, longest first, as
    /// indices into [`Self::operations`] in linearization order. `Ok`: the
    /// one complete linearization. `Illegal`: at least one (possibly empty:
    /// no operation could go first). `Unknown`: none.
    pub fn partial_linearizations(&self) -> &[Vec<usize>] {
        &self.partial_linearizations
    }

    /// For each operation, the index in [`Self::partial_linearizations`] of
    /// the longest one that contains it; `None` if it was never linearized.
    pub fn longest(&self) -> &[Option<usize>] {
        &self.longest
    }
}

/// Checks whether `history` is linearizable with respect to `model`.
///
/// Each partition (see [`Model::partition`]) is searched on its own, on up
/// to as many threads as the machine has cores; the first partition found
/// illegal stops the others. `timeout`: `None` searches as long as it
/// takes; `Some(t)` gives up after `t` with [`CheckResult::Unknown`] (unless
/// a partition was found illegal by then); `Some(Duration::ZERO)` does not
/// search at all, so it gives `Unknown` for any non-empty history (an empty
/// history is `Ok`).
///
/// # Panics
/// If an operation returns before its call, or if the model's partition
/// does not put every operation in exactly one non-empty group; the message
/// names the operation or group. A panic in the model is passed on.
pub fn check_operations<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    run(model, history, timeout, false).0
}

/// [`check_operations`], also returning what [`crate::visualize`] draws.
/// Every partition is searched to its end (an illegal one does not stop the
/// others), within the time limit.
pub fn check_operations_verbose<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    run(model, history, timeout, true)
}

/// [`check_operations`] on a history of call and return events in the
/// order they happened (see [`events_to_operations`], whose panics it
/// shares).
pub fn check_events<M: Model>(
    model: &M,
    history: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    check_operations(model, &events_to_operations(history), timeout)
}

/// [`check_operations_verbose`] on an event history; the operations in the
/// info have the events' positions as their times.
pub fn check_events_verbose<M: Model>(
    model: &M,
    history: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    check_operations_verbose(model, &events_to_operations(history), timeout)
}

fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
    verbose: bool,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    let deadline = timeout.map(|t| Instant::now() + t);
    validate_times(model, history);
    let groups = model.partition(history);
    validate_partition(model, history, &groups);

    let mut outcomes: Vec<Option<Decided<M::Input, M::Output>>> = groups.iter().map(|_| None).collect();
    if timeout != Some(Duration::ZERO) {
        search_all(model, history, &groups, verbose, deadline, &mut outcomes);
    }

    let verdicts: Vec<CheckResult> = outcomes
        .iter()
        .map(|o| match o.as_ref().map(|(o, _)| o.verdict) {
            Some(Verdict::Ok) => CheckResult::Ok,
            Some(Verdict::Illegal) => CheckResult::Illegal,
            Some(Verdict::Stopped) | None => CheckResult::Unknown,
        })
        .collect();
    let result = if verdicts.contains(&CheckResult::Illegal) {
        CheckResult::Illegal
    } else if verdicts.contains(&CheckResult::Unknown) {
        CheckResult::Unknown
    } else {
        CheckResult::Ok
    };

    let partitions = if verbose {
        // Copying a partition's operations takes time (about 10 ns each): a
        // decided partition's were copied by its search's thread (the
        // picture needs them), an undecided one's are copied only while the
        // time limit allows.
        let out_of_time = || deadline.is_some_and(|d| Instant::now() >= d);
        groups
            .into_iter()
            .zip(outcomes)
            .zip(verdicts)
            .map(|((indices, decided), result)| {
                let (partial_linearizations, longest, operations) = match decided {
                    Some((o, ops)) => (o.partials, o.longest, ops),
                    None => {
                        let mut ops = Vec::new();
                        for chunk in indices.chunks(POLL_EVERY) {
                            if out_of_time() {
                                ops = Vec::new();
                                break;
                            }
                            ops.extend(chunk.iter().map(|&i| history[i].clone()));
                        }
                        (Vec::new(), vec![None; indices.len()], ops)
                    }
                };
                PartitionInfo { operations, history_indices: indices, result, partial_linearizations, longest }
            })
            .collect()
    } else {
        Vec::new()
    };
    (result, LinearizationInfo { partitions })
}

/// A decided partition: its search's outcome and (verbose only) a copy of
/// its operations.
type Decided<I, O> = (Outcome, Vec<Operation<I, O>>);

/// Where a search leaves its partition's [`Decided`].
type Slot<M> = Mutex<Option<Decided<<M as Model>::Input, <M as Model>::Output>>>;

/// How long a partition's first search runs before an idle core races it:
/// most partitions are decided sooner, and a race costs a second copy of
/// the search's memory.
const RACE_AFTER: Duration = Duration::from_millis(10);

/// A partition's race, in `search_all`'s `searches`: no search yet, one,
/// raced (two), or never to be raced.
const NOT_STARTED: usize = 0;
const ONE_SEARCH: usize = 1;
const RACED: usize = 2;
const NO_RACE: usize = 3;

/// Searches the partitions on this thread and up to cores - 1 more, each
/// taking the next unsearched partition, until all are decided or the stop
/// flag goes up (time limit, or, when not verbose, an illegal partition).
///
/// A worker with no partition left to start races a partition still being
/// searched after [`RACE_AFTER`], with the other candidate order
/// ([`Order::ByCall`]): the two orders are exact, and on a hard history one
/// is often far faster than the other, with no way to tell which
/// beforehand. The first verdict decides the partition and stops the other
/// search. So a hard history of one partition uses two cores, and a
/// partitioned one spends its idle cores on the partitions still running at
/// the end. A partition whose operations return in the order they were
/// called (one client's, say) is not raced: both orders are the same there.
fn search_all<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    groups: &[Vec<usize>],
    verbose: bool,
    deadline: Option<Instant>,
    outcomes: &mut [Option<Decided<M::Input, M::Output>>],
) {
    let flag = AtomicBool::new(false);
    let decided: Vec<AtomicBool> = groups.iter().map(|_| AtomicBool::new(false)).collect();
    let searches: Vec<AtomicUsize> = groups.iter().map(|_| AtomicUsize::new(NOT_STARTED)).collect();
    let started: Vec<OnceLock<Instant>> = groups.iter().map(|_| OnceLock::new()).collect();
    let results: Vec<Slot<M>> = groups.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // The partition to race now, or whether one may become worth racing.
    let pick_race = || {
        let mut wait = false;
        for h in 0..groups.len() {
            if decided[h].load(Ordering::Relaxed) || searches[h].load(Ordering::Relaxed) != ONE_SEARCH {
                continue;
            }
            if started[h].get().is_none_or(|t| t.elapsed() < RACE_AFTER) {
                wait = true;
                continue;
            }
            let stop = Stop { flag: &flag, decided: &decided[h], deadline };
            let race = if orders_differ(history, &groups[h], &stop) { RACED } else { NO_RACE };
            if searches[h].compare_exchange(ONE_SEARCH, race, Ordering::Relaxed, Ordering::Relaxed).is_ok()
                && race == RACED
            {
                return Ok(h);
            }
        }
        Err(wait)
    };
    let work = || loop {
        let g = next.fetch_add(1, Ordering::Relaxed);
        let (g, order) = if g < groups.len() {
            let _ = started[g].set(Instant::now());
            searches[g].store(ONE_SEARCH, Ordering::Relaxed);
            (g, Order::ByReturn)
        } else {
            match pick_race() {
                Ok(h) => (h, Order::ByCall),
                Err(true) => {
                    if flag.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(false) => return,
            }
        };
        let stop = Stop { flag: &flag, decided: &decided[g], deadline };
        if stop.now() {
            if flag.load(Ordering::Relaxed) {
                return;
            }
            continue;
        }
        let ops: Vec<&Operation<M::Input, M::Output>> = groups[g].iter().map(|&i| &history[i]).collect();
        let outcome = search(model, ops, verbose, order, &stop);
        if outcome.verdict != Verdict::Stopped && !decided[g].swap(true, Ordering::Relaxed) {
            if outcome.verdict == Verdict::Illegal && !verbose {
                flag.store(true, Ordering::Relaxed);
            }
            // The verbose info's copy of the operations, made here: this
            // thread's memory, just freed by the search, takes it.
            let ops = if verbose { groups[g].iter().map(|&i| history[i].clone()).collect() } else { Vec::new() };
            *results[g].lock().unwrap_or_else(|e| e.into_inner()) = Some((outcome, ops));
        }
    };
    let worker = || {
        // A panic in the model stops the other searches, so that it reaches
        // the caller at once.
        let _stop_others = RaiseOnPanic(&flag);
        work()
    };
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    thread::scope(|s| {
        let handles: Vec<_> = (1..cores).map(|_| s.spawn(worker)).collect();
        worker();
        for h in handles {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    for (slot, result) in outcomes.iter_mut().zip(results) {
        *slot = result.into_inner().unwrap_or_else(|e| e.into_inner());
    }
}

/// Whether ordering `group`'s operations by call differs from ordering them
/// by return (the two candidate orders of the search; ties are broken
/// alike): some operation called later returned earlier. False if stopped
/// before knowing.
fn orders_differ<I, O>(history: &[Operation<I, O>], group: &[usize], stop: &Stop) -> bool {
    let mut times: Vec<(i64, i64)> = group.iter().map(|&i| (history[i].call, history[i].return_)).collect();
    stop::sort(&mut times, stop) && times.windows(2).any(|w| w[1].1 < w[0].1)
}

/// Raises the flag if dropped while its thread panics.
struct RaiseOnPanic<'a>(&'a AtomicBool);

impl Drop for RaiseOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

fn validate_times<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) {
    for (i, op) in history.iter().enumerate() {
        assert!(
            op.return_ >= op.call,
            "porcupine: operation {i} (client {}, {}) returns at {} ns, before its call at {} ns",
            op.client_id,
            model.describe_operation(&op.input, &op.output),
            op.return_,
            op.call
        );
    }
}

fn validate_partition<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>], groups: &[Vec<usize>]) {
    let mut group_of = vec![usize::MAX; history.len()];
    for (g, group) in groups.iter().enumerate() {
        assert!(!group.is_empty(), "porcupine: Model::partition returned an empty group (group {g})");
        for &i in group {
            assert!(
                i < history.len(),
                "porcupine: Model::partition put index {i} in group {g}, but the history has {} operations",
                history.len()
            );
            assert!(
                group_of[i] == usize::MAX,
                "porcupine: Model::partition put operation {i} in group {} and again in group {g}",
                group_of[i]
            );
            group_of[i] = g;
        }
    }
    if let Some(i) = group_of.iter().position(|&g| g == usize::MAX) {
        panic!(
            "porcupine: Model::partition left operation {i} (client {}, {}) out of every group",
            history[i].client_id,
            model.describe_operation(&history[i].input, &history[i].output)
        );
    }
}
