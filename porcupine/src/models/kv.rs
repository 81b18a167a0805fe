//! The key/value service of Lab 4 (the course's `models/kv.go`): `Get`,
//! `Put` and `Append` on string keys and values.
//!
//! [`KvModel`] checks each key on its own (partitioned by key), which is
//! what the Lab 4 tester uses. [`KvNoPartitionModel`] is the same object
//! with every key in one partition and the whole map as its state: same
//! verdicts, much harder searches (for benchmarks and cross-checks).
//!
//! ```
//! use porcupine::models::kv::{KvInput, KvModel, KvOperation, KvOutput};
//! use porcupine::{check_operations, CheckResult};
//! let history: Vec<KvOperation> = vec![
//!     KvOperation { client_id: 0, input: KvInput::put("k", "a"), output: KvOutput::none(), call: 0, return_: 10 },
//!     KvOperation { client_id: 1, input: KvInput::get("k"), output: KvOutput::new("a"), call: 5, return_: 15 },
//! ];
//! assert_eq!(check_operations(&KvModel, &history, None), CheckResult::Ok);
//! ```

use crate::model::{Model, Operation};
use std::collections::BTreeMap;

/// Which operation a [`KvInput`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// Read a key's value (`""` if never written).
    Get,
    /// Replace a key's value.
    Put,
    /// Add to the end of a key's value (a missing key counts as `""`).
    Append,
}

/// What a client asked: the operation, its key, and (for put and append)
/// its value; a get's value is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    /// Get, Put or Append.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value to put or append; empty for a get.
    pub value: String,
}

impl KvInput {
    /// `Get(key)`.
    pub fn get(key: impl Into<String>) -> Self {
        KvInput { op: KvOp::Get, key: key.into(), value: String::new() }
    }

    /// `Put(key, value)`.
    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput { op: KvOp::Put, key: key.into(), value: value.into() }
    }

    /// `Append(key, value)`.
    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput { op: KvOp::Append, key: key.into(), value: value.into() }
    }
}

/// What the client got back: a get's value; put and append return nothing
/// (the model ignores their output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvOutput {
    /// The value a get returned.
    pub value: String,
}

impl KvOutput {
    /// A get's result.
    pub fn new(value: impl Into<String>) -> Self {
        KvOutput { value: value.into() }
    }

    /// The output of a put or an append.
    pub fn none() -> Self {
        KvOutput::default()
    }
}

/// One key/value operation of a history.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// The key/value model, partitioned by key: the state is one key's value.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = String;

    /// One group per key, in key order.
    fn partition(&self, history: &[KvOperation]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(&op.input.key).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        match input.op {
            KvOp::Get => (output.value == *state).then(|| state.clone()),
            KvOp::Put => Some(input.value.clone()),
            KvOp::Append => {
                let mut s = String::with_capacity(state.len() + input.value.len());
                s.push_str(state);
                s.push_str(&input.value);
                Some(s)
            }
        }
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    /// The value, raw.
    fn describe_state(&self, state: &String) -> String {
        state.clone()
    }
}

/// `get('k') -> 'v'`, `put('k', 'v')`, `append('k', 'v')`.
fn describe(input: &KvInput, output: &KvOutput) -> String {
    match input.op {
        KvOp::Get => format!("get('{}') -> '{}'", input.key, output.value),
        KvOp::Put => format!("put('{}', '{}')", input.key, input.value),
        KvOp::Append => format!("append('{}', '{}')", input.key, input.value),
    }
}

/// The key/value model with every key in one partition: the state is the
/// whole map (keys never written are absent and read as `""`).
#[derive(Clone, Copy, Debug, Default)]
pub struct KvNoPartitionModel;

impl Model for KvNoPartitionModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = BTreeMap<String, String>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: &KvOutput) -> Option<Self::State> {
        let current = state.get(&input.key).map_or("", String::as_str);
        match input.op {
            KvOp::Get => (output.value == current).then(|| state.clone()),
            KvOp::Put => {
                let mut next = state.clone();
                next.insert(input.key.clone(), input.value.clone());
                Some(next)
            }
            KvOp::Append => {
                let value = format!("{current}{}", input.value);
                let mut next = state.clone();
                next.insert(input.key.clone(), value);
                Some(next)
            }
        }
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    /// `{'k1': 'v1', 'k2': 'v2'}` in key order.
    fn describe_state(&self, state: &Self::State) -> String {
        let pairs: Vec<String> = state.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let m = KvModel;
        let s = m.init();
        assert_eq!(s, "");
        assert_eq!(m.step(&s, &KvInput::get("k"), &KvOutput::new("")), Some(String::new()));
        assert_eq!(m.step(&s, &KvInput::get("k"), &KvOutput::new("x")), None);
        let s = m.step(&s, &KvInput::append("k", "ab"), &KvOutput::none()).unwrap();
        let s = m.step(&s, &KvInput::append("k", "c"), &KvOutput::none()).unwrap();
        assert_eq!(s, "abc");
        assert_eq!(m.step(&s, &KvInput::put("k", "z"), &KvOutput::none()), Some("z".to_string()));
        assert_eq!(m.describe_state(&s), "abc");
    }

    #[test]
    fn descriptions() {
        let m = KvModel;
        assert_eq!(m.describe_operation(&KvInput::get("k"), &KvOutput::new("v")), "get('k') -> 'v'");
        assert_eq!(m.describe_operation(&KvInput::put("k", "v"), &KvOutput::none()), "put('k', 'v')");
        assert_eq!(m.describe_operation(&KvInput::append("k", "v"), &KvOutput::none()), "append('k', 'v')");
    }

    #[test]
    fn partition_by_key_in_key_order() {
        let op = |key: &str| KvOperation {
            client_id: 0,
            input: KvInput::get(key),
            output: KvOutput::none(),
            call: 0,
            return_: 0,
        };
        let h = vec![op("b"), op("a"), op("b"), op("c"), op("a")];
        assert_eq!(KvModel.partition(&h), vec![vec![1, 4], vec![0, 2], vec![3]]);
        assert_eq!(KvNoPartitionModel.partition(&h), vec![vec![0, 1, 2, 3, 4]]);
        assert!(KvModel.partition(&[]).is_empty());
    }

    #[test]
    fn no_partition_model_keeps_keys_apart() {
        let m = KvNoPartitionModel;
        let s = m.init();
        let s = m.step(&s, &KvInput::append("a", "1"), &KvOutput::none()).unwrap();
        let s = m.step(&s, &KvInput::put("b", "2"), &KvOutput::none()).unwrap();
        let s = m.step(&s, &KvInput::append("a", "3"), &KvOutput::none()).unwrap();
        assert!(m.step(&s, &KvInput::get("a"), &KvOutput::new("13")).is_some());
        assert!(m.step(&s, &KvInput::get("b"), &KvOutput::new("2")).is_some());
        assert!(m.step(&s, &KvInput::get("c"), &KvOutput::new("")).is_some());
        assert!(m.step(&s, &KvInput::get("a"), &KvOutput::new("1")).is_none());
        assert_eq!(m.describe_state(&s), "{'a': '13', 'b': '2'}");
    }
}
