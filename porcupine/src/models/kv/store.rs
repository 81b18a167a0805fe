//! [`ValueStore`]: where a tester keeps the values its clients read, so that
//! reads of a growing key share one buffer.

use super::fingerprint::Fingerprint;
use super::value::{Read, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Chains remembered per key, most recently used first.
const CHAINS_PER_KEY: usize = 4;
/// A chain keeps the fingerprint of its first `k · MARK` bytes for every
/// `k`: the fingerprint of any prefix then costs at most `MARK` bytes of
/// hashing.
const MARK: usize = 1024;

/// Values read from a history's keys, stored so that a value that extends
/// or repeats an earlier one of the same key shares its bytes.
///
/// Each key has a few *chains*: append-only buffers. A value read from a
/// key that extends one of its chains (the common case: each read of a
/// growing key returns a longer version of the last) has its new bytes
/// appended to that chain, and becomes "the first `n` bytes of the chain";
/// a value that is a prefix of a chain (a stale or repeated read) is that
/// prefix; anything else (after a put, say) starts a new chain. So a
/// history of reads of one growing key holds about the key's final length
/// in text, plus one 48-byte allocation per value of over 14 bytes (a
/// shorter one is held in the value itself), instead of the sum of the
/// reads' lengths; and the fingerprint of a value that extends a chain is
/// computed from the new bytes only. Each value is checked byte for byte
/// against the chain it joins (a `memcmp`). A read of the same text as the
/// last value made from a chain (no write in between) shares that value
/// itself: no allocation at all.
///
/// Thread-safe: clients log their reads concurrently. One store per
/// history (values of different stores are comparable, but share nothing).
///
/// ```
/// use porcupine::models::kv::ValueStore;
/// let store = ValueStore::new();
/// let a = store.value("k", "x 0 0 y");
/// let b = store.value("k", "x 0 0 yx 0 1 y");
/// let c = store.value("k", "x 0 0 y");
/// assert_eq!(a, c);
/// assert_eq!(b.text(), "x 0 0 yx 0 1 y");
/// assert_eq!(store.stored_bytes(), 14); // one chain for all three
/// ```
#[derive(Default)]
pub struct ValueStore {
    /// Each key (shared by [`ValueStore::key`]) and its chains.
    keys: Mutex<HashMap<Arc<str>, Vec<Arc<Chain>>>>,
    stored: AtomicUsize,
}

/// An append-only buffer of text that values refer to a prefix of.
pub(crate) struct Chain {
    data: Mutex<ChainData>,
}

struct ChainData {
    text: String,
    /// `marks[k]`: the fingerprint of `text[..k * MARK]`.
    marks: Vec<Fingerprint>,
    /// The fingerprint of the whole text.
    end: Fingerprint,
    /// The last value made from this chain: a read of the same text again
    /// shares it.
    last: Weak<Read>,
}

impl Chain {
    fn lock(&self) -> MutexGuard<'_, ChainData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the chain's text (of which a value's is a prefix).
    pub(crate) fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(&self.lock().text)
    }
}

impl ChainData {
    fn new(text: &str) -> ChainData {
        let mut data = ChainData {
            text: String::new(),
            marks: vec![Fingerprint::EMPTY],
            end: Fingerprint::EMPTY,
            last: Weak::new(),
        };
        data.push(text);
        data
    }

    /// Appends `more`, fingerprinting it and marking each multiple of
    /// `MARK` it crosses.
    fn push(&mut self, more: &str) {
        let mut pos = self.text.len();
        self.text.push_str(more);
        let bytes = self.text.as_bytes();
        while pos < bytes.len() {
            let next_mark = (pos / MARK + 1) * MARK;
            let end = next_mark.min(bytes.len());
            self.end = self.end.extend(&bytes[pos..end]);
            if end == next_mark {
                self.marks.push(self.end);
            }
            pos = end;
        }
    }

    /// The fingerprint of `text[..len]`.
    fn prefix(&self, len: usize) -> Fingerprint {
        if len == self.text.len() {
            return self.end;
        }
        let k = len / MARK;
        self.marks[k].extend(&self.text.as_bytes()[k * MARK..len])
    }
}

impl ValueStore {
    /// An empty store.
    pub fn new() -> ValueStore {
        ValueStore::default()
    }

    /// The value `text`, read from `key`, sharing storage with the earlier
    /// values of `key` where one extends the other.
    pub fn value(&self, key: &str, text: &str) -> Value {
        if text.is_empty() {
            return Value::default();
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let chains = match keys.get_mut(key) {
            Some(c) => c,
            None => keys.entry(Arc::from(key)).or_default(),
        };
        for i in 0..chains.len() {
            let chain = Arc::clone(&chains[i]);
            let mut data = chain.lock();
            let have = data.text.len();
            let value = if text.len() >= have && text.as_bytes()[..have] == *data.text.as_bytes() {
                let last = Value::upgrade(&data.last).filter(|v| v.len() == text.len());
                match last {
                    Some(v) => v,
                    None => {
                        if text.len() > have {
                            data.push(&text[have..]);
                            self.stored.fetch_add(text.len() - have, Ordering::Relaxed);
                        }
                        Value::in_chain(&chain, &data.text, data.end)
                    }
                }
            } else if text.len() < have && data.text.as_bytes()[..text.len()] == *text.as_bytes() {
                match Value::upgrade(&data.last).filter(|v| v.len() == text.len()) {
                    Some(v) => v,
                    None => Value::in_chain(&chain, &data.text[..text.len()], data.prefix(text.len())),
                }
            } else {
                continue;
            };
            data.last = value.downgrade();
            drop(data);
            chains[..=i].rotate_right(1);
            return value;
        }
        let chain = Arc::new(Chain { data: Mutex::new(ChainData::new(text)) });
        self.stored.fetch_add(text.len(), Ordering::Relaxed);
        let value = {
            let mut data = chain.lock();
            let value = Value::in_chain(&chain, &data.text, data.end);
            data.last = value.downgrade();
            value
        };
        chains.insert(0, chain);
        chains.truncate(CHAINS_PER_KEY);
        value
    }

    /// `key`, shared with every other operation on it (for
    /// [`KvInput`](super::KvInput)'s key: one allocation per key, not per
    /// operation).
    pub fn key(&self, key: &str) -> Arc<str> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, _)) = keys.get_key_value(key) {
            return Arc::clone(k);
        }
        let k: Arc<str> = Arc::from(key);
        keys.insert(Arc::clone(&k), Vec::new());
        k
    }

    /// Bytes of text stored so far, over all chains.
    pub fn stored_bytes(&self) -> usize {
        self.stored.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn growing(j: usize) -> String {
        (0..j).map(|i| format!("x 0 {i} y")).collect()
    }

    #[test]
    fn reads_of_a_growing_key_share_one_chain() {
        let store = ValueStore::new();
        let mut values = Vec::new();
        for j in 0..2_000 {
            let text = growing(j);
            let v = store.value("0", &text);
            assert_eq!(v, Value::new(&text), "read {j}");
            values.push(v);
        }
        let last = growing(1_999);
        // Text stored: the final value once, not the sum of all reads
        // (about 18 MB).
        assert_eq!(store.stored_bytes(), last.len());
        // A repeated read shares the value itself.
        let again = store.value("0", &last);
        assert!(again.same_allocation(&values[1_999]));
        // Stale and repeated reads are prefixes of the chain.
        for j in [0, 1, 5, 1_000, 1_999] {
            let v = store.value("0", &growing(j));
            assert_eq!(v, values[j]);
            assert_eq!(v.text(), growing(j));
        }
        assert_eq!(store.stored_bytes(), last.len());
        for j in (0..2_000).step_by(97) {
            assert_eq!(values[j].text(), growing(j));
        }
    }

    #[test]
    fn a_put_starts_a_new_chain_and_old_chains_stay_usable() {
        let store = ValueStore::new();
        let a = store.value("k", "aaaa");
        let b = store.value("k", "aaaabbbb");
        // After a put of "z": a new chain.
        let z = store.value("k", "z");
        let zc = store.value("k", "zcc");
        assert_eq!(store.stored_bytes(), 8 + 3);
        // A late read of the old value still finds the old chain.
        let b2 = store.value("k", "aaaabbbb");
        let a2 = store.value("k", "aaaa");
        assert_eq!(store.stored_bytes(), 8 + 3);
        assert_eq!((a2, b2), (a.clone(), b.clone()));
        // A value that diverges from a chain in the middle starts its own.
        let d = store.value("k", "aaaaXbbb");
        assert_eq!(store.stored_bytes(), 8 + 3 + 8);
        assert_ne!(d, b);
        for (v, t) in [(&a, "aaaa"), (&b, "aaaabbbb"), (&z, "z"), (&zc, "zcc"), (&d, "aaaaXbbb")] {
            assert_eq!(v.text(), t);
            assert_eq!(*v, Value::new(t));
        }
        // Keys are apart: the same text under another key is stored again.
        let other = store.value("j", "aaaabbbb");
        assert_eq!(other, b);
        assert_eq!(store.stored_bytes(), 8 + 3 + 8 + 8);
        assert!(store.value("k", "").is_empty());
        // Keys are shared.
        let (k1, k2) = (store.key("k"), store.key("k"));
        assert!(Arc::ptr_eq(&k1, &k2));
        assert_eq!(&*store.key("new"), "new");
        assert!(Arc::ptr_eq(&store.key("new"), &store.key("new")));
    }

    #[test]
    fn prefix_fingerprints_across_marks() {
        let store = ValueStore::new();
        let text: String = (0..3 * MARK + 17).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
        let _ = store.value("k", &text);
        for len in [1, MARK - 1, MARK, MARK + 1, 2 * MARK + 5, 3 * MARK, text.len() - 1, text.len()] {
            let v = store.value("k", &text[..len]);
            assert_eq!(v, Value::new(&text[..len]), "prefix of {len}");
        }
        assert_eq!(store.stored_bytes(), text.len());
        // Extending past marks in odd steps.
        let store = ValueStore::new();
        let mut len = 0;
        while len < text.len() {
            len = (len + 333).min(text.len());
            assert_eq!(store.value("k", &text[..len]), Value::new(&text[..len]));
        }
        assert_eq!(store.value("k", &text[..1500]), Value::new(&text[..1500]));
    }

    #[test]
    fn concurrent_logging_from_threads() {
        let store = ValueStore::new();
        let per_thread = 300;
        let results: Vec<Vec<(String, Value)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|t| {
                    let store = &store;
                    s.spawn(move || {
                        // Threads 0-2 read their own key; 3-5 all read key
                        // "shared", each at its own pace.
                        let key = if t < 3 { t.to_string() } else { "shared".to_string() };
                        (0..per_thread)
                            .map(|j| {
                                let text = growing(if t < 3 { j } else { (j * (t - 2)) % per_thread });
                                let v = store.value(&key, &text);
                                (text, v)
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (text, v) in results.iter().flatten() {
            assert_eq!(v.text(), *text);
            assert_eq!(*v, Value::new(text));
        }
        // Four keys, each stored once up to its longest read.
        assert_eq!(store.stored_bytes(), 4 * growing(per_thread - 1).len());
    }
}
