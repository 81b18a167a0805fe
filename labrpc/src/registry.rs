//! The network's tables: ends, servers, connections and the reliability
//! switches, behind one lock. Every routing decision of a request reads them
//! in one critical section, so a decision never mixes two states of the
//! network.

use crate::sync::Mutex;
use crate::Server;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;

struct EndState {
    enabled: bool,
    server: Option<Arc<str>>,
    /// This end's own random stream, derived from the network's seed and the
    /// end's name, so that one end's decisions do not depend on how much
    /// traffic other ends sent.
    rng: StdRng,
}

#[derive(Default)]
struct Tables {
    ends: HashMap<Arc<str>, EndState>,
    servers: HashMap<Arc<str>, Arc<Server>>,
    unreliable: bool,
    long_delays: bool,
    long_reordering: bool,
    cleaned_up: bool,
}

/// Where a request goes, decided when it is sent.
pub(crate) enum Route {
    /// The end is disabled, unconnected or its server is gone: fail after
    /// `delay_ms`.
    Lost { delay_ms: u64 },
    /// Deliver to `server` after `delay_ms`.
    Deliver { server_name: Arc<str>, server: Arc<Server>, unreliable: bool, long_reordering: bool, delay_ms: u64 },
}

pub(crate) struct Registry {
    seed: u64,
    tables: Mutex<Tables>,
}

/// FNV-1a: a stable hash of an end's name (std's hasher is randomized).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl Registry {
    pub(crate) fn new(seed: u64) -> Registry {
        Registry { seed, tables: Mutex::new(Tables::default()) }
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, Tables> {
        self.tables.lock().expect("labrpc network lock poisoned")
    }

    pub(crate) fn make_end(&self, name: &str) -> Arc<str> {
        let name: Arc<str> = Arc::from(name);
        let mut t = self.lock();
        assert!(!t.ends.contains_key(&name), "labrpc: make_end: an end named {name:?} already exists");
        let rng = StdRng::seed_from_u64(self.seed ^ fnv1a(&name));
        t.ends.insert(Arc::clone(&name), EndState { enabled: false, server: None, rng });
        name
    }

    pub(crate) fn delete_end(&self, name: &str) {
        self.lock().ends.remove(name);
    }

    pub(crate) fn add_server(&self, name: &str, server: Server) {
        let mut t = self.lock();
        if !t.cleaned_up {
            t.servers.insert(Arc::from(name), Arc::new(server));
        }
    }

    pub(crate) fn delete_server(&self, name: &str) {
        let old = self.lock().servers.remove(name);
        drop(old); // outside the lock: it may own a whole Raft peer
    }

    pub(crate) fn connect(&self, end: &str, server: &str) {
        let mut t = self.lock();
        let e = t.ends.get_mut(end).unwrap_or_else(|| panic!("labrpc: connect: no end named {end:?}"));
        e.server = Some(Arc::from(server));
    }

    pub(crate) fn enable(&self, end: &str, enabled: bool) {
        let mut t = self.lock();
        let e = t.ends.get_mut(end).unwrap_or_else(|| panic!("labrpc: enable: no end named {end:?}"));
        e.enabled = enabled;
    }

    pub(crate) fn set_reliable(&self, yes: bool) {
        self.lock().unreliable = !yes;
    }

    pub(crate) fn set_long_delays(&self, yes: bool) {
        self.lock().long_delays = yes;
    }

    pub(crate) fn set_long_reordering(&self, yes: bool) {
        self.lock().long_reordering = yes;
    }

    pub(crate) fn count(&self, server: &str) -> u64 {
        self.lock().servers.get(server).map_or(0, |s| s.count())
    }

    /// Decides where a request sent on `end` goes, and when (step 1 and the
    /// first half of step 2 of the lab's request path).
    pub(crate) fn route(&self, end: &str) -> Route {
        let mut t = self.lock();
        let (unreliable, long_delays, long_reordering) = (t.unreliable, t.long_delays, t.long_reordering);
        let t = &mut *t;
        let Some(e) = t.ends.get_mut(end) else {
            // A deleted end behaves like a disconnected one.
            return Route::Lost { delay_ms: 0 };
        };
        let target = if e.enabled { e.server.as_ref().and_then(|n| t.servers.get_key_value(n)) } else { None };
        match target {
            Some((name, server)) => Route::Deliver {
                server_name: Arc::clone(name),
                server: Arc::clone(server),
                unreliable,
                long_reordering,
                delay_ms: if unreliable { e.rng.gen_range(0..27) } else { 0 },
            },
            None => Route::Lost {
                // Long delays catch leaders that send RPCs synchronously;
                // short ones let clients try every server quickly.
                delay_ms: if long_delays { e.rng.gen_range(0..7000) } else { e.rng.gen_range(0..100) },
            },
        }
    }

    /// True with probability `num/den`, drawn from `end`'s stream.
    pub(crate) fn chance(&self, end: &str, num: u32, den: u32) -> bool {
        self.with_rng(end, |r| r.gen_range(0..den) < num)
    }

    /// Runs `f` with `end`'s random stream (a fresh one if the end is gone).
    pub(crate) fn with_rng<T>(&self, end: &str, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut t = self.lock();
        match t.ends.get_mut(end) {
            Some(e) => f(&mut e.rng),
            None => f(&mut StdRng::seed_from_u64(self.seed ^ fnv1a(end))),
        }
    }

    /// Has the path from `end` to `server` gone since the request started:
    /// end disabled, or the server deleted or replaced?
    pub(crate) fn is_dead(&self, end: &str, server_name: &str, server: &Arc<Server>) -> bool {
        let t = self.lock();
        let enabled = t.ends.get(end).is_some_and(|e| e.enabled);
        let same = t.servers.get(server_name).is_some_and(|s| Arc::ptr_eq(s, server));
        !enabled || !same
    }

    /// Forgets every server (breaking reference cycles through handlers) and
    /// refuses new ones.
    pub(crate) fn clear(&self) {
        let servers = {
            let mut t = self.lock();
            t.cleaned_up = true;
            std::mem::take(&mut t.servers)
        };
        drop(servers);
    }
}
