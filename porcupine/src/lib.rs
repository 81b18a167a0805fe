//! `porcupine`: a linearizability checker, after the course's porcupine and
//! its `models/kv.go`, with an HTML timeline of failures. A model and a
//! history in, a verdict out; it knows nothing of Raft or the network.
//!
//! # API
//! - [`Model`]: the object's sequential specification, generic over input,
//!   output and state: `partition` (default: one group), `init`, `step`
//!   (legal? next state), and `describe_operation` / `describe_state` for
//!   the picture. States are compared with `Eq` and hashed with `Hash`.
//! - A history is a slice of [`Operation`]`{ client_id, input, output,
//!   call, return_ }` (times in ns, `i64`; [`now_ns`] is a process-wide
//!   monotonic clock for them), or of call/return [`Event`]s in the order
//!   they happened ([`events_to_operations`] converts).
//! - [`check_operations`]`(model, history, timeout) -> `[`CheckResult`]:
//!   `Ok`, `Illegal` or `Unknown` (time limit reached). There is no
//!   `is_ok()`: match on it, so that `Unknown` is never taken for `Ok` by
//!   accident. `timeout`: `None` = no limit; `Some(Duration::ZERO)` = no
//!   search at all (`Unknown` for any non-empty history, `Ok` for an empty
//!   one). [`check_events`] takes events.
//! - [`check_operations_verbose`] / [`check_events_verbose`] also return a
//!   [`LinearizationInfo`]: per partition, its operations, its verdict, its
//!   distinct longest partial linearizations and each operation's longest
//!   one. [`visualize`]`(model, &info, writer)` writes the timeline page;
//!   [`visualize_to_temp_file`] writes it to a new `*.html` file in the
//!   temporary directory and returns the path (or a [`VisualizeError`]
//!   whose message is the tester's).
//! - [`models::kv`]: the Lab 4 key/value model ([`models::kv::KvModel`],
//!   partitioned by key) and its one-partition variant. Values are
//!   [`models::kv::Value`]s: up to 14 bytes held in place, longer ones as
//!   length and two polynomial hashes computed once (O(1) to clone, compare
//!   and append to), text shared; a tester logs the
//!   values its clients read through a [`models::kv::ValueStore`], which
//!   shares the bytes of a growing key's successive reads.
//!
//! ```
//! use porcupine::models::kv::{KvInput, KvModel, KvOperation, KvOutput};
//! use porcupine::{check_operations_verbose, visualize, CheckResult};
//! use std::time::Duration;
//! // Client 1 reads "b" after client 0's put of "a" returned: not linearizable.
//! let history = vec![
//!     KvOperation { client_id: 0, input: KvInput::put("k", "a"), output: KvOutput::none(), call: 0, return_: 10 },
//!     KvOperation { client_id: 1, input: KvInput::get("k"), output: KvOutput::new("b"), call: 20, return_: 30 },
//! ];
//! let (result, info) = check_operations_verbose(&KvModel, &history, Some(Duration::from_secs(1)));
//! match result {
//!     CheckResult::Illegal => {
//!         let mut page = Vec::new();
//!         visualize(&KvModel, &info, &mut page).unwrap();
//!         assert!(String::from_utf8(page).unwrap().contains("<title>Porcupine</title>"));
//!     }
//!     CheckResult::Ok | CheckResult::Unknown => unreachable!(),
//! }
//! ```
//!
//! # Errors
//! A history whose operation returns before its call, a partition that
//! leaves an operation out, repeats one or holds an empty group, and an
//! event history with an unmatched call or return are programming errors:
//! the check panics with a message naming the operation, group or event.
//!
//! # Time limit
//! Every phase polls the stop flag at least every 16,384 items of work: the
//! searches, their setup (sorts that can stop, and the passes between
//! them), the race's bookkeeping, and the verbose info (an undecided
//! partition's operations are copied only while time remains). What runs to
//! its end: the validation of the history (one linear pass) and the model's
//! own [`Model::partition`] (`KvModel`'s hashes each key once, a few ns per
//! operation with shared keys). A 2-million-operation history given 100 ms
//! returns within ~25 ms more; a hard one-partition search within ~10 ms.
//!
//! # Algorithm
//! Wing and Gong's search with Lowe's memoization, per partition
//! (P-compositionality): a history is linearizable iff each partition is.
//! Partitions are searched in parallel on std threads sharing a stop flag;
//! in the non-verbose checks an illegal partition stops the others. A core
//! left idle races a partition that has run 10 ms and is still running with
//! the other candidate order (unless the two orders coincide, as for one
//! client's operations); the first verdict decides it.
//! - `entries`: the call/return entries as a doubly linked list in vectors.
//! - `search`: the depth-first search. Candidates are tried in order of
//!   their return, and a legal read-only candidate ([`Model::is_read_only`])
//!   is taken without alternatives; neither changes a verdict (see the
//!   module's notes).
//! - `cache`: the (linearized set, state) pairs reached, stored densely
//!   behind an open-addressing index; the set is hashed incrementally (XOR
//!   of random per-operation keys) and stored in a canonical short form
//!   (`bitset`: the count of leading all-ones words and the words after
//!   them, so an entry's size follows the window of concurrent operations).
//!   A configuration reachable along one path only (while each one before
//!   it had a single possible next operation, as in one client's stretch)
//!   is not cached, and its step is committed: the path below it is
//!   forgotten, so a long sequential history is searched in memory that
//!   follows its window, not its length.
//! - `states`: each distinct model state is stored once and named by an id,
//!   so the cache holds ids and the search never clones a state.
//! - `record`: the verbose mode's record of each operation's longest
//!   partial linearization, as paths in a shared tree (each operation holds
//!   the index of a distinct one, not a copy).
//! - `stop`: the stop flag, the deadline, and the sort that polls them.

mod bitset;
mod cache;
mod check;
mod entries;
mod hash;
mod model;
pub mod models;
mod record;
mod search;
mod states;
mod stop;
mod visualize;

pub use check::{
    check_events, check_events_verbose, check_operations, check_operations_verbose, CheckResult, LinearizationInfo,
    PartitionInfo,
};
pub use model::{events_to_operations, Event, EventKind, Model, Operation};
pub use visualize::{visualize, visualize_to_temp_file, VisualizeError};

use std::sync::OnceLock;
use std::time::Instant;

/// Nanoseconds since a process-wide start instant (fixed by the first call),
/// on the monotonic clock: the times of a history's [`Operation`]s.
pub fn now_ns() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let ns = START.get_or_init(Instant::now).elapsed().as_nanos();
    i64::try_from(ns).expect("292 years of uptime")
}
