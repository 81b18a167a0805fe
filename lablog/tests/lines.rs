//! The lines the logger writes, checked in a child process (the logger is
//! installed once per process, from `RAFT_LOG`).

use lablog::{dlog, dtrace, tlog, Topic};
use std::process::Command;

/// Runs in the child only: logs one line of each kind.
#[test]
fn child_logs_one_line_of_each_kind() {
    if std::env::var_os("LABLOG_CHILD").is_none() {
        return;
    }
    if let Err(e) = lablog::init() {
        eprintln!("init error: {e}");
        std::process::exit(3);
    }
    dlog!(Topic::Vote, 2, 3, "granted vote to S{}", 1);
    dlog!(Topic::Lead, 1, 3, "won election");
    dtrace!(Topic::Log, 1, 3, "-> S{} AppendEntries(..)", 2);
    tlog!("crash S{}", 2);
    log::warn!("a plain {} line", "warn");
    log::debug!(target: "kvraft::server", "a plain debug line");
}

/// The child's stderr with `RAFT_LOG=spec`, and its exit code.
fn run_child(spec: &str) -> (Vec<String>, Option<i32>) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_logs_one_line_of_each_kind", "--nocapture", "--test-threads=1"])
        .env("LABLOG_CHILD", "1")
        .env("RAFT_LOG", spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    (stderr.lines().map(str::to_string).collect(), out.status.code())
}

/// The line's text after its 6-digit time stamp.
fn events(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let (ms, rest) = l.split_once(' ')?;
            (ms.len() == 6 && ms.bytes().all(|b| b.is_ascii_digit())).then(|| rest.to_string())
        })
        .collect()
}

#[test]
fn one_prints_every_event_in_the_viewer_format_but_not_rpc_traces() {
    let (lines, code) = run_child("1");
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        events(&lines),
        [
            "VOTE S2 T3 granted vote to S1",
            "LEAD S1 T3 won election",
            "TEST crash S2",
            "WARN lines: a plain warn line",
            "DBUG kvraft::server: a plain debug line",
        ]
    );
}

#[test]
fn trace_adds_the_rpcs_and_directives_filter() {
    let (lines, _) = run_child("trace");
    assert!(events(&lines).contains(&"LOG S1 T3 -> S2 AppendEntries(..)".to_string()), "{lines:?}");
    let (lines, _) = run_child("info,VOTE=debug,kvraft=off");
    assert_eq!(
        events(&lines),
        ["VOTE S2 T3 granted vote to S1", "LEAD S1 T3 won election", "TEST crash S2", "WARN lines: a plain warn line"]
    );
    let (lines, _) = run_child("LEAD");
    assert_eq!(events(&lines), ["LEAD S1 T3 won election"]);
}

#[test]
fn off_prints_nothing() {
    for spec in ["", "0"] {
        let (lines, code) = run_child(spec);
        assert_eq!(code, Some(0));
        assert!(events(&lines).is_empty(), "{spec:?}: {lines:?}");
    }
}

#[test]
fn an_unknown_topic_is_an_error_naming_it() {
    let (lines, code) = run_child("VOTE,VOTEE");
    assert_eq!(code, Some(3), "{lines:?}");
    let all = lines.join("\n");
    assert!(all.contains("RAFT_LOG: unknown topic or level \"VOTEE\"") && all.contains("VOTE, LEAD, TERM"), "{all}");
}
