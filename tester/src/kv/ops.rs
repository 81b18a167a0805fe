//! The tests' helpers of Lab 4's `test_test.go`: counted and logged Clerk
//! calls, the append checks, client threads and the partitioner.

use crate::kv::config::{fail, KvHarness};
use crate::kv::{TestClerk, ELECTION_TIMEOUT};
use porcupine::models::kv::{KvInput, KvOp, KvOutput, Value, ValueStore};
use porcupine::Operation;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The history of the operations of a test, for the linearizability check
/// (`OpLog`).
///
/// Kept compact while the clients run, beside the servers (40 bytes per
/// operation: its times, client, key number, kind and one value; a value
/// of up to 14 bytes, as every value Lab 4's clients write, is held in
/// place), in chunks of 4096 (160 KiB each, freed one by one as they are
/// converted), and made into porcupine's operations only for the check
/// ([`OpLog::into_operations`]), once the servers are gone. The values that Gets
/// return go through a [`ValueStore`]: each read of a growing key shares
/// the text of the earlier ones, so a test whose client reads a key of 100
/// KB tens of thousands of times holds about 100 KB of text, not gigabytes.
#[derive(Default)]
pub struct OpLog {
    /// Chunks of `CHUNK` operations (the last one may be shorter).
    ops: Mutex<Vec<Vec<Logged>>>,
    keys: Mutex<Keys>,
    values: ValueStore,
}

/// Operations per chunk of an [`OpLog`].
const CHUNK: usize = 4096;

/// One operation of an [`OpLog`].
struct Logged {
    call: i64,
    return_: i64,
    client: u16,
    /// Index into the log's keys.
    key: u16,
    op: KvOp,
    /// A Put's or an Append's value, or what a Get returned.
    value: Value,
}

/// The keys of a log, each stored once and numbered.
#[derive(Default)]
struct Keys {
    index: HashMap<Arc<str>, u16>,
    keys: Vec<Arc<str>>,
}

impl OpLog {
    /// An empty history.
    pub fn new() -> OpLog {
        OpLog::default()
    }

    /// Logs `input` by client `cli`, which returned `output`, called at
    /// `call` and returned at `return_` (ns).
    fn append(&self, cli: usize, input: KvInput, output: KvOutput, call: i64, return_: i64) {
        let key = self.key_number(&input.key);
        let value = if input.op == KvOp::Get { output.value } else { input.value };
        let client = u16::try_from(cli).unwrap_or_else(|_| panic!("OpLog: client {cli} is over 65,535"));
        let op = Logged { call, return_, client, key, op: input.op, value };
        let mut chunks = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(op),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(op);
                chunks.push(chunk);
            }
        }
    }

    fn key_number(&self, key: &Arc<str>) -> u16 {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&k) = keys.index.get(key) {
            return k;
        }
        let k = u16::try_from(keys.keys.len()).unwrap_or_else(|_| panic!("OpLog: over 65,536 keys"));
        keys.keys.push(Arc::clone(key));
        keys.index.insert(Arc::clone(key), k);
        k
    }

    /// The output of a Get of `key` that returned `value`, stored sharing
    /// text with the earlier reads of `key`.
    fn read_output(&self, key: &str, value: &str) -> KvOutput {
        KvOutput::new(self.values.value(key, value))
    }

    /// `key`, shared by every operation on it.
    fn key(&self, key: &str) -> Arc<str> {
        self.values.key(key)
    }

    /// Bytes of text the log holds for the values read (see
    /// [`ValueStore::stored_bytes`]).
    pub fn stored_bytes(&self) -> usize {
        self.values.stored_bytes()
    }

    /// Every operation logged so far, in the order logged, as porcupine
    /// takes them (values and keys shared with the log: 80 bytes per
    /// operation).
    pub fn read(&self) -> Vec<Operation<KvInput, KvOutput>> {
        let chunks = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        self.convert(chunks.iter().map(Vec::len).sum(), chunks.iter())
    }

    /// [`OpLog::read`] for the last time: each chunk of the compact log is
    /// freed once converted, so that the check does not hold the history
    /// twice.
    pub fn into_operations(self) -> Vec<Operation<KvInput, KvOutput>> {
        let chunks = std::mem::take(&mut *self.ops.lock().unwrap_or_else(|e| e.into_inner()));
        self.convert(chunks.iter().map(Vec::len).sum(), chunks)
    }

    /// The `total` operations of `chunks` as porcupine's, in order (each
    /// chunk dropped once converted if owned).
    fn convert<C: AsRef<[Logged]>>(
        &self,
        total: usize,
        chunks: impl IntoIterator<Item = C>,
    ) -> Vec<Operation<KvInput, KvOutput>> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(total);
        for chunk in chunks {
            out.extend(chunk.as_ref().iter().map(|l| {
                let key = Arc::clone(&keys.keys[l.key as usize]);
                let (input, output) = match l.op {
                    KvOp::Get => (KvInput::get(key), KvOutput::new(l.value.clone())),
                    KvOp::Put => (KvInput::put(key, l.value.clone()), KvOutput::none()),
                    KvOp::Append => (KvInput::append(key, l.value.clone()), KvOutput::none()),
                };
                Operation { client_id: l.client as usize, input, output, call: l.call, return_: l.return_ }
            }));
        }
        out
    }
}

/// Nanoseconds since a process-wide start instant (`time.Since(t0)`).
fn now_ns() -> i64 {
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_nanos() as i64
}

/// Runs one Clerk call, counts it, and logs it as client `cli` (the input
/// made from the log's shared key, the output by `output`).
fn logged<T>(
    cfg: &KvHarness,
    log: Option<&OpLog>,
    cli: usize,
    key: &str,
    input: impl FnOnce(std::sync::Arc<str>) -> KvInput,
    call: impl FnOnce() -> T,
    output: impl FnOnce(&OpLog, &T) -> KvOutput,
) -> T {
    cfg.count_first_election();
    let start = now_ns();
    let r = call();
    let end = now_ns();
    cfg.op();
    if let Some(log) = log {
        log.append(cli, input(log.key(key)), output(log, &r), start, end);
    }
    r
}

/// A counted `Get`, logged when `log` is given (`Get(cfg, ck, key, log, cli)`).
pub fn get(cfg: &KvHarness, ck: &mut TestClerk, key: &str, log: Option<&OpLog>, cli: usize) -> String {
    logged(cfg, log, cli, key, KvInput::get, || ck.ck.get(key), |log, v| log.read_output(key, v))
}

/// A counted `Put`.
pub fn put(cfg: &KvHarness, ck: &mut TestClerk, key: &str, value: &str, log: Option<&OpLog>, cli: usize) {
    let input = |k| KvInput::put(k, value);
    logged(cfg, log, cli, key, input, || ck.ck.put(key, value), |_, _| KvOutput::none())
}

/// A counted `Append`.
pub fn append(cfg: &KvHarness, ck: &mut TestClerk, key: &str, value: &str, log: Option<&OpLog>, cli: usize) {
    let input = |k| KvInput::append(k, value);
    logged(cfg, log, cli, key, input, || ck.ck.append(key, value), |_, _| KvOutput::none())
}

/// A counted, unlogged Get that must return `value` (`check`).
#[track_caller]
pub fn check(cfg: &KvHarness, ck: &mut TestClerk, key: &str, value: &str) {
    let v = get(cfg, ck, key, None, 0);
    if v != value {
        fail(format_args!("Get({key}): expected:\n{value}\nreceived:\n{v}"));
    }
}

/// Where each element `"x <clnt> <j> y"` occurs in `v`: for each `j`, the
/// first and last offsets. One pass over `v`, however many elements: the
/// pattern `"x <clnt> "` cannot overlap itself (it starts with `x` and ends
/// with a space), and an occurrence of element `j` is exactly an occurrence
/// of that pattern followed by `j`'s digits (no more, no fewer) and `" y"`.
fn element_offsets(clnt: usize, v: &str, count: u64) -> Vec<Option<(usize, usize)>> {
    let pattern = format!("x {clnt} ");
    let mut offsets = vec![None; count as usize];
    let mut from = 0;
    while let Some(found) = v[from..].find(&pattern) {
        let at = from + found;
        let digits_at = at + pattern.len();
        let digits = v[digits_at..].bytes().take_while(u8::is_ascii_digit).count();
        let rest = &v[digits_at + digits..];
        let canonical = digits == 1 || (digits > 1 && !v[digits_at..].starts_with('0'));
        if canonical && rest.starts_with(" y") {
            if let Ok(j) = v[digits_at..digits_at + digits].parse::<u64>() {
                if let Some(slot) = offsets.get_mut(j as usize) {
                    let (first, _) = slot.unwrap_or((at, at));
                    *slot = Some((first, at));
                }
            }
        }
        from = at + pattern.len();
    }
    offsets
}

/// Each `"x <clnt> <j> y"` for `j < count` is in `v` exactly once, in
/// order (`checkClntAppends`, with its messages). The error, if any.
pub fn clnt_appends_error(clnt: usize, v: &str, count: u64) -> Option<String> {
    let offsets = element_offsets(clnt, v, count);
    let mut lastoff = None;
    for (j, slot) in offsets.into_iter().enumerate() {
        let wanted = format!("x {clnt} {j} y");
        let Some((off, off1)) = slot else {
            return Some(format!("{clnt} missing element {wanted} in Append result {v}"));
        };
        if off1 != off {
            return Some(format!("duplicate element {wanted} in Append result"));
        }
        if lastoff.is_some_and(|l| off <= l) {
            return Some(format!("wrong order for element {wanted} in Append result"));
        }
        lastoff = Some(off);
    }
    None
}

/// `checkClntAppends`, failing the test.
#[track_caller]
pub fn check_clnt_appends(clnt: usize, v: &str, count: u64) {
    if let Some(e) = clnt_appends_error(clnt, v, count) {
        fail(e);
    }
}

/// `checkConcurrentAppends`: every client's appends, each once, in order.
#[track_caller]
pub fn check_concurrent_appends(v: &str, counts: &[u64]) {
    for (i, &count) in counts.iter().enumerate() {
        if let Some(e) = clnt_appends_error(i, v, count) {
            fail(e);
        }
    }
}

/// `spawn_clients_and_wait`: runs `f(cli, clerk)` for `cli` in
/// `0..ncli`, each on its own thread with its own Clerk to every server,
/// and waits for all. `f` returns `Err` to fail (a Go client's `t.Fatalf`,
/// which ends only that client): the test fails once all have stopped.
#[track_caller]
pub fn spawn_clients_and_wait<F>(cfg: &KvHarness, ncli: usize, f: F)
where
    F: Fn(usize, &mut TestClerk) -> Result<(), String> + Sync,
{
    thread::scope(|s| {
        for cli in 0..ncli {
            let f = &f;
            thread::Builder::new()
                .name(format!("tester-client-{cli}"))
                .spawn_scoped(s, move || {
                    let mut ck = cfg.make_client(&cfg.all());
                    if let Err(e) = f(cli, &mut ck) {
                        cfg.client_failed(e);
                    }
                })
                .expect("cannot spawn a client thread");
        }
    });
    cfg.check_clients();
}

/// `partitioner`: until `done`, splits the servers at random in two groups,
/// then sleeps an election timeout plus 0..200 ms.
pub fn partitioner(cfg: &KvHarness, done: &AtomicBool) {
    while !done.load(Ordering::SeqCst) {
        let sides: Vec<u64> = (0..cfg.n()).map(|_| cfg.rand_below(2)).collect();
        let group = |g: u64| (0..cfg.n()).filter(|&j| sides[j] == g).collect::<Vec<usize>>();
        cfg.partition(&group(0), &group(1));
        thread::sleep(ELECTION_TIMEOUT + Duration::from_millis(cfg.rand_below(200)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The course's check, by substring search, for comparison.
    fn slow(clnt: usize, v: &str, count: u64) -> Option<String> {
        let mut lastoff = None;
        for j in 0..count {
            let wanted = format!("x {clnt} {j} y");
            let Some(off) = v.find(&wanted) else {
                return Some(format!("{clnt} missing element {wanted} in Append result {v}"));
            };
            if v.rfind(&wanted) != Some(off) {
                return Some(format!("duplicate element {wanted} in Append result"));
            }
            if lastoff.is_some_and(|l| off <= l) {
                return Some(format!("wrong order for element {wanted} in Append result"));
            }
            lastoff = Some(off);
        }
        None
    }

    #[test]
    fn the_log_shares_a_growing_keys_reads() {
        // 2,000 reads of a key growing to ~18 KB: the log holds its final
        // text once (not the ~18 MB of all reads), and each output is the
        // text read.
        let log = OpLog::new();
        let mut text = String::new();
        let mut outputs = Vec::new();
        for j in 0..2_000 {
            text.push_str(&format!("x 0 {j} y"));
            outputs.push((text.clone(), log.read_output("0", &text)));
        }
        assert_eq!(log.stored_bytes(), text.len());
        for (t, o) in outputs.iter().step_by(111) {
            assert_eq!(o.value.text(), *t);
        }
        // A put restarts the key: a new chain, and the key is shared.
        let _ = log.read_output("0", "y");
        assert_eq!(log.stored_bytes(), text.len() + 1);
        assert!(std::sync::Arc::ptr_eq(&log.key("0"), &log.key("0")));
    }

    /// Logs `op(key, value)` by client `cli`, returning `out`, over
    /// `[call, ret]`.
    fn log_op(log: &OpLog, cli: usize, input: KvInput, out: &str, call: i64, ret: i64) {
        let output = if out.is_empty() { KvOutput::none() } else { log.read_output(&input.key, out) };
        log.append(cli, input, output, call, ret);
    }

    #[test]
    fn the_log_is_compact_and_reads_back_what_was_logged() {
        assert_eq!(std::mem::size_of::<Logged>(), 40);
        let log = OpLog::new();
        log_op(&log, 3, KvInput::put(log.key("k"), "x 3 0 y"), "", 1, 2);
        log_op(&log, 1, KvInput::append(log.key("j"), "x 1 0 y"), "", 3, 9);
        log_op(&log, 1, KvInput::get(log.key("k")), "x 3 0 y", 10, 20);
        log_op(&log, 0, KvInput::get(log.key("j")), "", 11, 12);
        let ops = log.read();
        assert_eq!(log.read(), ops);
        let want = [
            (3, KvInput::put("k", "x 3 0 y"), KvOutput::none(), 1, 2),
            (1, KvInput::append("j", "x 1 0 y"), KvOutput::none(), 3, 9),
            (1, KvInput::get("k"), KvOutput::new("x 3 0 y"), 10, 20),
            (0, KvInput::get("j"), KvOutput::none(), 11, 12),
        ];
        assert_eq!(ops.len(), want.len());
        for (op, (client_id, input, output, call, return_)) in ops.iter().zip(want) {
            assert_eq!(*op, Operation { client_id, input, output, call, return_ });
        }
        // Keys are shared with the log's store, not copied per operation.
        assert!(Arc::ptr_eq(&ops[0].input.key, &ops[2].input.key));
        assert!(Arc::ptr_eq(&ops[0].input.key, &log.key("k")));
        assert_eq!(log.into_operations(), ops);
        // Across chunks, in the order logged.
        let log = OpLog::new();
        let n = 2 * CHUNK + 5;
        for j in 0..n as i64 {
            log_op(&log, (j % 3) as usize, KvInput::append(log.key("k"), format!("x {j} y")), "", j, j + 1);
        }
        assert_eq!(log.ops.lock().unwrap().len(), 3);
        let ops = log.into_operations();
        assert_eq!(ops.len(), n);
        for (j, op) in ops.iter().enumerate() {
            assert_eq!((op.call, op.client_id, op.input.value.text()), (j as i64, j % 3, format!("x {j} y")));
        }
    }

    #[test]
    fn the_linearizability_check_fails_an_illegal_history_and_passes_a_legal_one() {
        let legal = OpLog::new();
        log_op(&legal, 0, KvInput::put(legal.key("k"), "a"), "", 0, 10);
        log_op(&legal, 1, KvInput::get(legal.key("k")), "a", 20, 30);
        log_op(&legal, 1, KvInput::append(legal.key("k"), "b"), "", 40, 50);
        log_op(&legal, 0, KvInput::get(legal.key("k")), "ab", 45, 60);
        assert_eq!(crate::kv::generic::linearizability(legal), Ok(()));
        // A read of "b" after the put of "a" returned, with no other write.
        let illegal = OpLog::new();
        log_op(&illegal, 0, KvInput::put(illegal.key("k"), "a"), "", 0, 10);
        log_op(&illegal, 1, KvInput::get(illegal.key("k")), "b", 20, 30);
        log_op(&illegal, 2, KvInput::get(illegal.key("j")), "", 0, 30);
        // (The verdict, not `check_linearizable`'s panic: the tester's panic
        // hook ends the process at a test's failure.)
        assert_eq!(crate::kv::generic::linearizability(illegal), Err("history is not linearizable"));
    }

    #[test]
    fn append_check_agrees_with_substring_search() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let tokens =
            ["x 1 0 y", "x 1 1 y", "x 1 2 y", "x 1 10 y", "x 1 01 y", "x 11 1 y", "x 1 1", " y", "x 1 ", "1 y"];
        for _ in 0..20_000 {
            let n = rng.gen_range(0..8);
            let v: String = (0..n).map(|_| tokens[rng.gen_range(0..tokens.len())]).collect();
            for count in 0..4 {
                assert_eq!(clnt_appends_error(1, &v, count), slow(1, &v, count), "{v:?} count {count}");
            }
        }
        let good: String = (0..500).map(|j| format!("x 3 {j} y")).collect();
        assert_eq!(clnt_appends_error(3, &good, 500), None);
        assert!(clnt_appends_error(3, &good, 501).unwrap().contains("missing element x 3 500 y"));
    }
}
