//! What clerks and servers say to each other: the RPC arguments and
//! replies of `KVServer.Get` and `KVServer.PutAppend`, and their error
//! values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The outcome of an RPC (the course's `Err`: `OK`, `ErrNoKey`,
/// `ErrWrongLeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvErr {
    /// `OK`.
    Ok,
    /// `ErrNoKey`: a Get of a key that was never written.
    NoKey,
    /// `ErrWrongLeader`: this server cannot serve the request; the Clerk
    /// should try another.
    WrongLeader,
}

impl fmt::Display for KvErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Ok => "OK",
            Self::NoKey => "ErrNoKey",
            Self::WrongLeader => "ErrWrongLeader",
        };
        f.write_str(name)
    }
}

/// Which write a `PutAppend` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOrAppend {
    /// Replace the key's value.
    Put,
    /// Add to the end of the value (a key never written has value `""`).
    Append,
}

/// Which operation a request is. A server must run each Put/Append once,
/// even when a Clerk sends it again (its reply was lost, or the leader it
/// asked lost leadership), so it needs to recognise a request it has seen.
/// A client id (see [`crate::nrand`]) and a sequence number per Clerk are
/// one way; change this as you like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpId {
    pub client_id: u64,
    pub seq: u64,
}

/// `KVServer.PutAppend` arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub op: PutOrAppend,
    pub id: OpId,
    // You'll have to add definitions here.
}

/// `KVServer.PutAppend` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub err: KvErr,
}

/// `KVServer.Get` arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    pub id: OpId,
    // You'll have to add definitions here.
}

/// `KVServer.Get` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub err: KvErr,
    pub value: String,
}
