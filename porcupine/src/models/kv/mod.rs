//! The key/value service of Lab 4 (the course's `models/kv.go`): `Get`,
//! `Put` and `Append` on string keys and values.
//!
//! [`KvModel`] checks each key on its own (partitioned by key), which is
//! what the Lab 4 tester uses. [`KvNoPartitionModel`] is the same object
//! with every key in one partition and the whole map as its state: same
//! verdicts, much harder searches (for benchmarks and cross-checks).
//!
//! Values are [`Value`]s, so that histories of a fast server (tens of
//! thousands of reads of a key grown to 100 KB) stay small and quick to
//! check:
//! - a value of up to 14 bytes is held in the value itself (16 bytes, no
//!   allocation, compared byte for byte); a longer one is its length and
//!   two polynomial hashes modulo 2^61 − 1 computed once, plus its text,
//!   shared; equality is (length, hashes) (a false match has probability
//!   below `(n / 2^61)²` for values of length `n`, see [`Value`]);
//! - the model's state is a value: a put's state is its value, an append's
//!   is [`Value::concat`] (a rope, O(1)), a get compares in O(1);
//! - a tester logs what its clients read through a [`ValueStore`]: reads of
//!   a growing key share one buffer, so a history holds about each key's
//!   final length in text plus, per operation, its [`Operation`] (80
//!   bytes) and, for a read of over 14 bytes, one 48-byte allocation;
//! - the timeline shows values over 160 bytes with their middle elided
//!   ([`Value::describe`]).
//!
//! Constructors take `&str` and `String` as before: `KvInput::put("k", "v")`,
//! `KvOutput::new("v")`.
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

mod fingerprint;
mod store;
mod value;

pub use store::ValueStore;
pub use value::Value;

use crate::hash::{mix64, FastBuild};
use crate::model::{Model, Operation};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

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
    /// The key (shared: [`ValueStore::key`] gives one allocation per key).
    pub key: Arc<str>,
    /// The value to put or append; empty for a get.
    pub value: Value,
}

impl KvInput {
    /// `Get(key)`.
    pub fn get(key: impl Into<Arc<str>>) -> Self {
        KvInput { op: KvOp::Get, key: key.into(), value: Value::default() }
    }

    /// `Put(key, value)`.
    pub fn put(key: impl Into<Arc<str>>, value: impl Into<Value>) -> Self {
        KvInput { op: KvOp::Put, key: key.into(), value: value.into() }
    }

    /// `Append(key, value)`.
    pub fn append(key: impl Into<Arc<str>>, value: impl Into<Value>) -> Self {
        KvInput { op: KvOp::Append, key: key.into(), value: value.into() }
    }
}

/// What the client got back: a get's value; put and append return nothing
/// (the model ignores their output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvOutput {
    /// The value a get returned.
    pub value: Value,
}

impl KvOutput {
    /// A get's result: a `&str` or `String` (copied), or a [`Value`] (e.g.
    /// from a [`ValueStore`]).
    pub fn new(value: impl Into<Value>) -> Self {
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
///
/// Every step is O(1) in the values' lengths: a put's state is its value, an
/// append's the [`Value::concat`] of the state and its value (a rope), a
/// get compares fingerprints. The timeline describes long values with
/// their middle elided ([`Value::describe`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = Value;

    /// One group per key, in key order.
    fn partition(&self, history: &[KvOperation]) -> Vec<Vec<usize>> {
        let mut index: HashMap<&str, usize, FastBuild> = HashMap::default();
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        // Keys are usually shared (`ValueStore::key`): the same pointer as
        // the operation before needs no lookup.
        let mut last: Option<(&Arc<str>, usize)> = None;
        for (i, op) in history.iter().enumerate() {
            let g = match last {
                Some((k, g)) if Arc::ptr_eq(k, &op.input.key) => g,
                _ => *index.entry(&op.input.key).or_insert_with(|| {
                    groups.push((&op.input.key, Vec::new()));
                    groups.len() - 1
                }),
            };
            last = Some((&op.input.key, g));
            groups[g].1.push(i);
        }
        groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
        groups.into_iter().map(|(_, g)| g).collect()
    }

    fn init(&self) -> Value {
        Value::default()
    }

    fn step(&self, state: &Value, input: &KvInput, output: &KvOutput) -> Option<Value> {
        match input.op {
            KvOp::Get => (output.value == *state).then(|| state.clone()),
            KvOp::Put => Some(input.value.clone()),
            KvOp::Append => Some(state.concat(&input.value)),
        }
    }

    /// Gets.
    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    /// `get('k') -> 'v'`, `put('k', 'v')`, `append('k', 'v')`; a value
    /// over 160 bytes is elided in the middle ([`Value::describe`]).
    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    /// The value, raw; over 160 bytes, elided in the middle
    /// ([`Value::describe`]).
    fn describe_state(&self, state: &Value) -> String {
        state.describe()
    }
}

fn describe(input: &KvInput, output: &KvOutput) -> String {
    match input.op {
        KvOp::Get => format!("get('{}') -> '{}'", input.key, output.value.describe()),
        KvOp::Put => format!("put('{}', '{}')", input.key, input.value.describe()),
        KvOp::Append => format!("append('{}', '{}')", input.key, input.value.describe()),
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
            KvOp::Get => (output.value == *state.get(&input.key)).then(|| state.clone()),
            KvOp::Put => Some(state.with(&input.key, input.value.clone())),
            KvOp::Append => Some(state.appended(&input.key, &input.value)),
        }
    }

    /// Gets.
    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    /// `{'k1': 'v1', 'k2': 'v2'}` in key order, long values elided.
    fn describe_state(&self, state: &KvMap) -> String {
        let pairs: Vec<String> = state.iter().map(|(k, v)| format!("'{k}': '{}'", v.describe())).collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

/// [`KvNoPartitionModel`]'s state: an immutable map from key to [`Value`],
/// cheap to clone (two reference counts), to hash (its hash is kept,
/// updated per key) and to compare (by pointer, then by the values'
/// fingerprints).
///
/// Small, because the search keeps every distinct state: the sorted keys
/// are shared by all maps with the same key set, and each value is one
/// pointer; a 10-key map is about 100 bytes.
#[derive(Clone)]
pub struct KvMap {
    /// Sum of the entries' hashes: independent of order, updated per key.
    hash: u64,
    keys: Rc<[Rc<str>]>,
    /// One per key; never empty.
    values: Rc<[Value]>,
}

fn entry_hash(key: &str, value: &Value) -> u64 {
    let build = FastBuild::default();
    mix64(build.hash_one(key) ^ build.hash_one(value).rotate_left(17))
}

impl Default for KvMap {
    fn default() -> Self {
        KvMap { hash: 0, keys: Rc::from([]), values: Rc::from([]) }
    }
}

/// The value of a key never written.
static EMPTY: Value = Value::EMPTY;

impl KvMap {
    /// A key's value; `""` if it was never written.
    pub fn get(&self, key: &str) -> &Value {
        match self.find(key) {
            Ok(i) => &self.values[i],
            Err(_) => &EMPTY,
        }
    }

    /// The keys written and their values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.keys.iter().zip(self.values.iter()).map(|(k, v)| (&**k, v))
    }

    /// This map with `value` at `key`. A key whose value is `""` is
    /// dropped: it reads like a key never written, so the two states are
    /// one.
    pub fn with(&self, key: &str, value: Value) -> KvMap {
        self.with_at(key, self.find(key), value)
    }

    /// [`KvMap::with`], `key` found at `at`.
    fn with_at(&self, key: &str, at: Result<usize, usize>, value: Value) -> KvMap {
        let mut hash = self.hash;
        if let Ok(i) = at {
            hash = hash.wrapping_sub(entry_hash(key, &self.values[i]));
        }
        if !value.is_empty() {
            hash = hash.wrapping_add(entry_hash(key, &value));
        }
        let (keys, values) = match (at, value.is_empty()) {
            (Ok(i), false) => {
                let mut values = Some(value);
                let values = self.values.iter().enumerate().map(|(j, old)| {
                    if j == i {
                        values.take().expect("one slot")
                    } else {
                        old.clone()
                    }
                });
                (Rc::clone(&self.keys), values.collect())
            }
            (Ok(i), true) => (without(&self.keys, i), without(&self.values, i)),
            (Err(i), false) => (with_at(&self.keys, i, Rc::from(key)), with_at(&self.values, i, value)),
            (Err(_), true) => (Rc::clone(&self.keys), Rc::clone(&self.values)),
        };
        KvMap { hash, keys, values }
    }

    /// This map with `value` appended to `key`'s value.
    pub fn appended(&self, key: &str, value: &Value) -> KvMap {
        let at = self.find(key);
        let old = at.map_or(&EMPTY, |i| &self.values[i]);
        self.with_at(key, at, old.concat(value))
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.keys.binary_search_by(|k| (**k).cmp(key))
    }
}

fn without<T: Clone>(items: &[T], i: usize) -> Rc<[T]> {
    items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| x.clone()).collect()
}

fn with_at<T: Clone>(items: &[T], i: usize, item: T) -> Rc<[T]> {
    items[..i].iter().cloned().chain([item]).chain(items[i..].iter().cloned()).collect()
}

impl PartialEq for KvMap {
    fn eq(&self, other: &KvMap) -> bool {
        self.hash == other.hash
            && (Rc::ptr_eq(&self.keys, &other.keys) || self.keys == other.keys)
            && (Rc::ptr_eq(&self.values, &other.values) || self.values == other.values)
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
        assert_eq!(m.step(&s, &KvInput::get("k"), &KvOutput::new("")), Some(Value::default()));
        assert_eq!(m.step(&s, &KvInput::get("k"), &KvOutput::new("x")), None);
        let s = m.step(&s, &KvInput::append("k", "ab"), &KvOutput::none()).unwrap();
        let s = m.step(&s, &KvInput::append("k", "c"), &KvOutput::none()).unwrap();
        assert_eq!(s, "abc");
        assert!(m.step(&s, &KvInput::get("k"), &KvOutput::new("abc")).is_some());
        assert_eq!(m.step(&s, &KvInput::put("k", "z"), &KvOutput::none()), Some(Value::new("z")));
        assert_eq!(m.describe_state(&s), "abc");
    }

    #[test]
    fn descriptions() {
        let m = KvModel;
        assert_eq!(m.describe_operation(&KvInput::get("k"), &KvOutput::new("v")), "get('k') -> 'v'");
        assert_eq!(m.describe_operation(&KvInput::put("k", "v"), &KvOutput::none()), "put('k', 'v')");
        assert_eq!(m.describe_operation(&KvInput::append("k", "v"), &KvOutput::none()), "append('k', 'v')");
        let long = "x".repeat(1_000);
        let d = m.describe_operation(&KvInput::get("k"), &KvOutput::new(long.as_str()));
        assert!(d.starts_with("get('k') -> 'xxx") && d.contains("…⟨1000 bytes, #") && d.ends_with("xxx'"), "{d}");
        assert!(d.len() < 200, "{d}");
    }

    #[test]
    fn long_histories_of_one_key_step_in_constant_time() {
        // The model's state after 50,000 appends is a rope; each get of it
        // compares fingerprints, and the store's values of the same text
        // equal it.
        let m = KvModel;
        let store = ValueStore::new();
        let mut s = m.init();
        let mut text = String::new();
        for j in 0..50_000 {
            let piece = format!("x 0 {j} y");
            s = m.step(&s, &KvInput::append("0", piece.as_str()), &KvOutput::none()).unwrap();
            text.push_str(&piece);
            if j % 1_000 == 0 {
                let read = store.value("0", &text);
                assert!(m.step(&s, &KvInput::get("0"), &KvOutput::new(read.clone())).is_some(), "after {j}");
                let stale = store.value("0", &text[..text.len() - 1]);
                assert!(m.step(&s, &KvInput::get("0"), &KvOutput::new(stale)).is_none(), "after {j}");
            }
        }
        assert_eq!(s.text(), text);
        assert!(store.stored_bytes() <= text.len());
    }

    #[test]
    fn states_with_colliding_hashes_stay_apart() {
        // Two values whose 64-bit table hash collides (forced) are still
        // different states: equality checks the length and both hashes.
        let a = Value::with_first_hash(&"abc".repeat(6), 7);
        let b = Value::with_first_hash(&"abd".repeat(6), 7);
        let m = KvModel;
        let sa = m.step(&m.init(), &KvInput::put("k", a.clone()), &KvOutput::none()).unwrap();
        assert!(m.step(&sa, &KvInput::get("k"), &KvOutput::new(a)).is_some());
        assert!(m.step(&sa, &KvInput::get("k"), &KvOutput::new(b.clone())).is_none());
        let mut states = crate::states::States::new(&m);
        let ia = states.intern(sa);
        let ib = states.intern(b.clone());
        assert_ne!(ia, ib);
        assert_eq!(states.intern(b), ib);
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
        let put = |m: KvMap, k: &str, v: &str| m.with(k, Value::new(v));
        let append = |m: KvMap, k: &str, v: &str| m.appended(k, &Value::new(v));
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
        assert_eq!(*c.get("y"), "22");
        assert_eq!(*c.get("w"), "");
        // A key set to "" is the same as a key never written.
        assert_eq!(KvMap::default(), put(KvMap::default(), "x", ""));
        assert_eq!(KvMap::default(), append(KvMap::default(), "x", ""));
        let back = put(append(a.clone(), "w", "4"), "w", "");
        assert_eq!(a, back);
        assert_eq!(hash(&a), hash(&back));
        let listed: Vec<(&str, String)> = a.iter().map(|(k, v)| (k, v.text())).collect();
        assert_eq!(listed, vec![("x", "1".to_string()), ("y", "2".to_string()), ("z", "3".to_string())]);
    }
}
