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

use crate::hash::{mix64, FastBuild};
use crate::model::{Model, Operation};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;

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

    /// Gets.
    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
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
    type State = KvMap;

    fn init(&self) -> KvMap {
        KvMap::default()
    }

    fn step(&self, state: &KvMap, input: &KvInput, output: &KvOutput) -> Option<KvMap> {
        match input.op {
            KvOp::Get => (output.value == state.get(&input.key)).then(|| state.clone()),
            KvOp::Put => Some(state.with(&input.key, &input.value, false)),
            KvOp::Append => Some(state.with(&input.key, &input.value, true)),
        }
    }

    /// Gets.
    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    /// `{'k1': 'v1', 'k2': 'v2'}` in key order.
    fn describe_state(&self, state: &KvMap) -> String {
        let pairs: Vec<String> = state.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

/// [`KvNoPartitionModel`]'s state: an immutable map from key to value,
/// cheap to clone (two reference counts) and to hash (its hash is kept,
/// updated per key), compared by pointer before contents.
///
/// Small, because the search keeps every distinct state: the sorted keys
/// are shared by all maps with the same key set, and each value is one
/// pointer to a shared `(hash, text)`; a 10-key map is about 100 bytes.
#[derive(Clone)]
pub struct KvMap {
    /// Sum of the entries' hashes: independent of order, updated per key.
    hash: u64,
    keys: Rc<[Rc<str>]>,
    /// One per key; never empty text.
    values: Rc<[Rc<Value>]>,
}

struct Value {
    /// [`poly_hash`] of `text`.
    hash: u64,
    text: Box<str>,
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.hash == other.hash && self.text == other.text
    }
}

/// A polynomial hash that extends: `poly_hash(a + b)` is computed from
/// `poly_hash(a)` in O(|b|), so an append rehashes only what it adds.
fn poly_hash(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = h.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(b) + 1);
    }
    h
}

fn entry_hash(key: &str, value: &Value) -> u64 {
    mix64(FastBuild::default().hash_one(key) ^ value.hash)
}

impl Default for KvMap {
    fn default() -> Self {
        KvMap { hash: 0, keys: Rc::from([]), values: Rc::from([]) }
    }
}

impl KvMap {
    /// A key's value; `""` if it was never written.
    pub fn get(&self, key: &str) -> &str {
        match self.find(key) {
            Ok(i) => &self.values[i].text,
            Err(_) => "",
        }
    }

    /// The keys written and their values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.keys.iter().zip(self.values.iter()).map(|(k, v)| (&**k, &*v.text))
    }

    /// This map with `value` put at `key` (or appended to its value). A key
    /// whose value is `""` is dropped: it reads like a key never written,
    /// so the two states are one.
    pub fn with(&self, key: &str, value: &str, append: bool) -> KvMap {
        let at = self.find(key);
        let mut hash = self.hash;
        let old = at.ok().map(|i| &self.values[i]);
        if let Some(v) = old {
            hash = hash.wrapping_sub(entry_hash(key, v));
        }
        let new = match (append, old) {
            (true, Some(old)) => {
                let mut text = String::with_capacity(old.text.len() + value.len());
                text.push_str(&old.text);
                text.push_str(value);
                Value { hash: poly_hash(old.hash, value.as_bytes()), text: text.into_boxed_str() }
            }
            _ => Value { hash: poly_hash(0, value.as_bytes()), text: Box::from(value) },
        };
        let new = (!new.text.is_empty()).then(|| Rc::new(new));
        if let Some(v) = &new {
            hash = hash.wrapping_add(entry_hash(key, v));
        }
        let (keys, values) = match (at, new) {
            (Ok(i), Some(v)) => {
                let values =
                    self.values.iter().enumerate().map(|(j, old)| if j == i { Rc::clone(&v) } else { Rc::clone(old) });
                (Rc::clone(&self.keys), values.collect())
            }
            (Ok(i), None) => (without(&self.keys, i), without(&self.values, i)),
            (Err(i), Some(v)) => (with_at(&self.keys, i, Rc::from(key)), with_at(&self.values, i, v)),
            (Err(_), None) => (Rc::clone(&self.keys), Rc::clone(&self.values)),
        };
        KvMap { hash, keys, values }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.keys.binary_search_by(|k| (**k).cmp(key))
    }
}

fn without<T>(items: &[Rc<T>], i: usize) -> Rc<[Rc<T>]>
where
    T: ?Sized,
{
    items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| Rc::clone(x)).collect()
}

fn with_at<T: ?Sized>(items: &[Rc<T>], i: usize, item: Rc<T>) -> Rc<[Rc<T>]> {
    items[..i].iter().cloned().chain([item]).chain(items[i..].iter().cloned()).collect()
}

impl PartialEq for KvMap {
    fn eq(&self, other: &KvMap) -> bool {
        self.hash == other.hash
            && (Rc::ptr_eq(&self.keys, &other.keys) || self.keys == other.keys)
            && (Rc::ptr_eq(&self.values, &other.values)
                || self.values.iter().zip(other.values.iter()).all(|(a, b)| Rc::ptr_eq(a, b) || a == b))
    }
}

impl Eq for KvMap {}

impl Hash for KvMap {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for KvMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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
        assert_eq!(format!("{s:?}"), r#"{"a": "13", "b": "2"}"#);
    }

    #[test]
    fn maps_with_equal_contents_are_equal_and_hash_alike() {
        let hash = |m: &KvMap| FastBuild::default().hash_one(m);
        // Reached in different orders, and through an overwritten value.
        let put = |m: KvMap, k: &str, v: &str| m.with(k, v, false);
        let append = |m: KvMap, k: &str, v: &str| m.with(k, v, true);
        let a = put(put(put(KvMap::default(), "x", "1"), "y", "2"), "z", "3");
        // Other orders, an overwritten value, values built by appends.
        let b = put(put(put(put(KvMap::default(), "z", "3"), "x", "0"), "y", "2"), "x", "1");
        let b2 = append(append(put(append(KvMap::default(), "y", "2"), "z", ""), "z", "3"), "x", "1");
        assert_eq!(a, b);
        assert_eq!(hash(&a), hash(&b));
        assert_eq!(a, b2);
        assert_eq!(hash(&a), hash(&b2));
        let c = append(b.clone(), "y", "2");
        assert_eq!(c, put(b.clone(), "y", "22"));
        assert_eq!(hash(&c), hash(&put(b.clone(), "y", "22")));
        assert_ne!(a, c);
        assert_ne!(hash(&a), hash(&c));
        assert_eq!(c.get("y"), "22");
        assert_eq!(c.get("w"), "");
        // A key set to "" is the same as a key never written.
        assert_eq!(KvMap::default(), put(KvMap::default(), "x", ""));
        assert_eq!(KvMap::default(), append(KvMap::default(), "x", ""));
        let back = put(append(a.clone(), "w", "4"), "w", "");
        assert_eq!(a, back);
        assert_eq!(hash(&a), hash(&back));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![("x", "1"), ("y", "2"), ("z", "3")]);
    }
}
