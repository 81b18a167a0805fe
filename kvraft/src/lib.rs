//! Lab 4: a fault-tolerant key/value service on the Raft of Lab 3 (the
//! course's `kvraft`).
//!
//! Clients ([`Clerk`]) `get`, `put` and `append` string values under string
//! keys. Every call is linearizable, and every Put/Append runs exactly once,
//! even when retried across leaders and terms.
//!
//! # API (the course's, in Rust naming)
//! - [`Clerk::new`]`(servers)`; [`Clerk::get`]`(key) -> String` (`""` for a
//!   missing key), [`Clerk::put`]`(key, value)`,
//!   [`Clerk::append`]`(key, value)`. Each retries until it succeeds.
//! - [`KvServer::start`]`(servers, me, persister, maxraftstate)`
//!   (`StartKVServer`) returns at once; [`KvServer::kill`];
//!   [`KvServer::raft`] is its Raft peer; [`KvServer::service`] is the
//!   labrpc service `"KVServer"` with methods `Get` and `PutAppend`
//!   ([`GetArgs`] → [`GetReply`], [`PutAppendArgs`] → [`PutAppendReply`],
//!   errors [`KvErr`]: `OK`, `ErrNoKey`, `ErrWrongLeader`).
//!
//! # Layout
//! - [`store`]: the state machine, plain code over plain data: the map,
//!   the duplicate table (one sequence number per client), applying one
//!   operation, the snapshot. Unit-tested on its own.
//! - `server.rs`: the thin shell: handlers that start an operation in Raft
//!   and wait on a channel for it to be applied (or for the term to
//!   change), an applier thread, snapshots when Raft's state nears
//!   `maxraftstate`.
//! - `client.rs`: the Clerk.
//!
//! # How an operation runs
//! A handler calls `Raft::start` and waits for the applier to apply the
//! operation at the index `start` returned. If another operation shows up
//! at that index, a snapshot covers it, or this peer's term changes or it
//! stops leading, the handler answers `ErrWrongLeader` and the Clerk tries
//! the next server. Gets go through the log too, so no server answers from
//! a stale state. The Clerk numbers its calls; a server that already
//! applied a client's call number skips it.
//!
//! Events are logged through `lablog` (topics `SERV`, `SNAP`; see
//! `RAFT_LOG`), in the same stream as Raft's.

mod client;
mod common;
mod server;
pub mod store;

pub use client::{nrand, Clerk};
pub use common::{GetArgs, GetReply, KvErr, OpId, PutAppendArgs, PutAppendReply, PutOrAppend};
pub use server::{KvServer, StartError};
