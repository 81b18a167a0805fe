//! The service's public API as the tester uses it, every signature spelled
//! out, so that a crate offering another shape does not compile: the
//! student skeleton (`skeleton/kvraft`) must offer this same API, and the
//! handout check (`make check-handout`) runs this file against it. It also
//! runs a small cluster: calls return in bounded time, `kill` stops a
//! server. With `KV_API_EXPECT_GET` set, a Get must return that value (the
//! skeleton's Clerk returns "" at once); by default it must return what was
//! put.

use kvraft::{
    nrand, Clerk, GetArgs, GetReply, KvErr, KvServer, OpId, PutAppendArgs, PutAppendReply, PutOrAppend, StartError,
};
use labrpc::{ClientEnd, Network, Server, Service};
use persister::Persister;
use raft::Raft;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// `KvServer::start` (the course's `StartKVServer`).
type Start = fn(Vec<ClientEnd>, usize, Arc<Persister>, Option<usize>) -> Result<KvServer, StartError>;

#[test]
fn the_api_the_tester_uses() {
    let _: Start = KvServer::start;
    let _: fn(&KvServer) -> &Raft = KvServer::raft;
    let _: fn(&KvServer) -> Service = KvServer::service;
    let _: fn(&KvServer) = KvServer::kill;
    let _: fn(&KvServer) -> bool = KvServer::killed;
    let _: fn(Vec<ClientEnd>) -> Clerk = Clerk::new;
    let _: fn(&mut Clerk, &str) -> String = Clerk::get;
    let _: fn(&mut Clerk, &str, &str) = Clerk::put;
    let _: fn(&mut Clerk, &str, &str) = Clerk::append;
    let _: fn(&mut Clerk, &str, &str, PutOrAppend) = Clerk::put_append;
    let _: fn() -> u64 = nrand;
    fn handle<T: Clone + Send + Sync + 'static>() {}
    fn movable<T: Send + 'static>() {}
    fn error<E: std::error::Error + Send + 'static>() {}
    handle::<KvServer>();
    movable::<Clerk>();
    error::<StartError>();
    let errs = [KvErr::Ok, KvErr::NoKey, KvErr::WrongLeader].map(|e| e.to_string());
    assert_eq!(errs, ["OK", "ErrNoKey", "ErrWrongLeader"]);
    let id = OpId { client_id: nrand(), seq: 1 };
    assert!(id.client_id < 1 << 62);
    let _ = GetArgs { key: "k".into(), id };
    let _ = GetReply { err: KvErr::NoKey, value: String::new() };
    let _ = PutAppendArgs { key: "k".into(), value: "v".into(), op: PutOrAppend::Append, id };
    let _ = PutAppendReply { err: KvErr::Ok };
}

/// Three servers, every end connected, each registered with both services
/// on one labrpc server, as the tester does.
fn cluster(net: &Network) -> Vec<KvServer> {
    (0..3)
        .map(|i| {
            let ends = (0..3)
                .map(|j| {
                    let name = format!("{i}->{j}");
                    let e = net.make_end(&name);
                    net.connect(&name, &j.to_string());
                    net.enable(&name, true);
                    e
                })
                .collect();
            let kv = KvServer::start(ends, i, Arc::new(Persister::new()), Some(1000))
                .unwrap_or_else(|e| panic!("server {i}: {e}"));
            let mut server = Server::new();
            server.add_service(kv.service());
            server.add_service(kv.raft().service());
            net.add_server(&i.to_string(), server);
            kv
        })
        .collect()
}

#[test]
fn a_cluster_answers_in_bounded_time_and_stops() {
    let net = Network::with_seed(4);
    let servers = cluster(&net);
    let ends = (0..3)
        .map(|j| {
            let name = format!("clerk->{j}");
            let e = net.make_end(&name);
            net.connect(&name, &j.to_string());
            net.enable(&name, true);
            e
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut ck = Clerk::new(ends);
        ck.put("k", "v");
        ck.append("k", "w");
        let _ = tx.send(ck.get("k"));
    });
    let got = rx.recv_timeout(Duration::from_secs(20)).expect("the Clerk's calls return within 20 s");
    let want = std::env::var("KV_API_EXPECT_GET").unwrap_or_else(|_| "vw".to_string());
    eprintln!("kv api probe: get(\"k\") = {got:?}");
    assert_eq!(got, want);
    for kv in &servers {
        let _ = kv.raft().get_state();
        kv.kill();
        assert!(kv.killed());
    }
    net.cleanup();
}
