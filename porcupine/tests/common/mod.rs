//! Helpers shared by the integration tests: a brute-force checker, a second
//! model (a FIFO queue), and short constructors.
#![allow(dead_code)]

pub mod kv_gen;

use porcupine::models::kv::{KvInput, KvOperation, KvOutput};
use porcupine::{Model, Operation};
use std::collections::VecDeque;

/// Linearizable iff some order of all operations that respects real time
/// (an operation that returned before another was called comes first) is
/// legal from the model's initial state. Tries every such order (cutting an
/// order short as soon as a step is illegal); ignores the model's partition.
pub fn brute_force<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> bool {
    fn extend<M: Model>(
        model: &M,
        h: &[Operation<M::Input, M::Output>],
        done: &mut [bool],
        state: &M::State,
        left: usize,
    ) -> bool {
        if left == 0 {
            return true;
        }
        let first_return = h.iter().zip(done.iter()).filter(|(_, d)| !**d).map(|(o, _)| o.return_).min().unwrap();
        for i in 0..h.len() {
            if done[i] || h[i].call > first_return {
                continue;
            }
            if let Some(next) = model.step(state, &h[i].input, &h[i].output) {
                done[i] = true;
                if extend(model, h, done, &next, left - 1) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    extend(model, history, &mut vec![false; history.len()], &model.init(), history.len())
}

pub fn op<I, O>(client_id: usize, input: I, output: O, call: i64, return_: i64) -> Operation<I, O> {
    Operation { client_id, input, output, call, return_ }
}

pub fn get(client: usize, key: &str, value: &str, call: i64, ret: i64) -> KvOperation {
    op(client, KvInput::get(key), KvOutput::new(value), call, ret)
}

pub fn put(client: usize, key: &str, value: &str, call: i64, ret: i64) -> KvOperation {
    op(client, KvInput::put(key, value), KvOutput::none(), call, ret)
}

pub fn append(client: usize, key: &str, value: &str, call: i64, ret: i64) -> KvOperation {
    op(client, KvInput::append(key, value), KvOutput::none(), call, ret)
}

/// A FIFO queue of small integers: a model unlike the key/value one (its
/// state is a sequence, a dequeue's output depends on the oldest element).
pub struct Queue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOp {
    Enqueue(u8),
    Dequeue,
}

impl Model for Queue {
    type Input = QueueOp;
    /// What a dequeue returned (`None`: the queue was empty); ignored for
    /// an enqueue.
    type Output = Option<u8>;
    type State = VecDeque<u8>;

    fn init(&self) -> VecDeque<u8> {
        VecDeque::new()
    }

    fn step(&self, state: &VecDeque<u8>, input: &QueueOp, output: &Option<u8>) -> Option<VecDeque<u8>> {
        let mut next = state.clone();
        match input {
            QueueOp::Enqueue(v) => {
                next.push_back(*v);
                Some(next)
            }
            QueueOp::Dequeue => (next.pop_front() == *output).then_some(next),
        }
    }

    fn describe_operation(&self, input: &QueueOp, output: &Option<u8>) -> String {
        match input {
            QueueOp::Enqueue(v) => format!("enqueue({v})"),
            QueueOp::Dequeue => format!("dequeue() -> {output:?}"),
        }
    }

    fn describe_state(&self, state: &VecDeque<u8>) -> String {
        format!("{state:?}")
    }
}
