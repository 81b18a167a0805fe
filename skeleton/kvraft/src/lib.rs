//! Your key/value service (Lab 4): a fault-tolerant, linearizable
//! key/value store replicated with your Raft.
//!
//! Three files, as in the course's skeleton:
//! - `common.rs`: what clerks and servers say to each other: the
//!   arguments and replies of the RPCs `KVServer.Get` and
//!   `KVServer.PutAppend`, and their error values.
//! - `client.rs`: the [`Clerk`], the client the tester's clients use.
//! - `server.rs`: the [`KvServer`], one per Raft peer.
//!
//! The tester uses this API: [`Clerk::new`], [`Clerk::get`],
//! [`Clerk::put`], [`Clerk::append`]; [`KvServer::start`] (the course's
//! `StartKVServer`), [`KvServer::kill`], [`KvServer::raft`] (the tester
//! registers your Raft's service beside the server's and asks it
//! `get_state`) and [`KvServer::service`]. Keep their signatures.
//!
//! 4A: every call is linearizable, and every Put/Append runs exactly
//! once, however often a Clerk retries it. 4B: snapshots, so that Raft's
//! persisted state stays below `maxraftstate` bytes.

mod client;
mod common;
mod server;

pub use client::{nrand, Clerk};
pub use common::{GetArgs, GetReply, KvErr, OpId, PutAppendArgs, PutAppendReply, PutOrAppend};
pub use server::{KvServer, StartError};
