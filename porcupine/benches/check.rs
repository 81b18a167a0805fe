//! porcupine's check time and memory on generated key/value histories:
//! 1, 10 and 50 clients, with and without partitioning by key, a few
//! hundred to tens of thousands of operations, and Lab 4-like histories.
//!
//! `cargo bench -p porcupine --bench check` (or `make bench-porcupine`)
//! prints Markdown tables:
//! 1. fixed cases: check and verbose check (the tester's) time, median of
//!    the runs, and memory (the check's, and the history's); among them
//!    `GenericTest`-like histories against a fast server (one client and
//!    60,000 operations on one key growing to ~100 KB; 5 clients on their
//!    own keys; 15 clients on random keys), their reads stored through a
//!    `ValueStore` as the tester stores them;
//! 2. the 10-client, 350-operation, 10-key history checked as one
//!    partition, over 20 seeds (its time varies by orders of magnitude from
//!    seed to seed), as generated and with one get corrupted, and the same
//!    histories partitioned by key;
//! 3. Lab 4-like histories over 20 seeds, checked as the tester does
//!    (verbose, 1 s limit).
//!
//! Each check runs in a child process (this binary again, `--child ...`),
//! so that its peak RSS (`VmHWM` of `/proc/self/status`) is its own. The
//! time limit of a check is 10 s (`Unknown` beyond) unless said otherwise.

#[path = "../tests/common/kv_gen.rs"]
mod kv_gen;

use kv_gen::{generate, generic_like, lab4_like, Workload};
use porcupine::models::kv::{KvInput, KvModel, KvNoPartitionModel, KvOp, KvOperation, KvOutput};
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
    /// `GenericTest` against a fast server: clients, operations, own keys
    /// (else random keys), seed
    Generic(usize, usize, bool, u64),
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

use History::{Generic, Lab4, Random};

const CASES: &[Case] = &[
    case("1 client", Random(1, 10, 300, 1), false, false, 5),
    case("1 client", Random(1, 10, 3_000, 1), false, false, 3),
    case("1 client", Random(1, 10, 30_000, 1), false, false, 1),
    case("1 client", Random(1, 10, 30_000, 1), true, false, 3),
    case("10 clients", Random(10, 10, 350, 1), false, false, 3),
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
    case("Lab 4-like, 15 clients", Lab4(1), true, true, 3),
    case("basic_4a-like, 1 client", Generic(1, 60_000, true, 1), true, false, 3),
    case("basic_4a-like, 1 client", Generic(1, 60_000, true, 1), true, true, 3),
    case("concurrent_4a-like, 5 clients", Generic(5, 75_000, true, 1), true, false, 3),
    case("random keys, 15 clients", Generic(15, 30_000, false, 1), true, false, 3),
    case("random keys, 15 clients", Generic(15, 30_000, false, 1), true, true, 3),
];

fn history(c: &Case) -> Vec<KvOperation> {
    let mut h = match c.history {
        Random(clients, keys, ops, seed) => generate(&Workload::new(clients, keys, ops, seed)),
        Lab4(seed) => lab4_like(15, seed),
        Generic(clients, ops, own_keys, seed) => generic_like(clients, ops, own_keys, seed),
    };
    if c.corrupt {
        let middle = h.len() / 2;
        let i = (middle..h.len()).chain(0..middle).find(|&i| h[i].input.op == KvOp::Get).expect("a get");
        h[i].output = KvOutput::new(h[i].output.value.concat(&"x".into()));
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

/// Runs one check in this (child) process and prints
/// `RESULT ops partitions verdict ms verdict_verbose ms_verbose rss_before_kib peak_kib rss_start_kib`
/// (RSS before the checks, its peak, and RSS before the history was made).
fn child(c: &Case, limit: Duration, modes: Modes) {
    let start = status_kib("VmRSS:");
    let h = history(c);
    let before = status_kib("VmRSS:");
    let (ms, result, ms_verbose, result_verbose) = if c.by_key {
        run(&KvModel, &h, c.runs, limit, modes)
    } else {
        run(&KvNoPartitionModel, &h, c.runs, limit, modes)
    };
    let peak = status_kib("VmHWM:");
    let partitions = if c.by_key { KvModel.partition(&h).len() } else { 1 };
    println!(
        "RESULT {} {partitions} {result:?} {ms:.1} {result_verbose:?} {ms_verbose:.1} {before} {peak} {start}",
        h.len()
    );
}

fn run<M: Model<Input = KvInput, Output = KvOutput>>(
    model: &M,
    h: &[KvOperation],
    runs: usize,
    limit: Duration,
    modes: Modes,
) -> (f64, CheckResult, f64, CheckResult) {
    let skipped = (0.0, CheckResult::Unknown);
    let (ms, result) =
        if modes == Modes::Verbose { skipped } else { time(runs, || check_operations(model, h, Some(limit))) };
    let (ms_verbose, result_verbose) =
        if modes == Modes::Plain { skipped } else { time(runs, || check_operations_verbose(model, h, Some(limit)).0) };
    (ms, result, ms_verbose, result_verbose)
}

/// Which checks a child runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Modes {
    Both,
    Plain,
    Verbose,
}

/// One child's `RESULT` fields.
struct Measured {
    ops: usize,
    partitions: usize,
    result: String,
    ms: f64,
    result_verbose: String,
    ms_verbose: f64,
    /// Peak RSS minus RSS before the checks, MiB.
    mib: f64,
    /// RSS before the checks minus RSS before the history was made, MiB.
    history_mib: f64,
}

fn measure(args: &[String]) -> Result<Measured, String> {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe).arg("--child").args(args).output().expect("run child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("child failed: {}", String::from_utf8_lossy(&out.stderr).trim()))?;
    let f: Vec<&str> = line.split(' ').collect();
    Ok(Measured {
        ops: f[0].parse().unwrap(),
        partitions: f[1].parse().unwrap(),
        result: f[2].to_string(),
        ms: f[3].parse().unwrap(),
        result_verbose: f[4].to_string(),
        ms_verbose: f[5].parse().unwrap(),
        mib: (f[7].parse::<f64>().unwrap() - f[6].parse::<f64>().unwrap()) / 1024.0,
        history_mib: (f[6].parse::<f64>().unwrap() - f[8].parse::<f64>().unwrap()) / 1024.0,
    })
}

fn shown(ms: f64, result: &str, limit: Duration) -> String {
    if result == "Unknown" {
        format!("> {} s", limit.as_secs_f64())
    } else {
        format!("{ms:.1} ms")
    }
}

/// Median, 90th percentile and maximum of `ms` (`None`: timed out, counted
/// as the limit), as table cells.
fn spread(ms: &[Option<f64>], limit: Duration) -> String {
    let mut v: Vec<f64> = ms.iter().map(|m| m.unwrap_or(f64::INFINITY)).collect();
    v.sort_by(f64::total_cmp);
    let cell = |x: f64| if x.is_finite() { format!("{x:.0} ms") } else { format!("> {} s", limit.as_secs()) };
    let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let under_1s = v.iter().filter(|&&x| x < 1000.0).count();
    let unknown = ms.iter().filter(|m| m.is_none()).count();
    format!("{} | {} | {} | {under_1s}/{} | {unknown}", cell(p(0.5)), cell(p(0.9)), cell(p(1.0)), v.len())
}

const SWEEP_SEEDS: u64 = 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        match args[i + 1].as_str() {
            "case" => child(&CASES[args[i + 2].parse::<usize>().expect("case index")], LIMIT, Modes::Both),
            "sweep" => {
                let seed = args[i + 3].parse().expect("seed");
                let corrupt = args[i + 4] == "corrupt";
                let c = match args[i + 2].as_str() {
                    "one" => case("", Random(10, 10, 350, seed), false, corrupt, 1),
                    "by-key" => case("", Random(10, 10, 350, seed), true, corrupt, 1),
                    _ => case("", Lab4(seed), true, corrupt, 1),
                };
                if args[i + 2] == "lab4" {
                    child(&c, Duration::from_secs(1), Modes::Verbose);
                } else {
                    child(&c, LIMIT, Modes::Plain);
                }
            }
            other => panic!("unknown child kind {other}"),
        }
        return;
    }
    let only: Option<usize> = args.iter().position(|a| a == "--case").map(|i| args[i + 1].parse().expect("case"));

    println!("### Fixed cases\n");
    println!(
        "| history | clients×keys | ops | partitions | expected | check | verdict | verbose check | verdict \
         | check memory | history memory |"
    );
    println!("|---|---|--:|--:|---|--:|---|--:|---|--:|--:|");
    for (index, c) in CASES.iter().enumerate() {
        if only.is_some_and(|o| o != index) {
            continue;
        }
        let shape = match c.history {
            Random(clients, keys, _, seed) => format!("{clients}×{keys} (seed {seed})"),
            Lab4(seed) => format!("15×15 (seed {seed})"),
            Generic(clients, _, true, seed) => format!("{clients}×{clients}, own keys (seed {seed})"),
            Generic(clients, _, false, seed) => format!("{clients}×{clients} (seed {seed})"),
        };
        match measure(&["case".to_string(), index.to_string()]) {
            Ok(m) => println!(
                "| {} | {shape} | {} | {} | {} | {} | {} | {} | {} | {:.1} MiB | {:.1} MiB |",
                c.name,
                m.ops,
                if c.by_key { m.partitions.to_string() } else { "1 (no partitioning)".to_string() },
                if c.corrupt { "Illegal" } else { "Ok" },
                shown(m.ms, &m.result, LIMIT),
                m.result,
                shown(m.ms_verbose, &m.result_verbose, LIMIT),
                m.result_verbose,
                m.mib,
                m.history_mib,
            ),
            Err(e) => println!("| {} | {shape} | {e} |", c.name),
        }
    }
    if only.is_some() {
        return;
    }

    println!("\n### 10 clients × 10 keys, 350 operations, seeds 1..={SWEEP_SEEDS}\n");
    println!("| partitioning | history | median | p90 | max | under 1 s | Unknown (> 10 s) | peak check memory |");
    println!("|---|---|--:|--:|--:|--:|--:|--:|");
    for kind in ["one", "by-key"] {
        for corrupt in ["ok", "corrupt"] {
            let mut ms = Vec::new();
            let mut mib: f64 = 0.0;
            for seed in 1..=SWEEP_SEEDS {
                let m = measure(&["sweep".into(), kind.into(), seed.to_string(), corrupt.into()]).expect("child");
                let expected = if corrupt == "ok" { "Ok" } else { "Illegal" };
                assert!(
                    m.result == expected || m.result == "Unknown",
                    "seed {seed}: {} (expected {expected})",
                    m.result
                );
                ms.push((m.result != "Unknown").then_some(m.ms));
                mib = mib.max(m.mib);
            }
            println!(
                "| {} | {} | {} | {mib:.0} MiB |",
                if kind == "one" { "none (one partition)" } else { "by key" },
                if corrupt == "ok" { "as generated (Ok)" } else { "one get corrupted (Illegal)" },
                spread(&ms, LIMIT)
            );
        }
    }

    println!(
        "\n### Lab 4-like histories (15 clients, 15 random keys, restarts, partitions), seeds 1..={SWEEP_SEEDS}\n"
    );
    println!("Checked as the tester does: verbose, partitioned by key, time limit 1 s.\n");
    println!("| history | ops (min–max) | median | p90 | max | under 1 s | Unknown (> 1 s) | peak check memory |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|");
    for corrupt in ["ok", "corrupt"] {
        let (mut ms, mut mib, mut lo, mut hi) = (Vec::new(), 0.0f64, usize::MAX, 0);
        for seed in 1..=SWEEP_SEEDS {
            let m = measure(&["sweep".into(), "lab4".into(), seed.to_string(), corrupt.into()]).expect("child");
            ms.push((m.result_verbose != "Unknown").then_some(m.ms_verbose));
            mib = mib.max(m.mib);
            lo = lo.min(m.ops);
            hi = hi.max(m.ops);
        }
        println!(
            "| {} | {lo}–{hi} | {} | {mib:.1} MiB |",
            if corrupt == "ok" { "as generated (Ok)" } else { "one get corrupted (Illegal)" },
            spread(&ms, Duration::from_secs(1))
        );
    }
}
