//! `labrpc`: the Raft lab's simulated network, a port of the course's
//! `labrpc.go`.
//!
//! Peers live in one process but talk only through this network. Everything
//! that crosses it is serialized with [`labgob`], so no reference can be
//! shared. The network can lose, delay and reorder messages the way the
//! course's tests need.
//!
//! # API
//! - [`Network::new`] (seed from `LABRPC_SEED`, else random) or
//!   [`Network::with_seed`]; [`Network::seed`].
//! - [`Network::make_end`] makes a named [`ClientEnd`] (a name may be made
//!   only once); [`Network::delete_end`].
//! - [`Network::add_server`] / [`Network::delete_server`] name a [`Server`],
//!   which holds [`Service`]s (e.g. `"Raft"`), each with typed methods
//!   ([`Service::method`]).
//! - [`Network::connect`] connects an end to a server name (once in the
//!   end's life); [`Network::enable`] switches an end on or off. An end
//!   starts disabled.
//! - [`Network::reliable`], [`Network::long_delays`],
//!   [`Network::long_reordering`].
//! - [`Network::hold`] holds back the requests sent on one end (all, or
//!   those of some methods) until [`Network::release`] delivers them, one
//!   after another, oldest or newest first ([`Release`]);
//!   [`Network::release_one`] delivers one and keeps holding;
//!   [`Network::held`] lists what waits. Not in the course's labrpc: the
//!   Raft safety suite uses it to deliver an old message after newer ones,
//!   or a vote request at a chosen moment.
//! - [`Network::count`] (RPCs a server received), [`Network::total_count`]
//!   (calls sent), [`Network::total_bytes`] (argument bytes on send, reply
//!   bytes on delivery).
//! - [`ClientEnd::call`] blocks for the reply; [`ClientEnd::call_with`] sends
//!   without blocking and runs a callback with the reply. Both name the method
//!   as `"Service.Method"`, e.g. `"Raft.AppendEntries"`.
//! - [`Network::cleanup`] (also on drop) stops the network's threads and
//!   fails every call in flight.
//!
//! # What happens to one request
//! 1. If the end is disabled, unconnected or its server deleted, there is no
//!    reply: the call fails after 0..7000 ms with long delays on, else
//!    0..100 ms.
//! 2. Unreliable network: a delay of 0..26 ms, then the request is lost with
//!    probability 10% (the call fails).
//! 3. The handler runs. Every 100 ms while it runs, and once more after it
//!    returns, the network checks whether the end was disabled or the server
//!    deleted (or replaced); if so the call fails and the handler's result is
//!    thrown away. A crashed server therefore never replies.
//! 4. Unreliable: the reply is lost with probability 10%.
//! 5. Long reordering: with probability 600/900 the reply is held back
//!    200 + r ms, r uniform in 0..=(uniform in 0..2000).
//! 6. Otherwise the reply is delivered at once.
//!
//! A request sent on a held end (and of a held method) waits before step 1.
//! Released, it goes through steps 1 and 3 to 6 on the releasing thread's
//! job, without step 1's and step 2's delays; step 2's loss still applies.
//! [`Network::cleanup`] fails the requests still held.
//!
//! A call always returns eventually unless its handler never returns (or
//! it is held and never released before the network is cleaned up).
//!
//! # Errors
//! [`RpcError::Failed`] is the lab's `ok == false`: the message or its reply
//! was lost, or the server is unreachable. [`RpcError::Bad`] is a programming
//! error and is also printed: an unknown service or method (the message lists
//! the names that exist), arguments or a reply that do not decode as the
//! handler's or caller's type, or a handler that panicked. A reply callback
//! that panics is reported the same way. [`Network::errors`] lists them, and
//! [`Network::on_error`] hands each to a test harness the moment it happens,
//! so the test fails there and then.
//!
//! # Threads
//! One timer thread holds every delayed action in a heap, and a worker pool
//! sized to the number of handlers running at once runs handlers and
//! callbacks. A run with 10^5 delayed messages stays at a handful of threads.
//!
//! # Replaying a run
//! [`peer_rng`] gives each peer a random stream of its own derived from the
//! same `LABRPC_SEED`: a Raft that draws its election timeouts from it is
//! replayed along with the network by the seed a failing test prints.
//!
//! All random decisions of the network come from the network's seed: each end draws from its
//! own stream, derived from the seed and the end's name. Dropping a network
//! while the thread is panicking (a failed test) prints the seed; run again
//! with `LABRPC_SEED=<seed>` to replay the same per-end decisions. Decisions
//! then repeat exactly for an end that sends the same sequence of requests;
//! when thread timing changes what a peer sends, the run diverges from there.
//!
//! ```
//! use labrpc::{Network, Server, Service};
//! let net = Network::with_seed(1);
//! let mut server = Server::new();
//! server.add_service(Service::new("Echo").method("Double", |x: u64| x * 2));
//! net.add_server("s", server);
//! let end = net.make_end("client->s");
//! net.connect("client->s", "s");
//! net.enable("client->s", true);
//! assert_eq!(end.call::<u64, u64>("Echo.Double", &21), Ok(42));
//! assert_eq!(net.count("s"), 1);
//! ```

mod end;
mod errors;
mod executor;
#[cfg(all(test, loom))]
mod loom_tests;
mod network;
mod registry;
mod seed;
mod server;

pub use end::ClientEnd;
pub use executor::ExecutorStats;
pub use network::{Network, Release};
pub use seed::{env_seed, peer_rng, SEED_VAR};
pub use server::{Server, Service};

/// Synchronization primitives: std's, or loom's when model checking.
pub(crate) mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

/// Why a call produced no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// No reply: the request or the reply was lost, the end is disabled or
    /// unconnected, or the server is gone. The lab's `ok == false`; retrying
    /// is the caller's business.
    Failed,
    /// A programming error, never a network condition: unknown service or
    /// method, undecodable arguments or reply, or a panicking handler. The
    /// message says which.
    Bad(String),
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcError::Failed => f.write_str("labrpc: no reply"),
            RpcError::Bad(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for RpcError {}
