//! Randomized cross-checks against the brute-force checker (seeded, so
//! deterministic), and generated histories that must be linearizable.

mod common;

use common::kv_gen::{generate, Workload};
use common::{brute_force, op, Queue, QueueOp};
use porcupine::models::kv::{KvInput, KvModel, KvNoPartitionModel, KvOp, KvOperation, KvOutput};
use porcupine::{check_operations, check_operations_verbose, CheckResult, Model, Operation};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::time::Duration;

const LIMIT: Option<Duration> = Some(Duration::from_secs(30));

fn verdict(linearizable: bool) -> CheckResult {
    if linearizable {
        CheckResult::Ok
    } else {
        CheckResult::Illegal
    }
}

/// Random intervals in a short span (many overlaps and equal instants);
/// clients may even overlap themselves.
fn random_times(rng: &mut StdRng) -> (usize, i64, i64) {
    let call = rng.gen_range(0..30);
    (rng.gen_range(0..4), call, call + rng.gen_range(0..15))
}

/// Up to 8 operations on one or two keys. Gets return either what a
/// sequential run in the order of random linearization points gave (often
/// then corrupted once) or random plausible values.
fn random_kv_history(rng: &mut StdRng) -> Vec<KvOperation> {
    let n = rng.gen_range(0..=8);
    let keys = if rng.gen_bool(0.5) { &["a"][..] } else { &["a", "b"][..] };
    let mut h: Vec<KvOperation> = (0..n)
        .map(|_| {
            let (client, call, ret) = random_times(rng);
            let key = *keys.choose(rng).unwrap();
            let value = ["1", "2", "3"].choose(rng).unwrap().to_string();
            let input = match rng.gen_range(0..10) {
                0..=3 => KvInput::get(key),
                4..=6 => KvInput::put(key, value),
                _ => KvInput::append(key, value),
            };
            op(client, input, KvOutput::none(), call, ret)
        })
        .collect();
    let plausible = ["", "1", "2", "3", "12", "21", "13", "31", "123", "11"];
    if rng.gen_bool(0.6) {
        let lps: Vec<i64> = h.iter().map(|o| rng.gen_range(o.call..=o.return_)).collect();
        let mut order: Vec<usize> = (0..h.len()).collect();
        order.sort_by_key(|&i| lps[i]);
        let mut store: HashMap<String, String> = HashMap::new();
        for i in order {
            let value = store.entry(h[i].input.key.to_string()).or_default();
            match h[i].input.op {
                KvOp::Get => h[i].output = KvOutput::new(value.clone()),
                KvOp::Put => *value = h[i].input.value.text(),
                KvOp::Append => value.push_str(&h[i].input.value.text()),
            }
        }
        let gets: Vec<usize> = (0..h.len()).filter(|&i| h[i].input.op == KvOp::Get).collect();
        if let (Some(&i), true) = (gets.choose(rng), rng.gen_bool(0.5)) {
            h[i].output = KvOutput::new(*plausible.choose(rng).unwrap());
        }
    } else {
        for o in h.iter_mut().filter(|o| o.input.op == KvOp::Get) {
            o.output = KvOutput::new(*plausible.choose(rng).unwrap());
        }
    }
    h
}

fn random_queue_history(rng: &mut StdRng) -> Vec<Operation<QueueOp, Option<u8>>> {
    let n = rng.gen_range(0..=8);
    (0..n)
        .map(|_| {
            let (client, call, ret) = random_times(rng);
            if rng.gen_bool(0.5) {
                op(client, QueueOp::Enqueue(rng.gen_range(1..=3)), None, call, ret)
            } else {
                let out = if rng.gen_bool(0.25) { None } else { Some(rng.gen_range(1..=3)) };
                op(client, QueueOp::Dequeue, out, call, ret)
            }
        })
        .collect()
}

/// Every recorded partial linearization is a legal prefix of some order
/// that respects real time, and each operation's longest one contains it
/// and is the longest listed that does.
fn assert_info_is_consistent<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) {
    let (result, info) = check_operations_verbose(model, h, LIMIT);
    for part in info.partitions() {
        let ops = part.operations();
        assert!(part.result() == result || part.result() == CheckResult::Ok);
        for lin in part.partial_linearizations() {
            let mut state = model.init();
            let mut done = vec![false; ops.len()];
            for &i in lin {
                let first_return = (0..ops.len()).filter(|&j| !done[j]).map(|j| ops[j].return_).min().unwrap();
                assert!(ops[i].call <= first_return, "operation {i} linearized before one that returned earlier");
                state = model.step(&state, &ops[i].input, &ops[i].output).expect("a recorded step is legal");
                done[i] = true;
            }
        }
        let lens: Vec<usize> = part.partial_linearizations().iter().map(Vec::len).collect();
        assert!(lens.windows(2).all(|w| w[0] >= w[1]), "longest first: {lens:?}");
        for (i, l) in part.longest().iter().enumerate() {
            let containing: Vec<usize> =
                (0..lens.len()).filter(|&k| part.partial_linearizations()[k].contains(&i)).collect();
            match l {
                Some(k) => {
                    assert!(containing.contains(k));
                    assert!(containing.iter().all(|&c| lens[c] <= lens[*k]));
                }
                None => assert!(containing.is_empty()),
            }
        }
        match part.result() {
            CheckResult::Ok => assert_eq!(lens, vec![ops.len()]),
            CheckResult::Illegal => assert!(!lens.is_empty() && lens[0] < ops.len()),
            CheckResult::Unknown => panic!("no time limit was reached"),
        }
    }
}

#[test]
fn kv_agrees_with_brute_force() {
    let mut rng = StdRng::seed_from_u64(0x6b76);
    let mut counts = HashMap::new();
    for case in 0..4_000 {
        let h = random_kv_history(&mut rng);
        let expected = verdict(brute_force(&KvNoPartitionModel, &h));
        let ctx = || format!("case {case}: {h:?}");
        assert_eq!(check_operations(&KvModel, &h, LIMIT), expected, "by key, {}", ctx());
        assert_eq!(check_operations(&KvNoPartitionModel, &h, LIMIT), expected, "one partition, {}", ctx());
        assert_eq!(check_operations_verbose(&KvModel, &h, LIMIT).0, expected, "verbose, {}", ctx());
        assert_info_is_consistent(&KvModel, &h);
        *counts.entry(expected).or_insert(0) += 1;
    }
    // Both verdicts are common, so the agreement means something.
    assert!(counts[&CheckResult::Ok] > 1_000 && counts[&CheckResult::Illegal] > 1_000, "{counts:?}");
}

#[test]
fn queue_agrees_with_brute_force() {
    let mut rng = StdRng::seed_from_u64(0x7175);
    let mut counts = HashMap::new();
    for case in 0..2_000 {
        let h = random_queue_history(&mut rng);
        let expected = verdict(brute_force(&Queue, &h));
        assert_eq!(check_operations(&Queue, &h, LIMIT), expected, "case {case}: {h:?}");
        assert_info_is_consistent(&Queue, &h);
        *counts.entry(expected).or_insert(0) += 1;
    }
    assert!(counts[&CheckResult::Ok] > 400 && counts[&CheckResult::Illegal] > 400, "{counts:?}");
}

#[test]
fn generated_histories_are_linearizable() {
    let mut rng = StdRng::seed_from_u64(0x6f6b);
    for case in 0..60 {
        let clients = rng.gen_range(1..=8);
        let keys = rng.gen_range(1..=4);
        let ops = rng.gen_range(1..=300);
        let h = generate(&Workload::new(clients, keys, ops, rng.gen()));
        assert_eq!(h.len(), ops);
        assert_eq!(check_operations(&KvModel, &h, LIMIT), CheckResult::Ok, "case {case}");
        assert_eq!(check_operations_verbose(&KvModel, &h, LIMIT).0, CheckResult::Ok, "case {case}");
        // One partition holding every key is exponentially harder; small
        // histories only.
        if ops <= 60 {
            assert_eq!(check_operations(&KvNoPartitionModel, &h, LIMIT), CheckResult::Ok, "case {case}");
        }
    }
}

#[test]
fn generated_histories_with_one_corrupted_get() {
    let mut rng = StdRng::seed_from_u64(0x6261);
    let mut illegal = 0;
    for case in 0..1_500 {
        let clients = rng.gen_range(1..=4);
        let ops = rng.gen_range(2..=8);
        let mut w = Workload::new(clients, rng.gen_range(1..=2), ops, rng.gen());
        // Short, overlapping latencies, so that orders are in question.
        w.latency = (1, 20);
        w.tail = (0.1, (20, 60));
        w.think = (0, 5);
        let mut h = generate(&w);
        assert_eq!(check_operations(&KvModel, &h, LIMIT), CheckResult::Ok, "case {case}: {h:?}");
        let gets: Vec<usize> = (0..h.len()).filter(|&i| h[i].input.op == KvOp::Get).collect();
        let Some(&i) = gets.choose(&mut rng) else { continue };
        // Another value the key held or could hold, or a fresh one.
        let other = h.iter().filter(|o| o.input.op != KvOp::Get).map(|o| o.input.value.clone()).collect::<Vec<_>>();
        let wrong = match other.choose(&mut rng) {
            Some(v) if rng.gen_bool(0.7) && *v != h[i].output.value => v.clone(),
            _ => format!("{}z", h[i].output.value).into(),
        };
        h[i].output = KvOutput::new(wrong);
        let expected = verdict(brute_force(&KvNoPartitionModel, &h));
        assert_eq!(check_operations(&KvModel, &h, LIMIT), expected, "case {case}: {h:?}");
        assert_eq!(check_operations(&KvNoPartitionModel, &h, LIMIT), expected, "case {case}: {h:?}");
        illegal += usize::from(expected == CheckResult::Illegal);
    }
    assert!(illegal > 500, "only {illegal} corrupted histories were illegal");
}
