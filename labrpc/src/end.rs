//! Client ends: the caller's side of the network.

use crate::network::Shared;
use crate::RpcError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{mpsc, Arc, Weak};

/// A client's end-point: the only way to send an RPC. Cheap to clone; all
/// clones are the same end.
#[derive(Clone)]
pub struct ClientEnd {
    pub(crate) name: Arc<str>,
    pub(crate) net: Weak<Shared>,
}

impl std::fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientEnd({})", self.name)
    }
}

impl ClientEnd {
    /// An end on no network: every call on it fails at once, on the
    /// calling thread. For single-peer clusters and model checking, where a
    /// peer needs an end for itself but never sends.
    pub fn detached(name: &str) -> ClientEnd {
        ClientEnd { name: Arc::from(name), net: Weak::new() }
    }

    /// The end's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends `args` to `svc_meth` (e.g. `"Raft.AppendEntries"`) and blocks
    /// until a reply or a failure. Every call returns eventually unless the
    /// handler itself never returns.
    pub fn call<A, R>(&self, svc_meth: &str, args: &A) -> Result<R, RpcError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.call_with(svc_meth, args, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(RpcError::Failed))
    }

    /// Sends `args` to `svc_meth` without blocking; `on_reply` runs once, on
    /// one of the network's threads, with the reply or the failure. This is
    /// the thread-free way to have many calls in flight (the Go lab's
    /// `go rf.sendX(...)`). Keep `on_reply` short: it runs on the network.
    ///
    /// `on_reply` never runs on the calling thread, except once the network
    /// has been cleaned up (every call then fails at once).
    pub fn call_with<A, R, F>(&self, svc_meth: &str, args: &A, on_reply: F)
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
        F: FnOnce(Result<R, RpcError>) + Send + 'static,
    {
        let bytes = labgob::encode(args);
        let meth: Arc<str> = Arc::from(svc_meth);
        let decode_meth = Arc::clone(&meth);
        let net = Weak::clone(&self.net);
        let done = Completion::new(move |r: Result<Vec<u8>, RpcError>| {
            on_reply(r.and_then(|b| {
                labgob::decode::<R>(&b).map_err(|e| {
                    let msg = format!("labrpc: the reply of {decode_meth} does not decode as the caller's type: {e}");
                    if let Some(net) = net.upgrade() {
                        net.errors.report(msg.clone());
                    }
                    RpcError::Bad(msg)
                })
            }))
        });
        match self.net.upgrade() {
            Some(net) => net.send(&self.name, meth, bytes, done),
            None => done.fail(),
        }
    }
}

type Callback = Box<dyn FnOnce(Result<Vec<u8>, RpcError>) + Send>;

/// The one-shot end of a call: completing it runs the caller's callback.
/// Dropping it unfinished fails the call, so no caller is ever left waiting
/// (for instance when the network is cleaned up with calls in flight).
pub(crate) struct Completion(Option<Callback>);

impl Completion {
    pub(crate) fn new(f: impl FnOnce(Result<Vec<u8>, RpcError>) + Send + 'static) -> Completion {
        Completion(Some(Box::new(f)))
    }

    pub(crate) fn complete(mut self, r: Result<Vec<u8>, RpcError>) {
        if let Some(f) = self.0.take() {
            f(r);
        }
    }

    pub(crate) fn fail(self) {
        self.complete(Err(RpcError::Failed));
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f(Err(RpcError::Failed));
        }
    }
}
