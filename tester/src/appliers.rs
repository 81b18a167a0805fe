//! The appliers of `config.go`: one thread per peer reads its apply channel
//! and checks every committed command against what the other peers applied.
//! An error ends the process there and then (Go's `log.Fatalf`), through
//! the tester's panic hook.

use crate::config::Harness;
use crate::{Cmd, SNAPSHOT_INTERVAL};
use crossbeam::channel::{Receiver, Sender};
use raft::{ApplyMsg, Raft};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// What the appliers recorded (`cfg.logs`, `cfg.lastApplied`,
/// `cfg.maxIndex`).
pub(crate) struct Applied {
    /// Per peer: index -> command applied there.
    pub(crate) logs: Vec<HashMap<u64, Cmd>>,
    pub(crate) last_applied: Vec<u64>,
    pub(crate) max_index: u64,
}

/// The apply channels of stopped appliers. They are never closed, as Go's
/// are never closed: a killed peer that still sends blocks, as it would in
/// Go, instead of seeing an error that a Raft may reasonably treat as a bug.
static RETIRED: Mutex<Vec<Receiver<ApplyMsg>>> = Mutex::new(Vec::new());

/// An applier's stop signal: dropping it stops the applier (once the
/// message it may be handling is done).
pub(crate) struct Stop(#[allow(dead_code)] Sender<()>);

/// A stop signal and the receiving end the applier watches.
pub(crate) fn stop_signal() -> (Stop, Receiver<()>) {
    let (tx, rx) = crossbeam::channel::bounded(0);
    (Stop(tx), rx)
}

impl Applied {
    pub(crate) fn new(n: usize) -> Applied {
        Applied { logs: vec![HashMap::new(); n], last_applied: vec![0; n], max_index: 0 }
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

/// Reads peer i's apply channel until `stop` fires (the tester crashed the
/// peer or the test is over). `snapshot` selects the snapshotting applier
/// (`applierSnap`). An error panics, which the tester's hook turns into a
/// report and the end of the process.
pub(crate) fn run(cfg: &Harness, i: usize, rf: &Raft, rx: Receiver<ApplyMsg>, stop: Receiver<()>, snapshot: bool) {
    loop {
        let m = crossbeam::channel::select! {
            recv(rx) -> m => match m {
                Ok(m) => m,
                Err(_) => break, // the peer dropped its sender: it is gone
            },
            recv(stop) -> _ => break,
        };
        if let Some(e) = apply(cfg, i, rf, m, snapshot) {
            panic!("apply error: {e}");
        }
    }
    RETIRED.lock().unwrap_or_else(PoisonError::into_inner).push(rx);
}

/// The safety suite's apply monitor (`Config::safety`), before the
/// course's checks: the error, if any. `None` when it is off.
fn monitor(cfg: &Harness, i: usize, m: &ApplyMsg, snapshot: bool) -> Option<String> {
    let mut p = cfg.lock();
    let mon = p.monitor.as_mut()?;
    match m {
        // Index 0 and undecodable commands: the course's checks name them.
        ApplyMsg::Command { index: 0, .. } => None,
        ApplyMsg::Command { index, term, command } => {
            let cmd = labgob::decode::<Cmd>(command).ok()?;
            mon.command(i, *index, *term, &cmd).err()
        }
        ApplyMsg::Snapshot { index, data, .. } if snapshot => match labgob::decode::<(u64, Vec<Option<Cmd>>)>(data) {
            Ok((_, xlog)) => mon.snapshot(i, *index, Some(&xlog)).err(),
            Err(e) => Some(format!(
                "safety: S{i} delivered a snapshot through index {index} whose data ({} bytes) is not a \
                     snapshot the service made: {e}. §7: the snapshot is persistent state (saved with the Raft \
                     state, read back on restart) and InstallSnapshot carries the service's bytes as they were \
                     passed to snapshot().",
                data.len()
            )),
        },
        ApplyMsg::Snapshot { index, .. } => mon.snapshot(i, *index, None).err(),
    }
}

/// Checks and records one message; the error, if any.
fn apply(cfg: &Harness, i: usize, rf: &Raft, m: ApplyMsg, snapshot: bool) -> Option<String> {
    if let Some(e) = monitor(cfg, i, &m, snapshot) {
        return Some(e);
    }
    match m {
        ApplyMsg::Snapshot { index, data, .. } if snapshot => {
            cfg.lock().applied.ingest_snap(i, &data, Some(index)).err()
        }
        // The plain applier ignores other kinds of message, as Go's does.
        ApplyMsg::Snapshot { .. } => None,
        ApplyMsg::Command { index, command, .. } => {
            let mut p = cfg.lock();
            if snapshot && index != p.applied.last_applied[i] + 1 {
                return Some(format!(
                    "server {i} apply out of order, expected index {}, got {index}",
                    p.applied.last_applied[i] + 1
                ));
            }
            if index == 0 {
                return Some(format!("server {i} applied a command at index 0 (log indexes start at 1)"));
            }
            let cmd = match labgob::decode::<Cmd>(&command) {
                Ok(cmd) => cmd,
                Err(e) => return Some(format!("server {i} applied an undecodable command at {index}: {e}")),
            };
            let (err, prevok) = p.applied.check_logs(i, index, cmd);
            if err.is_some() {
                return err;
            }
            if index > 1 && !prevok {
                return Some(format!("server {i} apply out of order {index}"));
            }
            p.applied.last_applied[i] = index;
            let snap = (snapshot && (index + 1) % SNAPSHOT_INTERVAL == 0).then(|| p.applied.encode_snapshot(i, index));
            drop(p);
            if let Some(bytes) = snap {
                cfg.applier_calls.lock().unwrap_or_else(PoisonError::into_inner)[i] =
                    Some(("snapshot()", Instant::now()));
                rf.snapshot(index, bytes);
                cfg.applier_calls.lock().unwrap_or_else(PoisonError::into_inner)[i] = None;
            }
            None
        }
    }
}
