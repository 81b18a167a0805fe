//! Encoding of the persistent state (Figure 2: currentTerm, votedFor, log;
//! §7: the snapshot's last included index and term, kept in the log), and
//! its validation on restart.

use crate::log::Log;
use crate::state::{Persisted, RaftState};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct StateRef<'a> {
    current_term: u64,
    voted_for: Option<usize>,
    log: &'a Log,
}

#[derive(Deserialize)]
struct StateOwned {
    current_term: u64,
    voted_for: Option<usize>,
    log: Log,
}

/// Encodes the persistent part of `st` (not the snapshot, which the
/// persister keeps beside it). No copy of the log is made.
pub fn encode(st: &RaftState) -> Vec<u8> {
    let (current_term, voted_for, log) = st.persisted_view();
    labgob::encode(&StateRef { current_term, voted_for, log })
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
    let s: StateOwned = labgob::decode(raft_state).map_err(|e| err(format!("Raft state: {e}")))?;
    if let Some(v) = s.voted_for {
        if v >= peers {
            return Err(err(format!("voted_for is peer {v}, but there are only {peers} peers")));
        }
    }
    s.log.validate().map_err(|e| err(format!("log: {e}")))?;
    if s.log.last_term() > s.current_term {
        return Err(err(format!("log holds term {} beyond current term {}", s.log.last_term(), s.current_term)));
    }
    if s.log.snapshot_index() > 0 && snapshot.is_empty() {
        return Err(err(format!("the log starts after index {} but there is no snapshot", s.log.snapshot_index())));
    }
    if s.log.snapshot_index() == 0 && !snapshot.is_empty() {
        return Err(err(format!("there is a snapshot of {} bytes but the log says none was taken", snapshot.len())));
    }
    Ok(Persisted { current_term: s.current_term, voted_for: s.voted_for, log: s.log, snapshot })
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
            assert!(
                e.to_string().contains("persisted state of peer 0 is unusable: Raft state: labgob: cannot decode"),
                "{e}"
            );
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
}
