//! The request path: what happens to one call, step by step, as in the
//! lab's `labrpc.go` (see the crate documentation for the list).

use crate::end::Completion;
use crate::errors::{panic_message, ErrorSink};
use crate::executor::{Executor, ExecutorStats};
use crate::registry::{Registry, Route};
use crate::sync::Mutex;
use crate::{ClientEnd, RpcError, Server};
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often a running handler's path is re-checked.
const DEAD_CHECK: Duration = Duration::from_millis(100);

pub(crate) struct Shared {
    pub(crate) registry: Registry,
    exec: Executor,
    total_count: AtomicU64,
    total_bytes: AtomicU64,
    pub(crate) errors: Arc<ErrorSink>,
    /// Ends whose requests the network holds back (see [`Network::hold`]).
    held: Mutex<HashMap<Arc<str>, Held>>,
}

/// A held end: which methods it holds (all if empty) and the requests it
/// holds, oldest first.
#[derive(Default)]
struct Held {
    methods: Vec<String>,
    queue: Vec<(Arc<str>, Vec<u8>, Completion)>,
}

/// The order [`Network::release`] delivers held requests in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// In the order they were sent.
    OldestFirst,
    /// The last one sent first: an old message arrives after newer ones.
    NewestFirst,
}

struct Request {
    end: Arc<str>,
    meth: Arc<str>,
    args: Vec<u8>,
    server_name: Arc<str>,
    server: Arc<Server>,
    unreliable: bool,
    long_reordering: bool,
}

/// A call whose handler is running: completed by whichever comes first, the
/// handler's return or a dead-path check.
pub(crate) type InFlight = Mutex<Option<Completion>>;

fn take(slot: &InFlight) -> Option<Completion> {
    slot.lock().expect("labrpc in-flight lock poisoned").take()
}

/// The handler of a call on `end` to `server` (named `server_name`) has
/// returned: claims the call unless a dead-path check failed it first. If
/// the path is dead now, the call fails here and `None` is returned; `Some`
/// is a live call, whose reply the caller routes.
pub(crate) fn finish(
    registry: &Registry,
    end: &str,
    server_name: &str,
    server: &Arc<Server>,
    slot: &InFlight,
) -> Option<Completion> {
    // A server deleted while its handler ran must not reply: the tester
    // swaps in a fresh persister right after deleting it.
    let dead = registry.is_dead(end, server_name, server);
    let done = take(slot)?;
    if dead {
        done.fail();
        return None;
    }
    Some(done)
}

/// A dead-path check while the handler runs: if the end was disabled or the
/// server deleted, fails the call (unless it was completed already) and
/// returns true.
pub(crate) fn fail_if_dead(
    registry: &Registry,
    end: &str,
    server_name: &str,
    server: &Arc<Server>,
    slot: &InFlight,
) -> bool {
    if !registry.is_dead(end, server_name, server) {
        return false;
    }
    if let Some(done) = take(slot) {
        done.fail();
    }
    true
}

impl Shared {
    pub(crate) fn send(self: &Arc<Self>, end: &Arc<str>, meth: Arc<str>, args: Vec<u8>, done: Completion) {
        self.total_count.fetch_add(1, Ordering::Relaxed);
        self.total_bytes.fetch_add(args.len() as u64, Ordering::Relaxed);
        {
            let mut held = self.held.lock().expect("labrpc hold lock poisoned");
            if let Some(h) = held.get_mut(end) {
                if h.methods.is_empty() || h.methods.iter().any(|m| **m == *meth) {
                    h.queue.push((meth, args, done));
                    return;
                }
            }
        }
        match self.registry.route(end) {
            Route::Lost { delay_ms } => {
                self.exec.after(Duration::from_millis(delay_ms), Box::new(move || done.fail()));
            }
            Route::Deliver { server_name, server, unreliable, long_reordering, delay_ms } => {
                let req =
                    Request { end: Arc::clone(end), meth, args, server_name, server, unreliable, long_reordering };
                let me = Arc::clone(self);
                self.exec.after(Duration::from_millis(delay_ms), Box::new(move || me.deliver(req, done)));
            }
        }
    }

    /// A released request: routed now (step 1 without its delay: to a
    /// disabled end or a server that is gone it fails at once), then
    /// delivered here, on the calling thread, without the unreliable
    /// network's delay.
    fn deliver_released(self: &Arc<Self>, end: &Arc<str>, meth: Arc<str>, args: Vec<u8>, done: Completion) {
        match self.registry.route(end) {
            Route::Lost { .. } => done.fail(),
            Route::Deliver { server_name, server, unreliable, long_reordering, .. } => {
                let req =
                    Request { end: Arc::clone(end), meth, args, server_name, server, unreliable, long_reordering };
                self.deliver(req, done);
            }
        }
    }

    /// Steps 2 to 6: drop the request, or run the handler and route the reply.
    fn deliver(self: &Arc<Self>, req: Request, done: Completion) {
        if req.unreliable && self.registry.chance(&req.end, 100, 1000) {
            return done.fail(); // request lost
        }
        let slot: Arc<InFlight> = Arc::new(Mutex::new(Some(done)));
        self.watch(Arc::clone(&req.end), Arc::clone(&req.server_name), Arc::clone(&req.server), Arc::downgrade(&slot));
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| req.server.dispatch(&req.meth, &req.args)))
                .unwrap_or_else(|p| {
                    Err(RpcError::Bad(format!(
                        "labrpc: the handler of {} on server {} panicked: {}",
                        req.meth,
                        req.server_name,
                        panic_message(&*p)
                    )))
                });
        if let Err(RpcError::Bad(msg)) = &result {
            self.errors.report(msg.clone());
        }
        let Some(done) = finish(&self.registry, &req.end, &req.server_name, &req.server, &slot) else { return };
        match result {
            Err(e) => done.complete(Err(e)),
            Ok(_) if req.unreliable && self.registry.chance(&req.end, 100, 1000) => done.fail(), // reply lost
            Ok(reply) if req.long_reordering && self.registry.chance(&req.end, 600, 900) => {
                let ms = self.registry.with_rng(&req.end, |r| {
                    let upper = r.gen_range(0..2000u64);
                    200 + r.gen_range(0..=upper)
                });
                let me = Arc::clone(self);
                self.exec.after(Duration::from_millis(ms), Box::new(move || me.reply(reply, done)));
            }
            Ok(reply) => self.reply(reply, done),
        }
    }

    fn reply(&self, reply: Vec<u8>, done: Completion) {
        self.total_bytes.fetch_add(reply.len() as u64, Ordering::Relaxed);
        done.complete(Ok(reply));
    }

    /// Every 100 ms while the handler runs: if the end was disabled or the
    /// server deleted, fail the call now.
    fn watch(self: &Arc<Self>, end: Arc<str>, server_name: Arc<str>, server: Arc<Server>, slot: Weak<InFlight>) {
        let me = Arc::clone(self);
        self.exec.after(
            DEAD_CHECK,
            Box::new(move || {
                let Some(live) = slot.upgrade() else { return }; // handler done
                if !fail_if_dead(&me.registry, &end, &server_name, &server, &live) {
                    drop(live);
                    me.watch(end, server_name, server, slot);
                }
            }),
        );
    }
}

/// The simulated network. Owns its threads: dropping it (or
/// [`Network::cleanup`]) stops them and fails every call still in flight.
pub struct Network {
    shared: Arc<Shared>,
    seed: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// A network whose random decisions come from the seed in the
    /// `LABRPC_SEED` environment variable, or from a random seed.
    ///
    /// # Panics
    /// If `LABRPC_SEED` is set to something other than an unsigned integer.
    pub fn new() -> Network {
        Network::with_seed(crate::seed::env_seed().unwrap_or_else(rand::random))
    }

    /// A network whose random decisions all derive from `seed`.
    pub fn with_seed(seed: u64) -> Network {
        let errors = Arc::new(ErrorSink::default());
        let shared = Arc::new(Shared {
            registry: Registry::new(seed),
            exec: Executor::new(Arc::clone(&errors)),
            total_count: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            errors,
            held: Mutex::new(HashMap::new()),
        });
        Network { shared, seed }
    }

    /// The seed this network's random decisions derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Makes a client end. It starts disabled and unconnected.
    ///
    /// # Panics
    /// If an end of that name exists already.
    pub fn make_end(&self, name: &str) -> ClientEnd {
        let name = self.shared.registry.make_end(name);
        ClientEnd { name, net: Arc::downgrade(&self.shared) }
    }

    /// Forgets an end: calls on it fail as if it were disconnected.
    pub fn delete_end(&self, name: &str) {
        self.shared.registry.delete_end(name);
    }

    /// Makes `server` reachable under `name`, replacing any server of that
    /// name (and resetting the name's RPC count).
    pub fn add_server(&self, name: &str, server: Server) {
        self.shared.registry.add_server(name, server);
    }

    /// Removes a server: calls to it fail, including calls whose handler is
    /// running now.
    pub fn delete_server(&self, name: &str) {
        self.shared.registry.delete_server(name);
    }

    /// Connects end `end` to the server named `server`.
    ///
    /// # Panics
    /// If there is no end of that name.
    pub fn connect(&self, end: &str, server: &str) {
        self.shared.registry.connect(end, server);
    }

    /// Enables or disables an end.
    ///
    /// # Panics
    /// If there is no end of that name.
    pub fn enable(&self, end: &str, enabled: bool) {
        self.shared.registry.enable(end, enabled);
    }

    /// Reliable (the default) or unreliable: 0..26 ms delays, 10% of
    /// requests and 10% of replies lost.
    pub fn reliable(&self, yes: bool) {
        self.shared.registry.set_reliable(yes);
    }

    /// Calls on disabled ends fail after 0..7000 ms instead of 0..100 ms.
    pub fn long_delays(&self, yes: bool) {
        self.shared.registry.set_long_delays(yes);
    }

    /// Two replies in three are held back 200..2200 ms.
    pub fn long_reordering(&self, yes: bool) {
        self.shared.registry.set_long_reordering(yes);
    }

    /// RPCs received by the server named `server` (0 if there is none).
    pub fn count(&self, server: &str) -> u64 {
        self.shared.registry.count(server)
    }

    /// Every call ever sent on this network.
    pub fn total_count(&self) -> u64 {
        self.shared.total_count.load(Ordering::Relaxed)
    }

    /// Bytes of every argument sent and every reply delivered.
    pub fn total_bytes(&self) -> u64 {
        self.shared.total_bytes.load(Ordering::Relaxed)
    }

    /// Programming errors the network has seen: unknown services or methods,
    /// arguments or replies that do not decode as the handler's or the
    /// caller's type, panicking handlers and reply callbacks. Each was also
    /// printed, and handed to the [`Network::on_error`] hook.
    pub fn errors(&self) -> Vec<String> {
        self.shared.errors.list()
    }

    /// Runs `hook` with each programming error (see [`Network::errors`]) as
    /// soon as it happens, on the thread that saw it: a test harness fails
    /// the test there and then, as the Go tester's `log.Fatal` would, rather
    /// than at its next check. Replaces an earlier hook.
    pub fn on_error(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        self.shared.errors.set_hook(Arc::new(hook));
    }

    /// Holds back the requests sent on `end` whose method (`"Service.Method"`)
    /// is one of `methods`, or every request if `methods` is empty: they wait
    /// in the network, neither delivered nor failed, until
    /// [`Network::release`] (a message stuck in a router's queue). Other
    /// requests on the end go as usual. Calling it again replaces the
    /// methods and keeps what is held. The end need not exist yet.
    pub fn hold(&self, end: &str, methods: &[&str]) {
        let mut held = self.shared.held.lock().expect("labrpc hold lock poisoned");
        let h = held.entry(Arc::from(end)).or_default();
        h.methods = methods.iter().map(|m| m.to_string()).collect();
    }

    /// The methods of the requests held on `end`, oldest first.
    pub fn held(&self, end: &str) -> Vec<String> {
        let held = self.shared.held.lock().expect("labrpc hold lock poisoned");
        held.get(end).map_or_else(Vec::new, |h| h.queue.iter().map(|(m, _, _)| m.to_string()).collect())
    }

    /// Stops holding requests on `end` and delivers the ones it held, in
    /// `order`, one after another: each handler returns before the next
    /// request reaches the server. Each is routed when released: one whose
    /// end is disabled, or whose server is gone, fails at once. Returns how
    /// many were released.
    pub fn release(&self, end: &str, order: Release) -> usize {
        let Some(h) = self.shared.held.lock().expect("labrpc hold lock poisoned").remove(end) else { return 0 };
        let mut queue = h.queue;
        if order == Release::NewestFirst {
            queue.reverse();
        }
        let n = queue.len();
        if n > 0 {
            let (me, end) = (Arc::clone(&self.shared), Arc::<str>::from(end));
            self.shared.exec.spawn(Box::new(move || {
                for (meth, args, done) in queue {
                    me.deliver_released(&end, meth, args, done);
                }
            }));
        }
        n
    }

    /// Delivers one of the requests held on `end`, the oldest or the newest
    /// (`which`), and keeps holding the others and what comes next. False if
    /// none was held.
    pub fn release_one(&self, end: &str, which: Release) -> bool {
        let one = {
            let mut held = self.shared.held.lock().expect("labrpc hold lock poisoned");
            let Some(h) = held.get_mut(end) else { return false };
            if h.queue.is_empty() {
                return false;
            }
            match which {
                Release::OldestFirst => h.queue.remove(0),
                Release::NewestFirst => h.queue.pop().expect("not empty"),
            }
        };
        let (me, end) = (Arc::clone(&self.shared), Arc::<str>::from(end));
        let (meth, args, done) = one;
        self.shared.exec.spawn(Box::new(move || me.deliver_released(&end, meth, args, done)));
        true
    }

    /// Thread and timer figures of this network.
    pub fn stats(&self) -> ExecutorStats {
        self.shared.exec.stats()
    }

    /// Stops the network's threads, forgets its servers and fails every call
    /// in flight. Idempotent.
    pub fn cleanup(&self) {
        // Held requests fail (their completions run) outside the lock.
        let held = std::mem::take(&mut *self.shared.held.lock().expect("labrpc hold lock poisoned"));
        drop(held);
        self.shared.registry.clear();
        self.shared.exec.shutdown();
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "labrpc: this network's seed was {0}; set LABRPC_SEED={0} to replay its random decisions",
                self.seed
            );
        }
        self.cleanup();
    }
}
