//! Key/value histories from a simulated linearizable store, deterministic
//! from a seed, shaped like the Lab 4 tests' histories.
//!
//! Each client runs one operation at a time. An operation's effect happens
//! at a random instant between its call and its return (its linearization
//! point); the store applies operations in the order of those instants, so
//! every generated history is linearizable, and gets return what the store
//! held. Values are the tests' `"x <cli> <j> y"`.
//!
//! Shared by the integration tests, the benchmark and the viz-check example
//! (`#[path]` includes), so some items go unused in each.
#![allow(dead_code)]

use porcupine::models::kv::{KvInput, KvOp, KvOperation, KvOutput, ValueStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

pub const MS: i64 = 1_000_000;
pub const SEC: i64 = 1_000 * MS;

/// A period in which some operations hang until it ends (a partitioned
/// leader, or every server down and restarting).
#[derive(Clone, Copy, Debug)]
pub struct Stall {
    pub start: i64,
    pub end: i64,
    /// Chance that an operation in flight during the stall hangs to its end.
    pub stuck: f64,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub clients: usize,
    pub keys: usize,
    /// Stop after this many operations (0: no limit) ...
    pub ops: usize,
    /// ... or once clients would call after this time (ns).
    pub until: i64,
    /// Operation latency, uniform in this range (ns) ...
    pub latency: (i64, i64),
    /// ... except with this chance, uniform in the second range (retries).
    pub tail: (f64, (i64, i64)),
    /// Pause between a return and the client's next call (ns).
    pub think: (i64, i64),
    pub append_pct: u32,
    pub put_pct: u32,
    /// Each client uses the key named after it (else random keys).
    pub own_keys: bool,
    /// Each client's first operation puts `""` to its key (`GenericTest`).
    pub initial_put: bool,
    pub stalls: Vec<Stall>,
    pub seed: u64,
}

impl Workload {
    /// `clients` clients on `keys` random keys, `ops` operations, 50%
    /// append, 5% put, 45% get, latencies of a few ms with a 2% tail of
    /// retries up to half a second.
    pub fn new(clients: usize, keys: usize, ops: usize, seed: u64) -> Self {
        Workload {
            clients,
            keys,
            ops,
            until: i64::MAX,
            latency: (MS, 30 * MS),
            tail: (0.02, (100 * MS, 500 * MS)),
            think: (0, MS),
            append_pct: 50,
            put_pct: 5,
            own_keys: false,
            initial_put: false,
            stalls: Vec::new(),
            seed,
        }
    }
}

struct Planned {
    client: usize,
    input: KvInput,
    call: i64,
    ret: i64,
    lp: i64,
}

/// Plans `w`'s operations from `start` (ns) on: each client's operations in
/// sequence, with latencies, stalls and linearization points.
fn plan(w: &Workload, rng: &mut StdRng, start: i64, counters: &mut [usize], out: &mut Vec<Planned>) -> i64 {
    let mut next_call: Vec<i64> = (0..w.clients).map(|_| start + rng.gen_range(0..=w.latency.1)).collect();
    let mut last_return = start;
    let mut count = 0;
    let mut first = vec![true; w.clients];
    loop {
        if w.ops > 0 && count >= w.ops {
            break;
        }
        let (client, &call) = next_call.iter().enumerate().min_by_key(|(_, &t)| t).expect("one client at least");
        if call >= w.until {
            break;
        }
        let mut latency = if rng.gen_bool(w.tail.0) {
            rng.gen_range(w.tail.1 .0..=w.tail.1 .1)
        } else {
            rng.gen_range(w.latency.0..=w.latency.1)
        };
        for s in &w.stalls {
            if call < s.end && call + latency > s.start && rng.gen_bool(s.stuck) {
                latency = latency.max(s.end + rng.gen_range(0..100 * MS) - call);
            }
        }
        let ret = call + latency;
        let key = if w.own_keys { client.to_string() } else { rng.gen_range(0..w.keys).to_string() };
        let roll = rng.gen_range(0..100);
        let input = if w.initial_put && std::mem::take(&mut first[client]) {
            KvInput::put(key, "")
        } else if roll < w.append_pct + w.put_pct {
            let value = format!("x {client} {} y", counters[client]);
            counters[client] += 1;
            if roll < w.append_pct {
                KvInput::append(key, value)
            } else {
                KvInput::put(key, value)
            }
        } else {
            KvInput::get(key)
        };
        out.push(Planned { client, input, call, ret, lp: rng.gen_range(call..=ret) });
        next_call[client] = ret + rng.gen_range(w.think.0..=w.think.1);
        last_return = last_return.max(ret);
        count += 1;
    }
    last_return
}

/// Runs the planned operations through a sequential store in linearization
/// point order; the history lists them in call order.
fn execute(mut planned: Vec<Planned>) -> Vec<KvOperation> {
    let mut by_lp: Vec<usize> = (0..planned.len()).collect();
    by_lp.sort_by_key(|&i| (planned[i].lp, i));
    let mut store: HashMap<String, String> = HashMap::new();
    // Reads stored as the tester stores them: sharing text, so that
    // histories of long values stay small.
    let values = ValueStore::new();
    for p in planned.iter_mut() {
        p.input.key = values.key(&p.input.key);
    }
    let mut outputs = vec![KvOutput::none(); planned.len()];
    for i in by_lp {
        let input = &planned[i].input;
        let value = store.entry(input.key.to_string()).or_default();
        match input.op {
            KvOp::Get => outputs[i] = KvOutput::new(values.value(&input.key, value)),
            KvOp::Put => *value = input.value.text(),
            KvOp::Append => value.push_str(&input.value.text()),
        }
    }
    let mut ops: Vec<KvOperation> = planned
        .drain(..)
        .zip(outputs)
        .map(|(p, output)| KvOperation { client_id: p.client, input: p.input, output, call: p.call, return_: p.ret })
        .collect();
    ops.sort_by_key(|o| o.call);
    ops
}

/// A linearizable history of `w`.
pub fn generate(w: &Workload) -> Vec<KvOperation> {
    let mut rng = StdRng::seed_from_u64(w.seed);
    let mut counters = vec![0; w.clients];
    let mut planned = Vec::new();
    plan(w, &mut rng, 0, &mut counters, &mut planned);
    execute(planned)
}

/// A history like `GenericTest`'s against a fast server (a few thousand
/// operations per second in all): three rounds of `ops / 3` operations by
/// `clients` clients, each round's clients numbering their values from 0
/// again; with `own_keys`, each client works on its own key and begins each
/// round with a put of `""` (appends 50%, gets 50%: one key's value grows to
/// about 10 bytes per two of its operations), else on random keys among
/// `clients` (50% append, 5% put); each round ends with client 0 reading
/// every key. Latencies of 0.1-0.4 ms per operation times the number of
/// clients, with a 0.1% tail up to 50 ms.
pub fn generic_like(clients: usize, ops: usize, own_keys: bool, seed: u64) -> Vec<KvOperation> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut planned = Vec::new();
    let mut t = 0;
    let per_client = |x: i64| x * clients as i64;
    for _round in 0..3 {
        let mut counters = vec![0; clients];
        let w = Workload {
            clients,
            keys: clients,
            ops: ops / 3,
            until: i64::MAX,
            latency: (per_client(100_000), per_client(400_000)),
            tail: (0.001, (MS, 50 * MS)),
            think: (1, 5_000),
            append_pct: 50,
            put_pct: if own_keys { 0 } else { 5 },
            own_keys,
            initial_put: own_keys,
            stalls: Vec::new(),
            seed: 0,
        };
        let end = plan(&w, &mut rng, t, &mut counters, &mut planned);
        let mut at = end + MS;
        for key in 0..clients {
            let ret = at + rng.gen_range(100_000..=400_000);
            planned.push(Planned {
                client: 0,
                input: KvInput::get(key.to_string()),
                call: at,
                ret,
                lp: rng.gen_range(at..=ret),
            });
            at = ret + 1;
        }
        t = at + MS;
    }
    execute(planned)
}

/// A history shaped like Lab 4's linearizability tests (15 clients, 7
/// servers, unreliable network, restarts, partitions, random keys): three
/// rounds of 5 s of clients on `clients` random keys (50% append, 5% put),
/// with new clients each round (so values repeat across rounds), a
/// partitioner from 1 s on (every ~1.1 s, half the time the leader
/// is cut off and half the operations in flight hang for 0.5-1 s), a restart
/// of every server at the end of each round (operations in flight hang 1.3-2
/// s), and then a get of every key by client 0.
pub fn lab4_like(clients: usize, seed: u64) -> Vec<KvOperation> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut planned = Vec::new();
    let mut t = 0;
    for _round in 0..3 {
        // New clients each round, numbering their values from 0 again.
        let mut counters = vec![0; clients];
        let mut stalls = Vec::new();
        let mut p = t + SEC;
        while p < t + 5 * SEC {
            if rng.gen_bool(0.5) {
                stalls.push(Stall { start: p, end: p + rng.gen_range(500 * MS..=SEC), stuck: 0.5 });
            }
            p += SEC + rng.gen_range(0..200 * MS);
        }
        let stop = t + 5 * SEC;
        stalls.push(Stall { start: stop, end: stop + rng.gen_range(1_300 * MS..=2 * SEC), stuck: 1.0 });
        let w = Workload {
            clients,
            keys: clients,
            ops: 0,
            until: stop,
            latency: (15 * MS, 120 * MS),
            tail: (0.03, (200 * MS, 800 * MS)),
            think: (0, MS),
            append_pct: 50,
            put_pct: 5,
            own_keys: false,
            initial_put: false,
            stalls,
            seed: 0,
        };
        let end = plan(&w, &mut rng, t, &mut counters, &mut planned);
        // Client 0 reads every key, one get after another.
        let mut at = end + MS;
        for key in 0..clients {
            let ret = at + rng.gen_range(15 * MS..=60 * MS);
            planned.push(Planned {
                client: 0,
                input: KvInput::get(key.to_string()),
                call: at,
                ret,
                lp: rng.gen_range(at..=ret),
            });
            at = ret + 1;
        }
        t = at + 10 * MS;
    }
    execute(planned)
}
