//! What clerks and servers say to each other (the course's `common.go`):
//! the RPC arguments and replies of `KVServer.Get` and `KVServer.PutAppend`,
//! and their error values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The outcome of an RPC (the course's `Err` string: `OK`, `ErrNoKey`,
/// `ErrWrongLeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvErr {
    /// `OK`: done.
    Ok,
    /// `ErrNoKey`: a Get of a key that was never written (the Clerk
    /// returns `""`).
    NoKey,
    /// `ErrWrongLeader`: this server cannot serve the request now (not the
    /// leader, or it lost leadership before the operation committed); try
    /// another.
    WrongLeader,
}

impl fmt::Display for KvErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvErr::Ok => "OK",
            KvErr::NoKey => "ErrNoKey",
            KvErr::WrongLeader => "ErrWrongLeader",
        })
    }
}

/// Which write a `PutAppend` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOrAppend {
    /// Replace the key's value.
    Put,
    /// Append to the key's value (a missing key counts as `""`).
    Append,
}

/// Who sent an operation, and its place in that client's sequence: every
/// operation of one Clerk has a larger `seq` than the one before, so a
/// server runs each Put/Append once however often it is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpId {
    /// The Clerk's random 62-bit id.
    pub client_id: u64,
    /// 1, 2, 3, ... per Clerk.
    pub seq: u64,
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "C{:04x}#{}", self.client_id & 0xffff, self.seq)
    }
}

/// `KVServer.PutAppend` arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub op: PutOrAppend,
    pub id: OpId,
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
}

/// `KVServer.Get` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub err: KvErr,
    pub value: String,
}
