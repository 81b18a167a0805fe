//! What the kvraft crate's integration tests share: a cluster of servers
//! and Clerks on a labrpc network.

use kvraft::{Clerk, KvServer};
use labrpc::{ClientEnd, Network, Server};
use persister::Persister;
use std::sync::Arc;

/// Starts `persisters.len()` servers on `net`, each registered with both
/// services, all connected (end names start with `tag`).
pub fn cluster(net: &Network, persisters: &[Arc<Persister>], maxraftstate: Option<usize>, tag: &str) -> Vec<KvServer> {
    let n = persisters.len();
    (0..n)
        .map(|i| {
            let ends: Vec<ClientEnd> = (0..n)
                .map(|j| {
                    let name = format!("{tag}{i}->{j}");
                    let e = net.make_end(&name);
                    net.connect(&name, &j.to_string());
                    net.enable(&name, true);
                    e
                })
                .collect();
            let kv = KvServer::start(ends, i, Arc::clone(&persisters[i]), maxraftstate).unwrap();
            let mut server = Server::new();
            server.add_service(kv.service());
            server.add_service(kv.raft().service());
            net.add_server(&i.to_string(), server);
            kv
        })
        .collect()
}

/// A Clerk with ends to the `n` servers (names start with `tag`).
pub fn clerk(net: &Network, n: usize, tag: &str) -> Clerk {
    let ends = (0..n)
        .map(|j| {
            let name = format!("{tag}clerk->{j}");
            let e = net.make_end(&name);
            net.connect(&name, &j.to_string());
            net.enable(&name, true);
            e
        })
        .collect();
    Clerk::new(ends)
}
