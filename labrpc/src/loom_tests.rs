//! Loom models of the network's kernel: a call's in-flight slot, claimed by
//! whichever comes first of the handler's return ([`finish`]) and a
//! dead-path check ([`fail_if_dead`]), racing with `delete_server`.
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p labrpc --lib loom`.

use crate::end::Completion;
use crate::network::{fail_if_dead, finish, InFlight};
use crate::registry::{Registry, Route};
use crate::sync::Mutex;
use crate::{RpcError, Server};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::sync::Arc;

/// What the caller's completion saw.
struct Outcome {
    runs: AtomicUsize,
    ok: AtomicBool,
}

/// A registry with end `c` connected to server `s`, and a call routed on
/// it: the route's server and a fresh in-flight slot.
fn routed(outcome: &loom::sync::Arc<Outcome>) -> (Arc<Registry>, Arc<str>, Arc<Server>, Arc<InFlight>) {
    let registry = Arc::new(Registry::new(1));
    registry.make_end("c");
    registry.add_server("s", Server::new());
    registry.connect("c", "s");
    registry.enable("c", true);
    let Route::Deliver { server_name, server, .. } = registry.route("c") else { panic!("c should reach s") };
    let o = loom::sync::Arc::clone(outcome);
    let done = Completion::new(move |r: Result<Vec<u8>, RpcError>| {
        o.runs.fetch_add(1, SeqCst);
        o.ok.store(r.is_ok(), SeqCst);
    });
    (registry, server_name, server, Arc::new(Mutex::new(Some(done))))
}

/// The handler returns while another thread deletes the server and then
/// runs the watcher's dead-path check. The completion runs exactly once;
/// if `delete_server` had returned before the handler's final check, the
/// call fails; if the call succeeded, the deletion came after that check.
#[test]
fn reply_races_with_delete_server() {
    loom::model(|| {
        let outcome = loom::sync::Arc::new(Outcome { runs: AtomicUsize::new(0), ok: AtomicBool::new(false) });
        let deleted = loom::sync::Arc::new(AtomicBool::new(false));
        let (registry, server_name, server, slot) = routed(&outcome);

        let deleter = {
            let (registry, server_name, server) =
                (Arc::clone(&registry), Arc::clone(&server_name), Arc::clone(&server));
            let (weak, deleted) = (Arc::downgrade(&slot), loom::sync::Arc::clone(&deleted));
            thread::spawn(move || {
                registry.delete_server("s");
                deleted.store(true, SeqCst);
                // The watcher's next tick, as in `watch`.
                if let Some(live) = weak.upgrade() {
                    assert!(fail_if_dead(&registry, "c", &server_name, &server, &live), "the server is gone");
                }
            })
        };

        // The handler thread (here the model's main thread) has returned.
        let deleted_before_check = deleted.load(SeqCst);
        if let Some(done) = finish(&registry, "c", &server_name, &server, &slot) {
            done.complete(Ok(vec![42]));
        }
        drop(slot); // the handler's frame ends, as in `deliver`
        deleter.join().unwrap();

        assert_eq!(outcome.runs.load(SeqCst), 1, "the completion runs exactly once");
        if deleted_before_check {
            assert!(!outcome.ok.load(SeqCst), "a server deleted before the final check replied");
        }
    });
}

/// The same race with a disabled end instead of a deleted server, and the
/// watcher's check in a third thread: still exactly one completion, and a
/// success only if the end was enabled at the handler's final check.
#[test]
fn reply_races_with_disable_and_watcher() {
    loom::model(|| {
        let outcome = loom::sync::Arc::new(Outcome { runs: AtomicUsize::new(0), ok: AtomicBool::new(false) });
        let disabled = loom::sync::Arc::new(AtomicBool::new(false));
        let (registry, server_name, server, slot) = routed(&outcome);

        let disabler = {
            let (registry, disabled) = (Arc::clone(&registry), loom::sync::Arc::clone(&disabled));
            thread::spawn(move || {
                registry.enable("c", false);
                disabled.store(true, SeqCst);
            })
        };
        let watcher = {
            let (registry, server_name, server) =
                (Arc::clone(&registry), Arc::clone(&server_name), Arc::clone(&server));
            let weak = Arc::downgrade(&slot);
            thread::spawn(move || {
                if let Some(live) = weak.upgrade() {
                    fail_if_dead(&registry, "c", &server_name, &server, &live);
                }
            })
        };

        let disabled_before_check = disabled.load(SeqCst);
        if let Some(done) = finish(&registry, "c", &server_name, &server, &slot) {
            done.complete(Ok(vec![42]));
        }
        drop(slot);
        disabler.join().unwrap();
        watcher.join().unwrap();

        assert_eq!(outcome.runs.load(SeqCst), 1, "the completion runs exactly once");
        if disabled_before_check {
            assert!(!outcome.ok.load(SeqCst), "a disabled end got a reply");
        }
    });
}
