//! Parsing of the test suites' stdout: the tester's titles (Lab 3's
//! `Test (3A): ...`, Lab 4's `Test: ... (4A) ...`) and `  ... Passed --`
//! lines, its `warning:` and `info:` lines, and libtest's
//! `test <name> ... ok|FAILED` lines; and a [`Tracker`] pairing them into
//! one record per test.

use crate::logfmt;

/// Figures of a tester `Passed` line. Lab 3 prints five (Go format
/// `"  ... Passed --  %4.1f  %d %4d %7d %4d"`: seconds, peers, RPCs, bytes,
/// commands agreed); Lab 4 prints four, without bytes (`"  ... Passed --
/// %4.1f  %d %5d %4d"`: seconds, servers, RPCs, client operations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Passed {
    pub secs: f64,
    /// Raft peers (Lab 3) or key/value servers (Lab 4).
    pub peers: u32,
    pub rpcs: u64,
    /// Bytes sent; `None` on a Lab 4 line, which has no byte column.
    pub bytes: Option<u64>,
    /// Commands agreed (Lab 3) or Clerk operations counted (Lab 4).
    pub commands: u64,
}

impl Passed {
    /// Several phases of one test (Lab 4's OnePartition prints three
    /// titles, each with its own Passed line) as one: seconds, RPCs, bytes
    /// and commands add up, peers is the largest.
    pub fn combine(self, other: Passed) -> Passed {
        Passed {
            secs: self.secs + other.secs,
            peers: self.peers.max(other.peers),
            rpcs: self.rpcs + other.rpcs,
            bytes: match (self.bytes, other.bytes) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            },
            commands: self.commands + other.commands,
        }
    }
}

/// Parses a floor line, `  ... floor --  14.9` (the tester prints one
/// after each Passed line when `TESTER_FLOOR=1`): seconds.
pub fn parse_floor(line: &str) -> Option<f64> {
    let (_, rest) = line.split_once("... floor --")?;
    rest.trim().parse().ok()
}

/// Parses a timed line, `  ... timed --  0.123`: seconds.
pub fn parse_timed(line: &str) -> Option<f64> {
    let (_, rest) = line.split_once("... timed --")?;
    rest.trim().parse().ok()
}

/// Parses a `Passed` line: Lab 3's `  ... Passed --   3.1  3  112   30236
/// 0` or Lab 4's `  ... Passed --  15.1  5 71701 13494`.
pub fn parse_passed(line: &str) -> Option<Passed> {
    let (_, rest) = line.split_once("... Passed --")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (bytes, commands) = match f.len() {
        4 => (None, f[3]),
        n if n >= 5 => (Some(f[3].parse().ok()?), f[4]),
        _ => return None,
    };
    Some(Passed {
        secs: f[0].parse().ok()?,
        peers: f[1].parse().ok()?,
        rpcs: f[2].parse().ok()?,
        bytes,
        commands: commands.parse().ok()?,
    })
}

/// Whether `s` is a part name as the titles print it: digits, then one
/// upper-case letter (`3A`, `4B`).
fn is_part(s: &str) -> bool {
    s.len() >= 2
        && s[..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && s.as_bytes()[s.len() - 1].is_ascii_uppercase()
}

/// Parses a test title into (part, description): Lab 3's `Test (3A):
/// initial election ...` and Lab 4's `Test: one client (4A) ...` (the
/// description keeps Lab 4's words before the part: `one client`).
pub fn parse_test_header(line: &str) -> Option<(String, String)> {
    if let Some(start) = line.find("Test (") {
        let rest = &line[start + "Test (".len()..];
        let (part, desc) = rest.split_once("): ")?;
        if !is_part(part) {
            return None;
        }
        let desc = desc.trim_end();
        let desc = desc.strip_suffix("...").unwrap_or(desc).trim_end();
        return Some((part.to_string(), desc.to_string()));
    }
    let start = line.find("Test: ")?;
    let rest = line[start + "Test: ".len()..].trim_end();
    let rest = rest.strip_suffix("...")?.trim_end();
    let (desc, part) = rest.strip_suffix(')')?.rsplit_once(" (")?;
    if !is_part(part) || desc.trim().is_empty() {
        return None;
    }
    Some((part.to_string(), desc.trim().to_string()))
}

/// The line a Lab 4 test prints when porcupine could not decide within
/// its time budget whether the history is linearizable: the test passes,
/// but only weakly (nothing was checked).
pub const WEAK_PASS_LINE: &str = "info: linearizability check timed out, assuming history is ok";

/// Strips libtest's `test <name> ... ` from the start of a line.
fn without_libtest_prefix(line: &str) -> &str {
    match line.strip_prefix("test ") {
        Some(rest) => rest.split_once(" ... ").map_or(line, |(_, r)| r),
        None => line,
    }
}

/// Whether a line is the weak-pass line ([`WEAK_PASS_LINE`]).
pub fn is_weak_pass(line: &str) -> bool {
    without_libtest_prefix(line.trim()) == WEAK_PASS_LINE
}

/// The path in `info: wrote history visualization to <path>` (printed
/// before a "history is not linearizable" failure).
pub fn parse_visualization(line: &str) -> Option<String> {
    let rest = without_libtest_prefix(line.trim()).strip_prefix("info: wrote history visualization to ")?;
    Some(rest.trim().to_string())
}

/// How many weak-pass lines a run's whole output holds.
pub fn weak_passes_in(output: &str) -> usize {
    output.lines().filter(|l| logfmt::parse_event(l).is_none() && is_weak_pass(l)).count()
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
    without_libtest_prefix(line.trim()).strip_prefix("warning:").map(|w| w.trim().to_string())
}

/// The warnings in a run's whole output.
pub fn warnings_in(output: &str) -> Vec<String> {
    output.lines().filter(|l| logfmt::parse_event(l).is_none()).filter_map(parse_warning).collect()
}

/// Why a run failed: the message and, for a panic, where it points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The tester's own report (`tester: FAIL: ...`) or the panic's first
    /// message line.
    pub message: String,
    /// `file:line:col` of the panic (for a failed check, the test's line:
    /// the checks are `#[track_caller]`).
    pub at: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(at) if !self.message.contains(at.as_str()) => write!(f, "{} (at {at})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Why a run failed, from its output: the tester's own report (`tester:
/// FAIL: ...`, when the process was ended mid-test: a panic off the test's
/// thread, an apply error, a bad RPC, a hang), else the first panic
/// (`thread '...' panicked at file:line:` and the line after it).
pub fn failure_of(output: &str) -> Option<Failure> {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(i) = lines.iter().position(|l| l.starts_with("tester: FAIL: ")) {
        let head = lines[i].trim_start_matches("tester: FAIL: ").trim_end();
        // A panic report puts its message on the next line.
        return Some(match (head.ends_with(':'), lines.get(i + 1)) {
            (true, Some(next)) => {
                let at = head.split_once(" panicked at ").map(|(_, at)| at.trim_end_matches(':').to_string());
                Failure { message: format!("{head} {}", next.trim()), at }
            }
            _ => Failure { message: head.to_string(), at: None },
        });
    }
    // `thread 'name' panicked at file:line:col:`; recent Rust puts
    // the thread's id after its name: `thread 'name' (1234) panicked at`.
    let i = lines.iter().position(|l| l.starts_with("thread '") && l.contains(" panicked at "))?;
    let at = lines[i].split_once(" panicked at ").map_or(lines[i], |(_, at)| at).trim_end_matches(':');
    Some(match lines.get(i + 1) {
        Some(msg) if !msg.trim().is_empty() => Failure { message: msg.trim().to_string(), at: Some(at.to_string()) },
        _ => Failure { message: "panicked".to_string(), at: Some(at.to_string()) },
    })
}

/// [`failure_of`] in one line: `message (at file:line:col)`.
pub fn failure_in(output: &str) -> Option<String> {
    failure_of(output).map(|f| match f {
        Failure { message, at: Some(at) } if message == "panicked" => format!("panicked at {at}"),
        f => f.to_string(),
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

/// One titled phase of a test: most tests have one; Lab 4's OnePartition
/// has three (`progress in majority`, `no progress in minority`,
/// `completion after heal`), each with its own Passed line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phase {
    pub description: String,
    pub passed: Option<Passed>,
}

/// Everything learnt about one test from the suite's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestRecord {
    /// libtest name, e.g. `initial_election_3a`.
    pub name: Option<String>,
    /// Part from the first title (or the name).
    pub part: Option<String>,
    /// The first title's description.
    pub description: Option<String>,
    /// The figures of every Passed line, added up ([`Passed::combine`]).
    pub passed: Option<Passed>,
    /// Every title in order, with its Passed line.
    pub phases: Vec<Phase>,
    pub outcome: Option<Outcome>,
    /// The test's `warning: ...` lines (e.g. "term changed even though
    /// there were no failures"): a pass with warnings deserves a look.
    pub warnings: Vec<String>,
    /// Lab 4: how many times the linearizability check timed out
    /// ([`WEAK_PASS_LINE`]); a test that passed with one is a weak pass.
    pub weak: usize,
    /// Lab 4: the history visualization written for a non-linearizable
    /// history.
    pub visualization: Option<String>,
    /// The test's floor in seconds (`  ... floor --` lines, printed with
    /// `TESTER_FLOOR=1`; added up over a test's phases): the time its
    /// scenario waits whatever the implementation.
    pub floor_s: Option<f64>,
    /// The part of the test its own clock times (Lab 4's Speed tests: the
    /// 1000 appends; `  ... timed --` lines, with `TESTER_FLOOR=1`).
    pub timed_s: Option<f64>,
}

impl TestRecord {
    /// Passed, but a linearizability check could not decide: nothing was
    /// checked, so it is not a pass.
    pub fn is_weak_pass(&self) -> bool {
        self.outcome == Some(Outcome::Ok) && self.weak > 0
    }
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
            let i = self.open_or_start(out);
            self.records[i].warnings.push(w);
            return;
        }
        if is_weak_pass(line) {
            let i = self.open_or_start(out);
            self.records[i].weak += 1;
            return;
        }
        if let Some(v) = parse_visualization(line) {
            let i = self.open_or_start(out);
            self.records[i].visualization = Some(v);
            return;
        }
        if let Some(t) = parse_timed(line) {
            let i = self.open_or_start(out);
            self.records[i].timed_s = Some(t);
            return;
        }
        if let Some(f) = parse_floor(line) {
            let i = self.open_or_start(out);
            let r = &mut self.records[i];
            r.floor_s = Some(r.floor_s.unwrap_or(0.0) + f);
            return;
        }
        if let Some((part, desc)) = parse_test_header(line) {
            // A title of the open test: its first, or the next phase of a
            // test that libtest named (with `--test-threads=1` libtest
            // prints the name first). A title after a complete unnamed one
            // is the next test's (multi-threaded output, names after).
            let i = match self.open {
                Some(i) if self.records[i].description.is_none() || self.records[i].name.is_some() => i,
                _ => self.start(None, out),
            };
            let r = &mut self.records[i];
            if r.description.is_none() {
                r.part = Some(part);
                r.description = Some(desc.clone());
            }
            r.phases.push(Phase { description: desc, passed: None });
        } else if let Some(p) = parse_passed(line) {
            let i = match self.open {
                Some(i) if self.records[i].phases.last().is_some_and(|ph| ph.passed.is_none()) => i,
                Some(i) if self.records[i].phases.is_empty() && self.records[i].passed.is_none() => i,
                _ => self.start(None, out),
            };
            let r = &mut self.records[i];
            match r.phases.last_mut() {
                Some(ph) if ph.passed.is_none() => ph.passed = Some(p),
                _ => r.phases.push(Phase { description: String::new(), passed: Some(p) }),
            }
            r.passed = Some(r.passed.map_or(p, |sum| sum.combine(p)));
        }
    }

    /// The open record, or a new unnamed one.
    fn open_or_start(&mut self, out: &mut Vec<Progress>) -> usize {
        match self.open {
            Some(i) => i,
            None => self.start(None, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_lines_add_up_over_phases() {
        assert_eq!(parse_floor("  ... floor --  14.9"), Some(14.9));
        assert_eq!(parse_floor("  ... Passed --  14.9  5 1 2"), None);
        let mut t = Tracker::new();
        for l in [
            "test one_partition_4a ... Test: progress in majority (4A) ...",
            "  ... Passed --   0.5  5    54    2",
            "  ... floor --   0.0",
            "Test: no progress in minority (4A) ...",
            "  ... Passed --   1.0  5   143    3",
            "  ... floor --   1.0",
            "ok",
        ] {
            t.feed(l);
        }
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].floor_s, Some(1.0));
    }

    #[test]
    fn parses_passed_lines() {
        let p = parse_passed("  ... Passed --   3.1  3  112   30236    0").unwrap();
        assert_eq!(p, Passed { secs: 3.1, peers: 3, rpcs: 112, bytes: Some(30236), commands: 0 });
        let p = parse_passed("  ... Passed --  120.5  5 12345 98765432 1001").unwrap();
        assert_eq!((p.secs, p.rpcs, p.commands), (120.5, 12345, 1001));
        assert_eq!(parse_passed("  ... Passed --   3.1  3"), None);
        assert_eq!(parse_passed("  ... Passed --   3.1  3  112"), None);
        // Lab 4: four figures, no byte column.
        let p = parse_passed("  ... Passed --  15.1  5 71701 13494").unwrap();
        assert_eq!(p, Passed { secs: 15.1, peers: 5, rpcs: 71701, bytes: None, commands: 13494 });
        assert_eq!(parse_passed("  ... Passed --  15.1  5 x 13494"), None);
        assert_eq!(parse_passed("Passed everything"), None);
    }

    #[test]
    fn parses_headers() {
        let h = parse_test_header("Test (3A): initial election ...").unwrap();
        assert_eq!(h, ("3A".into(), "initial election".into()));
        let h = parse_test_header("test x ... Test (3D): install snapshots (crash) ...").unwrap();
        assert_eq!(h, ("3D".into(), "install snapshots (crash)".into()));
        assert_eq!(parse_test_header("Test nothing"), None);
        assert_eq!(parse_test_header("Test (3a x): y ..."), None);
        // Lab 4: the part comes last.
        let h = parse_test_header("Test: one client (4A) ...").unwrap();
        assert_eq!(h, ("4A".into(), "one client".into()));
        let h = parse_test_header("test basic_4a ... Test: unreliable net, restarts, many clients (4B) ...").unwrap();
        assert_eq!(h, ("4B".into(), "unreliable net, restarts, many clients".into()));
        let h = parse_test_header("Test: InstallSnapshot RPC (4B) ...").unwrap();
        assert_eq!(h, ("4B".into(), "InstallSnapshot RPC".into()));
        assert_eq!(parse_test_header("Test: no part here ..."), None);
        assert_eq!(parse_test_header("Test: (4A) ..."), None);
        assert_eq!(parse_test_header("Test: x (4A)"), None);
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
        let with_id = "thread 'test-body' (24978) panicked at tester/tests/raft_test.rs:425:9:\ntoo many RPCs\n";
        assert_eq!(failure_in(with_id).as_deref(), Some("too many RPCs (at tester/tests/raft_test.rs:425:9)"));
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

    #[test]
    fn tracks_lab4_phases_weak_passes_and_visualizations() {
        let out = "\nrunning 3 tests\n\
            test one_partition_4a ... Test: progress in majority (4A) ...\n\
            \x20 ... Passed --   1.2  5   120    2\n\
            Test: no progress in minority (4A) ...\n\
            \x20 ... Passed --   1.1  5    80    3\n\
            Test: completion after heal (4A) ...\n\
            \x20 ... Passed --   1.0  5    60    1\n\
            ok\n\
            test persist_partition_unreliable_linearizable_4a ... Test: unreliable net, restarts, partitions, random keys, many clients (4A) ...\n\
            info: linearizability check timed out, assuming history is ok\n\
            \x20 ... Passed --  38.2  7 52341 9123\n\
            ok\n\
            test concurrent_4a ... Test: many clients (4A) ...\n\
            info: wrote history visualization to /tmp/kv-123.html\n\
            thread 'test-body' panicked at tester/tests/kvraft_test.rs:120:9:\n\
            history is not linearizable\n\
            FAILED\n";
        let mut t = Tracker::new();
        for l in out.lines() {
            t.feed(l);
        }
        assert_eq!(t.records.len(), 3, "{:#?}", t.records);
        let r = &t.records[0];
        assert_eq!(r.name.as_deref(), Some("one_partition_4a"));
        assert_eq!((r.part.as_deref(), r.description.as_deref()), (Some("4A"), Some("progress in majority")));
        let phases: Vec<&str> = r.phases.iter().map(|p| p.description.as_str()).collect();
        assert_eq!(phases, ["progress in majority", "no progress in minority", "completion after heal"]);
        let p = r.passed.unwrap();
        assert!((p.secs - 3.3).abs() < 1e-9, "{p:?}");
        assert_eq!((p.peers, p.rpcs, p.bytes, p.commands), (5, 260, None, 6));
        assert!(!r.is_weak_pass());
        let r = &t.records[1];
        assert_eq!((r.weak, r.outcome), (1, Some(Outcome::Ok)));
        assert!(r.is_weak_pass());
        assert_eq!(r.passed.map(|p| p.commands), Some(9123));
        let r = &t.records[2];
        assert_eq!(r.visualization.as_deref(), Some("/tmp/kv-123.html"));
        assert_eq!(r.outcome, Some(Outcome::Failed));
        assert_eq!(weak_passes_in(out), 1);
        assert_eq!(weak_passes_in("000012 TEST info: linearizability check timed out, assuming history is ok\n"), 0);
        let f = failure_of(out).unwrap();
        assert_eq!(f.message, "history is not linearizable");
        assert_eq!(f.at.as_deref(), Some("tester/tests/kvraft_test.rs:120:9"));
    }
}
