//! What one persist costs, the way Raft saves: a new entry appended to a
//! log of N entries, then only what changed written (`persist::stage`
//! through `Persister::splice_raft_state`); beside it, re-encoding and
//! saving the whole state (what the lab suggests, and what Raft does once
//! per snapshot).
//!
//! `cargo bench -p raft --bench persist`.

use persister::Persister;
use raft::log::Entry;
use raft::persist::{self, Save};
use raft::state::RaftState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A peer's state with `entries` entries saved in `persister`.
fn state(persister: &Arc<Persister>, entries: usize, command_bytes: usize) -> RaftState {
    let mut p = persist::restore(0, 5, persister).expect("a fresh persister");
    p.current_term = 1 + (entries / 300) as u64;
    for i in 0..entries {
        p.log.append(Entry { term: 1 + (i / 300) as u64, command: vec![7u8; command_bytes] });
    }
    let mut st = RaftState::new(0, 5, p, 1, Instant::now());
    save(persister, &mut st);
    st
}

fn save(persister: &Persister, st: &mut RaftState) {
    match persist::stage(st, false) {
        Save::Full(b) => persister.save_raft_state(b),
        Save::Splice { keep, tail } => persister.splice_raft_state(keep, &tail),
    }
}

/// Microseconds per call of `f`, over about half a second.
fn per_call(mut f: impl FnMut()) -> f64 {
    let mut n = 0u32;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(500) {
        f();
        n += 1;
    }
    t0.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn measure(entries: usize, command_bytes: usize) {
    let persister = Arc::new(Persister::new());
    let mut st = state(&persister, entries, command_bytes);
    let bytes = persist::encode(&st).len();
    // Re-encoding everything (the entries read back from the persister).
    let other = Persister::new();
    let full = per_call(|| other.save_raft_state(persist::encode(&st)));
    // Incremental: append one entry and save, then drop it again (a
    // truncation, also incremental) so the log keeps its length.
    let term = st.log().last_term();
    let incremental = per_call(|| {
        let last = st.log().last_index();
        st.log_mut().append(Entry { term, command: vec![7u8; command_bytes] });
        save(&persister, &mut st);
        st.log_mut().truncate_after(last);
        save(&persister, &mut st);
    }) / 2.0;
    assert_eq!(persister.read_raft_state(), persist::encode(&st), "the incremental saves lost nothing");
    println!(
        "log of {entries} entries of {command_bytes} B ({bytes} B saved): a save writing what changed {incremental:.2} us, \
         re-encoding everything {full:.1} us"
    );
}

fn main() {
    measure(1000, 9); // the tester's commands: an encoded integer
    measure(1000, 100);
    measure(60_000, 35); // a Lab 4 server without snapshots (4A): ~35-byte operations
    measure(10, 9); // a 3D log between snapshots
}
