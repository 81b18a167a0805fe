//! The API's edges: bad input, time limits, stopping, the event form, the
//! verbose info over several partitions.

mod common;

use common::kv_gen::{generate, Workload};
use common::{append, get, op, put};
use porcupine::models::kv::{KvInput, KvModel, KvNoPartitionModel, KvOperation, KvOutput, Value};
use porcupine::{check_events, check_operations, check_operations_verbose, now_ns, CheckResult, Event, Model};
use std::time::{Duration, Instant};

#[test]
#[should_panic(expected = "porcupine: operation 1 (client 7, put('k', 'v')) returns at 5 ns, before its call at 9 ns")]
fn return_before_call_is_named() {
    let h = vec![get(0, "k", "", 0, 1), put(7, "k", "v", 9, 5)];
    let _ = check_operations(&KvModel, &h, None);
}

/// A model whose partition is given.
struct Groups(Vec<Vec<usize>>);

impl Model for Groups {
    type Input = KvInput;
    type Output = KvOutput;
    type State = Value;
    fn partition(&self, _: &[KvOperation]) -> Vec<Vec<usize>> {
        self.0.clone()
    }
    fn init(&self) -> Value {
        KvModel.init()
    }
    fn step(&self, s: &Value, i: &KvInput, o: &KvOutput) -> Option<Value> {
        KvModel.step(s, i, o)
    }
    fn describe_operation(&self, i: &KvInput, o: &KvOutput) -> String {
        KvModel.describe_operation(i, o)
    }
    fn describe_state(&self, s: &Value) -> String {
        s.text()
    }
}

fn two_ops() -> Vec<KvOperation> {
    vec![put(0, "k", "v", 0, 1), get(1, "k", "v", 2, 3)]
}

#[test]
#[should_panic(expected = "porcupine: Model::partition returned an empty group (group 1)")]
fn empty_group() {
    let _ = check_operations(&Groups(vec![vec![0, 1], vec![]]), &two_ops(), None);
}

#[test]
#[should_panic(
    expected = "porcupine: Model::partition left operation 1 (client 1, get('k') -> 'v') out of every group"
)]
fn operation_left_out() {
    let _ = check_operations(&Groups(vec![vec![0]]), &two_ops(), None);
}

#[test]
#[should_panic(expected = "porcupine: Model::partition left operation 0 (client 0, put('k', 'v')) out of every group")]
fn no_groups_for_a_non_empty_history() {
    let _ = check_operations(&Groups(vec![]), &two_ops(), None);
}

#[test]
#[should_panic(expected = "porcupine: Model::partition put operation 0 in group 0 and again in group 1")]
fn operation_twice() {
    let _ = check_operations(&Groups(vec![vec![0, 1], vec![0]]), &two_ops(), None);
}

#[test]
#[should_panic(expected = "porcupine: Model::partition put index 5 in group 0, but the history has 2 operations")]
fn index_out_of_range() {
    let _ = check_operations(&Groups(vec![vec![0, 1, 5]]), &two_ops(), None);
}

#[test]
fn a_custom_partition_is_honoured() {
    // Splitting one key's operations apart makes the read legal in its own group.
    let h = vec![put(0, "k", "v", 0, 1), get(1, "k", "", 2, 3)];
    assert_eq!(check_operations(&Groups(vec![vec![0, 1]]), &h, None), CheckResult::Illegal);
    assert_eq!(check_operations(&Groups(vec![vec![1], vec![0]]), &h, None), CheckResult::Ok);
}

/// A history of 50 clients on 50 keys: as one partition, far too many
/// orders to finish in seconds (the benchmark has it run out of time).
fn hard() -> Vec<KvOperation> {
    generate(&Workload::new(50, 50, 1_700, 3))
}

#[test]
fn a_time_limit_gives_unknown_promptly() {
    let h = hard();
    for verbose in [false, true] {
        let start = Instant::now();
        let result = if verbose {
            check_operations_verbose(&KvNoPartitionModel, &h, Some(Duration::from_millis(200))).0
        } else {
            check_operations(&KvNoPartitionModel, &h, Some(Duration::from_millis(200)))
        };
        let took = start.elapsed();
        assert_eq!(result, CheckResult::Unknown, "verbose: {verbose}");
        assert!(took >= Duration::from_millis(200), "{took:?}");
        // Measured: 5-11 ms over the limit (search, then freeing it).
        assert!(took < Duration::from_millis(300), "gave up only after {took:?}");
    }
    // Partitioned by key, the same history is quick.
    assert_eq!(check_operations(&KvModel, &h, Some(Duration::from_secs(20))), CheckResult::Ok);
}

/// A long sequential history, as one client against a fast server makes:
/// puts and gets of short values on one key, `n` operations.
fn huge(n: usize) -> Vec<KvOperation> {
    let key: std::sync::Arc<str> = "k".into();
    (0..n)
        .map(|i| {
            let v = format!("x 0 {} y", i / 2);
            let (input, output) = if i % 2 == 0 {
                (KvInput::put(key.clone(), v.as_str()), KvOutput::none())
            } else {
                (KvInput::get(key.clone()), KvOutput::new(v.as_str()))
            };
            KvOperation { client_id: 0, input, output, call: 10 * i as i64, return_: 10 * i as i64 + 5 }
        })
        .collect()
}

#[test]
fn a_time_limit_is_honoured_on_a_huge_history() {
    // Far more than the limit allows to search (setup included): every
    // phase gives up in time. The margin covers the validation and the
    // partition, which run to their end (a few ns per operation), and a
    // loaded machine.
    let n = if cfg!(debug_assertions) { 300_000 } else { 2_000_000 };
    let h = huge(n);
    let limit = Duration::from_millis(100);
    for verbose in [false, true] {
        let start = Instant::now();
        let result = if verbose {
            let (result, info) = check_operations_verbose(&KvModel, &h, Some(limit));
            assert_eq!(info.partitions()[0].result(), CheckResult::Unknown);
            // Out of time: the undecided partition's operations are not copied.
            assert!(info.partitions()[0].operations().is_empty());
            assert_eq!(info.partitions()[0].history_indices().len(), n);
            result
        } else {
            check_operations(&KvModel, &h, Some(limit))
        };
        let took = start.elapsed();
        assert_eq!(result, CheckResult::Unknown, "verbose: {verbose}");
        assert!(took >= limit && took < limit + Duration::from_millis(100), "verbose {verbose}: {took:?}");
    }
    // Without a limit, it is linearizable; one wrong read makes it not.
    if cfg!(not(debug_assertions)) {
        assert_eq!(check_operations(&KvModel, &h, None), CheckResult::Ok);
    }
    let mut bad = huge(20_001);
    bad[20_000 - 1].output = KvOutput::new("x 0 0 y");
    let (result, info) = check_operations_verbose(&KvModel, &bad, Some(Duration::from_secs(30)));
    assert_eq!(result, CheckResult::Illegal);
    // Everything before the wrong read, which nothing can precede.
    assert_eq!(info.partitions()[0].partial_linearizations()[0].len(), 20_000 - 1);
}

/// A model that checks key "a" alone and keys "b".."z" together (the hard
/// case): an illegal "a" must stop the search of the rest.
struct SplitA;

impl Model for SplitA {
    type Input = KvInput;
    type Output = KvOutput;
    type State = <KvNoPartitionModel as Model>::State;
    fn partition(&self, h: &[KvOperation]) -> Vec<Vec<usize>> {
        let (a, rest): (Vec<usize>, Vec<usize>) = (0..h.len()).partition(|&i| &*h[i].input.key == "a");
        vec![a, rest]
    }
    fn init(&self) -> Self::State {
        KvNoPartitionModel.init()
    }
    fn step(&self, s: &Self::State, i: &KvInput, o: &KvOutput) -> Option<Self::State> {
        KvNoPartitionModel.step(s, i, o)
    }
    fn describe_operation(&self, i: &KvInput, o: &KvOutput) -> String {
        KvModel.describe_operation(i, o)
    }
    fn describe_state(&self, s: &Self::State) -> String {
        KvNoPartitionModel.describe_state(s)
    }
}

#[test]
fn an_illegal_partition_stops_the_others() {
    let mut h = hard();
    h.push(get(99, "a", "never written", 0, 1));
    let start = Instant::now();
    // Without the stop, the second partition would run for the whole limit.
    assert_eq!(check_operations(&SplitA, &h, Some(Duration::from_secs(60))), CheckResult::Illegal);
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    // The verbose form searches every partition: the other one runs out of time.
    let (result, info) = check_operations_verbose(&SplitA, &h, Some(Duration::from_millis(300)));
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(info.partitions()[0].result(), CheckResult::Illegal);
    assert_eq!(info.partitions()[1].result(), CheckResult::Unknown);
}

#[test]
fn events_form() {
    let e = |c, id, i: KvInput| Event::call(c, id, i);
    let r = |c, id, v: &str| Event::return_(c, id, KvOutput::new(v));
    // Two overlapping appends, then a read that sees "ba".
    let mut events = vec![
        e(0, 1, KvInput::append("k", "a")),
        e(1, 2, KvInput::append("k", "b")),
        r(0, 1, ""),
        r(1, 2, ""),
        e(2, 3, KvInput::get("k")),
        r(2, 3, "ba"),
    ];
    assert_eq!(check_events(&KvModel, &events, None), CheckResult::Ok);
    // Move the append of "a" to return before "b" is called: "ba" is now impossible.
    events.swap(1, 2);
    assert_eq!(check_events(&KvModel, &events, None), CheckResult::Illegal);
    assert_eq!(check_events(&KvModel, &events, Some(Duration::ZERO)), CheckResult::Unknown);
    let (result, info) = porcupine::check_events_verbose(&KvModel, &events, None);
    assert_eq!(result, CheckResult::Illegal);
    let ops = info.partitions()[0].operations();
    assert_eq!((ops[0].call, ops[0].return_, ops[1].call, ops[1].return_), (0, 1, 2, 3));
}

#[test]
#[should_panic(expected = "event 0: return of operation id 9 (client 0) without a call before it")]
fn events_form_names_a_stray_return() {
    let _ = check_events(&KvModel, &[Event::return_(0, 9, KvOutput::none())], None);
}

#[test]
fn verbose_info_over_partitions() {
    let h = vec![
        put(0, "b", "1", 0, 10),
        get(1, "a", "", 0, 10),
        get(1, "b", "2", 20, 30),
        append(2, "c", "x", 5, 6),
        get(2, "c", "x", 7, 8),
        put(0, "b", "2", 15, 40),
    ];
    let (result, info) = check_operations_verbose(&KvModel, &h, None);
    assert_eq!(result, CheckResult::Ok);
    let parts = info.partitions();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts.iter().map(|p| p.history_indices().to_vec()).collect::<Vec<_>>(),
        vec![vec![1], vec![0, 2, 5], vec![3, 4]]
    );
    assert_eq!(parts[1].operations()[2], h[5]);
    assert_eq!(parts[1].partial_linearizations(), &[vec![0, 2, 1]]);

    // Make key "b" illegal: its read of "3" was never written.
    let mut bad = h.clone();
    bad[2] = get(1, "b", "3", 20, 30);
    let (result, info) = check_operations_verbose(&KvModel, &bad, None);
    assert_eq!(result, CheckResult::Illegal);
    let results: Vec<CheckResult> = info.partitions().iter().map(|p| p.result()).collect();
    assert_eq!(results, vec![CheckResult::Ok, CheckResult::Illegal, CheckResult::Ok]);
    let b = &info.partitions()[1];
    // The longest partial linearization: put 1 then put 2; the read fits nowhere.
    assert_eq!(b.partial_linearizations()[0], vec![0, 2]);
    assert_eq!(b.longest()[1], None);
    assert_eq!(b.longest()[0], Some(0));
}

#[test]
fn illegal_from_the_first_step() {
    let h = vec![get(0, "k", "x", 0, 10), get(1, "k", "y", 0, 10)];
    let (result, info) = check_operations_verbose(&KvModel, &h, None);
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(info.partitions()[0].partial_linearizations(), &[Vec::<usize>::new()]);
    assert_eq!(info.partitions()[0].longest(), &[None, None]);
}

#[test]
fn result_has_no_accidental_ok() {
    // Display names Unknown as such; the verdict is only ever read by matching.
    assert_eq!(CheckResult::Unknown.to_string(), "unknown (timed out)");
    assert_eq!(CheckResult::Ok.to_string(), "linearizable");
    assert_eq!(CheckResult::Illegal.to_string(), "not linearizable");
}

#[test]
fn now_ns_is_monotonic_from_a_process_wide_start() {
    let a = now_ns();
    std::thread::sleep(Duration::from_millis(2));
    let b = std::thread::spawn(now_ns).join().unwrap();
    assert!(a >= 0 && b - a >= 2_000_000, "{a} {b}");
    let _unused = op(0, (), (), a, b);
}

/// Key "a" checked alone and panicking; keys "b".."z" together (hard).
struct PanicsOnA;

impl Model for PanicsOnA {
    type Input = KvInput;
    type Output = KvOutput;
    type State = <KvNoPartitionModel as Model>::State;
    fn partition(&self, h: &[KvOperation]) -> Vec<Vec<usize>> {
        SplitA.partition(h)
    }
    fn init(&self) -> Self::State {
        KvNoPartitionModel.init()
    }
    fn step(&self, s: &Self::State, i: &KvInput, o: &KvOutput) -> Option<Self::State> {
        assert!(&*i.key != "a", "the model cannot step key a");
        KvNoPartitionModel.step(s, i, o)
    }
    fn describe_operation(&self, i: &KvInput, o: &KvOutput) -> String {
        KvModel.describe_operation(i, o)
    }
    fn describe_state(&self, s: &Self::State) -> String {
        KvNoPartitionModel.describe_state(s)
    }
}

#[test]
fn a_panic_in_the_model_reaches_the_caller_promptly() {
    let mut h = hard();
    h.push(get(99, "a", "", 0, 1));
    let start = Instant::now();
    // (The limit only bounds a failing run: without the stop, the panic would
    // come after 30 s.)
    let caught = std::panic::catch_unwind(|| check_operations(&PanicsOnA, &h, Some(Duration::from_secs(30))));
    let Err(message) = caught else { panic!("the model's panic is passed on") };
    assert_eq!(message.downcast_ref::<&str>(), Some(&"the model cannot step key a"));
    // Without stopping the others, the hard partition would run unbounded.
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
}
