//! `Network::on_error`: every programming error reaches the harness's hook
//! the moment it happens, on the thread that saw it, including the ones
//! that used to vanish (a reply callback's panic, a reply of the wrong type).

use labrpc::{Network, RpcError, Server, Service};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

/// A network with one server `s` (service `S`: `Echo` replies its u64,
/// `Boom` panics) reached by the enabled end `e`, and a hook that forwards
/// each error with the name of the thread it ran on.
fn setup(seed: u64) -> (Network, labrpc::ClientEnd, mpsc::Receiver<(String, Option<String>)>) {
    let net = Network::with_seed(seed);
    let mut server = Server::new();
    server.add_service(
        Service::new("S").method("Echo", |x: u64| x).method("Boom", |_: u64| -> u64 { panic!("handler kaboom") }),
    );
    net.add_server("s", server);
    let e = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    net.on_error(move |msg| {
        let name = std::thread::current().name().map(str::to_string);
        let _ = tx.lock().unwrap().send((msg.to_string(), name));
    });
    (net, e, rx)
}

fn next(rx: &mpsc::Receiver<(String, Option<String>)>) -> (String, Option<String>) {
    rx.recv_timeout(Duration::from_secs(5)).expect("the hook ran")
}

#[test]
fn a_panicking_handler_reaches_the_hook_before_the_caller_sees_the_error() {
    let (_net, e, rx) = setup(1);
    let err = e.call::<_, u64>("S.Boom", &1u64).unwrap_err();
    // The hook ran on the network's worker before the call returned.
    let (msg, thread) = rx.try_recv().expect("reported before the reply");
    assert!(msg.contains("handler of S.Boom on server s panicked: handler kaboom"), "{msg}");
    assert_eq!(thread.as_deref(), Some("labrpc-worker"));
    assert_eq!(err, RpcError::Bad(msg));
}

#[test]
fn unknown_methods_and_undecodable_arguments_reach_the_hook() {
    let (net, e, rx) = setup(2);
    assert!(e.call::<_, u64>("S.Nope", &1u64).is_err());
    assert!(next(&rx).0.contains("unknown method \"Nope\""));
    assert!(e.call::<_, u64>("S.Echo", &"not a number, too long for a u64 varint".to_string()).is_err());
    let (msg, _) = next(&rx);
    assert!(msg.contains("arguments of S.Echo"), "{msg}");
    assert_eq!(net.errors().len(), 2);
}

#[test]
fn a_reply_of_the_wrong_type_reaches_the_hook() {
    let (_net, e, rx) = setup(3);
    // 300 is a two-byte varint: not a bool.
    let err = e.call::<_, bool>("S.Echo", &300u64).unwrap_err();
    let (msg, _) = next(&rx);
    assert!(msg.contains("the reply of S.Echo does not decode as the caller's type"), "{msg}");
    assert_eq!(err, RpcError::Bad(msg));
}

#[test]
fn a_panicking_reply_callback_reaches_the_hook_and_the_network_goes_on() {
    let (_net, e, rx) = setup(4);
    e.call_with("S.Echo", &7u64, |r: Result<u64, RpcError>| panic!("callback kaboom with {r:?}"));
    let (msg, thread) = next(&rx);
    assert_eq!(msg, "labrpc: a reply callback panicked: callback kaboom with Ok(7)");
    assert_eq!(thread.as_deref(), Some("labrpc-worker"));
    // The worker survived: the network still answers.
    assert_eq!(e.call::<_, u64>("S.Echo", &8u64), Ok(8));
}
