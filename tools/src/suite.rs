//! Parsing of the test suite's stdout: the tester's `Test (3A): ...` and
//! `  ... Passed --` lines and libtest's `test <name> ... ok|FAILED` lines,
//! and a [`Tracker`] pairing them into one record per test.

use crate::logfmt;

/// Figures of a tester `Passed` line (Go format
/// `"  ... Passed --  %4.1f  %d %4d %7d %4d"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Passed {
    pub secs: f64,
    pub peers: u32,
    pub rpcs: u64,
    pub bytes: u64,
    pub commands: u64,
}

/// Parses a `  ... Passed --   3.1  3  112   30236    0` line.
pub fn parse_passed(line: &str) -> Option<Passed> {
    let (_, rest) = line.split_once("... Passed --")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    if f.len() < 5 {
        return None;
    }
    Some(Passed {
        secs: f[0].parse().ok()?,
        peers: f[1].parse().ok()?,
        rpcs: f[2].parse().ok()?,
        bytes: f[3].parse().ok()?,
        commands: f[4].parse().ok()?,
    })
}

/// Parses a `Test (3A): initial election ...` line into (part, description).
pub fn parse_test_header(line: &str) -> Option<(String, String)> {
    let start = line.find("Test (")?;
    let rest = &line[start + "Test (".len()..];
    let (part, desc) = rest.split_once("): ")?;
    if part.is_empty() || part.contains(' ') {
        return None;
    }
    let desc = desc.trim_end();
    let desc = desc.strip_suffix("...").unwrap_or(desc).trim_end();
    Some((part.to_string(), desc.to_string()))
}

/// Outcome of one test as libtest reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Ignored,
}

impl Outcome {
    fn parse(s: &str) -> Option<Outcome> {
        let s = s.trim_end();
        match s {
            "ok" => Some(Outcome::Ok),
            "FAILED" => Some(Outcome::Failed),
            _ if s == "ignored" || s.starts_with("ignored, ") => Some(Outcome::Ignored),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Ignored => "ignored",
        }
    }
}

/// A libtest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Libtest {
    /// `test <name> ... <rest>` where rest is not an outcome: with
    /// `--test-threads=1` libtest prints the name before running the test, so
    /// the test's first output line follows on the same line.
    Start { name: String, rest: String },
    /// `test <name> ... ok`, or a bare `ok`/`FAILED` closing a started test.
    Result { name: Option<String>, outcome: Outcome },
    /// `test result: FAILED. 5 passed; 1 failed; ...`
    Summary { passed: u32, failed: u32 },
}

/// Parses a libtest line.
pub fn parse_libtest(line: &str) -> Option<Libtest> {
    if let Some(rest) = line.strip_prefix("test result: ") {
        let count = |word: &str| -> u32 {
            rest.split(';')
                .filter_map(|p| p.trim().rsplit_once(' '))
                .find(|(n, w)| *w == word && !n.is_empty())
                .and_then(|(n, _)| n.rsplit(' ').next()?.parse().ok())
                .unwrap_or(0)
        };
        return Some(Libtest::Summary { passed: count("passed"), failed: count("failed") });
    }
    if let Some(rest) = line.strip_prefix("test ") {
        let (name, rest) = rest.split_once(" ... ").or_else(|| rest.strip_suffix(" ...").map(|n| (n, "")))?;
        if name.is_empty() || name.contains(' ') {
            return None;
        }
        return Some(match Outcome::parse(rest) {
            Some(outcome) => Libtest::Result { name: Some(name.to_string()), outcome },
            None => Libtest::Start { name: name.to_string(), rest: rest.to_string() },
        });
    }
    Outcome::parse(line).map(|outcome| Libtest::Result { name: None, outcome })
}

/// The text of a test's `warning: ...` line (the Go tests' warnings, which
/// do not fail the test), also after libtest's `test <name> ... ` prefix.
pub fn parse_warning(line: &str) -> Option<String> {
    let line = line.trim();
    let line = match line.strip_prefix("test ") {
        Some(rest) => rest.split_once(" ... ").map_or(line, |(_, r)| r),
        None => line,
    };
    line.strip_prefix("warning:").map(|w| w.trim().to_string())
}

/// The warnings in a run's whole output.
pub fn warnings_in(output: &str) -> Vec<String> {
    output.lines().filter(|l| logfmt::parse_event(l).is_none()).filter_map(parse_warning).collect()
}

/// Why a run failed, in one line, from its output: the tester's own report
/// (`tester: FAIL: ...`, when the process was ended mid-test: a panic off
/// the test's thread, an apply error, a bad RPC, a hang), else the first
/// panic's message (`thread '...' panicked at file:line:` and the line
/// after it).
pub fn failure_in(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(i) = lines.iter().position(|l| l.starts_with("tester: FAIL: ")) {
        let head = lines[i].trim_start_matches("tester: FAIL: ").trim_end();
        // A panic report puts its message on the next line.
        return Some(match (head.ends_with(':'), lines.get(i + 1)) {
            (true, Some(next)) => format!("{head} {}", next.trim()),
            _ => head.to_string(),
        });
    }
    let i = lines.iter().position(|l| l.starts_with("thread '") && l.contains("' panicked at "))?;
    let at = lines[i].split_once(" panicked at ").map_or(lines[i], |(_, at)| at).trim_end_matches(':');
    Some(match lines.get(i + 1) {
        Some(msg) if !msg.trim().is_empty() => format!("{} (at {at})", msg.trim()),
        _ => format!("panicked at {at}"),
    })
}

/// Test names from `<exe> --list --format terse` (`name: test` lines).
pub fn parse_list(output: &str) -> Vec<String> {
    output.lines().filter_map(|l| l.trim().strip_suffix(": test")).map(str::to_string).collect()
}

/// Lab part of a test name: `initial_election_3a` gives `3A`.
pub fn part_of(name: &str) -> Option<String> {
    let (_, suffix) = name.rsplit_once('_')?;
    let ok = suffix.len() >= 2
        && suffix.starts_with(|c: char| c.is_ascii_digit())
        && suffix.ends_with(|c: char| c.is_ascii_alphabetic());
    ok.then(|| suffix.to_ascii_uppercase())
}

/// Everything learnt about one test from the suite's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestRecord {
    /// libtest name, e.g. `initial_election_3a`.
    pub name: Option<String>,
    /// Part from the `Test (3A)` header (or the name).
    pub part: Option<String>,
    pub description: Option<String>,
    pub passed: Option<Passed>,
    pub outcome: Option<Outcome>,
    /// The test's `warning: ...` lines (e.g. "term changed even though
    /// there were no failures"): a pass with warnings deserves a look.
    pub warnings: Vec<String>,
}

/// What a fed line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Record `i` started (libtest start line or first header).
    Started(usize),
    /// Record `i` got its outcome.
    Finished(usize),
    /// The libtest summary line.
    Summary,
}

/// Pairs the lines of a suite run into [`TestRecord`]s, in order.
#[derive(Debug, Default)]
pub struct Tracker {
    pub records: Vec<TestRecord>,
    /// Index of the record still waiting for its outcome.
    open: Option<usize>,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    fn start(&mut self, name: Option<String>, out: &mut Vec<Progress>) -> usize {
        let part = name.as_deref().and_then(part_of);
        self.records.push(TestRecord { name, part, ..TestRecord::default() });
        let i = self.records.len() - 1;
        self.open = Some(i);
        out.push(Progress::Started(i));
        i
    }

    /// Feeds one stdout line; returns what it changed. Debug-log lines are
    /// ignored (so a merged stdout+stderr file can be fed too).
    pub fn feed(&mut self, line: &str) -> Vec<Progress> {
        let mut out = Vec::new();
        self.feed_into(line.trim_end_matches(['\r', '\n']), &mut out);
        out
    }

    fn feed_into(&mut self, line: &str, out: &mut Vec<Progress>) {
        if logfmt::parse_event(line).is_some() {
            return;
        }
        if let Some(lt) = parse_libtest(line) {
            match lt {
                Libtest::Start { name, rest } => {
                    self.start(Some(name), out);
                    if !rest.is_empty() {
                        self.feed_into(&rest, out);
                    }
                }
                Libtest::Result { name, outcome } => {
                    let i = match (self.open, &name) {
                        (Some(i), Some(n)) if self.records[i].name.as_ref().is_some_and(|r| r != n) => {
                            self.start(name.clone(), out)
                        }
                        (Some(i), _) => i,
                        (None, Some(_)) => self.start(name.clone(), out),
                        (None, None) => return, // a stray "ok"
                    };
                    let r = &mut self.records[i];
                    if r.name.is_none() {
                        r.name.clone_from(&name);
                        if r.part.is_none() {
                            r.part = name.as_deref().and_then(part_of);
                        }
                    }
                    r.outcome = Some(outcome);
                    self.open = None;
                    out.push(Progress::Finished(i));
                }
                Libtest::Summary { .. } => out.push(Progress::Summary),
            }
            return;
        }
        if let Some(w) = parse_warning(line) {
            let i = match self.open {
                Some(i) => i,
                None => self.start(None, out),
            };
            self.records[i].warnings.push(w);
            return;
        }
        if let Some((part, desc)) = parse_test_header(line) {
            let i = match self.open {
                Some(i) if self.records[i].description.is_none() => i,
                _ => self.start(None, out),
            };
            let r = &mut self.records[i];
            r.part = Some(part);
            r.description = Some(desc);
        } else if let Some(p) = parse_passed(line) {
            let i = match self.open {
                Some(i) if self.records[i].passed.is_none() => i,
                _ => self.start(None, out),
            };
            self.records[i].passed = Some(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passed_lines() {
        let p = parse_passed("  ... Passed --   3.1  3  112   30236    0").unwrap();
        assert_eq!(p, Passed { secs: 3.1, peers: 3, rpcs: 112, bytes: 30236, commands: 0 });
        let p = parse_passed("  ... Passed --  120.5  5 12345 98765432 1001").unwrap();
        assert_eq!((p.secs, p.rpcs, p.commands), (120.5, 12345, 1001));
        assert_eq!(parse_passed("  ... Passed --   3.1  3"), None);
        assert_eq!(parse_passed("Passed everything"), None);
    }

    #[test]
    fn parses_headers() {
        let h = parse_test_header("Test (3A): initial election ...").unwrap();
        assert_eq!(h, ("3A".into(), "initial election".into()));
        let h = parse_test_header("test x ... Test (3D): install snapshots (crash) ...").unwrap();
        assert_eq!(h, ("3D".into(), "install snapshots (crash)".into()));
        assert_eq!(parse_test_header("Test nothing"), None);
    }

    #[test]
    fn parses_libtest_lines() {
        assert_eq!(
            parse_libtest("test basic_agree_3b ... ok"),
            Some(Libtest::Result { name: Some("basic_agree_3b".into()), outcome: Outcome::Ok })
        );
        assert_eq!(
            parse_libtest("test a_3b ... Test (3B): x ..."),
            Some(Libtest::Start { name: "a_3b".into(), rest: "Test (3B): x ...".into() })
        );
        assert_eq!(parse_libtest("FAILED"), Some(Libtest::Result { name: None, outcome: Outcome::Failed }));
        assert_eq!(
            parse_libtest(
                "test result: FAILED. 27 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.08s"
            ),
            Some(Libtest::Summary { passed: 27, failed: 1 })
        );
        assert_eq!(parse_libtest("test of something else here"), None);
        assert_eq!(parse_libtest("okay"), None);
    }

    #[test]
    fn lists_and_parts() {
        let names = parse_list("initial_election_3a: test\nsnapshot_init_3d: test\n\n2 tests, 0 benchmarks\n");
        assert_eq!(names, ["initial_election_3a", "snapshot_init_3d"]);
        assert_eq!(part_of("initial_election_3a").as_deref(), Some("3A"));
        assert_eq!(part_of("snapshot_init_3d").as_deref(), Some("3D"));
        assert_eq!(part_of("helper"), None);
        assert_eq!(part_of("foo_bar"), None);
    }

    #[test]
    fn tracks_single_threaded_nocapture_output() {
        let out = "\nrunning 3 tests\n\
            test basic_agree_3b ... Test (3B): basic agreement ...\n\
            001234 TEST Test (3B): basic agreement\n\
            \x20 ... Passed --   0.2  3   16    4500    3\n\
            ok\n\
            test fail_agree_3b ... Test (3B): agreement after follower reconnects ...\n\
            thread 'fail_agree_3b' panicked at tests/raft_test.rs:84:5:\n\
            FAILED\n\
            test quiet_3c ... ok\n\
            \n\
            test result: FAILED. 2 passed; 1 failed; 0 ignored\n";
        let mut t = Tracker::new();
        let mut progress = Vec::new();
        for l in out.lines() {
            progress.extend(t.feed(l));
        }
        assert_eq!(t.records.len(), 3);
        let r = &t.records[0];
        assert_eq!(r.name.as_deref(), Some("basic_agree_3b"));
        assert_eq!(r.part.as_deref(), Some("3B"));
        assert_eq!(r.description.as_deref(), Some("basic agreement"));
        assert_eq!(r.passed.map(|p| p.commands), Some(3));
        assert_eq!(r.outcome, Some(Outcome::Ok));
        let r = &t.records[1];
        assert_eq!((r.passed, r.outcome), (None, Some(Outcome::Failed)));
        assert_eq!(t.records[2].outcome, Some(Outcome::Ok));
        assert_eq!(
            progress,
            [
                Progress::Started(0),
                Progress::Finished(0),
                Progress::Started(1),
                Progress::Finished(1),
                Progress::Started(2),
                Progress::Finished(2),
                Progress::Summary
            ]
        );
    }

    #[test]
    fn warnings_are_counted_per_test() {
        let mut t = Tracker::new();
        for l in [
            "test initial_election_3a ... Test (3A): initial election ...",
            "warning: term changed even though there were no failures",
            "001234 TEST warning: not a test's warning but a log line",
            "  ... Passed --   3.1  3  112   30236    0",
            "ok",
            "test re_election_3a ... warning: first line of its output",
            "ok",
        ] {
            t.feed(l);
        }
        assert_eq!(t.records[0].warnings, ["term changed even though there were no failures"]);
        assert_eq!(t.records[1].warnings, ["first line of its output"]);
        assert_eq!(warnings_in("a\nwarning: x\n  warning: y\nno warning: z\n"), ["x", "y"]);
    }

    #[test]
    fn failures_are_summed_up_in_one_line() {
        let ended =
            "Test (3D): snapshots basic ...\n\ntester: FAIL: test took longer than 120 seconds\ntester: test: x\n";
        assert_eq!(failure_in(ended).as_deref(), Some("test took longer than 120 seconds"));
        let panic = "tester: FAIL: thread 'raft-0-applier' panicked at raft/src/node.rs:9:5:\nboom\ntester: test: x\n";
        assert_eq!(
            failure_in(panic).as_deref(),
            Some("thread 'raft-0-applier' panicked at raft/src/node.rs:9:5: boom")
        );
        let libtest = "test a_3a ... \nthread 'test-body' panicked at tester/tests/raft_test.rs:30:13:\nexpected one leader, got none\n";
        assert_eq!(
            failure_in(libtest).as_deref(),
            Some("expected one leader, got none (at tester/tests/raft_test.rs:30:13)")
        );
        assert_eq!(failure_in("all good\n"), None);
    }

    #[test]
    fn tracks_pairs_by_order_when_names_follow() {
        // Multi-threaded style: output first, `test <name> ... ok` after.
        let mut t = Tracker::new();
        for l in [
            "Test (3A): initial election ...",
            "  ... Passed --   3.1  3  112   30236    0",
            "test initial_election_3a ... ok",
            "Test (3A): election after network failure ...",
            "  ... Passed --   4.5  3  200   40000    0",
            "test reelection_3a ... ok",
        ] {
            t.feed(l);
        }
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.records[1].name.as_deref(), Some("reelection_3a"));
        assert_eq!(t.records[1].passed.map(|p| p.secs), Some(4.5));
        assert_eq!(t.records[0].description.as_deref(), Some("initial election"));
    }
}
