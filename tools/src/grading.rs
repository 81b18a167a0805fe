//! The grader's engine: runs each test of a plan in its own process (N
//! times with `--runs`), each run with its own `LABRPC_SEED`, judges every
//! run (pass, weak pass, failure, over the time limit), checks every lab's
//! limits, and renders the tables and the JSON. `grade` drives it for the
//! kit's own crates, one submission, or a batch of them.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use crate::labs::Lab;
use crate::report::{self, Align, Check, Limits, Table};
use crate::runner::{self, CpuTimes, TestExe};
use crate::suite::{self, Failure, Outcome, TestRecord, Tracker};

/// How one run, or a test over its runs, ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Pass,
    /// Passed, but a linearizability check timed out: nothing was checked.
    Weak,
    /// Passed, but over the per-test time limit.
    Slow,
    Fail,
    /// Killed by the grader (`--kill-after`): the tester's own watchdog did
    /// not end it.
    Timeout,
    /// A test of the pinned list that the executable does not have.
    Missing,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Weak => "WEAK",
            Verdict::Slow => "SLOW",
            Verdict::Fail => "FAIL",
            Verdict::Timeout => "TIMEOUT",
            Verdict::Missing => "MISSING",
        }
    }

    /// Whether it counts as passed (a weak pass only with `accept_weak`).
    pub fn passes(self, accept_weak: bool) -> bool {
        self == Verdict::Pass || (accept_weak && self == Verdict::Weak)
    }
}

/// What the grader was asked to do with every test.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Runs per test; a test passes only if all of them pass.
    pub runs: u32,
    /// A run still going after this long is killed (the tester's own
    /// watchdog ends a test at 120 s; this is the grader's backstop).
    pub kill_after: Duration,
    /// Count weak passes as passes (the course's own rule).
    pub accept_weak: bool,
    /// RAFT_LOG=1 for the runs.
    pub raft_log: bool,
    /// Keep the output of passing runs too.
    pub keep_logs: bool,
    /// `LABRPC_SEED` of every run (replay); random per run when `None`.
    pub seed: Option<u64>,
}

/// One run of one test.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub seed: u64,
    pub verdict: Verdict,
    pub exit: Option<i32>,
    pub wall_s: f64,
    pub cpu: Option<CpuTimes>,
    pub record: TestRecord,
    pub failure: Option<Failure>,
    /// Its output, when kept.
    pub log: Option<PathBuf>,
}

/// A test over its runs.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub lab: &'static Lab,
    pub part: String,
    pub runs: Vec<RunResult>,
    pub verdict: Verdict,
    /// Why it is MISSING or could not run (a build failure).
    pub note: Option<String>,
}

impl TestResult {
    /// The run that decides the verdict: the first whose verdict is the
    /// test's, else the first.
    pub fn deciding_run(&self) -> Option<&RunResult> {
        self.runs.iter().find(|r| r.verdict == self.verdict).or(self.runs.first())
    }

    pub fn passed_runs(&self, accept_weak: bool) -> usize {
        self.runs.iter().filter(|r| r.verdict.passes(accept_weak)).count()
    }

    pub fn warning_count(&self) -> usize {
        self.runs.iter().map(|r| r.record.warnings.len()).sum()
    }

    pub fn weak_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.verdict == Verdict::Weak).count()
    }

    pub fn max_wall(&self) -> f64 {
        self.runs.iter().map(|r| r.wall_s).fold(0.0, f64::max)
    }

    fn failure_text(&self) -> Option<String> {
        self.note.clone().or_else(|| self.deciding_run()?.failure.as_ref().map(Failure::to_string))
    }
}

/// The tests of one lab to grade, and the executable holding them (`None`
/// when it could not be built: every test fails with `build_error`).
#[derive(Debug, Clone)]
pub struct LabPlan {
    pub lab: &'static Lab,
    pub tests: Vec<String>,
    pub exe: Option<TestExe>,
    /// The tests the executable has (to tell a missing one).
    pub available: Vec<String>,
    pub build_error: Option<String>,
    pub limits: Limits,
}

/// A lab's results.
#[derive(Debug, Clone)]
pub struct LabResult {
    pub lab: &'static Lab,
    pub tests: Vec<TestResult>,
    /// Wall and CPU seconds of each round (one pass over the lab's tests).
    pub rounds: Vec<(f64, f64)>,
    pub checks: Vec<Check>,
    pub limits: Limits,
}

impl LabResult {
    pub fn max_wall(&self) -> f64 {
        self.rounds.iter().map(|r| r.0).fold(0.0, f64::max)
    }

    pub fn max_cpu(&self) -> f64 {
        self.rounds.iter().map(|r| r.1).fold(0.0, f64::max)
    }
}

/// Judges one run from its exit, its output and its time.
pub fn judge(
    name: &str,
    output: &str,
    success: bool,
    timed_out: bool,
    wall_s: f64,
    per_test_s: f64,
) -> (Verdict, TestRecord, Option<Failure>) {
    let mut tracker = Tracker::new();
    output.lines().for_each(|l| {
        tracker.feed(l);
    });
    let mut record = tracker.records.into_iter().find(|r| r.name.as_deref() == Some(name)).unwrap_or_default();
    // A process ended mid-test (a panic off the test's thread, an apply
    // error, a hang) has no libtest outcome: its output is all there is.
    record.warnings = suite::warnings_in(output);
    record.weak = suite::weak_passes_in(output);
    let ran = record.outcome == Some(Outcome::Ok) && success;
    let (verdict, failure) = if timed_out {
        (Verdict::Timeout, Some(Failure { message: "killed by the grader (--kill-after)".into(), at: None }))
    } else if !ran {
        let f = suite::failure_of(output).unwrap_or_else(|| Failure {
            message: if success {
                "the process ended without the test's libtest result".into()
            } else {
                "the process failed without a panic or a tester report".into()
            },
            at: None,
        });
        (Verdict::Fail, Some(f))
    } else if wall_s > per_test_s {
        let msg = format!("took {wall_s:.1} s, over the {per_test_s:.0} s limit per test");
        (Verdict::Slow, Some(Failure { message: msg, at: None }))
    } else if record.weak > 0 {
        (Verdict::Weak, Some(Failure { message: suite::WEAK_PASS_LINE.into(), at: None }))
    } else {
        (Verdict::Pass, None)
    };
    (verdict, record, failure)
}

/// Runs test `name` of `exe` once, its output in `log`.
pub fn run_test(exe: &TestExe, name: &str, log: &Path, per_test_s: f64, s: &Settings) -> std::io::Result<RunResult> {
    let seed = s.seed.unwrap_or_else(|| rand::thread_rng().gen_range(0..1_000_000_000_000));
    let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(log)?;
    writeln!(f, "# grade: {name} at {} LABRPC_SEED={seed}", runner::timestamp())?;
    let f = OpenOptions::new().append(true).open(log)?;
    let mut cmd = exe.command();
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("LABRPC_SEED", seed.to_string())
        .stdin(Stdio::null())
        .stdout(f.try_clone()?)
        .stderr(f);
    if s.raft_log {
        cmd.env("RAFT_LOG", "1");
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn()?;
    let m = runner::wait_measured(&mut child, t0, Some(s.kill_after), None)?;
    let wall_s = m.wall.as_secs_f64();
    let text = String::from_utf8_lossy(&std::fs::read(log)?).into_owned();
    let (verdict, record, failure) = judge(name, &text, m.status.success(), m.timed_out, wall_s, per_test_s);
    let mut f = OpenOptions::new().append(true).open(log)?;
    writeln!(f, "# grade: {name} {} ({}) in {wall_s:.1} s", verdict.as_str(), m.status)?;
    let keep = s.keep_logs || verdict != Verdict::Pass;
    if !keep {
        let _ = std::fs::remove_file(log);
    }
    Ok(RunResult {
        seed,
        verdict,
        exit: m.status.code(),
        wall_s,
        cpu: m.cpu,
        record,
        failure,
        log: keep.then(|| log.to_path_buf()),
    })
}

/// The verdict of a test over its runs: PASS if every run passed, else the
/// worst run's.
pub fn overall(runs: &[RunResult], accept_weak: bool) -> Verdict {
    if runs.iter().all(|r| r.verdict.passes(accept_weak)) {
        return if runs.iter().any(|r| r.verdict == Verdict::Weak) { Verdict::Weak } else { Verdict::Pass };
    }
    runs.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Fail)
}

/// A compact line about a test's figures (from its deciding run).
fn figures(r: &TestRecord) -> String {
    match r.passed {
        Some(p) => match p.bytes {
            Some(b) => format!("  [{:.1}s {} peers {} RPCs {b} bytes {} cmds]", p.secs, p.peers, p.rpcs, p.commands),
            None => format!("  [{:.1}s {} servers {} RPCs {} ops]", p.secs, p.peers, p.rpcs, p.commands),
        },
        None => String::new(),
    }
}

/// Grades every lab of `plans`, one test at a time, `runs` rounds per lab.
/// `say` gets a line per test as it finishes (and per part as it starts).
pub fn grade(plans: &[LabPlan], s: &Settings, log_dir: &Path, say: &mut dyn FnMut(String)) -> Vec<LabResult> {
    let _ = std::fs::create_dir_all(log_dir);
    let mut out = Vec::new();
    for plan in plans {
        let mut tests: Vec<TestResult> = plan
            .tests
            .iter()
            .map(|name| TestResult {
                name: name.clone(),
                lab: plan.lab,
                part: crate::labs::part_of_test(name).unwrap_or_default(),
                runs: Vec::new(),
                verdict: Verdict::Fail,
                note: None,
            })
            .collect();
        let mut rounds = Vec::new();
        for round in 1..=s.runs {
            let (mut wall, mut cpu) = (0.0, 0.0);
            let mut part = String::new();
            for t in tests.iter_mut() {
                if round == 1 && t.part != part {
                    part.clone_from(&t.part);
                    let n = plan
                        .tests
                        .iter()
                        .filter(|n| crate::labs::part_of_test(n).as_deref() == Some(part.as_str()))
                        .count();
                    say(format!("== {} part {part}: {n} test(s)", plan.lab.title));
                }
                let exe = match (&plan.exe, &plan.build_error) {
                    (Some(exe), _) if plan.available.contains(&t.name) => exe,
                    (Some(_), _) => {
                        t.note = Some(format!("not in the kit's {} executable", plan.lab.target));
                        t.verdict = Verdict::Missing;
                        if round == 1 {
                            say(format!("  {:<7} {:<44} {}", "MISSING", t.name, t.note.as_deref().unwrap_or_default()));
                        }
                        continue;
                    }
                    (None, e) => {
                        t.note = Some(format!("did not build: {}", e.as_deref().unwrap_or("no executable")));
                        if round == 1 {
                            say(format!("  {:<7} {:<44} {}", "FAIL", t.name, t.note.as_deref().unwrap_or_default()));
                        }
                        continue;
                    }
                };
                let log = log_dir.join(if s.runs > 1 {
                    format!("{}-run{round}.log", t.name)
                } else {
                    format!("{}.log", t.name)
                });
                let r = match run_test(exe, &t.name, &log, plan.limits.per_test_s, s) {
                    Ok(r) => r,
                    Err(e) => {
                        t.note = Some(format!("could not run: {e}"));
                        continue;
                    }
                };
                wall += r.wall_s;
                cpu += r.cpu.map_or(0.0, |c| c.total());
                let mut line = format!(
                    "  {:<7} {:<44} {:>6.1}s{}",
                    r.verdict.as_str(),
                    if s.runs > 1 { format!("{} (run {round}/{})", t.name, s.runs) } else { t.name.clone() },
                    r.wall_s,
                    figures(&r.record)
                );
                if let Some(l) = &r.log {
                    let _ = write!(line, "  log: {}", l.display());
                }
                if let Some(f) = &r.failure {
                    let _ = write!(line, "\n          {f}  (LABRPC_SEED={})", r.seed);
                }
                for w in &r.record.warnings {
                    let _ = write!(line, "\n          warning: {w}");
                }
                say(line);
                t.runs.push(r);
            }
            rounds.push((wall, cpu));
        }
        for t in &mut tests {
            if t.verdict != Verdict::Missing {
                t.verdict = if t.runs.is_empty() { Verdict::Fail } else { overall(&t.runs, s.accept_weak) };
            }
        }
        let mut lr = LabResult { lab: plan.lab, tests, rounds, checks: Vec::new(), limits: plan.limits };
        let walls: Vec<(String, f64)> =
            lr.tests.iter().filter(|t| !t.runs.is_empty()).map(|t| (t.name.clone(), t.max_wall())).collect();
        lr.checks = report::check_limits(&walls, lr.max_wall(), lr.max_cpu(), &plan.limits);
        out.push(lr);
    }
    out
}

/// Whether the grade is OK: every test passed (weak passes only with
/// `accept_weak`) and no limit was breached.
pub fn grade_ok(labs: &[LabResult], accept_weak: bool) -> bool {
    let tests = labs.iter().flat_map(|l| &l.tests);
    labs.iter().any(|l| !l.tests.is_empty())
        && tests.clone().all(|t| t.verdict.passes(accept_weak))
        && !labs.iter().flat_map(|l| &l.checks).any(Check::failed)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The table of tests: verdict (with passed runs out of N), weak runs,
/// warnings, wall and CPU (the slowest run), the tester's figures.
pub fn tests_table(labs: &[LabResult], s: &Settings) -> Table {
    let mut t = Table::new(&[
        ("Test", Align::Left),
        ("Part", Align::Left),
        ("Result", Align::Left),
        ("Weak", Align::Right),
        ("Warn", Align::Right),
        ("Wall s", Align::Right),
        ("CPU s", Align::Right),
        ("Secs", Align::Right),
        ("Peers", Align::Right),
        ("RPCs", Align::Right),
        ("Bytes", Align::Right),
        ("Cmds", Align::Right),
    ]);
    for r in labs.iter().flat_map(|l| &l.tests) {
        let run = r.deciding_run();
        let p = run.and_then(|r| r.record.passed);
        let result = if s.runs > 1 {
            format!("{} {}/{}", r.verdict.as_str(), r.passed_runs(s.accept_weak), s.runs)
        } else {
            r.verdict.as_str().to_string()
        };
        let cpu = r
            .runs
            .iter()
            .filter_map(|r| r.cpu.map(|c| c.total()))
            .fold(None, |m: Option<f64>, c| Some(m.map_or(c, |m| m.max(c))));
        t.push([
            r.name.clone(),
            r.part.clone(),
            result,
            r.weak_runs().to_string(),
            r.warning_count().to_string(),
            if r.runs.is_empty() { String::new() } else { format!("{:.1}", r.max_wall()) },
            opt(cpu.map(|c| format!("{c:.2}"))),
            opt(p.map(|p| format!("{:.1}", p.secs))),
            opt(p.map(|p| p.peers)),
            opt(p.map(|p| p.rpcs)),
            opt(p.and_then(|p| p.bytes)),
            opt(p.map(|p| p.commands)),
        ]);
    }
    t
}

/// Per part: tests, passed, weak, and the mean wall and CPU of a round.
pub fn parts_table(labs: &[LabResult], s: &Settings) -> Table {
    let mut t = Table::new(&[
        ("Part", Align::Left),
        ("Tests", Align::Right),
        ("Passed", Align::Right),
        ("Weak", Align::Right),
        ("Wall s", Align::Right),
        ("CPU s", Align::Right),
    ]);
    let runs = f64::from(s.runs.max(1));
    let (mut n, mut passed, mut weak, mut wall, mut cpu) = (0, 0, 0, 0.0, 0.0);
    for lab in labs {
        let mut parts: Vec<&String> = lab.tests.iter().map(|t| &t.part).collect();
        parts.dedup();
        for part in parts {
            let ts: Vec<&TestResult> = lab.tests.iter().filter(|t| &t.part == part).collect();
            let p = ts.iter().filter(|t| t.verdict.passes(s.accept_weak)).count();
            let w = ts.iter().filter(|t| t.verdict == Verdict::Weak).count();
            let pw = ts.iter().flat_map(|t| &t.runs).fold(0.0, |a, r| a + r.wall_s) / runs;
            let pc = ts.iter().flat_map(|t| &t.runs).filter_map(|r| r.cpu).fold(0.0, |a, c| a + c.total()) / runs;
            t.push([
                part.clone(),
                ts.len().to_string(),
                p.to_string(),
                w.to_string(),
                format!("{pw:.1}"),
                format!("{pc:.2}"),
            ]);
            (n, passed, weak, wall, cpu) = (n + ts.len(), passed + p, weak + w, wall + pw, cpu + pc);
        }
    }
    t.push([
        "total".to_string(),
        n.to_string(),
        passed.to_string(),
        weak.to_string(),
        format!("{wall:.1}"),
        format!("{cpu:.2}"),
    ]);
    t
}

/// Every lab's limit checks, in one table with a Lab column.
pub fn checks_table(labs: &[LabResult]) -> Table {
    let mut t = Table::new(&[
        ("Lab", Align::Left),
        ("Limit", Align::Left),
        ("Value (s)", Align::Right),
        ("Max (s)", Align::Right),
        ("Kind", Align::Left),
        ("Status", Align::Left),
    ]);
    for lab in labs {
        for c in &lab.checks {
            t.push([
                lab.lab.name.to_string(),
                c.label.clone(),
                format!("{:.1}", c.value),
                if c.limit.fract() == 0.0 { format!("{:.0}", c.limit) } else { format!("{}", c.limit) },
                if c.fatal { "limit" } else { "info" }.to_string(),
                c.status().to_string(),
            ]);
        }
    }
    t
}

/// Rounds to milliseconds for the JSON.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn run_json(r: &RunResult) -> serde_json::Value {
    json!({
        "seed": r.seed,
        "result": r.verdict.as_str(),
        "exit_code": r.exit,
        "wall_s": r3(r.wall_s),
        "cpu_s": r.cpu.map(|c| r3(c.total())),
        "user_s": r.cpu.map(|c| r3(c.user_s)),
        "sys_s": r.cpu.map(|c| r3(c.sys_s)),
        "failure": r.failure.as_ref().map(|f| f.message.clone()),
        "failure_at": r.failure.as_ref().and_then(|f| f.at.clone()),
        "warnings": r.record.warnings,
        "weak": r.record.weak,
        "log": r.log.as_ref().map(|l| l.display().to_string()),
    })
}

/// One test in the JSON: its verdict, the failure (message and the line it
/// points at) and the seed replaying it, warnings, weak runs, wall and CPU
/// (the slowest run), the tester's figures, and every run.
pub fn test_json(t: &TestResult, accept_weak: bool) -> serde_json::Value {
    let d = t.deciding_run();
    let p = d.and_then(|r| r.record.passed);
    let lab4 = p.is_some_and(|p| p.bytes.is_none());
    json!({
        "name": t.name,
        "lab": t.lab.name,
        "part": t.part,
        "description": d.and_then(|r| r.record.description.clone()),
        "result": t.verdict.as_str(),
        "runs": t.runs.len(),
        "passed_runs": t.passed_runs(accept_weak),
        "failure": d.and_then(|r| r.failure.as_ref().map(|f| f.message.clone())).or_else(|| t.note.clone()),
        "failure_at": d.and_then(|r| r.failure.as_ref().and_then(|f| f.at.clone())),
        "seed": d.map(|r| r.seed),
        "exit_code": d.and_then(|r| r.exit),
        "warning_count": t.warning_count(),
        "warnings": t.runs.iter().flat_map(|r| r.record.warnings.iter().cloned()).collect::<Vec<_>>(),
        "weak_runs": t.weak_runs(),
        "wall_s": r3(t.max_wall()),
        "cpu_s": t.runs.iter().filter_map(|r| r.cpu.map(|c| c.total())).reduce(f64::max).map(r3),
        "rpcs": p.map(|p| p.rpcs),
        "bytes": p.and_then(|p| p.bytes),
        "commands": if lab4 { None } else { p.map(|p| p.commands) },
        "ops": if lab4 { p.map(|p| p.commands) } else { None },
        "peers": p.map(|p| p.peers),
        "secs": p.map(|p| p.secs),
        "phases": d.map(|r| r.record.phases.iter().map(|ph| ph.description.clone()).collect::<Vec<_>>()),
        "visualization": d.and_then(|r| r.record.visualization.clone()),
        "log": d.and_then(|r| r.log.as_ref().map(|l| l.display().to_string())),
        "run_details": t.runs.iter().map(run_json).collect::<Vec<_>>(),
    })
}

/// The whole result as JSON: tests, parts, labs, limits, totals. The
/// grader adds the run's identity (the kit's commit, the machine, the
/// submission).
pub fn results_json(labs: &[LabResult], s: &Settings) -> serde_json::Value {
    let all: Vec<&TestResult> = labs.iter().flat_map(|l| &l.tests).collect();
    let passed = all.iter().filter(|t| t.verdict.passes(s.accept_weak)).count();
    let weak = all.iter().filter(|t| t.verdict == Verdict::Weak).count();
    let mut parts = Vec::new();
    for lab in labs {
        let mut names: Vec<&String> = lab.tests.iter().map(|t| &t.part).collect();
        names.dedup();
        for part in names {
            let ts: Vec<&TestResult> = lab.tests.iter().filter(|t| &t.part == part).collect();
            parts.push(json!({
                "part": part, "lab": lab.lab.name, "tests": ts.len(),
                "passed": ts.iter().filter(|t| t.verdict.passes(s.accept_weak)).count(),
                "weak": ts.iter().filter(|t| t.verdict == Verdict::Weak).count(),
            }));
        }
    }
    json!({
        "runs_per_test": s.runs,
        "accept_weak": s.accept_weak,
        "tests": all.iter().map(|t| test_json(t, s.accept_weak)).collect::<Vec<_>>(),
        "parts": parts,
        "labs": labs.iter().map(|l| json!({
            "lab": l.lab.name, "tests": l.tests.len(),
            "passed": l.tests.iter().filter(|t| t.verdict.passes(s.accept_weak)).count(),
            "weak": l.tests.iter().filter(|t| t.verdict == Verdict::Weak).count(),
            "wall_s": r3(l.max_wall()), "cpu_s": r3(l.max_cpu()),
            "rounds": l.rounds.iter().map(|(w, c)| json!({"wall_s": r3(*w), "cpu_s": r3(*c)})).collect::<Vec<_>>(),
            "limits": {
                "per_test_s": l.limits.per_test_s, "lab_wall_s": l.limits.lab_wall_s,
                "reasonable_wall_s": l.limits.reasonable_wall_s, "reasonable_cpu_s": l.limits.reasonable_cpu_s,
                "cpu_limit_s": l.limits.cpu_limit_s,
            },
        })).collect::<Vec<_>>(),
        "checks": labs.iter().flat_map(|l| l.checks.iter().map(|c| json!({
            "lab": l.lab.name, "label": c.label, "value": r3(c.value), "limit": c.limit,
            "kind": if c.fatal { "limit" } else { "info" }, "status": c.status(),
        }))).collect::<Vec<_>>(),
        "total": {
            "tests": all.len(), "passed": passed, "weak": weak, "failed": all.len() - passed,
            "warnings": all.iter().map(|t| t.warning_count()).sum::<usize>(),
            "wall_s": r3(labs.iter().map(LabResult::max_wall).fold(0.0, |a, b| a + b)),
            "cpu_s": r3(labs.iter().map(LabResult::max_cpu).fold(0.0, |a, b| a + b)),
        },
        "ok": grade_ok(labs, s.accept_weak),
    })
}

/// The tables, the warnings note and the verdict line, as printed.
pub fn render(labs: &[LabResult], s: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", tests_table(labs, s).render_text());
    let _ = writeln!(out, "{}", parts_table(labs, s).render_text());
    let _ = writeln!(out, "{}", checks_table(labs).render_text());
    let warnings: usize = labs.iter().flat_map(|l| &l.tests).map(TestResult::warning_count).sum();
    if warnings > 0 {
        let _ = writeln!(out, "{warnings} warning line(s) in passing or failing tests: see the Warn column");
    }
    let weak: usize = labs.iter().flat_map(|l| &l.tests).filter(|t| t.verdict == Verdict::Weak).count();
    if weak > 0 {
        let _ = writeln!(
            out,
            "{weak} weak pass(es): the linearizability check timed out, so nothing was checked; {}",
            if s.accept_weak { "counted as passed (--accept-weak)" } else { "not counted as passed" }
        );
    }
    for lab in labs {
        let asked = lab.tests.len();
        if asked < lab.lab.tests.len() && asked > 0 {
            let _ = writeln!(
                out,
                "({} tests of {}'s {} ran: its whole-lab limits apply to these alone)",
                asked,
                lab.lab.title,
                lab.lab.tests.len()
            );
        }
    }
    let failed: Vec<String> = labs
        .iter()
        .flat_map(|l| &l.tests)
        .filter(|t| !t.verdict.passes(s.accept_weak))
        .map(|t| format!("  {} {}: {}", t.verdict.as_str(), t.name, t.failure_text().unwrap_or_default()))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "not passed:\n{}", failed.join("\n"));
    }
    out
}

/// Parses a limit spec: `SECS` (every lab) or `lab3=SECS,lab4=SECS`
/// (`lab3`, `3`, any case). Returns (lab name or `None` for all, seconds).
pub fn parse_limit_spec(spec: &str) -> Result<Vec<(Option<&'static str>, f64)>, String> {
    let secs = |v: &str| -> Result<f64, String> {
        let x: f64 = v.trim().parse().map_err(|_| format!("`{v}` is not a number of seconds"))?;
        if x > 0.0 && x.is_finite() {
            Ok(x)
        } else {
            Err(format!("`{v}`: a limit must be a positive number of seconds"))
        }
    };
    spec.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            None => Ok((None, secs(p)?)),
            Some((lab, v)) => {
                let key = lab.trim().to_ascii_lowercase();
                let key = if key.starts_with("lab") { key } else { format!("lab{key}") };
                let lab = crate::labs::lab_named(&key)
                    .ok_or_else(|| format!("unknown lab `{}` in limit `{p}`; labs: lab3, lab4", lab.trim()))?;
                Ok((Some(lab.name), secs(v)?))
            }
        })
        .collect()
}

/// The value a spec gives `lab`, if any (a lab's own entry wins).
pub fn limit_for(spec: &[(Option<&'static str>, f64)], lab: &Lab) -> Option<f64> {
    spec.iter().find(|(l, _)| *l == Some(lab.name)).or_else(|| spec.iter().find(|(l, _)| l.is_none())).map(|x| x.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "running 1 test\ntest a_3a ... Test (3A): a ...\n  ... Passed --   3.0  3   54     584    0\nok\n";

    #[test]
    fn judges_runs() {
        let (v, r, f) = judge("a_3a", OK, true, false, 3.1, 120.0);
        assert_eq!((v, f), (Verdict::Pass, None));
        assert_eq!(r.passed.map(|p| p.rpcs), Some(54));
        assert_eq!(judge("a_3a", OK, true, false, 130.0, 120.0).0, Verdict::Slow);
        assert_eq!(judge("a_3a", OK, false, true, 180.0, 120.0).0, Verdict::Timeout);
        assert_eq!(judge("b_3a", OK, true, false, 3.0, 120.0).0, Verdict::Fail, "no result for this test");
        let weak = "test k_4a ... Test: one client (4A) ...\ninfo: linearizability check timed out, assuming history is ok\n  ... Passed --  15.1  5 71701 13494\nok\n";
        let (v, r, f) = judge("k_4a", weak, true, false, 15.2, 120.0);
        assert_eq!((v, r.weak), (Verdict::Weak, 1));
        assert!(f.unwrap().message.contains("timed out"));
        let failed = "test a_3a ... \nthread 'test-body' panicked at tester/tests/raft_test.rs:24:13:\nexpected one leader, got none\nFAILED\n";
        let (v, _, f) = judge("a_3a", failed, false, false, 5.0, 120.0);
        let f = f.unwrap();
        assert_eq!(
            (v, f.message.as_str(), f.at.as_deref()),
            (Verdict::Fail, "expected one leader, got none", Some("tester/tests/raft_test.rs:24:13"))
        );
    }

    fn run(v: Verdict) -> RunResult {
        RunResult {
            seed: 1,
            verdict: v,
            exit: Some(0),
            wall_s: 1.0,
            cpu: None,
            record: TestRecord::default(),
            failure: None,
            log: None,
        }
    }

    #[test]
    fn a_test_passes_only_if_every_run_does() {
        assert_eq!(overall(&[run(Verdict::Pass), run(Verdict::Pass)], false), Verdict::Pass);
        assert_eq!(overall(&[run(Verdict::Pass), run(Verdict::Fail), run(Verdict::Slow)], false), Verdict::Fail);
        assert_eq!(overall(&[run(Verdict::Pass), run(Verdict::Weak)], false), Verdict::Weak);
        assert!(!Verdict::Weak.passes(false));
        assert_eq!(overall(&[run(Verdict::Pass), run(Verdict::Weak)], true), Verdict::Weak);
        assert!(Verdict::Weak.passes(true));
        assert_eq!(overall(&[run(Verdict::Weak), run(Verdict::Timeout)], true), Verdict::Timeout);
    }

    #[test]
    fn limit_specs() {
        assert_eq!(parse_limit_spec("60").unwrap(), [(None, 60.0)]);
        assert_eq!(parse_limit_spec("lab3=60, 4=700").unwrap(), [(Some("lab3"), 60.0), (Some("lab4"), 700.0)]);
        let spec = parse_limit_spec("100,lab4=700").unwrap();
        assert_eq!(limit_for(&spec, &crate::labs::LAB3), Some(100.0));
        assert_eq!(limit_for(&spec, &crate::labs::LAB4), Some(700.0));
        assert!(parse_limit_spec("lab5=3").unwrap_err().contains("unknown lab `lab5`"));
        assert!(parse_limit_spec("x").unwrap_err().contains("not a number"));
        assert!(parse_limit_spec("-1").unwrap_err().contains("positive"));
    }
}
