//! The Clerk: the client of the key/value service.

use crate::common::{GetArgs, GetReply, KvErr, OpId, PutAppendArgs, PutAppendReply, PutOrAppend};
use labrpc::ClientEnd;

/// A client of the service. Its methods take `&mut self`: a Clerk has one
/// call outstanding at a time.
pub struct Clerk {
    servers: Vec<ClientEnd>,
    // You will have to modify this struct.
}

/// A random 62-bit number, e.g. for a Clerk's id.
pub fn nrand() -> u64 {
    rand::random::<u64>() >> 2
}

impl Clerk {
    /// A Clerk talking to `servers`: one end per server, in an order of
    /// the tester's choosing (not the servers' own numbering).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        // You'll have to add code here.
        Clerk { servers }
    }

    /// Fetches the current value for a key. Returns `""` if the key does
    /// not exist. Keeps trying forever in the face of all other errors.
    ///
    /// You can send an RPC with code like this:
    /// `self.servers[i].call::<GetArgs, GetReply>("KVServer.Get", &args)`.
    /// The reply comes back typed: the argument and reply types must be
    /// the ones the handler takes and returns (see `KvServer::service`).
    /// `Err(RpcError::Failed)` means no reply came: the server is down or
    /// cut off, or the request or the reply was lost. `Err(RpcError::Bad)`
    /// is a programming error (a wrong method name or type) and ends the
    /// test.
    pub fn get(&mut self, key: &str) -> String {
        // You will have to modify this function.
        let args = GetArgs { key: key.to_string(), id: OpId::default() };
        match self.servers[0].call::<GetArgs, GetReply>("KVServer.Get", &args) {
            Ok(reply) if reply.err == KvErr::Ok => reply.value,
            _ => String::new(),
        }
    }

    /// Shared by Put and Append. Keeps trying until the operation is done,
    /// and makes sure it is done once.
    ///
    /// You can send an RPC with code like this:
    /// `self.servers[i].call::<PutAppendArgs, PutAppendReply>("KVServer.PutAppend", &args)`.
    /// The argument and reply types must be the handler's.
    pub fn put_append(&mut self, key: &str, value: &str, op: PutOrAppend) {
        // You will have to modify this function.
        let args = PutAppendArgs { key: key.to_string(), value: value.to_string(), op, id: OpId::default() };
        let _ = self.servers[0].call::<PutAppendArgs, PutAppendReply>("KVServer.PutAppend", &args);
    }

    /// Replaces the value of `key`.
    pub fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Put);
    }

    /// Appends `value` to the value of `key`.
    pub fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Append);
    }
}
