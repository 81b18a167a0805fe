//! porcupine's check time and memory on generated key/value histories:
//! 1, 10 and 50 clients, with and without partitioning by key, a few
//! hundred to tens of thousands of operations, and Lab 4-like histories.
//!
//! `cargo bench -p porcupine --bench check` (or `make bench-porcupine`)
//! prints a Markdown table. Each case runs in a child process (this binary
//! again, with `--child <case>`), so that its peak RSS (`VmHWM` of
//! `/proc/self/status`) is its own. Times are the median of the runs; the
//! time limit of a check is 10 s (`Unknown` beyond).

#[path = "../tests/common/kv_gen.rs"]
mod kv_gen;

use kv_gen::{generate, lab4_like, Workload};
use porcupine::models::kv::{KvModel, KvNoPartitionModel, KvOp, KvOperation, KvOutput};
use porcupine::{check_operations, check_operations_verbose, CheckResult, Model};
use std::process::Command;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
enum History {
    /// clients, keys, operations, seed
    Random(usize, usize, usize, u64),
    /// seed
    Lab4(u64),
}

struct Case {
    name: &'static str,
    history: History,
    by_key: bool,
    /// Corrupt the get nearest the middle (an illegal history).
    corrupt: bool,
    runs: usize,
}

const fn case(name: &'static str, history: History, by_key: bool, corrupt: bool, runs: usize) -> Case {
    Case { name, history, by_key, corrupt, runs }
}

use History::{Lab4, Random};

const CASES: &[Case] = &[
    case("1 client", Random(1, 10, 300, 1), false, false, 5),
    case("1 client", Random(1, 10, 3_000, 1), false, false, 3),
    case("1 client", Random(1, 10, 30_000, 1), false, false, 1),
    case("1 client", Random(1, 10, 30_000, 1), true, false, 3),
    case("10 clients", Random(10, 10, 350, 1), false, false, 3),
    case("10 clients", Random(10, 10, 350, 2), false, false, 3),
    case("10 clients", Random(10, 10, 350, 3), false, false, 3),
    case("10 clients", Random(10, 10, 350, 1), false, true, 3),
    case("10 clients", Random(10, 10, 350, 1), true, false, 5),
    case("10 clients", Random(10, 10, 3_500, 1), false, false, 1),
    case("10 clients", Random(10, 10, 3_500, 1), true, false, 3),
    case("10 clients", Random(10, 10, 35_000, 1), true, false, 3),
    case("50 clients", Random(50, 50, 1_700, 1), true, false, 5),
    case("50 clients", Random(50, 50, 1_700, 2), true, false, 5),
    case("50 clients", Random(50, 50, 1_700, 1), true, true, 5),
    case("50 clients", Random(50, 50, 1_700, 1), false, false, 1),
    case("50 clients", Random(50, 50, 17_000, 1), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(1), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(2), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(3), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(4), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(5), true, false, 3),
    case("Lab 4-like, 15 clients", Lab4(1), true, true, 3),
];

fn history(c: &Case) -> Vec<KvOperation> {
    let mut h = match c.history {
        Random(clients, keys, ops, seed) => generate(&Workload::new(clients, keys, ops, seed)),
        Lab4(seed) => lab4_like(15, seed),
    };
    if c.corrupt {
        let middle = h.len() / 2;
        let i = (middle..h.len()).chain(0..middle).find(|&i| h[i].input.op == KvOp::Get).expect("a get");
        h[i].output = KvOutput::new(format!("{}x", h[i].output.value));
    }
    h
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Median time and verdict of `runs` checks.
fn time<F: FnMut() -> CheckResult>(runs: usize, mut check: F) -> (f64, CheckResult) {
    let mut times = Vec::new();
    let mut result = CheckResult::Unknown;
    for _ in 0..runs {
        let start = Instant::now();
        result = check();
        times.push(start.elapsed().as_secs_f64() * 1e3);
        if result == CheckResult::Unknown {
            break; // one time-out is enough
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], result)
}

fn child(index: usize) {
    let c = &CASES[index];
    let h = history(c);
    let before = status_kib("VmRSS:");
    let (ms, result, ms_verbose, result_verbose) =
        if c.by_key { run(&KvModel, &h, c.runs) } else { run(&KvNoPartitionModel, &h, c.runs) };
    let peak = status_kib("VmHWM:");
    let partitions = if c.by_key { KvModel.partition(&h).len() } else { 1 };
    println!("RESULT {} {partitions} {result:?} {ms:.1} {result_verbose:?} {ms_verbose:.1} {before} {peak}", h.len());
}

fn run<M: Model<Input = porcupine::models::kv::KvInput, Output = KvOutput>>(
    model: &M,
    h: &[KvOperation],
    runs: usize,
) -> (f64, CheckResult, f64, CheckResult) {
    let (ms, result) = time(runs, || check_operations(model, h, Some(LIMIT)));
    let (ms_verbose, result_verbose) = time(runs, || check_operations_verbose(model, h, Some(LIMIT)).0);
    (ms, result, ms_verbose, result_verbose)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(args[i + 1].parse().expect("case index"));
        return;
    }
    let only: Option<usize> = args.iter().position(|a| a == "--case").map(|i| args[i + 1].parse().expect("case"));
    let exe = std::env::current_exe().expect("own path");
    println!("| history | clients×keys | ops | partitions | expected | check | verdict | verbose check | verdict | check memory (peak RSS − RSS before) |");
    println!("|---|---|--:|--:|---|--:|---|--:|---|--:|");
    for (index, c) in CASES.iter().enumerate() {
        if only.is_some_and(|o| o != index) {
            continue;
        }
        let out = Command::new(&exe).arg("--child").arg(index.to_string()).output().expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            println!("| {} | child failed: {} |", c.name, String::from_utf8_lossy(&out.stderr).trim());
            continue;
        };
        let f: Vec<&str> = line.split(' ').collect();
        let shape = match c.history {
            Random(clients, keys, _, seed) => format!("{clients}×{keys} (seed {seed})"),
            Lab4(seed) => format!("15×15 (seed {seed})"),
        };
        let ms = |s: &str, r: &str| {
            if r == "Unknown" {
                format!("> {} s", LIMIT.as_secs())
            } else {
                format!("{s} ms")
            }
        };
        let before: f64 = f[6].parse().unwrap();
        let peak: f64 = f[7].parse().unwrap();
        println!(
            "| {} | {shape} | {} | {} | {} | {} | {} | {} | {} | {:.1} MiB |",
            c.name,
            f[0],
            if c.by_key { f[1].to_string() } else { "1 (no partitioning)".to_string() },
            if c.corrupt { "Illegal" } else { "Ok" },
            ms(f[3], f[2]),
            f[2],
            ms(f[5], f[4]),
            f[4],
            (peak - before) / 1024.0,
        );
    }
}
