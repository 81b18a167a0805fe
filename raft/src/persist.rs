//! Encoding of the persistent state (Figure 2: currentTerm, votedFor, log;
//! §7: the snapshot's last included index and term, kept in the log), and
//! its validation on restart.

use crate::log::{Entry, Log};
use crate::state::{Persisted, RaftState};
use persister::Persister;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// The layout of the saved Raft state:
//
//     [Entry] [Entry] ... [Header] [header length: u32, little-endian]
//
// Each kept entry is labgob-encoded on its own, in index order; the header
// (term, vote, the snapshot's last index and term, the entry count) comes
// last. New entries and a new header change only the end of the bytes, so
// a save writes only that end (`Persister::splice_raft_state`, see
// [`stage`]): a save costs what changed, not the length of the log. The log
// reads its saved entries back from these bytes (see `crate::log`).

/// The fixed part of the persistent state (Figure 2: currentTerm, votedFor;
/// §7: lastIncludedIndex and lastIncludedTerm).
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct Header {
    current_term: u64,
    voted_for: Option<usize>,
    snapshot_index: u64,
    snapshot_term: u64,
    /// How many entries precede the header, and in how many bytes: a
    /// truncated or spliced-wrong state fails these checks.
    entries: u64,
    entry_bytes: u64,
}

fn header(st: &RaftState, entry_bytes: usize) -> Header {
    let (current_term, voted_for, log) = st.persisted_view();
    Header {
        current_term,
        voted_for,
        snapshot_index: log.snapshot_index(),
        snapshot_term: log.snapshot_term(),
        entries: log.len() as u64,
        entry_bytes: entry_bytes as u64,
    }
}

fn push_header(buf: &mut Vec<u8>, h: &Header) {
    let at = buf.len();
    labgob::encode_into(buf, h);
    let len = u32::try_from(buf.len() - at).expect("a header is a few bytes");
    buf.extend_from_slice(&len.to_le_bytes());
}

/// Encodes the persistent part of `st` (not the snapshot, which the
/// persister keeps beside it), every entry included.
pub fn encode(st: &RaftState) -> Vec<u8> {
    let mut buf = Vec::new();
    for e in st.log().entries(st.log().snapshot_index() + 1, st.log().last_index()) {
        labgob::encode_into(&mut buf, &e);
    }
    let h = header(st, buf.len());
    push_header(&mut buf, &h);
    buf
}

/// What a save writes: everything, or the bytes after `keep`.
#[derive(Debug, PartialEq, Eq)]
pub enum Save {
    /// The whole state.
    Full(Vec<u8>),
    /// Keep the first `keep` saved bytes, then write `tail`.
    Splice { keep: usize, tail: Vec<u8> },
}

/// What to write so that the persister holds [`encode`]`(st)`, given that
/// the log's saves all went to it: the entries not saved yet and the new
/// header, after the saved entries (a save costs what changed, not the
/// length of the log); or, when `full` (with a new snapshot), after a
/// compaction and on the first save, everything. The log counts its
/// entries saved from here on.
pub fn stage(st: &mut RaftState, full: bool) -> Save {
    let staged = st.log_to_save().stage_save(full);
    let mut bytes = staged.bytes;
    let h = header(st, st.log().saved_end());
    push_header(&mut bytes, &h);
    match staged.keep {
        None => Save::Full(bytes),
        Some(keep) => Save::Splice { keep, tail: bytes },
    }
}

/// Splits saved bytes into the header and the entries' bytes.
fn split(raft_state: &[u8]) -> Result<(Header, &[u8]), String> {
    let n = raft_state.len();
    if n < 4 {
        return Err(format!("{n} bytes, too short for the header length"));
    }
    let hlen = u32::from_le_bytes(raft_state[n - 4..].try_into().expect("4 bytes")) as usize;
    if hlen > n - 4 {
        return Err(format!("the header is said to be {hlen} bytes, but the state has only {n}"));
    }
    let at = n - 4 - hlen;
    let h: Header = labgob::decode(&raft_state[at..n - 4]).map_err(|e| format!("header: {e}"))?;
    if h.entry_bytes != at as u64 {
        return Err(format!("the header says the entries take {} bytes, but {at} precede it", h.entry_bytes));
    }
    Ok((h, &raft_state[..at]))
}

/// Decodes the log's entries, which must be exactly `count` and fill
/// `bytes`, handing each to `each` with where its bytes start.
fn decode_entries(mut bytes: &[u8], count: u64, mut each: impl FnMut(Entry, usize)) -> Result<(), String> {
    let (total, mut n) = (bytes.len(), 0u64);
    while !bytes.is_empty() {
        let (e, used) =
            labgob::decode_prefix::<Entry>(bytes).map_err(|e| format!("entry {} of {count}: {e}", n + 1))?;
        each(e, total - bytes.len());
        n += 1;
        bytes = &bytes[used..];
    }
    if n != count {
        return Err(format!("the header counts {count} entries, but {n} are saved"));
    }
    Ok(())
}

/// Why a peer's persisted state cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistError {
    /// The peer whose state it is.
    pub me: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for PersistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "raft: the persisted state of peer {} is unusable: {}", self.me, self.reason)
    }
}

impl std::error::Error for PersistError {}

/// Decodes and checks what a peer saved. Empty state and snapshot is a
/// fresh peer; anything else must decode completely and be consistent.
/// The log holds every command in memory (see [`restore`] for a peer's).
pub fn decode(me: usize, peers: usize, raft_state: &[u8], snapshot: Vec<u8>) -> Result<Persisted, PersistError> {
    decode_into(me, peers, raft_state, snapshot, None)
}

/// What peer `me` saved in `store`, decoded and checked as [`decode`] does,
/// with a log that reads its commands back from `store` and saves there.
pub fn restore(me: usize, peers: usize, store: &Arc<Persister>) -> Result<Persisted, PersistError> {
    let snapshot = store.read_snapshot();
    store.with_raft_state(|raft_state| decode_into(me, peers, raft_state, snapshot, Some(store)))
}

fn decode_into(
    me: usize,
    peers: usize,
    raft_state: &[u8],
    snapshot: Vec<u8>,
    store: Option<&Arc<Persister>>,
) -> Result<Persisted, PersistError> {
    let err = |reason: String| PersistError { me, reason };
    if raft_state.is_empty() {
        if !snapshot.is_empty() {
            return Err(err(format!("there is a snapshot of {} bytes but no Raft state", snapshot.len())));
        }
        let mut fresh = Persisted::default();
        if let Some(store) = store {
            fresh.log.attach(Arc::clone(store));
        }
        return Ok(fresh);
    }
    let (h, bytes) = split(raft_state).map_err(|e| err(format!("Raft state: {e}")))?;
    let log = match store {
        Some(store) => {
            let mut saved = Vec::with_capacity(h.entries.min(1 << 20) as usize);
            decode_entries(bytes, h.entries, |e, at| saved.push((e.term, at)))
                .map_err(|e| err(format!("Raft state: {e}")))?;
            Log::from_saved(h.snapshot_index, h.snapshot_term, saved, bytes.len(), Arc::clone(store))
        }
        None => {
            let mut entries = Vec::new();
            decode_entries(bytes, h.entries, |e, _| entries.push(e)).map_err(|e| err(format!("Raft state: {e}")))?;
            Log::from_parts(h.snapshot_index, h.snapshot_term, entries)
        }
    };
    let s = Persisted { current_term: h.current_term, voted_for: h.voted_for, log, snapshot };
    if let Some(v) = s.voted_for {
        if v >= peers {
            return Err(err(format!("voted_for is peer {v}, but there are only {peers} peers")));
        }
    }
    s.log.validate().map_err(|e| err(format!("log: {e}")))?;
    if s.log.last_term() > s.current_term {
        return Err(err(format!("log holds term {} beyond current term {}", s.log.last_term(), s.current_term)));
    }
    if s.log.snapshot_index() > 0 && s.snapshot.is_empty() {
        return Err(err(format!("the log starts after index {} but there is no snapshot", s.log.snapshot_index())));
    }
    if s.log.snapshot_index() == 0 && !s.snapshot.is_empty() {
        return Err(err(format!("there is a snapshot of {} bytes but the log says none was taken", s.snapshot.len())));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Entry;
    use std::time::Instant;

    fn sample() -> RaftState {
        let mut p = Persisted { current_term: 4, voted_for: Some(1), ..Default::default() };
        for t in [1, 1, 3, 4] {
            p.log.append(Entry { term: t, command: vec![t as u8; 3] });
        }
        RaftState::new(0, 3, p, 1, Instant::now())
    }

    #[test]
    fn round_trip() {
        let st = sample();
        let p = decode(0, 3, &encode(&st), Vec::new()).unwrap();
        assert_eq!(p.current_term, 4);
        assert_eq!(p.voted_for, Some(1));
        assert_eq!(&p.log, st.log());
    }

    #[test]
    fn empty_is_a_fresh_peer() {
        assert_eq!(decode(2, 3, &[], Vec::new()).unwrap(), Persisted::default());
    }

    #[test]
    fn truncated_or_corrupt_state_is_a_clear_error() {
        let bytes = encode(&sample());
        for cut in 1..bytes.len() {
            let e = decode(0, 3, &bytes[..cut], Vec::new()).unwrap_err();
            assert!(e.to_string().contains("persisted state of peer 0 is unusable: Raft state: "), "{e}");
        }
        let e = decode(0, 3, &[0xff; 7], Vec::new()).unwrap_err();
        assert!(e.reason.starts_with("Raft state"), "{e}");
    }

    #[test]
    fn inconsistent_state_is_a_clear_error() {
        let mut st = sample();
        st.set_voted_for(Some(2));
        assert!(decode(0, 2, &encode(&st), Vec::new()).unwrap_err().reason.contains("voted_for is peer 2"));
        assert!(decode(0, 3, &[], vec![1, 2]).unwrap_err().reason.contains("no Raft state"));
        assert!(decode(0, 3, &encode(&sample()), vec![1]).unwrap_err().reason.contains("says none was taken"));
        let mut st = sample();
        st.last_applied = 3;
        st.commit_index = 3;
        st.take_snapshot(3, vec![9]);
        assert!(decode(0, 3, &encode(&st), Vec::new()).unwrap_err().reason.contains("no snapshot"));
        assert!(decode(0, 3, &encode(&st), vec![9]).is_ok());
    }

    /// Random appends, truncations, term and vote changes and snapshots:
    /// after each, the bytes saved as [`stage`] says (spliced or full) are
    /// exactly the full encoding, and decode back to the state, both as a
    /// log in memory and as one reading the persister.
    #[test]
    fn incremental_saves_equal_full_encodings() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        // Miri interprets each step ~1000x slower: a few rounds there.
        let rounds = if cfg!(miri) { 2 } else { 40 };
        for round in 0..rounds {
            let p = Arc::new(Persister::new());
            let mut st = RaftState::new(0, 3, restore(0, 3, &p).unwrap(), 1, Instant::now());
            let mut splices = 0;
            for step in 0..200 {
                match rng.gen_range(0..10) {
                    0..=4 => {
                        let term = st.log().last_term().max(st.current_term());
                        let len = rng.gen_range(0..40);
                        st.log_mut().append(Entry { term, command: vec![step as u8; len] });
                    }
                    5 => {
                        let (lo, hi) = (st.log().snapshot_index().max(st.commit_index), st.log().last_index());
                        let at = rng.gen_range(lo..=hi);
                        st.log_mut().truncate_after(at);
                    }
                    6 => {
                        let t = st.current_term() + 1;
                        st.set_term(t);
                    }
                    7 => st.set_voted_for(Some(rng.gen_range(0..3))),
                    _ => {
                        let last = st.log().last_index();
                        if last > st.log().snapshot_index() && rng.gen_bool(0.3) {
                            let index = rng.gen_range(st.log().snapshot_index() + 1..=last);
                            st.commit_index = st.commit_index.max(index);
                            st.last_applied = st.last_applied.max(index);
                            st.take_snapshot(index, vec![round as u8; 5]);
                        }
                    }
                }
                let dirty = st.take_dirty();
                if dirty.state || dirty.snapshot {
                    match stage(&mut st, dirty.snapshot) {
                        Save::Full(b) if dirty.snapshot => p.save(b, Some(st.snapshot().to_vec())),
                        Save::Full(b) => p.save_raft_state(b),
                        Save::Splice { keep, tail } => {
                            splices += 1;
                            p.splice_raft_state(keep, &tail)
                        }
                    }
                    assert_eq!(p.read_raft_state(), encode(&st), "round {round} step {step}");
                    let back = decode(0, 3, &p.read_raft_state(), p.read_snapshot()).unwrap();
                    assert_eq!((back.current_term, back.voted_for, &back.log), st.persisted_view());
                    // (Under miri, every 10th step: each reads the whole log back.)
                    if !cfg!(miri) || step % 10 == 0 {
                        let restored = restore(0, 3, &p).unwrap();
                        assert_eq!(restored.log, back.log, "round {round} step {step}");
                    }
                }
            }
            assert!(splices > 50, "round {round}: only {splices} incremental saves");
        }
    }
}
