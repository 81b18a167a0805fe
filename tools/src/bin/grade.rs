//! `grade`: runs every test of the asked Lab 3 parts, each in its own
//! process, one after another, and checks the course's time limits.
//!
//! Builds the suite once, records per test pass/fail, wall seconds, CPU
//! seconds and the tester's `Passed` figures, per part wall and CPU seconds
//! (getrusage of the children), prints tables and writes JSON. Exit status 1
//! on any failed test or breached limit.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tools::report::{self, Align, Limits, Table};
use tools::runner::{self, TargetArgs, TestExe};
use tools::suite::{self, Outcome, Tracker};

#[derive(Parser, Debug)]
#[command(about = "Grade Lab 3: run each test in its own process and check the time limits")]
struct Args {
    /// Parts to run, e.g. 3A 3C (default: 3A 3B 3C 3D).
    #[arg(value_name = "PART")]
    parts: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// JSON results file (default: `grade-results/grade-<timestamp>.json`).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Kill a test still running after this many seconds (it fails).
    #[arg(long, default_value_t = 180.0, value_name = "SECS")]
    kill_after: f64,
    /// Set RAFT_LOG=1 for the tests (their logs land in the kept log files).
    #[arg(long)]
    raft_log: bool,
    /// Keep the output of passing tests too (failing ones are always kept).
    #[arg(long)]
    keep_logs: bool,
    /// Per-test limit in seconds (course: 120).
    #[arg(long, default_value_t = 120.0, value_name = "SECS")]
    test_limit: f64,
    /// Whole-lab wall limit in seconds (course: 600).
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    lab_limit: f64,
}

/// Result of one test process.
struct TestRun {
    name: String,
    part: String,
    result: &'static str,
    exit: Option<i32>,
    wall_s: f64,
    cpu_s: f64,
    record: suite::TestRecord,
    /// Why it failed, in one line (see [`suite::failure_in`]).
    failure: Option<String>,
    log: Option<PathBuf>,
}

struct PartRun {
    part: String,
    tests: usize,
    passed: usize,
    wall_s: f64,
    cpu_s: f64,
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template"));
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Runs one test, its stdout and stderr merged into `log`.
fn run_test(exe: &TestExe, name: &str, part: &str, log: &Path, args: &Args) -> std::io::Result<TestRun> {
    let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(log)?;
    let seed = std::env::var("LABRPC_SEED").unwrap_or_else(|_| "random".into());
    writeln!(f, "# grade: {name} ({part}) at {} LABRPC_SEED={seed}", runner::timestamp())?;
    let f = OpenOptions::new().append(true).open(log)?;
    let mut cmd = exe.command();
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .stdout(f.try_clone()?)
        .stderr(f);
    if args.raft_log {
        cmd.env("RAFT_LOG", "1");
    }
    let pb = spinner(format!("{part} {name}"));
    let usage0 = runner::children_usage();
    let t0 = Instant::now();
    let mut child = cmd.spawn()?;
    let mut killed = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if !killed && t0.elapsed().as_secs_f64() > args.kill_after {
            killed = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall_s = t0.elapsed().as_secs_f64();
    let cpu_s = runner::children_usage().cpu_since(&usage0);
    pb.finish_and_clear();

    let text = String::from_utf8_lossy(&std::fs::read(log)?).into_owned();
    let mut tracker = Tracker::new();
    text.lines().for_each(|l| {
        tracker.feed(l);
    });
    let mut record = tracker.records.into_iter().find(|r| r.name.as_deref() == Some(name)).unwrap_or_default();
    // A process ended mid-test (a panic off the test's thread, an apply
    // error, a hang) has no libtest outcome: its output is all there is.
    record.warnings = suite::warnings_in(&text);
    let ran = record.outcome == Some(Outcome::Ok) && status.success();
    let result = if killed {
        "TIMEOUT"
    } else if !ran {
        "FAIL"
    } else if wall_s > args.test_limit {
        "SLOW"
    } else {
        "PASS"
    };
    let failure = if result == "PASS" {
        None
    } else if killed {
        Some(format!("killed after {:.0} s (--kill-after)", args.kill_after))
    } else {
        Some(suite::failure_in(&text).unwrap_or_else(|| format!("ended with {status} without a libtest result")))
    };
    let mut f = OpenOptions::new().append(true).open(log)?;
    writeln!(f, "# grade: {name} {result} ({status}) in {wall_s:.1} s")?;
    Ok(TestRun {
        name: name.to_string(),
        part: part.to_string(),
        result,
        exit: status.code(),
        wall_s,
        cpu_s,
        record,
        failure,
        log: Some(log.to_path_buf()),
    })
}

fn fmt_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

fn tests_table(runs: &[TestRun]) -> Table {
    let mut t = Table::new(&[
        ("Test", Align::Left),
        ("Part", Align::Left),
        ("Result", Align::Left),
        ("Warn", Align::Right),
        ("Wall s", Align::Right),
        ("CPU s", Align::Right),
        ("Secs", Align::Right),
        ("Peers", Align::Right),
        ("RPCs", Align::Right),
        ("Bytes", Align::Right),
        ("Cmds", Align::Right),
    ]);
    for r in runs {
        let p = r.record.passed;
        t.push([
            r.name.clone(),
            r.part.clone(),
            r.result.to_string(),
            r.record.warnings.len().to_string(),
            format!("{:.1}", r.wall_s),
            format!("{:.2}", r.cpu_s),
            fmt_opt(p.map(|p| format!("{:.1}", p.secs))),
            fmt_opt(p.map(|p| p.peers)),
            fmt_opt(p.map(|p| p.rpcs)),
            fmt_opt(p.map(|p| p.bytes)),
            fmt_opt(p.map(|p| p.commands)),
        ]);
    }
    t
}

fn parts_table(parts: &[PartRun]) -> Table {
    let mut t = Table::new(&[
        ("Part", Align::Left),
        ("Tests", Align::Right),
        ("Passed", Align::Right),
        ("Wall s", Align::Right),
        ("CPU s", Align::Right),
    ]);
    for p in parts {
        t.push([
            p.part.clone(),
            p.tests.to_string(),
            p.passed.to_string(),
            format!("{:.1}", p.wall_s),
            format!("{:.2}", p.cpu_s),
        ]);
    }
    t
}

/// Rounds to milliseconds for the JSON.
fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn test_json(r: &TestRun) -> serde_json::Value {
    json!({
        "name": r.name,
        "part": r.part,
        "description": r.record.description,
        "result": r.result,
        "exit_code": r.exit,
        "wall_s": r3(r.wall_s),
        "cpu_s": r3(r.cpu_s),
        "warnings": r.record.warnings,
        "failure": r.failure,
        "passed": r.record.passed.map(|p| json!({
            "secs": p.secs, "peers": p.peers, "rpcs": p.rpcs,
            "bytes": p.bytes, "commands": p.commands,
        })),
        "log": r.log.as_ref().map(|l| l.display().to_string()),
    })
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("grade: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<bool, String> {
    let parts: Vec<String> = if args.parts.is_empty() {
        ["3A", "3B", "3C", "3D"].map(String::from).to_vec()
    } else {
        args.parts.iter().map(|p| p.to_ascii_uppercase()).collect()
    };
    let exe = runner::build(&args.target)?;
    let names = exe.list()?;
    let stamp = runner::timestamp();
    let json_path = args.json.clone().unwrap_or_else(|| PathBuf::from(format!("grade-results/grade-{stamp}.json")));
    let log_dir = json_path.parent().unwrap_or(Path::new(".")).join(format!("logs-{stamp}"));
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;

    let mut runs: Vec<TestRun> = Vec::new();
    let mut part_runs = Vec::new();
    for part in &parts {
        let tests: Vec<&String> =
            names.iter().filter(|n| suite::part_of(n).as_deref() == Some(part.as_str())).collect();
        if tests.is_empty() {
            eprintln!("grade: no tests for part {part}");
        }
        println!("== Part {part}: {} tests", tests.len());
        let usage0 = runner::children_usage();
        let t0 = Instant::now();
        let first = runs.len();
        for name in tests {
            let log = log_dir.join(format!("{name}.log"));
            let mut r = run_test(&exe, name, part, &log, &args).map_err(|e| format!("{name}: {e}"))?;
            if r.result == "PASS" && !args.keep_logs {
                let _ = std::fs::remove_file(&log);
                r.log = None;
            }
            let p = r.record.passed.map_or_else(String::new, |p| {
                format!("  [{:.1}s {} peers {} RPCs {} bytes {} cmds]", p.secs, p.peers, p.rpcs, p.bytes, p.commands)
            });
            let where_ = r.log.as_ref().map_or_else(String::new, |l| format!("  log: {}", l.display()));
            println!("  {:<7} {:<40} {:>6.1}s{p}{where_}", r.result, r.name, r.wall_s);
            if let Some(f) = &r.failure {
                println!("          {f}");
            }
            for w in &r.record.warnings {
                println!("          warning: {w}");
            }
            runs.push(r);
        }
        let mine = &runs[first..];
        part_runs.push(PartRun {
            part: part.clone(),
            tests: mine.len(),
            passed: mine.iter().filter(|r| r.result == "PASS").count(),
            wall_s: t0.elapsed().as_secs_f64(),
            cpu_s: runner::children_usage().cpu_since(&usage0),
        });
    }
    let _ = std::fs::remove_dir(&log_dir); // only if empty

    let total_wall: f64 = part_runs.iter().map(|p| p.wall_s).sum();
    let total_cpu: f64 = part_runs.iter().map(|p| p.cpu_s).sum();
    let limits = Limits { per_test_s: args.test_limit, lab_wall_s: args.lab_limit, ..Limits::default() };
    let walls: Vec<(String, f64)> = runs.iter().map(|r| (r.name.clone(), r.wall_s)).collect();
    let checks = report::check_limits(&walls, total_wall, total_cpu, &limits);
    let failed = runs.iter().filter(|r| r.result != "PASS").count();
    let warnings: usize = runs.iter().map(|r| r.record.warnings.len()).sum();
    let ok = failed == 0 && !runs.is_empty() && !checks.iter().any(report::Check::failed);

    println!("\n{}", tests_table(&runs).render_text());
    let mut pt = parts_table(&part_runs);
    pt.push([
        "total".to_string(),
        runs.len().to_string(),
        (runs.len() - failed).to_string(),
        format!("{total_wall:.1}"),
        format!("{total_cpu:.2}"),
    ]);
    println!("{}", pt.render_text());
    println!("{}", report::checks_table(&checks).render_text());
    if warnings > 0 {
        println!("{warnings} warning(s) in passing or failing tests: see the Warn column");
    }
    if parts.len() < 4 {
        println!("(only parts {} ran: the whole-lab limits apply to these alone)", parts.join(" "));
    }

    let doc = json!({
        "tool": "grade",
        "timestamp": stamp,
        "executable": exe.path.display().to_string(),
        "labrpc_seed": std::env::var("LABRPC_SEED").ok(),
        "parts_asked": parts,
        "tests": runs.iter().map(test_json).collect::<Vec<_>>(),
        "parts": part_runs.iter().map(|p| json!({
            "part": p.part, "tests": p.tests, "passed": p.passed,
            "wall_s": r3(p.wall_s), "cpu_s": r3(p.cpu_s),
        })).collect::<Vec<_>>(),
        "total": {
            "wall_s": r3(total_wall), "cpu_s": r3(total_cpu), "tests": runs.len(), "failed": failed,
            "warnings": warnings,
        },
        "checks": checks.iter().map(|c| json!({
            "label": c.label, "value": r3(c.value), "limit": c.limit,
            "kind": if c.fatal { "limit" } else { "info" }, "status": c.status(),
        })).collect::<Vec<_>>(),
        "ok": ok,
    });
    runner::ensure_parent(&json_path).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
    File::create(&json_path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    println!("results: {}", json_path.display());
    println!("{}", if ok { "GRADE: OK" } else { "GRADE: FAILED" });
    Ok(ok)
}
