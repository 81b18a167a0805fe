//! `grade`: runs every test of the labs or parts asked for, each in its own
//! process (N times with `--runs`), one after another, and checks the
//! course's limits; prints tables and writes JSON. Exit status 1 when a
//! test did not pass or a limit was breached, 2 on a usage error.
//!
//! Three ways to use it:
//! - `grade [PARTS]`: the kit's own crates (or `--exe`, a given test
//!   executable);
//! - `grade --submission PATH [PARTS]`: a student's `raft` (and `kvraft`)
//!   crates, copied into a fresh copy of this kit and built there, against
//!   the pinned list of the course's tests;
//! - `grade --submissions DIR [PARTS] -p P`: every submission in DIR, P at
//!   a time, with a summary table (CSV and JSON) and each one's JSON.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use tools::grading::{self, LabPlan, LabResult, Settings, Verdict};
use tools::labs::{self, Lab, Selector};
use tools::report::{Align, Limits, Table};
use tools::runner::{self, Profile, TargetArgs, TestExe};
use tools::submission::{Builder, Submission};

#[derive(Parser, Debug)]
#[command(
    about = "Grade the labs: every test in its own process, against the course's limits",
    after_help = "Examples:\n  \
        grade                                  every lab the kit has tests for, with the kit's own crates\n  \
        grade 3A 3B                            two parts of Lab 3\n  \
        grade --runs 5 --cpu-limit lab3        all of Lab 3, each test 5 times, with the course's CPU budget\n  \
        grade --submission ~/alice             Alice's raft (and kvraft) against this kit's tests\n  \
        grade --submissions subs/ -p 3 lab3    every submission in subs/, 3 at a time: summary.csv/json\n\
        Parts: 3A 3B 3C 3D 4A 4B; labs: lab3 lab4; all; or exact test names."
)]
struct Args {
    /// What to grade: parts (3A ... 4B), labs (lab3, lab4), `all`, or exact
    /// test names (default: every lab the kit has tests for; with a
    /// submission, those whose crates it has: Lab 4 needs kvraft).
    #[arg(value_name = "PART")]
    selectors: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// Grade a student's submission: a folder with their `raft/` (and
    /// `kvraft/`) crate, built into a fresh copy of this kit.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["submissions", "exe", "manifest_path", "test_target"])]
    submission: Option<PathBuf>,
    /// Grade every submission (each sub-folder) of DIR.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["exe", "manifest_path", "test_target"])]
    submissions: Option<PathBuf>,
    /// Submissions graded at the same time with --submissions (their
    /// builds take turns; their tests run side by side).
    #[arg(short = 'p', long, default_value_t = 1, value_name = "P", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
    /// Run every test N times; it passes only if all N runs pass.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Enforce a CPU budget per lab (over the parts asked): `--cpu-limit`
    /// alone, the course's (Lab 3: 60 s; Lab 4: 700 s); `--cpu-limit=SECS`
    /// for every lab, or `--cpu-limit=lab3=60,lab4=700`.
    #[arg(long, value_name = "SPEC", num_args = 0..=1, require_equals = true, default_missing_value = "course")]
    cpu_limit: Option<String>,
    /// Whole-lab wall limit (default: 600 s for each lab): SECS or
    /// `lab3=600,lab4=600`.
    #[arg(long, value_name = "SPEC")]
    lab_limit: Option<String>,
    /// Per-test wall limit in seconds (course: 120).
    #[arg(long, default_value_t = 120.0, value_name = "SECS")]
    test_limit: f64,
    /// Count weak passes (a linearizability check that timed out, which
    /// the course's tester lets pass) as passes.
    #[arg(long)]
    accept_weak: bool,
    /// JSON results file (default: `grade-results/grade-<timestamp>.json`).
    #[arg(long, value_name = "FILE", conflicts_with = "submissions")]
    json: Option<PathBuf>,
    /// Output folder of a batch (default: `grade-results/batch-<timestamp>/`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Kill a test still running after this many seconds (it fails). The
    /// tester's own watchdog ends a test at 120 s.
    #[arg(long, default_value_t = 180.0, value_name = "SECS")]
    kill_after: f64,
    /// Set RAFT_LOG=1 for the tests (their logs land in the kept log files).
    #[arg(long)]
    raft_log: bool,
    /// Keep the output of passing tests too (failing ones are always kept).
    #[arg(long)]
    keep_logs: bool,
}

/// Why grading could not go on: a usage error (an unknown part or test, a
/// missing submission folder, a submission without a raft crate ...) or a
/// kit that cannot be built or run. Exit status 2.
type Error = String;

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.submissions.is_some() { batch(&args) } else { single(&args) };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("grade: {e}");
            ExitCode::from(2)
        }
    }
}

fn settings(args: &Args) -> Result<Settings, Error> {
    if !(args.test_limit > 0.0 && args.kill_after > 0.0) {
        return Err("--test-limit and --kill-after must be positive".into());
    }
    let seed = match std::env::var("LABRPC_SEED") {
        Ok(s) => Some(s.trim().parse().map_err(|_| format!("LABRPC_SEED={s} is not a number"))?),
        Err(_) => None,
    };
    Ok(Settings {
        runs: args.runs,
        kill_after: Duration::from_secs_f64(args.kill_after),
        accept_weak: args.accept_weak,
        raft_log: args.raft_log,
        keep_logs: args.keep_logs,
        seed,
    })
}

/// Each lab's limits, from the course's and the flags.
fn limits_for(args: &Args, lab: &Lab) -> Result<Limits, Error> {
    let mut l = lab.limits;
    l.per_test_s = args.test_limit;
    if let Some(spec) = &args.lab_limit {
        let spec = grading::parse_limit_spec(spec)?;
        if let Some(v) = grading::limit_for(&spec, lab) {
            l.lab_wall_s = v;
        }
    }
    if let Some(spec) = &args.cpu_limit {
        l.cpu_limit_s = if spec == "course" {
            Some(lab.limits.reasonable_cpu_s)
        } else {
            let spec = grading::parse_limit_spec(spec)?;
            grading::limit_for(&spec, lab)
        };
    }
    Ok(l)
}

fn classify_all(selectors: &[String]) -> Result<Vec<Selector>, Error> {
    selectors.iter().map(|s| labs::classify(s)).collect()
}

/// Picks the tests: `candidates` are every lab's test names in order; no
/// selector means all of them. A name must be exact.
fn select(
    selectors: &[Selector],
    candidates: &[(&'static Lab, Vec<String>)],
) -> Result<Vec<(&'static Lab, Vec<String>)>, Error> {
    let known = || {
        let names: Vec<&str> = candidates.iter().flat_map(|(_, ts)| ts.iter().map(String::as_str)).collect();
        format!("known tests: {}", names.join(" "))
    };
    let mut chosen: Vec<(&'static Lab, Vec<bool>)> =
        candidates.iter().map(|(l, ts)| (*l, vec![selectors.is_empty(); ts.len()])).collect();
    for sel in selectors {
        let mut any = false;
        for ((lab, ts), (_, marks)) in candidates.iter().zip(chosen.iter_mut()) {
            for (t, m) in ts.iter().zip(marks.iter_mut()) {
                let hit = match sel {
                    Selector::All => true,
                    Selector::Lab(l) => lab.name == *l,
                    Selector::Part(p) => tools::suite::part_of(t).as_deref() == Some(p.as_str()),
                    Selector::Test { name, .. } => t == name,
                };
                if hit {
                    *m = true;
                    any = true;
                }
            }
        }
        if !any {
            return Err(match sel {
                Selector::Test { name, .. } => format!("unknown test `{name}`; {}", known()),
                Selector::Lab(l) => labs::missing_lab(labs::lab_named(l).expect("classified")),
                Selector::Part(p) => match labs::lab_of_part(p) {
                    Some(lab) if !candidates.iter().any(|(l, _)| *l == lab) => labs::missing_lab(lab),
                    _ => format!("no test of part {p}; {}", known()),
                },
                Selector::All => "no tests".into(),
            });
        }
    }
    Ok(candidates
        .iter()
        .zip(chosen)
        .map(|((lab, ts), (_, marks))| {
            (*lab, ts.iter().zip(marks).filter(|(_, m)| *m).map(|(t, _)| t.clone()).collect())
        })
        .filter(|(_, ts): &(&Lab, Vec<String>)| !ts.is_empty())
        .collect())
}

/// Orders a lab's listed tests part by part: in each part the pinned ones
/// in the course's order, then any others as listed.
fn course_order(lab: &Lab, listed: &[String]) -> Vec<String> {
    let mut v: Vec<String> =
        lab.tests.iter().filter(|t| listed.iter().any(|l| l == *t)).map(|t| t.to_string()).collect();
    v.extend(listed.iter().filter(|l| !lab.tests.contains(&l.as_str())).cloned());
    v.sort_by_key(|t| tools::suite::part_of(t));
    v
}

fn output_dirs(args: &Args, stamp: &str) -> (PathBuf, PathBuf) {
    let json = args.json.clone().unwrap_or_else(|| PathBuf::from(format!("grade-results/grade-{stamp}.json")));
    let logs = json.parent().unwrap_or(Path::new(".")).join(format!("logs-{stamp}"));
    (json, logs)
}

/// Progress lines go to stdout as they come.
fn printer() -> impl FnMut(String) {
    |line: String| println!("{line}")
}

fn meta(kit: &Path, selectors: &[String], stamp: &str, executables: &[(&Lab, String)]) -> serde_json::Value {
    json!({
        "tool": "grade",
        "timestamp": stamp,
        "kit": { "root": kit.display().to_string(), "commit": runner::kit_commit(kit) },
        "machine": runner::machine(),
        "selectors": selectors,
        "labrpc_seed": std::env::var("LABRPC_SEED").ok(),
        "executables": executables.iter().map(|(l, p)| (l.name.to_string(), json!(p))).collect::<serde_json::Map<_, _>>(),
    })
}

fn write_json(path: &Path, doc: &serde_json::Value) -> Result<(), String> {
    runner::ensure_parent(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())? + "\n";
    File::create(path).and_then(|mut f| f.write_all(text.as_bytes())).map_err(|e| format!("{}: {e}", path.display()))
}

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    if let (Some(a), serde_json::Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The kit's own crates, or `--exe`, or one `--submission`.
fn single(args: &Args) -> Result<bool, Error> {
    let s = settings(args)?;
    let selectors = classify_all(&args.selectors)?;
    let stamp = runner::timestamp();
    let (json_path, log_dir) = output_dirs(args, &stamp);
    let (plans, meta_doc) = if let Some(path) = &args.submission {
        let sub = Submission::load(path)?;
        let kit = tools::scratch::kit_root();
        let builder = Builder::new(&kit, &tools::scratch::shared_target_dir());
        let plans = submission_plans(args, &sub, &selectors, &builder, &log_dir.join("bin"), &mut printer())?;
        let exes: Vec<(&Lab, String)> = plans
            .iter()
            .map(|p| (p.lab, p.exe.as_ref().map_or(String::new(), |e| e.path.display().to_string())))
            .collect();
        let m = merge(meta(&kit, &args.selectors, &stamp, &exes), json!({ "submission": submission_json(&sub) }));
        (plans, m)
    } else {
        let plans = kit_plans(args, &selectors)?;
        let exes: Vec<(&Lab, String)> = plans
            .iter()
            .map(|p| (p.lab, p.exe.as_ref().map_or(String::new(), |e| e.path.display().to_string())))
            .collect();
        let root = args
            .target
            .manifest_path
            .as_ref()
            .and_then(|m| m.parent().map(Path::to_path_buf))
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        (plans, meta(&root, &args.selectors, &stamp, &exes))
    };
    let labs = grading::grade(&plans, &s, &log_dir, &mut printer());
    let _ = std::fs::remove_dir(&log_dir); // only if empty
    print!("{}", grading::render(&labs, &s));
    let ok = grading::grade_ok(&labs, s.accept_weak);
    write_json(&json_path, &merge(meta_doc, grading::results_json(&labs, &s)))?;
    println!("results: {}", json_path.display());
    println!("{}", if ok { "GRADE: OK" } else { "GRADE: FAILED" });
    Ok(ok)
}

/// Plans for the kit's own crates: build what the selectors need (one
/// cargo run), or list `--exe`.
fn kit_plans(args: &Args, selectors: &[Selector]) -> Result<Vec<LabPlan>, Error> {
    let t = &args.target;
    let mut exes: Vec<(&'static Lab, TestExe)> = Vec::new();
    if let Some(exe) = &t.exe {
        let e = TestExe { path: exe.clone(), package_dir: None };
        let listed = e.list()?;
        for lab in labs::ALL_LABS {
            if listed.iter().any(|n| labs::lab_of_test(n) == Some(lab)) {
                exes.push((lab, e.clone()));
            }
        }
        if exes.is_empty() {
            return Err(format!("{} has no test of any lab part (names ending _3a ... _4b)", exe.display()));
        }
    } else if let Some(target) = &t.test_target {
        let lab = labs::lab_of_target(target)
            .ok_or_else(|| format!("--test-target {target} is not a lab's (raft_test, kvraft_test)"))?;
        exes.push((lab, runner::build(t, target)?));
    } else {
        let available = labs::available_labs(t.manifest_path.as_deref())?;
        let wanted =
            if selectors.is_empty() { labs::default_labs(&available) } else { labs::labs_for(selectors, &available) };
        if let Some(missing) = wanted.iter().find(|l| !available.contains(l)) {
            return Err(labs::missing_lab(missing));
        }
        let targets: Vec<&str> = wanted.iter().map(|l| l.target).collect();
        let built = runner::build_targets(t.manifest_path.as_deref(), &t.package, &targets, Profile::Release)?;
        exes.extend(wanted.into_iter().zip(built));
    }
    let mut candidates = Vec::new();
    let mut listed_by_lab = Vec::new();
    for (lab, exe) in &exes {
        let listed: Vec<String> = exe.list()?.into_iter().filter(|n| labs::lab_of_test(n) == Some(*lab)).collect();
        candidates.push((*lab, course_order(lab, &listed)));
        listed_by_lab.push(listed);
    }
    let chosen = select(selectors, &candidates)?;
    chosen
        .into_iter()
        .map(|(lab, tests)| {
            let i = exes.iter().position(|(l, _)| *l == lab).expect("a lab with tests has an executable");
            Ok(LabPlan {
                lab,
                tests,
                exe: Some(exes[i].1.clone()),
                available: listed_by_lab[i].clone(),
                build_error: None,
                limits: limits_for(args, lab)?,
            })
        })
        .collect()
}

fn submission_json(sub: &Submission) -> serde_json::Value {
    json!({
        "name": sub.name,
        "path": sub.path.display().to_string(),
        "raft": sub.raft.display().to_string(),
        "kvraft": sub.kvraft.as_ref().map(|k| k.display().to_string()),
    })
}

/// Plans for a submission: the pinned tests of the labs asked (by default
/// those the kit has tests for and the submission has crates for), each
/// lab built with the submission's crates. A build failure fails the lab's
/// tests; it is not a usage error.
fn submission_plans(
    args: &Args,
    sub: &Submission,
    selectors: &[Selector],
    builder: &Builder,
    bin_dir: &Path,
    say: &mut dyn FnMut(String),
) -> Result<Vec<LabPlan>, Error> {
    let kit = tools::scratch::kit_root();
    let available = labs::available_labs(Some(&kit.join("Cargo.toml")))?;
    let candidates: Vec<(&'static Lab, Vec<String>)> = if selectors.is_empty() {
        labs::default_labs(&available)
            .iter()
            .filter(|l| sub.has_crates_for(l))
            .map(|l| (*l, l.tests.iter().map(|t| t.to_string()).collect()))
            .collect()
    } else {
        labs::ALL_LABS.into_iter().map(|l| (l, l.tests.iter().map(|t| t.to_string()).collect())).collect()
    };
    let chosen = select(selectors, &candidates)?;
    let mut plans = Vec::new();
    for (lab, tests) in chosen {
        if !available.contains(&lab) {
            return Err(labs::missing_lab(lab));
        }
        say(format!("building {} with {}'s crates ({})...", lab.title, sub.name, lab.crates.join(", ")));
        let (exe, available_tests, build_error) = match builder.build(sub, lab, bin_dir) {
            Ok(exe) => {
                let listed = exe.list()?;
                (Some(exe), listed, None)
            }
            Err(e) => {
                let first =
                    e.lines().find(|l| l.starts_with("error")).unwrap_or(e.lines().next().unwrap_or("")).to_string();
                say(format!("build failed: {e}"));
                (None, Vec::new(), Some(first))
            }
        };
        plans.push(LabPlan {
            lab,
            tests,
            exe,
            available: available_tests,
            build_error,
            limits: limits_for(args, lab)?,
        });
    }
    if plans.is_empty() {
        return Err(format!("nothing to grade for {}", sub.name));
    }
    Ok(plans)
}

/// One row of the batch summary.
struct Row {
    name: String,
    status: String,
    labs: Vec<LabResult>,
    /// Why it could not be graded (ERROR), or did not build (NOBUILD).
    error: Option<String>,
    json: Option<PathBuf>,
}

/// Every submission of `--submissions DIR`, P at a time.
fn batch(args: &Args) -> Result<bool, Error> {
    let dir = args.submissions.as_ref().expect("batch mode");
    let s = settings(args)?;
    let selectors = classify_all(&args.selectors)?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("submissions folder {}: {e}", dir.display()))?;
    let mut subs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    subs.sort();
    if subs.is_empty() {
        return Err(format!("no submissions (sub-folders) in {}", dir.display()));
    }
    let stamp = runner::timestamp();
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("grade-results/batch-{stamp}")));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let kit = tools::scratch::kit_root();
    let builder = Arc::new(Builder::new(&kit, &tools::scratch::shared_target_dir()));
    let machine = runner::machine();
    let commit = runner::kit_commit(&kit);
    println!(
        "grading {} submission(s) of {}, {} at a time; kit {} at {}",
        subs.len(),
        dir.display(),
        args.jobs,
        kit.display(),
        commit.as_deref().unwrap_or("(no git commit)")
    );
    let workers = usize::try_from(args.jobs).unwrap_or(usize::MAX);
    let mut rows = runner::in_parallel(subs.len(), workers, |i| {
        let row = grade_one(args, &subs[i], &selectors, &s, &builder, &out, &stamp);
        println!(
            "{:<24} {:<7} {}",
            row.name,
            row.status,
            row.error.clone().unwrap_or_else(|| summary_cells(&row, &s).join("  "))
        );
        row
    });
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let parts = parts_of(&rows);
    let table = summary_table(&rows, &parts, &s);
    println!("\n{}", table.render_text());
    let csv = summary_csv(&rows, &parts, &s);
    std::fs::write(out.join("summary.csv"), csv).map_err(|e| format!("summary.csv: {e}"))?;
    let doc = json!({
        "tool": "grade",
        "timestamp": stamp,
        "kit": { "root": kit.display().to_string(), "commit": commit },
        "machine": machine,
        "selectors": args.selectors,
        "runs_per_test": s.runs,
        "submissions": rows.iter().map(|r| row_json(r, &parts, &s)).collect::<Vec<_>>(),
    });
    write_json(&out.join("summary.json"), &doc)?;
    println!("summary: {} and {}", out.join("summary.csv").display(), out.join("summary.json").display());
    Ok(true)
}

/// Grades one submission of a batch: its JSON and its printed report go to
/// `out/<name>.json` and `out/<name>.txt`, its logs under `out/<name>/`.
fn grade_one(
    args: &Args,
    path: &Path,
    selectors: &[Selector],
    s: &Settings,
    builder: &Builder,
    out: &Path,
    stamp: &str,
) -> Row {
    let fallback = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let sub = match Submission::load(path) {
        Ok(sub) => sub,
        Err(e) => return Row { name: fallback, status: "ERROR".into(), labs: Vec::new(), error: Some(e), json: None },
    };
    let mut text = String::new();
    let dir = out.join(&sub.name);
    let mut say = |l: String| {
        text.push_str(&l);
        text.push('\n');
    };
    let plans = match submission_plans(args, &sub, selectors, builder, &dir.join("bin"), &mut say) {
        Ok(p) => p,
        Err(e) => return Row { name: sub.name, status: "ERROR".into(), labs: Vec::new(), error: Some(e), json: None },
    };
    let labs = grading::grade(&plans, s, &dir.join("logs"), &mut say);
    let _ = std::fs::remove_dir(dir.join("logs"));
    text.push_str(&grading::render(&labs, s));
    let ok = grading::grade_ok(&labs, s.accept_weak);
    text.push_str(if ok { "GRADE: OK\n" } else { "GRADE: FAILED\n" });
    let kit = tools::scratch::kit_root();
    let exes: Vec<(&Lab, String)> =
        plans.iter().map(|p| (p.lab, p.exe.as_ref().map_or(String::new(), |e| e.path.display().to_string()))).collect();
    let doc = merge(
        merge(meta(&kit, &args.selectors, stamp, &exes), json!({ "submission": submission_json(&sub) })),
        grading::results_json(&labs, s),
    );
    let json_path = out.join(format!("{}.json", sub.name));
    let error = write_json(&json_path, &doc).err();
    let _ = std::fs::write(out.join(format!("{}.txt", sub.name)), &text);
    let build_error = plans.iter().find_map(|p| p.build_error.as_ref().map(|e| format!("did not build: {e}")));
    let (status, error) = match (error, build_error) {
        (Some(e), _) => ("ERROR", Some(e)),
        (None, _) if ok => ("OK", None),
        (None, Some(b)) => ("NOBUILD", Some(b)),
        (None, None) => ("FAILED", None),
    };
    Row { name: sub.name, status: status.into(), labs, error, json: Some(json_path) }
}

/// The parts graded in any row, in order.
fn parts_of(rows: &[Row]) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for lab in labs::ALL_LABS {
        for p in lab.parts {
            if rows.iter().flat_map(|r| &r.labs).flat_map(|l| &l.tests).any(|t| t.part == *p) {
                parts.push(p.to_string());
            }
        }
    }
    parts
}

fn counts(row: &Row, s: &Settings) -> (usize, usize, usize, usize) {
    let tests: Vec<&grading::TestResult> = row.labs.iter().flat_map(|l| &l.tests).collect();
    let passed = tests.iter().filter(|t| t.verdict.passes(s.accept_weak)).count();
    let weak = tests.iter().filter(|t| t.verdict == Verdict::Weak).count();
    let warnings = tests.iter().map(|t| t.warning_count()).sum();
    (tests.len(), passed, weak, warnings)
}

fn part_cell(row: &Row, part: &str, s: &Settings) -> String {
    let ts: Vec<&grading::TestResult> = row.labs.iter().flat_map(|l| &l.tests).filter(|t| t.part == part).collect();
    if ts.is_empty() {
        return String::new();
    }
    format!("{}/{}", ts.iter().filter(|t| t.verdict.passes(s.accept_weak)).count(), ts.len())
}

fn limits_failed(row: &Row) -> Vec<String> {
    row.labs
        .iter()
        .flat_map(|l| l.checks.iter().filter(|c| c.failed()).map(move |c| format!("{}: {}", l.lab.name, c.label)))
        .collect()
}

fn summary_cells(row: &Row, s: &Settings) -> Vec<String> {
    let (n, passed, weak, warnings) = counts(row, s);
    let mut v = vec![format!("{passed}/{n} passed")];
    if weak > 0 {
        v.push(format!("{weak} weak"));
    }
    if warnings > 0 {
        v.push(format!("{warnings} warnings"));
    }
    v.extend(limits_failed(row).into_iter().map(|l| format!("over {l}")));
    v
}

/// Wall and CPU seconds of a submission's labs (the slowest round of each).
fn totals(r: &Row) -> (f64, f64) {
    r.labs.iter().fold((0.0, 0.0), |(w, c), l| (w + l.max_wall(), c + l.max_cpu()))
}

fn summary_table(rows: &[Row], parts: &[String], s: &Settings) -> Table {
    let mut cols: Vec<(&str, Align)> = vec![("Submission", Align::Left), ("Status", Align::Left)];
    cols.extend(parts.iter().map(|p| (p.as_str(), Align::Right)));
    cols.extend([
        ("Passed", Align::Right),
        ("Weak", Align::Right),
        ("Warn", Align::Right),
        ("Wall s", Align::Right),
        ("CPU s", Align::Right),
        ("Notes", Align::Left),
    ]);
    let mut t = Table::new(&cols);
    for r in rows {
        let (n, passed, weak, warnings) = counts(r, s);
        let mut cells = vec![r.name.clone(), r.status.clone()];
        cells.extend(parts.iter().map(|p| part_cell(r, p, s)));
        let (wall, cpu) = totals(r);
        let mut notes = limits_failed(r).into_iter().map(|l| format!("over {l}")).collect::<Vec<_>>();
        if let Some(e) = &r.error {
            let first = e.lines().next().unwrap_or_default();
            notes.push(if first.chars().count() > 100 {
                format!("{}...", first.chars().take(97).collect::<String>())
            } else {
                first.to_string()
            });
        }
        let graded = n > 0;
        cells.extend([
            if graded { format!("{passed}/{n}") } else { String::new() },
            if graded { weak.to_string() } else { String::new() },
            if graded { warnings.to_string() } else { String::new() },
            if graded { format!("{wall:.1}") } else { String::new() },
            if graded { format!("{cpu:.2}") } else { String::new() },
            notes.join("; "),
        ]);
        t.push(cells);
    }
    t
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn summary_csv(rows: &[Row], parts: &[String], s: &Settings) -> String {
    let mut head = vec!["submission".to_string(), "status".to_string()];
    head.extend(parts.iter().cloned());
    head.extend(["tests", "passed", "weak", "warnings", "wall_s", "cpu_s", "limits_failed", "error"].map(String::from));
    let mut out = head.join(",") + "\n";
    for r in rows {
        let (n, passed, weak, warnings) = counts(r, s);
        let mut cells = vec![r.name.clone(), r.status.clone()];
        cells.extend(parts.iter().map(|p| part_cell(r, p, s)));
        cells.extend([
            n.to_string(),
            passed.to_string(),
            weak.to_string(),
            warnings.to_string(),
            format!("{:.3}", totals(r).0),
            format!("{:.3}", totals(r).1),
            limits_failed(r).join("; "),
            r.error.clone().unwrap_or_default().lines().next().unwrap_or_default().to_string(),
        ]);
        out += &(cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    out
}

fn row_json(r: &Row, parts: &[String], s: &Settings) -> serde_json::Value {
    let (n, passed, weak, warnings) = counts(r, s);
    json!({
        "submission": r.name,
        "status": r.status,
        "parts": parts.iter().map(|p| (p.clone(), json!(part_cell(r, p, s)))).collect::<serde_json::Map<_, _>>(),
        "tests": n, "passed": passed, "weak": weak, "warnings": warnings,
        "failed_tests": r.labs.iter().flat_map(|l| &l.tests).filter(|t| !t.verdict.passes(s.accept_weak))
            .map(|t| json!({"name": t.name, "result": t.verdict.as_str()})).collect::<Vec<_>>(),
        "wall_s": grading::r3(totals(r).0),
        "cpu_s": grading::r3(totals(r).1),
        "limits_failed": limits_failed(r),
        "error": r.error,
        "json": r.json.as_ref().map(|p| p.display().to_string()),
    })
}
