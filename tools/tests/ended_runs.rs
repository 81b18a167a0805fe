//! `dstest` and `grade` on runs that pass with warnings and on a process
//! that the tester ended mid-test (no libtest result line at all): the
//! warnings are counted, the ended run is a failure, and its report is kept.
//! A shell script stands in for the test executable (`--exe`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fake test executable: `warns_3a` passes with a warning, `ends_3a` is
/// ended by the tester's watchdog (exit status 2, no libtest result).
const FAKE: &str = r#"#!/bin/sh
if [ "$1" = "--list" ]; then
  printf 'ends_3a: test\nwarns_3a: test\n'
  exit 0
fi
case "$2" in
warns_3a)
  printf '\nrunning 1 test\ntest warns_3a ... Test (3A): warns ...\n'
  printf 'warning: term changed even though there were no failures\n'
  printf '  ... Passed --   3.0  3   54     584    0\nok\n\n'
  printf 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 3.00s\n'
  exit 0 ;;
ends_3a)
  printf '\nrunning 1 test\ntest ends_3a ... Test (3A): ends ...\n'
  printf '\ntester: FAIL: test took longer than 120 seconds\ntester: test: ends_3a\n' >&2
  printf 'tester: stacks of all threads (eu-stack -p 1):\nTID 1: (test-body)\n' >&2
  exit 2 ;;
esac
echo "unknown test $2" >&2
exit 3
"#;

fn fake_exe(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("fake_test");
    std::fs::write(&exe, FAKE).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ended-runs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn dstest_counts_warnings_and_fails_a_run_ended_mid_test() {
    let dir = scratch("dstest");
    let exe = fake_exe(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_dstest"))
        .arg("--exe")
        .arg(&exe)
        .args(["-n", "2", "-p", "2", "-o"])
        .arg(dir.join("failures"))
        .arg("all")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let row = |name: &str| stdout.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    let cells = |l: String| l.split_whitespace().take(4).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(cells(row("ends_3a ")), ["ends_3a", "2", "0", "2"], "{stdout}");
    assert_eq!(cells(row("warns_3a ")), ["warns_3a", "0", "2", "2"], "{stdout}");
    assert!(stdout.contains("exit status: 2: test took longer than 120 seconds"), "{stdout}");
    assert!(stdout.contains("warns_3a: 2 x warning: term changed even though there were no failures"), "{stdout}");
    let saved: Vec<_> = std::fs::read_dir(dir.join("failures")).unwrap().flatten().collect();
    assert_eq!(saved.len(), 2, "both ended runs are saved");
    let text = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(text.contains("tester: stacks of all threads"), "the report is kept: {text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grade_counts_warnings_and_fails_a_run_ended_mid_test() {
    let dir = scratch("grade");
    let exe = fake_exe(&dir);
    let json = dir.join("grade.json");
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .arg("--exe")
        .arg(&exe)
        .arg("--json")
        .arg(&json)
        .arg("3A")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let test = |name: &str| doc["tests"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    let ends = test("ends_3a");
    assert_eq!(ends["result"], "FAIL");
    assert_eq!(ends["exit_code"], 2);
    assert_eq!(ends["failure"], "test took longer than 120 seconds");
    let log = ends["log"].as_str().expect("the failed run's log is kept");
    assert!(std::fs::read_to_string(log).unwrap().contains("tester: stacks of all threads"));
    let warns = test("warns_3a");
    assert_eq!(warns["result"], "PASS");
    assert_eq!(warns["warnings"], serde_json::json!(["term changed even though there were no failures"]));
    assert_eq!(doc["total"]["warnings"], 1);
    let header = stdout.lines().find(|l| l.starts_with("Test ")).expect("the tests table");
    assert!(header.contains("Warn"), "{header}");
    let _ = std::fs::remove_dir_all(&dir);
}
