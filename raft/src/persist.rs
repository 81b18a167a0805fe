//! Encoding of the persistent state (Figure 2: currentTerm, votedFor, log;
//! §7: the snapshot's last included index and term, kept in the log), and
//! its validation on restart.

use crate::log::{Entry, Log};
use crate::state::{Persisted, RaftState};
use serde::{Deserialize, Serialize};

// The layout of the saved Raft state:
//
//     [Entry] [Entry] ... [Header] [header length: u32, little-endian]
//
// Each kept entry is labgob-encoded on its own, in index order; the header
// (term, vote, the snapshot's last index and term, the entry count) comes
// last. New entries and a new header change only the end of the bytes, so
// `Encoder` saves only that end (`Persister::splice_raft_state`): a save
// costs what changed, not the length of the log.

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
/// persister keeps beside it).
pub fn encode(st: &RaftState) -> Vec<u8> {
    let mut buf = Vec::new();
    for e in st.log().slice(st.log().snapshot_index() + 1, st.log().last_index()) {
        labgob::encode_into(&mut buf, e);
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

/// Remembers where each saved entry's bytes start, so that the next save
/// rewrites only what changed since: the entries after the last one still
/// in the log, and the header.
#[derive(Debug, Default)]
pub struct Encoder {
    /// The snapshot index the saved entries follow; `None`: nothing saved
    /// yet by this encoder (the next save is full).
    base: Option<u64>,
    /// Per saved entry (index `base + 1 + i`): its term and where its bytes
    /// start.
    saved: Vec<(u64, usize)>,
    /// Where the saved entries end (the header starts).
    end: usize,
}

impl Encoder {
    /// An encoder that has saved nothing: its first save is full.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// What to write so that the saved bytes become [`encode`]`(st)`, given
    /// that the last save went through this encoder.
    ///
    /// Entries are compared by term: an entry of a given index and term is
    /// the same entry wherever it is (the Log Matching Property, §5.3), so
    /// the saved entries still valid are those up to the last index whose
    /// term is unchanged.
    pub fn save(&mut self, st: &RaftState) -> Save {
        let log = st.log();
        let base = log.snapshot_index();
        if self.base != Some(base) {
            let bytes = self.rebuild(st);
            return Save::Full(bytes);
        }
        let kept = log.slice(base + 1, log.last_index());
        let mut same = self.saved.len().min(kept.len());
        while same > 0 && self.saved[same - 1].0 != kept[same - 1].term {
            same -= 1;
        }
        let keep = self.saved.get(same).map_or(self.end, |&(_, at)| at);
        self.saved.truncate(same);
        let mut tail = Vec::new();
        for e in &kept[same..] {
            self.saved.push((e.term, keep + tail.len()));
            labgob::encode_into(&mut tail, e);
        }
        self.end = keep + tail.len();
        push_header(&mut tail, &header(st, self.end));
        Save::Splice { keep, tail }
    }

    /// Encodes everything and remembers where each entry starts.
    fn rebuild(&mut self, st: &RaftState) -> Vec<u8> {
        let log = st.log();
        let mut buf = Vec::new();
        self.saved.clear();
        for e in log.slice(log.snapshot_index() + 1, log.last_index()) {
            self.saved.push((e.term, buf.len()));
            labgob::encode_into(&mut buf, e);
        }
        self.end = buf.len();
        self.base = Some(log.snapshot_index());
        let h = header(st, buf.len());
        push_header(&mut buf, &h);
        buf
    }

    /// Forgets what was saved: the next save is full (after the state was
    /// saved some other way).
    pub fn reset(&mut self) {
        self.base = None;
    }

    /// Encodes everything for a full save (with a new snapshot), and
    /// remembers the layout for the splices that follow.
    pub fn full(&mut self, st: &RaftState) -> Vec<u8> {
        self.rebuild(st)
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
/// `bytes`.
fn decode_entries(mut bytes: &[u8], count: u64) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let (e, used) = labgob::decode_prefix::<Entry>(bytes)
            .map_err(|e| format!("entry {} of {count}: {e}", entries.len() + 1))?;
        entries.push(e);
        bytes = &bytes[used..];
    }
    if entries.len() as u64 != count {
        return Err(format!("the header counts {count} entries, but {} are saved", entries.len()));
    }
    Ok(entries)
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
pub fn decode(me: usize, peers: usize, raft_state: &[u8], snapshot: Vec<u8>) -> Result<Persisted, PersistError> {
    let err = |reason: String| PersistError { me, reason };
    if raft_state.is_empty() {
        if !snapshot.is_empty() {
            return Err(err(format!("there is a snapshot of {} bytes but no Raft state", snapshot.len())));
        }
        return Ok(Persisted::default());
    }
    let (h, entries) = split(raft_state).map_err(|e| err(format!("Raft state: {e}")))?;
    let entries = decode_entries(entries, h.entries).map_err(|e| err(format!("Raft state: {e}")))?;
    let s = Persisted {
        current_term: h.current_term,
        voted_for: h.voted_for,
        log: Log::from_parts(h.snapshot_index, h.snapshot_term, entries),
        snapshot,
    };
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
    /// after each, the bytes saved through the encoder (spliced or full)
    /// are exactly the full encoding, and decode back to the state.
    #[test]
    fn incremental_saves_equal_full_encodings() {
        use persister::Persister;
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        // Miri interprets each step ~1000x slower: a few rounds there.
        let rounds = if cfg!(miri) { 2 } else { 40 };
        for round in 0..rounds {
            let mut st = RaftState::new(0, 3, Persisted::default(), 1, Instant::now());
            let (p, mut enc) = (Persister::new(), Encoder::new());
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
                if dirty.snapshot {
                    p.save(enc.full(&st), Some(st.snapshot().to_vec()));
                } else if dirty.state {
                    match enc.save(&st) {
                        Save::Full(b) => p.save_raft_state(b),
                        Save::Splice { keep, tail } => {
                            splices += 1;
                            p.splice_raft_state(keep, &tail)
                        }
                    }
                }
                if dirty.state || dirty.snapshot {
                    assert_eq!(p.read_raft_state(), encode(&st), "round {round} step {step}");
                    let back = decode(0, 3, &p.read_raft_state(), p.read_snapshot()).unwrap();
                    assert_eq!((back.current_term, back.voted_for, &back.log), st.persisted_view());
                }
            }
            assert!(splices > 50, "round {round}: only {splices} incremental saves");
        }
    }
}
