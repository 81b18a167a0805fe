//! What the raft crate's integration tests share: a cluster on a labrpc
//! network.

use crossbeam::channel::{self as mpsc, Receiver};
use labrpc::{ClientEnd, Network, Server};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use std::sync::Arc;

/// `persisters.len()` peers, every end i->j connected to server j and
/// enabled, each peer registered as server i. Returns each peer with its
/// apply channel.
pub fn cluster(net: &Network, persisters: &[Arc<Persister>]) -> Vec<(Raft, Receiver<ApplyMsg>)> {
    let n = persisters.len();
    (0..n)
        .map(|i| {
            let ends: Vec<ClientEnd> = (0..n)
                .map(|j| {
                    let name = format!("{i}->{j}");
                    let e = net.make_end(&name);
                    net.connect(&name, &j.to_string());
                    net.enable(&name, true);
                    e
                })
                .collect();
            let (tx, rx) = mpsc::bounded(0);
            let rf = Raft::make(ends, i, Arc::clone(&persisters[i]), tx).expect("usable persisted state");
            let mut server = Server::new();
            server.add_service(rf.service());
            net.add_server(&i.to_string(), server);
            (rf, rx)
        })
        .collect()
}
