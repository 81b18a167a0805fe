//! `dslogs`'s options as the course's log pretty-printer has them: `-j`
//! keeps only the topics named, `-i` ignores them (the long options
//! `--include` and `--exclude`, and `-x`, are aliases), `-c` sets the
//! columns, standard input works, and an unknown topic is an error that
//! lists the known ones.

use std::io::Write;
use std::process::{Command, Stdio};

const LOG: &str = "000001 VOTE S0 T1 asked\n000002 TIMR S1 T1 timeout\n000003 LEAD S2 T1 won\n";

fn dslogs(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dslogs"))
        .args(["--no-color", "--no-header", "-w", "12"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // dslogs may exit before reading (a usage error): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(LOG.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn topics_shown(out: &str) -> Vec<&str> {
    ["VOTE", "TIMR", "LEAD"].into_iter().filter(|t| out.contains(t)).collect()
}

#[test]
fn just_and_ignore_as_the_course_script_has_them() {
    for (args, shown) in [
        (&["-j", "VOTE,LEAD"][..], &["VOTE", "LEAD"][..]),
        (&["--just", "timr"], &["TIMR"]),
        (&["--include", "LEAD"], &["LEAD"]),
        (&["-i", "VOTE"], &["TIMR", "LEAD"]),
        (&["--ignore", "TIMR,LEAD"], &["VOTE"]),
        (&["--exclude", "LEAD"], &["VOTE", "TIMR"]),
        (&["-x", "VOTE"], &["TIMR", "LEAD"]),
    ] {
        let (code, out, err) = dslogs(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(topics_shown(&out), shown, "{args:?}:\n{out}");
    }
}

#[test]
fn columns_from_the_flag_or_the_log() {
    let (_, out, _) = dslogs(&[]);
    assert_eq!(out.lines().next().unwrap().matches('│').count(), 2, "three peers seen: three columns\n{out}");
    let (_, out, _) = dslogs(&["-c", "5"]);
    assert_eq!(out.lines().next().unwrap().matches('│').count(), 4, "{out}");
}

#[test]
fn an_unknown_topic_is_an_error_listing_the_known_ones() {
    let (code, out, err) = dslogs(&["-j", "VOTE,ELECT"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.contains("unknown topic \"ELECT\"; topics: VOTE, LEAD, TERM"), "{err}");
    assert!(err.contains("TEST") && err.contains("CLNT"), "{err}");
    let (code, _, err) = dslogs(&["-i", "nope"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("-i/--ignore: unknown topic \"NOPE\""), "{err}");
}
