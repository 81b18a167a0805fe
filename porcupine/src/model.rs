//! What the checker takes in: a [`Model`] of the object, and a history as
//! [`Operation`]s (call and return times) or as [`Event`]s (calls and
//! returns in the order they happened).

use std::collections::HashMap;
use std::hash::Hash;

/// A sequential specification of the object under test.
///
/// The checker asks whether a history could have been produced by one copy
/// of this object applying the operations one at a time, each at some
/// instant between its call and its return.
pub trait Model: Sync {
    /// What a client passed in (e.g. get/put/append, key, value). `Send`
    /// and `Sync`: partitions are searched, and their operations copied for
    /// the verbose info, on several threads.
    type Input: Clone + Send + Sync;
    /// What the client got back.
    type Output: Clone + Send + Sync;
    /// The object's state. Two states are the same state iff they are `==`;
    /// their hashes key the checker's cache.
    type State: Clone + Eq + Hash;

    /// Splits a history into independent groups (P-compositionality: the
    /// history is linearizable iff every group is), e.g. by key. Returns
    /// indices into `history`: every operation in exactly one group, no group
    /// empty. The default is one group holding every operation (none for an
    /// empty history).
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        if history.is_empty() {
            Vec::new()
        } else {
            vec![(0..history.len()).collect()]
        }
    }

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies one operation: `None` if `output` is not a legal result of
    /// `input` in `state`, else the state after it.
    fn step(&self, state: &Self::State, input: &Self::Input, output: &Self::Output) -> Option<Self::State>;

    /// An optional hint that makes searches much shorter: true only if this
    /// operation never changes the state, whatever the state (a read, a
    /// failed compare-and-swap); its step may still be illegal. The search
    /// then linearizes such an operation as soon as it is legal, without
    /// trying alternatives (a panic if its step ever changes the state).
    /// The default, false, is always correct.
    fn is_read_only(&self, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (input, output);
        false
    }

    /// How the timeline labels an operation, e.g. `get('k') -> 'v'`.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// How the timeline shows a state.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// One completed operation: who ran it, what it was, what it returned, and
/// when it was called and returned (nanoseconds on any one clock, e.g.
/// [`crate::now_ns`]).
///
/// A call and a return at the same instant count as overlapping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation<I, O> {
    /// The client that ran it: one row of the timeline per client.
    pub client_id: usize,
    /// What the client passed in.
    pub input: I,
    /// What the client got back.
    pub output: O,
    /// When the client called it (ns).
    pub call: i64,
    /// When it returned to the client (ns), not before `call`.
    pub return_: i64,
}

/// Whether an [`Event`] is a call (with the input) or a return (with the
/// output).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind<I, O> {
    /// A client called an operation.
    Call(I),
    /// The operation returned to the client.
    Return(O),
}

/// One half of an operation, in a history given as events in the order they
/// happened instead of with times. The call and the return of one operation
/// share an `id`, unique in the history.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event<I, O> {
    /// The client that ran the operation.
    pub client_id: usize,
    /// Pairs a return with its call.
    pub id: usize,
    /// A call with its input, or a return with its output.
    pub kind: EventKind<I, O>,
}

impl<I, O> Event<I, O> {
    /// The call of operation `id` by `client_id`.
    pub fn call(client_id: usize, id: usize, input: I) -> Self {
        Event { client_id, id, kind: EventKind::Call(input) }
    }

    /// The return of operation `id` to `client_id`.
    pub fn return_(client_id: usize, id: usize, output: O) -> Self {
        Event { client_id, id, kind: EventKind::Return(output) }
    }
}

/// Turns an event history into operations whose times are the events'
/// positions, in the order of their calls.
///
/// # Panics
/// On a return without an earlier call, two calls or two returns with one
/// id, a return whose client is not the caller's, or a call that never
/// returns; the message names the event.
pub fn events_to_operations<I: Clone, O: Clone>(events: &[Event<I, O>]) -> Vec<Operation<I, O>> {
    // id -> (position of the call, index in `ops`)
    let mut open: HashMap<usize, usize> = HashMap::new();
    let mut ops: Vec<Option<Operation<I, O>>> = Vec::new();
    let mut inputs: Vec<Option<(usize, usize, I)>> = Vec::new();
    for (pos, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::Call(input) => {
                assert!(
                    !open.contains_key(&e.id),
                    "event {pos}: operation id {} (client {}) is called twice without returning",
                    e.id,
                    e.client_id
                );
                open.insert(e.id, inputs.len());
                inputs.push(Some((pos, e.client_id, input.clone())));
                ops.push(None);
            }
            EventKind::Return(output) => {
                let Some(slot) = open.remove(&e.id) else {
                    panic!(
                        "event {pos}: return of operation id {} (client {}) without a call before it \
                         (or a second return)",
                        e.id, e.client_id
                    );
                };
                let (call_pos, client_id, input) = inputs[slot].take().expect("each call slot is used once");
                assert_eq!(
                    client_id, e.client_id,
                    "event {pos}: operation id {} was called by client {client_id} but returns to client {}",
                    e.id, e.client_id
                );
                ops[slot] = Some(Operation {
                    client_id,
                    input,
                    output: output.clone(),
                    call: call_pos as i64,
                    return_: pos as i64,
                });
            }
        }
    }
    if let Some((&id, &slot)) = open.iter().min_by_key(|(_, &slot)| slot) {
        let (pos, client, _) = inputs[slot].as_ref().expect("an open call keeps its input");
        panic!("event {pos}: operation id {id} (client {client}) is called but never returns");
    }
    ops.into_iter().map(|o| o.expect("every call returned")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_operations_timed_by_position() {
        let events =
            vec![Event::call(0, 7, "a"), Event::call(1, 3, "b"), Event::return_(1, 3, 1), Event::return_(0, 7, 2)];
        let ops = events_to_operations(&events);
        assert_eq!(
            ops,
            vec![
                Operation { client_id: 0, input: "a", output: 2, call: 0, return_: 3 },
                Operation { client_id: 1, input: "b", output: 1, call: 1, return_: 2 },
            ]
        );
    }

    #[test]
    #[should_panic(expected = "event 0: return of operation id 4 (client 1) without a call")]
    fn return_without_call() {
        events_to_operations::<(), ()>(&[Event::return_(1, 4, ())]);
    }

    #[test]
    #[should_panic(expected = "event 1: operation id 4 (client 1) is called twice")]
    fn call_twice() {
        events_to_operations::<(), ()>(&[Event::call(1, 4, ()), Event::call(1, 4, ())]);
    }

    #[test]
    #[should_panic(expected = "event 0: operation id 2 (client 5) is called but never returns")]
    fn call_without_return() {
        events_to_operations::<(), ()>(&[Event::call(5, 2, ()), Event::call(1, 4, ()), Event::return_(1, 4, ())]);
    }

    #[test]
    #[should_panic(expected = "operation id 4 was called by client 1 but returns to client 2")]
    fn return_to_another_client() {
        events_to_operations::<(), ()>(&[Event::call(1, 4, ()), Event::return_(2, 4, ())]);
    }

    #[test]
    #[should_panic(
        expected = "event 2: return of operation id 4 (client 1) without a call before it (or a second return)"
    )]
    fn second_return() {
        events_to_operations::<(), ()>(&[Event::call(1, 4, ()), Event::return_(1, 4, ()), Event::return_(1, 4, ())]);
    }
}
