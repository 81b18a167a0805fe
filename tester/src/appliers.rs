//! The appliers of `config.go`: one thread per peer reads its apply channel
//! and checks every committed command against what the other peers applied.

use crate::config::Harness;
use crate::{Cmd, SNAPSHOT_INTERVAL};
use crossbeam::channel::Receiver;
use raft::{ApplyMsg, Raft};
use std::collections::HashMap;

/// What the appliers recorded (`cfg.logs`, `cfg.lastApplied`,
/// `cfg.applyErr`, `cfg.maxIndex`).
pub(crate) struct Applied {
    /// Per peer: index -> command applied there.
    pub(crate) logs: Vec<HashMap<u64, Cmd>>,
    pub(crate) last_applied: Vec<u64>,
    pub(crate) errors: Vec<Option<String>>,
    pub(crate) max_index: u64,
}

impl Applied {
    pub(crate) fn new(n: usize) -> Applied {
        Applied { logs: vec![HashMap::new(); n], last_applied: vec![0; n], errors: vec![None; n], max_index: 0 }
    }

    /// `checkLogs`: no other peer applied a different command at `index`.
    /// Records it; returns the error, if any, and whether `index - 1` was
    /// applied here before.
    fn check_logs(&mut self, i: usize, index: u64, cmd: Cmd) -> (Option<String>, bool) {
        let mut err = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(old) = log.get(&index) {
                if *old != cmd {
                    err = Some(format!("commit index={index} server={i} {cmd} != server={j} {old}"));
                }
            }
        }
        let prevok = self.logs[i].contains_key(&(index - 1));
        self.logs[i].insert(index, cmd);
        self.max_index = self.max_index.max(index);
        (err, prevok)
    }

    /// `ingestSnap`: replaces peer i's record by a snapshot's contents.
    pub(crate) fn ingest_snap(&mut self, i: usize, snapshot: &[u8], index: Option<u64>) -> Result<(), String> {
        let (last_included, xlog): (u64, Vec<Option<Cmd>>) =
            labgob::decode(snapshot).map_err(|e| format!("snapshot Decode() error: {e}"))?;
        if index.is_some_and(|x| x != last_included) {
            return Err(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        }
        self.logs[i] = xlog.into_iter().enumerate().filter_map(|(j, c)| c.map(|c| (j as u64, c))).collect();
        self.last_applied[i] = last_included;
        Ok(())
    }

    /// The snapshot the snapshotting applier hands Raft after `index`.
    fn encode_snapshot(&self, i: usize, index: u64) -> Vec<u8> {
        let xlog: Vec<Option<Cmd>> = (0..=index).map(|j| self.logs[i].get(&j).cloned()).collect();
        labgob::encode(&(index, xlog))
    }
}

/// Reads peer i's apply channel until the peer is killed. `snapshot`
/// selects the snapshotting applier (`applierSnap`). Errors are printed and
/// recorded; the test fails at its next check, and the channel keeps being
/// drained so that Raft never blocks.
pub(crate) fn run(cfg: &Harness, i: usize, rf: &Raft, rx: Receiver<ApplyMsg>, snapshot: bool) {
    for m in rx {
        let err = match m {
            ApplyMsg::Snapshot { index, data, .. } if snapshot => {
                cfg.lock().applied.ingest_snap(i, &data, Some(index)).err()
            }
            ApplyMsg::Snapshot { .. } => None,
            ApplyMsg::Command { index, command, .. } => {
                let mut p = cfg.lock();
                let mut err = None;
                if snapshot && index != p.applied.last_applied[i] + 1 {
                    err = Some(format!(
                        "server {i} apply out of order, expected index {}, got {index}",
                        p.applied.last_applied[i] + 1
                    ));
                }
                if err.is_none() {
                    match labgob::decode::<Cmd>(&command) {
                        Ok(cmd) => {
                            let (e, prevok) = p.applied.check_logs(i, index, cmd);
                            err = e;
                            if index > 1 && !prevok {
                                err = Some(format!("server {i} apply out of order {index}"));
                            }
                        }
                        Err(e) => err = Some(format!("server {i} applied an undecodable command at {index}: {e}")),
                    }
                }
                p.applied.last_applied[i] = index;
                let snap =
                    (snapshot && (index + 1) % SNAPSHOT_INTERVAL == 0).then(|| p.applied.encode_snapshot(i, index));
                drop(p);
                if let Some(bytes) = snap {
                    rf.snapshot(index, bytes);
                }
                err
            }
        };
        if let Some(e) = err {
            eprintln!("apply error: {e}");
            let mut p = cfg.lock();
            if p.applied.errors[i].is_none() {
                p.applied.errors[i] = Some(e);
            }
        }
    }
}
