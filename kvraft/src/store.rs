//! The state machine, plain code over plain data (no locks, no threads, no
//! I/O): the key/value map, the duplicate table, applying one operation,
//! and the snapshot of both. The server (`server.rs`) is the thin shell
//! that feeds it what Raft commits.

use crate::common::OpId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Get,
    Put,
    Append,
}

/// An operation as it travels through the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub kind: OpKind,
    pub key: String,
    /// Empty for a Get.
    pub value: String,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            OpKind::Get => write!(f, "{} Get({:?})", self.id, self.key),
            OpKind::Put => write!(f, "{} Put({:?}, {} B)", self.id, self.key, self.value.len()),
            OpKind::Append => write!(f, "{} Append({:?}, {:?})", self.id, self.key, self.value),
        }
    }
}

/// The result of applying one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A Get: the key's value, `None` if it was never written.
    Value(Option<String>),
    /// A Put or Append that ran now.
    Written,
    /// A Put or Append this client's sequence had already passed: it ran
    /// before (a retry), and is not run again.
    Duplicate,
}

/// The replicated state: the map and, per client, the highest sequence
/// number applied.
///
/// Invariant: a client's Put/Append with `seq <= last_seq[client]` has
/// already run. A Clerk has one call outstanding and numbers its calls in
/// order, so one number per client is the whole duplicate table: it grows
/// with the number of clients, never with their operations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    data: HashMap<String, String>,
    last_seq: HashMap<u64, u64>,
}

/// A snapshot that cannot be restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError(String);

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SnapshotError {}

/// Marks the bytes as this service's snapshot, so that foreign or garbled
/// bytes are named as such instead of decoding by chance.
const SNAPSHOT_TAG: u32 = 0x4b56_5331; // "KVS1"

/// The snapshot's encoded form.
#[derive(Deserialize)]
struct Snapshot {
    tag: u32,
    /// The last log index the state includes.
    index: u64,
    data: HashMap<String, String>,
    last_seq: HashMap<u64, u64>,
}

/// [`Snapshot`], encoded from the store without copying it.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    tag: u32,
    index: u64,
    data: &'a HashMap<String, String>,
    last_seq: &'a HashMap<u64, u64>,
}

/// When a server should hand Raft a snapshot (4B): Raft's saved state
/// (`raft_state` bytes) has reached `maxraftstate`, and the entries applied
/// since the last snapshot (about `applied` bytes of log) are worth the
/// cost of a new one: at least half of `maxraftstate`, and, for a state
/// much larger than `maxraftstate` (its last snapshot took
/// `last_snapshot` bytes), an eighth of that, up to three times
/// `maxraftstate`. A server whose state is 200 times `maxraftstate` would
/// otherwise spend its time encoding it (every 15 entries), fall behind in
/// applying, and keep a long log. The log stays within
/// `maxraftstate` + 3 × `maxraftstate` + what is not yet applied, under the
/// tester's bound of 8 × `maxraftstate`.
pub fn snapshot_due(raft_state: usize, maxraftstate: usize, applied: usize, last_snapshot: usize) -> bool {
    let gain = (last_snapshot / 8).clamp(maxraftstate / 2, 3 * maxraftstate);
    raft_state >= maxraftstate && applied >= gain
}

impl KvStore {
    /// An empty store.
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// True if `id`'s write has already run (its client has moved past it).
    pub fn is_duplicate(&self, id: OpId) -> bool {
        self.last_seq.get(&id.client_id).is_some_and(|&s| id.seq <= s)
    }

    /// Applies one committed operation: Gets always read, writes run at
    /// most once per [`OpId`].
    pub fn apply(&mut self, op: &Op) -> Applied {
        if op.kind == OpKind::Get {
            return Applied::Value(self.data.get(&op.key).cloned());
        }
        if self.is_duplicate(op.id) {
            return Applied::Duplicate;
        }
        self.last_seq.insert(op.id.client_id, op.id.seq);
        match op.kind {
            OpKind::Put => {
                self.data.insert(op.key.clone(), op.value.clone());
            }
            _ => self.data.entry(op.key.clone()).or_default().push_str(&op.value),
        }
        Applied::Written
    }

    /// The value of `key`, if any (for tests and logs).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    /// Clients in the duplicate table.
    pub fn clients(&self) -> usize {
        self.last_seq.len()
    }

    /// The labgob snapshot of the state through log index `index`: the map
    /// and the duplicate table.
    pub fn snapshot(&self, index: u64) -> Vec<u8> {
        labgob::encode(&SnapshotRef { tag: SNAPSHOT_TAG, index, data: &self.data, last_seq: &self.last_seq })
    }

    /// Restores a snapshot made by [`KvStore::snapshot`]: the store and the
    /// index it runs through.
    ///
    /// # Errors
    /// Bytes that are not such a snapshot; the message says what is wrong.
    pub fn restore(bytes: &[u8]) -> Result<(KvStore, u64), SnapshotError> {
        let s: Snapshot = labgob::decode(bytes).map_err(|e| {
            SnapshotError(format!("a snapshot of {} bytes does not decode as a key/value snapshot: {e}", bytes.len()))
        })?;
        if s.tag != SNAPSHOT_TAG {
            return Err(SnapshotError(format!(
                "a snapshot of {} bytes is not a key/value snapshot (tag {:#x}, expected {SNAPSHOT_TAG:#x})",
                bytes.len(),
                s.tag
            )));
        }
        Ok((KvStore { data: s.data, last_seq: s.last_seq }, s.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client_id: u64, seq: u64, kind: OpKind, key: &str, value: &str) -> Op {
        Op { id: OpId { client_id, seq }, kind, key: key.into(), value: value.into() }
    }

    #[test]
    fn get_put_append_semantics() {
        let mut s = KvStore::new();
        assert_eq!(s.apply(&op(1, 1, OpKind::Get, "k", "")), Applied::Value(None));
        assert_eq!(s.apply(&op(1, 2, OpKind::Append, "k", "a")), Applied::Written);
        assert_eq!(s.apply(&op(1, 3, OpKind::Append, "k", "b")), Applied::Written);
        assert_eq!(s.apply(&op(1, 4, OpKind::Get, "k", "")), Applied::Value(Some("ab".into())));
        assert_eq!(s.apply(&op(1, 5, OpKind::Put, "k", "x")), Applied::Written);
        assert_eq!(s.get("k"), Some("x"));
    }

    #[test]
    fn a_retried_write_runs_once() {
        let mut s = KvStore::new();
        let a = op(7, 1, OpKind::Append, "k", "x");
        assert_eq!(s.apply(&a), Applied::Written);
        assert_eq!(s.apply(&a), Applied::Duplicate);
        assert!(s.is_duplicate(a.id));
        // Another client's op with the same seq is not a duplicate.
        assert_eq!(s.apply(&op(8, 1, OpKind::Append, "k", "y")), Applied::Written);
        assert_eq!(s.get("k"), Some("xy"));
        // A retried Get still reads the current value.
        let g = op(7, 2, OpKind::Get, "k", "");
        assert_eq!(s.apply(&g), Applied::Value(Some("xy".into())));
        assert_eq!(s.apply(&g), Applied::Value(Some("xy".into())));
    }

    #[test]
    fn the_duplicate_table_grows_with_clients_not_operations() {
        let mut s = KvStore::new();
        for seq in 1..=10_000 {
            s.apply(&op(1, seq, OpKind::Append, "k", "."));
            s.apply(&op(2, seq, OpKind::Put, "j", "v"));
        }
        assert_eq!(s.clients(), 2);
        let bytes = s.snapshot(20_000);
        assert!(bytes.len() < 10_100, "snapshot of 2 keys and 2 clients is {} bytes", bytes.len());
    }

    #[test]
    fn snapshot_round_trips_map_and_duplicate_table() {
        let mut s = KvStore::new();
        s.apply(&op(3, 1, OpKind::Put, "a", "1"));
        s.apply(&op(4, 9, OpKind::Append, "b", "2"));
        let (r, index) = KvStore::restore(&s.snapshot(42)).unwrap();
        assert_eq!((r.clone(), index), (s, 42));
        assert!(r.is_duplicate(OpId { client_id: 4, seq: 9 }));
        assert!(!r.is_duplicate(OpId { client_id: 4, seq: 10 }));
    }

    #[test]
    fn a_small_state_has_a_small_snapshot() {
        // SnapshotSize4B allows 500 bytes for one key and a few clients.
        let mut s = KvStore::new();
        for c in 0..3u64 {
            s.apply(&op(c << 60 | 0x0123_4567_89ab, 400, OpKind::Put, "x", "1"));
        }
        let n = s.snapshot(1000).len();
        assert!(n < 60, "{n} bytes");
    }

    #[test]
    fn snapshots_are_due_when_worth_their_cost() {
        // Below maxraftstate: never.
        assert!(!snapshot_due(999, 1000, 10_000, 0));
        // A small state: every half maxraftstate of log.
        assert!(!snapshot_due(1000, 1000, 499, 50));
        assert!(snapshot_due(1000, 1000, 500, 50));
        // A big state: an eighth of it, at most three maxraftstates.
        assert!(!snapshot_due(5000, 1000, 1999, 16_000));
        assert!(snapshot_due(5000, 1000, 2000, 16_000));
        assert!(!snapshot_due(5000, 1000, 2999, 1_000_000));
        assert!(snapshot_due(5000, 1000, 3000, 1_000_000));
    }

    #[test]
    fn corrupt_snapshots_are_named() {
        let e = KvStore::restore(&[1, 2, 3]).unwrap_err().to_string();
        assert!(e.contains("3 bytes does not decode as a key/value snapshot"), "{e}");
        // Another service's snapshot (the Lab 3 tester's: index + commands).
        let foreign = labgob::encode(&(9u64, vec![Some(1u64)]));
        assert!(KvStore::restore(&foreign).is_err());
        let mut bytes = KvStore::new().snapshot(5);
        bytes[0] ^= 0xff;
        let e = KvStore::restore(&bytes).unwrap_err().to_string();
        assert!(e.contains("key/value snapshot"), "{e}");
        assert!(KvStore::restore(&[]).is_err());
    }
}
