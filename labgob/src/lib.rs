//! `labgob`: the lab's binary encoder, a thin layer over serde + bincode.
//!
//! Every RPC argument, RPC reply, persisted Raft state and snapshot goes
//! through [`encode`] and [`decode`], so that no reference to a program object
//! can cross between peers: what arrives is always a fresh value rebuilt from
//! bytes.
//!
//! The Go original warns about fields its encoder would silently skip. Serde
//! never skips a field unless told to (`#[serde(skip)]`), so the Rust risk is
//! different: a value that does not decode back to itself. [`decode`] never
//! panics on bad bytes; it returns a [`DecodeError`] naming the type it tried
//! to build and why it failed (truncated input, trailing garbage, an invalid
//! enum tag, a length that runs past the end...). [`check_round_trip`] lets a
//! test assert that a type survives the trip unchanged.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Args { term: u64, candidate: String }
//!
//! let bytes = labgob::encode(&Args { term: 3, candidate: "s1".into() });
//! let back: Args = labgob::decode(&bytes).unwrap();
//! assert_eq!(back, Args { term: 3, candidate: "s1".into() });
//! assert!(labgob::decode::<Args>(&bytes[..1]).is_err());
//! ```

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// The one encoding configuration used everywhere: variable-length integers
/// (small numbers cost one byte, like Go's gob), little-endian, and trailing
/// bytes rejected so that a corrupted or concatenated buffer is not mistaken
/// for a valid value.
fn options() -> impl Options {
    bincode::DefaultOptions::new().with_varint_encoding().with_little_endian().reject_trailing_bytes()
}

/// Encodes `value` into a fresh byte vector.
///
/// # Panics
/// Only if `value`'s `Serialize` implementation itself reports an error (for
/// example a hand-written impl that refuses to serialize, or a sequence
/// whose length is unknown). That is a programming error in the type, and the
/// panic message names the type.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    options()
        .serialize(value)
        .unwrap_or_else(|e| panic!("labgob: cannot encode a value of type {}: {e}", std::any::type_name::<T>()))
}

/// The number of bytes [`encode`] would produce, without allocating them.
pub fn encoded_size<T: Serialize + ?Sized>(value: &T) -> usize {
    options()
        .serialized_size(value)
        .unwrap_or_else(|e| panic!("labgob: cannot size a value of type {}: {e}", std::any::type_name::<T>()))
        as usize
}

/// Decodes a `T` from `bytes`, which must hold exactly one encoded `T`.
///
/// Never panics on garbage: truncated, corrupted or over-long input gives a
/// [`DecodeError`] naming `T` and the reason.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    // The limit stops a corrupted length prefix from asking for more memory
    // than the input could possibly describe.
    options().with_limit(bytes.len() as u64 + 64).deserialize(bytes).map_err(|e| DecodeError {
        type_name: std::any::type_name::<T>(),
        len: bytes.len(),
        reason: e.to_string(),
    })
}

/// Decodes one `T` from the front of `bytes`, which may hold more after it
/// (for formats that concatenate encoded values). Returns the value and
/// the number of bytes it took.
///
/// Never panics on garbage: a truncated or corrupted value gives a
/// [`DecodeError`] naming `T` and the reason.
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), DecodeError> {
    let mut rest = bytes;
    let value = bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
        .allow_trailing_bytes()
        .with_limit(bytes.len() as u64 + 64)
        .deserialize_from(&mut rest)
        .map_err(|e| DecodeError { type_name: std::any::type_name::<T>(), len: bytes.len(), reason: e.to_string() })?;
    Ok((value, bytes.len() - rest.len()))
}

/// Encodes `value` onto the end of `buf` (for formats that concatenate
/// encoded values; see [`decode_prefix`]).
pub fn encode_into<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) {
    options()
        .serialize_into(&mut *buf, value)
        .unwrap_or_else(|e| panic!("labgob: cannot encode a value of type {}: {e}", std::any::type_name::<T>()))
}

/// Encodes `value`, decodes it back and checks that the result equals the
/// original. Meant for tests of types that will travel through labgob: a type
/// with a lossy `Serialize`/`Deserialize` pair fails here, loudly, instead of
/// corrupting state later.
pub fn check_round_trip<T>(value: &T) -> Result<(), String>
where
    T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
{
    let bytes = encode(value);
    let back: T = decode(&bytes).map_err(|e| e.to_string())?;
    if &back == value {
        Ok(())
    } else {
        Err(format!(
            "labgob: {} does not survive a round trip: {value:?} came back as {back:?}",
            std::any::type_name::<T>()
        ))
    }
}

/// Serde helpers for byte vectors: `#[serde(with = "labgob::bytes")]` on a
/// `Vec<u8>` field encodes it as one block (length, then the raw bytes)
/// instead of byte by byte. The encoding is the same as a plain `Vec<u8>`'s
/// (bincode writes a sequence of `u8` as its length and one byte each), so
/// the two decode each other; only the speed differs, by ~20x for long
/// vectors such as log commands and snapshots.
pub mod bytes {
    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::Serializer;
    use std::fmt;

    /// Serializes `v` as a byte block.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte vector")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(b) = seq.next_element()? {
                v.push(b);
            }
            Ok(v)
        }
    }

    /// Deserializes a byte block (or a sequence of bytes).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// Why a buffer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The Rust type that was being decoded.
    pub type_name: &'static str,
    /// The length of the input buffer.
    pub len: usize,
    /// The decoder's explanation.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "labgob: cannot decode a {} from {} bytes: {}", self.type_name, self.len, self.reason)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Blob {
        tag: u8,
        #[serde(with = "crate::bytes")]
        data: Vec<u8>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct PlainBlob {
        tag: u8,
        data: Vec<u8>,
    }

    #[test]
    fn concatenated_values_decode_one_at_a_time() {
        let mut buf = Vec::new();
        for v in [1u64, 300, 70_000] {
            encode_into(&mut buf, &v);
        }
        encode_into(&mut buf, "tail");
        let mut at = 0;
        for want in [1u64, 300, 70_000] {
            let (v, n) = decode_prefix::<u64>(&buf[at..]).unwrap();
            assert_eq!(v, want);
            at += n;
        }
        let (s, n) = decode_prefix::<String>(&buf[at..]).unwrap();
        assert_eq!((s.as_str(), at + n), ("tail", buf.len()));
        let e = decode_prefix::<String>(&buf[at..buf.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("String"), "{e}");
        assert!(decode_prefix::<u64>(&[]).is_err());
    }

    #[test]
    fn byte_blocks_encode_like_plain_byte_vectors() {
        // Lengths around the varint's 1-, 3- and 5-byte forms (the last is
        // too slow for miri's interpreter: a byte at a time as a plain Vec).
        let lens: &[usize] = if cfg!(miri) { &[0, 1, 250, 251] } else { &[0, 1, 250, 251, 70_000] };
        for &len in lens {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let fast = encode(&Blob { tag: 3, data: data.clone() });
            let plain = encode(&PlainBlob { tag: 3, data: data.clone() });
            assert_eq!(fast, plain, "len {len}");
            assert_eq!(decode::<Blob>(&plain).unwrap(), Blob { tag: 3, data: data.clone() });
            assert_eq!(decode::<PlainBlob>(&fast).unwrap(), PlainBlob { tag: 3, data });
        }
        let bytes = encode(&Blob { tag: 1, data: vec![1, 2, 3] });
        let e = decode::<Blob>(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("Blob"), "{e}");
    }
    use std::collections::{BTreeMap, HashMap};

    #[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
    enum Command {
        Put { key: String, value: String },
        Get(String),
        Noop,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
    struct Entry {
        term: u64,
        command: Command,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
    struct State {
        current_term: u64,
        voted_for: Option<usize>,
        log: Vec<Entry>,
        clients: HashMap<u64, u64>,
        names: BTreeMap<String, Vec<u8>>,
        nested: Vec<Vec<Option<i32>>>,
    }

    fn sample() -> State {
        State {
            current_term: 7,
            voted_for: Some(2),
            log: vec![
                Entry { term: 1, command: Command::Noop },
                Entry { term: 3, command: Command::Put { key: "k".into(), value: "v".repeat(300) } },
                Entry { term: 7, command: Command::Get("x".into()) },
            ],
            clients: [(1, 10), (u64::MAX, 0)].into_iter().collect(),
            names: [("a".to_string(), vec![1, 2, 3])].into_iter().collect(),
            nested: vec![vec![Some(-1), None], vec![]],
        }
    }

    #[test]
    fn round_trips_nested_structs_enums_vecs_and_maps() {
        let s = sample();
        let back: State = decode(&encode(&s)).unwrap();
        assert_eq!(back, s);
        check_round_trip(&s).unwrap();
        check_round_trip(&(42u64, "text".to_string(), vec![Some(1u8), None])).unwrap();
    }

    #[test]
    fn encoded_size_matches_encode() {
        let s = sample();
        assert_eq!(encoded_size(&s), encode(&s).len());
    }

    #[test]
    fn small_integers_take_one_byte() {
        assert_eq!(encode(&5u64).len(), 1);
        assert_eq!(encode(&(1u64, 2u64, 3u64)).len(), 3);
    }

    #[test]
    fn truncated_buffer_is_an_error_naming_the_type() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            let err = decode::<State>(&bytes[..cut]).unwrap_err();
            assert!(err.type_name.ends_with("State"), "{err}");
            assert!(err.to_string().contains("cannot decode"), "{err}");
            assert_eq!(err.len, cut);
        }
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode(&sample());
        bytes.push(0);
        let err = decode::<State>(&bytes).unwrap_err();
        assert!(err.reason.contains("remaining"), "{err}");
    }

    #[test]
    fn corrupted_bytes_never_panic_and_never_round_trip_silently() {
        let good = encode(&sample());
        // Flip every byte in turn: each result is either an error or a value
        // that differs from the original (never a silent copy of it).
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            if let Ok(v) = decode::<State>(&bad) {
                assert_ne!(v, sample(), "flipping byte {i} went unnoticed");
            }
        }
        // Pure garbage: a huge length prefix must not allocate or panic.
        let garbage = [0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2];
        assert!(decode::<Vec<u64>>(&garbage).is_err());
        assert!(decode::<State>(&[]).is_err());
    }

    #[test]
    fn invalid_enum_tag_is_an_error() {
        let mut bytes = encode(&Command::Noop);
        bytes[0] = 9;
        let err = decode::<Command>(&bytes).unwrap_err();
        assert!(err.type_name.ends_with("Command"));
    }

    #[test]
    fn lossy_type_is_reported_by_check_round_trip() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Lossy {
            kept: u8,
            #[serde(skip)]
            dropped: u8,
        }
        let err = check_round_trip(&Lossy { kept: 1, dropped: 2 }).unwrap_err();
        assert!(err.contains("does not survive a round trip"), "{err}");
    }
}
