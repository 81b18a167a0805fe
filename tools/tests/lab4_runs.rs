//! `dstest` and `grade` on Lab 4's output, with a shell script standing in
//! for the test executable (`--exe`): four-figure Passed lines, a test with
//! three titled phases, a weak pass (the linearizability check timed out),
//! a non-linearizable history; and the grader's limits, `--runs` and its
//! usage errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fake test executable. `flaky_3a` fails every second run (a counter
/// file in the folder the script lives in); `burn_3a` spends CPU.
const FAKE: &str = r#"#!/bin/sh
dir=$(dirname "$0")
if [ "$1" = "--list" ]; then
  printf 'basic_4a: test\none_partition_4a: test\nlinear_4b: test\nnonlinear_4a: test\nflaky_3a: test\nburn_3a: test\n'
  exit 0
fi
printf '\nrunning 1 test\n'
case "$2" in
basic_4a)
  printf 'test basic_4a ... Test: one client (4A) ...\n  ... Passed --  15.1  5 71701 13494\nok\n'
  exit 0 ;;
one_partition_4a)
  printf 'test one_partition_4a ... Test: progress in majority (4A) ...\n  ... Passed --   1.2  5   120    2\n'
  printf 'Test: no progress in minority (4A) ...\n  ... Passed --   1.1  5    80    3\n'
  printf 'Test: completion after heal (4A) ...\n  ... Passed --   1.0  5    60    1\nok\n'
  exit 0 ;;
linear_4b)
  printf 'test linear_4b ... Test: unreliable net, restarts, partitions, random keys, many clients (4B) ...\n'
  printf 'info: linearizability check timed out, assuming history is ok\n  ... Passed --  38.2  7 52341 9123\nok\n'
  exit 0 ;;
nonlinear_4a)
  printf 'test nonlinear_4a ... Test: many clients (4A) ...\ninfo: wrote history visualization to /tmp/kv-1.html\n'
  printf "thread 'test-body' panicked at tester/tests/kvraft_test.rs:120:9:\nhistory is not linearizable\n" >&2
  printf 'FAILED\n'
  exit 101 ;;
flaky_3a)
  n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$dir/count"
  if [ $((n % 2)) -eq 0 ]; then
    printf "test flaky_3a ... Test (3A): flaky ...\nthread 'test-body' panicked at tester/tests/raft_test.rs:30:13:\nexpected one leader, got none\nFAILED\n"
    exit 101
  fi
  printf 'test flaky_3a ... Test (3A): flaky ...\n  ... Passed --   3.0  3   54     584    0\nok\n'
  exit 0 ;;
burn_3a)
  i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done
  printf 'test burn_3a ... Test (3A): burn ...\n  ... Passed --   1.0  3   10     100    0\nok\n'
  exit 0 ;;
esac
echo "unknown test $2" >&2
exit 3
"#;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lab4-runs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fake_exe(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("fake_test");
    std::fs::write(&exe, FAKE).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

fn run(bin: &str, args: &[&str], exe: &Path) -> Output {
    Command::new(bin).arg("--exe").arg(exe).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}\n--- stderr ---\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn grade_json(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let exe = fake_exe(dir);
    let json = dir.join("grade.json");
    let _ = std::fs::remove_file(&json);
    let mut all = vec!["--json", json.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(env!("CARGO_BIN_EXE_grade"), &all, &exe);
    let doc = std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (out, doc)
}

fn test<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["tests"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name} in {doc}"))
}

#[test]
fn dstest_counts_weak_passes_and_saves_them() {
    let dir = scratch("dstest");
    let exe = fake_exe(&dir);
    let failures = dir.join("failures");
    let out = run(
        env!("CARGO_BIN_EXE_dstest"),
        &["-n", "2", "-p", "2", "-t", "-o", failures.to_str().unwrap(), "basic_4a", "linear_4b", "nonlinear_4a"],
        &exe,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let row = |name: &str| -> Vec<String> {
        let l = t.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_default();
        l.split_whitespace().map(str::to_string).collect()
    };
    let header = t.lines().find(|l| l.starts_with("test ")).unwrap();
    assert!(header.contains("weak") && header.contains("user (s)") && header.contains("sys (s)"), "{header}");
    // test failed weak warnings total
    assert_eq!(row("basic_4a")[..5], ["basic_4a", "0", "0", "0", "2"], "{t}");
    assert_eq!(row("linear_4b")[..5], ["linear_4b", "0", "2", "0", "2"], "{t}");
    assert_eq!(row("nonlinear_4a")[..5], ["nonlinear_4a", "2", "0", "0", "2"], "{t}");
    assert!(t.contains("Weak passes (linearizability check timed out):"), "{t}");
    assert!(t.contains("history is not linearizable (at tester/tests/kvraft_test.rs:120:9)"), "{t}");
    let saved: Vec<String> =
        std::fs::read_dir(&failures).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(saved.len(), 4, "weak and failed runs are kept: {saved:?}");
    let weak = saved.iter().find(|f| f.starts_with("linear_4b")).unwrap();
    let head = std::fs::read_to_string(failures.join(weak)).unwrap();
    assert!(
        head.starts_with("# dstest: linear_4b iteration ") && head.lines().next().unwrap().contains(" WEAK ("),
        "{head}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dstest_archives_every_run_sequentially() {
    let dir = scratch("archive");
    let exe = fake_exe(&dir);
    let kept = dir.join("kept");
    let out = run(
        env!("CARGO_BIN_EXE_dstest"),
        &["-a", "-s", "-n", "3", "-p", "1", "-o", kept.to_str().unwrap(), "basic_4a", "one_partition"],
        &exe,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let mut saved: Vec<String> =
        std::fs::read_dir(&kept).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    saved.sort();
    assert_eq!(saved.len(), 6, "{saved:?}");
    let first = std::fs::read_to_string(kept.join(&saved[0])).unwrap();
    assert!(first.lines().next().unwrap().contains(" PASSED (passed)"), "{first}");
    assert!(t.contains("output of all runs: "), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grade_parses_lab4_lines_and_weak_passes_are_not_passes() {
    let dir = scratch("grade");
    let (out, doc) = grade_json(&dir, &["4A", "4B"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let basic = test(&doc, "basic_4a");
    assert_eq!(basic["result"], "PASS");
    assert_eq!(
        (basic["rpcs"].as_u64(), basic["ops"].as_u64(), basic["bytes"].is_null()),
        (Some(71701), Some(13494), true)
    );
    assert_eq!(basic["description"], "one client");
    let part = test(&doc, "one_partition_4a");
    assert_eq!(
        part["phases"],
        serde_json::json!(["progress in majority", "no progress in minority", "completion after heal"])
    );
    assert_eq!((part["rpcs"].as_u64(), part["ops"].as_u64()), (Some(260), Some(6)));
    let weak = test(&doc, "linear_4b");
    assert_eq!(
        (weak["result"].as_str(), weak["weak_runs"].as_u64(), weak["passed_runs"].as_u64()),
        (Some("WEAK"), Some(1), Some(0))
    );
    let bad = test(&doc, "nonlinear_4a");
    assert_eq!(bad["result"], "FAIL");
    assert_eq!(bad["failure"], "history is not linearizable");
    assert_eq!(bad["failure_at"], "tester/tests/kvraft_test.rs:120:9");
    assert_eq!(bad["visualization"], "/tmp/kv-1.html");
    assert!(bad["seed"].as_u64().is_some(), "the seed replaying it");
    assert_eq!((doc["total"]["passed"].as_u64(), doc["total"]["weak"].as_u64()), (Some(2), Some(1)));
    let checks: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["lab"].as_str().unwrap()).collect();
    assert!(checks.iter().all(|l| *l == "lab4"), "{checks:?}");
    let reasonable = doc["checks"].as_array().unwrap().iter().find(|c| c["label"] == "reasonable CPU").unwrap();
    assert_eq!(reasonable["limit"], 700.0, "Lab 4's reasonable CPU");
    assert!(doc["machine"]["cpus"].as_u64().is_some() && doc["kit"].is_object(), "{doc}");
    let header = t.lines().find(|l| l.starts_with("Test ")).unwrap();
    assert!(header.contains("Weak") && header.contains("Warn"), "{header}");
    assert!(t.contains("1 weak pass(es)") && t.contains("not counted as passed"), "{t}");
    assert!(t.contains("GRADE: FAILED"), "{t}");
    // With --accept-weak (the course's own rule) it passes.
    let (_, doc) = grade_json(&dir, &["--accept-weak", "linear_4b", "basic_4a"]);
    assert_eq!((doc["ok"].as_bool(), test(&doc, "linear_4b")["passed_runs"].as_u64()), (Some(true), Some(1)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grade_runs_each_test_n_times_and_enforces_the_limits() {
    let dir = scratch("runs");
    let (out, doc) = grade_json(&dir, &["--runs", "2", "flaky_3a", "basic_4a"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let flaky = test(&doc, "flaky_3a");
    assert_eq!(
        (flaky["result"].as_str(), flaky["passed_runs"].as_u64(), flaky["runs"].as_u64()),
        (Some("FAIL"), Some(1), Some(2))
    );
    assert_eq!(flaky["failure"], "expected one leader, got none", "the failing run's message");
    let seeds: Vec<u64> =
        flaky["run_details"].as_array().unwrap().iter().map(|r| r["seed"].as_u64().unwrap()).collect();
    assert_eq!(seeds.len(), 2);
    assert_eq!(flaky["seed"].as_u64(), Some(seeds[1]), "the seed of the failing run");
    assert_eq!(test(&doc, "basic_4a")["result"], "PASS");
    assert!(text(&out).contains("FAIL 1/2"), "{}", text(&out));

    // A CPU budget and a lab total, enforced: each a FAIL with the reason.
    let (out, doc) = grade_json(&dir, &["--cpu-limit=lab3=0.01", "--lab-limit", "0.001", "burn_3a"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert_eq!(test(&doc, "burn_3a")["result"], "PASS");
    let status = |label: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == label)
            .map(|c| c["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("CPU limit").as_deref(), Some("FAIL"), "{doc}");
    assert_eq!(status("total wall").as_deref(), Some("FAIL"), "{doc}");
    assert!(doc["tests"][0]["cpu_s"].as_f64().unwrap() > 0.01, "{doc}");
    // Without --cpu-limit the CPU budget is information only; with it and
    // no value, the course's (Lab 3: 60 s).
    let (_, doc) = grade_json(&dir, &["--cpu-limit", "burn_3a"]);
    let cpu = doc["checks"].as_array().unwrap().iter().find(|c| c["label"] == "CPU limit").unwrap().clone();
    assert_eq!((cpu["limit"].as_f64(), cpu["status"].as_str()), (Some(60.0), Some("OK")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grade_rejects_unknown_parts_tests_and_submissions() {
    let dir = scratch("usage");
    let exe = fake_exe(&dir);
    let grade = |args: &[&str]| {
        let o = run(env!("CARGO_BIN_EXE_grade"), args, &exe);
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = grade(&["4C"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown part `4C`; parts: 3A, 3B, 3C, 3D, 4A, 4B"), "{err}");
    let (code, err) = grade(&["no_such_test_3a"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown test `no_such_test_3a`") && err.contains("basic_4a"), "{err}");
    let (code, err) = grade(&["lab7"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown lab `lab7`"), "{err}");
    let (code, err) = grade(&["--cpu-limit=lab9=3", "4A"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown lab `lab9`"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_grade")).arg("--submission").arg(dir.join("missing")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_grade")).arg("--submission").arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no raft crate"), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_grade")).arg("--submissions").arg(dir.join("none")).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dstest_loops_with_growing_rounds_until_interrupted() {
    use std::io::{BufRead, BufReader};
    let dir = scratch("loop");
    let exe = fake_exe(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dstest"))
        .arg("--exe")
        .arg(&exe)
        .args(["-l", "-g", "3", "-n", "1", "-p", "2", "basic_4a"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("total ") && seen.iter().any(|l| l.starts_with("round 3:"));
        seen.push(line);
        if done {
            break;
        }
    }
    let rounds: Vec<&String> = seen.iter().filter(|l| l.starts_with("round ")).collect();
    assert_eq!(
        rounds,
        [
            "round 1: runs 1..=1 of each test done",
            "round 2: runs 2..=4 of each test done",
            "round 3: runs 5..=13 of each test done"
        ]
    );
    let total = |n: usize| {
        seen.iter().any(|l| l.starts_with("basic_4a ") && l.split_whitespace().nth(4) == Some(&n.to_string()))
    };
    assert!(
        total(1) && total(4) && total(13),
        "a table after each round, counting every run so far:\n{}",
        seen.join("\n")
    );
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "interrupted\n{}", rest.join("\n"));
    assert!(rest.iter().any(|l| l.starts_with("total ")), "the partial table at the end\n{}", rest.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
