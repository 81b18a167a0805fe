//! [`Value`]: a key/value value that is cheap to clone, compare, hash and
//! append to, whatever its length.

use super::fingerprint::Fingerprint;
use super::store::Chain;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

/// Texts at most this long are stored in the value itself: no allocation.
/// (Lab 4's appended values, `"x 12 3456 y"`, are all this short.)
pub(crate) const INLINE: usize = 14;
/// Longer texts at most this long are stored in the value's one
/// allocation.
const SHORT: usize = 30;
/// Concatenations at most this long are stored flat (one string).
const FLAT: usize = 64;
/// A concatenation keeps at least this many of its first bytes at hand, so
/// that a picture can show them without walking the whole rope.
const HEAD: usize = 64;
/// Values longer than this are described with their middle elided.
pub const DESCRIBE_MAX: usize = 160;
/// Bytes shown at each end of an elided value.
const SHOWN: usize = 64;

/// A key/value value: its length and [fingerprint](#equality) computed
/// once, and its text, shared.
///
/// - **Cheap.** Two words. A text of at most 14 bytes is held in the value
///   itself (no allocation, compared byte for byte); a longer one behind
///   one shared allocation, whose clone is a reference-count increment and
///   whose `==` and `Hash` look at the length and the fingerprint only, in
///   O(1).
/// - **Appends in O(1).** [`Value::concat`] combines the two fingerprints
///   and links the two values (a persistent rope: neither is copied), so
///   the key/value model's states step in constant time however long the
///   value grows.
/// - **Shared text.** A value's bytes are its own (made from a `&str`), a
///   prefix of a [`ValueStore`](super::ValueStore)'s chain (values read
///   from one growing key share one buffer), or a concatenation. The text
///   is materialized only when asked for ([`Value::text`], `Display`,
///   [`Value::describe`]).
///
/// # Equality
/// Two values are equal iff they have the same length and the same pair of
/// polynomial hashes modulo 2^61 − 1 (random bases, drawn once per
/// process). Different texts of length `n` match with probability below
/// `(n / 2^61)²` per comparison: about 2^-88 for 100 KB values. The
/// argument is in the source of the `fingerprint` module. Values from
/// different processes cannot be compared.
#[derive(Clone, Default)]
pub struct Value(Repr);

/// Invariant (the representation follows the length): `""` is `Empty`, 1
/// to `INLINE` bytes are `Inline`, longer texts are `Heap` or (read
/// through a store) `Read`. So an `Empty` or `Inline` value differs from
/// any value of another variant; `Heap` and `Read` compare by hashes.
#[derive(Clone, Default)]
enum Repr {
    #[default]
    Empty,
    /// `bytes[..len]` is the text (valid UTF-8); the rest are zeros.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Arc<Inner>),
    /// A read logged through a store: a prefix of one of its chains.
    Read(Arc<Read>),
}

/// A value read from a key, the first `len` bytes of `chain`: a 48-byte
/// allocation (an `Inner`'s is 96), as a history holds one per read. No
/// powers of the bases: a read is compared (by `h`), rarely appended to
/// (then they are computed, in O(log len)).
pub(crate) struct Read {
    len: usize,
    h: [u64; 2],
    chain: Arc<Chain>,
}

pub(crate) struct Inner {
    len: usize,
    fp: Fingerprint,
    text: Text,
}

enum Text {
    /// Its own bytes, at most `SHORT` of them, inline (valid UTF-8).
    Short { len: u8, bytes: [u8; SHORT] },
    /// Its own bytes.
    Own(Box<str>),
    /// `left` then `right`, longer than `FLAT`. `head` is a leaf (not a
    /// concatenation) whose text begins with this one's first `HEAD` bytes
    /// (at least).
    Concat { left: Value, right: Value, head: Arc<Inner> },
}

impl Value {
    /// `""`.
    pub const EMPTY: Value = Value(Repr::Empty);

    /// A value holding its own copy of `text`.
    pub fn new(text: &str) -> Value {
        match text.len() {
            0 => Value::EMPTY,
            n if n <= INLINE => Value::inline(text.as_bytes()),
            _ => Value(Repr::Heap(leaf(text))),
        }
    }

    /// 1 to `INLINE` bytes of a `str`, held in the value.
    fn inline(text: &[u8]) -> Value {
        debug_assert!(!text.is_empty() && text.len() <= INLINE);
        let mut bytes = [0; INLINE];
        bytes[..text.len()].copy_from_slice(text);
        Value(Repr::Inline { len: text.len() as u8, bytes })
    }

    /// `text`, which is the first `text.len()` bytes of `chain`, and whose
    /// fingerprint is `fp`: a short text is copied into the value, a
    /// longer one refers to the chain.
    pub(crate) fn in_chain(chain: &Arc<Chain>, text: &str, fp: Fingerprint) -> Value {
        if text.len() <= INLINE {
            return Value::new(text);
        }
        Value(Repr::Read(Arc::new(Read { len: text.len(), h: fp.h, chain: Arc::clone(chain) })))
    }

    /// A reference to a read that does not keep it alive (none to another
    /// value).
    pub(crate) fn downgrade(&self) -> Weak<Read> {
        match &self.0 {
            Repr::Read(read) => Arc::downgrade(read),
            _ => Weak::new(),
        }
    }

    /// The read `weak` refers to, if still alive.
    pub(crate) fn upgrade(weak: &Weak<Read>) -> Option<Value> {
        weak.upgrade().map(|read| Value(Repr::Read(read)))
    }

    fn from_parts(len: usize, fp: Fingerprint, text: Text) -> Value {
        debug_assert!(len > INLINE, "a text of {len} bytes is held in place");
        Value(Repr::Heap(Arc::new(Inner { len, fp, text })))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Empty => 0,
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::Heap(inner) => inner.len,
            Repr::Read(read) => read.len,
        }
    }

    /// Whether this is `""`.
    pub fn is_empty(&self) -> bool {
        matches!(self.0, Repr::Empty)
    }

    /// O(1) (a text in place is at most `INLINE` bytes) but for a read,
    /// O(log length).
    fn fingerprint(&self) -> Fingerprint {
        match &self.0 {
            Repr::Empty => Fingerprint::EMPTY,
            Repr::Inline { len, bytes } => Fingerprint::of(&bytes[..usize::from(*len)]),
            Repr::Heap(inner) => inner.fp,
            Repr::Read(read) => Fingerprint::with_len(read.h, read.len),
        }
    }

    /// The two hashes and the length, for a value held out of place.
    fn hashes(&self) -> Option<(usize, [u64; 2])> {
        match &self.0 {
            Repr::Heap(inner) => Some((inner.len, inner.fp.h)),
            Repr::Read(read) => Some((read.len, read.h)),
            Repr::Empty | Repr::Inline { .. } => None,
        }
    }

    /// Runs `f` on a leaf's bytes (nothing for a concatenation).
    fn with_leaf_bytes(&self, f: impl FnOnce(&[u8])) {
        match &self.0 {
            Repr::Empty => f(&[]),
            Repr::Inline { len, bytes } => f(&bytes[..usize::from(*len)]),
            Repr::Heap(inner) => inner.with_leaf_bytes(f),
            Repr::Read(read) => read.chain.with_text(|t| f(&t.as_bytes()[..read.len])),
        }
    }

    /// Runs `f` on a leaf's text (`None` for a concatenation).
    fn with_leaf<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match &self.0 {
            Repr::Empty => Some(f("")),
            Repr::Inline { len, bytes } => {
                Some(f(std::str::from_utf8(&bytes[..usize::from(*len)]).expect("copied from a str")))
            }
            Repr::Heap(inner) => inner.with_leaf(f),
            Repr::Read(read) => Some(read.chain.with_text(|t| f(&t[..read.len]))),
        }
    }

    /// This value followed by `next`, in O(1) (concatenations of at most 64
    /// bytes are copied into one string instead of linked).
    pub fn concat(&self, next: &Value) -> Value {
        if self.is_empty() {
            return next.clone();
        }
        if next.is_empty() {
            return self.clone();
        }
        let (a_len, len) = (self.len(), self.len() + next.len());
        if len <= FLAT {
            // Both are leaves (a concatenation is longer): copy their bytes.
            let mut buf = [0u8; FLAT];
            self.with_leaf_bytes(|x| buf[..a_len].copy_from_slice(x));
            next.with_leaf_bytes(|x| buf[a_len..len].copy_from_slice(x));
            let text = std::str::from_utf8(&buf[..len]).expect("two strs joined");
            if len <= INLINE {
                return Value::inline(text.as_bytes());
            }
            return Value::from_parts(len, self.fingerprint().concat(next.fingerprint()), own(text));
        }
        let fp = self.fingerprint().concat(next.fingerprint());
        let head = match &self.0 {
            Repr::Heap(a) => match &a.text {
                Text::Concat { head, .. } => Some(Arc::clone(head)),
                _ if a.len >= HEAD => Some(Arc::clone(a)),
                _ => None,
            },
            _ => None,
        };
        let head = head.unwrap_or_else(|| {
            // The first bytes come from both: copy them, up to a character
            // boundary (at least `HEAD` of them: `len > FLAT = HEAD`).
            let mut s = String::with_capacity(HEAD + 4);
            self.write_to(&mut s);
            s.push_str(&next.head_text(HEAD - a_len));
            leaf(&s)
        });
        Value::from_parts(len, fp, Text::Concat { left: self.clone(), right: next.clone(), head })
    }

    /// The whole text (O(length)).
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.len());
        self.write_to(&mut s);
        s
    }

    /// Appends the text to `out`, walking a rope without recursion.
    fn write_to(&self, out: &mut String) {
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            if let Repr::Heap(inner) = &v.0 {
                if let Text::Concat { left, right, .. } = &inner.text {
                    stack.push(right);
                    stack.push(left);
                    continue;
                }
            }
            v.with_leaf(|t| out.push_str(t));
        }
    }

    /// At least the first `n` bytes (all if shorter), extended to a
    /// character boundary.
    fn head_text(&self, n: usize) -> String {
        let cut = |t: &str| {
            let mut end = n.min(t.len());
            while !t.is_char_boundary(end) {
                end += 1;
            }
            t[..end].to_string()
        };
        match &self.0 {
            Repr::Heap(inner) => match &inner.text {
                Text::Concat { head, .. } if head.len >= n => head.with_leaf(cut).expect("a head is a leaf"),
                Text::Concat { .. } => {
                    let mut s = self.text();
                    s.truncate(cut(&s).len());
                    s
                }
                _ => inner.with_leaf(cut).expect("a leaf"),
            },
            _ => self.with_leaf(cut).expect("a leaf"),
        }
    }

    /// At least the last `n` bytes (all if shorter), extended back to a
    /// character boundary. Walks the rope from its right end: O(n) pieces.
    fn tail_text(&self, n: usize) -> String {
        let mut pieces: Vec<String> = Vec::new();
        let mut need = n;
        let mut v = self;
        while need > 0 {
            let cut = |t: &str| {
                let mut start = t.len().saturating_sub(need);
                while !t.is_char_boundary(start) {
                    start -= 1;
                }
                t[start..].to_string()
            };
            if let Repr::Heap(inner) = &v.0 {
                if let Text::Concat { left, right, .. } = &inner.text {
                    if right.len() >= need {
                        v = right;
                    } else {
                        pieces.push(right.text());
                        need -= right.len();
                        v = left;
                    }
                    continue;
                }
            }
            pieces.push(v.with_leaf(cut).expect("a leaf"));
            break;
        }
        pieces.reverse();
        pieces.concat()
    }

    /// The text for a picture: as is up to 160 bytes; longer, its first and
    /// last 64 bytes (or a little more, to whole characters) around
    /// `…⟨N bytes, #XXXXXX⟩…`, where N is the length and `XXXXXX` six hex
    /// digits of the fingerprint (different digits: different values; the
    /// digits differ from one process to the next). O(1) in the length.
    pub fn describe(&self) -> String {
        if self.len() <= DESCRIBE_MAX {
            return self.text();
        }
        let fp = self.fingerprint();
        format!(
            "{}…⟨{} bytes, #{:06x}⟩…{}",
            self.head_text(SHOWN),
            self.len(),
            (fp.h[0] ^ fp.h[1]) & 0xff_ffff,
            self.tail_text(SHOWN)
        )
    }
}

/// A leaf holding its own copy of `text` (longer than `INLINE`).
fn leaf(text: &str) -> Arc<Inner> {
    debug_assert!(text.len() > INLINE);
    Arc::new(Inner { len: text.len(), fp: Fingerprint::of(text.as_bytes()), text: own(text) })
}

/// A leaf's text: in its allocation if short enough.
fn own(text: &str) -> Text {
    if text.len() <= SHORT {
        let mut bytes = [0; SHORT];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Text::Short { len: text.len() as u8, bytes }
    } else {
        Text::Own(Box::from(text))
    }
}

impl Inner {
    /// Runs `f` on a leaf's bytes (nothing for a concatenation).
    fn with_leaf_bytes(&self, f: impl FnOnce(&[u8])) {
        match &self.text {
            Text::Short { len, bytes } => f(&bytes[..usize::from(*len)]),
            Text::Own(s) => f(s.as_bytes()),
            Text::Concat { .. } => {}
        }
    }

    /// Runs `f` on a leaf's text (`None` for a concatenation).
    fn with_leaf<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match &self.text {
            Text::Short { len, bytes } => {
                Some(f(std::str::from_utf8(&bytes[..usize::from(*len)]).expect("copied from a str")))
            }
            Text::Own(s) => Some(f(s)),
            Text::Concat { .. } => None,
        }
    }
}

impl Drop for Inner {
    /// Drops a long rope without recursing down it.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        detach(&mut self.text, &mut stack);
        while let Some(node) = stack.pop() {
            if let Some(mut inner) = Arc::into_inner(node) {
                detach(&mut inner.text, &mut stack);
            }
        }
    }
}

/// Takes a concatenation's rope children out of it: those held only here
/// go on `stack`, to be dropped one at a time; the others just lose a
/// reference.
fn detach(text: &mut Text, stack: &mut Vec<Arc<Inner>>) {
    if let Text::Concat { left, right, .. } = text {
        for child in [left, right] {
            if matches!(&child.0, Repr::Heap(n) if matches!(n.text, Text::Concat { .. })) {
                if let Repr::Heap(node) = std::mem::take(&mut child.0) {
                    if Arc::strong_count(&node) == 1 {
                        stack.push(node);
                    }
                }
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (&self.0, &other.0) {
            (Repr::Heap(a), Repr::Heap(b)) => Arc::ptr_eq(a, b) || (a.len == b.len && a.fp.h == b.fp.h),
            (Repr::Read(a), Repr::Read(b)) => Arc::ptr_eq(a, b) || (a.len == b.len && a.h == b.h),
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => a == b && x == y,
            (Repr::Empty, Repr::Empty) => true,
            // A read and another long value; else different lengths (the
            // representation follows the length).
            _ => self.hashes().is_some() && self.hashes() == other.hashes(),
        }
    }
}

impl Eq for Value {}

/// Compares by length and fingerprint, like two values (O(length of the
/// string)).
impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.len() == other.len()
            && match &self.0 {
                Repr::Heap(_) | Repr::Read(_) => {
                    self.hashes().map(|(_, h)| h) == Some(Fingerprint::of(other.as_bytes()).h)
                }
                _ => self.with_leaf(|t| t == other).expect("a leaf"),
            }
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        match &self.0 {
            Repr::Empty => {}
            Repr::Inline { bytes, .. } => state.write(bytes),
            Repr::Heap(inner) => state.write_u64(inner.fp.h[0]),
            Repr::Read(read) => state.write_u64(read.h[0]),
        }
    }
}

/// The whole text.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// The whole text, quoted like a `String`.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text(), f)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::new(text)
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        if text.len() <= SHORT {
            return Value::new(&text);
        }
        Value::from_parts(text.len(), Fingerprint::of(text.as_bytes()), Text::Own(text.into_boxed_str()))
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Value {
        Value::new(text)
    }
}

#[cfg(test)]
impl Value {
    /// A value claiming to be `text` with a fingerprint of `text` whose
    /// first hash is replaced by `h0`: two such values of different texts
    /// collide in the 64 bits that `Hash` sees.
    pub(crate) fn with_first_hash(text: &str, h0: u64) -> Value {
        assert!(text.len() > INLINE, "a text held in place has no fingerprint to fake");
        let mut fp = Fingerprint::of(text.as_bytes());
        fp.h[0] = h0;
        Value::from_parts(text.len(), fp, own(text))
    }

    /// Whether both are the same allocation.
    pub(crate) fn same_allocation(&self, other: &Value) -> bool {
        match (&self.0, &other.0) {
            (Repr::Heap(a), Repr::Heap(b)) => Arc::ptr_eq(a, b),
            (Repr::Read(a), Repr::Read(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Depth of the rope's left spine (1 for a flat value, 0 for `""`).
    pub(crate) fn depth(&self) -> usize {
        let mut d = 0;
        let mut v = self;
        while !v.is_empty() {
            d += 1;
            match &v.0 {
                Repr::Heap(inner) => match &inner.text {
                    Text::Concat { left, .. } => v = left,
                    _ => break,
                },
                _ => break,
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::FastBuild;
    use std::hash::BuildHasher;

    fn hash(v: &Value) -> u64 {
        FastBuild::default().hash_one(v)
    }

    #[test]
    fn short_values_in_place_longer_ones_in_one_small_allocation() {
        // Up to 14 bytes in the value itself; up to 30 in its allocation.
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Inner>(), 80);
        assert_eq!(std::mem::size_of::<Read>(), 32);
        let long = "z".repeat(SHORT + 1);
        for t in ["x", "x 12 3456 y", &"é".repeat(7), &"y".repeat(INLINE + 1), &"y".repeat(SHORT), &long] {
            let v = Value::new(t);
            assert_eq!(v.text(), t);
            assert_eq!(v, Value::from(t.to_string()));
            assert_eq!(v, *t);
            let kind = match &v.0 {
                Repr::Inline { .. } => "in place",
                Repr::Heap(inner) if matches!(inner.text, Text::Short { .. }) => "short",
                Repr::Heap(inner) if matches!(inner.text, Text::Own(_)) => "own",
                _ => "other",
            };
            let want = match t.len() {
                n if n <= INLINE => "in place",
                n if n <= SHORT => "short",
                _ => "own",
            };
            assert_eq!(kind, want, "{t}");
        }
        // Built by concatenation or read from a chain, a short value is in
        // place too, and equal to the same text made directly.
        let joined = Value::new("x 1 ").concat(&Value::new("2 y"));
        assert!(matches!(joined.0, Repr::Inline { .. }));
        assert_eq!(joined, Value::new("x 1 2 y"));
        assert_eq!(FastBuild::default().hash_one(&joined), FastBuild::default().hash_one(Value::new("x 1 2 y")));
        let store = super::super::ValueStore::new();
        let read = store.value("k", "x 1 2 y");
        assert!(matches!(read.0, Repr::Inline { .. }));
        assert_eq!(read, joined);
        assert_ne!(read, Value::new("x 1 2 z"));
        assert_ne!(Value::new("ab"), Value::new("abc"));
        // A longer read is a `Read`, equal to (and hashed as) the same text
        // made any other way, and usable as a piece of a concatenation.
        let text = "x 1 2 yx 1 3 yx 1 4 y";
        let long = store.value("k", text);
        assert!(matches!(long.0, Repr::Read(_)));
        for other in [Value::new(text), Value::new("x 1 2 yx 1 3 y").concat(&Value::new("x 1 4 y"))] {
            assert_eq!(long, other);
            assert_eq!(other, long);
            assert_eq!(FastBuild::default().hash_one(&long), FastBuild::default().hash_one(&other));
        }
        assert_eq!(long, *text);
        assert_ne!(long, Value::new("x 1 2 yx 1 3 yx 1 4 z"));
        let longer: String = text.repeat(5);
        for (a, b) in [(long.clone(), Value::new(&text.repeat(4))), (Value::new(&text.repeat(4)), long.clone())] {
            let joined = a.concat(&b);
            assert_eq!(joined, Value::new(&longer));
            assert_eq!(joined.text(), longer);
        }
        assert_eq!(long.describe(), text);
    }

    #[test]
    fn equal_texts_are_equal_however_built() {
        let whole = Value::new("x 0 0 yx 0 1 yx 0 2 y");
        let parts = Value::new("x 0 0 y").concat(&Value::new("x 0 1 y")).concat(&Value::new("x 0 2 y"));
        let other = Value::new("x 0 0 yx 0 1 y").concat(&Value::from("x 0 2 y".to_string()));
        for v in [&parts, &other] {
            assert_eq!(*v, whole);
            assert_eq!(hash(v), hash(&whole));
            assert_eq!(v.text(), whole.text());
        }
        assert_eq!(whole, "x 0 0 yx 0 1 yx 0 2 y");
        assert_ne!(whole, "x 0 0 yx 0 1 yx 0 2 z");
        assert_eq!(Value::new(""), Value::default());
        assert!(Value::new("").is_empty());
        assert_eq!(Value::default().concat(&whole), whole);
        assert_eq!(whole.concat(&Value::default()), whole);
        assert_ne!(Value::new("a"), Value::default());
    }

    #[test]
    fn long_ropes_step_in_constant_time_and_keep_their_text() {
        // 20,000 appends of 9 bytes: a rope, not a copy per step.
        let mut v = Value::new("start");
        let mut expected = String::from("start");
        for j in 0..20_000 {
            let piece = format!("x 0 {j} y");
            v = v.concat(&Value::new(&piece));
            expected.push_str(&piece);
        }
        assert!(v.depth() > 19_000, "{}", v.depth());
        assert_eq!(v.len(), expected.len());
        assert_eq!(v, Value::new(&expected));
        assert_eq!(v.text(), expected);
        assert_eq!(v.to_string(), expected);
        // Deep ropes drop without overflowing a small stack.
        std::thread::Builder::new().stack_size(64 * 1024).spawn(move || drop(v)).unwrap().join().unwrap();
    }

    #[test]
    fn differing_values_differ() {
        let texts = ["", "a", "b", "ab", "ba", "aa", "\0", "\0a", "a\0", "x 1 2 y", "x 1 2 yx 1 3 y", "é", "ê"];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(Value::new(a), Value::new(b), "{a:?} vs {b:?}");
                assert_ne!(hash(&Value::new(a)), hash(&Value::new(b)), "{a:?} vs {b:?}");
            }
        }
        // Same length, one byte apart at every position of a long value.
        let base: String = (0..300).map(|j| format!("x 0 {j} y")).collect();
        let v = Value::new(&base);
        for i in (0..base.len()).step_by(7) {
            let mut t = base.clone().into_bytes();
            t[i] ^= 1;
            let t = String::from_utf8(t).unwrap();
            assert_ne!(v, Value::new(&t), "byte {i}");
        }
    }

    #[test]
    fn a_hash_collision_is_told_apart_by_the_second_hash() {
        // `Hash` feeds only the first hash to tables; equality checks both.
        let (abc, xyz) = ("abc".repeat(6), "xyz".repeat(6));
        let a = Value::with_first_hash(&abc, 42);
        let b = Value::with_first_hash(&xyz, 42);
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(a, b);
        assert_eq!(a, Value::with_first_hash(&abc, 42));
    }

    #[test]
    fn short_values_are_described_as_is_long_ones_elided() {
        assert_eq!(Value::new("").describe(), "");
        let short = "é".repeat(80);
        assert_eq!(Value::new(&short).describe(), short);
        let long: String = (0..10_000).map(|j| format!("x 0 {j} y")).collect();
        let mut rope = Value::default();
        for j in 0..10_000 {
            rope = rope.concat(&Value::new(&format!("x 0 {j} y")));
        }
        for v in [Value::new(&long), rope] {
            let d = v.describe();
            assert!(d.starts_with(&long[..SHOWN]), "{d}");
            assert!(d.ends_with(&long[long.len() - SHOWN..]), "{d}");
            assert!(d.contains(&format!("…⟨{} bytes, #", long.len())), "{d}");
            assert!(d.len() < 2 * SHOWN + 40, "{d}");
        }
        // Multi-byte characters are not cut.
        let wide = "é".repeat(200);
        let d = Value::new(&wide).describe();
        assert!(d.starts_with(&"é".repeat(32)) && d.ends_with(&"é".repeat(32)), "{d}");
        // The digits tell values of equal length and ends apart.
        let mut other = long.clone().into_bytes();
        other[long.len() / 2] = b'z';
        let other = Value::new(&String::from_utf8(other).unwrap());
        assert_ne!(other.describe(), Value::new(&long).describe());
    }

    #[test]
    fn heads_of_ropes_built_from_short_pieces() {
        // The head crosses pieces: it is copied once, when the rope first
        // exceeds the flat size, and shared after.
        let mut v = Value::default();
        let mut expected = String::new();
        for j in 0..100 {
            let piece = if j % 3 == 0 { "ü".to_string() } else { format!("{j},") };
            v = v.concat(&Value::new(&piece));
            expected.push_str(&piece);
            let want = |n: usize| {
                let mut end = n.min(expected.len());
                while !expected.is_char_boundary(end) {
                    end += 1;
                }
                expected[..end].to_string()
            };
            assert_eq!(v.head_text(HEAD), want(HEAD), "after {j}");
            assert_eq!(v.head_text(5), want(5), "after {j}");
            let mut start = expected.len().saturating_sub(SHOWN);
            while !expected.is_char_boundary(start) {
                start -= 1;
            }
            assert_eq!(v.tail_text(SHOWN), expected[start..], "after {j}");
        }
    }
}
