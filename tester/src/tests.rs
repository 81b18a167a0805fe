//! Tests of the harness's failure paths that need its insides: an apply
//! error and a bad RPC end the process at once, with the report. Each runs
//! its scenario in a child process (see [`crate::child`]).

use crate::appliers;
use crate::child::{is_child, rerun};
use crate::{run, Cmd, Config, EXIT_FATAL};
use raft::ApplyMsg;
use std::thread;
use std::time::Duration;

#[test]
fn commands_display_like_the_go_tests() {
    assert_eq!(Cmd::Int(104).to_string(), "104");
    assert_eq!(Cmd::Str("abc".into()).to_string(), "\"abc\"");
    assert!(Cmd::Str("x".repeat(5000)).to_string().ends_with("...(5000 chars)"));
}

/// Starts an applier for peer `i` of `cfg` reading a channel of the test's
/// own, as if peer i had sent what the test sends.
fn fake_applier(cfg: &Config, i: usize) -> crossbeam::channel::Sender<ApplyMsg> {
    let (tx, rx) = crossbeam::channel::bounded(0);
    let (stop, stop_rx) = appliers::stop_signal();
    let (inner, rf) = (std::sync::Arc::clone(&cfg.inner), cfg.rf(i));
    thread::Builder::new()
        .name(format!("fake-applier-{i}"))
        .spawn(move || {
            let _stop = stop;
            appliers::run(&inner, i, &rf, rx, stop_rx, false)
        })
        .unwrap();
    tx
}

/// Waits until some peer's applier has recorded index 1, so that the
/// second peer's different command is the one that finds the conflict
/// (a rendezvous send returns when the applier took the message, before it
/// recorded it).
fn wait_recorded(cfg: &Config) {
    while cfg.n_committed(1).0 == 0 {
        thread::sleep(Duration::from_millis(1));
    }
}

fn command(index: u64, x: u64) -> ApplyMsg {
    ApplyMsg::Command { index, term: 1, command: labgob::encode(&Cmd::Int(x)) }
}

/// Two peers apply different commands at index 1: the applier that sees
/// the second ends the process there and then, naming the test and the step.
#[test]
fn an_apply_error_ends_the_process_at_once() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): apply error");
            fake_applier(&cfg, 0).send(command(1, 11)).unwrap();
            wait_recorded(&cfg);
            fake_applier(&cfg, 1).send(command(1, 22)).unwrap();
            thread::sleep(Duration::from_secs(20));
            unreachable!("the apply error did not end the process");
        });
        return;
    }
    let out = rerun("tests::an_apply_error_ends_the_process_at_once", &[]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(15), "{}", out.all());
    for want in [
        "tester: FAIL: thread 'fake-applier-1' panicked at tester/src/appliers.rs:",
        "apply error: commit index=1 server=1 22 != server=0 11",
        "tester: test: tests::an_apply_error_ends_the_process_at_once",
        "tester: step in progress: begin: Test (T): apply error",
        "set LABRPC_SEED=",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?} in\n{}", out.all());
    }
}

/// An agreement failure names which peers applied the index, and an
/// applier stuck in a call into its peer (here pretended: `snapshot()` for
/// 3 s), with every thread's stack: the report a student gets from a Raft
/// that keeps its lock while it sends on the apply channel, when the test's
/// own thread never calls into the stuck peer (otherwise it hangs and the
/// watchdog reports it).
#[test]
fn an_agreement_failure_names_an_applier_stuck_in_snapshot() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, true);
            cfg.begin("Test (T): stuck applier");
            let since = std::time::Instant::now().checked_sub(Duration::from_secs(3)).unwrap();
            cfg.applier_calls.lock().unwrap()[2] = Some(("snapshot()", since));
            cfg.one(101, 4, false); // 4 of 3 peers: never
        });
        return;
    }
    let out = rerun("tests::an_agreement_failure_names_an_applier_stuck_in_snapshot", &[]);
    assert_eq!(out.code, Some(101), "a libtest failure\n{}", out.all());
    for want in [
        "one(101) failed to reach agreement (index 1 applied by [S0 S1 S2], not by [])",
        "the tester's applier of S2 has been waiting ",
        " s in S2's snapshot(): does S2 keep its lock while it sends on the apply channel?",
        "tester: stacks of all threads",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?} in\n{}", out.all());
    }
}

/// Today's tester never looked at the appliers again after the test's last
/// check: an error that comes after it (here, after `end()` printed Passed)
/// still ends the process with a failure.
#[test]
fn an_apply_error_after_the_last_check_still_fails_the_test() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): late apply error");
            let (a, b) = (fake_applier(&cfg, 0), fake_applier(&cfg, 1));
            a.send(command(1, 11)).unwrap();
            wait_recorded(&cfg);
            cfg.end();
            b.send(command(1, 22)).unwrap();
            thread::sleep(Duration::from_secs(20));
        });
        return;
    }
    let out = rerun("tests::an_apply_error_after_the_last_check_still_fails_the_test", &[]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(out.stdout.contains("... Passed --"), "{}", out.all());
    assert!(out.stderr.contains("apply error: commit index=1 server=1 22 != server=0 11"), "{}", out.all());
    assert!(out.stderr.contains("tester: step in progress: end"), "{}", out.all());
}

/// A call of a method that does not exist is a bad RPC: the test ends at
/// once with labrpc's message, which names the methods that exist.
#[test]
fn a_bad_rpc_ends_the_process_at_once() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): bad RPC");
            let e = cfg.net.make_end("stray");
            cfg.net.connect("stray", "0");
            cfg.net.enable("stray", true);
            let _ = e.call::<_, u64>("Raft.Nope", &1u64);
            thread::sleep(Duration::from_secs(20));
        });
        return;
    }
    let out = rerun("tests::a_bad_rpc_ends_the_process_at_once", &[]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(15), "{}", out.all());
    assert!(
        out.stderr.contains("tester: FAIL: bad RPC: labrpc: unknown method \"Nope\" in \"Raft.Nope\"; service Raft has methods: [AppendEntries, InstallSnapshot, RequestVote]"),
        "{}",
        out.all()
    );
}

/// The safety suite's apply monitor (`Config::safety`): a peer that applies
/// an index again ends the test at once, naming the rule. The course's
/// harness (`Config::new`) does not look for it, as the Go tester does not:
/// the same messages pass there.
#[test]
fn the_apply_monitor_is_on_only_in_the_safety_harness() {
    if is_child() {
        run(|| {
            let safety = std::env::var("SAFETY").unwrap() == "1";
            let cfg = if safety { Config::safety(3, false, false) } else { Config::new(3, false, false) };
            cfg.begin("Test (T): a repeated apply");
            let a = fake_applier(&cfg, 0);
            a.send(command(1, 11)).unwrap();
            a.send(command(1, 11)).unwrap();
            a.send(command(2, 12)).unwrap();
            cfg.end();
        });
        return;
    }
    let out = rerun("tests::the_apply_monitor_is_on_only_in_the_safety_harness", &[("SAFETY", "1")]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(
        out.stderr.contains(
            "apply error: safety: S0 applied index 1 after it had applied through 1 (since its last restart)"
        ),
        "{}",
        out.all()
    );
    let out = rerun("tests::the_apply_monitor_is_on_only_in_the_safety_harness", &[("SAFETY", "0")]);
    assert_eq!(out.code, Some(0), "the course's harness does not check this\n{}", out.all());
}

/// A snapshot that moves a peer's service back ends a safety test at once,
/// naming §7.
#[test]
fn a_snapshot_that_moves_a_peer_back_ends_a_safety_test() {
    if is_child() {
        run(|| {
            let cfg = Config::safety(3, false, false);
            cfg.begin("Test (T): a snapshot back");
            let a = fake_applier(&cfg, 0);
            a.send(command(1, 11)).unwrap();
            a.send(command(2, 12)).unwrap();
            a.send(ApplyMsg::Snapshot { index: 1, term: 1, data: Vec::new() }).unwrap();
            thread::sleep(Duration::from_secs(20));
        });
        return;
    }
    let out = rerun("tests::a_snapshot_that_moves_a_peer_back_ends_a_safety_test", &[]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(15), "{}", out.all());
    for want in [
        "tester: FAIL: thread 'fake-applier-0' panicked at tester/src/appliers.rs:",
        "safety: S0 delivered a snapshot through index 1 after it had applied through 2",
        "§7 and Figure 13",
        "tester: test: tests::a_snapshot_that_moves_a_peer_back_ends_a_safety_test",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?} in\n{}", out.all());
    }
}

/// A cut link stays cut when either peer is connected again, until healed:
/// with S2 disconnected and S0-S1 cut, no request reaches S0 or S1. Once
/// healed, requests cross it (in one direction or the other: if S1 times
/// out first and wins, S0 only answers, so S1 alone may receive nothing).
#[test]
fn a_cut_link_stays_cut_across_connect_until_healed() {
    run(|| {
        let cfg = Config::safety(3, false, false);
        cfg.disconnect(2);
        cfg.cut(0, 1);
        cfg.connect(0);
        cfg.connect(1);
        thread::sleep(Duration::from_millis(300)); // messages sent before the cut land
        let received = |cfg: &Config| (cfg.rpc_count(0), cfg.rpc_count(1));
        let before = received(&cfg);
        thread::sleep(Duration::from_millis(1500)); // both campaign, at least twice
        assert_eq!(received(&cfg).1, before.1, "a request crossed the cut link S0 -> S1");
        assert_eq!(received(&cfg).0, before.0, "a request crossed the cut link S1 -> S0");
        cfg.heal(0, 1);
        thread::sleep(Duration::from_millis(1500));
        let after = received(&cfg);
        assert!(after.0 + after.1 > before.0 + before.1, "no request crossed the link S0-S1 after it was healed");
    })
}
