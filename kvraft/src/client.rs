//! The Clerk: a client of the service. Each call retries until it succeeds,
//! starting with the server that answered last.

use crate::common::{GetArgs, GetReply, KvErr, OpId, PutAppendArgs, PutAppendReply, PutOrAppend};
use labrpc::{ClientEnd, RpcError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::thread;
use std::time::Duration;

/// Pause after asking every server once without success (an election is
/// probably under way), so that a clerk does not flood the network.
const ROUND_PAUSE: Duration = Duration::from_millis(20);

/// A random 62-bit number (the course's `nrand`), for client ids.
pub fn nrand() -> u64 {
    rand::random::<u64>() >> 2
}

/// A client of the key/value service (the course's `Clerk`). Its methods
/// take `&mut self`: one call outstanding at a time, as the service
/// assumes.
pub struct Clerk {
    servers: Vec<ClientEnd>,
    /// The server that answered last: tried first.
    leader: usize,
    client_id: u64,
    /// The sequence number of the last call made.
    seq: u64,
}

impl Clerk {
    /// A clerk talking to `servers` (one end per server, in any order).
    ///
    /// # Panics
    /// If `servers` is empty.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        assert!(!servers.is_empty(), "kvraft: a Clerk needs at least one server");
        Clerk { servers, leader: 0, client_id: nrand(), seq: 0 }
    }

    /// The clerk's id, as servers see it.
    pub fn id(&self) -> u64 {
        self.client_id
    }

    fn next_id(&mut self) -> OpId {
        self.seq += 1;
        OpId { client_id: self.client_id, seq: self.seq }
    }

    /// The value of `key`, `""` if it was never written. Keeps trying
    /// forever in the face of every other error.
    pub fn get(&mut self, key: &str) -> String {
        let args = GetArgs { key: key.to_string(), id: self.next_id() };
        let reply: GetReply = self.call("KVServer.Get", &args, |r: &GetReply| r.err);
        reply.value
    }

    /// `Put(key, value)` or `Append(key, value)`; runs exactly once.
    pub fn put_append(&mut self, key: &str, value: &str, op: PutOrAppend) {
        let args = PutAppendArgs { key: key.to_string(), value: value.to_string(), op, id: self.next_id() };
        let _: PutAppendReply = self.call("KVServer.PutAppend", &args, |r: &PutAppendReply| r.err);
    }

    /// Replaces `key`'s value.
    pub fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Put)
    }

    /// Appends `value` to `key`'s value.
    pub fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Append)
    }

    /// Sends `args` until a server answers with anything but
    /// `ErrWrongLeader`: the last leader first, then each server in turn.
    fn call<A: Serialize, R: DeserializeOwned + Send + 'static>(
        &mut self,
        meth: &str,
        args: &A,
        err: impl Fn(&R) -> KvErr,
    ) -> R {
        let n = self.servers.len();
        let mut tried = 0;
        loop {
            match self.servers[self.leader].call::<A, R>(meth, args) {
                Ok(reply) if err(&reply) != KvErr::WrongLeader => return reply,
                Ok(_) | Err(RpcError::Failed) => {}
                Err(RpcError::Bad(msg)) => panic!("kvraft clerk: {meth}: {msg}"),
            }
            self.leader = (self.leader + 1) % n;
            tried += 1;
            if tried % n == 0 {
                thread::sleep(ROUND_PAUSE);
            }
        }
    }
}
