//! The tester against Rafts other than the kit's own, each in a scratch
//! copy of the kit (`tools::scratch`): a planted bug it must catch, and the
//! student skeleton, written only from the documented contract, which must
//! compile against it and fail cleanly. Each builds a copy of the kit, so
//! they are run by `make check-plants` (and CI), not by `cargo test`.

use std::time::Duration;
use tools::scratch::{kit_root, run_test, shared_target_dir, Kit, Plant};

/// A Raft that sends on the apply channel while holding its lock deadlocks
/// against the tester's snapshotting applier (which calls `snapshot()`):
/// `snapshot_basic_3d` must fail with the stacks showing both sides of the
/// deadlock. Which way it fails depends on where the stuck peer is: if the
/// test's thread calls into it (start(), get_state()), the test hangs and
/// the watchdog reports it; if it is a follower that the test never calls,
/// `one()` fails to reach agreement, and its message must name the stuck
/// applier and print the stacks.
#[test]
#[ignore = "builds a scratch copy of the kit: run by `make check-plants`"]
fn sending_on_the_apply_channel_under_the_lock_hangs_3d_and_is_reported() {
    let plant = Plant::load(&kit_root().join("tools/plants/apply-under-lock.plant")).unwrap();
    let kit = Kit::copy_of(&kit_root(), "apply-under-lock").unwrap();
    kit.plant(&plant).unwrap();
    let build = kit.build_tests("tester", "raft_test", &shared_target_dir()).unwrap_or_else(|e| panic!("{e}"));
    let run = run_test(&build.exe, "snapshot_basic_3d", &[("TESTER_TIME_LIMIT_SECS", "30")], Duration::from_secs(180))
        .unwrap();
    let out = &run.output;
    assert!(!run.timed_out, "the tester itself must end a hung test\n{out}");
    let hung = out.contains("tester: FAIL: test took longer than 30 seconds")
        || out.contains("and its teardown has not ended");
    let diagnosed = out.contains("failed to reach agreement")
        && out.contains("has been waiting")
        && out.contains("s snapshot(): does S");
    assert!(hung || diagnosed, "a hang report, or an agreement failure naming the stuck snapshot() call\n{out}");
    let code = if hung { tester_exit_fatal() } else { 101 };
    assert_eq!(run.code, Some(code), "{out}");
    assert!(out.contains("tester: stacks of all threads ("), "{out}");
    // Both sides of the deadlock: the tester's applier in Raft::snapshot
    // (waiting for the lock), a peer's applier blocked sending.
    let stacks = &out[out.find("tester: stacks of all threads").unwrap()..];
    assert!(stacks.contains("raft::Raft::snapshot"), "the applier waits in snapshot()\n{stacks}");
    assert!(stacks.contains("raft::node::Node::deliver"), "a peer's applier waits in its send\n{stacks}");
    assert!(stacks.contains("tester-apply-"), "{stacks}");
}

fn tester_exit_fatal() -> i32 {
    2 // tester::EXIT_FATAL (tools does not depend on the tester)
}

/// The student skeleton (`skeleton/raft`), written only from the contract
/// at the top of `raft/src/lib.rs`, compiles against the tester without a
/// warning, and `initial_election_3a` fails cleanly and in bounded time:
/// the harness's own "expected one leader, got none", no hang, no panic
/// off the test's thread.
#[test]
#[ignore = "builds a scratch copy of the kit: run by `make check-plants`"]
fn the_skeleton_compiles_against_the_tester_and_fails_initial_election_cleanly() {
    let kit = Kit::copy_of(&kit_root(), "skeleton").unwrap();
    kit.replace_crate("raft", &kit_root().join("skeleton/raft")).unwrap();
    let build = kit.build_tests("tester", "raft_test", &shared_target_dir()).unwrap_or_else(|e| panic!("{e}"));
    let raft_warnings: Vec<&String> = build
        .warnings
        .iter()
        .filter(|(pkg, _)| pkg.contains("/raft#") || pkg.contains("raft@"))
        .map(|(_, w)| w)
        .collect();
    assert!(raft_warnings.is_empty(), "the skeleton compiles without warnings:\n{raft_warnings:#?}");
    let run = run_test(&build.exe, "initial_election_3a", &[], Duration::from_secs(60)).unwrap();
    let out = &run.output;
    assert!(!run.timed_out && run.elapsed < Duration::from_secs(30), "bounded time\n{out}");
    assert_eq!(run.code, Some(101), "an ordinary test failure\n{out}");
    assert!(out.contains("expected one leader, got none"), "{out}");
    assert!(out.contains("panicked at tester/tests/raft_test.rs:"), "located at the test's line\n{out}");
    assert!(out.contains("test initial_election_3a ... FAILED") || out.contains("\nFAILED"), "{out}");
    assert!(!out.contains("tester: FAIL:"), "no panic off the test's thread, no hang\n{out}");
}

/// Each bug class of `tools/plants/safety/`, planted in a scratch copy of
/// the kit (release build, as the suite is run), is caught by its scenario
/// of the safety suite, by the tester's own checks, with the rule named.
/// (The README's table has the course's 28 beside it.)
/// The election-timer scenario catches its bug by luck of the peers'
/// random timeouts in most but not every run, so each scenario gets up to
/// two runs.
#[test]
#[ignore = "builds scratch copies of the kit: run by `make check-plants`"]
fn the_safety_suite_catches_each_planted_bug_class_naming_the_rule() {
    let cases = [
        (
            "figure8-commit-by-counting",
            "figure8_commit_rule_safety",
            "State Machine Safety (§5.4.3, Figure 3) broken at index",
        ),
        ("vote-ignores-log", "election_restriction_safety", "State Machine Safety (§5.4.3, Figure 3) broken at index"),
        ("unpersisted-vote", "persisted_vote_safety", "safety: two leaders in term"),
        ("timer-reset-on-every-rpc", "election_timer_safety", "Figure 2 (Followers): a follower becomes a candidate"),
        ("stale-install-snapshot", "stale_install_snapshot_safety", "the snapshot moves its service back"),
        ("snapshot-lost-on-restart", "snapshot_after_restart_safety", "is not a snapshot the service made"),
    ];
    for (plant, test, rule) in cases {
        let p = Plant::load(&kit_root().join(format!("tools/plants/safety/{plant}.plant"))).unwrap();
        let kit = Kit::copy_of(&kit_root(), &format!("safety-{plant}")).unwrap();
        kit.plant(&p).unwrap();
        let target = shared_target_dir().join("safety-plants");
        let build = kit.build_tests_in("tester", "safety_test", &target, true).unwrap_or_else(|e| panic!("{e}"));
        let mut outputs = Vec::new();
        let caught = (0..2).any(|_| {
            let run = run_test(&build.exe, test, &[], Duration::from_secs(120)).unwrap();
            let ok = !run.timed_out && run.code != Some(0) && run.output.contains(rule);
            outputs.push(run.output);
            ok
        });
        assert!(caught, "plant {plant}: {test} did not fail naming {rule:?} in 2 runs:\n{}", outputs.join("\n-----\n"));
    }
}
