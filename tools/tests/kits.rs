//! The student handout and the grader, end to end, on real builds. Each
//! test builds copies of the kit in the shared scratch target directory
//! (`tools::scratch`), so they are run by `make check-handout` and
//! `make check-grader` (and CI), not by `cargo test`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tools::scratch::{kit_root, shared_target_dir, Kit, Plant};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_name() == "target" {
            continue;
        }
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn step(what: &str, t0: Instant) {
    eprintln!("[{:>5.1} s] {what}", t0.elapsed().as_secs_f64());
}

/// `make handout` as a student gets it: it holds the kit and the
/// skeletons and no line of the solutions; it builds without a warning in
/// the student's crates; `make test-3A` there fails its 3 tests with the
/// tester's own "expected one leader, got none", in bounded time, without a
/// panic off a test's thread; the skeleton kvraft has the reference's API
/// (the reference's API test passes on it, its Clerk returning at once);
/// the race-check scenario runs on the student's Raft and fails cleanly
/// for want of a leader.
#[test]
#[ignore = "builds the handout: run by `make check-handout`"]
fn the_handout_builds_and_fails_cleanly() {
    let t0 = Instant::now();
    let dest = temp("handout");
    let out = Command::new(env!("CARGO_BIN_EXE_handout")).arg(&dest).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    step(&format!("handout written: {}", String::from_utf8_lossy(&out.stdout).trim()), t0);
    for (file, holds) in [
        ("raft/src/lib.rs", "// Your code here (3A, 3B)."),
        ("raft/src/lib.rs", "fn send_request_vote("),
        ("raft/src/lib.rs", "let ms = 50 + rng.gen_range(0..300);"),
        ("kvraft/src/client.rs", "// You will have to modify this function."),
        ("kvraft/src/server.rs", "// Your code here."),
        ("kvraft/src/common.rs", "pub enum KvErr"),
        ("README.md", "## The contract with the tester"),
        ("Makefile", "test-3A:"),
        ("racecheck/src/lib.rs", "pub fn run("),
        // The allocator setting the kit's memory figures are measured with.
        (".cargo/config.toml", "GLIBC_TUNABLES = \"glibc.malloc.mmap_threshold=131072\""),
    ] {
        let t = std::fs::read_to_string(dest.join(file)).unwrap_or_default();
        assert!(t.contains(holds), "{file} holds {holds:?}");
    }
    for gone in ["skeleton", "tools/plants", ".ci", "raft/src/node.rs", "kvraft/src/store.rs", "tools/tests/kits.rs"] {
        assert!(!dest.join(gone).exists(), "{gone} is not in the handout");
    }
    let found = tools::handout::solution_lines_in(&dest, &kit_root()).unwrap();
    assert!(found.is_empty(), "lines of the solutions in the handout: {found:?}");
    let out = Command::new("make").arg("-C").arg(&dest).arg("help").output().unwrap();
    assert!(out.status.success() && text(&out).contains("make test-3A"), "{}", text(&out));

    // The reference's API test, against the skeleton kvraft.
    std::fs::create_dir_all(dest.join("kvraft/tests")).unwrap();
    std::fs::copy(kit_root().join("kvraft/tests/api.rs"), dest.join("kvraft/tests/api.rs")).unwrap();
    let target = shared_target_dir();
    let kit = Kit::open(&dest);
    let mut warnings = Vec::new();
    let mut exes = Vec::new();
    for (package, test) in [("tester", "raft_test"), ("kvraft", "api"), ("racecheck", "scenario")] {
        let b = kit.build(package, &[test], &target, true).unwrap_or_else(|e| panic!("{e}"));
        warnings.extend(b.warnings);
        exes.push(b.exes[0].clone());
        step(&format!("built {package}/{test}"), t0);
    }
    let students: Vec<&String> = warnings
        .iter()
        .filter(|(pkg, _)| ["/raft#", "/kvraft#", "raft@", "kvraft@"].iter().any(|p| pkg.contains(p)))
        .map(|(_, w)| w)
        .collect();
    assert!(students.is_empty(), "the skeletons compile without warnings:\n{students:#?}");

    // make test-3A, as a student runs it (the build is already there).
    let t1 = Instant::now();
    let out = Command::new("make")
        .arg("-C")
        .arg(&dest)
        .arg("test-3A")
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = t1.elapsed();
    let t = text(&out);
    step(&format!("make test-3A: {took:.1?}"), t0);
    assert!(!out.status.success(), "the skeleton fails 3A\n{t}");
    assert_eq!(t.matches("expected one leader, got none").count(), 3, "each of the 3 tests, the tester's message\n{t}");
    assert!(t.contains("test result: FAILED. 0 passed; 3 failed"), "{t}");
    assert!(!t.contains("tester: FAIL:"), "no panic off a test's thread, no hang\n{t}");
    assert!(took < Duration::from_secs(90), "bounded time: {took:?}\n{t}");
    for name in ["initial_election_3a", "re_election_3a", "many_elections_3a"] {
        assert!(t.contains(&format!("test {name} ... ")), "{name}\n{t}");
    }

    // The skeleton kvraft: the API test passes, its Clerk returning "" at once.
    let out = Command::new(&exes[1]).env("KV_API_EXPECT_GET", "").output().unwrap();
    assert!(out.status.success(), "the reference's API test on the skeleton kvraft\n{}", text(&out));

    // The race-check scenario on the skeleton Raft: no leader, a clean failure.
    let t1 = Instant::now();
    let out = Command::new(&exes[2]).arg("--nocapture").output().unwrap();
    let t = text(&out);
    assert!(!out.status.success() && t.contains("no leader within 10s"), "{t}");
    assert!(t1.elapsed() < Duration::from_secs(30), "{:?}", t1.elapsed());
    step("done", t0);
    let _ = std::fs::remove_dir_all(&dest);
}

/// Every Lab 4 test, with the skeleton raft and kvraft, fails with the
/// tester's own message, within its time limit: no hang, no panic in the
/// skeletons. Needs the Lab 4 tests (tester/tests/kvraft_test.rs).
#[test]
#[ignore = "builds the handout: run by `make check-handout` once the Lab 4 tests are in the kit"]
fn the_lab4_skeleton_fails_every_test_cleanly() {
    assert!(
        kit_root().join("tester/tests/kvraft_test.rs").is_file(),
        "this kit has no Lab 4 tests yet (tester/tests/kvraft_test.rs)"
    );
    let dest = temp("handout4");
    let out = Command::new(env!("CARGO_BIN_EXE_handout")).arg(&dest).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let kit = Kit::open(&dest);
    let b = kit.build("tester", &["kvraft_test"], &shared_target_dir(), true).unwrap_or_else(|e| panic!("{e}"));
    // The skeleton's runs mostly wait (a generic test's clients fail at
    // once, its 5 s of client work go on): four at a time.
    let tests = tools::labs::LAB4.tests;
    let report = tools::runner::in_parallel(tests.len(), 4, |i| lab4_skeleton_run(&b.exes[0], tests[i]));
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&dest);
}

/// One Lab 4 test run on the skeleton: it must fail cleanly, in the
/// tester's words; the line for the report.
fn lab4_skeleton_run(exe: &Path, name: &str) -> String {
    let run = tools::scratch::run_test(exe, name, &[], Duration::from_secs(180)).unwrap();
    let t = &run.output;
    assert!(!run.timed_out, "{name}: the tester must end it\n{t}");
    // A failed check on the test's thread (101), or on a client thread
    // of the test, which the tester reports and ends the process with
    // (2, as Lab 3's unreliable_agree_3c does with the skeleton); never
    // a hang, never a panic in the student's code.
    assert!(matches!(run.code, Some(101 | 2)), "{name}: a test failure\n{t}");
    let why = tools::suite::failure_in(t).unwrap_or_default();
    assert!(!why.is_empty(), "{name}: the tester's message\n{t}");
    assert!(!why.contains("took longer than") && !why.contains("teardown"), "{name}: not a hang: {why}");
    assert!(!why.contains("raft/src/") && !why.contains("kvraft/src/"), "{name}: not the skeletons: {why}");
    format!("{name}: {:.1} s: {why}", run.elapsed.as_secs_f64())
}

/// The folder of a submission holding the kit's own raft and kvraft, as a
/// student would copy them out.
fn solution_submission(at: &Path) {
    copy_dir(&kit_root().join("raft"), &at.join("raft"));
    copy_dir(&kit_root().join("kvraft"), &at.join("kvraft"));
}

fn grade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grade")).args(args).stdin(Stdio::null()).output().unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// `grade --submission` grades a student's crates against the grader's
/// own tests: a submission that deleted a test from its copy of the
/// tester, and even replaced the tester, still runs every test asked for,
/// and passes them with the kit's solution. Then a batch of three (the
/// solution, the skeleton, the solution with heartbeats ten times too
/// frequent), with a folder without a raft crate and a raft that does not
/// compile, gives the expected summary.
#[test]
#[ignore = "builds submissions: run by `make check-grader`"]
fn the_grader_grades_submissions_against_its_own_tests() {
    let t0 = Instant::now();
    let base = temp("grader");
    let tampered = base.join("tampered");
    solution_submission(&tampered);
    copy_dir(&kit_root().join("tester"), &tampered.join("tester"));
    let suite = tampered.join("tester/tests/raft_test.rs");
    let src = std::fs::read_to_string(&suite).unwrap();
    let cut = src.replacen("#[test]\nfn initial_election_3a()", "fn initial_election_3a()", 1);
    assert_ne!(src, cut, "the tampering applies");
    std::fs::write(&suite, cut).unwrap();
    let out_json = base.join("tampered.json");
    let out = grade(&["--submission", tampered.to_str().unwrap(), "--json", out_json.to_str().unwrap(), "3A"]);
    step("graded the tampered submission (3A)", t0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = json(&out_json);
    let names: Vec<&str> = doc["tests"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["initial_election_3a", "re_election_3a", "many_elections_3a"], "the pinned 3A tests");
    assert!(doc["tests"].as_array().unwrap().iter().all(|t| t["result"] == "PASS" && t["seed"].is_u64()), "{doc}");
    assert_eq!(doc["submission"]["name"], "tampered");
    assert!(doc["kit"]["commit"].is_string() && doc["machine"]["cpus"].is_u64(), "{doc}");
    assert!(text(&out).contains("GRADE: OK"), "{}", text(&out));

    // A batch: solution, skeleton, a planted bug; 3B, where the bug shows.
    let subs = base.join("subs");
    solution_submission(&subs.join("solution"));
    copy_dir(&kit_root().join("skeleton/raft"), &subs.join("skeleton/raft"));
    copy_dir(&kit_root().join("skeleton/kvraft"), &subs.join("skeleton/kvraft"));
    solution_submission(&subs.join("planted"));
    Plant::load(&kit_root().join("tools/plants/fast-heartbeats.plant")).unwrap().apply(&subs.join("planted")).unwrap();
    std::fs::create_dir_all(subs.join("empty")).unwrap();
    copy_dir(&kit_root().join("skeleton/raft"), &subs.join("broken/raft"));
    let lib = subs.join("broken/raft/src/lib.rs");
    let src = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, src + "\nfn unfinished( {\n").unwrap();
    let out_dir = base.join("batch");
    let out = grade(&["--submissions", subs.to_str().unwrap(), "-p", "3", "--out", out_dir.to_str().unwrap(), "3B"]);
    step("graded the batch (3B)", t0);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    eprintln!("{t}");
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][..4], ["submission", "status", "3B", "tests"], "{csv}");
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("{name} in\n{csv}")).clone();
    assert_eq!(row("solution")[1..3], ["OK", "10/10"], "{csv}");
    assert_eq!(row("skeleton")[1..3], ["FAILED", "0/10"], "{csv}");
    assert_eq!(row("planted")[1..3], ["FAILED", "9/10"], "{csv}");
    assert_eq!(row("empty")[1], "ERROR", "{csv}");
    assert_eq!(row("broken")[1..3], ["NOBUILD", "0/10"], "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("broken,NOBUILD,") && l.contains("did not build: error")), "{csv}");
    let broken = json(&out_dir.join("broken.json"));
    let first = &broken["tests"][0];
    assert_eq!(first["result"], "FAIL");
    assert!(first["failure"].as_str().unwrap().starts_with("did not build: error"), "{first}");
    assert!(csv.lines().any(|l| l.starts_with("empty,ERROR,") && l.contains("has no raft crate")), "{csv}");
    let planted = json(&out_dir.join("planted.json"));
    let count = planted["tests"].as_array().unwrap().iter().find(|t| t["name"] == "count_3b").unwrap();
    assert_eq!(count["result"], "FAIL");
    assert!(count["failure"].as_str().unwrap().contains("RPCs"), "the tester's message about the RPC count: {count}");
    assert!(count["failure_at"].as_str().unwrap().starts_with("tester/tests/raft_test.rs:"), "{count}");
    let summary = json(&out_dir.join("summary.json"));
    assert_eq!(summary["submissions"].as_array().unwrap().len(), 5);
    assert!(out_dir.join("skeleton.json").is_file() && out_dir.join("solution.txt").is_file());
    step("done", t0);
    let _ = std::fs::remove_dir_all(&base);
}
