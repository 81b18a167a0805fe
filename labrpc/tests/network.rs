//! The course's labrpc self-tests, ported, plus the behaviours the Raft
//! tester relies on (long delays, reordering, killed servers, thread thrift).

use labrpc::{ClientEnd, Network, Release, RpcError, Server, Service};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct JunkArgs {
    x: i64,
}
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct JunkReply {
    x: String,
}

/// The course's JunkServer: a few typed handlers, one of which sleeps.
#[derive(Default)]
struct Junk {
    log1: Mutex<Vec<String>>,
    log2: Mutex<Vec<i64>>,
}

fn junk_service(j: Arc<Junk>) -> Service {
    let (j1, j2) = (Arc::clone(&j), Arc::clone(&j));
    Service::new("JunkServer")
        .method("Handler1", move |args: String| -> i64 {
            j1.log1.lock().unwrap().push(args.clone());
            args.parse().unwrap_or(-1)
        })
        .method("Handler2", move |args: i64| -> String {
            j2.log2.lock().unwrap().push(args);
            format!("handler2-{args}")
        })
        .method("Handler3", |args: i64| -> i64 {
            thread::sleep(Duration::from_secs(20));
            -args
        })
        .method("Handler4", |_args: JunkArgs| JunkReply { x: "pointer".into() })
        .method("Handler5", |_args: JunkArgs| JunkReply { x: "no pointer".into() })
        .method("Handler6", |args: String| -> usize { args.len() })
        .method("Handler7", |args: i64| -> String { "y".repeat(args as usize) })
        .method("Sleep", |ms: u64| -> u64 {
            thread::sleep(Duration::from_millis(ms));
            ms
        })
}

fn junk_server() -> (Server, Arc<Junk>) {
    let j = Arc::new(Junk::default());
    let mut rs = Server::new();
    rs.add_service(junk_service(Arc::clone(&j)));
    (rs, j)
}

/// A network with server "server99" and one enabled end connected to it.
fn one_end(seed: u64) -> (Network, ClientEnd, Arc<Junk>) {
    let net = Network::with_seed(seed);
    let end = net.make_end("end1-99");
    let (rs, j) = junk_server();
    net.add_server("server99", rs);
    net.connect("end1-99", "server99");
    net.enable("end1-99", true);
    (net, end, j)
}

#[test]
fn basic() {
    let (_net, e, _) = one_end(1);
    let reply: String = e.call("JunkServer.Handler2", &111i64).unwrap();
    assert_eq!(reply, "handler2-111");
    let reply: i64 = e.call("JunkServer.Handler1", "9099").unwrap();
    assert_eq!(reply, 9099);
}

#[test]
fn several_types() {
    let (_net, e, j) = one_end(2);
    let r: JunkReply = e.call("JunkServer.Handler4", &JunkArgs { x: 1 }).unwrap();
    assert_eq!(r.x, "pointer");
    let r: JunkReply = e.call("JunkServer.Handler5", &JunkArgs { x: 2 }).unwrap();
    assert_eq!(r.x, "no pointer");
    let r: usize = e.call("JunkServer.Handler6", "hello").unwrap();
    assert_eq!(r, 5);
    // The handler saw a copy built from bytes, never the caller's value.
    let _: i64 = e.call("JunkServer.Handler1", "77").unwrap();
    assert_eq!(*j.log1.lock().unwrap(), vec!["77".to_string()]);
}

#[test]
fn disconnect_and_enable() {
    let net = Network::with_seed(3);
    let e = net.make_end("end1-99");
    let (rs, _) = junk_server();
    net.add_server("server99", rs);
    net.connect("end1-99", "server99");
    // Ends start disabled: no reply.
    assert_eq!(e.call::<_, String>("JunkServer.Handler2", &111i64), Err(RpcError::Failed));
    net.enable("end1-99", true);
    assert_eq!(e.call::<_, i64>("JunkServer.Handler1", "9099"), Ok(9099));
    net.enable("end1-99", false);
    assert_eq!(e.call::<_, i64>("JunkServer.Handler1", "1"), Err(RpcError::Failed));
    assert_eq!(net.count("server99"), 1, "a call on a disabled end never reaches the server");
}

#[test]
fn per_server_counts() {
    let (net, e, _) = one_end(4);
    for i in 0..17i64 {
        let r: String = e.call("JunkServer.Handler2", &i).unwrap();
        assert_eq!(r, format!("handler2-{i}"));
    }
    assert_eq!(net.count("server99"), 17);
    assert_eq!(net.total_count(), 17);
    assert_eq!(net.count("no-such-server"), 0);
}

#[test]
fn byte_counts() {
    let (net, e, _) = one_end(5);
    for _ in 0..17 {
        let args = "x".repeat(128);
        let n: usize = e.call("JunkServer.Handler6", &args).unwrap();
        assert_eq!(n, 128);
    }
    let n = net.total_bytes();
    // 17 requests of ~129 bytes and 17 one-byte replies.
    assert!((17 * 129..=17 * 140).contains(&n), "bytes {n}");
    for _ in 0..17 {
        let r: String = e.call("JunkServer.Handler7", &128i64).unwrap();
        assert_eq!(r.len(), 128);
    }
    let n2 = net.total_bytes() - n;
    assert!((17 * 129..=17 * 140).contains(&n2), "bytes {n2}");
}

#[test]
fn concurrent_calls_across_many_ends() {
    let net = Network::with_seed(6);
    let (rs, _) = junk_server();
    net.add_server("1000", rs);
    let nclients = 20;
    let nrpcs = 10;
    let handles: Vec<_> = (0..nclients)
        .map(|i| {
            let name = format!("end-{i}");
            let e = net.make_end(&name);
            net.connect(&name, "1000");
            net.enable(&name, true);
            thread::spawn(move || {
                for j in 0..nrpcs {
                    let arg = (i * 100 + j) as i64;
                    let r: String = e.call("JunkServer.Handler2", &arg).unwrap();
                    assert_eq!(r, format!("handler2-{arg}"));
                }
                nrpcs
            })
        })
        .collect();
    let total: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, nclients * nrpcs);
    assert_eq!(net.count("1000"), (nclients * nrpcs) as u64);
}

#[test]
fn concurrent_calls_on_one_end() {
    let (net, e, j) = one_end(7);
    let handles: Vec<_> = (0..20i64)
        .map(|i| {
            let e = e.clone();
            thread::spawn(move || {
                let r: String = e.call("JunkServer.Handler2", &(100 + i)).unwrap();
                assert_eq!(r, format!("handler2-{}", 100 + i));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(net.count("server99"), 20);
    assert_eq!(j.log2.lock().unwrap().len(), 20);
}

/// 10% of requests and 10% of replies are lost. Sent requests that never
/// reach the server measure request loss; server-received requests whose
/// reply never arrives measure reply loss. With drops off both would be 0, so
/// the lower bounds cannot pass by accident.
#[test]
fn unreliable_drops_about_ten_percent_each_way() {
    let net = Network::with_seed(8);
    let (rs, _) = junk_server();
    net.add_server("s", rs);
    net.reliable(false);
    let ends: Vec<ClientEnd> = (0..25)
        .map(|i| {
            let name = format!("e{i}");
            let e = net.make_end(&name);
            net.connect(&name, "s");
            net.enable(&name, true);
            e
        })
        .collect();
    let total = 5000u64;
    let ok = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    for i in 0..total {
        let ok = Arc::clone(&ok);
        let tx = tx.clone();
        ends[(i % 25) as usize].call_with("JunkServer.Handler2", &(i as i64), move |r: Result<String, RpcError>| {
            if r == Ok(format!("handler2-{i}")) {
                ok.fetch_add(1, Ordering::Relaxed);
            }
            tx.send(()).unwrap();
        });
    }
    for _ in 0..total {
        rx.recv_timeout(Duration::from_secs(10)).expect("every call completes");
    }
    let received = net.count("s");
    let ok = ok.load(Ordering::Relaxed);
    let req_loss = 1.0 - received as f64 / total as f64;
    let reply_loss = 1.0 - ok as f64 / received as f64;
    assert!((0.07..0.13).contains(&req_loss), "request loss {req_loss:.3}");
    assert!((0.07..0.13).contains(&reply_loss), "reply loss {reply_loss:.3}");
}

/// The course's TestKilled: a server deleted while its handler runs makes the
/// call fail within ~100 ms, long before the handler would return.
#[test]
fn deleted_server_fails_call_while_handler_runs() {
    let (net, e, _) = one_end(9);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let r: Result<i64, RpcError> = e.call("JunkServer.Handler3", &99i64);
        tx.send(r).unwrap();
    });
    thread::sleep(Duration::from_millis(1000));
    assert!(rx.try_recv().is_err(), "the handler sleeps 20 s; no reply yet");
    let t0 = Instant::now();
    net.delete_server("server99");
    let r = rx.recv_timeout(Duration::from_millis(500)).expect("fails soon after deletion");
    assert_eq!(r, Err(RpcError::Failed));
    assert!(t0.elapsed() < Duration::from_millis(300));
}

/// The course's regression test: a handler that finishes after its server
/// was deleted must not produce a successful reply (the tester has already
/// swapped in a fresh persister).
#[test]
fn killed_server_never_replies_even_if_handler_finishes() {
    let (net, e, _) = one_end(10);
    let (tx, rx) = mpsc::channel();
    for _ in 0..20 {
        let tx = tx.clone();
        e.call_with("JunkServer.Sleep", &150u64, move |r: Result<u64, RpcError>| tx.send(r).unwrap());
    }
    thread::sleep(Duration::from_millis(40));
    net.delete_server("server99");
    for _ in 0..20 {
        let r = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(r, Err(RpcError::Failed));
    }
    // A new server under the same name is a different server: calls begun
    // before the swap still fail.
    let (rs, _) = junk_server();
    let tx2 = tx.clone();
    e.call_with("JunkServer.Sleep", &50u64, move |r: Result<u64, RpcError>| tx2.send(r).unwrap());
    thread::sleep(Duration::from_millis(10));
    net.add_server("server99", rs);
    assert_eq!(rx.recv_timeout(Duration::from_secs(2)).unwrap(), Err(RpcError::Failed));
    assert_eq!(e.call::<_, u64>("JunkServer.Sleep", &1u64), Ok(1));
}

#[test]
fn disabled_end_fails_after_a_delay_that_long_delays_lengthen() {
    let net = Network::with_seed(11);
    let e = net.make_end("e");
    let (rs, _) = junk_server();
    net.add_server("s", rs);
    net.connect("e", "s"); // never enabled
    let measure = |n: usize| -> Vec<u128> {
        let (tx, rx) = mpsc::channel();
        let t0 = Instant::now();
        for i in 0..n {
            let tx = tx.clone();
            e.call_with("JunkServer.Handler2", &(i as i64), move |r: Result<String, RpcError>| {
                assert_eq!(r, Err(RpcError::Failed));
                tx.send(t0.elapsed().as_millis()).unwrap();
            });
        }
        (0..n).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect()
    };
    let short = measure(200);
    assert!(short.iter().all(|&ms| ms < 150), "short delays are 0..100 ms");
    net.long_delays(true);
    let long = measure(300);
    let max = *long.iter().max().unwrap();
    let mean = long.iter().sum::<u128>() as f64 / long.len() as f64;
    assert!((6000..7300).contains(&max), "long delays reach ~7 s, max {max}");
    assert!((2800.0..4200.0).contains(&mean), "long delays average ~3.5 s, mean {mean}");
    assert_eq!(net.count("s"), 0);
}

#[test]
fn long_reordering_holds_back_two_replies_in_three() {
    let (net, e, _) = one_end(12);
    net.long_reordering(true);
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    let n = 600;
    for i in 0..n {
        let tx = tx.clone();
        e.call_with("JunkServer.Handler2", &i, move |r: Result<String, RpcError>| {
            tx.send((i, r.is_ok(), t0.elapsed().as_millis())).unwrap();
        });
    }
    let got: Vec<(i64, bool, u128)> = (0..n).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    assert!(got.iter().all(|g| g.1), "reordering delays, it does not drop");
    let late = got.iter().filter(|g| g.2 >= 200).count() as f64 / n as f64;
    assert!((0.58..0.75).contains(&late), "fraction held back {late}");
    assert!(got.iter().all(|g| g.2 < 2400), "at most 200 + 2000 ms (+ slack)");
    // Out of order: the arrival order is not the sending order.
    let order: Vec<i64> = got.iter().map(|g| g.0).collect();
    let inversions = order.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(inversions > 50, "only {inversions} inversions");
}

#[test]
fn unknown_service_or_method_is_a_loud_error_naming_what_exists() {
    let (net, e, _) = one_end(13);
    let err = e.call::<_, i64>("JunkServer.NoSuch", &1i64).unwrap_err();
    let RpcError::Bad(msg) = err else { panic!("expected Bad, got {err:?}") };
    assert!(msg.contains("unknown method \"NoSuch\"") && msg.contains("Handler1") && msg.contains("Sleep"), "{msg}");
    let err = e.call::<_, i64>("Nope.Handler1", &1i64).unwrap_err();
    let RpcError::Bad(msg) = err else { panic!("expected Bad") };
    assert!(msg.contains("unknown service \"Nope\"") && msg.contains("JunkServer"), "{msg}");
    let err = e.call::<_, i64>("NoDot", &1i64).unwrap_err();
    assert!(matches!(err, RpcError::Bad(m) if m.contains("Service.Method")));
    assert_eq!(net.errors().len(), 3);
}

#[test]
fn wrong_argument_or_reply_type_is_a_loud_error() {
    let (net, e, _) = one_end(14);
    // Handler1 takes a String; an i64's bytes do not decode as one.
    let err = e.call::<_, i64>("JunkServer.Handler1", &JunkArgs { x: 300 }).unwrap_err();
    assert!(matches!(&err, RpcError::Bad(m) if m.contains("arguments of JunkServer.Handler1")), "{err:?}");
    // Handler2 replies a String; its second byte is not a valid bool.
    let err = e.call::<_, (u8, bool)>("JunkServer.Handler2", &1i64).unwrap_err();
    assert!(matches!(&err, RpcError::Bad(m) if m.contains("reply of JunkServer.Handler2")), "{err:?}");
    assert_eq!(net.errors().len(), 2, "argument and reply errors are seen by the network");
    assert!(net.errors()[1].contains("does not decode as the caller's type"), "{:?}", net.errors());
}

#[test]
fn panicking_handler_fails_the_call_and_is_reported() {
    let net = Network::with_seed(15);
    let mut rs = Server::new();
    rs.add_service(Service::new("P").method("Boom", |_: u8| -> u8 { panic!("kaboom") }));
    net.add_server("s", rs);
    let e = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    let err = e.call::<_, u8>("P.Boom", &1u8).unwrap_err();
    assert!(matches!(&err, RpcError::Bad(m) if m.contains("kaboom")), "{err:?}");
    assert!(net.errors()[0].contains("panicked"));
}

#[test]
fn cleanup_fails_calls_in_flight_and_stops_threads() {
    let (net, e, _) = one_end(16);
    net.long_delays(true);
    net.enable("end1-99", false);
    let (tx, rx) = mpsc::channel();
    for _ in 0..100 {
        let tx = tx.clone();
        e.call_with("JunkServer.Handler2", &1i64, move |r: Result<String, RpcError>| tx.send(r).unwrap());
    }
    net.cleanup();
    for _ in 0..100 {
        assert_eq!(rx.recv_timeout(Duration::from_millis(100)).unwrap(), Err(RpcError::Failed));
    }
    assert_eq!(net.stats().workers, 0);
    assert_eq!(e.call::<_, String>("JunkServer.Handler2", &1i64), Err(RpcError::Failed));
}

#[test]
fn same_seed_same_decisions_per_end() {
    // One end, calls in sequence: the pattern of losses is a function of the
    // seed alone.
    let pattern = |seed: u64| -> Vec<bool> {
        let (net, e, _) = one_end(seed);
        net.reliable(false);
        (0..200).map(|i| e.call::<_, String>("JunkServer.Handler2", &(i as i64)).is_ok()).collect()
    };
    assert_eq!(pattern(77), pattern(77));
    assert_ne!(pattern(77), pattern(78));
}

fn threads_now() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().parse().unwrap())))
        .unwrap_or(0)
}

/// 10^5 messages on an unreliable network with long delays, half of them to
/// disabled ends (failing after up to 7 s): the network keeps to a handful of
/// threads because delays live in one timer heap. Tens of thousands of
/// messages are pending at once, so a thread per message would show here; the
/// bounds leave room for the few workers a pool may add when other processes
/// take the machine's cores (4 here on an idle machine, 5–17 over ten runs with six
/// busy loops beside it on 2 cores).
#[test]
fn hundred_thousand_delayed_messages_use_few_threads() {
    let net = Network::with_seed(17);
    let (rs, _) = junk_server();
    net.add_server("s", rs);
    net.reliable(false);
    net.long_delays(true);
    let ends: Vec<ClientEnd> = (0..10)
        .map(|i| {
            let name = format!("e{i}");
            let e = net.make_end(&name);
            net.connect(&name, "s");
            net.enable(&name, i % 2 == 0);
            e
        })
        .collect();
    let n = 100_000u64;
    let done = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak) = (Arc::clone(&done), Arc::clone(&peak));
        thread::spawn(move || {
            while done.load(Ordering::Relaxed) < n {
                peak.fetch_max(threads_now() as u64, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let t0 = Instant::now();
    for i in 0..n {
        let done = Arc::clone(&done);
        ends[(i % 10) as usize].call_with("JunkServer.Handler2", &(i as i64), move |_: Result<String, RpcError>| {
            done.fetch_add(1, Ordering::Relaxed);
        });
    }
    let counts: HashMap<&str, u64> = [("sent", net.total_count())].into_iter().collect();
    assert_eq!(counts["sent"], n);
    sampler.join().unwrap();
    let wall = t0.elapsed();
    let stats = net.stats();
    println!(
        "10^5 delayed messages: {:.1} s wall, peak process threads {}, peak network workers {}",
        wall.as_secs_f64(),
        peak.load(Ordering::Relaxed),
        stats.peak_workers
    );
    assert!(wall < Duration::from_secs(12), "took {wall:?}");
    assert!(peak.load(Ordering::Relaxed) < 40, "peak threads {}", peak.load(Ordering::Relaxed));
    assert!(stats.peak_workers <= 24, "peak workers {}", stats.peak_workers);
}

// ---- hold and release (not in the course's labrpc; the safety suite's control)

/// Sends `x` on `e` to Handler2 without blocking; its result goes to `tx`.
fn send2(e: &ClientEnd, x: i64, tx: &mpsc::Sender<(i64, Result<String, RpcError>)>) {
    let tx = tx.clone();
    e.call_with("JunkServer.Handler2", &x, move |r: Result<String, RpcError>| tx.send((x, r)).unwrap());
}

#[test]
fn held_requests_wait_and_are_released_one_by_one_in_either_order() {
    for (order, expect) in [(Release::OldestFirst, vec![1, 2, 3]), (Release::NewestFirst, vec![3, 2, 1])] {
        let (net, e, j) = one_end(31);
        net.hold("end1-99", &[]);
        let (tx, rx) = mpsc::channel();
        for x in 1..=3 {
            send2(&e, x, &tx);
        }
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "a held request neither arrives nor fails");
        assert!(j.log2.lock().unwrap().is_empty());
        assert_eq!(net.held("end1-99"), ["JunkServer.Handler2"; 3]);
        assert_eq!(net.count("server99"), 0);
        assert_eq!(net.release("end1-99", order), 3);
        for _ in 0..3 {
            let (x, r) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(r, Ok(format!("handler2-{x}")));
        }
        assert_eq!(*j.log2.lock().unwrap(), expect, "{order:?}: handlers ran one after another in this order");
        assert!(net.held("end1-99").is_empty());
        // No longer held.
        assert_eq!(e.call::<_, String>("JunkServer.Handler2", &9i64), Ok("handler2-9".into()));
    }
}

#[test]
fn release_one_delivers_the_newest_or_oldest_and_keeps_holding() {
    let (net, e, j) = one_end(36);
    net.hold("end1-99", &[]);
    let (tx, rx) = mpsc::channel();
    for x in 1..=3 {
        send2(&e, x, &tx);
    }
    assert!(net.release_one("end1-99", Release::NewestFirst));
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (3, Ok("handler2-3".into())));
    assert!(net.release_one("end1-99", Release::OldestFirst));
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (1, Ok("handler2-1".into())));
    send2(&e, 4, &tx);
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "still held");
    assert_eq!(net.held("end1-99"), ["JunkServer.Handler2"; 2]);
    assert_eq!(net.release("end1-99", Release::OldestFirst), 2);
    let mut rest: Vec<i64> = (0..2).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap().0).collect();
    rest.sort_unstable();
    assert_eq!(rest, [2, 4]);
    assert_eq!(*j.log2.lock().unwrap(), [3, 1, 2, 4]);
    assert!(!net.release_one("end1-99", Release::OldestFirst), "nothing held");
}

#[test]
fn a_hold_of_some_methods_lets_the_others_through() {
    let (net, e, j) = one_end(32);
    net.hold("end1-99", &["JunkServer.Handler2"]);
    let (tx, rx) = mpsc::channel();
    send2(&e, 7, &tx);
    assert_eq!(e.call::<_, i64>("JunkServer.Handler1", "42"), Ok(42), "Handler1 is not held");
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    assert_eq!(*j.log1.lock().unwrap(), ["42"]);
    assert_eq!(net.held("end1-99"), ["JunkServer.Handler2"]);
    net.release("end1-99", Release::OldestFirst);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (7, Ok("handler2-7".into())));
}

#[test]
fn a_hold_set_before_the_end_exists_applies_to_it() {
    let net = Network::with_seed(33);
    net.hold("late", &[]);
    let (rs, j) = junk_server();
    net.add_server("s", rs);
    let e = net.make_end("late");
    net.connect("late", "s");
    net.enable("late", true);
    let (tx, rx) = mpsc::channel();
    send2(&e, 5, &tx);
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    assert_eq!(net.release("late", Release::NewestFirst), 1);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (5, Ok("handler2-5".into())));
    assert_eq!(*j.log2.lock().unwrap(), [5]);
}

#[test]
fn released_requests_to_a_disabled_end_or_a_deleted_server_fail_at_once() {
    let (net, e, j) = one_end(34);
    net.long_delays(true);
    net.hold("end1-99", &[]);
    let (tx, rx) = mpsc::channel();
    send2(&e, 1, &tx);
    net.enable("end1-99", false);
    let t0 = Instant::now();
    net.release("end1-99", Release::OldestFirst);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (1, Err(RpcError::Failed)));
    assert!(t0.elapsed() < Duration::from_secs(1), "no long delay for a released request");
    net.enable("end1-99", true);
    net.hold("end1-99", &[]);
    send2(&e, 2, &tx);
    net.delete_server("server99");
    net.release("end1-99", Release::OldestFirst);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (2, Err(RpcError::Failed)));
    assert!(j.log2.lock().unwrap().is_empty(), "no handler ran");
}

#[test]
fn cleanup_fails_held_requests() {
    let (net, e, _) = one_end(35);
    net.hold("end1-99", &[]);
    let (tx, rx) = mpsc::channel();
    send2(&e, 1, &tx);
    send2(&e, 2, &tx);
    net.cleanup();
    for _ in 0..2 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)).unwrap().1, Err(RpcError::Failed));
    }
    assert_eq!(net.release("end1-99", Release::OldestFirst), 0);
}
