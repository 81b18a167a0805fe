//! `bench`: runs a lab's whole suite once (Lab 3 by default, `--lab lab4`
//! for Lab 4), in one process, and reports
//! every test's `Passed` figures plus the process's wall time, CPU time and
//! max RSS from the OS's accounting, and its thread counts.
//!
//! The suite runs under a small wrapper (this same binary, with the hidden
//! `--measure-out`) whose only child is the test process, so that its
//! `getrusage(RUSAGE_CHILDREN)` covers the suite alone, not cargo or rustc.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use tools::report::{Align, Table};
use tools::runner::{self, TargetArgs};
use tools::suite::{Outcome, Progress, TestRecord, Tracker};

#[derive(Parser, Debug)]
#[command(about = "Benchmark a lab's suite: one run, one process, a table of every test")]
struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// The lab whose suite runs: lab3 (Raft) or lab4 (kvraft). Lab 4's
    /// Passed lines have no byte column (Bytes stays empty) and count
    /// Clerk operations in Cmds.
    #[arg(long, default_value = "lab3", value_name = "LAB")]
    lab: String,
    /// Test-name filter passed to the test binary (e.g. `_3a`).
    #[arg(long)]
    filter: Option<String>,
    /// Markdown output (default: `bench-results/bench-<timestamp>.md`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Echo the suite's stdout while it runs.
    #[arg(short, long)]
    verbose: bool,
    /// Internal: run the command after `--`, then write its rusage here.
    #[arg(long, hide = true, value_name = "FILE")]
    measure_out: Option<PathBuf>,
    #[arg(last = true, hide = true)]
    command: Vec<OsString>,
}

/// The wrapper: runs the suite, waits, and writes the children's rusage.
fn measure(out: &Path, command: &[OsString]) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let Some((prog, rest)) = command.split_first() else {
        eprintln!("bench: --measure-out needs a command after --");
        return ExitCode::from(2);
    };
    let mut child = match Command::new(prog).args(rest).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: running {}: {e}", prog.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let pid_tmp = out.with_extension("pid.tmp");
    if std::fs::write(&pid_tmp, child.id().to_string()).is_ok() {
        let _ = std::fs::rename(&pid_tmp, out.with_extension("pid"));
    }
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: waiting for the suite: {e}");
            return ExitCode::from(2);
        }
    };
    let u = runner::children_usage();
    let doc = json!({
        "exit_code": status.code(), "signal": status.signal(),
        "user_s": u.user_s, "sys_s": u.sys_s, "maxrss_kb": u.maxrss_kb,
    });
    let _ = std::fs::write(out, doc.to_string());
    ExitCode::from(status.code().map_or(1, |c| c.clamp(0, 255) as u8))
}

/// Thread counts and resident size of the suite process, sampled every
/// 200 ms.
#[derive(Default)]
struct Threads {
    /// Where the wrapper writes the suite's pid.
    pid_file: PathBuf,
    pid: Option<u32>,
    /// Highest count since the last reset (one test).
    peak: u32,
    /// Highest count of the whole run.
    max: u32,
    /// Highest resident size sampled since the last reset (one test), KiB.
    rss_peak_kb: u64,
    /// The process's high-water mark (`VmHWM`) at the last sample, KiB.
    hwm_kb: u64,
}

impl Threads {
    /// CPU seconds (user + system) the suite process has used so far.
    fn cpu_s(&self) -> Option<f64> {
        runner::process_cpu_s(self.pid?)
    }

    fn sample(&mut self) -> Option<u32> {
        if self.pid.is_none() {
            self.pid = std::fs::read_to_string(&self.pid_file).ok().and_then(|s| s.trim().parse().ok());
        }
        let s = runner::proc_sample(self.pid?)?;
        self.peak = self.peak.max(s.threads);
        self.max = self.max.max(s.threads);
        self.rss_peak_kb = self.rss_peak_kb.max(s.rss_kb);
        self.hwm_kb = self.hwm_kb.max(s.hwm_kb);
        Some(s.threads)
    }
}

fn sampler(threads: Arc<Mutex<Threads>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        threads.lock().expect("sampler lock").sample();
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Per-test measurements next to the parsed record.
#[derive(Default, Clone)]
struct Extra {
    start: Option<Instant>,
    wall_s: Option<f64>,
    /// The suite process's CPU seconds when the test started, and what the
    /// test used (from /proc: the process runs one test at a time).
    cpu0: Option<f64>,
    cpu_s: Option<f64>,
    peak: Option<u32>,
    /// Threads alive when the test's result came (leaks show as a rising
    /// baseline from test to test).
    after: Option<u32>,
    /// The process's high-water mark when the test started, KiB.
    hwm0_kb: u64,
    /// The test's peak resident size, KiB, and whether it is exact: the
    /// test raised the process's high-water mark, which is then its peak;
    /// otherwise the highest 200 ms sample (a lower bound).
    rss: Option<(u64, bool)>,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// `TESTER_FLOOR`, the tester's switch for the floor lines.
fn tester_floor_var() -> &'static str {
    "TESTER_FLOOR"
}

fn tests_table(records: &[TestRecord], extras: &[Extra]) -> Table {
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("Test", Align::Left),
        ("Description", Align::Left),
        ("Result", Align::Left),
        ("Secs", Align::Right),
        ("Floor", Align::Right),
        ("Over", Align::Right),
        ("Peers", Align::Right),
        ("RPCs", Align::Right),
        ("Bytes", Align::Right),
        ("Cmds", Align::Right),
        ("CPU s", Align::Right),
        ("CPU/op ms", Align::Right),
        ("Timed s", Align::Right),
        ("Thr peak", Align::Right),
        ("Thr end", Align::Right),
        ("RSS MiB", Align::Right),
    ]);
    for (i, r) in records.iter().enumerate() {
        let e = extras.get(i).cloned().unwrap_or_default();
        let p = r.passed;
        let desc = match (&r.part, &r.description) {
            (Some(part), Some(d)) => format!("({part}) {d}"),
            (_, d) => opt(d.clone()),
        };
        let result = if r.is_weak_pass() { "WEAK" } else { r.outcome.map_or("?", Outcome::as_str) };
        let over = p.zip(r.floor_s).map(|(p, f)| p.secs - f);
        let per_op = e.cpu_s.zip(p).filter(|(_, p)| p.commands > 0).map(|(c, p)| c * 1e3 / p.commands as f64);
        t.push([
            (i + 1).to_string(),
            opt(r.name.clone()),
            desc,
            result.to_string(),
            opt(p.map(|p| format!("{:.1}", p.secs))),
            opt(r.floor_s.map(|f| format!("{f:.1}"))),
            opt(over.map(|o| format!("{o:+.1}"))),
            opt(p.map(|p| p.peers)),
            opt(p.map(|p| p.rpcs)),
            opt(p.and_then(|p| p.bytes)),
            opt(p.map(|p| p.commands)),
            opt(e.cpu_s.map(|c| format!("{c:.2}"))),
            opt(per_op.map(|c| format!("{c:.3}"))),
            opt(r.timed_s.map(|t| format!("{t:.3}"))),
            opt(e.peak),
            opt(e.after),
            opt(e.rss.map(|(kb, exact)| format!("{:.1}{}", kb as f64 / 1024.0, if exact { " ↑" } else { "" }))),
        ]);
    }
    t
}

/// Sums per part of the tester's figures.
fn parts_table(records: &[TestRecord]) -> Table {
    let mut t = Table::new(&[
        ("Part", Align::Left),
        ("Tests", Align::Right),
        ("Passed", Align::Right),
        ("Secs", Align::Right),
        ("RPCs", Align::Right),
        ("Bytes", Align::Right),
    ]);
    let mut parts: Vec<String> = records.iter().filter_map(|r| r.part.clone()).collect();
    parts.sort();
    parts.dedup();
    for part in parts {
        let rs: Vec<&TestRecord> = records.iter().filter(|r| r.part.as_ref() == Some(&part)).collect();
        let sum = |f: fn(&tools::suite::Passed) -> f64| rs.iter().filter_map(|r| r.passed.as_ref()).map(f).sum::<f64>();
        t.push([
            part.clone(),
            rs.len().to_string(),
            rs.iter().filter(|r| r.outcome == Some(Outcome::Ok)).count().to_string(),
            format!("{:.1}", sum(|p| p.secs)),
            format!("{:.0}", sum(|p| p.rpcs as f64)),
            format!("{:.0}", sum(|p| p.bytes.unwrap_or(0) as f64)),
        ]);
    }
    t
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(out) = &args.measure_out {
        return measure(out, &args.command);
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let lab =
        tools::labs::lab_named(&args.lab).ok_or_else(|| format!("unknown lab `{}`; labs: lab3, lab4", args.lab))?;
    let exe = runner::build(&args.target, lab.target)?;
    let stamp = runner::timestamp();
    let tmp = std::env::temp_dir().join(format!("bench-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let usage_file = tmp.join("usage.json");

    let mut suite_args: Vec<String> = Vec::new();
    if let Some(f) = &args.filter {
        suite_args.push(f.clone());
    }
    suite_args.extend(["--nocapture".into(), "--test-threads=1".into()]);
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(me);
    cmd.arg("--measure-out").arg(&usage_file).arg("--").arg(&exe.path).args(&suite_args);
    // Each test's floor (its fixed waits) after its Passed line.
    cmd.env(tester_floor_var(), "1");
    exe.in_package_dir(&mut cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());

    let shown = format!("{} {}", exe.path.display(), suite_args.join(" "));
    eprintln!("running {shown}");
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawning the wrapper: {e}"))?;
    let threads = Arc::new(Mutex::new(Threads { pid_file: usage_file.with_extension("pid"), ..Threads::default() }));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler_thread = {
        let (t, s) = (threads.clone(), stop.clone());
        std::thread::spawn(move || sampler(t, s))
    };

    let mut tracker = Tracker::new();
    let mut extras: Vec<Extra> = Vec::new();
    let mut total: Option<usize> = None;
    let mut final_threads: Option<u32> = None;
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut buf = Vec::new();
    while reader.read_until(b'\n', &mut buf).map_err(|e| e.to_string())? > 0 {
        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
        buf.clear();
        if args.verbose {
            println!("{line}");
        }
        if let Some(n) = line.strip_prefix("running ").and_then(|r| r.split(' ').next()?.parse().ok()) {
            total = Some(n);
        }
        for p in tracker.feed(&line) {
            let mut th = threads.lock().expect("threads lock");
            let now = th.sample();
            match p {
                Progress::Started(i) => {
                    extras.resize(i + 1, Extra::default());
                    extras[i].start = Some(Instant::now());
                    extras[i].cpu0 = th.cpu_s();
                    extras[i].hwm0_kb = th.hwm_kb;
                    th.peak = now.unwrap_or(0);
                    th.rss_peak_kb = 0;
                    th.sample();
                }
                Progress::Finished(i) => {
                    extras.resize(extras.len().max(i + 1), Extra::default());
                    let e = &mut extras[i];
                    e.wall_s = e.start.map(|s| s.elapsed().as_secs_f64());
                    e.cpu_s = e.cpu0.zip(th.cpu_s()).map(|(a, b)| b - a);
                    e.peak = Some(th.peak).filter(|p| *p > 0);
                    e.after = now;
                    e.rss = match (th.hwm_kb > e.hwm0_kb, th.rss_peak_kb) {
                        (true, _) => Some((th.hwm_kb, true)),
                        (false, 0) => None,
                        (false, kb) => Some((kb, false)),
                    };
                    if !args.verbose {
                        let r = &tracker.records[i];
                        eprintln!(
                            "  [{}/{}] {:<7} {:<36} {:>6.1}s  threads peak {}",
                            i + 1,
                            opt(total),
                            r.outcome.map_or("?", Outcome::as_str),
                            opt(r.name.clone()),
                            e.wall_s.unwrap_or(0.0),
                            opt(e.peak)
                        );
                    }
                }
                Progress::Summary => final_threads = now,
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler_thread.join();
    let max_threads = threads.lock().expect("threads lock").max;
    let usage: serde_json::Value =
        std::fs::read_to_string(&usage_file).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&tmp);

    // A test whose result came as the process exited (the last one) could
    // not read its CPU from /proc: the process's total tells it.
    if let (Some(u), Some(sy)) = (usage["user_s"].as_f64(), usage["sys_s"].as_f64()) {
        for e in extras.iter_mut().filter(|e| e.cpu_s.is_none()) {
            e.cpu_s = e.cpu0.map(|c0| u + sy - c0);
        }
    }
    let records = &tracker.records;
    let ok_count = records.iter().filter(|r| r.outcome == Some(Outcome::Ok)).count();
    let failed: Vec<String> =
        records.iter().filter(|r| r.outcome != Some(Outcome::Ok)).map(|r| opt(r.name.clone())).collect();
    let (user, sys) = (usage["user_s"].as_f64(), usage["sys_s"].as_f64());
    let cpu = match (user, sys) {
        (Some(u), Some(s)) => format!("{:.1} s (user {u:.1} s, sys {s:.1} s)", u + s),
        _ => "unknown".into(),
    };
    let rss = usage["maxrss_kb"].as_i64().map_or("unknown".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0));

    let mut md = format!("# {} benchmark {stamp}\n\n", lab.title);
    md += &format!("- command: `{shown}`\n");
    md += &format!("- LABRPC_SEED: {}\n", std::env::var("LABRPC_SEED").unwrap_or_else(|_| "unset".into()));
    md += &format!("- tests: {} ({ok_count} ok, {} not ok)", records.len(), failed.len());
    if !failed.is_empty() {
        md += &format!(": {}", failed.join(", "));
    }
    md += &format!("\n- exit code: {}\n", opt(status.code()));
    md += &format!("- wall: {wall:.1} s; CPU: {cpu}; max RSS: {rss}\n");
    let secs: f64 = records.iter().filter_map(|r| r.passed).map(|p| p.secs).sum();
    let floor: f64 = records.iter().filter_map(|r| r.floor_s).sum();
    if floor > 0.0 {
        md += &format!(
            "- the tests' own time: {secs:.1} s; their floor (fixed waits, see tester::floor): {floor:.1} s; \
             over the floor: {:.1} s ({:+.1}%)\n",
            secs - floor,
            (secs / floor - 1.0) * 100.0
        );
    }
    let ops: u64 = records.iter().filter_map(|r| r.passed).map(|p| p.commands).sum();
    if let (Some(u), Some(s), true) = (user, sys, lab.number == 4 && ops > 0) {
        md += &format!(
            "- client operations: {ops}; CPU per operation: {:.3} ms (the whole process's CPU over every test's ops)\n",
            (u + s) * 1e3 / ops as f64
        );
    }
    let weak: Vec<String> = records.iter().filter(|r| r.is_weak_pass()).map(|r| opt(r.name.clone())).collect();
    if lab.number == 4 {
        md += &format!("- weak passes (linearizability check timed out): {}\n", weak.len());
    }
    md += &format!(
        "- threads: max {max_threads}, {} at the end of the suite (sampled every 200 ms; \
         per test: peak, and count when its result came)\n\
         - RSS MiB: each test's peak resident size; exact and marked ↑ where the test raised \
         the process's high-water mark (`VmHWM`, so the suite's max RSS is the last ↑), \
         else the highest sample (every 200 ms, a lower bound)\n\n",
        opt(final_threads)
    );
    md += &tests_table(records, &extras).render_markdown();
    md += "\n";
    md += &parts_table(records).render_markdown();

    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("bench-results/bench-{stamp}.md")));
    runner::ensure_parent(&out).map_err(|e| e.to_string())?;
    std::fs::write(&out, &md).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("\n{md}\nwritten to {}", out.display());
    Ok(status.success() && failed.is_empty() && !records.is_empty())
}
