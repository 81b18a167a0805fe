//! Hand-made key/value histories with known verdicts, each checked with the
//! partitioned model, the one-partition model, the event form, and the
//! brute-force checker.

mod common;

use common::{append, brute_force, get, put};
use porcupine::models::kv::{KvModel, KvNoPartitionModel, KvOperation};
use porcupine::{check_events, check_operations, check_operations_verbose, CheckResult, Event};
use std::time::Duration;

/// The history as events: calls and returns in time order, a call before a
/// return at the same instant (as the checker orders them).
fn as_events(h: &[KvOperation]) -> Vec<Event<porcupine::models::kv::KvInput, porcupine::models::kv::KvOutput>> {
    let mut marks: Vec<(i64, bool, usize)> = Vec::new();
    for (i, o) in h.iter().enumerate() {
        marks.push((o.call, false, i));
        marks.push((o.return_, true, i));
    }
    marks.sort();
    marks
        .into_iter()
        .map(|(_, is_return, i)| {
            let o = &h[i];
            if is_return {
                Event::return_(o.client_id, i, o.output.clone())
            } else {
                Event::call(o.client_id, i, o.input.clone())
            }
        })
        .collect()
}

/// Checks `h` every way and asserts they all give `expected`.
fn expect(h: &[KvOperation], expected: CheckResult) {
    let timeout = Some(Duration::from_secs(10));
    assert_eq!(check_operations(&KvModel, h, timeout), expected, "partitioned by key");
    assert_eq!(check_operations(&KvNoPartitionModel, h, timeout), expected, "one partition");
    assert_eq!(check_operations(&KvModel, h, None), expected, "no time limit");
    assert_eq!(check_operations_verbose(&KvModel, h, timeout).0, expected, "verbose");
    assert_eq!(check_events(&KvModel, &as_events(h), timeout), expected, "as events");
    assert_eq!(brute_force(&KvNoPartitionModel, h), expected == CheckResult::Ok, "brute force");
}

#[test]
fn empty_history_is_linearizable() {
    expect(&[], CheckResult::Ok);
}

#[test]
fn single_operations() {
    expect(&[get(0, "k", "", 0, 10)], CheckResult::Ok);
    expect(&[put(0, "k", "v", 0, 10)], CheckResult::Ok);
    expect(&[append(0, "k", "v", 0, 0)], CheckResult::Ok);
    expect(&[get(0, "k", "v", 0, 10)], CheckResult::Illegal);
}

#[test]
fn read_of_a_never_written_key() {
    // Key "b" is never written: its reads must see "".
    let mut h = vec![put(0, "a", "1", 0, 10), get(1, "b", "", 5, 15), get(1, "a", "1", 20, 30)];
    expect(&h, CheckResult::Ok);
    h.push(get(2, "b", "1", 40, 50));
    expect(&h, CheckResult::Illegal);
}

#[test]
fn overlapping_writes_with_a_read_that_fixes_their_order() {
    // Two overlapping puts; a later read of "a" means "b" went first.
    let writes = [put(0, "x", "a", 0, 10), put(1, "x", "b", 2, 12)];
    let mut h = writes.to_vec();
    h.push(get(2, "x", "a", 20, 30));
    expect(&h, CheckResult::Ok);
    // ... so a read of "b" after it is stale.
    h.push(get(2, "x", "b", 40, 50));
    expect(&h, CheckResult::Illegal);
    // Either order alone is fine.
    let mut h = writes.to_vec();
    h.push(get(2, "x", "b", 20, 30));
    expect(&h, CheckResult::Ok);
    // A read during the writes may see either, or neither.
    for seen in ["", "a", "b"] {
        let mut h = writes.to_vec();
        h.push(get(2, "x", seen, 5, 8));
        expect(&h, CheckResult::Ok);
    }
    let mut h = writes.to_vec();
    h.push(get(2, "x", "ab", 5, 8));
    expect(&h, CheckResult::Illegal);
}

#[test]
fn appends_whose_order_is_visible() {
    let appends = [append(0, "k", "1", 0, 10), append(1, "k", "2", 0, 10)];
    for (seen, during, after) in [
        ("12", CheckResult::Ok, CheckResult::Ok),
        ("21", CheckResult::Ok, CheckResult::Ok),
        ("1", CheckResult::Ok, CheckResult::Illegal),
        ("", CheckResult::Ok, CheckResult::Illegal),
        ("11", CheckResult::Illegal, CheckResult::Illegal),
    ] {
        let mut h = appends.to_vec();
        h.push(get(2, "k", seen, 5, 9));
        expect(&h, during);
        let mut h = appends.to_vec();
        h.push(get(2, "k", seen, 11, 20));
        expect(&h, after);
    }
    // Once a read saw "21", a later read of "12" contradicts it.
    let mut h = appends.to_vec();
    h.push(get(2, "k", "21", 11, 20));
    h.push(get(3, "k", "12", 21, 30));
    expect(&h, CheckResult::Illegal);
}

#[test]
fn read_of_a_value_before_its_write_was_called() {
    // The read returned at 5; the put of "a" was called at 10.
    expect(&[get(0, "x", "a", 0, 5), put(1, "x", "a", 10, 20)], CheckResult::Illegal);
    // Overlapping them by a nanosecond makes it legal, and so does a return
    // at the very instant of the call (a call and a return at one instant
    // overlap).
    expect(&[get(0, "x", "a", 0, 11), put(1, "x", "a", 10, 20)], CheckResult::Ok);
    expect(&[get(0, "x", "a", 0, 10), put(1, "x", "a", 10, 20)], CheckResult::Ok);
    expect(&[get(0, "x", "a", 0, 9), put(1, "x", "a", 10, 20)], CheckResult::Illegal);
}

#[test]
fn linearizable_under_one_ordering_only() {
    // put(a) spans everything; the reads force: get '' < put a < append b < get 'ab',
    // and append c must come after get 'ab' and before get 'abc'.
    let h = vec![
        put(0, "x", "a", 0, 100),
        get(1, "x", "", 10, 20),
        append(2, "x", "b", 30, 40),
        append(3, "x", "c", 30, 90),
        get(1, "x", "ab", 50, 60),
        get(2, "x", "abc", 95, 110),
    ];
    expect(&h, CheckResult::Ok);
    let (result, info) = check_operations_verbose(&KvModel, &h, None);
    assert_eq!(result, CheckResult::Ok);
    let part = &info.partitions()[0];
    assert_eq!(part.partial_linearizations(), &[vec![1, 0, 2, 4, 3, 5]]);
    assert_eq!(part.longest(), &[Some(0); 6]);
    // Moving the append of "c" before the read of "ab" leaves no ordering.
    let mut bad = h.clone();
    bad[3] = append(3, "x", "c", 30, 45);
    expect(&bad, CheckResult::Illegal);
}

#[test]
fn keys_are_independent() {
    // Each key alone is fine; interleaved in time, still fine.
    let h = vec![
        put(0, "a", "1", 0, 10),
        put(1, "b", "2", 5, 15),
        get(0, "b", "2", 20, 30),
        get(1, "a", "1", 20, 30),
        append(2, "a", "3", 25, 35),
        get(2, "a", "13", 40, 50),
        get(2, "b", "2", 40, 50),
    ];
    expect(&h, CheckResult::Ok);
    // One bad key makes the whole history illegal.
    let mut bad = h.clone();
    bad[6] = get(2, "b", "", 40, 50);
    expect(&bad, CheckResult::Illegal);
}

#[test]
fn zero_timeout_gives_unknown_on_a_history_that_needs_search() {
    let h = vec![put(0, "x", "a", 0, 10), put(1, "x", "b", 2, 12), get(2, "x", "a", 20, 30)];
    assert_eq!(check_operations(&KvModel, &h, Some(Duration::ZERO)), CheckResult::Unknown);
    assert_eq!(check_operations(&KvNoPartitionModel, &h, Some(Duration::ZERO)), CheckResult::Unknown);
    let (result, info) = check_operations_verbose(&KvModel, &h, Some(Duration::ZERO));
    assert_eq!(result, CheckResult::Unknown);
    assert_eq!(info.partitions()[0].result(), CheckResult::Unknown);
    assert!(info.partitions()[0].partial_linearizations().is_empty());
    // Even an illegal history is Unknown with no time to search it.
    let bad = vec![get(0, "x", "z", 0, 1)];
    assert_eq!(check_operations(&KvModel, &bad, Some(Duration::ZERO)), CheckResult::Unknown);
    // With time, a verdict.
    assert_eq!(check_operations(&KvModel, &h, Some(Duration::from_secs(5))), CheckResult::Ok);
    assert_eq!(check_operations(&KvModel, &bad, Some(Duration::from_secs(5))), CheckResult::Illegal);
    // An empty history needs no search.
    assert_eq!(check_operations(&KvModel, &[], Some(Duration::ZERO)), CheckResult::Ok);
}
